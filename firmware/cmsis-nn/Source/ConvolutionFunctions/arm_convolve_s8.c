/*
 * sqzfw portable int8 NN kernels - general convolution (arm_convolve_s8).
 *
 * Method: for two output positions at a time, build their im2col columns (the receptive field,
 * int16, input offset already added, padding as the offset-corrected zero point) in the scratch
 * buffer, then multiply them by the filter rows two output channels at a time. The scratch size
 * is exactly arm_convolve_s8_get_buffer_size(): two columns of align4(KH*KW*C_IN) int16 values.
 * Written from scratch for sqzfw (MIT).
 */
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"
#include "Internal/sqzfw_nn_dsp.h"
#include "Internal/sqzfw_nn_requant.h"

/* Where one group of one batch reads its input. */
typedef struct
{
    const int8_t *input;  /* first element of the batch, plus the group's first channel */
    int32_t data_w;       /* row length of the stored input, in pixels */
    int32_t data_c;       /* channels per stored pixel */
    int32_t bound_w;      /* positions 0..bound_w-1 / 0..bound_h-1 are inside the input */
    int32_t bound_h;
    int32_t ker_w;
    int32_t ker_h;
    int32_t ker_c;
    int32_t dil_x;
    int32_t dil_y;
    int32_t x_rshift;     /* 1: 2x zero-insertion upscale along x */
    int32_t y_rshift;
    int32_t input_offset;
    int32_t rhs_cols;
    int16_t pad16;        /* value of a padding element after the offset is added */
    int8_t pad8;          /* value of a padding element before it */
} im2col_geom;

/* What turns one group's accumulators into outputs. */
typedef struct
{
    const int32_t *bias; /* may be NULL */
    const int32_t *mult;
    const int32_t *shift;
    int32_t mode;        /* sqzfw_rq_mode of the group, or SQZFW_RQ_LEAN */
    sqzfw_rq_out out;
    const int32_t *rnd_off; /* SQZFW_RQ_LEAN: [r] = 2^(r-1) + (out.offset << r) for a right shift r of 1..22 */
} conv_out;

/* Input element of filter tap (y, x) in virtual input coordinates, or NULL for padding. */
SQZFW_INLINE const int8_t *tap_source(const im2col_geom *g, int32_t y, int32_t x)
{
    if (y < 0 || y >= g->bound_h || x < 0 || x >= g->bound_w)
    {
        return NULL;
    }
    if ((g->y_rshift != 0 && (y & 1) != 0) || (g->x_rshift != 0 && (x & 1) != 0))
    {
        return NULL; /* an inserted zero of the upscaled input */
    }
    return g->input + ((y >> g->y_rshift) * g->data_w + (x >> g->x_rshift)) * g->data_c;
}

/* The whole filter row ky = y as one run of ker_w * ker_c input bytes, or NULL when it is not one. */
static const int8_t *row_run(const im2col_geom *g, int32_t y, int32_t base_x)
{
    if (g->dil_x != 1 || g->x_rshift != 0 || g->data_c != g->ker_c || base_x < 0 || base_x + g->ker_w > g->bound_w)
    {
        return NULL;
    }
    return tap_source(g, y, base_x);
}

#if defined(ARM_MATH_DSP)

/*
 * DSP column layout. The two columns of a pair are interleaved in groups of four int16: group j
 * of column c is at int16 index 8 * j + 4 * c, so one pointer walks both. Each group holds its
 * elements in the order (0, 2, 1, 3): the order in which a filter word's bytes come out of
 * sxtb16 and sxtb16-ror-8, so a column word pairs with a filter word. A last partial group is
 * padded with zeros, so every dot product runs over whole groups.
 */

/* n whole groups of int8 -> int16 with the input offset added (modulo 2^16, as 16-bit lanes add). */
static void widen_groups(const int8_t *src, int32_t n, int16_t *dst, int32_t offset)
{
    const int32_t offset_x2 = (int32_t)(((uint32_t)offset & 0xFFFFU) * 0x10001U);
    for (; n > 0; n--)
    {
        const int32_t v = sqzfw_read_s8x4(src);
        sqzfw_write_s16x2(dst, sqzfw_sxtab16(offset_x2, v));
        sqzfw_write_s16x2(dst + 2, sqzfw_sxtab16_ror8(offset_x2, v));
        src += 4;
        dst += 8;
    }
}

static void pad_groups(int16_t *dst, int32_t n, int16_t v)
{
    const int32_t v2 = (int32_t)(((uint32_t)(uint16_t)v) * 0x10001U);
    for (; n > 0; n--)
    {
        sqzfw_write_s16x2(dst, v2);
        sqzfw_write_s16x2(dst + 2, v2);
        dst += 8;
    }
}

