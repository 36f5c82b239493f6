/**
 * The fast int8 engine (src/golden/fast.ts: WebAssembly SIMD gemm + requantize, and its JavaScript fallback) against
 * the reference kernels of src/golden/kernels.ts, byte for byte: hundreds of random convolution shapes (dense,
 * sparse, accumulators that wrap int32), random pools, and whole synthetic networks.
 */
import { describe, expect, test } from 'vitest';
import { convS8, maxPoolS8, type ConvArgs } from '../src/golden/kernels.js';
import { convS8Fast, convS8FastJs, maxPoolS8Fast } from '../src/golden/fast.js';
import { wasmGemm } from '../src/golden/wasm-gemm.js';
import { wasmMaxPool } from '../src/util/wasm-maxpool.js';
import { runGolden, runReference } from '../src/golden/run.js';
import { buildQuantizedModel, quantizeModelInput, syntheticFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { mulberry32 } from '../src/util/random.js';
import { convCases, poolCases, type ConvCase } from './c/cases.js';

const same = (a: Int8Array, b: Int8Array): boolean => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** The golden model's cases (batch 1, no dilation or groups), plus sparse and int32-wrapping variants of each. */
function cases(): ConvArgs[] {
  const r = mulberry32(1616);
  const base = convCases(161, 400).filter((c: ConvCase) => c.batch === 1 && c.dilation[0] === 1 && c.dilation[1] === 1 && c.filterC === c.inDims.c);
  const out: ConvArgs[] = [];
  for (const c of base) {
    out.push(c);
    // ~75% zero taps: the JavaScript path takes its sparse kernel.
    out.push({ ...c, filter: c.filter.map((v) => (r() < 0.75 ? 0 : v)) });
    // Biases near the int32 limits: accumulators wrap modulo 2^32 as in C.
    const bias = new Int32Array(c.outDims.c).map(() => (r() < 0.5 ? 2147483647 - Math.floor(r() * 1000) : -2147483648 + Math.floor(r() * 1000)));
    out.push({ ...c, bias });
  }
  return out;
}

describe('fast int8 engine equals the reference kernels', () => {
  const all = cases();

  test('WebAssembly SIMD is available on this Node', () => {
    expect(wasmGemm()).not.toBeNull();
  });

  test(`convolution: ${all.length} random shapes (dense, sparse, wrapping), WebAssembly path`, () => {
    expect(all.length).toBeGreaterThan(1000);
    // channels a multiple of 8 take the WebAssembly im2col, the others the JavaScript one
    expect(all.filter((c) => c.inDims.c % 8 === 0 && (c.padTop > 0 || c.stride[0] > 1)).length).toBeGreaterThan(100);
    for (const [i, c] of all.entries()) expect(same(convS8Fast(c), convS8(c)), `case ${i}`).toBe(true);
  });

  test(`convolution: the same ${all.length} shapes, JavaScript fallback`, () => {
    for (const [i, c] of all.entries()) expect(same(convS8FastJs(c), convS8(c)), `case ${i}`).toBe(true);
  });

  test('a wrong kernel would be caught: one changed output channel shift changes the bytes', () => {
    const c = all.find((x) => x.outDims.h * x.outDims.w * x.outDims.c > 50)!;
    const shifted = { ...c, shift: c.shift.map((s) => s - 1) };
    expect(same(convS8Fast(shifted), convS8(c))).toBe(false);
  });

  test('max pool: 300 random shapes', () => {
    for (const c of poolCases(162, 300, 'maxpool')) expect(same(maxPoolS8Fast(c), maxPoolS8(c)), c.label).toBe(true);
  });

  test('max pool, WebAssembly path (channels a multiple of 16): taken, and byte-exact with clamps', () => {
    const simd = poolCases(163, 600, 'maxpool').filter((c) => c.inDims.c % 16 === 0);
    expect(simd.length).toBeGreaterThan(50);
    for (const c of simd) {
      const g = { h: c.inDims.h, w: c.inDims.w, c: c.inDims.c, oh: c.outDims.h, ow: c.outDims.w, kernel: c.kernel, stride: c.stride, padTop: c.padTop, padLeft: c.padLeft };
      const got = wasmMaxPool()!.s8(c.input, g, c.actMin, c.actMax);
      expect(got, c.label).not.toBeNull();
      expect(same(got!, maxPoolS8(c)), c.label).toBe(true);
    }
    const odd = poolCases(164, 50, 'maxpool').find((c) => c.inDims.c % 16 !== 0)!;
    expect(wasmMaxPool()!.s8(odd.input, { h: odd.inDims.h, w: odd.inDims.w, c: odd.inDims.c, oh: odd.outDims.h, ow: odd.outDims.w, kernel: odd.kernel, stride: odd.stride, padTop: odd.padTop, padLeft: odd.padLeft }, -128, 127)).toBeNull();
  });

  test('whole synthetic networks, every tensor', () => {
    for (const variant of ['v1.0', 'v1.1-complex-bypass'] as const) {
      const spec = { variant, inputSize: 40, classes: 10, seed: 5 };
      const q = buildQuantizedModel(spec);
      const x = quantizeModelInput(q, syntheticInputs(syntheticFloatModel(spec), 1, 9)[0]);
      const fast = runGolden(q, x);
      const ref = runReference(q, x);
      for (const k of Object.keys(ref)) expect(same(fast[k], ref[k]), `${variant} ${k}`).toBe(true);
    }
  });
});
