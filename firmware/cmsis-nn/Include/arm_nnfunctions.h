/*
 * sqzfw portable int8 NN kernels - public functions.
 *
 * sqzfw's own (MIT) implementation of the subset of the CMSIS-NN v7.0.0 API that the generated
 * firmware calls. Names, argument order and results are the same as CMSIS-NN v7.0.0 (default
 * build, i.e. without CMSIS_NN_USE_SINGLE_ROUNDING), so Arm's library can be linked instead.
 *
 * Conventions: activations are NHWC int8; conv filters are [C_OUT][KH][KW][C_IN] int8; bias is
 * int32 per output channel (may be NULL); input_offset is minus the input zero point and
 * output_offset is the output zero point. Positions outside input_dims are padding and
 * contribute as if they held the input zero point.
 *
 * Scratch: a kernel that needs scratch memory takes it from ctx->buf; its size must be at least
 * what the matching *_get_buffer_size function returns for the same build (DSP or not).
 */
#ifndef ARM_NNFUNCTIONS_H
#define ARM_NNFUNCTIONS_H

#include "arm_nn_math_types.h"
#include "arm_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- convolution */

/**
 * Convolution front end: picks the specialised kernel the same way CMSIS-NN v7.0.0 does:
 *  - 1x1 filter, no padding, dilation 1, input_dims->c == filter_dims->c:
 *      stride 1x1 -> arm_convolve_1x1_s8_fast, otherwise arm_convolve_1x1_s8;
 *  - else input height 1, filter height 1, dilation.w 1, (stride.w * input c) % 4 == 0 and
 *    input c == filter c -> arm_convolve_1_x_n_s8;
 *  - else arm_convolve_s8 (no upscaling).
 */
arm_cmsis_nn_status arm_convolve_wrapper_s8(const cmsis_nn_context *ctx,
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

/** Scratch bytes arm_convolve_wrapper_s8 needs in this build. */
int32_t arm_convolve_wrapper_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims);

/** Scratch bytes for a DSP build (Cortex-M4/M7/M33 with GCC), whatever the current build is. */
int32_t arm_convolve_wrapper_s8_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims);

/**
 * Scratch bytes Arm's CMSIS-NN needs in an MVE (Helium) build. This library has no MVE kernels;
 * the function exists so that memory for Arm's library on Cortex-M55 can be planned.
 */
int32_t arm_convolve_wrapper_s8_get_buffer_size_mve(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims);

/**
 * General int8 convolution (im2col + matrix multiply). Supports padding, stride, dilation,
 * grouped convolution (groups = input c / filter c) and, when upscale_dims is not NULL and has
 * h or w equal to 2, a zero-inserting 2x upscale of the input. ctx->buf must not be NULL.
 */
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
                                    int8_t *output_data);

/** Scratch bytes for arm_convolve_s8: two im2col columns of int16, column length rounded up to 4. */
int32_t arm_convolve_s8_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims);

