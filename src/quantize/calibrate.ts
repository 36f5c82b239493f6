/**
 * Post-training calibration: run the float model on calibration inputs and choose each tensor's range.
 *
 * Methods (deterministic: the same inputs give the same ranges, in any order or split across workers):
 * - minmax: the observed minimum and maximum.
 * - percentile: clip the p-th percentile tails (default 99.99) on each side of zero.
 * - mse: the clipping range that minimises the expected squared quantization error (clipping plus rounding,
 *   step^2 / 12) under the observed value distribution.
 * The graph input always uses min/max (the preprocessing fixes its range; clipping pixels only loses information).
 *
 * percentile and mse read per-tensor histograms: 4096 bins on each side of zero over a power-of-two range that
 * doubles (merging bin pairs exactly) when a larger value arrives, plus an exact count of zeros (ReLU outputs are
 * often half zeros, and zero is exact in the TFLite scheme).
 */
import { UserError } from '../errors.js';
import type { FloatModel } from '../graph/ir.js';
import { runFloat, type FloatTensors } from '../float/interp.js';
import { activationParams } from './quantize.js';
import type { QModel, Range, Ranges } from './types.js';

export type { Range, Ranges } from './types.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'mse'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];
/** The method every command uses on real models calibrated on images unless --calib-method says otherwise. */
export const IMAGE_CALIBRATION_METHOD: CalibrationMethod = 'mse';

export interface CalibrationOptions {
  method?: CalibrationMethod;
  /** Percentile kept on each side for method 'percentile' (default 99.99). */
  percentile?: number;
  /** Called after each input. */
  onProgress?: (done: number, total: number) => void;
}

const BINS = 4096;

/** One side of zero: counts of |v| in BINS equal bins over (0, range], range a power of two. */
class SideHistogram {
  counts = new Float64Array(BINS);
  range = 0;
  total = 0;
  max = 0;

  /** Grows the range to the power of two >= v, merging bins exactly. */
  private grow(v: number): void {
    let r = this.range || 2 ** Math.ceil(Math.log2(v));
    if (r < v) r = 2 ** Math.ceil(Math.log2(v));
    while (r < v) r *= 2; // guards against log2 rounding
    if (this.range === 0) {
      this.range = r;
      return;
    }
    const factor = r / this.range;
    if (factor === 1) return;
    const next = new Float64Array(BINS);
    for (let i = 0; i < BINS; i++) next[Math.floor(i / factor)] += this.counts[i];
    this.counts = next;
    this.range = r;
  }

  /** Makes the range cover values up to vmax (> 0). */
  ensure(vmax: number): void {
    if (vmax > this.range) this.grow(vmax);
    if (vmax > this.max) this.max = vmax;
  }

  merge(o: SideHistogram): void {
    if (o.total === 0) return;
    if (o.range > this.range) this.grow(o.range);
    const factor = this.range / o.range;
    for (let i = 0; i < BINS; i++) this.counts[Math.floor(i / factor)] += o.counts[i];
    this.total += o.total;
    this.max = Math.max(this.max, o.max);
  }

  /** Smallest bin edge e with count(|v| > e) <= tail, capped at the true maximum. */
  tailEdge(tail: number): number {
    if (this.total <= tail) return 0;
    let above = 0;
    const w = this.range / BINS;
    for (let i = BINS - 1; i >= 0; i--) {
      if (above + this.counts[i] > tail) return Math.min(this.max, (i + 1) * w);
      above += this.counts[i];
    }
    return 0;
  }

  /** Prefix sums over bin centres for O(1) clipping-error queries: count, sum(c), sum(c^2) of bins >= i. */
  suffix(): { n: Float64Array; s1: Float64Array; s2: Float64Array; w: number } {
    const n = new Float64Array(BINS + 1);
    const s1 = new Float64Array(BINS + 1);
    const s2 = new Float64Array(BINS + 1);
    const w = this.range / BINS;
    for (let i = BINS - 1; i >= 0; i--) {
      const c = Math.min((i + 0.5) * w, this.max);
      n[i] = n[i + 1] + this.counts[i];
      s1[i] = s1[i + 1] + this.counts[i] * c;
      s2[i] = s2[i + 1] + this.counts[i] * c * c;
    }
    return { n, s1, s2, w };
  }
}

