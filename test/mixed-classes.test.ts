/**
 * The classifier's int8 classes (src/precision/mixed.ts keepClassifierClasses, src/quantize/int4.ts
 * withInt8Channels): a classifier conv whose classes are split between int8 and int4 scores each class exactly as
 * the all-int8 or the all-int4 classifier does; the classes kept int8 are those whose int8 weights lower the scores'
 * error most, as many as fit.
 */
import { describe, expect, it } from 'vitest';
import { prepareSynthetic, syntheticInputs } from '../src/prepare/index.js';
import { runGolden } from '../src/golden/run.js';
import { classifierConv, splitChannels, weightArrayBytes, withInt4Layers, withInt8Channels } from '../src/quantize/int4.js';
import { keepClassifierClasses, selectMixed, weightBytes } from '../src/precision/mixed.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import type { QConv, QModel } from '../src/quantize/types.js';
import { planModel } from '../src/planner/index.js';
import { codeSteps } from '../src/emit/weights-placement.js';
import { qmodelInfo } from '../src/report/model-info.js';

const prep = prepareSynthetic({ variant: 'v1.1', inputSize: 40, classes: 24, seed: 5 });
const q = prep.model;
const inputs = syntheticInputs(prep.float!, 6, 41).map((x) => quantizeInput(x, q.tensors[q.input]));
const target = q.outputs[0];
const cls = classifierConv(q)!;
const at = q.layers.indexOf(cls);
const all4 = withInt4Layers(prep.float!, q, [cls.name]);
const with4 = (l: QConv): QModel => ({ ...q, layers: q.layers.map((x, i) => (i === at ? l : x)) });

/** Squared score error against the int8 model, per input relative to the int8 scores' energy, summed. */
function scoreError(m: QModel): number {
  const zp = q.tensors[target].zeroPoint;
  let e = 0;
  for (const x of inputs) {
    const ref = runGolden(q, x)[target];
    const s = runGolden(m, x)[target];
    let num = 0;
    let den = 0;
    for (let c = 0; c < ref.length; c++) {
      num += (s[c] - ref[c]) ** 2;
      den += (ref[c] - zp) ** 2;
    }
    e += num / (den || 1);
  }
  return e;
}

describe('a classifier with int8 and int4 classes', () => {
  it('is the conv the requantizing global pool reads, and no other conv', () => {
    expect(cls.name).toMatch(/conv10|conv_final/);
    expect(q.layers.find((l) => l.inputs[0] === cls.output)).toMatchObject({ op: 'avgpool' });
  });

  it('scores every class exactly as the all-int8 or the all-int4 classifier does (golden model)', () => {
    const l4 = all4.layers[at] as QConv;
    const keep = [0, 3, 4, 11, 23];
    const split = withInt8Channels(l4, cls, keep);
    expect(split.int8Channels).toEqual(keep);
    for (const x of inputs.slice(0, 3)) {
      const s = runGolden(with4(split), x)[target];
      const s8 = runGolden(q, x)[target];
      const s4 = runGolden(all4, x)[target];
      for (let c = 0; c < s.length; c++) expect(s[c]).toBe(keep.includes(c) ? s8[c] : s4[c]);
    }
    // firmware order and stored bytes: int8 channels first, then int4 packed two per byte, then a uint16 order table
    const { order, int4 } = splitChannels(split);
    expect(order.slice(0, keep.length)).toEqual(keep);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, c) => c));
    const per = cls.weights.length / 24;
    expect(weightArrayBytes(split)).toBe(keep.length * per + Math.ceil((int4.length * per) / 2) + 2 * 24);
  });

  it('keeps the classes of largest gain in int8, as many as the budget holds', () => {
    const per = cls.weights.length / 24;
    const budget = weightBytes(all4) + 2 * 24 + 6 * Math.ceil(per / 2) + 3;
    const fits = (m: QModel): boolean => weightBytes(m) <= budget;
    const m = keepClassifierClasses(q, all4, inputs, target, fits);
    const kept = (m.layers[at] as QConv).int8Channels!;
    expect(kept).toHaveLength(6);
    expect(weightBytes(m)).toBeLessThanOrEqual(budget);
    const e = scoreError(m);
    expect(e).toBeLessThan(scoreError(all4));
    // no other set of six classes does better (the error is a sum over classes, so the largest gains are optimal)
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < 12; k++) {
      const other = [...new Set(Array.from({ length: 12 }, () => Math.floor(rand() * 24)))].slice(0, 6);
      if (other.length < 6) continue;
      expect(scoreError(with4(withInt8Channels(all4.layers[at] as QConv, cls, other)))).toBeGreaterThanOrEqual(e - 1e-12);
    }
    // a budget with no room for a class leaves the classifier all int4
    expect((keepClassifierClasses(q, all4, inputs, target, (x) => weightBytes(x) <= weightBytes(all4)).layers[at] as QConv).int8Channels).toBeUndefined();
  });

  it('selectMixed spends what the layer choice leaves on the classifier, until no class fits, and reports it', () => {
    const per = cls.weights.length / 24;
    const everywhere = withInt4Layers(prep.float!, q, q.layers.filter((l) => l.op === 'conv').map((l) => l.name));
    for (const slack of [2 * 24 + 5 * Math.ceil(per / 2), 2 * 24 + 11 * Math.ceil(per / 2) + 17]) {
      const budget = weightBytes(everywhere) + slack;
      const r = selectMixed(prep.float!, q, inputs.slice(0, 3), target, (m) => weightBytes(m) <= budget, 'test', { classInputs: inputs });
      expect(r.bytes).toBeLessThanOrEqual(budget);
      const row = r.layers.find((l) => l.name === cls.name)!;
      expect(row.bits).toBe(4);
      const l = r.model.layers[at] as QConv;
      expect(row.int8Channels ?? 0).toBe(l.int8Channels?.length ?? 0);
      if (l.int8Channels) {
        expect(row.int4Bytes).toBe(weightArrayBytes(l));
        // one more int8 class (per / 2 more bytes) would not fit
        expect(budget - r.bytes).toBeLessThan(per / 2);
      } else {
        // no room for the order table and one class
        expect(budget - r.bytes).toBeLessThan(2 * 24 + Math.floor(per / 2));
      }
    }
  });

  it('counts as stored in the flash estimate (two call sites) and in sqzfw info (both parts and the order table)', () => {
    const split = with4(withInt8Channels(all4.layers[at] as QConv, cls, [1, 2, 20]));
    const plain = planModel(split, { regions: [{ name: 'RAM', capacity: 1 << 20 }], path: 'scalar', strategy: 'plain' });
    // the conv step becomes an s8 and an s4 call; the whole-tensor pool stays one call
    expect(codeSteps(plain.steps, split)).toBe(codeSteps(plain.steps) + 1);
    const tiled = planModel(split, { regions: [{ name: 'RAM', capacity: 24 * 1024 }], path: 'scalar', strategy: 'tiled' });
    const gapacc = tiled.steps.filter((s) => s.op === 'gapacc').length;
    expect(gapacc).toBeGreaterThan(1);
    expect(codeSteps(tiled.steps, split)).toBeGreaterThan(codeSteps(tiled.steps));
    const row = qmodelInfo(split).layers.find((l) => l.name === cls.name)!;
    expect(row.weightBytes).toBe(weightArrayBytes(split.layers[at] as QConv) + 4 * 24);
  });
});
