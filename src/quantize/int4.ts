/**
 * int4 weights for any conv layer: per output channel, symmetric (zero point 0), quantized from the float weights,
 * in the whole int4 range [-8, 7]. The 16th level, -8, is free: the s4 kernels sign-extend any nibble and their sums
 * are exact for |w| <= 8 (int8 weights keep -128 out, as TFLite's int8 scheme asks). The scale of each channel is
 * chosen, among clipping ratios of its largest |w| over 7 and over 8, to minimise the squared weight error (rounding
 * and clipping) rather than taken from the largest |w|: with so few levels, clipping a few outliers halves the step
 * for all the other weights, and a channel whose largest |w| is negative gets a step of 1/8 of it. Measured on
 * SqueezeNet v1.0 (dev images 2-fold as eval calibrates, fire9/conv3x3_2 and conv_final int4, scored against the
 * int8 model on calibration images 64..99 of each fold): [-8, 7] against [-7, 7] lowers the score error from 4.05 to
 * 3.27 mean squared int8 steps, and from 2.58 to 2.16 with the classifier's int8 classes kept (chosen on images
 * 0..63). Bias (int32 at input_scale * weight_scale) and the requantization multipliers are recomputed for the new
 * scales; activations keep their int8 quantization, so an int4 layer drops into an int8 model unchanged. Scales are
 * float32 and the multipliers derived as TFLite Micro derives them (tflite-params.ts), like the int8 layers'.
 */
import type { ConvWeights, FloatModel } from '../graph/ir.js';
import { convMultiplier, f32 } from './tflite-params.js';
import type { QConv, QLayer, QModel } from './types.js';
import { roundWithHessian } from './int4-rounding.js';

export const INT4_MIN = -8;
export const INT4_MAX = 7;
/** Clipping ratios tried per channel (1 = no clipping). */
const CLIP_RATIOS = Array.from({ length: 21 }, (_, i) => 1 - i * 0.025);

const roundHalfAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));
const q4 = (w: number, scale: number): number => Math.max(INT4_MIN, Math.min(INT4_MAX, roundHalfAway(w / scale)));

/** The channel scale with the least squared weight error: the largest |w| times a clipping ratio, over 7 or over 8. */
function channelScale(w: Float32Array, from: number, to: number): number {
  let amax = 0;
  for (let i = from; i < to; i++) amax = Math.max(amax, Math.abs(w[i]));
  if (amax === 0) return 1;
  let best = f32(amax / INT4_MAX);
  let bestErr = Infinity;
  for (const r of CLIP_RATIOS) {
    for (const top of [INT4_MAX, -INT4_MIN]) {
      const s = f32((amax * r) / top);
      let err = 0;
      for (let i = from; i < to && err < bestErr; i++) {
        const d = w[i] - s * q4(w[i], s);
        err += d * d;
      }
      if (err < bestErr) {
        bestErr = err;
        best = s;
      }
    }
  }
  return best;
}

/**
 * One int8 conv layer of `model` (QModel) requantized to int4 from its float weights; with `hessian` (the second
 * moment of its input patches on calibration data, src/quantize/int4-rounding.ts) the values are rounded to keep the
 * layer's output error small rather than each weight's.
 */
export function convToInt4(layer: QConv, p: ConvWeights, inScale: number, outScale: number, hessian?: Float64Array): QConv {
  const cout = layer.bias.length;
  const per = layer.weights.length / cout;
  if (p.weights.length !== layer.weights.length || p.bias.length !== cout) throw new Error(`float weights of ${layer.name} do not match its quantized layer`);
  const weights = new Int8Array(layer.weights.length);
  const bias = new Int32Array(cout);
  const weightScales = new Float64Array(cout);
  const multiplier = new Int32Array(cout);
  const shift = new Int32Array(cout);
  for (let c = 0; c < cout; c++) weightScales[c] = channelScale(p.weights, c * per, (c + 1) * per);
  if (hessian) weights.set(roundWithHessian(p.weights, per, weightScales, hessian, q4));
  for (let c = 0; c < cout; c++) {
    const s = weightScales[c];
    if (!hessian) for (let i = c * per; i < (c + 1) * per; i++) weights[i] = q4(p.weights[i], s);
    bias[c] = Math.max(-2147483648, Math.min(2147483647, roundHalfAway(p.bias[c] / (inScale * s))));
    const q = convMultiplier(inScale, s, outScale);
    multiplier[c] = q.mult;
    shift[c] = q.shift;
  }
  return { ...layer, weights, bias, weightScales, multiplier, shift, weightBits: 4 };
}

