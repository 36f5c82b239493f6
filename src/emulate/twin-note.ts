/**
 * What a run on a real board's QEMU twin checks and what it does not. The twin runs the board's code path (same
 * core, compiler flags, memory layout and kernels), so a bit-exact run there checks the model; it does not run the
 * board's own peripherals: its UART driver, its clock set-up, its init steps, its external memories' controllers,
 * its caches, or its timing. `sqzfw emulate` says so rather than let a twin run pass for the board.
 */
import { qemuTwin, type Board } from '../boards/index.js';
import { sizeText } from '../util/format.js';

export interface TwinRun {
  emulator: 'qemu';
  /** QEMU machine that ran. */
  machine: string;
  /** The real board this machine stands in for; null when the board is itself a QEMU machine. */
  twinOf: string | null;
  /** The board's hardware the run did not exercise (empty for a QEMU board). */
  notExercised: string[];
}

/** The QEMU run for a project's board; undefined when the board has no QEMU twin. */
export function twinRun(board: Board): TwinRun | undefined {
  const twin = qemuTwin(board);
  if (!twin) return undefined;
  if (twin === board) return { emulator: 'qemu', machine: board.qemu!.machine, twinOf: null, notExercised: [] };
  const u = board.uart;
  const not: string[] = [
    `the board's ${u.kind} UART${u.instance ? ` ${u.instance}` : ''} driver (the twin prints through QEMU's ${twin.uart.kind} UART)`,
  ];
  if (board.clock) not.push(`the clock set-up to ${board.cpu.clockHz / 1e6} MHz (oscillator, PLL, flash wait states)`);
  if (board.init.length) not.push(`the ${board.init.length} init step${board.init.length > 1 ? 's' : ''} of the profile (peripheral clocks, pins)`);
  for (const m of board.memory.filter((r) => r.external))
    not.push(`the external ${m.name} flash (${sizeText(m.length)}): on the twin it is plain memory, its controller set-up and read timing are not run`);
  if (board.cpu.caches) not.push('the instruction and data caches');
  not.push("the board's cycle timing (QEMU counts instructions: wait states and cache misses are not modelled)");
  return { emulator: 'qemu', machine: twin.qemu!.machine, twinOf: board.name, notExercised: not };
}

/** The lines `sqzfw emulate` prints before its result. */
export function twinRunLines(r: TwinRun): string[] {
  if (!r.twinOf) return [`ran on QEMU ${r.machine} (the board itself)`];
  return [`ran on ${r.twinOf}'s QEMU twin (${r.machine}: same core, flags, memory layout and kernels); not exercised:`, ...r.notExercised.map((n) => `  - ${n}`)];
}
