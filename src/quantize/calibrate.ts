/**
 * Post-training calibration: run the float model on calibration inputs and record each tensor's range.
 */
import type { FloatModel } from '../graph/ir.js';
import { runFloat } from '../float/interp.js';

export interface Range {
  min: number;
  max: number;
}
export type Ranges = Record<string, Range>;

export type CalibrationMethod = 'minmax';

export interface CalibrationOptions {
  method?: CalibrationMethod;
}

export function calibrate(model: FloatModel, inputs: Float32Array[], opts: CalibrationOptions = {}): Ranges {
  if (inputs.length === 0) throw new Error('calibration needs at least one input');
  const method = opts.method ?? 'minmax';
  if (method !== 'minmax') throw new Error(`unknown calibration method ${method}`);
  const ranges: Ranges = {};
  for (const input of inputs) {
    const tensors = runFloat(model, input);
    for (const [name, data] of Object.entries(tensors)) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const r = ranges[name];
      ranges[name] = r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi };
    }
  }
  return ranges;
}
