/**
 * Reading an input file given by the user (model, card, labels, image, board or ASIC profile): regular files only
 * (a FIFO, a device such as /dev/zero or a folder is refused without blocking), at most `maxBytes` (checked before a
 * byte is read), and text must be UTF-8. Every failure is a UserError naming the file.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from '../errors.js';

export interface InputFileOptions {
  /** What the file is, for messages: "model card", "image", ... */
  what: string;
  /** Largest accepted size in bytes. */
  maxBytes: number;
  /** Hint for a missing or unreadable file (default: check the path). */
  hint?: string;
}

const mib = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(n % (1 << 20) ? 1 : 0)} MiB` : `${n} bytes`);

export function readInputBytes(path: string, o: InputFileOptions): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below then refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : code;
    throw new UserError(`cannot read ${o.what} ${path}: ${why}`, o.hint ?? 'check the path');
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UserError(`${o.what} ${path} is a folder, not a file`, o.hint ?? 'pass a file');
    if (!st.isFile()) throw new UserError(`${o.what} ${path} is not a regular file (a FIFO, socket or device)`, 'pass a regular file');
    if (st.size > o.maxBytes) throw new UserError(`${o.what} ${path} is ${mib(st.size)}, more than the ${mib(o.maxBytes)} limit`, `sqzfw refuses ${o.what} files this large`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read ${o.what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, o.hint ?? 'check the file');
  } finally {
    closeSync(fd);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The file as UTF-8 text (a leading BOM dropped); invalid UTF-8 (e.g. Latin-1) is refused, never turned into U+FFFD. */
export function readInputText(path: string, o: InputFileOptions): string {
  const bytes = readInputBytes(path, o);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    throw new UserError(`${o.what} ${path} is not UTF-8 text (invalid byte 0x${bytes[bad]?.toString(16).padStart(2, '0')} at offset ${bad})`, 'save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)');
  }
  return text.startsWith('\ufeff') ? text.slice(1) : text;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0) return i;
    try {
      utf8.decode(b.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return 0;
}
