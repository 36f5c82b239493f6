/**
 * Run firmware in QEMU (the board's qemu twin) and read the line protocol the generated main.c prints on the UART:
 *
 *   sqzfw begin <model-name> <board-name>
 *   out <tensor-name> <nbytes> <hex>
 *   top5 <idx>:<value> ...            (value = int8 output byte)
 *   label <idx> <name>                (optional, one per top5 entry)
 *   score logit|prob <idx>:<real> ... (the top 5 dequantized, 4 decimals: logits, or softmax probabilities)
 *   ticks <n>                         (sqzfw_rt_ticks difference around inference)
 *   cycles <n> | cycles unavailable: <why>   (DWT cycle counter around inference; unavailable under QEMU)
 *   check ok|mismatch                 (optional: the firmware's own comparison with golden bytes)
 *   sqzfw error: <text>               (optional)
 *   sqzfw end <status-int>
 *
 * and, from the runtime's fault handler, `sqzfw: fault <name> pc=0x... ...`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { EXIT, UserError } from '../errors.js';
import { listBoards, qemuSystickHz, TWIN_SUFFIX, type Board } from '../boards/index.js';

export const QEMU = 'qemu-system-arm';
const QEMU_INSTALL = 'run `npm run setup`, or `sudo apt-get install -y --no-install-recommends qemu-system-arm`';

export interface QemuOptions {
  elf: string;
  board: Board;
  timeoutMs: number;
  /** -icount shift=0: one guest instruction = 1 ns of virtual time; tick counts are identical run to run. */
  icount?: boolean;
}

export interface QemuResult {
  stdout: string;
  stderr: string;
  /** QEMU's exit status (the firmware's semihosting exit code); null when we stopped QEMU (timeout, or after the end). */
  exitCode: number | null;
  timedOut: boolean;
  /** QEMU was stopped by us after the firmware printed `sqzfw end` or a fault line (a build without semihosting
   * sleeps forever instead of exiting). */
  stoppedAfterEnd: boolean;
  /** The command line, for messages. */
  command: string[];
  /** QEMU's report of a locked-up core (a fault inside the fault handler), when it printed one: QEMU was stopped. */
  lockup?: string;
}

/**
 * Refuses an ELF QEMU would load only in part (a truncated or damaged file then runs garbage until the timeout):
 * a 32-bit little-endian ARM executable whose program headers and loaded segments lie inside the file.
 */
export function checkElf(elf: string): void {
  const bad = (why: string) => new UserError(`firmware ${elf} is not a complete ARM ELF file: ${why}`, 'rebuild it: sqzfw build', EXIT.input);
  const fd = openSync(elf, 'r');
  try {
    const size = fstatSync(fd).size;
    const h = Buffer.alloc(52);
    if (readSync(fd, h, 0, 52, 0) < 52) throw bad(`${size} bytes, shorter than an ELF header`);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 1 || h[5] !== 1) throw bad('no 32-bit little-endian ELF header');
    if (h.readUInt16LE(18) !== 40) throw bad('not an ARM executable');
    const phoff = h.readUInt32LE(28);
    const phentsize = h.readUInt16LE(42);
    const phnum = h.readUInt16LE(44);
    if (phnum === 0 || phentsize < 32 || phoff + phnum * phentsize > size) throw bad(`program headers past the end of the file (${size} bytes)`);
    const ph = Buffer.alloc(phnum * phentsize);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (ph.readUInt32LE(o) !== 1) continue; // PT_LOAD only
      const off = ph.readUInt32LE(o + 4);
      const filesz = ph.readUInt32LE(o + 16);
      if (off + filesz > size) throw bad(`segment ${i} ends at byte ${off + filesz}, the file has ${size} (truncated?)`);
    }
  } finally {
    closeSync(fd);
  }
}

/** After the last protocol line, how long QEMU may take to exit by itself before it is stopped. */
const END_GRACE_MS = 500;
/** UART output kept at most (characters). */
const MAX_OUTPUT = 16 << 20;
/** After SIGTERM, how long before SIGKILL. */
const KILL_GRACE_MS = 2000;

/** A complete last line: the end of the protocol, or a fault report. */
const TERMINAL_LINE = /^(sqzfw end -?\d+|sqzfw: fault [^\n]*)\r?\n/m;

