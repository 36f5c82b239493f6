/**
 * The golden int8 model: runs a QModel layer by layer with the golden kernels. What the firmware must print.
 * The per-op call helpers map a layer's quantized parameters onto one kernel call; the plan executor uses them
 * too, with a step's (band) dims and padding.
 */
import type { Dims } from '../graph/ir.js';
import type { QAdd, QConv, QLayer, QModel, QPool, QSoftmax } from '../quantize/types.js';
import { addS8, avgPoolS8, concatS8X, convS8, globalAvgPoolRequantS8, maxPoolS8, softmaxS8, type ConvArgs, type PoolArgs } from './kernels.js';
import { convS8Fast, maxPoolS8Fast } from './fast.js';
import { convS4, packInt4 } from './int4.js';

export type IntTensors = Record<string, Int8Array>;

export interface CallGeometry {
  inDims: Dims;
  outDims: Dims;
  padTop: number;
  padLeft: number;
}

/**
 * The kernels with a fast twin: the fast engine (src/golden/fast.ts, the default everywhere the golden model runs) or
 * the reference kernels of kernels.ts (the specification the fast one is tested and benchmarked against).
 */
export interface Engine {
  conv: (a: ConvArgs) => Int8Array;
  /** arm_convolve_wrapper_s4 on int4 weights held one per int8 element (`filter`). */
  convS4: (a: ConvArgs) => Int8Array;
  maxPool: (a: PoolArgs) => Int8Array;
}
/** int4 weights held as int8 values give the same int32 sums: the fast engine runs them as an s8 convolution. */
export const FAST: Engine = { conv: convS8Fast, convS4: convS8Fast, maxPool: maxPoolS8Fast };
/** The reference runs the s4 twin on the weights packed as the firmware stores them. */
export const REFERENCE: Engine = { conv: convS8, convS4: (a) => convS4({ ...a, packedFilter: packInt4(a.filter) }), maxPool: maxPoolS8 };
/** SQZFW_ENGINE=reference runs the reference kernels everywhere (the benchmark's whole-process baseline; debugging). */
export const DEFAULT_ENGINE: Engine = process.env.SQZFW_ENGINE === 'reference' ? REFERENCE : FAST;

export const convCall = (l: QConv, input: Int8Array, g: CallGeometry, e: Engine = DEFAULT_ENGINE): Int8Array =>
  // A layer with int8 channels holds values beyond int4: its int32 sums are the s8 convolution's (same arithmetic).
  (l.weightBits === 4 && !l.int8Channels ? e.convS4 : e.conv)({
    input,
    inDims: g.inDims,
    filter: l.weights,
    kernel: l.kernel,
    bias: l.bias,
    outDims: g.outDims,
    inputOffset: l.inputOffset,
    outputOffset: l.outputOffset,
    stride: l.stride,
    padTop: g.padTop,
    padLeft: g.padLeft,
    multiplier: l.multiplier,
    shift: l.shift,
    actMin: l.actMin,
    actMax: l.actMax,
  });

export function poolCall(l: QPool, input: Int8Array, g: CallGeometry, e: Engine = DEFAULT_ENGINE): Int8Array {
  if (l.requant) {
    const { inDims: id, outDims: od } = g;
    if (l.op !== 'avgpool' || od.h !== 1 || od.w !== 1 || od.c !== id.c || l.kernel[0] !== id.h || l.kernel[1] !== id.w) {
      throw new Error(`${l.name}: a requantizing pool must be a global average pool over the whole input`);
    }
    const r = l.requant;
    return globalAvgPoolRequantS8({ input, h: id.h, w: id.w, c: id.c, inputOffset: r.inputOffset, outputOffset: r.outputOffset, mult: r.mult, shift: r.shift, actMin: l.actMin, actMax: l.actMax });
  }
  const args = { input, inDims: g.inDims, kernel: l.kernel, stride: l.stride, padTop: g.padTop, padLeft: g.padLeft, outDims: g.outDims, actMin: l.actMin, actMax: l.actMax };
  return l.op === 'maxpool' ? e.maxPool(args) : avgPoolS8(args);
}

export const addCall = (l: QAdd, in1: Int8Array, in2: Int8Array): Int8Array =>
  addS8({
    in1,
    in2,
    in1Offset: l.input1Offset,
    in1Mult: l.input1Mult,
    in1Shift: l.input1Shift,
    in2Offset: l.input2Offset,
    in2Mult: l.input2Mult,
    in2Shift: l.input2Shift,
    leftShift: l.leftShift,
    outOffset: l.outputOffset,
    outMult: l.outputMult,
    outShift: l.outputShift,
    actMin: l.actMin,
    actMax: l.actMax,
  });

export const softmaxCall = (l: QSoftmax, input: Int8Array, rows: number, rowSize: number): Int8Array =>
  softmaxS8({ input, rows, rowSize, mult: l.mult, shift: l.shift, diffMin: l.diffMin });

export function runLayer(model: QModel, layer: QLayer, t: IntTensors, e: Engine = DEFAULT_ENGINE): Int8Array {
  const inDims = model.tensors[layer.inputs[0]].dims;
  const outDims = model.tensors[layer.output].dims;
  const input = t[layer.inputs[0]];
  switch (layer.op) {
    case 'conv':
      return convCall(layer, input, { inDims, outDims, padTop: layer.pad.top, padLeft: layer.pad.left }, e);
    case 'maxpool':
    case 'avgpool':
      return poolCall(layer, input, { inDims, outDims, padTop: layer.pad.top, padLeft: layer.pad.left }, e);
    case 'concat': {
      const out = new Int8Array(outDims.h * outDims.w * outDims.c);
      let offsetC = 0;
      for (const name of layer.inputs) {
        const d = model.tensors[name].dims;
        concatS8X({ input: t[name], inDims: d, output: out, outC: outDims.c, offsetC });
        offsetC += d.c;
      }
      return out;
    }
    case 'add':
      return addCall(layer, input, t[layer.inputs[1]]);
    case 'softmax':
      return softmaxCall(layer, input, outDims.h * outDims.w, outDims.c);
  }
}

/** Runs every layer with the fast engine; returns all tensors (the input included). */
export function runGolden(model: QModel, input: Int8Array, e: Engine = DEFAULT_ENGINE): IntTensors {
  const t: IntTensors = { [model.input]: input };
  for (const layer of model.layers) t[layer.output] = runLayer(model, layer, t, e);
  return t;
}

/** The same with the reference kernels only: the specification the fast engine is tested and benchmarked against. */
export const runReference = (model: QModel, input: Int8Array): IntTensors => runGolden(model, input, REFERENCE);

/** Indices of the k largest values, ties to the lower index (the firmware uses the same rule). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, k);
}
