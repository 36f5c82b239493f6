/** The paired top-1 comparison of eval (src/eval/eval.ts pairedTop1): difference, 95% interval, changed images. */
import { describe, expect, it } from 'vitest';
import { pairedTop1 } from '../src/eval/eval.js';

describe('pairedTop1', () => {
  it('is the difference of the two top-1 rates with the interval of the per-image differences', () => {
    // 10 images: the variant gains images 0 and 1, loses 2, 3 and 4, agrees elsewhere (image 9 both wrong, other class)
    const label = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const base = [9, 9, 2, 3, 4, 5, 6, 7, 8, 1];
    const top1 = [0, 1, 0, 0, 0, 5, 6, 7, 8, 2];
    const r = pairedTop1(label, top1, base);
    expect(r.points).toBeCloseTo(-10, 9);
    // d = (1, 1, -1, -1, -1, 0 x5): mean -0.1, sum of squares about the mean 4.9, se = sqrt(4.9 / 90)
    const se = Math.sqrt(4.9 / 90);
    expect(r.low).toBeCloseTo(100 * (-0.1 - 1.96 * se), 9);
    expect(r.high).toBeCloseTo(100 * (-0.1 + 1.96 * se), 9);
    expect(r.changed).toBe(6);
  });

  it('has an empty interval when the two agree on every image', () => {
    const r = pairedTop1([1, 2, 3], [1, 0, 3], [1, 0, 3]);
    expect([r.points, r.low, r.high, r.changed]).toEqual([0, 0, 0, 0]);
  });
});
