/**
 * Stream many inputs through one validation firmware: build it once (--app validate) and run it in QEMU, or talk to
 * a board that runs it over its serial port. Each input's answer carries every output byte and the time it took.
 * `sqzfw validate` and `eval --emulate N` use this; they compare the bytes with the golden model.
 */
import { UserError } from '../errors.js';
import { loadBoard, qemuSystickHz, type Board } from '../boards/index.js';
import { buildFirmware } from '../toolchain/index.js';
import { qemuTarget } from '../emulate/targets.js';
import { generateProject } from '../driver/index.js';
import type { QModel } from '../quantize/types.js';
import { silentProgress, type ProgressSink } from '../util/progress.js';
import { modelFingerprint } from '../emit/fingerprint.js';
import { openQemuLink, openSerialLink, type Link } from './link.js';
import { Session, SessionError } from './session.js';
import type { DeviceInfo } from './protocol.js';
import { hex32 } from '../util/format.js';

export interface BatchInput {
  name: string;
  input: Int8Array;
}

export interface Latency {
  /** SysTick ticks of the core clock around the inference (under QEMU -icount: 1 ns of virtual time per instruction). */
  ticks: number;
  /** DWT cycles on a real core; absent where the counter does not run (QEMU). */
  cycles?: number;
  /** Guest instructions, under QEMU -icount. */
  instructions?: number;
  /** Milliseconds at the board's clock: measured (cycles / clock) on a board, estimated (instructions / clock) in QEMU. */
  ms: number;
  msKind: 'measured' | 'estimate';
  clockHz: number;
}

export type BatchResult = { name: string; outputs: Record<string, Int8Array>; latency: Latency } | { name: string; error: string };

export interface BatchReport {
  target: string;
  info: DeviceInfo;
  results: BatchResult[];
  /** Seconds to generate and build the firmware (0 on a real board), and to stream the inputs. */
  buildSeconds: number;
  streamSeconds: number;
  /** Text the firmware printed between frames. */
  text: string[];
}

export type Target = { kind: 'emulate' } | { kind: 'port'; port: string; baud: number };

export interface BatchOptions {
  model: QModel;
  inputs: BatchInput[];
  /** The board the firmware is for (a real board runs its QEMU twin under emulation). */
  board: string | Board;
  target: Target;
  /** Project folder (emulation: generated and built here). */
  workDir: string;
  /** Per-inference time limit, seconds. */
  timeoutS?: number;
  progress?: ProgressSink;
  progressLabel?: string;
  /** Called once input k is on its way, while the firmware computes (the caller's golden pass overlaps it). */
  whileRunning?: (k: number) => void;
  log?: (line: string) => void;
}


