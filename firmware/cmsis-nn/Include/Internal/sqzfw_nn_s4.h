/*
 * sqzfw portable NN kernels - packed int4 weights (internal helpers of the *_s4 convolutions).
 *
 * Packing (CMSIS-NN s4): the filter tensor [C_OUT][KH][KW][C_IN] is one stream of int4 values, two per
 * byte, element 2i in the low nibble and 2i+1 in the high nibble of byte i. Rows are not padded to
 * whole bytes: with an odd row length every other output channel starts in a high nibble.
 *
 * Column order: the int16 im2col columns the s4 kernels build hold (x + input_offset) in natural order
 * in a plain C build; a DSP build stores each full group of eight as elements (0, 4, 1, 5, 2, 6, 3, 7)
 * (the tail of n % 8 elements stays in natural order), the order in which one 32-bit word of packed
 * weights gives its pairs (see Source/NNSupportFunctions/sqzfw_nn_s4.c).
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

/** Reorders an int16 column of n elements into the build's column order (see above); no-op without DSP. */
void sqzfw_s4_column_order(int16_t *col, const int32_t n);

/**
 * out0[o] and out1[o] for o < rhs_rows: requantized (bias[o] + sum_k s4[o * cols + k] * col[k]) for the
 * columns col0 and col1 (both in the build's column order), plus dst_offset, clamped to [act_min, act_max].
 * col1 may be NULL (one column; out1 is not written).
 */
void sqzfw_nn_mat_mult_s4_s16(const int8_t *packed_rhs,
                              const int32_t rhs_rows,
                              const int32_t cols,
                              const int16_t *col0,
                              const int16_t *col1,
                              const int32_t *bias,
                              const int32_t *multipliers,
                              const int32_t *shifts,
                              const int32_t dst_offset,
                              const int32_t act_min,
                              const int32_t act_max,
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
