/**
 * The plain layer-by-layer schedule: one kernel call per layer on whole tensors, each tensor live from its
 * producer to its last consumer. The baseline the row-band planner is compared with.
 *
 * Concatenation: CMSIS-NN convolutions write dense NHWC, so an expand conv can write straight into its channel
 * slice of the concat tensor only when the slice is contiguous (a 1x1 spatial output). Otherwise each expand
 * output is copied into its slice with arm_concatenation_s8_x right after it is produced, so the temporary dies
 * at once and the second expand reuses its space.
 */
import type { Dims } from '../graph/ir.js';
import type { QLayer, QModel } from '../quantize/types.js';
import { layerConvScratchBytes, poolScratchBytes, type KernelPath } from './scratch.js';
import type { PlannedBuffer, Ref, Step } from './types.js';

const size = (d: Dims): number => d.h * d.w * d.c;

export interface Draft {
  steps: Step[];
  buffers: Map<string, { kind: PlannedBuffer['kind']; tensor?: string; size: number; first: number; last: number }>;
  loc: Map<string, Ref>;
}

export function buildPlainSteps(model: QModel, path: KernelPath): Draft {
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
        const bytes = layerConvScratchBytes(l, { inDims, kernel: l.kernel, stride: l.stride, padTop: l.pad.top, padLeft: l.pad.left, outDims }, path);
        const s = scratch(bytes);
        push({ op: 'conv', layer: l.name, input, inDims, output, outDims, padTop: l.pad.top, padLeft: l.pad.left, scratch: s, scratchSize: bytes }, [input], [output]);
        copyIntoConcat(l.output, l.name);
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const input = ref(l.inputs[0]);
        const output = ref(l.output);
        const bytes = poolScratchBytes(l, outDims.w, outDims.c, path);
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

