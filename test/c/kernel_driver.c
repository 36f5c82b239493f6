/*
 * sqzfw kernel test driver.
 *
 * Reads a batch of kernel test cases (binary, written by test/c/cases.ts), runs each through the
 * CMSIS-NN API (sqzfw's firmware/cmsis-nn, or Arm's library when built against it) and writes
 * every output, status and scratch size to a result file. Host builds take the two file names
 * on the command line; the QEMU build (SQZFW_TARGET) reads/writes cases.bin / results.bin in
 * QEMU's working directory through semihosting.
 *
 * Checks done here besides the outputs: scratch memory is exactly the size the matching
 * *_get_buffer_size function returns and is surrounded by guard bytes that must survive; the
 * output is guarded the same way; inputs must not be modified; buffers can be misaligned.
 *
 * File format (little-endian 32-bit words):
 * Ops: 1 conv, 2 max pool, 3 avg pool, 4 add, 5 softmax, 6 concat x, 7 buffer sizes, 8 fixed-point helpers,
 * 9 conv with packed int4 weights (the *_s4 functions; same parameters as 1, filter data ceil(n / 2) bytes).
 *
 *   cases:   'SQZK' version=1 count, then per case: op nparams params[nparams] nbytes data[nbytes] (padded to 4)
 *   results: 'SQZR' version=1 count, then per case: status flags scratch_bytes nbytes data[nbytes] (padded to 4)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

#define OP_CONV 1
#define OP_MAXPOOL 2
#define OP_AVGPOOL 3
#define OP_ADD 4
#define OP_SOFTMAX 5
#define OP_CONCAT 6
#define OP_BUFSIZE 7
#define OP_MATH 8
#define OP_CONV_S4 9

#define FLAG_SCRATCH_OVERRUN 1u
#define FLAG_OUTPUT_OVERRUN 2u
#define FLAG_INPUT_MODIFIED 4u
#define FLAG_BAD_CASE 8u

#define GUARD 32
#define GUARD_BYTE 0x5A

#ifndef FILE_MAX
    #define FILE_MAX (48u << 20)
#endif
#ifndef RESULT_MAX
    #define RESULT_MAX (48u << 20)
#endif
#ifndef WORK_MAX
    #define WORK_MAX (16u << 20)
#endif
#ifndef BIG_SECTION
    #define BIG_SECTION
#endif

/* I/O provided by the host main below or by the QEMU startup code */
int sqzfw_io_read(const char *name, uint8_t *buf, uint32_t max, uint32_t *len);
int sqzfw_io_write(const char *name, const uint8_t *buf, uint32_t len);
void sqzfw_io_log(const char *msg);
int sqzfw_driver_run(const char *in_name, const char *out_name);

static uint8_t file_buf[FILE_MAX] __attribute__((aligned(8))) BIG_SECTION;
static uint8_t result_buf[RESULT_MAX] __attribute__((aligned(8))) BIG_SECTION;
static uint8_t work_buf[WORK_MAX] __attribute__((aligned(8))) BIG_SECTION;

static uint32_t work_used;
static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Allocate n bytes (8-aligned start + misalign) between two guard zones. */
static uint8_t *work_alloc(uint32_t n, uint32_t misalign)
{
    uint32_t start = (work_used + 7u) & ~7u;
    uint8_t *p;
    if (start + GUARD + 8u + n + GUARD > WORK_MAX)
    {
        return NULL;
    }
    p = work_buf + start + GUARD + misalign;
    memset(work_buf + start, GUARD_BYTE, GUARD + misalign);
    memset(p + n, GUARD_BYTE, GUARD);
    work_used = start + GUARD + misalign + n + GUARD;
    return p;
}

static int guards_ok(const uint8_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 1; i <= GUARD; i++)
    {
        if (p[-(int32_t)i] != GUARD_BYTE || p[n + i - 1] != GUARD_BYTE)
        {
            return 0;
        }
    }
    return 1;
}

static void fill_garbage(uint8_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++)
    {
        p[i] = (uint8_t)rng();
    }
}

