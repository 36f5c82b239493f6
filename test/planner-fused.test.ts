/**
 * The fused classifier pool and the model input outside the arena (--input-in caller|stream), on the host:
 *  - the golden fused op (conv over row bands, int32 sums, one requantization) equals conv -> int8 -> global average
 *    pool on random shapes and random band borders;
 *  - random graphs cut into random chains (chains ending in a fused pool, the input in the arena, in a caller's
 *    buffer, or streamed) give exactly the golden model's outputs on simulated RAM and pass checkPlan;
 *  - a streamed input is asked for exactly the rows the plan's fetch steps say, in order, each row once when halos
 *    are kept; the caller's buffer is not counted in the arena.
 */
import { describe, expect, test } from 'vitest';
import { gapAccumulateS8, gapFinishS8 } from '../src/golden/gap-fused.js';
import { convS8, globalAvgPoolRequantS8, quantizeMultiplier } from '../src/golden/kernels.js';
import { UserError } from '../src/errors.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { planForBoard, planLayerByLayer } from '../src/planner/index.js';
import { chainOptions, minMemoryCuts } from '../src/planner/search.js';
import { Net, type Segment } from '../src/planner/tiling.js';
import type { InputIn, MemoryPlan } from '../src/planner/types.js';
import type { QModel } from '../src/quantize/types.js';
import { mulberry32, randInt } from '../src/util/random.js';
import { BIG, cutLabel, expectExact, planCut, plannedFetches, randomCase, type FetchCall } from './helpers/plan-cases.js';
import { randomCut } from './helpers/random-chain.js';

describe('fused classifier pool, golden op', () => {
  test('property: conv over random row bands + int32 sums + one requantization == conv -> int8 -> global average pool', () => {
    const rnd = mulberry32(4242);
    let multiBand = 0;
    for (let t = 0; t < 300; t++) {
      const h = randInt(rnd, 1, 12);
      const w = randInt(rnd, 1, 9);
      const cin = randInt(rnd, 1, 8);
      const cout = randInt(rnd, 1, 12);
      const k = randInt(rnd, 1, 3);
      const pad = k > 1 && rnd() < 0.5 ? 1 : 0;
      const outH = h + 2 * pad - k + 1;
      const outW = w + 2 * pad - k + 1;
      if (outH < 1 || outW < 1) continue;
      const input = Int8Array.from({ length: h * w * cin }, () => randInt(rnd, -128, 127));
      const filter = Int8Array.from({ length: cout * k * k * cin }, () => randInt(rnd, -127, 127));
      const bias = Int32Array.from({ length: cout }, () => randInt(rnd, -5000, 5000));
      const multiplier = Int32Array.from({ length: cout }, () => randInt(rnd, 1 << 30, 2 ** 31 - 1));
      const shift = Int32Array.from({ length: cout }, () => randInt(rnd, -10, -3));
      const outZp = randInt(rnd, -128, 100);
      const relu = rnd() < 0.5;
      const conv = { filter, kernel: [k, k] as [number, number], bias, inputOffset: randInt(rnd, -127, 128), outputOffset: outZp, stride: [1, 1] as [number, number], padLeft: pad, multiplier, shift, actMin: relu ? outZp : -128, actMax: 127 };
      const poolIn = -outZp;
      const { mult, shift: pshift } = quantizeMultiplier((0.02 + rnd()) / (outH * outW));
      const poolOut = { outputOffset: randInt(rnd, -128, 127), mult, shift: pshift, actMin: -128, actMax: 127 };
      // Unfused: the whole conv output, then the pool.
      const whole = convS8({ ...conv, input, inDims: { h, w, c: cin }, outDims: { h: outH, w: outW, c: cout }, padTop: pad });
      const want = globalAvgPoolRequantS8({ input: whole, h: outH, w: outW, c: cout, inputOffset: poolIn, ...poolOut });
      // Fused: random bands of output rows, each convolved alone (its input rows, top padding only at row 0).
      const sum = new Int32Array(cout).fill(0x7eadbeef);
      let bands = 0;
      for (let a = 0; a < outH; ) {
        const b = Math.min(outH, a + randInt(rnd, 1, 4));
        const y0 = a - pad;
        const r0 = Math.max(0, y0);
        const r1 = Math.min(h, b - 1 - pad + k);
        const band = convS8({ ...conv, input: input.subarray(r0 * w * cin, r1 * w * cin), inDims: { h: r1 - r0, w, c: cin }, outDims: { h: b - a, w: outW, c: cout }, padTop: r0 - y0 });
        gapAccumulateS8({ input: band, pixels: (b - a) * outW, c: cout, inputOffset: poolIn, sum, first: a === 0 });
        bands++;
        a = b;
      }
      if (bands > 1) multiBand++;
      expect(Array.from(gapFinishS8({ sum, c: cout, ...poolOut })), `case ${t}`).toEqual(Array.from(want));
    }
    expect(multiBand).toBeGreaterThan(150);
  });
});

