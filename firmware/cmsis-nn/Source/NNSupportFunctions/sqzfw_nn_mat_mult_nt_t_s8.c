/*
 * sqzfw portable int8 NN kernels - int8 x int8 matrix product with requantization.
 *
 * Used by the 1x1 convolutions: every lhs row is one input pixel (its channels), every rhs row
 * is one output channel's weights. Needs no scratch memory. Both paths work on 2 x 2 blocks
 * (two pixels by two output channels share every load) and fold the input offset into the
 * bias: sum_k (x + off) * w = sum_k x * w + off * sum_k w, the last term once per channel.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_dsp.h"
#include "Internal/sqzfw_nn_requant.h"
#include "Internal/sqzfw_nn_wide.h"

/* bias + lhs_offset * (sum of the weight row), modulo 2^32 like the per-MAC sums it replaces. */
static int32_t folded_bias(const int32_t *bias, const int32_t o, const int8_t *w, const int32_t cols, const int32_t lhs_offset)
{
    int32_t s = 0;
    int32_t k;
    for (k = 0; k < cols; k++)
    {
        s += w[k];
    }
    return sqzfw_add_wrap(bias ? bias[o] : 0, sqzfw_mul_wrap(s, lhs_offset));
}

#if defined(ARM_MATH_DSP)

/*
 * 2 x 2 block over 4 * n4 columns: rows a and a + step by weight rows w and w + step (the 1x1
 * fast convolution: pixel and weight rows are both in_c bytes apart).
 */
SQZFW_INLINE void dot_2x2_same(const int8_t *a, const int8_t *w, const int32_t step, int32_t n4, int32_t acc[4])
{
    int32_t acc00 = acc[0], acc01 = acc[1], acc10 = acc[2], acc11 = acc[3];
    #if defined(__GNUC__) && !defined(SQZFW_EMULATE_DSP)
    /*
     * Inline assembly because GCC 12 cannot be led to this loop from C: with the 4 accumulators,
     * 2 pointers, the step and the counter it keeps the step on the stack and adds to the
     * pointers separately (25-26 instructions per 16 MACs on Cortex-M4/M7). Here: post-indexed
     * loads, the second row and weight row at [p, step - 4] after the post-increment, two
     * 16-MAC groups per iteration: 42 instructions per 32 MACs, in 14 registers.
     */
    int32_t pairs = n4 >> 1;
    const int32_t step4 = step - 4;
    if (pairs > 0)
    {
        int32_t t0, t1, t2, t3, t4, t5;
        #define SQZFW_DOT_2X2_GROUP                       \
            "ldr    %[t0], [%[w]], #4\n\t"               \
            "ldr    %[t1], [%[a]], #4\n\t"               \
            "sxtb16 %[t2], %[t0]\n\t"                    \
            "sxtb16 %[t0], %[t0], ror #8\n\t"            \
            "sxtb16 %[t3], %[t1]\n\t"                    \
            "sxtb16 %[t1], %[t1], ror #8\n\t"            \
            "smlad  %[c00], %[t3], %[t2], %[c00]\n\t"    \
            "smlad  %[c00], %[t1], %[t0], %[c00]\n\t"    \
            "ldr    %[t4], [%[a], %[s4]]\n\t"            \
            "sxtb16 %[t5], %[t4]\n\t"                    \
            "sxtb16 %[t4], %[t4], ror #8\n\t"            \
            "smlad  %[c10], %[t5], %[t2], %[c10]\n\t"    \
            "smlad  %[c10], %[t4], %[t0], %[c10]\n\t"    \
            "ldr    %[t0], [%[w], %[s4]]\n\t"            \
            "sxtb16 %[t2], %[t0]\n\t"                    \
            "sxtb16 %[t0], %[t0], ror #8\n\t"            \
            "smlad  %[c01], %[t3], %[t2], %[c01]\n\t"    \
            "smlad  %[c01], %[t1], %[t0], %[c01]\n\t"    \
            "smlad  %[c11], %[t5], %[t2], %[c11]\n\t"    \
            "smlad  %[c11], %[t4], %[t0], %[c11]\n\t"
        __asm__("1:\n\t" SQZFW_DOT_2X2_GROUP SQZFW_DOT_2X2_GROUP "subs   %[n], %[n], #1\n\t"
                "bne    1b\n\t"
                : [c00] "+r"(acc00), [c01] "+r"(acc01), [c10] "+r"(acc10), [c11] "+r"(acc11), [a] "+r"(a), [w] "+r"(w),
                  [n] "+r"(pairs), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
                  [t5] "=&r"(t5)
                : [s4] "r"(step4)
                : "cc", "memory");
        #undef SQZFW_DOT_2X2_GROUP
    }
    n4 &= 1;
    #endif
    for (; n4 > 0; n4--)
    {
        const int32_t x = sqzfw_read_s8x4(a);
        const int32_t wa = sqzfw_read_s8x4(w);
        const int32_t x02 = sqzfw_sxtb16(x), x13 = sqzfw_sxtb16_ror8(x);
        const int32_t wa02 = sqzfw_sxtb16(wa), wa13 = sqzfw_sxtb16_ror8(wa);
        const int32_t y = sqzfw_read_s8x4(a + step);
        const int32_t wb = sqzfw_read_s8x4(w + step);
        const int32_t y02 = sqzfw_sxtb16(y), y13 = sqzfw_sxtb16_ror8(y);
        const int32_t wb02 = sqzfw_sxtb16(wb), wb13 = sqzfw_sxtb16_ror8(wb);
        acc00 = sqzfw_smlad(x13, wa13, sqzfw_smlad(x02, wa02, acc00));
        acc10 = sqzfw_smlad(y13, wa13, sqzfw_smlad(y02, wa02, acc10));
        acc01 = sqzfw_smlad(x13, wb13, sqzfw_smlad(x02, wb02, acc01));
        acc11 = sqzfw_smlad(y13, wb13, sqzfw_smlad(y02, wb02, acc11));
        a += 4;
        w += 4;
    }
    acc[0] = acc00;
    acc[1] = acc01;
    acc[2] = acc10;
    acc[3] = acc11;
}

