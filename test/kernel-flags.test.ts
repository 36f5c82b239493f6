/**
 * How a generated project compiles the CMSIS-NN kernels: hosted (no -ffreestanding), so GCC turns the 2- and 4-byte
 * memcpy calls of Arm's load helpers (arm_nnsupportfunctions.h) into single loads. Built freestanding, every one of
 * them is a call into the C library: Arm's v7.0.0 then ran SqueezeNet v1.1@224 in about 5x the instructions. Only the
 * demo's runtime and application are freestanding. Checked on the commands make runs (make -n V=1) and on the
 * objects it builds: Arm's inner loops hold no memcpy call and use the DSP extension's SMLAD (ARM_MATH_DSP on),
 * and the same object built with -ffreestanding added does call memcpy (the check sees the difference).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { required } from './helpers/require.js';
import { ARM_CMSIS_NN } from './helpers/arm-cmsis-nn.js';

const ARM = ARM_CMSIS_NN;

const work = mkdtempSync(join(tmpdir(), 'sqzfw-kernel-flags-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A Cortex-M4 board: the DSP extension is there, so Arm's headers turn ARM_MATH_DSP on.
const dir = join(work, 'project');
generateProject(prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 4, seed: 1 }), loadBoard('mps2-an386'), dir);

const make = (args: string[]): string => execFileSync('make', ['-C', dir, 'SEMIHOSTING=1', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The compile commands make would run, by the source they compile. */
function compileCommands(nn: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of make(['-n', 'V=1', ...nn]).split('\n')) {
    const src = / -c (\S+\.c) -o /.exec(line)?.[1];
    if (src) out.set(src, line);
  }
  return out;
}

/** Calls (relocations) to the C library's memory functions in an object file. */
function memCalls(obj: string): number {
  return execFileSync('arm-none-eabi-objdump', ['-dr', obj], { encoding: 'utf8' }).split('\n').filter((l) => /R_ARM_THM_(CALL|JUMP24)\s+mem(cpy|set|move)\b/.test(l)).length;
}

describe('the kernels and the model library are compiled hosted, the runtime freestanding', () => {
  const trees = [{ name: "sqzfw's kernels", nn: [] as string[] }, ...(ARM ? [{ name: "Arm's CMSIS-NN", nn: [`CMSIS_NN=${ARM}`] }] : [])];
  test.each(trees)('$name: make -n V=1', ({ nn }) => {
    const cmds = compileCommands(nn);
    const kernels = [...cmds].filter(([src]) => /\/Source\/\w+\/\w+\.c$/.test(src));
    const library = [...cmds].filter(([src]) => src.startsWith('model/'));
    const runtime = [...cmds].filter(([src]) => src.startsWith('sqzfw/runtime/') || src.startsWith('src/'));
    expect(kernels.length).toBeGreaterThan(10);
    expect(library.map(([src]) => src)).toContain('model/model.c');
    expect(runtime.length).toBeGreaterThan(0);
    for (const [src, cmd] of [...kernels, ...library]) {
      expect(cmd, src).not.toMatch(/-ffreestanding|-fno-builtin/);
      expect(cmd, src).toMatch(/-mcpu=cortex-m4 /);
      expect(cmd, src).toMatch(/ -O2 /);
    }
    for (const [src, cmd] of runtime) expect(cmd, src).toContain('-ffreestanding');
  });

  test.runIf(required("Arm's CMSIS-NN (SQZFW_TEST_CMSIS_NN or ../shared/cmsis-nn-v7.0.0)", ARM !== undefined))(
    "Arm's inner loops: no memcpy call, SMLAD used; with -ffreestanding added the same objects call memcpy",
    () => {
      const objs = ['NNSupportFunctions/arm_nn_mat_mult_nt_t_s8', 'NNSupportFunctions/arm_s8_to_s16_unordered_with_offset'];
      const build = (extra: string): number[] =>
        objs.map((o) => {
          const obj = `build/cmsis-nn/${o}.o`;
          make([`CMSIS_NN=${ARM}`, `EXTRA_CFLAGS=${extra}`, obj]);
          return memCalls(join(dir, obj));
        });
      expect(build('')).toEqual([0, 0]);
      const smlad = execFileSync('arm-none-eabi-objdump', ['-d', join(dir, 'build/cmsis-nn', `${objs[0]}.o`)], { encoding: 'utf8' });
      expect(smlad).toMatch(/\ssmlad\s/);
      const freestanding = build('-ffreestanding');
      for (const [i, n] of freestanding.entries()) expect(n, objs[i]).toBeGreaterThan(0);
    },
  );
});