/** The stream callback is asked for what the plan's fetch steps say, at those steps, and for every row. */
function expectStreamCalls(plan: MemoryPlan, calls: FetchCall[], h: number, keep: boolean): void {
  expect(calls).toEqual(plannedFetches(plan));
  expect(calls.length).toBeGreaterThan(0);
  // Rows no layer reads (a stride may skip some) are never asked for; checkPlan has already proved that no band
  // reads an input row before a fetch wrote it, and the junk-filled run that the bytes are right. Kept halos: no
  // row is asked for twice.
  const asked = new Array<number>(h).fill(0);
  for (const c of calls) for (let r = c.first; r <= c.last; r++) asked[r]++;
  expect(asked.length).toBe(h);
  if (keep) expect(asked.every((n) => n <= 1), JSON.stringify(calls)).toBe(true);
  // Rows come in order: each call starts at or after the previous one's first row.
  calls.forEach((c, i) => i > 0 && expect(c.first).toBeGreaterThanOrEqual(calls[i - 1].first));
}

/** A random cut whose last chain ends at the global average pool with bands over its input rows, if there is one. */
function fusedCut(rnd: () => number, q: QModel): Segment[] {
  const segs = randomCut(rnd, q);
  const net = new Net(q);
  const gap = q.layers.findIndex((l) => l.op === 'avgpool' && l.requant);
  if (gap < 0) return segs;
  return segs.map((s) => (s.end === gap + 1 ? { ...s, rows: randInt(rnd, 1, Math.max(1, net.dims(q.layers[gap].inputs[0]).h - 1)) } : s));
}

describe('fused pool and input outside the arena on random graphs', () => {
  test('property: random cuts with fused pools, the input in the arena, a caller buffer or streamed, are exact', () => {
    let fused = 0;
    let streamedBands = 0;
    for (let t = 0; t < 40; t++) {
      const { q, input, golden } = randomCase(7000 + t, 'f');
      const rnd = mulberry32(31 + t);
      const h = q.tensors[q.input].dims.h;
      for (const inputIn of ['arena', 'caller', 'stream'] as InputIn[]) {
        const segs = fusedCut(rnd, q);
        const plan = planCut(q, BIG, segs, { path: rnd() < 0.5 ? 'dsp' : 'scalar', searchIterations: 5, inputIn });
        if (!plan) continue;
        const what = cutLabel(q, inputIn, segs);
        if (plan.chains?.some((c) => c.fusedPool && c.bands > 1)) fused++;
        expect(plan.steps.some((s) => s.op === 'gapacc')).toBe(!!plan.chains?.some((c) => c.fusedPool));
        const calls = expectExact(q, plan, input, golden, what);
        expect(plan.inputIn).toBe(inputIn);
        if (inputIn === 'stream') {
          expectStreamCalls(plan, calls, h, segs[0].halo === 'keep');
          if (calls.length > 1) streamedBands++;
          expect(plan.buffers.some((b) => b.kind === 'input')).toBe(false);
        } else {
          expect(calls).toEqual([]);
          const inBuf = plan.buffers.find((b) => b.name === q.input)!;
          expect(inBuf.region === 'caller').toBe(inputIn === 'caller');
          // The caller's buffer is outside the arena: peakBytes covers the arena regions only.
          expect(plan.peakBytes).toBe(plan.regions.filter((r) => !r.external).reduce((s, r) => s + r.used, 0));
        }
      }
    }
    expect(fused).toBeGreaterThan(20);
    expect(streamedBands).toBeGreaterThan(15);
  });

  test('property: the plain plan with the input in a caller buffer or streamed (one fetch of every row first) is exact', () => {
    for (let t = 0; t < 20; t++) {
      const { q, input, golden } = randomCase(9000 + t, 'f');
      const arena = planLayerByLayer(q, { regions: BIG, path: 'scalar' });
      const caller = planLayerByLayer(q, { regions: BIG, path: 'scalar', inputIn: 'caller' });
      expect(expectExact(q, caller, input, golden, `${q.name} plain caller`)).toEqual([]);
      expect(caller.lowerBound!).toBeLessThanOrEqual(arena.lowerBound!);
      const stream = planLayerByLayer(q, { regions: BIG, path: 'scalar', inputIn: 'stream' });
      const h = q.tensors[q.input].dims.h;
      expect(expectExact(q, stream, input, golden, `${q.name} plain stream`)).toEqual([{ step: 0, first: 0, last: h - 1 }]);
    }
  });

  test('property: the search with the input outside the arena is exact, and the live bytes of its smallest cut never exceed those with it', () => {
    for (let t = 0; t < 4; t++) {
      const { q, input, golden } = randomCase(8000 + t, 'f');
      for (const inputIn of ['caller', 'stream'] as InputIn[]) {
        const plan = planForBoard(q, BIG, { strategy: 'tiled', path: 'dsp', inputIn });
        expectExact(q, plan, input, golden, `${q.name} ${inputIn}`);
        // The smallest cut's live bytes can only shrink. (The plan placed may be another of the smallest cuts, with
        // more live bytes, when it places smaller: with parked halos a cut with more live bytes often packs
        // tighter; seed 8002, caller: 1,054 B placed over 1,002 B live, the smallest cut 874 B live. The placement
        // heuristics may pack either plan a little differently, so the arenas are not compared.)
        const smallest = (x: InputIn): number => minMemoryCuts(chainOptions(q, 'dsp', { maxRecompute: 0.25, inputIn: x }), 0.25, 1)[0].peak;
        expect(smallest(inputIn), `${q.name} ${inputIn}`).toBeLessThanOrEqual(smallest('arena'));
        expect(plan.macs - plan.baseMacs).toBeLessThanOrEqual(0.25 * plan.baseMacs);
      }
    }
  });
});

