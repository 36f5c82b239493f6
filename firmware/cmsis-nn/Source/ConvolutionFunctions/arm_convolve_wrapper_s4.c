/*
 * sqzfw portable NN kernels - convolution front end for packed int4 weights.
 * The choice of kernel is CMSIS-NN v7.0.0's (non-MVE): unlike the s8 wrapper, the 1x1 test does not
 * compare input_dims->c with filter_dims->c.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

arm_cmsis_nn_status arm_convolve_wrapper_s4(const cmsis_nn_context *ctx,
                                            const cmsis_nn_conv_params *conv_params,
                                            const cmsis_nn_per_channel_quant_params *quant_params,
                                            const cmsis_nn_dims *input_dims,
                                            const int8_t *input_data,
                                            const cmsis_nn_dims *filter_dims,
                                            const int8_t *filter_data,
                                            const cmsis_nn_dims *bias_dims,
                                            const int32_t *bias_data,
                                            const cmsis_nn_dims *output_dims,
                                            int8_t *output_data)
{
    if (conv_params->padding.w == 0 && conv_params->padding.h == 0 && filter_dims->w == 1 && filter_dims->h == 1 &&
        conv_params->dilation.w == 1 && conv_params->dilation.h == 1)
    {
        if (conv_params->stride.w == 1 && conv_params->stride.h == 1)
        {
            return arm_convolve_1x1_s4_fast(ctx,
                                            conv_params,
                                            quant_params,
                                            input_dims,
                                            input_data,
                                            filter_dims,
                                            filter_data,
                                            bias_dims,
                                            bias_data,
                                            output_dims,
                                            output_data);
        }
        return arm_convolve_1x1_s4(ctx,
                                   conv_params,
                                   quant_params,
                                   input_dims,
                                   input_data,
                                   filter_dims,
                                   filter_data,
                                   bias_dims,
                                   bias_data,
                                   output_dims,
                                   output_data);
    }
    if (input_dims->h == 1 && conv_params->dilation.w == 1 && filter_dims->h == 1 &&
        ((conv_params->stride.w * input_dims->c) % 4) == 0 && input_dims->c == filter_dims->c)
    {
        return arm_convolve_1_x_n_s4(ctx,
                                     conv_params,
                                     quant_params,
                                     input_dims,
                                     input_data,
                                     filter_dims,
                                     filter_data,
                                     bias_dims,
                                     bias_data,
                                     output_dims,
                                     output_data);
    }
    return arm_convolve_s4(ctx,
                           conv_params,
                           quant_params,
                           input_dims,
                           input_data,
                           filter_dims,
                           filter_data,
                           bias_dims,
                           bias_data,
                           output_dims,
                           output_data);
}
