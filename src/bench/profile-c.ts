/**
 * A bench-only C file for a generated project: linked with -Wl,--wrap=<kernel> for every kernel the model calls, it
 * times each call with SysTick (exact instructions under QEMU's -icount shift=0), sums the time and MACs per layer
 * type, and prints one `profile <type> <calls> <ticks> <macs>` line per type just before the top 5 is reported
 * (after the inference's own `ticks` measurement has ended). The firmware's line parser ignores these lines.
 * Works with sqzfw's kernels and Arm's CMSIS-NN alike: only the public entry points are wrapped (the s8 and s4 conv
 * wrappers count in the same layer types).
 */

/** Layer types, in the order the firmware prints them. */
export const PROFILE_TYPES = ['conv1', '1x1', '3x3', 'pools', 'concat', 'softmax', 'other'] as const;
export type ProfileType = (typeof PROFILE_TYPES)[number];

/** Functions wrapped by the linker (each has a __wrap_ twin in PROFILE_C). */
export const PROFILED_FUNCTIONS = [
  'arm_convolve_wrapper_s8',
  'arm_convolve_wrapper_s4',
  'arm_max_pool_s8',
  'arm_avgpool_s8',
  'sqzfw_global_avgpool_requant_s8',
  'arm_concatenation_s8_x',
  'arm_softmax_s8',
  'arm_elementwise_add_s8',
  'sqzfw_report_top5',
] as const;

export const PROFILE_LDFLAGS = PROFILED_FUNCTIONS.map((f) => `-Wl,--wrap=${f}`).join(' ');

