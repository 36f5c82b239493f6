/**
 * SqueezeNet v1.1 on every real board: at 224x224 with 1000 classes the board either fits (generate + build, every
 * section inside the board's memory) or generate fails with the planner's message; at the largest input size that
 * fits (with the planner in the tree), the board's firmware builds and its QEMU twin (same core, same flags, same
 * memory layout and weight split) is bit-exact with the golden model. The nRF52840's 1 MB of flash cannot hold the
 * 1.2 MiB of weights of 1000 classes: it runs 100 classes (so does netduinoplus2, an STM32F405 QEMU models, whose
 * own firmware, STM32 USART driver included, runs in QEMU).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBoard, qemuTwin } from '../src/boards/index.js';
import { checkFit, largestInputSize } from '../src/driver/fit.js';
import { buildFirmware, weightsReportLines } from '../src/toolchain/index.js';
import { emulateProject, generateFiles, generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { isUserError } from '../src/errors.js';
import { expectBitExact } from './helpers/plan-qemu.js';

const work = mkdtempSync(join(tmpdir(), 'sqzfw-boards-sq-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

describe.each([
  ['nucleo-h743zi', 1000],
  ['stm32f746g-disco', 1000],
  ['stm32f429i-disc1', 1000],
  ['nrf52840-dk', 100],
  // A QEMU machine with an STM32 USART: the board's own build runs in QEMU (it is its own twin).
  ['netduinoplus2', 100],
])('%s, %s classes', (name, classes) => {
  const board = loadBoard(name);

  it('at 224x224 with 1000 classes: fits, or fails with the planner’s message', async () => {
    const verdict = checkFit(board, { variant: 'v1.1', classes: 1000, inputSize: 224 });
    let message: string | undefined;
    try {
      generateFiles(prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 1 }), board);
    } catch (e) {
      if (!isUserError(e)) throw e;
      message = e.message;
    }
    // generate plans with the same planner and checks the weights with the same placement (checkWeightsFit): the
    // same verdict and, when it does not fit, the same message.
    if (verdict.fits) expect(message).toBeUndefined();
    else expect(message).toBe(verdict.message);
    console.log(`${name} at 224x224, 1000 classes: ${verdict.fits ? 'fits' : verdict.message}`);
  });

  it('builds at the largest input size that fits, and its QEMU twin is bit-exact with the golden model', async () => {
    const fit = largestInputSize(board, { variant: 'v1.1', classes });
    expect(fit.largest, fit.atMax.message).not.toBeNull();
    const size = fit.largest!.inputSize;
    // The demo's synthetic input costs no flash: v1.1 at 224 with 100 classes fits the STM32F405's 1 MiB.
    if (name === 'netduinoplus2') expect(size).toBe(224);
    const dir = join(work, `${name}-${size}-${classes}`);
    const prepared = prepareSynthetic({ variant: 'v1.1', inputSize: size, classes, seed: 5 });
    const gen = generateProject(prepared, board, dir);
    expect(gen.plan.peakBytes).toBe(fit.largest!.arenaBytes);

    const real = await buildFirmware({ projectDir: dir });
    for (const r of real.regions) expect(r.used, r.name).toBeLessThanOrEqual(r.length);
    const placement = fit.largest!.weights!;
    // The prediction and the linker agree on which region gets which array.
    for (const w of real.weights) for (const a of w.arrays) expect(placement.regionOf[a.name], a.name).toBe(w.region);
    if (name === 'stm32f746g-disco' && classes === 1000) {
      expect(real.weights.map((w) => w.region)).toEqual(['FLASH', 'QSPI']);
      expect(real.weights[1]!.arrays.map((a) => a.name)).toContain('sqzfw_w_conv10');
    }

    const twin = await buildFirmware({ projectDir: dir, variant: 'qemu' });
    expect(twin.weights.map((w) => [w.region, w.arrays.length])).toEqual(real.weights.map((w) => [w.region, w.arrays.length]));
    const run = await emulateProject({ projectDir: dir, board: qemuTwin(board)!, elf: twin.elf, timeoutMs: 240_000 });
    expectBitExact(run, prepared.model.outputs.reduce((s, o) => s + gen.expected[o].length, 0));

    const arena = gen.plan.regions.filter((r) => r.used > 0).map((r) => `${r.name} ${kib(r.used)}`).join(' + ');
    console.log(
      [
        `${name}: largest input ${size}x${size} with ${classes} classes; arena ${kib(gen.plan.peakBytes)} (${arena}), ${gen.plan.strategy}`,
        `  flash ${real.flashBytes} bytes (${kib(real.flashBytes)}), RAM ${real.ramBytes} bytes (${kib(real.ramBytes)}); ` +
          real.regions.filter((r) => r.used > 0).map((r) => `${r.name} ${r.used}/${r.length}`).join(', '),
        ...weightsReportLines(real.weights).map((l) => `  ${l}`),
        `  QEMU twin ${qemuTwin(board)!.qemu!.machine}: ${run.comparison.bytes} output bytes bit-exact, ${run.instructions} instructions`,
      ].join('\n'),
    );
  });
});
