/**
 * The CLI timed as a whole process (node start, module loading and file writes included), wall clock, each beside
 * the previous implementation in the same run:
 * - generate of the synthetic v1.0 @227: SQZFW_ENGINE=reference (the reference int8 kernels and the float64 float
 *   kernel, as generate ran before the fast engines) against the default fast engines. Both sides calibrate on one
 *   synthetic image and check the plan at the cost of one golden run, so the baseline is faster than generate was
 *   before those two changes (it calibrated on 4 images and ran the golden model twice);
 * - generate of the real ImageNet v1.0 (../shared): the previous flow (reference kernels, calibration on the image
 *   itself) against --ranges from a calibration saved once;
 * - eval of the dev images (float + int8, 2-fold held-out calibration): --jobs 1 against --jobs 2. Set
 *   SQZFW_BENCH_EVAL_IMAGES to score fewer images (default: all 200), or to 0 to skip.
 * Wall-clock figures on a shared machine are noisy: compare the ratios of one run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchRow } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '../..');
const SHARED = resolve(REPO, '../shared');
const BIN = join(REPO, 'bin/sqzfw.js');

/** CPU seconds (user + system) of this process's finished children, from /proc (Linux); NaN elsewhere. */
function childrenCpu(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (fields 16, 17) in USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

const cpuTimes: number[] = [];

/**
 * Median wall-clock seconds of `runs` runs of the CLI; also records the median CPU seconds of the same runs (the
 * figure that a loaded machine inflates least: wall clock there includes waiting for a core).
 */
function cliSeconds(args: string[], env: Record<string, string>, runs: number): number {
  const t: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = childrenCpu();
    const t0 = performance.now();
    execFileSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    t.push((performance.now() - t0) / 1000);
    c.push(childrenCpu() - c0);
  }
  t.sort((a, b) => a - b);
  c.sort((a, b) => a - b);
  cpuTimes.push(c[Math.floor(c.length / 2)]);
  return t[Math.floor(t.length / 2)];
}

/** CPU seconds of the last two cliSeconds calls (baseline, result) for a row's note. */
const cpuNote = (): string => {
  const [b, r] = cpuTimes.slice(-2);
  return `CPU time (user + system, all threads): ${b.toFixed(2)} s / ${r.toFixed(2)} s`;
};

function row(name: string, base: [string, number], res: [string, number], note: string): BenchRow {
  return { name, baseline: { label: base[0], value: +base[1].toFixed(2) }, result: { label: res[0], value: +res[1].toFixed(2) }, unit: 's', ratio: +(res[1] / base[1]).toFixed(3), note };
}

export const benchCli: Bench = async () => {
  const rows: BenchRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'sqzfw-bench-cli-'));
  const ref = { SQZFW_ENGINE: 'reference' };
  try {
    const gen = ['generate', '--variant', 'v1.0', '--input-size', '227', '--out', join(work, 'synthetic')];
    const before = cliSeconds(gen, ref, 1);
    const after = cliSeconds(gen, {}, 3);
    rows.push(row('sqzfw generate, synthetic SqueezeNet v1.0 227x227, whole process', ['reference kernels (before)', before], ['fast int8 + float engines', after], `median of 1 / 3 runs; target < 1 s; ${cpuNote()}`));

    const onnx = join(SHARED, 'models/squeezenet1.0-imagenet.onnx');
    const dev = join(SHARED, 'images/dev');
    if (existsSync(onnx) && existsSync(dev)) {
      const image = join(dev, 'n01440764_tench.JPEG');
      const ranges = join(work, 'ranges.json');
      cliSeconds(['calibrate', '--model', onnx, '--images', dev, '--calib-count', '8', '--no-progress', '--out', ranges], {}, 1);
      const real = ['generate', '--model', onnx, '--image', image, '--out', join(work, 'real')];
      const oldFlow = cliSeconds(real, ref, 1);
      const withRanges = cliSeconds([...real, '--ranges', ranges], {}, 3);
      rows.push(row('sqzfw generate, ImageNet SqueezeNet v1.0 (../shared ONNX), whole process', ['reference kernels, calibrated on the image (before)', oldFlow], ['fast engine, --ranges (calibrated once on 8 images)', withRanges], `median of 1 / 3 runs; target < 1.5 s; ${cpuNote()}`));

      const n = Number(process.env.SQZFW_BENCH_EVAL_IMAGES ?? 200);
      if (n > 0) {
        const ev = (jobs: number): string[] => ['eval', '--model', onnx, '--images', dev, '--limit', String(n), '--jobs', String(jobs), '--no-progress'];
        const one = cliSeconds(ev(1), {}, 1);
        const two = cliSeconds(ev(2), {}, 1);
        rows.push(row(`sqzfw eval, ${n} dev images, float + int8, 2-fold held-out calibration, whole process`, ['--jobs 1', one], ['--jobs 2', two], `identical results for any --jobs (test/eval.test.ts); target < 60 s with --jobs 2 for 200 images; ${cpuNote()}`));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
};