/* The last r (1..3) elements as one group, zeros after them. */
static void widen_tail(const int8_t *src, int32_t r, int16_t *dst, int32_t offset)
{
    int16_t e[4] = {0, 0, 0, 0};
    int32_t i;
    for (i = 0; i < r; i++)
    {
        e[i] = (int16_t)(src[i] + offset);
    }
    dst[0] = e[0];
    dst[1] = e[2];
    dst[2] = e[1];
    dst[3] = e[3];
}

/* Column bytes gathered on the stack 64 at a time, widened group by group into the column. */
typedef struct
{
    int8_t chunk[64];
    int32_t n;
    int16_t *col;
    int32_t offset;
} gather;

/* Appends len bytes from src, or len copies of pad when src is NULL. */
static void gather_put(gather *ga, const int8_t *src, int32_t len, int8_t pad)
{
    int32_t n = ga->n;
    while (len > 0)
    {
        int32_t take = MIN(64 - n, len);
        int8_t *dst = ga->chunk + n;
        n += take;
        len -= take;
        if (src != NULL)
        {
            /* a word at a time: a filter row of 3-channel input is 9 or 21 bytes */
            for (; take >= 4; take -= 4)
            {
                SQZFW_MEMCPY(dst, src, 4);
                dst += 4;
                src += 4;
            }
            for (; take > 0; take--)
            {
                *dst++ = *src++;
            }
        }
        else
        {
            for (; take > 0; take--)
            {
                *dst++ = pad;
            }
        }
        if (n == 64)
        {
            widen_groups(ga->chunk, 16, ga->col, ga->offset);
            ga->col += 8 * 16;
            n = 0;
        }
    }
    ga->n = n;
}

/*
 * The column of the output position whose receptive field starts at (base_y, base_x), written
 * at col (the pair's base, plus 4 for the second column). When ker_c is a multiple of 4 taps are
 * widened straight from the input (a whole filter row at once when it is one run of bytes).
 * Otherwise groups cross tap boundaries: the bytes are gathered 64 at a time on the stack.
 */
static void fill_column(const im2col_geom *g, int32_t base_y, int32_t base_x, int16_t *col)
{
    int32_t ky, kx;
    if ((g->ker_c & 3) == 0)
    {
        const int32_t per_tap = g->ker_c >> 2;
        for (ky = 0; ky < g->ker_h; ky++)
        {
            const int32_t y = base_y + ky * g->dil_y;
            const int8_t *run = row_run(g, y, base_x);
            if (run != NULL)
            {
                widen_groups(run, per_tap * g->ker_w, col, g->input_offset);
                col += 8 * per_tap * g->ker_w;
                continue;
            }
            for (kx = 0; kx < g->ker_w; kx++)
            {
                const int8_t *src = tap_source(g, y, base_x + kx * g->dil_x);
                if (src != NULL)
                {
                    widen_groups(src, per_tap, col, g->input_offset);
                }
                else
                {
                    pad_groups(col, per_tap, g->pad16);
                }
                col += 8 * per_tap;
            }
        }
    }
    else
    {
        gather ga;
        ga.n = 0;
        ga.col = col;
        ga.offset = g->input_offset;
        for (ky = 0; ky < g->ker_h; ky++)
        {
            const int32_t y = base_y + ky * g->dil_y;
            const int8_t *run = row_run(g, y, base_x);
            if (run != NULL)
            {
                gather_put(&ga, run, g->ker_w * g->ker_c, 0);
                continue;
            }
            for (kx = 0; kx < g->ker_w; kx++)
            {
                const int8_t *src = tap_source(g, y, base_x + kx * g->dil_x);
                gather_put(&ga, src, g->ker_c, g->pad8);
            }
        }
        if ((ga.n & 3) != 0 && g->pad16 == 0)
        {
            /* padding bytes widen to 0: the last group is widened whole (the chunk has room, n < 64) */
            int32_t i;
            for (i = ga.n; (i & 3) != 0; i++)
            {
                ga.chunk[i] = g->pad8;
            }
            widen_groups(ga.chunk, i >> 2, ga.col, ga.offset);
        }
        else
        {
            widen_groups(ga.chunk, ga.n >> 2, ga.col, ga.offset);
            if ((ga.n & 3) != 0)
            {
                widen_tail(ga.chunk + (ga.n & ~3), ga.n & 3, ga.col + 8 * (ga.n >> 2), ga.offset);
            }
        }
    }
}

