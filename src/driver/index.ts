/**
 * The driver: the pipeline as one readable sequence, like a compiler driver. generateFiles takes a prepared model
 * (../prepare) through plan -> precision -> weights placement -> verify -> emit -> manifest; generateProject writes
 * the result (../project.ts); emulateProject runs a built project (../toolchain) in QEMU and compares every output
 * byte with the manifest's golden bytes. The CLI, eval, validate and the benchmarks call these.
 */
import { existsSync } from 'node:fs';
import { loadBoard, type Board } from '../boards/index.js';
import { APPS, DEFAULT_APP, type AppName } from '../emit/apps.js';
import { generate, type GeneratedFiles } from '../emit/index.js';
import { checkWeightsFit, codeSteps, type WeightsPlacement } from '../emit/weights-placement.js';
import { parseFirmwareOutput, runQemu, type FirmwareReport } from '../emulate/qemu.js';
import { regionsUsedBy, renderRenodeFiles } from '../emulate/renode.js';
import { qemuTarget } from '../emulate/targets.js';
import { UserError } from '../errors.js';
import { kernelMemo } from '../golden/memo.js';
import { DEFAULT_ENGINE, runGolden, type Engine } from '../golden/run.js';
import { executePlan } from '../planner/execute.js';
import { int4Macs, planModel, type PlanStrategy } from '../planner/index.js';
import type { InputIn, MemoryPlan } from '../planner/types.js';
import { applyPrecision, wantsMixed, type PrecisionOptions } from '../precision/apply.js';
import type { MixedResult } from '../precision/mixed.js';
import type { PreparedModel } from '../prepare/index.js';
import { checkBuildIsCurrent, fromHex, MANIFEST, projectBoard, readManifest, toHex, writeProject, type ProjectManifest } from '../project.js';
import type { QModel } from '../quantize/types.js';
import { top5, type Top5 } from '../report/top5.js';
import { buildFirmware } from '../toolchain/index.js';
import { VERSION } from '../version.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { boardPlanOptions } from './board-plan.js';

export interface GenerateResult {
  plan: MemoryPlan;
  files: GeneratedFiles;
  expected: Record<string, Int8Array>;
  /** With --weights-budget / --fit-flash: each layer's precision and the estimated loss. */
  mixed?: MixedResult;
}

/** Plans and emits; verifies the plan by executing it on simulated memory against the golden model. */
export interface GenerateOptions extends PrecisionOptions {
  /** The application layer (default demo). */
  app?: AppName;
  dsp?: boolean;
  strategy?: PlanStrategy;
  maxRecompute?: number;
  /** Where the model input lives (default arena). */
  inputIn?: InputIn;
  /** Where the board profile came from (the --board argument), recorded in the manifest. */
  boardSource?: string;
  /** Progress of the slow steps: mixed precision's per-layer sensitivity and the plan's verification. */
  progress?: ProgressSink;
}

/**
 * The pipeline, stage by stage: the prepared model (./prepare) is planned for the board, its precision chosen when a
 * weights budget asks for it, the weights checked against the board's flash, then emitProject verifies the plan,
 * emits the sources and builds the manifest.
 */
export function generateFiles(prepared: PreparedModel, board: Board, opts: GenerateOptions = {}): GenerateResult {
  const app = opts.app ?? DEFAULT_APP;
  const storedInput = APPS[app].takesImage && prepared.inputSeed === undefined;
  // 1. plan (planModel returns only plans that passed checkPlan)
  const planFor = (m: QModel): MemoryPlan => planModel(m, { ...boardPlanOptions(board, opts.dsp), strategy: opts.strategy, maxRecompute: opts.maxRecompute, inputIn: opts.inputIn });
  let plan = planFor(prepared.model);
  // 2. precision: int4 layers where a weights budget needs them, then the plan again (the s4 scratch rule)
  let p = prepared;
  let mixed: MixedResult | undefined;
  if (wantsMixed(opts)) {
    mixed = applyPrecision(prepared, board, { steps: plan.steps, storedInput }, opts, opts.progress);
    p = { ...prepared, model: mixed.model };
    plan = planFor(p.model);
  }
  // 3. weights placement: the per-region shortfall before anything slow runs or is written
  const weights = checkWeightsFit(p.model, board, { steps: codeSteps(plan.steps, p.model), labels: p.labels, storedInput });
  // 4-6. verify, emit, manifest
  const { files, expected } = emitProject(p, board, plan, { app, boardSource: opts.boardSource, weights, progress: opts.progress });
  return { plan, files, expected, mixed };
}

/** The golden model's output bytes for the prepared input: what the firmware must print. */
export function goldenOutputs(p: Pick<PreparedModel, 'model' | 'input'>, engine?: Engine): Record<string, Int8Array> {
  const golden = runGolden(p.model, p.input, engine);
  return Object.fromEntries(p.model.outputs.map((o) => [o, golden[o]]));
}

