/**
 * Where the weight arrays go, predicted before building. The linker script (templates/c/linker.ld.ejs) gives the
 * weights one output section per weights region of the board, in the board's order (e.g. FLASH, then QSPI), and
 * every array its own input section in source order (SQZFW_WEIGHTS in the generated model/model_weights.h). Linked
 * with --enable-non-contiguous-regions, ld fills the first region and, from the first array that does not fit,
 * puts the arrays in the next region (it never goes back). This module does the same arithmetic with an estimate of
 * the code and read-only data that share the code region, so that a model that cannot fit fails with a clear
 * message before anything is compiled; after the build, toolchain/index.ts reports where each array really went.
 */
import { EXIT, UserError } from '../errors.js';
import { findRegion, type Board } from '../boards/index.js';
import type { QModel } from '../quantize/types.js';
import type { Step } from '../planner/types.js';
import { weightArrayBytes } from '../quantize/int4.js';
import { cIdentifiers } from './c.js';
import { arrayBytes, convArrays } from './library.js';
import { defaultLayout, weightsRegions, type BoardLayout } from './board-files.js';
import { kib } from '../util/format.js';

export interface WeightArray {
  /** C name of the array (sqzfw_w_<layer>, sqzfw_b_<layer>, sqzfw_m_<layer>, sqzfw_s_<layer>, sqzfw_w4_/sqzfw_o_<layer>). */
  name: string;
  bytes: number;
}

export interface PlacedRegion {
  region: string;
  /** Output section in linker.ld. */
  section: string;
  external: boolean;
  /** Bytes available to the weights (the code region's length minus the reserve). */
  capacity: number;
  used: number;
  arrays: WeightArray[];
}

export interface WeightsPlacement {
  /** Weights regions in fill order. */
  regions: PlacedRegion[];
  /** Array name -> region name. */
  regionOf: Record<string, string>;
  /** Arrays that fit nowhere (then `fits` is false). */
  unplaced: WeightArray[];
  fits: boolean;
  totalBytes: number;
  /** Bytes of the code region assumed taken by vectors, code and read-only data other than the weights. */
  reserveBytes: number;
}

/** Every array starts on a 16-byte boundary (SQZFW_WEIGHTS). */
const ALIGN = 16;
const up = (n: number, a = ALIGN): number => Math.ceil(n / a) * a;

/**
 * Code, vectors, the runtime and the CMSIS-NN kernels (model.c's per-step calls are counted separately): measured
 * at about 20 KiB for SqueezeNet builds; kept generous.
 */
export const CODE_RESERVE_BYTES = 24 * 1024;
/**
 * The int4 (s4) kernels, linked (--gc-sections) only when a layer has int4 weights: 11,248 B of code measured for
 * SqueezeNet v1.0 with int4 layers on the Cortex-M7 (sqzfw_nn_s4.o 9,444 B with its blocked DSP loops, arm_convolve_s4,
 * the 1x1, wrapper and buffer-size functions); kept generous.
 */
export const S4_CODE_BYTES = 12 * 1024;
/**
 * Flash per kernel call site in model.c, with its share of the argument structs and init's scratch checks: model.o's
 * code and constants (arenas and weights excluded) measured 94 B per call site for v1.1@224's plain plan (4,425 B,
 * 47 sites) and 69 B for its smallest plan (14,205 B, 207 sites; a conv call passes one sqzfw_conv_call); kept
 * generous.
 */
export const STEP_CODE_BYTES = 96;

/** What varies from band to band in a looped call (offsets, stream rows, notes), left out of its shape. */
const PER_BAND = new Set(['note', 'band', 'buffer', 'offset']);

/**
 * The call sites model.c has for a plan's steps once consecutive bands that repeat the same calls become one loop
 * (band-loops.ts), plus the loops' offset tables, as a count of STEP_CODE_BYTES units for codeRegionReserve: a
 * looped band costs its table row, not its calls: at most about 3 offsets per call, 16-bit in the packed tables
 * (1/16 of a call; v1.1@224's smallest plan has 1,002 table bytes for about 740 looped calls).
 * Estimated from the steps' shapes (kernel, layer, dims, padding); the emitter also compares the arenas. With the
 * model, a classifier conv split between int8 and int4 channels counts two call sites per conv step and per pool
 * accumulation (an s8 and an s4 call, two order-aware sums).
 */
