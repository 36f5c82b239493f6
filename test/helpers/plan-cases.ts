/**
 * The planner's tests on the host: random chain graphs quantized with a synthetic input and the golden model's
 * outputs, random cuts planned (a cut the planner cannot band is passed over), each plan run on junk-filled
 * simulated RAM with every output byte compared with the golden model's, the fetches of a streamed input, and the
 * smallest plan of a model on mps2-an500 with its budget checks.
 */
import { expect } from 'vitest';
import { loadBoard } from '../../src/boards/index.js';
import { arenaRegions } from '../../src/driver/board-plan.js';
import { runGolden } from '../../src/golden/run.js';
import { quantizeFloatModel, syntheticInputs } from '../../src/prepare/index.js';
import { checkPlan, planForBoard, planWithChains, type BoardPlanOptions } from '../../src/planner/index.js';
import { executePlan } from '../../src/planner/execute.js';
import { Net, NotBandable, type Segment } from '../../src/planner/tiling.js';
import type { InputIn, MemoryPlan, PlanRegion } from '../../src/planner/types.js';
import { quantizeInput } from '../../src/quantize/quantize.js';
import type { QModel } from '../../src/quantize/types.js';
import { mulberry32 } from '../../src/util/random.js';
import { syntheticImage, syntheticModel } from '../../src/weights/synthetic.js';
import { randomChainGraph } from './random-chain.js';

/** One region large enough for any random graph's plan. */
export const BIG: PlanRegion[] = [{ name: 'RAM', capacity: 1 << 26 }];

export interface RandomModel {
  q: QModel;
  input: Int8Array;
}

export interface RandomCase extends RandomModel {
  golden: Record<string, Int8Array>;
}

/** A fetch of the streamed input: the rows first..last asked for at plan step `step`. */
export interface FetchCall {
  step: number;
  first: number;
  last: number;
}

/**
 * A random chain graph (drawn from `rnd`, named `name`) with synthetic weights (seed `seeds.weights`), quantized on
 * two synthetic inputs (`seeds.calib`), and its input quantized from a synthetic image (`seeds.image`).
 */
export function randomModel(rnd: () => number, name: string, seeds: { weights: number; calib: number; image: number }): RandomModel {
  const g = randomChainGraph(rnd, name);
  const fm = syntheticModel(g, seeds.weights);
  const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, seeds.calib));
  const d = g.input.dims;
  return { q, input: quantizeInput(syntheticImage(d.h, d.w, d.c, seeds.image), q.tensors[q.input]) };
}

/** The random model of `seed` (graph `${prefix}${seed}`, image `imageBase + seed`) and the golden model's outputs on its input. */
export function randomCase(seed: number, prefix: string, imageBase = 900): RandomCase {
  const { q, input } = randomModel(mulberry32(seed), `${prefix}${seed}`, { weights: seed + 1, calib: seed, image: imageBase + seed });
  return { q, input, golden: runGolden(q, input) };
}

/** Where the input of property case `t` lives: arena, caller, stream in turn. */
const inputPlace = (t: number): InputIn => (['arena', 'caller', 'stream'] as InputIn[])[t % 3];

/** The label of a cut in assertion messages. */
export const cutLabel = (q: QModel, inputIn: InputIn, segs: Segment[]): string => `${q.name} ${inputIn} cut ${JSON.stringify(segs)}`;

/** The plan of a cut, or undefined when a chain of it cannot run in row bands. */
export function planCut(q: QModel, regions: PlanRegion[], segs: Segment[], opts: BoardPlanOptions): MemoryPlan | undefined {
  try {
    return planWithChains(q, regions, segs, opts);
  } catch (e) {
    if (e instanceof NotBandable) return undefined;
    throw e;
  }
}

/** One planned random cut of a property test: case `t`, its model, cut, input place, kernel path and plan. */
export interface PlannedCut extends RandomCase {
  t: number;
  net: Net;
  segs: Segment[];
  inputIn: InputIn;
  path: 'dsp' | 'scalar';
  plan: MemoryPlan;
  what: string;
}

/**
 * The planned cuts of cases t = 0, 1, ... up to `tries` or until `until()` says enough: the random case of seed
 * `seed + t` (`prefix`, `imageBase` as for randomCase), a cut made by `cut` from a generator seeded `cutSeed + t`
 * (undefined passes the case over), the input in the arena, a caller's buffer or streamed in turn, a random
 * kernel path, and its plan over five search iterations (a cut that cannot run in row bands is passed over).
 */
export function* plannedCuts(
  o: { seed: number; cutSeed: number; tries: number; prefix: string; imageBase?: number; until?: () => boolean },
  cut: (rnd: () => number, q: QModel, net: Net) => Segment[] | undefined,
): Generator<PlannedCut> {
  for (let t = 0; t < o.tries && !o.until?.(); t++) {
    const c = randomCase(o.seed + t, o.prefix, o.imageBase);
    const net = new Net(c.q);
    const rnd = mulberry32(o.cutSeed + t);
    const segs = cut(rnd, c.q, net);
    if (!segs) continue;
    const inputIn = inputPlace(t);
    const path = rnd() < 0.5 ? 'dsp' : 'scalar';
    const plan = planCut(c.q, BIG, segs, { path, searchIterations: 5, inputIn });
    if (plan) yield { ...c, t, net, segs, inputIn, path, plan, what: cutLabel(c.q, inputIn, segs) };
  }
}

/** Checks a plan, runs it on simulated RAM, compares every output byte and returns the fetches the input stream saw. */
export function expectExact(q: QModel, plan: MemoryPlan, input: Int8Array, golden: Record<string, Int8Array>, what: string): FetchCall[] {
  checkPlan(plan);
  const calls: FetchCall[] = [];
  const out = executePlan(q, plan, input, { onFetch: (step, first, last) => calls.push({ step, first, last }) });
  for (const o of q.outputs) expect(Array.from(out[o]), `${what}: ${o}`).toEqual(Array.from(golden[o]));
  return calls;
}

/** The fetches a plan's steps say the input stream is asked for. */
export const plannedFetches = (plan: MemoryPlan): FetchCall[] => plan.steps.flatMap((s, step) => (s.op === 'fetch' ? [{ step, first: s.first, last: s.last }] : []));

/** Whether no input row was asked for twice. */
export function eachRowOnce(calls: FetchCall[]): boolean {
  const asked = new Map<number, number>();
  for (const c of calls) for (let r = c.first; r <= c.last; r++) asked.set(r, (asked.get(r) ?? 0) + 1);
  return [...asked.values()].every((n) => n === 1);
}

/** The smallest plan (row bands, dsp path unless `opts` says otherwise) of a model on mps2-an500's arena. */
export const smallestPlan = (model: QModel, opts: BoardPlanOptions = {}): MemoryPlan => planForBoard(model, arenaRegions(loadBoard('mps2-an500')), { strategy: 'tiled', path: 'dsp', ...opts });

/** The smallest-plan budget checks: the peak within `bytes` and no MAC beyond the model's. */
export function expectFits(plan: MemoryPlan, bytes: number): void {
  expect(plan.peakBytes).toBeLessThanOrEqual(bytes);
  expect(plan.macs).toBe(plan.baseMacs);
}
