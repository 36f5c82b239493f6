/**
 * The fused classifier pool and the input outside the arena in the firmware: generate -> build -> QEMU, every
 * output byte compared with the golden model. Random graphs with a fused pool, the input in a caller's buffer or
 * streamed (the firmware counts the stream callback's calls and rows and must report exactly the plan's), on both
 * kernel paths; random graphs with running-max row pools (sqzfw_max_s8); full-size SqueezeNet v1.1 at 224x224 with
 * its smallest plan with the input in the arena (<= 160 KiB) and with the input in a caller's buffer (and its code
 * and constants, .text + .rodata, within 15 KiB of the plain plan's); and
 * the real ImageNet SqueezeNet v1.0 (../shared) on stm32f429i-disc1 (192 KiB SRAM + 64 KiB CCM), run on its twin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadBoard, type Board } from '../src/boards/index.js';
import { buildFirmware, type BuildResult } from '../src/toolchain/index.js';
import { prepareImageModel } from '../src/prepare/image-model.js';
import { arenaRegions } from '../src/driver/board-plan.js';
import { describeMismatch, emitProject, emulateProject, generateFiles, generateProject } from '../src/driver/index.js';
import { prepareSynthetic, type PreparedModel } from '../src/prepare/index.js';
import { quantizeFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { planForBoard, planWithChains } from '../src/planner/index.js';
import { Net, NotBandable, rowPools } from '../src/planner/tiling.js';
import type { InputIn, MemoryPlan } from '../src/planner/types.js';
import { writeProject } from '../src/project.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import type { QModel } from '../src/quantize/types.js';
import { mulberry32, randInt } from '../src/util/random.js';
import { syntheticImage, syntheticModel } from '../src/weights/synthetic.js';
import { randomChainGraph, randomCut } from './helpers/random-chain.js';
import { required } from './helpers/require.js';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const REAL_MODEL = join(SHARED, 'models', 'squeezenet1.0-imagenet.onnx');
required(`the real model ${REAL_MODEL}`, existsSync(REAL_MODEL));

const work = mkdtempSync(join(tmpdir(), 'sqzfw-fused-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Generates, builds and runs a plan; returns the run, the files and the build. The input is embedded in the firmware
 * unless `p` carries an inputSeed (then the application generates it, as sqzfw's own synthetic models do).
 */
async function runPlan(p: QModel | PreparedModel, plan: MemoryPlan, input: Int8Array, board: Board, dir: string, dsp: boolean) {
  const model = 'model' in p ? p.model : p;
  const { files, expected } = emitProject('model' in p ? p : { model, input, inputNote: 'fused test input' }, board, plan);
  writeProject(dir, files);
  const built = await buildFirmware({ projectDir: dir, semihosting: true, dsp });
  const run = await emulateProject({ projectDir: dir, board, timeoutMs: 240_000 });
  expect(run.comparison.missing).toEqual([]);
  expect(run.comparison.mismatches, describeMismatch(run.comparison)).toEqual([]);
  expect(run.comparison.bytes).toBe(model.outputs.reduce((s, o) => s + expected[o].length, 0));
  return { run, files, built };
}

/** Code and constant data of a build (.text + .rodata; the weights have their own sections). */
const codeBytes = (b: BuildResult): number => (b.sections['.text'] ?? 0) + (b.sections['.rodata'] ?? 0);

/** The plan's fetch steps as the firmware's stream line: calls and rows. */
const planStreamLine = (plan: MemoryPlan): string => {
  const fetches = plan.steps.filter((s) => s.op === 'fetch');
  return `input rows ${fetches.length} calls ${fetches.reduce((n, s) => n + (s.op === 'fetch' ? s.last - s.first + 1 : 0), 0)} rows`;
};

