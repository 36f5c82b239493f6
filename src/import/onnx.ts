/**
 * ONNX graph -> sqzfw FloatModel (NHWC graph IR, OHWI weights).
 *
 * Supported: Conv (group 1, dilation 1, any explicit or auto padding, incl. a 1x1 kernel with pad 1), Relu (fused into
 * the Conv/Add before it, or dropped when its input is already non-negative), MaxPool (ceil_mode), AveragePool,
 * GlobalAveragePool, Concat (channels), Add (same shapes), Softmax (channels), Dropout / Identity (inference no-ops),
 * Flatten / Reshape (only where the data order is unchanged: a 1x1xC tensor, or an identity reshape), Constant.
 * Everything else is refused with the node name, op and attribute. Every number read from the file is checked
 * before it is used, so damaged or hostile files end in a UserError, never a crash, a hang or a huge allocation.
 */
import { UserError } from '../errors.js';
import type { ConvWeights, Dims, FloatModel, Graph, GraphNode, Pad } from '../graph/ir.js';
import { inferShapes, windowOut } from '../graph/shapes.js';
import { AttrType, DataType, dataTypeName, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

/** Limits that keep a hostile file from asking for absurd work or memory. */
export const LIMITS = {
  /** SqueezeNet has 66 nodes; the planner and the float interpreter are sized for a few thousand at most. */
  nodes: 4_096,
  initializers: 8_192,
  /** Largest dim of any tensor (spatial or channels). */
  dim: 65_536,
  /** Largest activation, elements. */
  activation: 1 << 26,
  /** All activations together, elements (the float interpreter keeps every tensor). */
  activationsTotal: 1 << 27,
  /** Largest weight tensor, elements. */
  weights: 1 << 28,
};

export interface ImportOptions {
  /** Input height/width when the file leaves them symbolic. */
  inputSize?: { h: number; w: number };
  /** Graph name (default: the ONNX graph name). */
  name?: string;
}

/** An activation tensor during conversion: our tensor name, its NHWC dims and the ONNX shape it stands for. */
interface Act {
  kind: 'act';
  tensor: string;
  dims: Dims;
  /** ONNX shape: [1, C, H, W] or [1, C] (then h = w = 1). */
  rank: 2 | 4;
  /** Values are known to be >= 0 (output of a ReLU, or a pool/concat of such). */
  nonneg: boolean;
  /** Generation of our tensor this value saw: fusing a ReLU into the writer makes earlier generations stale. */
  gen: number;
}
interface Const {
  kind: 'const';
  t: OnnxTensor;
}
type Value = Act | Const;

const fmtShape = (s: number[]): string => `[${s.join(',')}]`;
const onnxShape = (a: Act): number[] => (a.rank === 2 ? [1, a.dims.c] : [1, a.dims.c, a.dims.h, a.dims.w]);

class Ctx {
  constructor(readonly what: string) {}
  fail(msg: string, hint = 'sqzfw imports SqueezeNet-style CNNs; re-export the model without this construct'): never {
    throw new UserError(`${this.what}: ${msg}`, hint);
  }
}

// ---------- tensor data ----------

function checkDims(ctx: Ctx, t: OnnxTensor, where: string): number {
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) ctx.fail(`${where}: tensor "${t.name}" has invalid dim ${d} in ${fmtShape(t.dims)}`, 'the file is damaged');
    n *= d;
    if (n > LIMITS.weights) ctx.fail(`${where}: tensor "${t.name}" of shape ${fmtShape(t.dims)} is absurdly large`, 'the file is damaged or not a small CNN');
  }
  return n;
}

function float16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

/** Float contents of a tensor (FLOAT, DOUBLE or FLOAT16), checked against its dims and for finiteness. */
function floats(ctx: Ctx, t: OnnxTensor, where: string): Float32Array {
  const n = checkDims(ctx, t, where);
  if (t.external) ctx.fail(`${where}: tensor "${t.name}" keeps its data in an external file`, 'save the model with its weights inside (onnx.save(..., save_as_external_data=False))');
  const raw = t.rawData;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const mismatch = (got: number): never => ctx.fail(`${where}: tensor "${t.name}" of shape ${fmtShape(t.dims)} needs ${n} values but the file holds ${got}`, 'the file is truncated or damaged');
  // Check the stored amount before allocating: a damaged dims field must not make us allocate gigabytes.
  const width = t.dataType === DataType.FLOAT ? 4 : t.dataType === DataType.DOUBLE ? 8 : t.dataType === DataType.FLOAT16 ? 2 : 0;
  if (width === 0) {
    ctx.fail(`${where}: tensor "${t.name}" has data type ${dataTypeName(t.dataType)}; weights must be float`, 'sqzfw quantizes float models itself: import the float32 model, not a quantized one');
  }
  const listed = t.dataType === DataType.FLOAT ? t.floatData.length : t.dataType === DataType.DOUBLE ? t.doubleData.length : t.int32Data.length;
  if (raw.length > 0 ? raw.length !== n * width : listed !== n) mismatch(raw.length > 0 ? raw.length / width : listed);
  const out = new Float32Array(n);
  if (raw.length > 0) {
    // Little-endian hosts (x86, Arm): one byte copy instead of n DataView reads (most of a cold import's time).
    if (width === 4 && LITTLE_ENDIAN) new Uint8Array(out.buffer).set(raw.subarray(0, n * 4));
    else if (width === 4) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    else if (width === 8) for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
    else for (let i = 0; i < n; i++) out[i] = float16(dv.getUint16(i * 2, true));
  } else if (t.dataType === DataType.FLOAT) out.set(t.floatData);
  else if (t.dataType === DataType.DOUBLE) out.set(t.doubleData);
  else for (let i = 0; i < n; i++) out[i] = float16(t.int32Data[i] & 0xffff);
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i])) ctx.fail(`${where}: tensor "${t.name}" holds a non-finite value (${out[i]}) at index ${i}`, 'the weights are damaged');
  return out;
}

