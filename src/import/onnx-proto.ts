/**
 * ONNX protobuf decoding on protobufjs (reflection, no code generation). The schema below is the subset of
 * onnx.proto (field numbers as in the ONNX IR spec) that import reads; every other field is skipped as unknown.
 * Subgraph fields (AttributeProto.g / graphs) are deliberately left out: control flow is refused anyway, and not
 * decoding them keeps a hostile file from nesting graphs thousands deep.
 * protobufjs checks every length against the buffer, so a truncated or corrupt file throws, and we turn that into
 * a UserError naming the file.
 */
import protobuf from 'protobufjs';
import { UserError } from '../errors.js';

const schema = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            sparseInitializer: { rule: 'repeated', type: 'bytes', id: 15 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            refAttrName: { type: 'string', id: 21 },
            type: { type: 'int32', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'bytes', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'bytes', id: 11 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: {
          fields: {
            tensorType: { type: 'TypeTensor', id: 1 },
            sequenceType: { type: 'bytes', id: 4 },
            mapType: { type: 'bytes', id: 5 },
            sparseTensorType: { type: 'bytes', id: 8 },
            optionalType: { type: 'bytes', id: 9 },
          },
        },
        TypeTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            segment: { type: 'bytes', id: 3 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            stringData: { rule: 'repeated', type: 'bytes', id: 6 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10 },
            uint64Data: { rule: 'repeated', type: 'uint64', id: 11 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
      },
    },
  },
};

/** ONNX TensorProto.DataType values that import understands (and names for the others in messages). */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;
const TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};
export const dataTypeName = (t: number): string => TYPE_NAMES[t] ?? `type ${t}`;

/** AttributeProto.AttributeType. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

// ---------- plain decoded types (int64 already converted to numbers, see toNumber) ----------

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  rawData: Uint8Array;
  external: boolean;
  hasStrings: boolean;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f: number;
  i: number;
  s: Uint8Array;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  /** Field numbers set on the wire that we do not decode (graphs, strings, tensors lists). */
  hasGraph: boolean;
  refAttrName: string;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

export interface OnnxValueInfo {
  name: string;
  /** 0 when the value has no tensor type. */
  elemType: number;
  /** Dims; a symbolic or missing dim is undefined; undefined shape when none is given. */
  shape?: (number | undefined)[];
  dimParams?: (string | undefined)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  sparseInitializers: number;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** opset version of the default ("" / "ai.onnx") domain; 0 when not given. */
  opset: number;
  otherDomains: string[];
  graph: OnnxGraph;
}

let root: protobuf.Root | undefined;
const modelType = (): protobuf.Type => {
  root ??= protobuf.Root.fromJSON(schema);
  return root.lookupType('onnx.ModelProto');
};

/** A protobufjs int64 (Long or number) as a JS number; anything beyond 2^53 becomes Infinity so checks reject it. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high, unsigned } = v as { low: number; high: number; unsigned: boolean };
    const hi = unsigned ? high >>> 0 : high;
    const x = hi * 4294967296 + (low >>> 0);
    return Number.isSafeInteger(x) ? x : x < 0 ? -Infinity : Infinity;
  }
  return Number.NaN;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asBytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(0));

function tensor(m: Record<string, unknown>): OnnxTensor {
  return {
    name: str(m.name),
    dims: arr(m.dims).map(toNumber),
    dataType: Number(m.dataType ?? 0),
    floatData: arr(m.floatData) as number[],
    int32Data: arr(m.int32Data) as number[],
    int64Data: arr(m.int64Data).map(toNumber),
    doubleData: arr(m.doubleData) as number[],
    rawData: asBytes(m.rawData),
    external: Number(m.dataLocation ?? 0) === 1 || arr(m.externalData).length > 0,
    hasStrings: arr(m.stringData).length > 0,
  };
}

function valueInfo(m: Record<string, unknown>): OnnxValueInfo {
  const t = m.type as Record<string, unknown> | undefined;
  const tt = t?.tensorType as Record<string, unknown> | undefined;
  const info: OnnxValueInfo = { name: str(m.name), elemType: Number(tt?.elemType ?? 0) };
  const shape = tt?.shape as Record<string, unknown> | undefined;
  if (shape) {
    const dims = arr(shape.dim) as Record<string, unknown>[];
    // protobufjs puts defaults on the prototype: an own property means the field was on the wire.
    const has = (d: Record<string, unknown>, k: string): boolean => Object.prototype.hasOwnProperty.call(d, k);
    info.shape = dims.map((d) => (has(d, 'dimValue') ? toNumber(d.dimValue) : undefined));
    info.dimParams = dims.map((d) => (has(d, 'dimParam') ? str(d.dimParam) : undefined));
  }
  return info;
}

/**
 * Counts the graph's nodes and initializers by walking the protobuf wire format (tags and lengths only, nothing
 * allocated), so that a file with too many is refused before protobufjs builds an object per node. Stops quietly at
 * malformed bytes: decoding reports those.
 */
