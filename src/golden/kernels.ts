/**
 * Golden int8 kernels: the CMSIS-NN v7 / TFLite Micro reference semantics, bit for bit, in TypeScript.
 * Each function mirrors one CMSIS-NN call (same parameters, NHWC, batch 1). All integer arithmetic is exact:
 * 64-bit products are split so that every step is exact in doubles and equals the C code's int64 math.
 */
import type { Dims } from '../graph/ir.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * arm_nn_doubling_high_mult_no_sat: (int32)((a*b + 2^30) >> 31) with an exact 64-bit product.
 * a*b does not fit a double, so b is split into 16-bit halves: a*b = p1*2^16 + p2, every part exact.
 */
function doublingHighMulNoSat(a: number, b: number): number {
  const bHi = Math.floor(b / 65536);
  const p1 = a * bHi;
  const p2 = a * (b - bHi * 65536);
  // total = p1*2^16 + p2 + 2^30 = s*2^16 + tLo with 0 <= tLo < 2^16, so total >> 31 == floor(s / 2^15).
  const s = p1 + Math.floor((p2 + 1073741824) / 65536);
  return Math.floor(s / 32768);
}

/** arm_nn_doubling_high_mult (saturating, rounding toward the C division semantics). */
export function doublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // mult = (a*b) + (sign differs ? 1 - 2^30 : 2^30); result = trunc(mult / 2^31)
  const bHi = Math.floor(b / 65536);
  const bLo = b - bHi * 65536;
  const p1 = a * bHi;
  const p2 = a * bLo;
  const nudge = (a < 0) !== (b < 0) ? 1 - 1073741824 : 1073741824;
  // total = p1*2^16 + p2 + nudge. Compute q = trunc(total / 2^31) exactly.
  const t = p2 + nudge;
  const tHi = Math.floor(t / 65536);
  const tLo = t - tHi * 65536; // 0..65535
  const s = p1 + tHi; // total = s*2^16 + tLo
  // floor(total / 2^31) = floor(s / 2^15) (tLo < 2^16). trunc differs for negative non-exact totals.
  const fl = Math.floor(s / 32768);
  const exact = s - fl * 32768 === 0 && tLo === 0;
  return fl < 0 && !exact ? fl + 1 : fl;
}

/** arm_nn_divide_by_power_of_two: rounding right shift, ties away from zero. */
export function divideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  // Shifts of 32 or more are undefined in C; Cortex-M's register shifts give mask = ~0 and x >> e = 0 or -1,
  // so the C code returns +1 for x >= 0 and -1 otherwise (softmax reaches this on a flat 1000-class row).
  if (exponent >= 32) return x >= 0 ? 1 : -1;
  const mask = 2 ** exponent - 1;
  const remainder = ((x % (mask + 1)) + (mask + 1)) % (mask + 1); // x & mask for two's complement
  const result = Math.floor(x / 2 ** exponent); // arithmetic shift
  let threshold = Math.floor(mask / 2);
  if (result < 0) threshold++;
  return remainder > threshold ? result + 1 : result;
}

/** Wrap to int32 like C's unsigned-multiply-then-cast. */
const wrap32 = (x: number): number => {
  const m = x % 4294967296;
  const r = m < 0 ? m + 4294967296 : m;
  return r >= 2147483648 ? r - 4294967296 : r;
};

/** arm_nn_requantize, CMSIS-NN's default (double rounding, as TFLite's MultiplyByQuantizedMultiplier). */
export function requantize(acc: number, mult: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return divideByPOT(doublingHighMulNoSat(Math.imul(acc, 1 << left), mult), right);
}

