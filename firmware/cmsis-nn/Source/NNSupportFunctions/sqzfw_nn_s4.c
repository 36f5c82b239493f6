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
 * 16-bit groups. The pair's groups of eight are stored in that order (0, 4, 1, 5, 2, 6, 3, 7), column 0's
 * group then column 1's, so each lane pair of a column is one 32-bit load for __smlad (an assembly loop,
 * 41.5 instructions per 32 MACs). A row starting in a high nibble (odd row length, odd channel) takes its
 * word from bytes p[0..4] as (word >> 4) | (p[4] << 28): it reads no byte past its own elements. The tails
 * (n % 8 columns): each row's weights gathered from their own bytes, then one SBFX each (the lean loop), or
 * read one at a time (the other calls).
 * Overflow: the accumulators hold 16 * the exact sum; with |w| <= 8 and |x + offset| <= 255 one MAC adds
 * at most 16 * 8 * 255 = 32640 in magnitude, so a chunk of DSP_CHUNK columns (65528 * 32640 < 2^31) cannot
 * overflow and each chunk's sum divides by 16 exactly; the chunks then add modulo 2^32 like the bias
 * (sqzfw_add_wrap), as the exact sum would.
 *
 * Pixel product (sqzfw_nn_mat_mult_nt_t_s4, the 1x1 convolutions), DSP: each pair of weight rows is
 * unpacked once to int16 (the layout of Include/Internal/sqzfw_nn_wide.h, 2 KiB on the stack for rows
 * of at most SQZFW_WIDE_MAX_COLS columns), then every pixel pair runs the int8 kernel's loop on it, the
 * input offset folded into the bias (sum (x + off) w = sum x w + off sum w, all modulo 2^32 like the
 * exact sum the bias is added to; the int16 weights are exact, so there is no chunk limit here). Longer
 * rows take the 2 x 2 loop over nibbles.
 *
 * Plain C: the same 2 x 2 blocks, the weights seven at a time from their bytes, one SBFX each.
 *
 * Requantization: decided once per call as in the int8 kernels (Include/Internal/sqzfw_nn_requant.h),
 * with the int4 bound |sum| <= cols * 8 * 255; the lean case has loops of its own.
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

int32_t sqzfw_s4_rq_mode(const int32_t *bias, const int32_t *shifts, const int32_t n, const int32_t cols, const int32_t dst_offset, const int32_t act_min, const int32_t act_max)
{
    sqzfw_rq_out q;
    int32_t mode;
    q.offset = dst_offset;
    q.act_min = act_min;
    q.act_max = act_max;
    mode = sqzfw_rq_mode(bias, shifts, n, mac_bound_s4(cols));
    return sqzfw_rq_lean_ok(mode, shifts, n, &q) ? SQZFW_RQ_LEAN : mode;
}

#if defined(ARM_MATH_DSP)
/* multiple of 8; DSP_CHUNK * 32640 < 2^31 */
    #define DSP_CHUNK 65528
    #define NIBBLE_HIGHS 0xF0F0F0F0U
    /* columns in interleaved groups of eight (Include/Internal/sqzfw_nn_s4.h) */
    #define GROUPED_COLS(n) ((n) & ~7)
#else
    #define GROUPED_COLS(n) 0
#endif

/* Bits 0..3 of v as a signed int4 (>> of a negative int32 is arithmetic here, as in sqzfw_nn_requant.h). */
SQZFW_INLINE int32_t low_s4(const uint32_t v)
{
    return (int32_t)(v << 28) >> 28;
}

