/**
 * The int8 golden model, with the convolution accumulation done by the blocked kernel of src/float/interp.ts.
 * Integer sums are exact in any order (every partial sum stays far below 2^53), the int32 wrap is kept, the output
 * stage is arm_nn_requantize with a short exact path (checked against the golden `requantize`), and every other layer
 * is the golden runLayer: so the result equals runGolden bit for bit (tests check it layer by layer), ~5x faster.
 */
import { requantize } from '../golden/kernels.js';
import { runLayer, type IntTensors } from '../golden/run.js';
import { convAccumulate, packWeights, type PackedWeights } from '../float/interp.js';
import type { QConv, QModel } from '../quantize/types.js';

const packs = new WeakMap<QConv, PackedWeights>();

function convFast(model: QModel, layer: QConv, input: Int8Array): Int8Array {
  const id = model.tensors[layer.inputs[0]].dims;
  const od = model.tensors[layer.output].dims;
  const k = layer.kernel[0] * layer.kernel[1] * id.c;
  let pk = packs.get(layer);
  if (!pk) {
    pk = packWeights(layer.weights, layer.bias, od.c, k);
    packs.set(layer, pk);
  }
  const acc = new Float64Array(od.h * od.w * od.c);
  convAccumulate(input, layer.inputOffset, { inDims: id, outDims: od, kernel: layer.kernel, stride: layer.stride, padTop: layer.pad.top, padLeft: layer.pad.left }, pk, acc);
  const out = new Int8Array(acc.length);
  const O = od.c;
  const { multiplier, shift, outputOffset, actMin, actMax } = layer;
  for (let i = 0; i < acc.length; i++) {
    const oc = i % O;
    const v = requantizeFast(acc[i] | 0, multiplier[oc], shift[oc]) + outputOffset;
    out[i] = v < actMin ? actMin : v > actMax ? actMax : v;
  }
  return out;
}

/**
 * arm_nn_requantize exactly as the golden `requantize`, with a short path for accumulators below 2^21 in magnitude
 * after the left shift (then acc * mult + 2^30 is below 2^53 and exact in a double); anything larger takes the golden
 * function itself. Tests compare the two on millions of values and all edge cases.
 */
export function requantizeFast(acc: number, mult: number, shift: number): number {
  const x = shift > 0 ? Math.imul(acc, 1 << shift) : acc;
  if (x > 2097152 || x < -2097152) return requantize(acc, mult, shift);
  const hm = Math.floor((x * mult + 1073741824) / 2147483648);
  if (shift >= 0) return hm;
  const p = 2 ** -shift;
  let res = Math.floor(hm / p);
  const rem = hm - res * p;
  const threshold = Math.floor((p - 1) / 2) + (res < 0 ? 1 : 0);
  if (rem > threshold) res++;
  return res;
}

/** Same contract as runGolden: every tensor, the input included. */
export function runInt8(model: QModel, input: Int8Array): IntTensors {
  const t: IntTensors = { [model.input]: input };
  for (const layer of model.layers) t[layer.output] = layer.op === 'conv' ? convFast(model, layer, t[layer.inputs[0]]) : runLayer(model, layer, t);
  return t;
}