/** QEMU command line for a board (without the ELF). */
export function qemuArgs(board: Board, elf: string, icount = false): string[] {
  if (!board.qemu) throw noTwin(board);
  return [
    '-M',
    board.qemu.machine,
    '-cpu',
    board.qemu.cpu,
    '-nographic',
    '-semihosting-config',
    'enable=on,target=native',
    ...(icount ? ['-icount', 'shift=0'] : []),
    '-kernel',
    elf,
  ];
}

function noTwin(board: Board): UserError {
  if (board.twin)
    return new UserError(
      `board ${board.name} runs in QEMU as its twin ${board.name}${TWIN_SUFFIX} (${board.twin.board}), with the twin's build`,
      'build it with `make qemu` (buildFirmware({ variant: "qemu" })) and run build/qemu/firmware.elf on the twin (qemuTarget() gives both)',
    );
  const twins = listBoards()
    .filter((b) => b.qemu)
    .map((b) => b.name);
  return new UserError(
    `board ${board.name} has no QEMU twin (no "qemu" section in its profile)`,
    `emulate on a board that has one (${twins.join(', ') || 'none'}), or flash the real board`,
  );
}

/** Run an ELF in QEMU until it exits, prints its last protocol line, or the timeout expires. Never throws for
 * what the firmware does: runFirmware / parseFirmwareOutput judge the result. */
export function runQemu(opts: QemuOptions): Promise<QemuResult> {
  const { board, elf, timeoutMs } = opts;
  if (!board.qemu) return Promise.reject(noTwin(board));
  if (!existsSync(elf)) return Promise.reject(new UserError(`firmware ${elf} not found`, 'build the project first (sqzfw build)'));
  try {
    checkElf(elf);
  } catch (e) {
    return Promise.reject(e);
  }
  const args = qemuArgs(board, elf, opts.icount);
  return new Promise((resolveRun, reject) => {
    // stdin from /dev/null; QEMU prints the UART on stdout and its own messages on stderr.
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let stoppedAfterEnd = false;
    let killedByUs = false;
    let lockup: string | undefined;
    let endTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const stop = () => {
      if (killedByUs || child.exitCode !== null || child.signalCode !== null) return;
      killedByUs = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      if (stoppedAfterEnd) return;
      // The last line arrived just before the deadline: that is a finished run, not a hang.
      if (endTimer) stoppedAfterEnd = true;
      else timedOut = true;
      stop();
    }, timeoutMs);

    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length > MAX_OUTPUT) return stop(); // a runaway print loop: the protocol is a few KiB
      stdout += d;
      if (!endTimer && TERMINAL_LINE.test(stdout)) {
        endTimer = setTimeout(() => {
          if (timedOut) return;
          stoppedAfterEnd = true;
          stop();
        }, END_GRACE_MS);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
      // QEMU reports a core lock-up (a fault while handling a fault) and then spins: stop now, not at the timeout.
      const m = /^.*Lockup.*$/m.exec(stderr);
      if (m && lockup === undefined) {
        lockup = m[0].trim();
        stop();
      }
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      clearTimeout(endTimer);
      if (e.code === 'ENOENT') reject(new UserError(`${QEMU} not found`, QEMU_INSTALL, EXIT.missingTool));
      else reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(endTimer);
      clearTimeout(killTimer);
      resolveRun({
        stdout,
        stderr,
        // QEMU exits 0 on SIGTERM: its status means nothing once we stopped it.
        exitCode: killedByUs ? null : code,
        timedOut,
        stoppedAfterEnd,
        command: [QEMU, ...args],
        ...(lockup !== undefined ? { lockup } : {}),
      });
    });
  });
}

export interface FirmwareReport {
  model: string;
  board: string;
  /** Output tensors in printed order: name -> int8 bytes. */
  outputs: Record<string, Int8Array>;
  top5: { index: number; value: number }[];
  /** Class names of the top 5 (from `label` lines), in top5 order. */
  labels?: string[];
  /** The top 5 dequantized by the firmware (`score` lines): logits, and probabilities where there is a softmax. */
  scores?: { kind: 'logit' | 'prob'; classes: { index: number; value: number }[] }[];
  /** sqzfw_rt_ticks difference around inference (SysTick ticks of the core clock). */
  ticks?: number;
  /** Core cycles of one inference from the DWT cycle counter (real cores only). */
  cycles?: number;
  /** Why there is no cycle count (`cycles unavailable: ...`, e.g. under QEMU, whose DWT does not count). */
  cyclesNote?: string;
  /** The status printed by `sqzfw end`. */
  status: number;
  /** The firmware's own check against golden bytes, when printed. */
  check?: 'ok' | 'mismatch';
  /** `sqzfw error: ...` lines, without the prefix. */
  errors: string[];
}

