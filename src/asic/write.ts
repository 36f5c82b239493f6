/**
 * Write a set of files as one directory, all or nothing: everything goes to a temporary sibling directory that is
 * then renamed into place. An existing output directory is replaced only if it is empty or was written by
 * `sqzfw asic` (it holds memory_map.json), so a mistyped --out never wipes unrelated files.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { swapIntoPlace } from '../util/swap-dir.js';

export function writeFilesAtomic(outDir: string, files: Record<string, string>, marker = 'memory_map.json'): void {
  const dir = resolve(outDir);
  const parent = dirname(dir);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`--out ${outDir} exists and is not a directory`, 'choose another --out');
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(marker))
      throw new UserError(
        `--out ${outDir} is a non-empty directory not written by sqzfw asic; refusing to replace it`,
        'choose a new or empty directory for --out',
      );
  }
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, `.${basename(dir)}.tmp-`));
  try {
    for (const name of Object.keys(files).sort()) {
      if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`bad output file name ${name}`);
      writeFileSync(join(tmp, name), files[name]!);
    }
    swapIntoPlace(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
