/**
 * sqzfw command line. Every command is a thin shell over the pipeline stages; user errors print one line and a
 * hint and exit non-zero, anything else is a bug and keeps its stack trace.
 */
import { intArg, variantArg } from './cli/args.js';
import { Command, Option } from 'commander';
import { DEFAULT_BOARD, listBoards, loadBoard, qemuTwin, type Board } from './boards/index.js';
import { buildLibrary, weightsReportLines } from './toolchain/index.js';
import { latencyLine } from './toolchain/latency.js';
import { defaultEmulator, emulateWithRenode, EMULATORS, type EmulatorName } from './emulate/targets.js';
import { PROJECT_DIR, projectBoard, readManifest } from './project.js';
import { buildFirmware } from './toolchain/index.js';
import { EXIT, isUserError, UserError } from './errors.js';
import { boardPlanOptions } from './driver/board-plan.js';
import { describeMismatch, emulateProject, generateProject, type GenerateResult } from './driver/index.js';
import { prepareSynthetic, type PreparedModel } from './prepare/index.js';
import { mixedReport } from './precision/mixed.js';
import { int4Macs, parseMaxRecompute, PLAN_STRATEGIES, planModel, type PlanStrategy } from './planner/index.js';
import { planSvg, planTable } from './planner/report.js';
import { INPUT_IN, type InputIn } from './planner/types.js';
import { planSummary } from './emit/index.js';
import { checkOutputDir, fsError, writeOutputDir } from './util/out-dir.js';
import { buildSqueezeNet, VARIANTS, type Variant } from './graph/squeezenet.js';
import { VERSION } from './version.js';
import { checkModelOptionUse, refuseCalibrationOfTflite } from './cli/model-options.js';
import { printJson, type BuildJson, type EmulateJson, type InfoJson, type PlanJson } from './cli/json.js';
import { graphModelInfo, modelInfoLines, qmodelInfo } from './report/model-info.js';
import { top5Lines } from './report/top5.js';
import { twinRun, twinRunLines } from './emulate/twin-note.js';
import { estimateLatency, mixedLatencyLine } from './toolchain/latency.js';
import { kib } from './util/format.js';
import { boardLines, boardView } from './boards/listing.js';
import { APP_NAMES, APPS, DEFAULT_APP, type AppName } from './emit/apps.js';
import { progressFlag, stderrProgress } from './util/progress.js';

/** The folder kind of `sqzfw plan --out` (see ./util/out-dir.ts). */
const PLAN_DIR = { flag: '--out', marker: 'plan.json', writer: 'sqzfw plan' } as const;

interface ModelOpts {
  variant: Variant;
  inputSize: number;
  classes: number;
  seed: number;
  /** A real model: ONNX file (+ card), the image to embed, calibration images. */
  model?: string;
  image?: string;
  calib?: string;
  calibCount?: number;
  ranges?: string;
  card?: string;
  classNames?: string;
}

interface PlanFlags {
  strategy: PlanStrategy;
  maxRecompute: number;
  inputIn: InputIn;
  dsp: boolean;
  weightsBudget?: number;
  fitFlash?: boolean;
}

/** Memory-plan options: which planner, and how much recomputation row-band tiling may add. */
const addPlanOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--strategy <s>', 'memory plan: plain (layer by layer), tiled (smallest peak), auto (plain if it fits, else the fastest tiled plan that fits)').choices([...PLAN_STRATEGIES]).default('auto'))
    .addOption(new Option('--max-recompute <percent>', 'cap on extra MACs from recomputing halo rows').default(0.25, '25%').argParser(parseMaxRecompute))
    .addOption(
      new Option('--input-in <where>', 'model input: arena (copied in), caller (read in place from the caller\'s buffer, any memory), stream (rows asked from a callback)')
        .choices([...INPUT_IN])
        .default('arena'),
    );

const planFlags = (o: PlanFlags) => ({ dsp: o.dsp, strategy: o.strategy, maxRecompute: o.maxRecompute, inputIn: o.inputIn, weightsBudget: o.weightsBudget, fitFlash: o.fitFlash });

