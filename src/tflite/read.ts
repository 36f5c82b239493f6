/**
 * .tflite bytes -> TflModel, verifying as it reads: every offset, vtable and vector is checked against the file
 * before it is followed, and the elements materialized are bounded by a budget proportional to the file size,
 * so a damaged or hostile file gives a TfliteFormatError naming the field (never a crash, hang or huge
 * allocation). Constant data stays a view into the input bytes. Primitive reads use the flatbuffers ByteBuffer.
 */
import { ByteBuffer } from 'flatbuffers';
import { F, FILE_IDENTIFIER, Options } from './schema.js';
import type { TflModel, TflOperator, TflOptions, TflQuant, TflTensor } from './types.js';

export class TfliteFormatError extends Error {}

/** A name from the file as it may appear in a one-line message: printable ASCII, at most 60 characters. */
export const printable = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s).replace(/[^\x20-\x7e]/g, '?');

/** Bounds that no SqueezeNet-family file comes near. */
export const READ_LIMITS = { rank: 8, opIO: 1024, nameBytes: 1 << 16, quantChannels: 1 << 16 };

interface Table {
  pos: number;
  vtable: number;
  vsize: number;
  tsize: number;
}

class Reader {
  private readonly bb: ByteBuffer;
  private readonly len: number;
  /** Elements still allowed to be copied out of the file (shapes, indices, scales, names). */
  private budget: number;

  constructor(private readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.len = bytes.length;
    this.budget = 4 * bytes.length + 4096;
  }

  fail(where: string, what: string): never {
    throw new TfliteFormatError(`${where}: ${what}`);
  }

  private need(pos: number, size: number, where: string): void {
    if (!(Number.isInteger(pos) && pos >= 0 && pos + size <= this.len)) this.fail(where, `offset ${pos} (+${size}) is outside the ${this.len}-byte file`);
  }

  private spend(n: number, where: string): void {
    this.budget -= n;
    if (this.budget < 0) this.fail(where, 'the file references more data than it holds (repeated or overlapping vectors)');
  }

  u8(pos: number, where: string): number {
    this.need(pos, 1, where);
    return this.bb.readUint8(pos);
  }

  u32(pos: number, where: string): number {
    this.need(pos, 4, where);
    return this.bb.readUint32(pos);
  }

  /** The table an offset field at `pos` points to. */
  table(pos: number, where: string): Table {
    const t = pos + this.u32(pos, where);
    this.need(t, 4, where);
    const vtable = t - this.bb.readInt32(t);
    this.need(vtable, 4, `${where} (vtable)`);
    const vsize = this.bb.readUint16(vtable);
    const tsize = this.bb.readUint16(vtable + 2);
    if (vsize < 4 || vsize % 2 !== 0) this.fail(where, `vtable size ${vsize} is invalid`);
    this.need(vtable, vsize, `${where} (vtable)`);
    if (tsize < 4) this.fail(where, `table size ${tsize} is invalid`);
    this.need(t, tsize, where);
    return { pos: t, vtable, vsize, tsize };
  }

  /** Absolute position of field `id` in table `t`, or 0 when absent. */
  field(t: Table, id: number, size: number, where: string): number {
    const vo = 4 + 2 * id;
    if (vo + 2 > t.vsize) return 0;
    const o = this.bb.readUint16(t.vtable + vo);
    if (o === 0) return 0;
    if (o < 4 || o + size > t.tsize) this.fail(where, `field at ${o} lies outside its ${t.tsize}-byte table`);
    return t.pos + o;
  }

  int(t: Table, id: number, def: number, where: string, bytes: 1 | 4 = 4, signed = true): number {
    const p = this.field(t, id, bytes, where);
    if (!p) return def;
    if (bytes === 1) return signed ? this.bb.readInt8(p) : this.bb.readUint8(p);
    return signed ? this.bb.readInt32(p) : this.bb.readUint32(p);
  }

  float(t: Table, id: number, def: number, where: string): number {
    const p = this.field(t, id, 4, where);
    return p ? this.bb.readFloat32(p) : def;
  }

  subtable(t: Table, id: number, where: string): Table | undefined {
    const p = this.field(t, id, 4, where);
    return p ? this.table(p, where) : undefined;
  }

  /** [start of elements, count] of the vector field `id`, or undefined when absent. */
  vector(t: Table, id: number, elemSize: number, where: string): [number, number] | undefined {
    const p = this.field(t, id, 4, where);
    if (!p) return undefined;
    const v = p + this.u32(p, where);
    const n = this.u32(v, where);
    if (n > (this.len - v - 4) / elemSize) this.fail(where, `vector of ${n} elements runs past the end of the file`);
    return [v + 4, n];
  }

  ints(t: Table, id: number, where: string, max: number): number[] {
    const v = this.vector(t, id, 4, where);
    if (!v) return [];
    if (v[1] > max) this.fail(where, `${v[1]} entries (at most ${max})`);
    this.spend(v[1], where);
    return Array.from({ length: v[1] }, (_, i) => this.bb.readInt32(v[0] + 4 * i));
  }

