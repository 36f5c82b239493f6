/**
 * Max pooling in WebAssembly SIMD for the float and the int8 engines, 16 bytes of channels per step (4 float32 or
 * 16 int8 channels): for each output pixel and channel block, the running max over the window clipped to the input.
 * - f32: f32x4.pmax(acc, v) = acc < v ? v : acc from -Infinity, exactly the float interpreter's `if (v > m) m = v`.
 * - s8: i8x16.max_s from -128, then clamped to [actMin, actMax]: exactly arm_max_pool_s8 (the reference maxPoolS8).
 * Channel rows must be a multiple of 16 bytes (callers take their JavaScript loop otherwise).
 *
 * maxpool_f32(in, out, H, W, rowBytes, OH, OW, KH, KW, SH, SW, padTop, padLeft)
 * maxpool_s8(in, out, H, W, rowBytes, OH, OW, KH, KW, SH, SW, padTop, padLeft, actMin, actMax)
 */
import { ADD, BLOCK, END, GE_S, LOOP, MUL, SUB, br, brIf, get, i32c, instantiate, moduleBytes, set, v128load, v128store } from './wasm.js';

const [IN, OUT, H, W, CB, OH, OW, KH, KW, SH, SW, PT, PL, MIN, MAX] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

function body(kind: 'f32' | 's8'): number[] {
  const base = kind === 'f32' ? 13 : 15;
  const [OY, OX, YS, YE, XS, XE, Y, X, C, OPTR] = Array.from({ length: 10 }, (_, i) => base + i);
  const [ACC, INIT, VMIN, VMAX] = [base + 10, base + 11, base + 12, base + 13];
  const LT_S = [0x48];
  const SELECT = [0x1b];
  const imax = (x: number[], y: number[]): number[] => [...x, ...y, ...x, ...y, 0x4a /* gt_s */, ...SELECT]; // x > y ? x : y
  const imin = (x: number[], y: number[]): number[] => [...x, ...y, ...x, ...y, ...LT_S, ...SELECT]; // x < y ? x : y
  const vmax = kind === 'f32' ? [0xfd, 0xeb, 0x01] : [0xfd, 0x78];
  const c: number[] = [];
  if (kind === 'f32') c.push(0x43, 0x00, 0x00, 0x80, 0xff, 0xfd, 0x13, ...set(INIT));
  else {
    c.push(...i32c(-128), 0xfd, 0x0f, ...set(INIT));
    c.push(...get(MIN), 0xfd, 0x0f, ...set(VMIN), ...get(MAX), 0xfd, 0x0f, ...set(VMAX));
  }
  c.push(...get(OUT), ...set(OPTR), ...i32c(0), ...set(OY));
  c.push(...BLOCK, ...LOOP, ...get(OY), ...get(OH), ...GE_S, ...brIf(1));
  // ys = max(0, oy * SH - PT); ye = min(oy * SH - PT + KH, H)
  c.push(...imax([...get(OY), ...get(SH), ...MUL, ...get(PT), ...SUB], i32c(0)), ...set(YS));
  c.push(...imin([...get(OY), ...get(SH), ...MUL, ...get(PT), ...SUB, ...get(KH), ...ADD], get(H)), ...set(YE));
  c.push(...i32c(0), ...set(OX));
  c.push(...BLOCK, ...LOOP, ...get(OX), ...get(OW), ...GE_S, ...brIf(1));
  c.push(...imax([...get(OX), ...get(SW), ...MUL, ...get(PL), ...SUB], i32c(0)), ...set(XS));
  c.push(...imin([...get(OX), ...get(SW), ...MUL, ...get(PL), ...SUB, ...get(KW), ...ADD], get(W)), ...set(XE));
  c.push(...i32c(0), ...set(C));
  c.push(...BLOCK, ...LOOP, ...get(C), ...get(CB), ...GE_S, ...brIf(1));
  c.push(...get(INIT), ...set(ACC), ...get(YS), ...set(Y));
  c.push(...BLOCK, ...LOOP, ...get(Y), ...get(YE), ...GE_S, ...brIf(1), ...get(XS), ...set(X));
  c.push(...BLOCK, ...LOOP, ...get(X), ...get(XE), ...GE_S, ...brIf(1));
  // acc = max(acc, in[(y * W + x) * CB + c])
  c.push(...get(ACC), ...get(IN), ...get(Y), ...get(W), ...MUL, ...get(X), ...ADD, ...get(CB), ...MUL, ...ADD, ...get(C), ...ADD, ...v128load(0), ...vmax, ...set(ACC));
  c.push(...get(X), ...i32c(1), ...ADD, ...set(X), ...br(0), ...END, ...END);
  c.push(...get(Y), ...i32c(1), ...ADD, ...set(Y), ...br(0), ...END, ...END);
  if (kind === 's8') c.push(...get(ACC), ...get(VMIN), 0xfd, 0x78, ...get(VMAX), 0xfd, 0x76, ...set(ACC));
  c.push(...get(OPTR), ...get(C), ...ADD, ...get(ACC), ...v128store(0));
  c.push(...get(C), ...i32c(16), ...ADD, ...set(C), ...br(0), ...END, ...END);
  c.push(...get(OPTR), ...get(CB), ...ADD, ...set(OPTR));
  c.push(...get(OX), ...i32c(1), ...ADD, ...set(OX), ...br(0), ...END, ...END);
  c.push(...get(OY), ...i32c(1), ...ADD, ...set(OY), ...br(0), ...END, ...END);
  return c;
}

