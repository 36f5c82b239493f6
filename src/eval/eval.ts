/**
 * `sqzfw eval`: ImageNet-style top-1/top-5 of the float model, the int8 golden model and (for N images) the firmware
 * in QEMU, whose every output byte must equal the golden model's.
 *
 * Calibration data: a separate folder (--calib), or else k-fold held-out calibration on the evaluation images
 * (default 2 folds): image i belongs to fold i mod k and is scored by the int8 model calibrated on the other folds,
 * so no image is ever scored by a model that saw it during calibration. The float passes of the calibration are the
 * float scores of the same images, so a 2-fold eval costs one float and one int8 pass per image.
 */
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { UserError } from '../errors.js';
import { scoreTensor, type FloatModel } from '../graph/ir.js';
import { loadImageInput, listImages } from '../image/index.js';
import { loadModel, type CardOverrides, type ModelCard } from '../import/index.js';
import { runGolden, runReference, topK } from '../golden/run.js';
import { Calibrator, IMAGE_CALIBRATION_METHOD, type CalibrationMethod } from '../quantize/calibrate.js';
import { readRanges, type RangesFile } from '../quantize/ranges-file.js';
import { quantizeInput, quantizeModel } from '../quantize/quantize.js';
import type { QModel } from '../quantize/types.js';
import { defaultJobs, runTask, type FloatItem } from './parallel.js';
import { loadBoard } from '../boards/index.js';
import { planModel } from '../planner/index.js';
import { arenaRegions, kernelPath } from '../driver/board-plan.js';
import { budgetTest } from '../precision/apply.js';
import { int4Hessians, int4WeightBytes, selectMixed, weightBytes, type LayerPrecision } from '../precision/mixed.js';
import { withInt4Layers } from '../quantize/int4.js';
import { KEPT_CALIBRATION_IMAGES, precisionInputs, ROUNDING_IMAGES } from '../quantize/int4-rounding.js';
import { groundTruth } from './labels.js';
import { makeDirs } from '../util/out-dir.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import type { BatchInput, BatchResult, Latency, Target } from '../validate/run.js';

/**
 * The firmware path: one validation firmware per int8 model, every input streamed through it (default:
 * validateBatch of src/validate/run.ts, in QEMU or on a board over its serial port).
 */
export interface FirmwareRunner {
  (opts: {
    model: QModel;
    inputs: BatchInput[];
    board: string;
    workDir: string;
    progress: ProgressSink;
    progressLabel: string;
    /** Called once input k is on its way, while the firmware computes: the host's golden pass overlaps it. */
    whileRunning?: (k: number) => void;
  }): Promise<{ results: BatchResult[] }>;
}

export interface EvalOptions {
  model: string;
  card?: string;
  overrides?: CardOverrides;
  inputSize?: { h: number; w: number };
  images: string;
  labels?: string;
  /** Score only the first N images (sorted by name). */
  limit?: number;
  /** Folder of calibration images; default: k-fold held-out calibration on the evaluation images. */
  calib?: string;
  /** A saved calibration (calibrate --out) used for every image instead of calibrating. */
  ranges?: string;
  /** Calibration images per int8 model (default 100). */
  calibCount?: number;
  calibMethod?: CalibrationMethod;
  percentile?: number;
  folds?: number;
  /** Also score the mixed int4/int8 model whose weight arrays fit this many bytes (and the int4-everywhere one). */
  weightsBudget?: number;
  /** Also score the mixed model whose weights fit the internal flash of `board` (and the int4-everywhere one). */
  fitFlash?: boolean;
  /** Also score the model with every conv layer in int4. */
  int4All?: boolean;
  /** Worker threads for the float and int8 passes (default: the cores); the results do not depend on it. */
  jobs?: number;
  /** Run the first N images on the validation firmware (in QEMU, or on the board of `target`). */
  emulate?: number;
  board?: string;
  /** Where the firmware runs: QEMU (default) or a board's serial port. */
  target?: Target;
  /** Per-inference time limit on the firmware, seconds. */
  timeoutS?: number;
  workDir?: string;
  progress?: ProgressSink;
  /** The firmware path; default: validateBatch (one build per int8 model, N images through it). */
  runFirmware?: FirmwareRunner;
}

export interface Score {
  n: number;
  top1: number;
  top5: number;
  top1Acc: number;
  top5Acc: number;
}

