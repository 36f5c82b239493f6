/**
 * TFLite's SAME/VALID padding (ComputePaddingHeightWidth) against sqzfw's explicit padding, for one spatial axis.
 */
import { Padding } from './schema.js';

/** Output size and leading padding TFLite computes for an axis. */
export function tflitePadding(padding: number, input: number, kernel: number, stride: number): { out: number; before: number } {
  const out = padding === Padding.SAME ? Math.floor((input + stride - 1) / stride) : Math.floor((input + stride - kernel) / stride);
  const total = Math.max((out - 1) * stride + kernel - input, 0);
  return { out, before: Math.floor(total / 2) };
}

/** The TFLite padding that reproduces (out, before) on both axes, VALID preferred; undefined when none does. */
export function matchPadding(axes: { input: number; kernel: number; stride: number; out: number; before: number }[]): number | undefined {
  for (const p of [Padding.VALID, Padding.SAME]) {
    if (axes.every((a) => {
      const t = tflitePadding(p, a.input, a.kernel, a.stride);
      return t.out === a.out && t.before === a.before;
    })) return p;
  }
  return undefined;
}
