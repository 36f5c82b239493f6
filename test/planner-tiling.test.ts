/**
 * Row-band planner properties on random graphs: whatever the cut into chains, band heights and halo policy, the
 * plan passes checkPlan and, run on simulated RAM (dead bytes junk-filled before every step), gives exactly the
 * golden model's outputs. Also the search under capacity caps, several regions, and the failure report.
 */
import { describe, expect, test } from 'vitest';
import { runGolden } from '../src/golden/run.js';
import { buildQuantizedModel } from '../src/prepare/index.js';
import { checkPlan, planForBoard, planLayerByLayer } from '../src/planner/index.js';
import { executePlan } from '../src/planner/execute.js';
import type { MemoryPlan } from '../src/planner/types.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import { UserError } from '../src/errors.js';
import { checkPlacement, liveLowerBound, placeInRegions, type BufferRequest } from '../src/planner/arena.js';
import { mulberry32 } from '../src/util/random.js';
import { syntheticImage } from '../src/weights/synthetic.js';
import { BIG, expectExact, planCut, randomCase } from './helpers/plan-cases.js';
import { randomCut } from './helpers/random-chain.js';
import { settle } from './helpers/settle.js';

describe('live pieces', () => {
  // A chain input consumed 100 bytes per step, and the chain output written 60 bytes per step.
  const steps = 10;
  const dying: BufferRequest = { name: 'input', size: 1000, firstUse: 0, lastUse: steps - 1, alignment: 4, live: Array.from({ length: steps }, (_, i) => ({ first: 0, last: i, start: 100 * i, end: 100 * (i + 1) })) };
  const growing: BufferRequest = { name: 'out', size: 600, firstUse: 0, lastUse: steps + 2, alignment: 4, live: Array.from({ length: steps }, (_, i) => ({ first: i, last: steps + 2, start: 60 * i, end: 60 * (i + 1) })) };
  const band: BufferRequest = { name: 'band', size: 200, firstUse: 0, lastUse: steps - 1, alignment: 4 };

  test('the output grows into the input rows that died: the arena is far below the sum of the buffers', () => {
    const reqs = [dying, growing, band];
    const p = placeInRegions(reqs, [{ name: 'RAM', capacity: Infinity }])!;
    checkPlacement(reqs, p.offsets);
    expect(p.size).toBeLessThan(1000 + 200 + 100);
    expect(p.size).toBeGreaterThanOrEqual(liveLowerBound(reqs));
    // Output at the input's offset would overwrite the input's live rows: the checker says where and when.
    expect(() => checkPlacement(reqs, { input: 0, out: 0, band: 2000 })).toThrow(/buffers input \[0, 1000\) .* and out \[0, 600\) .* overlap \(bytes \[0, 60\) both live at step 0\)/);
    // Shifted down by one output row it is fine: row i of the output replaces input bytes dead since step i - 1.
    expect(() => checkPlacement(reqs, { input: 60, out: 0, band: 2000 })).not.toThrow();
  });

  test('a capacity too small for the lower bound fails; several regions take the overflow', () => {
    const reqs = [dying, growing, band];
    expect(placeInRegions(reqs, [{ name: 'RAM', capacity: liveLowerBound(reqs) - 1 }])).toBeUndefined();
    const p = placeInRegions(reqs, [{ name: 'A', capacity: 1100 }, { name: 'B', capacity: 256 }])!;
    expect(p.region.band).toBe('B');
    for (const r of ['A', 'B']) checkPlacement(reqs.filter((q) => p.region[q.name] === r), p.offsets, r === 'A' ? 1100 : 256);
  });
});