/** Mixed int4/int8 weights (generate, demo): src/precision. */
const addPrecisionOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--weights-budget <bytes>', 'int4 weights for the layers where they cost the least accuracy until the weight arrays fit BYTES').argParser(intArg('--weights-budget', 1, 2 ** 40)))
    .option('--fit-flash', "int4 weights for the least sensitive layers until the weights fit the board's internal flash");

function printMixed(r: GenerateResult, board: Board, dsp: boolean): void {
  if (!r.mixed) return;
  for (const line of mixedReport(r.mixed)) console.log(`  ${line}`);
  console.log(`  ${mixedLatencyLine(board, r.plan.macs, dsp, int4Macs(r.plan, r.mixed.model))}`);
}

/** Model options of the firmware commands: a synthetic SqueezeNet by default, or a real ONNX model with an image. */
const addFirmwareModelOptions = (cmd: Command): Command =>
  addModelOptions(cmd)
    .option('--model <file>', 'ONNX model (card: the .json beside it, or --card) or int8 .tflite (quantization as stored); default: synthetic weights')
    .option('--image <file>', 'JPEG or PNG image the demo application runs on (with --model; default: a synthetic input generated at run time)')
    .option('--calib <dir>', 'calibration images (with --model; default: the embedded image alone)')
    .addOption(new Option('--calib-count <n>', 'calibration images taken from --calib (first N by name)').default(100).argParser(intArg('--calib-count', 1, 100000)))
    .option('--ranges <file>', 'reuse a saved calibration (sqzfw calibrate --out FILE) instead of calibrating (with --model)')
    .option('--card <file>', 'model card JSON (with --model)')
    .option('--class-names <file>', 'class names, one per line, printed with the top 5 (with --model)')
    .hook('preAction', (c) => checkModelOptionUse(c));

const addModelOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--variant <v>', `SqueezeNet variant (${VARIANTS.join(', ')})`).default('v1.1').argParser(variantArg))
    .addOption(new Option('--input-size <n>', 'input height and width in pixels (at least 25 for v1.1, 29 for v1.0)').default(224).argParser(intArg('--input-size', 16, 1024)))
    .addOption(new Option('--classes <n>', 'number of output classes').default(1000).argParser(intArg('--classes', 1, 100000)))
    .addOption(new Option('--seed <n>', 'seed of the synthetic weights and input image').default(1).argParser(intArg('--seed', 0, 2 ** 31 - 1)));


/**
 * The prepared model of the firmware commands. A model file's modules (the ONNX and .tflite readers, the image
 * decoders) are imported here, when a command is given --model, so the synthetic model's commands start without them.
 */
async function prepare(o: ModelOpts, app: AppName = DEFAULT_APP): Promise<PreparedModel> {
  if (o.image && !APPS[app].takesImage) throw new UserError(`--image needs an application that runs the model on it: --app ${app} has none`, 'drop --image, or use --app demo');
  if (o.model) {
    const overrides = o.classNames ? { labelsFile: o.classNames } : {};
    const { isTflitePath, prepareTfliteImage } = await import('./tflite/index.js');
    if (isTflitePath(o.model)) {
      refuseCalibrationOfTflite(o);
      return prepareTfliteImage({ model: o.model, image: o.image, card: o.card, overrides });
    }
    if (!o.calib && !o.ranges) console.error(`warning: calibrating the real model on ${o.image ? 'the image alone' : 'a few synthetic images'} gives poor int8 ranges; pass --calib DIR (or --ranges FILE from sqzfw calibrate --out)`);
    const { prepareImageModel } = await import('./prepare/image-model.js');
    const p = prepareImageModel({ model: o.model, card: o.card, overrides, image: o.image, calib: o.calib, calibCount: o.calibCount, ranges: o.ranges, progress: process.stderr.isTTY ? stderrProgress() : undefined });
    console.log(`calibrated on ${p.calibration.source} (${p.calibration.method}, ${p.calibration.seconds.toFixed(1)} s)`);
    return p;
  }
  return prepareSynthetic({ variant: o.variant, inputSize: o.inputSize, classes: o.classes, seed: o.seed });
}

