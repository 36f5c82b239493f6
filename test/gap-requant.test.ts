/**
 * firmware/runtime/sqzfw_ops.c sqzfw_global_avgpool_requant_s8 against the golden globalAvgPoolRequantS8, byte for
 * byte, on random cases (host gcc, -Werror). The driver reads all cases from one file and writes every output.
 */
import { mulberry32 } from '../src/util/random.js';
import { describe, expect, test } from 'vitest';
import { globalAvgPoolRequantS8, quantizeMultiplier, type GlobalAvgPoolRequantArgs } from '../src/golden/kernels.js';
import { hostCaseDriver } from './helpers/host-c.js';

/* Case file: per case 10 int32 (h w c input_offset output_offset mult shift act_min act_max expect_ok), then h*w*c
 * int8. Output file: per case the int32 status, then c bytes (0x5a where nothing was written), then 4 guard bytes. */
const DRIVER = `
#include <stdlib.h>
#include <string.h>
#include "case_file.h"
#include "sqzfw_ops.h"

int run_case(FILE *fi, FILE *fo)
{
    int32_t hdr[10];
    if (fread(hdr, sizeof(int32_t), 10, fi) != 10) return 0;
    const size_t n = (size_t)hdr[0] * (size_t)hdr[1] * (size_t)hdr[2];
    const size_t c = (size_t)hdr[2];
    int8_t *in = malloc(n + 1);
    int8_t *copy = malloc(n + 1);
    int8_t *out = malloc(c + 4);
    int32_t st;
    if (!in || !copy || !out || fread(in, 1, n, fi) != n) return 3;
    memcpy(copy, in, n);
    memset(out, 0x5a, c + 4);
    const sqzfw_gap_params params = { hdr[3], hdr[4], { hdr[5], hdr[6] }, { hdr[7], hdr[8] } };
    const cmsis_nn_dims dims = { 1, hdr[0], hdr[1], hdr[2] };
    st = (int32_t)sqzfw_global_avgpool_requant_s8(&params, &dims, in, out);
    if (memcmp(in, copy, n) != 0) st = 99; /* input modified */
    fwrite(&st, sizeof(int32_t), 1, fo);
    fwrite(out, 1, c + 4, fo);
    free(in);
    free(copy);
    free(out);
    return 1;
}
`;

interface Case extends GlobalAvgPoolRequantArgs {
  ok: boolean;
}

function makeCases(count: number): Case[] {
  const r = mulberry32(20261125);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: T[]): T => xs[int(0, xs.length - 1)];
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const h = i < 4 ? [1, 15, 13, 1][i] : int(1, 15);
    const w = i < 4 ? [1, 15, 13, 15][i] : int(1, 15);
    const c = i % 50 === 0 ? 1000 : i % 7 === 0 ? int(1, 1000) : int(1, 64);
    const inZp = int(-128, 127);
    const kind = i % 6;
    let mult: number;
    let shift: number;
    if (kind === 0) {
      // what the quantizer produces: in_scale / (count * out_scale) for random scales
      const q = quantizeMultiplier((2 ** (r() * 8 - 4)) / (h * w));
      mult = q.mult;
      shift = q.shift;
    } else if (kind === 1) {
      mult = pick([0, 1, 2, 1 << 30, 2147483647, 2147483646, (1 << 30) + 1]);
      shift = pick([-31, -30, -1, 0, 1, 5, -16]);
    } else if (kind === 2) {
      mult = int(1 << 30, 2147483647);
      shift = int(1, 6); // small positive: the pre-shift can wrap for large sums
    } else {
      mult = int(1 << 30, 2147483647);
      shift = int(-31, 0);
    }
    const outZp = int(-128, 127);
    const lo = pick([-128, -128, outZp, int(-128, 0)]);
    const hi = pick([127, 127, int(lo, 127)]);
    const input = new Int8Array(h * w * c);
    const style = i % 4;
    for (let k = 0; k < input.length; k++) {
      input[k] = style === 0 ? pick([-128, 127]) : style === 1 ? int(inZp < 127 ? inZp : -128, 127) : int(-128, 127);
    }
    cases.push({ input, h, w, c, inputOffset: -inZp, outputOffset: outZp, mult, shift, actMin: lo, actMax: hi, ok: true });
  }
  // argument errors: the C returns ARM_CMSIS_NN_ARG_ERROR and writes nothing, the golden throws
  const bad = (h: number, w: number, c: number, inputOffset: number): Case => ({
    input: new Int8Array(Math.max(0, h * w * c)), h, w, c, inputOffset, outputOffset: 0, mult: 1 << 30, shift: -1, actMin: -128, actMax: 127, ok: false,
  });
  cases.push(bad(0, 3, 4, 0), bad(3, 0, 4, 0), bad(3, 3, 0, 0), bad(2, 2, 4, 129), bad(2, 2, 4, -129));
  return cases;
}

