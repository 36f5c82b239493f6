/**
 * The model library of a generated project (folder model/): model.h (the C API), model.c (arenas, named buffers,
 * kernel argument structs, init and run), model_weights.c/.h (the weight arrays), sqzfw_ops.c/.h (operators
 * CMSIS-NN lacks), the linker-script fragment sqzfw_model.ld, CMakeLists.txt and sqzfw_model.mk. Nothing in it is
 * board-specific: no startup, vector table, interrupt handler or printing. All decisions are made here; the
 * templates under templates/c only loop and substitute.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { QConv, QLayer, QModel, QPoolRequant } from '../quantize/types.js';
import { poolWindow, type MemoryPlan, type Ref, type Step } from '../planner/types.js';
import { cDouble, cIdentifiers, formatArray } from './c.js';
import { packInt4 } from '../golden/int4.js';
import { splitChannels, weightArrayBytes } from '../quantize/int4.js';
import { bandBlocks, type Slot } from './band-loops.js';
import { renderC } from './render.js';
import { cComment, cString, hashComment } from '../util/text.js';
import { hex32Upper, sizeText } from '../util/format.js';
import { isLibraryRuntimeFile, RUNTIME_DIR } from './board-files.js';
import type { Preprocessing } from '../import/card.js';

/** The library's folder inside a project. */
export const MODEL_DIR = 'model';


/** What a caller must know to feed the model: the model card's preprocessing, as plain data. */
export type { Preprocessing };

export interface LibraryInput {
  model: QModel;
  plan: MemoryPlan;
  preprocessing: Preprocessing;
  labels?: string[];
  /** One-line stamp for the top of each file (generatedHeader). */
  stamp: string;
  /**
   * The board's memory regions the weights and arenas go to (sqzfw_model.ld's comment tells the user which region
   * of their own linker script to name for each, by name, address and size); default: the region names alone.
   */
  memory?: LibraryRegion[];
  /** The board profile's name, for the same comment. */
  board?: string;
  /** The weights region's name (one of memory). */
  weightsRegion?: string;
}

/** A memory region of the board profile, as sqzfw_model.ld's comment describes it. */
export interface LibraryRegion {
  name: string;
  origin: number;
  length: number;
  description?: string;
}

/** `REGION_ALIAS` suggestions for sqzfw_model.ld: the profile's region name and where it is. */
function regionAlias(alias: string, region: string | undefined, memory: LibraryRegion[] | undefined): { alias: string; region: string; note: string } {
  const r = memory?.find((m) => m.name === region);
  if (!r) return { alias, region: region ?? 'FLASH', note: '' };
  return { alias, region: r.name, note: cComment(`(${hex32Upper(r.origin)}, ${sizeText(r.length)}${r.description ? `: ${r.description}` : ''})`) };
}

/** The output holding the class scores: the first that is not a softmax, else the first. */
export function scoresIndex(model: QModel): number {
  return Math.max(0, model.outputs.findIndex((o) => model.layers.find((l) => l.output === o)?.op !== 'softmax'));
}

const isSoftmaxOutput = (model: QModel, o: string): boolean => model.layers.find((l) => l.output === o)?.op === 'softmax';

/** Whether the scores output (scoresIndex) is a softmax, i.e. holds probabilities rather than logits. */
export const scoresAreProbabilities = (model: QModel): boolean => isSoftmaxOutput(model, model.outputs[scoresIndex(model)]!);

/** The softmax output over the same classes beside the logits output (the probabilities of the scores), or -1. */
export function probabilityIndex(model: QModel): number {
  const si = scoresIndex(model);
  const size = (o: string): number => {
    const d = model.tensors[o]!.dims;
    return d.h * d.w * d.c;
  };
  return model.outputs.findIndex((o, i) => i !== si && isSoftmaxOutput(model, o) && size(o) === size(model.outputs[si]!));
}

/**
 * Names of the weight arrays of a conv layer (global symbols in model_weights.c). A layer with int8 channels
 * (QConv.int8Channels) also has w4, the packed int4 weights of its other channels, and o, its channel order.
 */
