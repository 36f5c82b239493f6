/**
 * Running-max row pools (running-max.ts): each pooled conv row is folded into the pool's output row at once
 * (sqzfw_max_s8), and only the row the next window shares is carried.
 *  - property: on random graphs cut into random chains with running-max row pools (any band height, kept or
 *    recomputed halos, the input in the arena, a caller's buffer or streamed) the plan passes checkPlan and gives
 *    exactly the golden model's outputs on junk-filled simulated RAM; the new shape occurs (max steps, no second
 *    pooling pass for those pools);
 *  - emitRunningRows on its own: every conv row of a 3x3 stride-2 pool computed once, in order, each output row the
 *    max of its window;
 *  - pulled chains (tiling.ts, pullBands) with running maxes, conv-fed and concat-fed (each pooled concat row put
 *    together from its slices, then folded): exact on random graphs, fetches as planned, each streamed row once,
 *    no second pass for those pools and no pooled concat rows held for a window;
 *  - SqueezeNet v1.1 at 224 with the input in the arena: the first chain holds less than with the two-pass row pool,
 *    with the same MACs, and the smallest plan fits 160 KiB; v1.0 at 227's pulled first chain holds less with them.
 */
import { describe, expect, test } from 'vitest';
import { prepareSynthetic } from '../src/prepare/index.js';
import { emitRunningRows, runningMaxFits } from '../src/planner/running-max.js';
import { evaluateSegment, Net, rowPools, runningMaxOk, runningPools, scheduleSegment, type Segment } from '../src/planner/tiling.js';
import type { Ref } from '../src/planner/types.js';
import type { QModel } from '../src/quantize/types.js';
import { eachRowOnce, expectExact, expectFits, plannedCuts, plannedFetches, smallestPlan } from './helpers/plan-cases.js';
import { randomCut } from './helpers/random-chain.js';
import { settle } from './helpers/settle.js';

/** Every chain pulled, keeping its halos, with running-max row pools. */
const PULLED_RUNNING = { halo: 'keep', rowPool: true, runningMax: true, pull: true } as const;

/** The concat outputs a chain of the cut pools with a running max, with the pool layer of each. */
const concatFed = (net: Net, q: QModel, segs: Segment[]): [string, number][] =>
  segs.flatMap((s) => [...runningPools(net, s.start, s.end, true)].filter(([x]) => q.layers[net.producer.get(x)!].op === 'concat'));

