/**
 * Resize and crop of 8-bit images with OpenCV's INTER_LINEAR geometry: pixel centres at half-integers
 * (src = (dst + 0.5) * scale - 0.5), coordinates clamped to the edge pixels, two taps per axis (no anti-aliasing
 * when shrinking, as in OpenCV and Caffe), computed in doubles and rounded to the nearest uint8 (ties up).
 * This reproduces the reference crops in ../shared/models/ref-inputs byte for byte.
 */
import { UserError } from '../errors.js';
import type { RgbImage } from './decode.js';

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float64Array;
}

/** Source taps for every destination index along one axis. */
function taps(src: number, dst: number): Taps {
  const scale = src / dst;
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const f = new Float64Array(dst);
  for (let d = 0; d < dst; d++) {
    let s = (d + 0.5) * scale - 0.5;
    let fl = Math.floor(s);
    let fr = s - fl;
    if (fl < 0) {
      fl = 0;
      fr = 0;
      s = 0;
    }
    if (fl >= src - 1) {
      fl = src - 1;
      fr = 0;
    }
    i0[d] = fl;
    i1[d] = Math.min(fl + 1, src - 1);
    f[d] = fr;
  }
  return { i0, i1, f };
}

/** Bilinear resize of an interleaved 8-bit image with `c` channels. */
export function resizeBilinear(img: RgbImage, width: number, height: number, c = 3): RgbImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new UserError(`cannot resize to ${width}x${height}`, 'sizes must be positive integers');
  }
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  const tx = taps(img.width, width);
  const ty = taps(img.height, height);
  const src = img.data;
  const out = new Uint8Array(width * height * c);
  const rowStride = img.width * c;
  for (let y = 0; y < height; y++) {
    const r0 = ty.i0[y] * rowStride;
    const r1 = ty.i1[y] * rowStride;
    const fy = ty.f[y];
    for (let x = 0; x < width; x++) {
      const c0 = tx.i0[x] * c;
      const c1 = tx.i1[x] * c;
      const fx = tx.f[x];
      const o = (y * width + x) * c;
      for (let k = 0; k < c; k++) {
        const top = src[r0 + c0 + k] * (1 - fx) + src[r0 + c1 + k] * fx;
        const bot = src[r1 + c0 + k] * (1 - fx) + src[r1 + c1 + k] * fx;
        const v = top * (1 - fy) + bot * fy;
        out[o + k] = v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v + 0.5);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Size after scaling the shorter side to `size`, keeping the aspect ratio; the longer side is truncated
 * (floor(L * size / S)), as the reference preprocessing does (500x308 -> 415x256, not 416).
 */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.max(size, Math.floor((height * size) / width)) };
  return { width: Math.max(size, Math.floor((width * size) / height)), height: size };
}

/** Centre crop at offset floor((S - crop) / 2) on each axis. */
export function centerCrop(img: RgbImage, width: number, height: number, c = 3): RgbImage {
  if (width > img.width || height > img.height) {
    throw new UserError(`cannot crop ${width}x${height} out of a ${img.width}x${img.height} image`, 'resize to at least the model input size first (card resize size / --resize)');
  }
  const x0 = Math.floor((img.width - width) / 2);
  const y0 = Math.floor((img.height - height) / 2);
  const out = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const s = ((y0 + y) * img.width + x0) * c;
    out.set(img.data.subarray(s, s + width * c), y * width * c);
  }
  return { width, height, data: out };
}