interface SideState {
  counts: Float64Array;
  range: number;
  total: number;
  max: number;
}

export interface CalibratorState {
  images: number;
  stats: Record<string, { min: number; max: number; zeros: number; pos: SideState; neg: SideState }>;
}

/** scanExtremes' result: minimum, maximum, sum. */
const EXTREMES = new Float64Array(3);

/**
 * Minimum, maximum and sum of a tensor into EXTREMES. This loop and binValues' are small functions of their own:
 * V8 optimizes them on the first tensors and every later tensor runs the optimized loop (inside the larger add()
 * they were deoptimized and re-entered cold, and a calibration pass spent as long here as in the convolutions).
 */
function scanExtremes(data: Float32Array): void {
  let dmin = Infinity;
  let dmax = -Infinity;
  let sum = 0;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    sum += v;
    if (v < dmin) dmin = v;
    if (v > dmax) dmax = v;
  }
  EXTREMES[0] = dmin;
  EXTREMES[1] = dmax;
  EXTREMES[2] = sum;
}
// A few calls on two values at load time give V8 type feedback for every line (it allocates a function's feedback
// only after several calls), the stores after the loop included: without them the loop, optimized on the first large
// tensor, was thrown away at those stores ("insufficient type feedback") and the next tensors ran unoptimized again.
for (let i = 0; i < 16; i++) scanExtremes(new Float32Array(2));

/** binValues' count of negative values. */
const BIN_NEGATIVES = new Float64Array(1);

/** Counts each positive value in pc[floor(v * kp)], each negative in nc[floor(-v * kn)] (clamped to the last bin); returns the positives' count. */
function binValues(data: Float32Array, pc: Float64Array, kp: number, nc: Float64Array, kn: number): number {
  let np = 0;
  let nn = 0;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v > 0) {
      const b = Math.floor(v * kp);
      pc[b < BINS ? b : BINS - 1]++;
      np++;
    } else if (v < 0) {
      const b = Math.floor(-v * kn);
      nc[b < BINS ? b : BINS - 1]++;
      nn++;
    }
  }
  BIN_NEGATIVES[0] = nn;
  return np;
}

/** Everything calibration keeps about one tensor. */
export class TensorStats {
  min = Infinity;
  max = -Infinity;
  zeros = 0;
  pos = new SideHistogram();
  neg = new SideHistogram();

  /** Adds one tensor's values; returns false when some are NaN or infinite (then nothing is recorded). */
  add(data: Float32Array, histograms: boolean): boolean {
    scanExtremes(data);
    const [dmin, dmax, sum] = EXTREMES;
    const n = data.length;
    if (!Number.isFinite(sum)) return false;
    if (dmin < this.min) this.min = dmin;
    if (dmax > this.max) this.max = dmax;
    if (!histograms) return true;
    // Both ranges are grown to this tensor's extremes first, so every value bins directly in one pass.
    const pos = this.pos;
    const neg = this.neg;
    if (dmax > 0) pos.ensure(dmax);
    if (dmin < 0) neg.ensure(-dmin);
    const pc = pos.counts;
    const nc = neg.counts;
    const kp = pos.range > 0 ? BINS / pos.range : 0; // powers of two: v * k is exact
    const kn = neg.range > 0 ? BINS / neg.range : 0;
    const np = binValues(data, pc, kp, nc, kn);
    const nn = BIN_NEGATIVES[0];
    pos.total += np;
    neg.total += nn;
    this.zeros += n - np - nn;
    return true;
  }

  merge(o: TensorStats): void {
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
    this.zeros += o.zeros;
    this.pos.merge(o.pos);
    this.neg.merge(o.neg);
  }

  get count(): number {
    return this.zeros + this.pos.total + this.neg.total;
  }

