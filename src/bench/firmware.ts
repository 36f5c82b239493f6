/**
 * Firmware speed in QEMU: guest instructions per inference (exact and repeatable under -icount shift=0) for
 * SqueezeNet v1.1 at 224, the scalar kernels (baseline) against the DSP kernels, both built in this run.
 * With SQZFW_BENCH_CMSIS_NN=/path/to/CMSIS-NN, Arm's library (built with the same flags as ours: hosted, -O2) is
 * measured against ours on each board as well.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoard } from '../boards/index.js';
import { buildFirmware } from '../build/index.js';
import { emulateProject, generateProject, prepareSynthetic } from '../flows.js';
import type { Bench, BenchRow } from './types.js';

async function instructions(dir: string, opts: { dsp: boolean; cmsisNnDir?: string }): Promise<{ instructions: number; flash: number }> {
  const built = await buildFirmware({ projectDir: dir, semihosting: true, dsp: opts.dsp, cmsisNnDir: opts.cmsisNnDir });
  const r = await emulateProject({ projectDir: dir, timeoutMs: 600_000 });
  if (r.comparison.mismatches.length || r.comparison.missing.length || r.instructions === undefined) {
    throw new Error(`benchmark firmware is not bit-exact or printed no ticks (${dir})`);
  }
  return { instructions: r.instructions, flash: built.flashBytes };
}

export const benchFirmware: Bench = async () => {
  const rows: BenchRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'sqzfw-bench-fw-'));
  try {
    for (const boardName of ['mps2-an500', 'mps2-an386']) {
      const board = loadBoard(boardName);
      const dir = join(work, boardName);
      const { plan } = generateProject(prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 1 }), board, dir);
      const scalar = await instructions(dir, { dsp: false });
      const dsp = await instructions(dir, { dsp: true });
      rows.push({
        name: `v1.1@224 instructions/inference, ${boardName} (${board.cpu.core})`,
        baseline: { label: 'scalar kernels', value: scalar.instructions },
        result: { label: 'DSP kernels (__smlad)', value: dsp.instructions },
        unit: 'instructions',
        ratio: +(dsp.instructions / scalar.instructions).toFixed(3),
        note: `${(scalar.instructions / plan.macs).toFixed(2)} and ${(dsp.instructions / plan.macs).toFixed(2)} instructions per MAC`,
      });
      const arm = process.env.SQZFW_BENCH_CMSIS_NN;
      if (arm) {
        const theirs = await instructions(dir, { dsp: true, cmsisNnDir: arm });
        rows.push({
          name: `v1.1@224 instructions/inference, ${boardName}: Arm CMSIS-NN vs sqzfw kernels`,
          baseline: { label: `Arm CMSIS-NN (${arm})`, value: theirs.instructions },
          result: { label: 'sqzfw kernels', value: dsp.instructions },
          unit: 'instructions',
          ratio: +(dsp.instructions / theirs.instructions).toFixed(3),
          note: `both bit-exact with the golden model; same flags (-O2, hosted, newlib-nano); flash ${theirs.flash} vs ${dsp.flash} bytes`,
        });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
};