/* The same block for rows a0, a1 and weight rows w0, w1 at unrelated addresses (strided 1x1). */
SQZFW_INLINE void dot_2x2_any(const int8_t *a0, const int8_t *a1, const int8_t *w0, const int8_t *w1, int32_t n4, int32_t acc[4])
{
    int32_t acc00 = acc[0], acc01 = acc[1], acc10 = acc[2], acc11 = acc[3];
    for (; n4 > 0; n4--)
    {
        const int32_t wa = sqzfw_read_s8x4(w0);
        const int32_t wb = sqzfw_read_s8x4(w1);
        const int32_t x = sqzfw_read_s8x4(a0);
        const int32_t y = sqzfw_read_s8x4(a1);
        const int32_t wa02 = sqzfw_sxtb16(wa), wa13 = sqzfw_sxtb16_ror8(wa);
        const int32_t wb02 = sqzfw_sxtb16(wb), wb13 = sqzfw_sxtb16_ror8(wb);
        const int32_t x02 = sqzfw_sxtb16(x), x13 = sqzfw_sxtb16_ror8(x);
        const int32_t y02 = sqzfw_sxtb16(y), y13 = sqzfw_sxtb16_ror8(y);
        w0 += 4;
        w1 += 4;
        a0 += 4;
        a1 += 4;
        acc00 = sqzfw_smlad(x02, wa02, acc00);
        acc01 = sqzfw_smlad(x02, wb02, acc01);
        acc10 = sqzfw_smlad(y02, wa02, acc10);
        acc11 = sqzfw_smlad(y02, wb02, acc11);
        acc00 = sqzfw_smlad(x13, wa13, acc00);
        acc01 = sqzfw_smlad(x13, wb13, acc01);
        acc10 = sqzfw_smlad(y13, wa13, acc10);
        acc11 = sqzfw_smlad(y13, wb13, acc11);
    }
    acc[0] = acc00;
    acc[1] = acc01;
    acc[2] = acc10;
    acc[3] = acc11;
}

