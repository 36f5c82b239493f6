/**
 * `sqzfw info`: per layer, the multiply-accumulates, the bytes of weights the firmware stores (int8 weights, or
 * packed int4, plus int32 biases) and the bytes of the layer's int8 output activation, for the synthetic SqueezeNet
 * or a real model (ONNX graph or int8 .tflite).
 */
import { kib } from '../util/format.js';
import type { Dims, Graph } from '../graph/ir.js';
import type { QModel } from '../quantize/types.js';
import { weightArrayBytes } from '../quantize/int4.js';

export interface LayerRow {
  name: string;
  op: string;
  output: Dims;
  /** Weights and biases (count of numbers). */
  params: number;
  macs: number;
  /** Stored weight bytes: weights at their bit width (int8 unless the layer is int4) and int32 biases. */
  weightBytes: number;
  /** The layer's output tensor at int8. */
  activationBytes: number;
}

export interface ModelInfo {
  model: string;
  input: Dims;
  layers: LayerRow[];
  totals: { params: number; macs: number; weightBytes: number; largestActivation: { name: string; bytes: number } };
}

interface LayerFacts {
  name: string;
  op: string;
  inputs: string[];
  output: string;
  /** Conv only: kernel, and the bytes of its stored weight arrays (absent: one byte per weight). */
  kernel?: [number, number];
  weightArrayBytes?: number;
}

const bytesOf = (d: Dims): number => d.h * d.w * d.c;

function build(model: string, input: Dims, layers: LayerFacts[], dims: (t: string) => Dims): ModelInfo {
  const rows = layers.map((l): LayerRow => {
    const out = dims(l.output);
    const row = { name: l.name, op: l.op, output: { ...out }, params: 0, macs: 0, weightBytes: 0, activationBytes: bytesOf(out) };
    if (l.kernel) {
      const cin = dims(l.inputs[0]!).c;
      const weights = out.c * l.kernel[0] * l.kernel[1] * cin;
      row.params = weights + out.c;
      row.macs = out.h * out.w * weights;
      row.weightBytes = (l.weightArrayBytes ?? weights) + 4 * out.c;
    }
    return row;
  });
  let largest = { name: '', bytes: 0 };
  for (const l of rows) if (l.activationBytes > largest.bytes) largest = { name: l.name, bytes: l.activationBytes };
  if (bytesOf(input) > largest.bytes) largest = { name: 'input', bytes: bytesOf(input) };
  const sum = (k: 'params' | 'macs' | 'weightBytes'): number => rows.reduce((s, r) => s + r[k], 0);
  return { model, input: { ...input }, layers: rows, totals: { params: sum('params'), macs: sum('macs'), weightBytes: sum('weightBytes'), largestActivation: largest } };
}

/** From a graph with inferred shapes: the synthetic SqueezeNet or an imported ONNX model (weights at int8). */
export function graphModelInfo(g: Graph): ModelInfo {
  const layers = g.nodes.map((n) => ({ name: n.name, op: n.op, inputs: n.inputs, output: n.output, kernel: n.op === 'conv' ? n.kernel : undefined }));
  return build(g.name, g.input.dims, layers, (t) => g.tensors[t]!);
}

/** From a quantized model (an int8 .tflite): each conv layer's weights as stored (int8, packed int4, or both). */
export function qmodelInfo(m: QModel): ModelInfo {
  const layers = m.layers.map((l) => ({ name: l.name, op: l.op, inputs: l.inputs, output: l.output, kernel: l.op === 'conv' ? l.kernel : undefined, weightArrayBytes: l.op === 'conv' ? weightArrayBytes(l) : undefined }));
  return build(m.name, m.tensors[m.input]!.dims, layers, (t) => m.tensors[t]!.dims);
}

const dimsText = (d: Dims): string => `${d.h}x${d.w}x${d.c}`;

/** The table `sqzfw info` prints. */
export function modelInfoLines(i: ModelInfo): string[] {
  const n = (v: number): string => v.toLocaleString('en-US');
  const head = `${'layer'.padEnd(22)}${'op'.padEnd(9)}${'output'.padEnd(14)}${'params'.padStart(10)}${'MACs'.padStart(14)}${'weight B'.padStart(11)}${'activation B'.padStart(14)}`;
  const rows = i.layers.map(
    (l) => `${l.name.padEnd(22)}${l.op.padEnd(9)}${dimsText(l.output).padEnd(14)}${String(l.params).padStart(10)}${n(l.macs).padStart(14)}${n(l.weightBytes).padStart(11)}${n(l.activationBytes).padStart(14)}`,
  );
  const t = i.totals;
  return [
    `${i.model}: input ${dimsText(i.input)}`,
    head,
    ...rows,
    `total: ${n(t.params)} parameters, ${(t.macs / 1e6).toFixed(1)} M MACs, ${n(t.weightBytes)} weight bytes; largest activation ${t.largestActivation.name} ${kib(t.largestActivation.bytes)} at int8`,
  ];
}
