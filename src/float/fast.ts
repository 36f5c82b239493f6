/**
 * The fast float convolution: im2col patches times the transposed weights in the f32x4 core of wasm-sgemm.ts.
 * Every output is its bias plus the products in the reference's order (k increasing), summed in float32 instead of
 * the reference interpreter's float64: results agree with `runFloatNaive` to float32 rounding (tests bound the
 * difference on random shapes and the real network) and are bit-identical to the JavaScript twin `convF32Js`, which
 * runs where WebAssembly SIMD is unavailable. Deterministic: the same inputs give the same bits on every run,
 * thread and worker.
 */
import type { ConvNode, ConvWeights, Dims } from '../graph/ir.js';
import { sgemmJs, wasmSgemm } from './wasm-sgemm.js';

/** Where a convolution's windows sit: the float reference loops (interp.ts) take the same geometry. */
export interface ConvGeometry {
  inDims: Dims;
  outDims: Dims;
  kernel: [number, number];
  stride: [number, number];
  padTop: number;
  padLeft: number;
}

export interface FloatConvArgs extends ConvGeometry {
  input: Float32Array;
  relu: boolean;
}

interface PackedF32 {
  k: number;
  o8: number;
  /** Weights as K rows of O8 (output channels padded with zero columns to a multiple of 8). */
  wT: Float32Array;
  bias: Float32Array;
}

const packs = new WeakMap<ConvWeights, PackedF32>();

function pack(p: ConvWeights, O: number, K: number): PackedF32 {
  const cached = packs.get(p);
  if (cached && cached.k === K && cached.o8 === ((O + 7) & ~7)) return cached;
  const o8 = (O + 7) & ~7;
  const wT = new Float32Array(K * o8);
  for (let o = 0; o < O; o++) for (let j = 0; j < K; j++) wT[j * o8 + o] = p.weights[o * K + j];
  const bias = new Float32Array(o8);
  bias.set(p.bias.subarray(0, O));
  const pk = { k: K, o8, wT, bias };
  packs.set(p, pk);
  return pk;
}

/**
 * im2col: row p of `mem` from `at` holds output pixel p's window (ky, kx, c order, as OHWI filters), zeros for
 * padding; the input is read from `mem` at `src` (in place, so a window row inside the image is one copyWithin).
 */
function gather(a: FloatConvArgs, mem: Float32Array, src: number, at: number): void {
  const { inDims: id, outDims: od, kernel: [kh, kw], stride: [sh, sw] } = a;
  const cin = id.c;
  const span = kw * cin;
  let q = at;
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - a.padTop;
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - a.padLeft;
      const inside = x0 >= 0 && x0 + kw <= id.w;
      for (let ky = 0; ky < kh; ky++) {
        const y = y0 + ky;
        if (y < 0 || y >= id.h) mem.fill(0, q, q + span);
        else if (inside) {
          // The window's row is contiguous in NHWC.
          const ib = src + (y * id.w + x0) * cin;
          if (span >= 32) mem.copyWithin(q, ib, ib + span);
          else for (let i = 0; i < span; i++) mem[q + i] = mem[ib + i];
        } else {
          for (let kx = 0; kx < kw; kx++) {
            const xx = x0 + kx;
            const d = q + kx * cin;
            if (xx < 0 || xx >= id.w) mem.fill(0, d, d + cin);
            else {
              const ib = src + (y * id.w + xx) * cin;
              for (let c = 0; c < cin; c++) mem[d + c] = mem[ib + c];
            }
          }
        }
        q += span;
      }
    }
  }
}

/** A 1x1, stride-1, unpadded convolution reads the NHWC input as its patch matrix directly. */
const isPointwise = (a: FloatConvArgs): boolean => a.kernel[0] === 1 && a.kernel[1] === 1 && a.stride[0] === 1 && a.stride[1] === 1 && a.padTop === 0 && a.padLeft === 0 && a.inDims.h === a.outDims.h && a.inDims.w === a.outDims.w;

/** Output rows of o8 floats to rows of O. */
function compact(src: Float32Array, P: number, O: number, o8: number): Float32Array {
  if (O === o8) return src.slice(0, P * O);
  const out = new Float32Array(P * O);
  for (let p = 0; p < P; p++) out.set(src.subarray(p * o8, p * o8 + O), p * O);
  return out;
}

/** Convolution (+ ReLU) with float32 accumulation: WebAssembly SIMD, else the JavaScript twin (same bits). */
export function convF32(a: FloatConvArgs, w: ConvWeights): Float32Array {
  const core = wasmSgemm();
  return core ? convWasm(a, w, core) : convF32Js(a, w);
}

function convWasm(a: FloatConvArgs, w: ConvWeights, core: NonNullable<ReturnType<typeof wasmSgemm>>): Float32Array {
  const K = a.kernel[0] * a.kernel[1] * a.inDims.c;
  const O = a.outDims.c;
  const P = a.outDims.h * a.outDims.w;
  const P4 = (P + 3) & ~3;
  const pk = pack(w, O, K);
  const pointwise = isPointwise(a);
  const inLen = a.inDims.h * a.inDims.w * a.inDims.c;
  // Float offsets: weights, bias, input, patches (the input itself when pointwise), output; 16-byte aligned.
  const bAt = K * pk.o8;
  const inAt = bAt + pk.o8;
  const xAt = pointwise ? inAt : (inAt + inLen + 3) & ~3;
  const oAt = xAt + P4 * K;
  const mem = new Float32Array(core.reserve(4 * (oAt + P4 * pk.o8)));
  mem.set(pk.wT, 0);
  mem.set(pk.bias, bAt);
  mem.set(a.input.subarray(0, inLen), inAt);
  const id = a.inDims;
  if (!pointwise && id.c % 4 === 0) core.im2col(4 * inAt, 4 * xAt, id.h, id.w, id.c, a.outDims.h, a.outDims.w, a.kernel[0], a.kernel[1], a.stride[0], a.stride[1], a.padTop, a.padLeft, 0);
  else if (!pointwise) gather(a, mem, inAt, xAt);
  mem.fill(0, xAt + P * K, oAt);
  core.sgemm(4 * xAt, 0, 4 * bAt, 4 * oAt, K, pk.o8, P4, a.relu ? 1 : 0);
  return compact(mem.subarray(oAt, oAt + P * pk.o8), P, O, pk.o8);
}

/** The JavaScript twin of the WebAssembly path (float32 step by step): the fallback, and what tests compare it with. */
export function convF32Js(a: FloatConvArgs, w: ConvWeights): Float32Array {
  const K = a.kernel[0] * a.kernel[1] * a.inDims.c;
  const O = a.outDims.c;
  const P = a.outDims.h * a.outDims.w;
  const pk = pack(w, O, K);
  const inLen = a.inDims.h * a.inDims.w * a.inDims.c;
  const mem = new Float32Array(inLen + P * K);
  mem.set(a.input.subarray(0, inLen));
  gather(a, mem, 0, inLen);
  const patch = mem.subarray(inLen);
  const out = new Float32Array(P * pk.o8);
  sgemmJs(patch, pk.wT, pk.bias, out, K, pk.o8, P, a.relu);
  return compact(out, P, O, pk.o8);
}

/** The arguments of a graph conv node. */
export const convArgs = (node: ConvNode, input: Float32Array, inDims: Dims, outDims: Dims): FloatConvArgs => ({
  input,
  inDims,
  outDims,
  kernel: node.kernel,
  stride: node.stride,
  padTop: node.pad.top,
  padLeft: node.pad.left,
  relu: node.relu,
});
