/** A firmware project without a model: a board's generated files and a main of the test's own. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Board } from '../../src/boards/index.js';
import { defaultLayout, renderBoardFiles, runtimeFiles } from '../../src/emit/board-files.js';

/** Writes `board`'s files (Makefile, linker script, start-up code, runtime) and `main` as src/main.c into `dir`. */
export function writeBoardProject(board: Board, dir: string, main: string): void {
  const files = { ...renderBoardFiles(board, defaultLayout(board)), ...runtimeFiles(), 'src/main.c': main };
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
}