/* Filter bytes 4 * (cols / 4) .. cols - 1 of a row in the low bytes of a word, zeros above. */
SQZFW_INLINE int32_t tail_word(const int8_t *row, int32_t cols)
{
    const int32_t r = cols & 3;
    if (cols >= 4)
    {
        /* the word ending at the row's last byte, shifted down: no read past the row */
        return (int32_t)((uint32_t)sqzfw_read_s8x4(row + cols - 4) >> (8 * (4 - r)));
    }
    return (int32_t)(((uint32_t)(uint8_t)row[0]) | (r > 1 ? (uint32_t)(uint8_t)row[1] << 8 : 0U) |
                     (r > 2 ? (uint32_t)(uint8_t)row[2] << 16 : 0U));
}

/* acc[0..3] += (row w, column 0), (row w + cols, column 0), (row w, column 1), (row w + cols, column 1) over n groups. */
SQZFW_INLINE void dot_pair(const int8_t *w, const int32_t cols, const int16_t *pair, int32_t n, int32_t acc[4])
{
    int32_t c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3];
    #if defined(__GNUC__) && !defined(SQZFW_EMULATE_DSP)
    /*
     * Inline assembly because GCC 12 cannot be led to this loop from C: it needs 14 registers
     * (4 accumulators, filter pointer, row step, column pointer, counter, 6 operands) and GCC
     * spills a pointer and reloads the loop bound every iteration (28 instructions per 16 MACs
     * on Cortex-M4). LDRD needs a word-aligned column pair, hence the alignment test.
     */
    if ((((uintptr_t)pair) & 3U) == 0U && n >= 2)
    {
        int32_t pairs = n >> 1;
        const int32_t step4 = cols - 4;
        int32_t t0, t1, t2, t3, t4, t5;
        #define SQZFW_DOT_PAIR_GROUP                      \
            "ldr    %[t0], [%[w]], #4\n\t"               \
            "ldrd   %[t2], %[t3], [%[p]], #16\n\t"       \
            "sxtb16 %[t1], %[t0]\n\t"                    \
            "sxtb16 %[t0], %[t0], ror #8\n\t"            \
            "smlad  %[c00], %[t2], %[t1], %[c00]\n\t"    \
            "smlad  %[c00], %[t3], %[t0], %[c00]\n\t"    \
            "ldrd   %[t4], %[t5], [%[p], #-8]\n\t"       \
            "smlad  %[c10], %[t4], %[t1], %[c10]\n\t"    \
            "smlad  %[c10], %[t5], %[t0], %[c10]\n\t"    \
            "ldr    %[t0], [%[w], %[s4]]\n\t"            \
            "sxtb16 %[t1], %[t0]\n\t"                    \
            "sxtb16 %[t0], %[t0], ror #8\n\t"            \
            "smlad  %[c01], %[t2], %[t1], %[c01]\n\t"    \
            "smlad  %[c01], %[t3], %[t0], %[c01]\n\t"    \
            "smlad  %[c11], %[t4], %[t1], %[c11]\n\t"    \
            "smlad  %[c11], %[t5], %[t0], %[c11]\n\t"
        __asm__("1:\n\t" SQZFW_DOT_PAIR_GROUP SQZFW_DOT_PAIR_GROUP "subs   %[n], %[n], #1\n\t"
                "bne    1b\n\t"
                : [c00] "+r"(c00), [c01] "+r"(c01), [c10] "+r"(c10), [c11] "+r"(c11), [w] "+r"(w), [p] "+r"(pair),
                  [n] "+r"(pairs), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
                  [t5] "=&r"(t5)
                : [s4] "r"(step4)
                : "cc", "memory");
        if ((n & 1) != 0)
        {
            __asm__(SQZFW_DOT_PAIR_GROUP
                    : [c00] "+r"(c00), [c01] "+r"(c01), [c10] "+r"(c10), [c11] "+r"(c11), [w] "+r"(w), [p] "+r"(pair),
                      [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
                    : [s4] "r"(step4)
                    : "memory");
        }
        #undef SQZFW_DOT_PAIR_GROUP
        n = 0;
    }
    #endif
    for (; n > 0; n--)
    {
        const int32_t va = sqzfw_read_s8x4(w);
        const int32_t vb = sqzfw_read_s8x4(w + cols);
        const int32_t wa02 = sqzfw_sxtb16(va), wa13 = sqzfw_sxtb16_ror8(va);
        const int32_t wb02 = sqzfw_sxtb16(vb), wb13 = sqzfw_sxtb16_ror8(vb);
        const int32_t x02 = sqzfw_read_s16x2(pair), x13 = sqzfw_read_s16x2(pair + 2);
        const int32_t y02 = sqzfw_read_s16x2(pair + 4), y13 = sqzfw_read_s16x2(pair + 6);
        c00 = sqzfw_smlad(x13, wa13, sqzfw_smlad(x02, wa02, c00));
        c01 = sqzfw_smlad(x13, wb13, sqzfw_smlad(x02, wb02, c01));
        c10 = sqzfw_smlad(y13, wa13, sqzfw_smlad(y02, wa02, c10));
        c11 = sqzfw_smlad(y13, wb13, sqzfw_smlad(y02, wb02, c11));
        w += 4;
        pair += 8;
    }
    acc[0] = c00;
    acc[1] = c01;
    acc[2] = c10;
    acc[3] = c11;
}

