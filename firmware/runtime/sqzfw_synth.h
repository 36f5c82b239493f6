/* sqzfw demo runtime: the synthetic int8 input, generated at run time so that it costs no flash. */
#ifndef SQZFW_SYNTH_H
#define SQZFW_SYNTH_H

#include <stdint.h>

/* n int8 values from mulberry32(seed): byte i = (top 8 bits of the i-th 32-bit output) - 128. The TypeScript twin
 * is syntheticInt8Input in src/weights/synthetic.ts (the golden model's input). */
void sqzfw_synthetic_input(int8_t *dst, int32_t n, uint32_t seed);

#endif /* SQZFW_SYNTH_H */
