/*
 * sqzfw portable int8 NN kernels - fixed-point helpers shared by the kernels.
 *
 * Written from scratch for sqzfw (MIT). The arithmetic follows the definitions used by
 * CMSIS-NN v7.0.0 / TFLite Micro (gemmlowp-style fixed point) so that results are bit-exact.
 *
 * Every operation here has defined behaviour in C99: where the reference arithmetic relies on
 * two's complement wrap-around, these helpers wrap explicitly through uint32_t. Shift amounts of
 * 32 or more follow what Cortex-M register shifts do (LSL gives 0, ASR gives the sign), which is
 * what a CMSIS-NN build for Cortex-M computes in those corner cases.
 */
#ifndef ARM_NNSUPPORTFUNCTIONS_H
#define ARM_NNSUPPORTFUNCTIONS_H

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
    #define SQZFW_INLINE static inline __attribute__((always_inline))
#else
    #define SQZFW_INLINE static inline
#endif

#ifndef MAX
    #define MAX(A, B) ((A) > (B) ? (A) : (B))
#endif
#ifndef MIN
    #define MIN(A, B) ((A) < (B) ? (A) : (B))
#endif
#ifndef CLAMP
    #define CLAMP(x, hi, lo) MAX(MIN((x), (hi)), (lo))
#endif
#define LEFT_SHIFT(s) ((s) > 0 ? (s) : 0)
#define RIGHT_SHIFT(s) ((s) > 0 ? 0 : -(s))

/* ------------------------------------------------------------ wrap-around integer helpers */

/** a + b modulo 2^32. */
SQZFW_INLINE int32_t sqzfw_add_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/** a - b modulo 2^32. */
SQZFW_INLINE int32_t sqzfw_sub_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/** a * b modulo 2^32. */
SQZFW_INLINE int32_t sqzfw_mul_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a * (uint32_t)b);
}

/** Logical left shift modulo 2^32; a shift of 32 or more gives 0 (as Cortex-M LSL by register). */
SQZFW_INLINE int32_t sqzfw_shl(int32_t v, int32_t s)
{
    return (s >= 32) ? 0 : (int32_t)((uint32_t)v << s);
}

/** Arithmetic right shift; a shift of 32 or more gives 0 or -1 (as Cortex-M ASR by register). */
SQZFW_INLINE int32_t sqzfw_asr(int32_t v, int32_t s)
{
    if (s >= 32)
    {
        return (v < 0) ? -1 : 0;
    }
    /* floor(v / 2^s) without relying on the implementation-defined >> of negative values */
    if (v >= 0)
    {
        return (int32_t)((uint32_t)v >> s);
    }
    return (int32_t)~(~(uint32_t)v >> s);
}

/** Number of leading zero bits; 32 for 0. */
SQZFW_INLINE int32_t sqzfw_clz(uint32_t v)
{
#if defined(__GNUC__)
    return (v == 0U) ? 32 : (int32_t)__builtin_clz(v);
#else
    int32_t n = 0;
    if (v == 0U)
    {
        return 32;
    }
    while ((v & 0x80000000U) == 0U)
    {
        v <<= 1;
        n++;
    }
    return n;
#endif
}

/* ------------------------------------------------------------ fixed-point multiplication */

/**
 * Rounding doubling high multiply used for requantization:
 * (int32)((m1 * m2 + 2^30) >> 31) with a 64-bit product. No saturation: INT32_MIN * INT32_MIN
 * wraps to INT32_MIN (the multiplier is positive in practice).
 */
SQZFW_INLINE int32_t arm_nn_doubling_high_mult_no_sat(const int32_t m1, const int32_t m2)
{
    const int64_t prod = (int64_t)m1 * (int64_t)m2 + ((int64_t)1 << 30);
    /* >> on a negative int64 is an arithmetic shift with every compiler this code targets */
    return (int32_t)(uint32_t)(uint64_t)(prod >> 31);
}

/**
 * Saturating rounding doubling high multiply (the ARM VQRDMULH result for scalars): the product
 * plus a rounding term of +/-2^30 (sign chosen from the operands) divided by 2^31 truncating
 * toward zero; INT32_MIN * INT32_MIN saturates to INT32_MAX.
 */
SQZFW_INLINE int32_t arm_nn_doubling_high_mult(const int32_t m1, const int32_t m2)
{
    int64_t nudge = (int64_t)1 << 30;
    if ((m1 == NN_Q31_MIN) && (m2 == NN_Q31_MIN))
    {
        return NN_Q31_MAX;
    }
    if ((m1 < 0) != (m2 < 0))
    {
        nudge = 1 - nudge;
    }
    return (int32_t)(((int64_t)m1 * (int64_t)m2 + nudge) / ((int64_t)1 << 31));
}

/**
 * Division by 2^exponent rounding to nearest, ties away from zero. Exponents of 32 or more
 * behave like the Cortex-M code does (mask of all ones, quotient 0 or -1).
 */
SQZFW_INLINE int32_t arm_nn_divide_by_power_of_two(const int32_t dividend, const int32_t exponent)
{
    const int32_t mask = (exponent >= 32) ? -1 : (int32_t)((1U << exponent) - 1U);
    const int32_t remainder = dividend & mask;
    int32_t result = sqzfw_asr(dividend, exponent);
    int32_t threshold = sqzfw_asr(mask, 1);
    if (result < 0)
    {
        threshold++;
    }
    if (remainder > threshold)
    {
        result++;
    }
    return result;
}