export interface ImageResult {
  file: string;
  label: number;
  fold: number;
  float: number[];
  int8: number[];
  int4?: number[];
  mixed?: number[];
  firmware?: { top5: number[]; bitExact: boolean; mismatches: number; ticks?: number; latency?: Latency; error?: string };
}

export interface EvalResult {
  model: { path: string; graph: string; input: string; classes: number; scoreTensor: string };
  card: { source: string; channelOrder: string; pixelRange: number; mean: number[]; std: number[]; resize: string };
  images: { dir: string; count: number; labels: string };
  calibration: { method: CalibrationMethod; source: string; models: number; imagesPerModel: number[]; seconds: number[] };
  float: Score;
  int8: Score;
  /** Images whose int8 top-1 differs from the float top-1. */
  top1Flips: number;
  /** Weight arrays (weights, bias, multipliers, shifts) of each int8 model, bytes. */
  int8WeightBytes: number[];
  /** --int4-all, or with a budget: every conv layer in int4 (one model per int8 model). */
  int4?: VariantScore;
  /** --weights-budget / --fit-flash: the mixed model chosen for each int8 model on its own calibration images. */
  mixed?: VariantScore & { budget: string; models: MixedChoice[] };
  firmware?: Score & { board: string; target: string; bitExact: number; mismatched: string[]; builds: number; seconds: number; latency?: { medianMs: number; kind: Latency['msKind']; clockHz: number; medianInstructions?: number; medianCycles?: number } };
  timing: { floatPassMs: number; int8PassMs: number; totalSeconds: number };
  perImage: ImageResult[];
}

/** A precision variant of the int8 models: its scores, top-1 flips against float, and weight bytes per model. */
export interface VariantScore extends Score {
  top1Flips: number;
  weightBytes: number[];
  /** Against the int8 golden model on the same images: see pairedTop1. */
  vsInt8: PairedTop1;
}

/**
 * Top-1 of a variant against a baseline on the same images: the difference in points, its 95% interval
 * (normal approximation of the mean of the per-image differences, each -1, 0 or 1: on a few hundred images a
 * difference of a point or two is inside it), and the images whose top-1 class changes.
 */
export interface PairedTop1 {
  points: number;
  low: number;
  high: number;
  changed: number;
}

export function pairedTop1(label: number[], top1: number[], base: number[]): PairedTop1 {
  const n = label.length;
  const d = label.map((l, i) => Number(top1[i] === l) - Number(base[i] === l));
  const mean = d.reduce((a, b) => a + b, 0) / n;
  const se = n > 1 ? Math.sqrt(d.reduce((a, x) => a + (x - mean) ** 2, 0) / (n * (n - 1))) : 0;
  return { points: 100 * mean, low: 100 * (mean - 1.96 * se), high: 100 * (mean + 1.96 * se), changed: top1.filter((t, i) => t !== base[i]).length };
}

