/**
 * The SRAM planner: turns a QModel into kernel-call steps, gives every tensor, row band and scratch buffer a
 * lifetime and an offset in one of the board's RAM regions, and checks the result.
 *
 * Strategies:
 *  - plain: layer by layer on whole tensors (plain.ts), the baseline;
 *  - tiled: row-band chains (tiling.ts) chosen to minimize peak SRAM under a cap on extra MACs (search.ts);
 *  - auto (default): the fastest plan that fits the regions: the plain one if it fits, else the cheapest
 *    row-band plan that fits.
 * If nothing fits, the error gives the smallest arena the planner can reach and the layer that sets it.
 */
import { EXIT, UserError } from '../errors.js';
import type { QModel } from '../quantize/types.js';
import { checkPlacement, liveLowerBound, piecesOf, placeInRegions, type BufferRequest, type RegionPlacement } from './arena.js';
import { liveAt, liveProfile } from './live.js';
import { buildPlainSteps } from './plain.js';
import { stepAccesses } from './program.js';
import { baseMacs, buildCut, chainOptions, cheapestCut, minMemoryCuts, sameCut, segKey, type Cut } from './search.js';
import { Net, rowPools, type Segment } from './tiling.js';
import type { KernelPath } from './scratch.js';
import type { ChainSummary, InputIn, LivePiece, MemoryPlan, PlannedBuffer, PlanRegion, Ref, Step } from './types.js';
import { kib } from '../util/format.js';

export { liveProfile } from './live.js';

export type { PlanRegion };

export type PlanStrategy = 'plain' | 'tiled' | 'auto';
export const PLAN_STRATEGIES: readonly PlanStrategy[] = ['plain', 'tiled', 'auto'];

export interface BoardPlanOptions {
  /** Which kernel build sizes the scratch buffers. */
  path?: KernelPath;
  alignment?: number;
  /** plain | tiled | auto (default auto, see the file comment). */
  strategy?: PlanStrategy;
  /** Extra MACs allowed for recomputed halo rows, as a fraction of the model's MACs (default 0.25). */
  maxRecompute?: number;
  /** Tries of the placement search per candidate plan (default: fewer for plans with many buffers). */
  searchIterations?: number;
  /** Where the model input lives: arena (default), caller (a buffer outside the arena) or stream (rows by callback). */
  inputIn?: InputIn;
  /** Fuse a global average pool with the conv before it (default true; false gives the unfused plans of before). */
  fusePool?: boolean;
  /** Let the search run max pools as row pools (default true; false gives the band plans of before). */
  rowPool?: boolean;
  /** Let the search run row pools as running maxes (default true; false gives the two-pass row pools of before). */
  runningMax?: boolean;
  /** Let the search pull rows (tiling.ts, pullBands; default true; false gives the band plans of before). */
  pull?: boolean;
}

export interface PlanOptions extends BoardPlanOptions {
  /** RAM regions that may hold the arena, in order of preference. */
  regions: PlanRegion[];
}

export const DEFAULT_MAX_RECOMPUTE = 0.25;

/** Parses a --max-recompute value in percent ("25", "25%", "0") into a fraction. */
export function parseMaxRecompute(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v);
  if (!m) throw new UserError(`--max-recompute must be a percentage such as 25 or 12.5%, got "${v}"`);
  return Number(m[1]) / 100;
}

/** MACs of one conv call (also used for band steps). */
export const convMacs = (inC: number, kernel: [number, number], out: { h: number; w: number; c: number }): number => out.h * out.w * out.c * kernel[0] * kernel[1] * inC;

/**
 * MACs of a plan's conv calls whose layer has int4 weights (the CMSIS-NN s4 kernels): 0 for an all-int8 model. Of a
 * layer with int8 channels (QConv.int8Channels) only the int4 channels' share runs in s4.
 */
export function int4Macs(plan: Pick<MemoryPlan, 'steps'>, model: QModel): number {
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  let macs = 0;
  for (const s of plan.steps) {
    const l = s.op === 'conv' ? layers.get(s.layer) : undefined;
    if (s.op !== 'conv' || l?.op !== 'conv' || l.weightBits !== 4) continue;
    const c4 = s.outDims.c - (l.int8Channels?.length ?? 0);
    macs += convMacs(s.inDims.c, l.kernel, { ...s.outDims, c: c4 });
  }
  return macs;
}