/**
 * CMSIS-NN's default requantization (two roundings, as TFLite's MultiplyByQuantizedMultiplier):
 * positive shifts scale the value up before the multiply (wrapping like the int32 C code),
 * negative shifts divide the product by 2^-shift with rounding.
 */
SQZFW_INLINE int32_t arm_nn_requantize(const int32_t val, const int32_t multiplier, const int32_t shift)
{
    return arm_nn_divide_by_power_of_two(arm_nn_doubling_high_mult_no_sat(sqzfw_shl(val, LEFT_SHIFT(shift)), multiplier),
                                         RIGHT_SHIFT(shift));
}

/** Requantize an accumulator, add the output zero point and clamp: one int8 result. */
SQZFW_INLINE int8_t sqzfw_requantize_clamp(const int32_t acc,
                                           const int32_t multiplier,
                                           const int32_t shift,
                                           const int32_t out_offset,
                                           const int32_t act_min,
                                           const int32_t act_max)
{
    int32_t v = sqzfw_add_wrap(arm_nn_requantize(acc, multiplier, shift), out_offset);
    v = MAX(v, act_min);
    v = MIN(v, act_max);
    return (int8_t)v;
}

/* ------------------------------------------------------------ softmax fixed point (5 integer bits) */

/** Saturating multiplication by 2^exp (exp in 1..30). */
SQZFW_INLINE int32_t arm_nn_mult_by_power_of_two(const int32_t val, const int32_t exp)
{
    const int32_t limit = (int32_t)((1U << (31 - exp)) - 1U);
    if (val > limit)
    {
        return NN_Q31_MAX;
    }
    if (val < -limit)
    {
        return NN_Q31_MIN;
    }
    return sqzfw_shl(val, exp);
}

/**
 * exp(x) for x <= 0, x in Q5.26, result in Q0.31 (gemmlowp exp_on_negative_values):
 * a 4th-order polynomial on [-1/4, 0) and a product of exp(-2^k) constants for the rest.
 */
SQZFW_INLINE int32_t arm_nn_exp_on_negative_values(int32_t val)
{
    static const int32_t exp_minus_pow2[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242         /* exp(-16)  */
    };
    const int32_t quarter = 1 << 24;
    /* val modulo 1/4, moved into [-1/4, 0) */
    const int32_t frac = (val & (quarter - 1)) - quarter;
    const int32_t rest = sqzfw_sub_wrap(frac, val);
    /* frac + 1/8 in Q0.31, the expansion point of the polynomial */
    const int32_t x = sqzfw_add_wrap(sqzfw_shl(frac, 5), 1 << 28);
    const int32_t x2 = arm_nn_doubling_high_mult(x, x);
    const int32_t x3 = arm_nn_doubling_high_mult(x2, x);
    const int32_t x4_over_4 = arm_nn_divide_by_power_of_two(arm_nn_doubling_high_mult(x2, x2), 2);
    /* (x^4/4 + x^3) / 3, then + x^2, halved */
    const int32_t poly = arm_nn_divide_by_power_of_two(
        sqzfw_add_wrap(arm_nn_doubling_high_mult(sqzfw_add_wrap(x4_over_4, x3), 715827883), x2), 1);
    /* exp(-1/8) * (1 + x + poly) */
    int32_t result = sqzfw_add_wrap(1895147668, arm_nn_doubling_high_mult(1895147668, sqzfw_add_wrap(x, poly)));
    int32_t i;

    for (i = 0; i < 7; i++)
    {
        if ((rest & (1 << (24 + i))) != 0)
        {
            result = arm_nn_doubling_high_mult(result, exp_minus_pow2[i]);
        }
    }
    return (val == 0) ? NN_Q31_MAX : result;
}

/** 1 / (1 + x) for x in [0, 1) in Q0.31, by three Newton-Raphson steps (gemmlowp). */
SQZFW_INLINE int32_t arm_nn_one_over_one_plus_x_for_x_in_0_1(int32_t val)
{
    const int64_t sum = (int64_t)val + (int64_t)NN_Q31_MAX;
    const int32_t half_den = (int32_t)((sum + ((sum >= 0) ? 1 : -1)) / 2);
    const int32_t one_q29 = 1 << 29;
    /* initial estimate 48/17 - 32/17 * d */
    int32_t x = sqzfw_add_wrap(1515870810, arm_nn_doubling_high_mult(half_den, -1010580540));
    int32_t i;

    for (i = 0; i < 3; i++)
    {
        const int32_t err = sqzfw_sub_wrap(one_q29, arm_nn_doubling_high_mult(half_den, x));
        x = sqzfw_add_wrap(x, arm_nn_mult_by_power_of_two(arm_nn_doubling_high_mult(x, err), 2));
    }
    return arm_nn_mult_by_power_of_two(x, 1);
}

/* ------------------------------------------------------------ internal kernels (not CMSIS-NN API) */

/**
 * dst[r * dst_stride + o] = requantize(bias[o] + sum_k (lhs[r * lhs_stride + k] + lhs_offset) * rhs[o * cols + k])
 * for r < lhs_rows, o < rhs_rows, then + dst_offset and clamp. No scratch memory.
 */
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
                               const int32_t dst_stride);

#ifdef __cplusplus
}
#endif

#endif /* ARM_NNSUPPORTFUNCTIONS_H */
