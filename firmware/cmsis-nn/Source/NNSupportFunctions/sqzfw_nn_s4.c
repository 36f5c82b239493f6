/*
 * sqzfw portable NN kernels - matrix products of packed int4 weights (see Include/Internal/sqzfw_nn_s4.h).
 *
 * Both products work on 2 x 2 blocks: two output channels by two pixels (im2col columns or 1x1 input
 * pixels), so one weight unpack serves two pixels and one input load serves two channels.
 *
 * Column product (sqzfw_nn_mat_mult_s4_s16, the im2col path of arm_convolve_s4), DSP: eight weights per
 * 32-bit load. With v the word (weight i in bits 4i..4i+3), a = (v << 4) & 0xF0F0F0F0 holds the nibbles of
 * weights 0, 2, 4, 6 in the top halves of its bytes and b = v & 0xF0F0F0F0 those of 1, 3, 5, 7, so
 * sxtb16(a), sxtb16(b), sxtb16(a ror 8), sxtb16(b ror 8) are the int16 lane pairs (16 w0, 16 w4),
 * (16 w1, 16 w5), (16 w2, 16 w6), (16 w3, 16 w7): 7 instructions for 8 weights, against 12 for two
 * 16-bit groups. The column's groups of eight are stored in that order (0, 4, 1, 5, 2, 6, 3, 7), and
 * each pair of them is one 32-bit load for __smlad. A row starting in a high nibble (odd row length,
 * odd channel) takes its word from bytes p[0..4] as (word >> 4) | (p[4] << 28): it reads no byte past
 * its own elements. Overflow: the accumulators hold 16 * the exact sum; with |w| <= 8 and
 * |x + offset| <= 255 one MAC adds at most 16 * 8 * 255 = 32640 in magnitude, so a chunk of DSP_CHUNK
 * columns (65528 * 32640 < 2^31) cannot overflow and each chunk's sum divides by 16 exactly; the chunks
 * then add modulo 2^32 like the bias (sqzfw_add_wrap).
 *
 * Pixel product (sqzfw_nn_mat_mult_nt_t_s4, the 1x1 convolutions), DSP: each pair of weight rows is
 * unpacked once to int16 (the layout of Include/Internal/sqzfw_nn_wide.h, 2 KiB on the stack for rows
 * of at most SQZFW_WIDE_MAX_COLS columns), then every pixel pair runs the int8 kernel's loop on it, the
 * input offset folded into the bias (sum (x + off) w = sum x w + off sum w, all modulo 2^32 like the
 * exact sum the bias is added to). Longer rows and the plain C build take the 2 x 2 loop over nibbles.
 *
 * Requantization: decided once per call as in the int8 kernels (Include/Internal/sqzfw_nn_requant.h),
 * with the int4 bound |sum| <= cols * 8 * 255.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_dsp.h"
#include "Internal/sqzfw_nn_requant.h"
#include "Internal/sqzfw_nn_s4.h"
#include "Internal/sqzfw_nn_wide.h"

/* A bound on |sum of cols products| of int4 weights by values in -255..255, saturated at 2^30. */
static uint32_t mac_bound_s4(const int32_t cols)
{
    return (cols >= 0x40000000 / 2040) ? 0x40000000U : (uint32_t)cols * 2040U;
}

/* The call's requantization: the lean one when it applies, else sqzfw_rq_mode's. */
static int32_t rq_mode_s4(const int32_t *bias, const int32_t *shifts, const int32_t n, const int32_t cols, const sqzfw_rq_out *q)
{
    const int32_t mode = sqzfw_rq_mode(bias, shifts, n, mac_bound_s4(cols));
    return sqzfw_rq_lean_ok(mode, shifts, n, q) ? SQZFW_RQ_LEAN : mode;
}

#if defined(ARM_MATH_DSP)
/* multiple of 8; DSP_CHUNK * 32640 < 2^31 */
    #define DSP_CHUNK 65528
    #define NIBBLE_HIGHS 0xF0F0F0F0U

/* Eight packed weights from byte p, the first in the low nibble of p[0]. */
SQZFW_INLINE uint32_t nibbles8(const uint8_t *p)
{
    uint32_t v;
    SQZFW_MEMCPY(&v, p, 4);
    return v;
}

