/** Random small graphs built from the ops SqueezeNet uses, for property tests of the planner and emitter. */
import type { Graph, GraphNode } from '../../src/graph/ir.js';
import { samePad } from '../../src/graph/ir.js';
import { inferShapes, windowOut } from '../../src/graph/shapes.js';
import { randInt } from '../../src/util/random.js';

export function randomGraph(rnd: () => number, name = 'random'): Graph {
  const size = randInt(rnd, 9, 23);
  const inW = size + randInt(rnd, -2, 2);
  const nodes: GraphNode[] = [];
  let x = 'input';
  let h = size;
  let w = inW;
  let n = 0;
  const id = (p: string): string => `${p}${n++}`;
  const conv = (input: string, out: number, k: number, s: number, p: number, relu = true): string => {
    const nm = id('conv');
    nodes.push({ op: 'conv', name: nm, inputs: [input], output: nm, kernel: [k, k], stride: [s, s], pad: samePad(p), outChannels: out, relu });
    return nm;
  };
  // Stem: a strided conv of random kernel.
  const k0 = [1, 3, 5, 7][randInt(rnd, 0, 3)];
  const s0 = randInt(rnd, 1, 2);
  const p0 = randInt(rnd, 0, Math.floor(k0 / 2));
  x = conv(x, randInt(rnd, 3, 12), k0, s0, p0);
  h = windowOut(h, k0, s0, p0, p0, false);
  w = windowOut(w, k0, s0, p0, p0, false);
  const blocks = randInt(rnd, 1, 4);
  for (let b = 0; b < blocks; b++) {
    const choice = randInt(rnd, 0, 3);
    if (choice === 0 && Math.min(h, w) >= 3) {
      const ceil = rnd() < 0.7;
      const nm = id('pool');
      nodes.push({ op: 'maxpool', name: nm, inputs: [x], output: nm, kernel: [3, 3], stride: [2, 2], pad: samePad(0), ceil });
      x = nm;
      h = windowOut(h, 3, 2, 0, 0, ceil);
      w = windowOut(w, 3, 2, 0, 0, ceil);
    } else {
      // Fire module, optionally with a bypass.
      const sq = conv(x, randInt(rnd, 2, 8), 1, 1, 0);
      const e1 = conv(sq, randInt(rnd, 2, 9), 1, 1, 0);
      const e3 = conv(sq, randInt(rnd, 2, 9), 3, 1, 1);
      const cat = id('concat');
      nodes.push({ op: 'concat', name: cat, inputs: [e1, e3], output: cat });
      if (choice === 3) {
        const proj = conv(x, -1, 1, 1, 0, false); // out channels fixed below
        const add = id('add');
        nodes.push({ op: 'add', name: add, inputs: [proj, cat], output: add, relu: rnd() < 0.5 });
        x = add;
      } else x = cat;
    }
  }
  const cls = id('conv');
  nodes.push({ op: 'conv', name: cls, inputs: [x], output: cls, kernel: [1, 1], stride: [1, 1], pad: samePad(rnd() < 0.3 ? 1 : 0), outChannels: randInt(rnd, 2, 12), relu: true });
  nodes.push({ op: 'avgpool', name: 'gap', inputs: [cls], output: 'gap', kernel: [0, 0], stride: [1, 1], pad: samePad(0), ceil: false, global: true });
  nodes.push({ op: 'softmax', name: 'prob', inputs: ['gap'], output: 'prob' });
  // Fix projection convs' channel counts to their add partner (the concat).
  for (const nd of nodes) {
    if (nd.op !== 'add') continue;
    const proj = nodes.find((p) => p.output === nd.inputs[0]);
    const cat = nodes.find((p) => p.output === nd.inputs[1]);
    if (proj?.op === 'conv' && cat?.op === 'concat') {
      proj.outChannels = cat.inputs.map((i) => (nodes.find((p) => p.output === i) as { outChannels: number }).outChannels).reduce((a, b) => a + b, 0);
    }
  }
  return inferShapes({ name, input: { name: 'input', dims: { h: size, w: inW, c: randInt(rnd, 1, 5) } }, nodes, outputs: ['gap', 'prob'], tensors: {} });
}