async function doBuild(projectDir: string, o: { cmsisNn?: string; dsp: boolean; json?: boolean; progress?: boolean }) {
  // With --json only the JSON document goes to stdout.
  const log = o.json ? (_l: string) => undefined : (l: string) => console.log(l);
  const manifest = readManifest(projectDir);
  const app = manifest.app ?? DEFAULT_APP;
  if (app === 'none') {
    const l = await buildLibrary({ projectDir, cmsisNnDir: o.cmsisNn, dsp: o.dsp });
    log(`built ${l.lib}: code and weights ${l.text} bytes (${kib(l.text)}), data ${l.data} bytes, uninitialized ${l.bss} bytes (the activation arenas)`);
    if (o.json) printJson({ project: projectDir, app, output: l.lib, flashBytes: l.text + l.data, ramBytes: l.data + l.bss, regions: [], weights: [], latencyEstimate: null, twinElf: null } satisfies BuildJson);
    return;
  }
  const board = projectBoard(projectDir, manifest);
  // Semihosting only where an emulator or debugger catches it: on a bare board it faults.
  const progress = progressFlag(o.progress ?? true);
  const r = await buildFirmware({ projectDir, cmsisNnDir: o.cmsisNn, semihosting: !!board.qemu, dsp: o.dsp, progress });
  log(`built ${r.elf}: flash ${r.flashBytes} bytes (${kib(r.flashBytes)}), RAM ${r.ramBytes} bytes (${kib(r.ramBytes)})`);
  for (const reg of r.regions) if (reg.used > 0) log(`  ${reg.name.padEnd(10)} ${String(reg.used).padStart(9)} / ${reg.length} bytes (${((100 * reg.used) / reg.length).toFixed(1)}%)`);
  for (const line of weightsReportLines(r.weights)) log(`  ${line}`);
  log(latencyLine(board, manifest.macs, o.dsp, manifest.int4Macs));
  let twinElf: string | null = null;
  if (!board.qemu && qemuTwin(board)) {
    const twin = await buildFirmware({ projectDir, cmsisNnDir: o.cmsisNn, dsp: o.dsp, variant: 'qemu', progress });
    twinElf = twin.elf;
    log(`built ${twin.elf} for the QEMU twin ${qemuTwin(board)!.qemu!.machine} (same core and kernel path)`);
  }
  if (o.json)
    printJson({
      project: projectDir,
      app,
      output: r.elf,
      flashBytes: r.flashBytes,
      ramBytes: r.ramBytes,
      regions: r.regions.map((x) => ({ name: x.name, used: x.used, length: x.length })),
      weights: r.weights.map((w) => ({ region: w.region, section: w.section, bytes: w.bytes, arrays: w.arrays.length })),
      latencyEstimate: estimateLatency(board, manifest.macs, o.dsp, manifest.int4Macs) ?? null,
      twinElf,
    } satisfies BuildJson);
  return r;
}

async function doEmulate(projectDir: string, timeoutS: number, emulator?: EmulatorName, json = false): Promise<void> {
  const log = json ? (_l: string) => undefined : (l: string) => console.log(l);
  const board = projectBoard(projectDir);
  if ((emulator ?? defaultEmulator(board)) === 'renode') {
    if (json) throw new UserError('--json is for QEMU runs: the Renode test reports pass or fail', 'drop --json, or use --emulator qemu', EXIT.usage);
    return emulateWithRenode(projectDir, timeoutS);
  }
  const r = await emulateProject({ projectDir, timeoutMs: timeoutS * 1000 });
  const ran = twinRun(board)!;
  for (const line of twinRunLines(ran)) log(line);
  if (r.scored) for (const line of top5Lines(r.scored)) log(line);
  else log(`top5: ${r.top5.map((t, i) => `${t.index}${r.labels[i] ? ` (${r.labels[i]})` : ''}:${t.value}`).join('  ')} (int8; regenerate the project for dequantized scores)`);
  if (r.instructions !== undefined) log(`instructions per inference: ${r.instructions.toLocaleString('en-US')} (QEMU -icount, SysTick ticks ${r.ticks})`);
  if (r.cyclesNote) log(`cycles: unavailable (${r.cyclesNote})`);
  const bitExact = !r.comparison.mismatches.length && !r.comparison.missing.length;
  if (json)
    printJson({
      project: projectDir,
      board: r.board,
      ranOn: ran,
      bitExact,
      comparedBytes: r.comparison.bytes,
      mismatches: r.comparison.mismatches.length + r.comparison.missing.length,
      instructions: r.instructions ?? null,
      ticks: r.ticks ?? null,
      top5: r.scored ?? null,
    } satisfies EmulateJson);
  if (!bitExact) {
    throw new UserError(`${describeMismatch(r.comparison)} (board ${r.board})`, 'this is a bug in sqzfw or in the linked CMSIS-NN: please report it with the project folder', EXIT.mismatch);
  }
  log(`compared ${r.comparison.bytes} output bytes with the golden model: bit-exact`);
}

