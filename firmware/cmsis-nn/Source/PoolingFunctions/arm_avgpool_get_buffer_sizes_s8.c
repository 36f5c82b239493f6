/*
 * sqzfw portable int8 NN kernels - scratch size of arm_avgpool_s8.
 * Same rule as CMSIS-NN v7.0.0: DSP builds need one int32 per channel, others nothing
 * (Arm's MVE build needs nothing either).
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"

int32_t arm_avgpool_s8_get_buffer_size_dsp(const int dim_dst_width, const int ch_src)
{
    (void)dim_dst_width;
    return ch_src * (int32_t)sizeof(int32_t);
}

int32_t arm_avgpool_s8_get_buffer_size_mve(const int dim_dst_width, const int ch_src)
{
    (void)dim_dst_width;
    (void)ch_src;
    return 0;
}

int32_t arm_avgpool_s8_get_buffer_size(const int dim_dst_width, const int ch_src)
{
#if defined(ARM_MATH_DSP)
    return arm_avgpool_s8_get_buffer_size_dsp(dim_dst_width, ch_src);
#else
    (void)dim_dst_width;
    (void)ch_src;
    return 0;
#endif
}
