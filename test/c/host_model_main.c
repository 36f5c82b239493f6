/* Host build of a generated model: reads the int8 input from stdin, runs every step, writes all outputs to stdout. */
#include <stdio.h>
#include "model.h"

int main(void)
{
    int32_t failed = -1;
    if (sqzfw_model_init(&failed) != ARM_CMSIS_NN_SUCCESS) {
        fprintf(stderr, "scratch too small at step %d\n", (int)failed);
        return 3;
    }
    int8_t *in = sqzfw_model_input();
    if (fread(in, 1, SQZFW_INPUT_BYTES, stdin) != SQZFW_INPUT_BYTES) return 2;
    if (sqzfw_model_run(&failed) != ARM_CMSIS_NN_SUCCESS) {
        fprintf(stderr, "step %d failed\n", (int)failed);
        return 1;
    }
    for (int o = 0; o < SQZFW_OUTPUT_COUNT; o++) fwrite(sqzfw_outputs[o].data, 1, (size_t)sqzfw_outputs[o].bytes, stdout);
    return 0;
}