/* One filter row against one column (group stride 8) over cols elements, the tail included. */
static int32_t dot_one(const int8_t *w, const int32_t cols, const int16_t *col, int32_t acc)
{
    int32_t n = cols >> 2;
    for (; n > 0; n--)
    {
        const int32_t v = sqzfw_read_s8x4(w);
        acc = sqzfw_smlad(sqzfw_sxtb16(v), sqzfw_read_s16x2(col), acc);
        acc = sqzfw_smlad(sqzfw_sxtb16_ror8(v), sqzfw_read_s16x2(col + 2), acc);
        w += 4;
        col += 8;
    }
    if ((cols & 3) != 0)
    {
        const int32_t v = tail_word(w - 4 * (cols >> 2), cols);
        acc = sqzfw_smlad(sqzfw_sxtb16(v), sqzfw_read_s16x2(col), acc);
        acc = sqzfw_smlad(sqzfw_sxtb16_ror8(v), sqzfw_read_s16x2(col + 2), acc);
    }
    return acc;
}

/* Filter rows times the column pair: out0[o] (column 0) and out1[o] (column 1) for o < out_ch. */
SQZFW_INLINE void mac_pair_mode(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *pair, const conv_out *q, int8_t *out0, int8_t *out1, const int32_t mode)
{
    const int32_t n = cols >> 2;
    int32_t o = 0;
    for (; o + 1 < out_ch; o += 2)
    {
        const int8_t *wa = w + o * cols;
        int32_t acc[4];
        acc[0] = q->bias ? q->bias[o] : 0;
        acc[1] = q->bias ? q->bias[o + 1] : 0;
        acc[2] = acc[0];
        acc[3] = acc[1];
        if ((cols & 3) != 0 && o + 2 < out_ch)
        {
            /* The last group's filter words run into the next rows, which exist: the extra bytes
             * meet the column's zero padding. */
            dot_pair(wa, cols, pair, n + 1, acc);
        }
        else
        {
            dot_pair(wa, cols, pair, n, acc);
        }
        if ((cols & 3) != 0 && o + 2 >= out_ch)
        {
            const int16_t *t = pair + 8 * n;
            const int32_t va = tail_word(wa, cols), vb = tail_word(wa + cols, cols);
            const int32_t wa02 = sqzfw_sxtb16(va), wa13 = sqzfw_sxtb16_ror8(va);
            const int32_t wb02 = sqzfw_sxtb16(vb), wb13 = sqzfw_sxtb16_ror8(vb);
            const int32_t x02 = sqzfw_read_s16x2(t), x13 = sqzfw_read_s16x2(t + 2);
            const int32_t y02 = sqzfw_read_s16x2(t + 4), y13 = sqzfw_read_s16x2(t + 6);
            acc[0] = sqzfw_smlad(x13, wa13, sqzfw_smlad(x02, wa02, acc[0]));
            acc[1] = sqzfw_smlad(x13, wb13, sqzfw_smlad(x02, wb02, acc[1]));
            acc[2] = sqzfw_smlad(y13, wa13, sqzfw_smlad(y02, wa02, acc[2]));
            acc[3] = sqzfw_smlad(y13, wb13, sqzfw_smlad(y02, wb02, acc[3]));
        }
        sqzfw_rq_store2(acc[0], acc[2], q->mult[o], q->shift[o], mode, &q->out, out0 + o, out1 + o);
        sqzfw_rq_store2(acc[1], acc[3], q->mult[o + 1], q->shift[o + 1], mode, &q->out, out0 + o + 1, out1 + o + 1);
    }
    if (o < out_ch)
    {
        const int8_t *wr = w + o * cols;
        const int32_t b = q->bias ? q->bias[o] : 0;
        sqzfw_rq_store2(dot_one(wr, cols, pair, b), dot_one(wr, cols, pair + 4, b), q->mult[o], q->shift[o], mode, &q->out, out0 + o, out1 + o);
    }
}

/*
 * The lean requantization's channel-pair loop for a word-aligned pair (the common case): every
 * pair of filter rows but the last runs over whole groups (a last partial group reads into the
 * next rows, met by the column's zero padding), so the loop has no per-pair tests; the rest goes
 * to mac_pair_mode.
 */
static void mac_pair_any(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *pair, const conv_out *q, int8_t *out0, int8_t *out1);

