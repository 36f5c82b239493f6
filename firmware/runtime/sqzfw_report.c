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

/* The indices of the (up to) 5 largest of count scores, ties to the lower index; returns how many. */
static int32_t top5_indices(const int8_t *scores, int32_t count, int32_t top[5])
{
    int32_t found = 0;
    for (int32_t k = 0; k < 5 && k < count; k++, found++) {
        top[k] = -1;
        for (int32_t i = 0; i < count; i++) {
            int32_t taken = 0;
            for (int32_t j = 0; j < k; j++) taken |= top[j] == i;
            if (!taken && (top[k] < 0 || scores[i] > scores[top[k]])) top[k] = i;
        }
    }
    return found;
}

void sqzfw_report_top5(const int8_t *scores, int32_t count, const char *const *labels, int32_t label_count)
{
    int32_t top[5] = { -1, -1, -1, -1, -1 };
    const int32_t found = top5_indices(scores, count, top);
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

/* v with 4 decimals, rounded half away from zero: "-1.2500", "0.0039". */
static void put_fixed4(float v)
{
    const int negative = v < 0.0f;
    const uint32_t scaled = (uint32_t)((negative ? -v : v) * 10000.0f + 0.5f);
    if (negative && scaled != 0u) sqzfw_rt_puts("-");
    sqzfw_rt_put_u32(scaled / 10000u);
    sqzfw_rt_puts(".");
    const uint32_t frac = scaled % 10000u;
    for (uint32_t d = 1000u; d > 0u; d /= 10u) sqzfw_rt_putc((char)('0' + (int)((frac / d) % 10u)));
}

void sqzfw_report_scores(const char *kind, const int8_t *scores, int32_t count, const int8_t *values, float scale, int32_t zero_point)
{
    int32_t top[5] = { -1, -1, -1, -1, -1 };
    const int32_t found = top5_indices(scores, count, top);
    sqzfw_rt_puts("score ");
    sqzfw_rt_puts(kind);
    for (int32_t k = 0; k < found; k++) {
        sqzfw_rt_puts(" ");
        sqzfw_rt_put_i32(top[k]);
        sqzfw_rt_puts(":");
        put_fixed4(scale * (float)((int32_t)values[top[k]] - zero_point));
    }
    sqzfw_rt_puts("\n");
}