describe('fused pool, caller and streamed input: random graphs bit-exact in QEMU', () => {
  test.each([
    ['mps2-an500', true, 'stream', 21],
    ['mps2-an386', false, 'caller', 22],
    ['mps2-an500', false, 'stream', 23],
    ['mps2-an386', true, 'caller', 24],
  ] as const)('%s, dsp=%s, input %s, seed %i', async (boardName, dsp, inputIn: InputIn, seed) => {
    const board = loadBoard(boardName);
    const rnd = mulberry32(seed);
    for (let attempt = 0; ; attempt++) {
      const g = randomChainGraph(rnd, `fq${seed}_${attempt}`);
      const fm = syntheticModel(g, seed);
      const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, seed));
      const gap = q.layers.findIndex((l) => l.op === 'avgpool' && l.requant);
      const net = new Net(q);
      if (gap < 0 || net.dims(q.layers[gap].inputs[0]).h < 3) continue;
      const d = g.input.dims;
      const input = quantizeInput(syntheticImage(d.h, d.w, d.c, seed + 7), q.tensors[q.input]);
      let plan: MemoryPlan | undefined;
      for (let k = 0; k < 6 && !plan; k++) {
        const segs = randomCut(rnd, q).map((s) => (s.end === gap + 1 ? { ...s, rows: randInt(rnd, 1, 2) } : { ...s, halo: 'keep' as const }));
        try {
          plan = planWithChains(q, arenaRegions(board), segs, { path: dsp ? 'dsp' : 'scalar', inputIn });
        } catch (e) {
          if (!(e instanceof NotBandable)) throw e;
        }
      }
      if (!plan || (inputIn === 'stream' && plan.steps.filter((s) => s.op === 'fetch').length < 2)) {
        if (attempt < 30) continue;
      }
      expect(plan!.chains!.some((c) => c.fusedPool && c.bands > 1)).toBe(true);
      const { run } = await runPlan(q, plan!, input, board, join(work, `random-${boardName}-${dsp}-${seed}`), dsp);
      if (inputIn === 'stream') expect(run.stdout.split('\n')).toContain(planStreamLine(plan!));
      break;
    }
  });
});

describe('row pools: random graphs bit-exact in QEMU', () => {
  test.each([
    ['mps2-an500', true, 'arena', 41],
    ['mps2-an386', false, 'stream', 42],
  ] as const)('%s, dsp=%s, input %s, seed %i', async (boardName, dsp, inputIn: InputIn, seed) => {
    const board = loadBoard(boardName);
    const rnd = mulberry32(seed);
    for (let attempt = 0; attempt < 200; attempt++) {
      const g = randomChainGraph(rnd, `rq${seed}_${attempt}`);
      const fm = syntheticModel(g, seed);
      const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, seed));
      const segs = randomCut(rnd, q).map((s) => ({ ...s, rowPool: true }));
      let plan: MemoryPlan;
      try {
        plan = planWithChains(q, arenaRegions(board), segs, { path: dsp ? 'dsp' : 'scalar', inputIn });
      } catch (e) {
        if (e instanceof NotBandable) continue;
        throw e;
      }
      if (!plan.chains!.some((c) => c.rowPool && c.bands > 1)) continue;
      const d = g.input.dims;
      const input = quantizeInput(syntheticImage(d.h, d.w, d.c, seed + 7), q.tensors[q.input]);
      expect(plan.steps.some((s) => s.op === 'maxpool' && s.axis === 'h')).toBe(true);
      await runPlan(q, plan, input, board, join(work, `rowpool-${boardName}-${dsp}-${seed}`), dsp);
      return;
    }
    throw new Error('no random graph with a banded row pool in 200 tries');
  });
});