const CASES = makeCases(400);
const runDriver = hostCaseDriver('gap', DRIVER, ['sqzfw_ops.c']);

describe('sqzfw_global_avgpool_requant_s8 (firmware/runtime) equals the golden globalAvgPoolRequantS8', () => {
  test(`${CASES.length} random cases (h,w 1..15, c 1..1000, all zero points, extreme multipliers and shifts, clamps, argument errors)`, () => {
    const parts: Buffer[] = [];
    for (const k of CASES) {
      const hdr = Int32Array.from([k.h, k.w, k.c, k.inputOffset, k.outputOffset, k.mult, k.shift, k.actMin, k.actMax, k.ok ? 1 : 0]);
      parts.push(Buffer.from(hdr.buffer), Buffer.from(k.input.buffer, k.input.byteOffset, k.input.length));
    }
    const out = runDriver(Buffer.concat(parts));
    let at = 0;
    const failures: string[] = [];
    for (const [i, k] of CASES.entries()) {
      const c = Math.max(0, k.c);
      const status = out.readInt32LE(at);
      const got = new Int8Array(out.buffer, out.byteOffset + at + 4, c + 4).slice();
      at += 4 + c + 4;
      const what = `case ${i} (${k.h}x${k.w}x${k.c} off ${k.inputOffset}/${k.outputOffset} mult ${k.mult} shift ${k.shift} clamp ${k.actMin}..${k.actMax})`;
      if (got.subarray(c).some((b) => b !== 0x5a)) failures.push(`${what}: wrote past the output`);
      if (!k.ok) {
        expect(() => globalAvgPoolRequantS8(k)).toThrow();
        if (status !== -1 || got.some((b) => b !== 0x5a)) failures.push(`${what}: expected ARM_CMSIS_NN_ARG_ERROR and no output, got status ${status}`);
        continue;
      }
      if (status !== 0) {
        failures.push(`${what}: status ${status}`);
        continue;
      }
      const want = globalAvgPoolRequantS8(k);
      const d = want.findIndex((v, j) => v !== got[j]);
      if (d >= 0) failures.push(`${what}: channel ${d}: C ${got[d]}, golden ${want[d]}`);
    }
    expect(at).toBe(out.length);
    expect(failures.slice(0, 10)).toEqual([]);
  });

  test('rounds like arm_nn_requantize, not like arm_avgpool_s8: ties of the high multiply go up', () => {
    const q = quantizeMultiplier(1 / 2); // in_scale == out_scale, count 2: mult 2^30, shift 0
    const mean = (a: number, b: number): number =>
      globalAvgPoolRequantS8({ input: Int8Array.from([a, b]), h: 1, w: 2, c: 1, inputOffset: 0, outputOffset: 0, mult: q.mult, shift: q.shift, actMin: -128, actMax: 127 })[0];
    expect(mean(1, 2)).toBe(2); // 1.5 -> 2
    expect(mean(-1, -2)).toBe(-1); // -1.5 -> -1 (arm_avgpool_s8 would give -2)
    expect(mean(-1, 1)).toBe(0);
    expect(mean(127, 127)).toBe(127);
  });
});
