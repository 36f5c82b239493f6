/**
 * Fuzzed .tflite files: byte flips, truncations, hostile offsets and vector sizes written over real exported
 * models. Each of thousands of cases is either a clear UserError or a model that imports (and then runs in the
 * golden model); no other exception, no hang (every case is timed: 2 s at most), no case left holding more than
 * 64 MiB of typed arrays, the worker under 1.5 GiB resident.
 */
import { describe, expect, test } from 'vitest';
import { UserError } from '../src/errors.js';
import { runGolden } from '../src/golden/run.js';
import { quantizeFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { exportTflite, importTflite } from '../src/tflite/index.js';
import { mulberry32, randInt } from '../src/util/random.js';
import { syntheticModel } from '../src/weights/synthetic.js';
import { randomGraph } from './helpers/random-graph.js';
import { settle } from './helpers/settle.js';

/** Caps that fail the test: per case, typed-array bytes allocated; for the worker, peak resident set. */
const CASE_ALLOC_MIB = 64;
const RSS_MIB = 1536;

const HOSTILE = [0, 1, 3, 4, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffc, 0x10000, 0x00ffffff];

function seeds(): Uint8Array[] {
  const rnd = mulberry32(4242);
  const out: Uint8Array[] = [];
  while (out.length < 6) {
    const g = randomGraph(rnd, `f${out.length}`);
    const fm = syntheticModel(g, out.length + 1);
    const q = quantizeFloatModel(fm, syntheticInputs(fm, 1, 5));
    try {
      out.push(exportTflite(q, out.length % 2 ? { input: 'uint8', output: 'float32' } : {}));
    } catch (e) {
      if (!(e instanceof UserError)) throw e; // pads TFLite cannot express: try the next graph
    }
  }
  return out;
}

function mutate(rnd: () => number, src: Uint8Array, kind: number): Uint8Array {
  const b = new Uint8Array(src);
  const dv = new DataView(b.buffer);
  switch (kind) {
    case 0: // byte flips
      for (let i = randInt(rnd, 1, 8); i > 0; i--) b[randInt(rnd, 0, b.length - 1)] = randInt(rnd, 0, 255);
      return b;
    case 1: // truncation
      return b.slice(0, randInt(rnd, 0, b.length - 1));
    case 2: { // hostile 32-bit value at an aligned position: offsets, vector lengths, vtable entries
      const at = 4 * randInt(rnd, 0, (b.length >> 2) - 1);
      dv.setUint32(at, HOSTILE[randInt(rnd, 0, HOSTILE.length - 1)], true);
      return b;
    }
    case 3: { // hostile 16-bit vtable entry (field offset or vtable/table size) in the first part of the file
      const at = 2 * randInt(rnd, 0, Math.min(b.length, 4096) / 2 - 1);
      dv.setUint16(at, [0, 2, 4, 0xffff, 0x8000][randInt(rnd, 0, 4)], true);
      return b;
    }
    default: { // a copied block: overlapping, repeated structures
      const n = randInt(rnd, 4, 64);
      const from = randInt(rnd, 0, b.length - n);
      b.copyWithin(randInt(rnd, 0, b.length - n), from, from + n);
      return b;
    }
  }
}

describe('fuzzed .tflite files', () => {
  test('4000 mutated files: a clear error or a valid model, never a crash, hang or unbounded allocation', async () => {
    const base = seeds();
    const rnd = mulberry32(99);
    const counts = { error: 0, valid: 0 };
    const messages = new Set<string>();
    let slowest = 0;
    let largestAlloc = 0;
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 4000; i++) {
      if (i % 200 === 0) await settle();
      const src = base[i % base.length];
      const bytes = mutate(rnd, src, i % 5);
      const t0 = performance.now();
      const ab0 = process.memoryUsage().arrayBuffers;
      try {
        const { model } = importTflite(bytes, 'fuzz.tflite');
        const d = model.tensors[model.input].dims;
        const elems = Object.values(model.tensors).reduce((s, t) => s + t.dims.h * t.dims.w * t.dims.c, 0);
        if (elems < 1 << 20) runGolden(model, new Int8Array(d.h * d.w * d.c));
        counts.valid++;
      } catch (e) {
        if (!(e instanceof UserError)) throw new Error(`case ${i} (kind ${i % 5}): ${(e as Error).stack}`);
        expect(e.message).not.toContain('\n');
        expect(e.hint).toBeTruthy();
        messages.add(e.message.replace(/\d+/g, 'N').slice(0, 80));
        counts.error++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      // Typed arrays a case allocated and still holds at its end (tensor data, golden activations): a size read
      // from the file that is trusted shows up here as hundreds of MiB.
      largestAlloc = Math.max(largestAlloc, process.memoryUsage().arrayBuffers - ab0);
    }
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    const heapGrowth = process.memoryUsage().heapUsed - heap0;
    console.log(`fuzz: ${counts.error} clear errors, ${counts.valid} valid models, ${messages.size} distinct messages, slowest case ${slowest.toFixed(1)} ms, largest per-case allocation ${(largestAlloc / 2 ** 20).toFixed(1)} MiB, heap growth ${(heapGrowth / 2 ** 20).toFixed(1)} MiB, peak RSS ${peakRssMiB.toFixed(0)} MiB`);
    expect(counts.error + counts.valid).toBe(4000);
    expect(counts.error).toBeGreaterThan(1000);
    expect(counts.valid).toBeGreaterThan(100);
    expect(slowest).toBeLessThan(2000);
    expect(heapGrowth).toBeLessThan(512 * 2 ** 20);
    expect(largestAlloc).toBeLessThan(CASE_ALLOC_MIB * 2 ** 20);
    expect(peakRssMiB).toBeLessThan(RSS_MIB);
  });
});
