/** Small C-text helpers for the emitter. */
import { hex32 } from '../util/format.js';

/** Array initializer body: 12 values a line for 32-bit, 32 for bytes; deterministic formatting. */
export function formatArray(values: ArrayLike<number>): string {
  if (values instanceof Int8Array || values instanceof Uint8Array) return formatBytes(values);
  const perLine = 12;
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const chunk: string[] = [];
    for (let j = i; j < Math.min(i + perLine, values.length); j++) {
      const v = values[j];
      // INT32_MIN cannot be written as a literal directly in C.
      chunk.push(v === -2147483648 ? '(-2147483647 - 1)' : String(v));
    }
    lines.push(`    ${chunk.join(', ')},`);
  }
  return lines.join('\n');
}

/**
 * Decimal text of every byte value, 4 ASCII codes a value (unused ones 0) and its length: BYTE_TEXT[0] for
 * int8 (value + 128), [1] for uint8.
 */
const BYTE_TEXT = [-128, 0].map((low) => {
  const chars = new Uint8Array(256 * 4);
  const lengths = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    const t = String(low + i);
    lengths[i] = t.length;
    for (let k = 0; k < t.length; k++) chars[4 * i + k] = t.charCodeAt(k);
  }
  return { chars, lengths, bias: -low };
});

const BYTES_PER_LINE = 32;

/**
 * formatArray of bytes (the weights: 1.2 million values for SqueezeNet v1.0), the same text written as ASCII codes
 * into one buffer from a table of the 256 values' digits, then decoded once.
 */
function formatBytes(values: Int8Array | Uint8Array): string {
  const n = values.length;
  if (n === 0) return '';
  const { chars, lengths, bias } = BYTE_TEXT[values instanceof Int8Array ? 0 : 1];
  // At most 4 characters and ", " a value; "    " and ",\n" a line.
  const out = Buffer.allocUnsafe(6 * n + 6 * Math.ceil(n / BYTES_PER_LINE));
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (i % BYTES_PER_LINE === 0) {
      if (i > 0) {
        out[o++] = 0x2c; // ,
        out[o++] = 0x0a; // \n
      }
      out[o++] = 0x20;
      out[o++] = 0x20;
      out[o++] = 0x20;
      out[o++] = 0x20;
    } else {
      out[o++] = 0x2c;
      out[o++] = 0x20;
    }
    const v = values[i] + bias;
    const at = 4 * v;
    const len = lengths[v];
    out[o++] = chars[at];
    if (len > 1) out[o++] = chars[at + 1];
    if (len > 2) out[o++] = chars[at + 2];
    if (len > 3) out[o++] = chars[at + 3];
  }
  out[o++] = 0x2c;
  return out.toString('latin1', 0, o);
}

/** Maps arbitrary layer names (ONNX names, "fire2.squeeze") to unique C identifiers. */
export function cIdentifiers(names: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const name of names) {
    let id = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
    if (!/^[A-Za-z_]/.test(id)) id = `l_${id}`;
    let unique = id;
    for (let k = 2; used.has(unique); k++) unique = `${id}_${k}`;
    used.add(unique);
    out.set(name, unique);
  }
  return out;
}

/** A double as a C floating literal that parses back to the same double (shortest round-trip digits). */
export function cDouble(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`cannot write ${x} as a C literal`);
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Bytes packed little-endian into 32-bit hex words (the last word zero-padded), 8 words a line. */
export function formatPackedWords(bytes: Int8Array | Uint8Array): string {
  const u = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  const words: string[] = [];
  for (let i = 0; i < u.length; i += 4) {
    const w = (u[i] | ((u[i + 1] ?? 0) << 8) | ((u[i + 2] ?? 0) << 16) | ((u[i + 3] ?? 0) << 24)) >>> 0;
    words.push(`${hex32(w)}u`);
  }
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 8) lines.push(`    ${words.slice(i, i + 8).join(', ')},`);
  return lines.join('\n');
}
