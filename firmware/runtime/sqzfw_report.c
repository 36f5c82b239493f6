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

int32_t sqzfw_report_outputs(const sqzfw_tensor *outs, int32_t count, const int8_t *const *expected)
{
    int32_t mismatches = 0;
    for (int32_t o = 0; o < count; o++) {
        const sqzfw_tensor *t = &outs[o];
        sqzfw_rt_puts("out ");
        sqzfw_rt_puts(t->name);
        sqzfw_rt_puts(" ");
        sqzfw_rt_put_u32((uint32_t)t->bytes);
        sqzfw_rt_puts(" ");
        sqzfw_rt_put_hex(t->data, (uint32_t)t->bytes);
        sqzfw_rt_puts("\n");
        if (expected != 0) {
            for (int32_t i = 0; i < t->bytes; i++) mismatches += t->data[i] != expected[o][i];
        }
    }
    return mismatches;
}

void sqzfw_report_top5(const sqzfw_tensor *scores, const char *const *labels, int32_t label_count)
{
    int32_t top[5] = { -1, -1, -1, -1, -1 };
    int32_t found = 0;
    for (int32_t k = 0; k < 5 && k < scores->bytes; k++, found++) {
        for (int32_t i = 0; i < scores->bytes; i++) {
            int32_t taken = 0;
            for (int32_t j = 0; j < k; j++) taken |= top[j] == i;
            if (!taken && (top[k] < 0 || scores->data[i] > scores->data[top[k]])) top[k] = i;
        }
    }
    sqzfw_rt_puts("top5");
    for (int32_t k = 0; k < found; k++) {
        sqzfw_rt_puts(" ");
        sqzfw_rt_put_i32(top[k]);
        sqzfw_rt_puts(":");
        sqzfw_rt_put_i32(scores->data[top[k]]);
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
