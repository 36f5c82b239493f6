/**
 * firmware/cmsis-nn's s4 convolutions (packed int4 weights) against the golden twins (src/golden/int4.ts), byte for
 * byte: host plain C, host emulated DSP, QEMU Cortex-M4 / M7 with the real DSP instructions; and against Arm's
 * CMSIS-NN v7.0.0 s4 functions (host build, and its DSP build on QEMU Cortex-M4) when SQZFW_TEST_CMSIS_NN names
 * a checkout. The driver (test/c/kernel_driver.c) also checks scratch size and guards, output guards and that the
 * input is untouched. With CI set, a missing gcc / arm-none-eabi-gcc / QEMU fails instead of skipping.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildHostDriver, buildQemuDriver, checkResults, cleanupTempDirs, CONV_FN, fillConv, golden, haveTool, makeTempDir, randI8, runHostDriver, runQemuDriver, type ConvCase } from './c/cases.js';
import { convS4Cases, driverScratchBytesS4, expectedConvS4Status, extendedConvS4Cases, wrapperPathS4 } from './c/cases-s4.js';
import { mulberry32 } from '../src/util/random.js';
import { convS4ScratchBytes } from '../src/planner/scratch.js';
import { ARM_CMSIS_NN } from './helpers/arm-cmsis-nn.js';
import { required } from './helpers/require.js';

afterAll(() => cleanupTempDirs());

const ARM = ARM_CMSIS_NN;
const canQemu = haveTool('qemu-system-arm') && haveTool('arm-none-eabi-gcc');
required('qemu-system-arm and arm-none-eabi-gcc', canQemu);

const expectNone = (what: string, f: string[]): void => {
  expect(f.length, `${what}: ${f.length} failing case(s):\n${f.slice(0, 8).join('\n')}`).toBe(0);
};

const goldenCache = new Map<ConvCase, Int8Array | null>();
const goldenOf = (c: ConvCase): Int8Array | null => {
  if (!goldenCache.has(c)) goldenCache.set(c, golden(c));
  return goldenCache.get(c)!;
};
const vsGolden = (c: ConvCase): { out: Int8Array | null; status: number; scratch: number } => ({
  out: goldenOf(c),
  status: 0,
  scratch: driverScratchBytesS4(c),
});

const S4 = convS4Cases(401, 500);
const S4_EXT = extendedConvS4Cases(402, 160);

/**
 * Long rows the random shapes never reach: 1x1 rows at and past the 512 columns the DSP 1x1 product widens on
 * the stack (longer ones take its nibble loop), and im2col rows of many groups with tails of 1, 5 and 6 columns,
 * odd and even lengths; 3 or 5 output channels (an odd last channel) and odd pixel counts.
 */
function longRowCases(seed: number): ConvCase[] {
  const r = mulberry32(seed);
  const shapes: Array<{ k: number; c: number; h: number; w: number; oc: number }> = [
    ...[508, 512, 513, 516, 600].map((c) => ({ k: 1, c, h: 1, w: 3, oc: 5 })),
    { k: 3, c: 57, h: 3, w: 3, oc: 3 }, // 513 columns: 64 groups, tail 1, odd rows
    { k: 3, c: 70, h: 3, w: 2, oc: 5 }, // 630 columns: 78 groups, tail 6
    { k: 3, c: 61, h: 2, w: 3, oc: 3 }, // 549 columns: 68 groups, tail 5, odd rows
  ];
  return shapes.map(({ k, c, h, w, oc }, i) => {
    const pad = k === 3 ? 1 : 0;
    const base = fillConv(r, { inDims: { h, w, c }, kernel: [k, k], stride: [1, 1], padTop: pad, padLeft: pad, outDims: { h, w, c: oc } }, '');
    // int4 weights as convS4Cases makes them: the int8 case's multipliers scaled up 16x where that stays valid
    const s4: ConvCase = { ...base, filter: randI8(r, base.filter.length, -8, 7), shift: base.shift.map((x) => (x <= 26 ? x + 4 : x)), weightBits: 4 };
    s4.label = `s4 long row#${i} path=${wrapperPathS4(s4)} in=${h}x${w}x${c} k=${k}x${k} out=${h}x${w}x${oc} rowlen=${k * k * c}`;
    return s4;
  });
}
const LONG = longRowCases(403);
const QEMU_CASES = [...convS4Cases(411, 160, 60_000), ...extendedConvS4Cases(412, 40, 30_000).filter((c) => !c.nullScratch)];

