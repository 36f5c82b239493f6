/**
 * The layer-by-layer planner: turns a QModel into kernel-call steps, gives every tensor and scratch buffer a
 * lifetime, places them in one of the board's RAM regions and checks the result.
 *
 * Concatenation: CMSIS-NN convolutions write dense NHWC, so an expand conv can write straight into its channel
 * slice of the concat tensor only when the slice is contiguous (a 1x1 spatial output). Otherwise each expand
 * output is copied into its slice with arm_concatenation_s8_x right after it is produced, so the temporary dies
 * at once and the second expand reuses its space.
 */
import { UserError } from '../errors.js';
import type { Dims } from '../graph/ir.js';
import type { QLayer, QModel } from '../quantize/types.js';
import { checkPlacement, placeBest, type BufferRequest } from './arena.js';
import { avgPoolScratchBytes, convScratchBytes, type KernelPath } from './scratch.js';
import type { MemoryPlan, PlannedBuffer, Ref, Step } from './types.js';

export interface PlanRegion {
  name: string;
  capacity: number;
}

export interface PlanOptions {
  /** RAM regions that may hold the arena, in order of preference. */
  regions: PlanRegion[];
  /** Which kernel build sizes the scratch buffers. */
  path?: KernelPath;
  alignment?: number;
}

const size = (d: Dims): number => d.h * d.w * d.c;
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

/** MACs of one conv call (also used for band steps). */
export const convMacs = (inC: number, kernel: [number, number], out: Dims): number => out.h * out.w * out.c * kernel[0] * kernel[1] * inC;

interface Draft {
  steps: Step[];
  buffers: Map<string, { kind: PlannedBuffer['kind']; tensor?: string; size: number; first: number; last: number }>;
  loc: Map<string, Ref>;
}

