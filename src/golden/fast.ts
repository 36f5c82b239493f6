/**
 * The fast exact int8 convolution: the same contract and the same bytes as the reference `convS8` of kernels.ts
 * (which stays the readable specification; property tests compare the two on hundreds of random shapes and on the
 * real network), ~10x faster.
 *
 * How: 4 output pixels' input patches are gathered (im2col, the input offset added, zeros for padding, which
 * contribute nothing exactly as the reference skips them) and multiplied against 4 output channels at a time in
 * int32 arithmetic (`Math.imul`, `| 0`), which wraps modulo 2^32 exactly like the C accumulator. Filters with
 * fewer than half non-zero taps (Deep Compression models) run a sparse kernel over their non-zero taps only:
 * adding (x * 0) never changes an integer sum. The output stage is arm_nn_requantize through `requantizeFast`.
 * Packed filters are cached per filter array, so band-by-band calls of the plan executor pack once.
 */
import { requantize, type ConvArgs, type PoolArgs } from './kernels.js';
import { wasmGemm } from './wasm-gemm.js';
import { wasmMaxPool } from '../util/wasm-maxpool.js';

interface PackedFilter {
  outC: number;
  k: number;
  dense: boolean;
  /** Dense OHWI taps as int32 (dense = true). */
  w: Int32Array;
  /** Sparse: taps of channel o are idx/val[start[o] .. start[o + 1]). */
  start: Int32Array;
  idx: Int32Array;
  val: Int32Array;
}

/** Below this share of non-zero taps the sparse kernel is faster (measured on the real SqueezeNet v1.0). */
const SPARSE_BELOW = 0.5;

const packs = new WeakMap<Int8Array, PackedFilter>();

function packFilter(filter: Int8Array, outC: number, k: number): PackedFilter {
  const cached = packs.get(filter);
  if (cached && cached.outC === outC && cached.k === k) return cached;
  let nz = 0;
  for (let i = 0; i < outC * k; i++) if (filter[i] !== 0) nz++;
  const dense = nz >= SPARSE_BELOW * outC * k;
  const start = new Int32Array(outC + 1);
  const idx = new Int32Array(dense ? 0 : nz);
  const val = new Int32Array(dense ? 0 : nz);
  const w = dense ? Int32Array.from(filter.subarray(0, outC * k)) : new Int32Array(0);
  if (!dense) {
    let t = 0;
    for (let o = 0; o < outC; o++) {
      start[o] = t;
      for (let j = 0; j < k; j++) {
        const v = filter[o * k + j];
        if (v !== 0) {
          idx[t] = j;
          val[t] = v;
          t++;
        }
      }
    }
    start[outC] = t;
  }
  const p = { outC, k, dense, w, start, idx, val };
  packs.set(filter, p);
  return p;
}

const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

/**
 * arm_nn_requantize exactly as the reference `requantize`, with a short path for accumulators below 2^21 in
 * magnitude after the left shift (then acc * mult + 2^30 is below 2^53 and exact in a double); anything larger takes
 * the reference function itself, and so do right shifts past 31 bits. Tests compare the two on millions of values and all edge cases.
 */
export function requantizeFast(acc: number, mult: number, shift: number): number {
  const x = shift > 0 ? Math.imul(acc, 1 << shift) : acc;
  // Right shifts of 32 or more follow Cortex-M's register-shift semantics in the reference (divideByPOT).
  if (x > 2097152 || x < -2097152 || shift < -31) return requantize(acc, mult, shift);
  const hm = Math.floor((x * mult + 1073741824) / 2147483648);
  if (shift >= 0) return hm;
  const p = POW2[-shift];
  let res = Math.floor(hm / p);
  const rem = hm - res * p;
  const threshold = Math.floor((p - 1) / 2) + (res < 0 ? 1 : 0);
  if (rem > threshold) res++;
  return res;
}

