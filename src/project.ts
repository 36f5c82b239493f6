/**
 * Writing a generated firmware project to disk: all or nothing. Files go to a temporary sibling folder that is
 * renamed into place at the end, so a failure never leaves a half-written project. Our CMSIS-NN subset is copied
 * in, so the project builds anywhere with `make`.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.js';
import { swapIntoPlace } from './util/swap-dir.js';
import type { GeneratedFiles } from './emit/index.js';

export const FIRMWARE_DIR = fileURLToPath(new URL('../firmware/', import.meta.url));
/** Marks a folder as ours: only such folders are replaced by a new generate. */
export const MANIFEST = 'sqzfw.json';

/**
 * Firmware source folders copied into every project, as <project>/sqzfw/<name>: sqzfw's CMSIS-NN kernels. (The
 * applications' runtime and the library's operators come in the generated files: src/emit/apps.ts, library.ts.)
 */
const FIRMWARE_PARTS = ['cmsis-nn'];

export function writeProject(outDir: string, files: GeneratedFiles): void {
  const target = resolve(outDir);
  if (!files[MANIFEST]) throw new Error(`generated files lack ${MANIFEST}`);
  if (existsSync(target) && !existsSync(join(target, MANIFEST))) {
    throw new UserError(`${outDir} exists and is not a sqzfw project (no ${MANIFEST})`, 'choose another --out folder or remove it');
  }
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const [path, content] of Object.entries(files)) {
      const file = join(tmp, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    for (const part of FIRMWARE_PARTS) {
      cpSync(join(FIRMWARE_DIR, part), join(tmp, 'sqzfw', part), { recursive: true, preserveTimestamps: true });
    }
    if (existsSync(target)) keepBuildState(target, tmp, files);
    swapIntoPlace(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Writes a few plain files into a folder, each via a temporary name renamed into place. */
export function writeFilesAtomically(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, content);
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}

/**
 * Regenerating over a project (eval runs one image after another): files whose content did not change keep
 * their old modification time and the build folder is carried over, so make recompiles only what changed.
 */
function keepBuildState(oldDir: string, newDir: string, files: GeneratedFiles): void {
  for (const [path, content] of Object.entries(files)) {
    const old = join(oldDir, path);
    if (existsSync(old) && readFileSync(old, 'utf8') === content) {
      const { atime, mtime } = statSync(old);
      utimesSync(join(newDir, path), atime, mtime);
    }
  }
  if (existsSync(join(oldDir, 'build'))) renameSync(join(oldDir, 'build'), join(newDir, 'build'));
}

export interface ProjectManifest {
  generator: string;
  model: string;
  board: string;
  /** The application layer (src/emit/apps.ts); absent in projects of older versions: demo. */
  app?: string;
  inputNote: string;
  /** Output name -> golden bytes as hex, what the firmware must print. */
  expected: Record<string, string>;
  /** Model output names in firmware order. */
  outputs: string[];
  labels?: string[];
  peakBytes: number;
  macs: number;
}

export function readManifest(projectDir: string): ProjectManifest {
  const file = join(projectDir, MANIFEST);
  if (!existsSync(file)) throw new UserError(`${projectDir} is not a sqzfw project (no ${MANIFEST})`, 'run `sqzfw generate --out DIR` first, or pass --project DIR');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProjectManifest;
  } catch {
    throw new UserError(`${file} is not valid JSON`, 'regenerate the project with `sqzfw generate`');
  }
}

export const toHex = (b: Int8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
export const fromHex = (h: string): Int8Array => new Int8Array(Buffer.from(h, 'hex'));