export function codeSteps(steps: Step[], model?: QModel): number {
  const split = new Set(model?.layers.flatMap((l) => (l.op === 'conv' && l.int8Channels ? [l.name] : [])) ?? []);
  const pools = new Set(model?.layers.flatMap((l) => (model.layers.some((c) => split.has(c.name) && c.output === l.inputs[0]) ? [l.name] : [])) ?? []);
  const sitesOf = (s: Step): number => ((s.op === 'conv' && split.has(s.layer)) || (s.op === 'gapacc' && pools.has(s.layer)) ? 2 : 1);
  const shape = (s: Step): string =>
    JSON.stringify(s, (k, v: unknown) => (PER_BAND.has(k) || (s.op === 'fetch' && (k === 'first' || k === 'last')) ? undefined : v));
  const groups: { key: string; chain?: number; index?: number; size: number }[] = [];
  for (const s of steps) {
    const g = groups[groups.length - 1];
    if (g && s.band && g.chain === s.band.chain && g.index === s.band.index) {
      g.key += `\n${shape(s)}`;
      g.size += sitesOf(s);
    } else groups.push({ key: shape(s), chain: s.band?.chain, index: s.band?.index, size: sitesOf(s) });
  }
  let sites = 0;
  let looped = 0;
  for (let i = 0; i < groups.length; ) {
    let j = i + 1;
    const g = groups[i];
    if (g.chain !== undefined) while (j < groups.length && groups[j].key === g.key && groups[j].chain === g.chain && groups[j].index === groups[j - 1].index! + 1) j++;
    sites += g.size;
    if (j - i >= 2) looped += (j - i) * g.size;
    i = j;
  }
  return sites + Math.ceil(looped / 16);
}

/**
 * The weight arrays the emitter writes for a model, in source order: per conv layer, in layer order, its weights
 * (sqzfw_w_), bias (sqzfw_b_), requantization multipliers (sqzfw_m_) and shifts (sqzfw_s_); a layer with int8
 * channels also its packed int4 weights (sqzfw_w4_) and channel order (sqzfw_o_). The emitter's own list
 * (convArrays in src/emit/library.ts).
 */
export function weightArraysOf(model: QModel): WeightArray[] {
  const ids = cIdentifiers(model.layers.map((l) => l.name));
  const out: WeightArray[] = [];
  for (const l of model.layers) {
    if (l.op !== 'conv') continue;
    const arrays = convArrays(l, ids.get(l.name)!);
    // The weights' share of them is what quantize/int4.ts counts (and precision budgets with).
    const weights = arrays.filter((a) => a.type !== 'int32_t').reduce((n, a) => n + arrayBytes(a), 0);
    if (weights !== weightArrayBytes(l)) throw new Error(`internal error: ${l.name}'s weight arrays hold ${weights} bytes, not ${weightArrayBytes(l)}`);
    for (const a of arrays) out.push({ name: a.name, bytes: arrayBytes(a) });
  }
  return out;
}

/**
 * Bytes the code region holds besides the weights: code (and the s4 kernels' when a layer is int4), one call per
 * plan step, the input image when the application stores one (a synthetic input is generated at run time), golden
 * outputs and labels.
 */
export function codeRegionReserve(model: QModel, steps: number, labels?: string[], storedInput = true): number {
  const d = model.tensors[model.input].dims;
  const outputs = model.outputs.reduce((a, o) => {
    const t = model.tensors[o].dims;
    return a + t.h * t.w * t.c;
  }, 0);
  const labelBytes = (labels ?? []).reduce((a, l) => a + l.length + 1 + 4, 0);
  const s4 = model.layers.some((l) => l.op === 'conv' && l.weightBits === 4) ? S4_CODE_BYTES : 0;
  return CODE_RESERVE_BYTES + s4 + STEP_CODE_BYTES * steps + (storedInput ? up(d.h * d.w * d.c) : 0) + up(outputs) + labelBytes;
}

