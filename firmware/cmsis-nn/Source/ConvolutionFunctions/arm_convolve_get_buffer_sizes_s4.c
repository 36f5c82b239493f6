/*
 * sqzfw portable NN kernels - scratch sizes of the int4-weight convolutions (CMSIS-NN v7.0.0 rules, non-MVE):
 *  - arm_convolve_s4 / arm_convolve_1_x_n_s4: two int16 columns of KH*KW*C_IN (C_IN from input_dims), not
 *    rounded up (unlike the s8 rule);
 *  - 1x1 convolutions: 0;
 *  - the wrapper: 0 for an unpadded 1x1 filter with dilation 1, else the general size.
 * The plain C and DSP builds ask for the same sizes (src/planner/scratch.ts has the TypeScript copy).
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

int32_t arm_convolve_s4_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    return 2 * filter_dims->w * filter_dims->h * input_dims->c * (int32_t)sizeof(int16_t);
}

int32_t arm_convolve_1_x_n_s4_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *output_dims)
{
    (void)conv_params;
    (void)output_dims;
    return arm_convolve_s4_get_buffer_size(input_dims, filter_dims);
}

int32_t arm_convolve_1x1_s4_fast_get_buffer_size(const cmsis_nn_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

int32_t arm_convolve_wrapper_s4_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims)
{
    (void)output_dims;
    if (conv_params->padding.w == 0 && conv_params->padding.h == 0 && filter_dims->w == 1 && filter_dims->h == 1 &&
        conv_params->dilation.w == 1 && conv_params->dilation.h == 1)
    {
        return 0; /* arm_convolve_1x1_s4_fast or arm_convolve_1x1_s4 */
    }
    return arm_convolve_s4_get_buffer_size(input_dims, filter_dims);
}

int32_t arm_convolve_wrapper_s4_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims)
{
    return arm_convolve_wrapper_s4_get_buffer_size(conv_params, input_dims, filter_dims, output_dims);
}