/** im2col of output pixels p0 .. p0 + 3 into patch (4 rows of K); missing pixels and padding are 0. */
function gather(a: ConvArgs, p0: number, nb: number, patch: Int32Array, K: number): void {
  const { inDims: id, outDims: od, kernel: [kh, kw], stride: [sh, sw], input, inputOffset } = a;
  const cin = id.c;
  for (let j = 0; j < 4; j++) {
    let q = j * K;
    if (j >= nb) {
      patch.fill(0, q, q + K);
      continue;
    }
    const pp = p0 + j;
    const oy = Math.floor(pp / od.w);
    const ox = pp - oy * od.w;
    const y0 = oy * sh - a.padTop;
    const x0 = ox * sw - a.padLeft;
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
          for (let c = 0; c < cin; c++) patch[q++] = input[ib + c] + inputOffset;
        }
      }
    }
  }
}

/** acc[j * O + o] for the 4 gathered pixels, dense filter: 4 pixels x 4 channels per step (8 loads, 16 MACs). */
function denseBlock(patch: Int32Array, K: number, pk: PackedFilter, bias: Int32Array | null, acc: Int32Array): void {
  const O = pk.outC;
  const W = pk.w;
  const K2 = 2 * K;
  const K3 = 3 * K;
  let oc = 0;
  for (; oc + 4 <= O; oc += 4) {
    const b0 = bias ? bias[oc] : 0;
    const b1 = bias ? bias[oc + 1] : 0;
    const b2 = bias ? bias[oc + 2] : 0;
    const b3 = bias ? bias[oc + 3] : 0;
    let a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
    let a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
    const r0 = oc * K;
    const r1 = r0 + K;
    const r2 = r1 + K;
    const r3 = r2 + K;
    for (let k = 0; k < K; k++) {
      const w0 = W[r0 + k], w1 = W[r1 + k], w2 = W[r2 + k], w3 = W[r3 + k];
      const x0 = patch[k], x1 = patch[K + k], x2 = patch[K2 + k], x3 = patch[K3 + k];
      a00 = (a00 + Math.imul(x0, w0)) | 0; a01 = (a01 + Math.imul(x0, w1)) | 0; a02 = (a02 + Math.imul(x0, w2)) | 0; a03 = (a03 + Math.imul(x0, w3)) | 0;
      a10 = (a10 + Math.imul(x1, w0)) | 0; a11 = (a11 + Math.imul(x1, w1)) | 0; a12 = (a12 + Math.imul(x1, w2)) | 0; a13 = (a13 + Math.imul(x1, w3)) | 0;
      a20 = (a20 + Math.imul(x2, w0)) | 0; a21 = (a21 + Math.imul(x2, w1)) | 0; a22 = (a22 + Math.imul(x2, w2)) | 0; a23 = (a23 + Math.imul(x2, w3)) | 0;
      a30 = (a30 + Math.imul(x3, w0)) | 0; a31 = (a31 + Math.imul(x3, w1)) | 0; a32 = (a32 + Math.imul(x3, w2)) | 0; a33 = (a33 + Math.imul(x3, w3)) | 0;
    }
    acc[oc] = a00; acc[oc + 1] = a01; acc[oc + 2] = a02; acc[oc + 3] = a03;
    const o1 = O + oc;
    acc[o1] = a10; acc[o1 + 1] = a11; acc[o1 + 2] = a12; acc[o1 + 3] = a13;
    const o2 = 2 * O + oc;
    acc[o2] = a20; acc[o2 + 1] = a21; acc[o2 + 2] = a22; acc[o2 + 3] = a23;
    const o3 = 3 * O + oc;
    acc[o3] = a30; acc[o3 + 1] = a31; acc[o3 + 2] = a32; acc[o3 + 3] = a33;
  }
  for (; oc < O; oc++) {
    const r = oc * K;
    for (let j = 0; j < 4; j++) {
      let s = bias ? bias[oc] : 0;
      const q = j * K;
      for (let k = 0; k < K; k++) s = (s + Math.imul(patch[q + k], W[r + k])) | 0;
      acc[j * O + oc] = s;
    }
  }
}

