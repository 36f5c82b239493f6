/**
 * User-facing errors: what is wrong and what to do. The CLI prints `error: <message>` and, on its own line,
 * `hint: <fix>`, then exits with one of the codes below. Anything that is not a UserError is a bug and keeps its
 * stack trace (exit 70).
 */

/** Exit codes of the sqzfw command (documented in README.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** The firmware's (or the HDL simulation's) output differs from the golden model. */
  mismatch: 1,
  /** Bad command line: unknown option or command, a bad option value. */
  usage: 2,
  /**
   * Bad input: a file that is missing, unreadable, damaged, too large or invalid; an unusable output folder; a stale
   * or truncated build.
   */
  input: 3,
  /** The model does not fit the board (RAM, flash) or the ASIC profile's memories. */
  doesNotFit: 4,
  /** The firmware faulted, locked up, hung or stopped early in the emulator. */
  fault: 5,
  /** A tool is missing: arm-none-eabi-gcc, make, QEMU, Renode, a flash probe tool, a simulator. */
  missingTool: 6,
  /** A bug in sqzfw (an unexpected exception). */
  bug: 70,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Longest message printed: an error quoting a hostile value stays readable. */
const MAX_MESSAGE = 2000;

/**
 * Messages quote untrusted values (profile fields, file names): control characters other than newline and tab (an
 * escape sequence could rewrite the terminal) become "?", and the text is cut at MAX_MESSAGE characters.
 */
export function printable(s: string): string {
  const t = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE)}... (${t.length - MAX_MESSAGE} more characters)` : t;
}

export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, hint?: string, exitCode: number = EXIT.input) {
    super(printable(message));
    this.name = 'UserError';
    this.hint = hint === undefined ? undefined : printable(hint);
    this.exitCode = exitCode;
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;
