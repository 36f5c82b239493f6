/**
 * Model options that only mean something together: the synthetic-model options (--variant, --input-size,
 * --classes, --seed) describe the synthetic SqueezeNet and cannot change a model file, and the model-file options
 * (--class-names, --card, --calib-count, --image, --calib, --ranges) have nothing to apply to without a model file.
 * Given on the wrong side they are a usage error, not silently ignored. So are the calibration options that a saved
 * calibration or a .tflite model leaves nothing to do: the calibration settings (--calib-count, --calib-method,
 * --percentile, --folds) with --ranges, and --calib or --ranges with a .tflite model.
 */
import type { Command } from 'commander';
import { EXIT, UserError } from '../errors.js';
import { isVariant } from '../graph/squeezenet.js';

const SYNTHETIC_ONLY = [
  ['variant', '--variant'],
  ['inputSize', '--input-size'],
  ['classes', '--classes'],
  ['seed', '--seed'],
] as const;

const MODEL_ONLY = [
  ['classNames', '--class-names', 'class names'],
  ['card', '--card', 'model card'],
  ['calibCount', '--calib-count', 'calibration images'],
  ['image', '--image', 'image preprocessing'],
  ['calib', '--calib', 'calibration images'],
  ['ranges', '--ranges', 'calibration ranges'],
] as const;

/**
 * The settings of a calibration run, each only on the commands that calibrate: a saved ranges file (--ranges)
 * replaces the run, so none of them can apply with it.
 */
const CALIBRATION_SETTINGS = [
  ['calibCount', '--calib-count'],
  ['calibMethod', '--calib-method'],
  ['percentile', '--percentile'],
  ['folds', '--folds'],
] as const;

/** Commands whose --model also takes a synthetic variant's name (sqzfw asic --model v1.1). */
const VARIANT_MODEL_COMMANDS = new WeakSet<Command>();

/** Marks `cmd` as taking a variant name in --model: `--model v1.1` then is the synthetic model, not a file. */
export function allowVariantInModelOption(cmd: Command): Command {
  VARIANT_MODEL_COMMANDS.add(cmd);
  return cmd;
}

const given = (cmd: Command, key: string): boolean => cmd.getOptionValueSource(key) === 'cli';

/** Throws a usage UserError for the first option given on the command line that the chosen model ignores. */
export function checkModelOptionUse(cmd: Command): void {
  const o = cmd.opts<{ model?: string }>();
  const variantModel = o.model !== undefined && VARIANT_MODEL_COMMANDS.has(cmd) && isVariant(o.model);
  if (o.model && !variantModel) {
    const bad = SYNTHETIC_ONLY.find(([k]) => given(cmd, k));
    if (bad)
      throw new UserError(
        `${bad[1]} does not apply to --model ${o.model}: it describes the synthetic SqueezeNet, a model file has its own`,
        `drop ${bad[1]} (the model's input size and classes come from the file), or drop --model for the synthetic model`,
        EXIT.usage,
      );
    checkRangesOptionUse(cmd);
    return;
  }
  if (variantModel && given(cmd, 'variant'))
    throw new UserError(`--variant and --model ${o.model} both name the synthetic variant`, `pass one of them: --model ${o.model}, or --variant`, EXIT.usage);
  const bad = MODEL_ONLY.find(([k]) => given(cmd, k));
  if (bad) {
    const why = variantModel ? `a model file: --model ${o.model} is the synthetic SqueezeNet ${o.model}, which` : '--model: the synthetic SqueezeNet';
    throw new UserError(`${bad[1]} needs ${why} has no ${bad[2]}`, `pass --model model.onnx, or drop ${bad[1]}`, EXIT.usage);
  }
}

/**
 * --ranges FILE (a saved calibration, sqzfw calibrate --out) replaces calibrating: the settings of a calibration
 * run (--calib-count, --calib-method, --percentile, --folds, whichever the command has) given with it have nothing
 * to apply to and are a usage error. (--calib with --ranges is refused where the model is prepared.)
 */
export function checkRangesOptionUse(cmd: Command): void {
  const o = cmd.opts<{ ranges?: string }>();
  if (!o.ranges) return;
  const bad = CALIBRATION_SETTINGS.find(([k]) => given(cmd, k));
  if (bad)
    throw new UserError(`${bad[1]} does not apply with --ranges ${o.ranges}: the saved ranges replace calibrating`, `drop ${bad[1]}, or drop --ranges to calibrate now`, EXIT.usage);
}

/** A .tflite model is used with its stored quantization: --calib and --ranges have nothing to replace. */
export function refuseCalibrationOfTflite(o: { calib?: string; ranges?: string }): void {
  const flag = o.calib ? '--calib' : o.ranges ? '--ranges' : undefined;
  if (flag) throw new UserError(`${flag} does not apply to a .tflite model: its quantization is used as stored`, `drop ${flag}`);
}
