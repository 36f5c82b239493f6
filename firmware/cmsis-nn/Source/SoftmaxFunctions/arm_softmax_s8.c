/*
 * sqzfw portable int8 NN kernels - softmax with int8 output.
 *
 * TFLite Micro's fixed-point softmax: per row, the differences to the row maximum are scaled
 * (mult, shift) into Q5.26, exponentiated in Q0.31, summed with 12 accumulation bits,
 * the sum is normalised by its leading zeros and inverted, and every exponential is multiplied
 * by that reciprocal and shifted down to the int8 output (scale 1/256, zero point -128).
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

#define SQZFW_SOFTMAX_ACCUM_BITS 12

/* exp(diff * scale) in Q0.31 for diff <= 0 */
static int32_t scaled_exp(int32_t diff, int32_t mult, int32_t shift)
{
    return arm_nn_exp_on_negative_values(arm_nn_doubling_high_mult(sqzfw_shl(diff, shift), mult));
}

void arm_softmax_s8(const int8_t *input,
                    const int32_t num_rows,
                    const int32_t row_size,
                    const int32_t mult,
                    const int32_t shift,
                    const int32_t diff_min,
                    int8_t *output)
{
    int32_t row;
    for (row = 0; row < num_rows; row++)
    {
        int32_t max = input[0];
        int32_t sum = 0;
        int32_t headroom, bits_over_unit, reciprocal, i;

        for (i = 1; i < row_size; i++)
        {
            max = MAX(max, (int32_t)input[i]);
        }
        for (i = 0; i < row_size; i++)
        {
            const int32_t diff = input[i] - max;
            if (diff >= diff_min)
            {
                sum = sqzfw_add_wrap(sum,
                                     arm_nn_divide_by_power_of_two(scaled_exp(diff, mult, shift),
                                                                   SQZFW_SOFTMAX_ACCUM_BITS));
            }
        }
        headroom = sqzfw_clz((uint32_t)sum);
        /* (sum normalised to [1, 2) in Q1.31) - 1, as a Q0.31 fraction */
        reciprocal = arm_nn_one_over_one_plus_x_for_x_in_0_1(
            (int32_t)(((sum > 0) ? ((uint32_t)sum << headroom) : 0U) - 0x80000000U));
        bits_over_unit = SQZFW_SOFTMAX_ACCUM_BITS - headroom + 23;
        for (i = 0; i < row_size; i++)
        {
            const int32_t diff = input[i] - max;
            if (diff >= diff_min)
            {
                int32_t v = arm_nn_divide_by_power_of_two(
                    arm_nn_doubling_high_mult(reciprocal, scaled_exp(diff, mult, shift)), bits_over_unit);
                v = sqzfw_add_wrap(v, NN_Q7_MIN);
                v = MAX(v, (int32_t)NN_Q7_MIN);
                v = MIN(v, (int32_t)NN_Q7_MAX);
                output[i] = (int8_t)v;
            }
            else
            {
                output[i] = NN_Q7_MIN;
            }
        }
        input += row_size;
        output += row_size;
    }
}