/* Eight packed weights, the first in the high nibble of p[0] (bytes p[0..4]). */
SQZFW_INLINE uint32_t nibbles8_odd(const uint8_t *p)
{
    return (nibbles8(p) >> 4) | ((uint32_t)p[4] << 28);
}

/*
 * acc16[0..3] += 16 * (col c0 . row 0, c0 . row 1, c1 . row 0, c1 . row 1) over n8 groups of eight,
 * row 0 from byte p0 (low nibble first), row 1 from byte p1 (high nibble first when odd1).
 */
SQZFW_INLINE void dot_2x2_s16(const uint8_t *p0, const uint8_t *p1, const int32_t odd1, const int16_t *c0, const int16_t *c1, int32_t n8, int32_t acc16[4])
{
    int32_t a00 = acc16[0], a01 = acc16[1], a10 = acc16[2], a11 = acc16[3];
    for (; n8 > 0; n8--)
    {
        const uint32_t v0 = nibbles8(p0);
        const uint32_t v1 = odd1 ? nibbles8_odd(p1) : nibbles8(p1);
        const int32_t e0 = (int32_t)((v0 << 4) & NIBBLE_HIGHS), o0 = (int32_t)(v0 & NIBBLE_HIGHS);
        const int32_t e1 = (int32_t)((v1 << 4) & NIBBLE_HIGHS), o1 = (int32_t)(v1 & NIBBLE_HIGHS);
        int32_t x, y, w;

        x = sqzfw_read_s16x2(c0);
        y = sqzfw_read_s16x2(c1);
        w = sqzfw_sxtb16(e0);
        a00 = sqzfw_smlad(w, x, a00);
        a10 = sqzfw_smlad(w, y, a10);
        w = sqzfw_sxtb16(e1);
        a01 = sqzfw_smlad(w, x, a01);
        a11 = sqzfw_smlad(w, y, a11);

        x = sqzfw_read_s16x2(c0 + 2);
        y = sqzfw_read_s16x2(c1 + 2);
        w = sqzfw_sxtb16(o0);
        a00 = sqzfw_smlad(w, x, a00);
        a10 = sqzfw_smlad(w, y, a10);
        w = sqzfw_sxtb16(o1);
        a01 = sqzfw_smlad(w, x, a01);
        a11 = sqzfw_smlad(w, y, a11);

        x = sqzfw_read_s16x2(c0 + 4);
        y = sqzfw_read_s16x2(c1 + 4);
        w = sqzfw_sxtb16_ror8(e0);
        a00 = sqzfw_smlad(w, x, a00);
        a10 = sqzfw_smlad(w, y, a10);
        w = sqzfw_sxtb16_ror8(e1);
        a01 = sqzfw_smlad(w, x, a01);
        a11 = sqzfw_smlad(w, y, a11);

        x = sqzfw_read_s16x2(c0 + 6);
        y = sqzfw_read_s16x2(c1 + 6);
        w = sqzfw_sxtb16_ror8(o0);
        a00 = sqzfw_smlad(w, x, a00);
        a10 = sqzfw_smlad(w, y, a10);
        w = sqzfw_sxtb16_ror8(o1);
        a01 = sqzfw_smlad(w, x, a01);
        a11 = sqzfw_smlad(w, y, a11);

        p0 += 4;
        p1 += 4;
        c0 += 8;
        c1 += 8;
    }
    acc16[0] = a00;
    acc16[1] = a01;
    acc16[2] = a10;
    acc16[3] = a11;
}
#endif

void sqzfw_s4_column_order(int16_t *col, const int32_t n)
{
#if defined(ARM_MATH_DSP)
    int32_t k;
    for (k = 0; k + 8 <= n; k += 8)
    {
        int16_t *g = col + k;
        const int16_t t1 = g[1], t2 = g[2], t3 = g[3], t4 = g[4], t5 = g[5], t6 = g[6];
        g[1] = t4;
        g[2] = t1;
        g[3] = t5;
        g[4] = t2;
        g[5] = t6;
        g[6] = t3;
    }
#else
    (void)col;
    (void)n;
#endif
}

/*
 * acc[0..3] = exact (c0 . row e0, c0 . row e1, c1 . row e0, c1 . row e1) over n columns, modulo 2^32;
 * rows start at elements e0 (even) and e1 of the packed stream.
 */