static void mac_pair_lean(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *pair, const conv_out *q, int8_t *out0, int8_t *out1)
{
    const int32_t groups = (cols + 3) >> 2;
    /* pairs in the loop: all but the last when a partial group would read past the filter */
    const int32_t pairs = (((cols & 3) != 0) ? out_ch - 1 : out_ch) >> 1;
    const int32_t skip = 2 * cols - 4 * groups; /* from the end of row o's groups to row o + 2 */
    const int32_t *bias = q->bias;              /* not NULL here (mac_two_columns) */
    const int32_t *mult = q->mult;
    const int32_t *shift = q->shift;
    const int32_t *rnd_off = q->rnd_off;
    const int8_t *wp = w;
    int8_t *d0 = out0;
    int8_t *d1 = out1;
    int32_t left = pairs;
    for (; left > 0; left--)
    {
        int32_t c00 = bias[0];
        int32_t c01 = bias[1];
        int32_t c10 = c00, c11 = c01;
        const int16_t *p = pair;
    #if defined(__GNUC__) && !defined(SQZFW_EMULATE_DSP)
        /*
         * Inline assembly for the reason given at dot_pair; here the group count's low bit picks
         * an odd first group (LSRS puts it in the carry, and the group sets no flags), so one
         * block serves every count without a test in C.
         */
        int32_t n = groups;
        const int32_t step4 = cols - 4;
        int32_t t0, t1, t2, t3, t4, t5;
        #define SQZFW_LEAN_GROUP                          \
            "ldr    %[t0], [%[w]], #4\n\t"               \
            "ldrd   %[t2], %[t3], [%[p]], #16\n\t"       \
            "sxtb16 %[t1], %[t0]\n\t"                    \
            "sxtb16 %[t0], %[t0], ror #8\n\t"            \
            "smlad  %[c00], %[t2], %[t1], %[c00]\n\t"    \
            "smlad  %[c00], %[t3], %[t0], %[c00]\n\t"    \
            "ldrd   %[t4], %[t5], [%[p], #-8]\n\t"       \
            "smlad  %[c10], %[t4], %[t1], %[c10]\n\t"    \
            "smlad  %[c10], %[t5], %[t0], %[c10]\n\t"    \
            "ldr    %[t0], [%[w], %[s4]]\n\t"            \
            "sxtb16 %[t1], %[t0]\n\t"                    \
            "sxtb16 %[t0], %[t0], ror #8\n\t"            \
            "smlad  %[c01], %[t2], %[t1], %[c01]\n\t"    \
            "smlad  %[c01], %[t3], %[t0], %[c01]\n\t"    \
            "smlad  %[c11], %[t4], %[t1], %[c11]\n\t"    \
            "smlad  %[c11], %[t5], %[t0], %[c11]\n\t"
        __asm__("lsrs   %[n], %[n], #1\n\t"
                "bcc    2f\n\t" SQZFW_LEAN_GROUP "2:\n\t"
                "beq    3f\n\t"
                "1:\n\t" SQZFW_LEAN_GROUP SQZFW_LEAN_GROUP "subs   %[n], %[n], #1\n\t"
                "bne    1b\n\t"
                "3:\n\t"
                : [c00] "+r"(c00), [c01] "+r"(c01), [c10] "+r"(c10), [c11] "+r"(c11), [w] "+r"(wp), [p] "+r"(p),
                  [n] "+r"(n), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
                  [t5] "=&r"(t5)
                : [s4] "r"(step4)
                : "cc", "memory");
        #undef SQZFW_LEAN_GROUP
    #else
        int32_t n;
        for (n = groups; n > 0; n--)
        {
            const int32_t va = sqzfw_read_s8x4(wp);
            const int32_t vb = sqzfw_read_s8x4(wp + cols);
            const int32_t wa02 = sqzfw_sxtb16(va), wa13 = sqzfw_sxtb16_ror8(va);
            const int32_t wb02 = sqzfw_sxtb16(vb), wb13 = sqzfw_sxtb16_ror8(vb);
            const int32_t x02 = sqzfw_read_s16x2(p), x13 = sqzfw_read_s16x2(p + 2);
            const int32_t y02 = sqzfw_read_s16x2(p + 4), y13 = sqzfw_read_s16x2(p + 6);
            c00 = sqzfw_smlad(x13, wa13, sqzfw_smlad(x02, wa02, c00));
            c01 = sqzfw_smlad(x13, wb13, sqzfw_smlad(x02, wb02, c01));
            c10 = sqzfw_smlad(y13, wa13, sqzfw_smlad(y02, wa02, c10));
            c11 = sqzfw_smlad(y13, wb13, sqzfw_smlad(y02, wb02, c11));
            wp += 4;
            p += 8;
        }
    #endif
        {
            const int32_t r0 = -shift[0], r1 = -shift[1];
            const int32_t m0 = mult[0], m1 = mult[1];
            const int32_t k0 = rnd_off[r0], k1 = rnd_off[r1];
            d0[0] = sqzfw_rq_lean_one(c00, m0, r0, k0);
            d1[0] = sqzfw_rq_lean_one(c10, m0, r0, k0);
            d0[1] = sqzfw_rq_lean_one(c01, m1, r1, k1);
            d1[1] = sqzfw_rq_lean_one(c11, m1, r1, k1);
        }
        wp += skip;
        bias += 2;
        mult += 2;
        shift += 2;
        d0 += 2;
        d1 += 2;
    }
    if (2 * pairs < out_ch)
    {
        const int32_t o = 2 * pairs;
        conv_out rest = *q;
        rest.bias = bias;
        rest.mult = mult;
        rest.shift = shift;
        mac_pair_any(w + o * cols, out_ch - o, cols, pair, &rest, d0, d1);
    }
}

