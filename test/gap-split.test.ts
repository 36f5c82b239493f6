/**
 * The classifier pools of a conv split between int8 and int4 channels (firmware/runtime, host gcc, -Werror):
 * sqzfw_global_avgpool_requant_split_s8 and sqzfw_gap_accumulate_order_s8 read bands laid out as
 * [pixels x n8][pixels x (c - n8)] in the order of a permutation, and must give what the golden
 * globalAvgPoolRequantS8 / gapAccumulateS8 give on the same values in class order.
 */
import { describe, expect, test } from 'vitest';
import { gapAccumulateS8 } from '../src/golden/gap-fused.js';
import { globalAvgPoolRequantS8, quantizeMultiplier } from '../src/golden/kernels.js';
import { mulberry32 } from '../src/util/random.js';
import { hostCaseDriver } from './helpers/host-c.js';

/* Case file: per case 10 int32 (h w c n8 chunk_pixels input_offset output_offset mult shift act_min/act_max packed
 * as (act_min & 0xffff) | act_max << 16), c uint16 order, h*w*c int8 split input. Output: per case the pool's status
 * and c bytes (0x5a where unwritten) + 4 guard bytes, then the accumulation's status (worst of its calls) and c
 * int32 sums (each starting from 0x5a5a5a5a). */
const DRIVER = `
#include <stdlib.h>
#include <string.h>
#include "case_file.h"
#include "sqzfw_ops.h"
#include "sqzfw_ops_gap.h"

int run_case(FILE *fi, FILE *fo)
{
    int32_t hdr[10];
    if (fread(hdr, sizeof(int32_t), 10, fi) != 10) return 0;
    const int32_t h = hdr[0], w = hdr[1], c = hdr[2], n8 = hdr[3], chunk = hdr[4];
    const size_t n = (size_t)h * (size_t)w * (size_t)c;
    uint16_t *order = malloc((size_t)c * sizeof(uint16_t) + 2);
    int8_t *in = malloc(n + 1);
    int8_t *out = malloc((size_t)c + 4);
    int32_t *sum = malloc((size_t)c * sizeof(int32_t) + 4);
    int32_t st;
    int32_t acc_st = 0;
    int32_t start;
    const int32_t count = h * w;
    if (!order || !in || !out || !sum || fread(order, sizeof(uint16_t), (size_t)c, fi) != (size_t)c || fread(in, 1, n, fi) != n) return 3;
    memset(out, 0x5a, (size_t)c + 4);
    memset(sum, 0x5a, (size_t)c * sizeof(int32_t));
    const sqzfw_gap_params params = { hdr[5], hdr[6], { hdr[7], hdr[8] }, { (int16_t)(hdr[9] & 0xffff), hdr[9] >> 16 } };
    const cmsis_nn_dims dims = { 1, h, w, c };
    st = (int32_t)sqzfw_global_avgpool_requant_split_s8(&params, &dims, in, chunk, n8, order, out);
    /* the fused form: per band, its s8 block then its s4 block */
    for (start = 0; start < count; start += chunk)
    {
        const int32_t p = (count - start < chunk) ? count - start : chunk;
        const int8_t *band = in + start * c;
        int32_t s1 = ARM_CMSIS_NN_SUCCESS;
        int32_t s2 = ARM_CMSIS_NN_SUCCESS;
        if (n8 > 0) s1 = (int32_t)sqzfw_gap_accumulate_order_s8(band, p, n8, order, hdr[5], start == 0, sum);
        if (c - n8 > 0) s2 = (int32_t)sqzfw_gap_accumulate_order_s8(band + p * n8, p, c - n8, order + n8, hdr[5], start == 0, sum);
        if (s1 != 0) acc_st = s1;
        if (s2 != 0) acc_st = s2;
    }
    fwrite(&st, sizeof(int32_t), 1, fo);
    fwrite(out, 1, (size_t)c + 4, fo);
    fwrite(&acc_st, sizeof(int32_t), 1, fo);
    fwrite(sum, sizeof(int32_t), (size_t)c, fo);
    free(order);
    free(in);
    free(out);
    free(sum);
    return 1;
}
`;

interface Case {
  /** Class order, h x w x c. */
  x: Int8Array;
  h: number;
  w: number;
  c: number;
  n8: number;
  chunk: number;
  order: number[];
  inputOffset: number;
  outputOffset: number;
  mult: number;
  shift: number;
  actMin: number;
  actMax: number;
}