static uint32_t checksum(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    uint32_t i;
    for (i = 0; i < n; i++)
    {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint32_t result_len;
static int result_overflow;

static void put32(uint32_t v)
{
    if (result_len + 4u > RESULT_MAX)
    {
        result_overflow = 1;
        return;
    }
    result_buf[result_len++] = (uint8_t)v;
    result_buf[result_len++] = (uint8_t)(v >> 8);
    result_buf[result_len++] = (uint8_t)(v >> 16);
    result_buf[result_len++] = (uint8_t)(v >> 24);
}

static void put_bytes(const void *p, uint32_t n)
{
    if (result_len + n + 3u > RESULT_MAX)
    {
        result_overflow = 1;
        return;
    }
    memcpy(result_buf + result_len, p, n);
    result_len += n;
    while (result_len & 3u)
    {
        result_buf[result_len++] = 0;
    }
}

static void put_result(int32_t status, uint32_t flags, int32_t scratch, const void *out, uint32_t n)
{
    put32((uint32_t)status);
    put32(flags);
    put32((uint32_t)scratch);
    put32(n);
    put_bytes(out, n);
}

/* A case's data block, read front to back. */
typedef struct
{
    const uint8_t *p;
    uint32_t left;
    int bad;
} reader;

static const void *take(reader *r, uint32_t n)
{
    const uint8_t *p = r->p;
    n = (n + 3u) & ~3u;
    if (n > r->left)
    {
        r->bad = 1;
        return NULL;
    }
    r->p += n;
    r->left -= n;
    return p;
}

/* One kernel call's buffers in the work area, each between guard zones: a copy of the input, the output and, unless
 * the case passes NULL, scratch of the size the kernel's *_get_buffer_size asked for. */
typedef struct
{
    int8_t *in;
    int8_t *out;
    uint8_t *scratch;
    uint32_t in_n;
    uint32_t o_n;
    uint32_t in_sum;
    int32_t scratch_bytes;
} call_buffers;

/* Allocates and fills b (input copied, output 0x11, scratch garbage) and points ctx at the scratch; 0 when the work
 * area is too small, after writing the case's result. */
static int call_setup(call_buffers *b,
                      cmsis_nn_context *ctx,
                      const int8_t *in_src,
                      uint32_t in_n,
                      uint32_t o_n,
                      int32_t scratch_bytes,
                      int null_scratch,
                      uint32_t misalign)
{
    const int want_scratch = scratch_bytes > 0 && !null_scratch;
    b->in_n = in_n;
    b->o_n = o_n;
    b->scratch_bytes = scratch_bytes;
    b->scratch = NULL;
    b->in = (int8_t *)work_alloc(in_n, misalign);
    b->out = (int8_t *)work_alloc(o_n, misalign);
    if (want_scratch)
    {
        /* int16-aligned but, for half the misaligned cases, not word-aligned: the DSP kernels' LDRD
         * loops need a word-aligned column pair and must fall back to plain loads otherwise */
        b->scratch = work_alloc((uint32_t)scratch_bytes, misalign & 2u);
    }
    if (b->in == NULL || b->out == NULL || (want_scratch && b->scratch == NULL))
    {
        put_result(-101, FLAG_BAD_CASE, scratch_bytes, NULL, 0);
        return 0;
    }
    memcpy(b->in, in_src, in_n);
    memset(b->out, 0x11, o_n);
    if (b->scratch != NULL)
    {
        fill_garbage(b->scratch, (uint32_t)scratch_bytes);
    }
    b->in_sum = checksum((const uint8_t *)b->in, in_n);
    ctx->buf = b->scratch;
    ctx->size = b->scratch != NULL ? scratch_bytes : 0;
    return 1;
}

/* Writes the call's result: its status, flags for overwritten guard zones or a modified input, the scratch size and
 * the output. */
static void call_result(const call_buffers *b, int32_t status)
{
    uint32_t flags = 0;
    if (b->scratch != NULL && !guards_ok(b->scratch, (uint32_t)b->scratch_bytes))
    {
        flags |= FLAG_SCRATCH_OVERRUN;
    }
    if (!guards_ok((const uint8_t *)b->out, b->o_n))
    {
        flags |= FLAG_OUTPUT_OVERRUN;
    }
    if (checksum((const uint8_t *)b->in, b->in_n) != b->in_sum || !guards_ok((const uint8_t *)b->in, b->in_n))
    {
        flags |= FLAG_INPUT_MODIFIED;
    }
    put_result(status, flags, b->scratch_bytes, b->out, b->o_n);
}

typedef arm_cmsis_nn_status (*conv_s4_fn)(const cmsis_nn_context *,
                                          const cmsis_nn_conv_params *,
                                          const cmsis_nn_per_channel_quant_params *,
                                          const cmsis_nn_dims *,
                                          const int8_t *,
                                          const cmsis_nn_dims *,
                                          const int8_t *,
                                          const cmsis_nn_dims *,
                                          const int32_t *,
                                          const cmsis_nn_dims *,
                                          int8_t *);

static int32_t run_conv_s4(int32_t fn,
                           const cmsis_nn_context *ctx,
                           const cmsis_nn_conv_params *cp,
                           const cmsis_nn_per_channel_quant_params *qp,
                           const cmsis_nn_dims *in_d,
                           const int8_t *in,
                           const cmsis_nn_dims *f_d,
                           const int8_t *filter,
                           const cmsis_nn_dims *b_d,
                           const int32_t *bias,
                           const cmsis_nn_dims *o_d,
                           int8_t *out)
{
    static const conv_s4_fn fns[5] = {
        arm_convolve_wrapper_s4, arm_convolve_s4, arm_convolve_1x1_s4_fast, arm_convolve_1x1_s4, arm_convolve_1_x_n_s4};
    if (fn < 0 || fn > 4)
    {
        return -102;
    }
    return (int32_t)fns[fn](ctx, cp, qp, in_d, in, f_d, filter, b_d, bias, o_d, out);
}

/* s4: the *_s4 functions with a packed int4 filter (fn 0 wrapper, 1 general, 2 1x1 fast, 3 1x1, 4 1xN). */
static void run_conv(const int32_t *prm, uint32_t np, reader *rd, int s4)
{
    const int32_t fn = prm[0];
    cmsis_nn_dims in_d, f_d, b_d, o_d, up_d;
    cmsis_nn_conv_params cp;
    cmsis_nn_per_channel_quant_params qp;
    cmsis_nn_context ctx;
    const int32_t *bias = NULL;
    const int8_t *in_src, *filter;
    uint32_t in_n, f_n, o_n;
    uint32_t misalign;
    call_buffers b;
    int32_t scratch_bytes = 0, status;

    if (np < 26)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    in_d.n = prm[1];
    in_d.h = prm[2];
    in_d.w = prm[3];
    in_d.c = prm[4];
    f_d.n = prm[10];
    f_d.h = prm[5];
    f_d.w = prm[6];
    f_d.c = prm[7];
    o_d.n = prm[1];
    o_d.h = prm[8];
    o_d.w = prm[9];
    o_d.c = prm[10];
    b_d.n = 1;
    b_d.h = 1;
    b_d.w = 1;
    b_d.c = prm[10];
    cp.stride.h = prm[11];
    cp.stride.w = prm[12];
    cp.padding.h = prm[13];
    cp.padding.w = prm[14];
    cp.dilation.h = prm[15];
    cp.dilation.w = prm[16];
    cp.input_offset = prm[17];
    cp.output_offset = prm[18];
    cp.activation.min = prm[19];
    cp.activation.max = prm[20];
    up_d.n = 1;
    up_d.c = 1;
    up_d.h = prm[23];
    up_d.w = prm[24];
    misalign = (uint32_t)prm[25] & 3u;

    /* with a 2x upscale, input_dims are the upscaled dims and the data holds half of them */
    in_n = (uint32_t)(in_d.n * (up_d.h == 2 ? in_d.h >> 1 : in_d.h) * (up_d.w == 2 ? in_d.w >> 1 : in_d.w) * in_d.c);
    f_n = (uint32_t)(o_d.c * f_d.h * f_d.w * f_d.c);
    if (s4)
    {
        f_n = (f_n + 1u) / 2u;
    }
    o_n = (uint32_t)(o_d.n * o_d.h * o_d.w * o_d.c);
    if (prm[21])
    {
        bias = (const int32_t *)take(rd, 4u * (uint32_t)o_d.c);
    }
    qp.multiplier = (int32_t *)(uintptr_t)take(rd, 4u * (uint32_t)o_d.c);
    qp.shift = (int32_t *)(uintptr_t)take(rd, 4u * (uint32_t)o_d.c);
    in_src = (const int8_t *)take(rd, in_n);
    filter = (const int8_t *)take(rd, f_n);
    if (rd->bad)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }

    if (s4)
    {
        scratch_bytes = fn == 0   ? arm_convolve_wrapper_s4_get_buffer_size(&cp, &in_d, &f_d, &o_d)
                        : fn == 1 ? arm_convolve_s4_get_buffer_size(&in_d, &f_d)
                        : fn == 2 ? arm_convolve_1x1_s4_fast_get_buffer_size(&in_d)
                        : fn == 4 ? arm_convolve_1_x_n_s4_get_buffer_size(&cp, &in_d, &f_d, &o_d)
                                  : 0;
    }
    else switch (fn)
    {
    case 0:
        scratch_bytes = arm_convolve_wrapper_s8_get_buffer_size(&cp, &in_d, &f_d, &o_d);
        break;
    case 1:
        scratch_bytes = arm_convolve_s8_get_buffer_size(&in_d, &f_d);
        break;
    case 2:
        scratch_bytes = arm_convolve_1x1_s8_fast_get_buffer_size(&in_d);
        break;
    case 4:
        scratch_bytes = arm_convolve_1_x_n_s8_get_buffer_size(&cp, &in_d, &f_d, &o_d);
        break;
    default:
        scratch_bytes = 0;
        break;
    }

    if (!call_setup(&b, &ctx, in_src, in_n, o_n, scratch_bytes, prm[22] != 0, misalign))
    {
        return;
    }

    if (s4)
    {
        status = run_conv_s4(fn, &ctx, &cp, &qp, &in_d, b.in, &f_d, filter, &b_d, bias, &o_d, b.out);
    }
    else switch (fn)
    {
    case 0:
        status = arm_convolve_wrapper_s8(&ctx, &cp, &qp, &in_d, b.in, &f_d, filter, &b_d, bias, &o_d, b.out);
        break;
    case 1:
        status = arm_convolve_s8(&ctx,
                                 &cp,
                                 &qp,
                                 &in_d,
                                 b.in,
                                 &f_d,
                                 filter,
                                 &b_d,
                                 bias,
                                 (up_d.h != 0 || up_d.w != 0) ? &up_d : NULL,
                                 &o_d,
                                 b.out);
        break;
    case 2:
        status = arm_convolve_1x1_s8_fast(&ctx, &cp, &qp, &in_d, b.in, &f_d, filter, &b_d, bias, &o_d, b.out);
        break;
    case 3:
        status = arm_convolve_1x1_s8(&ctx, &cp, &qp, &in_d, b.in, &f_d, filter, &b_d, bias, &o_d, b.out);
        break;
    case 4:
        status = arm_convolve_1_x_n_s8(&ctx, &cp, &qp, &in_d, b.in, &f_d, filter, &b_d, bias, &o_d, b.out);
        break;
    default:
        status = -102;
        break;
    }
    call_result(&b, status);
}

static void run_pool(int avg, const int32_t *prm, uint32_t np, reader *rd)
{
    cmsis_nn_dims in_d, f_d, o_d;
    cmsis_nn_pool_params pp;
    cmsis_nn_context ctx;
    const int8_t *in_src;
    call_buffers b;
    uint32_t in_n, o_n, misalign;
    int32_t scratch_bytes = 0, status;

    if (np < 16)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    in_d.n = prm[0];
    in_d.h = prm[1];
    in_d.w = prm[2];
    in_d.c = prm[3];
    f_d.n = 1;
    f_d.h = prm[4];
    f_d.w = prm[5];
    f_d.c = 1;
    o_d.n = prm[0];
    o_d.h = prm[6];
    o_d.w = prm[7];
    o_d.c = prm[3];
    pp.stride.h = prm[8];
    pp.stride.w = prm[9];
    pp.padding.h = prm[10];
    pp.padding.w = prm[11];
    pp.activation.min = prm[12];
    pp.activation.max = prm[13];
    misalign = (uint32_t)prm[15] & 3u;
    in_n = (uint32_t)(in_d.n * in_d.h * in_d.w * in_d.c);
    o_n = (uint32_t)(o_d.n * o_d.h * o_d.w * o_d.c);
    in_src = (const int8_t *)take(rd, in_n);
    if (rd->bad)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    if (avg)
    {
        scratch_bytes = arm_avgpool_s8_get_buffer_size(o_d.w, in_d.c);
    }
    if (!call_setup(&b, &ctx, in_src, in_n, o_n, scratch_bytes, prm[14] != 0, misalign))
    {
        return;
    }
    if (avg)
    {
        status = arm_avgpool_s8(&ctx, &pp, &in_d, b.in, &f_d, &o_d, b.out);
    }
    else
    {
        status = arm_max_pool_s8(&ctx, &pp, &in_d, b.in, &f_d, &o_d, b.out);
    }
    call_result(&b, status);
}

static void run_add(const int32_t *prm, uint32_t np, reader *rd)
{
    const int8_t *a_src, *b_src;
    int8_t *a, *b, *out;
    uint32_t n, flags = 0, sum, misalign;
    int32_t status;

    if (np < 14)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    n = (uint32_t)prm[12];
    misalign = (uint32_t)prm[13] & 3u;
    a_src = (const int8_t *)take(rd, n);
    b_src = (const int8_t *)take(rd, n);
    if (rd->bad)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    a = (int8_t *)work_alloc(n, misalign);
    b = (int8_t *)work_alloc(n, (misalign + 1u) & 3u);
    out = (int8_t *)work_alloc(n, (misalign + 2u) & 3u);
    if (a == NULL || b == NULL || out == NULL)
    {
        put_result(-101, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    memcpy(a, a_src, n);
    memcpy(b, b_src, n);
    memset(out, 0x11, n);
    sum = checksum((const uint8_t *)a, n) ^ (checksum((const uint8_t *)b, n) * 3u);
    status = arm_elementwise_add_s8(a,
                                    b,
                                    prm[0],
                                    prm[1],
                                    prm[2],
                                    prm[3],
                                    prm[4],
                                    prm[5],
                                    prm[6],
                                    out,
                                    prm[7],
                                    prm[8],
                                    prm[9],
                                    prm[10],
                                    prm[11],
                                    (int32_t)n);
    if (!guards_ok((const uint8_t *)out, n))
    {
        flags |= FLAG_OUTPUT_OVERRUN;
    }
    if ((checksum((const uint8_t *)a, n) ^ (checksum((const uint8_t *)b, n) * 3u)) != sum)
    {
        flags |= FLAG_INPUT_MODIFIED;
    }
    put_result(status, flags, 0, out, n);
}

static void run_softmax(const int32_t *prm, uint32_t np, reader *rd)
{
    const int8_t *src;
    int8_t *in, *out;
    uint32_t n, flags = 0, sum, misalign;

    if (np < 6)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    n = (uint32_t)(prm[0] * prm[1]);
    misalign = (uint32_t)prm[5] & 3u;
    src = (const int8_t *)take(rd, n);
    if (rd->bad)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    in = (int8_t *)work_alloc(n, misalign);
    out = (int8_t *)work_alloc(n, (misalign + 3u) & 3u);
    if (in == NULL || out == NULL)
    {
        put_result(-101, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    memcpy(in, src, n);
    memset(out, 0x11, n);
    sum = checksum((const uint8_t *)in, n);
    arm_softmax_s8(in, prm[0], prm[1], prm[2], prm[3], prm[4], out);
    if (!guards_ok((const uint8_t *)out, n))
    {
        flags |= FLAG_OUTPUT_OVERRUN;
    }
    if (checksum((const uint8_t *)in, n) != sum)
    {
        flags |= FLAG_INPUT_MODIFIED;
    }
    put_result(0, flags, 0, out, n);
}

static void run_concat(const int32_t *prm, uint32_t np, reader *rd)
{
    const int8_t *src, *init;
    int8_t *out;
    uint32_t in_n, o_n, flags = 0;

    if (np < 6)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    in_n = (uint32_t)(prm[0] * prm[1] * prm[2] * prm[3]);
    o_n = (uint32_t)(prm[4] * prm[1] * prm[2] * prm[3]);
    src = (const int8_t *)take(rd, in_n);
    init = (const int8_t *)take(rd, o_n);
    if (rd->bad)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    out = (int8_t *)work_alloc(o_n, 1u);
    if (out == NULL)
    {
        put_result(-101, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    memcpy(out, init, o_n);
    arm_concatenation_s8_x(src,
                           (uint16_t)prm[0],
                           (uint16_t)prm[1],
                           (uint16_t)prm[2],
                           (uint16_t)prm[3],
                           out,
                           (uint16_t)prm[4],
                           (uint32_t)prm[5]);
    if (!guards_ok((const uint8_t *)out, o_n))
    {
        flags |= FLAG_OUTPUT_OVERRUN;
    }
    put_result(0, flags, 0, out, o_n);
}

static void run_bufsize(const int32_t *prm, uint32_t np)
{
    cmsis_nn_dims in_d, f_d, o_d;
    cmsis_nn_conv_params cp;
    int32_t v[9];

    if (np < 15)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    in_d.n = 1;
    in_d.h = prm[0];
    in_d.w = prm[1];
    in_d.c = prm[2];
    f_d.n = prm[8];
    f_d.h = prm[3];
    f_d.w = prm[4];
    f_d.c = prm[5];
    o_d.n = 1;
    o_d.h = prm[6];
    o_d.w = prm[7];
    o_d.c = prm[8];
    memset(&cp, 0, sizeof(cp));
    cp.stride.h = prm[9];
    cp.stride.w = prm[10];
    cp.padding.h = prm[11];
    cp.padding.w = prm[12];
    cp.dilation.h = prm[13];
    cp.dilation.w = prm[14];
    v[0] = arm_convolve_wrapper_s8_get_buffer_size(&cp, &in_d, &f_d, &o_d);
    v[1] = arm_convolve_wrapper_s8_get_buffer_size_dsp(&cp, &in_d, &f_d, &o_d);
    v[2] = arm_convolve_wrapper_s8_get_buffer_size_mve(&cp, &in_d, &f_d, &o_d);
    v[3] = arm_convolve_s8_get_buffer_size(&in_d, &f_d);
    v[4] = arm_convolve_1x1_s8_fast_get_buffer_size(&in_d);
    v[5] = arm_convolve_1_x_n_s8_get_buffer_size(&cp, &in_d, &f_d, &o_d);
    v[6] = arm_avgpool_s8_get_buffer_size(o_d.w, in_d.c);
    v[7] = arm_avgpool_s8_get_buffer_size_dsp(o_d.w, in_d.c);
    v[8] = arm_avgpool_s8_get_buffer_size_mve(o_d.w, in_d.c);
    put_result(0, 0, 0, v, sizeof(v));
}

/* The fixed-point helpers of arm_nnsupportfunctions.h (same names in both libraries) on (a, b, c) triples. */
static void run_math(const int32_t *prm, uint32_t np, reader *rd)
{
    const uint8_t *t;
    int32_t *out;
    uint32_t n, i;
    if (np < 2)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    n = (uint32_t)prm[1];
    t = (const uint8_t *)take(rd, 12u * n);
    out = (int32_t *)work_alloc(4u * n, 0);
    if (rd->bad || out == NULL)
    {
        put_result(-100, FLAG_BAD_CASE, 0, NULL, 0);
        return;
    }
    for (i = 0; i < n; i++)
    {
        const int32_t a = (int32_t)rd32(t + 12u * i);
        const int32_t b = (int32_t)rd32(t + 12u * i + 4u);
        const int32_t c = (int32_t)rd32(t + 12u * i + 8u);
        int32_t v;
        switch (prm[0])
        {
        case 0:
            v = arm_nn_requantize(a, b, c);
            break;
        case 1:
            v = arm_nn_doubling_high_mult(a, b);
            break;
        case 2:
            v = arm_nn_doubling_high_mult_no_sat(a, b);
            break;
        case 3:
            v = arm_nn_divide_by_power_of_two(a, b);
            break;
        case 4:
            v = arm_nn_exp_on_negative_values(a);
            break;
        case 5:
            v = arm_nn_one_over_one_plus_x_for_x_in_0_1(a);
            break;
        case 6:
            v = arm_nn_mult_by_power_of_two(a, b);
            break;
        default:
            v = 0;
            break;
        }
        out[i] = v;
    }
    put_result(0, 0, 0, out, 4u * n);
}

int sqzfw_driver_run(const char *in_name, const char *out_name)
{
    uint32_t len = 0, pos, count, i;
    if (sqzfw_io_read(in_name, file_buf, FILE_MAX, &len) != 0 || len < 12u)
    {
        sqzfw_io_log("driver: cannot read the case file\n");
        return 2;
    }
    if (rd32(file_buf) != 0x4B5A5153u || rd32(file_buf + 4) != 1u)
    {
        sqzfw_io_log("driver: bad case file header\n");
        return 2;
    }
    count = rd32(file_buf + 8);
    pos = 12;
    result_len = 0;
    result_overflow = 0;
    put32(0x525A5153u);
    put32(1u);
    put32(count);
    for (i = 0; i < count; i++)
    {
        uint32_t op, np, nb;
        const int32_t *prm;
        reader rd;
        if (pos + 8u > len)
        {
            sqzfw_io_log("driver: truncated case file\n");
            return 2;
        }
        op = rd32(file_buf + pos);
        np = rd32(file_buf + pos + 4);
        prm = (const int32_t *)(const void *)(file_buf + pos + 8);
        pos += 8u + 4u * np;
        if (pos + 4u > len)
        {
            sqzfw_io_log("driver: truncated case file\n");
            return 2;
        }
        nb = rd32(file_buf + pos);
        pos += 4u;
        if (pos + nb > len)
        {
            sqzfw_io_log("driver: truncated case data\n");
            return 2;
        }
        rd.p = file_buf + pos;
        rd.left = nb;
        rd.bad = 0;
        pos += (nb + 3u) & ~3u;
        work_used = 0;
        rng_state = 0x9E3779B9u ^ (i * 2654435761u);
        switch (op)
        {
        case OP_CONV_S4:
            run_conv(prm, np, &rd, 1);
            break;
        case OP_CONV:
            run_conv(prm, np, &rd, 0);
            break;
        case OP_MAXPOOL:
            run_pool(0, prm, np, &rd);
            break;
        case OP_AVGPOOL:
            run_pool(1, prm, np, &rd);
            break;
        case OP_ADD:
            run_add(prm, np, &rd);
            break;
        case OP_SOFTMAX:
            run_softmax(prm, np, &rd);
            break;
        case OP_CONCAT:
            run_concat(prm, np, &rd);
            break;
        case OP_BUFSIZE:
            run_bufsize(prm, np);
            break;
        case OP_MATH:
            run_math(prm, np, &rd);
            break;
        default:
            put_result(-103, FLAG_BAD_CASE, 0, NULL, 0);
            break;
        }
    }
    if (result_overflow)
    {
        sqzfw_io_log("driver: result buffer overflow\n");
        return 3;
    }
    if (sqzfw_io_write(out_name, result_buf, result_len) != 0)
    {
        sqzfw_io_log("driver: cannot write the result file\n");
        return 2;
    }
    return 0;
}

#if !defined(SQZFW_TARGET)
    #include <stdio.h>

int sqzfw_io_read(const char *name, uint8_t *buf, uint32_t max, uint32_t *len)
{
    FILE *f = fopen(name, "rb");
    size_t n;
    if (f == NULL)
    {
        return -1;
    }
    n = fread(buf, 1, max, f);
    fclose(f);
    *len = (uint32_t)n;
    return n == max ? -1 : 0;
}

int sqzfw_io_write(const char *name, const uint8_t *buf, uint32_t len)
{
    FILE *f = fopen(name, "wb");
    size_t n;
    if (f == NULL)
    {
        return -1;
    }
    n = fwrite(buf, 1, len, f);
    return (fclose(f) == 0 && n == len) ? 0 : -1;
}

void sqzfw_io_log(const char *msg)
{
    fputs(msg, stderr);
}

int main(int argc, char **argv)
{
    if (argc != 3)
    {
        fputs("usage: kernel_driver CASES RESULTS\n", stderr);
        return 2;
    }
    return sqzfw_driver_run(argv[1], argv[2]);
}
#endif
