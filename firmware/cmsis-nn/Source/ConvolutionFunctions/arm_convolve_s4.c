/*
 * sqzfw portable NN kernels - general convolution with packed int4 weights (arm_convolve_s4).
 *
 * Output positions two at a time: their im2col columns (int16, input offset added, padding 0, i.e. the
 * zero point) in the scratch buffer as a pair (layout in Include/Internal/sqzfw_nn_s4.h: interleaved by
 * groups of eight in a DSP build), then sqzfw_nn_mat_mult_s4_s16 for every output channel of both (one
 * weight unpack serves the two columns). With dilation 1 the inside part of each filter row is one run
 * of the input row, written group by group.
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

/* Column i of the pair at col (n elements) for the output position whose window starts at (base_y, base_x). */
static void fill_column_s4(const s4_geom *g, const int32_t base_y, const int32_t base_x, int16_t *col, const int32_t n, const int32_t i)
{
    const int32_t row = g->ker_w * g->in_c;
    int32_t ky, kx;
    for (ky = 0; ky < g->ker_h; ky++)
    {
        const int32_t y = base_y + ky * g->dil_y;
        const int32_t k = ky * row;
        if (y < 0 || y >= g->in_h)
        {
            sqzfw_s4_pair_put(col, n, i, k, NULL, row, 0);
        }
        else if (g->dil_x == 1)
        {
            /* the filter row's inside positions are one run of the input row */
            const int32_t lo = MIN(g->ker_w, MAX(0, -base_x));
            const int32_t hi = MAX(lo, MIN(g->ker_w, g->in_w - base_x));
            if (lo > 0)
            {
                sqzfw_s4_pair_put(col, n, i, k, NULL, lo * g->in_c, 0);
            }
            if (hi > lo)
            {
                sqzfw_s4_pair_put(col, n, i, k + lo * g->in_c, g->input + (y * g->in_w + base_x + lo) * g->in_c,
                                  (hi - lo) * g->in_c, g->input_offset);
            }
            if (hi < g->ker_w)
            {
                sqzfw_s4_pair_put(col, n, i, k + hi * g->in_c, NULL, (g->ker_w - hi) * g->in_c, 0);
            }
        }
        else
        {
            for (kx = 0; kx < g->ker_w; kx++)
            {
                const int32_t x = base_x + kx * g->dil_x;
                const int8_t *src = (x < 0 || x >= g->in_w) ? NULL : g->input + (y * g->in_w + x) * g->in_c;
                sqzfw_s4_pair_put(col, n, i, k + kx * g->in_c, src, g->in_c, g->input_offset);
            }
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
    int32_t rhs_cols, p, mode;
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
    mode = sqzfw_s4_rq_mode(bias_data, quant_params->shift, out_c, rhs_cols, conv_params->output_offset,
                            conv_params->activation.min, conv_params->activation.max);

    /* output positions p (batch-major, NHWC) in pairs; the last one alone when their number is odd */
    for (p = 0; p < pixels; p += 2)
    {
        const int32_t count = (p + 1 < pixels) ? 2 : 1;
        int32_t i;
        for (i = 0; i < 2; i++)
        {
            /* an odd last position fills both columns (the second is computed, not written) */
            const int32_t q = (i < count) ? p + i : p;
            const int32_t batch = q / (out_h * out_w);
            const int32_t oy = (q / out_w) % out_h;
            const int32_t ox = q % out_w;
            g.input = input_data + batch * g.in_h * g.in_w * g.in_c;
            fill_column_s4(&g, oy * conv_params->stride.h - conv_params->padding.h,
                           ox * conv_params->stride.w - conv_params->padding.w, col, rhs_cols, i);
        }
        sqzfw_nn_mat_mult_s4_s16(packed_filter_data,
                                 out_c,
                                 rhs_cols,
                                 col,
                                 bias_data,
                                 quant_params->multiplier,
                                 quant_params->shift,
                                 conv_params->output_offset,
                                 conv_params->activation.min,
                                 conv_params->activation.max,
                                 mode,
                                 output_data + p * out_c,
                                 (count == 2) ? output_data + (p + 1) * out_c : NULL);
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
