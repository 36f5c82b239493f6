/* sqzfw: result reporting shared by the demo firmware (line protocol read by `sqzfw emulate`). */
#ifndef SQZFW_REPORT_H
#define SQZFW_REPORT_H

#include <stdint.h>

/* Prints "out <name> <bytes> <hex>"; returns how many bytes differ from expected (NULL: none checked). */
int32_t sqzfw_report_output(const char *name, const int8_t *data, int32_t bytes, const int8_t *expected);
/* Prints "top5 i:v ..." (ties to the lower index) over count scores and, with labels, "label <i> <name>" lines. */
void sqzfw_report_top5(const int8_t *scores, int32_t count, const char *const *labels, int32_t label_count);
/*
 * Prints "score <kind> i:x.xxxx ..." for the top 5 of count scores (the same indices as sqzfw_report_top5): the
 * real value scale * (values[i] - zero_point) with 4 decimals, where values is the scores tensor itself (kind
 * "logit") or a softmax output of the same size (kind "prob": probabilities).
 */
void sqzfw_report_scores(const char *kind, const int8_t *scores, int32_t count, const int8_t *values, float scale, int32_t zero_point);
void sqzfw_put_u64(uint64_t v);

#endif
