/**
 * Requantization parameters exactly as TensorFlow Lite Micro derives them from a .tflite file's float32 scales, so
 * that a QModel written as .tflite (src/tflite) runs bit-exactly in TFLM, and a .tflite read back keeps its numbers.
 */
import { quantizeMultiplier } from '../golden/kernels.js';

/** A scale as a .tflite file stores it (float32). */
export const f32 = (x: number): number => Math.fround(x);

/** CONV_2D, per output channel: QuantizeMultiplier(double(in) * double(filter[c]) / double(out)). */
export const convMultiplier = (inScale: number, filterScale: number, outScale: number): { mult: number; shift: number } =>
  quantizeMultiplier((inScale * filterScale) / outScale);

/**
 * MEAN over H and W on int8 (TFLM reduce_common.cc + reference QuantizedMeanOrSum): QuantizeMultiplier(in / out),
 * then 1/count folded in: s = min(floor(log2 count), 32, 31 + shift), mult = (mult << s) / count (int64,
 * truncating), shift -= s. out = clamp(MultiplyByQuantizedMultiplier(sum(in - in_zp), mult, shift) + out_zp): what
 * globalAvgPoolRequantS8 (golden) and sqzfw_global_avgpool_requant_s8 (firmware) compute with these numbers.
 */
export function meanMultiplier(inScale: number, outScale: number, count: number): { mult: number; shift: number } {
  if (!(Number.isSafeInteger(count) && count >= 1)) throw new Error(`MEAN over ${count} elements`);
  const q = quantizeMultiplier(inScale / outScale);
  const s = Math.min(count.toString(2).length - 1, 32, 31 + q.shift); // 63 - clz64(count), clamped
  const mult = Number((BigInt(q.mult) << BigInt(s)) / BigInt(count));
  return { mult, shift: q.shift - s };
}

/** TFLite's kScaledDiffIntegerBits for int8 softmax, and the int8 ADD input left shift. */
const SCALED_DIFF_INTEGER_BITS = 5;
export const ADD_LEFT_SHIFT = 20;

/** SOFTMAX int8 (TFLM softmax_common.cc): PreprocessSoftmaxScaling + CalculateInputRadius. */
export function softmaxParams(inputScale: number, beta = 1): { mult: number; shift: number; diffMin: number } {
  const real = Math.min(beta * inputScale * 2 ** (31 - SCALED_DIFF_INTEGER_BITS), 2 ** 31 - 1);
  const { mult, shift } = quantizeMultiplier(real);
  const maxInputRescaled = ((2 ** SCALED_DIFF_INTEGER_BITS - 1) * 2 ** (31 - SCALED_DIFF_INTEGER_BITS)) / 2 ** shift;
  return { mult, shift, diffMin: -Math.floor(maxInputRescaled) };
}

/** ADD int8 (TFLM add_common.cc): both inputs rescaled to twice the larger input scale, left shift 20. */
export function addParams(s1: number, s2: number, sOut: number): { m1: { mult: number; shift: number }; m2: { mult: number; shift: number }; mo: { mult: number; shift: number }; leftShift: number } {
  const twiceMax = 2 * Math.max(s1, s2);
  return {
    m1: quantizeMultiplier(s1 / twiceMax),
    m2: quantizeMultiplier(s2 / twiceMax),
    mo: quantizeMultiplier(twiceMax / (2 ** ADD_LEFT_SHIFT * sOut)),
    leftShift: ADD_LEFT_SHIFT,
  };
}

/** TFLite CalculateActivationRangeQuantized for int8: NONE, RELU or RELU6 on an output of (scale, zero point). */
export function activationRange(act: 'none' | 'relu' | 'relu6', scale: number, zeroPoint: number): { actMin: number; actMax: number } {
  const q = (f: number): number => zeroPoint + Math.sign(f32(f / scale)) * Math.round(Math.abs(f32(f / scale)));
  if (act === 'none') return { actMin: -128, actMax: 127 };
  if (act === 'relu') return { actMin: Math.max(-128, q(0)), actMax: 127 };
  return { actMin: Math.max(-128, q(0)), actMax: Math.min(127, q(6)) };
}
