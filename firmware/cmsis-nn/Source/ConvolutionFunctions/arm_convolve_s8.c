/*
 * sqzfw portable int8 NN kernels - general convolution (arm_convolve_s8).
 *
 * Method: for two output positions at a time, build their im2col columns (the receptive field,
 * int16, input offset already added, padding as the offset-corrected zero point) in the scratch
 * buffer, then multiply them by the filter rows two output channels at a time. The scratch size
 * is exactly arm_convolve_s8_get_buffer_size(): two columns of align4(KH*KW*C_IN) int16 values.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_dsp.h"

/* Where one group of one batch reads its input. */
typedef struct
{
    const int8_t *input;  /* first element of the batch, plus the group's first channel */
    int32_t data_w;       /* row length of the stored input, in pixels */
    int32_t data_c;       /* channels per stored pixel */
    int32_t bound_w;      /* positions 0..bound_w-1 / 0..bound_h-1 are inside the input */
    int32_t bound_h;
    int32_t ker_w;
    int32_t ker_h;
    int32_t ker_c;
    int32_t dil_x;
    int32_t dil_y;
    int32_t x_rshift;     /* 1: 2x zero-insertion upscale along x */
    int32_t y_rshift;
    int32_t input_offset;
    int32_t rhs_cols;
    int16_t pad16;        /* value of a padding element after the offset is added */
    int8_t pad8;          /* value of a padding element before it */
} im2col_geom;

/*
 * int8 -> int16 with the input offset added (modulo 2^16, as 16-bit SIMD lanes add).
 * DSP builds store each full group of four as elements (0, 2, 1, 3): the order in which the
 * filter bytes come out of sxtb16 and sxtb16-ror-8, so a column word pairs with a filter word.
 * The last n % 4 elements keep their natural order. Safe when dst overlaps src from above,
 * as long as dst + 2 * i <= src + i for the element i being converted (see fill_column).
 */
static void widen_with_offset(const int8_t *src, int16_t *dst, int32_t n, int32_t offset)
{
    int32_t i = 0;
#if defined(ARM_MATH_DSP)
    const int32_t offset_x2 = (int32_t)(((uint32_t)offset & 0xFFFFU) * 0x10001U);
    for (; i + 4 <= n; i += 4)
    {
        const int32_t v = sqzfw_read_s8x4(src + i);
        sqzfw_write_s16x2(dst + i, sqzfw_sxtab16(offset_x2, v));
        sqzfw_write_s16x2(dst + i + 2, sqzfw_sxtab16_ror8(offset_x2, v));
    }
#endif
    for (; i < n; i++)
    {
        dst[i] = (int16_t)(src[i] + offset);
    }
}

static void fill_pad16(int16_t *dst, int32_t n, int16_t v)
{
    int32_t i;
    for (i = 0; i < n; i++)
    {
        dst[i] = v;
    }
}

/* Input element of filter tap (y, x) in virtual input coordinates, or NULL for padding. */
static const int8_t *tap_source(const im2col_geom *g, int32_t y, int32_t x)
{
    if (y < 0 || y >= g->bound_h || x < 0 || x >= g->bound_w)
    {
        return NULL;
    }
    if ((g->y_rshift != 0 && (y & 1) != 0) || (g->x_rshift != 0 && (x & 1) != 0))
    {
        return NULL; /* an inserted zero of the upscaled input */
    }
    return g->input + ((y >> g->y_rshift) * g->data_w + (x >> g->x_rshift)) * g->data_c;
}

/*
 * The im2col column of the output position whose receptive field starts at (base_y, base_x).
 * When ker_c is a multiple of 4 (or in the plain C build) each tap is widened straight into the
 * column. Otherwise the DSP element order crosses tap boundaries, so the taps are first gathered
 * as int8 into `stage` (the last rhs_cols bytes of the scratch) and widened in one pass.
 */