/** The bands as the split conv writes them: per band of `chunk` pixels, positions order[0..n8) then order[n8..c). */
function splitLayout(k: Case): Int8Array {
  const out = new Int8Array(k.x.length);
  const count = k.h * k.w;
  let at = 0;
  for (let start = 0; start < count; start += k.chunk) {
    const p = Math.min(k.chunk, count - start);
    for (const [lo, hi] of [[0, k.n8], [k.n8, k.c]]) {
      for (let px = start; px < start + p; px++) for (let i = lo; i < hi; i++) out[at++] = k.x[px * k.c + k.order[i]];
    }
  }
  return out;
}

function makeCases(n: number): Case[] {
  const r = mulberry32(20261203);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    const h = int(1, 13);
    const w = int(1, 13);
    const c = i % 10 === 0 ? 1000 : int(1, 40);
    // every split: all int8, all int4, and between
    const n8 = i % 9 === 0 ? 0 : i % 9 === 1 ? c : int(0, c);
    const count = h * w;
    const chunk = i % 5 === 0 ? count : int(1, count);
    const order = Array.from({ length: c }, (_, j) => j);
    for (let j = c - 1; j > 0; j--) {
      const t = int(0, j);
      [order[j], order[t]] = [order[t], order[j]];
    }
    const q = quantizeMultiplier((2 ** (r() * 8 - 4)) / count);
    const x = Int8Array.from({ length: count * c }, () => int(-128, 127));
    const lo = int(-128, 0);
    cases.push({ x, h, w, c, n8, chunk, order, inputOffset: int(-128, 128), outputOffset: int(-128, 127), mult: q.mult, shift: q.shift, actMin: lo, actMax: int(lo, 127) });
  }
  return cases;
}

const CASES = makeCases(200);
const runDriver = hostCaseDriver('gap-split', DRIVER, ['sqzfw_ops.c', 'sqzfw_ops_gap.c']);

describe('the pools of a split classifier conv (firmware/runtime) equal the golden pools in class order', () => {
  test(`${CASES.length} random cases (h,w 1..13, c 1..1000, any n8, any band size, random class order)`, () => {
    const parts: Buffer[] = [];
    for (const k of CASES) {
      const hdr = Int32Array.from([k.h, k.w, k.c, k.n8, k.chunk, k.inputOffset, k.outputOffset, k.mult, k.shift, (k.actMin & 0xffff) | (k.actMax << 16)]);
      const order = Uint16Array.from(k.order);
      const input = splitLayout(k);
      parts.push(Buffer.from(hdr.buffer), Buffer.from(order.buffer), Buffer.from(input.buffer));
    }
    const out = runDriver(Buffer.concat(parts));
    let at = 0;
    const failures: string[] = [];
    for (const [i, k] of CASES.entries()) {
      const what = `case ${i} (${k.h}x${k.w}x${k.c}, n8 ${k.n8}, bands of ${k.chunk} pixels)`;
      const status = out.readInt32LE(at);
      const got = new Int8Array(out.buffer, out.byteOffset + at + 4, k.c + 4).slice();
      at += 4 + k.c + 4;
      const accStatus = out.readInt32LE(at);
      const sums = Int32Array.from({ length: k.c }, (_, j) => out.readInt32LE(at + 4 + 4 * j));
      at += 4 + 4 * k.c;
      const want = globalAvgPoolRequantS8({ input: k.x, h: k.h, w: k.w, c: k.c, inputOffset: k.inputOffset, outputOffset: k.outputOffset, mult: k.mult, shift: k.shift, actMin: k.actMin, actMax: k.actMax });
      const wantSums = new Int32Array(k.c);
      gapAccumulateS8({ input: k.x, pixels: k.h * k.w, c: k.c, inputOffset: k.inputOffset, sum: wantSums, first: true });
      if (status !== 0 || accStatus !== 0) failures.push(`${what}: status ${status} / ${accStatus}`);
      if (got.subarray(k.c).some((b) => b !== 0x5a)) failures.push(`${what}: wrote past the output`);
      const d = want.findIndex((v, j) => v !== got[j]);
      if (d >= 0) failures.push(`${what}: class ${d}: C ${got[d]}, golden ${want[d]}`);
      const s = wantSums.findIndex((v, j) => v !== sums[j]);
      if (s >= 0) failures.push(`${what}: sum of class ${s}: C ${sums[s]}, golden ${wantSums[s]}`);
    }
    expect(at).toBe(out.length);
    expect(failures.slice(0, 10)).toEqual([]);
  });
});
