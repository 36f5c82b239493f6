/**
 * Running max for row pools (see tiling.ts): a max pool whose conv runs one row per call, each row pooled across at
 * once, can fold every pooled row into the pool's output row as soon as it exists instead of holding all the
 * pooled rows of a window for a second pooling pass. For output row r with window rows [r0, r1) of the conv output:
 *
 *   first new row:  conv row -> pooled across straight into output row r (the running max)
 *   each next row:  conv row -> pooled across into a one-row buffer -> max into output row r
 *
 * and the window's last row, when the next window reads it too, stays in its one-row buffer (the carry) and starts
 * that window's max. Max is associative and commutative, and the pool's clamp is monotone, so the result is the
 * same bytes as the whole window pooled at once. Held at most: the output row, one conv row and one pooled row,
 * where the two-pass row pool holds a window of pooled rows (SqueezeNet v1.1's conv1 -> pool1 at 224: 14,144 B
 * against 17,664 B, while the whole input is still live).
 *
 * One carried row suffices when consecutive windows share at most one row (kernel height - stride height <= 1, as
 * in SqueezeNet's 3x3 stride-2 pools); other pools keep the two passes.
 */
import type { Ref } from './types.js';

/** Whether a pool window of kh rows at row stride sh can run as a running max (windows share at most one row). */
export const runningMaxFits = (kh: number, sh: number): boolean => kh >= 1 && sh >= 1 && kh - sh <= 1;

/** A pooled row kept for the next window. */
export interface Carry {
  row: number;
  ref: Ref;
}

/** What the running max emits through: the chain's own calls. */
export interface RunningRows {
  /** Conv output rows [r0, r1) that pool output row r reads. */
  window: (r: number) => [number, number];
  /** Pool output height. */
  rows: number;
  /** Conv row y pooled across into `to`, or into a new one-row buffer when `to` is absent; returns where it went. */
  across: (y: number, to?: Ref) => Ref;
  /** Elementwise max of two pooled rows into `to` (which may be either of them). */
  max: (a: Ref, b: Ref, to: Ref, r: number) => void;
  /** Where pool output row r goes. */
  out: (r: number) => Ref;
}

/**
 * Emits pool output rows [c0, c1) as running maxes, starting from `carry` (the previous row's kept pooled row, if
 * any). Returns the conv rows it computed, in order, and the carry for the next row.
 */
export function emitRunningRows(e: RunningRows, c0: number, c1: number, carry: Carry | undefined): { convRows: number[]; carry?: Carry } {
  const convRows: number[] = [];
  for (let r = c0; r < c1; r++) {
    const [r0, r1] = e.window(r);
    const next = r + 1 < e.rows ? e.window(r + 1) : undefined;
    const out = e.out(r);
    let acc: Ref | undefined;
    let kept: Carry | undefined;
    for (let y = r0; y < r1; y++) {
      const keep = next !== undefined && y >= next[0] && y < next[1];
      if (carry && carry.row === y) {
        acc = carry.ref;
        if (keep) kept = carry;
        continue;
      }
      convRows.push(y);
      if (!acc && !keep) {
        e.across(y, out);
        acc = out;
        continue;
      }
      const pooled = e.across(y);
      if (keep) kept = { row: y, ref: pooled };
      if (acc) e.max(acc, pooled, out, r);
      acc = acc ? out : pooled;
    }
    if (!acc) throw new Error(`internal error: pool output row ${r} has no rows in its window`);
    // A window whose only row is a kept one: max(x, x) = x copies it into the output row.
    if (acc !== out) e.max(acc, acc, out, r);
    carry = kept;
  }
  return { convRows, ...(carry ? { carry } : {}) };
}