void sqzfw_s4_pair_put(int16_t *pair, const int32_t n, const int32_t i, int32_t k, const int8_t *src, const int32_t len, const int32_t offset)
{
    const int32_t n8 = GROUPED_COLS(n);
    const int32_t end = k + len;
#if defined(ARM_MATH_DSP)
    const int32_t offset2 = (int32_t)(((uint32_t)offset & 0xFFFFU) * 0x10001U);
#endif
    /* inside the groups: whole groups at once, the elements of a partly written group one at a time */
    while (k < end && k < n8)
    {
        int16_t *g = pair + 2 * (k & ~7) + 8 * i;
#if defined(ARM_MATH_DSP)
        if ((k & 7) == 0 && k + 8 <= end)
        {
            /* 8 values as the 4 lane pairs (0, 4), (1, 5), (2, 6), (3, 7) */
            int32_t w04 = 0, w15 = 0, w26 = 0, w37 = 0;
            if (src != NULL)
            {
                const int32_t a = sqzfw_read_s8x4(src), b = sqzfw_read_s8x4(src + 4);
                const uint32_t a02 = (uint32_t)sqzfw_sxtab16(offset2, a), a13 = (uint32_t)sqzfw_sxtab16_ror8(offset2, a);
                const uint32_t b46 = (uint32_t)sqzfw_sxtab16(offset2, b), b57 = (uint32_t)sqzfw_sxtab16_ror8(offset2, b);
                w04 = (int32_t)((a02 & 0xFFFFU) | (b46 << 16));
                w15 = (int32_t)((a13 & 0xFFFFU) | (b57 << 16));
                w26 = (int32_t)((a02 >> 16) | (b46 & 0xFFFF0000U));
                w37 = (int32_t)((a13 >> 16) | (b57 & 0xFFFF0000U));
                src += 8;
            }
            sqzfw_write_s16x2(g, w04);
            sqzfw_write_s16x2(g + 2, w15);
            sqzfw_write_s16x2(g + 4, w26);
            sqzfw_write_s16x2(g + 6, w37);
            k += 8;
            continue;
        }
#endif
        {
            /* element j of a group is at ((j & 3) << 1) | (j >> 2) */
            const int32_t stop = MIN(end, (k & ~7) + 8);
            if (src != NULL)
            {
                for (; k < stop; k++)
                {
                    g[((k & 3) << 1) | ((k >> 2) & 1)] = (int16_t)(*src++ + offset);
                }
            }
            else
            {
                for (; k < stop; k++)
                {
                    g[((k & 3) << 1) | ((k >> 2) & 1)] = 0;
                }
            }
        }
    }
    /* the tail, in natural order */
    if (k < end)
    {
        int16_t *t = pair + 2 * n8 + i * (n - n8) + (k - n8);
        int32_t j;
        for (j = 0; j < end - k; j++)
        {
            t[j] = (src != NULL) ? (int16_t)(src[j] + offset) : 0;
        }
    }
}

#if defined(ARM_MATH_DSP)
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
 * acc16[0..3] += 16 * (column 0 . row 0, column 0 . row 1, column 1 . row 0, column 1 . row 1) over n8
 * interleaved groups from c, row 0 from byte p0 (low nibble first), row 1 from byte p1 (high nibble
 * first when odd1).
 */