/** The smallest --input-size a synthetic variant takes (its pools need at least a 3x3 input at the end). */
export function minInputSize(variant: Variant): number {
  for (let s = 16; s <= 1024; s++) {
    try {
      buildSqueezeNet({ variant, inputSize: s, classes: 10 });
      return s;
    } catch (e) {
      if (!isUserError(e)) throw e;
    }
  }
  return 1025;
}

/** --input-size against the variant, before any work: a usage error, not a failure half way through. */
function checkInputSize(o: { variant?: Variant; inputSize?: number; model?: string }): void {
  if (o.model || o.variant === undefined || o.inputSize === undefined) return;
  const min = minInputSize(o.variant);
  if (o.inputSize < min) throw new UserError(`--input-size ${o.inputSize} is too small for SqueezeNet ${o.variant}: the smallest is ${min}`, `pass --input-size ${min} or more`, EXIT.usage);
}

export function buildProgram(): Command {
  const program = new Command();
  program.name('sqzfw').description('SqueezeNet int8 firmware: generate, build, emulate, flash; ASIC memory maps').version(VERSION);
  program.showHelpAfterError('(run with --help for usage)');
  // Before any command is added, so that every subcommand inherits it: main() maps parse errors to EXIT.usage.
  program.exitOverride();
  program.hook('preAction', (_program, action) => checkInputSize(action.opts()));

  addModelOptions(program.command('info').description('print layers, shapes, parameters, MACs, weight and activation bytes'))
    .option('--model <file>', 'a real model: ONNX (weights counted at int8) or int8 .tflite (at their stored width); default: the synthetic SqueezeNet')
    .option('--json', 'print the table as JSON (shape: src/cli/json.ts, README "JSON output")')
    .hook('preAction', (c) => checkModelOptionUse(c))
    .action(async (o: ModelOpts & { json?: boolean }) => {
      const modelInfo = async (file: string) => {
        const { isTflitePath, loadTflite } = await import('./tflite/index.js');
        if (isTflitePath(file)) return qmodelInfo(loadTflite(file).model);
        const { loadModel } = await import('./import/index.js');
        return graphModelInfo(loadModel(file).model.graph);
      };
      const info = o.model ? await modelInfo(o.model) : graphModelInfo(buildSqueezeNet({ variant: o.variant, inputSize: o.inputSize, classes: o.classes }));
      if (o.json) return printJson(info satisfies InfoJson);
      for (const line of modelInfoLines(info)) console.log(line);
    });

  program
    .command('boards')
    .description('list board profiles')
    .option('--json', 'print the boards as JSON (shape: src/cli/json.ts)')
    .action((o: { json?: boolean }) => {
      const views = listBoards().map(boardView);
      if (o.json) return printJson(views);
      for (const v of views) for (const line of boardLines(v)) console.log(line);
    });

  addPlanOptions(addFirmwareModelOptions(program.command('plan').description('plan memory for a board: per-step table, plan.json and a memory-timeline SVG')))
    .option('--board <name>', 'board profile name or JSON file', DEFAULT_BOARD)
    .option('--out <dir>', 'folder for plan.json and plan.svg', 'out/plan')
    .option('--no-dsp', 'size scratch for the scalar kernels')
    .option('--json', 'print a summary as JSON instead of the table (shape: src/cli/json.ts)')
    .action(async (o: ModelOpts & PlanFlags & { board: string; out: string; json?: boolean }) => {
      const board = loadBoard(o.board);
      checkOutputDir(o.out, PLAN_DIR);
      const { model } = await prepare(o);
      const plan = planModel(model, { ...boardPlanOptions(board, o.dsp), strategy: o.strategy, maxRecompute: o.maxRecompute, inputIn: o.inputIn });
      if (!o.json) console.log(planTable(plan));
      writeOutputDir(o.out, { 'plan.json': `${JSON.stringify(planSummary(plan), null, 1)}\n`, 'plan.svg': planSvg(plan) }, PLAN_DIR);
      if (o.json)
        return printJson({
          board: board.name,
          model: plan.model,
          strategy: plan.strategy,
          inputIn: plan.inputIn ?? 'arena',
          peakBytes: plan.peakBytes,
          macs: plan.macs,
          baseMacs: plan.baseMacs,
          kernelCalls: plan.steps.length,
          regions: plan.regions.map((r) => ({ name: r.name, used: r.used, capacity: r.capacity, ...(r.external ? { external: r.external } : {}) })),
          files: [`${o.out}/plan.json`, `${o.out}/plan.svg`],
        } satisfies PlanJson);
      console.log(`wrote ${o.out}/plan.json and ${o.out}/plan.svg`);
    });

  addPrecisionOptions(addPlanOptions(addFirmwareModelOptions(program.command('generate').description('generate a firmware project for a board: the model library (model/) and an application'))))
    .option('--board <name>', 'board profile name or JSON file', DEFAULT_BOARD)
    .option('--out <dir>', 'output folder', 'out/firmware')
    .addOption(new Option('--app <name>', `application: ${APP_NAMES.map((n) => `${n} (${APPS[n].description})`).join('; ')}`).choices(APP_NAMES).default(DEFAULT_APP))
    .option('--no-dsp', 'plan scratch for the scalar kernels even on DSP cores')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: ModelOpts & PlanFlags & { board: string; out: string; app: AppName; progress: boolean }) => {
      const board = loadBoard(o.board);
      checkOutputDir(o.out, PROJECT_DIR); // before the model is prepared: a folder it will not replace fails at once
      const r = generateProject(await prepare(o, o.app), board, o.out, { ...planFlags(o), app: o.app, boardSource: o.board, progress: progressFlag(o.progress) });
      printMixed(r, board, o.dsp);
      console.log(`generated ${o.out} for ${board.name} (--app ${o.app}): ${r.plan.steps.length} kernel calls, activation arena ${r.plan.peakBytes} bytes (${kib(r.plan.peakBytes)}), ${r.plan.strategy}`);
    });

  program
    .command('build')
    .description('build a generated project with arm-none-eabi-gcc')
    .option('--project <dir>', 'project folder', 'out/firmware')
    .option('--cmsis-nn <dir>', "build against Arm's CMSIS-NN at this path instead of the bundled kernels")
    .option('--no-dsp', 'force the scalar kernels')
    .option('--json', 'print the sizes as JSON (shape: src/cli/json.ts)')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: { project: string; cmsisNn?: string; dsp: boolean; json?: boolean; progress: boolean }) => {
      await doBuild(o.project, o);
    });

  program
    .command('emulate')
    .description('run a built project in QEMU and compare every output byte with the golden model')
    .option('--project <dir>', 'project folder', 'out/firmware')
    .addOption(new Option('--emulator <name>', 'emulator (default: qemu where the board has a QEMU twin, else renode)').choices([...EMULATORS]))
    .addOption(new Option('--timeout <s>', 'time limit in seconds').default(300).argParser(intArg('--timeout', 1, 3600)))
    .option('--json', 'print the result as JSON (shape: src/cli/json.ts); a mismatch still exits 1')
    .action(async (o: { project: string; timeout: number; emulator?: EmulatorName; json?: boolean }) => {
      await doEmulate(o.project, o.timeout, o.emulator, o.json);
    });

  addPrecisionOptions(addPlanOptions(addFirmwareModelOptions(program.command('demo').description('generate, build and emulate SqueezeNet for the default board'))))
    .option('--board <name>', 'board profile name or JSON file', DEFAULT_BOARD)
    .option('--out <dir>', 'output folder', 'out/demo')
    .option('--cmsis-nn <dir>', "build against Arm's CMSIS-NN at this path")
    .option('--no-dsp', 'force the scalar kernels')
    .addOption(new Option('--timeout <s>', 'emulation time limit in seconds').default(300).argParser(intArg('--timeout', 1, 3600)))
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: ModelOpts & PlanFlags & { board: string; out: string; cmsisNn?: string; timeout: number; progress: boolean }) => {
      const board = loadBoard(o.board);
      if (!qemuTwin(board)) throw new UserError(`board ${board.name} has no QEMU twin to run the demo on`, 'use `sqzfw generate` + `sqzfw build` + `sqzfw flash`, or `sqzfw emulate --emulator renode` where Renode is installed');
      checkOutputDir(o.out, PROJECT_DIR);
      console.log(o.model ? `${o.model}, int8, board ${board.name}` : `SqueezeNet ${o.variant}, ${o.inputSize}x${o.inputSize}, ${o.classes} classes, int8, board ${board.name}`);
      const r = generateProject(await prepare(o), board, o.out, { ...planFlags(o), boardSource: o.board, progress: progressFlag(o.progress) });
      printMixed(r, board, o.dsp);
      console.log(`generated ${o.out}: ${r.plan.steps.length} kernel calls, activation arena ${kib(r.plan.peakBytes)} (${r.plan.strategy})`);
      await doBuild(o.out, o);
      await doEmulate(o.out, o.timeout);
    });

  return program;
}