/** How the mixed model of one int8 model (fold) was chosen. */
export interface MixedChoice {
  int4Layers: string[];
  /** Images its per-layer sensitivity was measured on (calibration images of that model, never scored by it). */
  sensitivityImages: number;
  /** Images its int4 weights were rounded against (the same calibration images and the next ones). */
  roundingImages: number;
  /** Images the classifier's int8 classes were chosen on (the same calibration images and the next ones). */
  classImages: number;
  /** Relative output error and top-1 agreement with the int8 model on those images (the estimate generate prints). */
  outputError: number;
  top1AgreementWithInt8: number;
  layers: LayerPrecision[];
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function score(results: { label: number; top: number[] }[]): Score {
  const n = results.length;
  const top1 = results.filter((r) => r.top[0] === r.label).length;
  const top5 = results.filter((r) => r.top.slice(0, 5).includes(r.label)).length;
  return { n, top1, top5, top1Acc: n ? top1 / n : 0, top5Acc: n ? top5 / n : 0 };
}


/** Calibration + quantization of one int8 model from a calibrator. */
function finishModel(model: FloatModel, cal: Calibrator): QModel {
  return quantizeModel(model, cal.ranges());
}

/** Resolves on the event loop's next turn (pending I/O and worker messages run first). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runEval(opts: EvalOptions): Promise<EvalResult> {
  const t0 = Date.now();
  const progress = opts.progress ?? silentProgress;
  // An unusable --work-dir fails now, not after the float and calibration passes.
  if (opts.workDir !== undefined && (opts.emulate ?? 0) > 0) makeDirs(opts.workDir, `--work-dir ${opts.workDir}`);
  const { model, card } = loadModel(opts.model, { cardPath: opts.card, overrides: opts.overrides, inputSize: opts.inputSize });
  const g = model.graph;
  const dims = g.input.dims;
  const target = scoreTensor(g);
  const classes = g.tensors[target].c;
  // A budget that int4 everywhere cannot meet fails now, not after the float passes.
  if (opts.weightsBudget !== undefined && int4WeightBytes(model) > opts.weightsBudget) {
    throw new UserError(`${g.name} does not fit a weights budget of ${opts.weightsBudget} bytes even with int4 weights in every layer (${int4WeightBytes(model)} bytes of weight arrays)`, 'raise the budget');
  }
  let images = listImages(opts.images);
  if (opts.limit !== undefined) images = images.slice(0, opts.limit);
  const truth = groundTruth(images, opts.images, { csv: opts.labels, classes, labels: card.labels });
  const method = opts.calibMethod ?? IMAGE_CALIBRATION_METHOD;
  const calibCount = opts.calibCount ?? 100;
  const calOpts = { method, percentile: opts.percentile };
  const load = (p: string): Float32Array => loadImageInput(p, card, dims);
  const jobs = opts.jobs ?? defaultJobs();
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs ${jobs} must be a positive integer`, 'pass --jobs 1 for one thread, or leave it out to use every core');
  const spec = { model: opts.model, card: opts.card, overrides: opts.overrides, inputSize: opts.inputSize };
  const loaded = { model, card };
  const floatMs = new Array<number>(images.length);
  const floatTop: number[][] = new Array(images.length);
  let calSource: string;
  let foldOf: (i: number) => number;
  let folds: number;
  // Float passes: every evaluation image is scored; calibration images feed the calibration of their folds.
  const items: FloatItem[] = images.map((path, i) => ({ i, path, folds: [], score: true }));
  let fixed: RangesFile | undefined;
  if (opts.ranges) {
    if (opts.calib) throw new UserError('--ranges and --calib both choose the calibration', 'pass one of them: --ranges reuses a saved calibration, --calib calibrates now');
    fixed = readRanges(opts.ranges, model);
    folds = 0;
    foldOf = () => 0;
    calSource = `the ranges in ${opts.ranges} (${fixed.method}, ${fixed.images} images; not held out)`;
  } else if (opts.calib) {
    const calPaths = listImages(opts.calib).slice(0, calibCount);
    items.unshift(...calPaths.map((path, i) => ({ i: -1 - i, path, folds: [0], score: false })));
    folds = 1;
    foldOf = () => 0;
    calSource = `${calPaths.length} images from ${opts.calib}`;
  } else {
    const k = opts.folds ?? 2;
    if (!Number.isInteger(k) || k < 2) throw new UserError(`--folds ${k} must be an integer of at least 2`, 'or pass --calib DIR with separate calibration images');
    if (images.length < k) throw new UserError(`${images.length} image(s) cannot be split into ${k} calibration folds`, 'pass more images, or --calib DIR with separate calibration images');
    folds = k;
    foldOf = (i) => i % k;
    // Model f is calibrated on up to calibCount images of the other folds, in name order.
    const taken = new Array<number>(k).fill(0);
    for (const it of items) {
      for (let f = 0; f < k; f++) {
        if (f !== foldOf(it.i) && taken[f] < calibCount) {
          it.folds.push(f);
          taken[f]++;
        }
      }
    }
    calSource = `${k}-fold held-out on the evaluation images (image i is scored by the model calibrated on the folds other than i mod ${k})`;
  }
  progress.start(opts.calib ? 'calibration + float model' : 'float + calibration', items.length);
  const floatParts = await runTask(spec, loaded, { kind: 'float', target, folds, method, percentile: opts.percentile, items }, jobs, progress);
  progress.end();
  const cals = Array.from({ length: folds }, () => new Calibrator(model, calOpts));
  const calTime = new Array<number>(folds).fill(0);
  for (const part of floatParts) {
    for (const [i, top] of part.tops) floatTop[i] = top;
    for (const [i, ms] of part.floatMs) floatMs[i] = ms;
    part.cal.forEach((st, f) => cals[f].mergeState(st));
    part.calMs.forEach((ms, f) => (calTime[f] += ms));
  }
  const qmodels = fixed ? [quantizeModel(model, fixed.ranges)] : cals.map((c) => finishModel(model, c));
  const calSeconds = calTime.map((ms) => ms / 1000);
  const calImages = fixed ? [fixed.images] : cals.map((c) => c.images);

  // Precision variants of every int8 model: int4 everywhere, and the mixed model under the budget. Both round their
  // int4 weights against the layer inputs on the model's first ROUNDING_IMAGES calibration images (held out from the
  // images it scores); the mixed model's per-layer sensitivity is measured on the first SENSITIVITY_IMAGES of them,
  // its classifier's int8 classes chosen on the first CLASS_IMAGES.
  const budgeted = opts.weightsBudget !== undefined || !!opts.fitFlash;
  let int4Models: QModel[] | undefined;
  let mixed: { budget: string; models: QModel[]; choices: MixedChoice[] } | undefined;
  if (opts.int4All || budgeted) {
    const board = loadBoard(opts.board ?? 'mps2-an500');
    const calibPaths = (f: number): string[] => (fixed ? images : items.filter((it) => it.folds.includes(f)).map((it) => it.path)).slice(0, budgeted ? KEPT_CALIBRATION_IMAGES : ROUNDING_IMAGES);
    int4Models = [];
    const models: QModel[] = [];
    const choices: MixedChoice[] = [];
    let what = '';
    for (const [f, q] of qmodels.entries()) {
      // each fold's rounding and selection run for tens of seconds on this thread: let its messages through between
      await nextTurn();
      const use = precisionInputs(calibPaths(f).map((p) => quantizeInput(load(p), q.tensors[q.input])));
      const hessians = int4Hessians(q, use.rounding);
      int4Models.push(withInt4Layers(model, q, q.layers.filter((l) => l.op === 'conv').map((l) => l.name), hessians));
      if (!budgeted) continue;
      // As generate counts the flash: the plan's kernel calls, the class names, no stored input image.
      const steps = opts.fitFlash ? planModel(q, { regions: arenaRegions(board), path: kernelPath(board) }).steps : [];
      const test = budgetTest(board, { steps, storedInput: false, labels: card.labels?.names }, { weightsBudget: opts.weightsBudget, fitFlash: opts.fitFlash });
      what = test.what;
      progress.start(`int4 sensitivity${qmodels.length > 1 ? ` model ${f}` : ''}`, use.sensitivity.length);
      await nextTurn();
      const r = selectMixed(model, q, use.sensitivity, target, test.fits, what, { tick: (d) => progress.tick(d), hessians, int4: int4Models[f], classInputs: use.classes });
      progress.end();
      models.push(r.model);
      choices.push({ int4Layers: r.layers.filter((l) => l.bits === 4).map((l) => l.name), sensitivityImages: r.inputs, roundingImages: use.rounding.length, classImages: use.classes.length, outputError: r.outputError, top1AgreementWithInt8: r.top1AgreementWithInt8, layers: r.layers });
    }
    if (budgeted) mixed = { budget: what, models, choices };
  }
  const variants = [qmodels, ...(int4Models ? [int4Models] : []), ...(mixed ? [mixed.models] : [])];

  // int8 golden model.
  const int8Top: number[][] = new Array(images.length);
  const int8Ms = new Array<number>(images.length);
  const nEmu = Math.min(opts.emulate ?? 0, images.length);
  const int4Top: number[][] = new Array(images.length);
  const mixedTop: number[][] = new Array(images.length);
  progress.start(variants.length > 1 ? `int8${int4Models ? ', int4' : ''}${mixed ? ', mixed' : ''} golden` : 'int8 golden model', images.length);
  const modelList = variants.flat();
  const int8Parts = await runTask(spec, loaded, { kind: 'int8', target, qmodels: modelList, items: images.map((path, i) => ({ i, path, models: variants.map((_, v) => v * qmodels.length + foldOf(i)) })) }, jobs, progress);
  progress.end();
  for (const part of int8Parts) {
    for (const [i, tops] of part.tops) {
      int8Top[i] = tops[0];
      if (int4Models) int4Top[i] = tops[1];
      if (mixed) mixedTop[i] = tops[variants.length - 1];
    }
    for (const [i, ms] of part.int8Ms) int8Ms[i] = ms;
  }
  const qInputs = new Map<number, Int8Array>();
  for (let i = 0; i < nEmu; i++) qInputs.set(i, quantizeInput(load(images[i]), qmodels[foldOf(i)].tensors[qmodels[foldOf(i)].input]));

  const perImage: ImageResult[] = images.map((p, i) => ({
    file: basename(p),
    label: truth.labels[i],
    fold: foldOf(i),
    float: floatTop[i],
    int8: int8Top[i],
    ...(int4Models ? { int4: int4Top[i] } : {}),
    ...(mixed ? { mixed: mixedTop[i] } : {}),
  }));
  const floatScore = score(perImage.map((r) => ({ label: r.label, top: r.float })));
  const int8Score = score(perImage.map((r) => ({ label: r.label, top: r.int8 })));
  const variantScore = (tops: number[][], ms: QModel[]): VariantScore => ({
    ...score(perImage.map((r, i) => ({ label: r.label, top: tops[i] }))),
    top1Flips: perImage.filter((r, i) => r.float[0] !== tops[i][0]).length,
    weightBytes: ms.map(weightBytes),
    vsInt8: pairedTop1(perImage.map((r) => r.label), tops.map((t) => t[0]), perImage.map((r) => r.int8[0])),
  });

  let firmware: EvalResult['firmware'];
  if (nEmu > 0) {
    const board = opts.board ?? 'mps2-an500';
    const where: Target = opts.target ?? { kind: 'emulate' };
    const run: FirmwareRunner = opts.runFirmware ?? (async (o) => (await import('../validate/run.js')).validateBatch({ ...o, target: where, timeoutS: opts.timeoutS }));
    const workRoot = opts.workDir ?? join(tmpdir(), `sqzfw-eval-${process.pid}`);
    const mismatched: string[] = [];
    let bitExact = 0;
    const tf = Date.now();
    // One firmware per int8 model (fold): every image of that fold streams through it.
    const folds = [...new Set(Array.from({ length: nEmu }, (_, i) => foldOf(i)))];
    for (const fold of folds) {
      const idx = Array.from({ length: nEmu }, (_, i) => i).filter((i) => foldOf(i) === fold);
      const q = qmodels[fold];
      const inputs = idx.map((i) => ({ name: perImage[i].file, input: qInputs.get(i)! }));
      const label = `firmware ${where.kind === 'emulate' ? `in QEMU (${board})` : `on ${where.port}`}${folds.length > 1 ? ` fold ${fold}` : ''}`;
      const goldens: Record<string, Int8Array>[] = [];
      const goldenOf = (k: number): Record<string, Int8Array> => {
        if (!goldens[k]) {
          const golden = runGolden(q, inputs[k].input);
          // The fast engine must equal the reference kernels; a difference is a bug in sqzfw, not a firmware result.
          const reference = runReference(q, inputs[k].input);
          for (const o of q.outputs) {
            if (!golden[o].every((v, j) => v === reference[o][j])) throw new Error(`internal: the fast int8 engine differs from the reference kernels on ${o} for ${inputs[k].name}`);
          }
          goldens[k] = golden;
        }
        return goldens[k];
      };
      const { results } = await run({ model: q, inputs, board, workDir: join(workRoot, `fold${fold}`), progress, progressLabel: label, whileRunning: (k) => void goldenOf(k) });
      idx.forEach((i, k) => {
        const golden = goldenOf(k);
        const r = results[k];
        if (!r || r.name !== perImage[i].file) throw new Error(`internal: the firmware runner returned no result for ${perImage[i].file}`);
        let mismatches = 0;
        if ('outputs' in r) {
          for (const o of q.outputs) {
            const a = r.outputs[o];
            if (!a || a.length !== golden[o].length) mismatches += golden[o].length;
            else for (let j = 0; j < a.length; j++) if (a[j] !== golden[o][j]) mismatches++;
          }
        }
        const ok = 'outputs' in r && mismatches === 0;
        if (ok) bitExact++;
        else mismatched.push(`${perImage[i].file}: ${'error' in r ? r.error : `${mismatches} output bytes differ`}`);
        const fwScore = 'outputs' in r ? r.outputs[target] : undefined;
        perImage[i].firmware = {
          top5: fwScore ? topK(fwScore, 5) : [],
          bitExact: ok,
          mismatches,
          ...('outputs' in r ? { ticks: r.latency.ticks, latency: r.latency } : { error: r.error }),
        };
      });
    }
    const s = score(perImage.slice(0, nEmu).map((r) => ({ label: r.label, top: r.firmware!.top5 })));
    const lat = perImage.slice(0, nEmu).flatMap((r) => (r.firmware?.latency ? [r.firmware.latency] : []));
    const latency = lat.length
      ? {
          medianMs: median(lat.map((l) => l.ms)),
          kind: lat[0].msKind,
          clockHz: lat[0].clockHz,
          ...(lat[0].instructions !== undefined ? { medianInstructions: median(lat.map((l) => l.instructions ?? 0)) } : {}),
          ...(lat[0].cycles !== undefined ? { medianCycles: median(lat.map((l) => l.cycles ?? 0)) } : {}),
        }
      : undefined;
    firmware = { ...s, board, target: where.kind === 'emulate' ? 'qemu' : where.port, bitExact, mismatched, builds: where.kind === 'emulate' ? folds.length : 0, seconds: (Date.now() - tf) / 1000, latency };
  }

  return {
    model: { path: opts.model, graph: g.name, input: `${dims.h}x${dims.w}x${dims.c}`, classes, scoreTensor: target },
    card: describeCard(card),
    images: { dir: opts.images, count: images.length, labels: truth.source },
    calibration: { method: fixed?.method ?? method, source: calSource, models: qmodels.length, imagesPerModel: calImages, seconds: calSeconds },
    float: floatScore,
    int8: int8Score,
    top1Flips: perImage.filter((r) => r.float[0] !== r.int8[0]).length,
    int8WeightBytes: qmodels.map(weightBytes),
    ...(int4Models ? { int4: variantScore(int4Top, int4Models) } : {}),
    ...(mixed ? { mixed: { ...variantScore(mixedTop, mixed.models), budget: mixed.budget, models: mixed.choices } } : {}),
    firmware,
    timing: { floatPassMs: median(floatMs), int8PassMs: median(int8Ms), totalSeconds: (Date.now() - t0) / 1000 },
    perImage,
  };
}


export function describeCard(card: ModelCard): EvalResult['card'] {
  return {
    source: card.source,
    channelOrder: card.channelOrder,
    pixelRange: card.pixelRange,
    mean: card.mean,
    std: card.std,
    resize: card.resize.mode === 'none' ? 'none' : `${card.resize.mode} side ${card.resize.size}`.replace('squash side', 'squash to'),
  };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** "median 1,234,567 instructions (QEMU -icount): ~5.1 ms at 240 MHz, an estimate ..." or the measured cycles. */
export function formatLatency(l: NonNullable<NonNullable<EvalResult['firmware']>['latency']>): string {
  const mhz = `${+(l.clockHz / 1e6).toFixed(3)} MHz`;
  if (l.kind === 'estimate')
    return `median ${Math.round(l.medianInstructions ?? 0).toLocaleString('en-US')} instructions (QEMU -icount) -> ~${l.medianMs.toFixed(1)} ms at ${mhz}: an estimate from instruction counts at one instruction per cycle, not a cycle measurement`;
  return l.medianCycles !== undefined
    ? `median ${Math.round(l.medianCycles).toLocaleString('en-US')} cycles (DWT) = ${l.medianMs.toFixed(1)} ms at ${mhz}, measured on the board`
    : `median ${l.medianMs.toFixed(1)} ms (SysTick at ${mhz}), measured on the board`;
}


/** The human summary table. */
export function formatEval(r: EvalResult): string {
  const lines: string[] = [];
  lines.push(`model        ${r.model.path} (${r.model.graph}, input ${r.model.input}, ${r.model.classes} classes, ranked on ${r.model.scoreTensor})`);
  lines.push(`card         ${r.card.source}`);
  lines.push(`             ${r.card.channelOrder}, pixels 0..${r.card.pixelRange}, mean ${r.card.mean.join(',')}, std ${r.card.std.join(',')}, resize ${r.card.resize} + centre crop`);
  lines.push(`images       ${r.images.count} from ${r.images.dir} (labels: ${r.images.labels})`);
  // Saved ranges (--ranges): no calibration ran, and the source already names the file's method and images.
  const ran = r.calibration.seconds.length ? `; ${r.calibration.imagesPerModel.join(' + ')} images, ${r.calibration.seconds.map((s) => `${s.toFixed(1)} s`).join(' + ')}` : '';
  lines.push(`calibration  ${r.calibration.method}, ${r.calibration.source}${ran}`);
  lines.push('');
  const variants = Boolean(r.int4 || r.mixed);
  const rows: string[][] = [['', 'top-1', '', 'top-5', '', ...(variants ? ['flips vs float', 'weight bytes'] : [])]];
  const bytes = (b: number[]): string => [...new Set(b)].join(' / ');
  const add = (name: string, s: Score, flips?: number, weights?: number[]): void =>
    void rows.push([name, `${s.top1}/${s.n}`, pct(s.top1Acc), `${s.top5}/${s.n}`, pct(s.top5Acc), ...(variants ? [flips === undefined ? '' : String(flips), weights ? bytes(weights) : ''] : [])]);
  add('float', r.float);
  add('int8 golden', r.int8, r.top1Flips, r.int8WeightBytes);
  if (r.int4) add('int4 everywhere', r.int4, r.int4.top1Flips, r.int4.weightBytes);
  if (r.mixed) add('mixed int4/int8', r.mixed, r.mixed.top1Flips, r.mixed.weightBytes);
  if (r.firmware) add(`firmware (${r.firmware.board})`, r.firmware);
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) lines.push(row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('   '));
  lines.push('');
  lines.push(`int8 vs float: ${r.top1Flips} of ${r.images.count} images change their top-1 class`);
  const paired = (name: string, v: VariantScore): string => {
    const pt = (x: number): string => `${x > 0 ? '+' : ''}${x.toFixed(1)}`;
    return `${name} vs int8: top-1 ${pt(v.vsInt8.points)} points (95% interval ${pt(v.vsInt8.low)} .. ${pt(v.vsInt8.high)}, paired over the images); ${v.vsInt8.changed} images change their top-1 class`;
  };
  if (r.int4) lines.push(paired('int4 everywhere', r.int4));
  if (r.mixed) lines.push(paired('mixed', r.mixed));
  if (r.mixed) {
    lines.push(`mixed precision: ${r.mixed.budget}; int4 layers chosen per int8 model on its first ${r.mixed.models[0]?.sensitivityImages ?? 0} calibration images, int4 weights rounded against its first ${r.mixed.models[0]?.roundingImages ?? 0}, the classifier's int8 classes chosen on its first ${r.mixed.models[0]?.classImages ?? 0}:`);
    r.mixed.models.forEach((m, f) => {
      const named = m.layers.filter((l) => l.bits === 4).map((l) => (l.int8Channels ? `${l.name} with ${l.int8Channels} of ${l.channels} classes int8` : l.name));
      lines.push(`  model ${f}: ${m.int4Layers.length} of ${m.layers.length} conv layers in int4 (${named.join(', ') || 'none'}); est. output error ${(100 * m.outputError).toFixed(2)}%`);
    });
  }
  if (r.firmware) {
    const f = r.firmware;
    lines.push(`firmware: ${f.bitExact}/${f.n} images bit-exact with the int8 golden model on every output byte`);
    for (const m of f.mismatched.slice(0, 5)) lines.push(`  MISMATCH ${m}`);
    if (f.mismatched.length > 5) lines.push(`  ... and ${f.mismatched.length - 5} more`);
    lines.push(`firmware runs: ${f.target === 'qemu' ? `${f.builds} firmware build(s) in QEMU` : `the board on ${f.target}`}, ${f.seconds.toFixed(0)} s for ${f.n} images (${(f.seconds / f.n).toFixed(1)} s per image, build included)`);
    if (f.latency) lines.push(`latency per inference: ${formatLatency(f.latency)}`);
  }
  lines.push(`median pass: float ${r.timing.floatPassMs.toFixed(0)} ms, int8 golden ${r.timing.int8PassMs.toFixed(0)} ms; total ${r.timing.totalSeconds.toFixed(0)} s`);
  return lines.join('\n');
}