/** TFLite QuantizeMultiplier: real = mult * 2^(shift - 31), mult in [2^30, 2^31). */
export function quantizeMultiplier(realScale: number): { mult: number; shift: number } {
  if (realScale === 0) return { mult: 0, shift: 0 };
  if (!(realScale > 0) || !Number.isFinite(realScale)) throw new Error(`invalid requantization scale ${realScale}`);
  let shift = Math.floor(Math.log2(realScale)) + 1; // frexp exponent: realScale = q * 2^shift, q in [0.5, 1)
  let q = realScale / 2 ** shift;
  if (q >= 1) {
    q /= 2;
    shift++;
  } else if (q < 0.5) {
    q *= 2;
    shift--;
  }
  let mult = Math.round(q * 2147483648);
  if (mult === 2147483648) {
    mult /= 2;
    shift++;
  }
  if (shift < -31) return { mult: 0, shift: 0 };
  if (shift > 30) throw new Error(`requantization scale ${realScale} is too large (shift ${shift} > 30)`);
  return { mult, shift };
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

export interface ConvArgs {
  input: Int8Array;
  inDims: Dims;
  filter: Int8Array; // OHWI
  kernel: [number, number];
  bias: Int32Array | null;
  outDims: Dims;
  inputOffset: number;
  outputOffset: number;
  stride: [number, number];
  padTop: number;
  padLeft: number;
  multiplier: Int32Array;
  shift: Int32Array;
  actMin: number;
  actMax: number;
}

/** arm_convolve_wrapper_s8 (every path it dispatches to computes this). */
export function convS8(a: ConvArgs): Int8Array {
  const { inDims: id, outDims: od, kernel: [kh, kw], stride: [sh, sw] } = a;
  const cin = id.c;
  const out = new Int8Array(od.h * od.w * od.c);
  const inp = a.input;
  const flt = a.filter;
  const acc = new Int32Array(od.c);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - a.padTop;
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - a.padLeft;
      for (let oc = 0; oc < od.c; oc++) {
        let sum = a.bias ? a.bias[oc] : 0;
        for (let ky = 0; ky < kh; ky++) {
          const y = y0 + ky;
          if (y < 0 || y >= id.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const x = x0 + kx;
            if (x < 0 || x >= id.w) continue;
            const ib = (y * id.w + x) * cin;
            const fb = ((oc * kh + ky) * kw + kx) * cin;
            for (let ic = 0; ic < cin; ic++) sum += (inp[ib + ic] + a.inputOffset) * flt[fb + ic];
          }
        }
        acc[oc] = sum; // wraps to int32 exactly like the C accumulator
      }
      const ob = (oy * od.w + ox) * od.c;
      for (let oc = 0; oc < od.c; oc++) {
        const v = requantize(acc[oc], a.multiplier[oc], a.shift[oc]) + a.outputOffset;
        out[ob + oc] = clamp(v, a.actMin, a.actMax);
      }
    }
  }
  return out;
}

export interface PoolArgs {
  input: Int8Array;
  inDims: Dims;
  kernel: [number, number];
  stride: [number, number];
  padTop: number;
  padLeft: number;
  outDims: Dims;
  actMin: number;
  actMax: number;
}

function pool(a: PoolArgs, reduce: 'max' | 'avg'): Int8Array {
  const { inDims: id, outDims: od, kernel: [kh, kw], stride: [sh, sw] } = a;
  const c = id.c;
  const out = new Int8Array(od.h * od.w * c);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - a.padTop;
    const ys = Math.max(0, y0);
    const ye = Math.min(y0 + kh, id.h);
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - a.padLeft;
      const xs = Math.max(0, x0);
      const xe = Math.min(x0 + kw, id.w);
      const ob = (oy * od.w + ox) * c;
      const count = (ye - ys) * (xe - xs);
      for (let ch = 0; ch < c; ch++) {
        let r = reduce === 'max' ? -128 : 0;
        for (let y = ys; y < ye; y++) {
          for (let x = xs; x < xe; x++) {
            const v = a.input[(y * id.w + x) * c + ch];
            if (reduce === 'max') {
              if (v > r) r = v;
            } else r += v;
          }
        }
        if (reduce === 'avg') {
          if (count === 0) throw new Error('average pool window has no input element');
          const half = Math.trunc(count / 2);
          r = Math.trunc((r > 0 ? r + half : r - half) / count);
        }
        out[ob + ch] = clamp(r, a.actMin, a.actMax);
      }
    }
  }
  return out;
}

