/**
 * A real HDL simulator loads the init files: Icarus Verilog reads every init file into a ROM model with
 * $readmemh, the generated testbench reads every layer back through the SV package's addresses and prints per-layer
 * FNV-1a checksums, which must equal the TypeScript ones. Runs in CI (scripts/setup.sh installs iverilog).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeAsicMap } from '../src/asic/layout.js';
import { renderAsicFiles } from '../src/asic/render.js';
import { writeFilesAtomic } from '../src/asic/write.js';
import { haveIverilog, haveVerilator, runTestbench, type Simulator } from '../src/asic/sim.js';
import { loadProfile, parseProfile, type AsicProfile } from '../src/asic/profile.js';
import type { Precision } from '../src/asic/types.js';
import { makeModel } from './asic-fixtures.js';
import { buildQuantizedModel } from '../src/prepare/index.js';
import { runAsic } from '../src/asic/cli.js';
import { required } from './helpers/require.js';

const hasSim = haveIverilog();
required('iverilog', hasSim);

function simulate(profile: AsicProfile, precision: Precision, seed: number, banks = false, simulator: Simulator = 'iverilog'): void {
  const model = makeModel(seed, [
    { name: 'conv1', cout: 13, k: 3 },
    { name: 'fire2/squeeze1x1', cout: 6, k: 1 },
    { name: 'fire2/expand3x3', cout: 9, k: 3 },
    { name: 'conv10', cout: 11, k: 1 },
  ]);
  const map = computeAsicMap(model, profile, { precision });
  const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-hdl-'));
  try {
    const out = join(dir, 'out');
    writeFilesAtomic(out, renderAsicFiles(map));
    const r = runTestbench(out, { banks, simulator });
    expect(r.stdout).not.toMatch(/MISMATCH|ERROR|WARNING/);
    expect(r.passed, r.stdout).toBe(true);
    expect(r.layers).toEqual(map.layers.map((l) => ({ index: l.index, name: l.name, checksum: l.checksum })));
    if (banks) {
      const want = map.memories.flatMap((m) => m.bankUse.filter((u) => u.initFile).map((u) => ({ memory: m.name, bank: u.bank, checksum: u.checksum })));
      expect(r.banks).toEqual(want);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function be24(): AsicProfile {
  return parseProfile({
    name: 'be24',
    byteOrder: 'big',
    memories: [
      { name: 'w', kind: 'rom', wordBits: 24, depth: 80, banks: 3, base: 0x3000, bankStride: 0x102, layout: 'linear' },
      { name: 'q', kind: 'rom', wordBits: 64, depth: 32, banks: 2, base: 0x9000, layout: 'spread' },
    ],
    placement: { weights: { memory: 'w', alignWords: 2 }, bias: { memory: 'q' }, multiplier: { memory: 'q' }, shift: { memory: 'w', elementBytes: 1 } },
  });
}

describe.skipIf(!hasSim)('asic init files in Icarus Verilog', () => {
  it('asic-4x32 (spread 32-bit ROM banks), int8 and int4', () => {
    const p = loadProfile('asic-4x32');
    simulate(p, 'int8', 11);
    simulate(p, 'int4', 12);
  });

  it('asic-128b (128-bit words), int4', () => {
    simulate(loadProfile('asic-128b'), 'int4', 13);
  });

  it('SqueezeNet v1.1 (1000 classes), int4 in asic-4x32 with its arena: all 26 layers read back', () => {
    const model = buildQuantizedModel({ variant: 'v1.1', inputSize: 64, classes: 1000, seed: 1 });
    const { map, files } = runAsic(model, loadProfile('asic-4x32'), { precision: 'int4' });
    expect(map.layers).toHaveLength(26);
    expect(map.arena).not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-sqz-'));
    try {
      writeFilesAtomic(dir, files);
      const r = runTestbench(dir);
      expect(r.passed, r.stdout).toBe(true);
      expect(r.layers).toEqual(map.layers.map((l) => ({ index: l.index, name: l.name, checksum: l.checksum })));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a flipped bit in one init file shows up as a mismatch of that layer only', () => {
    const model = makeModel(15, [
      { name: 'a', cout: 4, k: 1 },
      { name: 'b', cout: 4, k: 1 },
    ]);
    const p = parseProfile({
      name: 'flip',
      memories: [{ name: 'r', kind: 'rom', wordBits: 32, depth: 64, banks: 1, base: 0 }],
      placement: { weights: { memory: 'r' }, bias: { memory: 'r' }, multiplier: { memory: 'r' }, shift: { memory: 'r', elementBytes: 1 } },
    });
    const map = computeAsicMap(model, p, { precision: 'int8' });
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-flip-'));
    try {
      writeFilesAtomic(dir, renderAsicFiles(map));
      const f = join(dir, 'r_b0.memh');
      const lines = readFileSync(f, 'utf8').split('\n');
      const word = map.sections[map.layers[1]!.sections.weights]!.wordOffset;
      lines[word + 1] = (parseInt(lines[word + 1]!, 16) ^ 0x100).toString(16).padStart(8, '0');
      writeFileSync(f, lines.join('\n'));
      const r = runTestbench(dir);
      expect(r.passed).toBe(false);
      expect(r.stdout).toMatch(/MISMATCH layer 1 b/);
      expect(r.layers[0]!.checksum).toBe(map.layers[0]!.checksum);
      expect(r.layers[1]!.checksum).not.toBe(map.layers[1]!.checksum);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('big-endian 24-bit linear banks split mid-section, whole-bank checksums too', () => {
    simulate(be24(), 'int4', 14, true);
  });
});

describe.skipIf(!hasSim)('compressed weights through the testbench decoder in Icarus Verilog', () => {
  const model = makeModel(31, [
    { name: 'conv1', cout: 14, k: 3 },
    { name: 'fire2/squeeze1x1', cout: 7, k: 1 },
    { name: 'fire2/expand3x3', cout: 11, k: 3 },
    { name: 'conv10', cout: 9, k: 1 },
  ]);
  const small = (byteOrder: 'little' | 'big', wordBits: number, depth = 256): AsicProfile =>
    parseProfile({
      name: `lin${wordBits}${byteOrder[0]}`,
      byteOrder,
      memories: [
        { name: 'w', kind: 'rom', wordBits, depth, banks: 3, base: 0x1800, bankStride: (wordBits / 8) * depth, layout: 'linear' },
        { name: 'q', kind: 'rom', wordBits: 32, depth: 128, banks: 1, base: 0x9000, layout: 'linear' },
      ],
      placement: { weights: { memory: 'w', alignWords: 2 }, bias: { memory: 'q' }, multiplier: { memory: 'q' }, shift: { memory: 'q', elementBytes: 1 } },
    });

  function run(profile: AsicProfile, compress: Parameters<typeof computeAsicMap>[2] extends infer O ? (O extends { compress?: infer C } ? C : never) : never, damage?: (dir: string, map: ReturnType<typeof computeAsicMap>) => void) {
    const map = computeAsicMap(model, profile, { precision: 'int8', compress });
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-dec-'));
    try {
      writeFilesAtomic(dir, renderAsicFiles(map));
      damage?.(dir, map);
      return { map, r: runTestbench(dir) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('codebooks (k = 4..8), sparse streams, pruning; little- and big-endian 24/32/64-bit words split across banks: every layer decodes to the stored int8 weights', () => {
    const cases = [
      { p: small('little', 32), c: { codebookBits: 8 } },
      { p: small('big', 24), c: { codebookBits: 5, sparse: true, prune: 0.5 } },
      { p: small('little', 64), c: { sparse: true, prune: 0.8 } },
      { p: small('big', 32), c: { codebookBits: 4, sparse: true, prune: 0.3 } },
      { p: small('little', 24), c: { codebookBits: 7 } },
    ];
    for (const { p: big, c } of cases) {
      // Banks just over a third of what the weights need: streams split across banks.
      const need = computeAsicMap(model, big, { precision: 'int8', compress: c }).memories[0]!.bankUse.reduce((a, u) => a + u.usedWords, 0);
      const m = big.memories[0]!;
      const p = small(big.byteOrder, m.wordBits, Math.ceil(need / 2.5));
      const { map, r } = run(p, c);
      expect(r.passed, r.stdout).toBe(true);
      expect(map.sections.some((s) => s.kind === 'weights' && s.pieces.length > 1)).toBe(true);
      expect(r.layers).toEqual(map.layers.map((l) => ({ index: l.index, name: l.name, checksum: l.checksum })));
      expect(r.decoded).toEqual(map.layers.map((l) => ({ index: l.index, name: l.name, checksum: map.sections[l.sections.weights]!.decoder!.decodedChecksum })));
    }
  });

  it('plain int8 and int4 in linear memories decode too (R = 0, V = 8 or 4)', () => {
    for (const precision of ['int8', 'int4'] as const) {
      const map = computeAsicMap(model, small('little', 32), { precision });
      const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-dec-'));
      try {
        writeFilesAtomic(dir, renderAsicFiles(map));
        const r = runTestbench(dir);
        expect(r.passed, r.stdout).toBe(true);
        expect(r.decoded.map((d) => d.checksum)).toEqual(map.layers.map((l) => map.sections[l.sections.weights]!.decoder!.decodedChecksum));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('a flipped bit in one layer\'s sparse stream: that layer decodes to other weights and the testbench says so', () => {
    const { map, r } = run(small('little', 32), { codebookBits: 5, sparse: true, prune: 0.5 }, (dir, m) => {
      const s = m.sections[m.layers[2]!.sections.weights]!;
      const f = join(dir, 'w_b0.memh');
      const lines = readFileSync(f, 'utf8').split('\n');
      const at = s.pieces[0]!.wordOffset + 1 + 16; // past the header line and the 32-byte codebook
      lines[at] = (parseInt(lines[at]!, 16) ^ 0x10).toString(16).padStart(8, '0');
      writeFileSync(f, lines.join('\n'));
    });
    expect(map.sections[map.layers[2]!.sections.weights]!.decoder!.runBits).toBeGreaterThan(0);
    expect(r.passed).toBe(false);
    expect(r.stdout).toMatch(/MISMATCH layer 2 fire2\/expand3x3/);
    expect(r.decoded[2]!.checksum).not.toBe(map.sections[map.layers[2]!.sections.weights]!.decoder!.decodedChecksum);
    expect(r.decoded[1]!.checksum).toBe(map.sections[map.layers[1]!.sections.weights]!.decoder!.decodedChecksum);
  });
});

// Optional: Verilator 5 is not installed by scripts/setup.sh; this runs where it is present.
describe.skipIf(!haveVerilator())('asic init files in Verilator', () => {
  it('the same testbench passes in Verilator (big-endian, 24-bit, whole banks)', () => {
    simulate(be24(), 'int4', 16, true, 'verilator');
  });
});
