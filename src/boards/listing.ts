/**
 * `sqzfw boards`: each profile with its memories listed one by one (internal flash and external QSPI flash are
 * different memories: one is not the other's size), and how it is emulated.
 */
import type { Board } from './schema.js';
import { qemuTwin } from './index.js';
import { hex32, sizeText } from '../util/format.js';

export interface BoardMemoryView {
  name: string;
  kind: 'flash' | 'ram';
  origin: number;
  bytes: number;
  external: boolean;
  /** What the profile places there: code, data, weights, arena. */
  holds: string[];
}

export interface BoardView {
  name: string;
  core: string;
  clockHz: number;
  description: string;
  /** "qemu <machine>", "qemu twin <machine>" or "no qemu twin". */
  emulation: string;
  /** Renode platform description, when the board has one. */
  renode: string | null;
  memory: BoardMemoryView[];
}

export function boardView(b: Board): BoardView {
  const twin = qemuTwin(b);
  const p = b.placement;
  const holds = (n: string): string[] => [
    ...(p.code === n ? ['code'] : []),
    ...((p.data ?? b.memory.find((m) => m.kind === 'ram')?.name) === n ? ['data'] : []),
    ...(p.weights.includes(n) ? ['weights'] : []),
    ...(p.arena.includes(n) ? ['arena'] : []),
  ];
  return {
    name: b.name,
    core: b.cpu.core,
    clockHz: b.cpu.clockHz,
    description: b.description,
    emulation: b.qemu ? `qemu ${b.qemu.machine}` : twin ? `qemu twin ${twin.qemu!.machine}` : 'no qemu twin',
    renode: b.renode?.platform ?? null,
    memory: b.memory.map((m) => ({ name: m.name, kind: m.kind, origin: m.origin, bytes: m.length, external: m.external, holds: holds(m.name) })),
  };
}

/** The lines `sqzfw boards` prints for one board: a heading, then one line per memory. */
export function boardLines(v: BoardView): string[] {
  const head = `${v.name}  ${v.core} ${v.clockHz / 1e6} MHz  ${v.emulation}${v.renode ? `, renode ${v.renode}` : ''}  ${v.description}`;
  const mem = v.memory.map(
    (m) =>
      `  ${m.kind.padEnd(5)} ${m.name.padEnd(10)} ${sizeText(m.bytes).padStart(8)} at ${hex32(m.origin)} ${m.external ? 'external' : 'internal'}${m.holds.length ? `  (${m.holds.join(', ')})` : ''}`,
  );
  return [head, ...mem];
}