static void fill_column(const im2col_geom *g, int32_t base_y, int32_t base_x, int16_t *col, int8_t *stage)
{
    int32_t ky, kx;
#if defined(ARM_MATH_DSP)
    const int32_t direct = (g->ker_c & 3) == 0;
#else
    const int32_t direct = 1;
    (void)stage;
#endif
    if (direct)
    {
        int16_t *dst = col;
        for (ky = 0; ky < g->ker_h; ky++)
        {
            const int32_t y = base_y + ky * g->dil_y;
            for (kx = 0; kx < g->ker_w; kx++)
            {
                const int8_t *src = tap_source(g, y, base_x + kx * g->dil_x);
                if (src != NULL)
                {
                    widen_with_offset(src, dst, g->ker_c, g->input_offset);
                }
                else
                {
                    fill_pad16(dst, g->ker_c, g->pad16);
                }
                dst += g->ker_c;
            }
        }
    }
#if defined(ARM_MATH_DSP)
    else
    {
        int8_t *dst = stage;
        for (ky = 0; ky < g->ker_h; ky++)
        {
            const int32_t y = base_y + ky * g->dil_y;
            for (kx = 0; kx < g->ker_w; kx++)
            {
                const int8_t *src = tap_source(g, y, base_x + kx * g->dil_x);
                if (src != NULL)
                {
                    SQZFW_MEMCPY(dst, src, (size_t)g->ker_c);
                }
                else
                {
                    memset(dst, g->pad8, (size_t)g->ker_c);
                }
                dst += g->ker_c;
            }
        }
        widen_with_offset(stage, col, g->rhs_cols, g->input_offset);
    }
#endif
}

/* Filter rows times two columns: out0[o] and out1[o] for o < out_ch. */
static void mac_two_columns(const int8_t *w,
                            const int32_t out_ch,
                            const int32_t cols,
                            const int16_t *col0,
                            const int16_t *col1,
                            const int32_t *bias,
                            const int32_t *mult,
                            const int32_t *shift,
                            const int32_t out_offset,
                            const int32_t act_min,
                            const int32_t act_max,
                            int8_t *out0,
                            int8_t *out1)
{
    int32_t o = 0;
#if defined(ARM_MATH_DSP)
    const int32_t cols4 = cols & ~3;
    for (; o + 1 < out_ch; o += 2)
    {
        const int8_t *wa = w + o * cols;
        const int8_t *wb = wa + cols;
        int32_t a0 = bias ? bias[o] : 0; /* channel o, column 0 */
        int32_t a1 = a0;                 /* channel o, column 1 */
        int32_t b0 = bias ? bias[o + 1] : 0;
        int32_t b1 = b0;
        int32_t k = 0;
        for (; k < cols4; k += 4)
        {
            const int32_t va = sqzfw_read_s8x4(wa + k);
            const int32_t vb = sqzfw_read_s8x4(wb + k);
            const int32_t wa02 = sqzfw_sxtb16(va), wa13 = sqzfw_sxtb16_ror8(va);
            const int32_t wb02 = sqzfw_sxtb16(vb), wb13 = sqzfw_sxtb16_ror8(vb);
            int32_t x02 = sqzfw_read_s16x2(col0 + k);
            int32_t x13 = sqzfw_read_s16x2(col0 + k + 2);
            a0 = sqzfw_smlad(wa02, x02, a0);
            a0 = sqzfw_smlad(wa13, x13, a0);
            b0 = sqzfw_smlad(wb02, x02, b0);
            b0 = sqzfw_smlad(wb13, x13, b0);
            x02 = sqzfw_read_s16x2(col1 + k);
            x13 = sqzfw_read_s16x2(col1 + k + 2);
            a1 = sqzfw_smlad(wa02, x02, a1);
            a1 = sqzfw_smlad(wa13, x13, a1);
            b1 = sqzfw_smlad(wb02, x02, b1);
            b1 = sqzfw_smlad(wb13, x13, b1);
        }
        for (; k < cols; k++)
        {
            a0 += wa[k] * col0[k];
            a1 += wa[k] * col1[k];
            b0 += wb[k] * col0[k];
            b1 += wb[k] * col1[k];
        }
        out0[o] = sqzfw_requantize_clamp(a0, mult[o], shift[o], out_offset, act_min, act_max);
        out1[o] = sqzfw_requantize_clamp(a1, mult[o], shift[o], out_offset, act_min, act_max);
        out0[o + 1] = sqzfw_requantize_clamp(b0, mult[o + 1], shift[o + 1], out_offset, act_min, act_max);
        out1[o + 1] = sqzfw_requantize_clamp(b1, mult[o + 1], shift[o + 1], out_offset, act_min, act_max);
    }
#endif
    for (; o < out_ch; o++)
    {
        const int8_t *wr = w + o * cols;
        int32_t a0 = bias ? bias[o] : 0;
        int32_t a1 = a0;
        int32_t k = 0;
#if defined(ARM_MATH_DSP)
        for (; k + 4 <= cols; k += 4)
        {
            const int32_t v = sqzfw_read_s8x4(wr + k);
            const int32_t w02 = sqzfw_sxtb16(v), w13 = sqzfw_sxtb16_ror8(v);
            a0 = sqzfw_smlad(w02, sqzfw_read_s16x2(col0 + k), a0);
            a0 = sqzfw_smlad(w13, sqzfw_read_s16x2(col0 + k + 2), a0);
            a1 = sqzfw_smlad(w02, sqzfw_read_s16x2(col1 + k), a1);
            a1 = sqzfw_smlad(w13, sqzfw_read_s16x2(col1 + k + 2), a1);
        }
#endif
        for (; k < cols; k++)
        {
            a0 += wr[k] * col0[k];
            a1 += wr[k] * col1[k];
        }
        out0[o] = sqzfw_requantize_clamp(a0, mult[o], shift[o], out_offset, act_min, act_max);
        out1[o] = sqzfw_requantize_clamp(a1, mult[o], shift[o], out_offset, act_min, act_max);
    }
}

