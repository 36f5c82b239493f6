/**
 * firmware/runtime/sqzfw_ops.c sqzfw_max_s8 (the running max of row pools) against the golden maxS8, byte for byte,
 * on random cases (host gcc, -Werror): into a separate buffer, in place over the first and over the second input,
 * and a negative size refused with nothing written.
 */
import { describe, expect, test } from 'vitest';
import { maxS8 } from '../src/golden/kernels.js';
import { mulberry32 } from '../src/util/random.js';
import { hostCaseDriver } from './helpers/host-c.js';

/* Case file: per case the int32 size, then size bytes of a and of b. Output file: per case three int32 statuses and
 * three runs of size + 4 bytes: out separate (0x5a-filled before, 4 guard bytes), out == a, out == b. */
const DRIVER = `
#include <stdlib.h>
#include <string.h>
#include "case_file.h"
#include "sqzfw_ops.h"

int run_case(FILE *fi, FILE *fo)
{
    int32_t size;
    if (fread(&size, sizeof(int32_t), 1, fi) != 1) return 0;
    const size_t n = size > 0 ? (size_t)size : 0;
    int8_t *a = malloc(n + 4);
    int8_t *b = malloc(n + 4);
    int8_t *out = malloc(n + 4);
    int8_t *x = malloc(n + 4);
    int32_t st[3];
    if (!a || !b || !out || !x || fread(a, 1, n, fi) != n || fread(b, 1, n, fi) != n) return 3;
    memset(out, 0x5a, n + 4);
    st[0] = (int32_t)sqzfw_max_s8(a, b, out, size);
    fwrite(&st[0], sizeof(int32_t), 1, fo);
    fwrite(out, 1, n + 4, fo);
    memcpy(x, a, n);
    memset(x + n, 0x5a, 4);
    st[1] = (int32_t)sqzfw_max_s8(x, b, x, size);
    fwrite(&st[1], sizeof(int32_t), 1, fo);
    fwrite(x, 1, n + 4, fo);
    memcpy(x, b, n);
    memset(x + n, 0x5a, 4);
    st[2] = (int32_t)sqzfw_max_s8(a, x, x, size);
    fwrite(&st[2], sizeof(int32_t), 1, fo);
    fwrite(x, 1, n + 4, fo);
    free(a);
    free(b);
    free(out);
    free(x);
    return 1;
}
`;

const runDriver = hostCaseDriver('max', DRIVER, ['sqzfw_ops.c']);

describe('sqzfw_max_s8', () => {
  test('equals the golden maxS8 into a separate buffer and in place over either input; a negative size writes nothing', () => {
    const r = mulberry32(20261203);
    const sizes = [0, 1, 3, 4, 5, 3520, -1, ...Array.from({ length: 60 }, () => Math.floor(r() * 300))];
    const cases = sizes.map((size) => {
      const n = Math.max(0, size);
      const a = Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
      // Some equal bytes and the extremes, where >= and > could differ.
      const b = Int8Array.from(a, (v, i) => (i % 5 === 0 ? v : i % 7 === 0 ? (i % 2 ? 127 : -128) : Math.floor(r() * 256) - 128));
      return { size, a, b };
    });
    const parts: Buffer[] = [];
    for (const c of cases) {
      const head = Buffer.alloc(4);
      head.writeInt32LE(c.size);
      parts.push(head, Buffer.from(c.a.buffer), Buffer.from(c.b.buffer));
    }
    const out = runDriver(Buffer.concat(parts));
    let at = 0;
    let maxed = 0;
    for (const c of cases) {
      const n = Math.max(0, c.size);
      const want = maxS8(c.a, c.b);
      const starts: Int8Array[] = [new Int8Array(n).fill(0x5a), c.a, c.b];
      for (let k = 0; k < 3; k++) {
        const st = out.readInt32LE(at);
        const got = new Int8Array(out.buffer, out.byteOffset + at + 4, n + 4);
        at += 8 + n;
        if (c.size < 0) {
          expect(st, `size ${c.size}`).toBe(-1); // ARM_CMSIS_NN_ARG_ERROR
          continue;
        }
        expect(st, `size ${c.size}, way ${k}`).toBe(0);
        expect(Array.from(got.subarray(0, n)), `size ${c.size}, way ${k}`).toEqual(Array.from(want));
        expect(Array.from(got.subarray(n)), `guard bytes, size ${c.size}, way ${k}`).toEqual([0x5a, 0x5a, 0x5a, 0x5a]);
        if (n > 0 && Array.from(want).some((v, i) => v !== starts[k][i])) maxed++;
      }
    }
    expect(at).toBe(out.length);
    expect(maxed).toBeGreaterThan(150);
  });
});