SQZFW_INLINE void dot_2x2_s16(const uint8_t *p0, const uint8_t *p1, const int32_t odd1, const int16_t *c, int32_t n8, int32_t acc16[4])
{
    int32_t a00 = acc16[0], a01 = acc16[1], a10 = acc16[2], a11 = acc16[3];
    #if defined(__GNUC__) && !defined(SQZFW_EMULATE_DSP)
    /*
     * Inline assembly because GCC 12 spills in this loop from C (4 accumulators, 3 pointers, the bound,
     * 4 unpacked weight words and 3 operands: 15 values in 14 registers; the bound stays in memory here).
     * Per group (32 MACs): 2 LDR + 6 unpacking (3 more for a row starting in a high nibble), 8 SXTB16,
     * 8 column LDR, 16 SMLAD; two groups per iteration and 3 instructions for the loop: 41.5 instructions
     * per group (44.5), against 50-55 from C. An odd group count does one group first.
     */
    if (n8 > 0)
    {
        const int16_t *const end = c + 16 * n8;
        int32_t e0, o0, e1, o1, w, x, y;
        #define SQZFW_S4_LANES(E, SX, XLD, YLD) \
            XLD YLD                            \
            "sxtb16 %[w], %[" E "0]" SX "\n\t"  \
            "smlad  %[a00], %[w], %[x], %[a00]\n\t" \
            "smlad  %[a10], %[w], %[y], %[a10]\n\t" \
            "sxtb16 %[w], %[" E "1]" SX "\n\t"  \
            "smlad  %[a01], %[w], %[x], %[a01]\n\t" \
            "smlad  %[a11], %[w], %[y], %[a11]\n\t"
        /* one group; LOAD1 leaves row 1's eight weights in o1 */
        #define SQZFW_S4_GROUP(LOAD1)                    \
            "ldr    %[o0], [%[p0]], #4\n\t" LOAD1        \
            "lsl    %[e0], %[o0], #4\n\t"                \
            "and    %[e0], %[e0], #0xF0F0F0F0\n\t"       \
            "and    %[o0], %[o0], #0xF0F0F0F0\n\t"       \
            "lsl    %[e1], %[o1], #4\n\t"                \
            "and    %[e1], %[e1], #0xF0F0F0F0\n\t"       \
            "and    %[o1], %[o1], #0xF0F0F0F0\n\t"       \
            SQZFW_S4_LANES("o", "", "ldr    %[x], [%[c], #4]\n\t", "ldr    %[y], [%[c], #20]\n\t") \
            SQZFW_S4_LANES("e", ", ror #8", "ldr    %[x], [%[c], #8]\n\t", "ldr    %[y], [%[c], #24]\n\t") \
            SQZFW_S4_LANES("o", ", ror #8", "ldr    %[x], [%[c], #12]\n\t", "ldr    %[y], [%[c], #28]\n\t") \
            SQZFW_S4_LANES("e", "", "ldr    %[x], [%[c]], #32\n\t", "ldr    %[y], [%[c], #-16]\n\t")
        #define SQZFW_S4_EVEN "ldr    %[o1], [%[p1]], #4\n\t"
        #define SQZFW_S4_ODD                          \
            "ldr    %[o1], [%[p1]], #4\n\t"           \
            "ldrb   %[w], [%[p1]]\n\t"                \
            "lsr    %[o1], %[o1], #4\n\t"             \
            "orr    %[o1], %[o1], %[w], lsl #28\n\t"
        #define SQZFW_S4_LOOP_END  \
            "ldr    %[x], %[end]\n\t" \
            "cmp    %[c], %[x]\n\t"   \
            "bne    1b\n\t"
        #define SQZFW_S4_OPERANDS                                                                                   \
            : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [p0] "+r"(p0), [p1] "+r"(p1),    \
              [c] "+r"(c), [e0] "=&r"(e0), [o0] "=&r"(o0), [e1] "=&r"(e1), [o1] "=&r"(o1), [w] "=&r"(w), [x] "=&r"(x), \
              [y] "=&r"(y)                                                                                          \
            : [end] "m"(end)                                                                                        \
            : "cc", "memory"
        if (odd1)
        {
            if ((n8 & 1) != 0)
            {
                __asm__(SQZFW_S4_GROUP(SQZFW_S4_ODD) SQZFW_S4_OPERANDS);
            }
            if (n8 > 1)
            {
                __asm__("1:\n\t" SQZFW_S4_GROUP(SQZFW_S4_ODD) SQZFW_S4_GROUP(SQZFW_S4_ODD) SQZFW_S4_LOOP_END SQZFW_S4_OPERANDS);
            }
        }
        else
        {
            if ((n8 & 1) != 0)
            {
                __asm__(SQZFW_S4_GROUP(SQZFW_S4_EVEN) SQZFW_S4_OPERANDS);
            }
            if (n8 > 1)
            {
                __asm__("1:\n\t" SQZFW_S4_GROUP(SQZFW_S4_EVEN) SQZFW_S4_GROUP(SQZFW_S4_EVEN) SQZFW_S4_LOOP_END SQZFW_S4_OPERANDS);
            }
        }
        #undef SQZFW_S4_OPERANDS
        #undef SQZFW_S4_LOOP_END
        #undef SQZFW_S4_ODD
        #undef SQZFW_S4_EVEN
        #undef SQZFW_S4_GROUP
        #undef SQZFW_S4_LANES
    }
    #else
    for (; n8 > 0; n8--)
    {
        const uint32_t v0 = nibbles8(p0);
        const uint32_t v1 = odd1 ? nibbles8_odd(p1) : nibbles8(p1);
        /* weights (0, 2, 4, 6) in e, (1, 3, 5, 7) in o, each in the top half of a byte */
        const int32_t e0 = (int32_t)((v0 << 4) & NIBBLE_HIGHS), o0 = (int32_t)(v0 & NIBBLE_HIGHS);
        const int32_t e1 = (int32_t)((v1 << 4) & NIBBLE_HIGHS), o1 = (int32_t)(v1 & NIBBLE_HIGHS);
        const int32_t lanes0[4] = {sqzfw_sxtb16(e0), sqzfw_sxtb16(o0), sqzfw_sxtb16_ror8(e0), sqzfw_sxtb16_ror8(o0)};
        const int32_t lanes1[4] = {sqzfw_sxtb16(e1), sqzfw_sxtb16(o1), sqzfw_sxtb16_ror8(e1), sqzfw_sxtb16_ror8(o1)};
        int32_t j;
        for (j = 0; j < 4; j++)
        {
            const int32_t x = sqzfw_read_s16x2(c + 2 * j), y = sqzfw_read_s16x2(c + 8 + 2 * j);
            a00 = sqzfw_smlad(lanes0[j], x, a00);
            a10 = sqzfw_smlad(lanes0[j], y, a10);
            a01 = sqzfw_smlad(lanes1[j], x, a01);
            a11 = sqzfw_smlad(lanes1[j], y, a11);
        }
        p0 += 4;
        p1 += 4;
        c += 16;
    }
    #endif
    acc16[0] = a00;
    acc16[1] = a01;
    acc16[2] = a10;
    acc16[3] = a11;
}
#endif

