/**
 * Fuzzing the ONNX importer: thousands of damaged, truncated and hostile model files must each end in a model that
 * passes the graph checks or in a UserError, never another exception, a crash, a hang or a huge allocation: each case
 * within 2 s and leaving at most 64 MiB of typed arrays allocated, the worker under 1.5 GiB resident.
 * Deterministic (seeded), a few seconds on two cores.
 */
import { describe, expect, test } from 'vitest';
import { UserError } from '../src/errors.js';
import { runFloat } from '../src/float/interp.js';
import { nodeMacs } from '../src/graph/info.js';
import { checkGraph } from '../src/graph/shapes.js';
import { importOnnx } from '../src/import/index.js';
import { mulberry32 } from '../src/util/random.js';
import { GraphBuilder, onnxModel, type AttrValue, type ModelSpec, type NodeSpec } from './helpers/onnx-writer.js';

/** Small valid models covering every supported op. */
function seeds(): ModelSpec[] {
  const out: ModelSpec[] = [];
  {
    // A fire module with pools, GAP, flatten and softmax.
    const b = new GraphBuilder(11);
    let x = b.relu(b.conv('in', 'c1', 3, 8, 3, { strides: { ints: [2, 2] } }), 'r1');
    x = b.op('MaxPool', 'p1', [x], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } });
    const s = b.relu(b.conv(x, 'sq', 8, 4, 1), 'rs');
    const e1 = b.relu(b.conv(s, 'e1', 4, 6, 1), 're1');
    const e3 = b.relu(b.conv(s, 'e3', 4, 6, 3, { pads: { ints: [1, 1, 1, 1] } }), 're3');
    x = b.op('Concat', 'cat', [e1, e3], { axis: { i: 1 } });
    x = b.op('Dropout', 'drop', [x], { ratio: { f: 0.5 } });
    x = b.relu(b.conv(x, 'c10', 12, 5, 1, { pads: { ints: [1, 1, 1, 1] } }), 'r10');
    x = b.op('GlobalAveragePool', 'gap', [x]);
    x = b.op('Flatten', 'flat', [x], { axis: { i: 1 } });
    x = b.op('Softmax', 'sm', [x], { axis: { i: 1 } });
    out.push({ nodes: b.nodes, initializers: b.inits, inputs: [{ name: 'in', shape: [1, 3, 17, 17] }], outputs: [{ name: x, shape: [1, 5] }], opset: 13 });
  }
  {
    // Add + fused ReLU, AveragePool, Reshape via a Constant node, auto_pad.
    const b = new GraphBuilder(12);
    const c = b.conv('in', 'c1', 2, 4, 3, { auto_pad: { s: 'SAME_UPPER' } });
    delete b.nodes[0].attrs!.pads;
    const d = b.conv('in', 'c2', 2, 4, 1);
    let x = b.relu(b.op('Add', 'add', [c, d]), 'ra');
    x = b.op('AveragePool', 'ap', [x], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads: { ints: [0, 0, 1, 1] } });
    x = b.op('GlobalAveragePool', 'gap', [x]);
    b.nodes.push({ op: 'Constant', name: 'shape', inputs: [], outputs: ['shape_c'], attrs: { value: { t: { name: 'shape_c', dims: [2], ints: [1, -1] } } } });
    x = b.op('Reshape', 'rs', [x, 'shape_c']);
    out.push({ nodes: b.nodes, initializers: b.inits, inputs: [{ name: 'in', shape: ['N', 2, 9, 7] }], outputs: [{ name: x, shape: ['N', 4] }], opset: 13, initializersAsInputs: true });
  }
  return out;
}

/** Caps that fail the test: per case, milliseconds and typed-array MiB still held at its end; the worker's peak RSS. */
const CASE_MS = 2000;
const CASE_ALLOC_MIB = 64;
const RSS_MIB = 1536;

/** Runs one case, returning how long it took and how many typed-array bytes it left allocated. */
function measured<T>(f: () => T): { value: T; ms: number; alloc: number } {
  const ab0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0, alloc: process.memoryUsage().arrayBuffers - ab0 };
}

/** The cases of a fuzz run: how many imported and how many were refused, the slowest and the largest allocation. */
class Tally {
  ok = 0;
  refused = 0;
  slowest = 0;
  largestAlloc = 0;

