/**
 * Float interpreter (NHWC, OHWI weights). Feeds calibration and the float side of evaluation.
 *
 * Three convolution engines, one graph walk:
 * - `runFloat` (the default): the f32x4 WebAssembly SIMD engine of fast.ts, float32 accumulation, k in order;
 * - `runFloatNaive`: the plain 7-deep loop in float64, the specification the others are tested against;
 * - `runFloatBlocked`: the previous default, kept as the benchmark's baseline and described below.
 *
 * The blocked kernel gathers 4 output pixels' input patches (im2col, zeros for padding) and accumulate them against each
 * output channel's weights in doubles, in the same order as the plain loop (`runFloatNaive`), skipping weights that
 * are exactly zero when fewer than half are non-zero (Deep Compression models are ~2/3 zeros). Skipping x * 0 does
 * not change a sum of finite values, so the result is bit-identical to the plain loop, only 4-5x faster.
 * The same accumulation core (`convAccumulate`) computes exact integer sums for the int8 path in eval.
 */
import type { ConvNode, ConvWeights, Dims, FloatModel, GraphNode } from '../graph/ir.js';
import { convArgs, convF32, type ConvGeometry } from './fast.js';
import { wasmMaxPool } from '../util/wasm-maxpool.js';

export type FloatTensors = Record<string, Float32Array>;

/** Weights prepared for the blocked kernels: dense OHWI rows, or per output channel lists of non-zero taps. */
export interface PackedWeights {
  outChannels: number;
  /** Taps per output channel: kh * kw * cin. */
  k: number;
  dense: boolean;
  /** Dense OHWI (dense = true). */
  w: Float32Array;
  /** Sparse (dense = false): taps of channel o are idx/val[start[o] .. start[o + 1]). */
  start: Int32Array;
  idx: Int32Array;
  val: Float32Array;
  bias: Float64Array;
}

/** Below this share of non-zero weights the sparse kernel is faster (measured on SqueezeNet layers). */
const SPARSE_BELOW = 0.5;

export function packWeights(weights: ArrayLike<number>, bias: ArrayLike<number>, outChannels: number, k: number, allowSparse = true): PackedWeights {
  let nz = 0;
  for (let i = 0; i < outChannels * k; i++) if (weights[i] !== 0) nz++;
  const dense = !allowSparse || nz >= SPARSE_BELOW * outChannels * k;
  const start = new Int32Array(outChannels + 1);
  const idx = new Int32Array(dense ? 0 : nz);
  const val = new Float32Array(dense ? 0 : nz);
  let w = new Float32Array(0);
  if (dense) w = Float32Array.from({ length: outChannels * k }, (_, i) => weights[i]);
  else {
    let t = 0;
    for (let o = 0; o < outChannels; o++) {
      start[o] = t;
      for (let j = 0; j < k; j++) {
        const v = weights[o * k + j];
        if (v !== 0) {
          idx[t] = j;
          val[t] = v;
          t++;
        }
      }
    }
    start[outChannels] = t;
  }
  return { outChannels, k, dense, w, start, idx, val, bias: Float64Array.from({ length: outChannels }, (_, i) => bias[i]) };
}

const packCache = new WeakMap<ConvWeights, PackedWeights>();
function packedFor(p: ConvWeights, outChannels: number, k: number): PackedWeights {
  let pk = packCache.get(p);
  if (!pk || pk.outChannels !== outChannels || pk.k !== k) {
    pk = packWeights(p.weights, p.bias, outChannels, k);
    packCache.set(p, pk);
  }
  return pk;
}

/**
 * acc[p * O + o] = bias[o] + sum over the window of (x + xOffset) * w, padding contributing nothing.
 * With xOffset = 0 this is the float convolution before activation; with integer inputs, weights and bias every
 * partial sum is an exact integer (below 2^53), so the result is exact whatever the order.
 */
