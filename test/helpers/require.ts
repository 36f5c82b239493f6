/**
 * Tests that need a tool or ../shared: skipped on a developer's machine that lacks it, but in CI (CI=true) a missing
 * requirement fails the test file instead of passing it off as green.
 */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** True when `present`; false (skip) when not, except in CI, where it throws naming what is missing. */
export function required(what: string, present: boolean): boolean {
  if (!present && IN_CI) throw new Error(`CI=true but ${what} is missing: this test must run in CI (run scripts/setup.sh, or provide ../shared)`);
  return present;
}
