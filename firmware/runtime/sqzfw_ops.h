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

#endif
