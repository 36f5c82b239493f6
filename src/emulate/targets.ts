/**
 * Which emulator runs a project, and which ELF on which machine: a QEMU board runs its own build; a real board runs
 * its QEMU twin's build (build/qemu/firmware.elf, `make qemu`) in QEMU, or its own build in Renode.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, UserError } from '../errors.js';
import { qemuTwin, TWIN_SUFFIX, type Board } from '../boards/index.js';
import { projectBoard } from '../project.js';
import { runRenode, RENODE_INSTALL_HINT } from './renode.js';
import { findOnPath } from '../util/find-on-path.js';

export const EMULATORS = ['qemu', 'renode'] as const;
export type EmulatorName = (typeof EMULATORS)[number];

/** QEMU where the board has a QEMU twin (or is a QEMU machine), else Renode. */
export function defaultEmulator(board: Board): EmulatorName {
  return qemuTwin(board) ? 'qemu' : 'renode';
}

export interface QemuTarget {
  /** The board QEMU runs: the project's board, or its twin (name "<board>@qemu"). */
  board: Board;
  elf: string;
  /** 'qemu' when this is the twin's build (build with buildFirmware({ variant: 'qemu' })). */
  variant: 'board' | 'qemu';
}

/** The QEMU machine and ELF for a project; throws UserError when its board has no QEMU twin. */
export function qemuTarget(projectDir: string, board?: Board): QemuTarget {
  const dir = resolve(projectDir);
  const b = board ?? projectBoard(dir);
  if (b.qemu) return { board: b, elf: join(dir, 'build', 'firmware.elf'), variant: b.name.endsWith(TWIN_SUFFIX) ? 'qemu' : 'board' };
  const twin = qemuTwin(b);
  if (!twin)
    throw new UserError(
      `board ${b.name} has no QEMU twin`,
      b.renode ? 'use --emulator renode (needs Renode installed), or flash the board' : 'flash the board (sqzfw flash)',
    );
  return { board: twin, elf: join(dir, 'build', 'qemu', 'firmware.elf'), variant: 'qemu' };
}

/**
 * `sqzfw emulate --emulator renode`: run the project's Renode test, print what happened, throw UserError when it
 * failed or Renode is missing.
 */
export async function emulateWithRenode(projectDir: string, timeoutS: number, log: (l: string) => void = (l) => console.log(l)): Promise<void> {
  const dir = resolve(projectDir);
  if (!findOnPath('renode-test')) throw new UserError('renode-test not found: Renode is not installed here', RENODE_INSTALL_HINT, EXIT.missingTool);
  if (!existsSync(join(dir, 'build', 'firmware.elf')))
    throw new UserError(`firmware ${join(dir, 'build', 'firmware.elf')} not found`, `build it first: make -C ${dir} (sqzfw build)`);
  // renode-test starts Renode and Robot Framework: give it a minute on top of the firmware's own time.
  const r = await runRenode({ projectDir: dir, timeoutMs: (timeoutS + 60) * 1000 });
  if (!r.passed)
    throw new UserError(
      `the Renode test failed (renode-test exit code ${r.exitCode}):\n${r.output.split('\n').filter((l) => l.trim()).slice(-12).join('\n')}`,
      `logs in ${r.resultsDir}; rerun with: ${r.command.join(' ')}`,
      1,
    );
  log(`Renode: every output byte matches the golden model (renode-test ${join(dir, 'renode', 'sqzfw.robot')}; logs in ${r.resultsDir})`);
}
