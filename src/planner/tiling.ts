/**
 * Row-band tiling. A chain is a run of consecutive layers whose intermediate tensors are used only inside the
 * run; it executes band by band over the rows of its last layer's output (the sink), so its intermediates only
 * ever exist as row bands. Each band is a sequence of ordinary CMSIS-NN calls on contiguous NHWC row bands:
 *
 *  - For band k, the rows each tensor must hold are found backwards from the sink's rows through every layer's
 *    receptive field (kernel, stride, top padding), clipped to the tensor; a conv or pool call gets the band's
 *    dims and top padding only where its input band starts above the true row 0. Bottom padding and the clipping
 *    of pool windows follow from inDims, exactly as in the untiled call, so every band call is bit-exact.
 *  - Rows two bands share (the halo) are either kept — copied from the previous band's buffer to the head of the
 *    next one right after their last reader, so they are never computed twice — or recomputed.
 *  - Fire concatenations: each expand conv writes a band-sized temporary that is copied into its channel slice at
 *    once (arm_concatenation_s8_x), so only one temporary is live; at 1x1 spatial size it writes in place.
 *  - The chain's inputs and its sink are whole tensors; their rows are born and die with the bands (live pieces),
 *    so the sink can overwrite input rows no band needs any more.
 *
 *  - A chain that ends in a requantizing global average pool bands over the rows of the pool's input instead
 *    (the fused classifier pool): each band of that input is added into per-channel int32 sums at once and the
 *    sums are requantized after the last band, so the pool input (conv10's output) never exists whole.
 *  - Input outside the arena: with --input-in caller the model input is the caller's buffer (read in place, not
 *    counted); with --input-in stream the first chain asks the application for the input rows each band needs
 *    (fetch steps), so the input exists only as bands; halo rows are kept like any band's.
 *  - Row pools: a max pool fed only by a conv of the same chain can be split in two passes (max is associative and
 *    the clamp monotone, so this is bit-exact): the conv runs one output row per call into a one-row buffer that
 *    is pooled across (window width only) at once, and the pool's rows are taken from those pooled rows (window
 *    height only). The conv's wide output then never exists as more than one row; the band holds the narrower
 *    pooled rows (SqueezeNet's conv1 -> pool1: 7,104 B per conv1 row at 224, 3,520 B per pooled row). A max pool
 *    fed by a concat of the chain's convs (v1.0's fire4 -> pool4) runs the same way per channel slice: each conv
 *    row is pooled across into its own channels and copied into the pooled concat row (concatRowPool).
 *  - Pulled chains (pullBands): each band computes one row of one tensor right after the rows it reads, so every
 *    tensor holds only its readers' window instead of the first band's whole receptive field.
 *  - Parked halos (parkHalo): the kept rows are copied after their last reader into a small buffer of their own and
 *    from there into the head of the next band's buffer when that band first writes the tensor, so a band-sized
 *    buffer lives only while its band computes and reads it, instead of being born at the halo copy and pinning a
 *    band-sized block (its halo at the head) across the rest of the chain.
 *  - Row temporaries (rowTemps): a conv whose output goes into a concat slice computes one row per call into a
 *    one-row temporary copied into the slice at once, so the temporary is one row, not the band.
 *
 * The plain layer-by-layer plan is the case of one band per chain.
 */
import type { Dims } from '../graph/ir.js';
import type { QLayer, QModel } from '../quantize/types.js';
import type { InputIn, Ref, Step } from './types.js';
import { Program } from './program.js';
import { layerConvScratchBytes, poolScratchBytes, type KernelPath } from './scratch.js';
import { emitRunningRows, runningMaxFits, type Carry } from './running-max.js';

export type Halo = 'keep' | 'recompute';

export interface Segment {
  /** Layers [start, end) of the model, in order. */
  start: number;
  end: number;
  /** Sink rows per band. */
  rows: number;
  halo: Halo;
  /** Split the chain's row pools (see the file comment). */
  rowPool?: boolean;
  /** Run those row pools as running maxes (running-max.ts); only with kept halos and pools that allow it. */
  runningMax?: boolean;
  /** Pull each row right after the rows it reads instead of band by band (see pullBands; kept halos only). */
  pull?: boolean;
  /** Kept halo rows wait in a small buffer of their own between bands (see parkHalo). */
  parkHalo?: boolean;
  /** Expand convs feeding a concat run one output row per call through a one-row temporary (see rowTemps). */
  rowTemps?: boolean;
}

type Range = [number, number];

/** The model as a graph: producers, consumers, shapes. */
export class Net {
  readonly layers: QLayer[];
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  readonly outputs: Set<string>;
  /** Shapes of planner-made tensors (a conv output pooled across: see rowPooled). */
  private readonly virtual = new Map<string, Dims>();
  constructor(
    readonly model: QModel,
    readonly inputIn: InputIn = 'arena',
    /** Fuse a chain-ending global average pool with its input's producer (false: the unfused plans of before). */
    readonly fusePool = true,
  ) {
    this.layers = model.layers;
    this.outputs = new Set(model.outputs);
    this.producer.set(model.input, -1);
    model.layers.forEach((l, i) => {
      this.producer.set(l.output, i);
      for (const t of new Set(l.inputs)) this.consumers.set(t, [...(this.consumers.get(t) ?? []), i]);
    });
  }
  dims(t: string): Dims {
    return this.virtual.get(t) ?? this.model.tensors[t].dims;
  }
  /** The name of conv output t pooled across by max pool `pool` (window width only), its shape registered. */
  rowPooled(t: string, pool: QLayer): string {
    const name = `${t}~${pool.name}`;
    if (!this.virtual.has(name)) this.virtual.set(name, { ...this.dims(t), w: this.dims(pool.output).w });
    return name;
  }
  rowBytes(t: string): number {
    const d = this.dims(t);
    return d.w * d.c;
  }
  bytes(t: string): number {
    const d = this.dims(t);
    return d.h * d.w * d.c;
  }
  /** Consumed after layer `end - 1` or printed at the end. */
  usedAfter(t: string, end: number): boolean {
    return this.outputs.has(t) || (this.consumers.get(t) ?? []).some((c) => c >= end);
  }
  /** A chain over [start, end) is valid when every tensor it produces, except the sink, stays inside it. */
  validSegment(start: number, end: number): boolean {
    for (let l = start; l < end - 1; l++) {
      const t = this.layers[l].output;
      if (this.outputs.has(t)) return false;
      if ((this.consumers.get(t) ?? []).some((c) => c < start || c >= end)) return false;
    }
    return true;
  }
  /** Bytes of tensors that live through [start, end) without being touched by it. */
  passThroughBytes(start: number, end: number): number {
    let bytes = 0;
    for (const [t, p] of this.producer) {
      if (p >= start || (t === this.model.input && this.inputIn === 'caller')) continue;
      const cons = this.consumers.get(t) ?? [];
      if (cons.some((c) => c >= start && c < end)) continue;
      if (this.usedAfter(t, end)) bytes += this.bytes(t);
    }
    return bytes;
  }
}

