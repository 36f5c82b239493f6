/**
 * Mixed precision under a weights budget: which conv layers get int4 weights.
 *
 * int4 weights are rounded against each layer's input statistics on the same inputs (src/quantize/int4-rounding.ts).
 * Sensitivity of a layer = the output error when that layer alone is int4: on each calibration input the int8
 * model runs once; then, for every conv layer L, the model is re-run from L onward (golden model, fast engine) with L's int4 weights, and the
 * score tensor's squared difference from the int8 one, relative to the int8 score's energy around its zero point,
 * is averaged over the inputs. Selection: the set of int4 layers of least summed sensitivity whose weights fit, an
 * exact knapsack over the layers (src/precision/knapsack.ts). Every layer is rounded to int4 once; a candidate model
 * takes its int4 layers from that model. The result lists every layer's precision, bytes and sensitivity, and the
 * combined model's own output error on the same inputs (the estimated loss).
 */
import { UserError } from '../errors.js';
import type { FloatModel } from '../graph/ir.js';
import { runGolden, runLayer, topK, type IntTensors } from '../golden/run.js';
import { classifierConv, weightArrayBytes, withInt4Layers, withInt8Channels } from '../quantize/int4.js';
import { SecondMoment } from '../quantize/int4-rounding.js';
import type { QConv, QModel } from '../quantize/types.js';
import { leastCostFitting } from './knapsack.js';

export interface LayerPrecision {
  name: string;
  bits: 4 | 8;
  /** Weight-array bytes at int8 and at int4. */
  int8Bytes: number;
  int4Bytes: number;
  /** Relative output error with this layer alone in int4 (see the file comment). */
  sensitivity: number;
  /** The classifier with some classes kept int8 (keepClassifierClasses): how many, of its `channels`. */
  int8Channels?: number;
  channels?: number;
}

export interface MixedResult {
  model: QModel;
  layers: LayerPrecision[];
  /** Weight arrays (weights, bias, multipliers, shifts) of the int8 and of the mixed model. */
  int8Bytes: number;
  bytes: number;
  /** Relative output error of the mixed model, and its top-1 agreement with the int8 model, on the inputs. */
  outputError: number;
  top1AgreementWithInt8: number;
  inputs: number;
}

/** Every weight array of a model's conv layers: weights (int8 or packed int4), int32 bias, multipliers, shifts. */
export function weightBytes(q: QModel): number {
  return q.layers.reduce((s, l) => (l.op === 'conv' ? s + weightArrayBytes(l) + 12 * l.bias.length : s), 0);
}

/** weightBytes of the model with every conv layer in int4, from the float weights alone (before any calibration). */
export function int4WeightBytes(model: FloatModel): number {
  return Object.values(model.weights).reduce((s, p) => s + Math.ceil(p.weights.length / 2) + 12 * p.bias.length, 0);
}

/** Runs the layers from index `from` on, over tensors that already hold everything before it. */
function runFrom(q: QModel, from: number, base: IntTensors, replaced: Int8Array): IntTensors {
  const t: IntTensors = { ...base, [q.layers[from].output]: replaced };
  for (let i = from + 1; i < q.layers.length; i++) {
    const l = q.layers[i];
    t[l.output] = runLayer(q, l, t);
  }
  return t;
}

/**
 * The tensors of `m` on the input `q` ran with (`base`, q's tensors): `m` keeps q's layer objects up to its first
 * changed one (compose, withInt4Layers), so it runs from there only.
 */
function runChanged(q: QModel, m: QModel, base: IntTensors): IntTensors {
  const first = m.layers.findIndex((l, i) => l !== q.layers[i]);
  return first < 0 ? base : runFrom(m, first, base, runLayer(m, m.layers[first], base));
}

function relError(a: Int8Array, b: Int8Array, zp: number): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += (b[i] - zp) ** 2;
  }
  return den > 0 ? num / den : num;
}

/**
 * Per conv layer, the second moment of its input patches in the int8 model on the inputs: what the int4 weights
 * are rounded against (accuracy-aware rounding, src/quantize/int4-rounding.ts).
 */
