/**
 * Accuracy-aware rounding of int4 weights: instead of rounding each weight to its nearest level, choose the levels
 * that keep the layer's output close to the float layer's on calibration data (the GPTQ / Optimal Brain Quantizer
 * rule, Frantar et al. 2022). For one output channel with float weights w over the receptive field (OHWI order) and
 * input patches x, the output error is (w - q)ᵀ H (w - q) with H = E[x xᵀ], the patches' second moment. The weights
 * are quantized one at a time in order; each rounding error is spread over the weights not yet quantized along the
 * rows of the inverse Hessian's Cholesky factor, so they compensate it. Every channel of a layer shares H.
 *
 * Only the values of the int4 weights change (still per-channel symmetric, in [-8, 7], at the scale chosen by
 * src/quantize/int4.ts): the kernels, the golden model and the firmware run them bit-exactly as before.
 */
import type { QConv } from './types.js';

/**
 * Calibration images the second moments are gathered on (mixed precision's per-layer sensitivity uses fewer). With 8,
 * SqueezeNet v1.0's classifier (512 inputs per output) is rounded against 1,800 patches; with 32, against 7,200: on
 * the 200 dev images its score error against the int8 model fell from 5.31 to 4.07 (mean squared int8 steps).
 */
export const ROUNDING_IMAGES = 32;
/** Calibration images (the first of those kept) mixed precision's per-layer sensitivity is measured on. */
export const SENSITIVITY_IMAGES = 8;
/**
 * Calibration images (the first of those kept) the classifier's int8 classes are chosen on (precision/mixed.ts
 * keepClassifierClasses). Each class's gain is a sum over images, so more images choose better: SqueezeNet v1.0 on
 * the dev images (2-fold as eval calibrates, classes kept with the 52 KB the layer choice leaves at a 1,014,656 B
 * budget, scored on calibration images 64..99 of each fold, used for neither choice), score error against the int8
 * model in mean squared int8 steps: 4.05 with no class kept, 2.99 with the classes chosen on 32 images, 2.58 on 64.
 */
export const CLASS_IMAGES = 100;
/** Calibration inputs kept for mixed precision: the rounding and the class choice each take the first of them. */
export const KEPT_CALIBRATION_IMAGES = Math.max(ROUNDING_IMAGES, SENSITIVITY_IMAGES, CLASS_IMAGES);

/** What each step of mixed precision takes of the calibration inputs kept: the first ones, as many as it uses. */
export function precisionInputs<T>(kept: T[]): { rounding: T[]; sensitivity: T[]; classes: T[] } {
  return { rounding: kept.slice(0, ROUNDING_IMAGES), sensitivity: kept.slice(0, SENSITIVITY_IMAGES), classes: kept.slice(0, CLASS_IMAGES) };
}
/** Patches (at most this many per input) that feed a layer's second-moment matrix. */
const MAX_PATCHES_PER_INPUT = 256;
/** Dampening added to H's diagonal, relative to its mean (GPTQ's 1%). */
const DAMP = 0.01;

/**
 * Accumulates H = sum of x xᵀ over (a deterministic, evenly spaced subset of) the conv's input patches; `input` is
 * the layer's int8 input tensor (NHWC) with its quantization. Padding reads the zero point: real 0.
 */
export class SecondMoment {
  readonly n: number;
  readonly h: Float64Array;
  count = 0;

  constructor(readonly layer: QConv, private readonly cin: number) {
    this.n = layer.kernel[0] * layer.kernel[1] * cin;
    this.h = new Float64Array(this.n * this.n);
  }