export class NotBandable extends Error {}

/**
 * Row pools of a chain [start, end): max pool layer index by the tensor it reads, for every max pool whose input is
 * produced by a conv of the chain (or by a concat of the chain's convs: see concatRowPool), read by nothing else,
 * and pooled across (window or stride wider than 1).
 */
export function rowPools(net: Net, start: number, end: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let p = start; p < end; p++) {
    const l = net.layers[p];
    if (l.op !== 'maxpool' || l.requant) continue;
    const t = l.inputs[0];
    const c = net.producer.get(t)!;
    if (c < start || c >= p || net.outputs.has(t)) continue;
    if (net.layers[c].op !== 'conv' && !concatRowPool(net, start, c)) continue;
    if ((net.consumers.get(t) ?? []).length !== 1 || (l.kernel[1] === 1 && l.stride[1] === 1)) continue;
    out.set(t, p);
  }
  return out;
}

/**
 * Whether a row pool (its layer index) can run as a running max: a conv-fed max pool whose windows allow it, or (in
 * a pulled chain) one fed by a row-pooled concat, whose pooled rows are put together from their slices first.
 */
const runningPool = (net: Net, p: number, concat = false): boolean => {
  const l = net.layers[p];
  const op = net.layers[net.producer.get(l.inputs[0])!]?.op;
  return l.op === 'maxpool' && (op === 'conv' || (concat && op === 'concat')) && runningMaxFits(l.kernel[0], l.stride[0]) && l.pad.top < l.kernel[0];
};

/** Whether every row pool of a chain can run as a running max (see running-max.ts). */
export function runningMaxOk(net: Net, start: number, end: number): boolean {
  const pools = [...rowPools(net, start, end).values()];
  return pools.length > 0 && pools.every((p) => runningPool(net, p));
}

/**
 * The row pools of a chain that run as running maxes: all of them in a banded chain (runningMaxOk, conv-fed only),
 * in a pulled chain each one that can, concat-fed ones included.
 */
export function runningPools(net: Net, start: number, end: number, pulled: boolean): Map<string, number> {
  const pools = rowPools(net, start, end);
  if (!pulled) return runningMaxOk(net, start, end) ? pools : new Map();
  return new Map([...pools].filter(([, p]) => runningPool(net, p, true)));
}

/**
 * A concat that can feed a row pool: every input is a distinct conv output of the chain read only by the concat,
 * and the concat is wider than one pixel (1x1 concats are written in place). Each conv then runs one row per call,
 * the row is pooled across into its own channels (max is per channel, so pooling each slice is the same as pooling
 * the concat row), and the pooled slice is copied into the pooled concat row: the concat row never exists whole.
 */
export function concatRowPool(net: Net, start: number, c: number): boolean {
  const l = net.layers[c];
  if (l.op !== 'concat' || new Set(l.inputs).size !== l.inputs.length) return false;
  const d = net.dims(l.output);
  if (d.h * d.w === 1) return false;
  return l.inputs.every((i) => {
    const p = net.producer.get(i)!;
    return p >= start && p < c && net.layers[p].op === 'conv' && !net.outputs.has(i) && (net.consumers.get(i) ?? []).length === 1;
  });
}

/** The input of a requantizing global average pool ending a chain: the tensor a fused chain bands over. */
export function fusedPoolInput(net: Net, end: number): string | undefined {
  const l = net.layers[end - 1];
  return net.fusePool && l.op === 'avgpool' && l.requant ? l.inputs[0] : undefined;
}

/** Height of the tensor a chain [start, end) can band over (the pool input for a fused classifier pool). */
export function bandHeight(net: Net, end: number): number {
  const gin = fusedPoolInput(net, end);
  return net.dims(gin ?? net.layers[end - 1].output).h;
}

/** Streamed input: the first chain fetches the input band by band when it holds every reader of the input. */
export function streamsInput(net: Net, start: number, end: number): boolean {
  return net.inputIn === 'stream' && start === 0 && (net.consumers.get(net.model.input) ?? []).every((c) => c < end) && !net.outputs.has(net.model.input);
}

/** Input rows a conv/pool needs for output rows [c0, c1), and the top padding of that call. */
export function inputRows(l: QLayer, c0: number, c1: number, inH: number): { r0: number; r1: number; padTop: number } {
  if (l.op === 'conv' || l.op === 'maxpool' || l.op === 'avgpool') {
    const kh = l.kernel[0];
    const sh = l.stride[0];
    const y0 = c0 * sh - l.pad.top;
    if (y0 >= inH) throw new NotBandable(`${l.name}: output row ${c0} reads only bottom padding`);
    const r0 = Math.max(0, y0);
    let r1 = Math.min(inH, (c1 - 1) * sh - l.pad.top + kh);
    if (r1 <= r0) r1 = r0 + 1; // a window made only of padding: pass one real row the kernel will not read
    return { r0, r1, padTop: r0 - y0 };
  }
  return { r0: c0, r1: c1, padTop: 0 };
}

interface BandSchedule {
  rows: Range;
  need: Map<string, Range>;
  comp: Map<string, Range>;
  /** Rows taken from the previous holder: copied (when comp is non-empty) or read in place (alias). */
  kept: Map<string, Range>;
  /** The band of the banded tensor this band belongs to (a pulled chain has several bands per banded band). */
  group: number;
}

