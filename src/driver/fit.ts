/**
 * Does a SqueezeNet fit a board, and what is the largest input resolution that does? "Fits" means what
 * `sqzfw generate` and the build check: the memory planner places the activation arena in the board's RAM regions
 * (the planner that is in the tree: its message explains a failure), and the weights fit in the board's weights
 * regions (./emit/weights-placement.ts, the linker's arithmetic). The arena grows with the input size (it never
 * shrinks as the size grows: checked from 25 to 232 for v1.1), so a bisection finds the largest size.
 */
import { isUserError } from '../errors.js';
import { boardPlanOptions } from './board-plan.js';
import { buildQuantizedModel, type Variant } from '../prepare/index.js';
import { planModel } from '../planner/index.js';
import type { QModel } from '../quantize/types.js';
import { checkWeightsFit, codeSteps, type WeightsPlacement } from '../emit/weights-placement.js';
import type { Board } from '../boards/index.js';

export interface FitCheck {
  fits: boolean;
  inputSize: number;
  /** Activation arena bytes and the regions the plan uses (when the plan succeeded). */
  arenaBytes?: number;
  arenaRegions?: { name: string; used: number; capacity: number }[];
  weights?: WeightsPlacement;
  /** The planner's or the weights placement's message when it does not fit. */
  message?: string;
}

export interface FitOptions {
  variant: Variant;
  classes: number;
  /** Kernel build whose scratch is planned (default: the board's DSP setting). */
  dsp?: boolean;
}

/** The smallest input SqueezeNet takes (pool5 needs a 3x3 window at 24). */
export const MIN_INPUT_SIZE = 25;

/** A model whose shapes match the real one: weights are synthetic, one calibration image is enough for sizes. */
function sizingModel(o: FitOptions, inputSize: number): QModel {
  return buildQuantizedModel({ variant: o.variant, inputSize, classes: o.classes, calibrationImages: 1 });
}

/** Plan the arena and place the weights of the model at one input size. */
export function checkFit(board: Board, o: FitOptions & { inputSize: number }, model = sizingModel(o, o.inputSize)): FitCheck {
  const r: FitCheck = { fits: false, inputSize: o.inputSize };
  try {
    const plan = planModel(model, boardPlanOptions(board, o.dsp));
    r.arenaBytes = plan.peakBytes;
    r.arenaRegions = plan.regions.filter((x) => x.used > 0);
    // As `sqzfw generate` without --image: the demo generates its synthetic input at run time (no flash).
    r.weights = checkWeightsFit(model, board, { steps: codeSteps(plan.steps), storedInput: false });
    r.fits = true;
  } catch (e) {
    if (!isUserError(e)) throw e;
    r.message = e.message;
  }
  return r;
}

export interface LargestFit {
  board: string;
  variant: Variant;
  classes: number;
  /** The largest input size in [MIN_INPUT_SIZE, maxSize] that fits; null when none does. */
  largest: FitCheck | null;
  /** The check at maxSize (the size asked for, 224 by default): its message says why it does not fit. */
  atMax: FitCheck;
}

/** Checks largestInputSize makes at most (maxSize, then MIN_INPUT_SIZE, then the bisection). */
export const maxFitChecks = (maxSize = 224): number => 2 + Math.ceil(Math.log2(Math.max(2, maxSize - MIN_INPUT_SIZE)));

/** Bisect the input size: the largest in [MIN_INPUT_SIZE, maxSize] that fits the board. `onCheck` follows each check. */
export function largestInputSize(board: Board, o: FitOptions & { maxSize?: number; onCheck?: (inputSize: number) => void }): LargestFit {
  const max = o.maxSize ?? 224;
  const cache = new Map<number, FitCheck>();
  const at = (s: number): FitCheck => {
    let c = cache.get(s);
    if (!c) {
      c = checkFit(board, { ...o, inputSize: s });
      cache.set(s, c);
      o.onCheck?.(s);
    }
    return c;
  };
  const base = { board: board.name, variant: o.variant, classes: o.classes };
  const atMax = at(max);
  if (atMax.fits) return { ...base, largest: atMax, atMax };
  if (!at(MIN_INPUT_SIZE).fits) return { ...base, largest: null, atMax };
  let lo = MIN_INPUT_SIZE; // fits
  let hi = max; // does not fit
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (at(mid).fits) lo = mid;
    else hi = mid;
  }
  return { ...base, largest: at(lo), atMax };
}