export function int4Hessians(q: QModel, inputs: Int8Array[]): Map<string, Float64Array> {
  const convs = q.layers.filter((l): l is QConv => l.op === 'conv');
  const acc = convs.map((l) => new SecondMoment(l, q.tensors[l.inputs[0]].dims.c));
  for (const x of inputs) {
    const t = runGolden(q, x);
    convs.forEach((l, k) => {
      const inT = q.tensors[l.inputs[0]];
      acc[k].add(t[l.inputs[0]], inT.dims, inT.scale, inT.zeroPoint);
    });
  }
  return new Map(convs.map((l, k) => [l.name, acc[k].matrix()]));
}

/**
 * Sensitivity of every conv layer on quantized inputs (see the file comment); `int4` is `q` with every conv layer in
 * int4 (rounded against `hessians` when it is not given).
 */
export function layerSensitivities(model: FloatModel, q: QModel, inputs: Int8Array[], target: string, tick?: (done: number) => void, hessians?: Map<string, Float64Array>, int4 = withInt4Layers(model, q, q.layers.filter((l) => l.op === 'conv').map((l) => l.name), hessians)): Map<string, number> {
  const zp = q.tensors[target].zeroPoint;
  const sens = new Map<string, number>();
  for (const [k, x] of inputs.entries()) {
    const base = runGolden(q, x);
    q.layers.forEach((l, i) => {
      if (l.op !== 'conv') return;
      const out = runFrom(q, i, base, runLayer(int4, int4.layers[i], base));
      sens.set(l.name, (sens.get(l.name) ?? 0) + relError(out[target], base[target], zp) / inputs.length);
    });
    tick?.(k + 1);
  }
  return sens;
}

/** How selectMixed measures and what it may reuse. */
export interface SelectOptions {
  /** Called after each input's sensitivity pass. */
  tick?: (done: number) => void;
  /** Per conv layer, the second moment of its input patches (int4Hessians), when already measured. */
  hessians?: Map<string, Float64Array>;
  /** `q` with every conv layer already rounded to int4 against `hessians` (so it is not rounded again). */
  int4?: QModel;
  /** Inputs the classifier's int8 classes are chosen on (default: the sensitivity inputs). */
  classInputs?: Int8Array[];
}

/**
 * The mixed model whose weights fit: `fits(model)` is the budget test (total bytes, or the board's flash). Throws a
 * UserError when even int4 everywhere does not fit. After the layer choice, the bytes it leaves are spent on the
 * classifier conv when it is int4 (keepClassifierClasses).
 */
export function selectMixed(model: FloatModel, q: QModel, inputs: Int8Array[], target: string, fits: (m: QModel) => boolean, what: string, o: SelectOptions = {}): MixedResult {
  if (inputs.length === 0) throw new UserError('mixed precision needs calibration images to measure each layer', 'pass --calib DIR (or --image) with the model');
  const convs = q.layers.filter((l): l is QConv => l.op === 'conv');
  const all4 = withInt4Layers(model, q, convs.map((l) => l.name));
  if (!fits(all4)) {
    throw new UserError(`${q.name} does not fit ${what} even with int4 weights in every layer (${weightBytes(all4)} bytes of weight arrays)`, 'raise the budget, use fewer --classes, or a board with more flash');
  }
  const hess = fits(q) ? undefined : (o.hessians ?? int4Hessians(q, inputs));
  // every conv layer rounded once; a candidate takes its int4 layers from here
  const rounded = fits(q) ? q : (o.int4 ?? withInt4Layers(model, q, convs.map((l) => l.name), hess));
  const sens = fits(q) ? new Map<string, number>() : layerSensitivities(model, q, inputs, target, o.tick, hess, rounded);
  const compose = (names: Iterable<string>): QModel => {
    const set = new Set(names);
    return set.size === 0 ? q : { ...q, layers: q.layers.map((l, i) => (set.has(l.name) ? rounded.layers[i] : l)) };
  };
  const items = convs.map((l) => ({ name: l.name, saved: l.weights.length - Math.ceil(l.weights.length / 2), cost: sens.get(l.name) ?? 0 })).filter((it) => it.saved > 0);
  const choice = leastCostFitting(items, (names) => fits(compose(names)));
  if (!choice) throw new UserError(`${q.name} does not fit ${what} with any set of int4 layers`, 'raise the budget, use fewer --classes, or a board with more flash');
  const chosen = choice.names;
  const m = keepClassifierClasses(q, compose(chosen), o.classInputs ?? inputs, target, fits);
  const zp = q.tensors[target].zeroPoint;
  let err = 0;
  let agree = 0;
  for (const x of inputs) {
    const t8 = runGolden(q, x);
    const a = t8[target];
    const b = runChanged(q, m, t8)[target];
    err += relError(b, a, zp) / inputs.length;
    if (topK(a, 1)[0] === topK(b, 1)[0]) agree++;
  }
  const set = new Set(chosen);
  const final = (name: string): QConv => m.layers.find((l) => l.name === name) as QConv;
  return {
    model: m,
    layers: convs.map((l) => ({
      name: l.name,
      bits: set.has(l.name) ? 4 : 8,
      int8Bytes: l.weights.length,
      // a classifier with int8 classes: its bytes as stored (both parts and the order table)
      int4Bytes: final(l.name).int8Channels ? weightArrayBytes(final(l.name)) : Math.ceil(l.weights.length / 2),
      sensitivity: sens.get(l.name) ?? 0,
      ...(final(l.name).int8Channels ? { int8Channels: final(l.name).int8Channels!.length, channels: l.bias.length } : {}),
    })),
    int8Bytes: weightBytes(q),
    bytes: weightBytes(m),
    outputError: err,
    top1AgreementWithInt8: agree / inputs.length,
    inputs: inputs.length,
  };
}

