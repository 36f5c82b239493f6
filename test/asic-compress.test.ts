/**
 * Compressed on-die weights (issue 13): codebooks by exact 1-D k-means, magnitude pruning, zero-run sparse streams,
 * and the map that stores them: every stream decodes (from parsed init files, through the JSON alone) to exactly
 * the int8 weights of the model the golden model and the firmware run.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFilesAtomic } from '../src/asic/write.js';
import { required } from './helpers/require.js';
import { compressModel, decodeWeights, encodeWeights, kmeans1d, layerCodebook, pruneWeights } from '../src/asic/compress.js';
import { computeAsicMap, storedModel } from '../src/asic/layout.js';
import { renderAsicFiles } from '../src/asic/render.js';
import { parseMemh } from '../src/asic/writers/memh.js';
import { memoryMapSchema } from '../src/asic/map-schema.js';
import { readSection } from '../src/asic/readback.js';
import { fnv1a } from '../src/asic/checksum.js';
import { imageKey } from '../src/asic/types.js';
import { loadProfile, parseProfile } from '../src/asic/profile.js';
import { UserError } from '../src/errors.js';
import type { QConv } from '../src/quantize/types.js';
import { makeModel, randInt, rng } from './asic-fixtures.js';

/** Brute force: every split of the sorted values into at most `k` contiguous groups, best integer centre each. */
function bruteCost(values: number[], counts: number[], k: number): number {
  const groupCost = (a: number, b: number): number => {
    let best = Infinity;
    for (let c = -128; c <= 127; c++) {
      let s = 0;
      for (let i = a; i <= b; i++) s += counts[i]! * (values[i]! - c) ** 2;
      best = Math.min(best, s);
    }
    return best;
  };
  const d = values.length;
  let best = Infinity;
  // cuts: a bitmask over the d-1 gaps
  for (let mask = 0; mask < 1 << (d - 1); mask++) {
    let groups = 1;
    for (let g = 0; g < d - 1; g++) if (mask & (1 << g)) groups++;
    if (groups > k) continue;
    let s = 0;
    let a = 0;
    for (let g = 0; g < d - 1; g++)
      if (mask & (1 << g)) {
        s += groupCost(a, g);
        a = g + 1;
      }
    s += groupCost(a, d - 1);
    best = Math.min(best, s);
  }
  return best;
}

const costOf = (values: number[], counts: number[], r: { centres: number[]; assign: number[] }): number =>
  values.reduce((s, v, i) => s + counts[i]! * (v - r.centres[r.assign[i]!]!) ** 2, 0);

/** Random int8 weights with a given share of zeros and occasional long zero runs. */
function randomWeights(r: () => number, n: number, zeroShare: number, amp = 127): Int8Array {
  const w = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    if (r() < 0.02) {
      const run = randInt(r, 1, 600);
      i += run - 1; // a long zero run
      continue;
    }
    w[i] = r() < zeroShare ? 0 : randInt(r, -amp, amp);
  }
  return w;
}

