/** Profile validation, exact placement rules, byte order, shortfall errors, arena mapping, rendered files. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseProfile, loadProfile, listBuiltinProfiles, type AsicProfileInput } from '../src/asic/profile.js';
import { computeAsicMap, arenaRegions, asicShortfalls, paramCost } from '../src/asic/layout.js';
import { renderAsicFiles, MAP_FILE, MAP_SCHEMA_FILE } from '../src/asic/render.js';
import { memoryMapSchema } from '../src/asic/map-schema.js';
import { asicSummary, comparePrecisions, precisionSummaries } from '../src/asic/summary.js';
import { writeFilesAtomic } from '../src/asic/write.js';
import { imageKey } from '../src/asic/types.js';
import { UserError } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import type { MemoryPlan } from '../src/planner/types.js';
import { makeModel } from './asic-fixtures.js';
import { packInt4, quantizeInt4 } from '../src/asic/int4.js';
import type { QConv } from '../src/quantize/types.js';
import { required } from './helpers/require.js';

const base: AsicProfileInput = {
  name: 't',
  memories: [
    { name: 'w', kind: 'rom', wordBits: 32, depth: 64, banks: 2, base: 0x1000, layout: 'linear' },
    { name: 'q', kind: 'rom', wordBits: 32, depth: 64, banks: 1, base: 0x2000 },
    { name: 's', kind: 'sram', wordBits: 64, depth: 64, banks: 2, base: 0x4000 },
  ],
  placement: { weights: { memory: 'w' }, bias: { memory: 'q' }, multiplier: { memory: 'q' }, shift: { memory: 'q', elementBytes: 1 }, arena: { memories: ['s'] } },
};
const withMem = (i: number, patch: object): AsicProfileInput => ({ ...base, memories: base.memories.map((m, k) => (k === i ? { ...m, ...patch } : m)) });

function errorOf(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('asic profile validation', () => {
  it('accepts the built-in profiles', () => {
    const names = listBuiltinProfiles();
    expect(names).toEqual(expect.arrayContaining(['asic-4x32', 'asic-128b', 'fpga-bram', 'tiny']));
    for (const n of names) expect(loadProfile(n).name).toBe(n);
  });

  it.each([
    [withMem(0, { wordBits: 12 }), 'memories[0].wordBits: must be a multiple of 8'],
    [withMem(1, { wordbits: 32 }), 'memories[1]: unknown field "wordbits"'],
    [withMem(2, { kind: 'dram' }), 'memories[2].kind'],
    [withMem(0, { depth: 0 }), 'memories[0].depth'],
    [withMem(0, { base: '0x10zz' }), 'memories[0].base'],
    [withMem(0, { base: 0x1002 }), 'memories[0].base: must be a multiple of the word size (4 B)'],
    [withMem(1, { base: 0x1010 }), 'memories[1].base: q bank 0 overlaps w bank 0'],
    [withMem(0, { bankStride: 16 }), 'memories[0].bankStride: must be at least the bank size (256 B)'],
    [withMem(1, { name: 'W' }), 'memories[1].name: duplicate memory name'],
    [{ ...base, placement: { ...base.placement, bias: { memory: 'nope' } } }, 'placement.bias.memory: no memory named "nope"'],
    [{ ...base, placement: { ...base.placement, arena: { memories: ['q'] } } }, 'placement.arena.memories[0]: "q" is a ROM'],
    [{ ...base, placement: { ...base.placement, shift: { memory: 'q', elementBytes: 2 } } }, 'placement.shift.elementBytes'],
    [{ ...base, byteOrder: 'middle' }, 'byteOrder'],
    [{ ...base, memories: [] }, 'memories: '],
  ])('names the bad field (%#)', (profile, field) => {
    const e = errorOf(() => parseProfile(profile, 'x.json'));
    expect(e.message).toContain('ASIC profile x.json is invalid: ');
    expect(e.message).toContain(field);
    expect(e.hint).toBeTruthy();
  });

  it('reports unreadable, non-JSON and missing profile files as user errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-prof-'));
    try {
      writeFileSync(join(dir, 'bad.json'), '{ "name": ');
      expect(errorOf(() => loadProfile(join(dir, 'bad.json'))).message).toMatch(/is not valid JSON/);
      const e = errorOf(() => loadProfile(join(dir, 'missing.json')));
      expect(e.message).toMatch(/not found/);
      expect(e.hint).toContain('asic-4x32');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('asic layout', () => {
  const model = makeModel(1, [
    { name: 'c1', cout: 3, k: 3 }, // 27 int8 weights per channel
    { name: 'c2', cout: 5, k: 1 }, // 3 per channel
  ]);

  it('linear: CMSIS arrays back to back from word 0, split across banks, aligned', () => {
    const p = parseProfile({ ...withMem(0, { depth: 20 }), placement: { ...base.placement, weights: { memory: 'w', alignWords: 4 } } });
    const map = computeAsicMap(model, p, { precision: 'int8' });
    const [w1, w2] = [map.sections[0]!, map.sections[4]!];
    expect(w1).toMatchObject({ layer: 'c1', kind: 'weights', bytes: 81, words: 21, address: 0x1000, wordOffset: 0 });
    // 21 words in 20-word banks: split into bank 0 (20 words) and bank 1 (1 word), bank 1 at base + 80
    expect(w1.pieces.map((x) => [x.bank, x.wordOffset, x.words, x.bytes, x.streamOffset, x.address])).toEqual([
      [0, 0, 20, 80, 0, 0x1000],
      [1, 0, 1, 1, 80, 0x1050],
    ]);
    // next section aligned to 4 words inside bank 1
    expect(w2.pieces.map((x) => [x.bank, x.wordOffset, x.bytes])).toEqual([[1, 4, 15]]);
    // params in q: bias (12 B) at word 0, multiplier at word 3, shift (3 B) at word 6, c2 bias at word 7
    expect([1, 2, 3, 5].map((i) => map.sections[i]!.wordOffset)).toEqual([0, 3, 6, 7]);
    // images hold the int8 weights verbatim
    const img = map.images.get(imageKey('w', 0))!;
    expect(Array.from(img.subarray(0, 27))).toEqual(Array.from(new Uint8Array((model.layers[0] as { weights: Int8Array }).weights.buffer, 0, 27)));
  });

  it('linear with crossBanks false moves a section that fits one bank to the next bank', () => {
    const p = parseProfile(withMem(0, { depth: 24, crossBanks: false }));
    const map = computeAsicMap(model, p, { precision: 'int8' });
    expect(map.sections[0]!.pieces.map((x) => [x.bank, x.wordOffset])).toEqual([[0, 0]]); // 21 words
    expect(map.sections[4]!.pieces.map((x) => [x.bank, x.wordOffset])).toEqual([[1, 0]]); // 4 words do not fit in 3
    expect(map.memories[0]!.bankUse[0]!.paddingBits).toBe((24 * 4 - 81) * 8);
  });

  it('spread: channel c in bank c % banks at one common word offset, whole-word slots', () => {
    const p = parseProfile({ ...withMem(0, { layout: 'spread', banks: 2 }) });
    const map = computeAsicMap(model, p, { precision: 'int4' });
    const w1 = map.sections[0]!;
    // int4: 27 weights -> 14 bytes -> 4-word (16 B) slots; channels 0,2 in bank 0 and 1 in bank 1
    expect(w1.channelStrideBits).toBe(128);
    expect(w1.pieces.map((x) => [x.bank, x.wordOffset, x.words, x.channelFirst, x.channelStep, x.channelCount])).toEqual([
      [0, 0, 8, 0, 2, 2],
      [1, 0, 4, 1, 2, 1],
    ]);
    const w2 = map.sections[4]!;
    // the next section starts after the fullest bank (8 words) in both banks
    expect(w2.pieces.map((x) => x.wordOffset)).toEqual([8, 8]);
    expect(w2.pieces.map((x) => x.channelCount)).toEqual([3, 2]);
    // channel 2 of c1 sits in bank 0 at word 4 (slot 1), int4 packed low nibble first, padded with zeros
    const ch2 = (quantizeInt4(model).layers[0] as QConv).weights.subarray(54, 81);
    const img = map.images.get(imageKey('w', 0))!;
    expect(img.subarray(16, 32)).toEqual(Uint8Array.from([...packInt4(ch2), 0, 0]));
    expect(map.memories[0]!.bankUse.map((u) => u.usedWords)).toEqual([11, 10]);
  });

  it('big-endian byte order stores int32 elements and words MSB first', () => {
    const p = parseProfile({ ...base, byteOrder: 'big' });
    const map = computeAsicMap(model, p, { precision: 'int8' });
    const files = renderAsicFiles(map);
    const bias0 = (model.layers[0] as { bias: Int32Array }).bias[0]!;
    const line = files['q_b0.memh']!.split('\n')[1]!;
    expect(line).toBe((bias0 >>> 0).toString(16).padStart(8, '0'));
    const little = renderAsicFiles(computeAsicMap(model, parseProfile(base), { precision: 'int8' }));
    // little-endian: the word value is the same int32 (lanes and elements agree)
    expect(little['q_b0.memh']!.split('\n')[1]).toBe(line);
    // but a word of int8 weights reads in the opposite lane order
    const w = Array.from(new Uint8Array((model.layers[0] as { weights: Int8Array }).weights.buffer, 0, 4), (b) => b.toString(16).padStart(2, '0'));
    expect(files['w_b0.memh']!.split('\n')[1]).toBe(w.join(''));
    expect(little['w_b0.memh']!.split('\n')[1]).toBe([...w].reverse().join(''));
  });

  it('fails with the shortfall of each memory in bytes', () => {
    const p = parseProfile({ ...withMem(0, { depth: 8 }), memories: [{ ...base.memories[0]!, depth: 8 }, { ...base.memories[1]!, depth: 4 }, base.memories[2]!] });
    expect(asicShortfalls(model, p, { precision: 'int8' })).toEqual([
      { memory: 'w', needBytes: 100, capacityBytes: 64, shortBytes: 36, holds: ['weights'] },
      { memory: 'q', needBytes: 4 * (3 + 3 + 1 + 5 + 5 + 2), capacityBytes: 16, shortBytes: 4 * 19 - 16, holds: ['bias', 'multiplier', 'shift'] },
    ]);
    const e = errorOf(() => computeAsicMap(model, p, { precision: 'int8' }));
    expect(e.message).toBe(
      'ASIC profile t is too small for rand-1 at int8: w (weights) short by 36 B: needs 100 B, has 64 B; q (bias+multiplier+shift) short by 60 B: needs 76 B, has 16 B',
    );
    expect(e.hint).toMatch(/int4/);
    // int4 halves the weights: w now fits
    expect(asicShortfalls(model, p, { precision: 'int4' }).map((s) => s.memory)).toEqual(['q']);
    // and the comparison reports both without throwing
    expect(comparePrecisions(model, p).map((c) => c.shortfalls.length)).toEqual([2, 1]);
    expect(precisionSummaries(model, p).map((x) => x.summary)).toEqual([null, null]);
    const roomy = parseProfile(base);
    const both = precisionSummaries(model, roomy);
    expect(both.map((x) => x.summary?.precision)).toEqual(['int8', 'int4']);
    expect(both[1]!.summary!.weightsBits * 2).toBeGreaterThanOrEqual(both[0]!.summary!.weightsBits);
    expect(both[1]!.summary!.weightsBits).toBe(both[1]!.cost.weightsBits);
    expect(both[0]!.summary!.banks.map((b) => `${b.memory}${b.bank}`)).toEqual(['w0', 'w1', 'q0', 's0', 's1']);
  });

  it('maps the arena after the parameters of a shared SRAM and counts an arena shortfall', () => {
    const p = parseProfile({
      name: 'shared',
      memories: [{ name: 'm', kind: 'sram', wordBits: 64, depth: 32, banks: 2, base: 0x8000 }],
      placement: { weights: { memory: 'm' }, bias: { memory: 'm' }, multiplier: { memory: 'm' }, shift: { memory: 'm', elementBytes: 4 }, arena: { memories: ['m'] } },
      alignment: { arenaBytes: 64 },
    });
    const cost = paramCost(model, p, 'int8');
    const regions = arenaRegions(model, p, { precision: 'int8' });
    const start = Math.ceil(cost.allocatedBits / 8 / 64) * 64;
    expect(regions).toEqual([{ name: 'm', capacity: 512 - start }]);
    const plan = (used: number): MemoryPlan => ({
      model: model.name,
      strategy: 'test',
      buffers: [
        { name: 'input', kind: 'input', tensor: 'input', size: 40, firstUse: 0, lastUse: 1, region: 'm', offset: 0, alignment: 8 },
        { name: 'x', kind: 'tensor', tensor: 'c1_out', size: used - 40, firstUse: 1, lastUse: 2, region: 'm', offset: 40, alignment: 8 },
      ],
      steps: [],
      regions: [{ name: 'm', used, capacity: regions[0]!.capacity }],
      input: { buffer: 'input', offset: 0 },
      outputs: {},
      peakBytes: used,
      macs: 0,
      baseMacs: 0,
    });
    const map = computeAsicMap(model, p, { precision: 'int8', plan: plan(200) });
    expect(map.arena!.regions).toEqual([{ memory: 'm', offset: start, address: 0x8000 + start, capacity: 512 - start, used: 200 }]);
    const x = map.arena!.buffers[1]!;
    expect(x).toMatchObject({ name: 'x', tensor: 'c1_out', offset: start + 40, address: 0x8000 + start + 40, bank: Math.floor((start + 40) / 256), wordOffset: Math.floor(((start + 40) % 256) / 8) });
    expect(map.memories[0]!.bankUse.reduce((a, u) => a + u.arenaBits, 0)).toBe(200 * 8);
    expect(map.totals.arenaBits).toBe(1600);
    const e = errorOf(() => computeAsicMap(model, p, { precision: 'int8', plan: plan(1000) }));
    expect(e.message).toContain(`m (weights+bias+multiplier+shift+arena) short by ${(start + 1000 - 512).toLocaleString('en-US')} B: needs ${(start + 1000).toLocaleString('en-US')} B, has 512 B`);
  });
});

describe('asic rendered files', () => {
  const model = makeModel(4, [
    { name: 'conv1', cout: 7, k: 3 },
    { name: 'fire2/squeeze1x1', cout: 4, k: 1 },
    { name: 'fire2.squeeze1x1', cout: 4, k: 1 },
  ]);

  it('are deterministic, stamped, and the JSON follows the documented schema', () => {
    const p = loadProfile('asic-4x32');
    const a = renderAsicFiles(computeAsicMap(model, p, { precision: 'int4' }), { comparison: comparePrecisions(model, p) });
    const b = renderAsicFiles(computeAsicMap(model, p, { precision: 'int4' }), { comparison: comparePrecisions(model, p) });
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(a)) {
      expect(a[k], k).toBe(b[k]);
      expect(a[k]!.slice(0, 300), k).toContain(`sqzfw asic ${VERSION}`);
      expect(a[k]!, k).not.toMatch(/20\d\d-\d\d-\d\d|T\d\d:\d\d:\d\d/);
    }
    expect(Object.keys(a).filter((k) => k.endsWith('.memh')).sort()).toEqual(['qrom_b0.memh', 'qrom_b1.memh', 'qrom_b2.memh', 'qrom_b3.memh', 'wrom_b0.memh', 'wrom_b1.memh', 'wrom_b2.memh', 'wrom_b3.memh']);
    const json = memoryMapSchema.parse(JSON.parse(a[MAP_FILE]!));
    expect(json.precision).toBe('int4');
    const schema = JSON.parse(a[MAP_SCHEMA_FILE]!) as { $schema: string; properties: Record<string, unknown> };
    expect(schema.$schema).toMatch(/json-schema/);
    expect(Object.keys(schema.properties)).toContain('sections');
    expect(a['report.md']).toContain('![banks](banks.svg)');
    expect(a['report.md']).toContain('0.66 MB');
    expect(a['banks.svg']).toMatch(/^<svg /);
    const s = asicSummary(computeAsicMap(model, p, { precision: 'int4' }));
    expect(s.banks.length).toBe(12);
    expect(s.contentBits).toBe(s.weightsBits + json.totals.biasBits + json.totals.multiplierBits + json.totals.shiftBits);
  });

  it('the C header compiles and its tables agree with the map', () => {
    const cc = spawnSync('cc', ['--version']);
    if (!required('cc (host C compiler)', !cc.error)) return; // no C compiler on this developer machine
    const p = loadProfile('asic-128b');
    const map = computeAsicMap(model, p, { precision: 'int8' });
    const files = renderAsicFiles(map);
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-c-'));
    try {
      writeFilesAtomic(join(dir, 'out'), files);
      writeFileSync(
        join(dir, 'main.c'),
        [
          '#define SQZ_ASIC_MAP_TABLES',
          '#include "sqzfw_asic_map.h"',
          '#include <stdio.h>',
          '_Static_assert(SQZ_ASIC_L_FIRE2_SQUEEZE1X1_2_INDEX == 2, "dedup");',
          'int main(void) {',
          '  for (unsigned i = 0; i < SQZ_ASIC_NUM_LAYERS; i++) printf("%s %08x\\n", sqz_asic_layers[i].name, (unsigned)sqz_asic_layers[i].checksum);',
          '  printf("%08x %u\\n", (unsigned)SQZ_ASIC_L_CONV1_WEIGHTS_ADDR, (unsigned)SQZ_ASIC_L_CONV1_WEIGHTS_BYTES);',
          '  return 0;',
          '}',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'plain.c'), '#include "sqzfw_asic_map.h"\nint main(void) { return SQZ_ASIC_NUM_LAYERS == 3 ? 0 : 1; }\n');
      for (const src of ['main.c', 'plain.c']) {
        const c = spawnSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-I', 'out', '-o', src.replace('.c', ''), src], { cwd: dir, encoding: 'utf8' });
        expect(c.status, c.stderr).toBe(0);
      }
      const r = spawnSync(join(dir, 'main'), { encoding: 'utf8' });
      const w = map.sections[map.layers[0]!.sections.weights]!;
      expect(r.stdout).toBe(
        `${map.layers.map((l) => `${l.name} ${l.checksum.toString(16).padStart(8, '0')}\n`).join('')}${w.address.toString(16).padStart(8, '0')} ${w.bytes}\n`,
      );
      expect(spawnSync(join(dir, 'plain')).status).toBe(0);
      expect(readFileSync(join(dir, 'out', 'sqzfw_asic_map_pkg.sv'), 'utf8')).toContain(`localparam logic [31:0] L_CONV1_CHECKSUM = 32'h`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