/**
 * The bytes a layer choice leaves unused, spent on the classifier: when the classifier conv (classifierConv) of `m`
 * is int4 and the scores are its pool's output, each class (output channel) of it can stay int8 on its own, and the
 * scores' squared error is a sum over classes. Class c's gain is how much less error its int8 weights give, summed
 * over the inputs (each input's error relative to its int8 scores' energy, as the sensitivity): the classes of
 * largest gain stay int8, as many as still fit (bisection on the count with `fits`).
 */
export function keepClassifierClasses(q: QModel, m: QModel, inputs: Int8Array[], target: string, fits: (m: QModel) => boolean): QModel {
  const at = m.layers.findIndex((l) => l.name === classifierConv(m)?.name);
  const l4 = m.layers[at] as QConv | undefined;
  const pool = l4 && m.layers.find((l) => l.inputs[0] === l4.output);
  if (!l4 || !pool || l4.weightBits !== 4 || l4.int8Channels || pool.output !== target) return m;
  const l8 = q.layers[at] as QConv;
  const q8: QModel = { ...m, layers: m.layers.map((l, i) => (i === at ? l8 : l)) };
  const zp = q.tensors[target].zeroPoint;
  const gain = new Float64Array(l4.bias.length);
  for (const x of inputs) {
    const t8 = runGolden(q, x);
    const ref = t8[target];
    const t = runChanged(q, m, t8);
    const s4 = t[target];
    const s8 = runLayer(q8, pool, { ...t, [l4.output]: runLayer(q8, l8, t) });
    let den = 0;
    for (const v of ref) den += (v - zp) ** 2;
    for (let c = 0; c < gain.length; c++) gain[c] += ((s4[c] - ref[c]) ** 2 - (s8[c] - ref[c]) ** 2) / (den || 1);
  }
  const ranked = Array.from(gain.keys()).filter((c) => gain[c] > 0).sort((a, b) => gain[b] - gain[a] || a - b);
  const withTop = (k: number): QModel => ({ ...m, layers: m.layers.map((l, i) => (i === at ? withInt8Channels(l4, l8, ranked.slice(0, k)) : l)) });
  let lo = 0;
  let hi = ranked.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(withTop(mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? m : withTop(lo);
}

/** Report lines: one per conv layer, then the totals and the estimated loss. */
export function mixedReport(r: MixedResult): string[] {
  const lines = r.layers.map(
    (l) =>
      `${l.name.padEnd(22)} int${l.bits}  ${String(l.bits === 4 ? l.int4Bytes : l.int8Bytes).padStart(8)} B  sensitivity ${(100 * l.sensitivity).toFixed(3)}%${l.int8Channels ? `  (${l.int8Channels} of ${l.channels} classes kept int8)` : ''}`,
  );
  const n4 = r.layers.filter((l) => l.bits === 4).length;
  lines.push(`weights: ${r.bytes} bytes (int8: ${r.int8Bytes}), ${n4} of ${r.layers.length} conv layers in int4`);
  lines.push(`estimated loss on ${r.inputs} calibration images: output error ${(100 * r.outputError).toFixed(2)}%, top-1 agreement with int8 ${(100 * r.top1AgreementWithInt8).toFixed(1)}%`);
  return lines;
}
