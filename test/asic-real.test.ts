/**
 * `sqzfw asic --model file.onnx` (issue 13) on the real ImageNet SqueezeNet v1.0 of ../shared, through the real
 * command line: generate's model options (--ranges from sqzfw calibrate), per-layer 6-bit codebooks with zero-run sparse
 * streams, Icarus Verilog decoding every layer's weights in the testbench, and the map decoding to exactly the
 * int8 weights of the model generate would build from the same options, clustered.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryMapSchema } from '../src/asic/map-schema.js';
import { storedModel } from '../src/asic/layout.js';
import { fnv1a } from '../src/asic/checksum.js';
import { SEED_FIGURES } from '../src/asic/summary.js';
import { haveIverilog } from '../src/asic/sim.js';
import { prepareImageModel } from '../src/prepare/image-model.js';
import type { QConv } from '../src/quantize/types.js';
import { required } from './helpers/require.js';

const root = new URL('..', import.meta.url).pathname;
const SHARED = resolve(root, '../shared');
const ONNX = join(SHARED, 'models/squeezenet1.0-imagenet.onnx');
const DEV = join(SHARED, 'images/dev');
const have = required(`the real model ${ONNX}`, existsSync(ONNX)) && required('iverilog', haveIverilog());
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const work = mkdtempSync(join(tmpdir(), 'sqzfw-asic-real-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The CLI in a child process, asynchronously: a minutes-long spawnSync would starve vitest's worker RPC. */
function sqzfw(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const c = spawn(process.execPath, ['--import', tsx, join(root, 'src', 'main.ts'), ...args], { cwd: work, timeout: 900_000 });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', fail);
    c.on('close', (code) => done({ code, out, err }));
  });
}

/** A calibration of 2 dev images, made once, in a child process (float passes would block this worker for minutes). */
let ranges: Promise<string> | undefined;
function rangesFile(): Promise<string> {
  ranges ??= (async () => {
    const file = join(work, 'ranges.json');
    const c = await sqzfw(['calibrate', '--model', ONNX, '--images', DEV, '--calib-count', '2', '--out', file]);
    expect(c.code, c.err).toBe(0);
    return file;
  })();
  return ranges;
}

describe.skipIf(!have)('sqzfw asic on the real SqueezeNet v1.0 (../shared)', () => {
  it('--model file.onnx --ranges F --codebook-bits 6 --sparse --simulate: 26 layers decoded bit-exact in Icarus; 6-bit weights at the seed\'s 0.47 MB', async () => {
    const out = join(work, 'k6');
    const ranges = await rangesFile();
    const r = await sqzfw(['asic', '--profile', 'asic-compressed', '--model', ONNX, '--ranges', ranges, '--codebook-bits', '6', '--sparse', '--out', out, '--simulate']);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toMatch(/iverilog: 26 layer checksums match; 26 layers decoded bit-exact with the int8 weights/);
    const map = memoryMapSchema.parse(JSON.parse(readFileSync(join(out, 'memory_map.json'), 'utf8')));
    expect(map.model).toBe('squeezenet1.0-imagenet');
    expect(map.compression).toMatchObject({ codebookBits: 6, sparse: true, weights: 1244448 });
    // The same options through generate's preparation, then the same clustering: the weights the map decodes to.
    const p = prepareImageModel({ model: ONNX, ranges });
    const convs = storedModel(p.model, 'int8', { codebookBits: 6, sparse: true }).model.layers.filter((l): l is QConv => l.op === 'conv');
    expect(convs).toHaveLength(26);
    map.layers.forEach((l, i) => {
      const s = map.sections[l.sections.weights]!;
      const w = convs[i]!.weights;
      expect(s.decoder!.decodedChecksum).toBe(fnv1a(new Uint8Array(w.buffer, w.byteOffset, w.length)));
      expect(s.decoder!.codebookEntries).toBe(64);
      expect(new Set(w).size).toBeLessThanOrEqual(64);
    });
    // Deep Compression's model: two thirds of the weights are zero; the sparse 6-bit streams (codebooks included)
    // come within 2% of the seed's 0.47 MB and far below plain int8.
    const seed6 = SEED_FIGURES.find((f) => f.what.endsWith('6-bit'))!.mb * 1e6;
    const weightsBytes = map.totals.weightsBits / 8;
    expect(map.compression!.zeros / map.compression!.weights).toBeGreaterThan(0.6);
    expect(weightsBytes).toBeLessThan(seed6 * 1.02);
    expect(weightsBytes).toBeLessThan(map.compression!.denseInt8Bits / 8 / 2.5);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('SqueezeNet + Deep Compression, 6-bit (seed) | 0.47 MB');
  }, 900_000);

  it('--accuracy DIR: float, int8 and the compressed model scored on the same held-out folds', async () => {
    const r = await sqzfw(['asic', '--profile', 'asic-compressed', '--model', ONNX, '--ranges', await rangesFile(), '--codebook-bits', '4', '--sparse', '--no-arena', '--out', join(work, 'acc'), '--accuracy', DEV, '--accuracy-limit', '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^accuracy on 2 images \(2-fold held out/m);
    const row = (name: string): number[] => {
      const m = new RegExp(`^  ${name.replace(/[=,]/g, (c) => `\\${c}`)} +top-1 +([\\d.]+)% +top-5 +([\\d.]+)% +top-1 flips vs float +(\\d+), vs int8 +(\\d+)$`, 'm').exec(r.out);
      expect(m, `${name} in\n${r.out}`).not.toBeNull();
      return m!.slice(1).map(Number);
    };
    const f = row('float');
    const q = row('int8');
    const c = row('codebook k=4, sparse');
    expect(f[2]).toBe(0); // float against itself
    expect(q[3]).toBe(0); // int8 against itself
    for (const x of [f, q, c]) for (const pct of x.slice(0, 2)) expect([0, 50, 100]).toContain(pct);
    expect(c[3]).toBeLessThanOrEqual(2);
  }, 900_000);

  it('usage errors: a bad --codebook-bits, --accuracy without compression, codebooks in a spread profile', async () => {
    let r = await sqzfw(['asic', '--profile', 'asic-compressed', '--model', 'v1.1', '--codebook-bits', '9']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--codebook-bits must be an integer from 4 to 8/);
    r = await sqzfw(['asic', '--profile', 'asic-compressed', '--model', ONNX, '--accuracy', DEV]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: --accuracy measures the cost of compressed weights/m);
    r = await sqzfw(['asic', '--profile', 'asic-4x32', '--variant', 'v1.1', '--input-size', '32', '--classes', '10', '--codebook-bits', '6', '--out', join(work, 'spread')]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^error: codebook and sparse weights need a linear weights memory: wrom of ASIC profile asic-4x32 is spread/m);
    expect(r.err).toMatch(/^hint: /m);
  }, 300_000);
});
