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
import { runGolden } from '../src/golden/run.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { quantizeFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { checkPlan, planWithChains } from '../src/planner/index.js';
import { executePlan } from '../src/planner/execute.js';
import { evaluateSegment, Net, NotBandable, rowPools, scheduleSegment } from '../src/planner/tiling.js';
import type { InputIn, MemoryPlan } from '../src/planner/types.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import type { QModel } from '../src/quantize/types.js';
import { mulberry32 } from '../src/util/random.js';
import { syntheticImage, syntheticModel } from '../src/weights/synthetic.js';
import { randomChainGraph, randomCut } from './helpers/random-chain.js';
import { settle } from './helpers/settle.js';

const BIG = [{ name: 'RAM', capacity: 1 << 26 }];

function randomCase(seed: number): { q: QModel; input: Int8Array; golden: Record<string, Int8Array> } {
  const rnd = mulberry32(seed);
  const g = randomChainGraph(rnd, `p${seed}`);
  const fm = syntheticModel(g, seed + 1);
  const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, seed));
  const d = g.input.dims;
  const input = quantizeInput(syntheticImage(d.h, d.w, d.c, 900 + seed), q.tensors[q.input]);
  return { q, input, golden: runGolden(q, input) };
}

describe('row pools', () => {
  test('property: random cuts with row pools (any band height, halo policy, input placement) are exact', () => {
    let split = 0;
    let checked = 0;
    for (let t = 0; t < 600 && split < 40; t++) {
      const { q, input, golden } = randomCase(9000 + t);
      const net = new Net(q);
      const rnd = mulberry32(500 + t);
      const segs = randomCut(rnd, q).map((s) => ({ ...s, rowPool: true }));
      if (!segs.some((s) => rowPools(net, s.start, s.end).size > 0)) continue;
      const inputIn = (['arena', 'caller', 'stream'] as InputIn[])[t % 3];
      let plan: MemoryPlan;
      try {
        plan = planWithChains(q, BIG, segs, { path: rnd() < 0.5 ? 'dsp' : 'scalar', searchIterations: 5, inputIn });
      } catch (e) {
        if (e instanceof NotBandable) continue;
        throw e;
      }
      checked++;
      const what = `${q.name} ${inputIn} cut ${JSON.stringify(segs)}`;
      checkPlan(plan);
      const out = executePlan(q, plan, input);
      for (const o of q.outputs) expect(Array.from(out[o]), `${what}: ${o}`).toEqual(Array.from(golden[o]));
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
    for (let t = 0; t < 3000 && found < 30; t++) {
      const { q, input, golden } = randomCase(20_000 + t);
      const net = new Net(q);
      const rnd = mulberry32(700 + t);
      const segs = randomCut(rnd, q).map((s) => ({ ...s, rowPool: true }));
      const fed = segs.flatMap((s) => [...rowPools(net, s.start, s.end).keys()].filter((x) => q.layers[net.producer.get(x)!].op === 'concat'));
      if (fed.length === 0) continue;
      const inputIn = (['arena', 'caller', 'stream'] as InputIn[])[t % 3];
      let plan: MemoryPlan;
      try {
        plan = planWithChains(q, BIG, segs, { path: rnd() < 0.5 ? 'dsp' : 'scalar', searchIterations: 5, inputIn });
      } catch (e) {
        if (e instanceof NotBandable) continue;
        throw e;
      }
      found++;
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const what = `${q.name} ${inputIn} cut ${JSON.stringify(segs)}`;
      checkPlan(plan);
      const out = executePlan(q, plan, input);
      for (const o of q.outputs) expect(Array.from(out[o]), `${what}: ${o}`).toEqual(Array.from(golden[o]));
      for (const cat of fed) {
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
    for (let t = 0; t < 400 && pulled < 60; t++) {
      const { q, input, golden } = randomCase(30_000 + t);
      const rnd = mulberry32(900 + t);
      const segs = randomCut(rnd, q).map((s) => ({ ...s, halo: 'keep' as const, rowPool: rnd() < 0.7, pull: true }));
      const inputIn = (['arena', 'caller', 'stream'] as InputIn[])[t % 3];
      let plan: MemoryPlan;
      try {
        plan = planWithChains(q, BIG, segs, { path: rnd() < 0.5 ? 'dsp' : 'scalar', searchIterations: 5, inputIn });
      } catch (e) {
        if (e instanceof NotBandable) continue;
        throw e;
      }
      await settle(); // long synchronous runs: let the worker answer vitest on a loaded machine
      const what = `${q.name} ${inputIn} cut ${JSON.stringify(segs)}`;
      checkPlan(plan);
      const out = executePlan(q, plan, input);
      for (const o of q.outputs) expect(Array.from(out[o]), `${what}: ${o}`).toEqual(Array.from(golden[o]));
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