/** arm_max_pool_s8: max over the window clipped to the input, then clamp. */
export const maxPoolS8 = (a: PoolArgs): Int8Array => pool(a, 'max');
/** arm_avgpool_s8: sum over the clipped window, divide by its size rounding half away from zero, clamp. */
export const avgPoolS8 = (a: PoolArgs): Int8Array => pool(a, 'avg');

/** Largest H*W a requantizing global average pool accepts: with inputOffset in -128..128 the sum fits an int32. */
export const GAP_MAX_COUNT = 2 ** 23;

export interface GlobalAvgPoolRequantArgs {
  input: Int8Array; // NHWC, batch 1
  h: number;
  w: number;
  c: number;
  inputOffset: number; // -input zero point
  outputOffset: number; // output zero point
  mult: number;
  shift: number;
  actMin: number;
  actMax: number;
}

/**
 * sqzfw_global_avgpool_requant_s8 (firmware/runtime/sqzfw_ops.c), a TFLite-MEAN-like global average pool with its
 * own output quantization. Per channel: acc = sum over all h*w pixels of (in + inputOffset), an exact int32 (h*w is
 * 1..GAP_MAX_COUNT, inputOffset -128..128; otherwise the C returns ARM_CMSIS_NN_ARG_ERROR and this throws);
 * out = clamp(requantize(acc, mult, shift) + outputOffset, actMin, actMax), the sum exact, requantize being
 * arm_nn_requantize's default double rounding. The division by h*w is folded into (mult, shift) =
 * quantizeMultiplier(in_scale / (h*w * out_scale)); no separate rounding step. Output: c bytes.
 */
export function globalAvgPoolRequantS8(a: GlobalAvgPoolRequantArgs): Int8Array {
  const count = a.h * a.w;
  if (!(a.h >= 1 && a.w >= 1 && count <= GAP_MAX_COUNT) || a.c < 1 || a.inputOffset < -128 || a.inputOffset > 128) {
    throw new Error(`global average pool of ${a.h}x${a.w}x${a.c}, input offset ${a.inputOffset}, is out of range`);
  }
  const out = new Int8Array(a.c);
  for (let ch = 0; ch < a.c; ch++) {
    let acc = 0;
    for (let p = 0; p < count; p++) acc += a.input[p * a.c + ch] + a.inputOffset;
    out[ch] = clamp(requantize(acc, a.mult, a.shift) + a.outputOffset, a.actMin, a.actMax);
  }
  return out;
}

export interface AddArgs {
  in1: Int8Array;
  in2: Int8Array;
  in1Offset: number;
  in1Mult: number;
  in1Shift: number;
  in2Offset: number;
  in2Mult: number;
  in2Shift: number;
  leftShift: number;
  outOffset: number;
  outMult: number;
  outShift: number;
  actMin: number;
  actMax: number;
}

/** arm_elementwise_add_s8. */
export function addS8(a: AddArgs): Int8Array {
  const n = a.in1.length;
  const out = new Int8Array(n);
    for (let i = 0; i < n; i++) {
    const x1 = requantize(Math.imul(a.in1[i] + a.in1Offset, 1 << a.leftShift), a.in1Mult, a.in1Shift);
    const x2 = requantize(Math.imul(a.in2[i] + a.in2Offset, 1 << a.leftShift), a.in2Mult, a.in2Shift);
    const s = requantize(wrap32(x1 + x2), a.outMult, a.outShift) + a.outOffset;
    out[i] = clamp(s, a.actMin, a.actMax);
  }
  return out;
}

// ---- softmax (arm_softmax_s8: gemmlowp fixed-point exp with 5 integer bits, 12 accumulation bits) ----
const ACCUM_BITS = 12;

function multByPOT(val: number, exp: number): number {
  const thresh = 2 ** (31 - exp) - 1;
  if (val > thresh) return INT32_MAX;
  if (val < -thresh) return INT32_MIN;
  return wrap32(val * 2 ** exp);
}