/** What runQemu observed, for parseFirmwareOutput's checks. */
export interface RunStatus {
  exitCode: number | null;
  timedOut: boolean;
  timeoutMs?: number;
  stderr?: string;
  /** QEMU's lock-up line (runQemu stopped it). */
  lockup?: string;
}

const lastLines = (text: string, n = 8): string[] =>
  text
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-n)
    .map((l) => (l.length > 160 ? `${l.slice(0, 157)}...` : l));

function quote(stdout: string, stderr?: string): string {
  const out = lastLines(stdout);
  const err = stderr ? lastLines(stderr.replace(/^.*terminating on signal.*$/gm, ''), 4) : [];
  let s = out.length ? `\nlast output:\n${out.map((l) => `  ${l}`).join('\n')}` : '\n(no output on the UART)';
  if (err.length) s += `\nQEMU said:\n${err.map((l) => `  ${l}`).join('\n')}`;
  return s;
}

/**
 * Parse the firmware's line protocol. Throws UserError on a fault line, a missing `sqzfw end`, a nonzero end
 * status or a malformed line; with `run`, also on a timeout and on a nonzero exit code — except when the output is
 * complete and the only failure is the firmware's own `check mismatch` (exit 1): then the report is returned, with
 * check = 'mismatch', so that the caller can compare the bytes and say which differ.
 */
