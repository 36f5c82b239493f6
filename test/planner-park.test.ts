/**
 * Parked halos (tiling.ts, Segment.parkHalo): the rows of a tensor the next band keeps wait in a small buffer of
 * their own between bands and are copied into the head of the next band's buffer when that band first writes the
 * tensor, so the band-sized buffer lives only while its band computes and reads it. Row temporaries
 * (Segment.rowTemps): a conv feeding a concat's channel slice computes one row per call into a one-row temporary.
 *  - property: random graphs cut into random chains with parked halos (any band height, row pools on or off, the
 *    input in the arena, a caller's buffer or streamed) pass checkPlan and give exactly the golden model's outputs
 *    on junk-filled simulated RAM; the halo buffers occur, hold only the kept rows, and each band buffer that takes
 *    parked rows is born after them (not at the halo copy, as without parking); a streamed input is asked for
 *    exactly the rows the fetch steps say, each row once;
 *  - row temporaries occur and are one row, written by a one-row conv call and copied into the slice at once;
 *  - neither changes the MACs; on SqueezeNet v1.1 at 224 with the caller's input the search without pulled chains
 *    uses both in its first chain and fits 64 KiB (67,424 B without them), and the whole search does no worse; with
 *    a streamed input and two-pass row pools the smallest plan pulls its first chain and parks halos and runs rows
 *    too, below the 56,096 B of pulled chains alone (72,544 B with neither).
 */
import { describe, expect, test } from 'vitest';
import { prepareSynthetic } from '../src/prepare/index.js';
import type { Segment } from '../src/planner/tiling.js';
import type { InputIn, MemoryPlan } from '../src/planner/types.js';
import type { QModel } from '../src/quantize/types.js';
import { BIG, eachRowOnce, expectExact, expectFits, planCut, plannedCuts, plannedFetches, smallestPlan } from './helpers/plan-cases.js';
import { randomCut } from './helpers/random-chain.js';
import { settle } from './helpers/settle.js';

/** The parked-halo buffers of a plan (tensor#haloK) with the band buffer (tensor#K) that takes their rows. */
function parkedPairs(plan: MemoryPlan): { halo: MemoryPlan['buffers'][number]; band: MemoryPlan['buffers'][number] }[] {
  const byName = new Map(plan.buffers.map((b) => [b.name, b]));
  return plan.buffers.flatMap((halo) => {
    const m = /^(.*)#halo(\d+)$/.exec(halo.name);
    return m ? [{ halo, band: byName.get(`${m[1]}#${m[2]}`)! }] : [];
  });
}

/** The same cut planned without parked halos and row temporaries (no search), or undefined if it cannot band. */
const unparkedPlan = (q: QModel, segs: Segment[], path: 'dsp' | 'scalar', inputIn: InputIn): MemoryPlan | undefined =>
  planCut(q, BIG, segs.map((s) => ({ ...s, parkHalo: false, rowTemps: false })), { path, searchIterations: 0, inputIn });

