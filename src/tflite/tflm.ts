/**
 * TensorFlow Lite Micro as an oracle: runs a .tflite file in the pip tflite-micro interpreter (reference kernels,
 * bit-exact with CMSIS-NN) through scripts/tflm_run.py, in the venv scripts/setup.sh creates (.venv/).
 * Used by the TFLite tests and `npm run bench -- planner`; never by the CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

/** The venv's python, or undefined when the venv or its tflite-micro is missing. */
export function tflmPython(): string | undefined {
  const py = process.env.SQZFW_TFLM_PYTHON ?? join(root, '.venv', 'bin', 'python');
  if (!existsSync(py)) return undefined;
  const r = spawnSync(py, ['-c', 'import tflite_micro, numpy'], { stdio: 'ignore' });
  return r.status === 0 ? py : undefined;
}

export interface TflmRun {
  /** Each output tensor's bytes, in the file's output order (float32 outputs as little-endian floats). */
  outputs: Uint8Array[];
  /** Requested tensors by TFLite tensor index. */
  tensors: Record<number, Uint8Array>;
}

export interface TflmRequest {
  model: string;
  /** Input tensor bytes per run, in the file's input type (int8, or uint8 = int8 + 128). */
  inputs: Uint8Array[];
  outputCount?: number;
  /** TFLite tensor indices to read back after each run (intermediates). */
  tensors?: number[];
  arenaBytes?: number;
  /** Print TFLM's arena use (returned as `allocations`). */
  allocations?: boolean;
}

/** Runs TFLM in a child process (asynchronous: a long run does not block the caller's event loop). */
export async function runTflm(req: TflmRequest): Promise<{ runs: TflmRun[]; allocations: string }> {
  const py = tflmPython();
  if (!py) throw new Error('TFLite Micro is not installed: run scripts/setup.sh (creates .venv with tflite-micro)');
  const body = JSON.stringify({
    inputs: req.inputs.map((b) => Buffer.from(b).toString('base64')),
    output_count: req.outputCount ?? 1,
    tensors: req.tensors ?? [],
    arena: req.arenaBytes ?? 64 << 20,
    allocations: !!req.allocations,
  });
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(py, [join(root, 'scripts', 'tflm_run.py'), req.model], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(body);
  });
  if (r.status !== 0) throw new Error(`TFLite Micro failed on ${req.model} (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const reply = JSON.parse(r.stdout) as { runs: { outputs: string[]; tensors: Record<string, string> }[] };
  const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
  return {
    runs: reply.runs.map((run) => ({ outputs: run.outputs.map(b), tensors: Object.fromEntries(Object.entries(run.tensors).map(([k, v]) => [Number(k), b(v)])) })),
    allocations: r.stderr,
  };
}

/** TFLM's arena use as print_allocations reports it: total, and its persistent (tail) and non-persistent (head) parts. */
export function parseTflmArena(text: string): { total: number; head: number; tail: number } | undefined {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const total = num(/Arena allocation total (\d+) bytes/);
  const head = num(/Arena allocation head (\d+) bytes/);
  const tail = num(/Arena allocation tail (\d+) bytes/);
  return total === undefined || head === undefined || tail === undefined ? undefined : { total, head, tail };
}