describe('running-max row pools', () => {
  test('property: random cuts with running-max row pools (any band height, halo policy, input placement) are exact', () => {
    let running = 0;
    let banded = 0;
    let checked = 0;
    const cases = plannedCuts({ seed: 12000, cutSeed: 800, tries: 800, prefix: 'm', imageBase: 700, until: () => running >= 40 }, (rnd, q, net) => {
      const segs = randomCut(rnd, q).map((s) => ({ ...s, rowPool: true, runningMax: true }));
      return segs.some((s) => runningMaxOk(net, s.start, s.end)) ? segs : undefined;
    });
    for (const { q, input, golden, net, segs, plan, what } of cases) {
      checked++;
      expectExact(q, plan, input, golden, what);
      const chains = plan.chains ?? [];
      // Running only where asked for, with kept halos and pools whose windows share at most one row.
      segs.forEach((s, i) => {
        const ok = s.halo === 'keep' && runningMaxOk(net, s.start, s.end);
        expect(chains[i].runningMax === true, `${what}: chain ${i}`).toBe(ok);
      });
      const runningPools = new Set<string>();
      segs.forEach((s, i) => {
        if (!chains[i].runningMax) return;
        for (const l of rowPools(net, s.start, s.end).values()) runningPools.add(q.layers[l].name);
      });
      const maxes = plan.steps.filter((s) => s.op === 'max');
      if (runningPools.size === 0) {
        expect(maxes.length, what).toBe(0);
        continue;
      }
      running++;
      if (chains.some((c) => c.runningMax && c.bands > 1)) banded++;
      // A running pool has no second (window height) pass: its rows come from across passes and max steps.
      for (const s of plan.steps) if (s.op === 'maxpool' && runningPools.has(s.layer)) expect(s.axis, `${what}: step of ${s.layer}`).toBe('w');
      for (const s of maxes) expect(runningPools.has(s.layer), what).toBe(true);
    }
    expect(checked).toBeGreaterThanOrEqual(40);
    expect(running).toBeGreaterThanOrEqual(40);
    expect(banded).toBeGreaterThanOrEqual(20);
  });

  test('emitRunningRows: a 3x3 stride-2 pool over 11 rows computes each row once and maxes its window', () => {
    const H = 11;
    const rows = 5; // (11 - 3) / 2 + 1
    const value = (y: number): number => (y * 37) % 11; // pooled row y holds this one value
    const mem = new Map<string, number>();
    const at = (r: Ref): string => `${r.buffer}+${r.offset}`;
    let made = 0;
    const computed: number[] = [];
    let carry: Parameters<typeof emitRunningRows>[3];
    for (const [c0, c1] of [[0, 2], [2, 3], [3, 5]]) {
      const done = emitRunningRows(
        {
          window: (r) => [2 * r, Math.min(H, 2 * r + 3)],
          rows,
          across: (y, to) => {
            computed.push(y);
            const ref = to ?? { buffer: `t${made++}`, offset: 0 };
            mem.set(at(ref), value(y));
            return ref;
          },
          max: (a, b, to) => mem.set(at(to), Math.max(mem.get(at(a))!, mem.get(at(b))!)),
          out: (r) => ({ buffer: 'out', offset: r }),
        },
        c0,
        c1,
        carry,
      );
      carry = done.carry;
    }
    expect(computed).toEqual(Array.from({ length: H }, (_, y) => y));
    for (let r = 0; r < rows; r++) expect(mem.get(`out+${r}`)).toBe(Math.max(value(2 * r), value(2 * r + 1), value(2 * r + 2)));
    expect(carry).toBeUndefined();
    expect([runningMaxFits(3, 2), runningMaxFits(2, 1), runningMaxFits(2, 2), runningMaxFits(3, 1)]).toEqual([true, true, true, false]);
  });

  test('property: pulled chains with running-max row pools are exact, and a streamed input is asked for each row once', async () => {
    let pulledRunning = 0;
    let checked = 0;
    const cases = plannedCuts({ seed: 14_000, cutSeed: 1400, tries: 800, prefix: 'm', imageBase: 700, until: () => pulledRunning >= 30 }, (rnd, q, net) => {
      const segs = randomCut(rnd, q).map((s) => ({ ...s, ...PULLED_RUNNING }));
      return segs.some((s) => runningPools(net, s.start, s.end, true).size > 0) ? segs : undefined;
    });
    for (const { q, input, golden, net, segs, inputIn, plan, what } of cases) {
      checked++;
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const calls = expectExact(q, plan, input, golden, what);
      expect(calls, what).toEqual(plannedFetches(plan));
      // Kept rows are never recomputed nor fetched again.
      expect(plan.macs, what).toBeLessThanOrEqual(plan.baseMacs);
      if (inputIn === 'stream') expect(eachRowOnce(calls), what).toBe(true);
      if (!plan.chains!.some((c) => c.pull && c.runningMax && c.bands > 1)) continue;
      pulledRunning++;
      // Those pools fold rows with max steps and have no second (window height) pass.
      expect(plan.steps.some((s) => s.op === 'max'), what).toBe(true);
      for (const [conv, p] of segs.flatMap((s) => (s.runningMax ? [...runningPools(net, s.start, s.end, true)] : []))) {
        expect(plan.steps.some((s) => s.op === 'maxpool' && s.axis === 'h' && s.layer === q.layers[p].name), `${what}: ${conv}`).toBe(false);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(30);
    expect(pulledRunning).toBeGreaterThanOrEqual(30);
  });

  test('property: pulled chains run max pools fed by a concat as running maxes too, exact, with no pooled concat row held for a window', async () => {
    let found = 0;
    const cases = plannedCuts({ seed: 16_000, cutSeed: 1600, tries: 4000, prefix: 'm', imageBase: 700, until: () => found >= 20 }, (rnd, q, net) => {
      const segs = randomCut(rnd, q).map((s) => ({ ...s, ...PULLED_RUNNING }));
      return concatFed(net, q, segs).length > 0 ? segs : undefined;
    });
    for (const { q, input, golden, net, segs, plan, what } of cases) {
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const calls = expectExact(q, plan, input, golden, what);
      expect(calls, what).toEqual(plannedFetches(plan));
      expect(plan.macs, what).toBeLessThanOrEqual(plan.baseMacs);
      const banded = plan.chains!.filter((c) => c.pull && c.runningMax && c.bands > 1);
      if (banded.length === 0) continue;
      found++;
      for (const [cat, p] of concatFed(net, q, segs)) {
        const pool = q.layers[p];
        // Folded with max steps, no second pass; the concat is never held unpooled.
        expect(plan.steps.some((s) => s.op === 'max' && s.layer === pool.name), `${what}: ${pool.name}`).toBe(true);
        expect(plan.steps.some((s) => s.op === 'maxpool' && s.axis === 'h' && s.layer === pool.name), `${what}: ${pool.name}`).toBe(false);
        expect(plan.buffers.filter((b) => b.tensor === cat), what).toEqual([]);
        // Each pooled concat row buffer is one row, put together from its slices and folded at once.
        const rowBytes = q.tensors[pool.output].dims.w * q.tensors[cat].dims.c;
        for (const b of plan.buffers.filter((x) => x.tensor === `${cat}~${pool.name}`)) expect(b.size, `${what}: ${b.name}`).toBe(rowBytes);
      }
    }
    expect(found).toBeGreaterThanOrEqual(20);
  });

  test('SqueezeNet v1.0 at 227, caller input: conv1..fire5.squeeze pulled with conv1 -> pool1 and fire4 -> pool4 as running maxes holds less than with two-pass pools', () => {
    const p = prepareSynthetic({ variant: 'v1.0', inputSize: 227, classes: 1000, seed: 3 });
    const net = new Net(p.model, 'caller');
    const end = p.model.layers.findIndex((l) => l.name === 'fire5.squeeze') + 1;
    const seg = { start: 0, end, rows: 1, halo: 'keep' as const, rowPool: true, pull: true };
    expect([...runningPools(net, 0, end, true).keys()]).toEqual(['conv1', 'fire4.concat']);
    const twoPass = evaluateSegment(net, scheduleSegment(net, seg), 'dsp');
    const running = evaluateSegment(net, scheduleSegment(net, { ...seg, runningMax: true }), 'dsp');
    expect(running.seg).toMatchObject({ pull: true, runningMax: true });
    // 68,096 B live with the pooled rows of pool1's and pool4's windows held, 59,008 B now.
    expect(running.peak).toBeLessThan(twoPass.peak);
    expect(running.macs).toBe(twoPass.macs);
  });

  test('SqueezeNet v1.1 at 224, input in the arena: conv1 -> pool1 as a running max holds less, and the plan fits 160 KiB', () => {
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    const net = new Net(p.model);
    const end = p.model.layers.findIndex((l) => l.name === 'fire2.squeeze') + 1;
    expect(runningMaxOk(net, 0, end)).toBe(true);
    const twoPass = evaluateSegment(net, scheduleSegment(net, { start: 0, end, rows: 1, halo: 'keep', rowPool: true }), 'dsp');
    const running = evaluateSegment(net, scheduleSegment(net, { start: 0, end, rows: 1, halo: 'keep', rowPool: true, runningMax: true }), 'dsp');
    // Input rows + one conv1 row (7,104 B) + output row + one pooled row (3,520 B each), against three pooled rows.
    expect(running.peak).toBeLessThan(twoPass.peak - 2_000);
    expect(running.peak).toBeLessThan(150_528 + 7_104 + 2 * 3_520);
    expect(running.macs).toBe(twoPass.macs);
    const plan = smallestPlan(p.model);
    expect(plan.chains![0].runningMax).toBe(true);
    expectFits(plan, 160 * 1024);
  });
});
