/**
 * onnxruntime-web's WebAssembly backend (one thread, SIMD) as the float bench's comparison column. It lives in its
 * own package folder, bench/ort (package.json + lock), never among sqzfw's dependencies: the first bench run installs
 * it there with `npm ci` (network); SQZFW_BENCH_ORT=0 skips it. It runs in a child process (bench/ort/run.mjs) on the
 * same ONNX file, timed by itself (median of `runs` session.run calls after a warm-up).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type OrtTiming = { ms: number; version: string | null } | { skipped: string };

export function ortFloatMs(repo: string, onnx: string, runs: number): OrtTiming {
  if (process.env.SQZFW_BENCH_ORT === '0') return { skipped: 'SQZFW_BENCH_ORT=0' };
  const dir = join(repo, 'bench/ort');
  if (!existsSync(join(dir, 'package.json'))) return { skipped: `${dir}/package.json missing` };
  if (!existsSync(join(dir, 'node_modules/onnxruntime-web/package.json'))) {
    try {
      console.error('bench: installing onnxruntime-web into bench/ort (comparison only; SQZFW_BENCH_ORT=0 skips it)');
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (e) {
      return { skipped: `npm ci in bench/ort failed (${(e as Error).message.split('\n')[0]}); run it by hand where the npm registry is reachable` };
    }
  }
  try {
    const out = execFileSync(process.execPath, [join(dir, 'run.mjs'), onnx, String(runs)], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ms?: number; version?: string | null };
    if (typeof r.ms !== 'number') return { skipped: `bench/ort/run.mjs printed no timing: ${out.slice(0, 200)}` };
    return { ms: r.ms, version: r.version ?? null };
  } catch (e) {
    return { skipped: `bench/ort/run.mjs failed: ${(e as Error).message.split('\n')[0]}` };
  }
}
