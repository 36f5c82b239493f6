/**
 * The fast float engine (src/float/fast.ts: im2col + the f32x4 WebAssembly SIMD core of wasm-sgemm.ts) against
 * its JavaScript twin (float32 step by step: the same bits) and against the plain float64 loops of runFloatNaive
 * (the specification), within the rounding bound of float32 summation: |fast - exact| <= (K + 2) u sum|x w| + |b| u,
 * u = 2^-24, checked per output on hundreds of random convolution shapes, and per tensor on whole networks.
 */
import { describe, expect, test } from 'vitest';
import { convArgs, convF32, convF32Js } from '../src/float/fast.js';
import { runFloat, runFloatBlocked, runFloatNaive } from '../src/float/interp.js';
import { wasmSgemm } from '../src/float/wasm-sgemm.js';
import type { ConvNode, FloatModel, MaxPoolNode } from '../src/graph/ir.js';
import { inferShapes } from '../src/graph/shapes.js';
import { syntheticFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { gaussian, mulberry32 } from '../src/util/random.js';

const U = 2 ** -24;
const sameBits = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

interface Case {
  model: FloatModel;
  abs: FloatModel;
  x: Float32Array;
  node: ConvNode;
  k: number;
}

function convModel(h: number, w: number, cin: number, node: ConvNode, weights: Float32Array, bias: Float32Array): FloatModel {
  const graph = inferShapes({ name: 'conv', input: { name: 'x', dims: { h, w, c: cin } }, nodes: [node], outputs: [node.output], tensors: {} });
  return { graph, weights: { [node.name]: { weights, bias } } };
}

/** Random convolutions: odd channel counts, 1x1 to 7x7 kernels, strides 1-3, padding, ReLU or not, dense or ~70% zeros. */
function cases(seed: number, n: number): Case[] {
  const r = mulberry32(seed);
  const g = gaussian(r);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const out: Case[] = [];
  while (out.length < n) {
    const pointwise = r() < 0.3;
    const kh = pointwise ? 1 : int(1, 7);
    const kw = pointwise ? 1 : int(1, 7);
    const sh = pointwise ? 1 : int(1, 3);
    const sw = pointwise ? 1 : int(1, 3);
    const pt = pointwise ? 0 : int(0, kh - 1);
    const pl = pointwise ? 0 : int(0, kw - 1);
    const h = int(kh, 24);
    const w = int(kw, 24);
    const cin = int(1, 40);
    const cout = int(1, 40);
    const node: ConvNode = { name: 'c', op: 'conv', inputs: ['x'], output: 'y', kernel: [kh, kw], stride: [sh, sw], pad: { top: pt, left: pl, bottom: int(0, kh - 1), right: int(0, kw - 1) }, outChannels: cout, relu: r() < 0.5 };
    const sparse = r() < 0.3;
    const k = kh * kw * cin;
    const weights = Float32Array.from({ length: cout * k }, () => (sparse && r() < 0.7 ? 0 : g() * 0.2));
    const bias = Float32Array.from({ length: cout }, () => g());
    let model: FloatModel;
    try {
      model = convModel(h, w, cin, node, weights, bias);
    } catch {
      continue; // padding larger than the output allows: not a valid graph
    }
    const x = Float32Array.from({ length: h * w * cin }, () => g() * 3);
    const abs = convModel(h, w, cin, node, weights.map(Math.abs), bias.map(Math.abs));
    out.push({ model, abs, x, node, k });
  }
  return out;
}

describe('fast float engine', () => {
  const all = cases(1616, 400);

  test('WebAssembly SIMD is available on this Node', () => {
    expect(wasmSgemm()).not.toBeNull();
  });

  test(`${all.length} random convolutions: WebAssembly bit-identical to the JavaScript twin`, () => {
    // channels a multiple of 4 take the WebAssembly im2col, the others the JavaScript gather
    expect(all.filter((c) => c.model.graph.tensors.x.c % 4 === 0 && c.k > c.model.graph.tensors.x.c).length).toBeGreaterThan(50);
    for (const [i, c] of all.entries()) {
      const g = c.model.graph;
      const args = convArgs(c.node, c.x, g.tensors.x, g.tensors.y);
      expect(sameBits(convF32(args, c.model.weights.c), convF32Js(args, c.model.weights.c)), `case ${i}`).toBe(true);
    }
  });

  test(`the same convolutions within float32 rounding of the float64 plain loops`, () => {
    let worstRatio = 0;
    for (const [i, c] of all.entries()) {
      const fast = runFloat(c.model, c.x).y;
      const ref = runFloatNaive(c.model, c.x).y;
      const mag = runFloatNaive(c.abs, c.x.map(Math.abs)).y;
      expect(fast.length).toBe(ref.length);
      for (let j = 0; j < ref.length; j++) {
        const bound = (c.k + 2) * U * mag[j] + 1e-30;
        const err = Math.abs(fast[j] - ref[j]);
        worstRatio = Math.max(worstRatio, err / bound);
        if (err > bound) expect.fail(`case ${i} output ${j}: ${fast[j]} vs ${ref[j]}, bound ${bound}`);
      }
    }
    // float32 is really used (the engine is not the float64 kernel in disguise) and stays within its bound
    expect(worstRatio).toBeGreaterThan(0);
    expect(worstRatio).toBeLessThanOrEqual(1);
  });

  test('a wrong kernel would be caught: one changed weight breaks the bound', () => {
    const c = all.find((x) => x.model.graph.tensors.y.h * x.model.graph.tensors.y.w > 4 && !x.node.relu)!;
    const w = c.model.weights.c.weights.slice();
    w[0] += 0.01;
    const bad = { ...c.model, weights: { c: { weights: w, bias: c.model.weights.c.bias } } };
    const fast = runFloat(bad, c.x).y;
    const ref = runFloatNaive(c.model, c.x).y;
    const mag = runFloatNaive(c.abs, c.x.map(Math.abs)).y;
    expect(ref.some((v, j) => Math.abs(fast[j] - v) > (c.k + 2) * U * mag[j])).toBe(true);
  });

  test('max pool: 300 random shapes (SIMD for channels a multiple of 4) bit-identical to the plain float64 pool', () => {
    const r = mulberry32(77);
    const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
    let simd = 0;
    let n = 0;
    while (n < 300) {
      const k = int(1, 4);
      const s = int(1, 3);
      const p = int(0, k - 1);
      const c = [1, 3, 4, 8, 12, 16, 96][int(0, 6)];
      const h = int(k, 20);
      const node: MaxPoolNode = { name: 'p', op: 'maxpool', inputs: ['x'], output: 'y', kernel: [k, k], stride: [s, s], pad: { top: p, left: p, bottom: p, right: p }, ceil: r() < 0.5 };
      let model: FloatModel;
      try {
        model = { graph: inferShapes({ name: 'pool', input: { name: 'x', dims: { h, w: h, c } }, nodes: [node], outputs: ['y'], tensors: {} }), weights: {} };
      } catch {
        continue;
      }
      const x = Float32Array.from({ length: h * h * c }, () => (r() - 0.5) * 10);
      expect(sameBits(runFloat(model, x).y, runFloatNaive(model, x).y), `case ${n}`).toBe(true);
      if (c % 4 === 0) simd++;
      n++;
    }
    expect(simd).toBeGreaterThan(100);
  });

  test('whole synthetic networks: every tensor close to the plain loops, same top-5', () => {
    for (const variant of ['v1.0', 'v1.1-complex-bypass'] as const) {
      const model = syntheticFloatModel({ variant, inputSize: 97, classes: 100, seed: 5, softmax: false });
      const [x] = syntheticInputs(model, 1);
      const fast = runFloat(model, x);
      const ref = runFloatNaive(model, x);
      const blocked = runFloatBlocked(model, x);
      for (const k of Object.keys(ref)) {
        let max = 0;
        let diff = 0;
        for (let i = 0; i < ref[k].length; i++) {
          max = Math.max(max, Math.abs(ref[k][i]));
          diff = Math.max(diff, Math.abs(fast[k][i] - ref[k][i]));
        }
        expect(diff, `${variant} ${k}`).toBeLessThanOrEqual(1e-5 * max);
        expect(sameBits(blocked[k], ref[k]), `${variant} ${k} (blocked float64 kernel)`).toBe(true);
      }
      const out = model.graph.outputs[0];
      const top5 = (v: Float32Array): number[] => Array.from(v.keys()).sort((a, b) => v[b] - v[a] || a - b).slice(0, 5);
      expect(top5(fast[out]), variant).toEqual(top5(ref[out]));
    }
  });
});
