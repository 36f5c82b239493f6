/**
 * The planner's plans in the firmware: generate -> build -> QEMU, every output byte compared with the golden
 * model's; and the search for a random graph whose cut gives the plan shape a QEMU case is about.
 */
import { expect } from 'vitest';
import type { Board } from '../../src/boards/index.js';
import { arenaRegions } from '../../src/driver/board-plan.js';
import { describeMismatch, emitProject, emulateProject, type EmulationResult } from '../../src/driver/index.js';
import type { PreparedModel } from '../../src/prepare/index.js';
import type { Segment } from '../../src/planner/tiling.js';
import type { InputIn, MemoryPlan } from '../../src/planner/types.js';
import { writeProject } from '../../src/project.js';
import type { QModel } from '../../src/quantize/types.js';
import { buildFirmware, type BuildResult } from '../../src/toolchain/index.js';
import { mulberry32 } from '../../src/util/random.js';
import { planCut, randomModel, type RandomModel } from './plan-cases.js';

/** The emulated run printed exactly the golden model's `bytes` output bytes. */
export function expectBitExact(run: EmulationResult, bytes: number): void {
  expect(run.comparison.missing).toEqual([]);
  expect(run.comparison.mismatches, describeMismatch(run.comparison)).toEqual([]);
  expect(run.comparison.bytes).toBe(bytes);
}

/** Builds the project in `dir` (semihosting; with `cmsisNnDir`, against that CMSIS-NN tree), runs it in QEMU and checks its `bytes` output bytes. */
export async function buildAndRun(dir: string, board: Board, dsp: boolean, bytes: number, cmsisNnDir?: string): Promise<{ run: EmulationResult; built: BuildResult }> {
  const built = await buildFirmware({ projectDir: dir, semihosting: true, dsp, cmsisNnDir });
  const run = await emulateProject({ projectDir: dir, board, timeoutMs: 240_000 });
  expectBitExact(run, bytes);
  return { run, built };
}

/**
 * Generates a project for a given plan (what generateProject does with its own plan), builds and runs it. The input
 * is embedded in the firmware unless `p` carries an inputSeed (then the application generates it, as sqzfw's own
 * synthetic models do).
 */
export async function runPlan(p: QModel | PreparedModel, plan: MemoryPlan, input: Int8Array, board: Board, dir: string, dsp: boolean) {
  const model = 'model' in p ? p.model : p;
  const { files, expected } = emitProject('model' in p ? p : { model, input, inputNote: 'planner test input' }, board, plan);
  writeProject(dir, files);
  const { run, built } = await buildAndRun(dir, board, dsp, model.outputs.reduce((s, o) => s + expected[o].length, 0));
  return { run, files, built };
}

/** The plan's fetch steps as the firmware's stream line: calls and rows. */
export const planStreamLine = (plan: MemoryPlan): string => {
  const fetches = plan.steps.filter((s) => s.op === 'fetch');
  return `input rows ${fetches.length} calls ${fetches.reduce((n, s) => n + (s.op === 'fetch' ? s.last - s.first + 1 : 0), 0)} rows`;
};

/** The random model of a QEMU case: graph `${name}` drawn from `rnd`, weights and calibration from `seed`, image seed + 7. */
export const qemuModel = (rnd: () => number, name: string, seed: number): RandomModel => randomModel(rnd, name, { weights: seed, calib: seed, image: seed + 7 });

/**
 * The first of `tries` random graphs (`${name}${seed}_${attempt}`, all drawn from one generator seeded with `seed`)
 * whose cut (`cut`, undefined to pass the graph over) plans on the board's arena and gives a plan `wanted` accepts.
 */
export function findRandomPlan(
  board: Board,
  o: { name: string; seed: number; tries: number; dsp: boolean; inputIn?: InputIn; what: string },
  cut: (rnd: () => number, q: QModel) => Segment[] | undefined,
  wanted: (plan: MemoryPlan, q: QModel) => boolean,
): RandomModel & { plan: MemoryPlan } {
  const rnd = mulberry32(o.seed);
  for (let attempt = 0; attempt < o.tries; attempt++) {
    const { q, input } = qemuModel(rnd, `${o.name}${o.seed}_${attempt}`, o.seed);
    const segs = cut(rnd, q);
    if (!segs) continue;
    const plan = planCut(q, arenaRegions(board), segs, { path: o.dsp ? 'dsp' : 'scalar', inputIn: o.inputIn });
    if (plan && wanted(plan, q)) return { q, input, plan };
  }
  throw new Error(`no random graph with ${o.what} in ${o.tries} tries`);
}