/* Weights e .. e + t - 1 (t <= 7) of the stream as bits, weight e in bits 0..3; reads only their bytes. */
static uint32_t nibbles_upto7(const int8_t *packed, const int32_t e, const int32_t t)
{
    const uint8_t *p = (const uint8_t *)packed + (e >> 1);
    const int32_t bytes = ((e & 1) + t + 1) >> 1; /* at most 4 */
    uint32_t q = 0U;
    int32_t b;
    for (b = 0; b < bytes; b++)
    {
        q |= (uint32_t)p[b] << (8 * b);
    }
    return q >> (4 * (e & 1));
}

#if !defined(ARM_MATH_DSP)
/*
 * acc[0..3] += (x . row e0, x . row e1, y . row e0, y . row e1) over n int16 columns x and y in natural order:
 * the weights seven at a time from their bytes, then SBFX per weight.
 */
static void dot_nibbles_2x2(const int8_t *packed, const int32_t e0, const int32_t e1, const int32_t n, const int16_t *x, const int16_t *y, int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    int32_t k = 0;
    while (k < n)
    {
        const int32_t t = (n - k < 7) ? n - k : 7;
        uint32_t q0 = nibbles_upto7(packed, e0 + k, t);
        uint32_t q1 = nibbles_upto7(packed, e1 + k, t);
        const int32_t end = k + t;
        for (; k < end; k++)
        {
            const int32_t w0 = low_s4(q0), w1 = low_s4(q1);
            const int32_t u = x[k], v = y[k];
            q0 >>= 4;
            q1 >>= 4;
            a00 += w0 * u;
            a01 += w1 * u;
            a10 += w0 * v;
            a11 += w1 * v;
        }
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}
#endif

/*
 * acc[0..3] += the tails of the pair's columns (elements n8 .. n - 1) against rows e0 and e1: in a DSP build
 * at most 7 columns, one weight read at a time (fewer instructions than gathering them first); in a plain C
 * build whole rows, by dot_nibbles_2x2.
 */
static void tail_2x2(const int8_t *packed, const int32_t e0, const int32_t e1, const int32_t n8, const int32_t n, const int16_t *pair, int32_t acc[4])
{
    const int16_t *t0 = pair + 2 * n8;
    const int16_t *t1 = t0 + (n - n8);
#if defined(ARM_MATH_DSP)
    int32_t k;
    for (k = n8; k < n; k++)
    {
        const int32_t w0 = sqzfw_s4_at(packed, e0 + k), w1 = sqzfw_s4_at(packed, e1 + k);
        const int32_t x = t0[k - n8], y = t1[k - n8];
        acc[0] += w0 * x;
        acc[1] += w1 * x;
        acc[2] += w0 * y;
        acc[3] += w1 * y;
    }
#else
    dot_nibbles_2x2(packed, e0 + n8, e1 + n8, n - n8, t0, t1, acc);
#endif
}

/*
 * acc[0..3] = exact (column 0 . row e0, column 0 . row e1, column 1 . row e0, column 1 . row e1) over n
 * columns of pair, modulo 2^32; rows start at elements e0 (even) and e1 of the packed stream.
 */
static void dot_s4_s16_2x2(const int8_t *packed, const int32_t e0, const int32_t e1, const int32_t n, const int16_t *pair, int32_t acc[4])
{
    const int32_t n8 = GROUPED_COLS(n);
    acc[0] = 0;
    acc[1] = 0;
    acc[2] = 0;
    acc[3] = 0;
#if defined(ARM_MATH_DSP)
    {
        int32_t k;
        for (k = 0; k < n8; k += DSP_CHUNK)
        {
            const int32_t groups = ((n8 - k > DSP_CHUNK) ? DSP_CHUNK : n8 - k) >> 3;
            const uint8_t *p0 = (const uint8_t *)packed + ((e0 + k) >> 1);
            const uint8_t *p1 = (const uint8_t *)packed + ((e1 + k) >> 1);
            int32_t a16[4] = {0, 0, 0, 0};
            if ((e1 & 1) != 0)
            {
                dot_2x2_s16(p0, p1, 1, pair + 2 * k, groups, a16);
            }
            else
            {
                dot_2x2_s16(p0, p1, 0, pair + 2 * k, groups, a16);
            }
            acc[0] = sqzfw_add_wrap(acc[0], a16[0] / 16);
            acc[1] = sqzfw_add_wrap(acc[1], a16[1] / 16);
            acc[2] = sqzfw_add_wrap(acc[2], a16[2] / 16);
            acc[3] = sqzfw_add_wrap(acc[3], a16[3] / 16);
        }
    }
#endif
    tail_2x2(packed, e0, e1, n8, n, pair, acc);
}

#if defined(ARM_MATH_DSP)
/*
 * The common call made cheap: lean requantization, two written columns, one chunk of columns. Channel
 * pairs with stepping pointers (the rows of a pair start at elements 0 and cols from p), the lean
 * constants derived per channel, nothing else kept across the assembly loop.
 */
static void mat_mult_s16_lean(const uint8_t *p,
                              const int32_t pairs,
                              const int32_t cols,
                              const int16_t *pair,
                              const int32_t *bias,
                              const int32_t *multipliers,
                              const int32_t *shifts,
                              const int32_t dst_offset,
                              int8_t *out0,
                              int8_t *out1)
{
    const int32_t n8 = cols & ~7;
    const int32_t half = cols >> 1;
    const int32_t odd = cols & 1;
    int32_t j;
    for (j = 0; j < pairs; j++)
    {
        int32_t a[4] = {0, 0, 0, 0};
        int32_t a00, a01, a10, a11, b0 = 0, b1 = 0, r0, r1, rnd0, rnd1;
        if (odd != 0)
        {
            dot_2x2_s16(p, p + half, 1, pair, n8 >> 3, a);
        }
        else
        {
            dot_2x2_s16(p, p + half, 0, pair, n8 >> 3, a);
        }
        /* exact: each is 16 times an integer (>> of a negative int32 is arithmetic here, as in sqzfw_nn_requant.h) */
        a00 = a[0] >> 4;
        a01 = a[1] >> 4;
        a10 = a[2] >> 4;
        a11 = a[3] >> 4;
        if (n8 < cols)
        {
            /* the tails (t <= 7 columns): each row's t weights gathered from their own bytes, then SBFX each */
            const int32_t t = cols - n8;
            const int32_t e1 = cols + n8; /* row 1's first tail element, counted from p */
            const uint8_t *q0 = p + (n8 >> 1);
            const uint8_t *q1 = p + (e1 >> 1);
            const int16_t *x = pair + 2 * n8;
            const int16_t *y = x + t;
            uint32_t v0 = 0U, v1 = 0U;
            int32_t b;
            for (b = 0; 2 * b < t; b++)
            {
                v0 |= (uint32_t)q0[b] << (8 * b);
            }
            for (b = 0; 2 * b < t + (e1 & 1); b++)
            {
                v1 |= (uint32_t)q1[b] << (8 * b);
            }
            v1 >>= 4 * (e1 & 1);
            for (b = 0; b < t; b++)
            {
                const int32_t w0 = low_s4(v0), w1 = low_s4(v1);
                v0 >>= 4;
                v1 >>= 4;
                a00 += w0 * x[b];
                a01 += w1 * x[b];
                a10 += w0 * y[b];
                a11 += w1 * y[b];
            }
        }
        if (bias != NULL)
        {
            b0 = bias[0];
            b1 = bias[1];
            bias += 2;
        }
        r0 = -shifts[0];
        r1 = -shifts[1];
        rnd0 = (int32_t)((1U << (uint32_t)(r0 - 1)) + ((uint32_t)dst_offset << (uint32_t)r0));
        rnd1 = (int32_t)((1U << (uint32_t)(r1 - 1)) + ((uint32_t)dst_offset << (uint32_t)r1));
        out0[0] = sqzfw_rq_lean_one(sqzfw_add_wrap(a00, b0), multipliers[0], r0, rnd0);
        out1[0] = sqzfw_rq_lean_one(sqzfw_add_wrap(a10, b0), multipliers[0], r0, rnd0);
        out0[1] = sqzfw_rq_lean_one(sqzfw_add_wrap(a01, b1), multipliers[1], r1, rnd1);
        out1[1] = sqzfw_rq_lean_one(sqzfw_add_wrap(a11, b1), multipliers[1], r1, rnd1);
        p += cols;
        multipliers += 2;
        shifts += 2;
        out0 += 2;
        out1 += 2;
    }
}
#endif

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
                              int8_t *out1)
{
    sqzfw_rq_out q;
    int32_t o = 0;
    int8_t sink[2];

    q.offset = dst_offset;
    q.act_min = act_min;
    q.act_max = act_max;
#if defined(ARM_MATH_DSP)
    if (mode == SQZFW_RQ_LEAN && out1 != NULL && cols <= DSP_CHUNK)
    {
        o = 2 * (rhs_rows >> 1);
        mat_mult_s16_lean((const uint8_t *)packed_rhs, rhs_rows >> 1, cols, pair, bias, multipliers, shifts, dst_offset, out0, out1);
    }
#endif
    /* every other call, and the last channel of an odd count (paired with itself) */
    for (; o < rhs_rows; o += 2)
    {
        const int32_t o1 = (o + 1 < rhs_rows) ? o + 1 : o;
        int32_t acc[4];
        dot_s4_s16_2x2(packed_rhs, o * cols, o1 * cols, cols, pair, acc);
        if (bias != NULL)
        {
            acc[0] = sqzfw_add_wrap(acc[0], bias[o]);
            acc[2] = sqzfw_add_wrap(acc[2], bias[o]);
            acc[1] = sqzfw_add_wrap(acc[1], bias[o1]);
            acc[3] = sqzfw_add_wrap(acc[3], bias[o1]);
        }
        sqzfw_rq_store2(acc[0], acc[2], multipliers[o], shifts[o], mode, &q, out0 + o, (out1 != NULL) ? out1 + o : &sink[0]);
        if (o1 != o)
        {
            sqzfw_rq_store2(acc[1], acc[3], multipliers[o1], shifts[o1], mode, &q, out0 + o1, (out1 != NULL) ? out1 + o1 : &sink[1]);
        }
    }
}

