/*
 * sqzfw portable int8 NN kernels - basic types and feature selection.
 *
 * Part of sqzfw's own implementation of the CMSIS-NN v7.0.0 function subset used by the
 * generated firmware. Written from scratch for sqzfw (MIT licence); it contains no Arm code.
 * The file and macro names follow the CMSIS-NN API so that either library can be built.
 */
#ifndef ARM_NN_MATH_TYPES_H
#define ARM_NN_MATH_TYPES_H

#include <limits.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Code path selection.
 *  - ARM_MATH_DSP: the dual 16-bit MAC path. On by default when the compiler targets a core with the
 *    DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33/M55 ...).
 *  - SQZFW_EMULATE_DSP: force the DSP path on any host, with portable C versions of the intrinsics
 *    (see Internal/sqzfw_nn_dsp.h). Used by the host tests.
 *  - SQZFW_NO_DSP: force the plain C path even on a DSP-capable core.
 * This library has no MVE (Helium) path: on Cortex-M55 it runs the DSP path.
 */
#if defined(SQZFW_NO_DSP)
    #undef ARM_MATH_DSP
#elif defined(SQZFW_EMULATE_DSP) || (defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1))
    #ifndef ARM_MATH_DSP
        #define ARM_MATH_DSP 1
    #endif
#endif

#define NN_Q31_MAX ((int32_t)0x7FFFFFFF)
#define NN_Q31_MIN ((int32_t)(-0x7FFFFFFF - 1))
#define NN_Q15_MAX ((int16_t)0x7FFF)
#define NN_Q15_MIN ((int16_t)(-0x7FFF - 1))
#define NN_Q7_MAX ((int8_t)0x7F)
#define NN_Q7_MIN ((int8_t)(-0x7F - 1))

#ifdef __cplusplus
}
#endif

#endif /* ARM_NN_MATH_TYPES_H */