  percentileRange(p: number): Range {
    const tail = ((100 - p) / 100) * this.count;
    return { min: Math.max(this.min, -this.neg.tailEdge(tail)), max: Math.min(this.max, this.pos.tailEdge(tail)) };
  }

  /** Range minimising clipping error + rounding error (step^2 / 12 per non-zero value inside the range). */
  mseRange(): Range {
    const P = this.pos.suffix();
    const N = this.neg.suffix();
    // Candidate clip points on one side: bin edges, on a log-spaced grid from max/64 to max (and max itself).
    const cands = (h: SideHistogram): number[] => {
      if (h.total === 0) return [0];
      const out = new Set<number>([h.max]);
      for (let j = 0; j <= 160; j++) {
        const v = h.max * 2 ** (-6 * (j / 160));
        out.add(Math.min(h.max, Math.ceil(v / (h.range / BINS)) * (h.range / BINS)));
      }
      return [...out].sort((a, b) => a - b);
    };
    /** Error of clipping side s at t: sum over bins above t of n * (c - t)^2; and the count inside. */
    const clip = (s: ReturnType<SideHistogram['suffix']>, total: number, t: number): { err: number; inside: number } => {
      if (total === 0) return { err: 0, inside: 0 };
      const i = Math.min(BINS, Math.ceil(t / s.w));
      const n = s.n[i];
      return { err: s.s2[i] - 2 * t * s.s1[i] + t * t * n, inside: total - n };
    };
    let best = { min: this.min, max: this.max };
    let bestErr = Infinity;
    const his = cands(this.pos);
    const los = cands(this.neg);
    for (const hi of his) {
      const cp = clip(P, this.pos.total, hi);
      for (const lo of los) {
        const cn = clip(N, this.neg.total, lo);
        const { scale } = activationParams(-lo, hi);
        const err = cp.err + cn.err + ((scale * scale) / 12) * (cp.inside + cn.inside);
        if (err < bestErr) {
          bestErr = err;
          best = { min: this.neg.total ? -lo : this.min, max: this.pos.total ? hi : this.max };
        }
      }
    }
    return { min: Math.max(best.min, this.min), max: Math.min(best.max, this.max) };
  }
}

/** Streaming calibration: add inputs (or already computed tensors) one at a time, merge partial results, read ranges. */
export class Calibrator {
  /** Per tensor name: a Map, since tensor names come from model files. */
  readonly stats = new Map<string, TensorStats>();
  images = 0;
  readonly method: CalibrationMethod;

  constructor(
    readonly model: FloatModel,
    readonly opts: CalibrationOptions = {},
  ) {
    const method = opts.method ?? 'minmax';
    if (!(CALIBRATION_METHODS as readonly string[]).includes(method)) throw new Error(`unknown calibration method ${method}`);
    this.method = method;
  }

  addTensors(tensors: FloatTensors): void {
    const hist = this.method !== 'minmax';
    for (const [name, data] of Object.entries(tensors)) {
      let st = this.stats.get(name);
      if (!st) this.stats.set(name, (st = new TensorStats()));
      if (!st.add(data, hist && name !== this.model.graph.input.name)) {
        throw new UserError(`calibration: the float model produces NaN or infinite values in tensor ${name}`, 'the weights or the input are damaged (or far out of range): check the model and its card (mean/std)');
      }
    }
    this.images++;
  }

  /** Runs the float model on one input and records its tensors; returns them for callers that need the outputs. */
  addInput(input: Float32Array): FloatTensors {
    const t = runFloat(this.model, input);
    this.addTensors(t);
    return t;
  }

  /** Plain data (structured-clonable: worker threads send their partial calibrations this way). */
  state(): CalibratorState {
    const side = (h: SideHistogram): SideState => ({ counts: h.counts, range: h.range, total: h.total, max: h.max });
    // fromEntries makes own properties (a tensor named __proto__ stays a key).
    const stats: CalibratorState['stats'] = Object.fromEntries([...this.stats].map(([name, t]) => [name, { min: t.min, max: t.max, zeros: t.zeros, pos: side(t.pos), neg: side(t.neg) }]));
    return { images: this.images, stats };
  }

