/**
 * QModel -> int8 .tflite: CONV_2D (per-channel int8 filters, int32 biases, fused RELU), MAX_POOL_2D, AVERAGE_POOL_2D,
 * MEAN (the requantizing global average pool), CONCATENATION, ADD, SOFTMAX; optional QUANTIZE uint8->int8 at the
 * input and DEQUANTIZE to float32 at the outputs. Every number TFLite Micro derives from the written scales is
 * checked against the QModel by reading the file back (import.ts): a model TFLM would run differently is refused.
 */
import { UserError } from '../errors.js';
import type { QLayer, QModel, QTensor } from '../quantize/types.js';
import { activationRange } from '../quantize/tflite-params.js';
import { importTflite } from './import.js';
import { matchPadding } from './padding.js';
import { Activation, Op, Padding, TensorType } from './schema.js';
import type { TflModel, TflOperator, TflTensor } from './types.js';
import { writeTflite } from './write.js';

export interface ExportOptions {
  /** Type of the model's input tensor: int8 as is, or uint8 followed by QUANTIZE (TFLite's image models). */
  input?: 'int8' | 'uint8';
  /** Type of the outputs: int8 as is, or DEQUANTIZE to float32. */
  output?: 'int8' | 'float32';
}

const bytesOf = (a: Int8Array | Int32Array): Uint8Array => {
  const out = new Uint8Array(a.length * a.BYTES_PER_ELEMENT);
  const dv = new DataView(out.buffer);
  if (a instanceof Int8Array) out.set(new Uint8Array(a.buffer, a.byteOffset, a.length));
  else a.forEach((v, i) => dv.setInt32(4 * i, v, true));
  return out;
};

function activationOf(l: QLayer & { actMin: number; actMax: number }, out: QTensor): number {
  if (l.actMin === -128 && l.actMax === 127) return Activation.NONE;
  for (const [name, code] of [['relu', Activation.RELU], ['relu6', Activation.RELU6]] as const) {
    const r = activationRange(name, out.scale, out.zeroPoint);
    if (r.actMin === l.actMin && r.actMax === l.actMax) return code;
  }
  throw new UserError(`layer ${l.name}: activation range [${l.actMin}, ${l.actMax}] is not NONE, RELU or RELU6 in TFLite`, 'only fused NONE/RELU/RELU6 activations can be exported');
}

type Windowed = QLayer & { kernel: [number, number]; stride: [number, number]; pad: { top: number; left: number } };

/** The SAME/VALID padding that reproduces the layer's, or undefined. */
function tflitePaddingOf(l: Windowed, m: QModel): number | undefined {
  const i = m.tensors[l.inputs[0]].dims;
  const o = m.tensors[l.output].dims;
  return matchPadding([
    { input: i.h, kernel: l.kernel[0], stride: l.stride[0], out: o.h, before: l.pad.top },
    { input: i.w, kernel: l.kernel[1], stride: l.stride[1], out: o.w, before: l.pad.left },
  ]);
}

function padding(l: Windowed, m: QModel): number {
  const p = tflitePaddingOf(l, m);
  const o = m.tensors[l.output].dims;
  if (p === undefined) throw new UserError(`layer ${l.name}: padding top ${l.pad.top} left ${l.pad.left} with output ${o.h}x${o.w} is neither SAME nor VALID in TFLite`, 'TFLite pools have no explicit padding: use SAME/VALID-compatible pads');
  return p;
}

/** Rows/columns a VALID window needs after the input (and its leading pad) to give `out` outputs. */
const trailing = (input: number, before: number, kernel: number, stride: number, out: number): number => Math.max(0, (out - 1) * stride + kernel - input - before);