  /** Imports case `i` (attempt), measured; an unexpected exception fails the test naming the case. */
  run(i: number, bytes: Uint8Array): void {
    try {
      const m = measured(() => attempt(bytes));
      this[m.value]++;
      this.slowest = Math.max(this.slowest, m.ms);
      this.largestAlloc = Math.max(this.largestAlloc, m.alloc);
    } catch (e) {
      throw new Error(`case ${i}: ${(e as Error).stack}`);
    }
  }

  expectWithinCaps(what: string): void {
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(`${what}: slowest case ${this.slowest.toFixed(1)} ms, largest per-case allocation ${(this.largestAlloc / 2 ** 20).toFixed(1)} MiB, peak RSS ${rss.toFixed(0)} MiB`);
    expect(this.slowest).toBeLessThan(CASE_MS);
    expect(this.largestAlloc).toBeLessThan(CASE_ALLOC_MIB * 2 ** 20);
    expect(rss).toBeLessThan(RSS_MIB);
  }
}

/** Imports; returns 'ok' or 'refused', or throws the unexpected exception. */
function attempt(bytes: Uint8Array): 'ok' | 'refused' {
  let model;
  try {
    model = importOnnx(bytes, {}, 'fuzz');
  } catch (e) {
    if (e instanceof UserError) {
      if (!e.message.startsWith('fuzz')) throw new Error(`UserError without the file name: ${e.message}`);
      return 'refused';
    }
    throw e;
  }
  checkGraph(model.graph);
  const macs = model.graph.nodes.reduce((s, n) => s + nodeMacs(model.graph, n), 0);
  if (macs < 2e6) {
    const d = model.graph.input.dims;
    const t = runFloat(model, new Float32Array(d.h * d.w * d.c).fill(0.5));
    for (const o of model.graph.outputs) expect(t[o].length).toBeGreaterThan(0);
  }
  return 'ok';
}

type Mutator = (b: Uint8Array, rnd: () => number) => Uint8Array;
const pick = <T,>(xs: T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)];
const mutators: Record<string, Mutator> = {
  flip(b, rnd) {
    const c = b.slice();
    const n = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++) c[Math.floor(rnd() * c.length)] ^= 1 << Math.floor(rnd() * 8);
    return c;
  },
  byte(b, rnd) {
    const c = b.slice();
    c[Math.floor(rnd() * c.length)] = pick([0, 0xff, 0x7f, 0x80, 0x01, 0x08, 0x12], rnd);
    return c;
  },
  truncate(b, rnd) {
    return b.slice(0, Math.floor(rnd() * b.length));
  },
  cut(b, rnd) {
    const i = Math.floor(rnd() * b.length);
    const n = 1 + Math.floor(rnd() * 16);
    return Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + n)]);
  },
  insert(b, rnd) {
    const i = Math.floor(rnd() * b.length);
    const ins = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 256));
    return Uint8Array.from([...b.subarray(0, i), ...ins, ...b.subarray(i)]);
  },
  hugeVarint(b, rnd) {
    // Overwrite a stretch with a maximal 10-byte varint: absurd lengths, dims and attribute values.
    const c = b.slice();
    const i = Math.floor(rnd() * Math.max(1, c.length - 10));
    for (let k = 0; k < 9; k++) c[i + k] = 0xff;
    c[i + 9] = 0x01;
    return c;
  },
  duplicate(b, rnd) {
    const i = Math.floor(rnd() * b.length);
    const j = Math.min(b.length, i + 1 + Math.floor(rnd() * 64));
    return Uint8Array.from([...b.subarray(0, j), ...b.subarray(i, j), ...b.subarray(j)]);
  },
};

