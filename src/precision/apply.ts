/**
 * The precision stage of generate: with --weights-budget or --fit-flash, the prepared int8 model becomes the mixed
 * int4/int8 model of src/precision/mixed.ts whose weight arrays fit the budget, or the board's internal flash next
 * to the code of the given plan (the external weights regions, such as QSPI, are not used).
 */
import type { Board } from '../boards/index.js';
import { UserError } from '../errors.js';
import type { FloatModel } from '../graph/ir.js';
import { codeRegionReserve, codeSteps, placeWeights, weightArraysOf } from '../emit/weights-placement.js';
import type { Step } from '../planner/types.js';
import { scoreTensor } from '../graph/ir.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { quantizeInput } from '../quantize/quantize.js';
import type { QModel } from '../quantize/types.js';
import { precisionInputs } from '../quantize/int4-rounding.js';
import { int4Hessians, selectMixed, weightBytes, type MixedResult } from './mixed.js';

export interface PrecisionOptions {
  /** Bytes the weight arrays (weights, bias, multipliers, shifts) may take. */
  weightsBudget?: number;
  /** Fit the weights in the board's internal flash. */
  fitFlash?: boolean;
}

export interface PrecisionSource {
  model: QModel;
  /** The float model and its calibration inputs, for the per-layer sensitivity. */
  float?: FloatModel;
  calibInputs?: Float32Array[];
  labels?: string[];
}

export const wantsMixed = (o: PrecisionOptions): boolean => o.weightsBudget !== undefined || !!o.fitFlash;

/** The budget test of the options (`fits`) and its wording for errors (`what`). */
export function budgetTest(board: Board, code: { steps: Step[]; storedInput: boolean; labels?: string[] }, o: PrecisionOptions): { fits: (m: QModel) => boolean; what: string } {
  const inFlash = (m: QModel): boolean => {
    const placed = placeWeights(weightArraysOf(m), board, { reserveBytes: codeRegionReserve(m, codeSteps(code.steps, m), code.labels, code.storedInput) });
    return placed.fits && placed.regions.every((r) => !r.external || r.used === 0);
  };
  const fits = (m: QModel): boolean => (o.weightsBudget === undefined || weightBytes(m) <= o.weightsBudget) && (!o.fitFlash || inFlash(m));
  const what = [o.weightsBudget !== undefined ? `a weights budget of ${o.weightsBudget} bytes` : '', o.fitFlash ? `the internal flash of ${board.name}` : ''].filter(Boolean).join(' and ');
  return { fits, what };
}

/**
 * The mixed model for the options; `steps` are the plan's steps (flash for their calls: codeSteps), `storedInput`
 * whether the application keeps an input image in flash (as checkWeightsFit counts it).
 */
export function applyPrecision(p: PrecisionSource, board: Board, code: { steps: Step[]; storedInput: boolean }, o: PrecisionOptions, progress: ProgressSink = silentProgress): MixedResult {
  if (!p.float || !p.calibInputs) {
    throw new UserError('--weights-budget and --fit-flash need the float weights to quantize layers to int4: a .tflite model has only its stored int8 weights', 'pass the ONNX model (--model M.onnx) instead');
  }
  const q = p.model;
  const inputs = p.calibInputs.map((x) => quantizeInput(x, q.tensors[q.input]));
  const target = scoreTensor(p.float.graph);
  const { fits, what } = budgetTest(board, { ...code, labels: p.labels }, o);
  const use = precisionInputs(inputs);
  const hessians = fits(q) ? undefined : int4Hessians(q, use.rounding);
  progress.start('int4 sensitivity', use.sensitivity.length);
  const r = selectMixed(p.float, q, use.sensitivity, target, fits, what, { tick: (d) => progress.tick(d), hessians, classInputs: use.classes });
  progress.end();
  return r;
}