  floats(t: Table, id: number, where: string, max: number): number[] {
    const v = this.vector(t, id, 4, where);
    if (!v) return [];
    if (v[1] > max) this.fail(where, `${v[1]} entries (at most ${max})`);
    this.spend(v[1], where);
    return Array.from({ length: v[1] }, (_, i) => this.bb.readFloat32(v[0] + 4 * i));
  }

  longs(t: Table, id: number, where: string, max: number): number[] {
    const v = this.vector(t, id, 8, where);
    if (!v) return [];
    if (v[1] > max) this.fail(where, `${v[1]} entries (at most ${max})`);
    this.spend(v[1], where);
    return Array.from({ length: v[1] }, (_, i) => {
      const x = this.bb.readInt64(v[0] + 8 * i);
      if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < -BigInt(Number.MAX_SAFE_INTEGER)) this.fail(where, `value ${x} is out of range`);
      return Number(x);
    });
  }

  bytesOf(t: Table, id: number, where: string): Uint8Array | undefined {
    const v = this.vector(t, id, 1, where);
    return v ? this.bytes.subarray(v[0], v[0] + v[1]) : undefined;
  }

  string(t: Table, id: number, where: string): string {
    const b = this.bytesOf(t, id, where);
    if (!b) return '';
    if (b.length > READ_LIMITS.nameBytes) this.fail(where, `string of ${b.length} bytes (at most ${READ_LIMITS.nameBytes})`);
    this.spend(b.length, where);
    return new TextDecoder('utf-8', { fatal: false }).decode(b);
  }

  /** The tables of the vector field `id`. */
  tables(t: Table, id: number, where: string): Table[] {
    const v = this.vector(t, id, 4, where);
    if (!v) return [];
    this.spend(v[1], where);
    return Array.from({ length: v[1] }, (_, i) => this.table(v[0] + 4 * i, `${where}[${i}]`));
  }
}

function readOptions(r: Reader, op: Table, where: string): TflOptions {
  const f = F.operator;
  const type = r.int(op, f.builtinOptionsType, 0, `${where}.builtin_options_type`, 1, false);
  if (type === Options.NONE) return { kind: 'none' };
  const t = r.subtable(op, f.builtinOptions, `${where}.builtin_options`);
  const w = `${where}.builtin_options`;
  // An absent options table means every field takes its default.
  const get = (id: number, def: number, bytes: 1 | 4 = 4): number => (t ? r.int(t, id, def, w, bytes) : def);
  switch (type) {
    case Options.Conv2DOptions: {
      const c = F.conv2d;
      return { kind: 'conv2d', padding: get(c.padding, 0, 1), strideW: get(c.strideW, 0), strideH: get(c.strideH, 0), activation: get(c.activation, 0, 1), dilationW: get(c.dilationW, 1), dilationH: get(c.dilationH, 1) };
    }
    case Options.Pool2DOptions: {
      const p = F.pool2d;
      return { kind: 'pool2d', padding: get(p.padding, 0, 1), strideW: get(p.strideW, 0), strideH: get(p.strideH, 0), filterW: get(p.filterW, 0), filterH: get(p.filterH, 0), activation: get(p.activation, 0, 1) };
    }
    case Options.ConcatenationOptions:
      return { kind: 'concat', axis: get(F.concat.axis, 0), activation: get(F.concat.activation, 0, 1) };
    case Options.AddOptions:
      return { kind: 'add', activation: get(F.add.activation, 0, 1) };
    case Options.SoftmaxOptions:
      return { kind: 'softmax', beta: t ? r.float(t, F.softmax.beta, 0, w) : 0 };
    case Options.ReducerOptions:
      return { kind: 'reducer', keepDims: get(F.reducer.keepDims, 0, 1) !== 0 };
    case Options.QuantizeOptions:
    case Options.DequantizeOptions:
    case Options.ReshapeOptions:
    case Options.PadOptions:
      return { kind: 'none' };
    default:
      return { kind: 'other', type };
  }
}

function readQuant(r: Reader, t: Table, where: string): TflQuant | undefined {
  const q = r.subtable(t, F.tensor.quantization, where);
  if (!q) return undefined;
  const f = F.quantization;
  const scale = r.floats(q, f.scale, `${where}.scale`, READ_LIMITS.quantChannels);
  const zeroPoint = r.longs(q, f.zeroPoint, `${where}.zero_point`, READ_LIMITS.quantChannels);
  if (r.int(q, f.detailsType, 0, `${where}.details_type`, 1, false) !== 0) r.fail(`${where}.details`, 'custom quantization details are not supported');
  if (scale.length === 0 && zeroPoint.length === 0) return undefined;
  return { scale, zeroPoint, quantizedDimension: r.int(q, f.quantizedDimension, 0, `${where}.quantized_dimension`) };
}

