/** Small C-text helpers for the emitter. */
import { hex32 } from '../util/format.js';

/** Array initializer body: 16 values a line for 32-bit, 32 for bytes; deterministic formatting. */
export function formatArray(values: ArrayLike<number>): string {
  const perLine = values instanceof Int8Array || values instanceof Uint8Array ? 32 : 12;
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