/** Structure-aware hostile variants: absurd shapes and attributes, cycles, missing initializers, renamed tensors. */
function hostile(spec: ModelSpec, rnd: () => number): ModelSpec {
  const s: ModelSpec = JSON.parse(JSON.stringify(spec, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
  const absurd = (): number => pick([0, -1, 2 ** 31, 2 ** 40, 1e15, 65537, 3, 1], rnd);
  const n: NodeSpec = pick(s.nodes, rnd);
  switch (Math.floor(rnd() * 9)) {
    case 0: // input dims
      s.inputs[0].shape = (s.inputs[0].shape ?? []).map((d) => (rnd() < 0.5 ? absurd() : d));
      break;
    case 1: {
      // an attribute gets absurd values
      const k = pick(Object.keys(n.attrs ?? {}).concat(['kernel_shape', 'strides', 'pads', 'axis', 'group', 'ceil_mode']), rnd);
      const v: AttrValue = rnd() < 0.5 ? { ints: Array.from({ length: Math.floor(rnd() * 6) }, absurd) } : { i: absurd() };
      n.attrs = { ...(n.attrs ?? {}), [k]: v };
      break;
    }
    case 2: // cycle: a node reads a later node's output
      if (s.nodes.length > 1) s.nodes[0].inputs[0] = pick(s.nodes, rnd).outputs[0];
      break;
    case 3: // missing initializer
      if (s.initializers?.length) s.initializers.splice(Math.floor(rnd() * s.initializers.length), 1);
      break;
    case 4: {
      // initializer dims lie about the data
      const t = s.initializers?.length ? pick(s.initializers, rnd) : undefined;
      if (t) t.dims = t.dims.map((d) => (rnd() < 0.5 ? absurd() : d));
      break;
    }
    case 5: // output renamed / duplicated producer
      if (rnd() < 0.5) s.outputs[0].name = pick(s.nodes, rnd).outputs[0];
      else pick(s.nodes, rnd).outputs[0] = pick(s.nodes, rnd).outputs[0];
      break;
    case 6: // op swapped
      n.op = pick(['Conv', 'Relu', 'MaxPool', 'Concat', 'Add', 'Softmax', 'Reshape', 'Flatten', 'Gemm', 'Loop', ''], rnd);
      break;
    case 7: // inputs dropped or duplicated
      n.inputs = rnd() < 0.5 ? n.inputs.slice(0, Math.floor(rnd() * n.inputs.length)) : [...n.inputs, ...n.inputs];
      break;
    default: // output shape declared wrong
      s.outputs[0].shape = [1, absurd()];
  }
  return s;
}

describe('fuzz: damaged and hostile ONNX files', () => {
  test('seeds import cleanly', () => {
    for (const s of seeds()) expect(attempt(onnxModel(s))).toBe('ok');
  });

  test('4000 byte-level mutations: a model or a UserError, never a crash or a hang', () => {
    const rnd = mulberry32(2024);
    const bases = seeds().map((s) => onnxModel(s));
    const tally = new Tally();
    const names = Object.keys(mutators);
    for (let i = 0; i < 4000; i++) {
      let bytes = pick(bases, rnd);
      const rounds = 1 + Math.floor(rnd() * 3);
      for (let r = 0; r < rounds; r++) bytes = mutators[pick(names, rnd)](bytes, rnd);
      tally.run(i, bytes);
    }
    expect(tally.ok + tally.refused).toBe(4000);
    expect(tally.refused).toBeGreaterThan(1000);
    tally.expectWithinCaps(`4000 byte-level mutations (${tally.ok} ok, ${tally.refused} refused)`);
  }, 60_000);

  test('2000 structure-aware hostile files: absurd shapes and attributes, cycles, missing initializers', () => {
    const rnd = mulberry32(77);
    const base = seeds();
    const tally = new Tally();
    for (let i = 0; i < 2000; i++) {
      let spec = pick(base, rnd);
      const rounds = 1 + Math.floor(rnd() * 2);
      for (let r = 0; r < rounds; r++) spec = hostile(spec, rnd);
      let bytes: Uint8Array;
      try {
        bytes = onnxModel(spec);
      } catch {
        continue; // the writer cannot encode it (e.g. a non-integer varint): not a file
      }
      tally.run(i, bytes);
    }
    expect(tally.refused).toBeGreaterThan(500);
    tally.expectWithinCaps(`2000 structure-aware files (${tally.ok} ok, ${tally.refused} refused)`);
  }, 60_000);

  test('deeply nested unknown groups and huge declared lengths are refused quickly', () => {
    // 100k nested start-group tags in an unknown field of the model.
    const deep = new Uint8Array(200_000);
    for (let i = 0; i < deep.length; i += 2) {
      deep[i] = (99 << 3) | 3; // field 99, wire type 3 (start group) as a 2-byte varint
      deep[i] = 0x9b;
      deep[i + 1] = 0x06;
    }
    expect(() => importOnnx(deep, {}, 'fuzz')).toThrow(UserError);
    // graph field claiming 2^35 bytes
    const lie = Uint8Array.from([0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x0a, 0x00]);
    expect(() => importOnnx(lie, {}, 'fuzz')).toThrow(UserError);
  });
});
