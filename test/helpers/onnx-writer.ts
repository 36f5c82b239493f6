/**
 * Writes ONNX protobufs for tests, with its own minimal protobuf encoder (independent of the protobufjs schema the
 * importer uses, so a wrong field number on either side shows up). Field numbers follow onnx.proto.
 * Also builds torchvision-style SqueezeNet 1.0 / 1.1 graphs as torch.onnx.export writes them.
 */
import { mulberry32 } from '../../src/util/random.js';

// ---------- wire format ----------

class Enc {
  private chunks: number[] = [];
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      this.chunks.push(b);
    } while (x);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  len(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.chunks.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.len(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Uint8Array): this {
    return this.len(field, m);
  }
  f32(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.tag(field, 5);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  packedVarints(field: number, vs: (number | bigint)[]): this {
    const e = new Enc();
    for (const v of vs) e.varint(v);
    return this.len(field, e.bytes());
  }
  packedF32(field: number, vs: ArrayLike<number>): this {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat32(i * 4, vs[i], true);
    return this.len(field, b);
  }
  packedF64(field: number, vs: ArrayLike<number>): this {
    const b = new Uint8Array(vs.length * 8);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat64(i * 8, vs[i], true);
    return this.len(field, b);
  }
}

export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 };

export interface TensorSpec {
  name: string;
  dims: number[];
  dataType?: number;
  /** Float values: stored as raw_data (default) or float_data / double_data. */
  floats?: ArrayLike<number>;
  ints?: number[];
  storage?: 'raw' | 'typed';
  /** Bytes to store as raw_data verbatim. */
  raw?: Uint8Array;
  external?: boolean;
}

function f16(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 8192);
}

export function tensor(t: TensorSpec): Uint8Array {
  const e = new Enc();
  const dt = t.dataType ?? (t.ints ? DT.INT64 : DT.FLOAT);
  if (t.dims.length) e.packedVarints(1, t.dims);
  e.int(2, dt);
  e.str(8, t.name);
  if (t.raw) e.len(9, t.raw);
  else if (t.ints) {
    if (t.storage === 'typed') e.packedVarints(dt === DT.INT64 ? 7 : 5, t.ints);
    else {
      const w = dt === DT.INT64 ? 8 : 4;
      const b = new Uint8Array(t.ints.length * w);
      const dv = new DataView(b.buffer);
      t.ints.forEach((v, i) => (w === 8 ? dv.setBigInt64(i * 8, BigInt(v), true) : dv.setInt32(i * 4, v, true)));
      e.len(9, b);
    }
  } else if (t.floats) {
    const vs = t.floats;
    if (dt === DT.FLOAT16) {
      const b = new Uint8Array(vs.length * 2);
      const dv = new DataView(b.buffer);
      for (let i = 0; i < vs.length; i++) dv.setUint16(i * 2, f16(vs[i]), true);
      e.len(9, b);
    } else if (t.storage === 'typed') {
      if (dt === DT.DOUBLE) e.packedF64(10, vs);
      else e.packedF32(4, vs);
    } else {
      const w = dt === DT.DOUBLE ? 8 : 4;
      const b = new Uint8Array(vs.length * w);
      const dv = new DataView(b.buffer);
      for (let i = 0; i < vs.length; i++) (w === 8 ? dv.setFloat64(i * 8, vs[i], true) : dv.setFloat32(i * 4, vs[i], true));
      e.len(9, b);
    }
  }
  if (t.external) {
    e.msg(13, new Enc().str(1, 'location').str(2, 'weights.bin').bytes());
    e.int(14, 1);
  }
  return e.bytes();
}

export type AttrValue = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] } | { t: TensorSpec } | { g: true };

