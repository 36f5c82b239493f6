/**
 * Shape inference and the graph invariant check run between pipeline stages.
 * Errors name the node, what is wrong and the shapes involved.
 */
import { UserError } from '../errors.js';
import type { Dims, Graph, GraphNode, Pad } from './ir.js';

const fmt = (d: Dims): string => `${d.h}x${d.w}x${d.c}`;

/** Output length of a sliding window; ceil mode follows PyTorch/Caffe (last window must start inside). */
export function windowOut(size: number, k: number, s: number, padA: number, padB: number, ceil: boolean): number {
  const span = size + padA + padB - k;
  if (span < 0) return 0;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + padA) out--;
  return out;
}

function nodeOutput(node: GraphNode, ins: Dims[]): Dims {
  const bad = (what: string): never => {
    throw new UserError(`node ${node.name} (${node.op}): ${what}`, 'check the model: the input is too small or the layer attributes are inconsistent');
  };
  const [a] = ins;
  switch (node.op) {
    case 'conv':
    case 'maxpool':
    case 'avgpool': {
      const global = node.op === 'avgpool' && node.global;
      const [kh, kw] = global ? [a.h, a.w] : node.kernel;
      const [sh, sw] = node.stride;
      const p: Pad = node.pad;
      const ceil = node.op !== 'conv' && node.ceil;
      const h = windowOut(a.h, kh, sh, p.top, p.bottom, ceil);
      const w = windowOut(a.w, kw, sw, p.left, p.right, ceil);
      if (h < 1 || w < 1) bad(`a ${kh}x${kw}/${sh} window does not fit the ${fmt(a)} input`);
      if (kh < 1 || kw < 1 || sh < 1 || sw < 1) bad(`kernel ${kh}x${kw} and stride ${sh}x${sw} must be positive`);
      if (p.top >= kh || p.left >= kw || p.bottom >= kh || p.right >= kw) {
        // A window made only of padding is legal for convs (Caffe conv10 has pad 1 on a 1x1 kernel: output = bias).
        if (node.op !== 'conv') bad(`padding ${p.top},${p.left},${p.bottom},${p.right} is not smaller than the ${kh}x${kw} window`);
      }
      return { h, w, c: node.op === 'conv' ? node.outChannels : a.c };
    }
    case 'concat': {
      if (ins.length < 2) bad('needs at least two inputs');
      for (const d of ins) if (d.h !== a.h || d.w !== a.w) bad(`inputs differ in size: ${ins.map(fmt).join(' vs ')}`);
      return { h: a.h, w: a.w, c: ins.reduce((s, d) => s + d.c, 0) };
    }
    case 'add': {
      if (ins.length !== 2) bad('needs exactly two inputs');
      const [x, y] = ins;
      if (x.h !== y.h || x.w !== y.w || x.c !== y.c) bad(`inputs differ in shape: ${fmt(x)} vs ${fmt(y)}`);
      return { ...x };
    }
    case 'softmax':
      return { ...a };
  }
}

/** Returns a copy of the graph with every tensor's dims; fixes global pools' kernels to their input size. */
export function inferShapes(graph: Graph): Graph {
  const tensors: Record<string, Dims> = { [graph.input.name]: { ...graph.input.dims } };
  const nodes = graph.nodes.map((node) => {
    const ins = node.inputs.map((t) => {
      const d = tensors[t];
      if (!d) throw new UserError(`node ${node.name} reads tensor "${t}" before anything produces it`, 'the graph is not in execution order or a producer is missing');
      return d;
    });
    if (tensors[node.output]) throw new UserError(`tensor "${node.output}" is produced twice (second time by ${node.name})`, 'every node must write its own tensor');
    const out = nodeOutput(node, ins);
    tensors[node.output] = out;
    if (node.op === 'avgpool' && node.global) return { ...node, kernel: [ins[0].h, ins[0].w] as [number, number] };
    return node;
  });
  const result: Graph = { ...graph, nodes, tensors };
  checkGraph(result);
  return result;
}

/** Invariants every stage may rely on. Throws on the first violation. */
export function checkGraph(graph: Graph): void {
  const fail = (msg: string): never => {
    throw new UserError(`graph ${graph.name}: ${msg}`, 'this is an invalid model graph');
  };
  const seen = new Set<string>([graph.input.name]);
  const names = new Set<string>();
  for (const node of graph.nodes) {
    if (names.has(node.name)) fail(`duplicate node name ${node.name}`);
    names.add(node.name);
    for (const t of node.inputs) if (!seen.has(t)) fail(`${node.name} reads ${t} before it is produced`);
    if (seen.has(node.output)) fail(`${node.output} is produced twice`);
    seen.add(node.output);
    const d = graph.tensors[node.output];
    if (!d) fail(`no shape for ${node.output}`);
    if (![d.h, d.w, d.c].every((v) => Number.isInteger(v) && v > 0)) fail(`${node.output} has invalid shape ${fmt(d)}`);
    const expected = nodeOutput(node, node.inputs.map((t) => graph.tensors[t]));
    if (expected.h !== d.h || expected.w !== d.w || expected.c !== d.c) {
      fail(`${node.output} is recorded as ${fmt(d)} but ${node.op} gives ${fmt(expected)}`);
    }
  }
  if (graph.outputs.length === 0) fail('has no outputs');
  for (const o of graph.outputs) if (!seen.has(o)) fail(`output ${o} is never produced`);
}