/* One row by one weight row over cols4 columns. */
SQZFW_INLINE int32_t dot_1x1(const int8_t *a, const int8_t *w, int32_t n4, int32_t acc)
{
    for (; n4 > 0; n4--)
    {
        const int32_t v = sqzfw_read_s8x4(w);
        const int32_t x = sqzfw_read_s8x4(a);
        w += 4;
        a += 4;
        acc = sqzfw_smlad(sqzfw_sxtb16(x), sqzfw_sxtb16(v), acc);
        acc = sqzfw_smlad(sqzfw_sxtb16_ror8(x), sqzfw_sxtb16_ror8(v), acc);
    }
    return acc;
}

    #define DOT_2X2(a0, a1, w0, w1, n, acc)                                                                    \
        (((a1) - (a0)) == ((w1) - (w0)) ? dot_2x2_same((a0), (w0), (int32_t)((w1) - (w0)), (n) >> 2, (acc)) \
                                        : dot_2x2_any((a0), (a1), (w0), (w1), (n) >> 2, (acc)))
    #define DOT_1X1(a, w, n, acc) dot_1x1((a), (w), (n) >> 2, (acc))
    #define VECTOR_COLS(cols) ((cols) & ~3)

#else /* plain C: the same blocks, one column at a time */

/*
 * Sixteen columns per iteration (then four, then one): GCC 12 steps the four pointers separately, so the
 * loop test and pointer steps cost 6 instructions per iteration: 2.09 instructions per MAC (2.5 one
 * column at a time).
 */
#define SQZFW_DOT_2X2_COLUMN(i)                                       \
    do                                                                \
    {                                                                 \
        const int32_t x_ = a0[i], y_ = a1[i], wa_ = w0[i], wb_ = w1[i]; \
        acc00 += x_ * wa_;                                            \
        acc01 += x_ * wb_;                                            \
        acc10 += y_ * wa_;                                            \
        acc11 += y_ * wb_;                                            \
    } while (0)

static void dot_2x2(const int8_t *a0, const int8_t *a1, const int8_t *w0, const int8_t *w1, int32_t n, int32_t acc[4])
{
    int32_t acc00 = acc[0], acc01 = acc[1], acc10 = acc[2], acc11 = acc[3];
    for (; n >= 16; n -= 16)
    {
        SQZFW_DOT_2X2_COLUMN(0);
        SQZFW_DOT_2X2_COLUMN(1);
        SQZFW_DOT_2X2_COLUMN(2);
        SQZFW_DOT_2X2_COLUMN(3);
        SQZFW_DOT_2X2_COLUMN(4);
        SQZFW_DOT_2X2_COLUMN(5);
        SQZFW_DOT_2X2_COLUMN(6);
        SQZFW_DOT_2X2_COLUMN(7);
        SQZFW_DOT_2X2_COLUMN(8);
        SQZFW_DOT_2X2_COLUMN(9);
        SQZFW_DOT_2X2_COLUMN(10);
        SQZFW_DOT_2X2_COLUMN(11);
        SQZFW_DOT_2X2_COLUMN(12);
        SQZFW_DOT_2X2_COLUMN(13);
        SQZFW_DOT_2X2_COLUMN(14);
        SQZFW_DOT_2X2_COLUMN(15);
        a0 += 16;
        a1 += 16;
        w0 += 16;
        w1 += 16;
    }
    for (; n >= 4; n -= 4)
    {
        SQZFW_DOT_2X2_COLUMN(0);
        SQZFW_DOT_2X2_COLUMN(1);
        SQZFW_DOT_2X2_COLUMN(2);
        SQZFW_DOT_2X2_COLUMN(3);
        a0 += 4;
        a1 += 4;
        w0 += 4;
        w1 += 4;
    }
    for (; n > 0; n--)
    {
        const int32_t x = *a0++, y = *a1++, wa = *w0++, wb = *w1++;
        acc00 += x * wa;
        acc01 += x * wb;
        acc10 += y * wa;
        acc11 += y * wb;
    }
    acc[0] = acc00;
    acc[1] = acc01;
    acc[2] = acc10;
    acc[3] = acc11;
}

