/* sqzfw: the classifier conv fused with its requantizing global average pool. The conv runs over row bands of its
 * output into a small band buffer; each band is added into per-channel int32 sums at once, and the sums are
 * requantized after the last band, so the conv output never exists whole. Bit-exact with the unfused
 * conv -> int8 -> sqzfw_global_avgpool_requant_s8 (the same exact int32 sums, the same requantization).
 * Golden model: src/golden/gap-fused.ts. */
#ifndef SQZFW_OPS_GAP_H
#define SQZFW_OPS_GAP_H

#include <stdint.h>
#include "arm_nn_types.h"

/* Requantization of the pool output (QPoolRequant and the pool's activation range). */
typedef struct
{
    int32_t output_offset; /* pool output zero point */
    int32_t mult;          /* (mult, shift) = QuantizeMultiplier(in_scale / (h*w * out_scale)) */
    int32_t shift;
    int32_t act_min;
    int32_t act_max;
} sqzfw_gap_out_params;

/*
 * sum[ch] = (first ? 0 : sum[ch]) + sum over the band's pixels p of (in[p*c + ch] + input_offset).
 * in: pixels x c int8 (NHWC rows of the conv output); input_offset = -pool input zero point, -128..128.
 * Exact while the whole pool's h*w stays within SQZFW_GAP_MAX_COUNT (sqzfw_ops.h), which the planner checks.
 * Returns ARM_CMSIS_NN_ARG_ERROR (writing nothing) for c < 1, pixels < 0 or an input_offset out of range.
 */
arm_cmsis_nn_status sqzfw_gap_accumulate_s8(const int8_t *in, int32_t pixels, int32_t c, int32_t input_offset, int32_t first, int32_t *sum);

/*
 * sqzfw_gap_accumulate_s8 for a block of channels computed out of class order (a classifier conv split between an
 * s8 and an s4 call writes each call's channels as a block: pixels x c of them): channel ch of the block is added
 * into sum[order[ch]] (order NULL: sum[ch], which is sqzfw_gap_accumulate_s8). With first, only those c sums start
 * from 0; the others are left as they are.
 * The same argument checks as sqzfw_gap_accumulate_s8.
 */
arm_cmsis_nn_status sqzfw_gap_accumulate_order_s8(const int8_t *in, int32_t pixels, int32_t c, const uint16_t *order, int32_t input_offset, int32_t first, int32_t *sum);

/* out[ch] = clamp(sqzfw_requantize(sum[ch], mult, shift) + output_offset, act_min, act_max), ch < c. */
arm_cmsis_nn_status sqzfw_gap_finish_s8(const int32_t *sum, int32_t c, const sqzfw_gap_out_params *p, int8_t *out);

#endif
