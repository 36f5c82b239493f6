/*
 * sqzfw portable NN kernels - general convolution with packed int4 weights (arm_convolve_s4).
 *
 * Output positions two at a time: their im2col columns (int16, input offset added, padding 0, i.e. the
 * zero point) side by side in the scratch buffer, reordered for the build (sqzfw_s4_column_order), then
 * sqzfw_nn_mat_mult_s4_s16 for every output channel of both (one weight unpack serves the two columns).
 * Handles batches, stride, padding and dilation; the filter's C_IN is input_dims->c (no groups), as in
 * CMSIS-NN v7.0.0. The scratch is the two columns arm_convolve_s4_get_buffer_size asks for (Arm's rule).
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_s4.h"

/* Geometry of one convolution, for the column builder. */
typedef struct
{
    const int8_t *input; /* first element of the current batch */
    int32_t in_w;
    int32_t in_h;
    int32_t in_c;
    int32_t ker_w;
    int32_t ker_h;
    int32_t dil_x;
    int32_t dil_y;
    int32_t input_offset;
} s4_geom;

static void fill_column_s4(const s4_geom *g, const int32_t base_y, const int32_t base_x, int16_t *col)
{
    int32_t ky, kx, c;
    for (ky = 0; ky < g->ker_h; ky++)
    {
        const int32_t y = base_y + ky * g->dil_y;
        for (kx = 0; kx < g->ker_w; kx++)
        {
            const int32_t x = base_x + kx * g->dil_x;
            if (y < 0 || y >= g->in_h || x < 0 || x >= g->in_w)
            {
                for (c = 0; c < g->in_c; c++)
                {
                    col[c] = 0;
                }
            }
            else
            {
                const int8_t *src = g->input + (y * g->in_w + x) * g->in_c;
                for (c = 0; c < g->in_c; c++)
                {
                    col[c] = (int16_t)(src[c] + g->input_offset);
                }
            }
            col += g->in_c;
        }
    }
}

arm_cmsis_nn_status arm_convolve_s4(const cmsis_nn_context *ctx,
                                    const cmsis_nn_conv_params *conv_params,
                                    const cmsis_nn_per_channel_quant_params *quant_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const int8_t *packed_filter_data,
                                    const cmsis_nn_dims *bias_dims,
                                    const int32_t *bias_data,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data)
{
    const int32_t out_w = output_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_c = output_dims->c;
    const int32_t pixels = input_dims->n * out_h * out_w;
    int32_t rhs_cols, p;
    int16_t *col;
    s4_geom g;

    (void)bias_dims;
    if (ctx == NULL || ctx->buf == NULL)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    g.in_w = input_dims->w;
    g.in_h = input_dims->h;
    g.in_c = input_dims->c;
    g.ker_w = filter_dims->w;
    g.ker_h = filter_dims->h;
    g.dil_x = conv_params->dilation.w;
    g.dil_y = conv_params->dilation.h;
    g.input_offset = conv_params->input_offset;
    rhs_cols = g.ker_w * g.ker_h * g.in_c;
    col = (int16_t *)ctx->buf;

    /* output positions p (batch-major, NHWC) in pairs; the last one alone when their number is odd */
    for (p = 0; p < pixels; p += 2)
    {
        const int32_t count = (p + 1 < pixels) ? 2 : 1;
        int32_t i;
        for (i = 0; i < count; i++)
        {
            const int32_t q = p + i;
            const int32_t batch = q / (out_h * out_w);
            const int32_t oy = (q / out_w) % out_h;
            const int32_t ox = q % out_w;
            int16_t *c = col + i * rhs_cols;
            g.input = input_data + batch * g.in_h * g.in_w * g.in_c;
            fill_column_s4(&g, oy * conv_params->stride.h - conv_params->padding.h,
                           ox * conv_params->stride.w - conv_params->padding.w, c);
            sqzfw_s4_column_order(c, rhs_cols);
        }
        sqzfw_nn_mat_mult_s4_s16(packed_filter_data,
                                 out_c,
                                 rhs_cols,
                                 col,
                                 (count == 2) ? col + rhs_cols : NULL,
                                 bias_data,
                                 quant_params->multiplier,
                                 quant_params->shift,
                                 conv_params->output_offset,
                                 conv_params->activation.min,
                                 conv_params->activation.max,
                                 output_data + p * out_c,
                                 output_data + (p + 1) * out_c);
    }
    return ARM_CMSIS_NN_SUCCESS;
}

/* 1xN convolution: CMSIS-NN v7.0.0's argument checks, then the general kernel (as Arm's non-MVE build). */
arm_cmsis_nn_status arm_convolve_1_x_n_s4(const cmsis_nn_context *ctx,
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
    const int32_t need = arm_convolve_1_x_n_s4_get_buffer_size(conv_params, input_dims, filter_dims, output_dims);
    if (input_dims->h != 1 || conv_params->dilation.w != 1 || (need != 0 && (ctx == NULL || ctx->buf == NULL)) ||
        conv_params->stride.w == 0 || ((conv_params->stride.w * input_dims->c) % 4) != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
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
