/**
 * `sqzfw validate`: stream a folder of images to the validation firmware (--app validate) in QEMU (--emulate: one
 * build) or on a board over its serial port (--port), compare every output byte with the int8 golden model, and
 * report top-1/top-5 of the float model, the golden model and the device, bit-exactness per image and the latency.
 */
import { intArg } from '../cli/args.js';
import { checkRangesOptionUse, refuseCalibrationOfTflite } from '../cli/model-options.js';
import { isTflitePath } from '../tflite/index.js';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { addModelFileOptions, modelSource, type ModelFlagValues } from '../eval/cli.js';
import { formatEval, runEval, type EvalResult } from '../eval/eval.js';
import { defaultJobs } from '../eval/parallel.js';
import { silentProgress, stderrProgress } from '../util/progress.js';
import { BAUD_RATES, openSerialLink } from './link.js';
import type { Target } from './run.js';


export interface ValidateFlags extends ModelFlagValues {
  images: string;
  labels?: string;
  limit?: number;
  calib?: string;
  /** A saved calibration (sqzfw calibrate --out): the int8 model of firmware generated with the same --ranges. */
  ranges?: string;
  calibCount: number;
  emulate?: boolean;
  port?: string;
  baud: number;
  board: string;
  timeout: number;
  workDir?: string;
  json?: boolean;
  progress: boolean;
  /** Worker threads for the host side (float and golden passes); the device side is one firmware, one image at a time. */
  jobs?: number;
}

/** The checks and the run of `sqzfw validate` (the action prints the result). */
export async function runValidate(o: ValidateFlags): Promise<EvalResult> {
  if (isTflitePath(o.model)) {
    refuseCalibrationOfTflite(o);
    throw new UserError(`sqzfw validate takes an ONNX model, not ${o.model}`, 'run a .tflite model on the firmware with sqzfw eval --model M.tflite --images DIR --emulate N');
  }
  if (!!o.emulate === !!o.port) throw new UserError(o.emulate ? '--emulate and --port exclude each other' : 'say where the firmware runs', 'pass --emulate (QEMU) or --port /dev/ttyACM0 (a board running `sqzfw generate --app validate` firmware)');
  if (o.port && !BAUD_RATES.includes(o.baud)) throw new UserError(`--baud ${o.baud} is not a standard rate`, `use one of ${BAUD_RATES.join(', ')}`);
  // A missing, busy or inaccessible port fails now, not after the calibration.
  if (o.port) await openSerialLink(o.port, o.baud).close();
  const target: Target = o.port ? { kind: 'port', port: o.port, baud: o.baud } : { kind: 'emulate' };
  return runEval({
    ...modelSource(o),
    images: o.images,
    labels: o.labels,
    limit: o.limit,
    // One int8 model: a board holds one firmware. --ranges replaces calibrating (runEval refuses it with --calib).
    calib: o.calib ?? (o.ranges ? undefined : o.images),
    ranges: o.ranges,
    calibCount: o.calibCount,
    emulate: Number.MAX_SAFE_INTEGER,
    board: o.board,
    target,
    timeoutS: o.timeout,
    workDir: o.workDir,
    jobs: o.jobs,
    progress: o.progress ? stderrProgress() : silentProgress,
  });
}

export function registerValidateCommand(program: Command): void {
  addModelFileOptions(program.command('validate').description('stream images to the validation firmware (QEMU or a board on a serial port) and compare every output byte with the golden model'))
    .requiredOption('--images <dir>', 'folder of .jpg/.png images')
    .option('--labels <csv>', 'ground truth "file,class_index" (default: <images>/labels.csv, else WordNet ids in the file names)')
    .addOption(new Option('--limit <n>', 'the first N images').argParser(intArg('--limit', 1, 1e7)))
    .option('--calib <dir>', 'calibration images (default: the --images folder); a board must run the firmware built from the same calibration')
    .addOption(new Option('--calib-count <n>', 'calibration images').default(100).argParser(intArg('--calib-count', 1, 100000)))
    .option('--ranges <file>', 'reuse a saved calibration (sqzfw calibrate --out FILE) instead of calibrating; a board must run firmware generated with the same --ranges')
    .option('--emulate', 'build the validation firmware once and run it in QEMU (a real board: its QEMU twin)')
    .option('--port <dev>', 'serial port of a board running the validation firmware (e.g. /dev/ttyACM0)')
    .addOption(new Option('--baud <n>', 'baud rate of --port').default(115200).argParser(intArg('--baud', 1200, 4_000_000)))
    .option('--board <name>', 'board profile', 'mps2-an500')
    .addOption(new Option('--timeout <s>', 'time limit per inference, seconds').default(300).argParser(intArg('--timeout', 1, 36000)))
    .option('--work-dir <dir>', 'folder for the --emulate firmware project (default: a temporary folder)')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(new Option('--jobs <n>', 'worker threads for the float and golden passes (the device side stays serial; results do not depend on it)').default(defaultJobs(), 'the cores').argParser(intArg('--jobs', 1, 256)))
    .option('--no-progress', 'no progress bar on stderr')
    .hook('preAction', (c) => checkRangesOptionUse(c))
    .action(async (o: ValidateFlags) => {
      const r = await runValidate(o);
      if (o.json) console.log(JSON.stringify(r, null, 1));
      else {
        console.log(formatEval(r));
        for (const p of r.perImage)
          if (p.firmware) console.log(`  ${p.file.padEnd(36)} ${p.firmware.bitExact ? 'bit-exact' : `FAILED: ${p.firmware.error ?? `${p.firmware.mismatches} bytes differ`}`}${p.firmware.latency ? `  ${(p.firmware.latency.instructions ?? p.firmware.latency.cycles ?? p.firmware.latency.ticks).toLocaleString('en-US')} ${p.firmware.latency.instructions !== undefined ? 'instructions' : p.firmware.latency.cycles !== undefined ? 'cycles' : 'ticks'}, ${p.firmware.latency.ms.toFixed(1)} ms` : ''}`);
      }
      const f = r.firmware!;
      if (f.bitExact !== f.n)
        throw new UserError(`${f.n - f.bitExact} of ${f.n} images failed on the firmware or differ from the int8 golden model`, 'the lines above say which and why', 1);
    });
}