export function convAccumulate(x: ArrayLike<number>, xOffset: number, g: ConvGeometry, pk: PackedWeights, acc: Float64Array): void {
  const { inDims: id, outDims: od } = g;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const cin = id.c;
  const K = kh * kw * cin;
  const O = od.c;
  const P = od.h * od.w;
  const patch = new Float32Array(4 * K);
  const K2 = 2 * K;
  const K3 = 3 * K;
  const { bias, w: W, start, idx, val } = pk;
  for (let p0 = 0; p0 < P; p0 += 4) {
    const nb = Math.min(4, P - p0);
    // im2col for 4 output pixels; padding (and missing pixels of a last partial block) stays 0.
    for (let j = 0; j < 4; j++) {
      let q = j * K;
      if (j >= nb) {
        patch.fill(0, q, q + K);
        continue;
      }
      const pp = p0 + j;
      const oy = Math.floor(pp / od.w);
      const ox = pp - oy * od.w;
      const y0 = oy * sh - g.padTop;
      const x0 = ox * sw - g.padLeft;
      for (let ky = 0; ky < kh; ky++) {
        const y = y0 + ky;
        const rowIn = y >= 0 && y < id.h;
        for (let kx = 0; kx < kw; kx++) {
          const xx = x0 + kx;
          if (!rowIn || xx < 0 || xx >= id.w) {
            patch.fill(0, q, q + cin);
            q += cin;
          } else {
            const ib = (y * id.w + xx) * cin;
            for (let c = 0; c < cin; c++) patch[q++] = x[ib + c] + xOffset;
          }
        }
      }
    }
    const ob = p0 * O;
    if (pk.dense) {
      let oc = 0;
      // 4 pixels x 4 output channels per step: 8 loads feed 16 multiply-adds.
      for (; oc + 4 <= O; oc += 4) {
        const b0 = bias[oc];
        const b1 = bias[oc + 1];
        const b2 = bias[oc + 2];
        const b3 = bias[oc + 3];
        let a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
        let a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
        const r0 = oc * K;
        const r1 = r0 + K;
        const r2 = r1 + K;
        const r3 = r2 + K;
        for (let k = 0; k < K; k++) {
          const w0 = W[r0 + k], w1 = W[r1 + k], w2 = W[r2 + k], w3 = W[r3 + k];
          const x0 = patch[k], x1 = patch[K + k], x2 = patch[K2 + k], x3 = patch[K3 + k];
          a00 += x0 * w0; a01 += x0 * w1; a02 += x0 * w2; a03 += x0 * w3;
          a10 += x1 * w0; a11 += x1 * w1; a12 += x1 * w2; a13 += x1 * w3;
          a20 += x2 * w0; a21 += x2 * w1; a22 += x2 * w2; a23 += x2 * w3;
          a30 += x3 * w0; a31 += x3 * w1; a32 += x3 * w2; a33 += x3 * w3;
        }
        const o = ob + oc;
        acc[o] = a00; acc[o + 1] = a01; acc[o + 2] = a02; acc[o + 3] = a03;
        if (nb > 1) { acc[o + O] = a10; acc[o + O + 1] = a11; acc[o + O + 2] = a12; acc[o + O + 3] = a13; }
        if (nb > 2) { const o2 = o + 2 * O; acc[o2] = a20; acc[o2 + 1] = a21; acc[o2 + 2] = a22; acc[o2 + 3] = a23; }
        if (nb > 3) { const o3 = o + 3 * O; acc[o3] = a30; acc[o3 + 1] = a31; acc[o3 + 2] = a32; acc[o3 + 3] = a33; }
      }
      for (; oc < O; oc++) {
        const r = oc * K;
        for (let j = 0; j < nb; j++) {
          let a = bias[oc];
          for (let k = 0; k < K; k++) a += patch[j * K + k] * W[r + k];
          acc[ob + j * O + oc] = a;
        }
      }
    } else {
      for (let oc = 0; oc < O; oc++) {
        let a0 = bias[oc], a1 = a0, a2 = a0, a3 = a0;
        const e = start[oc + 1];
        for (let t = start[oc]; t < e; t++) {
          const k = idx[t];
          const w = val[t];
          a0 += patch[k] * w;
          a1 += patch[K + k] * w;
          a2 += patch[K2 + k] * w;
          a3 += patch[K3 + k] * w;
        }
        const o = ob + oc;
        acc[o] = a0;
        if (nb > 1) acc[o + O] = a1;
        if (nb > 2) acc[o + 2 * O] = a2;
        if (nb > 3) acc[o + 3 * O] = a3;
      }
    }
  }
}

