/*
 * sqzfw portable NN kernels - dot products of packed int4 weights (see Include/Internal/sqzfw_nn_s4.h).
 *
 * DSP path: four weights at a time. Their 16 bits are spread so that the nibbles of weights (0, 2) sit in
 * the top halves of bytes 0 and 2 and those of weights (1, 3) likewise in a second word; sxtb16 then gives
 * each pair as two int16 lanes equal to 16 * w, which __smlad multiplies with a column pair. The
 * accumulator holds 16 * the exact sum: with |w| <= 8 and |x + offset| <= 255 one MAC adds at most
 * 32640 (2^15 - 128), so chunks of DSP_CHUNK columns cannot overflow, and each chunk's sum divides by 16
 * exactly. The plain C path reads one nibble at a time. Both give the exact integer sum.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_dsp.h"
#include "Internal/sqzfw_nn_s4.h"

#if defined(ARM_MATH_DSP)
/* multiple of 4; DSP_CHUNK * 32640 < 2^31 */
    #define DSP_CHUNK 65532

/* Nibbles e .. e+3 of the stream as 16 bits, weight e in bits 0..3. */
SQZFW_INLINE uint32_t nibbles4(const int8_t *packed, const int32_t e)
{
    const uint8_t *p = (const uint8_t *)packed + (e >> 1);
    uint32_t q = (uint32_t)p[0] | ((uint32_t)p[1] << 8);
    if ((e & 1) != 0)
    {
        q = (q >> 4) | ((uint32_t)p[2] << 12);
    }
    return q & 0xFFFFU;
}

/* (16 * w0, 16 * w2) and (16 * w1, 16 * w3) as int16 lane pairs. */
SQZFW_INLINE void weight_pairs(const int8_t *packed, const int32_t e, int32_t *w02, int32_t *w13)
{
    const uint32_t q = nibbles4(packed, e);
    const uint32_t y = (q & 0xFFU) | ((q & 0xFF00U) << 8);
    *w02 = sqzfw_sxtb16((int32_t)(y << 4));
    *w13 = sqzfw_sxtb16((int32_t)(y & 0x00F000F0U));
}
#endif

void sqzfw_s4_column_order(int16_t *col, const int32_t n)
{
#if defined(ARM_MATH_DSP)
    int32_t k;
    for (k = 0; k + 4 <= n; k += 4)
    {
        const int16_t t = col[k + 1];
        col[k + 1] = col[k + 2];
        col[k + 2] = t;
    }
#else
    (void)col;
    (void)n;
#endif
}

int32_t sqzfw_dot_s4_s16(const int8_t *packed, const int32_t e0, const int16_t *col, const int32_t n)
{
    int32_t acc = 0;
    int32_t k = 0;
#if defined(ARM_MATH_DSP)
    const int32_t n4 = n & ~3;
    while (k < n4)
    {
        const int32_t end = (n4 - k > DSP_CHUNK) ? k + DSP_CHUNK : n4;
        int32_t acc16 = 0;
        for (; k < end; k += 4)
        {
            int32_t w02, w13;
            weight_pairs(packed, e0 + k, &w02, &w13);
            acc16 = sqzfw_smlad(w02, sqzfw_read_s16x2(col + k), acc16);
            acc16 = sqzfw_smlad(w13, sqzfw_read_s16x2(col + k + 2), acc16);
        }
        acc += acc16 / 16;
    }
#endif
    for (; k < n; k++)
    {
        acc += sqzfw_s4_at(packed, e0 + k) * col[k];
    }
    return acc;
}

int32_t sqzfw_dot_s4_s8(const int8_t *packed, const int32_t e0, const int8_t *x, const int32_t x_offset, const int32_t n)
{
    int32_t acc = 0;
    int32_t k = 0;
#if defined(ARM_MATH_DSP)
    const int32_t n4 = n & ~3;
    const int32_t offset_x2 = (int32_t)(((uint32_t)x_offset & 0xFFFFU) * 0x10001U);
    while (k < n4)
    {
        const int32_t end = (n4 - k > DSP_CHUNK) ? k + DSP_CHUNK : n4;
        int32_t acc16 = 0;
        for (; k < end; k += 4)
        {
            const int32_t v = sqzfw_read_s8x4(x + k);
            int32_t w02, w13;
            weight_pairs(packed, e0 + k, &w02, &w13);
            acc16 = sqzfw_smlad(w02, sqzfw_sxtab16(offset_x2, v), acc16);
            acc16 = sqzfw_smlad(w13, sqzfw_sxtab16_ror8(offset_x2, v), acc16);
        }
        acc += acc16 / 16;
    }
#endif
    for (; k < n; k++)
    {
        acc += sqzfw_s4_at(packed, e0 + k) * (x[k] + x_offset);
    }
    return acc;
}

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
                               const int32_t dst_stride)
{
    int32_t r, o;
    for (r = 0; r < lhs_rows; r++)
    {
        const int8_t *x = lhs + r * lhs_stride;
        int8_t *out = dst + r * dst_stride;
        for (o = 0; o < rhs_rows; o++)
        {
            const int32_t acc = sqzfw_add_wrap(bias != NULL ? bias[o] : 0,
                                               sqzfw_dot_s4_s8(packed_rhs, o * cols, x, lhs_offset, cols));
            out[o] = sqzfw_requantize_clamp(acc, multipliers[o], shifts[o], dst_offset, act_min, act_max);
        }
    }
}