/**
 * Pulled chains (Segment.pull): instead of one band per band of the banded tensor, computing every row that band
 * depends on layer after layer, each band computes one row of one tensor (the banded tensor: `rows` rows) right
 * after the rows it reads, and keeps only the rows its readers will still read. A tensor then holds its readers'
 * window, not the whole receptive field of the first band: v1.0's conv1 -> ... -> pool4 held 13 rows of conv1 for
 * the first row of pool4. Calls `add` with each band's seed in order; bands made for band g of the banded tensor
 * carry group g (the emitter loops over groups).
 */
function pullBands(
  net: Net,
  c: { start: number; end: number; banded: string; rows: number; key: (t: string) => string; internal: Set<string>; units: { inPlace: Map<string, { concat: string }>; temps: Map<string, { concat: string }> }; poolInput?: string; running: Map<string, number> },
  add: (seed: [string, Range], group: number) => void,
): void {
  const { start, end, banded, key, internal } = c;
  const unit = (t: string): string | undefined => (c.units.inPlace.get(t) ?? c.units.temps.get(t))?.concat;
  // The layer making each held tensor, and the tensor whose rows each layer advances (a concat's for its slices).
  const maker = new Map<string, number>();
  const advances = new Map<number, string>();
  for (let l = start; l < end; l++) {
    const t = net.layers[l].output;
    maker.set(key(t), l);
    advances.set(l, key(unit(t) ?? t));
  }
  const done = new Map<string, number>();
  const H = (t: string): number => net.dims(t).h;
  /** The first row of t a reader in the chain still reads (H(t) when none does). */
  const lowest = (t: string): number => {
    let lo = H(t);
    for (let l = start; l < end; l++) {
      const layer = net.layers[l];
      if (!layer.inputs.some((i) => key(i) === t) || (c.poolInput && l === end - 1)) continue;
      const out = advances.get(l)!;
      const f = done.get(out) ?? 0;
      if (f >= H(out)) continue;
      try {
        lo = Math.min(lo, inputRows(layer, f, f + 1, H(t)).r0);
      } catch (e) {
        if (!(e instanceof NotBandable)) throw e;
      }
    }
    return lo;
  };
  // Running-max row pools: the pool's rows are made with its conv's (runningBand), so the pooled rows are never
  // pulled on their own; a pool row pulls what its conv rows read.
  const runningPool = new Map([...c.running].map(([t, p]) => [p, t]));
  /** Rows the layer making t reads for its rows [a, b): each input's end row, through concat slices. */
  const reads = (l: number, a: number, b: number, out: Map<string, number>): void => {
    const layer = net.layers[l];
    for (const i of new Set(layer.inputs)) {
      const r = inputRows(layer, a, b, net.dims(i).h);
      const p = net.producer.get(i)!;
      if ((unit(i) !== undefined || runningPool.has(l)) && p >= start && p < end) reads(p, r.r0, r.r1, out);
      else if (internal.has(key(i))) out.set(key(i), Math.max(out.get(key(i)) ?? 0, r.r1));
    }
  };
  let group = 0;
  const pull = (t: string, upto: number): void => {
    while ((done.get(t) ?? 0) < upto) {
      const a = done.get(t) ?? 0;
      const b = Math.min(H(t), a + (t === banded ? c.rows : 1));
      const l = maker.get(t);
      if (l !== undefined) {
        const ins = new Map<string, number>();
        reads(l, a, b, ins);
        for (const [i, r1] of ins) pull(i, r1);
      }
      const lo = t === banded ? a : lowest(t); // rows below lo no reader reads any more (or ever)
      done.set(t, b);
      if (l !== undefined && runningPool.has(l)) {
        // The conv rows of a running max are made in this band: they count as done for their inputs' readers.
        const i = net.layers[l].inputs[0];
        done.set(key(i), Math.max(done.get(key(i)) ?? 0, inputRows(net.layers[l], a, b, net.dims(i).h).r1));
      }
      if (lo < b) add([t, [lo, b]], group);
    }
  };
  for (let a = 0; a < H(banded); a += c.rows, group++) pull(banded, Math.min(H(banded), a + c.rows));
}

const union = (a: Range | undefined, b: Range): Range => (a ? [Math.min(a[0], b[0]), Math.max(a[1], b[1])] : b);

export interface SegmentInfo {
  net: Net;
  seg: Segment;
  bands: BandSchedule[];
  internal: Set<string>;
  sink: string;
  /** Tensors whose producer writes straight into their concat's channel slice (1x1 spatial). */
  inPlace: Map<string, { concat: string; offsetC: number }>;
  /** Single-consumer concat inputs: copied into the slice right after they are produced. */
  temps: Map<string, { concat: string; offsetC: number }>;
  /** Fused classifier pool: the pool's input, banded and summed (see the file comment). */
  poolInput?: string;
  /** Row pools: the max pool's layer index by the conv output it reads (see rowPools). */
  rowPools: Map<string, number>;
  /** The tensor whose rows the chain holds for t: t pooled across for a row pool's input, else t. */
  held: (t: string) => string;
}

function concatSlices(net: Net, start: number, end: number): { inPlace: SegmentInfo['inPlace']; temps: SegmentInfo['temps'] } {
  const inPlace: SegmentInfo['inPlace'] = new Map();
  const temps: SegmentInfo['temps'] = new Map();
  for (let l = start; l < end; l++) {
    const layer = net.layers[l];
    if (layer.op !== 'concat') continue;
    let off = 0;
    for (const t of layer.inputs) {
      const p = net.producer.get(t)!;
      const only = (net.consumers.get(t) ?? []).length === 1 && layer.inputs.filter((x) => x === t).length === 1;
      if (only && p >= start && p < end && !net.outputs.has(t)) {
        const d = net.dims(layer.output);
        if (d.h * d.w === 1 && net.layers[p].op === 'conv') inPlace.set(t, { concat: layer.output, offsetC: off });
        else temps.set(t, { concat: layer.output, offsetC: off });
      }
      off += net.dims(t).c;
    }
  }
  return { inPlace, temps };
}

/** Bands of the banded tensor (a pulled chain has more bands of single rows of other tensors). */
export const bandCount = (info: Pick<SegmentInfo, 'bands'>): number => (info.bands.length ? info.bands[info.bands.length - 1].group + 1 : 0);

