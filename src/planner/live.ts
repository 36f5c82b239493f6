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
