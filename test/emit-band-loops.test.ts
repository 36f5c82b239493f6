/**
 * Band loops as data: a row-band chain is emitted as a loop over a const table of per-band offsets, so the code
 * (call sites in model.c) does not grow with the band count, and each loop reproduces exactly the calls it replaces.
 */
import { describe, expect, test } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { bandBlocks, type RenderedStep } from '../src/emit/band-loops.js';
import { generate } from '../src/emit/index.js';
import { arenaRegions } from '../src/driver/board-plan.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { codeSteps } from '../src/emit/weights-placement.js';
import { runGolden } from '../src/golden/run.js';
import { planWithChains } from '../src/planner/index.js';
import { Net } from '../src/planner/tiling.js';
import { mulberry32, randInt } from '../src/util/random.js';

/** model.c of SqueezeNet v1.1 at a size, cut at fire2.squeeze and at fire4.squeeze, 1-row bands, fused pool. */
function modelC(size: number): { c: string; calls: number; codeSteps: number } {
  const p = prepareSynthetic({ variant: 'v1.1', inputSize: size, classes: 10, seed: 3 });
  const board = loadBoard('mps2-an500');
  const net = new Net(p.model);
  const n = p.model.layers.length;
  const at = (name: string): number => p.model.layers.findIndex((l) => l.name === name) + 1;
  const cuts = [0, at('fire2.squeeze'), at('fire4.squeeze'), at('fire6.squeeze'), n - 1, n];
  const segs = cuts.slice(1).map((end, i) => ({ start: cuts[i], end, rows: 1, halo: 'keep' as const }));
  for (const s of segs) expect(net.validSegment(s.start, s.end)).toBe(true);
  const plan = planWithChains(p.model, arenaRegions(board), segs, { path: 'dsp', inputIn: 'caller' });
  const g = runGolden(p.model, p.input);
  const files = generate({ model: p.model, plan, board, input: p.input, inputNote: 'loops', expected: Object.fromEntries(p.model.outputs.map((o) => [o, g[o]])) });
  return { c: files['model/model.c'], calls: plan.steps.length, codeSteps: codeSteps(plan.steps) };
}

/** Every call site sets st once. */
const callSites = (c: string): number => (c.match(/\bst = /g) ?? []).length;

describe('band loops', () => {
  test('the call sites of a row-band plan do not grow with the band count', () => {
    const small = modelC(96);
    const big = modelC(224);
    expect(big.calls).toBeGreaterThan(2 * small.calls);
    expect(callSites(big.c)).toBeLessThan(big.calls / 3);
    // A few edge bands differ with the size; the loop bodies do not.
    expect(Math.abs(callSites(big.c) - callSites(small.c))).toBeLessThanOrEqual(callSites(small.c) / 4);
    expect(big.c).toMatch(/for \(int32_t band = 0; band < \d+; band\+\+\) \{\n {8}const uint(?:8|16|32)_t \*o = band_offsets_\d+\[band\];/);
    // Offsets that move by a fixed step are computed, not tabled.
    expect(big.c).toMatch(/ \+ \(\d+ \+ band \* \d+\)/);
    // Tables are packed: most columns of SqueezeNet's arenas need no more than 16 bits once their minimum is out.
    expect(big.c).toMatch(/static const uint(?:8|16)_t band_offsets_\d+\[/);
  });

  test('the flash reserve for the calls counts the call sites after folding (and the tables), not every call', () => {
    for (const size of [96, 224]) {
      const m = modelC(size);
      const sites = callSites(m.c);
      const width = { uint8_t: 1, uint16_t: 2, uint32_t: 4 } as Record<string, number>;
      const tableBytes = [...m.c.matchAll(/static const (uint\d+_t) band_offsets_\d+\[(\d+)\]\[(\d+)\]/g)].reduce((n, x) => n + width[x[1]] * Number(x[2]) * Number(x[3]), 0);
      expect(tableBytes, `${size}`).toBeGreaterThan(0);
      // At least the real call sites plus the tables' bytes in 96-byte units, and far below one per call.
      expect(m.codeSteps, `${size}`).toBeGreaterThanOrEqual(sites + Math.ceil(tableBytes / 96));
      expect(m.codeSteps, `${size}`).toBeLessThan(Math.max(2 * sites, m.calls / 3));
    }
  });

  test('property: every loop, unrolled from its table, gives back exactly the calls it replaced, in order', () => {
    const rnd = mulberry32(99);
    for (let t = 0; t < 200; t++) {
      const chains = randInt(rnd, 1, 3);
      const steps: RenderedStep[] = [];
      const kinds = ['f(a + @0@)', 'g(a + @0@, b + @1@)', 'h(a + @0@, 3)', 'k(b + @0@, b + @1@, a + @2@)'];
      for (let chain = 0; chain < chains; chain++) {
        const count = randInt(rnd, 1, 9);
        const shape = Array.from({ length: randInt(rnd, 1, 4) }, () => randInt(rnd, 0, kinds.length - 1));
        for (let b = 0; b < count; b++) {
          // Edge bands sometimes differ (another call), as first and last bands do.
          const here = rnd() < 0.2 ? [...shape, randInt(rnd, 0, kinds.length - 1)] : shape;
          for (const k of here) {
            const text = kinds[k];
            const slots = Array.from({ length: (text.match(/@/g) ?? []).length / 2 }, () => {
              const value = randInt(rnd, 0, 5000);
              return { value, single: String(value) };
            });
            steps.push({ index: steps.length, comment: `step ${steps.length}`, what: `kind ${k}`, text, slots, band: { chain, index: b, count } });
          }
        }
      }
      const expected = steps.map((s) => ({ index: s.index, text: s.text.replace(/@(\d+)@/g, (_, k) => s.slots[Number(k)].single) }));
      const unrolled: { index: number; text: string }[] = [];
      for (const b of bandBlocks(steps)) {
        if (b.kind === 'step') unrolled.push({ index: b.index, text: b.text });
        else {
          expect(b.count).toBeGreaterThanOrEqual(2);
          const table = b.rows.map((r) => r.replace(/[{} ]/g, '').split(',').filter((x) => x !== '').map(Number));
          expect(table).toHaveLength(b.count);
          // Packed: the element type holds every entry, each column has a zero (its minimum is in the code), and
          // no two columns are equal.
          const top = Math.max(0, ...table.flat());
          expect(top).toBeLessThan(b.type === 'uint8_t' ? 256 : b.type === 'uint16_t' ? 65536 : 2 ** 32);
          if (b.type !== 'uint8_t') expect(top).toBeGreaterThanOrEqual(b.type === 'uint16_t' ? 256 : 65536);
          const columns = Array.from({ length: b.width }, (_, k) => table.map((r) => r[k]).join(','));
          for (const c of columns) expect(Math.min(...c.split(',').map(Number))).toBe(0);
          expect(new Set(columns).size).toBe(columns.length);
          table.forEach((o, band) => {
            const text = (t: string): string =>
              t
                .trim()
                .replace(/\((\d+) \+ o\[(\d+)\]\)/g, (_, m, k) => String(Number(m) + o[Number(k)]))
                .replace(/o\[(\d+)\]/g, (_, k) => String(o[Number(k)]))
                .replace(/\((\d+) \+ band \* (-?\d+)\)/g, (_, a, d) => String(Number(a) + band * Number(d)));
            for (const s of b.body) unrolled.push({ index: b.first + band * b.perBand + s.at, text: text(s.text) });
          });
        }
      }
      expect(unrolled).toEqual(expected);
    }
  });
});