interface Decl {
  name: string;
  kind: PlannedBuffer['kind'];
  tensor?: string;
  size: number;
  firstUse: number;
  lastUse: number;
  live?: LivePiece[];
}

interface Draft {
  steps: Step[];
  decls: Decl[];
  /** Absent when the input is streamed. */
  input?: Ref;
  inputIn: InputIn;
  outputs: Record<string, Ref>;
  macs: number;
  copyBytes: number;
  strategy: string;
  chains?: ChainSummary[];
}

/** The caller's input buffer is no arena buffer. */
const outside = (d: Draft, name: string): boolean => d.inputIn === 'caller' && name === d.input?.buffer;

const requests = (d: Draft, alignment: number): BufferRequest[] =>
  d.decls.filter((b) => !outside(d, b.name)).map((b) => ({ name: b.name, size: b.size, firstUse: b.firstUse, lastUse: b.lastUse, alignment, live: b.live }));

/** The plain schedule; a streamed input is fetched whole by a first step. */
function plainSteps(model: QModel, path: KernelPath, inputIn: InputIn): ReturnType<typeof buildPlainSteps> {
  const d = buildPlainSteps(model, path);
  if (inputIn !== 'stream') return d;
  const id = model.tensors[model.input].dims;
  d.steps.unshift({ op: 'fetch', layer: model.layers[0].name, first: 0, last: id.h - 1, rowBytes: id.w * id.c, output: d.loc.get(model.input)!, note: 'the whole input' });
  for (const b of d.buffers.values()) {
    b.first += 1;
    b.last += 1;
  }
  const inBuf = d.buffers.get(d.loc.get(model.input)!.buffer)!;
  inBuf.first = 0;
  inBuf.kind = 'tensor';
  return d;
}

function plainDraft(model: QModel, path: KernelPath, inputIn: InputIn): Draft {
  const d = plainSteps(model, path, inputIn);
  let macs = 0;
  let copyBytes = 0;
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  for (const s of d.steps) {
    if (s.op === 'conv') {
      const l = layers.get(s.layer);
      if (l?.op === 'conv') macs += convMacs(s.inDims.c, l.kernel, s.outDims);
    } else if (s.op === 'concat') copyBytes += s.inDims.h * s.inDims.w * s.inDims.c;
  }
  const outputs: Record<string, Ref> = {};
  for (const o of model.outputs) outputs[o] = d.loc.get(o) ?? { buffer: o, offset: 0 };
  return {
    steps: d.steps,
    decls: [...d.buffers].map(([name, b]) => ({ name, kind: b.kind, tensor: b.tensor, size: b.size, firstUse: b.first, lastUse: b.last })),
    ...(inputIn === 'stream' ? {} : { input: d.loc.get(model.input)! }),
    inputIn,
    outputs,
    macs,
    copyBytes,
    strategy: 'layer-by-layer',
  };
}

/**
 * How a cut's chains hold their rows (tiling.ts): parked halos (kept halo rows wait between bands in a buffer of
 * their own) and row temporaries (fire expand convs one row per call). Both add calls or copies and can only lower
 * the bytes a band buffer pins, so the planner places them beside the plain cut and keeps what places smallest.
 */
interface HoldVariant {
  parkHalo: boolean;
  rowTemps: boolean;
}
const HOLD_VARIANTS: HoldVariant[] = [
  { parkHalo: true, rowTemps: false },
  { parkHalo: true, rowTemps: true },
];

/** A cut's draft, its chains held as `hold` says (absent: as the search measured them). */
function tiledDraft(model: QModel, cut: Cut, path: KernelPath, opts: ReturnType<typeof chainOptions>, hold?: HoldVariant): Draft {
  const segs = cut.segs.map((s) => ({
    ...s.seg,
    ...(hold?.parkHalo && s.seg.halo === 'keep' && s.bands > 1 ? { parkHalo: true } : {}),
    ...(hold?.rowTemps ? { rowTemps: true } : {}),
  }));
  return segmentsDraft(model, opts.net, segs, path, cut.segs.map((s) => s.peak));
}

