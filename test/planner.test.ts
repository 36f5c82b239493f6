import { describe, expect, test } from 'vitest';
import { checkPlacement, placeBest, STRATEGIES, type BufferRequest } from '../src/planner/arena.js';
import { checkPlan, planModel } from '../src/planner/index.js';
import { runGolden } from '../src/golden/run.js';
import { quantizeFloatModel, syntheticInputs, buildQuantizedModel } from '../src/prepare/index.js';
import { syntheticModel, syntheticImage } from '../src/weights/synthetic.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import { mulberry32, randInt } from '../src/util/random.js';
import { randomGraph } from './helpers/random-graph.js';
import { UserError } from '../src/errors.js';
import { graphInfo } from '../src/graph/info.js';
import { buildSqueezeNet } from '../src/graph/squeezenet.js';
import { BIG, expectExact } from './helpers/plan-cases.js';

describe('arena placement', () => {
  test('random buffer sets: every strategy yields a valid placement, best is the smallest', () => {
    const rnd = mulberry32(77);
    for (let t = 0; t < 300; t++) {
      const n = randInt(rnd, 1, 25);
      const reqs: BufferRequest[] = Array.from({ length: n }, (_, i) => {
        const first = randInt(rnd, 0, 20);
        return { name: `b${i}`, size: randInt(rnd, 0, 5000), firstUse: first, lastUse: first + randInt(rnd, 0, 6), alignment: [1, 4, 8, 16][randInt(rnd, 0, 3)] };
      });
      const sizes = Object.values(STRATEGIES).map((s) => {
        const offsets = s(reqs);
        checkPlacement(reqs, offsets);
        return Math.max(0, ...reqs.map((r) => offsets[r.name] + r.size));
      });
      const best = placeBest(reqs);
      expect(best.size).toBe(Math.min(...sizes));
      // Never below the largest set of simultaneously live bytes.
      for (let step = 0; step <= 26; step++) {
        const live = reqs.filter((r) => r.firstUse <= step && step <= r.lastUse).reduce((s, r) => s + r.size, 0);
        expect(best.size).toBeGreaterThanOrEqual(live);
      }
    }
  });

  test('the overlap checker names both buffers', () => {
    const reqs: BufferRequest[] = [
      { name: 'conv1', size: 100, firstUse: 0, lastUse: 2, alignment: 4 },
      { name: 'pool1', size: 50, firstUse: 2, lastUse: 3, alignment: 4 },
    ];
    expect(() => checkPlacement(reqs, { conv1: 0, pool1: 96 })).toThrow(/buffers conv1 \[0, 100\).*pool1 \[96, 146\).*overlap/);
    expect(() => checkPlacement(reqs, { conv1: 0, pool1: 100 })).not.toThrow();
    expect(() => checkPlacement(reqs, { conv1: 0, pool1: 102 })).toThrow(/alignment/);
  });
});

describe('layer-by-layer plan', () => {
  test('property: on random graphs the plan executed on simulated RAM equals the golden model, and checkPlan holds', () => {
    const rnd = mulberry32(2024);
    for (let t = 0; t < 60; t++) {
      const g = randomGraph(rnd, `g${t}`);
      const fm = syntheticModel(g, t + 1);
      const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, t));
      const d = g.input.dims;
      const input = quantizeInput(syntheticImage(d.h, d.w, d.c, 500 + t), q.tensors[q.input]);
      const golden = runGolden(q, input);
      for (const path of ['scalar', 'dsp'] as const) {
        expectExact(q, planModel(q, { regions: BIG, path }), input, golden, `${g.name} ${path}`);
      }
    }
  });

  test('SqueezeNet v1.1 at 224: arena below a plain sum of tensors, peak covers conv1 output + input', () => {
    const q = buildQuantizedModel({ variant: 'v1.1', inputSize: 224, classes: 1000, calibrationImages: 1 });
    const plan = planModel(q, { regions: BIG, path: 'dsp' });
    checkPlan(plan);
    expect(plan.peakBytes).toBeGreaterThanOrEqual(224 * 224 * 3 + 111 * 111 * 64);
    const total = plan.buffers.reduce((s, b) => s + b.size, 0);
    expect(plan.peakBytes).toBeLessThan(total / 3);
    expect(plan.macs).toBe(graphInfo(buildSqueezeNet({ variant: 'v1.1', inputSize: 224, classes: 1000 })).macs);
  });

  test('a model that does not fit names the region, the shortfall and the peak layer', () => {
    const q = buildQuantizedModel({ variant: 'v1.1', inputSize: 96, classes: 10, calibrationImages: 1 });
    const run = () => planModel(q, { regions: [{ name: 'SRAM', capacity: 64 * 1024 }], strategy: 'plain' });
    expect(run).toThrow(UserError);
    expect(run).toThrow(/largest RAM region, SRAM, has 65536 bytes: \d+ bytes short\. The peak is at layer pool1 \(step 1\), with conv1 whole \(138\.1 KiB\); pool1 whole \(33\.1 KiB\) live/);
  });
});
