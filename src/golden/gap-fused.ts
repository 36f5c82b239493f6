/**
 * The classifier conv fused with its requantizing global average pool (sqzfw_ops_gap.c in firmware/runtime):
 * the conv runs over row bands of its output and each band's int8 values are added into per-channel int32 sums at
 * once, so the conv output never exists whole; the sums are requantized once at the end. Exactly the unfused
 * conv -> int8 -> globalAvgPoolRequantS8 (kernels.ts): that function sums the same int8 values (plus the input
 * offset) in an exact int32 and requantizes the same way; only the order of the exact additions differs.
 */
import { GAP_MAX_COUNT, requantize } from './kernels.js';

export interface GapAccumulateArgs {
  /** `pixels` x `c` int8 values (NHWC rows of the conv output band). */
  input: Int8Array;
  pixels: number;
  c: number;
  /** -zero point of the pool input (QPoolRequant.inputOffset), -128..128. */
  inputOffset: number;
  /** c per-channel sums, updated in place. */
  sum: Int32Array;
  /** The first band: the sums start from 0 instead of their previous value. */
  first: boolean;
}

/** sqzfw_gap_accumulate_s8: sum[ch] (+)= sum over the band's pixels of (in + inputOffset). */
export function gapAccumulateS8(a: GapAccumulateArgs): void {
  if (a.c < 1 || a.pixels < 0 || a.pixels > GAP_MAX_COUNT || a.inputOffset < -128 || a.inputOffset > 128) {
    throw new Error(`gap accumulate of ${a.pixels}x${a.c}, input offset ${a.inputOffset}, is out of range`);
  }
  for (let ch = 0; ch < a.c; ch++) {
    let acc = a.first ? 0 : a.sum[ch];
    for (let p = 0; p < a.pixels; p++) acc += a.input[p * a.c + ch] + a.inputOffset;
    a.sum[ch] = acc;
  }
}

export interface GapFinishArgs {
  sum: Int32Array;
  c: number;
  outputOffset: number;
  mult: number;
  shift: number;
  actMin: number;
  actMax: number;
}

/** sqzfw_gap_finish_s8: out[ch] = clamp(requantize(sum[ch], mult, shift) + outputOffset, actMin, actMax). */
export function gapFinishS8(a: GapFinishArgs): Int8Array {
  const out = new Int8Array(a.c);
  for (let ch = 0; ch < a.c; ch++) {
    const v = requantize(a.sum[ch], a.mult, a.shift) + a.outputOffset;
    out[ch] = v < a.actMin ? a.actMin : v > a.actMax ? a.actMax : v;
  }
  return out;
}