/**
 * OIHW -> OHWI. A small function of its own: inside the importer's big switch this loop ran unoptimized for most of
 * a cold import (~0.5 s of the real v1.0's 1.25 M weights; a few ms once optimized).
 */
function oihwToOhwi(W: Float32Array, co: number, ci: number, kh: number, kw: number): Float32Array {
  const ohwi = new Float32Array(W.length);
  for (let o = 0; o < co; o++)
    for (let c = 0; c < ci; c++)
      for (let y = 0; y < kh; y++) for (let xx = 0; xx < kw; xx++) ohwi[((o * kh + y) * kw + xx) * ci + c] = W[((o * ci + c) * kh + y) * kw + xx];
  return ohwi;
}

/** Integer contents (INT64 or INT32) of a small tensor, e.g. a Reshape shape. */
function ints(ctx: Ctx, t: OnnxTensor, where: string): number[] {
  const n = checkDims(ctx, t, where);
  if (n > 16) ctx.fail(`${where}: integer tensor "${t.name}" has ${n} values; expected a short shape list`);
  const raw = t.rawData;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let out: number[];
  if (t.dataType === DataType.INT64) {
    if (raw.length > 0) {
      if (raw.length !== n * 8) ctx.fail(`${where}: tensor "${t.name}" needs ${n} int64 values but holds ${raw.length} bytes`, 'the file is damaged');
      out = Array.from({ length: n }, (_, i) => {
        const v = dv.getBigInt64(i * 8, true);
        return v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
      });
    } else out = t.int64Data;
  } else if (t.dataType === DataType.INT32) {
    if (raw.length > 0) {
      if (raw.length !== n * 4) ctx.fail(`${where}: tensor "${t.name}" needs ${n} int32 values but holds ${raw.length} bytes`, 'the file is damaged');
      out = Array.from({ length: n }, (_, i) => dv.getInt32(i * 4, true));
    } else out = t.int32Data;
  } else {
    ctx.fail(`${where}: tensor "${t.name}" has data type ${dataTypeName(t.dataType)}; expected INT64`);
  }
  if (out.length !== n) ctx.fail(`${where}: tensor "${t.name}" needs ${n} values but holds ${out.length}`, 'the file is damaged');
  for (const v of out) if (!Number.isSafeInteger(v)) ctx.fail(`${where}: tensor "${t.name}" holds an invalid integer ${v}`, 'the file is damaged');
  return out;
}

/** BOOL tensor contents (one byte each in raw_data, or int32_data). */
function boolValues(ctx: Ctx, t: OnnxTensor, where: string): boolean[] {
  const n = checkDims(ctx, t, where);
  if (t.dataType !== 9) return ints(ctx, t, where).map((v) => v !== 0);
  if (n > 16) ctx.fail(`${where}: boolean tensor "${t.name}" has ${n} values; expected one`);
  const src = t.rawData.length > 0 ? Array.from(t.rawData) : t.int32Data;
  if (src.length !== n) ctx.fail(`${where}: tensor "${t.name}" needs ${n} booleans but holds ${src.length}`, 'the file is damaged');
  return src.map((v) => v !== 0);
}

// ---------- attributes ----------

