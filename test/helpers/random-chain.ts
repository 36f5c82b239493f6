/**
 * Random graphs for the row-band planner's property tests: longer runs of windowed layers than random-graph.ts
 * (convs with rectangular kernels 1-5, strides 1-3 and asymmetric padding, also on 1-wide kernels, max and average pools with and without ceil
 * mode and padding, fire modules with and without bypass, two-branch concats and adds), so band borders land on
 * every kind of receptive field. Also random cuts of a model into chains.
 */
import type { Graph, GraphNode, Pad } from '../../src/graph/ir.js';
import { inferShapes } from '../../src/graph/shapes.js';
import type { QModel } from '../../src/quantize/types.js';
import { Net, type Halo, type Segment } from '../../src/planner/tiling.js';
import { randInt } from '../../src/util/random.js';
import { randomGraph } from './random-graph.js';

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[randInt(rnd, 0, xs.length - 1)];

function tryBuild(rnd: () => number, name: string): Graph | undefined {
  const nodes: GraphNode[] = [];
  let n = 0;
  const id = (p: string): string => `${p}${n++}`;
  const dims = { h: randInt(rnd, 6, 34), w: randInt(rnd, 3, 18), c: randInt(rnd, 1, 6) };
  let x = 'input';
  let channels = dims.c;
  const pad = (k: number, max = k - 1): Pad => ({ top: randInt(rnd, 0, max), left: randInt(rnd, 0, max), bottom: randInt(rnd, 0, max), right: randInt(rnd, 0, max) });
  const conv = (input: string, out: number, k: number | [number, number], s: number | [number, number], p: Pad, relu = true): string => {
    const nm = id('conv');
    const kernel: [number, number] = typeof k === 'number' ? [k, k] : k;
    const stride: [number, number] = typeof s === 'number' ? [s, s] : s;
    nodes.push({ op: 'conv', name: nm, inputs: [input], output: nm, kernel, stride, pad: p, outChannels: out, relu });
    return nm;
  };
  const blocks = randInt(rnd, 2, 8);
  for (let b = 0; b < blocks; b++) {
    const kind = randInt(rnd, 0, 6);
    if (kind <= 1) {
      // Rectangular kernels and strides; 1-high kernels with padding run a 1-row band on the kernels' 1xN path.
      const kh = pick(rnd, [1, 1, 2, 3, 3, 5]);
      const kw = pick(rnd, [1, 2, 3, 3, 5]);
      const c = pick(rnd, [2, 4, 4, 8, randInt(rnd, 2, 10)]);
      const ph = Math.min(kh - 1, 2) || (rnd() < 0.3 ? 1 : 0);
      const pw = Math.min(kw - 1, 2) || (rnd() < 0.3 ? 1 : 0);
      const p: Pad = { top: randInt(rnd, 0, ph), bottom: randInt(rnd, 0, ph), left: randInt(rnd, 0, pw), right: randInt(rnd, 0, pw) };
      x = conv(x, c, [kh, kw], [pick(rnd, [1, 1, 2, 3]), pick(rnd, [1, 1, 2])], p, rnd() < 0.8);
      channels = c;
    } else if (kind === 2) {
      const k = randInt(rnd, 2, 3);
      const nm = id('pool');
      const op = rnd() < 0.6 ? 'maxpool' : 'avgpool';
      const p = rnd() < 0.5 ? pad(k, 0) : pad(k, 1);
      nodes.push({ op, name: nm, inputs: [x], output: nm, kernel: [k, k], stride: [randInt(rnd, 1, 2), randInt(rnd, 1, 2)], pad: p, ceil: rnd() < 0.5, ...(op === 'avgpool' ? { global: false } : {}) } as GraphNode);
      x = nm;
    } else if (kind <= 4) {
      // Fire module, sometimes with a bypass.
      const sq = conv(x, randInt(rnd, 1, 6), 1, 1, pad(1, 0));
      const e1 = randInt(rnd, 1, 7);
      const e3 = randInt(rnd, 1, 7);
      const a = conv(sq, e1, 1, 1, pad(1, 0));
      const c3 = conv(sq, e3, 3, 1, { top: 1, left: 1, bottom: 1, right: 1 });
      const cat = id('concat');
      nodes.push({ op: 'concat', name: cat, inputs: [a, c3], output: cat });
      if (kind === 4 && rnd() < 0.7) {
        const src = channels === e1 + e3 && rnd() < 0.5 ? x : conv(x, e1 + e3, 1, 1, pad(1, 0), false);
        const add = id('add');
        nodes.push({ op: 'add', name: add, inputs: [src, cat], output: add, relu: rnd() < 0.5 });
        x = add;
      } else x = cat;
      channels = e1 + e3;
    } else if (kind === 5) {
      // Two windowed branches of the same output size, concatenated.
      const c1 = randInt(rnd, 1, 6);
      const c2 = randInt(rnd, 1, 6);
      const a = conv(x, c1, 3, 1, { top: 1, left: 1, bottom: 1, right: 1 });
      const bb = conv(x, c2, 5, 1, { top: 2, left: 2, bottom: 2, right: 2 });
      const cat = id('concat');
      nodes.push({ op: 'concat', name: cat, inputs: [bb, a], output: cat });
      x = cat;
      channels = c1 + c2;
    } else {
      // Residual: a 3x3 conv added to its input.
      const a = conv(x, channels, 3, 1, { top: 1, left: 1, bottom: 1, right: 1 }, false);
      const add = id('add');
      nodes.push({ op: 'add', name: add, inputs: [x, a], output: add, relu: rnd() < 0.5 });
      x = add;
    }
  }
  const outputs: string[] = [];
  if (rnd() < 0.6) {
    const cls = conv(x, randInt(rnd, 2, 9), 1, 1, rnd() < 0.2 ? { top: 1, left: 1, bottom: 1, right: 1 } : pad(1, 0));
    nodes.push({ op: 'avgpool', name: 'gap', inputs: [cls], output: 'gap', kernel: [0, 0], stride: [1, 1], pad: pad(1, 0), ceil: false, global: true });
    nodes.push({ op: 'softmax', name: 'prob', inputs: ['gap'], output: 'prob' });
    outputs.push('gap', 'prob');
  } else outputs.push(x);
  try {
    return inferShapes({ name, input: { name: 'input', dims }, nodes, outputs, tensors: {} });
  } catch {
    return undefined;
  }
}

