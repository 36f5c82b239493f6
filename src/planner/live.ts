/** Live bytes per step of a plan's buffers (live pieces when present, else the whole buffer over its lifetime). */
import type { LivePiece } from './types.js';

export interface LiveBuffer {
  name: string;
  size: number;
  firstUse: number;
  lastUse: number;
  live?: LivePiece[];
}

/** Bytes live at each step, and the step with the most. */
export function liveProfile(buffers: LiveBuffer[], steps: number): { perStep: number[]; peakStep: number } {
  const delta = new Array<number>(steps + 1).fill(0);
  for (const b of buffers) {
    const pieces = b.live ?? [{ first: b.firstUse, last: b.lastUse, start: 0, end: b.size }];
    for (const p of pieces) {
      const first = Math.max(0, p.first);
      const last = Math.min(steps - 1, p.last);
      if (last < first || p.end <= p.start) continue;
      delta[first] += p.end - p.start;
      delta[last + 1] -= p.end - p.start;
    }
  }
  const perStep: number[] = [];
  let live = 0;
  for (let i = 0; i < steps; i++) {
    live += delta[i];
    perStep.push(live);
  }
  const peakStep = perStep.reduce((best, v, i) => (v > perStep[best] ? i : best), 0);
  return { perStep, peakStep };
}

/** Buffers live at a step, largest first. */
export function liveAt(buffers: LiveBuffer[], step: number): { name: string; bytes: number }[] {
  const out: { name: string; bytes: number }[] = [];
  for (const b of buffers) {
    const pieces = b.live ?? [{ first: b.firstUse, last: b.lastUse, start: 0, end: b.size }];
    const bytes = pieces.filter((p) => p.first <= step && step <= p.last).reduce((s, p) => s + p.end - p.start, 0);
    if (bytes > 0) out.push({ name: b.name, bytes });
  }
  return out.sort((a, b) => b.bytes - a.bytes);
}

/** One chain of a row-band plan as placed: most bytes live during its steps, and the arena its buffers reach then. */
export interface ChainUse {
  chain: number;
  /** Most bytes live at one of its steps (no placement of this chain can use less). */
  live: number;
  /** Highest arena byte in use during its steps, summed over the arena regions. */
  placed: number;
}

/**
 * Per chain (the steps' band.chain), the live bytes and the placed arena: where a placement leaves holes, `placed`
 * exceeds `live`, and the chain with the largest `placed` sets the plan's arena. Buffers outside the arena (the
 * caller's input) are not counted; `outside` names their region.
 */
export function chainUse(
  buffers: (LiveBuffer & { region: string; offset: number })[],
  steps: { band?: { chain: number } }[],
  outside?: string,
): ChainUse[] {
  const inArena = buffers.filter((b) => b.region !== outside);
  const { perStep } = liveProfile(inArena, steps.length);
  const topByRegion = new Map<string, number[]>();
  for (const b of inArena) {
    const top = topByRegion.get(b.region) ?? new Array<number>(steps.length).fill(0);
    topByRegion.set(b.region, top);
    for (const p of b.live ?? [{ first: b.firstUse, last: b.lastUse, start: 0, end: b.size }]) {
      if (p.end <= p.start) continue;
      for (let i = Math.max(0, p.first); i <= Math.min(steps.length - 1, p.last); i++) top[i] = Math.max(top[i], b.offset + p.end);
    }
  }
  const out = new Map<number, ChainUse>();
  steps.forEach((s, i) => {
    if (!s.band) return;
    const use = out.get(s.band.chain) ?? { chain: s.band.chain, live: 0, placed: 0 };
    use.live = Math.max(use.live, perStep[i]);
    use.placed = Math.max(use.placed, [...topByRegion.values()].reduce((sum, top) => sum + top[i], 0));
    out.set(s.band.chain, use);
  });
  return [...out.values()].sort((a, b) => a.chain - b.chain);
}
