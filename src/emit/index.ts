/**
 * The emitter: a pure generate(input) -> files function. It turns a QModel, its MemoryPlan and a board into a
 * static-C firmware project (no malloc; one CMSIS-NN call per plan step). All decisions are made here in
 * TypeScript; the ejs templates under templates/c only loop and substitute.
 */
import ejs from 'ejs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Board } from '../boards/index.js';
import type { QConv, QLayer, QModel } from '../quantize/types.js';
import type { MemoryPlan, Ref, Step } from '../planner/types.js';
import { generatedHeader, renderBoardFiles } from './board-files.js';
import { cIdentifiers, formatArray } from './c.js';
import { VERSION } from '../version.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/c/', import.meta.url));

export interface GenerateInput {
  model: QModel;
  plan: MemoryPlan;
  board: Board;
  /** The int8 input image embedded in the firmware. */
  input: Int8Array;
  inputNote: string;
  /** Golden output bytes for that input, per model output: the firmware checks itself against them. */
  expected: Record<string, Int8Array>;
  /** Class names, printed with the top 5. */
  labels?: string[];
  /** The weights region (default: the board's first weights region). */
  weightsRegion?: string;
}

/** Path inside the project -> file content. */
export type GeneratedFiles = Record<string, string>;


const dimsInit = (n: number, h: number, w: number, c: number): string => `{ .n = ${n}, .h = ${h}, .w = ${w}, .c = ${c} }`;

function render(template: string, data: object): string {
  const file = `${TEMPLATES_DIR}${template}`;
  return ejs.render(readFileSync(file, 'utf8'), data, { filename: file, rmWhitespace: false });
}

/**
 * Kernel argument structs, deduplicated: band steps of one layer mostly share their parameters and dims, so each
 * distinct initializer is emitted once (static const) and referenced by name.
 */
class StructPool {
  readonly defs: { type: string; name: string; init: string }[] = [];
  private readonly byKey = new Map<string, string>();
  ref(type: string, prefix: string, init: string): string {
    const key = `${type} ${init}`;
    let name = this.byKey.get(key);
    if (!name) {
      name = `${prefix}_${this.defs.length}`;
      this.byKey.set(key, name);
      this.defs.push({ type, name, init });
    }
    return name;
  }
}

interface ParamArray {
  name: string;
  type: 'int8_t' | 'int32_t';
  length: number;
  body: string;
}