export const weightNames = (id: string) => ({ w: `sqzfw_w_${id}`, b: `sqzfw_b_${id}`, m: `sqzfw_m_${id}`, s: `sqzfw_s_${id}`, w4: `sqzfw_w4_${id}`, o: `sqzfw_o_${id}` });

/** One weight array of model_weights.c: its C type and length, and its values (made only when the text is). */
export interface ConvArray {
  name: string;
  type: 'int8_t' | 'uint16_t' | 'int32_t';
  length: number;
  values: () => ArrayLike<number>;
}

const ELEMENT_BYTES: Record<ConvArray['type'], number> = { int8_t: 1, uint16_t: 2, int32_t: 4 };

/** Bytes of a weight array in flash. */
export const arrayBytes = (a: Pick<ConvArray, 'type' | 'length'>): number => a.length * ELEMENT_BYTES[a.type];

/** int4 values packed two per byte, as the bytes CMSIS-NN's s4 functions read (low nibble first). */
const packed = (values: ArrayLike<number>): Int8Array => new Int8Array(packInt4(values).buffer);

/**
 * The weight arrays of one conv layer, in source order: weights, bias, requantization multipliers and shifts
 * (int4 layers: the weights packed). A layer with int8 channels (QConv.int8Channels) runs as two calls, an s8 one
 * over those channels and an s4 one over the others (src/quantize/int4.ts splitChannels): its arrays are the s8
 * weights of the int8 channels, the packed int4 weights of the others, bias, multipliers and shifts in that order
 * (int8 channels first), and the order table: o[i] = the output channel (class) computed at position i.
 */
export function convArrays(l: QConv, id: string): ConvArray[] {
  const n = weightNames(id);
  const cout = l.bias.length;
  const int32 = (name: string, v: Int32Array): ConvArray => ({ name, type: 'int32_t', length: cout, values: () => v });
  if (!l.int8Channels) {
    return [
      { name: n.w, type: 'int8_t', length: weightArrayBytes(l), values: () => (l.weightBits === 4 ? packed(l.weights) : l.weights) },
      int32(n.b, l.bias),
      int32(n.m, l.multiplier),
      int32(n.s, l.shift),
    ];
  }
  const { int8, int4, order } = splitChannels(l);
  const per = l.weights.length / cout;
  const weightsOf = (channels: number[]): Int8Array => {
    const w = new Int8Array(channels.length * per);
    channels.forEach((c, i) => w.set(l.weights.subarray(c * per, (c + 1) * per), i * per));
    return w;
  };
  const inOrder = (v: Int32Array): Int32Array => Int32Array.from(order, (c) => v[c]);
  return [
    { name: n.w, type: 'int8_t', length: int8.length * per, values: () => weightsOf(int8) },
    { name: n.w4, type: 'int8_t', length: Math.ceil((int4.length * per) / 2), values: () => packed(weightsOf(int4)) },
    int32(n.b, inOrder(l.bias)),
    int32(n.m, inOrder(l.multiplier)),
    int32(n.s, inOrder(l.shift)),
    { name: n.o, type: 'uint16_t', length: cout, values: () => Uint16Array.from(order) },
  ];
}

/**
 * Kernel argument structs, deduplicated: band steps of one layer mostly share their parameters and dims, so each
 * distinct initializer is emitted once (static const), named after the first layer that uses it.
 */
class StructPool {
  readonly defs: { type: string; name: string; init: string }[] = [];
  private readonly byKey = new Map<string, string>();
  private readonly used = new Set<string>();
  ref(type: string, name: string, init: string): string {
    const key = `${type} ${init}`;
    let found = this.byKey.get(key);
    if (!found) {
      found = name;
      for (let k = 2; this.used.has(found); k++) found = `${name}_${k}`;
      this.used.add(found);
      this.byKey.set(key, found);
      this.defs.push({ type, name: found, init });
    }
    return found;
  }
}

const dimsInit = (n: number, h: number, w: number, c: number): string => `{ .n = ${n}, .h = ${h}, .w = ${w}, .c = ${c} }`;

