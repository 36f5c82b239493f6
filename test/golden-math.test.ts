import { describe, expect, test } from 'vitest';
import { doublingHighMul, divideByPOT, quantizeMultiplier, requantize } from '../src/golden/kernels.js';
import { mulberry32 } from '../src/util/random.js';

// BigInt references of the C arithmetic (int64 math, arithmetic shifts, int32 truncation).
const toI32 = (x: bigint): number => Number(BigInt.asIntN(32, x));
const refHighNoSat = (a: number, b: number): number => toI32((BigInt(a) * BigInt(b) + (1n << 30n)) >> 31n);
const refHighSat = (a: number, b: number): number => {
  if (a === -2147483648 && b === -2147483648) return 2147483647;
  const nudge = (a < 0) !== (b < 0) ? 1n - (1n << 30n) : 1n << 30n;
  return toI32((BigInt(a) * BigInt(b) + nudge) / (1n << 31n)); // BigInt division truncates like C
};
const refDivPOT = (x: number, e: number): number => {
  const mask = (1n << BigInt(e)) - 1n;
  const rem = BigInt(x) & mask;
  let res = BigInt(x) >> BigInt(e);
  let th = mask >> 1n;
  if (res < 0n) th += 1n;
  if (rem > th) res += 1n;
  return Number(res);
};
const refRequant = (acc: number, mult: number, shift: number): number => {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return refDivPOT(refHighNoSat(toI32(BigInt(acc) << BigInt(left)), mult), right);
};

describe('golden fixed-point arithmetic equals int64 C semantics', () => {
  const rnd = mulberry32(1234);
  const i32 = (): number => (rnd() * 4294967296 - 2147483648) | 0;
  const edge = [-2147483648, -2147483647, -1, 0, 1, 2147483647, 1073741824, -1073741824];
  const pick = (): number => (rnd() < 0.2 ? edge[Math.floor(rnd() * edge.length)] : i32());

  test('doublingHighMul (saturating) on random and edge int32 pairs', () => {
    for (let i = 0; i < 20000; i++) {
      const a = pick();
      const b = pick();
      expect(doublingHighMul(a, b), `a=${a} b=${b}`).toBe(refHighSat(a, b));
    }
  });

  test('divideByPOT rounds half away from zero for exponents 0..31', () => {
    for (let i = 0; i < 20000; i++) {
      const x = pick();
      const e = Math.floor(rnd() * 32);
      expect(divideByPOT(x, e), `x=${x} e=${e}`).toBe(refDivPOT(x, e));
    }
  });

  test('requantize matches arm_nn_requantize for all shifts and multipliers', () => {
    for (let i = 0; i < 20000; i++) {
      const acc = rnd() < 0.5 ? pick() : Math.floor((rnd() - 0.5) * 200000);
      const mult = rnd() < 0.1 ? 2147483647 : 1073741824 + Math.floor(rnd() * 1073741823);
      const shift = Math.floor(rnd() * 62) - 31;
      expect(requantize(acc, mult, shift), `acc=${acc} m=${mult} s=${shift}`).toBe(refRequant(acc, mult, shift));
    }
  });

  test('quantizeMultiplier reproduces the real scale to Q31 precision', () => {
    for (let i = 0; i < 5000; i++) {
      const real = Math.exp((rnd() - 0.7) * 30);
      const { mult, shift } = quantizeMultiplier(real);
      expect(mult).toBeGreaterThanOrEqual(1073741824);
      expect(mult).toBeLessThan(2147483648);
      expect(Math.abs(mult * 2 ** (shift - 31) - real) / real).toBeLessThan(2 ** -30);
    }
  });
});
