/**
 * The int8 engine's multiply-accumulate core in WebAssembly SIMD, assembled here from its instructions (no build
 * step, no binary in the repository): acc[p][o] = bias[o] + sum_k patch[p][k] * w[o][k] in int32, wrapping modulo
 * 2^32 like the C accumulator (an integer sum modulo 2^32 is the same in any order). Patches and weights are int16
 * rows padded with zeros to a multiple of 8; `i32x4.dot_i16x8_s` does 8 multiply-adds per instruction.
 *
 * gemm(patch, w, bias, acc, rowBytes, O, P): P (a multiple of 4) patch rows, O weight rows; byte addresses.
 * Per step 2 output channels x 4 pixels: 6 loads feed 8 dot products (64 multiply-adds).
 */

import { im2colBody } from '../util/wasm-im2col.js';
import { ADD, BLOCK, END, GE_S, LOOP, MUL, br, brIf, get, i32c, instantiate, load32, moduleBytes, set, sleb, store32, v128load } from '../util/wasm.js';

const DOT = [0xfd, 0xba, 0x01]; // i32x4.dot_i16x8_s
const ADD4 = [0xfd, 0xae, 0x01]; // i32x4.add
const SPLAT = [0xfd, 0x11]; // i32x4.splat
const lane = (l: number): number[] => [0xfd, 0x1b, l]; // i32x4.extract_lane

// Parameters and locals.
const [PATCH, W, BIAS, ACC, ROW, O, P] = [0, 1, 2, 3, 4, 5, 6];
const [OC, K, W0, W1, PP, AROW, B, O4] = [7, 8, 9, 10, 11, 12, 13, 14];
const NUM_I32 = 8;
const A = 15; // a00..a13: 8 v128 accumulators (pixel j, channel c) at A + 2 * j + c
const WV0 = 23;
const WV1 = 24;
const XV = 25;

/** acc += dot(patch row j at k, weight row c at k) for j = 0..3, c = 0..1. */
function kStep(): number[] {
  const code: number[] = [...get(W0), ...get(K), ...ADD, ...v128load(0), ...set(WV0), ...get(W1), ...get(K), ...ADD, ...v128load(0), ...set(WV1)];
  for (let j = 0; j < 4; j++) {
    // x_j = load(PP + K + j * ROW): PP already points at the pixel block; ROW is added j times.
    code.push(...get(PP), ...get(K), ...ADD);
    for (let r = 0; r < j; r++) code.push(...get(ROW), ...ADD);
    code.push(...v128load(0), ...set(XV));
    for (let c = 0; c < 2; c++) code.push(...get(A + 2 * j + c), ...get(XV), ...get(c ? WV1 : WV0), ...DOT, ...ADD4, ...set(A + 2 * j + c));
  }
  return code;
}

/** store bias + horizontal sum of accumulator (j, c) at AROW + j * O4 + c * 4. */
function storeSum(j: number, c: number): number[] {
  const code: number[] = [...get(AROW)];
  for (let r = 0; r < j; r++) code.push(...get(O4), ...ADD);
  code.push(...get(B), ...get(A + 2 * j + c), ...lane(0), ...ADD, ...get(A + 2 * j + c), ...lane(1), ...ADD, ...get(A + 2 * j + c), ...lane(2), ...ADD, ...get(A + 2 * j + c), ...lane(3), ...ADD);
  code.push(...store32(c * 4));
  return code;
}

/** Body of gemm: O must be even (the caller pads with a zero row). */
function gemmBody(): number[] {
  const zero = [...i32c(0), ...SPLAT];
  const c: number[] = [];
  c.push(...get(O), ...i32c(4), ...MUL, ...set(O4));
  c.push(...get(PATCH), ...set(PP));
  // for (pp = patch; pixels left; pp += 4 * ROW, acc += 4 * O4)
  c.push(...BLOCK, ...LOOP);
  c.push(...get(P), ...i32c(0), ...[0x4c] /* i32.le_s */, ...brIf(1));
  c.push(...i32c(0), ...set(OC));
  c.push(...BLOCK, ...LOOP);
  c.push(...get(OC), ...get(O), ...GE_S, ...brIf(1));
  for (let a = 0; a < 8; a++) c.push(...zero, ...set(A + a));
  c.push(...get(W), ...get(OC), ...get(ROW), ...MUL, ...ADD, ...set(W0));
  c.push(...get(W0), ...get(ROW), ...ADD, ...set(W1));
  c.push(...i32c(0), ...set(K));
  c.push(...BLOCK, ...LOOP, ...get(K), ...get(ROW), ...GE_S, ...brIf(1), ...kStep(), ...get(K), ...i32c(16), ...ADD, ...set(K), ...br(0), ...END, ...END);
  c.push(...get(ACC), ...get(OC), ...i32c(4), ...MUL, ...ADD, ...set(AROW));
  for (let ch = 0; ch < 2; ch++) {
    c.push(...get(BIAS), ...get(OC), ...i32c(ch), ...ADD, ...i32c(4), ...MUL, ...ADD, ...load32, ...set(B));
    for (let j = 0; j < 4; j++) c.push(...storeSum(j, ch));
  }
  c.push(...get(OC), ...i32c(2), ...ADD, ...set(OC), ...br(0), ...END, ...END);
  // next 4 pixels
  c.push(...get(PP), ...get(ROW), ...i32c(4), ...MUL, ...ADD, ...set(PP));
  c.push(...get(ACC), ...get(O4), ...i32c(4), ...MUL, ...ADD, ...set(ACC));
  c.push(...get(P), ...i32c(4), ...[0x6b] /* i32.sub */, ...set(P));
  c.push(...br(0), ...END, ...END);
  return c;
}

