/**
 * Packed int4 weights for the ASIC map.
 *
 * Quantization choice: per output channel, symmetric, range [-7, 7], requantized *from the
 * int8 model with a rescale*. The int8 weights' float equivalent is exactly q8 * s8[c], so "from the float
 * equivalent" and "from int8" are the same computation here; the original float weights are not part of a QModel.
 *   m      = max |q8[c][*]|
 *   if m <= 7: the channel already fits int4, it is kept bit-exact (q4 = q8, scales unchanged);
 *   else:    r = m / 7, q4 = round_half_away(q8 / r) clamped to [-7, 7], s4 = s8 * r,
 *            bias4 = round_half_away(bias8 / r)                (bias scale = input_scale * s4)
 *            (multiplier, shift) re-derived from M4 = M8 * r   (M = mult * 2^(shift - 31), CMSIS-NN convention).
 * -8 is never produced, so the range is symmetric like the int8 one (-127..127).
 *
 * Packing (CMSIS-NN s4 kernels): two weights per byte, element 2i in the low nibble, 2i+1 in the high nibble;
 * an odd count leaves the last high nibble 0.
 */
import type { QConv, QModel, QLayer } from '../quantize/types.js';
import { quantizeMultiplier } from '../golden/kernels.js';

const roundHalfAway = (x: number): number => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const clampI32 = (x: number): number => Math.min(INT32_MAX, Math.max(INT32_MIN, x));

export const realMultiplier = (multiplier: number, shift: number): number => multiplier * 2 ** (shift - 31);

/** Requantize one conv layer's int8 weights to int4 values (stored one per Int8Array element). */
export function convToInt4(layer: QConv): QConv {
  const cout = layer.bias.length;
  const per = cout === 0 ? 0 : layer.weights.length / cout;
  const weights = new Int8Array(layer.weights.length);
  const bias = new Int32Array(cout);
  const multiplier = new Int32Array(cout);
  const shift = new Int32Array(cout);
  const weightScales = new Float64Array(cout);
  for (let c = 0; c < cout; c++) {
    let m = 0;
    for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(layer.weights[i]!));
    const s8 = layer.weightScales[c] ?? 1;
    if (m <= 7) {
      for (let i = c * per; i < (c + 1) * per; i++) weights[i] = layer.weights[i]!;
      bias[c] = layer.bias[c]!;
      multiplier[c] = layer.multiplier[c]!;
      shift[c] = layer.shift[c]!;
      weightScales[c] = s8;
      continue;
    }
    const r = m / 7;
    for (let i = c * per; i < (c + 1) * per; i++) weights[i] = Math.max(-7, Math.min(7, roundHalfAway(layer.weights[i]! / r)));
    bias[c] = clampI32(roundHalfAway(layer.bias[c]! / r));
    const q = quantizeMultiplier(realMultiplier(layer.multiplier[c]!, layer.shift[c]!) * r);
    multiplier[c] = q.mult;
    shift[c] = q.shift;
    weightScales[c] = s8 * r;
  }
  return { ...layer, weights, bias, multiplier, shift, weightScales };
}

/** The model with every conv layer's weights requantized to int4 values in [-7, 7] (see the file comment). */
export function quantizeInt4(model: QModel): QModel {
  return { ...model, layers: model.layers.map((l: QLayer) => (l.op === 'conv' ? convToInt4(l) : l)) };
}

export { packInt4, unpackInt4 } from '../golden/int4.js';