/** Row ranges per band for a chain (throws NotBandable when a band would start inside bottom padding). */
export function scheduleSegment(net: Net, seg: Segment): SegmentInfo {
  const { start, end } = seg;
  const sink = net.layers[end - 1].output;
  const gin = fusedPoolInput(net, end);
  const poolInput = gin && seg.rows < net.dims(gin).h ? gin : undefined;
  const banded = poolInput ?? sink;
  const H = net.dims(banded).h;
  // Rows stay within the banded tensor (an unfused pool keeps rows >= its input's height, so a rebuild agrees).
  const rows = Math.max(1, Math.min(seg.rows, gin && !poolInput ? net.dims(gin).h : H));
  const split = seg.rowPool ? rowPools(net, start, end) : new Map<string, number>();
  const pooled = new Map([...split].map(([t, p]) => [t, net.rowPooled(t, net.layers[p])]));
  const key = (t: string): string => pooled.get(t) ?? t;
  const internal = new Set<string>();
  for (let l = start; l < end - 1; l++) internal.add(key(net.layers[l].output));
  const input = net.model.input;
  if (streamsInput(net, start, end)) internal.add(input);
  const { inPlace, temps } = concatSlices(net, start, end);
  const held = new Map<string, Range>();
  const bands: BandSchedule[] = [];
  /** One band: the rows `seed` of one tensor (the banded one, or another in a pulled chain) and what they need. */
  const addBand = (seed: [string, Range], group: number): void => {
    const [a, b] = seed[0] === banded ? seed[1] : [0, 0];
    const need = new Map<string, Range>([seed]);
    const comp = new Map<string, Range>();
    const kept = new Map<string, Range>();
    /** The rows of t this band computes (or fetches): those it needs minus the kept halo. */
    const settle = (t: string): Range | undefined => {
      const n = need.get(t);
      if (!n) return undefined;
      let c: Range = n;
      if (t !== sink && seg.halo === 'keep' && !inPlace.has(t)) {
        const h = held.get(t);
        if (h && n[0] >= h[0] && n[0] < h[1]) {
          kept.set(t, [n[0], Math.min(n[1], h[1])]);
          c = [Math.max(n[0], h[1]), n[1]];
        }
      }
      if (c[1] <= c[0]) return undefined; // every needed row is already held
      comp.set(t, c);
      if (t !== sink && !inPlace.has(t)) held.set(t, n);
      return c;
    };
    for (let l = (poolInput ? end - 2 : end - 1); l >= start; l--) {
      const layer = net.layers[l];
      const c = settle(key(layer.output));
      if (!c) continue;
      for (const i of new Set(layer.inputs)) {
        const r = inputRows(layer, c[0], c[1], net.dims(i).h);
        need.set(key(i), union(need.get(key(i)), [r.r0, r.r1]));
      }
    }
    if (internal.has(input)) settle(input);
    bands.push({ rows: [a, b], need, comp, kept, group });
  };
  const pulled = !!seg.pull && seg.halo === 'keep';
  const runs = split.size > 0 && seg.runningMax === true && seg.halo === 'keep' ? runningPools(net, start, end, pulled) : new Map<string, number>();
  if (pulled) pullBands(net, { start, end, banded, rows, key, internal, units: { ...concatSlices(net, start, end) }, poolInput, running: runs }, addBand);
  else for (let a = 0, g = 0; a < H; a += rows, g++) addBand([banded, [a, Math.min(H, a + rows)]], g);
  const running = runs.size > 0;
  // Row temporaries apply where a band computes more than one row of a concat input (not a row-pooled concat's:
  // those run one row per call already).
  const catInputs = new Set([...split.keys()].flatMap((t) => (net.layers[net.producer.get(t)!].op === 'concat' ? net.layers[net.producer.get(t)!].inputs : [])));
  const rowTemps = seg.rowTemps && bands.some((b) => [...temps.keys()].some((t) => !catInputs.has(t) && (b.comp.get(t)?.[1] ?? 0) - (b.comp.get(t)?.[0] ?? 0) > 1));
  // Parking applies where a band keeps rows of a tensor it also computes more of (else there is nothing to park).
  const park = seg.parkHalo && seg.halo === 'keep' && bands.some((b) => [...b.kept].some(([t, r]) => r[1] > r[0] && b.comp.has(t)));
  const segOut: Segment = { start: seg.start, end: seg.end, rows, halo: seg.halo, ...(split.size ? { rowPool: true } : {}), ...(running ? { runningMax: true } : {}), ...(pulled ? { pull: true } : {}), ...(park ? { parkHalo: true } : {}), ...(rowTemps ? { rowTemps: true } : {}) };
  return { net, seg: segOut, bands, internal, sink, inPlace, temps, ...(poolInput ? { poolInput } : {}), rowPools: split, held: key };
}

interface Holder {
  buffer: string;
  lo: number;
  hi: number;
}

/**
 * Appends a chain's steps to a program. Whole tensors (the chain's inputs and sink) are declared on first use
 * under their tensor name; band buffers are named tensor#band. Returns the MACs of the conv calls.
 */
