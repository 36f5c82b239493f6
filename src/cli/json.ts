/**
 * `--json` output of info, boards, plan, fit, build and emulate: one JSON document on stdout, nothing else there (the
 * human lines go to stderr or are not printed). These schemas are the documented shape (README, "JSON output");
 * fields may be added, none removed or renamed. The tests parse every command's output with them.
 */
import { z } from 'zod';
import type { LargestFit } from '../driver/fit.js';

const dims = z.object({ h: z.number().int(), w: z.number().int(), c: z.number().int() }).strict();

export const infoJson = z
  .object({
    model: z.string(),
    input: dims,
    layers: z.array(
      z
        .object({
          name: z.string(),
          op: z.string(),
          output: dims,
          params: z.number().int(),
          macs: z.number().int(),
          weightBytes: z.number().int(),
          activationBytes: z.number().int(),
        })
        .strict(),
    ),
    totals: z
      .object({
        params: z.number().int(),
        macs: z.number().int(),
        weightBytes: z.number().int(),
        largestActivation: z.object({ name: z.string(), bytes: z.number().int() }).strict(),
      })
      .strict(),
  })
  .strict();

export const boardsJson = z.array(
  z
    .object({
      name: z.string(),
      core: z.string(),
      clockHz: z.number(),
      description: z.string(),
      emulation: z.string(),
      renode: z.string().nullable(),
      memory: z.array(
        z
          .object({ name: z.string(), kind: z.enum(['flash', 'ram']), origin: z.number().int(), bytes: z.number().int(), external: z.boolean(), holds: z.array(z.string()) })
          .strict(),
      ),
    })
    .strict(),
);

const arenaRegion = z.object({ name: z.string(), used: z.number().int(), capacity: z.number().int(), external: z.literal('caller').optional() }).strict();

export const planJson = z
  .object({
    board: z.string(),
    model: z.string(),
    strategy: z.string(),
    inputIn: z.enum(['arena', 'caller', 'stream']),
    peakBytes: z.number().int(),
    macs: z.number().int(),
    baseMacs: z.number().int(),
    kernelCalls: z.number().int(),
    regions: z.array(arenaRegion),
    files: z.array(z.string()),
  })
  .strict();

const weightsRegion = z.object({ region: z.string(), external: z.boolean(), capacity: z.number().int(), used: z.number().int() }).strict();

export const fitJson = z.array(
  z
    .object({
      board: z.string(),
      variant: z.string(),
      classes: z.number().int(),
      maxSize: z.number().int(),
      /** Largest input size that fits; null when none does. */
      largest: z
        .object({ inputSize: z.number().int(), arenaBytes: z.number().int(), arenaRegions: z.array(arenaRegion), weights: z.array(weightsRegion) })
        .strict()
        .nullable(),
      /** Why the model does not fit at maxSize (absent when it does). */
      atMaxSize: z.string().optional(),
    })
    .strict(),
);

const latency = z.object({ instructions: z.number().int(), seconds: z.number(), clockHz: z.number() }).strict();

export const buildJson = z
  .object({
    project: z.string(),
    app: z.string(),
    /** The firmware ELF (app demo/validate), or the static library (app none). */
    output: z.string(),
    flashBytes: z.number().int(),
    ramBytes: z.number().int(),
    regions: z.array(z.object({ name: z.string(), used: z.number().int(), length: z.number().int() }).strict()),
    weights: z.array(z.object({ region: z.string(), section: z.string(), bytes: z.number().int(), arrays: z.number().int() }).strict()),
    /** Estimated from the plan's MACs (DSP kernels only): not a cycle measurement. */
    latencyEstimate: latency.nullable(),
    /** The QEMU twin's ELF, built for a real board that has one. */
    twinElf: z.string().nullable(),
  })
  .strict();

const scored = z.object({ index: z.number().int(), q: z.number().int(), score: z.number(), prob: z.number().optional(), label: z.string().optional() }).strict();

export const emulateJson = z
  .object({
    project: z.string(),
    board: z.string(),
    /** The machine that ran: the board itself (a QEMU board) or its QEMU twin, and what the twin does not exercise. */
    ranOn: z.object({ emulator: z.literal('qemu'), machine: z.string(), twinOf: z.string().nullable(), notExercised: z.array(z.string()) }).strict(),
    bitExact: z.boolean(),
    comparedBytes: z.number().int(),
    mismatches: z.number().int(),
    instructions: z.number().int().nullable(),
    ticks: z.number().int().nullable(),
    top5: z.object({ output: z.string(), kind: z.enum(['logit', 'prob']), classes: z.array(scored) }).strict().nullable(),
  })
  .strict();

export type InfoJson = z.infer<typeof infoJson>;
export type BoardsJson = z.infer<typeof boardsJson>;
export type PlanJson = z.infer<typeof planJson>;
export type FitJson = z.infer<typeof fitJson>;
export type BuildJson = z.infer<typeof buildJson>;
export type EmulateJson = z.infer<typeof emulateJson>;

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 1)}\n`);
}

/** One board's `fit --json` entry from largestInputSize's result. */
export function fitView(r: LargestFit, maxSize: number): FitJson[number] {
  const l = r.largest;
  return {
    board: r.board,
    variant: r.variant,
    classes: r.classes,
    maxSize,
    largest: l
      ? {
          inputSize: l.inputSize,
          arenaBytes: l.arenaBytes ?? 0,
          arenaRegions: (l.arenaRegions ?? []).map((x) => ({ name: x.name, used: x.used, capacity: x.capacity })),
          weights: (l.weights?.regions ?? []).map((w) => ({ region: w.region, external: w.external, capacity: w.capacity, used: w.used })),
        }
      : null,
    ...(r.atMax.fits ? {} : { atMaxSize: r.atMax.message ?? '' }),
  };
}
