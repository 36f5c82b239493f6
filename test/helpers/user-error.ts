import { UserError } from '../../src/errors.js';

/** The UserError a promise (or a function, sync or async) fails with; any other outcome fails the test. */
export async function userError(p: Promise<unknown> | (() => unknown)): Promise<UserError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}