class Attrs {
  private readonly map = new Map<string, OnnxAttribute>();
  constructor(
    private readonly ctx: Ctx,
    node: OnnxNode,
    private readonly where: string,
    allowed: string[],
  ) {
    for (const a of node.attributes) {
      if (!allowed.includes(a.name)) ctx.fail(`${where}: attribute "${a.name}" is not supported`, `supported attributes of ${node.opType}: ${allowed.join(', ') || 'none'}`);
      if (this.map.has(a.name)) ctx.fail(`${where}: attribute "${a.name}" is given twice`, 'the file is damaged');
      if (a.refAttrName) ctx.fail(`${where}: attribute "${a.name}" refers to a function attribute (${a.refAttrName})`);
      this.map.set(a.name, a);
    }
  }
  private get(name: string, type: number): OnnxAttribute | undefined {
    const a = this.map.get(name);
    if (a && a.type !== 0 && a.type !== type) this.ctx.fail(`${this.where}: attribute "${name}" has type ${a.type}, expected ${type}`, 'the file is damaged');
    return a;
  }
  int(name: string, def: number): number {
    const a = this.get(name, AttrType.INT);
    const v = a ? a.i : def;
    if (!Number.isSafeInteger(v)) this.ctx.fail(`${this.where}: attribute ${name}=${v} is not an integer`, 'the file is damaged');
    return v;
  }
  ints(name: string): number[] | undefined {
    const a = this.get(name, AttrType.INTS);
    if (!a) return undefined;
    for (const v of a.ints) if (!Number.isSafeInteger(v)) this.ctx.fail(`${this.where}: attribute ${name} holds ${v}`, 'the file is damaged');
    return a.ints;
  }
  float(name: string, def: number): number {
    const a = this.get(name, AttrType.FLOAT);
    return a ? a.f : def;
  }
  string(name: string, def: string): string {
    const a = this.get(name, AttrType.STRING);
    return a ? Buffer.from(a.s).toString('utf8') : def;
  }
  tensor(name: string): OnnxTensor | undefined {
    return this.get(name, AttrType.TENSOR)?.t;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
}

interface Window {
  kernel: [number, number];
  stride: [number, number];
  pad: Pad;
}

/** kernel_shape / strides / pads / dilations / auto_pad of a 2-D sliding window op. */
function windowAttrs(ctx: Ctx, at: Attrs, where: string, x: Act, kernelFromWeights?: [number, number]): Window {
  const ks = at.ints('kernel_shape');
  let kernel: [number, number];
  if (ks) {
    if (ks.length !== 2) ctx.fail(`${where}: kernel_shape ${fmtShape(ks)} is not 2-D`);
    kernel = [ks[0], ks[1]];
    if (kernelFromWeights && (kernel[0] !== kernelFromWeights[0] || kernel[1] !== kernelFromWeights[1])) {
      ctx.fail(`${where}: kernel_shape ${fmtShape(ks)} does not match the weights' ${kernelFromWeights.join('x')}`, 'the file is inconsistent');
    }
  } else if (kernelFromWeights) kernel = kernelFromWeights;
  else ctx.fail(`${where}: attribute kernel_shape is missing`, 'the file is damaged');
  if (!(kernel[0] >= 1 && kernel[1] >= 1 && kernel[0] <= 1024 && kernel[1] <= 1024)) ctx.fail(`${where}: kernel ${kernel.join('x')} is out of range`);
  const st = at.ints('strides') ?? [1, 1];
  if (st.length !== 2 || !(st[0] >= 1 && st[1] >= 1 && st[0] <= 1024 && st[1] <= 1024)) ctx.fail(`${where}: attribute strides ${fmtShape(st)} must be two positive values`);
  const stride: [number, number] = [st[0], st[1]];
  const dil = at.ints('dilations');
  if (dil && (dil.length !== 2 || dil.some((d) => d !== 1))) ctx.fail(`${where}: attribute dilations ${fmtShape(dil)} (dilated windows) is not supported`, 'only dilation 1 is supported');
  const autoPad = at.string('auto_pad', 'NOTSET');
  const pads = at.ints('pads');
  let pad: Pad;
  if (autoPad === 'NOTSET') {
    const p = pads ?? [0, 0, 0, 0];
    if (p.length !== 4 || p.some((v) => !(v >= 0 && v <= 1024))) ctx.fail(`${where}: attribute pads ${fmtShape(p)} must be 4 non-negative values [top, left, bottom, right]`);
    pad = { top: p[0], left: p[1], bottom: p[2], right: p[3] };
  } else if (autoPad === 'VALID') {
    pad = { top: 0, left: 0, bottom: 0, right: 0 };
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    if (pads) ctx.fail(`${where}: attributes auto_pad=${autoPad} and pads are both given`, 'the file is inconsistent');
    const total = (size: number, k: number, s: number): number => Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
    const th = total(x.dims.h, kernel[0], stride[0]);
    const tw = total(x.dims.w, kernel[1], stride[1]);
    const small = (t: number): number => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2));
    pad = { top: small(th), left: small(tw), bottom: th - small(th), right: tw - small(tw) };
  } else {
    ctx.fail(`${where}: attribute auto_pad=${autoPad} is not supported`, 'use NOTSET, VALID, SAME_UPPER or SAME_LOWER');
  }
  return { kernel, stride, pad };
}

// ---------- the conversion ----------

/** Keys every plain object already has: a tensor named like one would read or replace an inherited member. */
const OBJECT_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype']);

/**
 * Safe unique name for a node/tensor: the ONNX name, or op + index when it has none. ONNX names are untrusted: they
 * become printable ASCII without spaces (the firmware prints them on `out <tensor> ...` lines), at most 64 characters,
 * and never an Object.prototype key (the IR keys records by tensor name).
 */
function uniqueNamer(): (want: string) => string {
  const used = new Set<string>();
  return (raw: string) => {
    let want = raw.replace(/[^\x21-\x7e]/g, '_').slice(0, 64) || 'unnamed';
    if (OBJECT_KEYS.has(want)) want = `${want}_t`;
    let n = want;
    for (let i = 2; used.has(n); i++) n = `${want}_${i}`;
    used.add(n);
    return n;
  };
}