export function countGraphEntries(bytes: Uint8Array): { nodes: number; initializers: number } {
  const counts = { nodes: 0, initializers: 0 };
  const varint = (pos: number, end: number): [number, number] => {
    let v = 0;
    for (let shift = 0; pos < end && shift < 64; shift += 7) {
      const b = bytes[pos++]!;
      if (shift < 49) v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return [v, pos];
    }
    return [-1, end];
  };
  const walk = (start: number, end: number, inGraph: boolean): void => {
    let pos = start;
    while (pos < end) {
      const [tag, p1] = varint(pos, end);
      if (tag < 0) return;
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      pos = p1;
      if (wire === 0) pos = varint(pos, end)[1];
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const [len, p2] = varint(pos, end);
        if (len < 0 || p2 + len > end) return;
        if (!inGraph && field === 7) walk(p2, p2 + len, true);
        else if (inGraph && field === 1) counts.nodes++;
        else if (inGraph && field === 5) counts.initializers++;
        pos = p2 + len;
      } else return;
    }
  };
  walk(0, bytes.length, false);
  return counts;
}

/** Decodes ONNX ModelProto bytes. Throws UserError on anything that is not a well-formed ONNX model. */
export function decodeOnnx(bytes: Uint8Array, what = 'model', limits?: { nodes: number; initializers: number }): OnnxModel {
  if (limits) {
    const c = countGraphEntries(bytes);
    if (c.nodes > limits.nodes) throw new UserError(`${what}: the graph has ${c.nodes} nodes, more than ${limits.nodes}`, 'sqzfw imports microcontroller-sized CNNs; the file may be damaged');
    if (c.initializers > limits.initializers) throw new UserError(`${what}: the graph has ${c.initializers} initializers, more than ${limits.initializers}`, 'sqzfw imports microcontroller-sized CNNs; the file may be damaged');
  }
  let msg: Record<string, unknown>;
  try {
    msg = modelType().decode(bytes) as unknown as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new UserError(`${what} is not a valid ONNX file (protobuf decoding failed: ${why})`, 'the file is truncated or damaged, or not an ONNX model; export it again (torch.onnx.export) or download it again');
  }
  const g = msg.graph as Record<string, unknown> | undefined;
  if (!g) throw new UserError(`${what} has no graph: it is not an ONNX model`, 'the file may be truncated, damaged or of another format');
  const opsets = (arr(msg.opsetImport) as Record<string, unknown>[]).map((o) => ({ domain: str(o.domain), version: toNumber(o.version) }));
  const main = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const nodes = (arr(g.node) as Record<string, unknown>[]).map(
    (n): OnnxNode => ({
      name: str(n.name),
      opType: str(n.opType),
      domain: str(n.domain),
      inputs: arr(n.input).map(str),
      outputs: arr(n.output).map(str),
      attributes: (arr(n.attribute) as Record<string, unknown>[]).map(
        (a): OnnxAttribute => ({
          name: str(a.name),
          type: Number(a.type ?? 0),
          f: typeof a.f === 'number' ? a.f : 0,
          i: toNumber(a.i ?? 0),
          s: asBytes(a.s),
          t: a.t ? tensor(a.t as Record<string, unknown>) : undefined,
          floats: arr(a.floats) as number[],
          ints: arr(a.ints).map(toNumber),
          hasGraph: asBytes(a.g).length > 0 || arr(a.graphs).length > 0,
          refAttrName: str(a.refAttrName),
        }),
      ),
    }),
  );
  return {
    irVersion: toNumber(msg.irVersion ?? 0),
    producerName: str(msg.producerName),
    producerVersion: str(msg.producerVersion),
    opset: main ? main.version : 0,
    otherDomains: opsets.filter((o) => o !== main && o.domain !== 'ai.onnx.ml').map((o) => o.domain),
    graph: {
      name: str(g.name),
      nodes,
      initializers: (arr(g.initializer) as Record<string, unknown>[]).map(tensor),
      sparseInitializers: arr(g.sparseInitializer).length,
      inputs: (arr(g.input) as Record<string, unknown>[]).map(valueInfo),
      outputs: (arr(g.output) as Record<string, unknown>[]).map(valueInfo),
    },
  };
}
