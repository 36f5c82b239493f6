/*
 * sqzfw portable int8 NN kernels - int8 x int8 matrix product with requantization.
 *
 * Used by the 1x1 convolutions: every lhs row is one input pixel (its channels), every rhs row
 * is one output channel's weights. Needs no scratch memory.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_dsp.h"

#if defined(ARM_MATH_DSP)

/* Sum of a weight row: the input offset contributes lhs_offset * sum(w) to every dot product. */
static int32_t row_sum(const int8_t *w, int32_t cols)
{
    int32_t s = 0;
    int32_t k;
    for (k = 0; k < cols; k++)
    {
        s += w[k];
    }
    return s;
}

void sqzfw_nn_mat_mult_nt_t_s8(const int8_t *lhs,
                               const int32_t lhs_rows,
                               const int32_t lhs_stride,
                               const int8_t *rhs,
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
                               const int32_t dst_stride)
{
    const int32_t cols4 = cols & ~3;
    int32_t o = 0;

    /* two output channels at a time */
    for (; o + 1 < rhs_rows; o += 2)
    {
        const int8_t *w0 = rhs + o * cols;
        const int8_t *w1 = w0 + cols;
        const int32_t base0 = sqzfw_add_wrap(bias ? bias[o] : 0, sqzfw_mul_wrap(row_sum(w0, cols), lhs_offset));
        const int32_t base1 = sqzfw_add_wrap(bias ? bias[o + 1] : 0, sqzfw_mul_wrap(row_sum(w1, cols), lhs_offset));
        const int32_t m0 = multipliers[o], m1 = multipliers[o + 1];
        const int32_t s0 = shifts[o], s1 = shifts[o + 1];
        const int8_t *a0 = lhs;
        int8_t *d = dst + o;
        int32_t r = 0;

        /* two pixels at a time: 2x2 outputs share every load */
        for (; r + 1 < lhs_rows; r += 2)
        {
            const int8_t *a1 = a0 + lhs_stride;
            int32_t acc00 = base0, acc01 = base1, acc10 = base0, acc11 = base1;
            int32_t k = 0;
            for (; k < cols4; k += 4)
            {
                const int32_t wa = sqzfw_read_s8x4(w0 + k);
                const int32_t wb = sqzfw_read_s8x4(w1 + k);
                const int32_t wa02 = sqzfw_sxtb16(wa), wa13 = sqzfw_sxtb16_ror8(wa);
                const int32_t wb02 = sqzfw_sxtb16(wb), wb13 = sqzfw_sxtb16_ror8(wb);
                int32_t x = sqzfw_read_s8x4(a0 + k);
                int32_t x02 = sqzfw_sxtb16(x), x13 = sqzfw_sxtb16_ror8(x);
                acc00 = sqzfw_smlad(x02, wa02, acc00);
                acc00 = sqzfw_smlad(x13, wa13, acc00);
                acc01 = sqzfw_smlad(x02, wb02, acc01);
                acc01 = sqzfw_smlad(x13, wb13, acc01);
                x = sqzfw_read_s8x4(a1 + k);
                x02 = sqzfw_sxtb16(x);
                x13 = sqzfw_sxtb16_ror8(x);
                acc10 = sqzfw_smlad(x02, wa02, acc10);
                acc10 = sqzfw_smlad(x13, wa13, acc10);
                acc11 = sqzfw_smlad(x02, wb02, acc11);
                acc11 = sqzfw_smlad(x13, wb13, acc11);
            }
            for (; k < cols; k++)
            {
                const int32_t x0 = a0[k], x1 = a1[k];
                acc00 += x0 * w0[k];
                acc01 += x0 * w1[k];
                acc10 += x1 * w0[k];
                acc11 += x1 * w1[k];
            }
            d[0] = sqzfw_requantize_clamp(acc00, m0, s0, dst_offset, act_min, act_max);
            d[1] = sqzfw_requantize_clamp(acc01, m1, s1, dst_offset, act_min, act_max);
            d += dst_stride;
            d[0] = sqzfw_requantize_clamp(acc10, m0, s0, dst_offset, act_min, act_max);
            d[1] = sqzfw_requantize_clamp(acc11, m1, s1, dst_offset, act_min, act_max);
            d += dst_stride;
            a0 = a1 + lhs_stride;
        }
        if (r < lhs_rows)
        {
            int32_t acc0 = base0, acc1 = base1;
            int32_t k = 0;
            for (; k < cols4; k += 4)
            {
                const int32_t wa = sqzfw_read_s8x4(w0 + k);
                const int32_t wb = sqzfw_read_s8x4(w1 + k);
                const int32_t x = sqzfw_read_s8x4(a0 + k);
                const int32_t x02 = sqzfw_sxtb16(x), x13 = sqzfw_sxtb16_ror8(x);
                acc0 = sqzfw_smlad(x02, sqzfw_sxtb16(wa), acc0);
                acc0 = sqzfw_smlad(x13, sqzfw_sxtb16_ror8(wa), acc0);
                acc1 = sqzfw_smlad(x02, sqzfw_sxtb16(wb), acc1);
                acc1 = sqzfw_smlad(x13, sqzfw_sxtb16_ror8(wb), acc1);
            }
            for (; k < cols; k++)
            {
                acc0 += a0[k] * w0[k];
                acc1 += a0[k] * w1[k];
            }
            d[0] = sqzfw_requantize_clamp(acc0, m0, s0, dst_offset, act_min, act_max);
            d[1] = sqzfw_requantize_clamp(acc1, m1, s1, dst_offset, act_min, act_max);
        }
    }

    /* last output channel when their number is odd */
    if (o < rhs_rows)
    {
        const int8_t *w0 = rhs + o * cols;
        const int32_t base0 = sqzfw_add_wrap(bias ? bias[o] : 0, sqzfw_mul_wrap(row_sum(w0, cols), lhs_offset));
        const int8_t *a0 = lhs;
        int8_t *d = dst + o;
        int32_t r;
        for (r = 0; r < lhs_rows; r++)
        {
            int32_t acc = base0;
            int32_t k = 0;
            for (; k < cols4; k += 4)
            {
                const int32_t w = sqzfw_read_s8x4(w0 + k);
                const int32_t x = sqzfw_read_s8x4(a0 + k);
                acc = sqzfw_smlad(sqzfw_sxtb16(x), sqzfw_sxtb16(w), acc);
                acc = sqzfw_smlad(sqzfw_sxtb16_ror8(x), sqzfw_sxtb16_ror8(w), acc);
            }
            for (; k < cols; k++)
            {
                acc += a0[k] * w0[k];
            }
            *d = sqzfw_requantize_clamp(acc, multipliers[o], shifts[o], dst_offset, act_min, act_max);
            d += dst_stride;
            a0 += lhs_stride;
        }
    }
}

#else /* plain C */

void sqzfw_nn_mat_mult_nt_t_s8(const int8_t *lhs,
                               const int32_t lhs_rows,
                               const int32_t lhs_stride,
                               const int8_t *rhs,
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
                               const int32_t dst_stride)
{
    int32_t r;
    for (r = 0; r < lhs_rows; r++)
    {
        const int8_t *a = lhs + r * lhs_stride;
        int8_t *d = dst + r * dst_stride;
        int32_t o;
        for (o = 0; o < rhs_rows; o++)
        {
            const int8_t *w = rhs + o * cols;
            int32_t acc = bias ? bias[o] : 0;
            int32_t k;
            for (k = 0; k < cols; k++)
            {
                acc += (a[k] + lhs_offset) * w[k];
            }
            d[o] = sqzfw_requantize_clamp(acc, multipliers[o], shifts[o], dst_offset, act_min, act_max);
        }
    }
}

#endif
