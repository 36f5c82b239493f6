/**
 * A kernel memo, so that checking a memory plan costs one golden run instead of two. The golden model runs once on
 * `record`, which keeps every kernel call's arguments and output; the plan executor then runs on `replay`, which
 * returns the recorded output for a call whose arguments are a recorded call's: the same weight, bias and
 * requantization arrays, the same numbers and dims, and input bytes equal to the recorded input, byte for byte.
 * The kernels are pure functions of their arguments, so that is the output they would compute. Any other call (a
 * row band of a tiled plan, or an input that a wrong plan has overwritten) runs the kernel.
 */
import type { Engine } from './run.js';

interface Call {
  args: Record<string, unknown>;
  output: Int8Array;
}

const bytesOf = (a: Int8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Equal numbers, or arrays and dims objects of equal numbers (kernel, stride, inDims ...). */
function sameValues(x: unknown, y: unknown): boolean {
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || ArrayBuffer.isView(x) || ArrayBuffer.isView(y)) return false;
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  return kx.every((k) => (x as Record<string, unknown>)[k] === (y as Record<string, unknown>)[k]);
}

/** The same kernel arguments: every field identical or of equal value, the input compared last, by its bytes. */
function sameArgs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    if (k === 'input' || a[k] === b[k]) continue;
    // Typed arrays (weights, bias, multipliers) must be the recorded arrays themselves; plain values must be equal.
    if (!sameValues(a[k], b[k])) return false;
  }
  const x = a.input;
  const y = b.input;
  return x instanceof Int8Array && y instanceof Int8Array && bytesOf(x).equals(bytesOf(y));
}

export interface KernelMemo {
  /** Runs the base engine's kernels and records every call. */
  record: Engine;
  /** Returns a recorded output (a copy) for a recorded call, else runs the base engine's kernel. */
  replay: Engine;
  /** Calls replay answered from the record, and calls it had to compute. */
  stats(): { hits: number; misses: number };
}

export function kernelMemo(base: Engine): KernelMemo {
  const calls: Record<keyof Engine, Call[]> = { conv: [], convS4: [], maxPool: [] };
  let hits = 0;
  let misses = 0;
  const record = <A extends object>(kind: keyof Engine, run: (a: A) => Int8Array) => (a: A): Int8Array => {
    const output = run(a);
    const args: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    if (args.input instanceof Int8Array) args.input = args.input.slice();
    calls[kind].push({ args, output });
    return output;
  };
  const replay = <A extends object>(kind: keyof Engine, run: (a: A) => Int8Array) => (a: A): Int8Array => {
    const hit = calls[kind].find((c) => sameArgs(a as Record<string, unknown>, c.args));
    if (hit) {
      hits++;
      return hit.output.slice();
    }
    misses++;
    return run(a);
  };
  return {
    record: { conv: record('conv', base.conv), convS4: record('convS4', base.convS4), maxPool: record('maxPool', base.maxPool) },
    replay: { conv: replay('conv', base.conv), convS4: replay('convS4', base.convS4), maxPool: replay('maxPool', base.maxPool) },
    stats: () => ({ hits, misses }),
  };
}