/* Filter rows times the first column of the pair alone. */
static void mac_one_column(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *pair, const conv_out *q, int8_t *out)
{
    int32_t o;
    for (o = 0; o < out_ch; o++)
    {
        const int32_t b = q->bias ? q->bias[o] : 0;
        out[o] = sqzfw_rq_one(dot_one(w + o * cols, cols, pair, b), q->mult[o], q->shift[o], q->mode, &q->out);
    }
}

    #define SECOND_COLUMN(buf, aligned_cols) ((buf) + 4)

#else /* plain C: columns one after the other, natural element order */

/* int8 -> int16 with the input offset added (modulo 2^16). */
static void widen_with_offset(const int8_t *src, int16_t *dst, int32_t n, int32_t offset)
{
    int32_t i;
    for (i = 0; i < n; i++)
    {
        dst[i] = (int16_t)(src[i] + offset);
    }
}

static void fill_column(const im2col_geom *g, int32_t base_y, int32_t base_x, int16_t *col)
{
    int32_t ky, kx, i;
    for (ky = 0; ky < g->ker_h; ky++)
    {
        const int32_t y = base_y + ky * g->dil_y;
        const int8_t *run = row_run(g, y, base_x);
        if (run != NULL)
        {
            widen_with_offset(run, col, g->ker_w * g->ker_c, g->input_offset);
            col += g->ker_w * g->ker_c;
            continue;
        }
        for (kx = 0; kx < g->ker_w; kx++)
        {
            const int8_t *src = tap_source(g, y, base_x + kx * g->dil_x);
            if (src != NULL)
            {
                widen_with_offset(src, col, g->ker_c, g->input_offset);
            }
            else
            {
                for (i = 0; i < g->ker_c; i++)
                {
                    col[i] = g->pad16;
                }
            }
            col += g->ker_c;
        }
    }
}

