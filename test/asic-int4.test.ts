/** int4 packing (CMSIS-NN s4: low nibble first) and the int8 -> int4 per-channel requantization. */
import { describe, expect, it } from 'vitest';
import { convToInt4, packInt4, quantizeInt4, realMultiplier, unpackInt4 } from '../src/asic/int4.js';
import { quantizeMultiplier } from '../src/golden/kernels.js';
import type { QConv } from '../src/quantize/types.js';
import { makeModel, rng, randInt } from './asic-fixtures.js';

describe('packInt4', () => {
  it('puts element 2i in the low nibble and 2i+1 in the high nibble', () => {
    expect(Array.from(packInt4([1, 2, -1, -8, 7]))).toEqual([0x21, 0x8f, 0x07]);
    expect(Array.from(unpackInt4([0x21, 0x8f, 0x07], 5))).toEqual([1, 2, -1, -8, 7]);
  });
  it('round-trips random vectors of every length 0..40', () => {
    const r = rng(3);
    for (let n = 0; n <= 40; n++) {
      const v = Array.from({ length: n }, () => randInt(r, -8, 7));
      const p = packInt4(v);
      expect(p.length).toBe(Math.ceil(n / 2));
      expect(Array.from(unpackInt4(p, n))).toEqual(v);
      if (n % 2 === 1) expect(p[p.length - 1]! >> 4).toBe(0);
    }
  });
  it('rejects values outside int4', () => {
    expect(() => packInt4([8])).toThrow(RangeError);
    expect(() => packInt4([-9])).toThrow(RangeError);
  });
});

describe('quantizeMultiplier', () => {
  it('inverts realMultiplier', () => {
    const r = rng(5);
    for (let i = 0; i < 500; i++) {
      const real = 2 ** (r() * 35 - 30) * (1 + r());
      const q = quantizeMultiplier(real);
      expect(q.mult).toBeGreaterThanOrEqual(2 ** 30);
      expect(q.mult).toBeLessThan(2 ** 31);
      expect(Math.abs(realMultiplier(q.mult, q.shift) - real) / real).toBeLessThan(2 ** -30);
    }
    expect(quantizeMultiplier(0)).toEqual({ mult: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -40)).toEqual({ mult: 0, shift: 0 });
  });
});

describe('quantizeInt4', () => {
  it('keeps channels that already fit int4 bit-exact and rescales the others consistently', () => {
    const model = makeModel(21);
    const q = quantizeInt4(model);
    let kept = 0;
    let rescaled = 0;
    model.layers.forEach((l, li) => {
      if (l.op !== 'conv') return;
      const l4 = q.layers[li] as QConv;
      const cout = l.bias.length;
      const per = l.weights.length / cout;
      for (let c = 0; c < cout; c++) {
        const w8 = l.weights.subarray(c * per, (c + 1) * per);
        const w4 = l4.weights.subarray(c * per, (c + 1) * per);
        const m = Math.max(...Array.from(w8, Math.abs));
        for (const v of w4) expect(v >= -7 && v <= 7).toBe(true);
        if (m <= 7) {
          kept++;
          expect(Array.from(w4)).toEqual(Array.from(w8));
          expect(l4.bias[c]).toBe(l.bias[c]);
          expect(l4.multiplier[c]).toBe(l.multiplier[c]);
          expect(l4.shift[c]).toBe(l.shift[c]);
          continue;
        }
        rescaled++;
        const r = m / 7;
        expect(l4.weightScales[c]! / l.weightScales[c]!).toBeCloseTo(r, 12);
        // the float equivalent moves by at most half an int4 step
        for (let i = 0; i < per; i++) expect(Math.abs(w4[i]! * r - w8[i]!)).toBeLessThanOrEqual(r / 2 + 1e-9);
        // r > 1, so bias / r never leaves int32
        expect(Math.abs(l4.bias[c]! * r - l.bias[c]!)).toBeLessThanOrEqual(r / 2 + Math.abs(l.bias[c]!) * 1e-12);
        const m8 = realMultiplier(l.multiplier[c]!, l.shift[c]!);
        const m4 = realMultiplier(l4.multiplier[c]!, l4.shift[c]!);
        expect(Math.abs(m4 / m8 - r) / r).toBeLessThan(1e-8);
      }
    });
    expect(kept).toBeGreaterThan(0);
    expect(rescaled).toBeGreaterThan(0);
    // the peak weight of a rescaled channel maps to +-7
    const l = convToInt4({ ...(model.layers[0] as QConv), weights: Int8Array.from((model.layers[0] as QConv).weights, () => 0) });
    expect(Math.max(...Array.from(l.weights, Math.abs))).toBe(0);
  });
});