  /** Merges a state() of a calibrator of the same model and method: exact, so any split gives the same ranges. */
  mergeState(st: CalibratorState): void {
    const o = new Calibrator(this.model, this.opts);
    const side = (h: SideHistogram, s: SideState): void => void Object.assign(h, { counts: Float64Array.from(s.counts), range: s.range, total: s.total, max: s.max });
    for (const [name, s] of Object.entries(st.stats)) {
      const t = new TensorStats();
      Object.assign(t, { min: s.min, max: s.max, zeros: s.zeros });
      side(t.pos, s.pos);
      side(t.neg, s.neg);
      o.stats.set(name, t);
    }
    o.images = st.images;
    this.merge(o);
  }

  merge(o: Calibrator): void {
    for (const [name, s] of o.stats) {
      const mine = this.stats.get(name);
      if (mine) mine.merge(s);
      else this.stats.set(name, s);
    }
    this.images += o.images;
  }

  ranges(): Ranges {
    if (this.images === 0) throw new Error('calibration needs at least one input');
    const p = this.opts.percentile ?? 99.99;
    const out: [string, Range][] = [];
    for (const [name, s] of this.stats) {
      if (this.method === 'minmax' || name === this.model.graph.input.name) out.push([name, { min: s.min, max: s.max }]);
      else if (this.method === 'percentile') out.push([name, s.percentileRange(p)]);
      else out.push([name, s.mseRange()]);
    }
    // Own data properties only (fromEntries never calls a __proto__ setter).
    return Object.fromEntries(out);
  }
}

export function calibrate(model: FloatModel, inputs: Iterable<Float32Array>, opts: CalibrationOptions = {}): Ranges {
  const cal = new Calibrator(model, opts);
  const list = Array.isArray(inputs) ? inputs : [...inputs];
  if (list.length === 0) throw new Error('calibration needs at least one input');
  for (const input of list) {
    cal.addInput(input);
    opts.onProgress?.(cal.images, list.length);
  }
  return cal.ranges();
}

// ---------- report ----------

export interface CalibrationRow {
  tensor: string;
  shape: string;
  /** Observed range over the calibration set (when known). */
  observed?: Range;
  /** Range chosen by calibration (before grouping of pass-through ops). */
  chosen?: Range;
  /** Final int8 parameters. */
  scale: number;
  zeroPoint: number;
  /** Real range the int8 parameters represent: [(-128 - zp) * scale, (127 - zp) * scale]. */
  representable: Range;
}

/** Each tensor's scale and zero point, with the observed and chosen ranges when the calibrator is given. */
export function calibrationReport(q: QModel, cal?: Calibrator): CalibrationRow[] {
  const chosen = cal ? cal.ranges() : undefined;
  return Object.values(q.tensors).map((t) => ({
    tensor: t.name,
    shape: `${t.dims.h}x${t.dims.w}x${t.dims.c}`,
    observed: cal?.stats.get(t.name) ? { min: cal.stats.get(t.name)!.min, max: cal.stats.get(t.name)!.max } : undefined,
    chosen: chosen && Object.hasOwn(chosen, t.name) ? chosen[t.name] : undefined,
    scale: t.scale,
    zeroPoint: t.zeroPoint,
    representable: { min: (-128 - t.zeroPoint) * t.scale, max: (127 - t.zeroPoint) * t.scale },
  }));
}

const g4 = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

/** Fixed-width text table of calibrationReport rows. */
export function formatCalibrationReport(rows: CalibrationRow[], method?: string): string {
  const head = ['tensor', 'shape', 'observed min..max', 'chosen min..max', 'scale', 'zero point'];
  const body = rows.map((r) => [
    r.tensor,
    r.shape,
    r.observed ? `${g4(r.observed.min)}..${g4(r.observed.max)}` : '-',
    r.chosen ? `${g4(r.chosen.min)}..${g4(r.chosen.max)}` : '-',
    r.scale.toPrecision(5),
    String(r.zeroPoint),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  const title = method ? `calibration (${method}): scale and zero point per tensor\n` : '';
  return title + [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}