  add(input: Int8Array, dims: { h: number; w: number; c: number }, scale: number, zeroPoint: number): void {
    const { layer, n, h } = this;
    const [kh, kw] = layer.kernel;
    const [sh, sw] = layer.stride;
    const oh = Math.floor((dims.h + layer.pad.top + layer.pad.bottom - kh) / sh) + 1;
    const ow = Math.floor((dims.w + layer.pad.left + layer.pad.right - kw) / sw) + 1;
    const total = oh * ow;
    const step = Math.max(1, Math.floor(total / MAX_PATCHES_PER_INPUT));
    const x = new Float64Array(n);
    for (let p = 0; p < total; p += step) {
      const oy = Math.floor(p / ow);
      const ox = p % ow;
      let k = 0;
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - layer.pad.top + ky;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - layer.pad.left + kx;
          const inside = iy >= 0 && iy < dims.h && ix >= 0 && ix < dims.w;
          const base = (iy * dims.w + ix) * dims.c;
          for (let c = 0; c < this.cin; c++) x[k++] = inside ? (input[base + c] - zeroPoint) * scale : 0;
        }
      }
      for (let i = 0; i < n; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        const row = i * n;
        for (let j = i; j < n; j++) h[row + j] += xi * x[j];
      }
      this.count++;
    }
  }

  /** The full symmetric matrix (only the upper triangle is accumulated). */
  matrix(): Float64Array {
    const { n } = this;
    const m = Float64Array.from(this.h);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[j * n + i] = m[i * n + j];
    return m;
  }
}

/** Upper Cholesky factor U of the inverse of the (dampened) H, so that H⁻¹ = Uᵀ U; null if H is not positive definite. */
function inverseCholeskyUpper(hIn: Float64Array, n: number): Float64Array | null {
  const h = Float64Array.from(hIn);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += h[i * n + i];
  mean /= n;
  if (!(mean > 0)) return null;
  for (let i = 0; i < n; i++) h[i * n + i] += DAMP * mean + (h[i * n + i] === 0 ? mean : 0);
  // L Lᵀ = H
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = h[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j];
    }
  }
  // Linv = L⁻¹ (lower); H⁻¹ = Linvᵀ Linv
  const li = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    li[i * n + i] = 1 / l[i * n + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * n + k] * li[k * n + j];
      li[i * n + j] = s / l[i * n + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = j; k < n; k++) s += li[k * n + i] * li[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  // upper Cholesky of H⁻¹: U with Uᵀ U = H⁻¹ (U = chol_lower(H⁻¹ reversed) ... computed directly)
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let s = inv[i * n + i];
    for (let k = 0; k < i; k++) s -= u[k * n + i] * u[k * n + i];
    if (!(s > 0)) return null;
    const d = Math.sqrt(s);
    u[i * n + i] = d;
    for (let j = i + 1; j < n; j++) {
      let t = inv[i * n + j];
      for (let k = 0; k < i; k++) t -= u[k * n + i] * u[k * n + j];
      u[i * n + j] = t / d;
    }
  }
  return u;
}

/**
 * The int4 values of every output channel of `w` (OHWI float weights, `per` per channel) at the given channel
 * scales, rounded with error feedback through H (see the file comment); `quant(v, scale)` is the int4 rounding
 * (clamped to [-8, 7]). Falls back to plain rounding when H is degenerate.
 */
export function roundWithHessian(w: Float32Array, per: number, scales: Float64Array, hMatrix: Float64Array, quant: (v: number, s: number) => number): Int8Array {
  const out = new Int8Array(w.length);
  const u = inverseCholeskyUpper(hMatrix, per);
  const row = new Float64Array(per);
  for (let c = 0; c < scales.length; c++) {
    const s = scales[c];
    const off = c * per;
    if (!u) {
      for (let i = 0; i < per; i++) out[off + i] = quant(w[off + i], s);
      continue;
    }
    for (let i = 0; i < per; i++) row[i] = w[off + i];
    for (let i = 0; i < per; i++) {
      const q = quant(row[i], s);
      out[off + i] = q;
      const err = (row[i] - q * s) / u[i * per + i];
      for (let j = i + 1; j < per; j++) row[j] -= err * u[i * per + j];
    }
  }
  return out;
}
