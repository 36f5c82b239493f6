/**
 * .tflite -> QModel, quantization kept exactly as stored: every multiplier, shift and offset is derived from the
 * file's float32 scales the way TensorFlow Lite Micro derives it (quantize/tflite-params.ts), so the golden model
 * and the firmware compute what TFLM computes. Supported: int8 SqueezeNet-family graphs as TFLite writes them
 * (CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN over H and W, CONCATENATION, ADD, SOFTMAX, RESHAPE between equal
 * shapes, PAD into a CONV_2D, QUANTIZE uint8/float32 -> int8 at the input, DEQUANTIZE at the outputs). Anything else is a UserError
 * naming the operator, the tensor and the field.
 */
import { UserError } from '../errors.js';
import type { Dims } from '../graph/ir.js';
import { GAP_MAX_COUNT } from '../golden/kernels.js';
import { activationRange, addParams, convMultiplier, meanMultiplier, softmaxParams } from '../quantize/tflite-params.js';
import type { QLayer, QModel, QTensor } from '../quantize/types.js';
import { tflitePadding } from './padding.js';
import { printable, readTflite, TfliteFormatError } from './read.js';
import { ACTIVATION_NAMES, Activation, Op, opName, TENSOR_TYPE_NAMES, TensorType } from './schema.js';
import type { TflModel, TflOperator, TflTensor } from './types.js';

/** Largest spatial size and tensor the importer accepts (SqueezeNet at 1024x1024 is far below). */
export const TFLITE_LIMITS = { dim: 16384, elements: 1 << 27, kernel: 255, stride: 255 };

export interface TfliteImport {
  model: QModel;
  /** Type the file's input tensor has before its QUANTIZE (int8 when there is none). */
  inputType: 'int8' | 'uint8' | 'float32';
  /** TFLite tensor index of every QModel tensor (for reading TFLM's intermediate tensors). */
  tensorIndex: Record<string, number>;
}

class Ctx {
  constructor(readonly what: string) {}
  fail(where: string, msg: string, hint = 'sqzfw imports int8 SqueezeNet-family models (see README: TFLite)'): never {
    throw new UserError(`${this.what}: ${where}: ${msg}`, hint);
  }
}

const typeName = (t: number): string => TENSOR_TYPE_NAMES[t] ?? `type ${t}`;

function int32s(t: TflTensor): Int32Array {
  const d = t.data!;
  const dv = new DataView(d.buffer, d.byteOffset, d.length);
  return Int32Array.from({ length: d.length / 4 }, (_, i) => dv.getInt32(4 * i, true));
}

