/**
 * The one writer of output folders (generate's project, plan's plan.json/plan.svg, asic's memory map), all or
 * nothing, with the same refusal rules everywhere:
 *   - the target must not be a symlink, a file, the filesystem root or the current folder's ancestor chain's root;
 *   - an existing folder is replaced only when it is empty or holds our marker file (a regular file whose JSON says
 *     `"generator": "sqzfw ..."`), so a mistyped --out never replaces someone else's files;
 * Files go to `.<name>.sqzfw-tmp-<pid>` beside the target, renamed into place at the end. Temporary folders left by a
 * killed run (their pid no longer alive) are removed by the next run that writes beside them. File-system failures
 * (permissions, a full disk, a read-only file system) become one-line errors naming the folder.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, parse, resolve } from 'node:path';
import { UserError } from '../errors.js';

export interface OutputDirKind {
  /** The option naming the folder, for messages: "--out". */
  flag: string;
  /** File that marks a folder as written by this command. */
  marker: string;
  /** What writes it, for messages: "sqzfw generate". */
  writer: string;
}

const TMP_TAG = '.sqzfw-tmp-';

/** Throws unless `outDir` may be (re)placed by a folder of this kind. */
export function checkOutputDir(outDir: string, kind: OutputDirKind): string {
  const target = resolve(outDir);
  if (target === parse(target).root) throw new UserError(`${kind.flag} ${outDir} is the file-system root`, `choose a folder of its own, e.g. ${kind.flag} out/x`);
  let st;
  try {
    st = lstatSync(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return target;
    throw fsError(e, `${kind.flag} ${outDir}`);
  }
  if (st.isSymbolicLink()) throw new UserError(`${kind.flag} ${outDir} is a symbolic link; refusing to replace it`, `pass the folder it points to, or another ${kind.flag}`);
  if (!st.isDirectory()) throw new UserError(`${kind.flag} ${outDir} exists and is not a folder`, `choose another ${kind.flag}`);
  let entries: string[];
  try {
    entries = readdirSync(target);
  } catch (e) {
    throw fsError(e, `${kind.flag} ${outDir}`);
  }
  if (entries.length > 0 && !isOurs(join(target, kind.marker)))
    throw new UserError(`${kind.flag} ${outDir} is a folder not written by ${kind.writer} (no ${kind.marker} from sqzfw); refusing to replace it`, `choose a new or empty folder for ${kind.flag}`);
  return target;
}

/** The marker is a regular file (not a link) whose JSON has a "generator" starting with "sqzfw". */
function isOurs(marker: string): boolean {
  try {
    if (!lstatSync(marker).isFile()) return false;
    const j = JSON.parse(readFileSync(marker, 'utf8')) as unknown;
    return typeof j === 'object' && j !== null && typeof (j as { generator?: unknown }).generator === 'string' && (j as { generator: string }).generator.startsWith('sqzfw');
  } catch {
    return false;
  }
}

/**
 * Writes `files` (relative paths -> content) as the folder `outDir`, all or nothing. `fill(tmp, target)` may add
 * more to the temporary folder before it is renamed into place (firmware sources, a kept build folder).
 */
export function writeOutputDir(outDir: string, files: Record<string, string | Uint8Array>, kind: OutputDirKind, fill?: (tmp: string, target: string) => void): void {
  const target = checkOutputDir(outDir, kind);
  const parent = dirname(target);
  makeDirs(parent, `${kind.flag} ${outDir}`);
  removeStaleTemps(parent, basename(target));
  const tmp = join(parent, `.${basename(target)}${TMP_TAG}${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
    for (const [path, content] of Object.entries(files)) {
      const file = resolve(tmp, path);
      if (!file.startsWith(`${tmp}/`)) throw new Error(`output file ${path} escapes its folder`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    fill?.(tmp, target);
    swapIntoPlace(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof UserError || !(e as NodeJS.ErrnoException).code) throw e;
    throw fsError(e, `${kind.flag} ${outDir}`);
  }
}

/** Removes `.<name>.sqzfw-tmp-<pid>[.old]` folders (and the older `<name>.tmp-<pid>`) whose process is gone. */
export function removeStaleTemps(parent: string, name: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  const ours = new RegExp(`^(?:\\.${escapeRe(name)}${escapeRe(TMP_TAG)}|${escapeRe(name)}\\.tmp-)(\\d+)(?:\\.old)?$`);
  for (const e of entries) {
    const m = ours.exec(e);
    if (m && !alive(Number(m[1]))) rmSync(join(parent, e), { recursive: true, force: true });
  }
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Puts the fully written `tmp` in place of `target`: the old folder moves aside, is restored on failure, then goes. */
function swapIntoPlace(tmp: string, target: string): void {
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

const FS_WHY: Record<string, [string, string]> = {
  ENOSPC: ['the disk is full', 'free some space and run again; nothing was written'],
  EDQUOT: ['the disk quota is exceeded', 'free some space and run again; nothing was written'],
  EACCES: ['permission denied', 'choose a folder you can write to'],
  EPERM: ['operation not permitted', 'choose a folder you can write to'],
  EROFS: ['the file system is read-only', 'choose a folder on a writable file system'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'check the path'],
  ENOENT: ['a folder on the path does not exist', 'check the path'],
  EEXIST: ['a file is in the way', 'check the path'],
  ENAMETOOLONG: ['the path is too long', 'choose a shorter path'],
  ELOOP: ['too many symbolic links in the path', 'check the path'],
};

/** A file-system error as a one-line UserError naming `where`. */
export function fsError(e: unknown, where: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (!code) return e as Error;
  const [why, hint] = FS_WHY[code] ?? [code, 'check the path and the disk'];
  return new UserError(`cannot write ${where}: ${why}${why === code ? '' : ` (${code})`}`, hint);
}

/**
 * `mkdir -p dir`, failing with the real reason as a one-line error naming `where`. Node's recursive mkdir reports
 * ENOENT when the first missing folder cannot be created (a read-only file system, no permission): that folder is
 * then created on its own to learn why.
 */
export function makeDirs(dir: string, where: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    let cause = e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      let first = resolve(dir);
      while (dirname(first) !== first && !existsSync(dirname(first))) first = dirname(first);
      try {
        mkdirSync(first);
      } catch (x) {
        cause = x;
      }
    }
    throw fsError(cause, where);
  }
}

/** Writes a few plain files into a folder, each via a temporary name renamed into place. */
export function writeFilesAtomically(dir: string, files: Record<string, string>): void {
  makeDirs(dir, dir);
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
