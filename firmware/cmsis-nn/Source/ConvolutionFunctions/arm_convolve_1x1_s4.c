/*
 * sqzfw portable NN kernels - 1x1 convolutions with packed int4 weights, no padding, no scratch:
 * arm_convolve_1x1_s4_fast (stride 1: all pixels are one matrix) and arm_convolve_1x1_s4 (any stride:
 * one matrix product per output row, the stride skipping input pixels).
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_s4.h"

arm_cmsis_nn_status arm_convolve_1x1_s4_fast(const cmsis_nn_context *ctx,
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
    const int32_t in_c = input_dims->c;
    (void)ctx;
    (void)filter_dims;
    (void)bias_dims;
    if (conv_params->padding.w != 0 || conv_params->padding.h != 0 || conv_params->stride.w != 1 ||
        conv_params->stride.h != 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    sqzfw_nn_mat_mult_nt_t_s4(input_data,
                              input_dims->n * input_dims->h * input_dims->w,
                              in_c,
                              filter_data,
                              output_dims->c,
                              in_c,
                              bias_data,
                              quant_params->multiplier,
                              quant_params->shift,
                              conv_params->input_offset,
                              conv_params->output_offset,
                              conv_params->activation.min,
                              conv_params->activation.max,
                              output_data,
                              output_dims->c);
    return ARM_CMSIS_NN_SUCCESS;
}

arm_cmsis_nn_status arm_convolve_1x1_s4(const cmsis_nn_context *ctx,
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
    const int32_t in_c = input_dims->c;
    const int32_t out_c = output_dims->c;
    const int32_t row_step = input_dims->w * conv_params->stride.h * in_c;
    int32_t batch, oy;

    (void)ctx;
    (void)filter_dims;
    (void)bias_dims;
    if (conv_params->padding.w != 0 || conv_params->padding.h != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (batch = 0; batch < input_dims->n; batch++)
    {
        const int8_t *in_row = input_data + batch * input_dims->h * input_dims->w * in_c;
        for (oy = 0; oy < output_dims->h; oy++)
        {
            sqzfw_nn_mat_mult_nt_t_s4(in_row,
                                      output_dims->w,
                                      in_c * conv_params->stride.w,
                                      filter_data,
                                      out_c,
                                      in_c,
                                      bias_data,
                                      quant_params->multiplier,
                                      quant_params->shift,
                                      conv_params->input_offset,
                                      conv_params->output_offset,
                                      conv_params->activation.min,
                                      conv_params->activation.max,
                                      output_data,
                                      out_c);
            in_row += row_step;
            output_data += output_dims->w * out_c;
        }
    }
    return ARM_CMSIS_NN_SUCCESS;
}
