/**
 * Write a set of files as one directory, all or nothing, through the project's one output-folder writer
 * (../util/out-dir.ts): an existing directory is replaced only if it is empty or was written by `sqzfw asic` (its
 * memory_map.json says so), so a mistyped --out never wipes unrelated files.
 */
import { checkOutputDir, writeOutputDir, type OutputDirKind } from '../util/out-dir.js';

const asicOutDir = (marker: string): OutputDirKind => ({ flag: '--out', marker, writer: 'sqzfw asic' });

/** Throws unless `outDir` may be (re)placed by `sqzfw asic`'s files: the same rules writeFilesAtomic applies. */
export function checkAsicOutDir(outDir: string, marker = 'memory_map.json'): void {
  checkOutputDir(outDir, asicOutDir(marker));
}

export function writeFilesAtomic(outDir: string, files: Record<string, string>, marker = 'memory_map.json'): void {
  for (const name of Object.keys(files)) if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`bad output file name ${name}`);
  writeOutputDir(outDir, files, asicOutDir(marker));
}
