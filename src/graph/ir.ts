/**
 * Graph IR: plain data, batch 1, NHWC activations. Every stage after import works on these types.
 * Float weights are stored OHWI ([C_OUT][KH][KW][C_IN]), the layout the CMSIS-NN kernels read.
 */

export interface Dims {
  h: number;
  w: number;
  c: number;
}

/** Explicit padding; CMSIS-NN takes top/left, bottom/right follow from the output dims. */
export interface Pad {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

interface NodeBase {
  name: string;
  inputs: string[];
  output: string;
}

export interface ConvNode extends NodeBase {
  op: 'conv';
  kernel: [number, number]; // [kh, kw]
  stride: [number, number]; // [sh, sw]
  pad: Pad;
  outChannels: number;
  relu: boolean;
}

export interface MaxPoolNode extends NodeBase {
  op: 'maxpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Pad;
  /** Caffe/PyTorch ceil_mode: the last window may hang over the bottom/right edge and is clipped. */
  ceil: boolean;
}

/** Average pool; a global average pool is kernel = input h x w. */
export interface AvgPoolNode extends NodeBase {
  op: 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Pad;
  ceil: boolean;
  global: boolean;
}

/** Concatenation along channels. */
export interface ConcatNode extends NodeBase {
  op: 'concat';
}

export interface AddNode extends NodeBase {
  op: 'add';
  relu: boolean;
}

export interface SoftmaxNode extends NodeBase {
  op: 'softmax';
}

export type GraphNode = ConvNode | MaxPoolNode | AvgPoolNode | ConcatNode | AddNode | SoftmaxNode;
export type OpKind = GraphNode['op'];

export interface Graph {
  name: string;
  input: { name: string; dims: Dims };
  /** Nodes in a valid execution (topological) order. */
  nodes: GraphNode[];
  outputs: string[];
  /** Filled by inferShapes: every tensor's dims, the input included. */
  tensors: Record<string, Dims>;
}

/** Float parameters of one conv node: weights OHWI, bias per output channel. */
export interface ConvWeights {
  weights: Float32Array;
  bias: Float32Array;
}

export type FloatWeights = Record<string, ConvWeights>;

/** A graph with its float weights: what import (ONNX) or the builders hand to quantization. */
export interface FloatModel {
  graph: Graph;
  weights: FloatWeights;
}

export const samePad = (p: number): Pad => ({ top: p, left: p, bottom: p, right: p });

/** The tensor ranked for top-k: the first output, or the input of a final softmax (finer in int8, same order). */
export function scoreTensor(g: Graph): string {
  const out = g.outputs[0];
  const sm = g.nodes.find((n) => n.output === out && n.op === 'softmax');
  return sm ? sm.inputs[0] : out;
}
