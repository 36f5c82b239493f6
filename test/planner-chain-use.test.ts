/**
 * Per-chain arena use of a row-band plan (chainUse): the bytes live during each chain and the arena its placement
 * reaches then, on a hand-made placement with a hole and on real tiled plans (input in the arena and outside it).
 */
import { describe, expect, test } from 'vitest';
import { CALLER_REGION, planForBoard } from '../src/planner/index.js';
import { chainUse } from '../src/planner/live.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { BIG } from './helpers/plan-cases.js';

describe('chainUse', () => {
  test('a hole under a buffer counts in placed, not in live; chains are kept apart', () => {
    const buffers = [
      { name: 'a', size: 100, firstUse: 0, lastUse: 1, region: 'RAM', offset: 0 },
      { name: 'b', size: 50, firstUse: 1, lastUse: 1, region: 'RAM', offset: 200 },
      { name: 'c', size: 40, firstUse: 2, lastUse: 2, region: 'RAM', offset: 8, live: [{ first: 2, last: 2, start: 16, end: 40 }] },
      { name: 'in', size: 1000, firstUse: 0, lastUse: 0, region: CALLER_REGION, offset: 0 },
    ];
    const steps = [{ band: { chain: 0 } }, { band: { chain: 0 } }, { band: { chain: 1 } }];
    expect(chainUse(buffers, steps, CALLER_REGION)).toEqual([
      { chain: 0, live: 150, placed: 250 },
      { chain: 1, live: 24, placed: 48 },
    ]);
  });

  test.each(['arena', 'caller'] as const)('tiled v1.1@96 plan, input in %s: every chain, placed >= live, the largest live is the lower bound', (inputIn) => {
    const q = prepareSynthetic({ variant: 'v1.1', inputSize: 96, classes: 10, seed: 3 }).model;
    const plan = planForBoard(q, BIG, { strategy: 'tiled', path: 'dsp', inputIn, searchIterations: 5 });
    const uses = chainUse(plan.buffers, plan.steps, CALLER_REGION);
    expect(uses.map((u) => u.chain)).toEqual((plan.chains ?? []).map((_, i) => i));
    for (const u of uses) expect(u.placed).toBeGreaterThanOrEqual(u.live);
    expect(Math.max(...uses.map((u) => u.live))).toBe(plan.lowerBound);
    expect(Math.max(...uses.map((u) => u.placed))).toBeLessThanOrEqual(plan.peakBytes);
    expect(Math.max(...uses.map((u) => u.placed))).toBeGreaterThan(0);
  });
});