describe('codebooks, pruning and zero-run streams', () => {
  it('1-D k-means by DP is optimal over contiguous clusters with integer centres (brute force, 300 cases)', () => {
    const r = rng(7);
    for (let t = 0; t < 300; t++) {
      const d = randInt(r, 1, 9);
      const set = new Set<number>();
      while (set.size < d) set.add(randInt(r, -127, 127));
      const values = [...set].sort((a, b) => a - b);
      const counts = values.map(() => randInt(r, 1, 50));
      const k = randInt(r, 1, 4);
      const res = kmeans1d(values, counts, k);
      expect(res.centres.length).toBe(Math.min(k, d));
      expect(res.assign.every((a, i) => i === 0 || a >= res.assign[i - 1]!)).toBe(true);
      expect(costOf(values, counts, res)).toBe(bruteCost(values, counts, k));
    }
  });

  it('a layer codebook has 2^k int8 entries; with reserveZero, entry 0 is 0 and only zeros map to it', () => {
    const r = rng(8);
    for (let t = 0; t < 24; t++) {
      const bits = randInt(r, 4, 8);
      const w = randomWeights(r, randInt(r, 1, 3000), r());
      for (const reserveZero of [false, true]) {
        const { codebook, index } = layerCodebook(w, bits, reserveZero);
        expect(codebook).toHaveLength(1 << bits);
        expect(codebook.every((v) => Number.isInteger(v) && v >= -128 && v <= 127)).toBe(true);
        expect(index.every((i) => i < 1 << bits)).toBe(true);
        const distinct = new Set(w);
        // no more distinct values than entries: kept exactly
        if (distinct.size <= (1 << bits) - (reserveZero ? 1 : 0)) for (let i = 0; i < w.length; i++) expect(codebook[index[i]!]).toBe(w[i]);
        if (reserveZero) {
          expect(codebook[0]).toBe(0);
          for (let i = 0; i < w.length; i++) expect(index[i] === 0).toBe(w[i] === 0);
        }
      }
    }
  });

  it('pruning zeroes exactly floor(p * n) weights (or keeps the zeros there were), the smallest |q * scale| first', () => {
    const model = makeModel(21, [
      { name: 'a', cout: 7, k: 3 },
      { name: 'b', cout: 5, k: 1 },
    ]);
    for (const l of model.layers.filter((x): x is QConv => x.op === 'conv')) {
      for (const p of [0, 0.1, 0.5, 0.9]) {
        const out = pruneWeights(l, p);
        const zeros = out.filter((v) => v === 0).length;
        const before = l.weights.filter((v) => v === 0).length;
        // zeros have magnitude 0 and go first: the count is exact
        expect(zeros).toBe(Math.max(before, Math.floor(p * l.weights.length)));
        const per = l.weights.length / l.bias.length;
        const mag = (i: number): number => Math.abs(l.weights[i]!) * l.weightScales[Math.floor(i / per)]!;
        let maxPruned = 0;
        let minKept = Infinity;
        for (let i = 0; i < out.length; i++) {
          if (out[i] === 0 && l.weights[i] !== 0) maxPruned = Math.max(maxPruned, mag(i));
          if (out[i] !== 0) {
            minKept = Math.min(minKept, mag(i));
            expect(out[i]).toBe(l.weights[i]);
          }
        }
        expect(maxPruned).toBeLessThanOrEqual(minKept);
      }
    }
  });

  it('streams decode to the weights: dense / sparse, int8 / int4 / codebook, long runs, trailing zeros, 300 cases', () => {
    const r = rng(9);
    for (let t = 0; t < 300; t++) {
      const n = randInt(r, 1, 2500);
      const mode = t % 5;
      const int4 = mode === 4;
      let w = randomWeights(r, n, r(), int4 ? 7 : 127);
      if (t % 7 === 0) w = new Int8Array(n); // all zero
      const bits = randInt(r, 4, 8);
      const sparse = mode === 1 || mode === 3;
      const cb = mode >= 2 && mode <= 3 ? layerCodebook(w, bits, sparse) : undefined;
      const want = cb ? Int8Array.from(cb.index, (i) => cb.codebook[i]!) : w;
      const enc = encodeWeights(want, { codebook: cb, sparse, int4 });
      const d = enc.decoder;
      expect(decodeWeights(enc.stream, d)).toEqual(want);
      expect(d.payloadBits).toBe(d.entries * (d.runBits + d.valueBits));
      expect(enc.stream.length).toBe(d.payloadOffset + Math.ceil(d.payloadBits / 8));
      if (!sparse) expect(d.entries).toBe(n);
      else {
        expect(d.runBits).toBeLessThanOrEqual(8);
        // the shortest of R = 0..8: never longer than the dense stream, and R = 0 is exactly the dense stream
        const dense = encodeWeights(want, { codebook: cb, int4 });
        expect(d.payloadBits).toBeLessThanOrEqual(dense.decoder.payloadBits);
        if (d.runBits === 0) expect(enc.stream).toEqual(dense.stream);
        else expect(d.entries).toBeLessThan(n);
      }
      if (cb) expect(enc.stream.subarray(0, d.codebookEntries)).toEqual(Uint8Array.from(cb.codebook, (v) => v & 0xff));
    }
  });

  it('a damaged stream is an error, not silently different weights', () => {
    const w = Int8Array.from([0, 0, 0, 5, 0, 0, -3, 0]);
    const enc = encodeWeights(w, { sparse: true });
    expect(() => decodeWeights(enc.stream.subarray(0, 1), enc.decoder)).toThrow(/ends at byte|runs past|fewer than/);
    expect(() => decodeWeights(enc.stream, { ...enc.decoder, entries: 1 })).toThrow(/fewer than/);
  });

  it('compressModel: weights are the decoded values, at most 2^k distinct per layer; bias / multipliers / shifts unchanged', () => {
    const model = makeModel(22, [
      { name: 'conv1', cout: 16, k: 3 },
      { name: 'fire2/squeeze1x1', cout: 8, k: 1 },
      { name: 'conv10', cout: 10, k: 1 },
    ]);
    const { model: c, layers } = compressModel(model, { codebookBits: 4, sparse: true, prune: 0.4 });
    model.layers.forEach((l, i) => {
      if (l.op !== 'conv') return;
      const cl = c.layers[i] as QConv;
      expect(new Set(cl.weights).size).toBeLessThanOrEqual(16);
      expect(cl.weights.filter((v) => v === 0).length).toBeGreaterThanOrEqual(Math.floor(0.4 * cl.weights.length));
      expect(cl.bias).toBe(l.bias);
      expect(cl.multiplier).toBe(l.multiplier);
      const info = layers.get(l.name)!;
      for (let j = 0; j < cl.weights.length; j++) expect(info.codebook!.codebook[info.codebook!.index[j]!]).toBe(cl.weights[j]);
    });
  });
});

