/*
 * sqzfw portable int8 NN kernels - scratch sizes of the convolutions.
 *
 * The rules are those of CMSIS-NN v7.0.0 built with GCC, so that memory planned with them
 * suits either library:
 *  - arm_convolve_s8 / arm_convolve_1_x_n_s8 (non-MVE): 2 columns * align4(KH*KW*C_IN) * 2 bytes,
 *    with C_IN taken from input_dims (not filter_dims);
 *  - 1x1 convolutions: 0 (Arm's DSP build asks for 4*C_IN bytes only when compiled by Arm
 *    Compiler 6, and then also runs without a buffer);
 *  - the wrapper chooses among them with the wrapper's conditions minus the
 *    input_dims->c == filter_dims->c test (CMSIS-NN's size function does not have it).
 * The scalar and DSP builds therefore ask for the same sizes.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

static int32_t im2col_bytes(const int32_t cols)
{
    const int32_t aligned = (cols + 3) & ~3;
    return 2 * aligned * (int32_t)sizeof(int16_t);
}

int32_t arm_convolve_s8_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    return im2col_bytes(filter_dims->w * filter_dims->h * input_dims->c);
}

int32_t arm_convolve_1_x_n_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *output_dims)
{
    (void)conv_params;
    (void)output_dims;
    return arm_convolve_s8_get_buffer_size(input_dims, filter_dims);
}

int32_t arm_convolve_1x1_s8_fast_get_buffer_size(const cmsis_nn_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

int32_t arm_convolve_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims)
{
    if (conv_params->padding.w == 0 && conv_params->padding.h == 0 && filter_dims->w == 1 && filter_dims->h == 1 &&
        conv_params->dilation.w == 1 && conv_params->dilation.h == 1)
    {
        return 0; /* arm_convolve_1x1_s8_fast or arm_convolve_1x1_s8 */
    }
    if (input_dims->h == 1 && conv_params->dilation.w == 1 && filter_dims->h == 1 &&
        ((conv_params->stride.w * input_dims->c) % 4) == 0)
    {
        return arm_convolve_1_x_n_s8_get_buffer_size(conv_params, input_dims, filter_dims, output_dims);
    }
    return arm_convolve_s8_get_buffer_size(input_dims, filter_dims);
}

int32_t arm_convolve_wrapper_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims)
{
    /* identical rule for the plain C build and the DSP build */
    return arm_convolve_wrapper_s8_get_buffer_size_dsp(conv_params, input_dims, filter_dims, output_dims);
}

/* ---- Arm's MVE (Helium) rule, for planning memory for Arm's library on Cortex-M55 ---- */

static int32_t mve_conv_bytes(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    /* four int8 im2col columns, each rounded up to whole 16-byte vectors */
    const int32_t cols = input_dims->c * filter_dims->w * filter_dims->h;
    return 4 * ((cols + 15) / 16) * 16;
}

static int32_t mve_1_x_n_bytes(const cmsis_nn_conv_params *conv_params,
                               const cmsis_nn_dims *input_dims,
                               const cmsis_nn_dims *filter_dims,
                               const cmsis_nn_dims *output_dims)
{
    const int32_t ch = input_dims->c;
    const int32_t pad = conv_params->padding.w;
    const int32_t stride = conv_params->stride.w;
    const int32_t kw = filter_dims->w;
    const int32_t out_w = output_dims->w;
    const int32_t odd_pad = ((out_w - 1) * stride + kw - input_dims->w) % 2;
    const int32_t right_n = (pad + odd_pad != 0) ? MAX(1, (pad + odd_pad + stride - 1) / stride) : 0;
    const int32_t left_n = (pad != 0) ? MAX(1, (pad + stride - 1) / stride) : 0;
    const int32_t mid_n = MAX(out_w - (right_n + left_n), 0);
    int32_t left_bytes, right_bytes;

    if (right_n + mid_n + left_n != out_w)
    {
        return mve_conv_bytes(input_dims, filter_dims);
    }
    left_bytes = kw * ch + pad * ch;
    right_bytes = (kw - 1) * ch + (odd_pad ? right_n * ch : pad * ch);
    return MAX(left_bytes, right_bytes);
}

int32_t arm_convolve_wrapper_s8_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims)
{
    if (conv_params->padding.w == 0 && conv_params->padding.h == 0 && filter_dims->w == 1 && filter_dims->h == 1 &&
        conv_params->dilation.w == 1 && conv_params->dilation.h == 1)
    {
        return 0;
    }
    if (input_dims->h == 1 && conv_params->dilation.w == 1 && filter_dims->h == 1 &&
        ((conv_params->stride.w * input_dims->c) % 4) == 0)
    {
        return mve_1_x_n_bytes(conv_params, input_dims, filter_dims, output_dims);
    }
    return mve_conv_bytes(input_dims, filter_dims);
}