static int32_t dot_1x1(const int8_t *a, const int8_t *w, int32_t n, int32_t acc)
{
    for (; n > 0; n--)
    {
        acc += *a++ * *w++;
    }
    return acc;
}

    #undef SQZFW_DOT_2X2_COLUMN
    #define DOT_2X2(a0, a1, w0, w1, n, acc) dot_2x2((a0), (a1), (w0), (w1), (n), (acc))
    #define DOT_1X1(a, w, n, acc) dot_1x1((a), (w), (n), (acc))
    #define VECTOR_COLS(cols) (cols)

#endif

/* The product with the general requantization (mode decided once per call). */
static void mat_mult(const int8_t *lhs,
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
                           const int32_t dst_stride,
                           const int32_t mode)
{
    const int32_t vcols = VECTOR_COLS(cols);
    sqzfw_rq_out q;
    int32_t o = 0;

    q.offset = dst_offset;
    q.act_min = act_min;
    q.act_max = act_max;

    /* two output channels at a time */
    for (; o + 1 < rhs_rows; o += 2)
    {
        const int8_t *w0 = rhs + o * cols;
        const int8_t *w1 = w0 + cols;
        const int32_t base0 = folded_bias(bias, o, w0, cols, lhs_offset);
        const int32_t base1 = folded_bias(bias, o + 1, w1, cols, lhs_offset);
        const int8_t *a0 = lhs;
        int8_t *d = dst + o;
        int32_t r = 0;

        /* two pixels at a time: 2x2 outputs share every load */
        for (; r + 1 < lhs_rows; r += 2)
        {
            const int8_t *a1 = a0 + lhs_stride;
            int32_t acc[4];
            int32_t k;
            acc[0] = base0;
            acc[1] = base1;
            acc[2] = base0;
            acc[3] = base1;
            DOT_2X2(a0, a1, w0, w1, vcols, acc);
            for (k = vcols; k < cols; k++)
            {
                const int32_t x0 = a0[k], x1 = a1[k];
                acc[0] += x0 * w0[k];
                acc[1] += x0 * w1[k];
                acc[2] += x1 * w0[k];
                acc[3] += x1 * w1[k];
            }
            sqzfw_rq_store2(acc[0], acc[2], multipliers[o], shifts[o], mode, &q, d, d + dst_stride);
            sqzfw_rq_store2(acc[1], acc[3], multipliers[o + 1], shifts[o + 1], mode, &q, d + 1, d + dst_stride + 1);
            d += 2 * dst_stride;
            a0 = a1 + lhs_stride;
        }
        if (r < lhs_rows)
        {
            int32_t acc0 = DOT_1X1(a0, w0, vcols, base0);
            int32_t acc1 = DOT_1X1(a0, w1, vcols, base1);
            int32_t k;
            for (k = vcols; k < cols; k++)
            {
                acc0 += a0[k] * w0[k];
                acc1 += a0[k] * w1[k];
            }
            d[0] = sqzfw_rq_one(acc0, multipliers[o], shifts[o], mode, &q);
            d[1] = sqzfw_rq_one(acc1, multipliers[o + 1], shifts[o + 1], mode, &q);
        }
    }

    /* last output channel when their number is odd */
    if (o < rhs_rows)
    {
        const int8_t *w0 = rhs + o * cols;
        const int32_t base0 = folded_bias(bias, o, w0, cols, lhs_offset);
        const int8_t *a0 = lhs;
        int8_t *d = dst + o;
        int32_t r;
        for (r = 0; r < lhs_rows; r++)
        {
            int32_t acc = DOT_1X1(a0, w0, vcols, base0);
            int32_t k;
            for (k = vcols; k < cols; k++)
            {
                acc += a0[k] * w0[k];
            }
            *d = sqzfw_rq_one(acc, multipliers[o], shifts[o], mode, &q);
            d += dst_stride;
            a0 += lhs_stride;
        }
    }
}