describe('row-band plans on random graphs', () => {
  test('property: random cuts, band heights and halo policies are bit-exact and pass checkPlan', () => {
    let banded = 0;
    for (let t = 0; t < 120; t++) {
      const { q, input, golden } = randomCase(1000 + t, 'r');
      const rnd = mulberry32(77 + t);
      for (let k = 0; k < 3; k++) {
        const segs = randomCut(rnd, q);
        const path = rnd() < 0.5 ? 'dsp' : 'scalar';
        const plan = planCut(q, BIG, segs, { path, searchIterations: 5 });
        if (!plan) continue;
        if ((plan.chains ?? []).some((c) => c.bands > 1)) banded++;
        expectExact(q, plan, input, golden, `${q.name} cut ${JSON.stringify(segs)} ${path}`);
        // Bands never compute rows no consumer reads (e.g. rows a floor-mode pool skips), so keeping halos can
        // only save MACs; recomputing may cost more.
        if (segs.every((s) => s.halo === 'keep')) expect(plan.macs).toBeLessThanOrEqual(plan.baseMacs);
      }
    }
    expect(banded).toBeGreaterThan(200);
  });

  test('property: the tiled search never uses more than the plain plan, stays under the recompute cap, and is exact', async () => {
    for (let t = 0; t < 40; t++) {
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const { q, input, golden } = randomCase(5000 + t, 'r');
      const plain = planLayerByLayer(q, { regions: BIG, path: 'dsp' });
      const maxRecompute = [0, 0.1, 0.25][t % 3];
      const tiled = planForBoard(q, BIG, { strategy: 'tiled', path: 'dsp', maxRecompute });
      expect(tiled.peakBytes, q.name).toBeLessThanOrEqual(plain.peakBytes);
      expect(tiled.macs - tiled.baseMacs).toBeLessThanOrEqual(maxRecompute * tiled.baseMacs);
      expect(tiled.peakBytes).toBeGreaterThanOrEqual(tiled.lowerBound!);
      expectExact(q, tiled, input, golden, `${q.name} tiled`);
      // Capped just at the tiled peak, auto must find a plan that fits (it may be this one).
      const cap = [{ name: 'SRAM', capacity: tiled.peakBytes }];
      const auto = planForBoard(q, cap, { path: 'dsp', maxRecompute });
      expect(auto.peakBytes).toBeLessThanOrEqual(tiled.peakBytes);
      expectExact(q, auto, input, golden, `${q.name} auto`);
    }
  });

  test('several regions: buffers spread over them when no single one holds the arena', async () => {
    let spread = 0;
    for (let t = 0; t < 25; t++) {
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const { q, input, golden } = randomCase(7000 + t, 'r');
      const plain = planLayerByLayer(q, { regions: BIG });
      const tiled = planForBoard(q, BIG, { strategy: 'tiled' });
      const part = Math.max(Math.ceil(plain.peakBytes * 0.4), ...tiled.buffers.map((b) => b.size + 8));
      const regions = [
        { name: 'DTCM', capacity: part },
        { name: 'AXI', capacity: part },
        { name: 'SRAM1', capacity: part },
      ];
      const plan = planForBoard(q, regions, { strategy: 'auto' });
      expectExact(q, plan, input, golden, `${q.name} regions`);
      for (const r of plan.regions) expect(r.used).toBeLessThanOrEqual(r.capacity);
      if (plan.regions.filter((r) => r.used > 0).length > 1) spread++;
    }
    expect(spread).toBeGreaterThan(5);
  });

  test('the oracles catch a wrong lifetime or offset: checkPlan names it, the simulated run gives wrong bytes', () => {
    const q = buildQuantizedModel({ variant: 'v1.1', inputSize: 64, classes: 10, calibrationImages: 1 });
    const d = q.tensors[q.input].dims;
    const input = quantizeInput(syntheticImage(d.h, d.w, d.c, 42), q.tensors[q.input]);
    const golden = runGolden(q, input);
    // (Banded chains: fire2.squeeze ends one, so it is a whole tensor; a pulled chain may run through it.)
    const plan = planForBoard(q, BIG, { strategy: 'tiled', pull: false });
    expectExact(q, plan, input, golden, 'unchanged');
    const differs = (p: MemoryPlan): boolean => {
      const out = executePlan(q, p, input);
      return q.outputs.some((o) => out[o].some((v, i) => v !== golden[o][i]));
    };
    // A chain output whose rows die right after they are written.
    const cut = structuredClone(plan);
    const sink = cut.buffers.find((b) => b.tensor === 'fire2.squeeze' && b.kind === 'tensor')!;
    sink.live = sink.live!.map((p) => ({ ...p, last: p.first }));
    sink.lastUse = Math.max(...sink.live.map((p) => p.last));
    expect(() => checkPlan(cut)).toThrow(/fire2\.squeeze.*(outside its lifetime|not all live)/);
    expect(differs(cut)).toBe(true);
    // A band buffer moved onto another buffer live at the same time.
    const moved = structuredClone(plan);
    const band = moved.buffers.find((b) => b.kind === 'band' && b.size >= 64)!;
    const other = moved.buffers.find((b) => b !== band && b.region === band.region && b.firstUse <= band.firstUse && band.firstUse <= b.lastUse && b.size >= 64 && !b.live)
      ?? moved.buffers.find((b) => b !== band && b.kind === 'input')!;
    band.offset = other.offset;
    expect(() => checkPlan(moved)).toThrow(/overlap/);
  });

  test('when nothing fits, the error gives the smallest arena found and the layer that sets it', () => {
    const { q } = randomCase(1234, 'r');
    const tiled = planForBoard(q, BIG, { strategy: 'tiled' });
    const run = () => planForBoard(q, [{ name: 'SRAM', capacity: Math.floor(tiled.lowerBound! / 2) }], {});
    expect(run).toThrow(UserError);
    expect(run).toThrow(/does not fit: the smallest plan found \(row bands, at most 25% extra MACs\) needs \d+ bytes .* the largest RAM region, SRAM, has \d+ bytes: \d+ bytes short\. The peak is at layer \S+ \(step \d+(, \w+ [^)]+)?\), with .* \([\d.]+ KiB\) live/);
  });
});
