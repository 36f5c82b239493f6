/* sqzfw: int8 operators that CMSIS-NN does not provide. Self-contained: needs only arm_nn_types.h (for
 * arm_cmsis_nn_status), so it builds with sqzfw's bundled CMSIS-NN and with Arm's (make CMSIS_NN=...);
 * sqzfw_ops.c compiles to nothing when no arm_nn_types.h is on the include path. */
#ifndef SQZFW_OPS_H
#define SQZFW_OPS_H

#include <stdint.h>
#include "arm_nn_types.h"

/* Largest h*w accepted: with input_offset in -128..128, |in + input_offset| <= 256 and -2^31 <= sum < 2^31, so the
 * int32 channel sum never overflows. */
#define SQZFW_GAP_MAX_COUNT (1L << 23)

/* arm_nn_requantize with CMSIS-NN's default rounding: a positive shift scales val up first (modulo 2^32), then the
 * doubling high multiply with 2^30 nudge, then a rounding right shift by -shift (ties away from zero). */
int32_t sqzfw_requantize(int32_t val, int32_t mult, int32_t shift);

/* Parameters of sqzfw_global_avgpool_requant_s8, grouped like CMSIS-NN's cmsis_nn_pool_params. */
typedef struct
{
    int32_t input_offset;                   /* -input zero point, -128..128 */
    int32_t output_offset;                  /* output zero point */
    cmsis_nn_per_tensor_quant_params quant; /* (multiplier, shift): the requantization, division by h*w included */
    cmsis_nn_activation activation;         /* output clamp */
} sqzfw_gap_params;

/*
 * Requantizing global average pool (TFLite-MEAN-like), NHWC batch 1: input_dims is 1 x h x w x c, the output c bytes.
 * Per channel, with mult = quant.multiplier, shift = quant.shift, act_min/act_max = activation.min/max:
 *   acc    = sum over the h*w pixels of (in + input_offset)        (exact int32; input_offset = -input zero point)
 *   out[c] = clamp(requantize(acc, mult, shift) + output_offset, act_min, act_max)   (sum exact, not wrapped)
 * requantize is arm_nn_requantize's default rounding (doubling high multiply with 2^30 nudge, then a rounding
 * right shift by -shift, ties away from zero; a positive shift multiplies acc by 2^shift first, wrapping).
 * The division by h*w is folded into (mult, shift) = QuantizeMultiplier(in_scale / (h*w * out_scale)).
 * Golden model: globalAvgPoolRequantS8 in src/golden/kernels.ts.
 * Returns ARM_CMSIS_NN_ARG_ERROR (writing nothing) if n != 1, h, w or c < 1, h*w > SQZFW_GAP_MAX_COUNT or
 * input_offset is outside -128..128; else ARM_CMSIS_NN_SUCCESS.
 */
arm_cmsis_nn_status sqzfw_global_avgpool_requant_s8(const sqzfw_gap_params *params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const int8_t *input_data,
                                                    int8_t *output_data);

/*
 * sqzfw_global_avgpool_requant_s8 of a classifier conv whose output channels are split between an s8 and an s4
 * call: positions 0..n8-1 are the s8 call's channels, n8..c-1 the s4 call's, and order[i] is the class (channel of
 * input_dims' c) at position i. The conv ran over row bands of chunk_pixels pixels each (the last band may have
 * fewer; chunk_pixels = h*w when it ran once), and each band is its s8 block then its s4 block:
 * [pixels x n8][pixels x (c - n8)]. out[order[i]] gets position i's pooled value (order NULL: out[i]); the
 * arithmetic of sqzfw_global_avgpool_requant_s8, which is this call with one band, n8 = 0 and no order. ARM_CMSIS_NN_ARG_ERROR (writing nothing) for its argument errors, and for
 * chunk_pixels < 1 or n8 outside 0..c.
 */
arm_cmsis_nn_status sqzfw_global_avgpool_requant_split_s8(const sqzfw_gap_params *params,
                                                          const cmsis_nn_dims *input_dims,
                                                          const int8_t *input_data,
                                                          int32_t chunk_pixels,
                                                          int32_t n8,
                                                          const uint16_t *order,
                                                          int8_t *output_data);

/*
 * A conv kernel call as data, so that each call site in model.c passes one pointer and its buffers instead of eleven
 * arguments (about 30 bytes of code less per call site). sqzfw_conv_layer holds what a layer's calls share (the
 * CMSIS-NN wrapper, s8 or s4, its scratch-size query, weights, bias, requantization), sqzfw_conv_call what one
 * band shape adds (padding, input and output dims, the planned scratch bytes).
 */
typedef arm_cmsis_nn_status (*sqzfw_conv_fn)(const cmsis_nn_context *ctx,
                                             const cmsis_nn_conv_params *conv_params,
                                             const cmsis_nn_per_channel_quant_params *quant_params,
                                             const cmsis_nn_dims *input_dims,
                                             const int8_t *input_data,
                                             const cmsis_nn_dims *filter_dims,
                                             const int8_t *filter_data,
                                             const cmsis_nn_dims *bias_dims,
                                             const int32_t *bias_data,
                                             const cmsis_nn_dims *output_dims,
                                             int8_t *output_data);
typedef int32_t (*sqzfw_conv_size_fn)(const cmsis_nn_conv_params *conv_params,
                                      const cmsis_nn_dims *input_dims,
                                      const cmsis_nn_dims *filter_dims,
                                      const cmsis_nn_dims *output_dims);

typedef struct
{
    sqzfw_conv_fn run;              /* arm_convolve_wrapper_s8 or arm_convolve_wrapper_s4 */
    sqzfw_conv_size_fn buffer_size; /* its _get_buffer_size */
    const cmsis_nn_per_channel_quant_params *quant;
    const cmsis_nn_dims *filter_dims;
    const int8_t *weights; /* int8, or int4 packed two per byte for the s4 wrapper */
    const cmsis_nn_dims *bias_dims;
    const int32_t *bias;
} sqzfw_conv_layer;

typedef struct
{
    const sqzfw_conv_layer *layer;
    const cmsis_nn_conv_params *params;
    const cmsis_nn_dims *input_dims;
    const cmsis_nn_dims *output_dims;
    int32_t scratch_size; /* bytes at the scratch pointer given to sqzfw_conv (0: none) */
} sqzfw_conv_call;

/* layer->run with the call's arguments and the context { scratch, scratch_size }. */
arm_cmsis_nn_status sqzfw_conv(const sqzfw_conv_call *call, const int8_t *input, int8_t *output, int8_t *scratch);

/* The scratch bytes layer->run needs for this call in this build (layer->buffer_size). */
int32_t sqzfw_conv_buffer_size(const sqzfw_conv_call *call);

/* out[i] = max(a[i], b[i]) for i < size (int8). out may be a or b itself: each byte is read before it is written.
 * A row pool's running max folds pooled rows into the pool's output row with it. ARM_CMSIS_NN_ARG_ERROR for size < 0. */
arm_cmsis_nn_status sqzfw_max_s8(const int8_t *a, const int8_t *b, int8_t *out, int32_t size);

#endif
