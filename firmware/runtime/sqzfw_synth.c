/* sqzfw demo runtime: see sqzfw_synth.h. */
#include "sqzfw_synth.h"

void sqzfw_synthetic_input(int8_t *dst, int32_t n, uint32_t seed)
{
    uint32_t a = seed;
    int32_t i;
    for (i = 0; i < n; i++) {
        uint32_t t;
        a += 0x6D2B79F5u;
        t = a;
        t = (t ^ (t >> 15)) * (t | 1u);
        t ^= t + (t ^ (t >> 7)) * (t | 61u);
        t ^= t >> 14;
        dst[i] = (int8_t)((int32_t)(t >> 24) - 128);
    }
}
