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
import { loadBoard } from '../src/boards/index.js';
import { buildFirmware, type BuildResult } from '../src/toolchain/index.js';
import { prepareImageModel } from '../src/prepare/image-model.js';
import { arenaRegions } from '../src/driver/board-plan.js';
import { emitProject, emulateProject, generateFiles, generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { planForBoard } from '../src/planner/index.js';
import { Net, rowPools, type Segment } from '../src/planner/tiling.js';
import type { QModel } from '../src/quantize/types.js';
import type { InputIn, MemoryPlan } from '../src/planner/types.js';
import { writeProject } from '../src/project.js';
import { mulberry32, randInt } from '../src/util/random.js';
import { randomCut } from './helpers/random-chain.js';
import { expectFits, planCut, smallestPlan } from './helpers/plan-cases.js';
import { expectBitExact, findRandomPlan, planStreamLine, qemuModel, runPlan } from './helpers/plan-qemu.js';
import { required } from './helpers/require.js';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const REAL_MODEL = join(SHARED, 'models', 'squeezenet1.0-imagenet.onnx');
required(`the real model ${REAL_MODEL}`, existsSync(REAL_MODEL));

const work = mkdtempSync(join(tmpdir(), 'sqzfw-fused-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Code and constant data of a build (.text + .rodata; the weights have their own sections). */
const codeBytes = (b: BuildResult): number => (b.sections['.text'] ?? 0) + (b.sections['.rodata'] ?? 0);

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
      const { q, input } = qemuModel(rnd, `fq${seed}_${attempt}`, seed);
      const gap = q.layers.findIndex((l) => l.op === 'avgpool' && l.requant);
      const net = new Net(q);
      if (gap < 0 || net.dims(q.layers[gap].inputs[0]).h < 3) continue;
      let plan: MemoryPlan | undefined;
      for (let k = 0; k < 6 && !plan; k++) {
        const segs = randomCut(rnd, q).map((s) => (s.end === gap + 1 ? { ...s, rows: randInt(rnd, 1, 2) } : { ...s, halo: 'keep' as const }));
        plan = planCut(q, arenaRegions(board), segs, { path: dsp ? 'dsp' : 'scalar', inputIn });
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

/** A QEMU case on a random graph: a board, the kernel path (dsp or not), where the input lives and the seed. */
type RandomRow = readonly [board: string, dsp: boolean, inputIn: InputIn, seed: number];

/**
 * One firmware per row: the first random graph (`name`, at most `tries`) whose cut (`cut`) plans to what `wanted`
 * accepts, `check`ed on the host, then bit-exact in QEMU (in `dir`); with `streamLine` a streamed input's firmware
 * must also report exactly the plan's fetches.
 */
function randomGraphsInQemu(
  title: string,
  rows: readonly RandomRow[],
  spec: {
    name: string;
    tries: number;
    what: string;
    dir: string;
    cut: (rnd: () => number, q: QModel, inputIn: InputIn) => Segment[] | undefined;
    wanted: (plan: MemoryPlan, q: QModel, inputIn: InputIn) => boolean;
    check?: (plan: MemoryPlan) => void;
    streamLine?: boolean;
  },
): void {
  describe(`${title}: random graphs bit-exact in QEMU`, () => {
    test.each(rows)('%s, dsp=%s, input %s, seed %i', async (boardName, dsp, inputIn, seed) => {
      const board = loadBoard(boardName);
      const { q, input, plan } = findRandomPlan(
        board,
        { name: spec.name, seed, tries: spec.tries, dsp, inputIn, what: spec.what },
        (rnd, q) => spec.cut(rnd, q, inputIn),
        (plan, q) => spec.wanted(plan, q, inputIn),
      );
      spec.check?.(plan);
      const { run } = await runPlan(q, plan, input, board, join(work, `${spec.dir}-${boardName}-${dsp}-${seed}`), dsp);
      if (spec.streamLine && inputIn === 'stream') expect(run.stdout.split('\n')).toContain(planStreamLine(plan));
    });
  });
}

randomGraphsInQemu('row pools', [['mps2-an500', true, 'arena', 41], ['mps2-an386', false, 'stream', 42]], {
  name: 'rq',
  tries: 200,
  what: 'a banded row pool',
  dir: 'rowpool',
  cut: (rnd, q) => randomCut(rnd, q).map((s) => ({ ...s, rowPool: true })),
  wanted: (plan) => plan.chains!.some((c) => c.rowPool && c.bands > 1),
  check: (plan) => expect(plan.steps.some((s) => s.op === 'maxpool' && s.axis === 'h')).toBe(true),
});

randomGraphsInQemu('running-max row pools', [['mps2-an500', true, 'arena', 51], ['mps2-an386', false, 'stream', 52]], {
  name: 'mq',
  tries: 300,
  what: 'a banded running-max row pool',
  dir: 'running',
  cut: (rnd, q) => randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, rowPool: true, runningMax: true })),
  wanted: (plan) => plan.chains!.some((c) => c.runningMax && c.bands > 1),
  check: (plan) => expect(plan.steps.some((s) => s.op === 'max')).toBe(true),
});

randomGraphsInQemu('pulled chains (running maxes with the streamed input) and concat-fed row pools', [['mps2-an500', true, 'stream', 51], ['mps2-an386', false, 'caller', 52]], {
  name: 'pq',
  tries: 300,
  what: 'a pulled chain and a concat-fed row pool',
  dir: 'pulled',
  cut: (rnd, q, inputIn) => {
    const net = new Net(q);
    // With a streamed input, conv-fed row pools run as running maxes in the pulled chains.
    const segs = randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, rowPool: true, pull: true, ...(inputIn === 'stream' ? { runningMax: true } : {}) }));
    // A chain with a max pool fed by a concat, pulled over more than one band.
    return segs.some((s) => [...rowPools(net, s.start, s.end).keys()].some((t) => q.layers[net.producer.get(t)!].op === 'concat')) ? segs : undefined;
  },
  wanted: (plan, _q, inputIn) => plan.chains!.some((c) => c.pull && c.bands > 1) && (inputIn !== 'stream' || (plan.steps.filter((s) => s.op === 'fetch').length >= 2 && plan.chains!.some((c) => c.pull && c.runningMax && c.bands > 1))),
  streamLine: true,
});