export function emitSegment(prog: Program, info: SegmentInfo, opts: { path: KernelPath; chain: number }): number {
  const { net, seg, bands, internal, inPlace, temps, held: key } = info;
  const layers = net.layers;
  const poolOf = new Map([...info.rowPools].map(([t, p]) => [p, t]));
  // Running-max row pools: conv output -> pool layer; their pooled rows are carried, never held as bands.
  const running = seg.runningMax ? runningPools(net, seg.start, seg.end, seg.pull === true) : new Map<string, number>();
  const runningKeys = new Set([...running.keys()].map(key));
  const carry = new Map<string, Carry>();
  const holders = new Map<string, Holder>();
  const pending = new Map<string, Holder>(); // band k+1 buffers created early by a halo copy
  const parked = new Map<string, Holder>(); // parkHalo: kept rows waiting for the next band's buffer
  let macs = 0;
  const count = bands.length;
  const input = net.model.input;
  const whole = (t: string): void => {
    if (prog.has(t)) return;
    const kind = t === input && net.inputIn !== 'stream' ? 'input' : net.outputs.has(t) ? 'output' : 'tensor';
    prog.declare(t, kind, net.bytes(t), t);
  };
  const loc = (t: string, row: number, rows: number): Ref => {
    const s = inPlace.get(t);
    if (s) {
      const r = loc(s.concat, row, rows);
      return { buffer: r.buffer, offset: r.offset + s.offsetC };
    }
    if (!internal.has(t)) {
      whole(t);
      return { buffer: t, offset: row * net.rowBytes(t) };
    }
    const h = holders.get(t);
    if (!h || row < h.lo || row + rows > h.hi) throw new Error(`internal error: rows ${row}-${row + rows - 1} of ${t} are not held (${h ? `${h.lo}-${h.hi - 1} in ${h.buffer}` : 'no buffer'})`);
    return { buffer: h.buffer, offset: (row - h.lo) * net.rowBytes(t) };
  };
  const groups = bandCount(info);
  const band = (k: number) => ({ chain: opts.chain, index: bands[k].group, count: groups });
  const bandNote = (k: number): string => (groups > 1 ? `, band ${bands[k].group + 1}/${groups}` : '');
  const producerName = (t: string): string => layers[net.producer.get(t)!]?.name ?? layers[seg.start].name;

  const copyRows = (t: string, from: Ref, to: Ref, rows: number, k: number, what: string): void => {
    const d = net.dims(t);
    const rb = d.w * d.c;
    const inDims = rb <= 65535 ? { h: 1, w: rows, c: rb } : { h: rows, w: d.w, c: d.c };
    prog.push({ op: 'concat', layer: producerName(t), input: from, inDims, output: to, outC: inDims.c, offsetC: 0, note: what, band: band(k) });
    prog.copyBytes += rows * rb;
  };

  /** A new band buffer for t in band k, with the kept rows copied from the current holder (during band `during`). */
  const newHolder = (t: string, k: number, during = k): Holder => {
    const s = bands[k];
    const n = s.need.get(t)!;
    const name = `${t}#${k}`;
    prog.declare(name, 'band', (n[1] - n[0]) * net.rowBytes(t), t);
    const h: Holder = { buffer: name, lo: n[0], hi: n[1] };
    const kept = s.kept.get(t);
    if (kept && kept[1] > kept[0]) {
      const rows = kept[1] - kept[0];
      const from = parked.get(t);
      if (from && (from.lo !== kept[0] || from.hi !== kept[1])) throw new Error(`internal error: parked rows ${from.lo}-${from.hi - 1} of ${t} are not the kept rows ${kept[0]}-${kept[1] - 1}`);
      parked.delete(t);
      const src = from ? { buffer: from.buffer, offset: 0 } : loc(t, kept[0], rows);
      copyRows(t, src, { buffer: name, offset: 0 }, rows, during, `keep rows ${kept[0]}-${kept[1] - 1} of ${t} for band ${k + 1}`);
    }
    return h;
  };
  /**
   * parkHalo: the rows of t the next band keeps are copied into a buffer of their own (during band k), and from
   * there into the head of the next band's buffer when that band first writes t. The band-sized buffer then lives
   * only while its band computes and reads t, not across the rest of the chain with its halo pinning it: a small
   * halo buffer floats between bands instead (one more copy of the halo rows per band).
   */
  const parkHalo = (t: string, kept: Range, k: number): Holder => {
    const rows = kept[1] - kept[0];
    const name = `${t}#halo${k + 1}`;
    prog.declare(name, 'band', rows * net.rowBytes(t), t);
    copyRows(t, loc(t, kept[0], rows), { buffer: name, offset: 0 }, rows, k, `park rows ${kept[0]}-${kept[1] - 1} of ${t} for band ${k + 2}`);
    return { buffer: name, lo: kept[0], hi: kept[1] };
  };
  const holderBand = new Map<string, number>();
  const ensureHolder = (t: string, k: number): void => {
    if (holderBand.get(t) === k) return;
    holderBand.set(t, k);
    const p = pending.get(t);
    if (p) {
      holders.set(t, p);
      pending.delete(t);
      return;
    }
    holders.set(t, newHolder(t, k));
  };

  // The last layer of the chain that reads each internal tensor in band k.
  const lastReader = (k: number): Map<string, number> => {
    const m = new Map<string, number>();
    for (let l = seg.start; l < seg.end; l++) {
      if (!bands[k].comp.has(key(layers[l].output))) continue;
      for (const i of layers[l].inputs) if (internal.has(key(i))) m.set(key(i), l);
    }
    return m;
  };

  const scratchRef = (bytes: number): Ref => {
    const name = `scratch#${prog.steps.length}`;
    prog.declare(name, 'scratch', bytes);
    return { buffer: name, offset: 0 };
  };
  /**
   * One conv or pool call for output rows [row, row + n) of `layer`, reading tensor `inT` (the layer's input, or
   * its rows pooled across for the second pass of a row pool: axis 'h').
   */
  const call = (layer: QLayer, inT: string, row: number, n: number, output: Ref, note: string, k: number, axis?: 'h'): void => {
    if (layer.op !== 'conv' && layer.op !== 'maxpool' && layer.op !== 'avgpool') throw new Error(`internal error: ${layer.name} is no conv or pool`);
    const id = net.dims(inT);
    const od = net.dims(layer.output);
    const r = inputRows(layer, row, row + n, id.h);
    const inDims = { h: r.r1 - r.r0, w: id.w, c: id.c };
    const outDims = { h: n, w: od.w, c: od.c };
    const input = loc(inT, r.r0, r.r1 - r.r0);
    const padLeft = axis === 'h' ? 0 : layer.pad.left;
    const bytes =
      layer.op === 'conv'
        ? layerConvScratchBytes(layer, { inDims, kernel: layer.kernel, stride: layer.stride, padTop: r.padTop, padLeft, outDims }, opts.path)
        : poolScratchBytes(layer, outDims.w, outDims.c, opts.path);
    const scratch = bytes > 0 ? scratchRef(bytes) : undefined;
    prog.push({ op: layer.op, layer: layer.name, input, inDims, output, outDims, padTop: r.padTop, padLeft, scratch, scratchSize: bytes, note, band: band(k), ...(axis ? { axis } : {}) } as Step);
    if (layer.op === 'conv') {
      const perPixel = outDims.c * layer.kernel[0] * layer.kernel[1] * inDims.c;
      macs += outDims.h * outDims.w * perPixel;
      if ((outDims.h * outDims.w) % 2 === 1) prog.oddPixelMacs += perPixel;
      const fast1x1 = perPixel === outDims.c * inDims.c && r.padTop === 0 && layer.pad.left === 0 && layer.stride[0] === 1 && layer.stride[1] === 1;
      if (fast1x1) prog.weightSumBytes += perPixel;
    }
  };

  /** Halo rows of tensors layer l was the last to read in band k go to the next band's buffer now. */
  const keepHalo = (l: number, k: number, readers: Map<string, number>): void => {
    if (k + 1 >= count) return;
    for (const i of new Set(layers[l].inputs.map(key))) {
      if (readers.get(i) !== l || !internal.has(i) || inPlace.has(i) || runningKeys.has(i)) continue;
      const next = bands[k + 1];
      const kept = next.kept.get(i);
      if (!next.comp.has(i) || !kept || kept[1] <= kept[0] || pending.has(i) || parked.has(i)) continue;
      if (seg.parkHalo) parked.set(i, parkHalo(i, kept, k));
      else pending.set(i, newHolder(i, k + 1, k));
    }
  };

  /** A row pool's conv row into a one-row buffer, pooled across (window width only) into `to`. */
  const convRowAcross = (layer: QLayer, pool: QLayer, row: number, to: Ref, k: number): void => {
    if (pool.op !== 'maxpool') throw new Error(`internal error: row pool ${pool.name} is no max pool`);
    const t = layer.output;
    const H = net.dims(t).h;
    const pd = net.dims(key(t));
    const tmp = `${t}#row${prog.steps.length}`;
    prog.declare(tmp, 'band', net.rowBytes(t), t);
    call(layer, layer.inputs[0], row, 1, { buffer: tmp, offset: 0 }, `row ${row} of ${H}${bandNote(k)}`, k);
    const bytes = poolScratchBytes(pool, pd.w, pd.c, opts.path);
    const scratch = bytes > 0 ? scratchRef(bytes) : undefined;
    prog.push({ op: 'maxpool', axis: 'w', layer: pool.name, input: { buffer: tmp, offset: 0 }, inDims: { h: 1, w: net.dims(t).w, c: pd.c }, output: to, outDims: { h: 1, w: pd.w, c: pd.c }, padTop: 0, padLeft: pool.pad.left, scratch, scratchSize: bytes, note: `across row ${row} of ${H}${bandNote(k)}`, band: band(k) });
  };

  /**
   * A running-max row pool in band k (running-max.ts), at its conv's place: the conv rows the band computes, each
   * pooled across and folded into the pool's output rows at once; the pooled rows are never held as a band.
   */
  const runningBand = (l: number, k: number): void => {
    const layer = layers[l];
    const t = layer.output;
    const pool = layers[running.get(t)!];
    const pooled = key(t);
    const pout = pool.output;
    const pc = bands[k].comp.get(pout);
    const convRows: number[] = [];
    if (pc) {
      if (internal.has(pout)) ensureHolder(pout, k);
      else whole(pout);
      const Hc = net.dims(t).h;
      const Hp = net.dims(pout).h;
      const bytes = net.rowBytes(pooled);
      const done = emitRunningRows(
        {
          window: (r) => {
            const w = inputRows(pool, r, r + 1, Hc);
            return [w.r0, w.r1];
          },
          rows: Hp,
          across: (y, to) => {
            let at = to;
            if (!at) {
              const name = `${pooled}#row${prog.steps.length}`;
              prog.declare(name, 'band', bytes, pooled);
              at = { buffer: name, offset: 0 };
            }
            if (layer.op === 'concat') catRowAcross(l, pool, y, at, k);
            else convRowAcross(layer, pool, y, at, k);
            return at;
          },
          max: (a, b, to, r) => prog.push({ op: 'max', layer: pool.name, input1: a, input2: b, output: to, size: bytes, note: `into row ${r} of ${Hp}${bandNote(k)}`, band: band(k) }),
          out: (r) => loc(pout, r, 1),
        },
        pc[0],
        pc[1],
        carry.get(pooled),
      );
      convRows.push(...done.convRows);
      if (done.carry) carry.set(pooled, done.carry);
      else carry.delete(pooled);
    }
    // The conv rows must be the ones the schedule counted (its MACs and the rows its input holds).
    const cc = bands[k].comp.get(pooled);
    const want = cc ? Array.from({ length: cc[1] - cc[0] }, (_, i) => cc[0] + i) : [];
    if (convRows.join() !== want.join()) throw new Error(`internal error: running max of ${pool.name} computes conv rows ${convRows.join(',')} in band ${k}, the schedule ${want.join(',')}`);
  };

  // Row-pooled concats (concatRowPool): their input convs, and the concat's layer index by its last input's producer.
  // (Those of a running max are made in its band: runCatConvs.)
  const catConvs = new Set<string>();
  const runCatConvs = new Set<string>();
  for (const t of running.keys()) if (layers[net.producer.get(t)!].op === 'concat') for (const i of layers[net.producer.get(t)!].inputs) runCatConvs.add(i);
  const lastOfCat = new Map<number, number>();
  for (const t of info.rowPools.keys()) {
    const ci = net.producer.get(t)!;
    if (layers[ci].op !== 'concat') continue;
    for (const i of layers[ci].inputs) catConvs.add(i);
    lastOfCat.set(Math.max(...layers[ci].inputs.map((i) => net.producer.get(i)!)), ci);
  }
  /**
   * Band k of a row-pooled concat: per concat row, each input conv computes the row into a one-row buffer, which is
   * pooled across into a one-row buffer of its channels and copied into its channel slice of the pooled concat row.
   */
  const concatRows = (ci: number, k: number): void => {
    const cat = layers[ci];
    const t = cat.output;
    const pool = layers[info.rowPools.get(t)!];
    const c = bands[k].comp.get(key(t));
    if (pool.op !== 'maxpool' || !c) throw new Error(`internal error: ${cat.name} is no row-pooled concat in band ${k + 1}`);
    ensureHolder(key(t), k);
    for (let row = c[0]; row < c[1]; row++) catRowAcross(ci, pool, row, loc(key(t), row, 1), k);
  };
  /** One row of a row-pooled concat, pooled across into `to`: each input conv's row pooled into its own channels. */
  function catRowAcross(ci: number, pool: QLayer, row: number, to: Ref, k: number): void {
    const cat = layers[ci];
    const t = cat.output;
    if (pool.op !== 'maxpool') throw new Error(`internal error: row pool ${pool.name} is no max pool`);
    const pw = net.dims(key(t)).w;
    let off = 0;
    {
      for (const i of cat.inputs) {
        const conv = layers[net.producer.get(i)!];
        const ic = bands[k].comp.get(i);
        if (!ic || row < ic[0] || row >= ic[1]) throw new Error(`internal error: ${conv.name} row ${row} is not computed with ${cat.name}'s in band ${k + 1}`);
        const d = net.dims(i);
        const tmp = `${i}#row${prog.steps.length}`;
        prog.declare(tmp, 'band', d.w * d.c, i);
        call(conv, conv.inputs[0], row, 1, { buffer: tmp, offset: 0 }, `row ${row} of ${d.h}${bandNote(k)}`, k);
        const across = net.rowPooled(i, pool);
        const pooled = `${across}#row${prog.steps.length}`;
        prog.declare(pooled, 'band', pw * d.c, across);
        const bytes = poolScratchBytes(pool, pw, d.c, opts.path);
        const scratch = bytes > 0 ? scratchRef(bytes) : undefined;
        prog.push({ op: 'maxpool', axis: 'w', layer: pool.name, input: { buffer: tmp, offset: 0 }, inDims: { h: 1, w: d.w, c: d.c }, output: { buffer: pooled, offset: 0 }, outDims: { h: 1, w: pw, c: d.c }, padTop: 0, padLeft: pool.pad.left, scratch, scratchSize: bytes, note: `across row ${row} of ${i}${bandNote(k)}`, band: band(k) });
        prog.push({ op: 'concat', layer: cat.name, input: { buffer: pooled, offset: 0 }, inDims: { h: 1, w: pw, c: d.c }, output: to, outC: net.dims(t).c, offsetC: off, note: `${across} -> channels ${off}..${off + d.c - 1}, row ${row}${bandNote(k)}`, band: band(k) });
        prog.copyBytes += pw * d.c;
        off += d.c;
      }
    }
  }

  /**
   * rowTemps: a conv whose output goes into a concat's channel slice (a fire module's expand conv) computes its band
   * one output row per call into a one-row temporary, each row copied into the slice at once, so the temporary is
   * one row, not the band (rows are independent given their input rows and top padding: bit-exact).
   */
  const emitRowTemps = (t: string, c: Range, k: number): void => {
    const l = net.producer.get(t)!;
    const layer = layers[l];
    const slice = temps.get(t)!;
    const cat = slice.concat;
    if (internal.has(cat)) ensureHolder(cat, k);
    else whole(cat);
    const d = net.dims(t);
    for (let row = c[0]; row < c[1]; row++) {
      const tmp = `${t}#row${prog.steps.length}`;
      prog.declare(tmp, 'band', net.rowBytes(t), t);
      call(layer, layer.inputs[0], row, 1, { buffer: tmp, offset: 0 }, `row ${row} of ${d.h}${bandNote(k)}`, k);
      prog.push({ op: 'concat', layer: layer.name, input: { buffer: tmp, offset: 0 }, inDims: { h: 1, w: d.w, c: d.c }, output: loc(cat, row, 1), outC: net.dims(cat).c, offsetC: slice.offsetC, note: `${t} row ${row} -> channels ${slice.offsetC}..${slice.offsetC + d.c - 1} of ${cat}${bandNote(k)}`, band: band(k) });
      prog.copyBytes += d.w * d.c;
    }
  };

  for (let k = 0; k < count; k++) {
    const s = bands[k];
    const readers = lastReader(k);
    const fetch = s.comp.get(input);
    if (fetch) {
      ensureHolder(input, k);
      const n = fetch[1] - fetch[0];
      prog.push({ op: 'fetch', layer: layers[seg.start].name, first: fetch[0], last: fetch[1] - 1, rowBytes: net.rowBytes(input), output: loc(input, fetch[0], n), note: `input rows ${fetch[0]}-${fetch[1] - 1}${bandNote(k)}`, band: band(k) });
    }
    for (let l = seg.start; l < seg.end; l++) {
      const layer = layers[l];
      const t = layer.output;
      if (running.has(t)) {
        runningBand(l, k);
        keepHalo(l, k, readers);
        continue;
      }
      const c = s.comp.get(key(t));
      if (!c) continue;
      if (runCatConvs.has(t)) continue; // made with their concat's running max (runningBand)
      const H = net.dims(t).h;
      const nrows = c[1] - c[0];
      const note = `rows ${c[0]}-${c[1] - 1} of ${H}${bandNote(k)}`;
      // A row-pooled concat's convs run inside its row loop, emitted where the last of them is.
      const catRow = catConvs.has(t);
      if (catRow && lastOfCat.has(l)) concatRows(lastOfCat.get(l)!, k);
      const byRow = !catRow && seg.rowTemps === true && temps.has(t) && layer.op === 'conv' && nrows > 1;
      if (byRow) emitRowTemps(t, c, k);
      else if (internal.has(key(t)) && !inPlace.has(t) && !catRow) ensureHolder(key(t), k);
      else if (!internal.has(t)) whole(t);
      const slot = inPlace.get(t);
      if (slot && internal.has(slot.concat)) ensureHolder(slot.concat, k);
      switch (byRow ? 'done' : layer.op) {
        case 'conv':
        case 'maxpool':
        case 'avgpool': {
          if (catRow) break;
          const inT = layer.inputs[0];
          const split = info.rowPools.get(t);
          if (split !== undefined) {
            // A row pool's conv: one output row per call into a one-row buffer, pooled across into the held rows.
            const pool = layers[split];
            if (pool.op !== 'maxpool') throw new Error(`internal error: row pool ${pool.name} is no max pool`);
            for (let row = c[0]; row < c[1]; row++) convRowAcross(layer, pool, row, loc(key(t), row, 1), k);
            break;
          }
          const across = poolOf.get(l);
          if (across !== undefined && running.has(across)) break; // its rows were made with its conv's (runningBand)
          call(layer, across === undefined ? inT : key(across), c[0], nrows, loc(t, c[0], nrows), note, k, across === undefined ? undefined : 'h');
          break;
        }
        case 'concat': {
          let off = 0;
          for (const i of layer.inputs) {
            const di = net.dims(i);
            if (!inPlace.has(i) && !temps.has(i)) {
              const output = loc(t, c[0], nrows);
              prog.push({ op: 'concat', layer: layer.name, input: loc(i, c[0], nrows), inDims: { h: nrows, w: di.w, c: di.c }, output: { buffer: output.buffer, offset: output.offset }, outC: net.dims(t).c, offsetC: off, note: `${i} -> channels ${off}..${off + di.c - 1}, ${note}`, band: band(k) });
              prog.copyBytes += nrows * di.w * di.c;
            }
            off += di.c;
          }
          break;
        }
        case 'add': {
          const size = nrows * net.rowBytes(t);
          prog.push({ op: 'add', layer: layer.name, input1: loc(layer.inputs[0], c[0], nrows), input2: loc(layer.inputs[1], c[0], nrows), output: loc(t, c[0], nrows), size, note, band: band(k) });
          break;
        }
        case 'softmax': {
          const d = net.dims(t);
          prog.push({ op: 'softmax', layer: layer.name, input: loc(layer.inputs[0], c[0], nrows), output: loc(t, c[0], nrows), rows: nrows * d.w, rowSize: d.c, note, band: band(k) });
          break;
        }
      }
      // An expand conv's band goes into its concat slice at once, so its temporary dies here.
      const slice = catRow || byRow ? undefined : temps.get(t);
      if (slice) {
        const cat = slice.concat;
        if (internal.has(cat)) ensureHolder(cat, k);
        else whole(cat);
        const d = net.dims(t);
        const to = loc(cat, c[0], nrows);
        prog.push({ op: 'concat', layer: layer.name, input: loc(t, c[0], nrows), inDims: { h: nrows, w: d.w, c: d.c }, output: to, outC: net.dims(cat).c, offsetC: slice.offsetC, note: `${t} -> channels ${slice.offsetC}..${slice.offsetC + d.c - 1} of ${cat}${bandNote(k)}`, band: band(k) });
        prog.copyBytes += nrows * d.w * d.c;
      }
      keepHalo(l, k, readers);
    }
    if (info.poolInput) emitPoolBand(prog, info, k, loc, band(k), bandNote(k), whole);
  }
  return macs;
}