/** A random graph for band tests (half from tryBuild, some from the SqueezeNet-like random-graph.ts). */
export function randomChainGraph(rnd: () => number, name = 'chain'): Graph {
  if (rnd() < 0.25) return randomGraph(rnd, name);
  for (;;) {
    const g = tryBuild(rnd, name);
    if (g) return g;
  }
}

/** A random cut of the model into valid chains with random band rows and halo policies. */
export function randomCut(rnd: () => number, model: QModel): Segment[] {
  const net = new Net(model);
  const n = model.layers.length;
  const segs: Segment[] = [];
  let start = 0;
  while (start < n) {
    const ends: number[] = [];
    for (let end = start + 1; end <= n; end++) if (net.validSegment(start, end)) ends.push(end);
    // Prefer long chains: they exercise the band logic most.
    const end = rnd() < 0.6 ? ends[ends.length - 1 - randInt(rnd, 0, Math.min(2, ends.length - 1))] : pick(rnd, ends);
    const h = net.dims(net.layers[end - 1].output).h;
    const halo: Halo = rnd() < 0.5 ? 'keep' : 'recompute';
    segs.push({ start, end, rows: randInt(rnd, 1, Math.max(1, Math.ceil(h / 2))), halo });
    start = end;
  }
  return segs;
}

/**
 * A graph whose one-row band calls take every conv path of arm_convolve_wrapper_s8: 1xN kernels on one input row
 * (arm_convolve_1_x_n_s8), 1x1 with and without stride, a 1x1 kernel with padding (generic path), 3x3 and 5x1.
 */
export function kernelPathGraph(name = 'paths'): Graph {
  const p = (top: number, left: number, bottom = top, right = left): Pad => ({ top, left, bottom, right });
  const nodes: GraphNode[] = [];
  const conv = (nm: string, input: string, out: number, kernel: [number, number], stride: [number, number], pad: Pad): string => {
    nodes.push({ op: 'conv', name: nm, inputs: [input], output: nm, kernel, stride, pad, outChannels: out, relu: true });
    return nm;
  };
  let x = conv('c3x3', 'input', 8, [3, 3], [1, 1], p(1, 1));
  x = conv('c1x3', x, 8, [1, 3], [1, 1], p(0, 1));
  x = conv('c1x5s2', x, 12, [1, 5], [1, 2], p(0, 2));
  x = conv('c1x1pad', x, 8, [1, 1], [1, 1], p(0, 1));
  x = conv('c5x1', x, 4, [5, 1], [1, 1], p(2, 0));
  x = conv('c1x1s2', x, 8, [1, 1], [2, 1], p(0, 0));
  x = conv('c1x1', x, 8, [1, 1], [1, 1], p(0, 0));
  nodes.push({ op: 'maxpool', name: 'mp', inputs: [x], output: 'mp', kernel: [2, 3], stride: [1, 2], pad: p(1, 1, 0, 0), ceil: true });
  x = conv('c1x3b', 'mp', 8, [1, 3], [1, 1], p(0, 1));
  return inferShapes({ name, input: { name: 'input', dims: { h: 13, w: 14, c: 4 } }, nodes, outputs: [x], tensors: {} });
}
