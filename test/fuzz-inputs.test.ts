/**
 * Fuzzers for the inputs users hand sqzfw besides ONNX files (see fuzz-onnx.test.ts): board profiles (loaded, then
 * rendered into the Makefile and linker script), ASIC profiles, model cards and JPEG/PNG images. Each runs thousands of
 * mutated cases with a fixed seed in a child process with a heap cap and a time limit; every case must end in an
 * accepted input or a one-line UserError, within a per-case time and resident-memory cap (test/helpers/fuzz-runner.ts).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const RUNNER = fileURLToPath(new URL('./helpers/fuzz-runner.ts', import.meta.url));
/** Per case: milliseconds and resident megabytes; per run: the child's heap cap and wall-clock limit. */
const CASE_MS = 3000;
const CASE_RSS_MB = 768;
const HEAP_MB = 1024;
const RUN_MS = 150_000;

interface FuzzResult {
  target: string;
  cases: number;
  ok: number;
  refused: number;
  slowestMs: number;
  peakRssMB: number;
  failures: string[];
}

/** Runs the fuzz runner asynchronously: a synchronous wait of a minute would block the test worker's RPC. */
async function fuzz(target: string, seed: number, cases: number): Promise<FuzzResult> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', tsx, RUNNER, target, String(seed), String(cases), String(CASE_MS), String(CASE_RSS_MB)], {
    timeout: RUN_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, sig) => done([code, sig]));
  });
  if (status !== 0) throw new Error(`fuzz runner ${target} failed (status ${status}, signal ${signal}):\n${stderr.slice(-2000)}`);
  const res = JSON.parse(stdout.trim().split('\n').pop()!) as FuzzResult;
  console.log(`fuzz ${target}: ${res.cases} cases, ${res.ok} accepted, ${res.refused} refused, slowest ${res.slowestMs} ms, peak RSS ${res.peakRssMB} MB`);
  return res;
}

describe.each([
  ['board', 2000],
  ['asic', 2000],
  ['card', 2000],
  ['image', 2000],
] as const)('fuzzing %s inputs', (target, cases) => {
  it(`${cases} mutated cases: each accepted or refused with a one-line error, within ${CASE_MS} ms and ${CASE_RSS_MB} MB`, async () => {
    const r = await fuzz(target, 18, cases);
    expect(r.failures).toEqual([]);
    expect(r.ok + r.refused).toBe(cases);
    // Both outcomes occur: the mutations reach past the first check, and they do break things.
    expect(r.ok).toBeGreaterThan(cases / 50);
    expect(r.refused).toBeGreaterThan(cases / 2);
  }, RUN_MS + 10_000);
});
