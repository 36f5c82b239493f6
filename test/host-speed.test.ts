/**
 * The cuts that make `sqzfw generate` of the synthetic model fast, each against what it replaced: the filled
 * synthetic weights against the gaussian(mulberry32) stream they come from, the byte-table C array text against
 * the plain join, the written-out int8 weight quantization against its definition, the one-image calibration of
 * synthetic models, and the plan check that reuses the golden run's kernel outputs (it must still catch a wrong plan).
 */
import { describe, expect, test } from 'vitest';
import { formatArray } from '../src/emit/c.js';
import { verifyPlan } from '../src/driver/index.js';
import { kernelMemo } from '../src/golden/memo.js';
import { convCall, FAST, runGolden } from '../src/golden/run.js';
import { executePlan } from '../src/planner/execute.js';
import { planModel } from '../src/planner/index.js';
import type { MemoryPlan } from '../src/planner/types.js';
import { prepareSynthetic, quantizeFloatModel, SYNTHETIC_CALIBRATION_IMAGES, syntheticFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { f32 } from '../src/quantize/tflite-params.js';
import type { QConv } from '../src/quantize/types.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { quantizeModel } from '../src/quantize/quantize.js';
import { fillNormal, gaussian, mulberry32, normalStream } from '../src/util/random.js';

describe('synthetic weights: fillNormal is the gaussian(mulberry32) stream', () => {
  test.each([0, 1, 2, 7, 64, 1001])('%i values, then 5 more from the same stream (the spare of an odd fill carried over)', (n) => {
    const seed = 7919 * n + 3;
    const normal = gaussian(mulberry32(seed));
    const expected = Float32Array.from({ length: n + 5 }, (_, i) => normal() * (i < n ? 0.125 : 0.05));
    const s = normalStream(seed);
    const a = new Float32Array(n);
    const b = new Float32Array(5);
    fillNormal(s, a, 0.125);
    fillNormal(s, b, 0.05);
    expect([...a, ...b]).toEqual([...expected]);
  });
});

/** The C text as formatArray wrote it before its byte table: String(v) joined, 32 bytes or 12 words a line. */
function plainFormat(values: ArrayLike<number>): string {
  const perLine = values instanceof Int8Array || values instanceof Uint8Array ? 32 : 12;
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const chunk = Array.from({ length: Math.min(perLine, values.length - i) }, (_, j) => (values[i + j] === -2147483648 ? '(-2147483647 - 1)' : String(values[i + j])));
    lines.push(`    ${chunk.join(', ')},`);
  }
  return lines.join('\n');
}

describe('formatArray', () => {
  const rnd = mulberry32(16);
  test.each([0, 1, 31, 32, 33, 256, 1000, 4099])('int8, uint8 and int32 arrays of %i values: the plain text', (n) => {
    const i8 = Int8Array.from({ length: n }, (_, i) => (i < 256 ? i - 128 : Math.floor(rnd() * 256) - 128));
    const u8 = Uint8Array.from(i8);
    const i32 = Int32Array.from({ length: n }, (_, i) => (i === 0 ? -2147483648 : Math.floor(rnd() * 2 ** 32) | 0));
    for (const a of [i8, u8, i32]) expect(formatArray(a)).toBe(plainFormat(a));
    if (n > 1) expect(formatArray(i8)).toMatch(/^ {4}-128, -127(, |,$)/);
  });
});

describe('int8 weight quantization', () => {
  test('every conv weight is clamp(round half away(w / scale)), scale = f32(max |w| / 127) per output channel', () => {
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 10, seed: 9 });
    const convs = p.model.layers.filter((l): l is QConv => l.op === 'conv');
    expect(convs.length).toBeGreaterThan(10);
    let nonZero = 0;
    for (const l of convs) {
      const w = p.float!.weights[l.name].weights;
      const per = w.length / l.bias.length;
      for (let c = 0; c < l.bias.length; c++) {
        let amax = 0;
        for (let i = c * per; i < (c + 1) * per; i++) amax = Math.max(amax, Math.abs(w[i]));
        const scale = f32(amax / 127);
        expect(l.weightScales[c]).toBe(scale);
        for (let i = c * per; i < (c + 1) * per; i++) {
          const q = Math.max(-127, Math.min(127, Math.sign(w[i] / scale) * Math.round(Math.abs(w[i] / scale))));
          if (l.weights[i] !== q) expect(`${l.name}[${i}] = ${l.weights[i]}`).toBe(`${l.name}[${i}] = ${q}`);
          if (q !== 0) nonZero++;
        }
      }
    }
    expect(nonZero).toBeGreaterThan(1000);
  });

  test('ties round half away from zero, the clamp at +-127, signed zeros and NaN weights (stored as 0, scale 1)', () => {
    const float = syntheticFloatModel({ variant: 'v1.1', inputSize: 32, classes: 10, seed: 9 });
    const ranges = calibrate(float, syntheticInputs(float, 1));
    const conv = float.graph.nodes.find((n) => n.op === 'conv')!;
    const w = float.weights[conv.name].weights.slice();
    const per = w.length / float.weights[conv.name].bias.length;
    // channel 0: max |w| = 127, so the scale is 1 and w / scale is w
    const ties = [127, -127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, -0, 0, 1.5, -1.5, 0.49999997, -0.49999997];
    w.fill(0, 0, per).set(ties);
    // channel 1: a NaN makes the scale 1 and stores 0
    w.fill(0, per, 2 * per).set([3.5, Number.NaN, -200, 200, -3.5], per);
    const q = quantizeModel({ ...float, weights: { ...float.weights, [conv.name]: { ...float.weights[conv.name], weights: w } } }, ranges);
    const l = q.layers.find((x): x is QConv => x.name === conv.name)!;
    expect([...l.weightScales.subarray(0, 2)]).toEqual([1, 1]);
    expect([...l.weights.subarray(0, ties.length)]).toEqual([127, -127, 3, -3, 1, -1, 127, -127, 0, 0, 2, -2, 0, 0]);
    expect([...l.weights.subarray(per, per + 5)]).toEqual([4, 0, -127, 127, -4]);
  });
});

