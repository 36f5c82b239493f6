/**
 * The TFLite Micro leg of bit-exactness: runs a .tflite file in TFLM on int8 inputs and compares every tensor TFLM
 * exposes (all of them, kPreserveAllTensors) and every output with the golden model of the QModel sqzfw reads
 * from the same file. TFLM missing: a failure when CI=true, else a visible skip.
 */
import { required } from './require.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runGolden } from '../../src/golden/run.js';
import { loadImageInput } from '../../src/image/index.js';
import { defaultCard } from '../../src/import/card.js';
import { quantizeInput } from '../../src/quantize/quantize.js';
import type { QModel } from '../../src/quantize/types.js';
import type { TfliteImport } from '../../src/tflite/import.js';
import { runTflm, tflmPython } from '../../src/tflite/tflm.js';

export const SHARED = new URL('../../../shared/', import.meta.url).pathname;
export const DEV_IMAGES = join(SHARED, 'images', 'dev');

export const haveTflm = !!tflmPython();
required('TFLite Micro (.venv with tflite-micro)', haveTflm);
if (!haveTflm) console.warn('skipping the TFLite Micro oracle tests: .venv with tflite-micro is missing (run scripts/setup.sh)');

export { settle } from './settle.js';
import { settle } from './settle.js';

export const devImages = (n: number, from = 0): string[] =>
  readdirSync(DEV_IMAGES).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(from, from + n).map((f) => join(DEV_IMAGES, f));

/** A real photo as the model's int8 input (torchvision card defaults). */
export function imageInput(model: QModel, path: string): Int8Array {
  const t = model.tensors[model.input];
  return quantizeInput(loadImageInput(path, defaultCard(model.name, Math.min(t.dims.h, t.dims.w), t.dims.c), t.dims), t);
}

export interface OracleResult {
  runs: number;
  tensorsPerRun: number;
  bytes: number;
  mismatches: string[];
  /** TFLM's int8 model outputs per run (before any DEQUANTIZE), by QModel tensor name. */
  outputs: Record<string, Int8Array>[];
}

/** Runs `file` in TFLM on each input and compares every tensor with runGolden(imp.model). */
export async function compareWithTflm(file: string, imp: TfliteImport, inputs: Int8Array[]): Promise<OracleResult> {
  const { model } = imp;
  const names = Object.keys(imp.tensorIndex);
  const fileInputs = inputs.map((x) => (imp.inputType === 'uint8' ? Uint8Array.from(x, (v) => v + 128) : new Uint8Array(x.buffer, x.byteOffset, x.length)));
  const { runs } = await runTflm({ model: file, inputs: fileInputs, tensors: names.map((n) => imp.tensorIndex[n]), outputCount: model.outputs.length });
  const res: OracleResult = { runs: runs.length, tensorsPerRun: names.length, bytes: 0, mismatches: [], outputs: [] };
  for (const [k, run] of runs.entries()) {
    await settle();
    const golden = runGolden(model, inputs[k]);
    const outs: Record<string, Int8Array> = {};
    for (const n of names) {
      const raw = run.tensors[imp.tensorIndex[n]];
      const got = new Int8Array(raw.buffer, raw.byteOffset, raw.length);
      const want = golden[n];
      if (model.outputs.includes(n)) outs[n] = got;
      if (got.length !== want.length) {
        res.mismatches.push(`run ${k} ${n}: ${got.length} bytes from TFLM, ${want.length} golden`);
        continue;
      }
      let diff = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) diff++;
      if (diff) res.mismatches.push(`run ${k} ${n}: ${diff} of ${want.length} bytes differ`);
      res.bytes += want.length;
    }
    res.outputs.push(outs);
  }
  return res;
}
