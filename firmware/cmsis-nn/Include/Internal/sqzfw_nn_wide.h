/*
 * sqzfw portable NN kernels - pixel pairs against a pair of widened weight rows (DSP path).
 *
 * A pair of weight rows (output channels o, o + 1) is widened once to int16 in the layout below, then every
 * pair of int8 pixels runs sqzfw_dot_2x2_wide against it: the int8 matrix product
 * (sqzfw_nn_mat_mult_nt_t_s8.c) widens int8 rows, the int4 one (sqzfw_nn_s4.c) unpacks packed int4 rows.
 * Layout of the widened pair over n4 groups of 4 columns: word 4j is (w0[4j], w0[4j+2]), 4j+1 is
 * (w0[4j+1], w0[4j+3]), 4j+2 and 4j+3 the same for w1 (low half first): the order in which a pixel word's
 * bytes come out of sxtb16 and sxtb16-ror-8, so one LDRD gives both operands of a channel's two SMLADs.
 * Written from scratch for sqzfw (MIT).
 */
#ifndef SQZFW_NN_WIDE_H
#define SQZFW_NN_WIDE_H

#include "../arm_nnsupportfunctions.h"
#include "sqzfw_nn_dsp.h"

#if defined(ARM_MATH_DSP)

/* Largest column count whose two widened weight rows fit the callers' stack buffer (2 KiB). */
    #define SQZFW_WIDE_MAX_COLS 512

/*
 * acc[0..3] += (pixel a, channel 0), (a, 1), (a + step, 0), (a + step, 1) over n4 groups, the
 * weights widened as above: 16 instructions per 16 MACs (2 pixel loads, 4 SXTB16, 2 LDRD,
 * 8 SMLAD) against 20 with int8 weight rows.
 */
SQZFW_INLINE void sqzfw_dot_2x2_wide(const int8_t *a, const int32_t step, const int32_t *wp, int32_t n4, int32_t acc[4])
{
    int32_t c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3];
    #if defined(__GNUC__) && !defined(SQZFW_EMULATE_DSP)
    /*
     * Inline assembly because GCC 12 cannot be led to this loop from C: it needs 14 registers
     * (4 accumulators, pixel and weight pointers, step, counter, 6 operands) and GCC spills.
     * Post-indexed loads; the second pixel at [a, step - 4] after the post-increment; two groups
     * per iteration (34 instructions per 32 MACs).
     */
    const int32_t step4 = step - 4;
    int32_t n = n4;
    int32_t x, x02, y, y02, t0, t1;
        #define SQZFW_DOT_WIDE_GROUP                      \
            "ldr    %[x], [%[a]], #4\n\t"                \
            "ldr    %[y], [%[a], %[s4]]\n\t"             \
            "ldrd   %[t0], %[t1], [%[w]], #16\n\t"       \
            "sxtb16 %[x02], %[x]\n\t"                    \
            "sxtb16 %[x], %[x], ror #8\n\t"              \
            "sxtb16 %[y02], %[y]\n\t"                    \
            "sxtb16 %[y], %[y], ror #8\n\t"              \
            "smlad  %[c00], %[x02], %[t0], %[c00]\n\t"   \
            "smlad  %[c00], %[x], %[t1], %[c00]\n\t"     \
            "smlad  %[c10], %[y02], %[t0], %[c10]\n\t"   \
            "smlad  %[c10], %[y], %[t1], %[c10]\n\t"     \
            "ldrd   %[t0], %[t1], [%[w], #-8]\n\t"       \
            "smlad  %[c01], %[x02], %[t0], %[c01]\n\t"   \
            "smlad  %[c01], %[x], %[t1], %[c01]\n\t"     \
            "smlad  %[c11], %[y02], %[t0], %[c11]\n\t"   \
            "smlad  %[c11], %[y], %[t1], %[c11]\n\t"
    /* LSRS puts an odd group count's low bit in the carry (the group sets no flags): the odd group
     * first, then pairs of groups, every count (0 included) in one block */
    __asm__("lsrs   %[n], %[n], #1\n\t"
            "bcc    2f\n\t" SQZFW_DOT_WIDE_GROUP "2:\n\t"
            "beq    3f\n\t"
            "1:\n\t" SQZFW_DOT_WIDE_GROUP SQZFW_DOT_WIDE_GROUP "subs   %[n], %[n], #1\n\t"
            "bne    1b\n\t"
            "3:\n\t"
            : [c00] "+r"(c00), [c01] "+r"(c01), [c10] "+r"(c10), [c11] "+r"(c11), [a] "+r"(a), [w] "+r"(wp),
              [n] "+r"(n), [x] "=&r"(x), [x02] "=&r"(x02), [y] "=&r"(y), [y02] "=&r"(y02), [t0] "=&r"(t0),
              [t1] "=&r"(t1)
            : [s4] "r"(step4)
            : "cc", "memory");
        #undef SQZFW_DOT_WIDE_GROUP
    #else
    for (; n4 > 0; n4--)
    {
        const int32_t xv = sqzfw_read_s8x4(a);
        const int32_t yv = sqzfw_read_s8x4(a + step);
        const int32_t x02 = sqzfw_sxtb16(xv), x13 = sqzfw_sxtb16_ror8(xv);
        const int32_t y02 = sqzfw_sxtb16(yv), y13 = sqzfw_sxtb16_ror8(yv);
        c00 = sqzfw_smlad(x13, wp[1], sqzfw_smlad(x02, wp[0], c00));
        c10 = sqzfw_smlad(y13, wp[1], sqzfw_smlad(y02, wp[0], c10));
        c01 = sqzfw_smlad(x13, wp[3], sqzfw_smlad(x02, wp[2], c01));
        c11 = sqzfw_smlad(y13, wp[3], sqzfw_smlad(y02, wp[2], c11));
        a += 4;
        wp += 4;
    }
    #endif
    acc[0] = c00;
    acc[1] = c01;
    acc[2] = c10;
    acc[3] = c11;
}

/* One pixel against the widened pair (plain static inline: the compiler decides whether to inline it). */
static inline void sqzfw_dot_1x2_wide(const int8_t *a, const int32_t *wp, int32_t n4, int32_t acc[2])
{
    int32_t c0 = acc[0], c1 = acc[1];
    for (; n4 > 0; n4--)
    {
        const int32_t xv = sqzfw_read_s8x4(a);
        const int32_t x02 = sqzfw_sxtb16(xv), x13 = sqzfw_sxtb16_ror8(xv);
        c0 = sqzfw_smlad(x13, wp[1], sqzfw_smlad(x02, wp[0], c0));
        c1 = sqzfw_smlad(x13, wp[3], sqzfw_smlad(x02, wp[2], c1));
        a += 4;
        wp += 4;
    }
    acc[0] = c0;
    acc[1] = c1;
}

#endif /* ARM_MATH_DSP */

#endif /* SQZFW_NN_WIDE_H */