/**
 * requant(acc, stride, P, O, mult, shift, outOffset, actMin, actMax, out): arm_nn_requantize of P rows of O int32
 * accumulators (row stride `stride` values) per channel (int32 mult and shift arrays), + outOffset, clamped, stored
 * as int8. Exact: the doubling high multiply is a 64-bit product, the rounding shift is arm_nn_divide_by_power_of_two
 * (shifts must be >= -31, which quantizeMultiplier guarantees; the caller checks).
 */
function requantBody(): number[] {
  const [ACCP, STRIDE, NP, NO, MULT, SHIFT, OFF, MIN, MAX, OUT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [CH, S, X, RIGHT, MASK, RES, V, ROWP] = [10, 11, 12, 13, 14, 15, 16, 17];
  const GT_S = [0x4a];
  const LT_S = [0x48];
  const SUB = [0x6b];
  const SELECT = [0x1b];
  const c: number[] = [];
  c.push(...BLOCK, ...LOOP, ...get(NP), ...i32c(0), ...[0x4c], ...brIf(1));
  c.push(...i32c(0), ...set(CH), ...get(ACCP), ...set(ROWP));
  c.push(...BLOCK, ...LOOP, ...get(CH), ...get(NO), ...GE_S, ...brIf(1));
  // s = shift[ch]; x = acc << max(s, 0); right = max(-s, 0)
  c.push(...get(SHIFT), ...get(CH), ...i32c(4), ...MUL, ...ADD, ...load32, ...set(S));
  c.push(...get(ROWP), ...load32, ...get(S), ...i32c(0), ...get(S), ...i32c(0), ...GT_S, ...SELECT, ...[0x74] /* shl */, ...set(X));
  c.push(...i32c(0), ...i32c(0), ...get(S), ...SUB, ...get(S), ...i32c(0), ...GT_S, ...SELECT, ...set(RIGHT));
  // x = (int32)(((int64)x * mult + 2^30) >> 31)
  c.push(...get(X), 0xac, ...get(MULT), ...get(CH), ...i32c(4), ...MUL, ...ADD, ...load32, 0xac, 0x7e, 0x42, ...sleb(1 << 30), 0x7c, 0x42, ...sleb(31), 0x87, 0xa7, ...set(X));
  // rounding divide by 2^right, ties away from zero
  c.push(...i32c(1), ...get(RIGHT), 0x74, ...i32c(1), ...SUB, ...set(MASK));
  c.push(...get(X), ...get(RIGHT), 0x75 /* shr_s */, ...set(RES));
  c.push(...get(RES), ...get(X), ...get(MASK), 0x71 /* and */, ...get(MASK), ...i32c(1), 0x75, ...get(RES), ...i32c(0), ...LT_S, ...ADD, ...GT_S, ...ADD, ...set(RES));
  // v = clamp(res + off, min, max); out[...] = v
  c.push(...get(RES), ...get(OFF), ...ADD, ...set(V));
  c.push(...get(MIN), ...get(V), ...get(V), ...get(MIN), ...LT_S, ...SELECT, ...set(V));
  c.push(...get(MAX), ...get(V), ...get(V), ...get(MAX), ...GT_S, ...SELECT, ...set(V));
  c.push(...get(OUT), ...get(V), 0x3a, 0, 0 /* i32.store8 */);
  c.push(...get(OUT), ...i32c(1), ...ADD, ...set(OUT), ...get(ROWP), ...i32c(4), ...ADD, ...set(ROWP));
  c.push(...get(CH), ...i32c(1), ...ADD, ...set(CH), ...br(0), ...END, ...END);
  c.push(...get(ACCP), ...get(STRIDE), ...i32c(4), ...MUL, ...ADD, ...set(ACCP));
  c.push(...get(NP), ...i32c(1), ...SUB, ...set(NP), ...br(0), ...END, ...END);
  return c;
}

export interface WasmGemm {
  /** Byte address where the caller may lay out its buffers; memory grows on demand. */
  reserve(bytes: number): ArrayBuffer;
  gemm(patch: number, w: number, bias: number, acc: number, rowBytes: number, outC: number, pixels: number): void;
  requant(acc: number, stride: number, pixels: number, outC: number, mult: number, shift: number, outOffset: number, actMin: number, actMax: number, out: number): void;
  im2col(input: number, out: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, inputOffset: number): void;
}

let instance: WasmGemm | null | undefined;

/** The compiled core, or null where WebAssembly SIMD is unavailable (callers then use the JavaScript kernel). */
export function wasmGemm(): WasmGemm | null {
  if (instance !== undefined) return instance;
  try {
    const m = instantiate<Pick<WasmGemm, 'gemm' | 'requant' | 'im2col'>>(
      moduleBytes([
        { name: 'gemm', params: 7, i32Locals: NUM_I32, v128Locals: 11, body: gemmBody() },
        { name: 'requant', params: 10, i32Locals: 8, v128Locals: 0, body: requantBody() },
        { name: 'im2col', params: 14, i32Locals: 9, v128Locals: 2, body: im2colBody('s8') },
      ]),
    );
    instance = { reserve: m.reserve, gemm: m.exports.gemm, requant: m.exports.requant, im2col: m.exports.im2col };
  } catch (e) {
    if (process.env.SQZFW_DEBUG) console.error(e);
    instance = null;
  }
  return instance;
}