/* Two outputs of one pixel (channels o, o + 1) with the lean requantization. */
SQZFW_INLINE void lean_store_pair(int8_t *d, const int32_t acc0, const int32_t acc1, const sqzfw_rq_lean *c)
{
    d[0] = sqzfw_rq_lean_one(acc0, c[0].mult, c[0].rsh, c[0].rnd_off);
    d[1] = sqzfw_rq_lean_one(acc1, c[1].mult, c[1].rsh, c[1].rnd_off);
}

#if defined(ARM_MATH_DSP)

    #define LEAN_COLS_OK(cols) ((cols) <= SQZFW_WIDE_MAX_COLS)

/*
 * Weight rows w0 and w1 (n4 groups of 4 bytes) widened to int16 for the pair: group j is
 * (w0[4j], w0[4j+2], w0[4j+1], w0[4j+3], w1[4j], ...), the order in which a pixel word's bytes
 * come out of sxtb16 and sxtb16-ror-8, so one LDRD gives both operands of a channel's two SMLADs.
 */
static void widen_pair(const int8_t *w0, const int8_t *w1, int32_t n4, int32_t *dst, int32_t sums[2])
{
    const int32_t ones = 0x00010001; /* SMLAD by (1, 1): the row sums for the folded bias on the way */
    int32_t s0 = sums[0], s1 = sums[1];
    for (; n4 > 0; n4--)
    {
        const int32_t a = sqzfw_read_s8x4(w0);
        const int32_t b = sqzfw_read_s8x4(w1);
        const int32_t a02 = sqzfw_sxtb16(a), a13 = sqzfw_sxtb16_ror8(a);
        const int32_t b02 = sqzfw_sxtb16(b), b13 = sqzfw_sxtb16_ror8(b);
        dst[0] = a02;
        dst[1] = a13;
        dst[2] = b02;
        dst[3] = b13;
        s0 = sqzfw_smlad(a13, ones, sqzfw_smlad(a02, ones, s0));
        s1 = sqzfw_smlad(b13, ones, sqzfw_smlad(b02, ones, s1));
        w0 += 4;
        w1 += 4;
        dst += 4;
    }
    sums[0] = s0;
    sums[1] = s1;
}

#else
    #define LEAN_COLS_OK(cols) 1
#endif

/*
 * The product with the lean requantization (sqzfw_rq_lean_ok holds for the call). DSP: each pair
 * of weight rows is widened once into a stack buffer and every pixel pair runs sqzfw_dot_2x2_wide, for
 * calls of at most SQZFW_WIDE_MAX_COLS columns (longer rows take mat_mult, to keep the code small).
 */
