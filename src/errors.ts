/**
 * User-facing errors: what is wrong and what to do. The CLI prints `error: <message>` and, on its own line,
 * `hint: <fix>`, then exits non-zero. Anything that is not a UserError is a bug and keeps its stack trace.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, hint?: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;
