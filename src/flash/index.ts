/**
 * Program a built firmware into a real board, verify it and reset the board, with one of three probes:
 *   openocd  openocd -f <board configs> -c "program <elf> verify reset exit": internal flash, and the F746's QSPI
 *            flash through the board config's stmqspi bank
 *   pyocd    pyocd commander -t <target> -c "load <elf>" -c "compare <addr> <bin>"... -c "reset"
 *   stlink   st-flash --reset write <bin> <addr> (st-flash verifies what it wrote), STM32 internal flash only
 * `planFlash` decides everything (a pure function: the dry run prints its commands); `flashFirmware` runs them and
 * turns "no probe attached" and "tool not installed" into one clear error each.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { EXIT, UserError } from '../errors.js';
import type { Board } from '../boards/index.js';
import { readElfSections, type ElfSection } from '../toolchain/index.js';
import { findOnPath } from '../util/find-on-path.js';
import { hex32 } from '../util/format.js';

export const PROBES = ['openocd', 'pyocd', 'stlink'] as const;
export type Probe = (typeof PROBES)[number];

export interface FlashStep {
  /** What the step does, for people. */
  what: string;
  argv: string[];
  /** Output that means success (checked when the tool exits 0 but may still have failed, e.g. pyocd compare). */
  mustNotMatch?: RegExp;
}

export interface FlashImage {
  /** Board memory region the image is programmed into. */
  region: string;
  external: boolean;
  /** First load address and bytes (span of the sections, gaps included). */
  address: number;
  bytes: number;
  /** ELF sections loaded there, by load address. */
  sections: string[];
  /** Raw binary of the region (made with objcopy) for probes that take binaries. */
  bin: string;
}

export interface FlashPlan {
  board: string;
  probe: Probe;
  elf: string;
  images: FlashImage[];
  steps: FlashStep[];
}


/** POSIX shell quoting of one argument (for printing commands that can be pasted). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\-+=.,/:@%^]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
export const commandLine = (argv: string[]): string => argv.map(shellQuote).join(' ');

/** A file name inside a Tcl command of OpenOCD (braces when it has spaces or Tcl specials). */
const tclWord = (s: string): string => (/^[A-Za-z0-9_\-+=.,/:@%^]+$/.test(s) ? s : `{${s}}`);

/** Default probe of a board: OpenOCD when it has a config, else pyOCD, else st-flash. */
export function defaultProbe(board: Board): Probe {
  if (board.openocd) return 'openocd';
  if (board.pyocd) return 'pyocd';
  if (board.stlink?.supported) return 'stlink';
  throw new UserError(`board ${board.name} has no flash probe configured`, 'add an "openocd", "pyocd" or "stlink" section to its profile');
}

/** The images an ELF loads into the board's memory regions (load addresses; NOLOAD and empty sections skipped). */
export function flashImages(board: Board, elf: string, sections: ElfSection[]): FlashImage[] {
  const images = new Map<string, FlashImage & { end: number }>();
  const base = elf.replace(/\.elf$/, '');
  for (const s of sections) {
    if (!s.load || s.size === 0) continue;
    const r = board.memory.find((m) => s.lma >= m.origin && s.lma + s.size <= m.origin + m.length);
    if (!r)
      throw new UserError(
        `${elf}: section ${s.name} loads at ${hex32(s.lma)}, outside every memory region of ${board.name}`,
        `was it built for another board? rebuild: make -C ${dirname(dirname(elf))}`,
      );
    if (r.kind !== 'flash')
      throw new UserError(
        `${elf}: section ${s.name} loads into RAM region ${r.name}: a flashed image cannot hold it`,
        'this ELF is not a flash image (was it built for a QEMU twin?)',
      );
    const img = images.get(r.name) ?? { region: r.name, external: r.external, address: s.lma, bytes: 0, sections: [], bin: `${base}.${r.name}.bin`, end: s.lma };
    img.address = Math.min(img.address, s.lma);
    img.end = Math.max(img.end, s.lma + s.size);
    img.bytes = img.end - img.address;
    img.sections.push(s.name);
    images.set(r.name, img);
  }
  return [...images.values()].map(({ end: _end, ...i }) => i);
}

/** objcopy steps that write each region's raw binary. */
function binSteps(images: FlashImage[], elf: string): FlashStep[] {
  return images.map((i) => ({
    what: `extract the ${i.region} image (${i.bytes} bytes at ${hex32(i.address)})`,
    argv: ['arm-none-eabi-objcopy', '-O', 'binary', ...i.sections.flatMap((s) => ['-j', s]), elf, i.bin],
  }));
}

