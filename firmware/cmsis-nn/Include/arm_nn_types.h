/*
 * sqzfw portable int8 NN kernels - public structures.
 *
 * Own definitions (MIT, sqzfw) of the CMSIS-NN v7.0.0 structure names and fields that the
 * generated firmware uses. Field order and types match the CMSIS-NN API so that code written
 * for one library compiles and behaves the same with the other.
 */
#ifndef ARM_NN_TYPES_H
#define ARM_NN_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status returned by the kernels. */
typedef enum
{
    ARM_CMSIS_NN_SUCCESS = 0,       /* done */
    ARM_CMSIS_NN_ARG_ERROR = -1,    /* an argument is out of range or inconsistent */
    ARM_CMSIS_NN_NO_IMPL_ERROR = -2, /* this build has no implementation for the request */
    ARM_CMSIS_NN_FAILURE = -3       /* internal inconsistency */
} arm_cmsis_nn_status;

/** A 2-D size or step: width first, then height. */
typedef struct
{
    int32_t w;
    int32_t h;
} cmsis_nn_tile;

/** Caller-provided scratch memory; size in bytes (see the *_get_buffer_size functions). */
typedef struct
{
    void *buf;
    int32_t size;
} cmsis_nn_context;

/** Tensor shape. n is the batch (or, for filters, the output channel count); NHWC layout. */
typedef struct
{
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} cmsis_nn_dims;

/** Per-output-channel requantization: out = acc * multiplier * 2^(shift - 31). */
typedef struct
{
    int32_t *multiplier;
    int32_t *shift;
} cmsis_nn_per_channel_quant_params;

/** Per-tensor requantization. */
typedef struct
{
    int32_t multiplier;
    int32_t shift;
} cmsis_nn_per_tensor_quant_params;

/** Output clamp range. */
typedef struct
{
    int32_t min;
    int32_t max;
} cmsis_nn_activation;

/** Convolution parameters. input_offset = -input zero point, output_offset = output zero point. */
typedef struct
{
    int32_t input_offset;
    int32_t output_offset;
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;
    cmsis_nn_tile dilation;
    cmsis_nn_activation activation;
} cmsis_nn_conv_params;

/** Pooling parameters. */
typedef struct
{
    cmsis_nn_tile stride;
    cmsis_nn_tile padding;
    cmsis_nn_activation activation;
} cmsis_nn_pool_params;

#ifdef __cplusplus
}
#endif

#endif /* ARM_NN_TYPES_H */
