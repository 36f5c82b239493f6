/**
 * TflModel -> .tflite bytes with the flatbuffers runtime's Builder. Buffer 0 is the empty buffer (TFLite's
 * convention); each constant tensor gets its own buffer, 16-byte aligned. Deterministic: same model, same bytes.
 */
import { Builder } from 'flatbuffers';
import { F, FILE_IDENTIFIER, Options, SCHEMA_VERSION } from './schema.js';
import type { TflModel, TflOperator, TflOptions, TflQuant, TflTensor } from './types.js';

type Offset = number;

function intVector(b: Builder, xs: number[]): Offset {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]);
  return b.endVector();
}

function floatVector(b: Builder, xs: number[]): Offset {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addFloat32(xs[i]);
  return b.endVector();
}

function longVector(b: Builder, xs: number[]): Offset {
  b.startVector(8, xs.length, 8);
  for (let i = xs.length - 1; i >= 0; i--) b.addInt64(BigInt(xs[i]));
  return b.endVector();
}

function offsetVector(b: Builder, xs: Offset[]): Offset {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addOffset(xs[i]);
  return b.endVector();
}

function byteVector(b: Builder, data: Uint8Array): Offset {
  b.startVector(1, data.length, 16);
  for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
  return b.endVector();
}

function quantization(b: Builder, q: TflQuant): Offset {
  const scale = floatVector(b, q.scale);
  const zp = longVector(b, q.zeroPoint);
  const f = F.quantization;
  b.startObject(f.quantizedDimension + 1);
  b.addFieldOffset(f.scale, scale, 0);
  b.addFieldOffset(f.zeroPoint, zp, 0);
  b.addFieldInt32(f.quantizedDimension, q.quantizedDimension, 0);
  return b.endObject();
}

function tensor(b: Builder, t: TflTensor, bufferIndex: number): Offset {
  const shape = intVector(b, t.shape);
  const name = b.createString(t.name);
  const quant = t.quant ? quantization(b, t.quant) : 0;
  const f = F.tensor;
  b.startObject(f.quantization + 1);
  b.addFieldOffset(f.shape, shape, 0);
  b.addFieldInt8(f.type, t.type, 0);
  b.addFieldInt32(f.buffer, bufferIndex, 0);
  b.addFieldOffset(f.name, name, 0);
  if (quant) b.addFieldOffset(f.quantization, quant, 0);
  return b.endObject();
}

/** The BuiltinOptions table of an operator: [union type, table offset]. */
function options(b: Builder, o: TflOptions): [number, Offset] {
  switch (o.kind) {
    case 'none':
      return [Options.NONE, 0];
    case 'conv2d': {
      const f = F.conv2d;
      b.startObject(f.dilationH + 1);
      b.addFieldInt8(f.padding, o.padding, 0);
      b.addFieldInt32(f.strideW, o.strideW, 0);
      b.addFieldInt32(f.strideH, o.strideH, 0);
      b.addFieldInt8(f.activation, o.activation, 0);
      b.addFieldInt32(f.dilationW, o.dilationW, 1);
      b.addFieldInt32(f.dilationH, o.dilationH, 1);
      return [Options.Conv2DOptions, b.endObject()];
    }
    case 'pool2d': {
      const f = F.pool2d;
      b.startObject(f.activation + 1);
      b.addFieldInt8(f.padding, o.padding, 0);
      b.addFieldInt32(f.strideW, o.strideW, 0);
      b.addFieldInt32(f.strideH, o.strideH, 0);
      b.addFieldInt32(f.filterW, o.filterW, 0);
      b.addFieldInt32(f.filterH, o.filterH, 0);
      b.addFieldInt8(f.activation, o.activation, 0);
      return [Options.Pool2DOptions, b.endObject()];
    }
    case 'concat':
      b.startObject(F.concat.activation + 1);
      b.addFieldInt32(F.concat.axis, o.axis, 0);
      b.addFieldInt8(F.concat.activation, o.activation, 0);
      return [Options.ConcatenationOptions, b.endObject()];
    case 'add':
      b.startObject(F.add.activation + 1);
      b.addFieldInt8(F.add.activation, o.activation, 0);
      return [Options.AddOptions, b.endObject()];
    case 'softmax':
      b.startObject(F.softmax.beta + 1);
      b.addFieldFloat32(F.softmax.beta, o.beta, 0);
      return [Options.SoftmaxOptions, b.endObject()];
    case 'reducer':
      b.startObject(F.reducer.keepDims + 1);
      b.addFieldInt8(F.reducer.keepDims, o.keepDims ? 1 : 0, 0);
      return [Options.ReducerOptions, b.endObject()];
    case 'other':
      throw new Error(`cannot write builtin options of union type ${o.type}`);
  }
}

