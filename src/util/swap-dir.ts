/**
 * Puts a fully written temporary folder in place of `target`, all or nothing: the old folder is moved aside first,
 * restored if the swap fails, and deleted only once the new one is in place.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';

export function swapIntoPlace(tmp: string, target: string): void {
  let old: string | null = null;
  try {
    if (existsSync(target)) {
      old = `${tmp}.old`;
      renameSync(target, old);
    }
    renameSync(tmp, target);
  } catch (e) {
    if (old !== null && !existsSync(target) && existsSync(old)) renameSync(old, target);
    throw e;
  }
  if (old !== null) rmSync(old, { recursive: true, force: true });
}