/*
 * acc[0..3] += (x0 . row e0, x0 . row e1, x1 . row e0, x1 . row e1) over int8 columns k0 .. n - 1, the input
 * offset already folded into acc: as dot_nibbles_2x2.
 */
static void dot_s4_s8_2x2(const int8_t *packed, const int32_t e0, const int32_t e1, int32_t k, const int32_t n, const int8_t *x0, const int8_t *x1, int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    while (k < n)
    {
        const int32_t t = (n - k < 7) ? n - k : 7;
        uint32_t q0 = nibbles_upto7(packed, e0 + k, t);
        uint32_t q1 = nibbles_upto7(packed, e1 + k, t);
        const int32_t end = k + t;
        for (; k < end; k++)
        {
            const int32_t w0 = low_s4(q0), w1 = low_s4(q1);
            const int32_t u = x0[k], v = x1[k];
            q0 >>= 4;
            q1 >>= 4;
            a00 += w0 * u;
            a01 += w1 * u;
            a10 += w0 * v;
            a11 += w1 * v;
        }
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* bias + lhs_offset * (sum of the weight row), modulo 2^32 like the per-MAC sums it replaces. */
static int32_t folded_bias_s4(const int32_t *bias, const int32_t o, const int32_t row_sum, const int32_t lhs_offset)
{
    return sqzfw_add_wrap(bias != NULL ? bias[o] : 0, sqzfw_mul_wrap(row_sum, lhs_offset));
}

#if defined(ARM_MATH_DSP)
/* Rows e0 and e1 over n4 groups of four unpacked to int16 in the layout of sqzfw_nn_wide.h; adds the row sums. */
/* Weights e .. e + 3 of the stream as 16 bits, weight e in bits 0..3. */
SQZFW_INLINE uint32_t nibbles4(const int8_t *packed, const int32_t e)
{
    const uint8_t *p = (const uint8_t *)packed + (e >> 1);
    const uint32_t q = (uint32_t)p[0] | ((uint32_t)p[1] << 8);
    return ((e & 1) != 0) ? ((q >> 4) | ((uint32_t)p[2] << 12)) : q;
}

static void widen_pair_s4(const int8_t *packed, int32_t e0, int32_t e1, int32_t n4, int32_t *dst, int32_t sums[2])
{
    for (; n4 > 0; n4--)
    {
        int32_t r;
        for (r = 0; r < 2; r++)
        {
            const uint32_t q = nibbles4(packed, (r == 0) ? e0 : e1);
            const int32_t w0 = low_s4(q), w1 = low_s4(q >> 4), w2 = low_s4(q >> 8), w3 = low_s4(q >> 12);
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

#if defined(ARM_MATH_DSP)
/*
 * The common 1x1 call made cheap: lean requantization, rows of at most SQZFW_WIDE_MAX_COLS columns, pairs
 * of channels (rhs_rows even here). As the int8 lean product: each pair of rows widened once into wide
 * (the caller's 2 KiB buffer), the lean constants derived once per pair, every pixel pair through
 * sqzfw_dot_2x2_wide.
 */
static void mat_mult_wide_lean(const int8_t *lhs,
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
                               int8_t *dst,
                               const int32_t dst_stride,
                               int32_t *wide)
{
    const int32_t vcols = cols & ~3;
    sqzfw_rq_lean c[2];
    int32_t o;
    for (o = 0; o < rhs_rows; o += 2)
    {
        const int32_t e0 = o * cols, e1 = e0 + cols;
        const int8_t *a0 = lhs;
        int8_t *d = dst + o;
        int32_t sums[2] = {0, 0};
        int32_t base0, base1, k, r;
        widen_pair_s4(packed_rhs, e0, e1, vcols >> 2, wide, sums);
        for (k = vcols; k < cols; k++)
        {
            sums[0] += sqzfw_s4_at(packed_rhs, e0 + k);
            sums[1] += sqzfw_s4_at(packed_rhs, e1 + k);
        }
        base0 = folded_bias_s4(bias, o, sums[0], lhs_offset);
        base1 = folded_bias_s4(bias, o + 1, sums[1], lhs_offset);
        sqzfw_rq_lean_init(&c[0], multipliers[o], shifts[o], dst_offset);
        sqzfw_rq_lean_init(&c[1], multipliers[o + 1], shifts[o + 1], dst_offset);
        for (r = lhs_rows; r >= 2; r -= 2)
        {
            int32_t acc[4];
            acc[0] = base0;
            acc[1] = base1;
            acc[2] = base0;
            acc[3] = base1;
            sqzfw_dot_2x2_wide(a0, lhs_stride, wide, vcols >> 2, acc);
            if (vcols < cols)
            {
                dot_s4_s8_2x2(packed_rhs, e0, e1, vcols, cols, a0, a0 + lhs_stride, acc);
            }
            d[0] = sqzfw_rq_lean_one(acc[0], c[0].mult, c[0].rsh, c[0].rnd_off);
            d[1] = sqzfw_rq_lean_one(acc[1], c[1].mult, c[1].rsh, c[1].rnd_off);
            d[dst_stride] = sqzfw_rq_lean_one(acc[2], c[0].mult, c[0].rsh, c[0].rnd_off);
            d[dst_stride + 1] = sqzfw_rq_lean_one(acc[3], c[1].mult, c[1].rsh, c[1].rnd_off);
            d += 2 * dst_stride;
            a0 += 2 * lhs_stride;
        }
        if (r > 0)
        {
            int32_t acc[4];
            acc[0] = base0;
            acc[1] = base1;
            sqzfw_dot_1x2_wide(a0, wide, vcols >> 2, acc);
            acc[2] = acc[0];
            acc[3] = acc[1];
            dot_s4_s8_2x2(packed_rhs, e0, e1, vcols, cols, a0, a0, acc);
            d[0] = sqzfw_rq_lean_one(acc[0], c[0].mult, c[0].rsh, c[0].rnd_off);
            d[1] = sqzfw_rq_lean_one(acc[1], c[1].mult, c[1].rsh, c[1].rnd_off);
        }
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
    int32_t vcols = 0; /* columns the widened rows cover: none without DSP, for long rows or below 4 */
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
    mode = sqzfw_s4_rq_mode(bias, shifts, rhs_rows, cols, dst_offset, act_min, act_max);
    o = 0;
#if defined(ARM_MATH_DSP)
    if (mode == SQZFW_RQ_LEAN && vcols > 0)
    {
        o = 2 * (rhs_rows >> 1);
        mat_mult_wide_lean(lhs, lhs_rows, lhs_stride, packed_rhs, o, cols, bias, multipliers, shifts, lhs_offset, dst_offset, dst, dst_stride, wide);
    }
#endif
    /* every other call, and the last channel of an odd count (paired with itself) */
    for (; o < rhs_rows; o += 2)
    {
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
