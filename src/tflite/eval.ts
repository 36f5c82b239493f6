/**
 * `sqzfw eval --model file.tflite`: top-1/top-5 of the int8 golden model of a .tflite file (quantization as stored,
 * so what TFLite Micro computes) on a folder of labelled images, and (--emulate N) of the firmware in QEMU, bit-exact.
 * No float model and no calibration: the file is already int8.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { groundTruth } from '../eval/labels.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import type { Score } from '../eval/eval.js';
import { runOnFirmware } from '../driver/index.js';
import { runGolden, topK } from '../golden/run.js';
import { listImages, loadImageInput } from '../image/index.js';
import type { CardOverrides } from '../import/card.js';
import { quantizeInput } from '../quantize/quantize.js';
import { loadTflite, tfliteCard } from './index.js';

export interface TfliteEvalOptions {
  model: string;
  card?: string;
  overrides?: CardOverrides;
  images: string;
  labels?: string;
  limit?: number;
  emulate?: number;
  board?: string;
  workDir?: string;
  progress?: ProgressSink;
}

export interface TfliteEvalResult {
  model: { path: string; input: string; classes: number; scoreTensor: string };
  images: { dir: string; count: number; labels: string };
  int8: Score;
  firmware?: Score & { board: string; bitExact: number; mismatched: string[] };
}

function score(results: { label: number; top: number[] }[]): Score {
  const n = results.length;
  const top1 = results.filter((r) => r.top[0] === r.label).length;
  const top5 = results.filter((r) => r.top.slice(0, 5).includes(r.label)).length;
  return { n, top1, top5, top1Acc: n ? top1 / n : 0, top5Acc: n ? top5 / n : 0 };
}

export async function runTfliteEval(o: TfliteEvalOptions): Promise<TfliteEvalResult> {
  const progress = o.progress ?? silentProgress;
  const { model } = loadTflite(o.model);
  const card = tfliteCard(model, { cardPath: o.card, overrides: o.overrides });
  const out = model.outputs[0];
  const sm = model.layers.find((l) => l.output === out && l.op === 'softmax');
  const target = sm ? sm.inputs[0] : out; // finer than the int8 softmax, same order
  const t = model.tensors[model.input];
  let images = listImages(o.images);
  if (o.limit !== undefined) images = images.slice(0, o.limit);
  const truth = groundTruth(images, o.images, { csv: o.labels, classes: model.tensors[target].dims.c, labels: card.labels });
  const inputs = (p: string): Int8Array => quantizeInput(loadImageInput(p, card, t.dims), t);
  const int8: { label: number; top: number[] }[] = [];
  progress.start('int8 golden', images.length);
  images.forEach((p, i) => {
    int8.push({ label: truth.labels[i], top: topK(runGolden(model, inputs(p))[target], 5) });
    progress.tick(i + 1);
  });
  progress.end();
  const result: TfliteEvalResult = {
    model: { path: o.model, input: `${t.dims.h}x${t.dims.w}x${t.dims.c}`, classes: model.tensors[target].dims.c, scoreTensor: target },
    images: { dir: o.images, count: images.length, labels: truth.source },
    int8: score(int8),
  };
  const n = Math.min(o.emulate ?? 0, images.length);
  if (n > 0) {
    const board = o.board ?? 'mps2-an500';
    const tmp = o.workDir ? undefined : mkdtempSync(join(tmpdir(), 'sqzfw-eval-tflite-'));
    const work = o.workDir ?? join(tmp!, 'firmware');
    const fw: { label: number; top: number[] }[] = [];
    const mismatched: string[] = [];
    let bitExact = 0;
    try {
      progress.start(`firmware (${board})`, n);
      for (let i = 0; i < n; i++) {
        // runOnFirmware throws when any output byte differs from the golden model.
        const r = await runOnFirmware({ model, input: inputs(images[i]), board, workDir: work, inputNote: images[i] });
        fw.push({ label: truth.labels[i], top: topK(Array.from(r.outputs[out]), 5) });
        if (r.comparison.mismatches.length === 0 && r.comparison.missing.length === 0) bitExact++;
        else mismatched.push(images[i]);
        progress.tick(i + 1);
      }
      progress.end();
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
    result.firmware = { ...score(fw), board, bitExact, mismatched };
  }
  return result;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function formatTfliteEval(r: TfliteEvalResult): string {
  const lines = [
    `model        ${r.model.path} (int8 .tflite, quantization as stored; input ${r.model.input}, ${r.model.classes} classes, ranked on ${r.model.scoreTensor})`,
    `images       ${r.images.count} from ${r.images.dir} (labels: ${r.images.labels})`,
    '',
    `int8 golden (= TFLite Micro)   top-1 ${r.int8.top1}/${r.int8.n} ${pct(r.int8.top1Acc)}   top-5 ${r.int8.top5}/${r.int8.n} ${pct(r.int8.top5Acc)}`,
  ];
  if (r.firmware) {
    const f = r.firmware;
    lines.push(`firmware (${f.board})   top-1 ${f.top1}/${f.n} ${pct(f.top1Acc)}   top-5 ${f.top5}/${f.n} ${pct(f.top5Acc)}`);
    lines.push(`firmware: ${f.bitExact}/${f.n} images bit-exact with the int8 golden model on every output byte`);
  }
  return lines.join('\n');
}
