/* sqzfw: result reporting shared by every generated firmware. */
#include "sqzfw_report.h"
#include "sqzfw_rt.h"

void sqzfw_put_u64(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u && i > 0);
    sqzfw_rt_puts(&buf[i]);
}

int32_t sqzfw_report_output(const char *name, const int8_t *data, int32_t bytes, const int8_t *expected)
{
    int32_t mismatches = 0;
    sqzfw_rt_puts("out ");
    sqzfw_rt_puts(name);
    sqzfw_rt_puts(" ");
    sqzfw_rt_put_u32((uint32_t)bytes);
    sqzfw_rt_puts(" ");
    sqzfw_rt_put_hex(data, (uint32_t)bytes);
    sqzfw_rt_puts("\n");
    if (expected != 0) {
        for (int32_t i = 0; i < bytes; i++) mismatches += data[i] != expected[i];
    }
    return mismatches;
}

void sqzfw_report_top5(const int8_t *scores, int32_t count, const char *const *labels, int32_t label_count)
{
    int32_t top[5] = { -1, -1, -1, -1, -1 };
    int32_t found = 0;
    for (int32_t k = 0; k < 5 && k < count; k++, found++) {
        for (int32_t i = 0; i < count; i++) {
            int32_t taken = 0;
            for (int32_t j = 0; j < k; j++) taken |= top[j] == i;
            if (!taken && (top[k] < 0 || scores[i] > scores[top[k]])) top[k] = i;
        }
    }
    sqzfw_rt_puts("top5");
    for (int32_t k = 0; k < found; k++) {
        sqzfw_rt_puts(" ");
        sqzfw_rt_put_i32(top[k]);
        sqzfw_rt_puts(":");
        sqzfw_rt_put_i32(scores[top[k]]);
    }
    sqzfw_rt_puts("\n");
    for (int32_t k = 0; labels != 0 && k < found; k++) {
        sqzfw_rt_puts("label ");
        sqzfw_rt_put_i32(top[k]);
        sqzfw_rt_puts(" ");
        sqzfw_rt_puts(top[k] < label_count ? labels[top[k]] : "?");
        sqzfw_rt_puts("\n");
    }
}
