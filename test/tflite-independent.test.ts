/**
 * Import of .tflite files written by another tool: scripts/tflite_independent_writer.py builds int8 SqueezeNets with
 * TFLite's own schema classes (from the tflite-micro wheel) and the Python flatbuffers runtime, no sqzfw code. sqzfw
 * imports them with their quantization as stored; the golden model equals TFLite Micro on every tensor for real
 * photos, and the firmware built from the file prints exactly TFLM's output bytes in QEMU.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runOnFirmware } from '../src/driver/index.js';
import { runGolden } from '../src/golden/run.js';
import { loadTflite } from '../src/tflite/index.js';
import { tflmPython } from '../src/tflite/tflm.js';
import { haveTool } from './c/cases.js';
import { compareWithTflm, devImages, haveTflm, imageInput, settle } from './helpers/tflm.js';
import { required } from './helpers/require.js';

const work = mkdtempSync(join(tmpdir(), 'sqzfw-tflite-ind-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const WRITER = new URL('../scripts/tflite_independent_writer.py', import.meta.url).pathname;
const canRunQemu = haveTool('qemu-system-arm') && haveTool('arm-none-eabi-gcc');
required('arm-none-eabi-gcc and qemu-system-arm', canRunQemu);

describe.skipIf(!haveTflm)('a .tflite from an independent writer', () => {
  test.each([
    ['mean', 96, 10, 1],
    ['avgpool', 80, 7, 2],
  ] as const)('%s head @%i, %i classes: golden == TFLM on every tensor for real photos; firmware in QEMU == TFLM', async (head, size, classes, seed) => {
    const file = join(work, `${head}.tflite`);
    execFileSync(tflmPython()!, [WRITER, file, '--size', String(size), '--classes', String(classes), '--head', head, '--seed', String(seed)]);
    await settle();
    const imp = loadTflite(file);
    expect(imp.inputType).toBe('uint8');
    expect(imp.model.layers.map((l) => l.op).filter((o) => o === 'conv')).toHaveLength(26);
    const photos = devImages(4, 60 + seed);
    const inputs = photos.map((p) => imageInput(imp.model, p));
    const r = await compareWithTflm(file, imp, inputs);
    expect(r.mismatches).toEqual([]);
    expect(r.runs).toBe(4);
    const out = imp.model.outputs[0];
    // Not a degenerate model: the logits (softmax input) vary within and across photos.
    const logits = imp.model.layers.find((l) => l.op === 'softmax')!.inputs[0];
    const seen = inputs.slice(0, 2).map((x) => Array.from(runGolden(imp.model, x)[logits]).join());
    expect(new Set(seen[0].split(',')).size).toBeGreaterThan(3);
    expect(seen[1]).not.toBe(seen[0]);
    console.log(`independent ${head}: TFLM == golden on ${r.runs} photos x ${r.tensorsPerRun} tensors (${r.bytes} bytes)`);
    if (canRunQemu) {
      const fw = await runOnFirmware({ model: imp.model, input: inputs[0], board: 'mps2-an500', workDir: join(work, `fw-${head}`) });
      expect(Array.from(fw.outputs[out])).toEqual(Array.from(r.outputs[0][out]));
      console.log(`independent ${head}: firmware in QEMU == TFLM on ${fw.outputs[out].length} output bytes`);
    }
  });
});
