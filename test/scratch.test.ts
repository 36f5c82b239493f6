/**
 * src/planner/scratch.ts (the TypeScript port of the CMSIS-NN v7.0.0 *_get_buffer_size rules) against
 * the C functions of firmware/cmsis-nn in both builds (plain C and DSP), and known SqueezeNet values.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bufSizeCases, cleanupTempDirs, describeCase, haveTool, makeTempDir, nnSources, NN_DIR, REPO, runHostDriver, type BufSizeCase } from './c/cases.js';
import {
  avgPoolScratchBytes,
  convScratchBytes,
  convScratchBytesMve,
  layerConvScratchBytes,
  maxPoolScratchBytes,
  type KernelPath,
} from '../src/planner/scratch.js';
import { required } from './helpers/require.js';

const execFileP = promisify(execFile);

afterAll(() => cleanupTempDirs());

const args = (c: BufSizeCase) => ({
  inDims: c.inDims,
  kernel: c.kernel,
  stride: c.stride,
  padTop: c.padTop,
  padLeft: c.padLeft,
  outDims: c.outDims,
});

describe('scratch rules (pure)', () => {
  const sq = (h: number, w: number, c: number) => ({ h, w, c });
  test('SqueezeNet layers', () => {
    // conv1 of v1.1: 3x3x3 -> 27 columns, rounded to 28, two int16 columns
    const conv1 = { inDims: sq(224, 224, 3), kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], padTop: 0, padLeft: 0, outDims: sq(111, 111, 64) };
    expect(convScratchBytes(conv1, 'scalar')).toBe(112);
    expect(convScratchBytes(conv1, 'dsp')).toBe(112);
    // fire expand3x3 with 16 / 64 squeeze channels
    const e3 = (c: number) => ({ inDims: sq(55, 55, c), kernel: [3, 3] as [number, number], stride: [1, 1] as [number, number], padTop: 1, padLeft: 1, outDims: sq(55, 55, 4 * c) });
    expect(convScratchBytes(e3(16), 'dsp')).toBe(576);
    expect(convScratchBytes(e3(64), 'dsp')).toBe(2304);
    // squeeze / expand1x1: no scratch; a row band of a padded 3x3 conv needs the same as the whole
    const s1 = { inDims: sq(55, 55, 128), kernel: [1, 1] as [number, number], stride: [1, 1] as [number, number], padTop: 0, padLeft: 0, outDims: sq(55, 55, 16) };
    expect(convScratchBytes(s1, 'scalar')).toBe(0);
    expect(convScratchBytes(s1, 'dsp')).toBe(0);
    expect(convScratchBytes({ ...e3(16), inDims: sq(5, 55, 16), padTop: 0, outDims: sq(4, 55, 64) }, 'dsp')).toBe(576);
    // global average pool over 1000 classes
    expect(avgPoolScratchBytes(1, 1000, 'dsp')).toBe(4000);
    expect(avgPoolScratchBytes(1, 1000, 'scalar')).toBe(0);
    expect(maxPoolScratchBytes()).toBe(0);
    // Arm's MVE build (Cortex-M55): 4 int8 columns in whole 16-byte vectors
    expect(convScratchBytesMve(conv1)).toBe(128);
    expect(convScratchBytesMve(s1)).toBe(0);
  });
  test('a conv with int8 and int4 channels: one scratch buffer for both calls, the larger rule', () => {
    const conv1 = { inDims: sq(224, 224, 3), kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], padTop: 0, padLeft: 0, outDims: sq(111, 111, 64) };
    // s8: 27 columns rounded to 28 (112 bytes); s4: not rounded (108 bytes)
    expect(layerConvScratchBytes({}, conv1, 'dsp')).toBe(112);
    expect(layerConvScratchBytes({ weightBits: 4 }, conv1, 'dsp')).toBe(108);
    expect(layerConvScratchBytes({ weightBits: 4, int8Channels: [1, 5] }, conv1, 'dsp')).toBe(112);
    // 3x3 over 4 channels: both rules give 36 columns, 144 bytes
    expect(layerConvScratchBytes({ weightBits: 4, int8Channels: [0] }, { ...conv1, inDims: sq(224, 224, 4) }, 'scalar')).toBe(144);
  });
});

describe.skipIf(!required('gcc (host C compiler)', haveTool('gcc')))('scratch rules equal the C *_get_buffer_size functions', () => {
  const dir = makeTempDir('scratch');
  const exes: Record<KernelPath, string> = { scalar: join(dir, 'kd_scalar'), dsp: join(dir, 'kd_dsp') };
  const cases = bufSizeCases(301, 500);

  beforeAll(async () => {
    await Promise.all(
      (['scalar', 'dsp'] as const).map((p) =>
        execFileP('gcc', [
          '-std=c99', '-O2', '-Wall', '-Wextra', '-Werror',
          ...(p === 'dsp' ? ['-DSQZFW_EMULATE_DSP'] : []),
          '-I', join(NN_DIR, 'Include'), ...nnSources(), join(REPO, 'test', 'c', 'kernel_driver.c'), '-o', exes[p],
        ]),
      ),
    );
  }, 60_000);

  test.each(['scalar', 'dsp'] as const)(`%s build: ${cases.length} geometries`, (path) => {
    const res = runHostDriver(exes[path], dir, cases, `bufsize-${path}`);
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const v = new Int32Array(res[i].out.buffer.slice(res[i].out.byteOffset, res[i].out.byteOffset + 36));
      const [wrapper, wrapperDsp, wrapperMve, , , , avg, avgDsp, avgMve] = Array.from(v);
      const want: Array<[string, number, number]> = [
        ['arm_avgpool_s8_get_buffer_size', avg, avgPoolScratchBytes(c.outDims.w, c.inDims.c, path)],
        ['arm_avgpool_s8_get_buffer_size_dsp', avgDsp, avgPoolScratchBytes(c.outDims.w, c.inDims.c, 'dsp')],
        ['arm_avgpool_s8_get_buffer_size_mve', avgMve, 0],
      ];
      // the TS API models our graphs: no dilation, filter channels == input channels
      if (c.dilation[0] === 1 && c.dilation[1] === 1 && c.filterC === c.inDims.c) {
        want.push(
          ['arm_convolve_wrapper_s8_get_buffer_size', wrapper, convScratchBytes(args(c), path)],
          ['arm_convolve_wrapper_s8_get_buffer_size_dsp', wrapperDsp, convScratchBytes(args(c), 'dsp')],
          ['arm_convolve_wrapper_s8_get_buffer_size_mve', wrapperMve, convScratchBytesMve(args(c))],
        );
      }
      for (const [fn, got, expected] of want) {
        if (got !== expected) failures.push(`#${i} ${fn} = ${got}, TS rule says ${expected}: ${describeCase(c)}`);
      }
    });
    expect(failures.length, failures.slice(0, 8).join('\n')).toBe(0);
  });
});
