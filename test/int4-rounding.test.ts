/**
 * Accuracy-aware rounding of int4 weights (src/quantize/int4-rounding.ts): with uncorrelated inputs it is plain
 * rounding; with correlated inputs it lowers the layer's output error (w - q)ᵀ H (w - q) below rounding to nearest,
 * and never leaves the int4 range; a model rounded this way still runs bit-exactly on the reference kernels.
 */
import { describe, expect, it } from 'vitest';
import { roundWithHessian, SecondMoment } from '../src/quantize/int4-rounding.js';
import { INT4_MAX, withInt4Layers } from '../src/quantize/int4.js';
import { int4Hessians } from '../src/precision/mixed.js';
import { prepareSynthetic, syntheticInputs } from '../src/prepare/index.js';
import { runGolden, runReference } from '../src/golden/run.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import { mulberry32 } from '../src/util/random.js';
import type { QConv } from '../src/quantize/types.js';

const q4 = (v: number, s: number): number => Math.max(-INT4_MAX, Math.min(INT4_MAX, Math.sign(v / s) * Math.round(Math.abs(v / s))));

/** (w - s q)ᵀ H (w - s q) summed over channels. */
function outputError(w: Float32Array, q: Int8Array, scales: Float64Array, h: Float64Array, per: number): number {
  let e = 0;
  const d = new Float64Array(per);
  for (let c = 0; c < scales.length; c++) {
    for (let i = 0; i < per; i++) d[i] = w[c * per + i] - scales[c] * q[c * per + i];
    for (let i = 0; i < per; i++) for (let j = 0; j < per; j++) e += d[i] * h[i * per + j] * d[j];
  }
  return e;
}

describe('int4 rounding against the layer inputs', () => {
  const rnd = mulberry32(21);
  const per = 24;
  const cout = 16;
  const w = Float32Array.from({ length: per * cout }, () => rnd() * 2 - 1);
  const scales = Float64Array.from({ length: cout }, () => 1 / INT4_MAX);
  const nearest = Int8Array.from(w, (v, i) => q4(v, scales[Math.floor(i / per)]));

  it('is rounding to nearest when the inputs are uncorrelated (diagonal H)', () => {
    const h = new Float64Array(per * per);
    for (let i = 0; i < per; i++) h[i * per + i] = 1 + rnd();
    expect([...roundWithHessian(w, per, scales, h, q4)]).toEqual([...nearest]);
  });

  it('lowers the output error of correlated inputs below rounding to nearest, within [-7, 7]', () => {
    // inputs x = A z: strongly correlated features
    const a = Float64Array.from({ length: per * 4 }, () => rnd() * 2 - 1);
    const h = new Float64Array(per * per);
    for (let n = 0; n < 500; n++) {
      const z = Array.from({ length: 4 }, () => rnd() * 2 - 1);
      const x = Array.from({ length: per }, (_, i) => z.reduce((s, zk, k) => s + a[i * 4 + k] * zk, 0) + 0.05 * (rnd() - 0.5));
      for (let i = 0; i < per; i++) for (let j = 0; j < per; j++) h[i * per + j] += x[i] * x[j];
    }
    const q = roundWithHessian(w, per, scales, h, q4);
    expect(q.every((v) => v >= -INT4_MAX && v <= INT4_MAX)).toBe(true);
    expect(q).not.toEqual(nearest);
    expect(outputError(w, q, scales, h, per)).toBeLessThan(0.5 * outputError(w, nearest, scales, h, per));
  });

  it('the second moment reads the patches in OHWI order with zero padding', () => {
    const layer = { kernel: [3, 3], stride: [1, 1], pad: { top: 1, left: 1, bottom: 1, right: 1 } } as unknown as QConv;
    const m = new SecondMoment(layer, 2);
    // a 1x1 input of 2 channels (real values 2 and -1): one patch, only its centre is inside
    m.add(Int8Array.from([12, 6]), { h: 1, w: 1, c: 2 }, 0.5, 8);
    const h = m.matrix();
    const centre = 4 * 2; // (ky 1, kx 1) of 3x3, times 2 channels
    expect(h[centre * 18 + centre]).toBe(4);
    expect(h[centre * 18 + centre + 1]).toBe(-2);
    expect(h[(centre + 1) * 18 + centre]).toBe(-2);
    expect(h.reduce((s, v) => s + Math.abs(v), 0)).toBe(4 + 2 + 2 + 1);
  });

  it('a model with rounded int4 layers lowers the score error of held-out inputs and runs bit-exact on the reference kernels', () => {
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 40, classes: 10, seed: 3 });
    const q = p.model;
    const calib = syntheticInputs(p.float!, 6, 77).map((x) => quantizeInput(x, q.tensors[q.input]));
    const held = syntheticInputs(p.float!, 4, 99).map((x) => quantizeInput(x, q.tensors[q.input]));
    const names = q.layers.filter((l) => l.op === 'conv').map((l) => l.name);
    const plain = withInt4Layers(p.float!, q, names);
    const rounded = withInt4Layers(p.float!, q, names, int4Hessians(q, calib));
    const o = q.outputs[0];
    const err = (m: typeof q): number =>
      held.reduce((s, x) => {
        const [a, b] = [runGolden(q, x)[o], runGolden(m, x)[o]];
        return s + a.reduce((t, v, i) => t + (v - b[i]) ** 2, 0);
      }, 0);
    expect(err(rounded)).toBeLessThan(err(plain));
    for (const x of held.slice(0, 2)) expect([...runReference(rounded, x)[o]]).toEqual([...runGolden(rounded, x)[o]]);
  });
});