export async function validateBatch(opts: BatchOptions): Promise<BatchReport> {
  const board = typeof opts.board === 'string' ? loadBoard(opts.board) : opts.board;
  const log = opts.log ?? (() => {});
  const progress = opts.progress ?? silentProgress;
  if (opts.inputs.length === 0) throw new UserError('no inputs to validate', 'pass a folder with images or .bin tensors');
  const t0 = Date.now();
  let link: Link;
  let clockHz = board.cpu.clockHz;
  let systickHz: number | undefined;
  if (opts.target.kind === 'emulate') {
    const first = opts.inputs[0]!;
    generateProject({ model: opts.model, input: first.input, inputNote: first.name }, board, opts.workDir, { app: 'validate' });
    await buildFirmware({ projectDir: opts.workDir, semihosting: !!board.qemu, variant: board.qemu ? undefined : 'qemu', progress });
    const t = qemuTarget(opts.workDir, board);
    systickHz = qemuSystickHz(t.board);
    link = await openQemuLink({ elf: t.elf, board: t.board, icount: true });
  } else {
    link = openSerialLink(opts.target.port, opts.target.baud);
  }
  const buildSeconds = (Date.now() - t0) / 1000;
  const session = new Session(link, log);
  const results: BatchResult[] = [];
  const t1 = Date.now();
  try {
    const info = await session.hello(opts.target.kind === 'emulate' ? 60_000 : 10_000);
    checkInfo(info, opts.model, board);
    if (info.clockFailedStep !== 0) log(`warning: the board's clock set-up failed at step ${info.clockFailedStep}: it runs at its reset clock, ${info.cpuHz} Hz`);
    if (opts.target.kind === 'port') clockHz = info.cpuHz;
    const inputBytes = info.inputBytes;
    const lineS = opts.target.kind === 'port' ? (inputBytes * 10) / opts.target.baud : 0;
    const timeoutMs = ((opts.timeoutS ?? 300) + lineS * 1.5) * 1000;
    progress.start(opts.progressLabel ?? `firmware (${link.description})`, opts.inputs.length);
    for (const [i, x] of opts.inputs.entries()) {
      if (x.input.length !== inputBytes) throw new UserError(`${x.name}: ${x.input.length} bytes, the firmware takes ${inputBytes}`, 'pass tensors of the model input size');
      try {
        const r = await session.infer(x.input, timeoutMs, () => opts.whileRunning?.(i));
        if (r.status !== 0) {
          results.push({ name: x.name, error: `a kernel returned status ${r.status} at step ${r.failedStep}` });
        } else {
          const outputs = Object.fromEntries(opts.model.outputs.map((o, k) => [o, r.outputs[k]!]));
          results.push({ name: x.name, outputs, latency: latencyOf(r, systickHz, clockHz, info) });
        }
      } catch (e) {
        if (!(e instanceof SessionError)) throw e;
        if (!e.recoverable) throw new UserError(`${e.message} (image ${x.name}: ${i} of ${opts.inputs.length} done)`, e.hint);
        results.push({ name: x.name, error: e.message });
      }
      const last = results[results.length - 1]!;
      progress.tick(i + 1, 'error' in last ? 'FAILED' : undefined);
    }
    progress.end();
    if (opts.target.kind === 'emulate') await session.bye(10_000).catch(() => undefined);
    return { target: link.description, info, results, buildSeconds, streamSeconds: (Date.now() - t1) / 1000, text: session.text };
  } finally {
    await link.close();
  }
}

function checkInfo(info: DeviceInfo, model: QModel, board: Board): void {
  const want = modelFingerprint(model);
  const inputBytes = (() => {
    const d = model.tensors[model.input]!.dims;
    return d.h * d.w * d.c;
  })();
  if (info.fingerprint !== want || info.inputBytes !== inputBytes || info.outputCount !== model.outputs.length)
    throw new UserError(
      `the firmware runs model ${info.model} (fingerprint ${hex32(info.fingerprint)}, input ${info.inputBytes} bytes), not this one (${model.name}, ${hex32(want)}, ${inputBytes} bytes)`,
      'generate it with --app validate from the same model and calibration, build and flash it',
    );
  if (info.badScratchStep >= 0)
    throw new UserError(`the firmware cannot run: the linked CMSIS-NN needs more scratch than planned at step ${info.badScratchStep}`, 'rebuild with the bundled CMSIS-NN, or regenerate');
  if (!info.board.startsWith(board.name)) throw new UserError(`the firmware was built for board ${info.board}, not ${board.name}`, `pass --board ${info.board.replace(/@qemu$/, '')}`);
}

function latencyOf(r: { ticks: number; cycles: number; cyclesCounting: boolean }, systickHz: number | undefined, clockHz: number, info: DeviceInfo): Latency {
  if (systickHz !== undefined) {
    // QEMU -icount shift=0: one instruction per ns; an estimate of the board's time at one instruction per cycle.
    const instructions = Math.round((r.ticks * 1e9) / systickHz);
    return { ticks: r.ticks, instructions, ms: (instructions / clockHz) * 1000, msKind: 'estimate', clockHz };
  }
  if (r.cyclesCounting) return { ticks: r.ticks, cycles: r.cycles, ms: (r.cycles / clockHz) * 1000, msKind: 'measured', clockHz };
  return { ticks: r.ticks, ms: (r.ticks / info.tickHz) * 1000, msKind: 'measured', clockHz };
}

