/**
 * Writing a generated firmware project to disk: all or nothing. Files go to a temporary sibling folder that is
 * renamed into place at the end, so a failure never leaves a half-written project. Our CMSIS-NN subset is copied
 * in, so the project builds anywhere with `make`.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { readInputText } from './util/input-file.js';
import { loadBoard, parseBoard, type Board } from './boards/index.js';
import { fileURLToPath } from 'node:url';
import { EXIT, UserError } from './errors.js';
import { writeOutputDir } from './util/out-dir.js';
import type { GeneratedFiles } from './emit/index.js';

export const FIRMWARE_DIR = fileURLToPath(new URL('../firmware/', import.meta.url));
/** Marks a folder as ours: only such folders are replaced by a new generate. */
export const MANIFEST = 'sqzfw.json';

/**
 * Firmware source folders copied into every project, as <project>/sqzfw/<name>: sqzfw's CMSIS-NN kernels. (The
 * applications' runtime and the library's operators come in the generated files: src/emit/apps.ts, library.ts.)
 */
const FIRMWARE_PARTS = ['cmsis-nn'];

/** The folder kind of generated projects (see ./util/out-dir.ts for the rules). */
export const PROJECT_DIR = { flag: '--out', marker: MANIFEST, writer: 'sqzfw generate' } as const;

export function writeProject(outDir: string, files: GeneratedFiles): void {
  if (!files[MANIFEST]) throw new Error(`generated files lack ${MANIFEST}`);
  writeOutputDir(outDir, files, PROJECT_DIR, (tmp, target) => {
    for (const part of FIRMWARE_PARTS) {
      cpSync(join(FIRMWARE_DIR, part), join(tmp, 'sqzfw', part), { recursive: true, preserveTimestamps: true });
    }
    // The manifest records the hash of the sources as written, which a build must match (checkBuildIsCurrent).
    const manifest = JSON.parse(files[MANIFEST]) as ProjectManifest;
    manifest.sourcesHash = projectSourcesHash(tmp);
    files[MANIFEST] = `${JSON.stringify(manifest, null, 1)}\n`;
    writeFileSync(join(tmp, MANIFEST), files[MANIFEST]);
    if (existsSync(target)) keepBuildState(target, tmp, files);
  });
}

export { writeFilesAtomically } from './util/out-dir.js';

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

const manifestSchema = z
  .object({
    generator: z.string().optional(),
    model: z.string(),
    board: z.string(),
    /** The application layer (src/emit/apps.ts); absent in projects of older versions: demo. */
    app: z.string().optional(),
    /** The validated board profile the project was generated for (custom profiles included): build, emulate and flash use it. */
    boardProfile: z.unknown().optional(),
    /** Where the profile came from: a built-in name or the path given to --board. */
    boardSource: z.string().optional(),
    /** sha256 of the project's sources as generated (every file but sqzfw.json and build/): see projectSourcesHash. */
    sourcesHash: z.string().optional(),
    inputNote: z.string().optional(),
    /** Output name -> golden bytes as hex, what the firmware must print. */
    expected: z.record(z.string().regex(/^([0-9a-f]{2})*$/)),
    /** Model output names in firmware order. */
    outputs: z.array(z.string()),
    labels: z.array(z.string()).optional(),
    /** Output name -> its quantization and whether a softmax produced it: the top 5 are dequantized with it. */
    quant: z.record(z.object({ scale: z.number(), zeroPoint: z.number().int(), softmax: z.boolean() })).optional(),
    peakBytes: z.number().optional(),
    macs: z.number(),
    /** The part of `macs` run by int4-weight (s4) kernels; absent: none. */
    int4Macs: z.number().optional(),
  })
  .passthrough();
export type ProjectManifest = z.infer<typeof manifestSchema>;

