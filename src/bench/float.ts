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
import type { QModel } from '../quantize/types.js';
import { runGolden, runReference } from '../golden/run.js';
import { loadModel } from '../import/index.js';
import { loadImageInput } from '../image/index.js';
import { quantizeFloatModel, quantizeModelInput, syntheticFloatModel, syntheticInputs } from '../pipeline.js';
import { runInt8Before } from './int8-before.js';
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

/** The fast int8 engine against eval's previous int8 path and against the reference kernels (one thread). */
function int8Rows(name: string, q: QModel, qi: Int8Array): BenchRow[] {
  runGolden(q, qi); // warm up and pack the weights
  runInt8Before(q, qi);
  const fast = medianMs(() => runGolden(q, qi), 9);
  const before = medianMs(() => runInt8Before(q, qi), 3);
  const reference = medianMs(() => runReference(q, qi), 1);
  const note = 'bit-identical outputs (property tests and the real network); one thread';
  return [
    row(`${name}, median`, ['previous eval int8 path (float-accumulate kernels)', before], ['fast int8 engine (runGolden: wasm SIMD gemm + requantize)', fast], `${note}; target <= 150 ms on one quiet core`),
    row(`${name}: reference kernels, median`, ['reference kernels (runReference, the spec)', reference], ['fast int8 engine (runGolden)', fast], note),
  ];
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
    rows.push(...int8Rows('int8 pass, SqueezeNet v1.0 227x227 (../shared ONNX)', q, quantizeModelInput(q, real.x)));
  }
  const dq = quantizeFloatModel(dense, [dx]);
  rows.push(...int8Rows('int8 pass, SqueezeNet v1.0 227x227 (synthetic dense weights)', dq, quantizeModelInput(dq, dx)));
  return rows;
};
