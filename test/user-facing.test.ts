/**
 * What a user meets at the command line and in the generated files, one check per rough edge: the source speaks of
 * the code (not of how it was written), and the Renode files exist exactly where Renode can run the board.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { listBoards } from '../src/boards/index.js';
import { generateFiles, prepareSynthetic } from '../src/flows.js';
import { RENODE_FILES, RENODE_PLATFORMS } from '../src/emulate/renode.js';

const root = new URL('..', import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('source comments', () => {
  test('src/, templates/, firmware/ and scripts/ say nothing of the project process (the lead, issue N, a helper)', () => {
    const words = /\b(the lead|lead's|issue ?#?\d+|coordinator|helper engineer|worktree)\b/i;
    const hits: string[] = [];
    for (const d of ['src', 'templates', 'firmware', 'scripts']) {
      for (const f of filesUnder(join(root, d))) {
        readFileSync(f, 'utf8').split('\n').forEach((l, i) => {
          if (words.test(l)) hits.push(`${f.slice(root.length)}:${i + 1}: ${l.trim()}`);
        });
      }
    }
    expect(hits).toEqual([]);
  });
});

describe('Renode files', () => {
  const prepared = prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 4, seed: 3 });
  test('every board whose chip Renode has a platform for gets them; only the MPS2 boards get none (Renode has no MPS2 platform)', () => {
    const without: string[] = [];
    for (const b of listBoards()) {
      const files = generateFiles(prepared, b).files;
      if (b.renode) {
        expect(RENODE_PLATFORMS[b.renode.platform], b.name).toBeDefined();
        for (const f of Object.values(RENODE_FILES)) expect(files[f], `${b.name} ${f}`).toBeDefined();
      } else {
        for (const f of Object.values(RENODE_FILES)) expect(files[f], `${b.name} ${f}`).toBeUndefined();
        without.push(b.name);
      }
    }
    expect(without.sort()).toEqual(['mps2-an386', 'mps2-an500']);
    // The README says the same.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/MPS2 boards \(mps2-an500, mps2-an386\) get none/);
    expect(readme).toMatch(/netduinoplus2 on `platforms\/cpus\/stm32f4\.repl`/);
  });
});