randomGraphsInQemu('parked halos and row temporaries', [['mps2-an500', true, 'stream', 51], ['mps2-an386', false, 'caller', 52]], {
  name: 'pq',
  tries: 200,
  what: 'parked halos',
  dir: 'park',
  cut: (rnd, q) => randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, parkHalo: true, rowTemps: true })),
  // The first chain parks its halos (for the stream: the input's rows among them).
  wanted: (plan, q, inputIn) => !!plan.chains![0].parkHalo && plan.buffers.some((b) => /#halo\d+$/.test(b.name) && (inputIn !== 'stream' || b.tensor === q.input)),
  streamLine: true,
});

describe('full-size SqueezeNet with a fused classifier pool, bit-exact in QEMU', () => {
  test('v1.1 at 224x224, 1000 classes, input in the arena: the smallest plan fits 160 KiB', async () => {
    const board = loadBoard('mps2-an500');
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    const plan = smallestPlan(p.model);
    // conv1 -> pool1 as a running max: each pooled conv1 row folded into pool1's row at once (sqzfw_max_s8).
    expect(plan.chains![0].runningMax).toBe(true);
    expect(plan.steps.some((s) => s.op === 'max')).toBe(true);
    expectFits(plan, 160 * 1024);
    await runPlan(p, plan, p.input, board, join(work, 'v1.1-224-arena'), true);
  });

  test('v1.1 at 224x224, 1000 classes, input in a caller buffer: the smallest plan, code within 15 KiB of the plain plan', async () => {
    const board = loadBoard('mps2-an500');
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    const plan = smallestPlan(p.model, { inputIn: 'caller' });
    expect(plan.chains!.some((c) => c.fusedPool && c.bands > 1)).toBe(true);
    expect(plan.buffers.some((b) => b.tensor === 'conv10' && b.kind !== 'band')).toBe(false);
    // conv1 -> pool1 as a row pool (conv1 one row per call, each row pooled across at once): 80,656 B before.
    expect(plan.chains!.some((c) => c.rowPool && c.bands > 1)).toBe(true);
    expect(plan.steps.some((s) => s.op === 'maxpool' && s.axis === 'w')).toBe(true);
    // The first chain pulled one row at a time (67,424 B banded; 60,384 B with parked halos and row temporaries):
    // the 64 KiB mark.
    expect(plan.chains![0]).toMatchObject({ first: 'conv1', pull: true });
    expectFits(plan, 64 * 1024);
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
    const plan = smallestPlan(p.model, { inputIn: 'caller' });
    // fire4 -> pool4 and fire8 -> pool8 pooled per concat slice; rows pulled one at a time (104,672 B before both);
    // conv1 -> pool1 and fire4 -> pool4 as running maxes in the pulled first chain (80,688 B with two-pass pools):
    // the 64 KiB mark.
    expect(plan.chains!.some((c) => c.pull && c.bands > 1)).toBe(true);
    expect(plan.chains![0]).toMatchObject({ first: 'conv1', pull: true, runningMax: true });
    for (const pool of ['pool1', 'pool4']) expect(plan.steps.some((s) => s.op === 'max' && s.layer === pool), pool).toBe(true);
    expect(plan.buffers.some((b) => b.tensor === 'fire4.concat' || b.tensor === 'fire8.concat')).toBe(false);
    expect(plan.steps.some((s) => s.op === 'concat' && s.layer === 'fire4.concat' && s.inDims.h === 1 && s.inDims.w === 27)).toBe(true);
    expectFits(plan, 64 * 1024);
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
    expectBitExact(await emulateProject({ projectDir: dir, board, timeoutMs: 300_000 }), 1000);
  });
});