/* Two filter rows by two columns, one element at a time: 4 loads and 4 MACs per element. */
SQZFW_INLINE void mac_pair_mode(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *col0, const conv_out *q, int8_t *out0, int8_t *out1, const int32_t mode)
{
    const int16_t *col1 = col0 + ((cols + 3) & ~3);
    int32_t o = 0;
    for (; o + 1 < out_ch; o += 2)
    {
        const int8_t *wa = w + o * cols;
        const int8_t *wb = wa + cols;
        const int16_t *x = col0;
        const int16_t *y = col1;
        int32_t c00 = q->bias ? q->bias[o] : 0;
        int32_t c01 = q->bias ? q->bias[o + 1] : 0;
        int32_t c10 = c00, c11 = c01;
        int32_t k;
        /* sixteen elements per iteration, then four (see dot_2x2 in sqzfw_nn_mat_mult_nt_t_s8.c) */
    #define SQZFW_MAC_2X2_ELEMENT(i)                                          \
        do                                                                    \
        {                                                                     \
            const int32_t va_ = wa[i], vb_ = wb[i], vx_ = x[i], vy_ = y[i]; \
            c00 += va_ * vx_;                                                 \
            c01 += vb_ * vx_;                                                 \
            c10 += va_ * vy_;                                                 \
            c11 += vb_ * vy_;                                                 \
        } while (0)
        for (k = cols; k >= 16; k -= 16)
        {
            SQZFW_MAC_2X2_ELEMENT(0);
            SQZFW_MAC_2X2_ELEMENT(1);
            SQZFW_MAC_2X2_ELEMENT(2);
            SQZFW_MAC_2X2_ELEMENT(3);
            SQZFW_MAC_2X2_ELEMENT(4);
            SQZFW_MAC_2X2_ELEMENT(5);
            SQZFW_MAC_2X2_ELEMENT(6);
            SQZFW_MAC_2X2_ELEMENT(7);
            SQZFW_MAC_2X2_ELEMENT(8);
            SQZFW_MAC_2X2_ELEMENT(9);
            SQZFW_MAC_2X2_ELEMENT(10);
            SQZFW_MAC_2X2_ELEMENT(11);
            SQZFW_MAC_2X2_ELEMENT(12);
            SQZFW_MAC_2X2_ELEMENT(13);
            SQZFW_MAC_2X2_ELEMENT(14);
            SQZFW_MAC_2X2_ELEMENT(15);
            wa += 16;
            wb += 16;
            x += 16;
            y += 16;
        }
        for (; k >= 4; k -= 4)
        {
            SQZFW_MAC_2X2_ELEMENT(0);
            SQZFW_MAC_2X2_ELEMENT(1);
            SQZFW_MAC_2X2_ELEMENT(2);
            SQZFW_MAC_2X2_ELEMENT(3);
            wa += 4;
            wb += 4;
            x += 4;
            y += 4;
        }
    #undef SQZFW_MAC_2X2_ELEMENT
        for (; k > 0; k--)
        {
            const int32_t va = *wa++, vb = *wb++, vx = *x++, vy = *y++;
            c00 += va * vx;
            c01 += vb * vx;
            c10 += va * vy;
            c11 += vb * vy;
        }
        sqzfw_rq_store2(c00, c10, q->mult[o], q->shift[o], mode, &q->out, out0 + o, out1 + o);
        sqzfw_rq_store2(c01, c11, q->mult[o + 1], q->shift[o + 1], mode, &q->out, out0 + o + 1, out1 + o + 1);
    }
    if (o < out_ch)
    {
        const int8_t *wa = w + o * cols;
        int32_t c0 = q->bias ? q->bias[o] : 0;
        int32_t c1 = c0;
        int32_t k;
        for (k = 0; k < cols; k++)
        {
            c0 += wa[k] * col0[k];
            c1 += wa[k] * col1[k];
        }
        sqzfw_rq_store2(c0, c1, q->mult[o], q->shift[o], mode, &q->out, out0 + o, out1 + o);
    }
}

static void mac_one_column(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *col, const conv_out *q, int8_t *out)
{
    int32_t o, k;
    for (o = 0; o < out_ch; o++)
    {
        const int8_t *wr = w + o * cols;
        int32_t acc = q->bias ? q->bias[o] : 0;
        for (k = 0; k < cols; k++)
        {
            acc += wr[k] * col[k];
        }
        out[o] = sqzfw_rq_one(acc, q->mult[o], q->shift[o], q->mode, &q->out);
    }
}

    #define SECOND_COLUMN(buf, aligned_cols) ((buf) + (aligned_cols))

#endif

/* mac_pair_mode with the mode decided at run time: one copy. */
static void mac_pair_any(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *pair, const conv_out *q, int8_t *out0, int8_t *out1)
{
    mac_pair_mode(w, out_ch, cols, pair, q, out0, out1, q->mode);
}

/*
 * Filter rows times the column pair. DSP: the lean requantization with a word-aligned pair takes
 * mac_pair_lean. Scalar: the lean mode gets its own copy of mac_pair_mode. Every other case shares
 * one copy with the mode decided at run time (one copy of each keeps the code small).
 */
static void mac_two_columns(const int8_t *w, const int32_t out_ch, const int32_t cols, const int16_t *col0, const conv_out *q, int8_t *out0, int8_t *out1)
{
#if defined(ARM_MATH_DSP)
    if (q->mode == SQZFW_RQ_LEAN && q->bias != NULL && (((uintptr_t)col0) & 3U) == 0U)
    {
        mac_pair_lean(w, out_ch, cols, col0, q, out0, out1);
        return;
    }
#else
    if (q->mode == SQZFW_RQ_LEAN)
    {
        mac_pair_mode(w, out_ch, cols, col0, q, out0, out1, SQZFW_RQ_LEAN);
        return;
    }
#endif
    mac_pair_any(w, out_ch, cols, col0, q, out0, out1);
}

