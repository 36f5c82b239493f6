/**
 * Scratch memory the CMSIS-NN kernels need, as the *_get_buffer_size functions of CMSIS-NN v7.0.0
 * (built with GCC) compute it. firmware/cmsis-nn implements the same rules and needs exactly these
 * sizes, so memory planned here works with either library.
 *
 *  - arm_convolve_s8 (and arm_convolve_1_x_n_s8 outside MVE builds): two im2col columns of int16,
 *    column length KH*KW*C_IN rounded up to a multiple of 4: 4 * align4(KH*KW*C_IN) bytes.
 *  - 1x1 convolutions (padding 0, filter 1x1): 0 bytes. (Arm's DSP build asks for 4*C_IN bytes only
 *    when compiled with Arm Compiler 6, and then also runs without a buffer when ctx.buf is NULL.)
 *  - The scalar and DSP builds need the same conv scratch; average pooling differs (DSP: 4 bytes
 *    per channel for int32 sums; scalar: none). Max pooling never needs scratch.
 * A caller whose scratch size is 0 should pass ctx.buf = NULL, size 0.
 */
import type { Dims } from '../graph/ir.js';

export type KernelPath = 'scalar' | 'dsp';

export interface ConvScratchArgs {
  inDims: Dims;
  kernel: [number, number]; // [kh, kw]
  stride: [number, number]; // [sh, sw]
  padTop: number;
  padLeft: number;
  outDims: Dims;
}

const align4 = (n: number): number => (n % 4 === 0 ? n : n + 4 - (n % 4));

/** arm_convolve_s8_get_buffer_size (non-MVE): two int16 im2col columns. */
export function convolveS8ScratchBytes(inC: number, kernel: [number, number]): number {
  return 2 * align4(kernel[0] * kernel[1] * inC) * 2;
}

/** The wrapper's 1x1 condition as the size function tests it (no dilation in our graphs). */
const is1x1 = (a: ConvScratchArgs): boolean =>
  a.padTop === 0 && a.padLeft === 0 && a.kernel[0] === 1 && a.kernel[1] === 1;

/** The wrapper's 1xN condition (input height 1, filter height 1, stride.w * C_IN % 4 == 0). */
const is1xN = (a: ConvScratchArgs): boolean => a.inDims.h === 1 && a.kernel[0] === 1 && (a.stride[1] * a.inDims.c) % 4 === 0;

/**
 * arm_convolve_wrapper_s8_get_buffer_size for a build with (dsp) or without (scalar) the DSP extension.
 * The two builds give the same value with GCC; the path argument is kept for clarity at call sites.
 */
export function convScratchBytes(a: ConvScratchArgs, path: KernelPath): number {
  void path; // arm_convolve_wrapper_s8_get_buffer_size and its _dsp variant agree for GCC builds
  if (is1x1(a)) return 0; // arm_convolve_1x1_s8_fast / arm_convolve_1x1_s8
  // arm_convolve_1_x_n_s8 uses arm_convolve_s8's buffer outside MVE builds, so both remaining cases agree
  return convolveS8ScratchBytes(a.inDims.c, a.kernel);
}

/**
 * arm_convolve_wrapper_s8_get_buffer_size_mve: what Arm's CMSIS-NN needs on an MVE core (Cortex-M55)
 * when linked instead of firmware/cmsis-nn (which has no MVE path and uses the DSP rule there).
 */
export function convScratchBytesMve(a: ConvScratchArgs): number {
  const c = a.inDims.c;
  const mveConv = (): number => 4 * Math.ceil((c * a.kernel[0] * a.kernel[1]) / 16) * 16;
  if (is1x1(a)) return 0;
  if (is1xN(a)) {
    const [kw, sw, pad, outW] = [a.kernel[1], a.stride[1], a.padLeft, a.outDims.w];
    const oddPad = ((outW - 1) * sw + kw - a.inDims.w) % 2; // C remainder: may be -1
    const rightN = pad + oddPad !== 0 ? Math.max(1, Math.trunc((pad + oddPad + sw - 1) / sw)) : 0;
    const leftN = pad !== 0 ? Math.max(1, Math.trunc((pad + sw - 1) / sw)) : 0;
    const midN = Math.max(outW - (rightN + leftN), 0);
    if (rightN + midN + leftN !== outW) return mveConv();
    const left = kw * c + pad * c;
    const right = (kw - 1) * c + (oddPad !== 0 ? rightN * c : pad * c);
    return Math.max(left, right);
  }
  return mveConv();
}

/** arm_avgpool_s8_get_buffer_size: one int32 per channel in DSP builds, nothing otherwise. */
export function avgPoolScratchBytes(outW: number, channels: number, path: KernelPath): number {
  void outW;
  return path === 'dsp' ? 4 * channels : 0;
}

/** arm_max_pool_s8 needs no scratch. */
export function maxPoolScratchBytes(): 0 {
  return 0;
}

/**
 * Scratch of one pool layer's call: arm_avgpool_s8's rule for average pools; max pools and the requantizing global
 * average pool (sqzfw_global_avgpool_requant_s8, which accumulates in registers) need none.
 */
export function poolScratchBytes(layer: { op: string; requant?: unknown }, outW: number, channels: number, path: KernelPath): number {
  return layer.op === 'avgpool' && !layer.requant ? avgPoolScratchBytes(outW, channels, path) : 0;
}

/**
 * arm_convolve_wrapper_s4_get_buffer_size (non-MVE; the same with and without DSP): 0 for an unpadded 1x1 filter,
 * else arm_convolve_s4's two int16 columns of KH*KW*C_IN, not rounded up (unlike the s8 rule).
 */
export function convS4ScratchBytes(a: ConvScratchArgs): number {
  if (is1x1(a)) return 0;
  return 2 * a.kernel[0] * a.kernel[1] * a.inDims.c * 2;
}

/**
 * Scratch of one conv layer's call: the s4 wrapper's rule for int4 weights, else the s8 wrapper's. A layer with
 * int8 channels (QConv.int8Channels) runs as an s8 and an s4 call sharing one scratch buffer: the larger of the two.
 */
export function layerConvScratchBytes(layer: { weightBits?: 4 | 8; int8Channels?: number[] }, a: ConvScratchArgs, path: KernelPath): number {
  if (layer.weightBits !== 4) return convScratchBytes(a, path);
  return layer.int8Channels ? Math.max(convScratchBytes(a, path), convS4ScratchBytes(a)) : convS4ScratchBytes(a);
}
