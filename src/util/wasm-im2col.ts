/**
 * im2col in WebAssembly SIMD for the int8 and the float engines (each module assembles its own copy):
 * im2col(in, out, H, W, C, OH, OW, KH, KW, SH, SW, padTop, padLeft, inputOffset) writes every output pixel's window
 * as a row of KH * KW * C taps (ky, kx, c order), zeros for padding.
 * - s8: int16 taps = input + inputOffset; C a multiple of 8 (v128.load8x8_s sign-extends 8 channels, i16x8.add adds
 *   the offset, wrapping like an Int16Array store);
 * - f32: float32 taps copied as they are (inputOffset unused); C a multiple of 4.
 */
import { ADD, BLOCK, END, GE_S, IF, LOOP, MUL, SUB, br, brIf, get, i32c, set, v128load, v128store } from './wasm.js';

export function im2colBody(kind: 's8' | 'f32'): number[] {
  const [IN, OUT, H, Wd, C, OH, OW, KH, KW, SH, SW, PT, PL, OFF] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [OY, OX, KY, KX, Y, X, CI, SRC, DST] = [14, 15, 16, 17, 18, 19, 20, 21, 22];
  const [OFFV, ZERO] = [23, 24];
  const LT_U = [0x49];
  const AND = [0x71];
  const IF_ELSE = [0x05];
  const loop = (i: number, n: number, body: number[]): number[] => [...i32c(0), ...set(i), ...BLOCK, ...LOOP, ...get(i), ...get(n), ...GE_S, ...brIf(1), ...body, ...get(i), ...i32c(1), ...ADD, ...set(i), ...br(0), ...END, ...END];
  const s8 = kind === 's8';
  const eb = s8 ? 2 : 4; // bytes per tap written
  const step = s8 ? 8 : 4; // channels per v128
  const chans = (store: number[]): number[] => [...i32c(0), ...set(CI), ...BLOCK, ...LOOP, ...get(CI), ...get(C), ...GE_S, ...brIf(1), ...store, ...get(CI), ...i32c(step), ...ADD, ...set(CI), ...br(0), ...END, ...END];
  const dst = [...get(DST), ...get(CI), ...i32c(eb), ...MUL, ...ADD];
  const load = s8 ? [...get(SRC), ...get(CI), ...ADD, 0xfd, 0x01, 0, 0 /* load8x8_s */, ...get(OFFV), 0xfd, 0x8e, 0x01 /* i16x8.add */] : [...get(SRC), ...get(CI), ...i32c(4), ...MUL, ...ADD, ...v128load(0)];
  const copy = chans([...dst, ...load, ...v128store(0)]);
  const zero = chans([...dst, ...get(ZERO), ...v128store(0)]);
  const inBytes = s8 ? 1 : 4;
  const tap = [
    ...get(OX), ...get(SW), ...MUL, ...get(PL), ...SUB, ...get(KX), ...ADD, ...set(X),
    ...get(Y), ...get(H), ...LT_U, ...get(X), ...get(Wd), ...LT_U, ...AND,
    ...IF, ...get(IN), ...get(Y), ...get(Wd), ...MUL, ...get(X), ...ADD, ...get(C), ...MUL, ...i32c(inBytes), ...MUL, ...ADD, ...set(SRC), ...copy, ...IF_ELSE, ...zero, ...END,
    ...get(DST), ...get(C), ...i32c(eb), ...MUL, ...ADD, ...set(DST),
  ];
  const row = [...get(OY), ...get(SH), ...MUL, ...get(PT), ...SUB, ...get(KY), ...ADD, ...set(Y), ...loop(KX, KW, tap)];
  return [...get(OFF), 0xfd, 0x10 /* i16x8.splat */, ...set(OFFV), ...i32c(0), 0xfd, 0x10, ...set(ZERO), ...get(OUT), ...set(DST), ...loop(OY, OH, loop(OX, OW, loop(KY, KH, row)))];
}
