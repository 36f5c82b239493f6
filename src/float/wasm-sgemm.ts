/**
 * The float engine's multiply-accumulate core in WebAssembly SIMD (f32x4), assembled from its instructions by
 * src/util/wasm.ts: out[p][o] = act(bias[o] + sum_k patch[p][k] * wT[k][o]), every output summed in float32 over k
 * in increasing order (a multiply, then an add: no fused multiply-add), so each lane computes exactly what
 * `sgemmJs` computes with Math.fround. Lanes run over output channels: per step of k one weight row slice of 8
 * channels (2 loads) meets 4 pixels' broadcast inputs (4 load32_splat) in 8 multiplies and 8 adds.
 *
 * sgemm(patch, wT, bias, out, K, O8, P, relu): P (a multiple of 4) patch rows of K floats; K weight rows of O8 floats
 * (O8 a multiple of 8, padded with zero columns); O8 biases; P output rows of O8 floats; byte addresses.
 * relu != 0 replaces negative sums by 0 (f32x4.pmax(v, 0) = v < 0 ? 0 : v, as the reference interpreter).
 */
import { im2colBody } from '../util/wasm-im2col.js';
import { ADD, BLOCK, END, GE_S, IF, LE_S, LOOP, MUL, SUB, br, brIf, get, i32c, instantiate, load32splat, moduleBytes, set, v128load, v128store } from '../util/wasm.js';

const F_ADD = [0xfd, 0xe4, 0x01];
const F_MUL = [0xfd, 0xe6, 0x01];
const F_PMAX = [0xfd, 0xeb, 0x01];
const F_SPLAT = [0xfd, 0x13];
const F32_0 = [0x43, 0, 0, 0, 0];

// Parameters, i32 locals, v128 locals.
const [PATCH, WT, BIAS, OUT, K, O8, P, RELU] = [0, 1, 2, 3, 4, 5, 6, 7];
const [PP, OC, WP, XP, XEND, OROW, ROWB, OST, R2, R3] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
const NUM_I32 = 10;
const A = 18; // accumulators (pixel j, half c) at A + 2 * j + c
const [WV0, WV1, XV, ZERO] = [26, 27, 28, 29];
const NUM_V128 = 12;

