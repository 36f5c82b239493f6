/** Image folders: the JPEG/PNG files of a directory in a stable (sorted) order. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** Sorted paths of the .jpg/.jpeg/.png files directly in `dir` (byte order of names: the same on every machine). */
export function listImages(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UserError(`${dir} is not a folder`, 'pass a folder of .jpg/.png images');
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read image folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'check the path');
  }
  const files = names.filter((n) => IMAGE_EXT.test(n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (files.length === 0) throw new UserError(`no .jpg/.jpeg/.png images in ${dir}`, 'pass a folder of images');
  return files.map((n) => join(dir, n));
}