/** Parses a .tflite file (subgraph 0). Throws TfliteFormatError for anything malformed. */
export function readTflite(bytes: Uint8Array): TflModel {
  const r = new Reader(bytes);
  if (bytes.length < 8) r.fail('file', `${bytes.length} bytes is too short for a .tflite model`);
  const ident = String.fromCharCode(...bytes.subarray(4, 8));
  if (ident !== FILE_IDENTIFIER) r.fail('file', `identifier "${ident.replace(/[^\x20-\x7e]/g, '?')}" is not "${FILE_IDENTIFIER}" (not a .tflite flatbuffer)`);
  const model = r.table(0, 'model');
  const fm = F.model;
  const version = r.int(model, fm.version, 0, 'model.version', 4, false);
  if (version !== 3) r.fail('model.version', `schema version ${version} (expected 3)`);

  const buffers = r.tables(model, fm.buffers, 'model.buffers').map((b, i) => {
    const w = `model.buffers[${i}]`;
    if (r.field(b, F.buffer.offset, 8, w)) r.fail(`${w}.offset`, 'data stored outside the flatbuffer is not supported');
    return r.bytesOf(b, F.buffer.data, `${w}.data`);
  });

  const codes = r.tables(model, fm.operatorCodes, 'model.operator_codes').map((c, i) => {
    const w = `model.operator_codes[${i}]`;
    const f = F.operatorCode;
    const deprecated = r.int(c, f.deprecatedBuiltinCode, 0, w, 1);
    const builtin = Math.max(deprecated, r.int(c, f.builtinCode, 0, w));
    const custom = r.field(c, f.customCode, 4, w) ? r.string(c, f.customCode, `${w}.custom_code`) : undefined;
    return { builtin: custom !== undefined ? -1 : builtin, custom, version: r.int(c, f.version, 1, w) };
  });

  const subgraphs = r.tables(model, fm.subgraphs, 'model.subgraphs');
  if (subgraphs.length === 0) r.fail('model.subgraphs', 'the model has no subgraph');
  const sg = subgraphs[0];
  const fs = F.subgraph;

  const tensors: TflTensor[] = r.tables(sg, fs.tensors, 'subgraph.tensors').map((t, i) => {
    const w = `tensor ${i}`;
    const f = F.tensor;
    const name = r.string(t, f.name, `${w}.name`);
    const shown = `${w} "${printable(name)}"`;
    const shape = r.ints(t, f.shape, `${shown}.shape`, READ_LIMITS.rank);
    const type = r.int(t, f.type, 0, `${w}.type`, 1);
    const bufferIndex = r.int(t, f.buffer, 0, `${w}.buffer`, 4, false);
    if (bufferIndex >= Math.max(buffers.length, 1)) r.fail(`${shown}.buffer`, `buffer ${bufferIndex} does not exist (the model has ${buffers.length})`);
    if (r.field(t, f.sparsity, 4, w)) r.fail(`${shown}.sparsity`, 'sparse tensors are not supported');
    const data = bufferIndex > 0 ? buffers[bufferIndex] : undefined;
    const quant = readQuant(r, t, `${shown}.quantization`);
    return { name, shape, type, ...(data && data.length ? { data } : {}), ...(quant ? { quant } : {}) };
  });

  const operators: TflOperator[] = r.tables(sg, fs.operators, 'subgraph.operators').map((op, i) => {
    const w = `operator ${i}`;
    const f = F.operator;
    const ci = r.int(op, f.opcodeIndex, 0, `${w}.opcode_index`, 4, false);
    if (ci >= codes.length) r.fail(`${w}.opcode_index`, `operator code ${ci} does not exist (the model has ${codes.length})`);
    const inputs = r.ints(op, f.inputs, `${w}.inputs`, READ_LIMITS.opIO);
    const outputs = r.ints(op, f.outputs, `${w}.outputs`, READ_LIMITS.opIO);
    for (const x of [...inputs, ...outputs]) if (x < -1 || x >= tensors.length) r.fail(`${w}.inputs/outputs`, `tensor index ${x} does not exist (the subgraph has ${tensors.length})`);
    const c = codes[ci];
    return { builtin: c.builtin, ...(c.custom !== undefined ? { custom: c.custom } : {}), version: c.version, inputs, outputs, options: readOptions(r, op, w) };
  });

  const io = (id: number, what: string): number[] => {
    const xs = r.ints(sg, id, `subgraph.${what}`, READ_LIMITS.opIO);
    for (const x of xs) if (x < 0 || x >= tensors.length) r.fail(`subgraph.${what}`, `tensor index ${x} does not exist`);
    return xs;
  };
  return { description: r.string(model, fm.description, 'model.description'), tensors, operators, inputs: io(fs.inputs, 'inputs'), outputs: io(fs.outputs, 'outputs') };
}