/** The QModel as a TflModel (no checks of the derived numbers; exportTflite does those). */
export function qmodelToTflite(m: QModel, o: ExportOptions = {}): TflModel {
  const tensors: TflTensor[] = [];
  const index = new Map<string, number>();
  const operators: TflOperator[] = [];
  const add = (t: TflTensor): number => tensors.push(t) - 1;
  /** Tensors written with rank 2 ([1, C]): a MEAN without keep_dims and what softmax makes of them. */
  const rank2 = new Set<string>();
  const activation = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) {
      const t = m.tensors[name];
      if (!t) throw new UserError(`tensor ${name} is used but not described in the model`, 'the model is inconsistent');
      const shape = rank2.has(name) ? [1, t.dims.c] : [1, t.dims.h, t.dims.w, t.dims.c];
      i = add({ name, shape, type: TensorType.INT8, quant: { scale: [t.scale], zeroPoint: [t.zeroPoint], quantizedDimension: 0 } });
      index.set(name, i);
    }
    return i;
  };
  const consumers = (name: string): QLayer[] => m.layers.filter((l) => l.inputs.includes(name));

  const input = m.tensors[m.input];
  let sgInput = activation(m.input);
  if (o.input === 'uint8') {
    const u8 = add({ name: `${m.input}_uint8`, shape: tensors[sgInput].shape, type: TensorType.UINT8, quant: { scale: [input.scale], zeroPoint: [input.zeroPoint + 128], quantizedDimension: 0 } });
    operators.push({ builtin: Op.QUANTIZE, version: 2, inputs: [u8], outputs: [sgInput], options: { kind: 'none' } });
    sgInput = u8;
  }

  for (const l of m.layers) {
    const ins = () => l.inputs.map(activation);
    switch (l.op) {
      case 'conv': {
        let x = ins();
        const tin = m.tensors[l.inputs[0]];
        const tout = m.tensors[l.output];
        const oc = l.bias.length;
        const filter = add({ name: `${l.name}/filter`, shape: [oc, l.kernel[0], l.kernel[1], tin.dims.c], type: TensorType.INT8, data: bytesOf(l.weights), quant: { scale: Array.from(l.weightScales), zeroPoint: new Array(oc).fill(0), quantizedDimension: 0 } });
        const bias = add({ name: `${l.name}/bias`, shape: [oc], type: TensorType.INT32, data: bytesOf(l.bias), quant: { scale: Array.from(l.weightScales, (s) => Math.fround(tin.scale * s)), zeroPoint: new Array(oc).fill(0), quantizedDimension: 0 } });
        let pad = tflitePaddingOf(l, m);
        if (pad === undefined) {
          // Explicit padding (e.g. Caffe's 1x1 conv10 with pad 1): PAD with the input zero point, then a VALID conv.
          const o = m.tensors[l.output].dims;
          const bottom = trailing(tin.dims.h, l.pad.top, l.kernel[0], l.stride[0], o.h);
          const right = trailing(tin.dims.w, l.pad.left, l.kernel[1], l.stride[1], o.w);
          const paddings = add({ name: `${l.name}/paddings`, shape: [4, 2], type: TensorType.INT32, data: bytesOf(Int32Array.from([0, 0, l.pad.top, bottom, l.pad.left, right, 0, 0])) });
          const padded = add({ name: `${l.name}/pad`, shape: [1, tin.dims.h + l.pad.top + bottom, tin.dims.w + l.pad.left + right, tin.dims.c], type: TensorType.INT8, quant: { scale: [tin.scale], zeroPoint: [tin.zeroPoint], quantizedDimension: 0 } });
          operators.push({ builtin: Op.PAD, version: 2, inputs: [...x, paddings], outputs: [padded], options: { kind: 'none' } });
          x = [padded];
          pad = Padding.VALID;
        }
        const options = { kind: 'conv2d' as const, padding: pad, strideW: l.stride[1], strideH: l.stride[0], activation: activationOf(l, tout), dilationW: 1, dilationH: 1 };
        operators.push({ builtin: Op.CONV_2D, version: 3, inputs: [...x, filter, bias], outputs: [activation(l.output)], options });
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const x = ins();
        if (l.requant) {
          const keepDims = consumers(l.output).some((c) => c.op !== 'softmax');
          if (!keepDims) rank2.add(l.output);
          const axes = add({ name: `${l.name}/axes`, shape: [2], type: TensorType.INT32, data: bytesOf(Int32Array.from([1, 2])) });
          operators.push({ builtin: Op.MEAN, version: 2, inputs: [...x, axes], outputs: [activation(l.output)], options: { kind: 'reducer', keepDims } });
          break;
        }
        const options = { kind: 'pool2d' as const, padding: padding(l, m), strideW: l.stride[1], strideH: l.stride[0], filterW: l.kernel[1], filterH: l.kernel[0], activation: activationOf(l, m.tensors[l.output]) };
        operators.push({ builtin: l.op === 'maxpool' ? Op.MAX_POOL_2D : Op.AVERAGE_POOL_2D, version: 2, inputs: x, outputs: [activation(l.output)], options });
        break;
      }
      case 'concat': {
        const x = ins();
        if (l.inputs.some((n) => rank2.has(n))) rank2.add(l.output);
        operators.push({ builtin: Op.CONCATENATION, version: 2, inputs: x, outputs: [activation(l.output)], options: { kind: 'concat', axis: -1, activation: Activation.NONE } });
        break;
      }
      case 'add': {
        const x = ins();
        if (l.inputs.some((n) => rank2.has(n))) rank2.add(l.output);
        operators.push({ builtin: Op.ADD, version: 2, inputs: x, outputs: [activation(l.output)], options: { kind: 'add', activation: activationOf(l, m.tensors[l.output]) } });
        break;
      }
      case 'softmax': {
        const x = ins();
        if (rank2.has(l.inputs[0])) rank2.add(l.output);
        operators.push({ builtin: Op.SOFTMAX, version: 2, inputs: x, outputs: [activation(l.output)], options: { kind: 'softmax', beta: 1 } });
        break;
      }
    }
  }

  const outputs = m.outputs.map((name) => {
    const i = activation(name);
    if (o.output !== 'float32') return i;
    const f = add({ name: `${name}_float`, shape: tensors[i].shape, type: TensorType.FLOAT32 });
    operators.push({ builtin: Op.DEQUANTIZE, version: 2, inputs: [i], outputs: [f], options: { kind: 'none' } });
    return f;
  });
  return { description: `sqzfw export of ${m.name}`, tensors, operators, inputs: [sgInput], outputs };
}

