/**
 * Arena offset assignment, TFLite Micro style: add buffers with a size and a first/last use, get offsets.
 * Strategies are swappable; `placeBest` runs them all and keeps the smallest arena. `checkPlacement` is the
 * overlap checker used after every plan and in tests: it names both buffers of any conflict.
 */

export interface BufferRequest {
  name: string;
  size: number;
  firstUse: number;
  lastUse: number;
  alignment: number;
}

export interface Placement {
  strategy: string;
  offsets: Record<string, number>;
  size: number;
}

export type PlacementStrategy = (reqs: BufferRequest[]) => Record<string, number>;

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;
const liveTogether = (a: BufferRequest, b: BufferRequest): boolean => a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;

/** Places buffers in the given order, each at the lowest aligned offset free of every time-overlapping one. */
function placeInOrder(order: BufferRequest[]): Record<string, number> {
  const placed: { req: BufferRequest; offset: number }[] = [];
  const offsets: Record<string, number> = {};
  for (const req of order) {
    const conflicts = placed
      .filter((p) => liveTogether(p.req, req))
      .sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const c of conflicts) {
      const candidate = alignUp(offset, req.alignment);
      if (candidate + req.size <= c.offset) break;
      offset = Math.max(offset, c.offset + c.req.size);
    }
    offset = alignUp(offset, req.alignment);
    placed.push({ req, offset });
    offsets[req.name] = offset;
  }
  return offsets;
}

export const STRATEGIES: Record<string, PlacementStrategy> = {
  /** TFLite Micro's GreedyMemoryPlanner order: largest first. */
  'greedy-by-size': (reqs) => placeInOrder([...reqs].sort((a, b) => b.size - a.size || a.firstUse - b.firstUse)),
  /** Largest size x lifetime area first: keeps long-lived big buffers low. */
  'greedy-by-area': (reqs) =>
    placeInOrder([...reqs].sort((a, b) => b.size * (b.lastUse - b.firstUse + 1) - a.size * (a.lastUse - a.firstUse + 1) || b.size - a.size)),
  /** In order of first use, as a simple stack allocator would. */
  'first-fit-by-start': (reqs) => placeInOrder([...reqs].sort((a, b) => a.firstUse - b.firstUse || b.size - a.size)),
};

export function arenaSize(reqs: BufferRequest[], offsets: Record<string, number>): number {
  return reqs.reduce((m, r) => Math.max(m, offsets[r.name] + r.size), 0);
}

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

/** Throws if two buffers live at the same time overlap, or if any offset breaks its alignment. */
export function checkPlacement(reqs: BufferRequest[], offsets: Record<string, number>, capacity = Infinity): void {
  for (const r of reqs) {
    const o = offsets[r.name];
    if (o === undefined) throw new Error(`buffer ${r.name} has no offset`);
    if (o % r.alignment !== 0) throw new Error(`buffer ${r.name} at offset ${o} breaks its ${r.alignment}-byte alignment`);
    if (o < 0 || o + r.size > capacity) throw new Error(`buffer ${r.name} [${o}, ${o + r.size}) leaves the region of ${capacity} bytes`);
  }
  const sorted = [...reqs].sort((a, b) => offsets[a.name] - offsets[b.name]);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    const aEnd = offsets[a.name] + a.size;
    for (let j = i + 1; j < sorted.length && offsets[sorted[j].name] < aEnd; j++) {
      const b = sorted[j];
      if (a.size > 0 && b.size > 0 && liveTogether(a, b)) {
        throw new Error(
          `buffers ${a.name} [${offsets[a.name]}, ${aEnd}) steps ${a.firstUse}-${a.lastUse} and ` +
            `${b.name} [${offsets[b.name]}, ${offsets[b.name] + b.size}) steps ${b.firstUse}-${b.lastUse} overlap`,
        );
      }
    }
  }
}
