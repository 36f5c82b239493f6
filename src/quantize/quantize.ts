/**
 * Float model + calibrated ranges -> QModel, per the TFLite int8 scheme:
 * weights int8 symmetric per output channel, bias int32 at input_scale * weight_scale, activations int8 asymmetric
 * per tensor, Q31 multiplier + shift, fused ReLU as a clamp at the output zero point.
 * Ops that only move or compare bytes (max pool, concat, windowed average pool) need equal quantization on their
 * inputs and output, so those tensors are grouped and share one range. A global average pool requantizes
 * (sqzfw_global_avgpool_requant_s8), so its output keeps its own calibrated range.
 * Scales are float32 and every multiplier is derived from them as TFLite Micro does (tflite-params.ts): the QModel
 * is exactly what its .tflite export (src/tflite) means, and TFLM runs that file bit-exactly like the golden model.
 */
import type { FloatModel, Graph } from '../graph/ir.js';
import { ADD_LEFT_SHIFT, addParams, convMultiplier, f32, meanMultiplier, softmaxParams } from './tflite-params.js';
import type { QLayer, QModel, QTensor, Ranges } from './types.js';

export { ADD_LEFT_SHIFT } from './tflite-params.js';

const SOFTMAX_SCALE = 1 / 256;
const SOFTMAX_ZERO_POINT = -128;

/** Tensors that must share quantization parameters (union-find over pass-through ops). */
function shareGroups(graph: Graph): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const n of graph.nodes) {
    const passThrough = n.op === 'maxpool' || n.op === 'concat' || (n.op === 'avgpool' && !n.global);
    if (passThrough) for (const i of n.inputs) union(n.output, i);
  }
  const groups = new Map<string, string>();
  for (const t of Object.keys(graph.tensors)) groups.set(t, find(t));
  return groups;
}

export function activationParams(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  let hi = Math.max(0, max);
  if (hi - lo < 1e-6) hi = lo + 1e-6;
  const scale = f32((hi - lo) / 255);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}


const roundHalfAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/**
 * One output channel's weights [off, off + per) to int8 with a symmetric per-channel scale (returned): a small
 * function of its own, so that its loops are optimized at once (inside quantizeModel's big map they ran cold).
 */
function quantizeChannel(w: Float32Array, off: number, per: number, out: Int8Array): number {
  let amax = 0;
  let nan = false;
  for (let i = off; i < off + per; i++) {
    const a = Math.abs(w[i]);
    if (a > amax) amax = a;
    else if (a !== a) nan = true;
  }
  // As Math.max would: a NaN weight makes the maximum NaN, and the scale 1.
  const ws = amax > 0 && !nan ? f32(amax / 127) : 1;
  // roundHalfAway and the clamp to [-127, 127], written out without a branch on the sign (weights' signs are random,
  // so such a branch is mispredicted half the time): m = min(round(|x|), 127), then the sign applied as
  // (m ^ s) - s with s = 0 or -1. NaN weights store 0 (min(NaN, 127) | 0), as Math.round(NaN) stored in an Int8Array.
  for (let i = off; i < off + per; i++) {
    const x = w[i] / ws;
    const m = Math.min(Math.round(Math.abs(x)), 127) | 0;
    const s = -Number(x < 0);
    out[i] = (m ^ s) - s;
  }
  return ws;
}

/**
 * A global average pool's output scale is at least its input scale / 2^20: keeps TFLite MEAN's multiplier
 * in_scale / out_scale in range (quantizeMultiplier allows shift <= 30) when the output range is degenerate.
 */
const GAP_MAX_GAIN = 2 ** 20;

const poolCount = (graph: Graph, input: string): number => graph.tensors[input].h * graph.tensors[input].w;