/** Predict the linker's placement of `arrays` (in source order) for a board and layout. Never throws for size. */
export function placeWeights(
  arrays: WeightArray[],
  board: Board,
  opts: { reserveBytes: number; layout?: BoardLayout },
): WeightsPlacement {
  const layout = opts.layout ?? defaultLayout(board);
  const regions: PlacedRegion[] = weightsRegions(board, layout).map((name, i) => {
    const r = findRegion(board, name);
    const reserve = name === board.placement.code ? opts.reserveBytes : 0;
    return {
      region: name,
      section: i === 0 ? '.sqzfw_weights' : `.sqzfw_weights_${name}`,
      external: r.external,
      capacity: Math.max(0, r.length - reserve),
      used: 0,
      arrays: [],
    };
  });
  const regionOf: Record<string, string> = {};
  const unplaced: WeightArray[] = [];
  let cursor = 0;
  for (const a of arrays) {
    // ld: the array goes to the current output section if it fits, else to the next one that it fits in; later
    // arrays never go back to an earlier section.
    let k = cursor;
    while (k < regions.length && up(regions[k]!.used) + a.bytes > regions[k]!.capacity) k++;
    if (k === regions.length) {
      unplaced.push(a);
      continue;
    }
    cursor = k;
    const r = regions[k]!;
    r.used = up(r.used) + a.bytes;
    r.arrays.push(a);
    regionOf[a.name] = r.region;
  }
  return {
    regions,
    regionOf,
    unplaced,
    fits: unplaced.length === 0,
    totalBytes: arrays.reduce((s, a) => s + a.bytes, 0),
    reserveBytes: opts.reserveBytes,
  };
}


/** One line per region: "FLASH: 754880 of 999424 bytes, 100 arrays (sqzfw_w_conv1 ... sqzfw_s_fire9_expand3x3)". */
export function placementReport(p: WeightsPlacement): string[] {
  const lines = p.regions
    .filter((r) => r.arrays.length > 0)
    .map((r) => {
      const first = r.arrays[0]!.name;
      const last = r.arrays[r.arrays.length - 1]!.name;
      const span = r.arrays.length === 1 ? first : `${first} ... ${last}`;
      return `weights in ${r.region}${r.external ? ' (external)' : ''}: ${r.used} bytes (${kib(r.used)}) of ${r.capacity} available, ${r.arrays.length} arrays (${span})`;
    });
  if (p.unplaced.length)
    lines.push(`weights in no region: ${p.unplaced.reduce((s, a) => s + a.bytes, 0)} bytes, ${p.unplaced.length} arrays (${p.unplaced.map((a) => a.name).slice(0, 4).join(', ')}${p.unplaced.length > 4 ? ', ...' : ''})`);
  return lines;
}

/**
 * Place the weights of a model on a board and throw the clear error when they do not fit: what is needed, what
 * each weights region offers, and what to change.
 */
export function checkWeightsFit(model: QModel, board: Board, opts: { steps: number; labels?: string[]; storedInput?: boolean; layout?: BoardLayout }): WeightsPlacement {
  const p = placeWeights(weightArraysOf(model), board, { reserveBytes: codeRegionReserve(model, opts.steps, opts.labels, opts.storedInput), layout: opts.layout });
  if (p.fits) return p;
  const offered = p.regions.map((r) => `${r.region} ${r.capacity} bytes${r.region === board.placement.code ? ' after the code' : ''}`).join(', ');
  const biggest = p.unplaced.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  throw new UserError(
    `${model.name} does not fit: its weights need ${p.totalBytes} bytes (${kib(p.totalBytes)}) but the weights regions of ${board.name} offer ${offered}: ` +
      `${p.unplaced.reduce((s, a) => s + a.bytes, 0)} bytes in ${p.unplaced.length} arrays are left over (the largest, ${biggest.name}, is ${biggest.bytes} bytes)`,
    `use fewer --classes (the last conv has 512 weights per class), or a board with more flash or external flash (e.g. stm32f746g-disco puts the rest in QSPI)`,
    EXIT.doesNotFit,
  );
}