arm_cmsis_nn_status arm_convolve_s8(const cmsis_nn_context *ctx,
                                    const cmsis_nn_conv_params *conv_params,
                                    const cmsis_nn_per_channel_quant_params *quant_params,
                                    const cmsis_nn_dims *input_dims,
                                    const int8_t *input_data,
                                    const cmsis_nn_dims *filter_dims,
                                    const int8_t *filter_data,
                                    const cmsis_nn_dims *bias_dims,
                                    const int32_t *bias_data,
                                    const cmsis_nn_dims *upscale_dims,
                                    const cmsis_nn_dims *output_dims,
                                    int8_t *output_data)
{
    const int32_t in_c = input_dims->c;
    const int32_t ker_c = filter_dims->c;
    const int32_t out_w = output_dims->w;
    const int32_t out_h = output_dims->h;
    const int32_t out_c = output_dims->c;
    const int32_t stride_x = conv_params->stride.w;
    const int32_t stride_y = conv_params->stride.h;
    const int32_t pad_x = conv_params->padding.w;
    const int32_t pad_y = conv_params->padding.h;
    int32_t groups, out_c_per_group, rhs_cols, aligned_cols, batch, group;
    im2col_geom g;
    int16_t *col0;
    int16_t *col1;
    conv_out q;
    int32_t rnd_off[23];

    (void)bias_dims;
    if (ctx == NULL || ctx->buf == NULL)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    if (ker_c <= 0 || in_c < ker_c)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    groups = in_c / ker_c;
    if ((in_c % groups) != 0 || (out_c % groups) != 0)
    {
        return ARM_CMSIS_NN_ARG_ERROR;
    }
    out_c_per_group = out_c / groups;

    g.x_rshift = 0;
    g.y_rshift = 0;
    if (upscale_dims != NULL)
    {
        g.x_rshift = (upscale_dims->w == 2) ? 1 : 0;
        g.y_rshift = (upscale_dims->h == 2) ? 1 : 0;
    }
    g.bound_w = input_dims->w;
    g.bound_h = input_dims->h;
    g.data_w = input_dims->w >> g.x_rshift;
    g.data_c = in_c;
    g.ker_w = filter_dims->w;
    g.ker_h = filter_dims->h;
    g.ker_c = ker_c;
    g.dil_x = conv_params->dilation.w;
    g.dil_y = conv_params->dilation.h;
    g.input_offset = conv_params->input_offset;
    g.pad8 = (int8_t)(-conv_params->input_offset);
    g.pad16 = (int16_t)(g.pad8 + conv_params->input_offset);

    rhs_cols = g.ker_w * g.ker_h * ker_c;
    g.rhs_cols = rhs_cols;
    aligned_cols = (rhs_cols + 3) & ~3;
    col0 = (int16_t *)ctx->buf;
    col1 = SECOND_COLUMN(col0, aligned_cols);
    (void)aligned_cols;
    q.rnd_off = rnd_off;
    q.out.offset = conv_params->output_offset;
    q.out.act_min = conv_params->activation.min;
    q.out.act_max = conv_params->activation.max;

    for (batch = 0; batch < input_dims->n; batch++)
    {
        for (group = 0; group < groups; group++)
        {
            const int32_t ch0 = group * out_c_per_group;
            const int8_t *w = filter_data + ch0 * rhs_cols;
            int8_t *pending = NULL;
            int32_t oy, ox;

            q.bias = bias_data ? bias_data + ch0 : NULL;
            q.mult = quant_params->multiplier + ch0;
            q.shift = quant_params->shift + ch0;
            q.mode = sqzfw_rq_mode(q.bias, q.shift, out_c_per_group, sqzfw_rq_mac_bound(rhs_cols));
            if (sqzfw_rq_lean_ok(q.mode, q.shift, out_c_per_group, &q.out))
            {
                int32_t r;
                q.mode = SQZFW_RQ_LEAN;
                rnd_off[0] = 0;
                for (r = 1; r <= 22; r++)
                {
                    rnd_off[r] = (int32_t)((1U << (uint32_t)(r - 1)) + ((uint32_t)q.out.offset << (uint32_t)r));
                }
            }
            g.input = input_data;
            /* With upscaling, CMSIS-NN v7.0.0 reads the first channels for every group. */
            if (g.x_rshift == 0 && g.y_rshift == 0)
            {
                g.input += group * ker_c;
            }
            for (oy = 0; oy < out_h; oy++)
            {
                for (ox = 0; ox < out_w; ox++)
                {
                    int8_t *out = output_data + (oy * out_w + ox) * out_c + ch0;
                    fill_column(&g, oy * stride_y - pad_y, ox * stride_x - pad_x, pending ? col1 : col0);
                    if (pending != NULL)
                    {
                        mac_two_columns(w, out_c_per_group, rhs_cols, col0, &q, pending, out);
                        pending = NULL;
                    }
                    else
                    {
                        pending = out;
                    }
                }
            }
            if (pending != NULL)
            {
                mac_one_column(w, out_c_per_group, rhs_cols, col0, &q, pending);
            }
        }
        input_data += (input_dims->h >> g.y_rshift) * g.data_w * in_c;
        output_data += out_h * out_w * out_c;
    }
    return ARM_CMSIS_NN_SUCCESS;
}
