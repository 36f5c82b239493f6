/*
 * sqzfw portable int8 NN kernels - concatenation along the innermost axis.
 * x varies fastest in memory, so for NHWC tensors x is the channel axis: the input's
 * input_y * input_z * input_w pixels are copied, input_x bytes each, to the output at channel
 * offset_x of pixels output_x bytes apart.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"

void arm_concatenation_s8_x(const int8_t *input,
                            const uint16_t input_x,
                            const uint16_t input_y,
                            const uint16_t input_z,
                            const uint16_t input_w,
                            int8_t *output,
                            const uint16_t output_x,
                            const uint32_t offset_x)
{
    const uint32_t rows = (uint32_t)input_y * (uint32_t)input_z * (uint32_t)input_w;
    uint32_t r;
    output += offset_x;
    for (r = 0; r < rows; r++)
    {
        memcpy(output, input, input_x);
        input += input_x;
        output += output_x;
    }
}