/**
 * Runs the plan on simulated memory (dead bytes junk-filled) and throws unless every output byte is the golden one.
 * Without `expected`, the golden run records its kernel calls (../golden/memo.ts) and the plan's calls whose input
 * bytes are the golden run's take its recorded output instead of computing it again: a plain plan is checked at
 * the cost of one golden run, and a call whose input a wrong plan has overwritten still runs and shows up below.
 */
export function verifyPlan(p: Pick<PreparedModel, 'model' | 'input'>, plan: MemoryPlan, expected?: Record<string, Int8Array>, progress: ProgressSink = silentProgress): Record<string, Int8Array> {
  progress.start('verifying the plan', plan.steps.length + 1);
  const memo = kernelMemo(DEFAULT_ENGINE);
  expected ??= goldenOutputs(p, memo.record);
  progress.tick(1);
  const viaPlan = executePlan(p.model, plan, p.input, { engine: memo.replay, onStep: (d) => progress.tick(d + 1) });
  progress.end();
  for (const o of p.model.outputs) {
    const i = viaPlan[o].findIndex((v, k) => v !== expected[o][k]);
    if (i >= 0) throw new Error(`internal error: plan execution (${plan.strategy}) differs from the golden model at ${o}[${i}]`);
  }
  return expected;
}

export interface EmitOptions {
  app?: AppName;
  boardSource?: string;
  /** Progress of the plan's verification (one tick for the golden pass, one per plan step). */
  progress?: ProgressSink;
  /** The weights placement, when the caller has checked it already (else it is computed here). */
  weights?: WeightsPlacement;
}

/**
 * Verify, emit, manifest: the files of a project for a model and a given plan (generateFiles' own, or one a test or
 * benchmark made), with the one manifest every project carries.
 */
export function emitProject(p: PreparedModel, board: Board, plan: MemoryPlan, o: EmitOptions = {}): { files: GeneratedFiles; expected: Record<string, Int8Array> } {
  const app = o.app ?? DEFAULT_APP;
  const expected = verifyPlan(p, plan, undefined, o.progress);
  const files = generate({ model: p.model, plan, board, app, input: p.input, inputNote: p.inputNote, inputSeed: p.inputSeed, expected, labels: p.labels, preprocessing: p.preprocessing });
  files[MANIFEST] = `${JSON.stringify(projectManifest(p, board, plan, expected, { app, boardSource: o.boardSource }), null, 1)}\n`;
  if (board.renode && APPS[app].runnable) {
    const weights = o.weights ?? checkWeightsFit(p.model, board, { steps: codeSteps(plan.steps, p.model), labels: p.labels, storedInput: APPS[app].takesImage && p.inputSeed === undefined });
    Object.assign(
      files,
      renderRenodeFiles({ board, model: p.model.name, expected: p.model.outputs.map((o) => ({ name: o, bytes: expected[o] })), macs: plan.macs, regionsUsed: regionsUsedBy(board, plan, weights) }),
    );
  }
  return { files, expected };
}

/** The project's sqzfw.json (writeProject adds the sources hash). */
function projectManifest(p: PreparedModel, board: Board, plan: MemoryPlan, expected: Record<string, Int8Array>, o: { app: AppName; boardSource?: string }): ProjectManifest {
  const macs4 = int4Macs(plan, p.model);
  return {
    generator: `sqzfw ${VERSION}`,
    model: p.model.name,
    board: board.name,
    app: o.app,
    boardProfile: board,
    boardSource: o.boardSource ?? board.name,
    inputNote: p.inputNote,
    expected: Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, toHex(v)])),
    outputs: p.model.outputs,
    labels: p.labels,
    quant: outputQuant(p.model),
    peakBytes: plan.peakBytes,
    macs: plan.macs,
    // Recorded only for models with int4 layers, so all-int8 manifests stay as they were.
    ...(macs4 > 0 ? { int4Macs: macs4 } : {}),
  };
}

/** Each output's quantization, for the dequantized top 5 (src/report/top5.ts). */
const outputQuant = (m: QModel) =>
  Object.fromEntries(m.outputs.map((o) => [o, { scale: m.tensors[o]!.scale, zeroPoint: m.tensors[o]!.zeroPoint, softmax: m.layers.find((l) => l.output === o)?.op === 'softmax' }]));

export function generateProject(p: PreparedModel, board: Board, outDir: string, opts: GenerateOptions = {}): GenerateResult {
  const r = generateFiles(p, board, opts);
  writeProject(outDir, r.files);
  return r;
}

export interface Mismatch {
  tensor: string;
  index: number;
  expected: number;
  actual: number;
}

export interface Comparison {
  bytes: number;
  mismatches: Mismatch[];
  missing: string[];
}

export function compareOutputs(expected: Record<string, Int8Array>, actual: Record<string, Int8Array>): Comparison {
  const mismatches: Mismatch[] = [];
  const missing: string[] = [];
  let bytes = 0;
  for (const [tensor, e] of Object.entries(expected)) {
    const a = actual[tensor];
    if (!a) {
      missing.push(tensor);
      continue;
    }
    if (a.length !== e.length) {
      mismatches.push({ tensor, index: -1, expected: e.length, actual: a.length });
      continue;
    }
    for (let i = 0; i < e.length; i++) if (a[i] !== e[i]) mismatches.push({ tensor, index: i, expected: e[i], actual: a[i] });
    bytes += e.length;
  }
  return { bytes, mismatches, missing };
}

