/**
 * Row pools (tiling.ts): a max pool fed by a conv of the same chain runs as two passes, the conv one row per call
 * with each row pooled across at once (window width only), then the window's height over the pooled rows.
 *  - property: on random graphs cut into random chains with row pools (any band height, kept or recomputed halos,
 *    the input in the arena, a caller's buffer or streamed) the plan passes checkPlan and gives exactly the golden
 *    model's outputs on junk-filled simulated RAM;
 *  - the conv's wide output never exists as more than one row, and each pool pass carries its axis;
 *  - on SqueezeNet v1.1 at 224 the first chain's live bytes fall below the plain pool's.
 */
import { describe, expect, test } from 'vitest';
import { prepareSynthetic } from '../src/prepare/index.js';
import { evaluateSegment, Net, rowPools, scheduleSegment, type Segment } from '../src/planner/tiling.js';
import type { QModel } from '../src/quantize/types.js';
import { expectExact, plannedCuts } from './helpers/plan-cases.js';
import { randomCut } from './helpers/random-chain.js';
import { settle } from './helpers/settle.js';

/** The concat outputs a chain of the cut pools with a row pool. */
const concatFed = (net: Net, q: QModel, segs: Segment[]): string[] =>
  segs.flatMap((s) => [...rowPools(net, s.start, s.end).keys()].filter((x) => q.layers[net.producer.get(x)!].op === 'concat'));

describe('row pools', () => {
  test('property: random cuts with row pools (any band height, halo policy, input placement) are exact', () => {
    let split = 0;
    let checked = 0;
    const cases = plannedCuts({ seed: 9000, cutSeed: 500, tries: 600, prefix: 'p', until: () => split >= 40 }, (rnd, q, net) => {
      const segs = randomCut(rnd, q).map((s) => ({ ...s, rowPool: true }));
      return segs.some((s) => rowPools(net, s.start, s.end).size > 0) ? segs : undefined;
    });
    for (const { q, input, golden, plan, what } of cases) {
      checked++;
      expectExact(q, plan, input, golden, what);
      const across = plan.steps.filter((s) => (s.op === 'maxpool' || s.op === 'avgpool') && s.axis === 'w');
      const down = plan.steps.filter((s) => (s.op === 'maxpool' || s.op === 'avgpool') && s.axis === 'h');
      if (plan.chains?.some((c) => c.rowPool)) {
        split++;
        expect(across.length, what).toBeGreaterThan(0);
        expect(down.length, what).toBeGreaterThan(0);
        // Each pass over one row: the conv output goes through one-row buffers only.
        for (const s of across) if (s.op === 'maxpool') expect(s.inDims.h).toBe(1);
      } else {
        expect(across.length + down.length, what).toBe(0);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(40);
    expect(split).toBeGreaterThanOrEqual(40);
  });

  test('property: max pools fed by a concat run as row pools, exact, and the concat never exists as a whole row', async () => {
    let found = 0;
    const cases = plannedCuts({ seed: 20_000, cutSeed: 700, tries: 3000, prefix: 'p', until: () => found >= 30 }, (rnd, q, net) => {
      const segs = randomCut(rnd, q).map((s) => ({ ...s, rowPool: true }));
      return concatFed(net, q, segs).length > 0 ? segs : undefined;
    });
    for (const { q, input, golden, net, segs, plan, what } of cases) {
      found++;
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      expectExact(q, plan, input, golden, what);
      for (const cat of concatFed(net, q, segs)) {
        // No buffer holds the concat unpooled; each input conv writes one row per call, pooled across at once.
        expect(plan.buffers.filter((b) => b.tensor === cat), what).toEqual([]);
        const layer = q.layers[net.producer.get(cat)!];
        for (const i of layer.inputs) {
          const calls = plan.steps.filter((s) => s.op === 'conv' && s.layer === q.layers[net.producer.get(i)!].name);
          // At most once per row with kept halos (rows no pool window reads are not computed at all).
          const seg = segs.find((x) => x.start <= net.producer.get(i)! && net.producer.get(i)! < x.end)!;
          expect(calls.length, what).toBeGreaterThan(0);
          if (seg.halo === 'keep') expect(calls.length, what).toBeLessThanOrEqual(q.tensors[i].dims.h);
          for (const s of calls) if (s.op === 'conv') expect(s.outDims.h, what).toBe(1);
        }
        expect(plan.steps.some((s) => s.op === 'concat' && s.layer === layer.name && s.inDims.h === 1 && s.inDims.w === q.tensors[q.layers[rowPools(net, 0, q.layers.length).get(cat)!].output].dims.w), what).toBe(true);
      }
    }
    expect(found).toBeGreaterThanOrEqual(30);
  });

  test('property: pulled chains (each row right after the rows it reads) are exact with any band height and input placement', async () => {
    let pulled = 0;
    const cases = plannedCuts({ seed: 30_000, cutSeed: 900, tries: 400, prefix: 'p', until: () => pulled >= 60 }, (rnd, q) =>
      randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, rowPool: rnd() < 0.7, pull: true })),
    );
    for (const { q, input, golden, plan, what } of cases) {
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      expectExact(q, plan, input, golden, what);
      if (!plan.chains!.some((c) => c.pull && c.bands > 1)) continue;
      pulled++;
      // No conv row is computed twice (kept rows are copied, never recomputed; rows no window reads are skipped).
      expect(plan.macs, what).toBeLessThanOrEqual(plan.baseMacs);
    }
    expect(pulled).toBeGreaterThanOrEqual(60);
  });

  test('SqueezeNet v1.1 at 224: conv1 -> pool1 as a row pool holds less than the plain band chain', () => {
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 10, seed: 3 });
    const net = new Net(p.model);
    const end = p.model.layers.findIndex((l) => l.name === 'fire2.squeeze') + 1;
    expect([...rowPools(net, 0, end).keys()]).toEqual(['conv1']);
    const plainBand = evaluateSegment(net, scheduleSegment(net, { start: 0, end, rows: 1, halo: 'keep' }), 'dsp');
    const rowPool = evaluateSegment(net, scheduleSegment(net, { start: 0, end, rows: 1, halo: 'keep', rowPool: true }), 'dsp');
    // 224x224x3 input (150,528 B) + 3 conv1 rows (21,312 B) + scratch before; one conv1 row + pooled rows now.
    expect(plainBand.peak).toBeGreaterThan(150_528 + 21_312);
    expect(rowPool.peak).toBeLessThan(150_528 + 7_104 + 3 * 3_520 + 1_024);
    expect(rowPool.macs).toBe(plainBand.macs);
  });
});
