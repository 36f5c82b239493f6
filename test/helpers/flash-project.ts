/**
 * A real-board project for the flash tests: the board's generated files (Makefile, linker script, start-up code,
 * runtime) and a main that prints the demo's first and last line, built for the board itself.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { join } from 'node:path';
import type { Board } from '../../src/boards/index.js';
import { registerBoardCommands } from '../../src/flash/cli.js';
import { buildFirmware } from '../../src/toolchain/index.js';
import { writeBoardProject } from './board-project.js';

/** Writes and builds (no semihosting) the project in `dir`; its manifest names `board` and model `m`. */
export async function buildFlashProject(board: Board, dir: string): Promise<void> {
  const main = `#include "sqzfw_rt.h"\nint main(void)\n{\n    sqzfw_rt_init();\n    sqzfw_rt_puts("sqzfw begin m ${board.name}\\nsqzfw end 0\\n");\n    return 0;\n}\n`;
  writeBoardProject(board, dir, main);
  writeFileSync(join(dir, 'sqzfw.json'), JSON.stringify({ board: board.name, model: 'm', expected: {}, outputs: [], macs: 0 }));
  await buildFirmware({ projectDir: dir });
}

/** Runs `sqzfw flash ARGS` in process and returns the lines it printed. */
export async function flashCli(args: string[]): Promise<string[]> {
  const program = new Command().exitOverride();
  registerBoardCommands(program);
  const out: string[] = [];
  const log = console.log;
  console.log = (s: string) => void out.push(s);
  try {
    await program.parseAsync(['node', 'sqzfw', 'flash', ...args]);
  } finally {
    console.log = log;
  }
  return out;
}
