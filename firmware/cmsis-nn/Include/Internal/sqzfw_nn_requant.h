/*
 * sqzfw portable int8 NN kernels - requantization of output blocks.
 *
 * sqzfw_requantize_clamp() (arm_nnsupportfunctions.h) derives the left shift, the right shift,
 * the rounding mask and the threshold from `shift` for every output value, with branches for
 * shifts of 32 or more, and multiplies in 64 bits. The kernels instead
 *  - decide once per call how to requantize (sqzfw_rq_mode): when every accumulator of the call
 *    provably stays below 2^30 after the left shift, the doubling high multiply is one SMMULR of
 *    the doubled value ((2v * m + 2^31) >> 32 == (v * m + 2^30) >> 31 exactly);
 *  - derive a channel's shifts and mask once for the two outputs of that channel in a block;
 *  - requantize, add the output offset and clamp in straight-line code.
 * Results are bit-exact with sqzfw_requantize_clamp for every int32 accumulator and argument.
 * Written from scratch for sqzfw (MIT).
 */
#ifndef SQZFW_NN_REQUANT_H
#define SQZFW_NN_REQUANT_H

#include "../arm_nnsupportfunctions.h"

/* How a call requantizes. */
#define SQZFW_RQ_FAST 0 /* accumulators below 2^30 >> lsh: one SMMULR */
#define SQZFW_RQ_WIDE 1 /* shifts in -31..31: 64-bit multiply */
#define SQZFW_RQ_REF 2  /* some shift outside -31..31: sqzfw_requantize_clamp */
#define SQZFW_RQ_LEAN 3 /* never returned by sqzfw_rq_mode: chosen by the caller when sqzfw_rq_lean_ok holds */

/** Output offset and activation range of a call. */
typedef struct
{
    int32_t offset;
    int32_t act_min;
    int32_t act_max;
} sqzfw_rq_out;

/**
 * The mode for n channels whose accumulators are bias[i] (0 when bias is NULL) plus at most
 * max_mac_sum in magnitude (a bound on the sum of products, below 2^31).
 */
SQZFW_INLINE int32_t sqzfw_rq_mode(const int32_t *bias, const int32_t *shift, const int32_t n, const uint32_t max_mac_sum)
{
    uint32_t max_bias = 0U;
    int32_t max_lsh = 0;
    int32_t i;
    for (i = 0; i < n; i++)
    {
        const int32_t s = shift[i];
        if (s < -31 || s > 31)
        {
            return SQZFW_RQ_REF;
        }
        max_lsh = MAX(max_lsh, s);
        if (bias != NULL)
        {
            const uint32_t b = bias[i] < 0 ? 0U - (uint32_t)bias[i] : (uint32_t)bias[i];
            max_bias = MAX(max_bias, b);
        }
    }
    if (max_mac_sum >= 0x40000000U || max_bias >= 0x40000000U)
    {
        return SQZFW_RQ_WIDE;
    }
    return (max_bias + max_mac_sum < (0x40000000U >> max_lsh)) ? SQZFW_RQ_FAST : SQZFW_RQ_WIDE;
}

/** A bound on |sum of cols products| of int8 weights by values in -255..255, saturated at 2^30. */
SQZFW_INLINE uint32_t sqzfw_rq_mac_bound(const int32_t cols)
{
    return (cols >= 32768) ? 0x40000000U : (uint32_t)cols * 32640U;
}

/** (a * b + 2^31) >> 32, rounded high word of the product. */
SQZFW_INLINE int32_t sqzfw_smmulr(const int32_t a, const int32_t b)
{
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(SQZFW_EMULATE_DSP)
    /* Inline assembly: GCC 12 compiles the C expression below to MOV, MOVS, SMLAL (3 instructions). */
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    const int64_t p = (int64_t)a * (int64_t)b + ((int64_t)1 << 31);
    return (int32_t)(uint32_t)(uint64_t)(p >> 32);
#endif
}

/*
 * Lean requantization: the common case of a call made cheap per output value. It applies when the
 * call's mode is SQZFW_RQ_FAST, every shift is -22..-1 (a right shift of 1..22, no left shift),
 * the output offset is an int8 and the activation range is the whole int8 range. Then, with
 * x = SMMULR(2 * acc, mult) (|x| <= 2^30),
 *     sqzfw_requantize_clamp(acc, ...) == ssat8((x + (x >> 31) + rnd_off) >> rsh)
 * where rnd_off = 2^(rsh-1) + (offset << rsh): adding a multiple of 2^rsh before an arithmetic
 * right shift adds offset after it, and |x| + 2^21 + 2^29 cannot overflow. Per output: LSL,
 * SMMULR, two ADDs, ASR, SSAT (and the store).
 */
typedef struct
{
    int32_t mult;
    int32_t rsh;
    int32_t rnd_off;
} sqzfw_rq_lean;

/** Whether a call with this mode, these n shifts and this output may use the lean requantization. */
SQZFW_INLINE int32_t sqzfw_rq_lean_ok(const int32_t mode, const int32_t *shift, const int32_t n, const sqzfw_rq_out *out)
{
    int32_t i;
    if (mode != SQZFW_RQ_FAST || out->act_min != -128 || out->act_max != 127 || out->offset < -128 || out->offset > 127)
    {
        return 0;
    }
    for (i = 0; i < n; i++)
    {
        if (shift[i] < -22 || shift[i] > -1)
        {
            return 0;
        }
    }
    return 1;
}

