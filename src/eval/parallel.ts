/**
 * Eval's per-image work split over worker threads (`--jobs N`): the images are cut into N contiguous chunks, each
 * worker runs the same chunk functions as the one-thread path, and the main thread puts the results back in image
 * order and merges the partial calibrations in chunk order (an exact merge: see Calibrator.mergeState). So the
 * scores, the calibrated models and every top-5 are the same whatever N (a test runs 1 and 2).
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { FloatModel } from '../graph/ir.js';
import { loadImageInput } from '../image/index.js';
import { loadModel, type CardOverrides, type ModelCard } from '../import/index.js';
import { runGolden, topK } from '../golden/run.js';
import { runFloat } from '../float/interp.js';
import { Calibrator, type CalibrationMethod, type CalibratorState } from '../quantize/calibrate.js';
import { quantizeInput } from '../quantize/quantize.js';
import type { QModel } from '../quantize/types.js';
import type { ProgressSink } from '../util/progress.js';

/** What a worker needs to load the model the same way as the main thread. */
export interface ModelSpec {
  model: string;
  card?: string;
  overrides?: CardOverrides;
  inputSize?: { h: number; w: number };
}

export interface Loaded {
  model: FloatModel;
  card: ModelCard;
}

export const loadSpec = (s: ModelSpec): Loaded => loadModel(s.model, { cardPath: s.card, overrides: s.overrides, inputSize: s.inputSize });

/** A float pass of one image: scored (its top-5 of `target`) and/or added to the calibrations of `folds`. */
export interface FloatItem {
  i: number;
  path: string;
  folds: number[];
  score: boolean;
}

export interface FloatTask {
  kind: 'float';
  target: string;
  folds: number;
  method: CalibrationMethod;
  percentile?: number;
  items: FloatItem[];
}

export interface FloatResult {
  tops: [number, number[]][];
  floatMs: [number, number][];
  cal: CalibratorState[];
  calMs: number[];
}

/** Integer passes of each image through the listed models (its fold's int8 model, then e.g. its int4 and mixed ones). */
export interface Int8Task {
  kind: 'int8';
  target: string;
  qmodels: QModel[];
  items: { i: number; path: string; models: number[] }[];
}

export interface Int8Result {
  /** Per image, one top-5 per model of its `models`, in that order. */
  tops: [number, number[][]][];
  /** Time of the pass through the image's first model. */
  int8Ms: [number, number][];
}

export type Task = FloatTask | Int8Task;
type Result<T extends Task> = T extends FloatTask ? FloatResult : Int8Result;

export function floatChunk(m: Loaded, t: FloatTask, tick: () => void): FloatResult {
  const cals = Array.from({ length: t.folds }, () => new Calibrator(m.model, { method: t.method, percentile: t.percentile }));
  const calMs = new Array<number>(t.folds).fill(0);
  const r: FloatResult = { tops: [], floatMs: [], cal: [], calMs };
  for (const it of t.items) {
    const x = loadImageInput(it.path, m.card, m.model.graph.input.dims);
    const ts = performance.now();
    const tensors = runFloat(m.model, x);
    const tf = performance.now();
    if (it.score) {
      r.tops.push([it.i, topK(tensors[t.target], 5)]);
      r.floatMs.push([it.i, tf - ts]);
    }
    for (const f of it.folds) {
      const tc = performance.now();
      cals[f].addTensors(tensors);
      calMs[f] += performance.now() - tc + (tf - ts);
    }
    tick();
  }
  r.cal = cals.map((c) => c.state());
  return r;
}

export function int8Chunk(m: Loaded, t: Int8Task, tick: () => void): Int8Result {
  const r: Int8Result = { tops: [], int8Ms: [] };
  for (const it of t.items) {
    const x = loadImageInput(it.path, m.card, m.model.graph.input.dims);
    const tops = it.models.map((k, j) => {
      const q = t.qmodels[k];
      const qi = quantizeInput(x, q.tensors[q.input]);
      const ts = performance.now();
      const out = runGolden(q, qi)[t.target];
      if (j === 0) r.int8Ms.push([it.i, performance.now() - ts]);
      return topK(out, 5);
    });
    r.tops.push([it.i, tops]);
    tick();
  }
  return r;
}

export const runChunk = (m: Loaded, t: Task, tick: () => void): FloatResult | Int8Result => (t.kind === 'float' ? floatChunk(m, t, tick) : int8Chunk(m, t, tick));

/** Default --jobs: the cores this process may use. */
export const defaultJobs = (): number => Math.max(1, availableParallelism());

/**
 * The built tool runs worker.js; under the TypeScript sources (vitest) a small bootstrap registers tsx (a
 * devDependency) in the worker first and then imports worker.ts.
 */
function startWorker(spec: ModelSpec): Worker {
  const workerData = { spec };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const tsxDir = createRequire(import.meta.url).resolve('tsx/package.json').replace(/package\.json$/, '');
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * Runs `task` over its items in `jobs` contiguous chunks (in this thread when jobs is 1 or there is one item),
 * ticking `progress` per image; returns the chunk results in chunk order.
 */
export async function runTask<T extends Task>(spec: ModelSpec, loaded: Loaded, task: T, jobs: number, progress: ProgressSink): Promise<Result<T>[]> {
  const items = task.items as T['items'];
  const n = Math.max(1, Math.min(jobs, items.length));
  let done = 0;
  const tick = (): void => progress.tick(++done);
  if (n === 1) return [runChunk(loaded, task, tick) as Result<T>];
  const chunks = Array.from({ length: n }, (_, c) => ({ ...task, items: items.slice(Math.floor((c * items.length) / n), Math.floor(((c + 1) * items.length) / n)) }));
  const workers: Worker[] = [];
  try {
    return await Promise.all(
      chunks.map(
        (chunk) =>
          new Promise<Result<T>>((resolve, reject) => {
            const w = startWorker(spec);
            workers.push(w);
            w.on('message', (msg: { tick?: true; result?: Result<T>; error?: string; hint?: string; user?: boolean }) => {
              if (msg.tick) tick();
              else if (msg.error !== undefined) reject(msg.user ? new UserError(msg.error, msg.hint) : new Error(`eval worker: ${msg.error}`));
              else resolve(msg.result!);
            });
            w.on('error', reject);
            w.on('exit', (code) => (code !== 0 ? reject(new Error(`eval worker exited with code ${code}`)) : undefined));
            w.postMessage(chunk);
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