function sgemmBody(): number[] {
  const c: number[] = [];
  c.push(...get(K), ...i32c(4), ...MUL, ...set(ROWB));
  c.push(...get(O8), ...i32c(4), ...MUL, ...set(OST));
  c.push(...get(ROWB), ...i32c(2), ...MUL, ...set(R2), ...get(ROWB), ...i32c(3), ...MUL, ...set(R3));
  c.push(...F32_0, ...F_SPLAT, ...set(ZERO));
  c.push(...get(PATCH), ...set(PP), ...get(OUT), ...set(OROW));
  c.push(...BLOCK, ...LOOP, ...get(P), ...i32c(0), ...LE_S, ...brIf(1)); // pixel blocks of 4
  c.push(...i32c(0), ...set(OC));
  c.push(...BLOCK, ...LOOP, ...get(OC), ...get(OST), ...GE_S, ...brIf(1)); // channel blocks of 8
  c.push(...get(BIAS), ...get(OC), ...ADD, ...v128load(0), ...set(WV0), ...get(BIAS), ...get(OC), ...ADD, ...v128load(16), ...set(WV1));
  for (let j = 0; j < 4; j++) c.push(...get(WV0), ...set(A + 2 * j), ...get(WV1), ...set(A + 2 * j + 1));
  c.push(...get(WT), ...get(OC), ...ADD, ...set(WP), ...get(PP), ...set(XP), ...get(PP), ...get(ROWB), ...ADD, ...set(XEND));
  c.push(...BLOCK, ...LOOP, ...get(XP), ...get(XEND), ...GE_S, ...brIf(1)); // k
  c.push(...get(WP), ...v128load(0), ...set(WV0), ...get(WP), ...v128load(16), ...set(WV1));
  for (let j = 0; j < 4; j++) {
    c.push(...get(XP));
    if (j === 1) c.push(...get(ROWB), ...ADD);
    if (j === 2) c.push(...get(R2), ...ADD);
    if (j === 3) c.push(...get(R3), ...ADD);
    c.push(...load32splat(0), ...set(XV));
    for (let h = 0; h < 2; h++) c.push(...get(A + 2 * j + h), ...get(XV), ...get(h ? WV1 : WV0), ...F_MUL, ...F_ADD, ...set(A + 2 * j + h));
  }
  c.push(...get(WP), ...get(OST), ...ADD, ...set(WP), ...get(XP), ...i32c(4), ...ADD, ...set(XP));
  c.push(...br(0), ...END, ...END);
  c.push(...get(RELU), ...IF);
  for (let a = 0; a < 8; a++) c.push(...get(A + a), ...get(ZERO), ...F_PMAX, ...set(A + a));
  c.push(...END);
  for (let j = 0; j < 4; j++) {
    for (let h = 0; h < 2; h++) {
      c.push(...get(OROW), ...get(OC), ...ADD);
      for (let r = 0; r < j; r++) c.push(...get(OST), ...ADD);
      c.push(...get(A + 2 * j + h), ...v128store(16 * h));
    }
  }
  c.push(...get(OC), ...i32c(32), ...ADD, ...set(OC), ...br(0), ...END, ...END);
  c.push(...get(PP), ...get(ROWB), ...i32c(4), ...MUL, ...ADD, ...set(PP));
  c.push(...get(OROW), ...get(OST), ...i32c(4), ...MUL, ...ADD, ...set(OROW));
  c.push(...get(P), ...i32c(4), ...SUB, ...set(P));
  c.push(...br(0), ...END, ...END);
  return c;
}

export interface WasmSgemm {
  /** Grows the memory to at least `bytes`; returns its buffer (callers lay out their arrays from address 0). */
  reserve(bytes: number): ArrayBuffer;
  sgemm(patch: number, wT: number, bias: number, out: number, k: number, o8: number, pixels: number, relu: number): void;
  /** src/util/wasm-im2col.ts, float32 taps: channels a multiple of 4. */
  im2col(input: number, out: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, unused: number): void;
}

let instance: WasmSgemm | null | undefined;

/** The compiled core, or null where WebAssembly SIMD is unavailable (callers then use `sgemmJs`). */
export function wasmSgemm(): WasmSgemm | null {
  if (instance !== undefined) return instance;
  try {
    const m = instantiate<Pick<WasmSgemm, 'sgemm' | 'im2col'>>(
      moduleBytes([
        { name: 'sgemm', params: 8, i32Locals: NUM_I32, v128Locals: NUM_V128, body: sgemmBody() },
        { name: 'im2col', params: 14, i32Locals: 9, v128Locals: 2, body: im2colBody('f32') },
      ]),
    );
    instance = { reserve: m.reserve, sgemm: m.exports.sgemm, im2col: m.exports.im2col };
  } catch (e) {
    if (process.env.SQZFW_DEBUG) console.error(e);
    instance = null;
  }
  return instance;
}

/** The same computation in JavaScript, float32 step by step (Math.fround): the fallback and the test oracle. */
export function sgemmJs(patch: Float32Array, wT: Float32Array, bias: Float32Array, out: Float32Array, k: number, o8: number, pixels: number, relu: boolean): void {
  const f = Math.fround;
  for (let p = 0; p < pixels; p++) {
    const xb = p * k;
    for (let o = 0; o < o8; o++) {
      let a = bias[o];
      for (let j = 0; j < k; j++) a = f(a + f(patch[xb + j] * wT[j * o8 + o]));
      out[p * o8 + o] = relu && a < 0 ? 0 : a;
    }
  }
}
