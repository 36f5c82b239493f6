/*
 * sqzfw portable int8 NN kernels - requantization with per-channel constants worked out once.
 *
 * sqzfw_requantize_clamp() (arm_nnsupportfunctions.h) derives the left shift, the right shift,
 * the rounding mask and the threshold from `shift` for every output value, with branches for
 * shifts of 32 or more. The kernels call it tens of times per output pixel, so they first turn
 * each channel's (multiplier, shift) into an sqzfw_rq and then requantize with a straight-line
 * sequence (a 64-bit multiply, an arithmetic shift, a mask, a compare, the offset and the clamp).
 * Results are bit-exact with sqzfw_requantize_clamp for every int32 accumulator; shifts outside
 * -31..31 (never produced by the TFLite scheme) take that function instead.
 * Written from scratch for sqzfw (MIT).
 */
#ifndef SQZFW_NN_REQUANT_H
#define SQZFW_NN_REQUANT_H

#include "../arm_nnsupportfunctions.h"

typedef struct
{
    int32_t mult;   /* Q31 multiplier */
    int32_t lsh;    /* left shift before the multiply, 0..31 */
    int32_t rsh;    /* rounding right shift after it, 0..31 */
    int32_t mask;   /* (1 << rsh) - 1 */
    int32_t half;   /* mask >> 1: the threshold for values >= 0 (one more for negative values) */
    int32_t shift;  /* the original shift, for the fallback */
    int32_t exact;  /* 1 when lsh and rsh are both in 0..31 */
} sqzfw_rq;

SQZFW_INLINE sqzfw_rq sqzfw_rq_make(const int32_t mult, const int32_t shift)
{
    sqzfw_rq q;
    q.mult = mult;
    q.shift = shift;
    q.lsh = LEFT_SHIFT(shift);
    q.rsh = RIGHT_SHIFT(shift);
    q.exact = (shift >= -31 && shift <= 31) ? 1 : 0;
    if (!q.exact)
    {
        q.lsh = 0;
        q.rsh = 0;
    }
    q.mask = (int32_t)((1U << q.rsh) - 1U);
    q.half = q.mask >> 1;
    return q;
}

/** sqzfw_requantize_clamp(acc, q.mult, q.shift, out_offset, act_min, act_max), with q from sqzfw_rq_make. */
SQZFW_INLINE int8_t sqzfw_rq_apply(const int32_t acc,
                                   const sqzfw_rq *q,
                                   const int32_t out_offset,
                                   const int32_t act_min,
                                   const int32_t act_max)
{
    int32_t x, r, v;
    if (!q->exact)
    {
        return sqzfw_requantize_clamp(acc, q->mult, q->shift, out_offset, act_min, act_max);
    }
    x = arm_nn_doubling_high_mult_no_sat((int32_t)((uint32_t)acc << q->lsh), q->mult);
    /* arm_nn_divide_by_power_of_two for an exponent of 0..31: >> of a negative int32 is an
     * arithmetic shift with every compiler this code targets (as the int64 one in the header) */
    r = x >> q->rsh;
    r += ((x & q->mask) > q->half + (int32_t)((uint32_t)x >> 31)) ? 1 : 0;
    v = sqzfw_add_wrap(r, out_offset);
    v = MAX(v, act_min);
    v = MIN(v, act_max);
    return (int8_t)v;
}

#endif /* SQZFW_NN_REQUANT_H */