/**
 * The commands of the other stages (export, asic, eval, calibrate, fetch-model, flash, monitor, fit, validate ...),
 * registered after the ones above. Their modules (the ASIC writers, the .tflite and ONNX readers, the image
 * decoders, the evaluation workers) take longer to load than generate takes to run, so main() imports them only
 * when the command line names none of the commands above (one of theirs, help, or an unknown command).
 */
async function registerStageCommands(program: Command): Promise<void> {
  const [{ registerExportCommand }, { registerAsicCommand }, { registerExtraCommands }] = await Promise.all([import('./tflite/cli.js'), import('./asic/cli.js'), import('./cli/stage-commands.js')]);
  registerExportCommand(program, { addOptions: addFirmwareModelOptions, prepare });
  registerAsicCommand(program, { addModelOptions: addFirmwareModelOptions, prepare });
  registerExtraCommands(program);
}

/** The command a command line names: its first word that is no option (undefined for `sqzfw --version`). */
const commandWord = (argv: string[]): string | undefined => argv.slice(2).find((a) => !a.startsWith('-'));

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    const word = commandWord(argv);
    if (!program.commands.some((c) => c.name() === word || c.aliases().includes(word ?? ''))) await registerStageCommands(program);
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (e) {
    if (isUserError(e)) {
      console.error(`error: ${e.message}`);
      if (e.hint) console.error(`hint: ${e.hint}`);
      return e.exitCode;
    }
    const code = (e as { code?: string; exitCode?: number }).code;
    // Commander has printed its message; help and --version exit 0, every other parse error is a usage error.
    if (typeof code === 'string' && code.startsWith('commander.')) return (e as { exitCode: number }).exitCode === 0 ? EXIT.ok : EXIT.usage;
    // A file-system failure outside the places that name their file (a full disk, a read-only folder): one line.
    const fsErr = fileSystemError(e);
    if (fsErr) {
      console.error(`error: ${fsErr.message}`);
      if (fsErr.hint) console.error(`hint: ${fsErr.hint}`);
      return fsErr.exitCode;
    }
    throw e;
  }
}

/** Node's errno errors (they carry `syscall` and `path`) as a UserError; anything else is left alone. */
function fileSystemError(e: unknown): UserError | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== 'string' || typeof err.syscall !== 'string' || !/^E[A-Z]+$/.test(err.code)) return undefined;
  const r = fsError(e, err.path ?? err.syscall);
  return isUserError(r) ? r : undefined;
}