export interface PoolGeometry {
  h: number;
  w: number;
  /** Channels (the row is c * element bytes). */
  c: number;
  oh: number;
  ow: number;
  kernel: [number, number];
  stride: [number, number];
  padTop: number;
  padLeft: number;
}

export interface WasmMaxPool {
  /** Float32 max pool, or null when the channel row is not a multiple of 16 bytes. */
  f32(input: Float32Array, g: PoolGeometry): Float32Array | null;
  /** arm_max_pool_s8, or null when the channel count is not a multiple of 16. */
  s8(input: Int8Array, g: PoolGeometry, actMin: number, actMax: number): Int8Array | null;
}

type Exports = {
  maxpool_f32: (...a: number[]) => void;
  maxpool_s8: (...a: number[]) => void;
};

let instance: WasmMaxPool | null | undefined;

/** The compiled pools, or null where WebAssembly SIMD is unavailable. */
export function wasmMaxPool(): WasmMaxPool | null {
  if (instance !== undefined) return instance;
  try {
    const m = instantiate<Exports>(
      moduleBytes([
        { name: 'maxpool_f32', params: 13, i32Locals: 10, v128Locals: 4, body: body('f32') },
        { name: 'maxpool_s8', params: 15, i32Locals: 10, v128Locals: 4, body: body('s8') },
      ]),
    );
    const run = <T extends Float32Array | Int8Array>(input: T, g: PoolGeometry, bytes: number, make: (b: ArrayBuffer, at: number, n: number) => T, call: (outAt: number) => void): T | null => {
      const rowBytes = g.c * bytes;
      if (rowBytes % 16) return null;
      const inBytes = g.h * g.w * rowBytes;
      const outBytes = g.oh * g.ow * rowBytes;
      const buf = m.reserve(inBytes + outBytes);
      make(buf, 0, g.h * g.w * g.c).set(input.subarray(0, g.h * g.w * g.c));
      call(inBytes);
      return make(buf, inBytes, g.oh * g.ow * g.c).slice() as T;
    };
    const args = (g: PoolGeometry, outAt: number, bytes: number): number[] => [0, outAt, g.h, g.w, g.c * bytes, g.oh, g.ow, g.kernel[0], g.kernel[1], g.stride[0], g.stride[1], g.padTop, g.padLeft];
    instance = {
      f32: (input, g) => run(input, g, 4, (b, at, n) => new Float32Array(b, at, n), (outAt) => m.exports.maxpool_f32(...args(g, outAt, 4))),
      s8: (input, g, actMin, actMax) => run(input, g, 1, (b, at, n) => new Int8Array(b, at, n), (outAt) => m.exports.maxpool_s8(...args(g, outAt, 1), actMin, actMax)),
    };
  } catch (e) {
    if (process.env.SQZFW_DEBUG) console.error(e);
    instance = null;
  }
  return instance;
}
