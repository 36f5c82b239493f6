/**
 * CLI commands of the real-model stage: `sqzfw eval`, `sqzfw calibrate` and `sqzfw fetch-model`.
 * src/cli.ts registers them with registerEvalCommand (eval + calibrate) and registerFetchModelCommand.
 */
import { intArg, numArg } from '../cli/args.js';
import { checkRangesOptionUse, refuseCalibrationOfTflite } from '../cli/model-options.js';
import { Command, Option } from 'commander';
import { EXIT, UserError } from '../errors.js';
import { parseNumberList, parseResizeFlag, type CardOverrides, type ChannelOrder } from '../import/index.js';
import { CALIBRATION_METHODS, IMAGE_CALIBRATION_METHOD, type CalibrationMethod } from '../quantize/calibrate.js';
import { runEval, formatEval } from './eval.js';
import { calibrateImages, formatCalibration } from './prepare.js';
import { CATALOG, fetchModel } from './fetch.js';
import { defaultJobs } from './parallel.js';
import { writeRanges } from '../quantize/ranges-file.js';
import type { ModelSource } from '../prepare/image-model.js';
import { stderrProgress, silentProgress } from '../util/progress.js';
import { isTflitePath } from '../tflite/index.js';
import { formatTfliteEval, runTfliteEval } from '../tflite/eval.js';


export interface ModelFlagValues {
  model: string;
  card?: string;
  channelOrder?: ChannelOrder;
  pixelRange?: number;
  mean?: string;
  std?: string;
  resize?: string;
  classNames?: string;
  inputSize?: number;
}

/** --model, --card and the card override flags, shared by every command that reads a real model. */
export function addModelFileOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--model <file>', 'ONNX model file (its card: the .json beside it, or --card)')
    .option('--card <file>', 'model card JSON (default: the model path with .json)')
    .addOption(new Option('--channel-order <order>', 'input channel order').choices(['RGB', 'BGR']))
    .addOption(new Option('--pixel-range <n>', 'pixels are scaled to 0..N before the mean (255 Caffe, 1 torchvision)').argParser(numArg('--pixel-range', 1e-6, 1e6)))
    .option('--mean <list>', 'per-channel mean in the model channel order, pixel-range units (e.g. 104,117,123)')
    .option('--std <list>', 'per-channel std in the model channel order (e.g. 0.229,0.224,0.225)')
    .option('--resize <mode>', 'resize before the centre crop: shorter:N, squash:N or none')
    .option('--class-names <file>', 'class names, one per line (or "0 n01440764 tench" lines)')
    .addOption(new Option('--input-size <n>', 'input height and width for models with a symbolic input size').argParser(intArg('--input-size', 1, 8192)));
}

/** The model, card and card overrides of the model file options, as runEval, calibrateImages and prepare take them. */
export function modelSource(o: ModelFlagValues): ModelSource & { overrides: CardOverrides } {
  const overrides: CardOverrides = {};
  if (o.channelOrder) overrides.channelOrder = o.channelOrder;
  if (o.pixelRange !== undefined) overrides.pixelRange = o.pixelRange;
  if (o.mean) overrides.mean = parseNumberList(o.mean, '--mean');
  if (o.std) overrides.std = parseNumberList(o.std, '--std');
  if (o.resize) overrides.resize = parseResizeFlag(o.resize);
  if (o.classNames) overrides.labelsFile = o.classNames;
  return { model: o.model, card: o.card, overrides, inputSize: o.inputSize ? { h: o.inputSize, w: o.inputSize } : undefined };
}

const addCalibOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--calib-method <m>', 'calibration method').choices([...CALIBRATION_METHODS]).default(IMAGE_CALIBRATION_METHOD))
    .addOption(new Option('--percentile <p>', 'percentile kept per side for --calib-method percentile').default(99.99).argParser(numArg('--percentile', 50, 100)))
    .addOption(new Option('--calib-count <n>', 'calibration images per int8 model').default(100).argParser(intArg('--calib-count', 1, 100000)));

interface EvalFlags extends ModelFlagValues {
  images: string;
  labels?: string;
  emulate: number;
  board: string;
  json?: boolean;
  calib?: string;
  ranges?: string;
  calibMethod: CalibrationMethod;
  percentile: number;
  calibCount: number;
  folds: number;
  limit?: number;
  workDir?: string;
  jobs: number;
  progress: boolean;
  weightsBudget?: number;
  fitFlash?: boolean;
  int4All?: boolean;
}