function expOnNegativeValues(val: number): number {
  const shift = 24;
  const valModMinusQuarter = (val & ((1 << shift) - 1)) - (1 << shift);
  const remainder = valModMinusQuarter - val;
  const x = wrap32(valModMinusQuarter * 32 + (1 << 28));
  const x2 = doublingHighMul(x, x);
  const cubic = wrap32(divideByPOT(doublingHighMul(x2, x2), 2) + doublingHighMul(x2, x));
  const inner = divideByPOT(wrap32(doublingHighMul(cubic, 715827883) + x2), 1);
  let result = wrap32(1895147668 + doublingHighMul(1895147668, wrap32(x + inner)));
  const consts = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];
  for (let i = 0; i < consts.length; i++) {
    if ((remainder & (1 << (shift + i))) !== 0) result = doublingHighMul(result, consts[i]);
  }
  return val === 0 ? INT32_MAX : result;
}

function oneOverOnePlusX(val: number): number {
  const sum = val + INT32_MAX; // exact in doubles
  const halfDenominator = Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
  let x = 1515870810 + doublingHighMul(halfDenominator, -1010580540);
  const one = 1 << 29;
  for (let i = 0; i < 3; i++) {
    x = wrap32(x + multByPOT(doublingHighMul(x, wrap32(one - doublingHighMul(halfDenominator, x))), 2));
  }
  return multByPOT(x, 1);
}

const clz32 = (x: number): number => Math.clz32(x);

/** arm_softmax_s8 (int8 output, scale 1/256, zero point -128). */
export function softmaxS8(a: {
  input: Int8Array;
  rows: number;
  rowSize: number;
  mult: number;
  shift: number;
  diffMin: number;
}): Int8Array {
  const out = new Int8Array(a.rows * a.rowSize);
  const mask = 2 ** a.shift;
  for (let r = 0; r < a.rows; r++) {
    const base = r * a.rowSize;
    let max = a.input[base];
    for (let c = 1; c < a.rowSize; c++) max = Math.max(max, a.input[base + c]);
    let sum = 0;
    for (let c = 0; c < a.rowSize; c++) {
      const diff = a.input[base + c] - max;
      if (diff >= a.diffMin) {
        sum = wrap32(sum + divideByPOT(expOnNegativeValues(doublingHighMul(wrap32(diff * mask), a.mult)), ACCUM_BITS));
      }
    }
    const headroom = clz32(sum);
    const shifted = sum > 0 ? wrap32(sum * 2 ** headroom) : 0;
    const shiftedScale = oneOverOnePlusX(wrap32(shifted - 2147483648));
    const bitsOverUnit = ACCUM_BITS - headroom + 23;
    for (let c = 0; c < a.rowSize; c++) {
      const diff = a.input[base + c] - max;
      if (diff >= a.diffMin) {
        const e = expOnNegativeValues(doublingHighMul(wrap32(diff * mask), a.mult));
        const res = divideByPOT(doublingHighMul(shiftedScale, e), bitsOverUnit) - 128;
        out[base + c] = clamp(res, -128, 127);
      } else out[base + c] = -128;
    }
  }
  return out;
}

/** arm_concatenation_s8_x: channel slice copy (channels are the innermost axis in NHWC). */
export function concatS8X(a: {
  input: Int8Array;
  inDims: Dims;
  output: Int8Array;
  outC: number;
  offsetC: number;
}): void {
  const pixels = a.inDims.h * a.inDims.w;
  const c = a.inDims.c;
  for (let p = 0; p < pixels; p++) {
    a.output.set(a.input.subarray(p * c, p * c + c), p * a.outC + a.offsetC);
  }
}

/** sqzfw_max_s8: elementwise maximum of two int8 runs (the output may be either input). */
export function maxS8(a: Int8Array, b: Int8Array): Int8Array {
  const out = new Int8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] >= b[i] ? a[i] : b[i];
  return out;
}