describe('running-max row pools: random graphs bit-exact in QEMU', () => {
  test.each([
    ['mps2-an500', true, 'arena', 51],
    ['mps2-an386', false, 'stream', 52],
  ] as const)('%s, dsp=%s, input %s, seed %i', async (boardName, dsp, inputIn: InputIn, seed) => {
    const board = loadBoard(boardName);
    const rnd = mulberry32(seed);
    for (let attempt = 0; attempt < 300; attempt++) {
      const g = randomChainGraph(rnd, `mq${seed}_${attempt}`);
      const fm = syntheticModel(g, seed);
      const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, seed));
      const segs = randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, rowPool: true, runningMax: true }));
      let plan: MemoryPlan;
      try {
        plan = planWithChains(q, arenaRegions(board), segs, { path: dsp ? 'dsp' : 'scalar', inputIn });
      } catch (e) {
        if (e instanceof NotBandable) continue;
        throw e;
      }
      if (!plan.chains!.some((c) => c.runningMax && c.bands > 1)) continue;
      const d = g.input.dims;
      const input = quantizeInput(syntheticImage(d.h, d.w, d.c, seed + 7), q.tensors[q.input]);
      expect(plan.steps.some((s) => s.op === 'max')).toBe(true);
      await runPlan(q, plan, input, board, join(work, `running-${boardName}-${dsp}-${seed}`), dsp);
      return;
    }
    throw new Error('no random graph with a banded running-max row pool in 300 tries');
  });
});

describe('pulled chains (running maxes with the streamed input) and concat-fed row pools: random graphs bit-exact in QEMU', () => {
  test.each([
    ['mps2-an500', true, 'stream', 51],
    ['mps2-an386', false, 'caller', 52],
  ] as const)('%s, dsp=%s, input %s, seed %i', async (boardName, dsp, inputIn: InputIn, seed) => {
    const board = loadBoard(boardName);
    const rnd = mulberry32(seed);
    for (let attempt = 0; attempt < 300; attempt++) {
      const g = randomChainGraph(rnd, `pq${seed}_${attempt}`);
      const fm = syntheticModel(g, seed);
      const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, seed));
      const net = new Net(q);
      // With a streamed input, conv-fed row pools run as running maxes in the pulled chains.
      const segs = randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, rowPool: true, pull: true, ...(inputIn === 'stream' ? { runningMax: true } : {}) }));
      // A chain with a max pool fed by a concat, pulled over more than one band.
      if (!segs.some((s) => [...rowPools(net, s.start, s.end).keys()].some((t) => q.layers[net.producer.get(t)!].op === 'concat'))) continue;
      let plan: MemoryPlan;
      try {
        plan = planWithChains(q, arenaRegions(board), segs, { path: dsp ? 'dsp' : 'scalar', inputIn });
      } catch (e) {
        if (e instanceof NotBandable) continue;
        throw e;
      }
      if (!plan.chains!.some((c) => c.pull && c.bands > 1) || (inputIn === 'stream' && (plan.steps.filter((s) => s.op === 'fetch').length < 2 || !plan.chains!.some((c) => c.pull && c.runningMax && c.bands > 1)))) continue;
      const d = g.input.dims;
      const input = quantizeInput(syntheticImage(d.h, d.w, d.c, seed + 7), q.tensors[q.input]);
      const { run } = await runPlan(q, plan, input, board, join(work, `pulled-${boardName}-${dsp}-${seed}`), dsp);
      if (inputIn === 'stream') expect(run.stdout.split('\n')).toContain(planStreamLine(plan));
      return;
    }
    throw new Error('no random graph with a pulled chain and a concat-fed row pool in 300 tries');
  });
});

describe('parked halos and row temporaries: random graphs bit-exact in QEMU', () => {
  test.each([
    ['mps2-an500', true, 'stream', 51],
    ['mps2-an386', false, 'caller', 52],
  ] as const)('%s, dsp=%s, input %s, seed %i', async (boardName, dsp, inputIn: InputIn, seed) => {
    const board = loadBoard(boardName);
    const rnd = mulberry32(seed);
    for (let attempt = 0; attempt < 200; attempt++) {
      const g = randomChainGraph(rnd, `pq${seed}_${attempt}`);
      const fm = syntheticModel(g, seed);
      const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, seed));
      const segs = randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, parkHalo: true, rowTemps: true }));
      let plan: MemoryPlan;
      try {
        plan = planWithChains(q, arenaRegions(board), segs, { path: dsp ? 'dsp' : 'scalar', inputIn });
      } catch (e) {
        if (e instanceof NotBandable) continue;
        throw e;
      }
      // The first chain parks its halos (for the stream: the input's rows among them).
      if (!plan.chains![0].parkHalo || !plan.buffers.some((b) => /#halo\d+$/.test(b.name) && (inputIn !== 'stream' || b.tensor === q.input))) continue;
      const d = g.input.dims;
      const input = quantizeInput(syntheticImage(d.h, d.w, d.c, seed + 7), q.tensors[q.input]);
      const { run } = await runPlan(q, plan, input, board, join(work, `park-${boardName}-${dsp}-${seed}`), dsp);
      if (inputIn === 'stream') expect(run.stdout.split('\n')).toContain(planStreamLine(plan));
      return;
    }
    throw new Error('no random graph with parked halos in 200 tries');
  });
});

