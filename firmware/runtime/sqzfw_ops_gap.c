/* sqzfw: fused classifier pool (see sqzfw_ops_gap.h). Built only with arm_nn_types.h on the include path, like
 * sqzfw_ops.c. */
#ifdef __has_include
#if __has_include("arm_nn_types.h")
#define SQZFW_GAP_HAVE_NN_TYPES 1
#endif
#else
#define SQZFW_GAP_HAVE_NN_TYPES 1
#endif

#ifndef SQZFW_GAP_HAVE_NN_TYPES
typedef int sqzfw_ops_gap_empty_unit; /* ISO C wants a non-empty translation unit */
#else

#include "sqzfw_ops_gap.h"
#include "sqzfw_ops.h"

#include <stddef.h>

arm_cmsis_nn_status sqzfw_gap_accumulate_s8(const int8_t *in, int32_t pixels, int32_t c, int32_t input_offset, int32_t first, int32_t *sum)
{
    return sqzfw_gap_accumulate_order_s8(in, pixels, c, NULL, input_offset, first, sum);
}

/* order NULL: channel ch adds into sum[ch] (sqzfw_gap_accumulate_s8). */
arm_cmsis_nn_status sqzfw_gap_accumulate_order_s8(const int8_t *in, int32_t pixels, int32_t c, const uint16_t *order, int32_t input_offset, int32_t first, int32_t *sum)
{
    int32_t ch;
    int32_t p;
    if (c < 1 || pixels < 0 || input_offset < -128 || input_offset > 128)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    if (first)
    {
        for (ch = 0; ch < c; ch++)
        {
            sum[order ? (int32_t)order[ch] : ch] = 0;
        }
    }
    /* Pixel-major, as the band lies in memory; each sum gets exact int32 additions. */
    for (p = 0; p < pixels; p++)
    {
        const int8_t *px = in + (int32_t)p * c;
        if (order)
        {
            for (ch = 0; ch < c; ch++)
            {
                sum[order[ch]] += (int32_t)px[ch] + input_offset;
            }
        }
        else
        {
            for (ch = 0; ch < c; ch++)
            {
                sum[ch] += (int32_t)px[ch] + input_offset;
            }
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}

arm_cmsis_nn_status sqzfw_gap_finish_s8(const int32_t *sum, int32_t c, const sqzfw_gap_out_params *p, int8_t *out)
{
    int32_t ch;
    if (c < 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (ch = 0; ch < c; ch++)
    {
        int64_t v = (int64_t)sqzfw_requantize(sum[ch], p->mult, p->shift) + p->output_offset;
        v = (v < p->act_min) ? p->act_min : v;
        v = (v > p->act_max) ? p->act_max : v;
        out[ch] = (int8_t)v;
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#endif /* SQZFW_GAP_HAVE_NN_TYPES */