function buildSteps(model: QModel, path: KernelPath): Draft {
  const d: Draft = { steps: [], buffers: new Map(), loc: new Map() };
  const consumers = new Map<string, QLayer[]>();
  for (const l of model.layers) for (const i of l.inputs) consumers.set(i, [...(consumers.get(i) ?? []), l]);
  const dims = (t: string): Dims => model.tensors[t].dims;
  const touch = (buffer: string, step: number): void => {
    const b = d.buffers.get(buffer)!;
    b.first = Math.min(b.first, step);
    b.last = Math.max(b.last, step);
  };
  const newBuffer = (name: string, kind: PlannedBuffer['kind'], bytes: number, tensor?: string): void => {
    d.buffers.set(name, { kind, tensor, size: bytes, first: Infinity, last: -Infinity });
  };
  const tensorBuffer = (t: string): void => {
    if (d.loc.has(t)) return;
    const kind = t === model.input ? 'input' : model.outputs.includes(t) ? 'output' : 'tensor';
    newBuffer(t, kind, size(dims(t)), t);
    d.loc.set(t, { buffer: t, offset: 0 });
  };
  // A concat whose spatial size is 1x1 lets producers write their slice in place.
  const sliceOf = new Map<string, { concat: string; offsetC: number }>();
  for (const l of model.layers) {
    if (l.op !== 'concat') continue;
    let off = 0;
    for (const i of l.inputs) {
      const only = (consumers.get(i) ?? []).length === 1;
      if (only) sliceOf.set(i, { concat: l.output, offsetC: off });
      off += dims(i).c;
    }
  }
  const inPlace = (t: string): boolean => {
    const s = sliceOf.get(t);
    return !!s && dims(s.concat).h * dims(s.concat).w === 1 && model.layers.find((l) => l.output === t)?.op === 'conv';
  };
  const ref = (t: string): Ref => {
    if (inPlace(t)) {
      const s = sliceOf.get(t)!;
      tensorBuffer(s.concat);
      return { buffer: s.concat, offset: s.offsetC };
    }
    tensorBuffer(t);
    return d.loc.get(t)!;
  };
  const push = (step: Step, reads: Ref[], writes: Ref[]): void => {
    const i = d.steps.length;
    d.steps.push(step);
    for (const r of [...reads, ...writes]) touch(r.buffer, i);
    if ('scratch' in step && step.scratch) touch(step.scratch.buffer, i);
  };
  const scratch = (bytes: number): Ref | undefined => {
    if (bytes <= 0) return undefined;
    const name = `scratch${d.steps.length}`;
    newBuffer(name, 'scratch', bytes);
    return { buffer: name, offset: 0 };
  };

  touch(ref(model.input).buffer, 0);
  const copied = new Set<string>();
  const copyIntoConcat = (t: string, layer: string): void => {
    const s = sliceOf.get(t);
    if (!s || inPlace(t) || copied.has(t)) return;
    copied.add(t);
    const input = ref(t);
    const output = ref(s.concat);
    push({ op: 'concat', layer, input, inDims: dims(t), output, outC: dims(s.concat).c, offsetC: s.offsetC, note: `${t} -> channels ${s.offsetC}..${s.offsetC + dims(t).c - 1} of ${s.concat}` }, [input], [output]);
  };

  for (const l of model.layers) {
    const inDims = dims(l.inputs[0]);
    const outDims = dims(l.output);
    switch (l.op) {
      case 'conv': {
        const input = ref(l.inputs[0]);
        const output = ref(l.output);
        const bytes = convScratchBytes({ inDims, kernel: l.kernel, stride: l.stride, padTop: l.pad.top, padLeft: l.pad.left, outDims }, path);
        const s = scratch(bytes);
        push({ op: 'conv', layer: l.name, input, inDims, output, outDims, padTop: l.pad.top, padLeft: l.pad.left, scratch: s, scratchSize: bytes }, [input], [output]);
        copyIntoConcat(l.output, l.name);
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const input = ref(l.inputs[0]);
        const output = ref(l.output);
        const bytes = l.op === 'avgpool' ? avgPoolScratchBytes(outDims.w, outDims.c, path) : 0;
        const s = scratch(bytes);
        push({ op: l.op, layer: l.name, input, inDims, output, outDims, padTop: l.pad.top, padLeft: l.pad.left, scratch: s, scratchSize: bytes }, [input], [output]);
        copyIntoConcat(l.output, l.name);
        break;
      }
      case 'concat':
        // Slices were filled by their producers (in place or by a copy right after them); copy any others now.
        for (const i of l.inputs) {
          if (sliceOf.get(i)) copyIntoConcat(i, l.name);
          else {
            const input = ref(i);
            const output = ref(l.output);
            let off = 0;
            for (const j of l.inputs) {
              if (j === i) break;
              off += dims(j).c;
            }
            push({ op: 'concat', layer: l.name, input, inDims: dims(i), output, outC: outDims.c, offsetC: off }, [input], [output]);
          }
        }
        break;
      case 'add': {
        const in1 = ref(l.inputs[0]);
        const in2 = ref(l.inputs[1]);
        const output = ref(l.output);
        push({ op: 'add', layer: l.name, input1: in1, input2: in2, output, size: size(outDims) }, [in1, in2], [output]);
        copyIntoConcat(l.output, l.name);
        break;
      }
      case 'softmax': {
        const input = ref(l.inputs[0]);
        const output = ref(l.output);
        push({ op: 'softmax', layer: l.name, input, output, rows: outDims.h * outDims.w, rowSize: outDims.c }, [input], [output]);
        break;
      }
    }
  }
  // Outputs stay live to the end: main() prints them after the last step.
  for (const o of model.outputs) touch(ref(o).buffer, d.steps.length - 1);
  return d;
}

/** Bytes live at each step, and the buffers that make up the worst one. */
export function liveProfile(buffers: { name: string; size: number; firstUse: number; lastUse: number }[], steps: number): { perStep: number[]; peakStep: number } {
  const perStep = Array.from({ length: steps }, (_, i) => buffers.filter((b) => b.firstUse <= i && i <= b.lastUse).reduce((s, b) => s + b.size, 0));
  const peakStep = perStep.reduce((best, v, i) => (v > perStep[best] ? i : best), 0);
  return { perStep, peakStep };
}