export function generate(input: GenerateInput): GeneratedFiles {
  const { model, plan, board } = input;
  const ids = cIdentifiers(model.layers.map((l) => l.name));
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  const buffers = new Map(plan.buffers.map((b) => [b.name, b]));
  const arenaName = (region: string): string => `arena_${region}`;
  const ptr = (ref: Ref): string => {
    const b = buffers.get(ref.buffer);
    if (!b) throw new Error(`plan step refers to unknown buffer ${ref.buffer}`);
    return `${arenaName(b.region)} + ${b.offset + ref.offset}`;
  };

  // Parameters: one set per conv layer, emitted in layer order.
  const params: ParamArray[] = [];
  for (const l of model.layers) {
    if (l.op !== 'conv') continue;
    const id = ids.get(l.name)!;
    params.push({ name: `w_${id}`, type: 'int8_t', length: l.weights.length, body: formatArray(l.weights) });
    params.push({ name: `b_${id}`, type: 'int32_t', length: l.bias.length, body: formatArray(l.bias) });
    params.push({ name: `m_${id}`, type: 'int32_t', length: l.multiplier.length, body: formatArray(l.multiplier) });
    params.push({ name: `s_${id}`, type: 'int32_t', length: l.shift.length, body: formatArray(l.shift) });
  }

  const structs = new StructPool();
  const steps = plan.steps.map((s, index) => stepView(s, index, layers.get(s.layer)!, ids.get(s.layer)!, ptr, structs));
  const usedRegions = plan.regions.filter((r) => r.used > 0);
  const arenas = usedRegions.map((r) => ({ name: arenaName(r.name), region: r.name, size: r.used }));
  const outputs = model.outputs.map((name) => {
    const d = model.tensors[name].dims;
    return { name, ptr: ptr(plan.outputs[name]), bytes: d.h * d.w * d.c };
  });
  const inputDims = model.tensors[model.input].dims;
  const inputBytes = inputDims.h * inputDims.w * inputDims.c;
  if (input.input.length !== inputBytes) throw new Error(`input has ${input.input.length} bytes, the model takes ${inputBytes}`);

  // The scores the top 5 is taken over: the first output that is not a softmax, else the first.
  const scoresIndex = Math.max(0, model.outputs.findIndex((o) => model.layers.find((l) => l.output === o)?.op !== 'softmax'));
  const header = `/* ${generatedHeader(`model ${model.name}, board ${board.name}, plan ${plan.strategy}`)} */`;

  const files: GeneratedFiles = {
    'src/model.h': render('model.h.ejs', { header, modelName: model.name, inputBytes, outputs, stepCount: steps.length }),
    'src/model.c': render('model.c.ejs', { header, params, arenas, outputs, inputPtr: ptr(plan.input), structs: structs.defs, scratchChecks: uniqueScratchChecks(steps), steps }),
    'src/main.c': render('main.c.ejs', {
      header,
      boardName: board.name,
      inputNote: input.inputNote.replace(/\*\//g, '* /'),
      inputBody: formatArray(input.input),
      expected: model.outputs.map((o, index) => {
        const e = input.expected[o];
        if (!e) throw new Error(`no expected bytes for output ${o}`);
        return { index, bytes: e.length, body: formatArray(e) };
      }),
      labels: input.labels ? { length: input.labels.length, body: input.labels.map((l) => `    ${JSON.stringify(l)},`).join('\n') } : null,
      scoresIndex,
    }),
    'plan.json': `${JSON.stringify(planSummary(plan), null, 1)}\n`,
    ...renderBoardFiles(board, { weightsRegion: input.weightsRegion ?? board.placement.weights[0], arenaRegions: usedRegions.map((r) => r.name) }),
  };
  return files;
}

function stepView(s: Step, index: number, layer: QLayer, id: string, ptr: (r: Ref) => string, structs: StructPool): Record<string, unknown> {
  const dims = (n: number, h: number, w: number, c: number): string => structs.ref('cmsis_nn_dims', 'dims', dimsInit(n, h, w, c));
  const base = { index, comment: `${s.op} ${s.layer}${s.note ? ` (${s.note})` : ''}` };
  switch (s.op) {
    case 'conv': {
      const l = layer as QConv;
      const convParams = structs.ref(
        'cmsis_nn_conv_params',
        'conv_params',
        `{ .input_offset = ${l.inputOffset}, .output_offset = ${l.outputOffset}, .stride = { .w = ${l.stride[1]}, .h = ${l.stride[0]} }, .padding = { .w = ${s.padLeft}, .h = ${s.padTop} }, .dilation = { .w = 1, .h = 1 }, .activation = { .min = ${l.actMin}, .max = ${l.actMax} } }`,
      );
      const quant = structs.ref('cmsis_nn_per_channel_quant_params', 'quant', `{ (int32_t *)m_${id}, (int32_t *)s_${id} }`);
      const inDims = dims(1, s.inDims.h, s.inDims.w, s.inDims.c);
      const filterDims = dims(s.outDims.c, l.kernel[0], l.kernel[1], s.inDims.c);
      const outDims = dims(1, s.outDims.h, s.outDims.w, s.outDims.c);
      return {
        ...base,
        kind: 'conv',
        convParams,
        quant,
        inDims,
        filterDims,
        biasDims: dims(1, 1, 1, s.outDims.c),
        outDims,
        weights: `w_${id}`,
        bias: `b_${id}`,
        inPtr: ptr(s.input),
        outPtr: ptr(s.output),
        scratchPtr: s.scratch ? ptr(s.scratch) : 'NULL',
        scratchSize: s.scratchSize,
        scratchCheck: `arm_convolve_wrapper_s8_get_buffer_size(&${convParams}, &${inDims}, &${filterDims}, &${outDims})`,
      };
    }
    case 'maxpool':
    case 'avgpool': {
      if (layer.op !== 'maxpool' && layer.op !== 'avgpool') throw new Error(`step ${index} is a pool but ${layer.name} is ${layer.op}`);
      if (layer.requant) {
        // Requantizing global average pool (firmware/runtime/sqzfw_ops.c): whole tensor in, one pixel out, no scratch.
        if (s.op !== 'avgpool' || s.outDims.h !== 1 || s.outDims.w !== 1 || s.padTop !== 0 || s.padLeft !== 0) {
          throw new Error(`step ${index}: ${layer.name} requantizes, so it must be a whole-tensor global average pool`);
        }
        const r = layer.requant;
        return {
          ...base,
          kind: 'gap',
          h: s.inDims.h,
          w: s.inDims.w,
          c: s.inDims.c,
          inputOffset: r.inputOffset,
          outputOffset: r.outputOffset,
          mult: r.mult,
          shift: r.shift,
          actMin: layer.actMin,
          actMax: layer.actMax,
          inPtr: ptr(s.input),
          outPtr: ptr(s.output),
        };
      }
      return {
        ...base,
        kind: 'pool',
        fn: s.op === 'maxpool' ? 'arm_max_pool_s8' : 'arm_avgpool_s8',
        poolParams: structs.ref(
          'cmsis_nn_pool_params',
          'pool_params',
          `{ .stride = { .w = ${layer.stride[1]}, .h = ${layer.stride[0]} }, .padding = { .w = ${s.padLeft}, .h = ${s.padTop} }, .activation = { .min = ${layer.actMin}, .max = ${layer.actMax} } }`,
        ),
        inDims: dims(1, s.inDims.h, s.inDims.w, s.inDims.c),
        filterDims: dims(1, layer.kernel[0], layer.kernel[1], 1),
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
  }
}

/** Each distinct (size query, planned size) once, with the first step that needs it (what the firmware reports). */
function uniqueScratchChecks(steps: Record<string, unknown>[]): { check: string; size: number; index: number }[] {
  const seen = new Set<string>();
  const out: { check: string; size: number; index: number }[] = [];
  for (const s of steps) {
    if (typeof s.scratchCheck !== 'string') continue;
    const key = `${s.scratchCheck} ${s.scratchSize}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ check: s.scratchCheck, size: s.scratchSize as number, index: s.index as number });
  }
  return out;
}

/** The plan as JSON for people and tools (buffers, steps, regions); no weights. */
export function planSummary(plan: MemoryPlan): object {
  return {
    generator: `sqzfw ${VERSION}`,
    model: plan.model,
    strategy: plan.strategy,
    peakBytes: plan.peakBytes,
    macs: plan.macs,
    baseMacs: plan.baseMacs,
    lowerBound: plan.lowerBound,
    copyBytes: plan.copyBytes,
    chains: plan.chains,
    regions: plan.regions,
    buffers: plan.buffers,
    steps: plan.steps,
  };
}
