/**
 * Write a set of files as one directory, all or nothing, through the project's one output-folder writer
 * (../util/out-dir.ts): an existing directory is replaced only if it is empty or was written by `sqzfw asic` (its
 * memory_map.json says so), so a mistyped --out never wipes unrelated files.
 */
import { writeOutputDir } from '../util/out-dir.js';

export function writeFilesAtomic(outDir: string, files: Record<string, string>, marker = 'memory_map.json'): void {
  for (const name of Object.keys(files)) if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`bad output file name ${name}`);
  writeOutputDir(outDir, files, { flag: '--out', marker, writer: 'sqzfw asic' });
}
