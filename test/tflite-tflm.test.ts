/**
 * TensorFlow Lite Micro as the oracle: models exported by sqzfw (every variant, several sizes and class counts,
 * synthetic and the real ImageNet SqueezeNet v1.0) run in TFLM on real photos from ../shared/images/dev; every
 * tensor TFLM holds (the intermediates included) equals the golden model byte for byte, and the firmware built
 * from the same .tflite (`--model x.tflite`) prints exactly TFLM's output bytes in QEMU.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { prepareImageModel } from '../src/prepare/image-model.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { runOnFirmware } from '../src/driver/index.js';
import { runGolden } from '../src/golden/run.js';
import type { Variant } from '../src/prepare/index.js';
import type { QModel } from '../src/quantize/types.js';
import { exportTflite, loadTflite, type ExportOptions } from '../src/tflite/index.js';
import { compareWithTflm, devImages, haveTflm, imageInput, settle, SHARED } from './helpers/tflm.js';
import { haveTool } from './c/cases.js';
import { required } from './helpers/require.js';

const work = mkdtempSync(join(tmpdir(), 'sqzfw-tflm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const REAL_MODEL = join(SHARED, 'models', 'squeezenet1.0-imagenet.onnx');
const canRunQemu = haveTool('qemu-system-arm') && haveTool('arm-none-eabi-gcc');
required('arm-none-eabi-gcc and qemu-system-arm', canRunQemu);

function exportTo(model: QModel, name: string, o: ExportOptions): string {
  const file = join(work, `${name}.tflite`);
  writeFileSync(file, exportTflite(model, o));
  return file;
}

/** Export -> TFLM on `images` photos, every tensor compared with the golden model of the file read back. */
async function oracle(model: QModel, name: string, o: ExportOptions, images: string[]) {
  await settle();
  const file = exportTo(model, name, o);
  await settle();
  const imp = loadTflite(file);
  expect(images.length).toBeGreaterThan(0);
  const inputs = images.map((p) => imageInput(imp.model, p));
  const r = await compareWithTflm(file, imp, inputs);
  expect(r.mismatches).toEqual([]);
  expect(r.runs).toBe(images.length);
  expect(r.tensorsPerRun).toBe(Object.keys(imp.model.tensors).length);
  expect(r.tensorsPerRun).toBeGreaterThan(model.layers.length);
  // Round trip on a real photo: the model read back from the file computes the original's bytes on every tensor.
  const before = runGolden(model, inputs[0]);
  const after = runGolden(imp.model, inputs[0]);
  let roundTrip = 0;
  for (const t of Object.keys(model.tensors)) {
    expect(after[t], `round trip: tensor ${t} read back`).toBeDefined();
    expect(Buffer.from(after[t].buffer, after[t].byteOffset, after[t].length).equals(Buffer.from(before[t].buffer, before[t].byteOffset, before[t].length)), `round trip ${t}`).toBe(true);
    roundTrip += before[t].length;
  }
  expect(roundTrip).toBeGreaterThan(0);
  console.log(`${name}: TFLM == golden on ${r.runs} photos x ${r.tensorsPerRun} tensors (${r.bytes} bytes); export -> import == original on ${Object.keys(model.tensors).length} tensors (${roundTrip} bytes)`);
  return { file, imp, inputs, r };
}

/** The firmware built from the .tflite (import) in QEMU: equal to the golden model (runOnFirmware) and to TFLM. */
async function firmwareEqualsTflm(file: string, input: Int8Array, tflmOut: Record<string, Int8Array>, dir: string) {
  const { model } = loadTflite(file);
  const fw = await runOnFirmware({ model, input, board: 'mps2-an500', workDir: join(work, dir) });
  for (const o of model.outputs) expect(Array.from(fw.outputs[o]), `firmware ${o} vs TFLM`).toEqual(Array.from(tflmOut[o]));
  return model.outputs.reduce((s, o) => s + tflmOut[o].length, 0);
}

const CASES: [Variant, number, number, ExportOptions][] = [
  ['v1.1', 224, 1000, { input: 'uint8', output: 'float32' }],
  ['v1.0', 227, 100, { input: 'int8', output: 'int8' }],
  ['v1.0-simple-bypass', 96, 10, { input: 'uint8', output: 'int8' }],
  ['v1.0-complex-bypass', 128, 37, { input: 'int8', output: 'float32' }],
  ['v1.1-simple-bypass', 113, 5, { input: 'uint8', output: 'float32' }],
  ['v1.1-complex-bypass', 160, 200, { input: 'int8', output: 'int8' }],
];

describe.skipIf(!haveTflm)('exported synthetic models in TFLite Micro', () => {
  test.each(CASES)('%s @%i, %i classes (%o): every tensor equals the golden model on real photos; firmware equals TFLM', async (variant, size, classes, o) => {
    await settle();
    const p = prepareSynthetic({ variant, inputSize: size, classes, seed: 5 });
    const { file, inputs, r } = await oracle(p.model, `${variant}-${size}-${classes}`, o, devImages(3, (size * 7) % 190));
    // Every variant's firmware runs in QEMU, v1.1@224 and v1.0@227 included.
    if (canRunQemu) {
      const bytes = await firmwareEqualsTflm(file, inputs[0], r.outputs[0], `fw-${variant}-${size}`);
      expect(bytes).toBeGreaterThanOrEqual(classes);
      console.log(`${variant}@${size}: firmware in QEMU == TFLM on ${bytes} output bytes`);
    }
  });
});

describe.skipIf(!haveTflm || !existsSync(REAL_MODEL))('the real ImageNet SqueezeNet v1.0, exported', () => {
  test('TFLM == golden on every tensor for real photos, and the firmware in QEMU == TFLM', async () => {
    await settle();
    const photos = devImages(3, 20);
    const p = prepareImageModel({ model: REAL_MODEL, image: photos[0], calib: join(SHARED, 'images', 'dev'), calibCount: 4 });
    const { file, inputs, r } = await oracle(p.model, 'squeezenet1.0-imagenet', { input: 'uint8', output: 'float32' }, photos);
    if (canRunQemu) {
      const bytes = await firmwareEqualsTflm(file, inputs[0], r.outputs[0], 'fw-real');
      console.log(`real v1.0: firmware in QEMU == TFLM on ${bytes} output bytes`);
    }
  });
});