export function renderLibrary(input: LibraryInput): Record<string, string> {
  const { model, plan, stamp } = input;
  const header = `/* ${cComment(stamp)} */`;
  const ids = cIdentifiers(model.layers.map((l) => l.name));
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  // The caller's input buffer (--input-in caller) is no arena: it is read through the pointer given to the model.
  const usedRegions = plan.regions.filter((r) => r.used > 0 && !r.external);
  const external = new Set(plan.regions.filter((r) => r.external).map((r) => r.name));
  const inputIn = plan.inputIn ?? 'arena';
  const arenas = usedRegions.map((r) => ({ name: `arena_${r.name}`, region: r.name, size: r.used }));

  // Named buffers: one macro per plan buffer, a pointer into its region's arena.
  const bufIds = cIdentifiers(plan.buffers.map((b) => `BUF_${b.name}`));
  const buffers = new Map(plan.buffers.map((b) => [b.name, b]));
  const bufferMacros = plan.buffers.map((b) => ({ macro: bufIds.get(`BUF_${b.name}`)!, arena: external.has(b.region) ? 'model_input' : `arena_${b.region}`, offset: b.offset, note: cComment(`${b.kind}${b.tensor && b.tensor !== b.name ? ` ${b.tensor}` : ''}, ${b.size} bytes`) }));
  const ptr = (ref: Ref): string => {
    const b = buffers.get(ref.buffer);
    if (!b) throw new Error(`plan step refers to unknown buffer ${ref.buffer}`);
    const m = bufIds.get(`BUF_${b.name}`)!;
    return ref.offset ? `(${m} + ${ref.offset})` : m;
  };

  const params: { name: string; type: ConvArray['type']; length: number; body: string }[] = [];
  for (const l of model.layers) {
    if (l.op !== 'conv') continue;
    for (const a of convArrays(l, ids.get(l.name)!)) {
      const v = a.values();
      if (v.length !== a.length) throw new Error(`internal error: ${a.name} has ${v.length} values, not ${a.length}`);
      params.push({ name: a.name, type: a.type, length: a.length, body: formatArray(v) });
    }
  }
  const weightsBytes = params.reduce((s, p) => s + arrayBytes(p), 0);

  const splitReads = splitPoolSteps(model, plan);
  const structs = new StructPool();
  // Each step rendered with slots, so that bands repeating the same calls become loops (band-loops.ts).
  const rendered = plan.steps.map((s, index) => {
    const slots: Slot[] = [];
    const slot = (x: Slot): string => {
      slots.push(x);
      return `@${slots.length - 1}@`;
    };
    const slotPtr = (ref: Ref): string => {
      const b = buffers.get(ref.buffer)!;
      return slot({ value: b.offset + ref.offset, base: external.has(b.region) ? 'model_input' : `arena_${b.region}`, single: ptr(ref) });
    };
    const read = splitReads.get(index);
    const split = read && { ...read, id: ids.get(read.conv.name)! };
    const view = stepView(s, index, { layer: layers.get(s.layer)!, id: ids.get(s.layer)!, ptr: slotPtr, structs, num: (n) => slot({ value: n, single: String(n) }), split });
    return { index, comment: view.comment, what: `${s.op} ${s.layer}`, text: renderStep(view), slots, band: s.band, view };
  });
  const steps = rendered.map((r) => r.view);
  const outputs = model.outputs.map((name, index) => {
    const t = model.tensors[name];
    return { index, name, cname: cString(name), comment: cComment(name), ptr: ptr(plan.outputs[name]), bytes: t.dims.h * t.dims.w * t.dims.c, scale: cDouble(t.scale), zeroPoint: t.zeroPoint };
  });
  const si = scoresIndex(model);
  const inT = model.tensors[model.input];
  const pre = input.preprocessing;
  if (pre.mean.length !== inT.dims.c || pre.std.length !== inT.dims.c)
    throw new Error(`preprocessing gives ${pre.mean.length} means and ${pre.std.length} stds for ${inT.dims.c} input channels`);
  const labels = input.labels && input.labels.length === outputs[si]!.bytes ? input.labels : undefined;

  const headerData = {
    header,
    modelName: cString(model.name),
    stepCount: steps.length,
    inputIn,
    input: { h: inT.dims.h, w: inT.dims.w, c: inT.dims.c, bytes: inT.dims.h * inT.dims.w * inT.dims.c, scale: cDouble(inT.scale), zeroPoint: inT.zeroPoint },
    pre: {
      source: cComment(pre.source),
      channelOrder: pre.channelOrder,
      bgr: pre.channelOrder === 'BGR' ? 1 : 0,
      pixelRange: cDouble(pre.pixelRange),
      mean: pre.mean.map(cDouble).join(', '),
      std: pre.std.map(cDouble).join(', '),
      resizeMode: pre.resize.mode,
      resizeSize: pre.resize.mode === 'none' ? 0 : pre.resize.size,
      resizeNote: pre.resize.mode === 'none' ? 'none' : pre.resize.mode === 'shorter' ? `the shorter side to ${pre.resize.size}` : `both sides to ${pre.resize.size}`,
    },
    outputs,
    scores: outputs[si]!,
    scoresAreProbabilities: scoresAreProbabilities(model),
    probIndex: probabilityIndex(model),
    hasClassNames: !!labels,
    arenas,
    arenaBytes: arenas.reduce((s, a) => s + a.size, 0),
    weightsBytes,
  };

  const files: Record<string, string> = {
    [`${MODEL_DIR}/model.h`]: renderC('model.h.ejs', headerData),
    [`${MODEL_DIR}/model_weights.h`]: renderC('model_weights.h.ejs', { header, params }),
    [`${MODEL_DIR}/model_weights.c`]: renderC('model_weights.c.ejs', { header, params }),
    [`${MODEL_DIR}/model.c`]: renderC('model.c.ejs', {
      header,
      arenas,
      bufferMacros,
      outputs,
      inputIn,
      inputPtr: plan.input && inputIn === 'arena' ? ptr(plan.input) : '',
      labels: labels?.map((l) => cString(l)),
      structs: structs.defs,
      scratchChecks: uniqueScratchChecks(steps),
      blocks: bandBlocks(rendered),
    }),
    [`${MODEL_DIR}/sqzfw_model.ld`]: renderC('sqzfw_model.ld.ejs', {
      header,
      arenas,
      weightsBytes,
      board: input.board === undefined ? '' : cComment(input.board),
      aliases: [regionAlias('SQZFW_WEIGHTS_REGION', input.weightsRegion, input.memory), ...arenas.map((a) => regionAlias(`SQZFW_ARENA_${a.region}`, a.region, input.memory))],
    }),
    [`${MODEL_DIR}/sqzfw_model.mk`]: renderC('sqzfw_model.mk.ejs', { stamp: hashComment(stamp) }),
    [`${MODEL_DIR}/CMakeLists.txt`]: renderC('CMakeLists.txt.ejs', { stamp: hashComment(stamp), modelName: hashComment(model.name) }),
  };
  for (const f of readdirSync(RUNTIME_DIR).sort()) {
    if (isLibraryRuntimeFile(f)) files[`${MODEL_DIR}/${f}`] = readFileSync(join(RUNTIME_DIR, f), 'utf8');
  }
  return files;
}

