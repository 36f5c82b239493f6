/**
 * The one place where a board profile becomes memory-planner options: the RAM regions the arena may use (room kept
 * for the stack, .data and .bss in the data region) and the kernel path whose scratch is planned.
 */
import type { Board } from '../boards/index.js';
import type { PlanRegion } from '../planner/index.js';
import type { KernelPath } from '../planner/scratch.js';

/** Board RAM regions usable by the arena, with room kept for the stack, .data and .bss in the data region. */
export function arenaRegions(board: Board): PlanRegion[] {
  const dataRegion = board.placement.data ?? board.memory.find((r) => r.kind === 'ram')?.name;
  const RESERVE = 8192; // runtime .data/.bss and alignment slack
  return board.placement.arena.map((name) => {
    const r = board.memory.find((m) => m.name === name)!;
    return { name, capacity: name === dataRegion ? r.length - board.stackSize - RESERVE : r.length };
  });
}

export const kernelPath = (board: Board, dsp = true): KernelPath => (board.cpu.dsp && dsp ? 'dsp' : 'scalar');

/** Regions and kernel path for planning a model on a board (with --no-dsp: the scalar kernels' scratch). */
export const boardPlanOptions = (board: Board, dsp = true): { regions: PlanRegion[]; path: KernelPath } => ({ regions: arenaRegions(board), path: kernelPath(board, dsp) });
