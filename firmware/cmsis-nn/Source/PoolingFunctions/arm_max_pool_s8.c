/*
 * sqzfw portable int8 NN kernels - max pooling.
 * The window is clipped to the input: padding never contributes (so ceil-mode pooling is
 * expressed with output dims computed by ceil and padding 0). The clamp to the activation range
 * is applied to the whole output at the end. An output whose clipped window is empty is left
 * as it was before clamping (CMSIS-NN does the same); valid pool geometries never have one.
 * No scratch. Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_dsp.h"

/*
 * DSP builds: the maximum over the window of 4 channels at a time in a register (SSUB8 + SEL),
 * one store per 4 outputs. Returns the number of channels done (a multiple of 4).
 */
static int32_t max_window_x4(int8_t *out, const int8_t *in, int32_t row_step, int32_t ch, int32_t rows, int32_t cols)
{
    int32_t c = 0;
#if defined(ARM_MATH_DSP)
    for (; c + 4 <= ch; c += 4)
    {
        const int8_t *row = in + c;
        int32_t m = sqzfw_read_s8x4(row);
        int32_t y, x;
        for (y = 0; y < rows; y++)
        {
            const int8_t *p = row;
            for (x = 0; x < cols; x++)
            {
                m = sqzfw_max_s8x4(m, sqzfw_read_s8x4(p));
                p += ch;
            }
            row += row_step;
        }
        SQZFW_MEMCPY(out + c, &m, 4);
    }
#else
    (void)out;
    (void)in;
    (void)row_step;
    (void)ch;
    (void)rows;
    (void)cols;
#endif
    return c;
}

/* Not inlined: inlined into the window loop, GCC 12 (Cortex-M7) picks an induction variable that costs two more
 * instructions per byte. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void max_into(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++)
    {
        if (src[i] > dst[i])
        {
            dst[i] = src[i];
        }
    }
}

static void clamp_all(int8_t *p, int32_t n, int32_t lo, int32_t hi)
{
    int32_t i;
    for (i = 0; i < n; i++)
    {
        int32_t v = p[i];
        v = MAX(v, lo);
        v = MIN(v, hi);
        p[i] = (int8_t)v;
    }
}

arm_cmsis_nn_status arm_max_pool_s8(const cmsis_nn_context *ctx,
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
    int32_t batch;

    (void)ctx;
    if (input_dims->n < 1)
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
                int32_t first = 1;
                int32_t y, x, done = 0;
                if (y_end > y_begin && x_end > x_begin)
                {
                    done = max_window_x4(out, input_data + (y_begin * in_w + x_begin) * ch, in_w * ch, ch, y_end - y_begin, x_end - x_begin);
                }
                for (y = y_begin; y < y_end && done < ch; y++)
                {
                    for (x = x_begin; x < x_end; x++)
                    {
                        const int8_t *src = input_data + (y * in_w + x) * ch + done;
                        if (first)
                        {
                            memcpy(out + done, src, (size_t)(ch - done));
                            first = 0;
                        }
                        else
                        {
                            max_into(out + done, src, ch - done);
                        }
                    }
                }
                out += ch;
            }
        }
        if (pool_params->activation.min > NN_Q7_MIN || pool_params->activation.max < NN_Q7_MAX)
        {
            clamp_all(output_data,
                      out_w * out_h * ch,
                      pool_params->activation.min,
                      pool_params->activation.max);
        }
        input_data += in_w * in_h * ch;
        output_data += out_w * out_h * ch;
    }
    return ARM_CMSIS_NN_SUCCESS;
}