/** Topological order of the nodes (stable: file order where possible); refuses cycles and double producers. */
function topoSort(ctx: Ctx, nodes: OnnxNode[], available: Set<string>, label: (i: number) => string): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === '') continue;
      if (available.has(o)) ctx.fail(`${label(i)} writes "${o}", which is already a graph input or initializer`, 'the file is inconsistent');
      if (producer.has(o)) ctx.fail(`tensor "${o}" is produced by both ${label(producer.get(o)!)} and ${label(i)}`, 'the file is inconsistent');
      producer.set(o, i);
    }
  });
  const indeg = new Int32Array(nodes.length);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const t of n.inputs) {
      if (t === '') continue;
      const p = producer.get(t);
      if (p !== undefined) {
        indeg[i]++;
        users[p].push(i);
      } else if (!available.has(t)) {
        ctx.fail(`${label(i)} reads "${t}", which no node produces and which is neither a graph input nor an initializer`, 'the file is missing an initializer (weights) or a node: export it again');
      }
    }
  });
  // Kahn's algorithm with a min-heap-free approach: a sorted ready list is fine for CNN-sized graphs.
  const order: number[] = [];
  const ready: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (indeg[i] === 0) ready.push(i);
  let head = 0;
  while (head < ready.length) {
    const i = ready[head++];
    order.push(i);
    for (const u of users[i]) if (--indeg[u] === 0) ready.push(u);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.map((_, i) => i).filter((i) => indeg[i] > 0);
    ctx.fail(`the graph has a cycle through ${stuck.slice(0, 4).map(label).join(', ')}${stuck.length > 4 ? ', ...' : ''}`, 'ONNX graphs must be acyclic: the file is damaged');
  }
  return order;
}

