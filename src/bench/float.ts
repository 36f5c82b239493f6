/**
 * Float forward pass of SqueezeNet v1.0 at 227x227 (the pass calibration and eval run per image): the fast engine
 * (runFloat: f32x4 WebAssembly SIMD) against onnxruntime-web's WebAssembly backend on the same ONNX file (bench/ort,
 * one thread; mark: within 3x) and against the previous float64 blocked kernels (runFloatBlocked), on the real Deep
 * Compression model from ../shared when present and on a dense synthetic model. Also the int8 pass (the fast int8
 * engine) against eval's previous int8 path and the reference kernels (mark: <= 150 ms on one core).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFloat, runFloatBlocked } from '../float/interp.js';
import type { FloatModel } from '../graph/ir.js';
import type { QModel } from '../quantize/types.js';
import { runGolden, runReference } from '../golden/run.js';
import { loadModel } from '../import/index.js';
import { loadImageInput } from '../image/index.js';
import { quantizeFloatModel, quantizeModelInput, syntheticFloatModel, syntheticInputs } from '../prepare/index.js';
import { runInt8Before } from './int8-before.js';
import { ortFloatMs } from './ort.js';
import type { Bench, BenchRow } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared beside the repository (this file is src/bench or dist/bench). */
const SHARED = resolve(here, '../../../shared');
const REPO = resolve(here, '../..');

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
  runFloatBlocked(model, x);
  const fast = medianMs(() => runFloat(model, x), 9);
  const blocked = medianMs(() => runFloatBlocked(model, x), 3);
  return row(name, ['previous float64 blocked kernels (runFloatBlocked)', blocked], ['f32x4 WebAssembly SIMD engine (runFloat)', fast], note);
}

/** onnxruntime-web's float pass in this run (ms), a yardstick for a loaded machine: the issue measured ~75 ms quiet. */
let ortMs: number | undefined;

/** Our float pass beside onnxruntime-web's on the same file, measured back to back. */
function ortRow(name: string, onnx: string, model: FloatModel, x: Float32Array): BenchRow {
  runFloat(model, x);
  const ort = ortFloatMs(REPO, onnx, 9);
  const fast = medianMs(() => runFloat(model, x), 9);
  if ('skipped' in ort) return { name, baseline: { label: 'onnxruntime-web: skipped', value: 0 }, result: { label: 'f32x4 WebAssembly SIMD engine (runFloat)', value: +fast.toFixed(1) }, unit: 'ms', ratio: 0, note: `onnxruntime-web not run: ${ort.skipped}` };
  ortMs = ort.ms;
  const ratio = fast / ort.ms;
  return row(name, [`onnxruntime-web ${ort.version ?? ''} WebAssembly backend, 1 thread (bench/ort)`, ort.ms], ['f32x4 WebAssembly SIMD engine (runFloat)', fast], `median of 9 each; mark: within 3x of onnxruntime-web: ${ratio <= 3 ? 'yes' : 'NO'} (${ratio.toFixed(2)}x)`);
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
    row(`${name}, median`, ['previous eval int8 path (float-accumulate kernels)', before], ['fast int8 engine (runGolden: wasm SIMD gemm + requantize)', fast], `${note}; mark: <= 150 ms on one core: ${fast <= 150 ? 'yes' : 'NO'}${ortMs ? `; ${(fast / ortMs).toFixed(2)}x onnxruntime-web's float pass of this run (150 ms = 2x its ~75 ms on a quiet core)` : ''}`),
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
    rows.push(ortRow('float pass, SqueezeNet v1.0 227x227 (../shared ONNX) against onnxruntime-web, median', onnx, real.model, real.x));
    rows.push(floatRow('float pass, SqueezeNet v1.0 227x227 (../shared ONNX, 33% non-zero weights), median', real.model, real.x, 'float32 sums within 1e-5 of the float64 plain loops per tensor (test/float-fast.test.ts); median of 9 (fast) / 3 (blocked) passes'));
  }
  const dense = syntheticFloatModel({ variant: 'v1.0', inputSize: 227, classes: 1000, seed: 3, softmax: false });
  const dx = syntheticInputs(dense, 1)[0];
  rows.push(floatRow('float pass, SqueezeNet v1.0 227x227 (synthetic dense weights), median', dense, dx, 'median of 9 (fast) / 3 (blocked) passes'));
  if (real) {
    const q = quantizeFloatModel(real.model, [real.x]);
    rows.push(...int8Rows('int8 pass, SqueezeNet v1.0 227x227 (../shared ONNX)', q, quantizeModelInput(q, real.x)));
  }
  const dq = quantizeFloatModel(dense, [dx]);
  rows.push(...int8Rows('int8 pass, SqueezeNet v1.0 227x227 (synthetic dense weights)', dq, quantizeModelInput(dq, dx)));
  return rows;
};
