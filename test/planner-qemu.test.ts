/**
 * Row-band plans in the firmware: generate -> build -> QEMU, every output byte compared with the untiled golden
 * model. Full-size SqueezeNet on boards whose arena is capped at 256 KiB (v1.1, 224x224) and 384 KiB (v1.0,
 * 227x227) through the normal flows, the smallest v1.1 plan, and random graphs cut into random chains on both
 * kernel paths (band calls hit every conv/pool path of the kernels: 1x1, 1xN, generic, top padding only).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadBoard, type Board } from '../src/boards/index.js';
import { arenaRegions, kernelPath } from '../src/driver/board-plan.js';
import { generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { quantizeFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { planForBoard, planWithChains } from '../src/planner/index.js';
import type { MemoryPlan } from '../src/planner/types.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import { mulberry32 } from '../src/util/random.js';
import { syntheticImage, syntheticModel } from '../src/weights/synthetic.js';
import { expectFits, planCut } from './helpers/plan-cases.js';
import { buildAndRun, qemuModel, runPlan } from './helpers/plan-qemu.js';
import { kernelPathGraph, randomCut } from './helpers/random-chain.js';

const work = mkdtempSync(join(tmpdir(), 'sqzfw-planner-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of a board whose only arena region leaves exactly `arenaBytes` for the arena. */
function cappedBoard(name: string, arenaBytes: number): Board {
  const json = JSON.parse(readFileSync(new URL(`../boards/${name}.json`, import.meta.url), 'utf8'));
  json.name = `${name}-arena-${arenaBytes}`;
  const data = json.placement.data as string;
  json.memory.find((m: { name: string }) => m.name === data).length = arenaBytes + 16 * 1024 + 8192; // + stack + reserve
  json.placement.arena = [data];
  const file = join(work, `${json.name}.json`);
  writeFileSync(file, JSON.stringify(json));
  const board = loadBoard(file);
  expect(arenaRegions(board)).toEqual([{ name: data, capacity: arenaBytes }]);
  return board;
}

const KIB = 1024;

describe('full-size SqueezeNet in small SRAM, bit-exact in QEMU', () => {
  test('v1.1 at 224x224, 1000 classes, on a board with a 256 KiB arena (input and scratch included)', async () => {
    const board = cappedBoard('mps2-an500', 256 * KIB);
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    const dir = join(work, 'v1.1-224-256k');
    const gen = generateProject(p, board, dir);
    expect(gen.plan.peakBytes).toBeLessThanOrEqual(256 * KIB);
    expect(gen.plan.peakBytes).toBeLessThanOrEqual((829.09 * KIB) / 3.2);
    expect(gen.plan.macs - gen.plan.baseMacs).toBeLessThanOrEqual(0.25 * gen.plan.baseMacs);
    expect(gen.plan.chains?.some((c) => c.bands > 1)).toBe(true);
    const { run } = await buildAndRun(dir, board, true, 2000);
    expect(run.instructions).toBeGreaterThan(0);
  });

  test('v1.0 at 227x227, 1000 classes, on a board with a 384 KiB arena', async () => {
    const board = cappedBoard('mps2-an500', 384 * KIB);
    const p = prepareSynthetic({ variant: 'v1.0', inputSize: 227, classes: 1000, seed: 4 });
    const dir = join(work, 'v1.0-227-384k');
    const gen = generateProject(p, board, dir);
    expect(gen.plan.peakBytes).toBeLessThanOrEqual(384 * KIB);
    expect(gen.plan.macs - gen.plan.baseMacs).toBeLessThanOrEqual(0.25 * gen.plan.baseMacs);
    await buildAndRun(dir, board, true, 2000);
  });

  test('the smallest v1.1 plan (strategy tiled) on the Cortex-M4 board', async () => {
    const board = loadBoard('mps2-an386');
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 5 });
    const plan = planForBoard(p.model, arenaRegions(board), { strategy: 'tiled', path: kernelPath(board) });
    expectFits(plan, 200 * KIB);
    await runPlan(p.model, plan, p.input, board, join(work, 'v1.1-224-min'), true);
  });
});

describe('random graphs cut into random chains, bit-exact in QEMU', () => {
  test.each([
    ['mps2-an500', true],
    ['mps2-an386', false],
  ] as const)('every conv path of the kernels on one-row bands: %s, dsp=%s', async (boardName, dsp) => {
    const board = loadBoard(boardName);
    const g = kernelPathGraph();
    const fm = syntheticModel(g, 3);
    const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, 3));
    const d = g.input.dims;
    const input = quantizeInput(syntheticImage(d.h, d.w, d.c, 8), q.tensors[q.input]);
    // One chain over all layers, one row of the last layer per band: every call sees a row band.
    const plan = planWithChains(q, arenaRegions(board), [{ start: 0, end: q.layers.length, rows: 1, halo: 'keep' }], { path: dsp ? 'dsp' : 'scalar' });
    const oneRowIn1xN = plan.steps.filter((s) => s.op === 'conv' && s.inDims.h === 1 && q.layers.find((l) => l.name === s.layer)?.op === 'conv' && (q.layers.find((l) => l.name === s.layer) as { kernel: number[] }).kernel[0] === 1 && s.inDims.c % 4 === 0);
    expect(oneRowIn1xN.length).toBeGreaterThan(10);
    await runPlan(q, plan, input, board, join(work, `paths-${boardName}-${dsp}`), dsp);
  });

  test.each(
    [11, 12, 13].flatMap((seed) => [
      ['mps2-an500', true, seed] as const,
      ['mps2-an500', false, seed + 10] as const,
      ['mps2-an386', true, seed + 20] as const,
      ['mps2-an386', false, seed + 30] as const,
    ]),
  )('%s, dsp=%s, seed %i', async (boardName, dsp, seed) => {
    const board = loadBoard(boardName);
    const rnd = mulberry32(seed);
    // One firmware per seed: a random graph and a random cut with at least one chain of three or more bands.
    for (let attempt = 0; ; attempt++) {
      const { q, input } = qemuModel(rnd, `qemu${seed}_${attempt}`, seed);
      let plan: MemoryPlan | undefined;
      for (let k = 0; k < 6 && !plan?.chains?.some((c) => c.bands > 2); k++) {
        plan = planCut(q, arenaRegions(board), randomCut(rnd, q), { path: dsp ? 'dsp' : 'scalar' }) ?? plan;
      }
      if (!plan?.chains?.some((c) => c.bands > 2) && attempt < 20) continue;
      await runPlan(q, plan!, input, board, join(work, `random-${boardName}-${dsp}-${seed}`), dsp);
      break;
    }
  });
});