describe('parked halos', () => {
  test('property: random cuts with parked halos and row temporaries (any band height, row pools, input placement) are exact', async () => {
    let parkedPlans = 0;
    let rowTempPlans = 0;
    let streamed = 0;
    let checked = 0;
    const cases = plannedCuts({ seed: 11_000, cutSeed: 700, tries: 400, prefix: 'k', until: () => parkedPlans >= 40 && rowTempPlans >= 15 }, (rnd, q) =>
      randomCut(rnd, q).map((s) => ({ ...s, parkHalo: true, ...(rnd() < 0.5 ? { rowPool: true } : {}), ...(rnd() < 0.5 ? { rowTemps: true } : {}) })),
    );
    for (const { q, input, golden, segs, inputIn, path, plan, what } of cases) {
      const unparked = unparkedPlan(q, segs, path, inputIn);
      if (!unparked) continue;
      checked++;
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const calls = expectExact(q, plan, input, golden, what);
      expect(plan.macs, what).toBe(unparked.macs);
      const pairs = parkedPairs(plan);
      // A chain parks exactly when it keeps halo rows over several bands and some band computes more of them.
      expect(pairs.length > 0, what).toBe(!!plan.chains?.some((c) => c.parkHalo));
      for (const c of plan.chains ?? []) if (c.parkHalo) expect(c.halo === 'keep' && c.bands > 1, what).toBe(true);
      if (pairs.length > 0) parkedPlans++;
      for (const { halo, band } of pairs) {
        expect(band, `${what}: ${halo.name} has no band buffer`).toBeDefined();
        // The halo buffer holds the kept rows only; the band buffer is born after it and reads it once.
        expect(halo.size, `${what}: ${halo.name}`).toBeLessThan(band.size);
        expect(band.firstUse, `${what}: ${band.name}`).toBeGreaterThan(halo.firstUse);
        expect(halo.lastUse, `${what}: ${halo.name}`).toBe(band.firstUse);
      }
      // Without parking the same cut has no halo buffers.
      expect(parkedPairs(unparked)).toEqual([]);
      // Row temporaries: one-row buffers written by a one-row conv call and copied into a concat slice at once.
      // (A row-pooled concat's conv rows are one-row buffers too, pooled across before their copy: not these.)
      const rowTemps = plan.buffers.filter((b) => /#row\d+$/.test(b.name) && q.layers.some((l) => l.op === 'concat' && l.inputs.includes(b.tensor!)) && plan.steps[b.lastUse].op !== 'maxpool');
      expect(rowTemps.length > 0, what).toBe(!!plan.chains?.some((c) => c.rowTemps));
      for (const b of rowTemps) {
        const d = q.tensors[b.tensor!].dims;
        expect(b.size, `${what}: ${b.name}`).toBe(d.w * d.c);
        const conv = plan.steps[b.firstUse];
        const copy = plan.steps[b.lastUse];
        expect(conv.op === 'conv' && conv.outDims.h === 1 && conv.output.buffer === b.name, `${what}: ${b.name}`).toBe(true);
        expect(copy.op === 'concat' && copy.input.buffer === b.name && b.lastUse === b.firstUse + 1, `${what}: ${b.name}`).toBe(true);
      }
      if (rowTemps.length > 0) rowTempPlans++;
      expect(calls, what).toEqual(plannedFetches(plan));
      if (inputIn === 'stream' && pairs.some(({ halo }) => halo.tensor === q.input)) {
        streamed++;
        // Kept (here parked) input rows are never asked for twice.
        if (segs[0].halo === 'keep') expect(eachRowOnce(calls), what).toBe(true);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(40);
    expect(parkedPlans).toBeGreaterThanOrEqual(40);
    expect(rowTempPlans).toBeGreaterThanOrEqual(15);
    expect(streamed).toBeGreaterThanOrEqual(3);
  });

  test('property: pulled chains with concat-fed row pools, parked halos and row temporaries in the same cut are exact', async () => {
    let both = 0;
    let withTemps = 0;
    let checked = 0;
    // Every chain keeps its halos; each one pulled or not, with row pools or not; all park and run rows.
    const cases = plannedCuts({ seed: 40_000, cutSeed: 1300, tries: 600, prefix: 'k', until: () => both >= 30 && withTemps >= 10 }, (rnd, q) =>
      randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, parkHalo: true, rowTemps: true, ...(rnd() < 0.7 ? { pull: true } : {}), ...(rnd() < 0.7 ? { rowPool: true } : {}) })),
    );
    for (const { q, input, golden, segs, inputIn, path, plan, what } of cases) {
      const plain = unparkedPlan(q, segs, path, inputIn);
      if (!plain) continue;
      checked++;
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const calls = expectExact(q, plan, input, golden, what);
      // The stream callback is asked exactly as the fetch steps say, and parking or row temporaries add no MACs.
      expect(calls, what).toEqual(plannedFetches(plan));
      expect(plan.macs, what).toBe(plain.macs);
      for (const { halo, band } of parkedPairs(plan)) {
        expect(band, `${what}: ${halo.name} has no band buffer`).toBeDefined();
        expect(halo.lastUse, `${what}: ${halo.name}`).toBe(band.firstUse);
      }
      const pulledParked = plan.chains!.some((c) => c.pull && c.parkHalo && c.bands > 1) && parkedPairs(plan).length > 0;
      if (pulledParked) both++;
      if (pulledParked && plan.chains!.some((c) => c.rowTemps)) withTemps++;
    }
    expect(checked).toBeGreaterThanOrEqual(40);
    expect(both).toBeGreaterThanOrEqual(30);
    expect(withTemps).toBeGreaterThanOrEqual(10);
  });

  test('SqueezeNet v1.1 at 224, input caller: without pulled chains the smallest plan parks the first chain, runs its expand convs by rows and fits 64 KiB; with them it is smaller still', async () => {
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    const unpulled = smallestPlan(p.model, { inputIn: 'caller', pull: false });
    expect(unpulled.chains![0]).toMatchObject({ first: 'conv1', parkHalo: true, rowPool: true, rowTemps: true });
    expect(unpulled.buffers.some((b) => b.name.startsWith('conv1~pool1#halo'))).toBe(true);
    // 67,424 B before either.
    expectFits(unpulled, 64 * 1024);
    await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
    // The whole search (pulled chains, concat row pools, parked halos, row temporaries) only does better.
    const plan = smallestPlan(p.model, { inputIn: 'caller' });
    expect(plan.peakBytes).toBeLessThanOrEqual(unpulled.peakBytes);
    expect(plan.macs).toBe(plan.baseMacs);
  });

  test('SqueezeNet v1.1 at 224, input stream, two-pass row pools: the smallest plan pulls its first chain, parks halos and runs expand convs by rows, and fits 64 KiB', () => {
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 3 });
    // (With running maxes the first chain's pooled rows are folded at once and the search places another plan.)
    const plan = smallestPlan(p.model, { inputIn: 'stream', runningMax: false });
    expect(plan.chains![0]).toMatchObject({ first: 'conv1', pull: true, parkHalo: true, rowPool: true });
    expect(plan.chains!.some((c) => c.rowTemps)).toBe(true);
    expect(plan.buffers.some((b) => /#halo\d+$/.test(b.name))).toBe(true);
    // 72,544 B before either; 56,096 B pulled without parked halos and row temporaries.
    expect(plan.peakBytes).toBeLessThan(56_096);
    expect(plan.macs).toBe(plan.baseMacs);
  });
});