function segmentsDraft(model: QModel, net: Net, segs: Segment[], path: KernelPath, peaks?: number[]): Draft {
  const built = buildCut(net, segs, path, peaks);
  const prog = built.prog;
  const decls: Decl[] = [];
  for (const b of prog.buffers.values()) {
    const live = prog.pieces(b.name);
    if (live.length === 0) continue;
    decls.push({ name: b.name, kind: b.kind, tensor: b.tensor, size: b.size, firstUse: Math.min(...live.map((p) => p.first)), lastUse: Math.max(...live.map((p) => p.last)), live });
  }
  const banded = built.chains.filter((c) => c.bands > 1);
  const strategy =
    banded.length === 0
      ? 'chains of whole tensors'
      : `row bands: ${banded.map((c) => `${c.first}..${c.last} x${c.bands}${c.halo === 'recompute' ? ' (recompute)' : ''}${c.fusedPool ? ' (fused pool)' : ''}${c.rowPool ? (c.runningMax ? ' (row pool, running max)' : ' (row pool)') : ''}${c.pull ? ' (pulled rows)' : ''}${c.parkHalo ? ' (parked halos)' : ''}${c.rowTemps ? ' (row temporaries)' : ''}`).join(', ')}`;
  return {
    steps: prog.steps,
    decls,
    ...(net.inputIn === 'stream' ? {} : { input: { buffer: model.input, offset: 0 } }),
    inputIn: net.inputIn,
    outputs: Object.fromEntries(model.outputs.map((o) => [o, { buffer: o, offset: 0 }])),
    macs: built.macs,
    copyBytes: prog.copyBytes,
    strategy,
    chains: built.chains,
  };
}

/** The region holding the caller's input buffer (not arena memory). */
export const CALLER_REGION = 'caller';

function assemble(model: QModel, d: Draft, p: RegionPlacement, regions: PlanRegion[], alignment: number): MemoryPlan {
  const reqs = requests(d, alignment);
  const buffers: PlannedBuffer[] = d.decls.map((b) => ({
    name: b.name,
    kind: b.kind,
    tensor: b.tensor,
    size: b.size,
    firstUse: b.firstUse,
    lastUse: b.lastUse,
    region: outside(d, b.name) ? CALLER_REGION : p.region[b.name],
    offset: outside(d, b.name) ? 0 : p.offsets[b.name],
    alignment,
    ...(b.live ? { live: b.live } : {}),
  }));
  const id = model.tensors[model.input].dims;
  const inputBytes = id.h * id.w * id.c;
  const caller = d.inputIn === 'caller' ? [{ name: CALLER_REGION, used: inputBytes, capacity: inputBytes, external: 'caller' as const }] : [];
  return {
    model: model.name,
    strategy: `${d.strategy}; placement ${p.strategy}`,
    buffers,
    steps: d.steps,
    regions: [...regions.map((r) => ({ name: r.name, used: p.used[r.name] ?? 0, capacity: r.capacity })), ...caller],
    ...(d.input ? { input: d.input } : {}),
    inputIn: d.inputIn,
    inputBytes,
    outputs: d.outputs,
    peakBytes: p.size,
    macs: d.macs,
    baseMacs: baseMacs(model),
    copyBytes: d.copyBytes,
    ...(d.chains ? { chains: d.chains } : {}),
    lowerBound: liveLowerBound(reqs),
  };
}

/** The arena a draft needs in one unbounded region, and its peak step. */
interface Need {
  size: number;
  peakStep: number;
  live: string[];
  /** Bytes of the model input live in the arena at the peak. */
  inputLive: number;
}

/**
 * What a live buffer holds, in the model's terms: "input rows 7-95 of 96 (25.0 KiB)", "conv1: a band of 1 of 111
 * rows (6.9 KiB)", "conv1 pooled across by pool1: a band of 3 of 111 rows", "fire3.squeeze whole", "scratch of conv1".
 */
