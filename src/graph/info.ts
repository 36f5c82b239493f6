/** Per-layer shapes, parameter counts and multiply-accumulates: what `sqzfw info` prints. */
import type { Graph, GraphNode } from './ir.js';

export interface LayerInfo {
  name: string;
  op: GraphNode['op'];
  inputs: string[];
  shape: string;
  params: number;
  macs: number;
}

export interface GraphInfo {
  layers: LayerInfo[];
  params: number;
  macs: number;
  /** Largest single activation tensor, bytes at int8. */
  largestTensor: { name: string; bytes: number };
}

export function nodeParams(graph: Graph, node: GraphNode): number {
  if (node.op !== 'conv') return 0;
  const cin = graph.tensors[node.inputs[0]].c;
  return node.outChannels * node.kernel[0] * node.kernel[1] * cin + node.outChannels;
}

export function nodeMacs(graph: Graph, node: GraphNode): number {
  if (node.op !== 'conv') return 0;
  const o = graph.tensors[node.output];
  const cin = graph.tensors[node.inputs[0]].c;
  return o.h * o.w * o.c * node.kernel[0] * node.kernel[1] * cin;
}

export function graphInfo(graph: Graph): GraphInfo {
  const layers = graph.nodes.map((n) => {
    const d = graph.tensors[n.output];
    return { name: n.name, op: n.op, inputs: n.inputs, shape: `${d.h}x${d.w}x${d.c}`, params: nodeParams(graph, n), macs: nodeMacs(graph, n) };
  });
  let largestTensor = { name: '', bytes: 0 };
  for (const [name, d] of Object.entries(graph.tensors)) {
    const bytes = d.h * d.w * d.c;
    if (bytes > largestTensor.bytes) largestTensor = { name, bytes };
  }
  return {
    layers,
    params: layers.reduce((s, l) => s + l.params, 0),
    macs: layers.reduce((s, l) => s + l.macs, 0),
    largestTensor,
  };
}