export function onnxToFloatModel(m: OnnxModel, opts: ImportOptions = {}, what = 'model'): FloatModel {
  const ctx: Ctx = new Ctx(what);
  const g = m.graph;
  if (g.nodes.length === 0) ctx.fail('the graph has no nodes', 'the file is empty or damaged');
  if (g.nodes.length > LIMITS.nodes) ctx.fail(`the graph has ${g.nodes.length} nodes, more than ${LIMITS.nodes}`);
  if (g.initializers.length > LIMITS.initializers) ctx.fail(`the graph has ${g.initializers.length} initializers`);
  if (g.sparseInitializers > 0) ctx.fail('sparse initializers are not supported', 'save the model with dense weights');
  if (m.opset > 1000 || m.opset < 0) ctx.fail(`opset ${m.opset} is not a valid ONNX opset`, 'the file is damaged');
  const opset = m.opset || 13;

  // Initializers and graph inputs.
  const inits = new Map<string, OnnxTensor>();
  for (const t of g.initializers) {
    if (t.name === '') ctx.fail('an initializer has no name', 'the file is damaged');
    if (inits.has(t.name)) ctx.fail(`initializer "${t.name}" is given twice`, 'the file is damaged');
    inits.set(t.name, t);
  }
  const realInputs = g.inputs.filter((i) => !inits.has(i.name));
  if (realInputs.length !== 1) {
    ctx.fail(`the graph has ${realInputs.length} inputs (${realInputs.map((i) => i.name).join(', ') || 'none'}); sqzfw needs exactly one image input`, 'export the model with a single image input');
  }
  const inp = realInputs[0];
  if (inp.name === '') ctx.fail('the graph input has no name', 'the file is damaged');
  if (inp.elemType !== DataType.FLOAT) ctx.fail(`input "${inp.name}" has element type ${dataTypeName(inp.elemType)}; expected FLOAT`, 'import the float32 model');
  const shape = inp.shape;
  if (!shape || shape.length !== 4) {
    ctx.fail(`input "${inp.name}" has shape ${shape ? fmtShape(shape.map((d) => d ?? -1)) : 'unknown'}; expected [1, C, H, W]`, 'sqzfw imports image models with an NCHW input');
  }
  const [n0, c0, h0, w0] = shape;
  if (n0 !== undefined && n0 !== 1) ctx.fail(`input "${inp.name}" has batch ${n0}; sqzfw runs batch 1`, 'export with batch size 1 (or a dynamic batch axis)');
  const h = h0 ?? opts.inputSize?.h;
  const w = w0 ?? opts.inputSize?.w;
  if (c0 === undefined) ctx.fail(`input "${inp.name}" has a symbolic channel count`, 'export with a fixed number of channels');
  if (h === undefined || w === undefined) ctx.fail(`input "${inp.name}" has a symbolic height or width`, 'pass --input-size N (e.g. 224 or 227)');
  for (const d of [c0, h, w]) if (!(Number.isSafeInteger(d) && d >= 1 && d <= LIMITS.dim)) ctx.fail(`input "${inp.name}" has invalid dims [1,${c0},${h},${w}]`, 'the file is damaged');
  if (c0 * h * w > LIMITS.activation) ctx.fail(`input "${inp.name}" of [1,${c0},${h},${w}] is too large`);

  const outputsWanted = g.outputs.map((o) => o.name);
  if (outputsWanted.length === 0) ctx.fail('the graph has no outputs', 'the file is damaged');

  const label = (i: number): string => `node ${g.nodes[i].name || `#${i}`} (${g.nodes[i].opType || 'no op'})`;
  const available = new Set<string>([inp.name, ...inits.keys()]);
  const order = topoSort(ctx, g.nodes, available, label);

  // Live nodes: those an output depends on.
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => o !== '' && producer.set(o, i)));
  const live = new Uint8Array(g.nodes.length);
  const stack: string[] = [];
  for (const o of outputsWanted) {
    if (!producer.has(o) && o !== inp.name) ctx.fail(`graph output "${o}" is produced by no node`, 'the file is damaged');
    stack.push(o);
  }
  while (stack.length) {
    const t = stack.pop()!;
    const p = producer.get(t);
    if (p === undefined || live[p]) continue;
    live[p] = 1;
    for (const x of g.nodes[p].inputs) if (x !== '') stack.push(x);
  }
  const uses = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    if (live[i]) for (const x of n.inputs) uses.set(x, (uses.get(x) ?? 0) + 1);
  });
  for (const o of outputsWanted) uses.set(o, (uses.get(o) ?? 0) + 1);

  const name = uniqueNamer();
  const inputName = name(inp.name);
  const vals = new Map<string, Value>();
  vals.set(inp.name, { kind: 'act', tensor: inputName, dims: { h, w, c: c0 }, rank: 4, nonneg: false, gen: 0 });
  for (const [k, t] of inits) if (k !== inp.name) vals.set(k, { kind: 'const', t });

  const nodes: GraphNode[] = [];
  const weights: Record<string, ConvWeights> = {};
  /** Our node that writes each of our tensors (for ReLU fusion). */
  const writer = new Map<string, GraphNode>();
  /** How many ONNX node inputs have read each of our tensors so far, and its current generation. */
  const reads = new Map<string, number>();
  const gens = new Map<string, number>();

  for (const i of order) {
    if (!live[i]) continue;
    const node = g.nodes[i];
    const where = label(i);
    const op = node.opType;
    if (node.domain !== '' && node.domain !== 'ai.onnx') ctx.fail(`${where}: operator domain "${node.domain}" is not supported`, 'only standard ONNX operators can be imported');
    const input = (k: number): Value | undefined => {
      const t = node.inputs[k];
      if (t === undefined || t === '') return undefined;
      return vals.get(t);
    };
    /** Activation input k; `count` = false for pure aliases (Dropout, Flatten, ...), which do not read the data. */
    const act = (k: number, count = true): Act => {
      const v = input(k);
      if (!v) ctx.fail(`${where}: input ${k} is missing`, 'the file is damaged');
      if (v.kind !== 'act') ctx.fail(`${where}: input ${k} ("${node.inputs[k]}") is a constant; sqzfw supports ${op} on activations only`);
      if (v.gen !== (gens.get(v.tensor) ?? 0)) ctx.fail(`${where}: reads "${node.inputs[k]}" before its ReLU, but the ReLU was fused into the layer that writes it`, 'sqzfw fuses ReLU into the preceding Conv/Add; the pre-ReLU value cannot also feed another layer');
      if (count) reads.set(v.tensor, (reads.get(v.tensor) ?? 0) + 1);
      return v;
    };
    const constant = (k: number, what: string): OnnxTensor => {
      const v = input(k);
      if (!v) ctx.fail(`${where}: ${what} (input ${k}) is missing`, 'the file is missing an initializer');
      if (v.kind !== 'const') ctx.fail(`${where}: ${what} ("${node.inputs[k]}") is computed at run time; sqzfw needs it as an initializer`, 'export with constant folding (do_constant_folding=True)');
      return v.t;
    };
    const outputs = node.outputs;
    if (outputs.length === 0 || outputs[0] === '') ctx.fail(`${where}: has no output`, 'the file is damaged');
    const extraOutputsUsed = outputs.slice(1).filter((o) => o !== '' && (uses.get(o) ?? 0) > 0);
    const alias = (v: Value): void => void vals.set(outputs[0], v);
    const needRank4 = (x: Act): void => {
      if (x.rank !== 4) ctx.fail(`${where}: needs a 4-D [1,C,H,W] input, got ${fmtShape(onnxShape(x))}`);
    };
    const emit = (nd: GraphNode, dims: Dims, rank: 2 | 4, nonneg: boolean): void => {
      if (dims.h < 1 || dims.w < 1) ctx.fail(`${where}: output would be ${dims.h}x${dims.w}: the window does not fit the input`, 'the input is too small for this layer');
      if (dims.h * dims.w * dims.c > LIMITS.activation) ctx.fail(`${where}: output ${dims.c}x${dims.h}x${dims.w} is too large`);
      nodes.push(nd);
      writer.set(nd.output, nd);
      vals.set(outputs[0], { kind: 'act', tensor: nd.output, dims, rank, nonneg, gen: 0 });
    };
    const nodeName = (): string => name(node.name || outputs[0] || `${op}_${i}`);
    if (extraOutputsUsed.length > 0) ctx.fail(`${where}: its extra output "${extraOutputsUsed[0]}" is used; sqzfw supports only the first output of ${op}`);

    switch (op) {
      case 'Constant': {
        const at = new Attrs(ctx, node, where, ['value', 'value_ints', 'value_int']);
        const t = at.tensor('value');
        if (t) vals.set(outputs[0], { kind: 'const', t });
        else {
          const list = at.ints('value_ints') ?? (at.has('value_int') ? [at.int('value_int', 0)] : undefined);
          if (!list) ctx.fail(`${where}: Constant without a value`, 'the file is damaged');
          vals.set(outputs[0], { kind: 'const', t: { name: outputs[0], dims: at.has('value_int') ? [] : [list.length], dataType: DataType.INT64, floatData: [], int32Data: [], int64Data: list, doubleData: [], rawData: new Uint8Array(0), external: false, hasStrings: false } });
        }
        break;
      }
      case 'Identity': {
        new Attrs(ctx, node, where, []);
        const v = input(0);
        if (!v) ctx.fail(`${where}: input is missing`, 'the file is damaged');
        alias(v.kind === 'act' ? act(0, false) : v);
        break;
      }
      case 'Dropout': {
        const at = new Attrs(ctx, node, where, ['ratio', 'seed', 'is_test']);
        if (at.has('is_test') && at.int('is_test', 1) === 0) ctx.fail(`${where}: attribute is_test=0 (training mode) is not supported`, 'export the model in eval mode (model.eval())');
        if (node.inputs.length > 2 && node.inputs[2] !== '') {
          const tm = input(2);
          const training = tm?.kind === 'const' ? boolValues(ctx, tm.t, where).some((v) => v) : true;
          if (training) ctx.fail(`${where}: input training_mode is true or not constant`, 'export the model in eval mode (model.eval())');
        }
        alias(act(0, false));
        break;
      }
      case 'Relu': {
        new Attrs(ctx, node, where, []);
        const x = act(0);
        if (x.nonneg) {
          alias(x);
          break;
        }
        const wnode = writer.get(x.tensor);
        if (wnode && (wnode.op === 'conv' || wnode.op === 'add') && !wnode.relu && reads.get(x.tensor) === 1) {
          wnode.relu = true;
          const gen = x.gen + 1;
          gens.set(x.tensor, gen);
          alias({ ...x, nonneg: true, gen });
          break;
        }
        ctx.fail(`${where}: a ReLU can only follow a Conv or Add whose output nothing else reads (its input comes from ${wnode ? wnode.op : 'the graph input'})`, 'sqzfw fuses ReLU into the preceding Conv/Add, as CMSIS-NN does');
        break;
      }
      case 'Conv': {
        const at = new Attrs(ctx, node, where, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
        const x = act(0);
        needRank4(x);
        const group = at.int('group', 1);
        if (group !== 1) ctx.fail(`${where}: attribute group=${group} (grouped or depthwise convolution) is not supported`, 'only group=1 convolutions are supported');
        const wt = constant(1, 'weight');
        if (wt.dims.length !== 4) ctx.fail(`${where}: weight "${wt.name}" has shape ${fmtShape(wt.dims)}; expected [O, I, kH, kW]`);
        const [co, ci, kh, kw] = wt.dims;
        if (ci !== x.dims.c) ctx.fail(`${where}: weight "${wt.name}" ${fmtShape(wt.dims)} expects ${ci} input channels but the input has ${x.dims.c}`, 'the file is inconsistent');
        if (!(co >= 1 && co <= LIMITS.dim)) ctx.fail(`${where}: weight "${wt.name}" has ${co} output channels`);
        const win = windowAttrs(ctx, at, where, x, [kh, kw]);
        const W = floats(ctx, wt, where);
        let B: Float32Array = new Float32Array(co);
        if (node.inputs.length > 2 && node.inputs[2] !== '') {
          const bt = constant(2, 'bias');
          if (bt.dims.length !== 1 || bt.dims[0] !== co) ctx.fail(`${where}: bias "${bt.name}" has shape ${fmtShape(bt.dims)}; expected [${co}]`, 'the file is inconsistent');
          B = floats(ctx, bt, where);
        }
        const ohwi = oihwToOhwi(W, co, ci, kh, kw);
        const nm = nodeName();
        const oh = windowOut(x.dims.h, kh, win.stride[0], win.pad.top, win.pad.bottom, false);
        const ow = windowOut(x.dims.w, kw, win.stride[1], win.pad.left, win.pad.right, false);
        weights[nm] = { weights: ohwi, bias: B };
        emit({ op: 'conv', name: nm, inputs: [x.tensor], output: nm, kernel: win.kernel, stride: win.stride, pad: win.pad, outChannels: co, relu: false }, { h: oh, w: ow, c: co }, 4, false);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const allowed = op === 'MaxPool' ? ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides'] : ['auto_pad', 'ceil_mode', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'strides'];
        const at = new Attrs(ctx, node, where, allowed);
        const x = act(0);
        needRank4(x);
        const win = windowAttrs(ctx, at, where, x);
        const ceil = at.int('ceil_mode', 0);
        if (ceil !== 0 && ceil !== 1) ctx.fail(`${where}: attribute ceil_mode=${ceil} must be 0 or 1`);
        if (op === 'MaxPool' && at.int('storage_order', 0) !== 0) ctx.fail(`${where}: attribute storage_order=1 is not supported`);
        const p = win.pad;
        if (op === 'AveragePool' && at.int('count_include_pad', 0) !== 0 && (p.top || p.left || p.bottom || p.right)) {
          ctx.fail(`${where}: attribute count_include_pad=1 with non-zero pads is not supported`, 'sqzfw averages over the valid pixels only (count_include_pad=0), as CMSIS-NN does');
        }
        if (p.top >= win.kernel[0] || p.bottom >= win.kernel[0] || p.left >= win.kernel[1] || p.right >= win.kernel[1]) {
          ctx.fail(`${where}: attribute pads ${[p.top, p.left, p.bottom, p.right].join(',')} must be smaller than the ${win.kernel.join('x')} kernel`, 'the file is inconsistent');
        }
        const oh = windowOut(x.dims.h, win.kernel[0], win.stride[0], p.top, p.bottom, ceil === 1);
        const ow = windowOut(x.dims.w, win.kernel[1], win.stride[1], p.left, p.right, ceil === 1);
        const nm = nodeName();
        const base = { name: nm, inputs: [x.tensor], output: nm, kernel: win.kernel, stride: win.stride, pad: win.pad, ceil: ceil === 1 };
        const nd: GraphNode = op === 'MaxPool' ? { op: 'maxpool', ...base } : { op: 'avgpool', ...base, global: false };
        emit(nd, { h: oh, w: ow, c: x.dims.c }, 4, x.nonneg);
        break;
      }
      case 'GlobalAveragePool': {
        new Attrs(ctx, node, where, []);
        const x = act(0);
        needRank4(x);
        const nm = nodeName();
        emit({ op: 'avgpool', name: nm, inputs: [x.tensor], output: nm, kernel: [x.dims.h, x.dims.w], stride: [1, 1], pad: { top: 0, left: 0, bottom: 0, right: 0 }, ceil: false, global: true }, { h: 1, w: 1, c: x.dims.c }, 4, x.nonneg);
        break;
      }
      case 'Concat': {
        const at = new Attrs(ctx, node, where, ['axis']);
        if (!at.has('axis')) ctx.fail(`${where}: attribute axis is missing`, 'the file is damaged');
        const ins = node.inputs.map((_, k) => act(k));
        if (ins.length === 0) ctx.fail(`${where}: has no inputs`, 'the file is damaged');
        const rank = ins[0].rank;
        const axis = at.int('axis', 1);
        const chanAxis = axis === 1 || axis === 1 - rank;
        if (!chanAxis) ctx.fail(`${where}: attribute axis=${axis} is not supported; sqzfw concatenates along channels (axis 1)`);
        for (const a of ins) {
          if (a.rank !== rank || a.dims.h !== ins[0].dims.h || a.dims.w !== ins[0].dims.w) ctx.fail(`${where}: inputs ${ins.map((v) => fmtShape(onnxShape(v))).join(' and ')} differ in more than channels`, 'the file is inconsistent');
        }
        if (ins.length === 1) {
          alias(ins[0]);
          break;
        }
        const nm = nodeName();
        const c = ins.reduce((s, a) => s + a.dims.c, 0);
        emit({ op: 'concat', name: nm, inputs: ins.map((a) => a.tensor), output: nm }, { h: ins[0].dims.h, w: ins[0].dims.w, c }, rank, ins.every((a) => a.nonneg));
        break;
      }
      case 'Add': {
        new Attrs(ctx, node, where, []);
        if (node.inputs.length !== 2) ctx.fail(`${where}: needs two inputs, has ${node.inputs.length}`, 'the file is damaged');
        const a = act(0);
        const b = act(1);
        if (a.rank !== b.rank || a.dims.h !== b.dims.h || a.dims.w !== b.dims.w || a.dims.c !== b.dims.c) {
          ctx.fail(`${where}: inputs ${fmtShape(onnxShape(a))} and ${fmtShape(onnxShape(b))} differ; broadcasting is not supported`);
        }
        const nm = nodeName();
        emit({ op: 'add', name: nm, inputs: [a.tensor, b.tensor], output: nm, relu: false }, { ...a.dims }, a.rank, false);
        break;
      }
      case 'Softmax': {
        const at = new Attrs(ctx, node, where, ['axis']);
        const x = act(0);
        const rank = x.rank;
        const axis = at.int('axis', opset >= 13 ? -1 : 1);
        if (axis < -rank || axis >= rank) ctx.fail(`${where}: attribute axis=${axis} is out of range for a rank-${rank} input`);
        const ax = axis < 0 ? axis + rank : axis;
        // Channel softmax: axis 1 on [1,C]; axis 1 on [1,C,H,W] (opset >= 13 is per pixel; before 13 it flattens
        // C*H*W, the same only when H = W = 1).
        const ok = ax === 1 && (rank === 2 || opset >= 13 || (x.dims.h === 1 && x.dims.w === 1));
        if (!ok) ctx.fail(`${where}: softmax over axis ${axis} of ${fmtShape(onnxShape(x))} is not supported; sqzfw's softmax runs over channels`);
        const nm = nodeName();
        emit({ op: 'softmax', name: nm, inputs: [x.tensor], output: nm }, { ...x.dims }, rank, true);
        break;
      }
      case 'Flatten': {
        const at = new Attrs(ctx, node, where, ['axis']);
        const x = act(0, false);
        const axis = at.int('axis', 1);
        const rank = x.rank;
        if (axis < -rank || axis > rank) ctx.fail(`${where}: attribute axis=${axis} is out of range`);
        const ax = axis < 0 ? axis + rank : axis;
        if (ax > 1) ctx.fail(`${where}: attribute axis=${axis} keeps spatial axes apart; only axis 0 or 1 (flatten to [1, N]) is supported`);
        if (x.dims.h !== 1 || x.dims.w !== 1) {
          ctx.fail(`${where}: flattening a ${fmtShape(onnxShape(x))} tensor would reorder its data (NCHW in ONNX, NHWC in sqzfw)`, 'put a global average pool before Flatten (as SqueezeNet does)');
        }
        alias({ ...x, rank: 2 });
        break;
      }
      case 'Reshape': {
        const at = new Attrs(ctx, node, where, ['allowzero']);
        const x = act(0, false);
        const allowzero = at.int('allowzero', 0);
        const target = ints(ctx, constant(1, 'shape'), where);
        const inShape = onnxShape(x);
        const total = inShape.reduce((s, d) => s * d, 1);
        let infer = -1;
        const out = target.map((d, k) => {
          if (d === 0 && !allowzero) {
            if (k >= inShape.length) ctx.fail(`${where}: shape ${fmtShape(target)} copies dim ${k}, which ${fmtShape(inShape)} lacks`);
            return inShape[k];
          }
          if (d === -1) {
            if (infer >= 0) ctx.fail(`${where}: shape ${fmtShape(target)} has more than one -1`, 'the file is inconsistent');
            infer = k;
            return 1;
          }
          if (d < 0) ctx.fail(`${where}: shape ${fmtShape(target)} has a negative dim`, 'the file is inconsistent');
          return d;
        });
        const known = out.reduce((s, d) => s * d, 1);
        if (infer >= 0) {
          if (known === 0 || total % known !== 0) ctx.fail(`${where}: cannot reshape ${fmtShape(inShape)} to ${fmtShape(target)}`, 'the file is inconsistent');
          out[infer] = total / known;
        }
        if (out.reduce((s, d) => s * d, 1) !== total) ctx.fail(`${where}: cannot reshape ${fmtShape(inShape)} (${total} values) to ${fmtShape(out)}`, 'the file is inconsistent');
        if (out.length === inShape.length && out.every((d, k) => d === inShape[k])) {
          alias(x);
          break;
        }
        const vec = x.dims.h === 1 && x.dims.w === 1;
        const c = x.dims.c;
        if (vec && out.length === 2 && out[0] === 1 && out[1] === c) alias({ ...x, rank: 2 });
        else if (vec && out.length === 4 && out[0] === 1 && out[1] === c && out[2] === 1 && out[3] === 1) alias({ ...x, rank: 4 });
        else ctx.fail(`${where}: reshape of ${fmtShape(inShape)} to ${fmtShape(out)} is not supported; only [1,C,1,1] <-> [1,C] and identity reshapes keep the data order`, 'put a global average pool before the reshape (as SqueezeNet does)');
        break;
      }
      default:
        ctx.fail(`${where}: operator ${op || '(empty)'} is not supported`, 'supported: Conv, Relu, MaxPool, AveragePool, GlobalAveragePool, Concat, Add, Softmax, Dropout, Flatten, Reshape, Identity, Constant');
    }
  }

  const outs: string[] = [];
  for (const o of g.outputs) {
    const v = vals.get(o.name);
    if (!v || v.kind !== 'act') ctx.fail(`graph output "${o.name}" is not an activation`, 'the graph output must be computed from the input');
    if (v.tensor === inputName) ctx.fail(`graph output "${o.name}" is the input itself`);
    if (v.gen !== (gens.get(v.tensor) ?? 0)) ctx.fail(`graph output "${o.name}" is a pre-ReLU value whose ReLU was fused into its layer`, 'make the output the ReLU result');
    if (o.shape && o.shape.every((d) => d !== undefined)) {
      const want = o.shape as number[];
      const got = onnxShape(v);
      const gotAlt = v.rank === 2 ? [1, v.dims.c, 1, 1] : v.dims.h === 1 && v.dims.w === 1 ? [1, v.dims.c] : got;
      const same = (a: number[]): boolean => a.length === want.length && a.every((d, k) => d === want[k] || (k === 0 && want[0] === 0));
      if (!same(got) && !same(gotAlt)) ctx.fail(`graph output "${o.name}" is declared ${fmtShape(want)} but computes to ${fmtShape(got)}`, 'the file is inconsistent');
    }
    if (!outs.includes(v.tensor)) outs.push(v.tensor);
  }
  // The model name is printed by the firmware and written into file headers: plain characters only.
  const modelName = (opts.name ?? g.name).replace(/[^A-Za-z0-9_.+-]/g, '_').slice(0, 64) || 'onnx-model';
  const graph: Graph = { name: modelName, input: { name: inputName, dims: { h, w, c: c0 } }, nodes, outputs: outs, tensors: {} };
  let checked: Graph;
  try {
    checked = inferShapes(graph);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${what}: ${e.message}`, e.hint);
    throw e;
  }
  const total = Object.values(checked.tensors).reduce((sum, d) => sum + d.h * d.w * d.c, 0);
  if (total > LIMITS.activationsTotal) ctx.fail(`its activations total ${total} values, more than ${LIMITS.activationsTotal}`, 'sqzfw targets microcontroller-sized CNNs: use a smaller input size');
  return { graph: checked, weights };
}
