/**
 * Runs a MemoryPlan's steps with the golden kernels on simulated RAM regions, exactly as the firmware will:
 * same offsets, same dims per call, scratch filled with junk before each call. Before every step, every byte of
 * the arena that no buffer holds live at that step (live pieces included) is overwritten with junk too, so a
 * plan that reads a row after its lifetime, or before another band wrote it, produces wrong bytes here, before
 * any firmware is built.
 */
import { gapAccumulateS8, gapFinishS8 } from '../golden/gap-fused.js';
import { concatS8X, maxS8 } from '../golden/kernels.js';
import { addCall, convCall, DEFAULT_ENGINE, poolCall, softmaxCall, type Engine } from '../golden/run.js';
import type { QModel } from '../quantize/types.js';
import { poolWindow, type LivePiece, type MemoryPlan, type Ref } from './types.js';

/** Per step and region: the merged byte ranges some buffer holds live. */
function liveRanges(plan: MemoryPlan): Map<string, [number, number][]>[] {
  const starts = new Map<number, { region: string; from: number; to: number; last: number }[]>();
  for (const b of plan.buffers) {
    const pieces: LivePiece[] = b.live ?? [{ first: b.firstUse, last: b.lastUse, start: 0, end: b.size }];
    for (const p of pieces) {
      if (p.end <= p.start) continue;
      const list = starts.get(p.first) ?? [];
      list.push({ region: b.region, from: b.offset + p.start, to: b.offset + p.end, last: p.last });
      starts.set(p.first, list);
    }
  }
  let active: { region: string; from: number; to: number; last: number }[] = [];
  const out: Map<string, [number, number][]>[] = [];
  for (let i = 0; i < plan.steps.length; i++) {
    active = active.filter((a) => a.last >= i).concat(starts.get(i) ?? []);
    const perRegion = new Map<string, [number, number][]>();
    for (const a of active) {
      const list = perRegion.get(a.region) ?? [];
      list.push([a.from, a.to]);
      perRegion.set(a.region, list);
    }
    for (const list of perRegion.values()) list.sort((x, y) => x[0] - y[0]);
    out.push(perRegion);
  }
  return out;
}

/** int32 values in simulated RAM, little-endian as on Cortex-M. */
function readI32(bytes: Int8Array, n: number): Int32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 4 * n);
  return Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i, true));
}
function writeI32(bytes: Int8Array, values: Int32Array): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 4 * values.length);
  values.forEach((x, i) => v.setInt32(4 * i, x, true));
}

export interface ExecuteOptions {
  /** Called for every fetch step of a streamed input (the rows the application is asked for). */
  onFetch?: (step: number, first: number, last: number) => void;
  /** Called after every step with the number of steps done (a progress bar). */
  onStep?: (done: number) => void;
  /** The kernels the conv and pool calls run on (default: the golden model's default engine). */
  engine?: Engine;
}

