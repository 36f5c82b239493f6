/**
 * JPEG and PNG decoding to 8-bit RGB, HWC. Pure JavaScript decoders (jpeg-js, pngjs): no native code, the same
 * pixels on every machine. jpeg-js 0.4.4 is pinned because the reference crops in ../shared were made with it, so
 * our crops match them byte for byte.
 */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../errors.js';

/** 8-bit RGB image, HWC (3 bytes per pixel, row-major). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Decoders refuse anything larger: keeps a hostile header from asking for gigabytes. */
export const MAX_IMAGE_MEGAPIXELS = 100;

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
    if (e instanceof UserError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new UserError(`cannot decode ${what} (${format}): ${msg}`, 'the file is damaged or uses a variant the decoder does not support; re-save it as a baseline JPEG or an 8-bit PNG');
  }
}

function decodeJpeg(bytes: Uint8Array): RgbImage {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: MAX_IMAGE_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
  if (!(img.width > 0 && img.height > 0)) throw new Error(`image has size ${img.width}x${img.height}`);
  return { width: img.width, height: img.height, data: img.data };
}

function decodePng(bytes: Uint8Array): RgbImage {
  // Check the header size before pngjs allocates anything: IHDR width/height are the first chunk's payload.
  if (bytes.length >= 24) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const w = dv.getUint32(16);
    const h = dv.getUint32(20);
    if (w * h > MAX_IMAGE_MEGAPIXELS * 1e6) throw new UserError(`PNG is ${w}x${h}, more than ${MAX_IMAGE_MEGAPIXELS} megapixels`, 'scale the image down first');
  }
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

export function readImageFile(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read image ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'check the path');
  }
  return decodeImage(bytes, path);
}
