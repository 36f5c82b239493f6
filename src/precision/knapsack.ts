/**
 * The layer choice of mixed precision as an exact 0/1 knapsack: every layer that can go to int4 saves some bytes
 * and costs its measured sensitivity; the chosen set is the one of least summed cost among those that fit. A
 * dynamic programme over the bytes saved (in units of the savings' greatest common divisor) gives, for every total
 * saving, the least cost reaching exactly it; the sets are then tried in increasing cost, each only when it saves
 * more than every cheaper set tried, until one fits. With a test that depends on the bytes alone (a budget) this
 * is the optimum; with the board's flash (placement, alignment) it is the optimum as long as saving more never
 * makes the weights fit worse.
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

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The least-cost set of `items` for which `fits` holds (names in item order), or undefined when no set fits.
 * `fits` is called on candidate sets in increasing cost; the empty set is tried first.
 */
export function leastCostFitting(items: KnapsackItem[], fits: (names: string[]) => boolean): KnapsackChoice | undefined {
  for (const it of items) {
    if (!Number.isInteger(it.saved) || it.saved <= 0 || !(it.cost >= 0)) throw new Error(`knapsack item ${it.name}: saved ${it.saved}, cost ${it.cost}`);
  }
  const n = items.length;
  const g = items.reduce((a, it) => gcd(a, it.saved), 0) || 1;
  const units = items.map((it) => it.saved / g);
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
  const reachable: number[] = [];
  for (let s = 0; s < width; s++) if (best[s] < Infinity) reachable.push(s);
  reachable.sort((a, b) => best[a] - best[b] || a - b); // equal costs: the smaller saving first
  let most = -1;
  for (const s of reachable) {
    if (s <= most) continue; // a cheaper set saving at least as much did not fit
    most = s;
    const names = setOf(s);
    if (fits(names)) return { names, saved: s * g, cost: best[s] };
  }
  return undefined;
}