test('the random set covers every s4 kernel, odd row lengths and -8 weights', () => {
  const paths = new Set(S4.map((c) => c.label.match(/path=(\d)/)![1]));
  expect([...paths].sort()).toEqual(['1', '2', '3', '4']);
  expect(S4.filter((c) => (c.kernel[0] * c.kernel[1] * c.inDims.c) % 2 === 1).length).toBeGreaterThan(50);
  expect(S4.filter((c) => c.filter.includes(-8)).length).toBeGreaterThan(20);
  expect(S4.every((c) => goldenOf(c) !== null)).toBe(true);
  // the wrapper's scratch rule in TypeScript is the one the planner uses
  const w = S4.filter((c) => c.fn === 0);
  expect(w.every((c) => driverScratchBytesS4(c) === convS4ScratchBytes(c))).toBe(true);
});

test('the QEMU set reaches every branch of the DSP loops: group counts, odd rows, tails, 1x1 rows past 512', () => {
  const qemu = [...QEMU_CASES, ...LONG];
  const path = (c: ConvCase): number => (c.fn === CONV_FN.wrapper ? wrapperPathS4(c) : c.fn);
  const cols = (c: ConvCase): number => c.kernel[0] * c.kernel[1] * c.inDims.c;
  const im2col = qemu.filter((c) => path(c) === CONV_FN.convolve || path(c) === CONV_FN.conv1xn);
  const groups = (c: ConvCase): number => cols(c) >> 3;
  // assembly: one group alone, pairs of groups only, one group then pairs; rows starting in a high nibble; tails
  expect(im2col.filter((c) => groups(c) === 1).length).toBeGreaterThan(3);
  expect(im2col.filter((c) => groups(c) >= 2 && groups(c) % 2 === 0).length).toBeGreaterThan(10);
  expect(im2col.filter((c) => groups(c) >= 3 && groups(c) % 2 === 1).length).toBeGreaterThan(10);
  expect(im2col.filter((c) => groups(c) >= 2 && cols(c) % 2 === 1).length).toBeGreaterThan(10);
  expect(im2col.filter((c) => cols(c) % 8 !== 0).length).toBeGreaterThan(10);
  expect(qemu.filter((c) => c.outDims.c % 2 === 1).length).toBeGreaterThan(10);
  const oneByOne = qemu.filter((c) => path(c) === CONV_FN.fast1x1 || path(c) === CONV_FN.conv1x1);
  expect(oneByOne.filter((c) => cols(c) <= 512 && cols(c) >= 4).length).toBeGreaterThan(10);
  expect(oneByOne.filter((c) => cols(c) > 512).length).toBeGreaterThanOrEqual(3);
  expect(LONG.every((c) => goldenOf(c) !== null)).toBe(true);
});

const hostDir = makeTempDir('kernels-s4-host');
const exes = { scalar: '', dsp: '' };
beforeAll(async () => {
  [exes.scalar, exes.dsp] = await Promise.all([buildHostDriver(hostDir, 'scalar'), buildHostDriver(hostDir, 'dsp')]);
}, 120_000);