function conv(node: ConvNode, x: Float32Array, id: Dims, od: Dims, p: ConvWeights): Float32Array {
  const k = node.kernel[0] * node.kernel[1] * id.c;
  const pk = packedFor(p, od.c, k);
  const acc = new Float64Array(od.h * od.w * od.c);
  convAccumulate(x, 0, { inDims: id, outDims: od, kernel: node.kernel, stride: node.stride, padTop: node.pad.top, padLeft: node.pad.left }, pk, acc);
  const out = new Float32Array(acc.length);
  if (node.relu) for (let i = 0; i < acc.length; i++) out[i] = acc[i] < 0 ? 0 : acc[i];
  else out.set(acc);
  return out;
}

/** The plain 7-deep loop: the baseline the blocked kernel is checked and benchmarked against. */
function convNaive(node: ConvNode, x: Float32Array, id: Dims, od: Dims, w: Float32Array, b: Float32Array): Float32Array {
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const cin = id.c;
  const out = new Float32Array(od.h * od.w * od.c);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - node.pad.top;
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - node.pad.left;
      const ob = (oy * od.w + ox) * od.c;
      for (let oc = 0; oc < od.c; oc++) {
        let sum = b[oc];
        for (let ky = 0; ky < kh; ky++) {
          const y = y0 + ky;
          if (y < 0 || y >= id.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const xx = x0 + kx;
            if (xx < 0 || xx >= id.w) continue;
            const ib = (y * id.w + xx) * cin;
            const fb = ((oc * kh + ky) * kw + kx) * cin;
            for (let ic = 0; ic < cin; ic++) sum += x[ib + ic] * w[fb + ic];
          }
        }
        out[ob + oc] = node.relu && sum < 0 ? 0 : sum;
      }
    }
  }
  return out;
}

/**
 * Max pool over the window clipped to the input: WebAssembly SIMD (f32x4.pmax, src/util/wasm-maxpool.ts) when the
 * channels are a multiple of 4, else written straight into the output row. Float32 compares are exact: the same
 * values as `pool`'s float64 running max (the plain path's), several times faster.
 */
function maxPool(node: GraphNode & { op: 'maxpool' }, x: Float32Array, id: Dims, od: Dims): Float32Array {
  const simd = wasmMaxPool()?.f32(x, { h: id.h, w: id.w, c: id.c, oh: od.h, ow: od.w, kernel: node.kernel, stride: node.stride, padTop: node.pad.top, padLeft: node.pad.left });
  if (simd) return simd;
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const c = id.c;
  const out = new Float32Array(od.h * od.w * c).fill(-Infinity);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - node.pad.top;
    const ys = Math.max(0, y0);
    const ye = Math.min(y0 + kh, id.h);
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - node.pad.left;
      const xs = Math.max(0, x0);
      const xe = Math.min(x0 + kw, id.w);
      const ob = (oy * od.w + ox) * c;
      for (let y = ys; y < ye; y++) {
        for (let xx = xs; xx < xe; xx++) {
          const b = (y * id.w + xx) * c;
          for (let ch = 0; ch < c; ch++) {
            const v = x[b + ch];
            if (v > out[ob + ch]) out[ob + ch] = v;
          }
        }
      }
    }
  }
  return out;
}

function pool(node: GraphNode & { op: 'maxpool' | 'avgpool' }, x: Float32Array, id: Dims, od: Dims): Float32Array {
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const c = id.c;
  const out = new Float32Array(od.h * od.w * c);
  const isMax = node.op === 'maxpool';
  const acc = new Float64Array(c);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - node.pad.top;
    const ys = Math.max(0, y0);
    const ye = Math.min(y0 + kh, id.h);
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - node.pad.left;
      const xs = Math.max(0, x0);
      const xe = Math.min(x0 + kw, id.w);
      acc.fill(isMax ? -Infinity : 0);
      for (let y = ys; y < ye; y++) {
        for (let xx = xs; xx < xe; xx++) {
          const b = (y * id.w + xx) * c;
          if (isMax) {
            for (let ch = 0; ch < c; ch++) if (x[b + ch] > acc[ch]) acc[ch] = x[b + ch];
          } else for (let ch = 0; ch < c; ch++) acc[ch] += x[b + ch];
        }
      }
      // Average over the clipped window (count_include_pad = false), as the int8 kernel does.
      const ob = (oy * od.w + ox) * c;
      const n = (ye - ys) * (xe - xs);
      for (let ch = 0; ch < c; ch++) out[ob + ch] = isMax ? acc[ch] : acc[ch] / n;
    }
  }
  return out;
}

