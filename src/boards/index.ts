/**
 * Board profiles: boards/<name>.json validated by ./schema.ts. A board is given by name (a file under boards/)
 * or by a path to a JSON file (anything with a '/' or ending in .json).
 */
import { existsSync, readdirSync } from 'node:fs';
import { readInputText } from '../util/input-file.js';
import { escapeControls } from '../util/text.js';
import { hex32 } from '../util/format.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { boardSchema, formatIssuePath, type Board, type MemoryRegion } from './schema.js';
import { makeTwin, TWIN_SUFFIX } from './twin.js';
import { clockDefines, clockTree } from './clock.js';

export type { Board, MemoryRegion, BoardInput, UartKind, Core, Fpu, InitStep } from './schema.js';
export { boardSchema } from './schema.js';
export { TWIN_SUFFIX } from './twin.js';

/** The board used when none is named. */
export const DEFAULT_BOARD = 'mps2-an500';

/** boards/ at the package root (works from src/ under vitest and from dist/). */
export const BOARDS_DIR = fileURLToPath(new URL('../../boards/', import.meta.url));

const boardNames = (): string[] =>
  existsSync(BOARDS_DIR)
    ? readdirSync(BOARDS_DIR)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort()
    : [];

/**
 * Validate a parsed profile; `source` names the file in errors.
 * Throws UserError naming the file, the field path and what was expected.
 */
export function parseBoard(json: unknown, source: string): Board {
  const r = boardSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => escapeControls(`${formatIssuePath(i.path)}: ${i.message}`));
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1, 4).join('; ')}${issues.length > 4 ? '; ...' : ''})` : '';
  throw new UserError(
    `invalid board profile ${source}: ${issues[0]}${more}`,
    `fix the field in ${source}; boards/${DEFAULT_BOARD}.json is a complete example`,
  );
}

/** Board profiles are a few KB; anything larger is refused before it is read. */
export const MAX_BOARD_PROFILE_BYTES = 1 << 20;

function readProfile(file: string): Board {
  const text = readInputText(file, { what: 'board profile', maxBytes: MAX_BOARD_PROFILE_BYTES });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`invalid board profile ${file}: not valid JSON (${(e as Error).message})`, 'fix the JSON syntax');
  }
  return parseBoard(json, file);
}

/**
 * Load a board by name (boards/<name>.json), by path to a profile, or the QEMU twin of a real board by
 * "<name>@qemu" (see ./twin.ts).
 */
export function loadBoard(nameOrPath: string): Board {
  if (nameOrPath.endsWith(TWIN_SUFFIX)) {
    const real = loadBoard(nameOrPath.slice(0, -TWIN_SUFFIX.length));
    const twin = qemuTwin(real);
    if (!twin)
      throw new UserError(`board ${real.name} has no QEMU twin`, 'add a "twin" section to its profile, or run it on the board (sqzfw flash)');
    return twin;
  }
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json');
  if (isPath) {
    const file = resolve(nameOrPath);
    if (!existsSync(file))
      throw new UserError(`board profile ${nameOrPath} not found`, `available boards: ${boardNames().join(', ')}`);
    return readProfile(file);
  }
  const names = boardNames();
  if (!names.includes(nameOrPath))
    throw new UserError(
      `unknown board "${nameOrPath}"`,
      `available boards: ${names.join(', ') || '(none)'}; or pass the path of a profile (.json)`,
    );
  const board = readProfile(join(BOARDS_DIR, `${nameOrPath}.json`));
  if (board.name !== nameOrPath)
    throw new UserError(
      `invalid board profile boards/${nameOrPath}.json: name: expected "${nameOrPath}" (the file name), got "${board.name}"`,
      'rename the file or fix the name field',
    );
  return board;
}

/**
 * The board QEMU runs for `board`: the board itself when it is a QEMU machine (has "qemu"), its twin when it has a
 * "twin" section, else undefined.
 */
export function qemuTwin(board: Board): Board | undefined {
  if (board.qemu) return board;
  if (!board.twin) return undefined;
  return makeTwin(board, loadBoard(board.twin.board));
}

/** All profiles under boards/, sorted by name. */
export function listBoards(): Board[] {
  return boardNames().map((n) => loadBoard(n));
}

export function findRegion(board: Board, name: string): MemoryRegion {
  const r = board.memory.find((m) => m.name === name);
  if (!r)
    throw new UserError(
      `board ${board.name} has no memory region "${name}"`,
      `regions: ${board.memory.map((m) => m.name).join(', ')}`,
    );
  return r;
}

/** Architecture flags for gcc (compile and link), derived from cpu plus gcc.cflags. */
export function gccArchFlags(board: Board): string[] {
  const { core, fpu, floatAbi } = board.cpu;
  const flags = [`-mcpu=${core}`, '-mthumb'];
  if (fpu === 'none') flags.push('-mfloat-abi=soft');
  else flags.push(`-mfpu=${fpu}`, `-mfloat-abi=${floatAbi}`);
  return [...flags, ...board.gcc.cflags];
}

/** Preprocessor defines that configure firmware/runtime for this board (see sqzfw_rt.c / sqzfw_uart.h). */
export function runtimeDefines(board: Board): string[] {
  const uartMacros = {
    cmsdk: ['SQZFW_UART_CMSDK=1'],
    'stm32-usart': ['SQZFW_UART_STM32_USART=1'],
    'stm32-usart-v1': ['SQZFW_UART_STM32_USART=1', 'SQZFW_UART_STM32_V1=1'],
    'nrf-uarte': ['SQZFW_UART_NRF_UARTE=1'],
  }[board.uart.kind];
  const d = [
    `SQZFW_BOARD_NAME="${board.name}"`,
    `SQZFW_CPU_HZ=${board.cpu.clockHz}`,
    `SQZFW_IRQ_COUNT=${board.cpu.irqCount}`,
    ...uartMacros,
    `SQZFW_UART_BASE=${hex32(board.uart.base)}u`,
  ];
  if (board.uart.baud !== undefined) d.push(`SQZFW_UART_BAUD=${board.uart.baud}`);
  // The UART's kernel clock: from the clock tree when the board sets one up, else the profile's (default: the core's).
  const uartHz = board.clock ? clockTree(board.clock).uartHz : board.uart.clockHz;
  if (uartHz !== undefined) d.push(`SQZFW_UART_CLK_HZ=${uartHz}`);
  if (board.clock) d.push(...clockDefines(board.clock));
  if (board.uart.txPin !== undefined) d.push(`SQZFW_UART_TX_PIN=${board.uart.txPin}`);
  if (board.uart.rxPin !== undefined) d.push(`SQZFW_UART_RX_PIN=${board.uart.rxPin}`);
  if (board.cpu.caches) d.push('SQZFW_CM7_CACHES=1');
  if (board.init.length > 0) d.push('SQZFW_BOARD_INIT=1');
  return [...d, ...board.gcc.defines];
}

/** Rate of the SysTick clock under QEMU (mps2: 25 MHz). */
export const qemuSystickHz = (board: Board): number => board.qemu?.systickHz ?? board.cpu.clockHz;