describe('what a plan that does not fit says', () => {
  test('the input live at the peak: the hint names --input-in; without it: the layer and the tensors at the peak', () => {
    const q = prepareSynthetic({ variant: 'v1.1', inputSize: 96, classes: 10, seed: 3 }).model;
    const free = [{ name: 'R', capacity: 1 << 24 }];
    const inArena = planForBoard(q, free, { strategy: 'tiled' });
    const outside = planForBoard(q, free, { strategy: 'tiled', inputIn: 'caller' });
    expect(outside.peakBytes).toBeLessThan(inArena.peakBytes - 10_000);
    const fail = (capacity: number, inputIn: InputIn): UserError => {
      try {
        planForBoard(q, [{ name: 'SRAM', capacity }], { inputIn });
      } catch (e) {
        if (e instanceof UserError) return e;
        throw e;
      }
      throw new Error('it fitted');
    };
    const a = fail(Math.floor(inArena.peakBytes * 0.8), 'arena');
    // The layer, the call and what is live there, in the model's terms (conv1 runs row by row into pool1, each row
    // pooled across and folded into pool1's row at once: one pooled row held besides pool1's).
    expect(a.message).toMatch(/The peak is at layer pool1 \(step \d+, maxpool across row \d+ of 47, band 1\/\d+\), with input rows \d+-\d+ of 96 \([\d.]+ KiB\); conv1: a band of 1 of 47 rows \([\d.]+ KiB\); pool1: a band of 1 of 23 rows \([\d.]+ KiB\); conv1 pooled across by pool1: a band of 1 of 47 rows/);
    expect(a.hint).toMatch(/^the model input holds 25\.6 KiB of the peak: --input-in caller .* --input-in stream/);
    const b = fail(Math.floor(outside.peakBytes * 0.8), 'caller');
    expect(b.message).toMatch(/The peak is at layer [\w.]+ \(step \d+, (conv rows? \d+(-\d+)?|maxpool across row \d+) of \d+, band \d+\/\d+\), with [\w.]+( pooled across by \w+)?(: a band of \d+ of \d+ rows| whole| rows \d+-\d+ of \d+) \([\d.]+ KiB\)/);
    expect(b.message).not.toMatch(/with input/);
    expect(b.hint).not.toMatch(/--input-in/);
  });
});