/* Filter rows times one column. */
static void mac_one_column(const int8_t *w,
                           const int32_t out_ch,
                           const int32_t cols,
                           const int16_t *col,
                           const int32_t *bias,
                           const int32_t *mult,
                           const int32_t *shift,
                           const int32_t out_offset,
                           const int32_t act_min,
                           const int32_t act_max,
                           int8_t *out)
{
    int32_t o;
    for (o = 0; o < out_ch; o++)
    {
        const int8_t *wr = w + o * cols;
        int32_t acc = bias ? bias[o] : 0;
        int32_t k = 0;
#if defined(ARM_MATH_DSP)
        for (; k + 4 <= cols; k += 4)
        {
            const int32_t v = sqzfw_read_s8x4(wr + k);
            acc = sqzfw_smlad(sqzfw_sxtb16(v), sqzfw_read_s16x2(col + k), acc);
            acc = sqzfw_smlad(sqzfw_sxtb16_ror8(v), sqzfw_read_s16x2(col + k + 2), acc);
        }
#endif
        for (; k < cols; k++)
        {
            acc += wr[k] * col[k];
        }
        out[o] = sqzfw_requantize_clamp(acc, mult[o], shift[o], out_offset, act_min, act_max);
    }
}

arm_cmsis_nn_status arm_convolve_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_conv_params *conv_params,
                                    const cmsis_nn_per_channel_quant_params *quant_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const int8_t *filter_data,
                                    const cmsis_nn_dims *bias_dims,
                                    const int32_t *bias_data,
                                    const cmsis_nn_dims *upscale_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data)
{
    const int32_t in_c = input_dims->c;
    const int32_t ker_c = filter_dims->c;
    const int32_t out_w = output_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_c = output_dims->c;
    const int32_t stride_x = conv_params->stride.w;
    const int32_t stride_y = conv_params->stride.h;
    const int32_t pad_x = conv_params->padding.w;
    const int32_t pad_y = conv_params->padding.h;
    int32_t groups, out_c_per_group, rhs_cols, aligned_cols, batch, group;
    im2col_geom g;
    int16_t *col0;
    int16_t *col1;
    int8_t *stage;

    (void)bias_dims;
    if (ctx == NULL || ctx->buf == NULL)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    if (ker_c <= 0 || in_c < ker_c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    groups = in_c / ker_c;
    if ((in_c % groups) != 0 || (out_c % groups) != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    out_c_per_group = out_c / groups;

    g.x_rshift = 0;
    g.y_rshift = 0;
    if (upscale_dims != NULL)
    {
        g.x_rshift = (upscale_dims->w == 2) ? 1 : 0;
        g.y_rshift = (upscale_dims->h == 2) ? 1 : 0;
    }
    g.bound_w = input_dims->w;
    g.bound_h = input_dims->h;
    g.data_w = input_dims->w >> g.x_rshift;
    g.data_c = in_c;
    g.ker_w = filter_dims->w;
    g.ker_h = filter_dims->h;
    g.ker_c = ker_c;
    g.dil_x = conv_params->dilation.w;
    g.dil_y = conv_params->dilation.h;
    g.input_offset = conv_params->input_offset;
    g.pad8 = (int8_t)(-conv_params->input_offset);
    g.pad16 = (int16_t)(g.pad8 + conv_params->input_offset);

    rhs_cols = g.ker_w * g.ker_h * ker_c;
    g.rhs_cols = rhs_cols;
    aligned_cols = (rhs_cols + 3) & ~3;
    col0 = (int16_t *)ctx->buf;
    col1 = col0 + aligned_cols;
    /* int8 gather area for fill_column: the end of the second column. Widening it into the
     * second column is safe because that column starts 2 * aligned_cols - rhs_cols >= rhs_cols
     * bytes below it, so element i is written (2 bytes) only after element i has been read. */
    stage = (int8_t *)ctx->buf + 4 * aligned_cols - rhs_cols;

    for (batch = 0; batch < input_dims->n; batch++)
    {
        for (group = 0; group < groups; group++)
        {
            const int32_t ch0 = group * out_c_per_group;
            const int8_t *w = filter_data + ch0 * rhs_cols;
            const int32_t *bias = bias_data ? bias_data + ch0 : NULL;
            const int32_t *mult = quant_params->multiplier + ch0;
            const int32_t *shift = quant_params->shift + ch0;
            int8_t *pending = NULL;
            int32_t oy, ox;

            g.input = input_data;
            /* With upscaling, CMSIS-NN v7.0.0 reads the first channels for every group. */
            if (g.x_rshift == 0 && g.y_rshift == 0)
            {
                g.input += group * ker_c;
            }
            for (oy = 0; oy < out_h; oy++)
            {
                for (ox = 0; ox < out_w; ox++)
                {
                    int8_t *out = output_data + (oy * out_w + ox) * out_c + ch0;
                    fill_column(&g, oy * stride_y - pad_y, ox * stride_x - pad_x, pending ? col1 : col0, stage);
                    if (pending != NULL)
                    {
                        mac_two_columns(w,
                                        out_c_per_group,
                                        rhs_cols,
                                        col0,
                                        col1,
                                        bias,
                                        mult,
                                        shift,
                                        conv_params->output_offset,
                                        conv_params->activation.min,
                                        conv_params->activation.max,
                                        pending,
                                        out);
                        pending = NULL;
                    }
                    else
                    {
                        pending = out;
                    }
                }
            }
            if (pending != NULL)
            {
                mac_one_column(w,
                               out_c_per_group,
                               rhs_cols,
                               col0,
                               bias,
                               mult,
                               shift,
                               conv_params->output_offset,
                               conv_params->activation.min,
                               conv_params->activation.max,
                               pending);
            }
        }
        input_data += (input_dims->h >> g.y_rshift) * g.data_w * in_c;
        output_data += out_h * out_w * out_c;
    }
    return ARM_CMSIS_NN_SUCCESS;
}
