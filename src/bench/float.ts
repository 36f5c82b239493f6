/**
 * Float forward pass of SqueezeNet v1.0 at 227x227 (the pass calibration and eval run per image): the plain loops
 * (runFloatNaive) against the blocked im2col kernels (runFloat), on the real Deep Compression model from ../shared
 * when present (2/3 of its weights are zero: sparse kernel) and on a dense synthetic model (dense 4x4 kernel).
 * Also eval's int8 pass against the golden interpreter it must equal.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFloat, runFloatNaive } from '../float/interp.js';
import type { FloatModel } from '../graph/ir.js';
import { runGolden } from '../golden/run.js';
import { loadModel } from '../import/index.js';
import { loadImageInput } from '../image/index.js';
import { quantizeFloatModel, quantizeModelInput, syntheticFloatModel, syntheticInputs } from '../pipeline.js';
import { runInt8 } from '../eval/int8.js';
import type { Bench, BenchRow } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared beside the repository (this file is src/bench or dist/bench). */
const SHARED = resolve(here, '../../../shared');

function medianMs(f: () => unknown, runs: number): number {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

function row(name: string, base: [string, number], res: [string, number], note: string): BenchRow {
  return { name, baseline: { label: base[0], value: +base[1].toFixed(1) }, result: { label: res[0], value: +res[1].toFixed(1) }, unit: 'ms', ratio: +(res[1] / base[1]).toFixed(3), note };
}

function floatRow(name: string, model: FloatModel, x: Float32Array, note: string): BenchRow {
  runFloat(model, x); // warm up the JIT and pack the weights
  const fast = medianMs(() => runFloat(model, x), 9);
  const naive = medianMs(() => runFloatNaive(model, x), 3);
  return row(name, ['plain loops (runFloatNaive)', naive], ['blocked im2col kernels (runFloat)', fast], note);
}

export const benchFloat: Bench = async () => {
  const rows: BenchRow[] = [];
  const onnx = join(SHARED, 'models/squeezenet1.0-imagenet.onnx');
  const image = join(SHARED, 'images/dev/n01440764_tench.JPEG');
  let real: { model: FloatModel; x: Float32Array } | undefined;
  if (existsSync(onnx) && existsSync(image)) {
    const { model, card } = loadModel(onnx);
    real = { model, x: loadImageInput(image, card, model.graph.input.dims) };
    rows.push(floatRow('float pass, SqueezeNet v1.0 227x227 (../shared ONNX, 33% non-zero weights), median', real.model, real.x, 'outputs bit-identical to the plain loops; median of 9 (fast) / 3 (plain) passes'));
  }
  const dense = syntheticFloatModel({ variant: 'v1.0', inputSize: 227, classes: 1000, seed: 3, softmax: false });
  const dx = syntheticInputs(dense, 1)[0];
  rows.push(floatRow('float pass, SqueezeNet v1.0 227x227 (synthetic dense weights), median', dense, dx, 'dense 4x4 register-blocked kernel; bit-identical to the plain loops'));
  if (real) {
    const q = quantizeFloatModel(real.model, [real.x]);
    const qi = quantizeModelInput(q, real.x);
    runInt8(q, qi);
    const fast = medianMs(() => runInt8(q, qi), 5);
    const golden = medianMs(() => runGolden(q, qi), 1);
    rows.push(row('int8 pass, SqueezeNet v1.0 227x227 (../shared ONNX), median', ['golden interpreter (runGolden)', golden], ['eval int8 path (runInt8)', fast], 'bit-identical outputs (tested layer by layer)'));
  }
  return rows;
};