/**
 * The commands that program, verify and reset. Throws UserError when the probe cannot program this board or this
 * image (e.g. external QSPI flash with st-flash).
 */
export function planFlash(board: Board, elf: string, sections: ElfSection[], probe: Probe = defaultProbe(board)): FlashPlan {
  const images = flashImages(board, elf, sections);
  if (images.length === 0) throw new UserError(`${elf} loads nothing into flash`, 'rebuild the firmware');
  const external = images.filter((i) => i.external);
  const steps: FlashStep[] = [];
  switch (probe) {
    case 'openocd': {
      const o = board.openocd;
      if (!o) throw new UserError(`board ${board.name} has no OpenOCD configuration`, `use --probe ${board.pyocd ? 'pyocd' : 'stlink'}`);
      const args: string[] = ['openocd', '-f', o.configs[0]!];
      if (o.transport) args.push('-c', `transport select ${o.transport}`);
      for (const c of o.configs.slice(1)) args.push('-f', c);
      for (const c of o.commands) args.push('-c', c);
      // program: init, reset init (runs the board's reset-init handlers, e.g. QSPI set-up), write every loadable
      // segment (internal flash and external banks the config declares), verify, reset and run, exit.
      args.push('-c', `program ${tclWord(elf)} verify reset exit`);
      steps.push({ what: `program ${images.map((i) => i.region).join(' and ')}, verify, reset`, argv: args });
      break;
    }
    case 'pyocd': {
      const p = board.pyocd;
      if (!p) throw new UserError(`board ${board.name} has no pyOCD target`, 'use --probe openocd');
      if (external.length)
        throw new UserError(
          `pyOCD cannot program ${external.map((i) => i.region).join(', ')} of ${board.name}: it has no flash algorithm for the external flash`,
          'use --probe openocd (its board config programs the QSPI flash)',
        );
      steps.push(...binSteps(images, elf));
      const args = ['pyocd', 'commander', '-t', p.target, '-c', `load ${elf}`];
      for (const i of images) args.push('-c', `compare ${hex32(i.address)} ${i.bin}`);
      args.push('-c', 'reset');
      steps.push({ what: `program ${images.map((i) => i.region).join(' and ')}, compare, reset`, argv: args, mustNotMatch: /Mismatched byte/ });
      break;
    }
    case 'stlink': {
      if (!board.stlink?.supported)
        throw new UserError(`st-flash cannot program ${board.name}: it programs STM32 boards through an ST-LINK`, `use --probe ${defaultProbe(board)}`);
      if (external.length)
        throw new UserError(
          `st-flash cannot program ${external.map((i) => i.region).join(', ')} of ${board.name} (external flash)`,
          'use --probe openocd (its board config programs the QSPI flash)',
        );
      steps.push(...binSteps(images, elf));
      images.forEach((i, k) => {
        const last = k === images.length - 1;
        steps.push({
          what: `write ${i.region} and verify${last ? ', reset' : ''}`,
          argv: ['st-flash', ...(last ? ['--reset'] : []), 'write', i.bin, hex32(i.address)],
        });
      });
      break;
    }
  }
  return { board: board.name, probe, elf, images, steps };
}

// ---- running the plan ---------------------------------------------------------------------------------------------

const TOOLS: Record<string, { install: string; noProbe: RegExp }> = {
  openocd: {
    install: 'sudo apt-get install -y openocd',
    noProbe:
      /Error: open failed|No J-Link device found|unable to find a matching CMSIS-DAP device|No CMSIS-DAP device found|no device found|Error: couldn't open|LIBUSB_ERROR_(ACCESS|NOT_FOUND|NO_DEVICE)|Error connecting DP|init mode failed/i,
  },
  'st-flash': {
    install: 'sudo apt-get install -y stlink-tools',
    noProbe: /Couldn't find any ST-Link devices|Found 0 stlink programmers|No ST-?LINK/i,
  },
  pyocd: {
    install: 'pip install pyocd (0.30 or newer; Debian\'s python3-pyocd 0.13 has no `pyocd` command)',
    noProbe: /No (available|connected) debug probes|No probe (was|is) (found|connected)|no probes? (found|connected)/i,
  },
  'arm-none-eabi-objcopy': {
    install: 'npm run setup (gcc-arm-none-eabi)',
    noProbe: /(?!)/,
  },
};