describe.each(['scalar', 'dsp'] as const)('s4 kernels, host %s path', (build) => {
  test(`${S4.length} random and SqueezeNet-like shapes equal the golden convS4 (scratch = *_get_buffer_size)`, () => {
    const res = runHostDriver(exes[build], hostDir, S4, `${build}-s4`);
    expectNone(`s4 ${build}`, checkResults(S4, res, vsGolden));
  });

  test(`${LONG.length} long rows (1x1 past 512 columns, im2col rows of many groups) equal the golden convS4`, () => {
    const res = runHostDriver(exes[build], hostDir, LONG, `${build}-s4long`);
    expectNone(`s4 long ${build}`, checkResults(LONG, res, vsGolden));
  });

  test(`${S4_EXT.length} cases beyond the golden model (batch 2, dilation, NULL scratch): clean runs, CMSIS-NN's statuses`, () => {
    const res = runHostDriver(exes[build], hostDir, S4_EXT, `${build}-s4ext`);
    expectNone(`s4 ext ${build}`, checkResults(S4_EXT, res, (c) => ({ out: goldenOf(c), status: expectedConvS4Status(c) })));
  });
});

test('host plain C and emulated DSP builds agree on the extended s4 cases', () => {
  const a = runHostDriver(exes.scalar, hostDir, S4_EXT, 'x-scalar');
  const b = runHostDriver(exes.dsp, hostDir, S4_EXT, 'x-dsp');
  expectNone('dsp vs scalar', checkResults(S4_EXT, b, (_c, i) => ({ out: a[i].out, status: a[i].status })));
  // not vacuous: batch-2 and dilated cases ran and produced output
  expect(a.filter((r, i) => r.status === 0 && S4_EXT[i].batch === 2 && r.out.length > 0).length).toBeGreaterThan(10);
});

describe.skipIf(!canQemu).each(['mps2-an386', 'mps2-an500'] as const)('s4 kernels, DSP path on QEMU %s', (machine) => {
  const cases = [...QEMU_CASES, ...LONG];
  let elf = '';
  beforeAll(() => {
    elf = buildQemuDriver(makeTempDir(`kernels-s4-${machine}`), machine);
  }, 120_000);

  test(`${cases.length} cases equal the golden twins (extended ones: clean runs)`, () => {
    const res = runQemuDriver(elf, machine, cases, 150);
    expectNone(`QEMU ${machine}`, checkResults(cases, res, (c) => ({ out: goldenOf(c), status: expectedConvS4Status(c), scratch: driverScratchBytesS4(c) })));
  }, 180_000);
});

// Arm's CMSIS-NN v7.0.0 as an oracle: SQZFW_TEST_CMSIS_NN=/path/to/CMSIS-NN, else ../shared/cmsis-nn-v7.0.0.
describe.skipIf(!ARM)("s4 kernels against Arm's CMSIS-NN", () => {
  const all = [...S4, ...S4_EXT];
  test(`host build of Arm's s4 functions (plain C): ${all.length} cases, byte for byte and status for status`, async () => {
    const exe = await buildHostDriver(makeTempDir('kernels-s4-arm'), 'scalar', ARM!, false);
    const arm = runHostDriver(exe, hostDir, all, 'arm-host');
    const ours = runHostDriver(exes.scalar, hostDir, all, 'ours-host');
    expectNone("ours vs Arm's", checkResults(all, ours, (_c, i) => ({ out: arm[i].out, status: arm[i].status, scratch: arm[i].scratch })));
    expect(arm.filter((r) => r.status === 0).length).toBeGreaterThan(500);
  }, 180_000);

  test.skipIf(!canQemu)("Arm's DSP build on QEMU Cortex-M4 equals ours", () => {
    const cases = [...convS4Cases(421, 160, 60_000), ...extendedConvS4Cases(422, 40, 30_000).filter((c) => !c.nullScratch)];
    const armElf = buildQemuDriver(makeTempDir('kernels-s4-arm-m4'), 'mps2-an386', ARM!);
    const oursElf = buildQemuDriver(makeTempDir('kernels-s4-ours-m4'), 'mps2-an386');
    const arm = runQemuDriver(armElf, 'mps2-an386', cases, 150);
    const ours = runQemuDriver(oursElf, 'mps2-an386', cases, 150);
    expectNone("ours vs Arm's (M4)", checkResults(cases, ours, (_c, i) => ({ out: arm[i].out, status: arm[i].status, scratch: arm[i].scratch })));
  }, 300_000);
});
