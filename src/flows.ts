/**
 * The user-facing flows as plain async functions: prepare a model and its input, generate a project, build it,
 * run it in an emulator and compare every output byte with the golden model. The CLI and eval call these.
 */
import { existsSync } from 'node:fs';
import { qemuTarget } from './emulate/targets.js';
import { loadBoard, type Board } from './boards/index.js';
import { buildFirmware } from './build/index.js';
import { generate, type GeneratedFiles } from './emit/index.js';
import { executePlan } from './planner/execute.js';
import { planModel, type PlanStrategy } from './planner/index.js';
import type { MemoryPlan } from './planner/types.js';
import type { KernelPath } from './planner/scratch.js';
import { runGolden } from './golden/run.js';
import { buildQuantizedModel, quantizeModelInput, type Variant } from './pipeline.js';
import { fromHex, MANIFEST, readManifest, toHex, writeProject, type ProjectManifest } from './project.js';
import type { QModel } from './quantize/types.js';
import { syntheticImage } from './weights/synthetic.js';
import { parseFirmwareOutput, runQemu } from './emulate/qemu.js';
import { UserError } from './errors.js';
import { checkWeightsFit } from './emit/weights-placement.js';
import { regionsUsedBy, renderRenodeFiles } from './emulate/renode.js';
import { VERSION } from './version.js';

export interface PreparedModel {
  model: QModel;
  input: Int8Array;
  inputNote: string;
  labels?: string[];
}

export interface SyntheticSpec {
  variant: Variant;
  inputSize: number;
  classes: number;
  seed: number;
}

/** The synthetic demo model and a deterministic synthetic input image. */
export function prepareSynthetic(spec: SyntheticSpec): PreparedModel {
  const model = buildQuantizedModel(spec);
  const d = model.tensors[model.input].dims;
  const image = syntheticImage(d.h, d.w, d.c, spec.seed + 1000);
  return { model, input: quantizeModelInput(model, image), inputNote: `synthetic image, seed ${spec.seed + 1000}, ${d.h}x${d.w}x${d.c}` };
}

/** Board RAM regions usable by the arena, with room kept for the stack, .data and .bss in the data region. */
export function arenaRegions(board: Board): { name: string; capacity: number }[] {
  const dataRegion = board.placement.data ?? board.memory.find((r) => r.kind === 'ram')?.name;
  const RESERVE = 8192; // runtime .data/.bss and alignment slack
  return board.placement.arena.map((name) => {
    const r = board.memory.find((m) => m.name === name)!;
    return { name, capacity: name === dataRegion ? r.length - board.stackSize - RESERVE : r.length };
  });
}

export const kernelPath = (board: Board, dsp = true): KernelPath => (board.cpu.dsp && dsp ? 'dsp' : 'scalar');

export interface GenerateResult {
  plan: MemoryPlan;
  files: GeneratedFiles;
  expected: Record<string, Int8Array>;
}

/** Plans and emits; verifies the plan by executing it on simulated memory against the golden model. */
export interface GenerateOptions {
  dsp?: boolean;
  strategy?: PlanStrategy;
  maxRecompute?: number;
}

export function generateFiles(p: PreparedModel, board: Board, opts: GenerateOptions = {}): GenerateResult {
  // planModel returns only plans that passed checkPlan; executing it below checks the bytes too.
  const plan = planModel(p.model, { regions: arenaRegions(board), path: kernelPath(board, opts.dsp), strategy: opts.strategy, maxRecompute: opts.maxRecompute });
  // Fails with the per-region shortfall before anything is written when the weights do not fit the board's flash.
  const weights = checkWeightsFit(p.model, board, { steps: plan.steps.length, labels: p.labels });
  const golden = runGolden(p.model, p.input);
  const expected = Object.fromEntries(p.model.outputs.map((o) => [o, golden[o]]));
  const viaPlan = executePlan(p.model, plan, p.input);
  for (const o of p.model.outputs) {
    const i = viaPlan[o].findIndex((v, k) => v !== expected[o][k]);
    if (i >= 0) throw new Error(`internal error: plan execution differs from the golden model at ${o}[${i}]`);
  }
  const files = generate({ model: p.model, plan, board, input: p.input, inputNote: p.inputNote, expected, labels: p.labels });
  const manifest: ProjectManifest = {
    generator: `sqzfw ${VERSION}`,
    model: p.model.name,
    board: board.name,
    inputNote: p.inputNote,
    expected: Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, toHex(v)])),
    outputs: p.model.outputs,
    labels: p.labels,
    peakBytes: plan.peakBytes,
    macs: plan.macs,
  };
  files[MANIFEST] = `${JSON.stringify(manifest, null, 1)}\n`;
  if (board.renode) {
    Object.assign(
      files,
      renderRenodeFiles({ board, model: p.model.name, expected: p.model.outputs.map((o) => ({ name: o, bytes: expected[o] })), macs: plan.macs, regionsUsed: regionsUsedBy(board, plan, weights) }),
    );
  }
  return { plan, files, expected };
}

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
  // A real board runs its QEMU twin's build (same core and kernel path); a QEMU board runs its own.
  const target = qemuTarget(opts.projectDir, opts.board ?? loadBoard(manifest.board));
  const board = target.board;
  const elf = opts.elf ?? target.elf;
  if (!existsSync(elf)) throw new UserError(`firmware ${elf} not found`, `build it first: sqzfw build --project ${opts.projectDir}`);
  const run = await runQemu({ elf, board, timeoutMs: opts.timeoutMs ?? 120_000, icount: true });
  const report = parseFirmwareOutput(run.stdout, { exitCode: run.exitCode, timedOut: run.timedOut, timeoutMs: opts.timeoutMs ?? 120_000 });
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

/** Generate, build and emulate one input on a board; used by eval --emulate. Throws on any mismatch. */
export async function runOnFirmware(opts: { model: QModel; input: Int8Array; board: string; workDir: string; inputNote?: string }): Promise<{ outputs: Record<string, Int8Array>; ticks: number | undefined; comparison: Comparison }> {
  const board = loadBoard(opts.board);
  generateProject({ model: opts.model, input: opts.input, inputNote: opts.inputNote ?? 'eval input' }, board, opts.workDir);
  await buildFirmware({ projectDir: opts.workDir, semihosting: !!board.qemu, variant: board.qemu ? undefined : 'qemu' });
  const r = await emulateProject({ projectDir: opts.workDir, board });
  if (r.comparison.mismatches.length || r.comparison.missing.length) throw new UserError(`firmware output differs from the golden model: ${describeMismatch(r.comparison)}`);
  return { outputs: r.outputs, ticks: r.ticks, comparison: r.comparison };
}