/** 1x1 convolution, stride 1, no padding. Needs no scratch with this library (or Arm's built by GCC). */
arm_cmsis_nn_status arm_convolve_1x1_s8_fast(const cmsis_nn_context *ctx,
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

/** Scratch bytes for arm_convolve_1x1_s8_fast (0 for every GCC build). */
int32_t arm_convolve_1x1_s8_fast_get_buffer_size(const cmsis_nn_dims *input_dims);

/** 1x1 convolution with any stride, no padding. Needs no scratch. */
arm_cmsis_nn_status arm_convolve_1x1_s8(const cmsis_nn_context *ctx,
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

/** 1xN convolution of an input of height 1; (stride.w * input c) must be a multiple of 4. */
arm_cmsis_nn_status arm_convolve_1_x_n_s8(const cmsis_nn_context *ctx,
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

/** Scratch bytes for arm_convolve_1_x_n_s8 (same as arm_convolve_s8 in non-MVE builds). */
int32_t arm_convolve_1_x_n_s8_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *output_dims);

/* ---------------------------------------------------------------- pooling */

/**
 * Max pooling. Each window is clipped to the input (padding never wins), then the result is
 * clamped to the activation range. Needs no scratch.
 */
arm_cmsis_nn_status arm_max_pool_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_pool_params *pool_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data);

/**
 * Average pooling. Sum over the window clipped to the input, divided by the number of in-bounds
 * positions with rounding half away from zero, then clamped.
 */
arm_cmsis_nn_status arm_avgpool_s8(const cmsis_nn_context *ctx,
                                   const cmsis_nn_pool_params *pool_params,
                                   const cmsis_nn_dims *input_dims,
                                   const int8_t *input_data,
                                   const cmsis_nn_dims *filter_dims,
                                   const cmsis_nn_dims *output_dims,
                                   int8_t *output_data);

/** Scratch bytes for arm_avgpool_s8 in this build (DSP: 4 bytes per channel, otherwise 0). */
int32_t arm_avgpool_s8_get_buffer_size(const int dim_dst_width, const int ch_src);
/** Scratch bytes for arm_avgpool_s8 in a DSP build. */
int32_t arm_avgpool_s8_get_buffer_size_dsp(const int dim_dst_width, const int ch_src);
/** Scratch bytes Arm's arm_avgpool_s8 needs in an MVE build (0). */
int32_t arm_avgpool_s8_get_buffer_size_mve(const int dim_dst_width, const int ch_src);

/* ---------------------------------------------------------------- elementwise */

/**
 * out = clamp(out_offset + rq(rq((a + a_off) << left_shift, a_mult, a_shift)
 *                           + rq((b + b_off) << left_shift, b_mult, b_shift), out_mult, out_shift))
 * where rq is arm_nn_requantize. See the notes in arm_elementwise_add_s8.c about left_shift < 16
 * in DSP builds.
 */
arm_cmsis_nn_status arm_elementwise_add_s8(const int8_t *input_1_vect,
                                           const int8_t *input_2_vect,
                                           const int32_t input_1_offset,
                                           const int32_t input_1_mult,
                                           const int32_t input_1_shift,
                                           const int32_t input_2_offset,
                                           const int32_t input_2_mult,
                                           const int32_t input_2_shift,
                                           const int32_t left_shift,
                                           int8_t *output,
                                           const int32_t out_offset,
                                           const int32_t out_mult,
                                           const int32_t out_shift,
                                           const int32_t out_activation_min,
                                           const int32_t out_activation_max,
                                           const int32_t block_size);

/* ---------------------------------------------------------------- softmax */

/**
 * Softmax over each of num_rows rows of row_size int8 values; output scale 1/256, zero point
 * -128 (TFLite Micro bit-exact fixed-point algorithm). mult/shift scale the input differences
 * (shift is a left shift, 0..31); elements whose difference to the row maximum is below
 * diff_min produce -128.
 */
void arm_softmax_s8(const int8_t *input,
                    const int32_t num_rows,
                    const int32_t row_size,
                    const int32_t mult,
                    const int32_t shift,
                    const int32_t diff_min,
                    int8_t *output);

/* ---------------------------------------------------------------- concatenation */

/**
 * Copies a tensor into a slice of a larger one along the innermost ("x") axis. The tensors
 * are seen as [w][z][y][x] with x varying fastest, so for NHWC data x is the channel axis:
 * input_x = channels of this input, input_y = W, input_z = H, input_w = N, output_x = channels
 * of the output, offset_x = first output channel of this input.
 */
void arm_concatenation_s8_x(const int8_t *input,
                            const uint16_t input_x,
                            const uint16_t input_y,
                            const uint16_t input_z,
                            const uint16_t input_w,
                            int8_t *output,
                            const uint16_t output_x,
                            const uint32_t offset_x);

/* ---------------------------------------------------------------- convolution, packed int4 weights */

/*
 * The s4 functions take the same arguments as their s8 counterparts, with the filter packed two int4 values
 * per byte (element 2i in the low nibble of byte i, rows not padded; see Internal/sqzfw_nn_s4.h). The
 * wrapper picks arm_convolve_1x1_s4_fast / arm_convolve_1x1_s4 for an unpadded 1x1 filter with dilation 1
 * (stride 1 / any), arm_convolve_1_x_n_s4 under the s8 wrapper's 1xN conditions, else arm_convolve_s4.
 */
#define SQZFW_S4_CONV_ARGS                                                                                         \
    const cmsis_nn_context *ctx, const cmsis_nn_conv_params *conv_params,                                          \
        const cmsis_nn_per_channel_quant_params *quant_params, const cmsis_nn_dims *input_dims,                    \
        const int8_t *input_data, const cmsis_nn_dims *filter_dims, const int8_t *filter_data,                     \
        const cmsis_nn_dims *bias_dims, const int32_t *bias_data, const cmsis_nn_dims *output_dims,                \
        int8_t *output_data

arm_cmsis_nn_status arm_convolve_wrapper_s4(SQZFW_S4_CONV_ARGS);
arm_cmsis_nn_status arm_convolve_s4(SQZFW_S4_CONV_ARGS);
arm_cmsis_nn_status arm_convolve_1x1_s4_fast(SQZFW_S4_CONV_ARGS);
arm_cmsis_nn_status arm_convolve_1x1_s4(SQZFW_S4_CONV_ARGS);
arm_cmsis_nn_status arm_convolve_1_x_n_s4(SQZFW_S4_CONV_ARGS);

int32_t arm_convolve_wrapper_s4_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                                const cmsis_nn_dims *input_dims,
                                                const cmsis_nn_dims *filter_dims,
                                                const cmsis_nn_dims *output_dims);
int32_t arm_convolve_wrapper_s4_get_buffer_size_dsp(const cmsis_nn_conv_params *conv_params,
                                                    const cmsis_nn_dims *input_dims,
                                                    const cmsis_nn_dims *filter_dims,
                                                    const cmsis_nn_dims *output_dims);
int32_t arm_convolve_s4_get_buffer_size(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims);
int32_t arm_convolve_1_x_n_s4_get_buffer_size(const cmsis_nn_conv_params *conv_params,
                                              const cmsis_nn_dims *input_dims,
                                              const cmsis_nn_dims *filter_dims,
                                              const cmsis_nn_dims *output_dims);
int32_t arm_convolve_1x1_s4_fast_get_buffer_size(const cmsis_nn_dims *input_dims);

#ifdef __cplusplus
}
#endif

#endif /* ARM_NNFUNCTIONS_H */