export function readManifest(projectDir: string): ProjectManifest {
  const file = join(projectDir, MANIFEST);
  if (!existsSync(file)) throw new UserError(`${projectDir} is not a sqzfw project (no ${MANIFEST})`, 'run `sqzfw generate --out DIR` first, or pass --project DIR');
  const text = readInputText(file, { what: 'project manifest', maxBytes: 64 << 20 });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${file} is not valid JSON`, 'regenerate the project with `sqzfw generate`');
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new UserError(`${file} is not a sqzfw project manifest: ${i.path.join('.') || '(top level)'}: ${i.message}`, 'regenerate the project with `sqzfw generate`');
  }
  return r.data;
}

/** Files of a project that are not sources: the manifest (it records the hash) and make's output. */
const NOT_SOURCES = new Set([MANIFEST, 'build']);

/** sha256 over the relative path and content of every file of the project except sqzfw.json and build/, in sorted order. */
export function projectSourcesHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && NOT_SOURCES.has(e.name)) continue;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) {
        const bytes = readFileSync(join(dir, path));
        h.update(`${path}\0${bytes.length}\0`).update(bytes);
      }
    }
  };
  walk('');
  return h.digest('hex');
}

/** Record kept beside a built ELF: the sources hash it was built from. */
export const BUILD_RECORD = 'sqzfw-build.json';

export function writeBuildRecord(projectDir: string, elf: string): void {
  writeFileSync(join(dirname(elf), BUILD_RECORD), `${JSON.stringify({ generator: 'sqzfw build', sourcesHash: projectSourcesHash(projectDir) })}\n`);
}

/**
 * Refuses to run an ELF that was not built from the project as it is now (regenerated or edited since the build):
 * its results would be compared with the new golden bytes and look like a bug. A build made by `sqzfw build` carries
 * the sources hash; one made by plain `make` is judged by modification times, as make does.
 */
export function checkBuildIsCurrent(projectDir: string, elf: string, manifest: ProjectManifest): void {
  const stale = (why: string) => new UserError(`${elf} is stale: ${why}`, `rebuild it: sqzfw build --project ${projectDir}`, EXIT.input);
  const record = join(dirname(elf), BUILD_RECORD);
  if (existsSync(record)) {
    let built: string | undefined;
    try {
      built = (JSON.parse(readFileSync(record, 'utf8')) as { sourcesHash?: string }).sourcesHash;
    } catch {
      built = undefined;
    }
    const now = manifest.sourcesHash ?? projectSourcesHash(projectDir);
    if (built !== now) throw stale('the project was regenerated or edited after it was built');
    return;
  }
  const elfTime = statSync(elf).mtimeMs;
  const newer = newestSource(projectDir);
  if (newer && newer.mtimeMs > elfTime) throw stale(`${newer.path} changed after it was built`);
}

function newestSource(dir: string): { path: string; mtimeMs: number } | undefined {
  let best: { path: string; mtimeMs: number } | undefined;
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && NOT_SOURCES.has(e.name)) continue;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) {
        const t = statSync(join(dir, path)).mtimeMs;
        if (!best || t > best.mtimeMs) best = { path, mtimeMs: t };
      }
    }
  };
  walk('');
  return best;
}

/**
 * The board a project was generated for: the profile recorded in its manifest (so a custom --board file keeps working
 * after generate, and a custom profile named like a built-in one is never swapped for the built-in), else, for
 * projects from older versions, the built-in profile of that name.
 */
export function projectBoard(projectDir: string, manifest = readManifest(projectDir)): Board {
  if (manifest.boardProfile === undefined) return loadBoard(manifest.board);
  const board = parseBoard(manifest.boardProfile, `${join(projectDir, MANIFEST)} (boardProfile)`);
  if (board.name !== manifest.board) throw new UserError(`${join(projectDir, MANIFEST)}: boardProfile is board ${board.name}, the manifest says ${manifest.board}`, 'regenerate the project with `sqzfw generate`');
  return board;
}

export const toHex = (b: Int8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
export const fromHex = (h: string): Int8Array => new Int8Array(Buffer.from(h, 'hex'));
