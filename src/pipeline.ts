/**
 * The pipeline's front half as plain functions: graph -> float model -> calibration -> QModel.
 * Each stage is a module with plain-data inputs and outputs; this file only wires them.
 */
import type { FloatModel } from './graph/ir.js';
import { buildSqueezeNet, type Variant } from './graph/squeezenet.js';
import { calibrate, type CalibrationOptions } from './quantize/calibrate.js';
import { quantizeInput, quantizeModel } from './quantize/quantize.js';
import type { QModel } from './quantize/types.js';
import { syntheticImage, syntheticModel } from './weights/synthetic.js';

export type { Variant } from './graph/squeezenet.js';

export interface SyntheticModelOptions {
  variant: Variant;
  inputSize: number;
  classes: number;
  seed?: number;
  softmax?: boolean;
  /** Number of synthetic calibration images (default 4). */
  calibrationImages?: number;
}

export function syntheticFloatModel(opts: SyntheticModelOptions): FloatModel {
  const graph = buildSqueezeNet({ variant: opts.variant, inputSize: opts.inputSize, classes: opts.classes, softmax: opts.softmax });
  return syntheticModel(graph, opts.seed ?? 1);
}

/** Calibrates a float model on inputs and quantizes it. */
export function quantizeFloatModel(model: FloatModel, calibrationInputs: Float32Array[], calib: CalibrationOptions = {}): QModel {
  return quantizeModel(model, calibrate(model, calibrationInputs, calib));
}

/** Deterministic synthetic calibration images for a model's input shape. */
export function syntheticInputs(model: FloatModel, count: number, seed = 100): Float32Array[] {
  const d = model.graph.input.dims;
  return Array.from({ length: count }, (_, i) => syntheticImage(d.h, d.w, d.c, seed + i));
}

/** Synthetic SqueezeNet, calibrated on synthetic images: the demo and test model. Deterministic. */
export function buildQuantizedModel(opts: SyntheticModelOptions): QModel {
  const model = syntheticFloatModel(opts);
  return quantizeFloatModel(model, syntheticInputs(model, opts.calibrationImages ?? 4));
}

/** The int8 input for a float image, quantized with the model's input parameters. */
export const quantizeModelInput = (model: QModel, x: Float32Array): Int8Array => quantizeInput(x, model.tensors[model.input]);