export function planModel(model: QModel, opts: PlanOptions): MemoryPlan {
  const path = opts.path ?? 'scalar';
  const alignment = opts.alignment ?? 8;
  if (opts.regions.length === 0) throw new UserError('the board has no RAM region for the activation arena', 'add a RAM region with "arena": true to the board profile');
  const d = buildSteps(model, path);
  const reqs: BufferRequest[] = [...d.buffers].map(([name, b]) => ({ name, size: b.size, firstUse: b.first, lastUse: b.last, alignment }));
  const placement = placeBest(reqs);
  // Single-region plan: the largest region that holds the whole arena, preferring the order given.
  const region = opts.regions.find((r) => r.capacity >= placement.size);
  if (!region) {
    const biggest = opts.regions.reduce((a, b) => (b.capacity > a.capacity ? b : a));
    const { peakStep } = liveProfile(reqs, d.steps.length);
    const step = d.steps[peakStep];
    const live = reqs
      .filter((b) => b.firstUse <= peakStep && peakStep <= b.lastUse)
      .sort((a, b) => b.size - a.size)
      .map((b) => `${b.name} ${kib(b.size)}`);
    throw new UserError(
      `${model.name} does not fit: its activation arena needs ${placement.size} bytes (${kib(placement.size)}) but the largest RAM region, ` +
        `${biggest.name}, has ${biggest.capacity} bytes: ${placement.size - biggest.capacity} bytes short. ` +
        `The peak is at layer ${step.layer} (step ${peakStep}), with ${live.join(', ')} live`,
      'use a smaller --input-size, a board with more RAM, or the tiling planner once it supports this board',
    );
  }
  checkPlacement(reqs, placement.offsets, region.capacity);
  const buffers: PlannedBuffer[] = reqs.map((r) => {
    const b = d.buffers.get(r.name)!;
    return { name: r.name, kind: b.kind, tensor: b.tensor, size: r.size, firstUse: r.firstUse, lastUse: r.lastUse, region: region.name, offset: placement.offsets[r.name], alignment };
  });
  let macs = 0;
  for (const s of d.steps) {
    if (s.op === 'conv') {
      const l = model.layers.find((x) => x.name === s.layer);
      if (l?.op === 'conv') macs += convMacs(s.inDims.c, l.kernel, s.outDims);
    }
  }
  const outputs: Record<string, Ref> = {};
  for (const o of model.outputs) outputs[o] = d.loc.get(o) ?? { buffer: o, offset: 0 };
  return {
    model: model.name,
    strategy: `layer-by-layer, ${placement.strategy}`,
    buffers,
    steps: d.steps,
    regions: opts.regions.map((r) => ({ name: r.name, used: r.name === region.name ? placement.size : 0, capacity: r.capacity })),
    input: d.loc.get(model.input)!,
    outputs,
    peakBytes: placement.size,
    macs,
    baseMacs: macs,
  };
}

/** Invariants of a finished plan: placement, regions, and that every step only touches live buffers. */
export function checkPlan(plan: MemoryPlan): void {
  const byName = new Map(plan.buffers.map((b) => [b.name, b]));
  for (const r of plan.regions) {
    const inRegion = plan.buffers.filter((b) => b.region === r.name);
    const offsets = Object.fromEntries(inRegion.map((b) => [b.name, b.offset]));
    checkPlacement(
      inRegion.map((b) => ({ name: b.name, size: b.size, firstUse: b.firstUse, lastUse: b.lastUse, alignment: b.alignment })),
      offsets,
      r.capacity,
    );
  }
  for (const b of plan.buffers) if (!plan.regions.some((r) => r.name === b.region)) throw new Error(`buffer ${b.name} is in unknown region ${b.region}`);
  plan.steps.forEach((s, i) => {
    const refs: [Ref | undefined, number][] =
      s.op === 'add'
        ? [[s.input1, s.size], [s.input2, s.size], [s.output, s.size]]
        : s.op === 'softmax'
          ? [[s.input, s.rows * s.rowSize], [s.output, s.rows * s.rowSize]]
          : s.op === 'concat'
            ? [[s.input, size(s.inDims)], [s.output, s.inDims.h * s.inDims.w * s.outC - (s.outC - s.inDims.c - s.offsetC)]]
            : [[s.input, size(s.inDims)], [s.output, size(s.outDims)], [s.scratch, s.scratchSize]];
    for (const [ref, bytes] of refs) {
      if (!ref) continue;
      const b = byName.get(ref.buffer);
      if (!b) throw new Error(`step ${i} (${s.layer}) uses unknown buffer ${ref.buffer}`);
      if (i < b.firstUse || i > b.lastUse) throw new Error(`step ${i} (${s.layer}) uses ${b.name} outside its lifetime ${b.firstUse}-${b.lastUse}`);
      if (ref.offset < 0 || ref.offset + bytes > b.size) throw new Error(`step ${i} (${s.layer}) accesses ${b.name} at [${ref.offset}, ${ref.offset + bytes}) beyond its ${b.size} bytes`);
    }
  });
}