/** The same over each channel's non-zero taps only. */
function sparseBlock(patch: Int32Array, K: number, pk: PackedFilter, bias: Int32Array | null, acc: Int32Array): void {
  const O = pk.outC;
  const { start, idx, val } = pk;
  const K2 = 2 * K;
  const K3 = 3 * K;
  for (let oc = 0; oc < O; oc++) {
    let a0 = bias ? bias[oc] : 0;
    let a1 = a0, a2 = a0, a3 = a0;
    const e = start[oc + 1];
    for (let t = start[oc]; t < e; t++) {
      const k = idx[t];
      const w = val[t];
      a0 = (a0 + Math.imul(patch[k], w)) | 0;
      a1 = (a1 + Math.imul(patch[K + k], w)) | 0;
      a2 = (a2 + Math.imul(patch[K2 + k], w)) | 0;
      a3 = (a3 + Math.imul(patch[K3 + k], w)) | 0;
    }
    acc[oc] = a0;
    acc[O + oc] = a1;
    acc[2 * O + oc] = a2;
    acc[3 * O + oc] = a3;
  }
}

const pad8 = (n: number): number => (n + 7) & ~7;
const wasmFilters = new WeakMap<Int8Array, Int16Array>();

/** Filter rows as int16, each padded with zeros to a multiple of 8 taps, rows padded to an even count. */
function wasmFilter(filter: Int8Array, outC: number, k: number): Int16Array {
  const kp = pad8(k);
  const rows = outC + (outC & 1);
  const cached = wasmFilters.get(filter);
  if (cached && cached.length === rows * kp) return cached;
  const w = new Int16Array(rows * kp);
  for (let o = 0; o < outC; o++) for (let j = 0; j < k; j++) w[o * kp + j] = filter[o * k + j];
  wasmFilters.set(filter, w);
  return w;
}

/** im2col of every output pixel as int16 rows of kp taps (input offset added; padding and row tails 0). */
function gatherAll(a: ConvArgs, patch: Int16Array, kp: number): void {
  const { inDims: id, outDims: od, kernel: [kh, kw], stride: [sh, sw], input, inputOffset } = a;
  const cin = id.c;
  let p = 0;
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - a.padTop;
    for (let ox = 0; ox < od.w; ox++, p++) {
      const x0 = ox * sw - a.padLeft;
      let q = p * kp;
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
            for (let c = 0; c < cin; c++) patch[q++] = input[ib + c] + inputOffset;
          }
        }
      }
      patch.fill(0, q, (p + 1) * kp);
    }
  }
}

/** The wasm SIMD path: one gemm call over every pixel, then one requantize call; null without WebAssembly SIMD. */
function convWasm(a: ConvArgs, K: number, O: number, P: number): Int8Array | null {
  const core = wasmGemm();
  if (!core) return null;
  for (let o = 0; o < O; o++) if (a.shift[o] < -31) return null; // the rounding shift would pass 31 bits
  const kp = pad8(K);
  const rowBytes = 2 * kp;
  const rows = O + (O & 1);
  const pixels = (P + 3) & ~3;
  const wAt = pixels * rowBytes;
  const bAt = wAt + rows * rowBytes;
  const multAt = bAt + rows * 4;
  const shiftAt = multAt + O * 4;
  const accAt = shiftAt + O * 4;
  const outAt = accAt + pixels * rows * 4;
  const id = a.inDims;
  // Channels in steps of 8: the WebAssembly im2col reads the input from memory after the output.
  const simdGather = id.c % 8 === 0;
  const inAt = (outAt + P * O + 15) & ~15;
  const buf = core.reserve(simdGather ? inAt + id.h * id.w * id.c : outAt + P * O);
  if (simdGather) {
    new Int8Array(buf, inAt, id.h * id.w * id.c).set(a.input.subarray(0, id.h * id.w * id.c));
    core.im2col(inAt, 0, id.h, id.w, id.c, a.outDims.h, a.outDims.w, a.kernel[0], a.kernel[1], a.stride[0], a.stride[1], a.padTop, a.padLeft, a.inputOffset);
  } else gatherAll(a, new Int16Array(buf, 0, P * kp), kp);
  new Int16Array(buf, P * rowBytes, (pixels - P) * kp).fill(0);
  new Int16Array(buf, wAt, rows * kp).set(wasmFilter(a.filter, O, K));
  const bias = new Int32Array(buf, bAt, rows).fill(0);
  if (a.bias) bias.set(a.bias.subarray(0, O));
  new Int32Array(buf, multAt, O).set(a.multiplier.subarray(0, O));
  new Int32Array(buf, shiftAt, O).set(a.shift.subarray(0, O));
  core.gemm(0, wAt, bAt, accAt, rowBytes, rows, pixels);
  core.requant(accAt, rows, P, O, multAt, shiftAt, a.outputOffset, a.actMin, a.actMax, outAt);
  return new Int8Array(buf, outAt, P * O).slice();
}

