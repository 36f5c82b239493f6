/**
 * Renode, for boards QEMU does not model: per generated firmware, renode/machine.resc (the machine: the board's
 * platform description, memories it lacks, the ELF), renode/sqzfw.resc (machine + UART analyzer + start, for
 * interactive use) and renode/sqzfw.robot (a Robot Framework test that waits for the firmware's result lines on the
 * UART and checks every output byte against the golden model). `runRenode` runs the test with renode-test when
 * Renode is installed, and otherwise says how to install it.
 *
 * Renode cannot run on the machines this project is developed on (no .NET SDK), so the generated files are checked
 * here without it: `checkResc` is a strict check of the Renode monitor syntax we use (the monitor's tokens, the
 * commands and their arguments, the platform files and their peripherals), and the .robot files parse with Robot
 * Framework 6.1 (the version Renode pins) in the tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashComment } from '../util/text.js';
import { renderTemplate } from '../emit/render.js';
import { EXIT, UserError } from '../errors.js';
import { findRegion, type Board } from '../boards/index.js';
import { generatedHeader } from '../emit/board-files.js';
import { fromHex, projectBoard, readManifest } from '../project.js';
import { hex32Upper } from '../util/format.js';
import { findOnPath } from '../util/find-on-path.js';

const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/renode/', import.meta.url));

/** Where the generated Renode files go in a project. */
export const RENODE_FILES = { machine: 'renode/machine.resc', script: 'renode/sqzfw.resc', test: 'renode/sqzfw.robot', workflow: '.github/workflows/renode.yml' } as const;

/**
 * What Renode's platform descriptions provide (read from Renode's platforms/ tree): memory ranges, UARTs and the CPU
 * name, for the platforms our boards use. The .resc check uses it: every memory region the firmware uses must be
 * mapped by the platform or added by the script, and the analyzer must name a UART of the platform.
 */
export interface RenodePlatformFacts {
  memory: { name: string; origin: number; length: number }[];
  uarts: string[];
  cpu: string;
}

const K = 1024;
const M = 1024 * 1024;
export const RENODE_PLATFORMS: Record<string, RenodePlatformFacts> = {
  // platforms/cpus/stm32h743.repl includes stm32h7.repl
  'platforms/cpus/stm32h743.repl': {
    memory: [
      { name: 'itcm', origin: 0x00000000, length: 64 * K },
      { name: 'flashBank1', origin: 0x08000000, length: 1 * M },
      { name: 'flashBank2', origin: 0x08100000, length: 1 * M },
      { name: 'dtcm', origin: 0x20000000, length: 128 * K },
      { name: 'axiSram', origin: 0x24000000, length: 512 * K },
      { name: 'sram1', origin: 0x30000000, length: 128 * K },
      { name: 'sram2', origin: 0x30020000, length: 128 * K },
      { name: 'sram3', origin: 0x30040000, length: 32 * K },
      { name: 'sram4', origin: 0x38000000, length: 64 * K },
      { name: 'backupSram', origin: 0x38800000, length: 4 * K },
    ],
    uarts: ['usart1', 'usart2', 'usart3', 'uart4', 'uart5', 'usart6', 'uart7', 'uart8', 'lpuart1'],
    cpu: 'cpu',
  },
  'platforms/cpus/stm32f746.repl': {
    memory: [
      { name: 'flash', origin: 0x08000000, length: 2 * M },
      { name: 'sram', origin: 0x20000000, length: 0x60000 },
      { name: 'fsmcBank1', origin: 0xc0000000, length: 256 * M },
    ],
    uarts: ['usart1', 'usart2', 'usart3', 'usart6'],
    cpu: 'cpu',
  },
  // platforms/cpus/stm32f429.repl includes stm32f4.repl
  'platforms/cpus/stm32f429.repl': {
    memory: [
      { name: 'flash', origin: 0x08000000, length: 2 * M },
      { name: 'sram', origin: 0x20000000, length: 256 * K },
      { name: 'fsmcBank1', origin: 0x60000000, length: 256 * M },
      { name: 'memoryBank1', origin: 0xc0000000, length: 256 * M },
    ],
    uarts: ['usart1', 'usart2', 'usart3', 'uart4', 'uart5'],
    cpu: 'cpu',
  },
  // platforms/cpus/stm32f4.repl (STM32F40x): the netduinoplus2's STM32F405RG, USART1 at 0x40011000 as on the chip
  'platforms/cpus/stm32f4.repl': {
    memory: [
      { name: 'fsmcBank1', origin: 0x60000000, length: 256 * M },
      { name: 'sram', origin: 0x20000000, length: 256 * K },
      { name: 'flash', origin: 0x08000000, length: 2 * M },
    ],
    uarts: ['usart1', 'usart2', 'usart3', 'uart4', 'uart5'],
    cpu: 'cpu',
  },
  'platforms/cpus/nrf52840.repl': {
    memory: [
      { name: 'flash', origin: 0x00000000, length: 1 * M },
      { name: 'ram', origin: 0x20000000, length: 256 * K },
    ],
    uarts: ['uart0', 'uart1'],
    cpu: 'cpu',
  },
};

