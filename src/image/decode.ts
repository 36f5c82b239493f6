/**
 * JPEG and PNG decoding to 8-bit RGB, HWC. Pure JavaScript decoders (jpeg-js, pngjs): no native code, the same
 * pixels on every machine. jpeg-js 0.4.4 is pinned because the reference crops in ../shared were made with it, so
 * our crops match them byte for byte.
 */
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../errors.js';
import { readInputBytes } from '../util/input-file.js';

/** 8-bit RGB image, HWC (3 bytes per pixel, row-major). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Decoders refuse anything larger: keeps a hostile header from asking for gigabytes (checked before decoding). */
export const MAX_IMAGE_MEGAPIXELS = 40;
/** A PNG whose pixel data is larger than BOMB_MIN_BYTES and expands more than BOMB_RATIO times is refused. */
const BOMB_MIN_BYTES = 8 << 20;
const BOMB_RATIO = 250;
/** Image files larger than this are refused before they are read. */
export const MAX_IMAGE_BYTES = 64 << 20;

export type ImageFormat = 'jpeg' | 'png';

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}

/** Decodes JPEG or PNG bytes (format from the content, not the file name). `what` names the source in errors. */
export function decodeImage(bytes: Uint8Array, what = 'image'): RgbImage {
  const format = sniffFormat(bytes);
  if (!format) throw new UserError(`${what} is neither a JPEG nor a PNG file`, 'sqzfw reads .jpg/.jpeg and .png images');
  try {
    return format === 'jpeg' ? decodeJpeg(bytes) : decodePng(bytes);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${what}: ${e.message}`, e.hint, e.exitCode);
    const msg = e instanceof Error ? e.message : String(e);
    throw new UserError(`cannot decode ${what} (${format}): ${msg}`, 'the file is damaged or uses a variant the decoder does not support; re-save it as a baseline JPEG or an 8-bit PNG');
  }
}

function checkPixels(format: string, w: number, h: number): void {
  if (!(w > 0 && h > 0)) throw new UserError(`${format} header says the image is ${w}x${h}`, 'the file is damaged');
  if (w * h > MAX_IMAGE_MEGAPIXELS * 1e6) throw new UserError(`${format} is ${w}x${h}, more than ${MAX_IMAGE_MEGAPIXELS} megapixels`, 'scale the image down first');
}

const damagedJpeg = (what: string): UserError => new UserError(`JPEG ${what}`, 'the file is truncated or damaged');

/**
 * The header segments of a JPEG up to its first scan, checked before jpeg-js allocates anything: the frame size
 * (SOF) against the pixel cap and against the file's length (every 8x8 luma block costs at least one bit, even
 * progressive), so a tiny file claiming a huge frame is refused at once; segment lengths inside the file; every
 * quantization value non-zero (ITU-T T.81 B.2.4.1) and the scan header's component count 1-4 with a matching length
 * (B.2.3). jpeg-js decodes a zeroed table or scan header into a flat or garbled picture without complaint.
 */
function checkJpegHeader(bytes: Uint8Array): void {
  let pos = 2;
  let frame = false;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) {
      pos++;
      continue;
    }
    const marker = bytes[pos + 1]!;
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += marker === 0xff ? 1 : 2;
      continue;
    }
    const len = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    const name = `segment 0xff${marker.toString(16)} at byte ${pos}`;
    if (len < 2) throw damagedJpeg(`${name} has length ${len}`);
    if (pos + 2 + len > bytes.length) throw damagedJpeg(`${name} has length ${len}, past the end of the ${bytes.length}-byte file`);
    const seg = bytes.subarray(pos + 4, pos + 2 + len);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (seg.length < 6) throw damagedJpeg(`frame header (${name}) is ${seg.length} bytes long`);
      const h = (seg[1]! << 8) | seg[2]!;
      const w = (seg[3]! << 8) | seg[4]!;
      checkPixels('JPEG', w, h);
      if (bytes.length < (w * h) / 4096) throw new UserError(`JPEG header says ${w}x${h} but the file has only ${bytes.length} bytes`, 'the file is truncated or damaged');
      frame = true;
    } else if (marker === 0xdb) {
      for (let t = 0; t < seg.length; ) {
        const wide = seg[t]! >> 4;
        const size = wide ? 128 : 64;
        if (wide > 1 || t + 1 + size > seg.length) throw damagedJpeg(`quantization table (${name}) is malformed`);
        for (let k = 0; k < 64; k++) {
          const q = wide ? (seg[t + 1 + 2 * k]! << 8) | seg[t + 2 + 2 * k]! : seg[t + 1 + k]!;
          if (q === 0) throw damagedJpeg(`quantization table ${seg[t]! & 15} (${name}) has a zero entry`);
        }
        t += 1 + size;
      }
    } else if (marker === 0xda) {
      if (!frame) throw damagedJpeg(`scan (${name}) comes before any frame header (SOF marker)`);
      const n = seg[0] ?? 0;
      if (n < 1 || n > 4 || seg.length !== 4 + 2 * n) throw damagedJpeg(`scan header (${name}) names ${n} components in ${seg.length} bytes`);
      return;
    }
    pos += 2 + len;
  }
  throw damagedJpeg(frame ? 'has no scan (SOS marker): the file is truncated' : 'has no frame header (SOF marker)');
}

function decodeJpeg(bytes: Uint8Array): RgbImage {
  checkJpegHeader(bytes);
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: MAX_IMAGE_MEGAPIXELS, maxMemoryUsageInMB: 512 });
  if (!(img.width > 0 && img.height > 0)) throw new Error(`image has size ${img.width}x${img.height}`);
  return { width: img.width, height: img.height, data: img.data };
}

function decodePng(bytes: Uint8Array): RgbImage {
  checkPngData(bytes);
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const { width, height } = png;
  const rgba = png.data;
  const data = new Uint8Array(width * height * 3);
  // pngjs always returns 8-bit RGBA; composite transparent pixels on white (what image viewers show).
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    const a = rgba[i + 3];
    if (a === 255) {
      data[j] = rgba[i];
      data[j + 1] = rgba[i + 1];
      data[j + 2] = rgba[i + 2];
    } else {
      for (let k = 0; k < 3; k++) data[j + k] = Math.round((rgba[i + k] * a + 255 * (255 - a)) / 255);
    }
  }
  return { width, height, data };
}

/**
 * Checks a PNG before pngjs allocates anything: the IHDR size against the pixel cap, then inflates the IDAT stream
 * with its exact expected size as the output cap, so a decompression bomb stops at that size and a file whose pixel
 * data is short (a 9999x9999 header over 16 rows) is refused instead of decoding to zeros.
 */
function checkPngData(bytes: Uint8Array): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || dv.getUint32(12) !== 0x49484452) throw new UserError('PNG has no IHDR header', 'the file is truncated or damaged');
  const w = dv.getUint32(16);
  const h = dv.getUint32(20);
  checkPixels('PNG', w, h);
  const depth = bytes[24]!;
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25]!];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new UserError(`PNG has an invalid colour type ${bytes[25]} / bit depth ${depth}`, 'the file is damaged');
  const bits = channels * depth;
  const rowBytes = (width: number): number => (width > 0 ? 1 + Math.ceil((width * bits) / 8) : 0);
  let expected = h * rowBytes(w);
  if (bytes[28] === 1) {
    // Adam7: seven passes, each a sub-image with its own rows.
    const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
    expected = 0;
    for (const [x0, y0, dx, dy] of passes) {
      const pw = Math.ceil((w - x0!) / dx!);
      const ph = Math.ceil((h - y0!) / dy!);
      if (pw > 0 && ph > 0) expected += ph * rowBytes(pw);
    }
  }
  const idat: Uint8Array[] = [];
  for (let pos = 8; pos + 8 <= bytes.length; ) {
    const len = dv.getUint32(pos);
    const type = dv.getUint32(pos + 4);
    if (pos + 12 + len > bytes.length) break;
    if (type === 0x49444154) idat.push(bytes.subarray(pos + 8, pos + 8 + len));
    if (type === 0x49454e44) break;
    pos += 12 + len;
  }
  const compressed = idat.reduce((n, c) => n + c.length, 0);
  // Photos compress a few to one; a large image expanding hundreds of times is a decompression bomb (or a blank).
  if (expected > BOMB_MIN_BYTES && expected > compressed * BOMB_RATIO)
    throw new UserError(`PNG expands ${compressed} bytes of pixel data to ${expected} (${Math.round(expected / Math.max(1, compressed))}:1): refusing a likely decompression bomb`, 'pass a photo, or re-save the image at a smaller size');
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1, finishFlush: 2 /* Z_SYNC_FLUSH: a cut stream yields what it has */ });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new UserError(`PNG pixel data is larger than its ${w}x${h} header says`, 'the file is damaged');
    throw new UserError(`PNG pixel data cannot be decompressed (${(e as Error).message})`, 'the file is truncated or damaged');
  }
  if (raw.length !== expected) throw new UserError(`PNG pixel data holds ${raw.length} bytes, its ${w}x${h} header needs ${expected}`, 'the file is truncated or damaged');
}

export function readImageFile(path: string): RgbImage {
  return decodeImage(readInputBytes(path, { what: 'image', maxBytes: MAX_IMAGE_BYTES }), path);
}