/** The lean constants of one channel (shift in -22..-1). */
SQZFW_INLINE void sqzfw_rq_lean_init(sqzfw_rq_lean *c, const int32_t mult, const int32_t shift, const int32_t offset)
{
    c->mult = mult;
    c->rsh = -shift;
    c->rnd_off = (int32_t)((1U << (uint32_t)(-shift - 1)) + ((uint32_t)offset << (uint32_t)(-shift)));
}

/** Saturation to int8. */
SQZFW_INLINE int32_t sqzfw_sat_s8(const int32_t v)
{
#if defined(__GNUC__) && defined(__ARM_FEATURE_SAT) && !defined(SQZFW_EMULATE_DSP)
    /* Inline assembly: GCC 12 makes SSAT of this clamp on its own, but not after the requantizing
     * shift inside the kernels, where it emits two CMP/IT/MOV sequences (6 instructions). */
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
    return r;
#else
    return v < -128 ? -128 : (v > 127 ? 127 : v);
#endif
}

/** One output value with the lean constants c: the same result as sqzfw_requantize_clamp. */
SQZFW_INLINE int8_t sqzfw_rq_lean_one(const int32_t acc, const int32_t mult, const int32_t rsh, const int32_t rnd_off)
{
    int32_t x = sqzfw_smmulr((int32_t)((uint32_t)acc << 1), mult);
    x = (x + (x >> 31) + rnd_off) >> rsh;
    return (int8_t)sqzfw_sat_s8(x);
}

/*
 * Two accumulators of one channel: *d0 and *d1 get sqzfw_requantize_clamp(acc, mult, shift, ...).
 * mode must come from sqzfw_rq_mode for these accumulators.
 */
SQZFW_INLINE void sqzfw_rq_store2(const int32_t acc0,
                                  const int32_t acc1,
                                  const int32_t mult,
                                  const int32_t shift,
                                  const int32_t mode,
                                  const sqzfw_rq_out *out,
                                  int8_t *d0,
                                  int8_t *d1)
{
    int32_t x0, x1, r0, r1, lsh, rsh;
    if (mode == SQZFW_RQ_LEAN)
    {
        const int32_t r = -shift;
        const int32_t rnd_off = (int32_t)((1U << (uint32_t)(r - 1)) + ((uint32_t)out->offset << (uint32_t)r));
        *d0 = sqzfw_rq_lean_one(acc0, mult, r, rnd_off);
        *d1 = sqzfw_rq_lean_one(acc1, mult, r, rnd_off);
        return;
    }
    if (mode == SQZFW_RQ_REF)
    {
        *d0 = sqzfw_requantize_clamp(acc0, mult, shift, out->offset, out->act_min, out->act_max);
        *d1 = sqzfw_requantize_clamp(acc1, mult, shift, out->offset, out->act_min, out->act_max);
        return;
    }
    lsh = LEFT_SHIFT(shift);
    rsh = RIGHT_SHIFT(shift);
    if (mode == SQZFW_RQ_FAST)
    {
        /*
         * |acc << lsh| < 2^30, so |x| < 2^30 and x + 2^(rsh-1) cannot overflow: rounding half away
         * from zero is (x + 2^(rsh-1) - (x < 0)) >> rsh for rsh >= 1, and x for rsh = 0.
         */
        const int32_t rnd = (int32_t)((1U << rsh) >> 1);
        const int32_t neg = (rsh != 0) ? -1 : 0;
        x0 = sqzfw_smmulr((int32_t)((uint32_t)acc0 << (lsh + 1)), mult);
        x1 = sqzfw_smmulr((int32_t)((uint32_t)acc1 << (lsh + 1)), mult);
        r0 = (x0 + rnd + ((x0 >> 31) & neg)) >> rsh;
        r1 = (x1 + rnd + ((x1 >> 31) & neg)) >> rsh;
    }
    else
    {
        /* arm_nn_divide_by_power_of_two for an exponent of 0..31: >> of a negative int32 is an
         * arithmetic shift with every compiler this code targets (as the int64 one in the header) */
        const int32_t mask = (int32_t)((1U << rsh) - 1U);
        const int32_t half = mask >> 1;
        x0 = arm_nn_doubling_high_mult_no_sat((int32_t)((uint32_t)acc0 << lsh), mult);
        x1 = arm_nn_doubling_high_mult_no_sat((int32_t)((uint32_t)acc1 << lsh), mult);
        r0 = (x0 >> rsh) + (((x0 & mask) > half + (int32_t)((uint32_t)x0 >> 31)) ? 1 : 0);
        r1 = (x1 >> rsh) + (((x1 & mask) > half + (int32_t)((uint32_t)x1 >> 31)) ? 1 : 0);
    }
    r0 = sqzfw_add_wrap(r0, out->offset);
    r1 = sqzfw_add_wrap(r1, out->offset);
    r0 = MAX(r0, out->act_min);
    r1 = MAX(r1, out->act_min);
    *d0 = (int8_t)MIN(r0, out->act_max);
    *d1 = (int8_t)MIN(r1, out->act_max);
}

/** One accumulator (the same arithmetic as sqzfw_rq_store2). */
SQZFW_INLINE int8_t sqzfw_rq_one(const int32_t acc, const int32_t mult, const int32_t shift, const int32_t mode, const sqzfw_rq_out *out)
{
    int8_t d0, d1;
    sqzfw_rq_store2(acc, acc, mult, shift, mode, out, &d0, &d1);
    (void)d1;
    return d0;
}

#endif /* SQZFW_NN_REQUANT_H */
