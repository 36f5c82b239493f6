/** `sqzfw calibrate`: calibration on a folder of images over worker threads, with its report. */
import type { FloatModel } from '../graph/ir.js';
import { listImages } from '../image/index.js';
import type { ModelCard } from '../import/index.js';
import { calibrationReport, Calibrator, IMAGE_CALIBRATION_METHOD, formatCalibrationReport, type CalibrationMethod, type CalibrationRow } from '../quantize/calibrate.js';
import { quantizeModel } from '../quantize/quantize.js';
import type { QModel } from '../quantize/types.js';
import type { ModelSource } from '../prepare/image-model.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { loadSpec, runTask } from './parallel.js';

export interface CalibrateImagesOptions extends ModelSource {
  images: string;
  count?: number;
  method?: CalibrationMethod;
  percentile?: number;
  progress?: ProgressSink;
}

export interface CalibrationResult {
  float: FloatModel;
  card: ModelCard;
  qmodel: QModel;
  calibrator: Calibrator;
  method: CalibrationMethod;
  images: number;
  seconds: number;
  report: CalibrationRow[];
}

/** `sqzfw calibrate`: the float passes over `jobs` worker threads (the same ranges for any jobs: exact merges). */
export async function calibrateImages(o: CalibrateImagesOptions & { jobs?: number }): Promise<CalibrationResult> {
  const spec = { model: o.model, card: o.card, overrides: o.overrides, inputSize: o.inputSize };
  const { model: float, card } = loadSpec(spec);
  const paths = listImages(o.images).slice(0, o.count ?? 100);
  const method = o.method ?? IMAGE_CALIBRATION_METHOD;
  const progress = o.progress ?? silentProgress;
  const t0 = performance.now();
  progress.start(`calibrating (${method})`, paths.length);
  const items = paths.map((path, i) => ({ i, path, folds: [0], score: false }));
  const parts = await runTask(spec, { model: float, card }, { kind: 'float', target: float.graph.outputs[0], folds: 1, method, percentile: o.percentile, items }, o.jobs ?? 1, progress);
  progress.end();
  const calibrator = new Calibrator(float, { method, percentile: o.percentile });
  for (const part of parts) calibrator.mergeState(part.cal[0]);
  const qmodel = quantizeModel(float, calibrator.ranges());
  return { float, card, qmodel, calibrator, method, images: paths.length, seconds: (performance.now() - t0) / 1000, report: calibrationReport(qmodel, calibrator) };
}

export function formatCalibration(r: CalibrationResult): string {
  return `${formatCalibrationReport(r.report, r.method)}\n\ncalibrated on ${r.images} images in ${r.seconds.toFixed(1)} s (float passes + statistics)`;
}