export const PROFILE_C = `/* sqzfw bench: per-layer-type instruction counts (bench-only file, see src/bench/profile-c.ts) */
#include "arm_nnfunctions.h"
#include "sqzfw_ops.h"
#include "sqzfw_report.h"
#include "sqzfw_rt.h"

enum { P_CONV1, P_1X1, P_3X3, P_POOLS, P_CONCAT, P_SOFTMAX, P_OTHER, P_N };
static const char *const p_names[P_N] = { ${PROFILE_TYPES.map((t) => `"${t}"`).join(', ')} };
static uint64_t p_ticks[P_N];
static uint64_t p_macs[P_N];
static uint32_t p_calls[P_N];

#define SPAN(kind, macs, call)                          \\
    do {                                                \\
        const uint64_t t0_ = sqzfw_rt_ticks();          \\
        call;                                           \\
        p_ticks[kind] += sqzfw_rt_ticks() - t0_;        \\
        p_macs[kind] += (macs);                         \\
        p_calls[kind]++;                                \\
    } while (0)

/* A convolution's layer type and multiply-accumulates (the s8 and s4 wrappers count alike). */
static int conv_kind(const cmsis_nn_dims *input_dims, const cmsis_nn_dims *filter_dims)
{
    return (filter_dims->w == 1 && filter_dims->h == 1) ? P_1X1 : (input_dims->c <= 4 ? P_CONV1 : P_3X3);
}

static uint64_t conv_macs(const cmsis_nn_dims *filter_dims, const cmsis_nn_dims *output_dims)
{
    return (uint64_t)output_dims->n * (uint64_t)output_dims->h * (uint64_t)output_dims->w * (uint64_t)output_dims->c *
        (uint64_t)filter_dims->h * (uint64_t)filter_dims->w * (uint64_t)filter_dims->c;
}

arm_cmsis_nn_status __real_arm_convolve_wrapper_s8(const cmsis_nn_context *ctx, const cmsis_nn_conv_params *conv_params,
    const cmsis_nn_per_channel_quant_params *quant_params, const cmsis_nn_dims *input_dims, const int8_t *input_data,
    const cmsis_nn_dims *filter_dims, const int8_t *filter_data, const cmsis_nn_dims *bias_dims, const int32_t *bias_data,
    const cmsis_nn_dims *output_dims, int8_t *output_data);
arm_cmsis_nn_status __wrap_arm_convolve_wrapper_s8(const cmsis_nn_context *ctx, const cmsis_nn_conv_params *conv_params,
    const cmsis_nn_per_channel_quant_params *quant_params, const cmsis_nn_dims *input_dims, const int8_t *input_data,
    const cmsis_nn_dims *filter_dims, const int8_t *filter_data, const cmsis_nn_dims *bias_dims, const int32_t *bias_data,
    const cmsis_nn_dims *output_dims, int8_t *output_data)
{
    arm_cmsis_nn_status st;
    SPAN(conv_kind(input_dims, filter_dims), conv_macs(filter_dims, output_dims),
         st = __real_arm_convolve_wrapper_s8(ctx, conv_params, quant_params, input_dims, input_data, filter_dims,
                                             filter_data, bias_dims, bias_data, output_dims, output_data));
    return st;
}

/* weak: kernel trees without the int4 functions link too (the wrapper then never runs) */
__attribute__((weak)) arm_cmsis_nn_status __real_arm_convolve_wrapper_s4(const cmsis_nn_context *ctx,
    const cmsis_nn_conv_params *conv_params, const cmsis_nn_per_channel_quant_params *quant_params,
    const cmsis_nn_dims *input_dims, const int8_t *input_data, const cmsis_nn_dims *filter_dims, const int8_t *filter_data,
    const cmsis_nn_dims *bias_dims, const int32_t *bias_data, const cmsis_nn_dims *output_dims, int8_t *output_data);
arm_cmsis_nn_status __wrap_arm_convolve_wrapper_s4(const cmsis_nn_context *ctx, const cmsis_nn_conv_params *conv_params,
    const cmsis_nn_per_channel_quant_params *quant_params, const cmsis_nn_dims *input_dims, const int8_t *input_data,
    const cmsis_nn_dims *filter_dims, const int8_t *filter_data, const cmsis_nn_dims *bias_dims, const int32_t *bias_data,
    const cmsis_nn_dims *output_dims, int8_t *output_data)
{
    arm_cmsis_nn_status st;
    SPAN(conv_kind(input_dims, filter_dims), conv_macs(filter_dims, output_dims),
         st = __real_arm_convolve_wrapper_s4(ctx, conv_params, quant_params, input_dims, input_data, filter_dims,
                                             filter_data, bias_dims, bias_data, output_dims, output_data));
    return st;
}

arm_cmsis_nn_status __real_arm_max_pool_s8(const cmsis_nn_context *ctx, const cmsis_nn_pool_params *pool_params,
    const cmsis_nn_dims *input_dims, const int8_t *input_data, const cmsis_nn_dims *filter_dims,
    const cmsis_nn_dims *output_dims, int8_t *output_data);
arm_cmsis_nn_status __wrap_arm_max_pool_s8(const cmsis_nn_context *ctx, const cmsis_nn_pool_params *pool_params,
    const cmsis_nn_dims *input_dims, const int8_t *input_data, const cmsis_nn_dims *filter_dims,
    const cmsis_nn_dims *output_dims, int8_t *output_data)
{
    arm_cmsis_nn_status st;
    SPAN(P_POOLS, 0, st = __real_arm_max_pool_s8(ctx, pool_params, input_dims, input_data, filter_dims, output_dims, output_data));
    return st;
}

arm_cmsis_nn_status __real_arm_avgpool_s8(const cmsis_nn_context *ctx, const cmsis_nn_pool_params *pool_params,
    const cmsis_nn_dims *input_dims, const int8_t *input_data, const cmsis_nn_dims *filter_dims,
    const cmsis_nn_dims *output_dims, int8_t *output_data);
arm_cmsis_nn_status __wrap_arm_avgpool_s8(const cmsis_nn_context *ctx, const cmsis_nn_pool_params *pool_params,
    const cmsis_nn_dims *input_dims, const int8_t *input_data, const cmsis_nn_dims *filter_dims,
    const cmsis_nn_dims *output_dims, int8_t *output_data)
{
    arm_cmsis_nn_status st;
    SPAN(P_POOLS, 0, st = __real_arm_avgpool_s8(ctx, pool_params, input_dims, input_data, filter_dims, output_dims, output_data));
    return st;
}

arm_cmsis_nn_status __real_sqzfw_global_avgpool_requant_s8(const sqzfw_gap_params *params, const cmsis_nn_dims *input_dims,
    const int8_t *input_data, int8_t *output_data);
arm_cmsis_nn_status __wrap_sqzfw_global_avgpool_requant_s8(const sqzfw_gap_params *params, const cmsis_nn_dims *input_dims,
    const int8_t *input_data, int8_t *output_data)
{
    arm_cmsis_nn_status st;
    SPAN(P_POOLS, 0, st = __real_sqzfw_global_avgpool_requant_s8(params, input_dims, input_data, output_data));
    return st;
}

void __real_arm_concatenation_s8_x(const int8_t *input, const uint16_t input_x, const uint16_t input_y,
    const uint16_t input_z, const uint16_t input_w, int8_t *output, const uint16_t output_x, const uint32_t offset_x);
void __wrap_arm_concatenation_s8_x(const int8_t *input, const uint16_t input_x, const uint16_t input_y,
    const uint16_t input_z, const uint16_t input_w, int8_t *output, const uint16_t output_x, const uint32_t offset_x)
{
    SPAN(P_CONCAT, 0, __real_arm_concatenation_s8_x(input, input_x, input_y, input_z, input_w, output, output_x, offset_x));
}

void __real_arm_softmax_s8(const int8_t *input, const int32_t num_rows, const int32_t row_size, const int32_t mult,
    const int32_t shift, const int32_t diff_min, int8_t *output);
void __wrap_arm_softmax_s8(const int8_t *input, const int32_t num_rows, const int32_t row_size, const int32_t mult,
    const int32_t shift, const int32_t diff_min, int8_t *output)
{
    SPAN(P_SOFTMAX, 0, __real_arm_softmax_s8(input, num_rows, row_size, mult, shift, diff_min, output));
}

arm_cmsis_nn_status __real_arm_elementwise_add_s8(const int8_t *in1, const int8_t *in2, const int32_t in1_offset,
    const int32_t in1_mult, const int32_t in1_shift, const int32_t in2_offset, const int32_t in2_mult, const int32_t in2_shift,
    const int32_t left_shift, int8_t *out, const int32_t out_offset, const int32_t out_mult, const int32_t out_shift,
    const int32_t act_min, const int32_t act_max, const int32_t block_size);
arm_cmsis_nn_status __wrap_arm_elementwise_add_s8(const int8_t *in1, const int8_t *in2, const int32_t in1_offset,
    const int32_t in1_mult, const int32_t in1_shift, const int32_t in2_offset, const int32_t in2_mult, const int32_t in2_shift,
    const int32_t left_shift, int8_t *out, const int32_t out_offset, const int32_t out_mult, const int32_t out_shift,
    const int32_t act_min, const int32_t act_max, const int32_t block_size)
{
    arm_cmsis_nn_status st;
    SPAN(P_OTHER, 0, st = __real_arm_elementwise_add_s8(in1, in2, in1_offset, in1_mult, in1_shift, in2_offset, in2_mult,
                                                        in2_shift, left_shift, out, out_offset, out_mult, out_shift, act_min,
                                                        act_max, block_size));
    return st;
}

void __real_sqzfw_report_top5(const int8_t *scores, int32_t count, const char *const *labels, int32_t label_count);
void __wrap_sqzfw_report_top5(const int8_t *scores, int32_t count, const char *const *labels, int32_t label_count)
{
    int k;
    for (k = 0; k < P_N; k++) {
        sqzfw_rt_puts("profile ");
        sqzfw_rt_puts(p_names[k]);
        sqzfw_rt_puts(" ");
        sqzfw_put_u64(p_calls[k]);
        sqzfw_rt_puts(" ");
        sqzfw_put_u64(p_ticks[k]);
        sqzfw_rt_puts(" ");
        sqzfw_put_u64(p_macs[k]);
        sqzfw_rt_puts("\\n");
    }
    __real_sqzfw_report_top5(scores, count, labels, label_count);
}
`;

export interface ProfileLine {
  type: ProfileType;
  calls: number;
  ticks: number;
  macs: number;
}

/** The profile lines of a firmware's output, by type. */
export function parseProfile(stdout: string): Map<ProfileType, ProfileLine> {
  const out = new Map<ProfileType, ProfileLine>();
  for (const line of stdout.replace(/\r/g, '').split('\n')) {
    const m = /^profile (\S+) (\d+) (\d+) (\d+)$/.exec(line.trim());
    if (!m || !(PROFILE_TYPES as readonly string[]).includes(m[1]!)) continue;
    out.set(m[1] as ProfileType, { type: m[1] as ProfileType, calls: Number(m[2]), ticks: Number(m[3]), macs: Number(m[4]) });
  }
  return out;
}
