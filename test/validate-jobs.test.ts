/**
 * sqzfw validate --jobs N: worker threads for the host side (float passes, calibration, int8 golden
 * passes); the device side is one firmware in QEMU answering one image at a time. The result is the same for any N:
 * the same calibrated model, the same float/int8/device top-5 and the same bit-exact comparison per image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runValidate, type ValidateFlags } from '../src/validate/cli.js';
import { tinyEvalFixture } from './helpers/tiny-eval.js';
import { haveTool } from './c/cases.js';
import { required } from './helpers/require.js';

const canRun = haveTool('arm-none-eabi-gcc') && haveTool('qemu-system-arm');
required('arm-none-eabi-gcc and qemu-system-arm', canRun);

const dir = mkdtempSync(join(tmpdir(), 'sqzfw-validate-jobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!canRun)('sqzfw validate --jobs', () => {
  it('--jobs 1 and --jobs 2: the same model, top-5 columns and bit-exact device answers', async () => {
    const fx = tinyEvalFixture(dir);
    const flags = (jobs: number): ValidateFlags => ({ model: fx.model, images: fx.images, calibCount: 100, emulate: true, baud: 115200, board: 'mps2-an500', timeout: 120, progress: false, workDir: join(dir, `fw${jobs}`), jobs });
    const one = await runValidate(flags(1));
    const two = await runValidate(flags(2));
    // Instruction counts may differ by one SysTick handler entry between runs (see validate-qemu.test.ts): compare the rest.
    const strip = (r: typeof one) => r.perImage.map(({ firmware, ...p }) => ({ ...p, firmware: { top5: firmware!.top5, bitExact: firmware!.bitExact, mismatches: firmware!.mismatches } }));
    expect(strip(two)).toEqual(strip(one));
    expect([two.float, two.int8, two.calibration.imagesPerModel]).toEqual([one.float, one.int8, one.calibration.imagesPerModel]);
    expect(one.firmware).toMatchObject({ n: 5, bitExact: 5, builds: 1 });
    expect(two.firmware).toMatchObject({ n: 5, bitExact: 5, builds: 1 });
    expect(one.perImage.every((p) => p.firmware!.top5.join() === p.int8.join())).toBe(true);
  }, 900_000);
});
