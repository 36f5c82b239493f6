/**
 * The search over row-band plans. The model's layers are cut into chains (see tiling.ts); each chain option
 * (layers, band rows, halo policy) is built alone and measured: its most live bytes, MACs, copied bytes, calls.
 * Chains run one after another and only whole tensors cross their borders, so the plan's live-bytes peak is the
 * largest of its chains' peaks, and a dynamic program over chain borders finds, for a bound M on that peak, the
 * cheapest cut (fewest extra MACs, then least estimated time). The planner then
 *  - min-memory: takes the smallest M whose cheapest cut stays under the recompute cap;
 *  - fastest: takes M = the board's RAM and lowers it while the real placement does not fit;
 * and places the chosen plan's buffers for real (placement strategies in arena.ts), keeping the best result.
 */
import type { QModel } from '../quantize/types.js';
import { Program } from './program.js';
import { bandCount, bandHeight, emitSegment, evaluateSegment, Net, NotBandable, rowPools, runningMaxOk, runningPools, scheduleMacs, scheduleSegment, streamsInput, type Halo, type Segment, type SegmentEval, type SegmentInfo } from './tiling.js';
import type { KernelPath } from './scratch.js';
import type { ChainSummary, InputIn } from './types.js';

/**
 * Estimated cost of a plan in guest instructions (for "fastest"), fitted on SqueezeNet v1.1 in QEMU (mps2-an500,
 * DSP kernels of firmware/cmsis-nn), one chain banded at a time: about 2 instructions per MAC; the 1x1 fast path
 * sums every output channel's weights again on each call, about 5.6 instructions per weight byte (conv10 in 4
 * calls instead of 1: +8.6M; in 13 calls: +37.7M); a call with an odd pixel count runs its last pixel on a
 * one-column path (about 0.5 more per MAC); about 2000 per call and 0.5 per copied byte otherwise (conv1..
 * fire2.squeeze as 263 calls instead of 4 whole-tensor calls: +0.6M).
 */
export const COST = { perMac: 2, perOddPixelMac: 0.5, perWeightSumByte: 5.6, perCopiedByte: 0.5, perCall: 2000 };
export const costOf = (e: { macs: number; oddPixelMacs: number; weightSumBytes: number; copyBytes: number; steps: number }): number =>
  COST.perMac * e.macs + COST.perOddPixelMac * e.oddPixelMacs + COST.perWeightSumByte * e.weightSumBytes + COST.perCopiedByte * e.copyBytes + COST.perCall * e.steps;

export function baseMacs(model: QModel): number {
  let macs = 0;
  for (const l of model.layers) {
    if (l.op !== 'conv') continue;
    const o = model.tensors[l.output].dims;
    const i = model.tensors[l.inputs[0]].dims;
    macs += o.h * o.w * o.c * l.kernel[0] * l.kernel[1] * i.c;
  }
  return macs;
}

/** Band counts tried for a sink of height h: 1-4, then growing by about 1.5x, then one band per row. */
function bandCounts(h: number): number[] {
  const out = new Set<number>();
  for (let n = 1; n <= Math.min(h, 4); n++) out.add(n);
  for (let n = 6; n < h; n = Math.round(n * 1.5)) out.add(n);
  out.add(h);
  return [...out].sort((a, b) => a - b);
}

export interface OptionSet {
  net: Net;
  base: number;
  /** Options grouped by the layer index they end at. */
  byEnd: SegmentEval[][];
  all: SegmentEval[];
}

export interface SearchLimits {
  /** Longest chain in layers. */
  maxChainLayers?: number;
  /** Allowed extra MACs, as a fraction of the untiled model's MACs. */
  maxRecompute: number;
  /** Where the model input lives (default arena). */
  inputIn?: InputIn;
  /** Fuse the classifier pool (default true). */
  fusePool?: boolean;
  /** Offer row pools (default true; false gives the band plans of before). */
  rowPool?: boolean;
  /** Offer row pools as running maxes too (default true; see running-max.ts). */
  runningMax?: boolean;
  /** Offer pulled chains (default true; false gives the band plans of before). */
  pull?: boolean;
}

const cache = new WeakMap<QModel, Map<string, OptionSet>>();

/** Every valid chain option of a model, measured (cached per model object and settings). */
export function chainOptions(model: QModel, path: KernelPath, limits: SearchLimits): OptionSet {
  const key = `${path}/${limits.maxRecompute}/${limits.maxChainLayers ?? ''}/${limits.inputIn ?? 'arena'}/${limits.fusePool ?? true}/${limits.rowPool ?? true}/${limits.runningMax ?? true}/${limits.pull ?? true}`;
  const perModel = cache.get(model) ?? new Map<string, OptionSet>();
  cache.set(model, perModel);
  const hit = perModel.get(key);
  if (hit) return hit;
  const made = makeChainOptions(model, path, limits);
  perModel.set(key, made);
  return made;
}