/** Fields of two QModel layers that differ (numbers and arrays compared exactly). */
function layerDiff(a: QLayer, b: QLayer): string[] {
  const out: string[] = [];
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  for (const k of Object.keys(ra)) {
    if (k === 'name' || k === 'pad') continue;
    const va = ra[k];
    const vb = rb[k];
    const same = ArrayBuffer.isView(va) && ArrayBuffer.isView(vb) ? (va as Int32Array).length === (vb as Int32Array).length && (va as Int32Array).every((x, i) => x === (vb as Int32Array)[i]) : JSON.stringify(va) === JSON.stringify(vb);
    if (!same) out.push(k);
  }
  return out;
}

/**
 * Writes the QModel as .tflite bytes, then reads them back and checks that every layer's kernel parameters are
 * those TFLite Micro derives from the file: the export means exactly the QModel.
 */
export function exportTflite(m: QModel, o: ExportOptions = {}): Uint8Array {
  const bytes = writeTflite(qmodelToTflite(m, o));
  const back = importTflite(bytes, 'the exported model').model;
  for (const t of Object.values(m.tensors)) {
    const u = back.tensors[t.name];
    if (u && (u.scale !== t.scale || u.zeroPoint !== t.zeroPoint)) throw new UserError(`tensor ${t.name}: scale ${t.scale} is not a float32 value TFLite can store`, 'quantize the model with this version of sqzfw');
  }
  m.layers.forEach((l, i) => {
    const d = layerDiff(l, back.layers[i]);
    if (d.length) throw new UserError(`layer ${l.name}: ${d.join(', ')} differ from what TFLite derives from the exported scales`, 'quantize the model with this version of sqzfw (float32 scales, TFLite multipliers)');
  });
  return bytes;
}
