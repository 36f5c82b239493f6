/**
 * Stage 1 of the pipeline for a real model file: the int8 model (calibrated on a folder, the image itself, synthetic
 * images, or from a saved ranges file) and a real photo as its int8 input (`sqzfw generate --model M --image photo.jpg`).
 */
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import type { FloatModel } from '../graph/ir.js';
import { listImages, loadImageInput } from '../image/index.js';
import { loadModel, type CardOverrides, type ModelCard, type Preprocessing } from '../import/index.js';
import { Calibrator, IMAGE_CALIBRATION_METHOD, type CalibrationMethod } from '../quantize/calibrate.js';
import { quantizeInput, quantizeModel } from '../quantize/quantize.js';
import type { QModel } from '../quantize/types.js';
import { readRanges } from '../quantize/ranges-file.js';
import { KEPT_CALIBRATION_IMAGES } from '../quantize/int4-rounding.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { syntheticInput, syntheticInputs } from './index.js';

export interface ModelSource {
  model: string;
  card?: string;
  overrides?: CardOverrides;
  inputSize?: { h: number; w: number };
}

/** Calibrates on float model inputs and quantizes. Deterministic. */
function calibrateWithInputs(float: FloatModel, inputs: Float32Array[], o: { method?: CalibrationMethod; percentile?: number }): { qmodel: QModel; calibrator: Calibrator; seconds: number } {
  const cal = new Calibrator(float, { method: o.method ?? IMAGE_CALIBRATION_METHOD, percentile: o.percentile });
  const t0 = performance.now();
  for (const x of inputs) cal.addInput(x);
  return { qmodel: quantizeModel(float, cal.ranges()), calibrator: cal, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Calibrates on the images (name order) and quantizes. Deterministic. `inputs`: the first KEPT_CALIBRATION_IMAGES
 * of them as decoded, kept for mixed precision so that they are not decoded again.
 */
function calibrateWith(float: FloatModel, card: ModelCard, paths: string[], o: { method?: CalibrationMethod; percentile?: number; progress?: ProgressSink }): { qmodel: QModel; calibrator: Calibrator; seconds: number; inputs: Float32Array[] } {
  const progress = o.progress ?? silentProgress;
  const cal = new Calibrator(float, { method: o.method ?? IMAGE_CALIBRATION_METHOD, percentile: o.percentile });
  const t0 = performance.now();
  progress.start(`calibrating (${cal.method})`, paths.length);
  const inputs: Float32Array[] = [];
  paths.forEach((p, i) => {
    const x = loadImageInput(p, card, float.graph.input.dims);
    cal.addInput(x);
    if (i < KEPT_CALIBRATION_IMAGES) inputs.push(x);
    progress.tick(i + 1);
  });
  progress.end();
  const qmodel = quantizeModel(float, cal.ranges());
  return { qmodel, calibrator: cal, seconds: (performance.now() - t0) / 1000, inputs };
}

export interface PreparedImageModel {
  model: QModel;
  input: Int8Array;
  inputNote: string;
  /** Set when there is no image: the input is the synthetic one the demo firmware generates from this seed. */
  inputSeed?: number;
  labels?: string[];
  card: ModelCard;
  preprocessing: Preprocessing;
  calibration: { method: CalibrationMethod; images: number; seconds: number; source: string };
  /**
   * The float model and the first calibration images (up to KEPT_CALIBRATION_IMAGES) for mixed precision: int4 weights
   * are rounded against the first ROUNDING_IMAGES, the per-layer sensitivity is measured on the first
   * SENSITIVITY_IMAGES and the classifier's int8 classes are chosen on the first CLASS_IMAGES (precisionInputs in
   * ../quantize/int4-rounding.ts).
   */
  float: FloatModel;
  calibInputs: Float32Array[];
}

/** Images calibration falls back to without --calib and --image (a real model deserves --calib DIR). */
const SYNTHETIC_CALIBRATION_IMAGES = 4;
/** Seed of the synthetic int8 input used when no image is given (the demo firmware generates it at run time). */
export const SYNTHETIC_INPUT_SEED = 1001;

/**
 * The int8 model and where its ranges came from: a saved ranges file, a folder, the image itself (`imageInput`, the
 * image as decoded once by the caller), or synthetic images; with the first KEPT_CALIBRATION_IMAGES calibration
 * inputs (none for a ranges file).
 */
function quantizeFor(float: FloatModel, card: ModelCard, o: { imageInput?: Float32Array; calib?: string; calibCount?: number; ranges?: string; method?: CalibrationMethod; percentile?: number; progress?: ProgressSink }): { model: QModel; calibration: PreparedImageModel['calibration']; inputs: Float32Array[] } {
  if (o.ranges) {
    if (o.calib) throw new UserError('--ranges and --calib both choose the calibration', 'pass one of them: --ranges reuses a saved calibration, --calib calibrates now');
    const file = readRanges(o.ranges, float);
    return { model: quantizeModel(float, file.ranges), calibration: { method: file.method, images: file.images, seconds: 0, source: `the ranges in ${o.ranges}` }, inputs: [] };
  }
  const paths = o.calib ? listImages(o.calib).slice(0, o.calibCount ?? 100) : [];
  if (o.calib && paths.length === 0) throw new UserError(`no calibration images in ${o.calib}`, 'pass a folder of .jpg/.png images with --calib');
  if (paths.length) {
    const r = calibrateWith(float, card, paths, o);
    return { model: r.qmodel, calibration: { method: r.calibrator.method, images: paths.length, seconds: r.seconds, source: `${paths.length} images from ${o.calib}` }, inputs: r.inputs };
  }
  const inputs = o.imageInput ? [o.imageInput] : syntheticInputs(float, SYNTHETIC_CALIBRATION_IMAGES);
  const r = calibrateWithInputs(float, inputs, o);
  const source = o.imageInput ? `the image itself (no --calib folder)` : `${SYNTHETIC_CALIBRATION_IMAGES} synthetic images (no --calib folder, no --image: pass --calib DIR for real accuracy)`;
  return { model: r.qmodel, calibration: { method: r.calibrator.method, images: inputs.length, seconds: r.seconds, source }, inputs };
}

/**
 * For `sqzfw generate --model M [--image photo.jpg] [--calib DIR | --ranges FILE]`: the int8 model (from a saved
 * ranges file, else calibrated on DIR, else on the image itself, else on a few synthetic images) and the photo as its
 * int8 input (without a photo, the synthetic input the demo generates at run time), with the class names and the
 * card's preprocessing for model.h. The result has the fields of flows.ts's PreparedModel.
 */
export function prepareImageModel(o: ModelSource & { image?: string; calib?: string; calibCount?: number; ranges?: string; method?: CalibrationMethod; percentile?: number; progress?: ProgressSink }): PreparedImageModel {
  const { model: float, card } = loadModel(o.model, { cardPath: o.card, overrides: o.overrides, inputSize: o.inputSize });
  const dims = float.graph.input.dims;
  // The image is decoded once: it is the firmware's input, and the calibration image when there is no --calib folder.
  const x = o.image ? loadImageInput(o.image, card, dims) : undefined;
  const { model, calibration, inputs } = quantizeFor(float, card, { ...o, imageInput: x });
  const preprocessing: Preprocessing = { channelOrder: card.channelOrder, pixelRange: card.pixelRange, mean: card.mean, std: card.std, resize: card.resize, source: card.source };
  // The calibration's own inputs; with a ranges file, the image (or synthetic images) as before.
  const calibInputs = inputs.length ? inputs : x ? [x] : syntheticInputs(float, SYNTHETIC_CALIBRATION_IMAGES);
  const common = { model, labels: card.labels?.names, card, preprocessing, calibration, float, calibInputs };
  if (!o.image || !x) return { ...common, ...syntheticInput(model, SYNTHETIC_INPUT_SEED) };
  return {
    ...common,
    input: quantizeInput(x, model.tensors[model.input]),
    inputNote: `${basename(o.image)}: ${card.resize.mode === 'none' ? 'no resize' : `${card.resize.mode} ${card.resize.size}`}, centre crop ${dims.w}x${dims.h}, ${card.channelOrder}, mean ${card.mean.join(',')}, std ${card.std.join(',')}`,
  };
}