function describe(model: QModel, d: Draft, decl: Decl, step: number, bytes: number): string {
  const kibText = `(${kib(bytes)})`;
  if (decl.kind === 'scratch') {
    const at = Number(/#(\d+)$/.exec(decl.name)?.[1]);
    return `scratch of ${d.steps[at]?.layer ?? '?'} ${kibText}`;
  }
  const t = decl.tensor ?? decl.name;
  const [base, pool] = t.split('~');
  const dims = model.tensors[base]?.dims;
  if (!dims) return `${decl.name} ${kibText}`;
  const w = pool ? (model.tensors[model.layers.find((l) => l.name === pool)?.output ?? '']?.dims.w ?? dims.w) : dims.w;
  const rowBytes = w * dims.c;
  const what = pool ? `${base} pooled across by ${pool}` : base;
  if (decl.kind === 'band') {
    const rows = Math.round(decl.size / rowBytes);
    return `${what}: a band of ${rows} of ${dims.h} rows ${kibText}`;
  }
  // A whole tensor: the rows live at this step.
  const live = (decl.live ?? [{ first: decl.firstUse, last: decl.lastUse, start: 0, end: decl.size }]).filter((p) => p.first <= step && step <= p.last);
  const lo = Math.floor(Math.min(...live.map((p) => p.start)) / rowBytes);
  const hi = Math.ceil(Math.max(...live.map((p) => p.end)) / rowBytes) - 1;
  const name = decl.kind === 'input' || base === model.input ? 'input' : base;
  return `${name} ${lo === 0 && hi === dims.h - 1 ? 'whole' : `rows ${lo}-${hi} of ${dims.h}`} ${kibText}`;
}

function unboundedNeed(model: QModel, d: Draft, alignment: number, iterations: number | undefined): Need {
  const reqs = requests(d, alignment);
  const p = placeInRegions(reqs, [{ name: 'any', capacity: Infinity }], { iterations })!;
  const inArena = d.decls.filter((b) => !outside(d, b.name));
  const { peakStep } = liveProfile(inArena, d.steps.length);
  const at = liveAt(inArena, peakStep);
  const inputLive = at.find((b) => b.name === d.input?.buffer)?.bytes ?? 0;
  const byName = new Map(inArena.map((b) => [b.name, b]));
  return { size: p.size, peakStep, live: at.map((b) => describe(model, d, byName.get(b.name)!, peakStep, b.bytes)), inputLive };
}

/** What to do about a plan that does not fit, from what is live at its peak. */
function peakHint(d: Draft, need: Need, otherwise: string): string {
  if (need.inputLive > 0 && d.inputIn === 'arena') {
    return `the model input holds ${kib(need.inputLive)} of the peak: --input-in caller reads it in place from the caller's buffer (flash, SDRAM), --input-in stream asks for its rows band by band; or ${otherwise}`;
  }
  return otherwise;
}

function doesNotFit(model: QModel, d: Draft, need: Need, regions: PlanRegion[], what: string, hint: string): UserError {
  const biggest = regions.reduce((a, b) => (b.capacity > a.capacity ? b : a));
  const total = regions.reduce((s, r) => s + r.capacity, 0);
  const step = d.steps[need.peakStep];
  const short = need.size - biggest.capacity;
  return new UserError(
    `${model.name} does not fit: ${what} needs ${need.size} bytes (${kib(need.size)}) but the largest RAM region, ` +
      `${biggest.name}, has ${biggest.capacity} bytes${short > 0 ? `: ${short} bytes short` : ''}` +
      `${regions.length > 1 ? ` (all ${regions.length} arena regions together: ${total} bytes)` : ''}. ` +
      `The peak is at layer ${step?.layer} (step ${need.peakStep}${step?.note ? `, ${step.op} ${step.note}` : ''}), with ${need.live.join('; ')} live`,
    peakHint(d, need, hint),
    EXIT.doesNotFit,
  );
}

/** The plain layer-by-layer plan (throws a UserError naming the peak layer if it does not fit). */
export function planLayerByLayer(model: QModel, opts: PlanOptions): MemoryPlan {
  const r = tryPlain(model, opts);
  if ('plan' in r) return r.plan;
  throw r.error;
}

function tryPlain(model: QModel, opts: PlanOptions): { plan: MemoryPlan } | { error: UserError } {
  const alignment = opts.alignment ?? 8;
  const d = plainDraft(model, opts.path ?? 'scalar', opts.inputIn ?? 'arena');
  const p = placeInRegions(requests(d, alignment), opts.regions, { iterations: opts.searchIterations });
  if (p) return { plan: assemble(model, d, p, opts.regions, alignment) };
  const need = unboundedNeed(model, d, alignment, opts.searchIterations);
  return { error: doesNotFit(model, d, need, opts.regions, 'its activation arena', 'use a smaller --input-size, a board with more RAM, or the row-band planner (--strategy tiled or auto)') };
}

/**
 * Plans a model for a board's arena regions (in order of preference). See the file comment for the strategies;
 * every plan returned has passed checkPlan.
 */
export function planForBoard(model: QModel, regions: PlanRegion[], opts: BoardPlanOptions = {}): MemoryPlan {
  const path = opts.path ?? 'scalar';
  const alignment = opts.alignment ?? 8;
  const strategy = opts.strategy ?? 'auto';
  const maxRecompute = opts.maxRecompute ?? DEFAULT_MAX_RECOMPUTE;
  const iterations = opts.searchIterations;
  if (regions.length === 0) throw new UserError('the board has no RAM region for the activation arena', 'add a RAM region with "arena": true to the board profile');
  if (!(maxRecompute >= 0)) throw new UserError(`the recompute cap must be 0 or more, got ${maxRecompute}`);
  const full = { ...opts, regions };
  const finish = (plan: MemoryPlan): MemoryPlan => {
    checkPlan(plan);
    return plan;
  };
  if (strategy === 'plain') return finish(planLayerByLayer(model, full));
  if (strategy === 'auto') {
    const r = tryPlain(model, full);
    if ('plan' in r) return finish(r.plan);
  }
  const options = chainOptions(model, path, { maxRecompute, inputIn: opts.inputIn, fusePool: opts.fusePool, rowPool: opts.rowPool, runningMax: opts.runningMax, pull: opts.pull });
  const place = (cut: Cut, hold?: HoldVariant): { draft: Draft; placement?: RegionPlacement } => {
    const draft = tiledDraft(model, cut, path, options, hold);
    const reqs = requests(draft, alignment);
    // Greedy orders first; the (slower) search only when they do not reach the lower bound.
    let placement = placeInRegions(reqs, regions, { iterations: 0, extraOrders: true });
    if (!placement || placement.size > liveLowerBound(reqs)) {
      const searched = placeInRegions(reqs, regions, { iterations });
      if (searched && (!placement || searched.size < placement.size)) placement = searched;
    }
    return { draft, placement };
  };
  const cuts = minMemoryCuts(options, maxRecompute, 6);
  if (strategy === 'auto' && cuts.length > 0) {
    // The cheapest cut whose real placement fits: bisect the bound on live bytes between the smallest one and
    // all the RAM (fragmentation makes the real arena a little larger than the bound), keep the cheapest fit.
    const total = regions.reduce((s, r) => s + r.capacity, 0);
    const tried = new Map<string, { cut: Cut; fit?: { draft: Draft; placement: RegionPlacement } }>();
    const fitsAt = (bound: number): boolean => {
      let cut = cheapestCut(options, bound, 'cost');
      if (cut && cut.macs - options.base > maxRecompute * options.base) cut = cheapestCut(options, bound, 'macs');
      if (!cut) return false;
      const key = cut.segs.map((e) => segKey(e.seg)).join(',');
      let t = tried.get(key);
      if (!t) {
        const r = place(cut);
        t = { cut, fit: r.placement ? { draft: r.draft, placement: r.placement } : undefined };
        tried.set(key, t);
      }
      return !!t.fit;
    };
    let lo = cuts[0].peak;
    let hi = Math.max(lo, total);
    if (!fitsAt(hi)) {
      while (hi - lo > Math.max(512, hi / 200)) {
        const mid = Math.floor((lo + hi) / 2);
        if (fitsAt(mid)) lo = mid;
        else hi = mid;
      }
      fitsAt(lo);
    }
    const fits = [...tried.values()].filter((t) => t.fit).sort((a, b) => a.cut.cost - b.cut.cost);
    if (fits.length) return finish(assemble(model, fits[0].fit!.draft, fits[0].fit!.placement, regions, alignment));
  }
  // Smallest peak under the recompute cap: try the few smallest bounds (greedy placement), search the best two
  // (equal greedy arenas: the cheaper cut first); then the smallest bound and the best-placed cut held the other
  // ways (HOLD_VARIANTS), taken only when more than 0.5% smaller, as they add calls and copies (SqueezeNet v1.1@224
  // streamed: 56,096 B pulled, 55,600 B with parked halos and row temporaries; without pulled chains, caller's
  // input: 67,424 B plain, 64,736 B with parked halos, 60,384 B with row temporaries too).
  // (Ranked by their greedy arena in one unbounded region, so the choice does not depend on the capacities.)
  // Pulled chains and concat row pools (tiling.ts) hold fewer live bytes but are made of many short-lived row
  // buffers that can leave holes in the placement: the smallest cuts without them are candidates too.
  const catPool = (s: Segment): boolean => !!s.rowPool && [...rowPools(options.net, s.start, s.end).keys()].some((t) => options.net.layers[options.net.producer.get(t)!]?.op === 'concat');
  const without = (keep: (s: Segment) => boolean) => ({ ...options, byEnd: options.byEnd.map((es) => es.filter((e) => keep(e.seg))), all: options.all.filter((e) => keep(e.seg)) });
  const pool: Cut[] = [];
  for (const c of [...cuts, ...minMemoryCuts(without((s) => !s.pull), maxRecompute, 2), ...minMemoryCuts(without((s) => !s.pull && !catPool(s)), maxRecompute, 2)]) {
    if (!pool.some((o) => sameCut(o, c))) pool.push(c);
  }
  const tried = pool
    .map((cut) => ({ cut, size: placeInRegions(requests(tiledDraft(model, cut, path, options), alignment), [{ name: 'any', capacity: Infinity }], { iterations: 0 })!.size }))
    .sort((a, b) => a.size - b.size || a.cut.cost - b.cut.cost);
  // The hold variants of the smallest bound and of the cut that places smallest.
  const held = tried.length && !sameCut(tried[0].cut, cuts[0]) ? [cuts[0], tried[0].cut] : cuts.slice(0, 1);
  const candidates: { cut: Cut; hold?: HoldVariant }[] = [...tried.slice(0, 2).map(({ cut }) => ({ cut })), ...held.flatMap((cut) => HOLD_VARIANTS.map((hold) => ({ cut, hold })))];
  let best: { draft: Draft; placement: RegionPlacement } | undefined;
  let bestCost = Infinity;
  for (const { cut, hold } of candidates) {
    const r = place(cut, hold);
    if (!r.placement) continue;
    const size = r.placement.size;
    const take = !best || (hold ? size < best.placement.size - best.placement.size / 200 : size < best.placement.size || (size === best.placement.size && cut.cost < bestCost));
    if (take) {
      best = { draft: r.draft, placement: r.placement };
      bestCost = cut.cost;
    }
  }
  if (best) return finish(assemble(model, best.draft, best.placement, regions, alignment));
  if (cuts.length === 0) throw new Error(`internal error: no row-band plan for ${model.name}`);
  const d = tiledDraft(model, cuts[0], path, options);
  const need = unboundedNeed(model, d, alignment, iterations);
  throw doesNotFit(
    model,
    d,
    need,
    regions,
    `the smallest plan found (row bands, at most ${Math.round(maxRecompute * 100)}% extra MACs)`,
    'use a board with more RAM, or allow more recomputed rows (--max-recompute)',
  );
}

/**
 * A row-band plan for a given cut of the model into chains (layers [start, end), band rows, halo policy), e.g.
 * from a test or a tool; chains must cover every layer in order. Throws if it does not fit the regions.
 */
export function planWithChains(model: QModel, regions: PlanRegion[], segs: Segment[], opts: BoardPlanOptions = {}): MemoryPlan {
  const alignment = opts.alignment ?? 8;
  const net = new Net(model, opts.inputIn, opts.fusePool);
  let at = 0;
  for (const s of segs) {
    if (s.start !== at || s.end <= s.start || !net.validSegment(s.start, s.end)) throw new Error(`chain [${s.start}, ${s.end}) is not a valid next chain at layer ${at}`);
    at = s.end;
  }
  if (at !== model.layers.length) throw new Error(`the chains end at layer ${at}, not at ${model.layers.length}`);
  const d = segmentsDraft(model, net, segs, opts.path ?? 'scalar');
  const p = placeInRegions(requests(d, alignment), regions, { iterations: opts.searchIterations });
  if (!p) throw doesNotFit(model, d, unboundedNeed(model, d, alignment, 0), regions, 'this row-band plan', 'use bigger regions');
  const plan = assemble(model, d, p, regions, alignment);
  checkPlan(plan);
  return plan;
}

/**
 * planForBoard with the regions in the options (the default strategy is auto: the fastest plan that fits).
 * Every plan it returns has passed checkPlan.
 */
export function planModel(model: QModel, opts: PlanOptions): MemoryPlan {
  return planForBoard(model, opts.regions, opts);
}

/**
 * Invariants of a finished plan: no two buffers live at the same time overlap (live pieces included), every
 * buffer stays in its region, every step touches only bytes that are live then, and nothing is read before it
 * was written (the model input counts as written before step 0).
 */
export function checkPlan(plan: MemoryPlan): void {
  const byName = new Map(plan.buffers.map((b) => [b.name, b]));
  for (const b of plan.buffers) if (!plan.regions.some((r) => r.name === b.region)) throw new Error(`buffer ${b.name} is in unknown region ${b.region}`);
  for (const r of plan.regions) {
    const inRegion = plan.buffers.filter((b) => b.region === r.name);
    const offsets = Object.fromEntries(inRegion.map((b) => [b.name, b.offset]));
    checkPlacement(
      inRegion.map((b) => ({ name: b.name, size: b.size, firstUse: b.firstUse, lastUse: b.lastUse, alignment: b.alignment, live: b.live })),
      offsets,
      r.capacity,
    );
    const used = inRegion.reduce((m, b) => Math.max(m, b.offset + b.size), 0);
    if (used > r.used) throw new Error(`region ${r.name} reports ${r.used} bytes used but its buffers reach ${used}`);
  }
  const written = new Map<string, [number, number][]>();
  for (const b of plan.buffers) written.set(b.name, b.kind === 'input' ? [[0, b.size]] : []);
  const covered = (list: [number, number][], from: number, to: number): boolean => {
    let at = from;
    for (const [s, e] of [...list].sort((x, y) => x[0] - y[0])) {
      if (s > at) break;
      at = Math.max(at, e);
      if (at >= to) return true;
    }
    return at >= to;
  };
  plan.steps.forEach((s, i) => {
    const accesses = stepAccesses(s);
    for (const a of accesses) {
      const b = byName.get(a.ref.buffer);
      if (!b) throw new Error(`step ${i} (${s.layer}) uses unknown buffer ${a.ref.buffer}`);
      if (i < b.firstUse || i > b.lastUse) throw new Error(`step ${i} (${s.layer}) uses ${b.name} outside its lifetime ${b.firstUse}-${b.lastUse}`);
      const from = a.ref.offset;
      const to = a.ref.offset + a.bytes;
      if (from < 0 || to > b.size) throw new Error(`step ${i} (${s.layer}) accesses ${b.name} at [${from}, ${to}) beyond its ${b.size} bytes`);
      const live = piecesOf(b).filter((p) => p.first <= i && i <= p.last).map((p): [number, number] => [p.start, p.end]);
      if (to > from && !covered(live, from, to)) throw new Error(`step ${i} (${s.layer}) accesses ${b.name} at [${from}, ${to}), which is not all live at step ${i}`);
      if (!a.write && b.kind !== 'scratch' && to > from && !covered(written.get(b.name)!, from, to)) {
        throw new Error(`step ${i} (${s.layer}) reads ${b.name} at [${from}, ${to}) before all of it was written`);
      }
    }
    for (const a of accesses) if (a.write) written.get(a.ref.buffer)!.push([a.ref.offset, a.ref.offset + a.bytes]);
  });
  const last = plan.steps.length - 1;
  for (const [name, ref] of [...Object.entries(plan.outputs), ...(plan.input ? [['(input)', plan.input] as const] : [])]) {
    const b = byName.get(ref.buffer);
    if (!b) throw new Error(`${name} is in unknown buffer ${ref.buffer}`);
    if (name !== '(input)' && b.lastUse < last) throw new Error(`output ${name} dies at step ${b.lastUse}, before the last step ${last}`);
    if (name === '(input)' && b.firstUse > 0) throw new Error(`the model input is first live at step ${b.firstUse}, not before step 0`);
  }
}
