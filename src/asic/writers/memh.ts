/**
 * $readmemh init files: one per macro instance (memory bank) that holds parameters. One word per line, every word
 * of the bank (unused words are 0), hex MSB first, `wordBits / 4` digits. A `//` comment line stamps the file.
 * Byte lanes: little = the byte at the lowest address is bits [7:0]; big = it is the top byte.
 */
import type { AsicMap, MapMemory } from '../types.js';
import { imageKey } from '../types.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function renderMemh(map: AsicMap, mem: MapMemory, bank: number): string {
  const img = map.images.get(imageKey(mem.name, bank));
  if (!img) throw new Error(`no image for ${mem.name} bank ${bank}`);
  const wb = mem.wordBytes;
  const big = map.byteOrder === 'big';
  const lines: string[] = new Array<string>(mem.depth + 1);
  lines[0] =
    `// ${map.generator}: ${mem.name} bank ${bank} (${mem.kind.toUpperCase()} ${mem.depth} x ${mem.wordBits} bits, ${map.byteOrder}-endian lanes) ` +
    `of ${map.model}, profile ${map.profile}, ${map.precision}`;
  for (let w = 0; w < mem.depth; w++) {
    let s = '';
    const at = w * wb;
    if (big) for (let k = 0; k < wb; k++) s += HEX[img[at + k]!];
    else for (let k = wb - 1; k >= 0; k--) s += HEX[img[at + k]!];
    lines[w + 1] = s;
  }
  return `${lines.join('\n')}\n`;
}

/** Parse a $readmemh file (comments, blank lines, whitespace-separated words, `@addr` directives) into bank bytes. */
export function parseMemh(text: string, wordBits: number, depth: number, byteOrder: 'little' | 'big'): Uint8Array {
  const wb = wordBits / 8;
  const out = new Uint8Array(depth * wb);
  let addr = 0;
  const clean = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  for (const tok of clean.split(/\s+/)) {
    if (tok === '') continue;
    if (tok.startsWith('@')) {
      addr = parseInt(tok.slice(1), 16);
      continue;
    }
    const digits = tok.replace(/_/g, '');
    if (!/^[0-9a-fA-F]+$/.test(digits)) throw new Error(`bad memh word "${tok}"`);
    if (addr >= depth) throw new Error(`memh word at ${addr} past depth ${depth}`);
    const padded = digits.padStart(wb * 2, '0');
    if (padded.length > wb * 2) throw new Error(`memh word "${tok}" wider than ${wordBits} bits`);
    for (let k = 0; k < wb; k++) {
      const byte = parseInt(padded.slice(2 * k, 2 * k + 2), 16); // k = 0 is the most significant byte
      out[addr * wb + (byteOrder === 'big' ? k : wb - 1 - k)] = byte;
    }
    addr++;
  }
  return out;
}
