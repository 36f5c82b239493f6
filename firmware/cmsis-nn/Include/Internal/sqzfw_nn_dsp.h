/*
 * sqzfw portable int8 NN kernels - the few SIMD32/DSP operations the DSP path uses.
 *
 * On a core with the DSP extension (and without SQZFW_EMULATE_DSP) they map to the ACLE
 * intrinsics of arm_acle.h. With SQZFW_EMULATE_DSP they are plain C with the same results, so
 * the DSP path can be built and tested on any host. Little-endian only.
 * Written from scratch for sqzfw (MIT).
 */
#ifndef SQZFW_NN_DSP_H
#define SQZFW_NN_DSP_H

#include "../arm_nnsupportfunctions.h"

#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
    #error "sqzfw NN kernels assume a little-endian target"
#endif

/* Unaligned little-endian loads and stores. __builtin_memcpy keeps them inline with
 * -ffreestanding (a plain memcpy call would become a library call). */
#if defined(__GNUC__)
    #define SQZFW_MEMCPY __builtin_memcpy
#else
    #define SQZFW_MEMCPY memcpy
#endif

SQZFW_INLINE int32_t sqzfw_read_s8x4(const int8_t *p)
{
    int32_t v;
    SQZFW_MEMCPY(&v, p, 4);
    return v;
}

SQZFW_INLINE int32_t sqzfw_read_s16x2(const int16_t *p)
{
    int32_t v;
    SQZFW_MEMCPY(&v, p, 4);
    return v;
}

SQZFW_INLINE void sqzfw_write_s16x2(int16_t *p, int32_t v)
{
    SQZFW_MEMCPY(p, &v, 4);
}

/** Rotate right by n (1..31). GCC 12's arm_acle.h has no __ror. */
SQZFW_INLINE uint32_t sqzfw_ror(uint32_t v, uint32_t n)
{
    return (v >> n) | (v << (32U - n));
}

#if defined(ARM_MATH_DSP) && defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(SQZFW_EMULATE_DSP)

    #include <arm_acle.h>

/** Bytes 0 and 2, sign-extended into the two 16-bit halves. */
SQZFW_INLINE int32_t sqzfw_sxtb16(int32_t v)
{
    return __sxtb16(v);
}

/** Bytes 1 and 3, sign-extended into the two 16-bit halves. */
SQZFW_INLINE int32_t sqzfw_sxtb16_ror8(int32_t v)
{
    #if defined(__GNUC__)
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
    #else
    return __sxtb16((int32_t)sqzfw_ror((uint32_t)v, 8U));
    #endif
}

/** acc halves + bytes 0 and 2 of v (sign-extended), each half modulo 2^16. */
SQZFW_INLINE int32_t sqzfw_sxtab16(int32_t acc, int32_t v)
{
    return __sxtab16(acc, v);
}

/** acc halves + bytes 1 and 3 of v (sign-extended), each half modulo 2^16. */
SQZFW_INLINE int32_t sqzfw_sxtab16_ror8(int32_t acc, int32_t v)
{
    #if defined(__GNUC__)
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(v));
    return r;
    #else
    return __sxtab16(acc, (int32_t)sqzfw_ror((uint32_t)v, 8U));
    #endif
}

/** acc + lo(a)*lo(b) + hi(a)*hi(b) on signed 16-bit halves, modulo 2^32. */
SQZFW_INLINE int32_t sqzfw_smlad(int32_t a, int32_t b, int32_t acc)
{
    return __smlad(a, b, acc);
}

/** Bytewise signed maximum of a and b. */
SQZFW_INLINE int32_t sqzfw_max_s8x4(int32_t a, int32_t b)
{
    #if defined(__GNUC__)
    /* One asm block: SEL reads the GE flags SSUB8 sets, and nothing may come between them. */
    int32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
    #else
    return __sel(a, b, __ssub8(a, b));
    #endif
}

#else /* portable C versions */

SQZFW_INLINE int32_t sqzfw_lo16(int32_t v)
{
    return (int32_t)(int16_t)(uint16_t)((uint32_t)v & 0xFFFFU);
}

SQZFW_INLINE int32_t sqzfw_hi16(int32_t v)
{
    return (int32_t)(int16_t)(uint16_t)((uint32_t)v >> 16);
}

SQZFW_INLINE int32_t sqzfw_byte(int32_t v, uint32_t i)
{
    return (int32_t)(int8_t)(uint8_t)(((uint32_t)v >> (8U * i)) & 0xFFU);
}

SQZFW_INLINE int32_t sqzfw_pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFU) | (((uint32_t)hi & 0xFFFFU) << 16));
}

SQZFW_INLINE int32_t sqzfw_sxtb16(int32_t v)
{
    return sqzfw_pack16(sqzfw_byte(v, 0U), sqzfw_byte(v, 2U));
}

SQZFW_INLINE int32_t sqzfw_sxtb16_ror8(int32_t v)
{
    return sqzfw_pack16(sqzfw_byte(v, 1U), sqzfw_byte(v, 3U));
}

SQZFW_INLINE int32_t sqzfw_sxtab16(int32_t acc, int32_t v)
{
    return sqzfw_pack16(sqzfw_lo16(acc) + sqzfw_byte(v, 0U), sqzfw_hi16(acc) + sqzfw_byte(v, 2U));
}

SQZFW_INLINE int32_t sqzfw_sxtab16_ror8(int32_t acc, int32_t v)
{
    return sqzfw_pack16(sqzfw_lo16(acc) + sqzfw_byte(v, 1U), sqzfw_hi16(acc) + sqzfw_byte(v, 3U));
}

SQZFW_INLINE int32_t sqzfw_max_s8x4(int32_t a, int32_t b)
{
    uint32_t r = 0U;
    uint32_t i;
    for (i = 0U; i < 4U; i++)
    {
        const int32_t x = sqzfw_byte(a, i), y = sqzfw_byte(b, i);
        r |= ((uint32_t)(uint8_t)(int8_t)(x > y ? x : y)) << (8U * i);
    }
    return (int32_t)r;
}

SQZFW_INLINE int32_t sqzfw_smlad(int32_t a, int32_t b, int32_t acc)
{
    const uint32_t p0 = (uint32_t)(sqzfw_lo16(a) * sqzfw_lo16(b));
    const uint32_t p1 = (uint32_t)(sqzfw_hi16(a) * sqzfw_hi16(b));
    return (int32_t)((uint32_t)acc + p0 + p1);
}

#endif

#endif /* SQZFW_NN_DSP_H */