export interface EmulationResult {
  board: string;
  comparison: Comparison;
  outputs: Record<string, Int8Array>;
  top5: { index: number; value: number }[];
  labels: string[];
  /** The top 5 dequantized on the host from the output bytes (projects generated before the manifest had `quant`: none). */
  scored: Top5 | undefined;
  /** The same as the firmware printed it (`score` lines). */
  firmwareScores: FirmwareReport['scores'];
  ticks: number | undefined;
  /** Why there is no DWT cycle count (QEMU does not emulate it). */
  cyclesNote: string | undefined;
  /** Guest instructions per inference, when run under -icount (ticks x instructions per tick). */
  instructions: number | undefined;
  stdout: string;
}

/** Runs a built project in QEMU and compares every output byte with the manifest's golden bytes. */
export async function emulateProject(opts: { projectDir: string; board?: Board; timeoutMs?: number; elf?: string }): Promise<EmulationResult> {
  const manifest = readManifest(opts.projectDir);
  const app = manifest.app ?? DEFAULT_APP;
  if (!(APPS as Record<string, { runnable: boolean } | undefined>)[app]?.runnable)
    throw new UserError(`${opts.projectDir} has no application to run (generated with --app ${app})`, 'generate it with --app demo to run it in an emulator, or link model/ into your own firmware');
  // A real board runs its QEMU twin's build (same core and kernel path); a QEMU board runs its own.
  const target = qemuTarget(opts.projectDir, opts.board ?? projectBoard(opts.projectDir, manifest));
  const board = target.board;
  const elf = opts.elf ?? target.elf;
  if (!existsSync(elf)) throw new UserError(`firmware ${elf} not found`, `build it first: sqzfw build --project ${opts.projectDir}`);
  // A build older than the project would be compared with the new golden bytes: refuse it rather than report a bug.
  if (!opts.elf) checkBuildIsCurrent(opts.projectDir, elf, manifest);
  const run = await runQemu({ elf, board, timeoutMs: opts.timeoutMs ?? 120_000, icount: true });
  const report = parseFirmwareOutput(run.stdout, { exitCode: run.exitCode, timedOut: run.timedOut, timeoutMs: opts.timeoutMs ?? 120_000, stderr: run.stderr, lockup: run.lockup });
  const outputs = report.outputs;
  const expected = Object.fromEntries(Object.entries(manifest.expected).map(([k, v]) => [k, fromHex(v)]));
  const comparison = compareOutputs(expected, outputs);
  const systickHz = board.qemu?.systickHz ?? board.cpu.clockHz;
  // Under -icount shift=0 one guest instruction takes 1 ns of virtual time.
  const instructionsPerTick = 1e9 / systickHz;
  return {
    board: board.name,
    comparison,
    outputs,
    top5: report.top5,
    labels: report.labels ?? [],
    scored: manifest.quant && manifest.outputs.every((o) => outputs[o]) ? top5(outputs, manifest.outputs, manifest.quant, manifest.labels) : undefined,
    firmwareScores: report.scores,
    ticks: report.ticks,
    cyclesNote: report.cyclesNote,
    instructions: report.ticks === undefined ? undefined : Math.round(report.ticks * instructionsPerTick),
    stdout: run.stdout,
  };
}

export function describeMismatch(c: Comparison): string {
  if (c.missing.length) return `the firmware printed no output for ${c.missing.join(', ')}`;
  const first = c.mismatches.slice(0, 8).map((m) => (m.index < 0 ? `${m.tensor}: ${m.actual} bytes instead of ${m.expected}` : `${m.tensor}[${m.index}] = ${m.actual}, golden ${m.expected}`));
  return `${c.mismatches.length} of ${c.bytes} output bytes differ from the golden model; first: ${first.join('; ')}`;
}

/** Generate, build and emulate one input on a board; used by the TFLite eval (sqzfw eval --emulate streams images through one validation firmware instead: src/validate/run.ts). Throws on any mismatch. */
export async function runOnFirmware(opts: { model: QModel; input: Int8Array; board: string; workDir: string; inputNote?: string }): Promise<{ outputs: Record<string, Int8Array>; ticks: number | undefined; comparison: Comparison }> {
  const board = loadBoard(opts.board);
  generateProject({ model: opts.model, input: opts.input, inputNote: opts.inputNote ?? 'eval input' }, board, opts.workDir);
  await buildFirmware({ projectDir: opts.workDir, semihosting: !!board.qemu, variant: board.qemu ? undefined : 'qemu' });
  const r = await emulateProject({ projectDir: opts.workDir, board });
  if (r.comparison.mismatches.length || r.comparison.missing.length) throw new UserError(`firmware output differs from the golden model: ${describeMismatch(r.comparison)}`);
  return { outputs: r.outputs, ticks: r.ticks, comparison: r.comparison };
}