/** Regex-escape for .NET (Renode's TerminalTester with treatAsRegex), then Robot-escape (backslashes, variables, #). */
function robotRegexLine(line: string): string {
  const re = `^${line.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')}$`;
  return re.replace(/\\/g, '\\\\').replace(/([$@&%])\{/g, '\\$1{').replace(/#/g, '\\#');
}

export interface RenodeFilesInput {
  board: Board;
  /** The model name the firmware prints in `sqzfw begin <model> <board>`. */
  model: string;
  /** The board name the firmware prints (default board.name). */
  boardName?: string;
  /** Golden bytes per output, in the order the firmware prints them. */
  expected: { name: string; bytes: Int8Array }[];
  /** Multiply-accumulates of one inference: sizes the UART timeout. */
  macs: number;
  /** Board regions the firmware uses (default: code, data, every arena and weights region of the board). */
  regionsUsed?: string[];
}

/** The regions a firmware uses by default: code, data, and every weights and arena region the board allows. */
export function defaultRegionsUsed(board: Board): string[] {
  return [...new Set([board.placement.code, board.placement.data, ...board.placement.weights, ...board.placement.arena])];
}

/**
 * The regions a generated firmware uses: code, data, the arena regions the plan fills, and the weights regions the
 * placement fills (checkWeightsFit's result).
 */
export function regionsUsedBy(
  board: Board,
  plan: { regions: { name: string; used: number; external?: string }[] },
  weights?: { regions: { region: string; used: number }[] },
): string[] {
  const weightRegions = weights ? weights.regions.filter((r) => r.used > 0).map((r) => r.region) : board.placement.weights;
  return [...new Set([board.placement.code, board.placement.data, ...plan.regions.filter((r) => r.used > 0 && !r.external).map((r) => r.name), ...weightRegions])];
}

/** The memories a .resc must add: used regions the Renode platform does not map, as listed in the profile. */
function memoriesToAdd(board: Board, used: string[]): { note: string; repl: string }[] {
  const renode = board.renode!;
  return renode.addMemory
    .filter((n) => used.includes(n))
    .map((n) => {
      const r = findRegion(board, n);
      const name = `sqzfw_${n.toLowerCase()}`;
      return {
        note: `${n}: ${r.length} bytes at ${hex32Upper(r.origin)}${r.external ? ' (external memory)' : ''}, not in ${renode.platform}`,
        repl: `${name}: Memory.MappedMemory @ sysbus ${hex32Upper(r.origin)} { size: ${hex32Upper(r.length)} }`,
      };
    });
}

const render = (template: string, data: Record<string, unknown>): string => renderTemplate(join(TEMPLATES_DIR, template), data);

/**
 * The Renode files for a firmware: renode/machine.resc, renode/sqzfw.resc and renode/sqzfw.robot, keyed by their path
 * in the project. Throws UserError when the board has no "renode" section.
 */
export function renderRenodeFiles(input: RenodeFilesInput): Record<string, string> {
  const { board } = input;
  if (!board.renode)
    throw new UserError(`board ${board.name} has no Renode platform (no "renode" section in its profile)`, 'add one, or use --emulator qemu');
  const renode = board.renode;
  const used = input.regionsUsed ?? defaultRegionsUsed(board);
  const uart = renode.uart.slice('sysbus.'.length);
  const mips = renode.performanceInMips ?? Math.max(1, Math.round(board.cpu.clockHz / 1e6));
  // Virtual time of one inference: Renode executes `mips` million instructions per virtual second; an int8 MAC takes
  // 1-2 instructions with the DSP kernels and up to ~8 without; generous margin on top.
  const perMac = board.cpu.dsp ? 3 : 10;
  const timeout = Math.ceil((2 * input.macs * perMac) / (mips * 1e6)) + 30;
  const header = generatedHeader(`Renode files for board ${board.name}`);
  const name = hashComment(`sqzfw ${input.model} on ${board.name}`);
  const description = hashComment(`${input.model} int8 firmware on ${board.name} (${renode.platform}), UART ${renode.uart}`);
  const boardName = input.boardName ?? board.name;

  const lines: { name: string; value: string }[] = [
    { name: 'BEGIN', value: `sqzfw begin ${input.model} ${boardName}` },
    ...input.expected.map((o, i) => ({
      name: `OUT_${i}`,
      value: `out ${o.name} ${o.bytes.length} ${Buffer.from(o.bytes.buffer, o.bytes.byteOffset, o.bytes.length).toString('hex')}`,
    })),
    { name: 'CHECK', value: 'check ok' },
    { name: 'END', value: 'sqzfw end 0' },
  ];
  const width = Math.max(...lines.map((l) => l.name.length)) + 3 + 4;
  const variables = lines.map((l) => ({ name: l.name, pad: ' '.repeat(Math.max(4, width - l.name.length - 3)), value: robotRegexLine(l.value) }));

  return {
    [RENODE_FILES.machine]: render('machine.resc.ejs', {
      name,
      description,
      header,
      board: board.name,
      machine: `sqzfw-${board.name}`,
      platform: renode.platform,
      addMemory: memoriesToAdd(board, used),
      mips,
      systickHz: board.cpu.clockHz,
    }),
    [RENODE_FILES.script]: render('sqzfw.resc.ejs', { name, description, header, uart }),
    [RENODE_FILES.test]: render('sqzfw.robot.ejs', {
      header,
      board: board.name,
      uartPath: renode.uart,
      timeout,
      variables,
      waits: lines.map((l) => l.name),
    }),
    [RENODE_FILES.workflow]: render('workflow.yml.ejs', { header, board: board.name }),
  };
}

/** Renode files for a generated project, from its manifest (sqzfw.json) and its board. */
export function renodeFilesForProject(projectDir: string, board?: Board): Record<string, string> {
  const m = readManifest(projectDir);
  const b = board ?? projectBoard(projectDir, m);
  return renderRenodeFiles({
    board: b,
    model: m.model,
    boardName: m.board,
    expected: m.outputs.map((o) => ({ name: o, bytes: fromHex(m.expected[o]!) })),
    macs: m.macs,
  });
}

// ---- strict check of the Renode monitor syntax ---------------------------------------------------------------------

/** One token of the Renode monitor (the token kinds of Renode's tokenizer that our scripts can contain). */
export interface RescToken {
  kind: 'comment' | 'exec' | 'variable' | 'multiline' | 'string' | 'path' | 'hex' | 'number' | 'bool' | 'assign' | 'condassign' | 'literal';
  text: string;
}

// The monitor's lexical rules, in the order the monitor tries them (first match wins).
const TOKEN_RULES: [RescToken['kind'] | 'space' | 'range' | 'split' | 'comma' | 'brace', RegExp][] = [
  ['comment', /^#.*/],
  ['exec', /^`.*?`/],
  ['variable', /^\$[0-9A-Za-z_.]+/],
  ['brace', /^[[\]]/],
  ['multiline', /^"""[\s\S]+?"""/],
  ['string', /^'[^'\\]*(?:\\.[^'\\]*)*'|^"[^"\\]*(?:\\.[^"\\]*)*"/],
  ['range', /^<\s*(0x[0-9a-fA-F]+|[+-]?\d+)\s*,?\s*\+?(0x[0-9a-fA-F]+|[+-]?\d+)\s*>/],
  ['path', /^@(?:(?!;)(\\ |\S))+/],
  ['hex', /^0x[0-9a-fA-F]+/],
  ['number', /^[+-]?\d+(\.\d*)?(e[+-]?\d+)?/],
  ['bool', /^(true|false|True|False)\b/],
  ['assign', /^=/],
  ['condassign', /^\?=/],
  ['split', /^;/],
  ['comma', /^,/],
  ['literal', /^[\w.\-?][\w.\-?:]*/],
  ['space', /^\s+/],
  ['comment', /^:.*/],
];

/** Tokenize one monitor command line the way Renode does; throws with the column where it stops. */
export function tokenizeResc(line: string): RescToken[] {
  const out: RescToken[] = [];
  let rest = line;
  while (rest.length > 0) {
    let matched = false;
    for (const [kind, re] of TOKEN_RULES) {
      const m = re.exec(rest);
      if (!m) continue;
      matched = true;
      rest = rest.slice(m[0].length);
      if (kind === 'space') break;
      // `$ORIGIN/file`: Renode expands a variable followed by characters it cannot tokenize into a path.
      if (kind === 'variable' && rest.length > 0 && /^[/\\]/.test(rest)) {
        const tail = /^\S+/.exec(rest)![0];
        out.push({ kind: 'path', text: `${m[0]}${tail}` });
        rest = rest.slice(tail.length);
        break;
      }
      if (kind === 'range' || kind === 'split' || kind === 'comma' || kind === 'brace')
        throw new Error(`column ${line.length - rest.length - m[0].length + 1}: "${m[0]}" is not used by sqzfw scripts`);
      out.push({ kind, text: m[0] });
      break;
    }
    if (!matched) throw new Error(`column ${line.length - rest.length + 1}: cannot tokenize "${rest.slice(0, 20)}"`);
  }
  return out;
}

/**
 * Logical commands of a script, joined the way Renode's script reader does: a line containing """ starts (or ends)
 * a block that continues over the following lines, and a block whose first line starts with """ belongs to the
 * command on the line before (`macro reset` newline `"""`). A line with two """ toggles only once, as in Renode, so
 * it opens a block: sqzfw scripts never write one.
 */
export function rescCommands(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let block: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const terminator = line.includes('"""');
    if (block) {
      block.text += `\n${line}`;
      if (terminator) {
        out.push(block);
        block = undefined;
      }
    } else if (!terminator) {
      out.push({ line: i + 1, text: line });
    } else if (line.startsWith('"""') && out.length > 0) {
      const prev = out.pop()!;
      block = { line: prev.line, text: `${prev.text}\n${line}` };
    } else {
      block = { line: i + 1, text: line };
    }
  });
  if (block) throw new Error(`line ${block.line}: unterminated """ block`);
  return out.filter((c) => c.text.trim()).map((c) => ({ line: c.line, text: c.text.trim() }));
}

export interface RescCheckContext {
  /** The board the script is for: its used regions must all be mapped. */
  board?: Board;
  /** Board regions the firmware uses (default: defaultRegionsUsed(board)). */
  regionsUsed?: string[];
  /** Files that `include`/`i` may name, relative to the script's directory (e.g. ["machine.resc"]). */
  siblings?: string[];
}

const REPL_MEMORY = /^([A-Za-z_]\w*): Memory\.MappedMemory @ sysbus (0x[0-9A-Fa-f]+) \{ size: (0x[0-9A-Fa-f]+) \}$/;

/**
 * Strict check of a .resc script: every line is a comment, a header (:name:, :description:) or one of the commands
 * sqzfw uses, with arguments of the right token kinds; platform files, peripherals and added memories are checked
 * against what Renode's platforms provide. Returns the problems (empty: the script is accepted).
 */
export function checkResc(text: string, ctx: RescCheckContext = {}): string[] {
  const problems: string[] = [];
  let platform: string | undefined;
  const added: { origin: number; length: number }[] = [];
  const macros = new Set<string>();
  const variables = new Set<string>(['$ORIGIN']);
  let commands: { line: number; text: string }[];
  try {
    commands = rescCommands(text);
  } catch (e) {
    return [(e as Error).message];
  }
  const kinds = (t: RescToken[]) => t.map((x) => x.kind).join(' ');
  const lit = (t: RescToken | undefined, v: string) => t?.kind === 'literal' && t.text === v;

  const checkCommand = (line: number, cmd: string, inMacro: boolean): void => {
    const bad = (why: string): void => {
      problems.push(`line ${line}: ${why}: ${cmd.split('\n')[0]}`);
    };
    let t: RescToken[];
    try {
      t = tokenizeResc(cmd);
    } catch (e) {
      bad(`Renode cannot tokenize it (${(e as Error).message})`);
      return;
    }
    t = t.filter((x) => x.kind !== 'comment');
    if (t.length === 0) return;
    const k = kinds(t);
    if (k === 'literal literal' && lit(t[0], 'using') && lit(t[1], 'sysbus')) return;
    if (lit(t[0], 'mach') && lit(t[1], 'create') && (k === 'literal literal' || k === 'literal literal string')) return;
    if (lit(t[0], 'machine') && lit(t[1], 'LoadPlatformDescription')) {
      if (k !== 'literal literal path') return bad('expected machine LoadPlatformDescription @platforms/...repl');
      platform = t[2]!.text.slice(1);
      if (!RENODE_PLATFORMS[platform]) bad(`unknown platform ${platform} (known: ${Object.keys(RENODE_PLATFORMS).join(', ')})`);
      return;
    }
    if (lit(t[0], 'machine') && lit(t[1], 'LoadPlatformDescriptionFromString')) {
      if (k !== 'literal literal string') return bad('expected machine LoadPlatformDescriptionFromString "<repl>"');
      const m = REPL_MEMORY.exec(t[2]!.text.slice(1, -1));
      if (!m) return bad('expected a one-line memory description "name: Memory.MappedMemory @ sysbus 0x... { size: 0x... }"');
      added.push({ origin: parseInt(m[2]!, 16), length: parseInt(m[3]!, 16) });
      return;
    }
    if (lit(t[0], 'nvic') && lit(t[1], 'Frequency')) {
      if (k !== 'literal literal number' || !/^\d+$/.test(t[2]!.text) || Number(t[2]!.text) < 1) bad('expected nvic Frequency <positive integer, Hz>');
      return;
    }
    if (lit(t[0], 'cpu') && lit(t[1], 'PerformanceInMips')) {
      if (k !== 'literal literal number' || !/^\d+$/.test(t[2]!.text) || Number(t[2]!.text) < 1) bad('expected cpu PerformanceInMips <positive integer>');
      return;
    }
    if (t[0]!.kind === 'variable' && (t[1]?.kind === 'assign' || t[1]?.kind === 'condassign')) {
      if (t.length !== 3 || !['path', 'string', 'hex', 'number'].includes(t[2]!.kind)) return bad('expected $name = <path|string|number>');
      if (t[2]!.kind === 'path' && !t[2]!.text.startsWith('@') && !t[2]!.text.startsWith('$ORIGIN/')) bad('a path starts with @ or $ORIGIN/');
      variables.add(t[0]!.text);
      return;
    }
    if (lit(t[0], 'macro')) {
      if (k !== 'literal literal multiline') return bad('expected macro <name> """...""" ');
      macros.add(`$${t[1]!.text}`);
      rescCommands(t[2]!.text.slice(3, -3)).forEach((c) => checkCommand(line, c.text, true));
      return;
    }
    if (lit(t[0], 'runMacro')) {
      if (k !== 'literal variable' || !macros.has(t[1]!.text)) bad('expected runMacro $<macro defined above>');
      return;
    }
    if (lit(t[0], 'sysbus') && lit(t[1], 'LoadELF')) {
      if (k !== 'literal literal variable' && k !== 'literal literal path') return bad('expected sysbus LoadELF $bin');
      if (t[2]!.kind === 'variable' && !variables.has(t[2]!.text)) bad(`variable ${t[2]!.text} is not set`);
      return;
    }
    if (lit(t[0], 'cpu') && lit(t[1], 'VectorTableOffset')) {
      const ok =
        (k === 'literal literal hex') ||
        (k === 'literal literal exec' && /^`sysbus GetSymbolAddress "[A-Za-z_]\w*"`$/.test(t[2]!.text));
      if (!ok) bad('expected cpu VectorTableOffset <hex> or `sysbus GetSymbolAddress "symbol"`');
      return;
    }
    if (lit(t[0], 'showAnalyzer')) {
      if (k !== 'literal literal') return bad('expected showAnalyzer <uart>');
      const uarts = platform ? RENODE_PLATFORMS[platform]?.uarts : undefined;
      if (!inMacro && platform && uarts && !uarts.includes(t[1]!.text)) bad(`${platform} has no UART ${t[1]!.text} (it has ${uarts.join(', ')})`);
      return;
    }
    if (lit(t[0], 'include') || lit(t[0], 'i')) {
      if (k !== 'literal path') return bad('expected include @<file> or include $ORIGIN/<file>');
      const p = t[1]!.text;
      if (p.startsWith('$ORIGIN/') && ctx.siblings && !ctx.siblings.includes(p.slice('$ORIGIN/'.length)))
        bad(`${p.slice('$ORIGIN/'.length)} is not generated next to this script`);
      return;
    }
    if (k === 'literal' && lit(t[0], 'start')) return;
    bad('not a command sqzfw scripts use');
  };

  for (const c of commands) {
    if (c.text.startsWith(':name:') || c.text.startsWith(':description:')) continue;
    checkCommand(c.line, c.text, false);
  }
  // Memory: everything the firmware uses must exist in Renode's machine.
  if (ctx.board && platform && RENODE_PLATFORMS[platform]) {
    const mapped = [...RENODE_PLATFORMS[platform]!.memory, ...added];
    const covered = (origin: number, length: number): boolean => {
      // Adjacent platform memories cover a region together (e.g. sram1..sram3).
      let at = origin;
      const end = origin + length;
      for (let guard = 0; at < end && guard < 64; guard++) {
        const m = mapped.find((x) => at >= x.origin && at < x.origin + x.length);
        if (!m) return false;
        at = m.origin + m.length;
      }
      return at >= end;
    };
    for (const n of ctx.regionsUsed ?? defaultRegionsUsed(ctx.board)) {
      const r = findRegion(ctx.board, n);
      if (!covered(r.origin, r.length))
        problems.push(`region ${n} (${hex32Upper(r.origin)}, ${r.length} bytes) is not mapped by ${platform} nor added by the script`);
    }
  }
  return problems;
}

// ---- running renode-test ------------------------------------------------------------------------------------------

/** How to get Renode: shown when renode-test is missing. */
export const RENODE_INSTALL_HINT =
  'install Renode 1.14 or newer (https://renode.io: the Linux portable package or the .deb from ' +
  'https://github.com/renode/renode/releases), then `pip install -r <renode>/tests/requirements.txt` ' +
  '(Robot Framework 6.1) and put renode-test on PATH; or run in the antmicro/renode Docker image; ' +
  'or use --emulator qemu on a board with a QEMU twin';

export interface RenodeRunResult {
  /** The command that ran. */
  command: string[];
  passed: boolean;
  exitCode: number | null;
  output: string;
  /** Where renode-test wrote its logs (robot_output.xml, log.html). */
  resultsDir: string;
}

/**
 * Run a project's Renode test (renode/sqzfw.robot, regenerated from the manifest when missing) with renode-test.
 * Throws UserError when renode-test is not installed (with how to install it) or the ELF is missing; returns the
 * result otherwise (passed = the firmware printed every golden line in time).
 */
export async function runRenode(opts: { projectDir: string; timeoutMs?: number; renodeTest?: string }): Promise<RenodeRunResult> {
  const dir = resolve(opts.projectDir);
  const manifest = readManifest(dir);
  const board = projectBoard(dir, manifest);
  if (!board.renode)
    throw new UserError(`board ${board.name} has no Renode platform (no "renode" section in its profile)`, 'use --emulator qemu');
  const tool = opts.renodeTest ?? findOnPath('renode-test');
  if (!tool) throw new UserError('renode-test not found: Renode is not installed here', RENODE_INSTALL_HINT, EXIT.missingTool);
  const elf = join(dir, 'build', 'firmware.elf');
  if (!existsSync(elf)) throw new UserError(`firmware ${elf} not found`, `build it first: make -C ${dir} (sqzfw build)`);
  const config = join(dir, 'build', 'config.txt');
  if (existsSync(config) && /-DSQZFW_SEMIHOSTING=1/.test(readFileSync(config, 'utf8')))
    throw new UserError(
      `${elf} was built with SEMIHOSTING=1: its exit would stop Renode with a semihosting call`,
      `rebuild for the board: make -C ${dir} SEMIHOSTING=0`,
    );
  for (const [path, content] of Object.entries(renodeFilesForProject(dir, board))) {
    const file = join(dir, path);
    if (!existsSync(file)) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, content);
    }
  }
  const resultsDir = join(dir, 'build', 'renode');
  mkdirSync(resultsDir, { recursive: true });
  const command = [tool, join(dir, RENODE_FILES.test), '--results-dir', resultsDir];
  return new Promise((resolveRun, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new UserError(`${tool} cannot be run`, RENODE_INSTALL_HINT, EXIT.missingTool) : e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ command, passed: code === 0, exitCode: code, output, resultsDir });
    });
  });
}
