/**
 * Band loops as data: the steps of a row-band chain repeat band after band with the same kernel calls, the same
 * argument structs and only other buffer offsets. Consecutive bands whose calls are identical but for those
 * offsets become one C loop over a const table of per-band offsets, so the code no longer grows with the band count
 * (871 unrolled calls of SqueezeNet v1.1's tiled plan become a few dozen loop bodies).
 *
 * Each step is rendered once with its pointers (and stream rows) as numbered slots (`@k@`); a band's signature is its
 * steps' text with the slots unfilled, plus the arena each pointer slot points into. A single call fills a slot with
 * its named-buffer expression; a loop with its arena plus the band's offset. Runs of at least two bands with one signature give a loop; everything else stays
 * one call per step. An offset that moves by the same step every band (a whole tensor's rows, a buffer that stays
 * put) is computed in the loop (`first + band * step`); only the others go into the table, packed: each tabled
 * column is stored less its smallest value (the loop adds it back: `arena + min + o[k]`), columns equal after that
 * share one table column, and the table's element type is the narrowest unsigned type holding every entry (uint16_t
 * for SqueezeNet's arenas: 43 pointer columns of v1.1@224's first chain fold into 18, 4,128 -> 864 bytes).
 */
import type { Step } from '../planner/types.js';

/** A value that may change from band to band: a pointer (`base` + offset `value`) or a plain number (a row). */
export interface Slot {
  value: number;
  /** The arena (or the caller's input pointer) a pointer slot points into. */
  base?: string;
  /** What a single call writes (the named-buffer expression, or the number). */
  single: string;
}

/** One step rendered with slots: `text` holds `@k@` where slot k goes. */
export interface RenderedStep {
  index: number;
  comment: string;
  /** The call without band details (op and layer), for loop bodies. */
  what: string;
  /** The call, 4-space indented, with `@k@` placeholders. */
  text: string;
  slots: Slot[];
  band?: Step['band'];
}

export interface SingleBlock {
  kind: 'step';
  index: number;
  comment: string;
  text: string;
}

export interface LoopBlock {
  kind: 'loop';
  /** Name of the static const offsets table ([count][width]); absent when every offset is computed. */
  table?: string;
  /** C element type of the table: the narrowest of uint8_t, uint16_t, uint32_t that holds every entry. */
  type: 'uint8_t' | 'uint16_t' | 'uint32_t';
  count: number;
  width: number;
  rows: string[];
  /** First step index of the first band, and steps per band (failed_step = first + band * perBand + at). */
  first: number;
  perBand: number;
  comment: string;
  body: { comment: string; text: string; at: number }[];
}

export type Block = SingleBlock | LoopBlock;

const fill = (text: string, value: (k: number) => string): string => text.replace(/@(\d+)@/g, (_, k: string) => value(Number(k)));

/** Groups rendered steps into single calls and loops over bands (see the file comment). */
export function bandBlocks(steps: RenderedStep[], minBands = 2): Block[] {
  const out: Block[] = [];
  const single = (s: RenderedStep): void => {
    out.push({ kind: 'step', index: s.index, comment: s.comment, text: fill(s.text, (k) => s.slots[k].single) });
  };
  // Split into runs: consecutive steps of one band of one chain.
  const groups: RenderedStep[][] = [];
  for (const s of steps) {
    const last = groups[groups.length - 1];
    const prev = last?.[last.length - 1];
    if (prev && s.band && prev.band && s.band.chain === prev.band.chain && s.band.index === prev.band.index) last.push(s);
    else groups.push([s]);
  }
  const signature = (g: RenderedStep[]): string => (g[0].band ? `${g[0].band.chain}\n${g.map((s) => `${s.text} ${s.slots.map((x) => x.base ?? '#').join(' ')}`).join('\n')}` : '');
  for (let i = 0; i < groups.length; ) {
    const sig = signature(groups[i]);
    let j = i + 1;
    while (sig && j < groups.length && signature(groups[j]) === sig && groups[j][0].band!.index === groups[j - 1][0].band!.index + 1) j++;
    if (!sig || j - i < minBands) {
      for (const s of groups[i]) single(s);
      i++;
      continue;
    }
    const run = groups.slice(i, j);
    // Per slot of the band: its offsets over the run; arithmetic ones are computed, the rest tabled.
    const columns = run[0].flatMap((_, at) => run[0][at].slots.map((__, k) => run.map((g) => g[at].slots[k].value)));
    const bases = run[0].flatMap((s) => s.slots.map((x) => x.base));
    // Tabled columns less their minimum, one table column per distinct remainder.
    const tabled: number[][] = [];
    const tabledKey = new Map<string, number>();
    const expr = columns.map((col) => {
      const step = col[1] - col[0];
      if (col.every((v, b) => v === col[0] + b * step)) return step === 0 ? String(col[0]) : `(${col[0]} + band * ${step})`;
      const min = Math.min(...col);
      const rest = col.map((v) => v - min);
      const key = rest.join(',');
      let k = tabledKey.get(key);
      if (k === undefined) {
        k = tabled.length;
        tabled.push(rest);
        tabledKey.set(key, k);
      }
      return min === 0 ? `o[${k}]` : `(${min} + o[${k}])`;
    }).map((e, c) => (bases[c] ? `${bases[c]} + ${e}` : e));
    const top = Math.max(0, ...tabled.flat());
    const type = top < 0x100 ? 'uint8_t' : top < 0x10000 ? 'uint16_t' : 'uint32_t';
    let at0 = 0;
    const body = run[0].map((s, at) => {
      const base = at0;
      at0 += s.slots.length;
      return { comment: s.what, at, text: fill(s.text, (k) => expr[base + k]).replace(/^/gm, '    ') };
    });
    const band = run[0][0].band!;
    const loops = out.filter((b) => b.kind === 'loop' && b.table).length;
    out.push({
      kind: 'loop',
      ...(tabled.length ? { table: `band_offsets_${loops}` } : {}),
      type,
      count: run.length,
      width: tabled.length,
      rows: run.map((_, b) => `{ ${tabled.map((col) => col[b]).join(', ')} }`),
      first: run[0][0].index,
      perBand: run[0].length,
      comment: `bands ${band.index + 1}-${band.index + run.length} of ${band.count} of chain ${band.chain} (steps ${run[0][0].index}-${run[run.length - 1][run[0].length - 1].index})`,
      body,
    });
    i = j;
  }
  return out;
}