describe('synthetic models are calibrated on one synthetic image', () => {
  test('prepareSynthetic: the model calibrated on syntheticInputs(float, 1), which it keeps', () => {
    expect(SYNTHETIC_CALIBRATION_IMAGES).toBe(1);
    const spec = { variant: 'v1.1' as const, inputSize: 40, classes: 10, seed: 5 };
    const p = prepareSynthetic(spec);
    expect(p.calibInputs).toHaveLength(1);
    const float = syntheticFloatModel(spec);
    expect(p.model.tensors).toEqual(quantizeFloatModel(float, syntheticInputs(float, 1)).tensors);
    // More images give other ranges: the count above is what decides them.
    expect(p.model.tensors).not.toEqual(quantizeFloatModel(float, syntheticInputs(float, 4)).tensors);
  });
});

describe('the plan check reuses the golden run', () => {
  const p = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 3 });
  const regions = [{ name: 'SRAM', capacity: 16 << 20 }];

  test('a plain plan: every kernel call of the plan executor is answered from the golden run, same bytes', () => {
    const plan = planModel(p.model, { regions, path: 'dsp', strategy: 'plain' });
    const memo = kernelMemo(FAST);
    const golden = runGolden(p.model, p.input, memo.record);
    const calls = memo.stats();
    expect(calls).toEqual({ hits: 0, misses: 0 });
    const convs = p.model.layers.filter((l) => l.op === 'conv').length;
    const viaPlan = executePlan(p.model, plan, p.input, { engine: memo.replay });
    expect(memo.stats().misses).toBe(0);
    expect(memo.stats().hits).toBeGreaterThanOrEqual(convs);
    for (const o of p.model.outputs) expect(Buffer.from(viaPlan[o]).equals(Buffer.from(golden[o]))).toBe(true);
    expect(() => verifyPlan(p, plan)).not.toThrow();
  });

  test('a replayed call whose input differs in one byte runs the kernel', () => {
    const memo = kernelMemo(FAST);
    const golden = runGolden(p.model, p.input, memo.record);
    const l = p.model.layers.find((x): x is QConv => x.op === 'conv')!;
    const input = golden[l.inputs[0]].slice();
    input[input.length >> 1] ^= 0x40;
    const dims = (t: string) => p.model.tensors[t].dims;
    const g = { inDims: dims(l.inputs[0]), outDims: dims(l.output), padTop: l.pad.top, padLeft: l.pad.left };
    const replayed = convCall(l, input, g, memo.replay);
    expect(memo.stats()).toEqual({ hits: 0, misses: 1 });
    expect(Buffer.from(replayed).equals(Buffer.from(convCall(l, input, g, FAST)))).toBe(true);
    expect(Buffer.from(convCall(l, golden[l.inputs[0]], g, memo.replay)).equals(Buffer.from(golden[l.output]))).toBe(true);
    expect(memo.stats()).toEqual({ hits: 1, misses: 1 });
  });

  test('a plan with one buffer moved onto another live buffer fails the check', () => {
    const plan = planModel(p.model, { regions, path: 'dsp', strategy: 'plain' });
    const bad = structuredClone(plan) as MemoryPlan;
    const tensors = bad.buffers.filter((b) => b.kind === 'tensor');
    // A tensor written while an earlier one is still to be read: put it where the earlier one is.
    let moved = '';
    for (const x of tensors) {
      const y = tensors.find((t) => t !== x && t.region === x.region && t.firstUse > x.firstUse && t.firstUse < x.lastUse);
      if (y) {
        y.offset = x.offset;
        moved = `${y.name} onto ${x.name}`;
        break;
      }
    }
    expect(moved).not.toBe('');
    expect(() => verifyPlan(p, bad), moved).toThrow(/plan execution \(.*\) differs from the golden model/);
    expect(() => verifyPlan(p, plan)).not.toThrow();
  });
});
