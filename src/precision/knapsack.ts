/**
 * The layer choice of mixed precision as an exact 0/1 knapsack: every layer that can go to int4 saves some bytes
 * and costs its measured sensitivity; the chosen set is the one of least summed cost among those that fit. A
 * dynamic programme over the bytes saved (in units of the savings' greatest common divisor) gives, for every total
 * saving, the least cost reaching exactly it. The candidates are the sets no other set beats on both saving and cost,
 * in increasing saving (so increasing cost); the first that fits is found by bisection. With a test that depends on
 * the bytes alone (a budget) this is the optimum; with the board's flash (placement, alignment) it is the optimum
 * as long as saving more never makes the weights fit worse (when even the largest saving does not fit, the
 * candidates are tried in order).
 */

export interface KnapsackItem {
  name: string;
  /** Bytes saved when the item is taken (a positive integer). */
  saved: number;
  /** What taking it costs (a sensitivity, >= 0). */
  cost: number;
}

export interface KnapsackChoice {
  names: string[];
  saved: number;
  cost: number;
}

/** Cells of the choice table (items x savings) before the savings are counted in coarser units. */
const MAX_CELLS = 1 << 26;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The least-cost set of `items` for which `fits` holds (names in item order), or undefined when no set fits.
 * The empty set is tried first.
 */
export function leastCostFitting(items: KnapsackItem[], fits: (names: string[]) => boolean): KnapsackChoice | undefined {
  for (const it of items) {
    if (!Number.isInteger(it.saved) || it.saved <= 0 || !(it.cost >= 0)) throw new Error(`knapsack item ${it.name}: saved ${it.saved}, cost ${it.cost}`);
  }
  const n = items.length;
  let g = items.reduce((a, it) => gcd(a, it.saved), 0) || 1;
  const sum = items.reduce((a, it) => a + it.saved, 0);
  // a model far larger than SqueezeNet: coarser units (each item's saving rounded up), so the table stays small;
  // the sets are still tried against the real test, the optimum is then up to that rounding
  if (n * (sum / g + 1) > MAX_CELLS) g = Math.ceil((n * sum) / MAX_CELLS);
  const units = items.map((it) => Math.ceil(it.saved / g));
  const total = units.reduce((a, b) => a + b, 0);
  const width = total + 1;
  const best = new Float64Array(width).fill(Infinity);
  best[0] = 0;
  // took[i * width + s]: item i improved the least cost of saving s when it was added
  const took = new Uint8Array(n * width);
  for (let i = 0; i < n; i++) {
    const u = units[i];
    const c = items[i].cost;
    for (let s = total; s >= u; s--) {
      const v = best[s - u] + c;
      if (v < best[s]) {
        best[s] = v;
        took[i * width + s] = 1;
      }
    }
  }
  const setOf = (s0: number): string[] => {
    const chosen: number[] = [];
    let s = s0;
    for (let i = n - 1; i >= 0 && s > 0; i--) {
      if (took[i * width + s]) {
        chosen.push(i);
        s -= units[i];
      }
    }
    return chosen.reverse().map((i) => items[i].name);
  };
  // The sets worth trying: no other saves at least as much for less (by saving, so by cost too); the empty set first
  const front: number[] = [];
  let least = Infinity;
  for (let s = total; s >= 0; s--) {
    if (best[s] < Infinity && best[s] <= least) {
      least = best[s];
      front.push(s);
    }
  }
  front.reverse();
  const choice = (k: number): KnapsackChoice => {
    const names = setOf(front[k]);
    return { names, saved: items.reduce((a, it) => (names.includes(it.name) ? a + it.saved : a), 0), cost: best[front[k]] };
  };
  const tries = new Map<number, boolean>();
  const ok = (k: number): boolean => {
    if (!tries.has(k)) tries.set(k, fits(setOf(front[k])));
    return tries.get(k)!;
  };
  if (ok(0)) return choice(0);
  // the first that fits, by bisection (saving more fits at least as well)
  let lo = 0;
  let hi = front.length - 1;
  if (!ok(hi)) {
    for (let k = 1; k < hi; k++) if (ok(k)) return choice(k);
    return undefined;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return choice(hi);
}