export function attribute(name: string, v: AttrValue): Uint8Array {
  const e = new Enc().str(1, name);
  if ('i' in v) e.int(20, 2).int(3, v.i);
  else if ('f' in v) e.int(20, 1).f32(2, v.f);
  else if ('s' in v) e.int(20, 3).str(4, v.s);
  else if ('ints' in v) {
    e.int(20, 7);
    for (const x of v.ints) e.int(8, x); // unpacked, as onnx's Python helper writes them
  } else if ('floats' in v) {
    e.int(20, 6);
    for (const x of v.floats) e.f32(7, x);
  } else if ('t' in v) e.int(20, 4).msg(5, tensor(v.t));
  else e.int(20, 5).msg(6, new Enc().str(2, 'subgraph').bytes());
  return e.bytes();
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export function node(n: NodeSpec): Uint8Array {
  const e = new Enc();
  for (const i of n.inputs) e.str(1, i);
  for (const o of n.outputs) e.str(2, o);
  if (n.name !== undefined) e.str(3, n.name);
  e.str(4, n.op);
  if (n.domain) e.str(7, n.domain);
  for (const [k, v] of Object.entries(n.attrs ?? {})) e.msg(5, attribute(k, v));
  return e.bytes();
}

/** ValueInfoProto; shape entries: a number (dim_value), a string (dim_param) or null (neither). */
export function valueInfo(name: string, shape?: (number | string | null)[], elemType = DT.FLOAT): Uint8Array {
  const tt = new Enc().int(1, elemType);
  if (shape) {
    const s = new Enc();
    for (const d of shape) {
      const dim = new Enc();
      if (typeof d === 'number') dim.int(1, d);
      else if (typeof d === 'string') dim.str(2, d);
      s.msg(1, dim.bytes());
    }
    tt.msg(2, s.bytes());
  }
  const type = new Enc().msg(1, tt.bytes());
  return new Enc().str(1, name).msg(2, type.bytes()).bytes();
}

export interface ModelSpec {
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
  inputs: { name: string; shape?: (number | string | null)[]; elemType?: number }[];
  outputs: { name: string; shape?: (number | string | null)[] }[];
  opset?: number;
  irVersion?: number;
  graphName?: string;
  /** List initializers among the graph inputs too (keep_initializers_as_inputs=True, IR < 4). */
  initializersAsInputs?: boolean;
  producer?: string;
}

export function onnxModel(m: ModelSpec): Uint8Array {
  const g = new Enc();
  for (const n of m.nodes) g.msg(1, node(n));
  g.str(2, m.graphName ?? 'test-graph');
  for (const t of m.initializers ?? []) g.msg(5, tensor(t));
  for (const i of m.inputs) g.msg(11, valueInfo(i.name, i.shape, i.elemType));
  if (m.initializersAsInputs) for (const t of m.initializers ?? []) g.msg(11, valueInfo(t.name, t.dims));
  for (const o of m.outputs) g.msg(12, valueInfo(o.name, o.shape));
  const e = new Enc().int(1, m.irVersion ?? 8).str(2, m.producer ?? 'pytorch').str(3, '2.4.0');
  e.msg(7, g.bytes());
  e.msg(8, new Enc().str(1, '').int(2, m.opset ?? 17).bytes());
  return e.bytes();
}

// ---------- a small graph builder in torch.onnx.export's naming style ----------

export class GraphBuilder {
  nodes: NodeSpec[] = [];
  inits: TensorSpec[] = [];
  private rnd: () => number;
  private n = 0;
  constructor(
    seed = 1,
    readonly prefix = '',
  ) {
    this.rnd = mulberry32(seed);
  }
  /** Uniform weights in [-s, s]. */
  randn(count: number, s: number): Float32Array {
    return Float32Array.from({ length: count }, () => (this.rnd() * 2 - 1) * s);
  }
  private out(scope: string, op: string): { name: string; output: string } {
    const name = `${this.prefix}/${scope}/${op}`;
    return { name, output: `${name}_output_${this.n++}` };
  }
  conv(x: string, scope: string, cin: number, cout: number, k: number | [number, number], attrs: Record<string, AttrValue> = {}, opts: { bias?: boolean; param?: string; storage?: 'raw' | 'typed'; dataType?: number } = {}): string {
    const [kh, kw] = typeof k === 'number' ? [k, k] : k;
    const { name, output } = this.out(scope, 'Conv');
    const param = opts.param ?? scope.replace(/\//g, '.');
    const fanIn = cin * kh * kw;
    this.inits.push({ name: `${param}.weight`, dims: [cout, cin, kh, kw], floats: this.randn(cout * cin * kh * kw, Math.sqrt(3 / fanIn)), storage: opts.storage, dataType: opts.dataType });
    const inputs = [x, `${param}.weight`];
    if (opts.bias !== false) {
      this.inits.push({ name: `${param}.bias`, dims: [cout], floats: this.randn(cout, 0.1), storage: opts.storage, dataType: opts.dataType });
      inputs.push(`${param}.bias`);
    }
    this.nodes.push({ op: 'Conv', name, inputs, outputs: [output], attrs: { dilations: { ints: [1, 1] }, group: { i: 1 }, kernel_shape: { ints: [kh, kw] }, pads: { ints: [0, 0, 0, 0] }, strides: { ints: [1, 1] }, ...attrs } });
    return output;
  }
  op(op: string, scope: string, inputs: string[], attrs: Record<string, AttrValue> = {}, extraOutputs = 0): string {
    const { name, output } = this.out(scope, op);
    this.nodes.push({ op, name, inputs, outputs: [output, ...Array.from({ length: extraOutputs }, (_, i) => `${output}_extra${i}`)], attrs });
    return output;
  }
  relu(x: string, scope: string): string {
    return this.op('Relu', scope, [x]);
  }
  constInt64(name: string, values: number[]): string {
    this.inits.push({ name, dims: [values.length], ints: values });
    return name;
  }
}

export interface SqueezeNetExport {
  version: '1_0' | '1_1';
  inputSize?: number;
  classes?: number;
  seed?: number;
  /** torch.onnx exporter flavour: 'torchscript' (Flatten, opset 17) or 'legacy' (opset 9: Dropout kept, initializers as inputs, Reshape via Constant). */
  style?: 'torchscript' | 'legacy';
  dynamicBatch?: boolean;
}

/** torchvision.models.squeezenet1_0/1_1 as torch.onnx.export writes it (random weights). */
export function torchvisionSqueezeNet(o: SqueezeNetExport): { bytes: Uint8Array; spec: ModelSpec; inputName: string; outputName: string; classes: number; size: number } {
  const size = o.inputSize ?? 64;
  const classes = o.classes ?? 10;
  const style = o.style ?? 'torchscript';
  const b = new GraphBuilder(o.seed ?? 7);
  const fire = (x: string, idx: number, cin: number, sq: number, e1: number, e3: number): string => {
    const f = `features/features.${idx}`;
    const s = b.relu(b.conv(x, `${f}/squeeze`, cin, sq, 1, {}, { param: `features.${idx}.squeeze` }), `${f}/squeeze_activation`);
    const a = b.relu(b.conv(s, `${f}/expand1x1`, sq, e1, 1, {}, { param: `features.${idx}.expand1x1` }), `${f}/expand1x1_activation`);
    const c = b.relu(b.conv(s, `${f}/expand3x3`, sq, e3, 3, { pads: { ints: [1, 1, 1, 1] } }, { param: `features.${idx}.expand3x3` }), `${f}/expand3x3_activation`);
    return b.op('Concat', f, [a, c], { axis: { i: 1 } });
  };
  const pool = (x: string, idx: number): string => b.op('MaxPool', `features/features.${idx}`, [x], { ceil_mode: { i: 1 }, kernel_shape: { ints: [3, 3] }, pads: { ints: [0, 0, 0, 0] }, strides: { ints: [2, 2] } });
  let x = 'input';
  if (o.version === '1_0') {
    x = b.relu(b.conv(x, 'features/features.0', 3, 96, 7, { strides: { ints: [2, 2] } }, { param: 'features.0' }), 'features/features.1');
    x = pool(x, 2);
    x = fire(x, 3, 96, 16, 64, 64);
    x = fire(x, 4, 128, 16, 64, 64);
    x = fire(x, 5, 128, 32, 128, 128);
    x = pool(x, 6);
    x = fire(x, 7, 256, 32, 128, 128);
    x = fire(x, 8, 256, 48, 192, 192);
    x = fire(x, 9, 384, 48, 192, 192);
    x = fire(x, 10, 384, 64, 256, 256);
    x = pool(x, 11);
    x = fire(x, 12, 512, 64, 256, 256);
  } else {
    x = b.relu(b.conv(x, 'features/features.0', 3, 64, 3, { strides: { ints: [2, 2] } }, { param: 'features.0' }), 'features/features.1');
    x = pool(x, 2);
    x = fire(x, 3, 64, 16, 64, 64);
    x = fire(x, 4, 128, 16, 64, 64);
    x = pool(x, 5);
    x = fire(x, 6, 128, 32, 128, 128);
    x = fire(x, 7, 256, 32, 128, 128);
    x = pool(x, 8);
    x = fire(x, 9, 256, 48, 192, 192);
    x = fire(x, 10, 384, 48, 192, 192);
    x = fire(x, 11, 384, 64, 256, 256);
    x = fire(x, 12, 512, 64, 256, 256);
  }
  if (style === 'legacy') x = b.op('Dropout', 'classifier/classifier.0', [x], { ratio: { f: 0.5 } }, 1);
  x = b.relu(b.conv(x, 'classifier/classifier.1', 512, classes, 1, {}, { param: 'classifier.1' }), 'classifier/classifier.2');
  x = b.op('GlobalAveragePool', 'classifier/classifier.3', [x]);
  let out: string;
  if (style === 'legacy') {
    b.nodes.push({ op: 'Constant', name: 'Constant_60', inputs: [], outputs: ['shape_const'], attrs: { value: { t: { name: 'shape_const', dims: [2], ints: [1, -1] } } } });
    out = 'output';
    b.nodes.push({ op: 'Reshape', name: 'Reshape_61', inputs: [x, 'shape_const'], outputs: [out] });
  } else {
    out = 'output';
    b.nodes.push({ op: 'Flatten', name: '/Flatten', inputs: [x], outputs: [out], attrs: { axis: { i: 1 } } });
  }
  const batch = o.dynamicBatch ? 'batch_size' : 1;
  const spec: ModelSpec = {
    nodes: b.nodes,
    initializers: b.inits,
    inputs: [{ name: 'input', shape: [batch, 3, size, size] }],
    outputs: [{ name: out, shape: [batch, classes] }],
    opset: style === 'legacy' ? 9 : 17,
    irVersion: style === 'legacy' ? 4 : 8,
    initializersAsInputs: style === 'legacy',
    graphName: 'main_graph',
  };
  return { bytes: onnxModel(spec), spec, inputName: 'input', outputName: out, classes, size };
}