/** arm_convolve_wrapper_s8, bit for bit as the reference convS8 (batch 1, NHWC, OHWI filter). */
export function convS8Fast(a: ConvArgs): Int8Array {
  const { inDims: id, outDims: od, kernel: [kh, kw] } = a;
  const K = kh * kw * id.c;
  const O = od.c;
  const P = od.h * od.w;
  return convWasm(a, K, O, P) ?? convJs(a, K, O, P);
}

/** The same without WebAssembly (the fallback path; exported so that tests cover it too). */
export function convS8FastJs(a: ConvArgs): Int8Array {
  const { inDims: id, outDims: od, kernel: [kh, kw] } = a;
  return convJs(a, kh * kw * id.c, od.c, od.h * od.w);
}

/** The JavaScript kernel, used where WebAssembly SIMD is unavailable: 4 pixels at a time, dense or sparse. */
function convJs(a: ConvArgs, K: number, O: number, P: number): Int8Array {
  const pk = packFilter(a.filter, O, K);
  const out = new Int8Array(P * O);
  const patch = new Int32Array(4 * K);
  const acc = new Int32Array(4 * O);
  const { multiplier, shift, outputOffset, actMin, actMax } = a;
  for (let p0 = 0; p0 < P; p0 += 4) {
    const nb = Math.min(4, P - p0);
    gather(a, p0, nb, patch, K);
    if (pk.dense) denseBlock(patch, K, pk, a.bias, acc);
    else sparseBlock(patch, K, pk, a.bias, acc);
    const ob = p0 * O;
    for (let i = 0; i < nb * O; i++) {
      const oc = i % O;
      const v = requantizeFast(acc[i], multiplier[oc], shift[oc]) + outputOffset;
      out[ob + i] = v < actMin ? actMin : v > actMax ? actMax : v;
    }
  }
  return out;
}

/**
 * arm_max_pool_s8, bit for bit as the reference maxPoolS8: WebAssembly SIMD (i8x16.max_s, src/util/wasm-maxpool.ts)
 * when the channels are a multiple of 16; else per output pixel the running max of each channel over
 * the window clipped to the input, kept in an int32 row (cheaper than int8 read-modify-write), then clamped.
 */
export function maxPoolS8Fast(a: PoolArgs): Int8Array {
  const { inDims: id, outDims: od, kernel: [kh, kw], stride: [sh, sw], input, actMin, actMax } = a;
  const simd = wasmMaxPool()?.s8(input, { h: id.h, w: id.w, c: id.c, oh: od.h, ow: od.w, kernel: a.kernel, stride: a.stride, padTop: a.padTop, padLeft: a.padLeft }, actMin, actMax);
  if (simd) return simd;
  const c = id.c;
  const out = new Int8Array(od.h * od.w * c);
  const m = new Int32Array(c);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - a.padTop;
    const ys = Math.max(0, y0);
    const ye = Math.min(y0 + kh, id.h);
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - a.padLeft;
      const xs = Math.max(0, x0);
      const xe = Math.min(x0 + kw, id.w);
      m.fill(-128);
      for (let y = ys; y < ye; y++) {
        for (let x = xs; x < xe; x++) {
          const ib = (y * id.w + x) * c;
          for (let ch = 0; ch < c; ch++) {
            const v = input[ib + ch];
            if (v > m[ch]) m[ch] = v;
          }
        }
      }
      const ob = (oy * od.w + ox) * c;
      for (let ch = 0; ch < c; ch++) {
        const v = m[ch];
        out[ob + ch] = v < actMin ? actMin : v > actMax ? actMax : v;
      }
    }
  }
  return out;
}
