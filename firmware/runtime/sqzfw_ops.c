/* sqzfw: int8 operators that CMSIS-NN does not provide (see sqzfw_ops.h). */

/* The runtime is also built without any CMSIS-NN on the include path (board bring-up projects, the runtime's own
 * tests): then nothing here is needed and the file compiles to nothing. GCC and Clang have __has_include. */
#ifdef __has_include
#if __has_include("arm_nn_types.h")
#define SQZFW_OPS_HAVE_NN_TYPES 1
#endif
#else
#define SQZFW_OPS_HAVE_NN_TYPES 1
#endif

#ifndef SQZFW_OPS_HAVE_NN_TYPES
typedef int sqzfw_ops_empty_unit; /* ISO C wants a non-empty translation unit */
#else

#include "sqzfw_ops.h"

#include <stddef.h>

/* Arithmetic right shift (floor division by 2^s), s in 0..31, without implementation-defined >> of negatives. */
static int32_t ops_asr(int32_t v, int32_t s)
{
    if (v >= 0)
    {
        return (int32_t)((uint32_t)v >> s);
    }
    return (int32_t)~(~(uint32_t)v >> s);
}

/* arm_nn_doubling_high_mult_no_sat: (a*b + 2^30) >> 31 on the exact 64-bit product, truncated to 32 bits. */
static int32_t ops_doubling_high_mult_no_sat(int32_t a, int32_t b)
{
    const int64_t prod = (int64_t)a * (int64_t)b + ((int64_t)1 << 30);
    int64_t q;
    if (prod >= 0)
    {
        q = (int64_t)((uint64_t)prod >> 31);
    }
    else
    {
        q = (int64_t)~(~(uint64_t)prod >> 31); /* floor division, as an arithmetic shift */
    }
    return (int32_t)(uint32_t)(uint64_t)q;
}

/* arm_nn_divide_by_power_of_two: rounding right shift, ties away from zero; exponents >= 32 as on Cortex-M
 * (mask of all ones, quotient 0 or -1). */
static int32_t ops_divide_by_power_of_two(int32_t dividend, int32_t exponent)
{
    int32_t mask;
    int32_t result;
    int32_t threshold;
    if (exponent >= 32)
    {
        mask = -1;
        result = (dividend < 0) ? -1 : 0;
    }
    else
    {
        mask = (int32_t)((1U << exponent) - 1U);
        result = ops_asr(dividend, exponent);
    }
    threshold = ops_asr(mask, 1);
    if (result < 0)
    {
        threshold++;
    }
    if ((dividend & mask) > threshold)
    {
        result++;
    }
    return result;
}

int32_t sqzfw_requantize(int32_t val, int32_t mult, int32_t shift)
{
    const int32_t left = (shift > 0) ? shift : 0;
    const int32_t right = (shift > 0) ? 0 : -shift;
    const int32_t scaled = (left >= 32) ? 0 : (int32_t)((uint32_t)val << left);
    return ops_divide_by_power_of_two(ops_doubling_high_mult_no_sat(scaled, mult), right);
}

arm_cmsis_nn_status sqzfw_global_avgpool_requant_s8(const sqzfw_gap_params *params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const int8_t *input_data,
                                                    int8_t *output_data)
{
    /* one band, every channel in channel order; dims the call refuses give any band size >= 1 */
    const int64_t count = (int64_t)input_dims->h * input_dims->w;
    const int32_t band = (count >= 1 && count <= SQZFW_GAP_MAX_COUNT) ? (int32_t)count : 1;
    return sqzfw_global_avgpool_requant_split_s8(params, input_dims, input_data, band, 0, NULL, output_data);
}

arm_cmsis_nn_status sqzfw_global_avgpool_requant_split_s8(const sqzfw_gap_params *params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const int8_t *input_data,
                                                          int32_t chunk_pixels,
                                                          int32_t n8,
                                                          const uint16_t *order,
                                                          int8_t *output_data)
{
    const int32_t h = input_dims->h;
    const int32_t w = input_dims->w;
    const int32_t c = input_dims->c;
    const int32_t input_offset = params->input_offset;
    int32_t count;
    int32_t i;
    if (input_dims->n != 1 || h < 1 || w < 1 || c < 1 || (int64_t)h * w > SQZFW_GAP_MAX_COUNT || input_offset < -128 || input_offset > 128 ||
        chunk_pixels < 1 || n8 < 0 || n8 > c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    count = h * w;
    for (i = 0; i < c; i++)
    {
        /* position i: in the s8 block (stride n8) or the s4 block (stride c - n8) of every band */
        const int32_t stride = (i < n8) ? n8 : c - n8;
        int32_t acc = 0;
        int32_t start;
        int64_t v;
        for (start = 0; start < count; start += chunk_pixels)
        {
            const int32_t pixels = (count - start < chunk_pixels) ? count - start : chunk_pixels;
            const int8_t *p = input_data + start * c + ((i < n8) ? i : pixels * n8 + (i - n8));
            int32_t k;
            for (k = 0; k < pixels; k++)
            {
                acc += (int32_t)*p + input_offset;
                p += stride;
            }
        }
        v = (int64_t)sqzfw_requantize(acc, params->quant.multiplier, params->quant.shift) + params->output_offset;
        v = (v < params->activation.min) ? params->activation.min : v;
        v = (v > params->activation.max) ? params->activation.max : v;
        output_data[order ? (int32_t)order[i] : i] = (int8_t)v;
    }
    return ARM_CMSIS_NN_SUCCESS;
}

arm_cmsis_nn_status sqzfw_conv(const sqzfw_conv_call *call, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const sqzfw_conv_layer *l = call->layer;
    const cmsis_nn_context ctx = { scratch, call->scratch_size };
    return l->run(&ctx, call->params, l->quant, call->input_dims, input, l->filter_dims, l->weights, l->bias_dims, l->bias,
                  call->output_dims, output);
}

int32_t sqzfw_conv_buffer_size(const sqzfw_conv_call *call)
{
    return call->layer->buffer_size(call->params, call->input_dims, call->layer->filter_dims, call->output_dims);
}

arm_cmsis_nn_status sqzfw_max_s8(const int8_t *a, const int8_t *b, int8_t *out, int32_t size)
{
    int32_t i;
    if (size < 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    for (i = 0; i < size; i++)
    {
        const int8_t x = a[i];
        const int8_t y = b[i];
        out[i] = x >= y ? x : y;
    }
    return ARM_CMSIS_NN_SUCCESS;
}

#endif /* SQZFW_OPS_HAVE_NN_TYPES */