/** A pool step reading a conv with int8 channels: the conv, and the pixels of each of its calls (see splitPoolSteps). */
export interface SplitRead {
  conv: QConv;
  chunkPixels: number;
}

/**
 * The pool steps that read a conv with int8 channels (QConv.int8Channels), by step index. Each call of such a conv
 * writes its band as its s8 channels' block and then its s4 channels' block, so its one reader, the requantizing
 * global average pool, must know the bands: a fused accumulation (gapacc) reads exactly the one band the conv call
 * before it wrote; a whole-tensor pool (gap) reads the bands of the calls since the last pool, one after the other
 * from its input on, each of chunkPixels pixels but the last (whole-tensor plans: one call of h*w pixels; row-band
 * plans may run the conv in bands into the whole tensor). The precision stage splits only the classifier conv
 * (quantize/int4.ts classifierConv); any other plan is an internal error.
 */
export function splitPoolSteps(model: QModel, plan: MemoryPlan): Map<number, SplitRead> {
  const split = new Map(model.layers.filter((l): l is QConv => l.op === 'conv' && !!l.int8Channels).map((l) => [l.name, l]));
  const byOutput = new Map([...split.values()].map((l) => [l.output, l]));
  const out = new Map<number, SplitRead>();
  if (split.size === 0) return out;
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  // The conv calls since the last pool: where each wrote and how many pixels.
  let calls: { conv: QConv; at: Ref; pixels: number; step: number }[] = [];
  const fail = (index: number, why: string): never => {
    throw new Error(`internal error: step ${index} (${plan.steps[index].op} ${plan.steps[index].layer}): ${why}`);
  };
  const only = (conv: QConv): string => `${conv.name} has int8 and int4 channels, so only its requantizing global average pool may read its output`;
  for (const [index, s] of plan.steps.entries()) {
    const layer = layers.get(s.layer);
    const conv = layer?.inputs.map((t) => byOutput.get(t)).find((l) => l);
    if (s.op === 'conv' && split.has(s.layer)) {
      const l = split.get(s.layer)!;
      if (calls.length && calls[0].conv !== l) fail(index, `the channels ${calls[0].conv.name} wrote at step ${calls[0].step} are not pooled yet`);
      calls.push({ conv: l, at: s.output, pixels: s.outDims.h * s.outDims.w, step: index });
    } else if (split.has(s.layer)) {
      fail(index, only(split.get(s.layer)!));
    } else if (conv && s.op !== 'gapfinish') {
      const whole = s.op === 'avgpool' && layer?.op === 'avgpool' && !!layer.requant;
      if (s.op !== 'gapacc' && !whole) fail(index, only(conv));
      const c = conv.bias.length;
      const mine = calls.length > 0 && calls[0].conv === conv;
      if (s.op === 'gapacc') {
        const [a] = calls;
        const same = mine && calls.length === 1 && a.at.buffer === s.input.buffer && a.at.offset === s.input.offset && a.pixels === s.pixels && s.c === c;
        if (!same) fail(index, `it does not add exactly the one band the ${conv.name} call before it wrote (its s8 and s4 channels' blocks)`);
        out.set(index, { conv, chunkPixels: s.pixels });
      } else if (s.op === 'avgpool') {
        const chunk = calls[0]?.pixels ?? 0;
        let start = 0;
        const bands = mine && calls.every((k, i) => {
          const ok = k.at.buffer === s.input.buffer && k.at.offset === s.input.offset + start * c && (k.pixels === chunk || i === calls.length - 1);
          start += k.pixels;
          return ok;
        });
        if (!bands || start !== s.inDims.h * s.inDims.w) fail(index, `it does not read the bands the ${conv.name} calls before it wrote, one after the other from its input on`);
        out.set(index, { conv, chunkPixels: chunk });
      }
      calls = [];
    }
  }
  if (calls.length) fail(calls[0].step, `the channels ${calls[0].conv.name} wrote are never pooled`);
  return out;
}

