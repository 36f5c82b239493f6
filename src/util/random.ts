/** Small deterministic PRNGs: the same seed gives the same weights, images and test cases everywhere. */

/** What mulberry32 adds to its counter at each draw. */
const MULBERRY_STEP = 0x6d2b79f5;

/** mulberry32's output for counter value `a`: a uniform float in [0, 1). */
function mulberryValue(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** mulberry32: uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + MULBERRY_STEP) >>> 0;
    return mulberryValue(a);
  };
}

/** Standard normal samples (Box-Muller) from a uniform source. */
export function gaussian(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * The stream of gaussian(mulberry32(seed)) as plain state, for fill loops: `a` is mulberry32's counter, `spare` the
 * second value of the last Box-Muller pair when it has not been drawn yet.
 */
export interface NormalStream {
  a: number;
  spare: number | undefined;
}

export const normalStream = (seed: number): NormalStream => ({ a: seed >>> 0, spare: undefined });

/**
 * Fills out[i] = (next value of the stream) * scale: the same values, in the same order and with the same float
 * operations, as calling gaussian(mulberry32(seed)) once per element, without a closure call per draw (synthetic
 * weights draw 1.2 million values for SqueezeNet v1.0).
 */
export function fillNormal(s: NormalStream, out: Float32Array, scale: number): void {
  let a = s.a;
  let i = 0;
  const n = out.length;
  if (n > 0 && s.spare !== undefined) {
    out[i++] = s.spare * scale;
    s.spare = undefined;
  }
  for (; i < n; i += 2) {
    a = (a + MULBERRY_STEP) >>> 0;
    const u = Math.max(mulberryValue(a), 1e-12);
    a = (a + MULBERRY_STEP) >>> 0;
    const v = mulberryValue(a);
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v) * scale;
    const second = r * Math.sin(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = second * scale;
    else s.spare = second;
  }
  s.a = a;
}

/** Integer in [lo, hi] inclusive. */
export const randInt = (uniform: () => number, lo: number, hi: number): number =>
  lo + Math.floor(uniform() * (hi - lo + 1));