export function parseFirmwareOutput(stdout: string, run?: RunStatus): FirmwareReport {
  const text = stdout.replace(/\r/g, '');
  const all = text.split('\n');
  const fault = all.find((l) => l.startsWith('sqzfw: fault '));
  if (fault)
    throw new UserError(
      `firmware faulted: ${fault.slice('sqzfw: fault '.length).trim()}${quote(stdout, run?.stderr)}`,
      'look the pc up in build/firmware.map or with arm-none-eabi-addr2line -e build/firmware.elf <pc>',
      EXIT.fault,
    );
  if (run?.lockup !== undefined)
    throw new UserError(
      `firmware locked up (QEMU: ${run.lockup})${quote(stdout)}`,
      'the core faulted inside a fault handler (often a bad vector table or stack): check the build and the linker map',
      EXIT.fault,
    );
  if (run?.timedOut) {
    const s = run.timeoutMs !== undefined ? `${Math.round(run.timeoutMs / 100) / 10}` : '?';
    throw new UserError(
      `firmware did not finish within ${s} s (hang?)${quote(stdout, run.stderr)}`,
      'raise the timeout if the model is just slow (--timeout), else check the last output',
      EXIT.fault,
    );
  }
  const beginAt = all.map((l) => l.startsWith('sqzfw begin ')).lastIndexOf(true);
  if (beginAt < 0) {
    if (run && run.exitCode !== 0 && run.exitCode !== null && /qemu-system-arm:/.test(run.stderr ?? ''))
      throw new UserError(`${QEMU} failed: ${lastLines(run.stderr ?? '', 1)[0]}`, QEMU_INSTALL, EXIT.fault);
    throw new UserError(
      `firmware printed no "sqzfw begin" line${run ? ` (exit code ${run.exitCode ?? 'none'})` : ''}${quote(stdout, run?.stderr)}`,
      'check that the firmware was built for this board (UART) and with SEMIHOSTING=1 for QEMU',
      EXIT.fault,
    );
  }
  const lines = all.slice(beginAt);
  const [, model = '', board = ''] = lines[0]!.split(/\s+/).slice(1);
  const endLine = lines.find((l) => /^sqzfw end\b/.test(l));
  if (!endLine)
    throw new UserError(
      `firmware output ended without "sqzfw end"${run ? ` (exit code ${run.exitCode ?? 'none'})` : ''}${quote(stdout, run?.stderr)}`,
      'the firmware stopped early: check the last output',
      EXIT.fault,
    );

  const bad = (line: string, why: string) =>
    new UserError(`malformed firmware output line (${why}): ${line.length > 120 ? `${line.slice(0, 117)}...` : line}`, 'the firmware and sqzfw versions may not match: regenerate the project');
  const report: FirmwareReport = { model, board, outputs: {}, top5: [], status: 0, errors: [] };
  const labels: string[] = [];
  for (const line of lines.slice(1)) {
    const words = line.trim().split(/\s+/);
    const kw = words[0];
    if (line.startsWith('sqzfw error:')) {
      report.errors.push(line.slice('sqzfw error:'.length).trim());
    } else if (kw === 'out') {
      const [, name, n, hex = ''] = words;
      const nbytes = Number(n);
      if (!name || !Number.isInteger(nbytes) || nbytes < 0) throw bad(line, 'expected out <name> <nbytes> <hex>');
      if (hex.length !== 2 * nbytes || !/^[0-9a-f]*$/.test(hex)) throw bad(line, `expected ${2 * nbytes} lowercase hex digits`);
      const bytes = new Int8Array(nbytes);
      for (let i = 0; i < nbytes; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) << 24 >> 24;
      report.outputs[name] = bytes;
    } else if (kw === 'top5') {
      report.top5 = words.slice(1).map((w) => {
        const m = /^(\d+):(-?\d+)$/.exec(w);
        if (!m) throw bad(line, 'expected top5 <idx>:<value> ...');
        return { index: Number(m[1]), value: Number(m[2]) };
      });
    } else if (kw === 'score') {
      const kind = words[1];
      if (kind !== 'logit' && kind !== 'prob') throw bad(line, 'expected score logit|prob <idx>:<value> ...');
      const classes = words.slice(2).map((w) => {
        const m = /^(\d+):(-?\d+\.\d{4})$/.exec(w);
        if (!m) throw bad(line, 'expected score logit|prob <idx>:<value> ...');
        return { index: Number(m[1]), value: Number(m[2]) };
      });
      (report.scores ??= []).push({ kind, classes });
    } else if (kw === 'label') {
      const m = /^label\s+(\d+)\s+(.*)$/.exec(line.trim());
      if (!m) throw bad(line, 'expected label <idx> <name>');
      labels.push(m[2]!);
    } else if (kw === 'ticks') {
      if (!/^\d+$/.test(words[1] ?? '')) throw bad(line, 'expected ticks <n>');
      report.ticks = Number(words[1]);
    } else if (kw === 'cycles') {
      if (/^\d+$/.test(words[1] ?? '')) report.cycles = Number(words[1]);
      else if (words[1] === 'unavailable:') report.cyclesNote = line.trim().slice('cycles unavailable: '.length);
      else throw bad(line, 'expected cycles <n> or cycles unavailable: <why>');
    } else if (kw === 'check') {
      if (words[1] !== 'ok' && words[1] !== 'mismatch') throw bad(line, 'expected check ok|mismatch');
      report.check = words[1];
    } else if (line.startsWith('sqzfw end')) {
      if (!/^sqzfw end -?\d+$/.test(line.trim())) throw bad(line, 'expected sqzfw end <status>');
      report.status = Number(words[2]);
      break;
    }
    // Anything else is free-form output of the firmware: ignored.
  }
  if (labels.length) report.labels = labels;

  if (report.status !== 0)
    throw new UserError(
      `firmware reported status ${report.status}${report.errors.length ? `: ${report.errors.join('; ')}` : ''}${quote(stdout)}`,
      'a kernel rejected its arguments: this is a bug in the generated code or the linked CMSIS-NN',
      EXIT.fault,
    );
  if (run && run.exitCode !== null && run.exitCode !== 0 && !(report.check === 'mismatch' && report.errors.length === 0))
    throw new UserError(
      `firmware exited with code ${run.exitCode}${report.errors.length ? `: ${report.errors.join('; ')}` : ''}${quote(stdout, run.stderr)}`,
      'check the last output',
      EXIT.fault,
    );
  return report;
}

/** runQemu + parseFirmwareOutput with every check. */
export async function runFirmware(opts: QemuOptions): Promise<{ report: FirmwareReport; run: QemuResult }> {
  const run = await runQemu(opts);
  const report = parseFirmwareOutput(run.stdout, { ...run, timeoutMs: opts.timeoutMs });
  return { report, run };
}

/** Guest instructions for a tick count measured under `-icount shift=0` (1 instruction = 1 ns; mps2: 40 per tick). */
export const ticksToInstructions = (ticks: number, board: Board): number => Math.round((ticks * 1e9) / qemuSystickHz(board));