export function tfliteToQModel(m: TflModel, what: string, name: string): TfliteImport {
  const ctx: Ctx = new Ctx(what);
  const names = uniqueNames(m);
  const tensors: Record<string, QTensor> = {};
  const tensorIndex: Record<string, number> = {};
  /** TFLite tensor index -> QModel tensor name (RESHAPE and QUANTIZE/DEQUANTIZE map several indices to one). */
  const alias = new Map<number, string>();
  const layers: QLayer[] = [];

  const describe = (i: number): string => `tensor ${i} "${printable(names[i])}"`;

  /** An int8 activation tensor, registered on first use. */
  const activation = (i: number, where: string): QTensor => {
    const a = alias.get(i);
    if (a) return tensors[a];
    const t = m.tensors[i];
    const w = `${where}, ${describe(i)}`;
    if (t.type !== TensorType.INT8) ctx.fail(w, `type ${typeName(t.type)} is not supported (int8 activations only)`);
    if (t.data) ctx.fail(w, 'a constant tensor where an activation is expected');
    const q = t.quant;
    if (!q || q.scale.length !== 1 || q.zeroPoint.length > 1) ctx.fail(`${w}.quantization`, `needs one scale and one zero point (per-tensor), has ${q ? q.scale.length : 0}`);
    const scale = q.scale[0];
    const zeroPoint = q.zeroPoint[0] ?? 0;
    if (!(scale > 0 && Number.isFinite(scale))) ctx.fail(`${w}.quantization.scale`, `scale ${scale} is not a positive number`);
    if (!(zeroPoint >= -128 && zeroPoint <= 127)) ctx.fail(`${w}.quantization.zero_point`, `zero point ${zeroPoint} is outside -128..127`);
    const dims = toDims(t.shape, ctx, `${w}.shape`);
    const n = names[i];
    tensors[n] = { name: n, dims, scale, zeroPoint };
    tensorIndex[n] = i;
    alias.set(i, n);
    return tensors[n];
  };
  const produced = new Set<number>();
  /** Outputs of PAD operators: folded into the explicit padding of the CONV_2D that reads them. */
  const padded = new Map<number, { src: QTensor; top: number; bottom: number; left: number; right: number }>();
  const use = (i: number, where: string): QTensor => {
    if (i < 0 || !produced.has(i)) ctx.fail(where, `${i < 0 ? 'a required input is omitted' : `${describe(i)} is read before any operator writes it`}`);
    if (padded.has(i)) ctx.fail(`${where}, ${describe(i)}`, 'the output of a PAD is supported only as the input of a CONV_2D');
    return activation(i, where);
  };
  const constant = (i: number | undefined, where: string, type: number, shape: number[] | undefined): TflTensor => {
    if (i === undefined || i < 0) ctx.fail(where, 'a required constant input is missing');
    const t = m.tensors[i];
    const w = `${where}, ${describe(i)}`;
    if (t.type !== type) ctx.fail(`${w}.type`, `type ${typeName(t.type)} (expected ${typeName(type)})`);
    if (shape && (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k]))) ctx.fail(`${w}.shape`, `shape [${t.shape}] (expected [${shape}])`);
    const elems = t.shape.reduce((a, b) => a * b, 1);
    const size = type === TensorType.INT8 ? 1 : 4;
    if (!t.data || t.data.length !== elems * size) ctx.fail(`${w}.buffer`, `holds ${t.data?.length ?? 0} bytes, the shape needs ${elems * size}`);
    return t;
  };

  if (m.inputs.length !== 1) ctx.fail('subgraph.inputs', `${m.inputs.length} inputs (sqzfw models take one image)`);
  let inputIndex = m.inputs[0];
  let inputType: TfliteImport['inputType'] = 'int8';
  produced.add(inputIndex);
  const outputs = new Set(m.outputs);
  const dequantized = new Map<number, number>(); // float output index -> int8 tensor index

  m.operators.forEach((op, k) => {
    const where = `operator ${k} (${op.builtin < 0 ? `custom "${printable(op.custom ?? '')}"` : opName(op.builtin)})`;
    for (const o of op.outputs) if (produced.has(o)) ctx.fail(`${where}, ${describe(o)}`, 'is written twice');
    try {
      const layer = convertOp(op, k, where);
      if (layer) layers.push(layer);
    } catch (e) {
      if (e instanceof UserError) throw e;
      ctx.fail(where, (e as Error).message);
    }
    for (const o of op.outputs) produced.add(o);
  });

  function convertOp(op: TflOperator, k: number, where: string): QLayer | undefined {
    const lname = `${opName(op.builtin).toLowerCase()}_${k}`;
    const out1 = (): [number, QTensor] => {
      if (op.outputs.length !== 1) ctx.fail(where, `${op.outputs.length} outputs (expected 1)`);
      return [op.outputs[0], activation(op.outputs[0], where)];
    };
    const act = (code: number, out: QTensor, field: string): { actMin: number; actMax: number } => {
      if (code === Activation.NONE) return activationRange('none', out.scale, out.zeroPoint);
      if (code === Activation.RELU) return activationRange('relu', out.scale, out.zeroPoint);
      if (code === Activation.RELU6) return activationRange('relu6', out.scale, out.zeroPoint);
      return ctx.fail(`${where}.${field}`, `fused activation ${ACTIVATION_NAMES[code] ?? code} is not supported (NONE, RELU, RELU6)`);
    };
    const sameQuant = (a: QTensor, b: QTensor, what2: string): void => {
      if (a.scale !== b.scale || a.zeroPoint !== b.zeroPoint) ctx.fail(where, `${what2}: input and output quantization differ (scale ${a.scale} vs ${b.scale}, zero point ${a.zeroPoint} vs ${b.zeroPoint}); TFLite requires them equal`);
    };
    const base = { name: lname, inputs: [] as string[], output: '' };
    switch (op.builtin) {
      case Op.QUANTIZE: {
        const src = op.inputs[0];
        const [oi, out] = out1();
        const t = m.tensors[src];
        if (src !== inputIndex || op.inputs.length !== 1) ctx.fail(where, 'QUANTIZE is supported only on the model input (uint8 or float32 -> int8)');
        if (t.type === TensorType.UINT8) {
          const q = t.quant;
          if (!q || q.scale[0] !== out.scale || (q.zeroPoint[0] ?? 0) - 128 !== out.zeroPoint) ctx.fail(`${where}, ${describe(src)}.quantization`, `uint8 -> int8 must keep the scale and shift the zero point by 128 (scale ${q?.scale[0]}, zero point ${q?.zeroPoint[0]} -> ${out.scale}, ${out.zeroPoint})`);
          inputType = 'uint8';
        } else if (t.type === TensorType.FLOAT32) inputType = 'float32';
        else ctx.fail(`${where}, ${describe(src)}.type`, `QUANTIZE from ${typeName(t.type)} is not supported (uint8 or float32)`);
        inputIndex = oi;
        return undefined;
      }
      case Op.DEQUANTIZE: {
        const src = op.inputs[0];
        use(src, where);
        const o = op.outputs[0];
        if (op.outputs.length !== 1 || !outputs.has(o) || m.tensors[o].type !== TensorType.FLOAT32) ctx.fail(where, 'DEQUANTIZE is supported only from int8 to a float32 model output');
        dequantized.set(o, src);
        return undefined;
      }
      case Op.RESHAPE: {
        const tin = use(op.inputs[0], where);
        const [oi, out] = out1();
        if (JSON.stringify(tin.dims) !== JSON.stringify(out.dims)) ctx.fail(where, `RESHAPE from ${fmt(tin.dims)} to ${fmt(out.dims)} changes the layout (only [1,1,1,C] <-> [1,C] is supported)`);
        sameQuant(tin, out, 'RESHAPE');
        delete tensors[out.name];
        delete tensorIndex[out.name];
        alias.set(oi, tin.name);
        return undefined;
      }
      case Op.PAD: {
        const tin = use(op.inputs[0], where);
        if (op.inputs.length !== 2 || op.outputs.length !== 1) ctx.fail(where, 'PAD needs an input and constant paddings (no constant value)');
        const p = int32s(constant(op.inputs[1], `${where}, paddings`, TensorType.INT32, [4, 2]));
        if (p[0] || p[1] || p[6] || p[7] || p.some((v) => v < 0 || v > TFLITE_LIMITS.kernel)) ctx.fail(`${where}, paddings`, `[${Array.from(p)}]: only non-negative height and width padding is supported`);
        const oi = op.outputs[0];
        const t = m.tensors[oi];
        const want = [1, tin.dims.h + p[2] + p[3], tin.dims.w + p[4] + p[5], tin.dims.c];
        if (t.type !== TensorType.INT8 || t.data || t.shape.join() !== want.join()) ctx.fail(`${where}, ${describe(oi)}`, `must be an int8 activation of shape [${want}]`);
        if (t.quant?.scale[0] !== tin.scale || (t.quant?.zeroPoint[0] ?? 0) !== tin.zeroPoint) ctx.fail(`${where}, ${describe(oi)}.quantization`, 'PAD must keep the quantization of its input');
        padded.set(oi, { src: tin, top: p[2], bottom: p[3], left: p[4], right: p[5] });
        return undefined;
      }
      case Op.CONV_2D: {
        const o = op.options;
        if (o.kind !== 'conv2d') return ctx.fail(`${where}.builtin_options`, 'missing Conv2DOptions');
        const pin = padded.get(op.inputs[0]);
        const pre = pin ?? { top: 0, bottom: 0, left: 0, right: 0 };
        const tin = pin ? pin.src : use(op.inputs[0], where);
        const [, out] = out1();
        if (o.dilationW !== 1 || o.dilationH !== 1) ctx.fail(`${where}.dilation`, `dilation ${o.dilationH}x${o.dilationW} is not supported (1 only)`);
        const fi = op.inputs[1];
        const ft = fi === undefined || fi < 0 ? undefined : m.tensors[fi];
        if (!ft || ft.shape.length !== 4) ctx.fail(`${where}, filter`, 'needs a 4-D [O,KH,KW,I] int8 filter');
        const [oc, kh, kw, ic] = ft.shape;
        if (ic !== tin.dims.c) ctx.fail(`${where}, ${describe(fi)}.shape`, `filter has ${ic} input channels, the input ${tin.dims.c} (grouped convolution is not supported)`);
        if (oc !== out.dims.c) ctx.fail(`${where}, ${describe(fi)}.shape`, `filter has ${oc} output channels, the output ${out.dims.c}`);
        checkWindow(kh, kw, o.strideH, o.strideW, where);
        const filter = constant(fi, `${where}, filter`, TensorType.INT8, undefined);
        const fq = filter.quant;
        if (!fq || (fq.scale.length !== oc && fq.scale.length !== 1)) ctx.fail(`${where}, ${describe(fi)}.quantization.scale`, `needs ${oc} per-channel scales (or one), has ${fq?.scale.length ?? 0}`);
        if (fq.scale.length > 1 && fq.quantizedDimension !== 0) ctx.fail(`${where}, ${describe(fi)}.quantization.quantized_dimension`, `is ${fq.quantizedDimension} (per-channel scales must be on dimension 0)`);
        if (fq.zeroPoint.some((z) => z !== 0)) ctx.fail(`${where}, ${describe(fi)}.quantization.zero_point`, 'int8 filters must be symmetric (zero point 0)');
        const weightScales = Float64Array.from({ length: oc }, (_, c) => fq.scale[fq.scale.length === 1 ? 0 : c]);
        if (weightScales.some((s) => !(s > 0 && Number.isFinite(s)))) ctx.fail(`${where}, ${describe(fi)}.quantization.scale`, 'filter scales must be positive');
        const bi = op.inputs[2];
        const bias = bi === undefined || bi < 0 ? new Int32Array(oc) : int32s(constant(bi, `${where}, bias`, TensorType.INT32, [oc]));
        const multiplier = new Int32Array(oc);
        const shift = new Int32Array(oc);
        weightScales.forEach((ws, c) => {
          const q = convMultiplier(tin.scale, ws, out.scale);
          multiplier[c] = q.mult;
          shift[c] = q.shift;
        });
        const ph = axis(o.padding, tin.dims.h + pre.top + pre.bottom, kh, o.strideH, out.dims.h, where, 'height');
        const pw = axis(o.padding, tin.dims.w + pre.left + pre.right, kw, o.strideW, out.dims.w, where, 'width');
        ph.before += pre.top;
        ph.after += pre.bottom;
        pw.before += pre.left;
        pw.after += pre.right;
        return {
          ...base,
          op: 'conv',
          inputs: [tin.name],
          output: out.name,
          kernel: [kh, kw],
          stride: [o.strideH, o.strideW],
          pad: { top: ph.before, left: pw.before, bottom: ph.after, right: pw.after },
          weights: new Int8Array(filter.data!.buffer.slice(filter.data!.byteOffset, filter.data!.byteOffset + filter.data!.length)),
          bias,
          weightScales,
          multiplier,
          shift,
          inputOffset: -tin.zeroPoint,
          outputOffset: out.zeroPoint,
          ...act(o.activation, out, 'fused_activation_function'),
        };
      }
      case Op.MAX_POOL_2D:
      case Op.AVERAGE_POOL_2D: {
        const o = op.options;
        if (o.kind !== 'pool2d') return ctx.fail(`${where}.builtin_options`, 'missing Pool2DOptions');
        const tin = use(op.inputs[0], where);
        const [, out] = out1();
        if (out.dims.c !== tin.dims.c) ctx.fail(where, `pooling changes the channels from ${tin.dims.c} to ${out.dims.c}`);
        sameQuant(tin, out, opName(op.builtin));
        checkWindow(o.filterH, o.filterW, o.strideH, o.strideW, where);
        const ph = axis(o.padding, tin.dims.h, o.filterH, o.strideH, out.dims.h, where, 'height');
        const pw = axis(o.padding, tin.dims.w, o.filterW, o.strideW, out.dims.w, where, 'width');
        return {
          ...base,
          op: op.builtin === Op.MAX_POOL_2D ? 'maxpool' : 'avgpool',
          inputs: [tin.name],
          output: out.name,
          kernel: [o.filterH, o.filterW],
          stride: [o.strideH, o.strideW],
          pad: { top: ph.before, left: pw.before, bottom: ph.after, right: pw.after },
          ...act(o.activation, out, 'fused_activation_function'),
        };
      }
      case Op.MEAN: {
        const o = op.options;
        const tin = use(op.inputs[0], where);
        const [oi, out] = out1();
        const axes = int32s(constant(op.inputs[1], `${where}, axis`, TensorType.INT32, undefined));
        const resolved = [...new Set(Array.from(axes, (a) => (a < 0 ? a + 4 : a)))].sort();
        if (m.tensors[op.inputs[0]].shape.length !== 4 || resolved.join() !== '1,2') ctx.fail(`${where}, axis`, `MEAN over axes [${Array.from(axes)}] is not supported (only H and W of a 4-D tensor: [1, 2])`);
        const keep = o.kind === 'reducer' && o.keepDims;
        if (m.tensors[oi].shape.length !== (keep ? 4 : 2) || out.dims.h !== 1 || out.dims.w !== 1 || out.dims.c !== tin.dims.c) ctx.fail(`${where}, ${describe(oi)}.shape`, `[${m.tensors[oi].shape}] does not match MEAN of ${fmt(tin.dims)} with keep_dims ${keep}`);
        const count = tin.dims.h * tin.dims.w;
        if (count > GAP_MAX_COUNT) ctx.fail(where, `MEAN over ${count} elements (at most ${GAP_MAX_COUNT})`);
        const q = meanMultiplier(tin.scale, out.scale, count);
        return {
          ...base,
          op: 'avgpool',
          inputs: [tin.name],
          output: out.name,
          kernel: [tin.dims.h, tin.dims.w],
          stride: [1, 1],
          pad: { top: 0, left: 0, bottom: 0, right: 0 },
          actMin: -128,
          actMax: 127,
          requant: { inputOffset: -tin.zeroPoint, outputOffset: out.zeroPoint, mult: q.mult, shift: q.shift },
        };
      }
      case Op.CONCATENATION: {
        const o = op.options;
        if (o.kind !== 'concat') return ctx.fail(`${where}.builtin_options`, 'missing ConcatenationOptions');
        const ins = op.inputs.map((i) => use(i, where));
        const [oi, out] = out1();
        const rank = m.tensors[oi].shape.length;
        if (o.axis !== rank - 1 && o.axis !== -1) ctx.fail(`${where}.axis`, `concatenation on axis ${o.axis} is not supported (channels: ${rank - 1} or -1)`);
        if (o.activation !== Activation.NONE) ctx.fail(`${where}.fused_activation_function`, 'must be NONE');
        for (const t of ins) {
          sameQuant(t, out, 'CONCATENATION');
          if (t.dims.h !== out.dims.h || t.dims.w !== out.dims.w) ctx.fail(where, `input ${printable(t.name)} is ${fmt(t.dims)}, the output ${fmt(out.dims)}`);
        }
        if (ins.reduce((s, t) => s + t.dims.c, 0) !== out.dims.c) ctx.fail(where, `input channels add up to ${ins.reduce((s, t) => s + t.dims.c, 0)}, the output has ${out.dims.c}`);
        return { ...base, op: 'concat', inputs: ins.map((t) => t.name), output: out.name };
      }
      case Op.ADD: {
        const o = op.options;
        if (op.inputs.length !== 2) ctx.fail(where, `${op.inputs.length} inputs (expected 2)`);
        const [a, b] = op.inputs.map((i) => use(i, where));
        const [, out] = out1();
        if (fmt(a.dims) !== fmt(out.dims) || fmt(b.dims) !== fmt(out.dims)) ctx.fail(where, `shapes ${fmt(a.dims)} + ${fmt(b.dims)} -> ${fmt(out.dims)} (broadcasting is not supported)`);
        const p = addParams(a.scale, b.scale, out.scale);
        return {
          ...base,
          op: 'add',
          inputs: [a.name, b.name],
          output: out.name,
          input1Offset: -a.zeroPoint,
          input1Mult: p.m1.mult,
          input1Shift: p.m1.shift,
          input2Offset: -b.zeroPoint,
          input2Mult: p.m2.mult,
          input2Shift: p.m2.shift,
          leftShift: p.leftShift,
          outputOffset: out.zeroPoint,
          outputMult: p.mo.mult,
          outputShift: p.mo.shift,
          ...act(o.kind === 'add' ? o.activation : Activation.NONE, out, 'fused_activation_function'),
        };
      }
      case Op.SOFTMAX: {
        const o = op.options;
        const tin = use(op.inputs[0], where);
        const [oi, out] = out1();
        if (out.scale !== 1 / 256 || out.zeroPoint !== -128) ctx.fail(`${where}, ${describe(oi)}.quantization`, `int8 softmax output must have scale 1/256 and zero point -128 (has ${out.scale}, ${out.zeroPoint})`);
        if (fmt(tin.dims) !== fmt(out.dims)) ctx.fail(where, `shape changes from ${fmt(tin.dims)} to ${fmt(out.dims)}`);
        const beta = o.kind === 'softmax' ? o.beta : 0;
        if (!(beta > 0 && Number.isFinite(beta))) ctx.fail(`${where}.beta`, `beta ${beta} is not a positive number`);
        const sp = softmaxParams(tin.scale, beta);
        if (sp.shift < 0) ctx.fail(`${where}, ${describe(op.inputs[0])}.quantization.scale`, `input scale ${tin.scale} is too small for int8 softmax (TFLite needs beta * scale * 2^26 >= 1)`);
        return { ...base, op: 'softmax', inputs: [tin.name], output: out.name, ...sp };
      }
      default:
        return ctx.fail(where, `operator ${op.builtin < 0 ? `custom "${printable(op.custom ?? '')}"` : opName(op.builtin)} is not supported`);
    }
  }

  function axis(padding: number, input: number, kernel: number, stride: number, out: number, where: string, name: string): { before: number; after: number } {
    if (padding !== 0 && padding !== 1) ctx.fail(`${where}.padding`, `padding ${padding} is not SAME or VALID`);
    const p = tflitePadding(padding, input, kernel, stride);
    if (p.out !== out) ctx.fail(where, `output ${name} ${out} differs from the ${p.out} that ${padding === 0 ? 'SAME' : 'VALID'} padding gives for input ${input}, window ${kernel}, stride ${stride}`);
    if (out < 1) ctx.fail(where, `window ${kernel} is larger than the input ${name} ${input}`);
    const total = Math.max((out - 1) * stride + kernel - input, 0);
    return { before: p.before, after: total - p.before };
  }

  function checkWindow(kh: number, kw: number, sh: number, sw: number, where: string): void {
    for (const [v, f, max] of [[kh, 'filter height', TFLITE_LIMITS.kernel], [kw, 'filter width', TFLITE_LIMITS.kernel], [sh, 'stride_h', TFLITE_LIMITS.stride], [sw, 'stride_w', TFLITE_LIMITS.stride]] as const) {
      if (!(Number.isInteger(v) && v >= 1 && v <= max)) ctx.fail(`${where}.${f}`, `${v} is outside 1..${max}`);
    }
  }

  const inputName = alias.get(inputIndex) ?? activation(inputIndex, 'subgraph input').name;
  const outNames = m.outputs.map((o) => {
    const src = dequantized.get(o) ?? o;
    if (!produced.has(src)) ctx.fail(`subgraph.outputs, ${describe(o)}`, 'no operator writes this output');
    return activation(src, `subgraph output ${describe(o)}`).name;
  });
  if (layers.length === 0) ctx.fail('subgraph.operators', 'the model has no layers sqzfw can run');
  return { model: { name, input: inputName, outputs: outNames, tensors, layers }, inputType, tensorIndex };
}

