/**
 * QEMU twins of real boards. A real board (STM32, nRF) cannot run in QEMU, but a QEMU machine with the same core can
 * run the same generated code built with the same compiler flags: the twin is the real board's profile with every
 * memory region moved into the QEMU machine's memory (same names and sizes, so the same memory plan, the same
 * linker sections and the same weight split), the QEMU machine's UART, and no init steps. A bit-exact run on the
 * twin checks the board's firmware variant on the same kernel code path (DSP or scalar, FPU flags).
 */
import { UserError } from '../errors.js';
import type { Board, Core, Fpu } from './schema.js';
import { hex32 } from '../util/format.js';

/** Suffix of a twin's board name: "nucleo-h743zi@qemu". */
export const TWIN_SUFFIX = '@qemu';

/** FPUs whose instructions a QEMU core with FPU `host` executes. */
const FPU_SUBSETS: Record<Fpu, readonly Fpu[]> = {
  none: ['none'],
  'fpv4-sp-d16': ['none', 'fpv4-sp-d16'],
  'fpv5-sp-d16': ['none', 'fpv4-sp-d16', 'fpv5-sp-d16'],
  'fpv5-d16': ['none', 'fpv4-sp-d16', 'fpv5-sp-d16', 'fpv5-d16'],
  auto: ['none', 'auto'],
};


/**
 * The twin of `board` on the QEMU machine profile `base` (loaded by the caller). Throws UserError when the machine
 * cannot stand in for the board: another core, missing DSP or FPU, or a region that does not fit where it is mapped.
 */
export function makeTwin(board: Board, base: Board): Board {
  const where = `board ${board.name}: twin.board ${base.name}`;
  if (!board.twin) throw new Error(`board ${board.name} has no twin section`);
  if (!base.qemu) throw new UserError(`${where} is not a QEMU machine (no "qemu" section)`, 'name a profile such as mps2-an500 or mps2-an386');
  const same = (what: string, a: string | boolean, b: string | boolean) => {
    if (a !== b) throw new UserError(`${where} has ${what} ${b}, the board ${a}: not the same code path`, 'pick a QEMU machine with the same core');
  };
  same('core', board.cpu.core, base.cpu.core as Core);
  if (board.cpu.dsp && !base.cpu.dsp) same('DSP extension', true, false);
  if (!FPU_SUBSETS[base.cpu.fpu].includes(board.cpu.fpu))
    throw new UserError(`${where} has FPU ${base.cpu.fpu}, which does not run ${board.cpu.fpu} code`, 'pick a QEMU machine with that FPU');

  const memory = board.memory.map((r) => {
    const origin = board.twin!.map[r.name];
    if (origin === undefined) throw new UserError(`board ${board.name}: twin.map has no address for region ${r.name}`, 'map every region');
    const host = base.memory.find((h) => origin >= h.origin && origin + r.length <= h.origin + h.length);
    if (!host)
      throw new UserError(
        `board ${board.name}: region ${r.name} (${r.length} bytes) mapped at ${hex32(origin)} is not inside one memory region of ${base.name}`,
        `${base.name} has ${base.memory.map((h) => `${h.name} ${hex32(h.origin)}+${h.length}`).join(', ')}`,
      );
    return { ...r, origin, description: `${r.name} of ${board.name}, in ${base.name} ${host.name}` };
  });
  memory.forEach((r, i) =>
    memory.slice(i + 1).forEach((o) => {
      if (r.origin < o.origin + o.length && o.origin < r.origin + r.length)
        throw new UserError(`board ${board.name}: twin.map puts regions ${r.name} and ${o.name} on top of each other`, 'give them disjoint addresses');
    }),
  );
  // The core fetches its reset vector where the QEMU machine boots: the code region must be mapped there.
  const code = memory.find((r) => r.name === board.placement.code)!;
  const baseCode = base.memory.find((r) => r.name === base.placement.code)!;
  if (code.origin !== baseCode.origin)
    throw new UserError(
      `board ${board.name}: twin.map must put the code region ${code.name} at ${hex32(baseCode.origin)}, where ${base.name} boots`,
      `set twin.map.${code.name} to "${hex32(baseCode.origin)}"`,
    );

  return {
    ...board,
    name: `${board.name}${TWIN_SUFFIX}`,
    description: `QEMU twin of ${board.name} on ${base.qemu.machine}: same core, flags and memory layout; ${base.uart.kind} UART`,
    chip: `${board.chip ?? board.name} (twin on ${base.qemu.machine})`,
    cpu: { ...board.cpu, clockHz: base.cpu.clockHz, caches: false, irqCount: board.cpu.irqCount },
    memory,
    uart: base.uart,
    init: [],
    clock: undefined,
    qemu: base.qemu,
    twin: undefined,
    renode: undefined,
    openocd: undefined,
    pyocd: undefined,
    stlink: undefined,
  };
}