/** Copies `src` (pixels x c) into channels [off, off + c) of `out` (pixels x outC). */
function concatInto(out: Float32Array, pixels: number, outC: number, off: number, src: Float32Array, c: number): void {
  for (let p = 0; p < pixels; p++) {
    const o = p * outC + off;
    const i = p * c;
    for (let ch = 0; ch < c; ch++) out[o + ch] = src[i + ch];
  }
}

type ConvEngine = 'fast' | 'blocked' | 'naive';

function run(model: FloatModel, input: Float32Array, engine: ConvEngine): FloatTensors {
  const g = model.graph;
  const t: FloatTensors = { [g.input.name]: input };
  for (const node of g.nodes) {
    const id = g.tensors[node.inputs[0]];
    const od = g.tensors[node.output];
    const x = t[node.inputs[0]];
    switch (node.op) {
      case 'conv': {
        const p = model.weights[node.name];
        if (!p) throw new Error(`no weights for ${node.name}`);
        t[node.output] = engine === 'fast' ? convF32(convArgs(node, x, id, od), p) : engine === 'naive' ? convNaive(node, x, id, od, p.weights, p.bias) : conv(node, x, id, od, p);
        break;
      }
      case 'maxpool':
        t[node.output] = engine === 'naive' ? pool(node, x, id, od) : maxPool(node, x, id, od);
        break;
      case 'avgpool':
        t[node.output] = pool(node, x, id, od);
        break;
      case 'concat': {
        const out = new Float32Array(od.h * od.w * od.c);
        let off = 0;
        for (const name of node.inputs) {
          const c = g.tensors[name].c;
          concatInto(out, od.h * od.w, od.c, off, t[name], c);
          off += c;
        }
        t[node.output] = out;
        break;
      }
      case 'add': {
        const y = t[node.inputs[1]];
        const out = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) out[i] = node.relu ? Math.max(0, x[i] + y[i]) : x[i] + y[i];
        t[node.output] = out;
        break;
      }
      case 'softmax': {
        const out = new Float32Array(x.length);
        const rows = od.h * od.w;
        for (let r = 0; r < rows; r++) {
          let m = -Infinity;
          for (let i = 0; i < od.c; i++) m = Math.max(m, x[r * od.c + i]);
          let s = 0;
          for (let i = 0; i < od.c; i++) s += (out[r * od.c + i] = Math.exp(x[r * od.c + i] - m));
          for (let i = 0; i < od.c; i++) out[r * od.c + i] /= s;
        }
        t[node.output] = out;
        break;
      }
    }
  }
  return t;
}

/** SQZFW_ENGINE=reference (the bench's whole-process baseline, debugging): the previous float64 kernel. */
const DEFAULT_ENGINE: ConvEngine = process.env.SQZFW_ENGINE === 'reference' ? 'blocked' : 'fast';

/** Runs the model on one HWC input with the fast engine; returns every tensor (the input included). */
export function runFloat(model: FloatModel, input: Float32Array): FloatTensors {
  return run(model, input, DEFAULT_ENGINE);
}

/** The same with the plain loops: slow; the reference the optimized kernels are tested and benchmarked against. */
export function runFloatNaive(model: FloatModel, input: Float32Array): FloatTensors {
  return run(model, input, 'naive');
}

/** The same with the blocked float64 kernel (bit-identical to the plain loops): the previous default, for the bench. */
export function runFloatBlocked(model: FloatModel, input: Float32Array): FloatTensors {
  return run(model, input, 'blocked');
}
