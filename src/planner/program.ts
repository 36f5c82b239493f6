/**
 * A plan under construction: kernel-call steps, the buffers they use, and what each step reads and writes.
 * Lifetimes are not declared by hand but derived from the accesses: every byte range of a buffer is live from the
 * first step that touches it to the last one (LivePiece), so a whole tensor consumed band by band dies row by row
 * and a chain output written band by band is born row by row.
 */
import type { Dims } from '../graph/ir.js';
import type { LivePiece, PlannedBuffer, Ref, Step } from './types.js';

const size = (d: Dims): number => d.h * d.w * d.c;

export interface StepAccess {
  ref: Ref;
  bytes: number;
  write: boolean;
}

/** The byte ranges one step reads and writes (a concat's output range spans its whole strided slice). */
export function stepAccesses(s: Step): StepAccess[] {
  switch (s.op) {
    case 'conv':
    case 'maxpool':
    case 'avgpool': {
      const out: StepAccess[] = [
        { ref: s.input, bytes: size(s.inDims), write: false },
        { ref: s.output, bytes: size(s.outDims), write: true },
      ];
      if (s.scratch) out.push({ ref: s.scratch, bytes: s.scratchSize, write: true });
      return out;
    }
    case 'concat':
      return [
        { ref: s.input, bytes: size(s.inDims), write: false },
        { ref: s.output, bytes: s.inDims.h * s.inDims.w * s.outC - (s.outC - s.inDims.c - s.offsetC), write: true },
      ];
    case 'add':
      return [
        { ref: s.input1, bytes: s.size, write: false },
        { ref: s.input2, bytes: s.size, write: false },
        { ref: s.output, bytes: s.size, write: true },
      ];
    case 'softmax':
      return [
        { ref: s.input, bytes: s.rows * s.rowSize, write: false },
        { ref: s.output, bytes: s.rows * s.rowSize, write: true },
      ];
    case 'gapacc':
      return [
        { ref: s.input, bytes: s.pixels * s.c, write: false },
        ...(s.first ? [] : [{ ref: s.sum, bytes: 4 * s.c, write: false }]),
        { ref: s.sum, bytes: 4 * s.c, write: true },
      ];
    case 'gapfinish':
      return [
        { ref: s.sum, bytes: 4 * s.c, write: false },
        { ref: s.output, bytes: s.c, write: true },
      ];
    case 'fetch':
      return [{ ref: s.output, bytes: (s.last - s.first + 1) * s.rowBytes, write: true }];
    case 'max':
      return [
        { ref: s.input1, bytes: s.size, write: false },
        { ref: s.input2, bytes: s.size, write: false },
        { ref: s.output, bytes: s.size, write: true },
      ];
  }
}

export interface BufferDecl {
  name: string;
  kind: PlannedBuffer['kind'];
  tensor?: string;
  size: number;
}

interface Touch {
  step: number;
  start: number;
  end: number;
}

export class Program {
  readonly steps: Step[] = [];
  readonly buffers = new Map<string, BufferDecl>();
  /** Buffers outside the arena (the caller's input buffer): not counted in liveProfile. */
  readonly outside = new Set<string>();
  private readonly touches = new Map<string, Touch[]>();
  copyBytes = 0;
  /** MACs of the odd last pixel of conv calls with an odd pixel count (the kernels do two pixels at a time). */
  oddPixelMacs = 0;
  /** Weight bytes the 1x1 fast path sums again on every call (its input-offset term). */
  weightSumBytes = 0;

  declare(name: string, kind: PlannedBuffer['kind'], bytes: number, tensor?: string): void {
    if (this.buffers.has(name)) throw new Error(`buffer ${name} declared twice`);
    this.buffers.set(name, { name, kind, tensor, size: bytes });
    this.touches.set(name, []);
  }

  has(name: string): boolean {
    return this.buffers.has(name);
  }

  push(step: Step): number {
    const i = this.steps.length;
    this.steps.push(step);
    for (const a of stepAccesses(step)) this.touch(a.ref.buffer, i, a.ref.offset, a.ref.offset + a.bytes);
    return i;
  }

  /** Marks the whole buffer live at a step (the model input before the first step, outputs after the last). */
  pin(buffer: string, step: number): void {
    const b = this.buffers.get(buffer)!;
    this.touch(buffer, step, 0, b.size);
  }

  private touch(buffer: string, step: number, start: number, end: number): void {
    const list = this.touches.get(buffer);
    if (!list) throw new Error(`step ${step} uses undeclared buffer ${buffer}`);
    if (end > start) list.push({ step, start, end });
  }

  /** Live pieces of one buffer: byte ranges with the first and last step touching them, merged when equal. */
  pieces(buffer: string): LivePiece[] {
    const list = this.touches.get(buffer)!;
    if (list.length === 0) return [];
    const raw = new Float64Array(list.length * 2);
    list.forEach((t, i) => {
      raw[2 * i] = t.start;
      raw[2 * i + 1] = t.end;
    });
    raw.sort();
    let n = 0;
    for (let i = 0; i < raw.length; i++) if (i === 0 || raw[i] !== raw[n - 1]) raw[n++] = raw[i];
    const cuts = raw.subarray(0, n);
    const first = new Float64Array(n - 1).fill(Infinity);
    const last = new Float64Array(n - 1).fill(-Infinity);
    for (const t of list) {
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cuts[mid] < t.start) lo = mid + 1;
        else hi = mid;
      }
      for (let k = lo; k < n - 1 && cuts[k] < t.end; k++) {
        if (t.step < first[k]) first[k] = t.step;
        if (t.step > last[k]) last[k] = t.step;
      }
    }
    const out: LivePiece[] = [];
    for (let k = 0; k < n - 1; k++) {
      if (first[k] === Infinity) continue;
      const prev = out[out.length - 1];
      if (prev && prev.end === cuts[k] && prev.first === first[k] && prev.last === last[k]) prev.end = cuts[k + 1];
      else out.push({ first: first[k], last: last[k], start: cuts[k], end: cuts[k + 1] });
    }
    return out;
  }

  /** Most bytes live at each step (from the pieces), plus a constant for tensors living through. */
  liveProfile(extra = 0): number[] {
    const delta = new Array<number>(this.steps.length + 1).fill(0);
    for (const name of this.buffers.keys()) {
      if (this.outside.has(name)) continue;
      for (const p of this.pieces(name)) {
        delta[p.first] += p.end - p.start;
        delta[p.last + 1] -= p.end - p.start;
      }
    }
    const out: number[] = [];
    let live = extra;
    for (let i = 0; i < this.steps.length; i++) {
      live += delta[i];
      out.push(live);
    }
    return out;
  }
}