static void mat_mult_lean(const int8_t *lhs,
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
                          int8_t *dst,
                          const int32_t dst_stride)
{
    const int32_t vcols = VECTOR_COLS(cols);
    sqzfw_rq_lean c[2];
    int32_t o = 0;
#if defined(ARM_MATH_DSP)
    int32_t wide[SQZFW_WIDE_MAX_COLS]; /* 2 rows of int16, word-aligned for LDRD; cols <= SQZFW_WIDE_MAX_COLS here */
#endif

    for (; o + 1 < rhs_rows; o += 2)
    {
        const int8_t *w0 = rhs + o * cols;
        const int8_t *w1 = w0 + cols;
        const int8_t *a0 = lhs;
        int8_t *d = dst + o;
        int32_t r = lhs_rows;
        int32_t base0, base1;
#if defined(ARM_MATH_DSP)
        {
            int32_t sums[2] = {0, 0};
            int32_t k;
            widen_pair(w0, w1, vcols >> 2, wide, sums);
            for (k = vcols; k < cols; k++)
            {
                sums[0] += w0[k];
                sums[1] += w1[k];
            }
            base0 = sqzfw_add_wrap(bias ? bias[o] : 0, sqzfw_mul_wrap(sums[0], lhs_offset));
            base1 = sqzfw_add_wrap(bias ? bias[o + 1] : 0, sqzfw_mul_wrap(sums[1], lhs_offset));
        }
#else
        base0 = folded_bias(bias, o, w0, cols, lhs_offset);
        base1 = folded_bias(bias, o + 1, w1, cols, lhs_offset);
#endif

        sqzfw_rq_lean_init(&c[0], multipliers[o], shifts[o], dst_offset);
        sqzfw_rq_lean_init(&c[1], multipliers[o + 1], shifts[o + 1], dst_offset);
        for (; r >= 2; r -= 2)
        {
            const int8_t *a1 = a0 + lhs_stride;
            int32_t acc[4];
            int32_t k;
            acc[0] = base0;
            acc[1] = base1;
            acc[2] = base0;
            acc[3] = base1;
#if defined(ARM_MATH_DSP)
            sqzfw_dot_2x2_wide(a0, lhs_stride, wide, vcols >> 2, acc);
#else
            DOT_2X2(a0, a1, w0, w1, vcols, acc);
#endif
            for (k = vcols; k < cols; k++)
            {
                const int32_t x0 = a0[k], x1 = a1[k];
                acc[0] += x0 * w0[k];
                acc[1] += x0 * w1[k];
                acc[2] += x1 * w0[k];
                acc[3] += x1 * w1[k];
            }
            lean_store_pair(d, acc[0], acc[1], c);
            lean_store_pair(d + dst_stride, acc[2], acc[3], c);
            d += 2 * dst_stride;
            a0 = a1 + lhs_stride;
        }
        if (r > 0)
        {
            int32_t acc[2];
            int32_t k;
            acc[0] = base0;
            acc[1] = base1;
#if defined(ARM_MATH_DSP)
            sqzfw_dot_1x2_wide(a0, wide, vcols >> 2, acc);
#else
            acc[0] = DOT_1X1(a0, w0, vcols, acc[0]);
            acc[1] = DOT_1X1(a0, w1, vcols, acc[1]);
#endif
            for (k = vcols; k < cols; k++)
            {
                acc[0] += a0[k] * w0[k];
                acc[1] += a0[k] * w1[k];
            }
            lean_store_pair(d, acc[0], acc[1], c);
        }
    }

    /* last output channel when their number is odd */
    if (o < rhs_rows)
    {
        const int8_t *w0 = rhs + o * cols;
        const int32_t base0 = folded_bias(bias, o, w0, cols, lhs_offset);
        const int8_t *a0 = lhs;
        int8_t *d = dst + o;
        int32_t r;
        sqzfw_rq_lean_init(&c[0], multipliers[o], shifts[o], dst_offset);
        for (r = 0; r < lhs_rows; r++)
        {
            int32_t acc = DOT_1X1(a0, w0, vcols, base0);
            int32_t k;
            for (k = vcols; k < cols; k++)
            {
                acc += a0[k] * w0[k];
            }
            *d = sqzfw_rq_lean_one(acc, c[0].mult, c[0].rsh, c[0].rnd_off);
            d += dst_stride;
            a0 += lhs_stride;
        }
    }
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
    const int32_t mode = sqzfw_rq_mode(bias, shifts, rhs_rows, sqzfw_rq_mac_bound(cols));
    sqzfw_rq_out q;
    q.offset = dst_offset;
    q.act_min = act_min;
    q.act_max = act_max;
    if (sqzfw_rq_lean_ok(mode, shifts, rhs_rows, &q) && LEAN_COLS_OK(cols))
    {
        mat_mult_lean(lhs, lhs_rows, lhs_stride, rhs, rhs_rows, cols, bias, multipliers, shifts, lhs_offset, dst_offset, dst, dst_stride);
    }
    else
    {
        /* every other call (any mode, shift or activation range): one copy, the mode decided at run time */
        mat_mult(lhs, lhs_rows, lhs_stride, rhs, rhs_rows, cols, bias, multipliers, shifts, lhs_offset, dst_offset, act_min, act_max, dst, dst_stride, mode);
    }
}