export function quantizeModel(model: FloatModel, ranges: Ranges): QModel {
  const { graph } = model;
  const groups = shareGroups(graph);
  const groupRange = new Map<string, { min: number; max: number }>();
  for (const [t, g] of groups) {
    const r = Object.hasOwn(ranges, t) ? ranges[t] : undefined;
    if (!r) throw new Error(`no calibration range for tensor ${t}`);
    const cur = groupRange.get(g);
    groupRange.set(g, cur ? { min: Math.min(cur.min, r.min), max: Math.max(cur.max, r.max) } : { ...r });
  }
  const tensors: Record<string, QTensor> = {};
  for (const [t, dims] of Object.entries(graph.tensors)) {
    const r = groupRange.get(groups.get(t)!)!;
    tensors[t] = { name: t, dims, ...activationParams(r.min, r.max) };
  }
  for (const n of graph.nodes) {
    if (n.op === 'softmax') {
      if (groups.get(n.output) !== n.output) throw new Error(`softmax output ${n.output} cannot share quantization`);
      tensors[n.output] = { ...tensors[n.output], scale: SOFTMAX_SCALE, zeroPoint: SOFTMAX_ZERO_POINT };
    }
  }
  for (const n of graph.nodes) {
    if (n.op !== 'avgpool' || !n.global) continue;
    const tin = tensors[n.inputs[0]];
    const tout = tensors[n.output];
    const floor = tin.scale / GAP_MAX_GAIN;
    if (tout.scale < floor) {
      const lo = Math.min(0, groupRange.get(groups.get(n.output)!)!.min);
      for (const [t, g] of groups) if (g === groups.get(n.output)) tensors[t] = { ...tensors[t], ...activationParams(lo, lo + 255 * floor) };
    }
  }

  const layers: QLayer[] = graph.nodes.map((n): QLayer => {
    const base = { name: n.name, inputs: [...n.inputs], output: n.output };
    const tin = tensors[n.inputs[0]];
    const tout = tensors[n.output];
    switch (n.op) {
      case 'conv': {
        const p = model.weights[n.name];
        const cin = graph.tensors[n.inputs[0]].c;
        const per = n.kernel[0] * n.kernel[1] * cin;
        if (!p || p.weights.length !== n.outChannels * per || p.bias.length !== n.outChannels) {
          throw new Error(`weights of ${n.name} do not match its shape ${n.outChannels}x${n.kernel.join('x')}x${cin}`);
        }
        const weights = new Int8Array(p.weights.length);
        const bias = new Int32Array(n.outChannels);
        const weightScales = new Float64Array(n.outChannels);
        const multiplier = new Int32Array(n.outChannels);
        const shift = new Int32Array(n.outChannels);
        for (let oc = 0; oc < n.outChannels; oc++) {
          const ws = quantizeChannel(p.weights, oc * per, per, weights);
          weightScales[oc] = ws;
          const b = roundHalfAway(p.bias[oc] / (tin.scale * ws));
          bias[oc] = Math.max(-2147483648, Math.min(2147483647, b));
          const q = convMultiplier(tin.scale, ws, tout.scale);
          multiplier[oc] = q.mult;
          shift[oc] = q.shift;
        }
        return {
          ...base,
          op: 'conv',
          kernel: [...n.kernel],
          stride: [...n.stride],
          pad: { ...n.pad },
          weights,
          bias,
          weightScales,
          multiplier,
          shift,
          inputOffset: -tin.zeroPoint,
          outputOffset: tout.zeroPoint,
          actMin: n.relu ? Math.max(-128, tout.zeroPoint) : -128,
          actMax: 127,
        };
      }
      case 'maxpool':
      case 'avgpool': {
        const l = { ...base, op: n.op, kernel: [...n.kernel] as [number, number], stride: [...n.stride] as [number, number], pad: { ...n.pad }, actMin: -128, actMax: 127 };
        if (n.op !== 'avgpool' || !n.global) return l;
        const q = meanMultiplier(tin.scale, tout.scale, poolCount(graph, n.inputs[0]));
        return { ...l, requant: { inputOffset: -tin.zeroPoint, outputOffset: tout.zeroPoint, mult: q.mult, shift: q.shift } };
      }
      case 'concat':
        return { ...base, op: 'concat' };
      case 'add': {
        const t2 = tensors[n.inputs[1]];
        const { m1, m2, mo } = addParams(tin.scale, t2.scale, tout.scale);
        return {
          ...base,
          op: 'add',
          input1Offset: -tin.zeroPoint,
          input1Mult: m1.mult,
          input1Shift: m1.shift,
          input2Offset: -t2.zeroPoint,
          input2Mult: m2.mult,
          input2Shift: m2.shift,
          leftShift: ADD_LEFT_SHIFT,
          outputOffset: tout.zeroPoint,
          outputMult: mo.mult,
          outputShift: mo.shift,
          actMin: n.relu ? Math.max(-128, tout.zeroPoint) : -128,
          actMax: 127,
        };
      }
      case 'softmax':
        return { ...base, op: 'softmax', ...softmaxParams(tin.scale) };
    }
  });
  return { name: graph.name, input: graph.input.name, outputs: [...graph.outputs], tensors, layers };
}

/** Float HWC input -> int8 with the input tensor's parameters (round half away from zero, saturate). */
export function quantizeInput(x: Float32Array, t: QTensor): Int8Array {
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.max(-128, Math.min(127, roundHalfAway(x[i] / t.scale) + t.zeroPoint));
  return q;
}