/** A fused classifier pool's steps for band k: add the band into the sums; after the last band, requantize. */
function emitPoolBand(prog: Program, info: SegmentInfo, k: number, loc: (t: string, row: number, rows: number) => Ref, band: Step['band'], note: string, whole: (t: string) => void): void {
  const { net, bands, sink } = info;
  const gin = info.poolInput!;
  const pool = net.layers[info.seg.end - 1];
  const d = net.dims(gin);
  const [a, b] = bands[k].rows;
  if (b <= a) return; // a pulled chain's band of another tensor
  const sum = `${sink}#sum`;
  const first = !prog.has(sum);
  if (first) prog.declare(sum, 'band', 4 * d.c, sink);
  prog.push({ op: 'gapacc', layer: pool.name, input: loc(gin, a, b - a), pixels: (b - a) * d.w, c: d.c, sum: { buffer: sum, offset: 0 }, first, note: `sum rows ${a}-${b - 1} of ${d.h}${note}`, band });
  if (b === d.h) {
    whole(sink);
    prog.push({ op: 'gapfinish', layer: pool.name, sum: { buffer: sum, offset: 0 }, c: d.c, output: loc(sink, 0, 1), note: 'requantize the sums', band });
  }
}

/** Extra facts about one chain option, measured on its own program. */
export interface SegmentEval {
  seg: Segment;
  bands: number;
  /** Most bytes live at one step, tensors living through included. */
  peak: number;
  macs: number;
  copyBytes: number;
  /** MACs of the last pixel of conv calls with an odd pixel count, and weight bytes summed per 1x1 call (see COST in search.ts). */
  oddPixelMacs: number;
  weightSumBytes: number;
  steps: number;
}

