/*
 * sqzfw portable int8 NN kernels - elementwise addition of two int8 tensors.
 *
 * Each input is offset, shifted left by left_shift, requantized to the common scale, the two
 * are added and the sum is requantized to the output (TFLite's int8 ADD).
 *
 * DSP builds reproduce a detail of CMSIS-NN v7.0.0's DSP code: for all but the last
 * block_size % 4 elements, (x + offset) is formed in a 16-bit SIMD lane and taken as an
 * unsigned 16-bit value before the left shift. With left_shift >= 16 (TFLite uses 20) the extra
 * 2^16 of a negative value is shifted out and the result equals the plain C build; with a
 * smaller left_shift negative offset-adjusted inputs give different results in DSP builds.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

static int8_t add_one(int32_t a,
                      int32_t b,
                      int32_t a_mult,
                      int32_t a_shift,
                      int32_t b_mult,
                      int32_t b_shift,
                      int32_t out_offset,
                      int32_t out_mult,
                      int32_t out_shift,
                      int32_t act_min,
                      int32_t act_max)
{
    const int32_t sum = sqzfw_add_wrap(arm_nn_requantize(a, a_mult, a_shift), arm_nn_requantize(b, b_mult, b_shift));
    return sqzfw_requantize_clamp(sum, out_mult, out_shift, out_offset, act_min, act_max);
}

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
                                           const int32_t block_size)
{
    int32_t i = 0;
#if defined(ARM_MATH_DSP)
    const int32_t n4 = (block_size / 4) * 4;
    for (; i < n4; i++)
    {
        const uint32_t lane_a = ((uint32_t)input_1_vect[i] + (uint32_t)input_1_offset) & 0xFFFFU;
        const uint32_t lane_b = ((uint32_t)input_2_vect[i] + (uint32_t)input_2_offset) & 0xFFFFU;
        output[i] = add_one(sqzfw_shl((int32_t)lane_a, left_shift),
                            sqzfw_shl((int32_t)lane_b, left_shift),
                            input_1_mult,
                            input_1_shift,
                            input_2_mult,
                            input_2_shift,
                            out_offset,
                            out_mult,
                            out_shift,
                            out_activation_min,
                            out_activation_max);
    }
#endif
    for (; i < block_size; i++)
    {
        output[i] = add_one(sqzfw_shl(input_1_vect[i] + input_1_offset, left_shift),
                            sqzfw_shl(input_2_vect[i] + input_2_offset, left_shift),
                            input_1_mult,
                            input_1_shift,
                            input_2_mult,
                            input_2_shift,
                            out_offset,
                            out_mult,
                            out_shift,
                            out_activation_min,
                            out_activation_max);
    }
    return ARM_CMSIS_NN_SUCCESS;
}
