/**
 * Calibration once, reused: `sqzfw calibrate --out ranges.json` writes the chosen range of every tensor, and
 * `generate|eval|validate --ranges ranges.json` quantize from it without any float pass. The file names the model's graph
 * and tensors; reading it checks that it covers every tensor of the model it is used with.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import type { FloatModel } from '../graph/ir.js';
import { writeFilesAtomically } from '../util/out-dir.js';
import { CALIBRATION_METHODS, type CalibrationMethod, type Ranges } from './calibrate.js';

export const RANGES_FORMAT = 'sqzfw-ranges/1';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const schema = z.object({
  format: z.literal(RANGES_FORMAT),
  graph: z.string(),
  method: z.enum(CALIBRATION_METHODS),
  images: z.number().int().nonnegative(),
  ranges: z.record(z.object({ min: finite, max: finite }).refine((r) => r.min <= r.max, 'min must not exceed max')),
});
export type RangesFile = z.infer<typeof schema>;

export function rangesJson(model: FloatModel, ranges: Ranges, meta: { method: CalibrationMethod; images: number }): string {
  const file: RangesFile = { format: RANGES_FORMAT, graph: model.graph.name, method: meta.method, images: meta.images, ranges };
  return `${JSON.stringify(file, null, 1)}\n`;
}

/** Writes the ranges file (atomically: a failed write leaves no half-written file). */
export function writeRanges(path: string, model: FloatModel, ranges: Ranges, meta: { method: CalibrationMethod; images: number }): void {
  writeFilesAtomically(dirname(path), { [basename(path)]: rangesJson(model, ranges, meta) });
}

/** Reads and checks a ranges file against the model: every tensor of the model must have a range. */
export function readRanges(path: string, model: FloatModel): RangesFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read ranges file ${path}: ${(e as Error).message.split('\n')[0]}`, 'write one with: sqzfw calibrate --model M --images DIR --out ranges.json');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`ranges file ${path}: ${issue.path.join('.') || 'file'}: ${issue.message}`, `it must be a ${RANGES_FORMAT} file written by sqzfw calibrate --out`);
  }
  const missing = Object.keys(model.graph.tensors).filter((t) => !parsed.data.ranges[t]);
  if (missing.length) {
    throw new UserError(`ranges file ${path} (graph ${parsed.data.graph}) has no range for ${missing.length} tensor(s) of ${model.graph.name}, e.g. ${missing[0]}`, 'calibrate this model: sqzfw calibrate --model M --images DIR --out ranges.json');
  }
  return parsed.data;
}
