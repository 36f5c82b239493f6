/** The numbers for the closing note and the report: bits and bytes on die, per-bank utilization, int8 vs int4. */
import type { QModel } from '../quantize/types.js';
import type { AsicProfile } from './profile.js';
import type { AsicMap, Precision } from './types.js';
import type { MemoryPlan } from '../planner/types.js';
import { isUserError } from '../errors.js';
import { computeAsicMap, paramCost, type ParamCost } from './layout.js';

export interface BankSummary {
  memory: string;
  bank: number;
  capacityBits: number;
  contentBits: number;
  paddingBits: number;
  arenaBits: number;
  utilization: number;
}

export interface AsicSummary {
  model: string;
  profile: string;
  precision: Precision;
  weightsBits: number;
  contentBits: number;
  contentBytes: number;
  allocatedBits: number;
  paddingBits: number;
  arenaBytes: number;
  paramCapacityBits: number;
  onDieBits: number;
  banks: BankSummary[];
}

export function asicSummary(map: AsicMap): AsicSummary {
  return {
    model: map.model,
    profile: map.profile,
    precision: map.precision,
    weightsBits: map.totals.weightsBits,
    contentBits: map.totals.contentBits,
    contentBytes: map.totals.contentBits / 8,
    allocatedBits: map.totals.allocatedBits,
    paddingBits: map.totals.paddingBits,
    arenaBytes: map.totals.arenaBits / 8,
    paramCapacityBits: map.totals.paramCapacityBits,
    onDieBits: map.totals.onDieBits,
    banks: map.memories.flatMap((m) =>
      m.bankUse.map((u) => ({
        memory: m.name,
        bank: u.bank,
        capacityBits: u.capacityBits,
        contentBits: u.contentBits,
        paddingBits: u.paddingBits,
        arenaBits: u.arenaBits,
        utilization: u.utilization,
      })),
    ),
  };
}

/** int8 and int4 parameter costs of a model in a profile (never throws on shortfall; see ParamCost.shortfalls). */
export const comparePrecisions = (model: QModel, profile: AsicProfile): ParamCost[] =>
  (['int8', 'int4'] as const).map((p) => paramCost(model, profile, p));

export interface PrecisionSummary {
  precision: Precision;
  /** Null when the profile is too small at this precision (see cost.shortfalls). */
  summary: AsicSummary | null;
  cost: ParamCost;
}

/**
 * The closing-note numbers: for int8 and int4, the full summary (totals, per-bank utilization) of the map in this
 * profile, or the shortfalls when it does not fit. `planFor` supplies the arena plan per precision (optional).
 */
export function precisionSummaries(
  model: QModel,
  profile: AsicProfile,
  opts: { planFor?: (precision: Precision) => MemoryPlan | null } = {},
): PrecisionSummary[] {
  return (['int8', 'int4'] as const).map((precision) => {
    const cost = paramCost(model, profile, precision);
    let summary: AsicSummary | null = null;
    try {
      summary = asicSummary(computeAsicMap(model, profile, { precision, plan: opts.planFor?.(precision) ?? null }));
    } catch (e) {
      if (!isUserError(e)) throw e;
    }
    return { precision, summary, cost };
  });
}

/** Reference figures from the seed (SqueezeNet paper, Table 2 / Deep Compression), as printed there ("MB"). */
export const SEED_FIGURES: readonly { what: string; mb: number }[] = [
  { what: 'AlexNet, 32-bit float', mb: 240 },
  { what: 'SqueezeNet, 32-bit float', mb: 4.8 },
  { what: 'SqueezeNet + Deep Compression, 8-bit', mb: 0.66 },
  { what: 'SqueezeNet + Deep Compression, 6-bit', mb: 0.47 },
];

export const toMB = (bits: number): number => bits / 8 / 1e6;
export const toMiB = (bits: number): number => bits / 8 / 2 ** 20;