describe('compressed ASIC maps', () => {
  const model = makeModel(23, [
    { name: 'conv1', cout: 24, k: 3 },
    { name: 'fire2/squeeze1x1', cout: 9, k: 1 },
    { name: 'fire2/expand3x3', cout: 17, k: 3 },
    { name: 'conv10', cout: 10, k: 1 },
  ]);
  const profiles = [
    loadProfile('asic-compressed'),
    parseProfile({
      name: 'be24',
      byteOrder: 'big',
      memories: [
        { name: 'w', kind: 'rom', wordBits: 24, depth: 400, banks: 3, base: 0x3000, bankStride: 0x4b0, layout: 'linear' },
        { name: 'q', kind: 'rom', wordBits: 64, depth: 64, banks: 2, base: 0x9000, layout: 'spread' },
      ],
      placement: { weights: { memory: 'w', alignWords: 2 }, bias: { memory: 'q' }, multiplier: { memory: 'q' }, shift: { memory: 'w', elementBytes: 1 } },
    }),
  ];
  const variants = [{ codebookBits: 8 }, { codebookBits: 5, sparse: true }, { sparse: true, prune: 0.7 }, { codebookBits: 4, sparse: true, prune: 0.5 }, { prune: 0.3 }];

  it('every weights stream read back from the parsed init files decodes to the stored model the firmware runs', () => {
    for (const profile of profiles)
      for (const compress of variants) {
        const map = computeAsicMap(model, profile, { precision: 'int8', compress });
        const files = renderAsicFiles(map);
        const json = memoryMapSchema.parse(JSON.parse(files['memory_map.json']!));
        expect(json.schema).toBe('sqzfw-asic-memory-map/2');
        expect(json.compression).toMatchObject({ codebookBits: compress.codebookBits ?? null, sparse: !!compress.sparse, prune: compress.prune ?? 0 });
        const images = new Map<string, Uint8Array>();
        for (const m of json.memories) for (const u of m.bankUse) if (u.initFile) images.set(imageKey(m.name, u.bank), parseMemh(files[u.initFile]!, m.wordBits, m.depth, json.byteOrder));
        const stored = storedModel(model, 'int8', compress).model.layers.filter((l): l is QConv => l.op === 'conv');
        json.layers.forEach((l, i) => {
          const s = json.sections[l.sections.weights]!;
          const rb = readSection(json, images, s);
          const want = stored[i]!.weights;
          expect(Int8Array.from(rb.values)).toEqual(want);
          expect(s.decoder!.decodedChecksum).toBe(fnv1a(new Uint8Array(want.buffer, want.byteOffset, want.length)));
          expect(fnv1a(rb.stream)).toBe(s.checksum);
          expect(s.contentBits).toBe(s.decoder!.payloadOffset * 8 + s.decoder!.payloadBits);
          for (const k of ['bias', 'multiplier', 'shift'] as const) {
            const q = readSection(json, images, json.sections[l.sections[k]]!);
            expect(Array.from(q.values)).toEqual(Array.from(stored[i]![k]));
          }
        });
        if (compress.codebookBits !== undefined) {
          expect(files['sqzfw_asic_map.h']).toContain(`SQZ_ASIC_CODEBOOK_BITS ${compress.codebookBits}u`);
          expect(files['sqzfw_asic_map_pkg.sv']).toContain('function automatic logic [7:0] codebook_value');
          expect(files['report.md']).toContain('## Compressed weights');
        }
      }
  });

  it('the sparse codebook map is smaller than plain int8 by what the zeros and k bits save', () => {
    const p = loadProfile('asic-compressed');
    const plain = computeAsicMap(model, p, { precision: 'int8' }).totals.weightsBits;
    const k4 = computeAsicMap(model, p, { precision: 'int8', compress: { codebookBits: 4, sparse: true, prune: 0.5 } });
    expect(k4.totals.weightsBits).toBeLessThan(plain / 2);
    expect(k4.compression!.zeros).toBeGreaterThanOrEqual(k4.compression!.weights * 0.5 - 4);
    expect(k4.compression!.denseInt8Bits).toBe(plain);
  });

  it('refuses codebooks in a spread weights memory and with int4 weights, naming why', () => {
    const e1 = (() => {
      try {
        computeAsicMap(model, loadProfile('asic-4x32'), { precision: 'int8', compress: { codebookBits: 6 } });
      } catch (e) {
        return e;
      }
    })();
    expect(e1).toBeInstanceOf(UserError);
    expect((e1 as UserError).message).toMatch(/linear weights memory: wrom of ASIC profile asic-4x32 is spread/);
    expect(() => computeAsicMap(model, loadProfile('asic-compressed'), { precision: 'int4', compress: { codebookBits: 6 } })).toThrow(/apply to int8 weights/);
    expect(() => computeAsicMap(model, loadProfile('asic-compressed'), { precision: 'int8', compress: { codebookBits: 9 } })).toThrow(/--codebook-bits 9/);
  });

  it('the C header\'s decoder tables compile warning-free and agree with the map', () => {
    const cc = spawnSync('cc', ['--version']);
    if (!required('cc (host C compiler)', !cc.error)) return; // no C compiler on this developer machine
    const map = computeAsicMap(model, loadProfile('asic-compressed'), { precision: 'int8', compress: { codebookBits: 5, sparse: true, prune: 0.3 } });
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-cdec-'));
    try {
      writeFilesAtomic(join(dir, 'out'), renderAsicFiles(map));
      writeFileSync(
        join(dir, 'main.c'),
        [
          '#define SQZ_ASIC_MAP_TABLES',
          '#include "sqzfw_asic_map.h"',
          '#include <stdio.h>',
          '_Static_assert(SQZ_ASIC_CODEBOOK_BITS == 5 && SQZ_ASIC_SPARSE == 1, "flags");',
          '_Static_assert(SQZ_ASIC_L_CONV1_WEIGHTS_CODEBOOK_ENTRIES == 32, "entries");',
          'int main(void) {',
          '  for (unsigned i = 0; i < SQZ_ASIC_NUM_LAYERS; i++) {',
          '    const sqz_asic_decoder_t *d = &sqz_asic_decoders[i];',
          '    long sum = 0;',
          '    for (unsigned j = 0; j < d->codebook_entries; j++) sum += d->codebook[j];',
          '    printf("%u %u %u %u %u %08x %ld\\n", d->run_bits, d->value_bits, (unsigned)d->codebook_entries, (unsigned)d->entries, (unsigned)d->elements, (unsigned)d->decoded_fnv, sum);',
          '  }',
          '  return 0;',
          '}',
          '',
        ].join('\n'),
      );
      const c = spawnSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-I', 'out', '-o', 'main', 'main.c'], { cwd: dir, encoding: 'utf8' });
      expect(c.status, c.stderr).toBe(0);
      const r = spawnSync(join(dir, 'main'), { encoding: 'utf8' });
      const want = map.layers.map((l) => {
        const d = map.sections[l.sections.weights]!.decoder!;
        return `${d.runBits} ${d.valueBits} ${d.codebookEntries} ${d.entries} ${d.elements} ${d.decodedChecksum.toString(16).padStart(8, '0')} ${d.codebook.reduce((a, v) => a + v, 0)}\n`;
      });
      expect(r.stdout).toBe(want.join(''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compressed maps are deterministic', () => {
    const p = loadProfile('asic-compressed');
    const a = renderAsicFiles(computeAsicMap(model, p, { precision: 'int8', compress: { codebookBits: 6, sparse: true, prune: 0.2 } }));
    const b = renderAsicFiles(computeAsicMap(model, p, { precision: 'int8', compress: { codebookBits: 6, sparse: true, prune: 0.2 } }));
    expect(a).toEqual(b);
  });
});
