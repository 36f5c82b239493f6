/**
 * Read parameters back out of bank images using only the JSON map: what verification (or a ROM dump tool) does.
 * The round-trip tests write the init files, parse them back with parseMemh, and check that this reconstructs
 * every stored value of the model exactly.
 */
import type { MemoryMapJson } from './map-schema.js';
import { unpackInt4, packInt4 } from './int4.js';
import { imageKey } from './types.js';
import { decodeWeights } from './compress.js';

type JSection = MemoryMapJson['sections'][number];

export interface ReadSection {
  /** The section byte stream (the CMSIS-NN array), rebuilt from the images. */
  stream: Uint8Array;
  /** Decoded values: weights (int8 or int4 values; codebook / sparse streams decoded to int8), or int32 / int8 elements. */
  values: Int32Array;
}

function readElement(b: Uint8Array, at: number, bytes: number, big: boolean): number {
  let v = 0;
  for (let k = 0; k < bytes; k++) v |= b[big ? at + bytes - 1 - k : at + k]! << (8 * k);
  if (bytes === 1) return (v << 24) >> 24;
  return v | 0;
}

export function readSection(map: MemoryMapJson, images: Map<string, Uint8Array>, s: JSection): ReadSection {
  const mem = map.memories.find((m) => m.name === s.memory);
  if (!mem) throw new Error(`section ${s.id}: unknown memory ${s.memory}`);
  const wb = mem.wordBytes;
  const big = map.byteOrder === 'big';
  const img = (bank: number): Uint8Array => {
    const i = images.get(imageKey(mem.name, bank));
    if (!i) throw new Error(`no image for ${mem.name} bank ${bank}`);
    return i;
  };
  let stream: Uint8Array;
  if (s.layout === 'linear') {
    stream = new Uint8Array(s.bytes);
    for (const p of s.pieces) stream.set(img(p.bank).subarray(p.wordOffset * wb, p.wordOffset * wb + p.bytes), p.streamOffset);
  } else if (s.kind === 'weights') {
    const chBytes = s.elementBits === 4 ? Math.ceil(s.channelElements / 2) : s.channelElements;
    const values = new Int8Array(s.elements);
    for (const p of s.pieces) {
      const b = img(p.bank);
      for (let k = 0; k < p.channelCount; k++) {
        const c = p.channelFirst + k * p.channelStep;
        const at = p.wordOffset * wb + (k * s.channelStrideBits) / 8;
        const raw = b.subarray(at, at + chBytes);
        const ch = s.elementBits === 4 ? unpackInt4(raw, s.channelElements) : new Int8Array(raw.buffer, raw.byteOffset, raw.length);
        values.set(ch, c * s.channelElements);
      }
    }
    stream = s.elementBits === 4 ? packInt4(values) : new Uint8Array(values.buffer);
  } else {
    const eb = s.elementBits / 8;
    stream = new Uint8Array(s.bytes);
    for (const p of s.pieces) {
      const b = img(p.bank);
      for (let k = 0; k < p.channelCount; k++) {
        const c = p.channelFirst + k * p.channelStep;
        const at = p.wordOffset * wb + (k * s.channelStrideBits) / 8;
        stream.set(b.subarray(at, at + eb), c * eb);
      }
    }
  }
  let values: Int32Array;
  const d = s.decoder;
  if (s.kind === 'weights' && d && (d.codebookEntries > 0 || d.runBits > 0)) {
    values = Int32Array.from(decodeWeights(stream, d));
  } else if (s.kind === 'weights') {
    values = Int32Array.from(s.elementBits === 4 ? unpackInt4(stream, s.elements) : new Int8Array(stream.buffer, stream.byteOffset, stream.length));
  } else {
    const eb = s.elementBits / 8;
    values = new Int32Array(s.elements);
    for (let i = 0; i < s.elements; i++) values[i] = readElement(stream, i * eb, eb, big);
  }
  return { stream, values };
}
