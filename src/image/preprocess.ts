/**
 * Image -> model input, following the model card: decode, resize (shorter side / squash / none), centre crop to the
 * model input size, channel order, pixel range, mean and std. Output is float HWC (NHWC, batch 1) in the model's
 * channel order. Calibration, evaluation and the image embedded in firmware all go through here.
 */
import type { Dims } from '../graph/ir.js';
import type { ModelCard } from '../import/card.js';
import { UserError } from '../errors.js';
import { MAX_IMAGE_MEGAPIXELS, readImageFile, type RgbImage } from './decode.js';
import { centerCrop, resizeBilinear, shorterSideSize } from './resize.js';

/**
 * Resize + centre crop; returns 8-bit RGB HWC of exactly dims.w x dims.h. `what` names the image in errors (its file
 * path, so that one bad image among hundreds can be found).
 */
export function cropForModel(img: RgbImage, card: Pick<ModelCard, 'resize'>, dims: Pick<Dims, 'h' | 'w'>, what = 'image'): RgbImage {
  let r = img;
  const { mode, size } = card.resize;
  if (mode === 'shorter') {
    const s = shorterSideSize(img.width, img.height, size);
    // A 20000x1 strip would become 256 x 5,120,000: refuse before allocating the resized image.
    if (s.width * s.height > MAX_IMAGE_MEGAPIXELS * 1e6)
      throw new UserError(`${what} is ${img.width}x${img.height}: resizing its shorter side to ${size} gives ${s.width}x${s.height}, more than ${MAX_IMAGE_MEGAPIXELS} megapixels`, 'crop the image to a less extreme aspect ratio first');
    r = resizeBilinear(img, s.width, s.height);
  } else if (mode === 'squash') {
    r = resizeBilinear(img, size, size);
  }
  if (r.width < dims.w || r.height < dims.h) {
    if (mode === 'none') {
      throw new UserError(`${what} is ${img.width}x${img.height}, smaller than the ${dims.w}x${dims.h} model input`, 'set a resize in the card or pass --resize shorter:N');
    }
    throw new UserError(`${what}: resize ${mode}:${size} gives ${r.width}x${r.height}, smaller than the ${dims.w}x${dims.h} model input`, `use a resize size of at least ${Math.max(dims.w, dims.h)}`);
  }
  return centerCrop(r, dims.w, dims.h);
}

/** 8-bit RGB crop -> float HWC in the card's channel order with its normalisation. */
export function normalize(crop: RgbImage, card: Pick<ModelCard, 'channelOrder' | 'pixelRange' | 'mean' | 'std'>, c: number): Float32Array {
  const n = crop.width * crop.height;
  const out = new Float32Array(n * c);
  const k = card.pixelRange / 255;
  const src = crop.data;
  if (c === 1) {
    const m = card.mean[0];
    const s = card.std[0];
    for (let i = 0; i < n; i++) {
      // ITU-R BT.601 luma, as OpenCV's and PIL's RGB -> grey.
      const grey = 0.299 * src[i * 3] + 0.587 * src[i * 3 + 1] + 0.114 * src[i * 3 + 2];
      out[i] = (grey * k - m) / s;
    }
    return out;
  }
  if (c !== 3) throw new UserError(`the model input has ${c} channels`, 'images feed 1 or 3 channel models');
  // Output channel j reads RGB channel perm[j].
  const perm = card.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let j = 0; j < 3; j++) {
    const p = perm[j];
    const m = card.mean[j];
    const s = card.std[j];
    for (let i = 0; i < n; i++) out[i * 3 + j] = (src[i * 3 + p] * k - m) / s;
  }
  return out;
}

/** Decoded image -> float HWC model input; `what` names the image in errors. */
export function imageToInput(img: RgbImage, card: ModelCard, dims: Dims, what = 'image'): Float32Array {
  return normalize(cropForModel(img, card, dims, what), card, dims.c);
}

/** Reads a JPEG/PNG file and returns the float HWC model input (the model's channel order, NHWC, batch 1). */
export function loadImageInput(path: string, card: ModelCard, dims: { h: number; w: number; c: number }): Float32Array {
  return imageToInput(readImageFile(path), card, dims, path);
}

/** The 8-bit crop in the model's channel order (what ../shared/models/ref-inputs stores), for tests and reports. */
export function loadImageCrop(path: string, card: ModelCard, dims: { h: number; w: number }): Uint8Array {
  const crop = cropForModel(readImageFile(path), card, dims, path);
  if (card.channelOrder === 'RGB') return crop.data;
  const out = new Uint8Array(crop.data.length);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = crop.data[i + 2];
    out[i + 1] = crop.data[i + 1];
    out[i + 2] = crop.data[i];
  }
  return out;
}