function toDims(shape: number[], ctx: Ctx, where: string): Dims {
  for (const d of shape) if (!(Number.isInteger(d) && d >= 1 && d <= TFLITE_LIMITS.dim)) ctx.fail(where, `dimension ${d} in [${shape}] is outside 1..${TFLITE_LIMITS.dim}`);
  let dims: Dims;
  if (shape.length === 4 && shape[0] === 1) dims = { h: shape[1], w: shape[2], c: shape[3] };
  else if (shape.length === 2 && shape[0] === 1) dims = { h: 1, w: 1, c: shape[1] };
  else return ctx.fail(where, `shape [${shape}] is not [1,H,W,C] or [1,C] (batch 1, NHWC)`);
  if (dims.h * dims.w * dims.c > TFLITE_LIMITS.elements) ctx.fail(where, `[${shape}] has more than ${TFLITE_LIMITS.elements} elements`);
  return dims;
}

const fmt = (d: Dims): string => `${d.h}x${d.w}x${d.c}`;

/** Tensor names usable as QModel names: whitespace replaced, empty or repeated names made unique. */
function uniqueNames(m: TflModel): string[] {
  const seen = new Set<string>();
  return m.tensors.map((t, i) => {
    let n = t.name.replace(/\s+/g, '_').replace(/[^\x21-\x7e]/g, '_');
    if (!n || seen.has(n)) n = `${n || 'tensor'}_${i}`;
    seen.add(n);
    return n;
  });
}

/** Parses and imports .tflite bytes. `what` names the source in errors. */
export function importTflite(bytes: Uint8Array, what = 'model', name = 'tflite-model'): TfliteImport {
  let m: TflModel;
  try {
    m = readTflite(bytes);
  } catch (e) {
    if (e instanceof TfliteFormatError) throw new UserError(`${what} is not a valid .tflite file: ${e.message}`, 'the file is damaged or not a TFLite flatbuffer');
    throw e;
  }
  return tfliteToQModel(m, what, name);
}
