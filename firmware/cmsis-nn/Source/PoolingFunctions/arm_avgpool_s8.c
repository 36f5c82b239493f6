/*
 * sqzfw portable int8 NN kernels - average pooling.
 * Sum over the window clipped to the input, divided by the number of in-bounds positions with
 * rounding half away from zero ((sum +/- count/2) / count, C division), then clamped.
 * DSP builds accumulate a whole pixel's channels in the int32 scratch (4 bytes per channel,
 * arm_avgpool_s8_get_buffer_size); plain C builds need no scratch.
 * An empty clipped window returns ARM_CMSIS_NN_ARG_ERROR (as CMSIS-NN).
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

static int8_t average(int32_t sum, int32_t count, int32_t lo, int32_t hi)
{
    const int32_t half = count / 2;
    int32_t v = (sum > 0) ? (sum + half) / count : (sum - half) / count;
    v = MAX(v, lo);
    v = MIN(v, hi);
    return (int8_t)v;
}

arm_cmsis_nn_status arm_avgpool_s8(const cmsis_nn_context *ctx,
                                   const cmsis_nn_pool_params *pool_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data)
{
    const int32_t in_w = input_dims->w;
    const int32_t in_h = input_dims->h;
    const int32_t ch = input_dims->c;
    const int32_t out_w = output_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t k_w = filter_dims->w;
    const int32_t k_h = filter_dims->h;
    const int32_t act_min = pool_params->activation.min;
    const int32_t act_max = pool_params->activation.max;
    int32_t batch;
#if defined(ARM_MATH_DSP)
    int32_t *sums = (int32_t *)ctx->buf;
#endif

    if (input_dims->n < 1)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    if (ctx->buf == NULL && arm_avgpool_s8_get_buffer_size(out_w, ch) != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (batch = 0; batch < input_dims->n; batch++)
    {
        int8_t *out = output_data;
        int32_t oy, ox;
        for (oy = 0; oy < out_h; oy++)
        {
            const int32_t y0 = oy * pool_params->stride.h - pool_params->padding.h;
            const int32_t y_begin = MAX(y0, 0);
            const int32_t y_end = MIN(y0 + k_h, in_h);
            for (ox = 0; ox < out_w; ox++)
            {
                const int32_t x0 = ox * pool_params->stride.w - pool_params->padding.w;
                const int32_t x_begin = MAX(x0, 0);
                const int32_t x_end = MIN(x0 + k_w, in_w);
                const int32_t count = (y_end > y_begin && x_end > x_begin) ? (y_end - y_begin) * (x_end - x_begin) : 0;
                int32_t y, x, c;
                if (count == 0)
                {
                    return ARM_CMSIS_NN_ARG_ERROR;
                }
#if defined(ARM_MATH_DSP)
                for (c = 0; c < ch; c++)
                {
                    sums[c] = 0;
                }
                for (y = y_begin; y < y_end; y++)
                {
                    for (x = x_begin; x < x_end; x++)
                    {
                        const int8_t *src = input_data + (y * in_w + x) * ch;
                        for (c = 0; c < ch; c++)
                        {
                            sums[c] += src[c];
                        }
                    }
                }
                for (c = 0; c < ch; c++)
                {
                    out[c] = average(sums[c], count, act_min, act_max);
                }
#else
                for (c = 0; c < ch; c++)
                {
                    int32_t sum = 0;
                    for (y = y_begin; y < y_end; y++)
                    {
                        const int8_t *src = input_data + (y * in_w + x_begin) * ch + c;
                        for (x = x_begin; x < x_end; x++)
                        {
                            sum += *src;
                            src += ch;
                        }
                    }
                    out[c] = average(sum, count, act_min, act_max);
                }
#endif
                out += ch;
            }
        }
        input_data += in_w * in_h * ch;
        output_data += out_w * out_h * ch;
    }
    return ARM_CMSIS_NN_SUCCESS;
}