/** One step's call (templates/c/steps/<kind>-call.c.ejs), without its trailing newline. */
function renderStep(s: StepView): string {
  return renderC(`steps/${s.kind}-call.c.ejs`, { s }).replace(/\n+$/, '');
}

/** What a step's call template reads: `kind` names templates/c/steps/<kind>-call.c.ejs, the other fields its values. */
interface StepView {
  kind: 'conv' | 'pool' | 'gap' | 'concat' | 'add' | 'softmax' | 'gapacc' | 'gapfinish' | 'fetch' | 'max' | 'splitconv' | 'splitgap' | 'splitgapacc';
  index: number;
  comment: string;
  /** Calls with scratch: the C expressions whose values must not exceed scratchSize (checked once at init). */
  scratchCheck?: string | string[];
  scratchSize?: number;
  [field: string]: unknown;
}

/** What a step's view is built from besides the step: its layer, the layer's C id, and the text makers. */
interface StepContext {
  layer: QLayer;
  id: string;
  /** A buffer position as C (a slot, so band loops can index it). */
  ptr: (r: Ref) => string;
  structs: StructPool;
  /** A number as C (a slot, likewise). */
  num: (n: number) => string;
  /** The conv with int8 channels whose output this step's pool reads (splitPoolSteps), and its C id. */
  split?: SplitRead & { id: string };
}