static void dot_s4_s16_2x2(const int8_t *packed, const int32_t e0, const int32_t e1, const int32_t n, const int16_t *c0, const int16_t *c1, int32_t acc[4])
{
    int32_t k = 0;
    acc[0] = 0;
    acc[1] = 0;
    acc[2] = 0;
    acc[3] = 0;
#if defined(ARM_MATH_DSP)
    {
        const int32_t n8 = n & ~7;
        while (k < n8)
        {
            const int32_t end = (n8 - k > DSP_CHUNK) ? k + DSP_CHUNK : n8;
            const uint8_t *p0 = (const uint8_t *)packed + ((e0 + k) >> 1);
            const uint8_t *p1 = (const uint8_t *)packed + ((e1 + k) >> 1);
            int32_t acc16[4] = {0, 0, 0, 0};
            int32_t i;
            if ((e1 & 1) != 0)
            {
                dot_2x2_s16(p0, p1, 1, c0 + k, c1 + k, (end - k) >> 3, acc16);
            }
            else
            {
                dot_2x2_s16(p0, p1, 0, c0 + k, c1 + k, (end - k) >> 3, acc16);
            }
            for (i = 0; i < 4; i++)
            {
                acc[i] = sqzfw_add_wrap(acc[i], acc16[i] / 16);
            }
            k = end;
        }
    }
#endif
    for (; k < n; k++)
    {
        const int32_t w0 = sqzfw_s4_at(packed, e0 + k), w1 = sqzfw_s4_at(packed, e1 + k);
        const int32_t x = c0[k], y = c1[k];
        acc[0] += w0 * x;
        acc[1] += w1 * x;
        acc[2] += w0 * y;
        acc[3] += w1 * y;
    }
}

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
                              int8_t *out1)
{
    const int16_t *c1 = (col1 != NULL) ? col1 : col0;
    sqzfw_rq_out q;
    int32_t mode, o;
    int8_t sink[2];

    q.offset = dst_offset;
    q.act_min = act_min;
    q.act_max = act_max;
    mode = rq_mode_s4(bias, shifts, rhs_rows, cols, &q);
    for (o = 0; o < rhs_rows; o += 2)
    {
        /* the last channel of an odd count pairs with itself */
        const int32_t o1 = (o + 1 < rhs_rows) ? o + 1 : o;
        int32_t acc[4];
        dot_s4_s16_2x2(packed_rhs, o * cols, o1 * cols, cols, col0, c1, acc);
        if (bias != NULL)
        {
            acc[0] = sqzfw_add_wrap(acc[0], bias[o]);
            acc[2] = sqzfw_add_wrap(acc[2], bias[o]);
            acc[1] = sqzfw_add_wrap(acc[1], bias[o1]);
            acc[3] = sqzfw_add_wrap(acc[3], bias[o1]);
        }
        sqzfw_rq_store2(acc[0], acc[2], multipliers[o], shifts[o], mode, &q, out0 + o, (col1 != NULL) ? out1 + o : &sink[0]);
        if (o1 != o)
        {
            sqzfw_rq_store2(acc[1], acc[3], multipliers[o1], shifts[o1], mode, &q, out0 + o1, (col1 != NULL) ? out1 + o1 : &sink[1]);
        }
    }
}

/*
 * acc[0..3] += (x0 . row e0, x0 . row e1, x1 . row e0, x1 . row e1) over n int8 columns from column k0,
 * the input offset already folded into acc.
 */
static void dot_s4_s8_2x2(const int8_t *packed, const int32_t e0, const int32_t e1, const int32_t k0, const int32_t n, const int8_t *x0, const int8_t *x1, int32_t acc[4])
{
    int32_t k;
    for (k = k0; k < n; k++)
    {
        const int32_t w0 = sqzfw_s4_at(packed, e0 + k), w1 = sqzfw_s4_at(packed, e1 + k);
        const int32_t a = x0[k], b = x1[k];
        acc[0] += w0 * a;
        acc[1] += w1 * a;
        acc[2] += w0 * b;
        acc[3] += w1 * b;
    }
}

/* bias + lhs_offset * (sum of the weight row), modulo 2^32 like the per-MAC sums it replaces. */
static int32_t folded_bias_s4(const int32_t *bias, const int32_t o, const int32_t row_sum, const int32_t lhs_offset)
{
    return sqzfw_add_wrap(bias != NULL ? bias[o] : 0, sqzfw_mul_wrap(row_sum, lhs_offset));
}

