/* sqzfw: result reporting shared by every generated firmware (line protocol read by `sqzfw emulate`). */
#ifndef SQZFW_REPORT_H
#define SQZFW_REPORT_H

#include <stdint.h>

typedef struct {
    const char *name;
    int8_t *data;
    int32_t bytes;
} sqzfw_tensor;

/* Prints "out <name> <bytes> <hex>" per tensor; returns how many bytes differ from expected (NULL: none checked). */
int32_t sqzfw_report_outputs(const sqzfw_tensor *outs, int32_t count, const int8_t *const *expected);
/* Prints "top5 i:v ..." (ties to the lower index) and, with labels, "label <i> <name>" lines. */
void sqzfw_report_top5(const sqzfw_tensor *scores, const char *const *labels, int32_t label_count);
void sqzfw_put_u64(uint64_t v);

#endif
