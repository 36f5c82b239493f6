/**
 * Accuracy cost of compressed on-die weights: top-1/top-5 on labelled images of the float model, the int8 model and
 * each compressed variant (codebooks, pruning), run by the fast int8 engine. Calibration as `sqzfw eval` does it
 * by default: k-fold held out (image i is scored by models calibrated on the other folds); each compressed variant
 * is derived from the same fold models, so the only difference from int8 is the compression.
 */
import { listImages } from '../image/index.js';
import { loadModel, type CardOverrides } from '../import/index.js';
import { Calibrator, IMAGE_CALIBRATION_METHOD } from '../quantize/calibrate.js';
import { quantizeModel } from '../quantize/quantize.js';
import type { QModel } from '../quantize/types.js';
import { defaultJobs, runTask, type FloatItem } from '../eval/parallel.js';
import { groundTruth } from '../eval/labels.js';
import { scoreTensor } from '../graph/ir.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { UserError } from '../errors.js';
import { compressModel, type CompressOptions } from './compress.js';

export interface AccuracyScore {
  name: string;
  n: number;
  top1: number;
  top5: number;
  /** Images whose top-1 differs from the float model's. */
  flipsVsFloat: number;
  /** Images whose top-1 differs from the int8 model's (0 for int8 itself). */
  flipsVsInt8: number;
}

export interface AccuracyOptions {
  model: string;
  card?: string;
  overrides?: CardOverrides;
  images: string;
  limit?: number;
  folds?: number;
  calibCount?: number;
  jobs?: number;
  variants: { name: string; options: CompressOptions }[];
  progress?: ProgressSink;
}

export interface AccuracyResult {
  images: number;
  calibration: string;
  scores: AccuracyScore[];
}

export async function compressionAccuracy(o: AccuracyOptions): Promise<AccuracyResult> {
  const { model, card } = loadModel(o.model, { cardPath: o.card, overrides: o.overrides });
  const target = scoreTensor(model.graph);
  let images = listImages(o.images);
  if (o.limit !== undefined) images = images.slice(0, o.limit);
  const k = o.folds ?? 2;
  if (images.length < k) throw new UserError(`${images.length} image(s) cannot be split into ${k} calibration folds`, 'pass a folder with more images');
  const truth = groundTruth(images, o.images, { classes: model.graph.tensors[target]!.c, labels: card.labels });
  const calibCount = o.calibCount ?? 100;
  const jobs = o.jobs ?? defaultJobs();
  const progress = o.progress ?? silentProgress;
  const spec = { model: o.model, card: o.card, overrides: o.overrides };
  const loaded = { model, card };
  const taken = new Array<number>(k).fill(0);
  const items: FloatItem[] = images.map((path, i) => {
    const folds: number[] = [];
    for (let f = 0; f < k; f++) if (f !== i % k && taken[f]! < calibCount) (folds.push(f), taken[f]!++);
    return { i, path, folds, score: true };
  });
  progress.start('float + calibration', items.length);
  const parts = await runTask(spec, loaded, { kind: 'float', target, folds: k, method: IMAGE_CALIBRATION_METHOD, items }, jobs, progress);
  progress.end();
  const cals = Array.from({ length: k }, () => new Calibrator(model, { method: IMAGE_CALIBRATION_METHOD }));
  const floatTop: number[][] = new Array(images.length);
  for (const p of parts) {
    for (const [i, top] of p.tops) floatTop[i] = top;
    p.cal.forEach((st, f) => cals[f]!.mergeState(st));
  }
  const int8Models = cals.map((c) => quantizeModel(model, c.ranges()));
  const runs: { name: string; qmodels: QModel[] }[] = [
    { name: 'int8', qmodels: int8Models },
    ...o.variants.map((v) => ({ name: v.name, qmodels: int8Models.map((q) => compressModel(q, v.options).model) })),
  ];
  const scores: AccuracyScore[] = [];
  let int8Top: number[][] = [];
  for (const r of runs) {
    progress.start(r.name, images.length);
    const res = await runTask(spec, loaded, { kind: 'int8', target, qmodels: r.qmodels, items: images.map((path, i) => ({ i, path, models: [i % k] })) }, jobs, progress);
    progress.end();
    const top: number[][] = new Array(images.length);
    for (const p of res) for (const [i, t] of p.tops) top[i] = t[0]!;
    if (r.name === 'int8') int8Top = top;
    scores.push(score(r.name, top, truth.labels, floatTop, int8Top));
  }
  return {
    images: images.length,
    calibration: `${k}-fold held out on the evaluation images, up to ${calibCount} images per fold model`,
    scores: [score('float', floatTop, truth.labels, floatTop, int8Top), ...scores],
  };
}

function score(name: string, top: number[][], labels: number[], floatTop: number[][], int8Top: number[][]): AccuracyScore {
  const n = top.length;
  let top1 = 0;
  let top5 = 0;
  let flipsVsFloat = 0;
  let flipsVsInt8 = 0;
  for (let i = 0; i < n; i++) {
    const t = top[i]!;
    if (t[0] === labels[i]) top1++;
    if (t.slice(0, 5).includes(labels[i]!)) top5++;
    if (t[0] !== floatTop[i]![0]) flipsVsFloat++;
    if (int8Top.length && t[0] !== int8Top[i]![0]) flipsVsInt8++;
  }
  return { name, n, top1, top5, flipsVsFloat, flipsVsInt8 };
}

export function formatAccuracy(r: AccuracyResult): string[] {
  const pct = (a: number, n: number): string => `${((100 * a) / n).toFixed(1)}%`;
  const lines = [`accuracy on ${r.images} images (${r.calibration}; fast int8 engine):`];
  for (const s of r.scores)
    lines.push(`  ${s.name.padEnd(22)} top-1 ${pct(s.top1, s.n).padStart(6)}  top-5 ${pct(s.top5, s.n).padStart(6)}  top-1 flips vs float ${String(s.flipsVsFloat).padStart(3)}, vs int8 ${String(s.flipsVsInt8).padStart(3)}`);
  return lines;
}