function makeChainOptions(model: QModel, path: KernelPath, limits: SearchLimits): OptionSet {
  const net = new Net(model, limits.inputIn, limits.fusePool);
  const base = baseMacs(model);
  const n = net.layers.length;
  const byEnd: SegmentEval[][] = Array.from({ length: n + 1 }, () => []);
  const all: SegmentEval[] = [];
  const maxLen = limits.maxChainLayers ?? 20;
  const baseOf = (start: number, end: number): number => {
    let m = 0;
    for (let l = start; l < end; l++) {
      const layer = net.layers[l];
      if (layer.op !== 'conv') continue;
      const o = net.dims(layer.output);
      m += o.h * o.w * o.c * layer.kernel[0] * layer.kernel[1] * net.dims(layer.inputs[0]).c;
    }
    return m;
  };
  for (let start = 0; start < n; start++) {
    for (let end = start + 1; end <= Math.min(n, start + maxLen); end++) {
      if (!net.validSegment(start, end)) continue;
      const h = bandHeight(net, end);
      const segBase = baseOf(start, end);
      const seen = new Set<string>();
      // Row pools only pay off in banded chains (one band holds the conv output whole anyway) with kept halos.
      const splits = limits.rowPool !== false && rowPools(net, start, end).size > 0 ? [false, true] : [false];
      const runs = limits.runningMax !== false && splits.length > 1 && runningMaxOk(net, start, end) ? [false, true] : [false];
      for (const count of bandCounts(h)) {
        const rows = Math.ceil(h / count);
        const halos: Halo[] = count === 1 ? ['keep'] : limits.maxRecompute > 0 ? ['keep', 'recompute'] : ['keep'];
        // (Row pools with recomputed halos are valid plans but not searched: they only add MACs to the same bytes.)
        // Pulled rows (kept halos only) with the row pools where the chain has them: both
        // only lower live bytes. Only for one-row bands: a pulled chain computes the other tensors a row at a time
        // anyway, so taller bands of the banded tensor only hold more of it (and each pulled option costs thousands of
        // steps to measure).
        const variants: { halo: Halo; rowPool: boolean; runningMax: boolean; pull: boolean }[] = [];
        for (const halo of halos) for (const rowPool of count === 1 || halo === 'recompute' ? [false] : splits) for (const runningMax of rowPool ? runs : [false]) variants.push({ halo, rowPool, runningMax, pull: false });
        // Pulled chains also with their conv-fed row pools as running maxes (concat-fed ones stay two-pass).
        const pulledRuns = limits.runningMax !== false && splits.length > 1 && runningPools(net, start, end, true).size > 0 ? [false, true] : [false];
        if (count > 1 && count === h && limits.pull !== false) for (const runningMax of pulledRuns) variants.push({ halo: 'keep', rowPool: splits.length > 1, runningMax, pull: true });
        for (const { halo, rowPool, runningMax, pull } of variants) {
          const key = `${rows}/${halo}/${rowPool}/${runningMax}/${pull}`;
          if (seen.has(key)) continue;
          seen.add(key);
          let info: SegmentInfo;
          try {
            info = scheduleSegment(net, { start, end, rows, halo, ...(rowPool ? { rowPool } : {}), ...(runningMax ? { runningMax } : {}), ...(pull ? { pull } : {}) });
          } catch (err) {
            if (err instanceof NotBandable) continue;
            throw err;
          }
          if (scheduleMacs(info) - segBase > limits.maxRecompute * base) continue;
          const e = evaluateSegment(net, info, path);
          byEnd[end].push(e);
          all.push(e);
        }
      }
    }
  }
  return { net, base, byEnd, all };
}

export interface Cut {
  segs: SegmentEval[];
  /** Largest chain peak (the plan's live-bytes lower bound). */
  peak: number;
  macs: number;
  cost: number;
  /** Sum of the chains' peaks. */
  peakSum: number;
}

/**
 * Cheapest cut whose chains all stay at or below `bound` live bytes. `by`: 'cost' = least estimated time;
 * 'macs' = fewest MACs, then time; 'memory' = fewest MACs, then the smallest sum of chain peaks (chains that are
 * small everywhere pack better than the bound alone says).
 */
