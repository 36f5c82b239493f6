/**
 * Arena offset assignment, TFLite Micro style: add buffers with a size and a first/last use, get offsets.
 * Strategies are swappable; `placeBest` runs them all and keeps the smallest arena. `checkPlacement` is the
 * overlap checker used after every plan and in tests: it names both buffers of any conflict.
 *
 * A buffer may carry live pieces (see LivePiece): then only those parts (step range x byte range) must not
 * overlap other buffers' live parts, so a band plan can write a chain's output into the model input's dead rows.
 * `placeInRegions` spreads buffers over several RAM regions (each buffer in one region, in order of preference).
 */
import { mulberry32 } from '../util/random.js';
import type { LivePiece, PlanRegion } from './types.js';

export interface BufferRequest {
  name: string;
  size: number;
  firstUse: number;
  lastUse: number;
  alignment: number;
  /** Live parts; absent: the whole buffer from firstUse to lastUse. */
  live?: LivePiece[];
}

export interface Placement {
  strategy: string;
  offsets: Record<string, number>;
  size: number;
}

export type PlacementStrategy = (reqs: BufferRequest[]) => Record<string, number>;

/** The planner's region type (./types.ts), under the name this module has used. */
export type ArenaRegion = PlanRegion;

export interface RegionPlacement {
  strategy: string;
  offsets: Record<string, number>;
  region: Record<string, string>;
  /** Bytes used per region (highest end of a buffer placed there). */
  used: Record<string, number>;
  /** Sum of `used` over the regions. */
  size: number;
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;
const liveTogether = (a: { firstUse: number; lastUse: number }, b: { firstUse: number; lastUse: number }): boolean =>
  a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;

export const piecesOf = (r: BufferRequest): LivePiece[] => r.live ?? [{ first: r.firstUse, last: r.lastUse, start: 0, end: r.size }];

interface Prep {
  req: BufferRequest;
  pieces: LivePiece[];
  first: number;
  last: number;
}

function prepare(r: BufferRequest): Prep {
  const pieces = piecesOf(r).filter((p) => p.end > p.start);
  let first = Infinity;
  let last = -Infinity;
  for (const p of pieces) {
    first = Math.min(first, p.first);
    last = Math.max(last, p.last);
  }
  return { req: r, pieces, first, last };
}

/** The lowest aligned offset at which `b` overlaps no live part of any placed buffer. */
function lowestOffset(b: Prep, placed: { p: Prep; offset: number }[]): number {
  const forbidden: [number, number][] = [];
  for (const { p: a, offset: oa } of placed) {
    if (a.first > b.last || b.first > a.last) continue;
    for (const pa of a.pieces) {
      if (pa.first > b.last || b.first > pa.last) continue;
      for (const pb of b.pieces) {
        if (pa.first > pb.last || pb.first > pa.last) continue;
        // Overlap iff o + pb.start < oa + pa.end and oa + pa.start < o + pb.end.
        forbidden.push([oa + pa.start - pb.end + 1, oa + pa.end - pb.start]);
      }
    }
  }
  forbidden.sort((x, y) => x[0] - y[0]);
  const align = b.req.alignment;
  let o = 0;
  for (const [lo, hi] of forbidden) {
    if (hi <= o) continue;
    if (lo > o) break;
    o = alignUp(hi, align);
  }
  return o;
}

/** Places buffers in the given order, each at the lowest aligned offset free of every time-overlapping one. */
function placeInOrder(order: BufferRequest[]): Record<string, number> {
  const placed: { p: Prep; offset: number }[] = [];
  const offsets: Record<string, number> = {};
  for (const req of order) {
    const p = prepare(req);
    const offset = p.pieces.length ? lowestOffset(p, placed) : 0;
    placed.push({ p, offset });
    offsets[req.name] = offset;
  }
  return offsets;
}

/**
 * Places buffers in order over several regions: each goes to the first region (in the order given) where its
 * lowest free offset still fits the capacity. A buffer that fits nowhere goes where it overflows least, and the
 * overflow is reported (a placement is valid only without overflow; the search uses it as a guide).
 */
function placeOrderInRegions(order: BufferRequest[], regions: ArenaRegion[]): Omit<RegionPlacement, 'strategy'> & { overflow: number } {
  const placed = new Map<string, { p: Prep; offset: number }[]>(regions.map((r) => [r.name, []]));
  const offsets: Record<string, number> = {};
  const region: Record<string, string> = {};
  const used: Record<string, number> = Object.fromEntries(regions.map((r) => [r.name, 0]));
  let overflow = 0;
  for (const req of order) {
    const p = prepare(req);
    let choice: { r: ArenaRegion; offset: number; over: number } | undefined;
    for (const r of regions) {
      const offset = p.pieces.length ? lowestOffset(p, placed.get(r.name)!) : 0;
      const over = Math.max(0, offset + req.size - r.capacity);
      if (!choice || over < choice.over) choice = { r, offset, over };
      if (over === 0) break;
    }
    const { r, offset, over } = choice!;
    placed.get(r.name)!.push({ p, offset });
    offsets[req.name] = offset;
    region[req.name] = r.name;
    used[r.name] = Math.max(used[r.name], offset + req.size);
    overflow += over;
  }
  return { offsets, region, used, size: Object.values(used).reduce((s, v) => s + v, 0), overflow };
}

/**
 * +1 for a buffer born from its low bytes up (a chain's output written band by band), -1 for one dying from its
 * low bytes up (a chain's input consumed band by band), 0 otherwise. A born-low-first buffer placed just below a
 * dying one grows into the rows the other no longer needs.
 */
function growth(r: BufferRequest): number {
  const ps = r.live;
  if (!ps || ps.length < 4) return 0; // band buffers have a few pieces (kept head, two concat halves): not rows
  const sorted = [...ps].sort((a, b) => a.start - b.start);
  let born = 0;
  let dies = 0;
  for (let i = 1; i < sorted.length; i++) {
    born += Math.sign(sorted[i].first - sorted[i - 1].first);
    dies += Math.sign(sorted[i].last - sorted[i - 1].last);
  }
  return born >= 3 && born >= dies ? 1 : dies >= 3 ? -1 : 0;
}

const area = (r: BufferRequest): number => piecesOf(r).reduce((s, p) => s + (p.end - p.start) * (p.last - p.first + 1), 0);

/** Buffer orders of the greedy strategies. */
export const ORDERS: Record<string, (reqs: BufferRequest[]) => BufferRequest[]> = {
  /** TFLite Micro's GreedyMemoryPlanner order: largest first. */
  'greedy-by-size': (reqs) => [...reqs].sort((a, b) => b.size - a.size || a.firstUse - b.firstUse),
  /** Largest size x lifetime area first: keeps long-lived big buffers low. */
  'greedy-by-area': (reqs) => [...reqs].sort((a, b) => area(b) - area(a) || b.size - a.size),
  /** Largest first, but buffers born band by band before the rest, so they sit below the inputs they overwrite. */
  'growing-first-by-size': (reqs) => [...reqs].sort((a, b) => (growth(a) > 0 ? 0 : 1) - (growth(b) > 0 ? 0 : 1) || b.size - a.size || a.firstUse - b.firstUse),
  /**
   * Row-band plans: tensors whose rows are born or die band by band first, latest first, so each lands just
   * above the chain output that overwrites it (a descending staircase); then the rest largest first.
   */
  'staircase-latest-first': (reqs) =>
    [...reqs].sort((a, b) => {
      const ga = growth(a) !== 0 ? 0 : 1;
      const gb = growth(b) !== 0 ? 0 : 1;
      if (ga !== gb) return ga - gb;
      return ga === 0 ? b.firstUse - a.firstUse || b.size - a.size : b.size - a.size || a.firstUse - b.firstUse;
    }),
  /** In order of first use, as a simple stack allocator would. */
  'first-fit-by-start': (reqs) => [...reqs].sort((a, b) => a.firstUse - b.firstUse || b.size - a.size),
  /**
   * Longest-lived first, then largest: whole tensors, then the small buffers that carry rows from one band to the
   * next (parked halos), so they sit low instead of above the band buffers placed before them.
   */
  'longest-lived-first': (reqs) => [...reqs].sort((a, b) => b.lastUse - b.firstUse - (a.lastUse - a.firstUse) || b.size - a.size || a.firstUse - b.firstUse),
};

/**
 * Orders tried as they are (placeInRegions with `extraOrders`) but not as starting points of the search: a different
 * start changes where the search ends, for better or worse, and these only add candidates.
 */
export const EXTRA_ORDERS: Record<string, (reqs: BufferRequest[]) => BufferRequest[]> = {
  /**
   * In order of first use, but tensors dying from their low rows up (a chain's input consumed band by band) last: they
   * land above the first band's buffers, so their dead rows join the free space below them (SqueezeNet v1.1@224 with
   * the input in the arena: 162,816 B where the other orders and the search reach 164,000 B).
   */
  'dying-last-by-start': (reqs) => [...reqs].sort((a, b) => (growth(a) < 0 ? 1 : 0) - (growth(b) < 0 ? 1 : 0) || a.firstUse - b.firstUse || b.size - a.size),
};

/** Most bytes live at one step: a lower bound of any placement's arena. */
export function liveLowerBound(reqs: BufferRequest[]): number {
  const delta = new Map<number, number>();
  for (const r of reqs) {
    for (const p of piecesOf(r)) {
      const bytes = p.end - p.start;
      if (bytes <= 0) continue;
      delta.set(p.first, (delta.get(p.first) ?? 0) + bytes);
      delta.set(p.last + 1, (delta.get(p.last + 1) ?? 0) - bytes);
    }
  }
  let live = 0;
  let best = 0;
  for (const t of [...delta.keys()].sort((a, b) => a - b)) {
    live += delta.get(t)!;
    best = Math.max(best, live);
  }
  return best;
}

export function arenaSize(reqs: BufferRequest[], offsets: Record<string, number>): number {
  return reqs.reduce((m, r) => Math.max(m, offsets[r.name] + r.size), 0);
}

/**
 * Local search over placement orders: starts from the best greedy order, repeatedly moves one of the buffers
 * that end highest to an earlier position, keeps the change when the arena does not grow. Deterministic.
 * Stops at the live-bytes lower bound (then the placement is optimal), after `iterations` tries, or after 50
 * tries in a row that did not shrink the arena.
 */
export function searchOrder(
  reqs: BufferRequest[],
  evaluate: (order: BufferRequest[]) => { size: number; tops: string[] } | undefined,
  opts: { iterations?: number; seed?: number; lowerBound?: number } = {},
): BufferRequest[] {
  const lb = opts.lowerBound ?? liveLowerBound(reqs);
  let best: { order: BufferRequest[]; size: number; tops: string[] } | undefined;
  for (const make of Object.values(ORDERS)) {
    const order = make(reqs);
    const r = evaluate(order);
    if (r && (!best || r.size < best.size)) best = { order, ...r };
  }
  if (!best) return ORDERS['greedy-by-size'](reqs);
  const rnd = mulberry32(opts.seed ?? 12345);
  const iterations = opts.iterations ?? 200;
  let stale = 0;
  for (let it = 0; it < iterations && best.size > lb && stale < 50; it++) {
    const order: BufferRequest[] = [...best.order];
    const tops = best.tops.length ? best.tops : order.map((r) => r.name);
    const name = tops[Math.floor(rnd() * tops.length)];
    const from = order.findIndex((r) => r.name === name);
    const move = rnd();
    if (from > 0 && move < 0.25) {
      // Move it to the front.
      const [moved] = order.splice(from, 1);
      order.unshift(moved);
    } else if (from <= 0 || move < 0.4) {
      // Swap two random neighbours.
      const i = Math.floor(rnd() * Math.max(1, order.length - 1));
      [order[i], order[i + 1]] = [order[i + 1], order[i]];
    } else {
      const to = Math.floor(rnd() * from);
      const [moved] = order.splice(from, 1);
      order.splice(to, 0, moved);
    }
    const r = evaluate(order);
    stale = r && r.size < best.size ? 0 : stale + 1;
    if (r && r.size <= best.size) best = { order, ...r };
  }
  return best.order;
}

/**
 * Search effort: a fixed number of tries (deterministic), fewer for large buffer sets, but at least 60: a try
 * costs about 30 ms at a thousand buffers, and row-band plans of that size still gain from the tries after the
 * 20th (SqueezeNet v1.0@227 with the input in the arena: 181,088 B after 20 tries, 177,008 B after 50).
 */
export const searchIterations = (n: number): number => Math.max(60, Math.min(200, Math.floor(20_000_000 / Math.max(1, n * n))));

/** Buffers whose end is the arena's end (the ones a better order must move). */
const topBuffers = (reqs: BufferRequest[], offsets: Record<string, number>, size: number): string[] =>
  reqs.filter((r) => offsets[r.name] + r.size === size).map((r) => r.name);

export const STRATEGIES: Record<string, PlacementStrategy> = {
  ...Object.fromEntries(Object.entries({ ...ORDERS, ...EXTRA_ORDERS }).map(([name, order]) => [name, (reqs: BufferRequest[]) => placeInOrder(order(reqs))])),
  /** Local search over orders, starting from the best greedy one (see searchOrder). */
  search: (reqs) => {
    const evaluate = (order: BufferRequest[]) => {
      const offsets = placeInOrder(order);
      const size = arenaSize(reqs, offsets);
      return { size, tops: topBuffers(reqs, offsets, size) };
    };
    return placeInOrder(searchOrder(reqs, evaluate, { iterations: searchIterations(reqs.length) }));
  },
};

/** Runs every strategy and keeps the smallest arena (ties: the first listed). */
export function placeBest(reqs: BufferRequest[], strategies = Object.keys(STRATEGIES)): Placement {
  let best: Placement | undefined;
  for (const name of strategies) {
    const offsets = STRATEGIES[name](reqs);
    const size = arenaSize(reqs, offsets);
    if (!best || size < best.size) best = { strategy: name, offsets, size };
  }
  if (!best) throw new Error('no placement strategy given');
  checkPlacement(reqs, best.offsets);
  return best;
}

/**
 * Places buffers over several regions with every greedy order and the search, keeping the smallest total.
 * Returns undefined when no strategy fits every buffer into some region.
 */
export function placeInRegions(reqs: BufferRequest[], regions: ArenaRegion[], opts: { iterations?: number; extraOrders?: boolean } = {}): RegionPlacement | undefined {
  if (regions.length === 1 && regions[0].capacity !== Infinity) {
    // One region: place as if it were unbounded (the result does not depend on the capacity), then check.
    const r = placeInRegions(reqs, [{ name: regions[0].name, capacity: Infinity }], opts);
    return r && r.size <= regions[0].capacity ? r : undefined;
  }
  let best: RegionPlacement | undefined;
  const consider = (strategy: string, order: BufferRequest[]): void => {
    const r = placeOrderInRegions(order, regions);
    if (r.overflow === 0 && (!best || r.size < best.size)) best = { strategy, offsets: r.offsets, region: r.region, used: r.used, size: r.size };
  };
  for (const [name, order] of Object.entries(opts.extraOrders ? { ...ORDERS, ...EXTRA_ORDERS } : ORDERS)) consider(name, order(reqs));
  const lb = liveLowerBound(reqs);
  const iterations = opts.iterations ?? searchIterations(reqs.length);
  if (iterations > 0 && (!best || best.size > lb)) {
    // Overflow weighs more than any size, so the search first looks for a placement that fits at all.
    const evaluate = (order: BufferRequest[]) => {
      const r = placeOrderInRegions(order, regions);
      const tops = reqs.filter((q) => r.offsets[q.name] + q.size >= Math.min(r.used[r.region[q.name]], regions.find((x) => x.name === r.region[q.name])!.capacity + 1)).map((q) => q.name);
      return { size: r.size + r.overflow * 1e9, tops };
    };
    consider('search', searchOrder(reqs, evaluate, { iterations, lowerBound: lb }));
  }
  return best;
}

/** Throws if two buffers live at the same time overlap, or if any offset breaks its alignment. */
export function checkPlacement(reqs: BufferRequest[], offsets: Record<string, number>, capacity = Infinity): void {
  for (const r of reqs) {
    const o = offsets[r.name];
    if (o === undefined) throw new Error(`buffer ${r.name} has no offset`);
    if (o % r.alignment !== 0) throw new Error(`buffer ${r.name} at offset ${o} breaks its ${r.alignment}-byte alignment`);
    if (o < 0 || o + r.size > capacity) throw new Error(`buffer ${r.name} [${o}, ${o + r.size}) leaves the region of ${capacity} bytes`);
    for (const p of piecesOf(r)) {
      if (p.start < 0 || p.end > r.size || p.first > p.last) throw new Error(`buffer ${r.name} has a bad live piece [${p.start}, ${p.end}) steps ${p.first}-${p.last}`);
    }
  }
  const sorted = [...reqs].sort((a, b) => offsets[a.name] - offsets[b.name]);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    const aEnd = offsets[a.name] + a.size;
    for (let j = i + 1; j < sorted.length && offsets[sorted[j].name] < aEnd; j++) {
      const b = sorted[j];
      if (a.size <= 0 || b.size <= 0 || !liveTogether(a, b)) continue;
      const clash = pieceClash(a, offsets[a.name], b, offsets[b.name]);
      if (clash) {
        throw new Error(
          `buffers ${a.name} [${offsets[a.name]}, ${aEnd}) steps ${a.firstUse}-${a.lastUse} and ` +
            `${b.name} [${offsets[b.name]}, ${offsets[b.name] + b.size}) steps ${b.firstUse}-${b.lastUse} overlap` +
            (a.live || b.live ? ` (bytes [${clash.from}, ${clash.to}) both live at step ${clash.step})` : ''),
        );
      }
    }
  }
}

function pieceClash(a: BufferRequest, oa: number, b: BufferRequest, ob: number): { from: number; to: number; step: number } | undefined {
  for (const pa of piecesOf(a)) {
    if (pa.end <= pa.start) continue;
    for (const pb of piecesOf(b)) {
      if (pb.end <= pb.start || pa.first > pb.last || pb.first > pa.last) continue;
      const from = Math.max(oa + pa.start, ob + pb.start);
      const to = Math.min(oa + pa.end, ob + pb.end);
      if (from < to) return { from, to, step: Math.max(pa.first, pb.first) };
    }
  }
  return undefined;
}