/** MACs of a chain's conv calls, from its schedule alone (the same count emitSegment returns). */
export function scheduleMacs(info: SegmentInfo): number {
  const { net, seg, bands } = info;
  let macs = 0;
  for (let l = seg.start; l < seg.end; l++) {
    const layer = net.layers[l];
    if (layer.op !== 'conv') continue;
    const od = net.dims(layer.output);
    const inC = net.dims(layer.inputs[0]).c;
    for (const b of bands) {
      const c = b.comp.get(info.held(layer.output));
      if (c) macs += (c[1] - c[0]) * od.w * od.c * layer.kernel[0] * layer.kernel[1] * inC;
    }
  }
  return macs;
}

/** Builds a chain alone (its inputs whole and live from its start) and measures it. */
export function evaluateSegment(net: Net, seg: Segment | SegmentInfo, path: KernelPath): SegmentEval {
  const info = 'bands' in seg ? seg : scheduleSegment(net, seg);
  seg = info.seg;
  const prog = new Program();
  const externals = new Set<string>();
  for (let l = seg.start; l < seg.end; l++) for (const i of net.layers[l].inputs) if (!info.internal.has(info.held(i))) externals.add(i);
  for (const t of externals) prog.declare(t, t === net.model.input ? 'input' : 'tensor', net.bytes(t), t);
  if (net.inputIn === 'caller') prog.outside.add(net.model.input);
  const macs = emitSegment(prog, info, { path, chain: 0 });
  const last = prog.steps.length - 1;
  for (const t of externals) {
    prog.pin(t, 0);
    if (net.usedAfter(t, seg.end)) prog.pin(t, last);
  }
  if (net.usedAfter(info.sink, seg.end)) prog.pin(info.sink, last);
  const profile = prog.liveProfile(net.passThroughBytes(seg.start, seg.end));
  return { seg: info.seg, bands: bandCount(info), peak: Math.max(0, ...profile), macs, copyBytes: prog.copyBytes, oddPixelMacs: prog.oddPixelMacs, weightSumBytes: prog.weightSumBytes, steps: prog.steps.length };
}