export function executePlan(model: QModel, plan: MemoryPlan, input: Int8Array, opts: ExecuteOptions = {}): Record<string, Int8Array> {
  const engine = opts.engine ?? DEFAULT_ENGINE;
  const mem: Record<string, Int8Array> = {};
  for (const r of plan.regions) mem[r.name] = new Int8Array(Math.max(r.used, 1)).fill(0x5a);
  const buf = new Map(plan.buffers.map((b) => [b.name, b]));
  const view = (ref: Ref, bytes: number): Int8Array => {
    const b = buf.get(ref.buffer)!;
    const start = b.offset + ref.offset;
    return mem[b.region].subarray(start, start + bytes);
  };
  const layer = new Map(model.layers.map((l) => [l.name, l]));
  if (plan.input) view(plan.input, input.length).set(input);
  let junk = 1;
  const ranges = liveRanges(plan);
  for (const [index, s] of plan.steps.entries()) {
    // Dead memory gets a fresh junk byte before every step.
    const fill = (index * 37 + 91) & 0xff;
    for (const r of plan.regions) {
      const m = mem[r.name];
      let at = 0;
      for (const [from, to] of ranges[index].get(r.name) ?? []) {
        if (from > at) m.fill(fill, at, from);
        at = Math.max(at, to);
      }
      if (at < m.length) m.fill(fill, at);
    }
    const l = layer.get(s.layer)!;
    if ((s.op === 'conv' || s.op === 'maxpool' || s.op === 'avgpool') && s.scratch) {
      const sc = view(s.scratch, s.scratchSize);
      for (let i = 0; i < sc.length; i++) sc[i] = (junk = (junk * 1103515245 + 12345) >>> 0) >>> 24;
    }
    switch (s.op) {
      case 'conv': {
        if (l.op !== 'conv') throw new Error(`step for ${s.layer} is a conv but the layer is ${l.op}`);
        const out = convCall(l, view(s.input, s.inDims.h * s.inDims.w * s.inDims.c), s, engine);
        view(s.output, out.length).set(out);
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        if (l.op !== 'maxpool' && l.op !== 'avgpool') throw new Error(`step for ${s.layer} is a pool but the layer is ${l.op}`);
        if (s.axis && l.op !== 'maxpool') throw new Error(`step for ${s.layer} splits the window of a pool that is no max pool`);
        const out = poolCall({ ...l, ...poolWindow(l, s.axis) }, view(s.input, s.inDims.h * s.inDims.w * s.inDims.c), s, engine);
        view(s.output, out.length).set(out);
        break;
      }
      case 'concat': {
        const pixels = s.inDims.h * s.inDims.w;
        const input = view(s.input, pixels * s.inDims.c).slice();
        concatS8X({ input, inDims: s.inDims, output: view(s.output, pixels * s.outC), outC: s.outC, offsetC: s.offsetC });
        break;
      }
      case 'add': {
        if (l.op !== 'add') throw new Error(`step for ${s.layer} is an add but the layer is ${l.op}`);
        view(s.output, s.size).set(addCall(l, view(s.input1, s.size), view(s.input2, s.size)));
        break;
      }
      case 'softmax': {
        if (l.op !== 'softmax') throw new Error(`step for ${s.layer} is a softmax but the layer is ${l.op}`);
        const out = softmaxCall(l, view(s.input, s.rows * s.rowSize), s.rows, s.rowSize);
        view(s.output, out.length).set(out);
        break;
      }
      case 'gapacc': {
        if (l.op !== 'avgpool' || !l.requant) throw new Error(`step for ${s.layer} is a fused pool but the layer is no requantizing average pool`);
        const sum = s.first ? new Int32Array(s.c) : readI32(view(s.sum, 4 * s.c), s.c);
        gapAccumulateS8({ input: view(s.input, s.pixels * s.c), pixels: s.pixels, c: s.c, inputOffset: l.requant.inputOffset, sum, first: s.first });
        writeI32(view(s.sum, 4 * s.c), sum);
        break;
      }
      case 'gapfinish': {
        if (l.op !== 'avgpool' || !l.requant) throw new Error(`step for ${s.layer} is a fused pool but the layer is no requantizing average pool`);
        const r = l.requant;
        const out = gapFinishS8({ sum: readI32(view(s.sum, 4 * s.c), s.c), c: s.c, outputOffset: r.outputOffset, mult: r.mult, shift: r.shift, actMin: l.actMin, actMax: l.actMax });
        view(s.output, out.length).set(out);
        break;
      }
      case 'max': {
        view(s.output, s.size).set(maxS8(view(s.input1, s.size), view(s.input2, s.size)));
        break;
      }
      case 'fetch': {
        opts.onFetch?.(index, s.first, s.last);
        view(s.output, (s.last - s.first + 1) * s.rowBytes).set(input.subarray(s.first * s.rowBytes, (s.last + 1) * s.rowBytes));
        break;
      }
    }
    opts.onStep?.(index + 1);
  }
  const result: Record<string, Int8Array> = {};
  for (const [name, ref] of Object.entries(plan.outputs)) {
    const d = model.tensors[name].dims;
    result[name] = view(ref, d.h * d.w * d.c).slice();
  }
  return result;
}