export function registerEvalCommand(program: Command): void {
  const evalCmd = addCalibOptions(
    addModelFileOptions(program.command('eval').description('top-1/top-5 of the float model, the int8 golden model and (--emulate N) the firmware in QEMU on a folder of labelled images')),
  )
    .requiredOption('--images <dir>', 'folder of .jpg/.png images')
    .option('--labels <csv>', 'ground truth "file,class_index" (default: <images>/labels.csv, else WordNet ids in the file names)')
    .addOption(new Option('--emulate <n>', 'also run the first N images on the firmware in QEMU, bit-exact with the golden model').default(0).argParser(intArg('--emulate', 0, 100000)))
    .option('--board <name>', 'board for --emulate and --fit-flash', 'mps2-an500')
    .addOption(new Option('--weights-budget <bytes>', 'also score the mixed int4/int8 model whose weight arrays fit BYTES (and int4 everywhere)').argParser(intArg('--weights-budget', 1, 2 ** 40)))
    .option('--fit-flash', "also score the mixed int4/int8 model whose weights fit the --board's internal flash (and int4 everywhere)")
    .option('--int4-all', 'also score the model with every conv layer in int4')
    .option('--calib <dir>', 'calibration images (default: k-fold held-out calibration on the evaluation images)')
    .option('--ranges <file>', 'reuse a saved calibration (sqzfw calibrate --out FILE) for every image')
    .addOption(new Option('--folds <k>', 'folds of the held-out calibration').default(2).argParser(intArg('--folds', 2, 100)))
    .addOption(new Option('--limit <n>', 'score only the first N images').argParser(intArg('--limit', 1, 1e7)))
    .option('--work-dir <dir>', 'folder for the --emulate firmware projects (default: a temporary folder)')
    .addOption(new Option('--jobs <n>', 'worker threads for the float and int8 passes (results do not depend on it)').default(defaultJobs(), 'the cores').argParser(intArg('--jobs', 1, 256)))
    .option('--json', 'print the result as JSON on stdout')
    .option('--no-progress', 'no progress bar on stderr')
    .hook('preAction', (c) => {
      checkRangesOptionUse(c);
      const o = c.opts<{ calib?: string }>();
      if (o.calib && c.getOptionValueSource('folds') === 'cli')
        throw new UserError(`--folds does not apply with --calib ${o.calib}: the folds split the scored images when no calibration folder is given`, 'drop --folds (every image is scored by the model calibrated on --calib), or drop --calib for held-out calibration', EXIT.usage);
    });
  evalCmd.action(async (o: EvalFlags) => {
    const m = modelSource(o);
    if (isTflitePath(m.model)) {
      refuseCalibrationOfTflite(o);
      const int4 = o.weightsBudget !== undefined ? '--weights-budget' : o.fitFlash ? '--fit-flash' : o.int4All ? '--int4-all' : undefined;
      if (int4) throw new UserError(`${int4} needs the float weights to quantize layers to int4: a .tflite model has only its stored int8 weights`, 'pass the ONNX model (--model M.onnx) instead');
      const progress = o.progress ? stderrProgress() : silentProgress;
      const r = await runTfliteEval({ model: m.model, card: m.card, overrides: m.overrides, images: o.images, labels: o.labels, limit: o.limit, emulate: o.emulate, board: o.board, workDir: o.workDir, progress });
      console.log(o.json ? JSON.stringify(r, null, 1) : formatTfliteEval(r));
      return;
    }
    const r = await runEval({
      ...m,
      images: o.images,
      labels: o.labels,
      limit: o.limit,
      calib: o.calib,
      ranges: o.ranges,
      calibCount: o.calibCount,
      calibMethod: o.calibMethod,
      percentile: o.percentile,
      folds: o.folds,
      emulate: o.emulate,
      board: o.board,
      workDir: o.workDir,
      jobs: o.jobs,
      weightsBudget: o.weightsBudget,
      fitFlash: o.fitFlash,
      int4All: o.int4All,
      progress: o.progress ? stderrProgress() : silentProgress,
    });
    if (o.json) console.log(JSON.stringify(r, null, 1));
    else console.log(formatEval(r));
    if (r.firmware && r.firmware.bitExact !== r.firmware.n) {
      throw new UserError(`${r.firmware.n - r.firmware.bitExact} of ${r.firmware.n} firmware runs differ from the int8 golden model`, 'this is a bug in sqzfw or in the linked CMSIS-NN: please report it with the --work-dir project', EXIT.mismatch);
    }
  });

  addCalibOptions(addModelFileOptions(program.command('calibrate').description('calibrate a model on a folder of images and print each tensor\'s range, scale and zero point')))
    .requiredOption('--images <dir>', 'folder of calibration images (the first --calib-count by name)')
    .option('--out <file>', 'also write the chosen ranges for generate/eval/validate --ranges')
    .addOption(new Option('--jobs <n>', 'worker threads for the float passes (the ranges do not depend on it)').default(defaultJobs(), 'the cores').argParser(intArg('--jobs', 1, 256)))
    .option('--json', 'print the report as JSON on stdout')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: ModelFlagValues & { images: string; calibMethod: CalibrationMethod; percentile: number; calibCount: number; out?: string; jobs: number; json?: boolean; progress: boolean }) => {
      const r = await calibrateImages({ jobs: o.jobs, ...modelSource(o), images: o.images, count: o.calibCount, method: o.calibMethod, percentile: o.percentile, progress: o.progress ? stderrProgress() : silentProgress });
      if (r.images === 1) console.error('warning: calibrating on one image gives poor int8 ranges; pass a folder of typical images');
      if (o.out) writeRanges(o.out, r.float, r.calibrator.ranges(), { method: r.method, images: r.images });
      if (o.json) console.log(JSON.stringify({ model: o.model, method: r.method, images: r.images, seconds: r.seconds, tensors: r.report }, null, 1));
      else console.log(formatCalibration(r));
      if (o.out) console.error(`wrote ${o.out}: reuse it with generate|eval|validate --ranges ${o.out}`);
    });
}

export function registerFetchModelCommand(program: Command): void {
  program
    .command('fetch-model')
    .description(`download a pretrained SqueezeNet from the ONNX Model Zoo and check its SHA-256 (${Object.keys(CATALOG).join(', ')})`)
    .argument('<name>', Object.keys(CATALOG).join(' | '))
    .option('--out <dir>', 'output folder', 'models')
    .option('--force', 'download again even when a verified copy exists')
    .action(async (name: string, o: { out: string; force?: boolean }) => {
      const r = await fetchModel(name, { outDir: o.out, force: o.force, log: (l) => console.log(l) });
      console.log(`use it with: sqzfw eval --model ${r.model} --images DIR`);
    });
}
