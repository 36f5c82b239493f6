/**
 * The benchmark's baseline: eval's int8 path before the fast engine of src/golden/fast.ts, kept only so
 * that `npm run bench` measures the previous implementation beside the new one in the same run. Nothing else uses it.
 *
 * The int8 golden model, with the convolution accumulation done by the blocked kernel of src/float/interp.ts.
 * Integer sums are exact in any order (every partial sum stays far below 2^53), the int32 wrap is kept, the output
 * stage is arm_nn_requantize with a short exact path (checked against the golden `requantize`), and every other layer
 * is the golden runLayer: so the result equals runGolden bit for bit (tests check it layer by layer), ~5x faster.
 */
import { requantizeFast } from '../golden/fast.js';
import { REFERENCE, runLayer, type IntTensors } from '../golden/run.js';
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

/** Same contract as runGolden: every tensor, the input included. */
export function runInt8Before(model: QModel, input: Int8Array): IntTensors {
  const t: IntTensors = { [model.input]: input };
  for (const layer of model.layers) t[layer.output] = layer.op === 'conv' ? convFast(model, layer, t[layer.inputs[0]]) : runLayer(model, layer, t, REFERENCE);
  return t;
}
