/**
 * The golden int8 model: runs a QModel layer by layer with the golden kernels. What the firmware must print.
 */
import type { QLayer, QModel } from '../quantize/types.js';
import { addS8, avgPoolS8, concatS8X, convS8, maxPoolS8, softmaxS8 } from './kernels.js';

export type IntTensors = Record<string, Int8Array>;

export function runLayer(model: QModel, layer: QLayer, t: IntTensors): Int8Array {
  const id = model.tensors[layer.inputs[0]].dims;
  const od = model.tensors[layer.output].dims;
  const input = t[layer.inputs[0]];
  switch (layer.op) {
    case 'conv':
      return convS8({
        input,
        inDims: id,
        filter: layer.weights,
        kernel: layer.kernel,
        bias: layer.bias,
        outDims: od,
        inputOffset: layer.inputOffset,
        outputOffset: layer.outputOffset,
        stride: layer.stride,
        padTop: layer.pad.top,
        padLeft: layer.pad.left,
        multiplier: layer.multiplier,
        shift: layer.shift,
        actMin: layer.actMin,
        actMax: layer.actMax,
      });
    case 'maxpool':
    case 'avgpool': {
      const args = { input, inDims: id, kernel: layer.kernel, stride: layer.stride, padTop: layer.pad.top, padLeft: layer.pad.left, outDims: od, actMin: layer.actMin, actMax: layer.actMax };
      return layer.op === 'maxpool' ? maxPoolS8(args) : avgPoolS8(args);
    }
    case 'concat': {
      const out = new Int8Array(od.h * od.w * od.c);
      let offsetC = 0;
      for (const name of layer.inputs) {
        const d = model.tensors[name].dims;
        concatS8X({ input: t[name], inDims: d, output: out, outC: od.c, offsetC });
        offsetC += d.c;
      }
      return out;
    }
    case 'add':
      return addS8({
        in1: input,
        in2: t[layer.inputs[1]],
        in1Offset: layer.input1Offset,
        in1Mult: layer.input1Mult,
        in1Shift: layer.input1Shift,
        in2Offset: layer.input2Offset,
        in2Mult: layer.input2Mult,
        in2Shift: layer.input2Shift,
        leftShift: layer.leftShift,
        outOffset: layer.outputOffset,
        outMult: layer.outputMult,
        outShift: layer.outputShift,
        actMin: layer.actMin,
        actMax: layer.actMax,
      });
    case 'softmax':
      return softmaxS8({ input, rows: od.h * od.w, rowSize: od.c, mult: layer.mult, shift: layer.shift, diffMin: layer.diffMin });
  }
}

/** Runs every layer; returns all tensors (the input included). */
export function runGolden(model: QModel, input: Int8Array): IntTensors {
  const t: IntTensors = { [model.input]: input };
  for (const layer of model.layers) t[layer.output] = runLayer(model, layer, t);
  return t;
}

/** Indices of the k largest values, ties to the lower index (the firmware uses the same rule). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, k);
}
