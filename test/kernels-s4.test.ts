/**
 * firmware/cmsis-nn's s4 convolutions (packed int4 weights) against the golden twins (src/golden/int4.ts), byte for
 * byte: host plain C, host emulated DSP, QEMU Cortex-M4 / M7 with the real DSP instructions; and against Arm's
 * CMSIS-NN v7.0.0 s4 functions (host build, and its DSP build on QEMU Cortex-M4) when SQZFW_TEST_CMSIS_NN names
 * a checkout. The driver (test/c/kernel_driver.c) also checks scratch size and guards, output guards and that the
 * input is untouched. With CI set, a missing gcc / arm-none-eabi-gcc / QEMU fails instead of skipping.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildHostDriver, buildQemuDriver, checkResults, cleanupTempDirs, golden, haveTool, makeTempDir, runHostDriver, runQemuDriver, type ConvCase } from './c/cases.js';
import { convS4Cases, driverScratchBytesS4, expectedConvS4Status, extendedConvS4Cases } from './c/cases-s4.js';
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
  const cases = [...convS4Cases(411, 160, 60_000), ...extendedConvS4Cases(412, 40, 30_000).filter((c) => !c.nullScratch)];
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