function operator(b: Builder, op: TflOperator, opcodeIndex: number): Offset {
  const inputs = intVector(b, op.inputs);
  const outputs = intVector(b, op.outputs);
  const [type, opts] = options(b, op.options);
  const f = F.operator;
  b.startObject(f.builtinOptions + 1);
  b.addFieldInt32(f.opcodeIndex, opcodeIndex, 0);
  b.addFieldOffset(f.inputs, inputs, 0);
  b.addFieldOffset(f.outputs, outputs, 0);
  if (type !== Options.NONE) {
    b.addFieldInt8(f.builtinOptionsType, type, 0);
    b.addFieldOffset(f.builtinOptions, opts, 0);
  }
  return b.endObject();
}

function operatorCode(b: Builder, builtin: number, version: number): Offset {
  const f = F.operatorCode;
  b.startObject(f.builtinCode + 1);
  b.addFieldInt8(f.deprecatedBuiltinCode, Math.min(builtin, 127), 0);
  b.addFieldInt32(f.version, version, 1);
  b.addFieldInt32(f.builtinCode, builtin, 0);
  return b.endObject();
}

export function writeTflite(m: TflModel): Uint8Array {
  const b = new Builder(1 << 16);
  // Operator codes: one per (builtin, version), in order of first use.
  const codes: { builtin: number; version: number }[] = [];
  const codeIndex = m.operators.map((op) => {
    if (op.builtin < 0) throw new Error('cannot write custom operators');
    let i = codes.findIndex((c) => c.builtin === op.builtin && c.version === op.version);
    if (i < 0) i = codes.push({ builtin: op.builtin, version: op.version }) - 1;
    return i;
  });
  // Buffers: 0 is empty, then one per constant tensor.
  const bufferOf: number[] = [];
  const bufferData: (Uint8Array | undefined)[] = [undefined];
  for (const t of m.tensors) bufferOf.push(t.data ? bufferData.push(t.data) - 1 : 0);

  const tensors = offsetVector(b, m.tensors.map((t, i) => tensor(b, t, bufferOf[i])));
  const ops = offsetVector(b, m.operators.map((op, i) => operator(b, op, codeIndex[i])));
  const sgInputs = intVector(b, m.inputs);
  const sgOutputs = intVector(b, m.outputs);
  const sgName = b.createString('main');
  const fs = F.subgraph;
  b.startObject(fs.name + 1);
  b.addFieldOffset(fs.tensors, tensors, 0);
  b.addFieldOffset(fs.inputs, sgInputs, 0);
  b.addFieldOffset(fs.outputs, sgOutputs, 0);
  b.addFieldOffset(fs.operators, ops, 0);
  b.addFieldOffset(fs.name, sgName, 0);
  const subgraphs = offsetVector(b, [b.endObject()]);

  const buffers = offsetVector(
    b,
    bufferData.map((d) => {
      const data = d ? byteVector(b, d) : 0;
      b.startObject(F.buffer.data + 1);
      if (data) b.addFieldOffset(F.buffer.data, data, 0);
      return b.endObject();
    }),
  );
  const opcodes = offsetVector(b, codes.map((c) => operatorCode(b, c.builtin, c.version)));
  const description = b.createString(m.description);
  const fm = F.model;
  b.startObject(fm.buffers + 1);
  b.addFieldInt32(fm.version, SCHEMA_VERSION, 0);
  b.addFieldOffset(fm.operatorCodes, opcodes, 0);
  b.addFieldOffset(fm.subgraphs, subgraphs, 0);
  b.addFieldOffset(fm.description, description, 0);
  b.addFieldOffset(fm.buffers, buffers, 0);
  b.finish(b.endObject(), FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