const PROBE_HINT: Record<string, string> = {
  openocd: "connect the board's debug USB port (ST-LINK or J-Link); on Linux, install the udev rules (e.g. openocd's 60-openocd.rules) or run as a user in the plugdev group",
  'st-flash': "connect the board's ST-LINK USB port; on Linux, install stlink-tools' udev rules",
  pyocd: "connect the board's debug USB port; `pyocd list` shows the probes pyOCD sees",
};

function runStep(step: FlashStep, cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(step.argv[0]!, step.argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, output }));
  });
}

const lastLines = (s: string, n = 6): string =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .map((l) => `  ${l}`)
    .join('\n');

/** Run the steps of a plan in order; throws UserError naming what failed. */
export async function runFlashPlan(plan: FlashPlan, opts: { cwd?: string; log?: (line: string) => void } = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l));
  // Every tool first: do not leave half the steps done because the last tool is missing.
  for (const tool of new Set(plan.steps.map((s) => s.argv[0]!)))
    if (!findOnPath(tool))
      throw new UserError(`${tool} not found: it is needed to flash with --probe ${plan.probe}`, `install it: ${TOOLS[tool]?.install ?? tool}`, EXIT.missingTool);
  for (const step of plan.steps) {
    const tool = step.argv[0]!;
    log(`${step.what}: ${commandLine(step.argv)}`);
    let r: { code: number | null; output: string };
    try {
      r = await runStep(step, opts.cwd ?? process.cwd());
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new UserError(`${tool} not found: it is needed to flash with --probe ${plan.probe}`, `install it: ${TOOLS[tool]?.install ?? tool}`, EXIT.missingTool);
      throw e;
    }
    const info = TOOLS[tool];
    if (info && info.noProbe.test(r.output))
      throw new UserError(
        `no debug probe found for ${plan.board} (${tool}: ${(r.output.match(info.noProbe) ?? [''])[0].trim()})`,
        PROBE_HINT[tool] ?? 'connect the board',
      );
    if (r.code !== 0 || (step.mustNotMatch && step.mustNotMatch.test(r.output)))
      throw new UserError(`${tool} failed (${step.what}, exit code ${r.code}):\n${lastLines(r.output)}`, `run it by hand to see everything: ${commandLine(step.argv)}`);
  }
}

export interface FlashOptions {
  board: Board;
  /** The project folder (build/firmware.elf), or an ELF. */
  projectDir?: string;
  elf?: string;
  probe?: Probe;
  dryRun?: boolean;
  log?: (line: string) => void;
}

/**
 * Check the ELF (exists, built for this board, without semihosting), plan and, unless dryRun, run the flash.
 * Returns the plan (the dry run prints its commands).
 */
export async function flashFirmware(opts: FlashOptions): Promise<FlashPlan> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const elf = resolve(opts.elf ?? join(opts.projectDir ?? '.', 'build', 'firmware.elf'));
  if (!existsSync(elf)) throw new UserError(`firmware ${elf} not found`, `build it first: make -C ${relative(process.cwd(), dirname(dirname(elf))) || '.'} (or sqzfw build)`);
  if (/[/\\]build[/\\]qemu[/\\]/.test(elf))
    throw new UserError(`${elf} is the QEMU twin's firmware, not the board's`, 'flash build/firmware.elf');
  // build/config.txt records the flags: refuse a firmware for another board, or one that exits through semihosting
  // (without a debugger attached, that ends in a HardFault after the results are printed).
  const config = join(dirname(elf), 'config.txt');
  if (existsSync(config)) {
    const text = readFileSync(config, 'utf8');
    const m = /-DSQZFW_BOARD_NAME="([^"]*)"/.exec(text);
    if (m && m[1] !== opts.board.name)
      throw new UserError(`${elf} was built for board ${m[1]}, not ${opts.board.name}`, `pass --board ${m[1]}, or generate and build for ${opts.board.name}`);
    if (/-DSQZFW_SEMIHOSTING=1/.test(text))
      throw new UserError(
        `${elf} was built with SEMIHOSTING=1 (for QEMU): on the board, its exit would end in a fault`,
        `rebuild for the board: make -C ${dirname(dirname(elf))} SEMIHOSTING=0`,
      );
  }
  const sections = await readElfSections(elf);
  const plan = planFlash(opts.board, elf, sections, opts.probe ?? defaultProbe(opts.board));
  if (opts.dryRun) {
    for (const s of plan.steps) log(commandLine(s.argv));
    return plan;
  }
  await runFlashPlan(plan, { log });
  log(`flashed ${plan.images.map((i) => `${i.region} (${i.bytes} bytes)`).join(' and ')} of ${opts.board.name} with ${plan.probe}; verified and reset`);
  return plan;
}