#if defined(ARM_MATH_DSP)
/* Rows e0 and e1 over n4 groups of four unpacked to int16 in the layout of sqzfw_nn_wide.h; adds the row sums. */
static void widen_pair_s4(const int8_t *packed, int32_t e0, int32_t e1, int32_t n4, int32_t *dst, int32_t sums[2])
{
    for (; n4 > 0; n4--)
    {
        int32_t r;
        for (r = 0; r < 2; r++)
        {
            const int32_t e = (r == 0) ? e0 : e1;
            const int32_t w0 = sqzfw_s4_at(packed, e), w1 = sqzfw_s4_at(packed, e + 1);
            const int32_t w2 = sqzfw_s4_at(packed, e + 2), w3 = sqzfw_s4_at(packed, e + 3);
            dst[2 * r] = (int32_t)(((uint32_t)w0 & 0xFFFFU) | ((uint32_t)w2 << 16));
            dst[2 * r + 1] = (int32_t)(((uint32_t)w1 & 0xFFFFU) | ((uint32_t)w3 << 16));
            sums[r] += w0 + w1 + w2 + w3;
        }
        e0 += 4;
        e1 += 4;
        dst += 4;
    }
}
#endif

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
    sqzfw_rq_out q;
    int32_t mode, o;
    int32_t vcols = 0; /* columns the widened rows cover: none without DSP or for long rows */
#if defined(ARM_MATH_DSP)
    int32_t wide[SQZFW_WIDE_MAX_COLS]; /* 2 rows of int16, word-aligned for LDRD */
    if (cols <= SQZFW_WIDE_MAX_COLS)
    {
        vcols = cols & ~3;
    }
#endif

    q.offset = dst_offset;
    q.act_min = act_min;
    q.act_max = act_max;
    mode = rq_mode_s4(bias, shifts, rhs_rows, cols, &q);
    for (o = 0; o < rhs_rows; o += 2)
    {
        /* the last channel of an odd count pairs with itself */
        const int32_t o1 = (o + 1 < rhs_rows) ? o + 1 : o;
        const int32_t e0 = o * cols, e1 = o1 * cols;
        const int8_t *a0 = lhs;
        int8_t *d = dst;
        int32_t sums[2] = {0, 0};
        int32_t base0, base1, k, r;
#if defined(ARM_MATH_DSP)
        widen_pair_s4(packed_rhs, e0, e1, vcols >> 2, wide, sums);
#endif
        for (k = vcols; k < cols; k++)
        {
            sums[0] += sqzfw_s4_at(packed_rhs, e0 + k);
            sums[1] += sqzfw_s4_at(packed_rhs, e1 + k);
        }
        base0 = folded_bias_s4(bias, o, sums[0], lhs_offset);
        base1 = folded_bias_s4(bias, o1, sums[1], lhs_offset);

        /* two pixels at a time; an odd last pixel pairs with itself */
        for (r = 0; r < lhs_rows; r += 2)
        {
            const int32_t two = (r + 1 < lhs_rows) ? 1 : 0;
            const int8_t *a1 = two ? a0 + lhs_stride : a0;
            int8_t *d1 = two ? d + dst_stride : d;
            int32_t acc[4];
            acc[0] = base0;
            acc[1] = base1;
            acc[2] = base0;
            acc[3] = base1;
#if defined(ARM_MATH_DSP)
            if (two)
            {
                sqzfw_dot_2x2_wide(a0, lhs_stride, wide, vcols >> 2, acc);
            }
            else
            {
                sqzfw_dot_1x2_wide(a0, wide, vcols >> 2, acc);
                acc[2] = acc[0];
                acc[3] = acc[1];
            }
#endif
            dot_s4_s8_2x2(packed_rhs, e0, e1, vcols, cols, a0, a1, acc);
            sqzfw_rq_store2(acc[0], acc[2], multipliers[o], shifts[o], mode, &q, d + o, d1 + o);
            if (o1 != o)
            {
                sqzfw_rq_store2(acc[1], acc[3], multipliers[o1], shifts[o1], mode, &q, d + o1, d1 + o1);
            }
            a0 += 2 * lhs_stride;
            d += 2 * dst_stride;
        }
    }
}
