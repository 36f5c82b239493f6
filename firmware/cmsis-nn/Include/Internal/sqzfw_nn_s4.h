/*
 * sqzfw portable NN kernels - packed int4 weights (internal helpers of the *_s4 convolutions).
 *
 * Packing (CMSIS-NN s4): the filter tensor [C_OUT][KH][KW][C_IN] is one stream of int4 values, two per
 * byte, element 2i in the low nibble and 2i+1 in the high nibble of byte i. Rows are not padded to
 * whole bytes: with an odd row length every other output channel starts in a high nibble.
 *
 * Column pairs: the im2col path works on two output positions at a time, their int16 columns of n
 * elements (x + input_offset, 0 for padding) side by side in the 2 * n elements of scratch Arm's rule
 * gives. In a plain C build column i is elements i * n .. i * n + n - 1, in natural order. A DSP build
 * interleaves them by groups of eight: with n8 = n & ~7, the group of elements 8g .. 8g + 7 of column i
 * is at 16g + 8i, in the order (0, 4, 1, 5, 2, 6, 3, 7), the order in which one 32-bit word of packed
 * weights gives its pairs (see Source/NNSupportFunctions/sqzfw_nn_s4.c); the tails of n - n8 elements
 * follow in natural order, column 0's at 2 * n8, column 1's after it. sqzfw_s4_pair_put writes them.
 * Written from scratch for sqzfw (MIT).
 */
#ifndef SQZFW_NN_S4_H
#define SQZFW_NN_S4_H

#include "../arm_nnsupportfunctions.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Element e of a packed int4 stream, sign-extended. */
SQZFW_INLINE int32_t sqzfw_s4_at(const int8_t *packed, const int32_t e)
{
    const uint32_t b = (uint32_t)(uint8_t)packed[e >> 1];
    const uint32_t v = ((e & 1) != 0) ? (b >> 4) : (b & 15U);
    return (int32_t)v - (int32_t)((v & 8U) << 1);
}

/**
 * Elements k .. k + len - 1 of column i (0 or 1) of a pair of n-element columns (the layout above):
 * src[j] + offset, or 0 (the zero point) for all of them when src is NULL.
 */
void sqzfw_s4_pair_put(int16_t *pair, const int32_t n, const int32_t i, int32_t k, const int8_t *src, const int32_t len, const int32_t offset);

/**
 * How a call of n channels with cols columns requantizes (sqzfw_nn_requant.h): SQZFW_RQ_LEAN when that applies,
 * else sqzfw_rq_mode's choice for the int4 bound |sum| <= cols * 8 * 255. Decided once per convolution.
 */
int32_t sqzfw_s4_rq_mode(const int32_t *bias, const int32_t *shifts, const int32_t n, const int32_t cols, const int32_t dst_offset, const int32_t act_min, const int32_t act_max);

/**
 * out0[o] and out1[o] for o < rhs_rows: requantized (bias[o] + sum_k s4[o * cols + k] * column[k]) for the
 * two columns of pair (the layout above), plus dst_offset, clamped to [act_min, act_max]; mode from
 * sqzfw_s4_rq_mode for the same call. out1 may be NULL: column 1 (filled all the same, e.g. with column 0's
 * values) is then computed but not written.
 */
void sqzfw_nn_mat_mult_s4_s16(const int8_t *packed_rhs,
                              const int32_t rhs_rows,
                              const int32_t cols,
                              const int16_t *pair,
                              const int32_t *bias,
                              const int32_t *multipliers,
                              const int32_t *shifts,
                              const int32_t dst_offset,
                              const int32_t act_min,
                              const int32_t act_max,
                              const int32_t mode,
                              int8_t *out0,
                              int8_t *out1);

/**
 * dst[r * dst_stride + o] for r < lhs_rows, o < rhs_rows: requantized (bias[o] + sum_k s4[o * cols + k] *
 * (lhs[r * lhs_stride + k] + lhs_offset)), plus dst_offset, clamped to [act_min, act_max].
 */
void sqzfw_nn_mat_mult_nt_t_s4(const int8_t *lhs,
                               const int32_t lhs_rows,
                               const int32_t lhs_stride,
                               const int8_t *packed_rhs,
                               const int32_t rhs_rows,
                               const int32_t cols,
                               const int32_t *bias,
                               const int32_t *multipliers,
                               const int32_t *shifts,
                               const int32_t lhs_offset,
                               const int32_t dst_offset,
                               const int32_t act_min,
                               const int32_t act_max,
                               int8_t *dst,
                               const int32_t dst_stride);

#ifdef __cplusplus
}
#endif

#endif /* SQZFW_NN_S4_H */