/** sqzfw_gap_params of a requantizing global average pool. */
const gapParamsInit = (layer: { actMin: number; actMax: number }, r: QPoolRequant): string =>
  `{ .input_offset = ${r.inputOffset}, .output_offset = ${r.outputOffset}, .quant = { .multiplier = ${r.mult}, .shift = ${r.shift} }, .activation = { .min = ${layer.actMin}, .max = ${layer.actMax} } }`;

function stepView(s: Step, index: number, ctx: StepContext): StepView {
  const { layer, id, ptr, structs, num } = ctx;
  // Dims are shared by many layers: named after their shape (NHWC). Parameter structs are named after their layer.
  const dims = (n: number, h: number, w: number, c: number): string => structs.ref('cmsis_nn_dims', `dims_${n}x${h}x${w}x${c}`, dimsInit(n, h, w, c));
  const base = { index, comment: cComment(`${s.op} ${s.layer}${s.note ? ` (${s.note})` : ''}`) };
  switch (s.op) {
    case 'conv': {
      const l = layer as QConv;
      const n = weightNames(id);
      const convParams = structs.ref(
        'cmsis_nn_conv_params',
        `${id}_conv_params`,
        `{ .input_offset = ${l.inputOffset}, .output_offset = ${l.outputOffset}, .stride = { .w = ${l.stride[1]}, .h = ${l.stride[0]} }, .padding = { .w = ${s.padLeft}, .h = ${s.padTop} }, .dilation = { .w = 1, .h = 1 }, .activation = { .min = ${l.actMin}, .max = ${l.actMax} } }`,
      );
      const scratchSize = s.scratchSize ?? 0;
      const plus = (at: number): string => (at ? ` + ${at}` : '');
      // One call over `c` output channels from position `at` of the layer's arrays: what the layer's calls share,
      // then what this band shape adds; each call site passes one pointer (sqzfw_ops.c).
      const convCall = (fn: string, stem: string, at: number, c: number, weights: string): string => {
        const quant = structs.ref('cmsis_nn_per_channel_quant_params', `${stem}_quant`, `{ (int32_t *)${n.m}${plus(at)}, (int32_t *)${n.s}${plus(at)} }`);
        const inDims = dims(1, s.inDims.h, s.inDims.w, s.inDims.c);
        const filterDims = dims(c, l.kernel[0], l.kernel[1], s.inDims.c);
        const outDims = dims(1, s.outDims.h, s.outDims.w, c);
        const biasDims = dims(1, 1, 1, c);
        const convLayer = structs.ref(
          'sqzfw_conv_layer',
          `${stem}_layer`,
          `{ .run = ${fn}, .buffer_size = ${fn}_get_buffer_size, .quant = &${quant}, .filter_dims = &${filterDims}, .weights = ${weights}, .bias_dims = &${biasDims}, .bias = ${n.b}${plus(at)} }`,
        );
        return structs.ref(
          'sqzfw_conv_call',
          `${stem}_call_${s.outDims.h}x${s.outDims.w}`,
          `{ .layer = &${convLayer}, .params = &${convParams}, .input_dims = &${inDims}, .output_dims = &${outDims}, .scratch_size = ${scratchSize} }`,
        );
      };
      if (l.int8Channels) {
        // Two calls into the same band: the s8 one writes its channels' block, the s4 one its own block after it.
        const { int8, int4 } = splitChannels(l);
        const call8 = convCall('arm_convolve_wrapper_s8', `${id}_s8`, 0, int8.length, n.w);
        const call4 = convCall('arm_convolve_wrapper_s4', `${id}_s4`, int8.length, int4.length, n.w4);
        return {
          ...base,
          kind: 'splitconv',
          call8,
          call4,
          inPtr: ptr(s.input),
          outPtr: ptr(s.output),
          offset4: s.outDims.h * s.outDims.w * int8.length,
          scratchPtr: s.scratch ? ptr(s.scratch) : 'NULL',
          scratchSize,
          scratchCheck: [`sqzfw_conv_buffer_size(&${call8})`, `sqzfw_conv_buffer_size(&${call4})`],
        };
      }
      const call = convCall(l.weightBits === 4 ? 'arm_convolve_wrapper_s4' : 'arm_convolve_wrapper_s8', id, 0, s.outDims.c, n.w);
      return {
        ...base,
        kind: 'conv',
        call,
        inPtr: ptr(s.input),
        outPtr: ptr(s.output),
        scratchPtr: s.scratch ? ptr(s.scratch) : 'NULL',
        scratchSize,
        scratchCheck: `sqzfw_conv_buffer_size(&${call})`,
      };
    }
    case 'maxpool':
    case 'avgpool': {
      if (layer.op !== 'maxpool' && layer.op !== 'avgpool') throw new Error(`step ${index} is a pool but ${layer.name} is ${layer.op}`);
      if (layer.requant) {
        // Requantizing global average pool (sqzfw_ops.c): whole tensor in, one pixel out, no scratch.
        if (s.op !== 'avgpool' || s.outDims.h !== 1 || s.outDims.w !== 1 || s.padTop !== 0 || s.padLeft !== 0) {
          throw new Error(`step ${index}: ${layer.name} requantizes, so it must be a whole-tensor global average pool`);
        }
        const r = layer.requant;
        const gap = {
          ...base,
          gapParams: structs.ref('sqzfw_gap_params', `${id}_gap_params`, gapParamsInit(layer, r)),
          inDims: dims(1, s.inDims.h, s.inDims.w, s.inDims.c),
          inPtr: ptr(s.input),
          outPtr: ptr(s.output),
        };
        // A split classifier conv wrote each band as its s8 channels' block, then its s4 channels' block: pooled into class order.
        if (ctx.split) return { ...gap, kind: 'splitgap', chunkPixels: ctx.split.chunkPixels, n8: ctx.split.conv.int8Channels!.length, order: weightNames(ctx.split.id).o };
        return { ...gap, kind: 'gap' };
      }
      if (s.axis && s.op !== 'maxpool') throw new Error(`step ${index}: only a max pool runs one axis of its window`);
      const win = poolWindow(layer, s.axis);
      return {
        ...base,
        kind: 'pool',
        fn: s.op === 'maxpool' ? 'arm_max_pool_s8' : 'arm_avgpool_s8',
        poolParams: structs.ref(
          'cmsis_nn_pool_params',
          `${id}_pool_params`,
          `{ .stride = { .w = ${win.stride[1]}, .h = ${win.stride[0]} }, .padding = { .w = ${s.padLeft}, .h = ${s.padTop} }, .activation = { .min = ${layer.actMin}, .max = ${layer.actMax} } }`,
        ),
        inDims: dims(1, s.inDims.h, s.inDims.w, s.inDims.c),
        filterDims: dims(1, win.kernel[0], win.kernel[1], 1),
        outDims: dims(1, s.outDims.h, s.outDims.w, s.outDims.c),
        inPtr: ptr(s.input),
        outPtr: ptr(s.output),
        scratchPtr: s.scratch ? ptr(s.scratch) : 'NULL',
        scratchSize: s.scratchSize,
        scratchCheck: s.op === 'avgpool' ? `arm_avgpool_s8_get_buffer_size(${s.outDims.w}, ${s.inDims.c})` : undefined,
      };
    }
    case 'concat':
      return { ...base, kind: 'concat', inPtr: ptr(s.input), inC: s.inDims.c, inW: s.inDims.w, inH: s.inDims.h, outPtr: ptr(s.output), outC: s.outC, offsetC: s.offsetC };
    case 'add': {
      if (layer.op !== 'add') throw new Error(`step ${index} is an add but ${layer.name} is ${layer.op}`);
      return {
        ...base,
        kind: 'add',
        in1Ptr: ptr(s.input1),
        in2Ptr: ptr(s.input2),
        outPtr: ptr(s.output),
        in1Offset: layer.input1Offset,
        in1Mult: layer.input1Mult,
        in1Shift: layer.input1Shift,
        in2Offset: layer.input2Offset,
        in2Mult: layer.input2Mult,
        in2Shift: layer.input2Shift,
        leftShift: layer.leftShift,
        outOffset: layer.outputOffset,
        outMult: layer.outputMult,
        outShift: layer.outputShift,
        actMin: layer.actMin,
        actMax: layer.actMax,
        size: s.size,
      };
    }
    case 'softmax': {
      if (layer.op !== 'softmax') throw new Error(`step ${index} is a softmax but ${layer.name} is ${layer.op}`);
      return { ...base, kind: 'softmax', inPtr: ptr(s.input), outPtr: ptr(s.output), rows: s.rows, rowSize: s.rowSize, mult: layer.mult, shift: layer.shift, diffMin: layer.diffMin };
    }
    case 'gapacc':
    case 'gapfinish': {
      // The fused classifier pool (sqzfw_ops_gap.c): band sums, then one requantization.
      if (layer.op !== 'avgpool' || !layer.requant) throw new Error(`step ${index} is a fused pool but ${layer.name} is no requantizing average pool`);
      const sumPtr = `(int32_t *)(void *)(${ptr(s.sum)})`;
      if (s.op === 'gapacc' && ctx.split) {
        // The conv's band holds its s8 channels' block, then its s4 channels' block: each added into the class order.
        const { int8, int4 } = splitChannels(ctx.split.conv);
        const inPtr = ptr(s.input);
        return { ...base, kind: 'splitgapacc', inPtr, offset4: s.pixels * int8.length, pixels: s.pixels, n8: int8.length, n4: int4.length, order: weightNames(ctx.split.id).o, inputOffset: layer.requant.inputOffset, first: s.first ? 1 : 0, sumPtr };
      }
      if (s.op === 'gapacc') return { ...base, kind: 'gapacc', inPtr: ptr(s.input), pixels: s.pixels, c: s.c, inputOffset: layer.requant.inputOffset, first: s.first ? 1 : 0, sumPtr };
      const r = layer.requant;
      const outParams = structs.ref('sqzfw_gap_out_params', `gap_out_${id}`, `{ .output_offset = ${r.outputOffset}, .mult = ${r.mult}, .shift = ${r.shift}, .act_min = ${layer.actMin}, .act_max = ${layer.actMax} }`);
      return { ...base, kind: 'gapfinish', sumPtr, c: s.c, outParams, outPtr: ptr(s.output) };
    }
    case 'max':
      // A row pool's running max (sqzfw_ops.c): pooled rows folded into the pool's output row.
      return { ...base, kind: 'max', in1Ptr: ptr(s.input1), in2Ptr: ptr(s.input2), outPtr: ptr(s.output), size: s.size };
    case 'fetch':
      // Rows move from band to band like offsets: slots, so a streamed chain still becomes a loop.
      return { ...base, kind: 'fetch', first: num(s.first), last: num(s.last), outPtr: ptr(s.output) };
  }
}

/** Each distinct (size query, planned size) once, with the first step that needs it (what init reports). */
function uniqueScratchChecks(steps: StepView[]): { check: string; size: number; index: number }[] {
  const seen = new Set<string>();
  const out: { check: string; size: number; index: number }[] = [];
  for (const s of steps) {
    for (const check of s.scratchCheck === undefined ? [] : [s.scratchCheck].flat()) {
      const key = `${check} ${s.scratchSize}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ check, size: s.scratchSize ?? 0, index: s.index });
    }
  }
  return out;
}