/** `q` with the named conv layers' weights in int4 (the others unchanged); `hessians` per layer: see convToInt4. */
export function withInt4Layers(model: FloatModel, q: QModel, names: Iterable<string>, hessians?: Map<string, Float64Array>): QModel {
  const set = new Set(names);
  for (const n of set) {
    const l = q.layers.find((x) => x.name === n);
    if (!l || l.op !== 'conv') throw new Error(`no conv layer ${n} in ${q.name}`);
  }
  const layers = q.layers.map((l) => {
    if (l.op !== 'conv' || !set.has(l.name) || l.weightBits === 4) return l;
    return convToInt4(l, model.weights[l.name], q.tensors[l.inputs[0]].scale, q.tensors[l.output].scale, hessians?.get(l.name));
  });
  return { ...q, layers };
}

/**
 * Bytes of a conv layer's weight arrays in firmware: int8 one per weight, int4 two per byte; a layer with int8
 * channels (QConv.int8Channels) has an int8 array for those, a packed int4 array for the rest, and a uint16 table of
 * the output channel of each position (see splitChannels).
 */
export function weightArrayBytes(l: QConv): number {
  if (l.weightBits !== 4) return l.weights.length;
  if (!l.int8Channels) return Math.ceil(l.weights.length / 2);
  const per = l.weights.length / l.bias.length;
  const n8 = l.int8Channels.length;
  return n8 * per + Math.ceil(((l.bias.length - n8) * per) / 2) + 2 * l.bias.length;
}

/**
 * The conv a model's scores are pooled from: the conv whose output only a requantizing global average pool reads,
 * and whose output channels may therefore be computed in any order and split between an s8 and an s4 call.
 */
export function classifierConv(q: QModel): QConv | undefined {
  const readers = (t: string): QLayer[] => q.layers.filter((l) => l.inputs.includes(t));
  return q.layers.find((l): l is QConv => {
    if (l.op !== 'conv' || q.outputs.includes(l.output)) return false;
    const r = readers(l.output);
    return r.length === 1 && r[0].op === 'avgpool' && !!r[0].requant;
  });
}

/**
 * The int4 layer `q4` with `channels` (output channels) taken back in int8 from `q8`, the same layer before int4:
 * their weights, bias, scales, multipliers and shifts. Other layers' int8 activations are unchanged.
 */
export function withInt8Channels(q4: QConv, q8: QConv, channels: number[]): QConv {
  if (q4.weightBits !== 4 || q8.weightBits === 4 || q4.name !== q8.name) throw new Error(`withInt8Channels: ${q4.name} is not an int4 layer and its int8 twin`);
  const cout = q4.bias.length;
  const per = q4.weights.length / cout;
  const sorted = [...new Set(channels)].sort((a, b) => a - b);
  if (sorted.some((c) => !Number.isInteger(c) || c < 0 || c >= cout)) throw new Error(`withInt8Channels: a channel of ${q4.name} outside 0..${cout - 1}`);
  if (sorted.length === 0) return q4;
  if (sorted.length === cout) return q8;
  const l: QConv = { ...q4, weights: q4.weights.slice(), bias: q4.bias.slice(), weightScales: q4.weightScales.slice(), multiplier: q4.multiplier.slice(), shift: q4.shift.slice(), int8Channels: sorted };
  for (const c of sorted) {
    l.weights.set(q8.weights.subarray(c * per, (c + 1) * per), c * per);
    l.bias[c] = q8.bias[c];
    l.weightScales[c] = q8.weightScales[c];
    l.multiplier[c] = q8.multiplier[c];
    l.shift[c] = q8.shift[c];
  }
  return l;
}

/**
 * A split layer's output channels in firmware order, int8 channels first, then the int4 ones (each ascending):
 * `order[i]` is the output channel computed at position i.
 */
export function splitChannels(l: QConv): { int8: number[]; int4: number[]; order: number[] } {
  const int8 = l.int8Channels ?? [];
  const keep = new Set(int8);
  const int4 = Array.from({ length: l.bias.length }, (_, c) => c).filter((c) => !keep.has(c));
  return { int8, int4, order: [...int8, ...int4] };
}