export function cheapestCut(opts: OptionSet, bound: number, by: 'macs' | 'cost' | 'memory'): Cut | undefined {
  const n = opts.net.layers.length;
  const best: (Cut | undefined)[] = new Array(n + 1).fill(undefined);
  best[0] = { segs: [], peak: 0, macs: 0, cost: 0, peakSum: 0 };
  const better = (a: Cut, b: Cut | undefined): boolean => {
    if (!b) return true;
    if (by !== 'cost' && a.macs !== b.macs) return a.macs < b.macs;
    if (by === 'memory' && a.peakSum !== b.peakSum) return a.peakSum < b.peakSum;
    if (a.cost !== b.cost) return a.cost < b.cost;
    return a.peak < b.peak;
  };
  for (let end = 1; end <= n; end++) {
    for (const e of opts.byEnd[end]) {
      if (e.peak > bound) continue;
      const prev = best[e.seg.start];
      if (!prev) continue;
      const cand: Cut = { segs: [...prev.segs, e], peak: Math.max(prev.peak, e.peak), macs: prev.macs + e.macs, cost: prev.cost + costOf(e), peakSum: prev.peakSum + e.peak };
      if (better(cand, best[end])) best[end] = cand;
    }
  }
  return best[n];
}

/**
 * Cuts for the smallest peak: the smallest bound whose fewest-MACs cut keeps extra MACs within the cap, and the
 * next larger bounds, each with two tie-breaks (time, memory); at most `count` distinct cuts.
 */
export function minMemoryCuts(opts: OptionSet, maxRecompute: number, count: number): Cut[] {
  const peaks = [...new Set(opts.all.map((e) => e.peak))].sort((a, b) => a - b);
  const ok = (bound: number, by: 'macs' | 'memory'): Cut | undefined => {
    const c = cheapestCut(opts, bound, by);
    return c && c.macs - opts.base <= maxRecompute * opts.base ? c : undefined;
  };
  let lo = 0;
  let hi = peaks.length - 1;
  if (hi < 0 || !ok(peaks[hi], 'macs')) return [];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(peaks[mid], 'macs')) hi = mid;
    else lo = mid + 1;
  }
  const out: Cut[] = [];
  for (let i = lo; i < peaks.length && out.length < count; i++) {
    for (const by of ['memory', 'macs'] as const) {
      const c = ok(peaks[i], by);
      if (c && out.length < count && !out.some((o) => sameCut(o, c))) out.push(c);
    }
  }
  return out;
}

/** A chain option's identity: layers, band rows, halo policy, row pools. */
export const segKey = (s: Segment): string => `${s.start}-${s.end}/${s.rows}/${s.halo}${s.rowPool ? '/rowpool' : ''}${s.runningMax ? '/running' : ''}${s.pull ? '/pull' : ''}${s.parkHalo ? '/park' : ''}${s.rowTemps ? '/rowtemps' : ''}`;

/** The same chains, layer ranges and settings. */
export const sameCut = (a: Cut, b: Cut): boolean => a.segs.length === b.segs.length && a.segs.every((s, i) => segKey(s.seg) === segKey(b.segs[i].seg));

export interface BuiltPlan {
  prog: Program;
  macs: number;
  chains: ChainSummary[];
}

/** Emits the steps of a cut, chain after chain; the model input is live from step 0, outputs to the end. */
export function buildCut(net: Net, segs: Segment[], path: KernelPath, peaks?: number[]): BuiltPlan {
  const prog = new Program();
  const model = net.model;
  const input = model.input;
  const d = net.dims(input);
  const streamed = net.inputIn === 'stream';
  if (!streamed || !streamsInput(net, segs[0].start, segs[0].end)) {
    prog.declare(input, streamed ? 'tensor' : 'input', net.bytes(input), input);
    if (net.inputIn === 'caller') prog.outside.add(input);
    // A streamed input the first chain cannot band is fetched whole first.
    if (streamed) prog.push({ op: 'fetch', layer: net.layers[0].name, first: 0, last: d.h - 1, rowBytes: net.rowBytes(input), output: { buffer: input, offset: 0 }, note: 'the whole input' });
    else prog.pin(input, 0);
  }
  let macs = 0;
  const chains: ChainSummary[] = [];
  segs.forEach((seg, chain) => {
    const info = scheduleSegment(net, seg);
    macs += emitSegment(prog, info, { path, chain });
    chains.push({
      first: net.layers[seg.start].name,
      last: net.layers[seg.end - 1].name,
      bandRows: info.seg.rows,
      bands: bandCount(info),
      halo: seg.halo,
      liveBytes: peaks?.[chain] ?? 0,
      ...(info.poolInput ? { fusedPool: true } : {}),
      ...(info.rowPools.size ? { rowPool: true } : {}),
      ...(info.seg.runningMax ? { runningMax: true } : {}),
      ...(info.seg.pull ? { pull: true } : {}),
      ...(info.seg.parkHalo ? { parkHalo: true } : {}),
      ...(info.seg.rowTemps ? { rowTemps: true } : {}),
    });
  });
  for (const o of model.outputs) prog.pin(o, prog.steps.length - 1);
  return { prog, macs, chains };
}
