/**
 * Golden twins of the CMSIS-NN s4 convolutions (packed int4 weights, int8 activations): arm_convolve_wrapper_s4
 * and every kernel it dispatches to compute exactly convS8 over the unpacked weights (exact int32 sums, the same
 * requantization). Packing: two weights per byte, element 2i in the low nibble of byte i, the whole OHWI tensor
 * as one stream (rows are not padded to bytes).
 */
import { convS8, type ConvArgs } from './kernels.js';

/** Two int4 values per byte, low nibble first (CMSIS-NN s4). Values must be integers in [-8, 7]. */
export function packInt4(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < -8 || v > 7 || !Number.isInteger(v)) throw new RangeError(`int4 value out of range at ${i}: ${v}`);
    out[i >> 1]! |= (v & 0xf) << ((i & 1) * 4);
  }
  return out;
}

/** Inverse of packInt4: `count` sign-extended nibbles. */
export function unpackInt4(bytes: ArrayLike<number>, count: number): Int8Array {
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const n = (bytes[i >> 1]! >> ((i & 1) * 4)) & 0xf;
    out[i] = n >= 8 ? n - 16 : n;
  }
  return out;
}

export interface ConvS4Args extends Omit<ConvArgs, 'filter'> {
  /** OHWI int4 weights, packed (packInt4). */
  packedFilter: Uint8Array;
}

/** arm_convolve_wrapper_s4 (batch 1, dilation 1). */
export function convS4(a: ConvS4Args): Int8Array {
  const count = a.outDims.c * a.kernel[0] * a.kernel[1] * a.inDims.c;
  if (a.packedFilter.length !== Math.ceil(count / 2)) {
    throw new Error(`convS4: ${a.packedFilter.length} filter bytes for ${count} int4 weights`);
  }
  const { packedFilter, ...rest } = a;
  return convS8({ ...rest, filter: unpackInt4(packedFilter, count) });
}
