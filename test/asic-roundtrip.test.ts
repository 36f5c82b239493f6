/**
 * Round trip: for random profiles and models, the init files written for the map, parsed back with only
 * memory_map.json, reconstruct every stored byte and every parameter value exactly.
 */
import { describe, expect, it } from 'vitest';
import { computeAsicMap, asicShortfalls, modelForPrecision, paramLayers, paramCost } from '../src/asic/layout.js';
import { renderAsicFiles, MAP_FILE } from '../src/asic/render.js';
import { memoryMapSchema } from '../src/asic/map-schema.js';
import { parseMemh } from '../src/asic/writers/memh.js';
import { readSection } from '../src/asic/readback.js';
import { fnv1a, FNV_OFFSET } from '../src/asic/checksum.js';
import { imageKey, type Precision } from '../src/asic/types.js';
import { parseProfile, type AsicProfile } from '../src/asic/profile.js';
import type { QModel } from '../src/quantize/types.js';
import { makeModel, randomProfile } from './asic-fixtures.js';

/** Grow depth until the model fits (random profiles start small enough to need it now and then). */
function fitting(model: QModel, profile: AsicProfile, precision: Precision): AsicProfile {
  let p = profile;
  for (let i = 0; i < 12 && asicShortfalls(model, p, { precision }).length > 0; i++)
    p = parseProfile({ ...p, memories: p.memories.map((m) => ({ ...m, depth: m.depth * 2, bankStride: undefined })) });
  return p;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const seen = new Set<string>();

function roundTrip(model: QModel, profile: AsicProfile, precision: Precision): number {
  const map = computeAsicMap(model, profile, { precision });
  seen.add(`${map.byteOrder}-endian`);
  for (const s of map.sections) {
    seen.add(`${s.layout} ${s.kind} ${s.elementBits}`);
    if (s.layout === 'linear' && s.pieces.length > 1) seen.add('linear split across banks');
    if (s.layout === 'spread' && s.pieces.length > 1) seen.add('spread over several banks');
  }
  for (const m of profile.memories) if (m.layout === 'linear' && !m.crossBanks) seen.add('crossBanks false');
  // bit accounting: content + padding = allocated, per bank and in total, and paramCost agrees with the map
  const t = map.totals;
  expect(t.contentBits + t.paddingBits).toBe(t.allocatedBits);
  expect(t.weightsBits + t.biasBits + t.multiplierBits + t.shiftBits).toBe(t.contentBits);
  const banks = map.memories.flatMap((m) => m.bankUse.map((u) => ({ ...u, wordBits: m.wordBits })));
  expect(banks.reduce((a, u) => a + u.contentBits, 0)).toBe(t.contentBits);
  for (const u of banks) expect(u.contentBits + u.paddingBits).toBe(u.usedWords * u.wordBits);
  const cost = paramCost(model, profile, precision);
  expect([cost.contentBits, cost.allocatedBits, cost.paddingBits, cost.weightsBits]).toEqual([t.contentBits, t.allocatedBits, t.paddingBits, t.weightsBits]);
  const files = renderAsicFiles(map);
  const json = memoryMapSchema.parse(JSON.parse(files[MAP_FILE]!));
  // Parse every init file back, using only the JSON.
  const images = new Map<string, Uint8Array>();
  for (const m of json.memories)
    for (const u of m.bankUse) {
      if (!u.initFile) continue;
      const img = parseMemh(files[u.initFile]!, m.wordBits, m.depth, json.byteOrder);
      images.set(imageKey(m.name, u.bank), img);
      // every stored byte, padding and unused words included
      expect(Buffer.compare(img, map.images.get(imageKey(m.name, u.bank))!), `${m.name} bank ${u.bank} bytes`).toBe(0);
      expect(fnv1a(img)).toBe(u.checksum);
    }
  expect(images.size).toBe(map.images.size);
  // Every parameter value.
  const q = modelForPrecision(model, precision);
  const convs = paramLayers(q);
  expect(json.layers.map((l) => l.name)).toEqual(convs.map((c) => c.name));
  let values = 0;
  for (const l of json.layers) {
    const conv = convs[l.index]!;
    let h = FNV_OFFSET;
    for (const kind of ['weights', 'bias', 'multiplier', 'shift'] as const) {
      const s = json.sections[l.sections[kind]]!;
      const r = readSection(json, images, s);
      const want = kind === 'weights' ? conv.weights : kind === 'bias' ? conv.bias : kind === 'multiplier' ? conv.multiplier : conv.shift;
      expect(firstDiff(r.values, want), `${l.name} ${kind}: first differing index`).toBe(-1);
      expect(fnv1a(r.stream)).toBe(s.checksum);
      values += r.values.length;
      for (const p of s.pieces) {
        const wb = json.memories.find((m) => m.name === p.memory)!.wordBytes;
        h = fnv1a(images.get(imageKey(p.memory, p.bank))!, h, p.wordOffset * wb, (p.wordOffset + p.words) * wb);
      }
    }
    expect(h, `layer ${l.name} checksum`).toBe(l.checksum);
  }
  // No two sections overlap.
  const used = new Map<string, Set<number>>();
  for (const s of json.sections)
    for (const p of s.pieces) {
      const key = imageKey(p.memory, p.bank);
      const set = used.get(key) ?? new Set<number>();
      for (let w = p.wordOffset; w < p.wordOffset + p.words; w++) {
        expect(set.has(w), `${key} word ${w} used twice`).toBe(false);
        set.add(w);
      }
      used.set(key, set);
    }
  return values;
}

describe('asic round trip', () => {
  it('reconstructs every stored byte and value for 60 random profiles x models, int8 and int4', () => {
    let total = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const model = makeModel(seed);
      for (const precision of ['int8', 'int4'] as const) {
        const profile = fitting(model, randomProfile(seed, 64), precision);
        total += roundTrip(model, profile, precision);
      }
    }
    expect(total).toBeGreaterThan(10_000);
    for (const f of ['little-endian', 'big-endian', 'linear split across banks', 'spread over several banks', 'crossBanks false', 'linear weights 4', 'spread weights 4', 'linear weights 8', 'spread weights 8', 'spread shift 8', 'linear shift 32'])
      expect(seen.has(f), f).toBe(true);
  });

  it('handles odd int4 channel sizes, 1-channel layers and big-endian 24-bit words', () => {
    const model = makeModel(7, [
      { name: 'a', cout: 1, k: 3 },
      { name: 'b', cout: 5, k: 1 },
      { name: 'c', cout: 3, k: 3 },
    ]);
    for (const layout of ['linear', 'spread'] as const)
      for (const byteOrder of ['little', 'big'] as const) {
        const profile = parseProfile({
          name: 'odd',
          byteOrder,
          memories: [{ name: 'r', kind: 'rom', wordBits: 24, depth: 512, banks: 3, base: 0, layout }],
          placement: { weights: { memory: 'r' }, bias: { memory: 'r' }, multiplier: { memory: 'r' }, shift: { memory: 'r', elementBytes: 1 } },
        });
        roundTrip(model, profile, 'int4');
        roundTrip(model, profile, 'int8');
      }
  });
});