describe('full-size SqueezeNet with a fused classifier pool, bit-exact in QEMU', () => {
  test('v1.1 at 224x224, 1000 classes, input in the arena: the smallest plan fits 160 KiB', async () => {
    const board = loadBoard('mps2-an500');
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    const plan = planForBoard(p.model, arenaRegions(board), { strategy: 'tiled', path: 'dsp' });
    // conv1 -> pool1 as a running max: each pooled conv1 row folded into pool1's row at once (sqzfw_max_s8).
    expect(plan.chains![0].runningMax).toBe(true);
    expect(plan.steps.some((s) => s.op === 'max')).toBe(true);
    expect(plan.peakBytes).toBeLessThanOrEqual(160 * 1024);
    expect(plan.macs).toBe(plan.baseMacs);
    await runPlan(p, plan, p.input, board, join(work, 'v1.1-224-arena'), true);
  });

  test('v1.1 at 224x224, 1000 classes, input in a caller buffer: the smallest plan, code within 15 KiB of the plain plan', async () => {
    const board = loadBoard('mps2-an500');
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    const plan = planForBoard(p.model, arenaRegions(board), { strategy: 'tiled', path: 'dsp', inputIn: 'caller' });
    expect(plan.chains!.some((c) => c.fusedPool && c.bands > 1)).toBe(true);
    expect(plan.buffers.some((b) => b.tensor === 'conv10' && b.kind !== 'band')).toBe(false);
    // conv1 -> pool1 as a row pool (conv1 one row per call, each row pooled across at once): 80,656 B before.
    expect(plan.chains!.some((c) => c.rowPool && c.bands > 1)).toBe(true);
    expect(plan.steps.some((s) => s.op === 'maxpool' && s.axis === 'w')).toBe(true);
    // The first chain pulled one row at a time (67,424 B banded; 60,384 B with parked halos and row temporaries):
    // the 64 KiB mark.
    expect(plan.chains![0]).toMatchObject({ first: 'conv1', pull: true });
    expect(plan.peakBytes).toBeLessThanOrEqual(64 * 1024);
    expect(plan.macs).toBe(plan.baseMacs);
    // p itself, so the input is generated at run time, not a 150,528-byte constant in .rodata.
    const { built, files } = await runPlan(p, plan, p.input, board, join(work, 'v1.1-224-caller'), true);
    // Code size: within 15 KiB of the plain layer-by-layer plan's, built the same way (band loops over packed
    // offset tables, one struct pointer per conv call, instead of one eleven-argument call per kernel call).
    const plain = planForBoard(p.model, arenaRegions(board), { strategy: 'plain', path: 'dsp' });
    const plainDir = join(work, 'v1.1-224-plain');
    writeProject(plainDir, emitProject(p, board, plain).files);
    const plainBuilt = await buildFirmware({ projectDir: plainDir, semihosting: true, dsp: true });
    const extra = codeBytes(built) - codeBytes(plainBuilt);
    expect(plan.steps.length).toBeGreaterThan(10 * plain.steps.length);
    expect(files['model/model.c']).toMatch(/for \(int32_t band = 0;/);
    expect(extra, `.text + .rodata: ${codeBytes(built)} B against the plain plan's ${codeBytes(plainBuilt)} B`).toBeGreaterThan(0);
    expect(extra, `.text + .rodata: ${codeBytes(built)} B against the plain plan's ${codeBytes(plainBuilt)} B`).toBeLessThanOrEqual(15 * 1024);
  });
});

describe('full-size SqueezeNet v1.0 with pulled chains and concat-fed row pools, bit-exact in QEMU', () => {
  test('v1.0 at 227x227, 1000 classes, input in a caller buffer: the smallest plan fits 64 KiB', async () => {
    const board = loadBoard('mps2-an500');
    const p = prepareSynthetic({ variant: 'v1.0', inputSize: 227, classes: 1000, seed: 3 });
    const plan = planForBoard(p.model, arenaRegions(board), { strategy: 'tiled', path: 'dsp', inputIn: 'caller' });
    // fire4 -> pool4 and fire8 -> pool8 pooled per concat slice; rows pulled one at a time (104,672 B before both);
    // conv1 -> pool1 and fire4 -> pool4 as running maxes in the pulled first chain (80,688 B with two-pass pools):
    // the 64 KiB mark.
    expect(plan.chains!.some((c) => c.pull && c.bands > 1)).toBe(true);
    expect(plan.chains![0]).toMatchObject({ first: 'conv1', pull: true, runningMax: true });
    for (const pool of ['pool1', 'pool4']) expect(plan.steps.some((s) => s.op === 'max' && s.layer === pool), pool).toBe(true);
    expect(plan.buffers.some((b) => b.tensor === 'fire4.concat' || b.tensor === 'fire8.concat')).toBe(false);
    expect(plan.steps.some((s) => s.op === 'concat' && s.layer === 'fire4.concat' && s.inDims.h === 1 && s.inDims.w === 27)).toBe(true);
    expect(plan.peakBytes).toBeLessThanOrEqual(64 * 1024);
    expect(plan.macs).toBe(plan.baseMacs);
    await runPlan(p, plan, p.input, board, join(work, 'v1.0-227-caller'), true);
  });
});

describe.runIf(existsSync(REAL_MODEL))('the real ImageNet SqueezeNet v1.0 on stm32f429i-disc1', () => {
  const board = loadBoard('stm32f429i-disc1');
  const prepared = existsSync(REAL_MODEL) ? prepareImageModel({ model: REAL_MODEL, image: join(SHARED, 'images', 'dev', 'n01530575_brambling.JPEG'), overrides: { labelsFile: join(SHARED, 'images', 'imagenet-classes.txt') } }) : undefined!;

  test('with the input in the arena (the default) it fits: the fused pool removed the 15x15x1000 peak', () => {
    // generateFiles plans for the board (a UserError if it does not fit) and runs the plan on simulated RAM.
    const gen = generateFiles(prepared, board);
    expect(gen.plan.chains!.some((c) => c.fusedPool)).toBe(true);
    expect(gen.plan.buffers.some((b) => b.tensor === prepared.model.layers.find((l) => l.op === 'avgpool' && l.requant)!.inputs[0] && b.kind !== 'band')).toBe(false);
  });

  test('with the input read from flash (--input-in caller) it fits and runs bit-exact on the QEMU twin', async () => {
    const dir = join(work, 'real-v1.0-f429');
    const gen = generateProject(prepared, board, dir, { inputIn: 'caller' });
    expect(gen.plan.chains!.some((c) => c.fusedPool)).toBe(true);
    expect(gen.plan.peakBytes).toBeLessThanOrEqual(arenaRegions(board).reduce((s, r) => s + r.capacity, 0));
    await buildFirmware({ projectDir: dir, variant: 'qemu' });
    const run = await emulateProject({ projectDir: dir, board, timeoutMs: 300_000 });
    expect(run.comparison.missing).toEqual([]);
    expect(run.comparison.mismatches, describeMismatch(run.comparison)).toEqual([]);
    expect(run.comparison.bytes).toBe(1000);
  });
});
