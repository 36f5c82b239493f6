/**
 * SqueezeNet graph builders (Iandola et al. 2016): v1.0, v1.1 and the simple/complex bypass variants.
 * Fire module: 1x1 squeeze -> ReLU -> {1x1 expand, 3x3 expand (pad 1)} -> ReLU -> channel concat.
 * Dropout after fire9 is the identity at inference and is not represented.
 */
import { UserError } from '../errors.js';
import type { Graph, GraphNode } from './ir.js';
import { samePad } from './ir.js';
import { inferShapes } from './shapes.js';

export const VARIANTS = [
  'v1.0',
  'v1.1',
  'v1.0-simple-bypass',
  'v1.0-complex-bypass',
  'v1.1-simple-bypass',
  'v1.1-complex-bypass',
] as const;
export type Variant = (typeof VARIANTS)[number];

export interface SqueezeNetOptions {
  variant: Variant;
  inputSize: number;
  classes: number;
  /** Append an int8 softmax after the global average pool (default true). */
  softmax?: boolean;
}

interface FireSpec {
  squeeze: number;
  expand1x1: number;
  expand3x3: number;
}

const FIRES: Record<number, FireSpec> = {
  2: { squeeze: 16, expand1x1: 64, expand3x3: 64 },
  3: { squeeze: 16, expand1x1: 64, expand3x3: 64 },
  4: { squeeze: 32, expand1x1: 128, expand3x3: 128 },
  5: { squeeze: 32, expand1x1: 128, expand3x3: 128 },
  6: { squeeze: 48, expand1x1: 192, expand3x3: 192 },
  7: { squeeze: 48, expand1x1: 192, expand3x3: 192 },
  8: { squeeze: 64, expand1x1: 256, expand3x3: 256 },
  9: { squeeze: 64, expand1x1: 256, expand3x3: 256 },
};

/** Per version: conv1 geometry and the fire modules after which a 3x3/2 max pool follows (0 = after conv1). */
const VERSIONS = {
  'v1.0': { conv1: { k: 7, c: 96 }, poolsAfter: [0, 4, 8] },
  'v1.1': { conv1: { k: 3, c: 64 }, poolsAfter: [0, 3, 5] },
};

export function isVariant(v: string): v is Variant {
  return (VARIANTS as readonly string[]).includes(v);
}

export function buildSqueezeNet(opts: SqueezeNetOptions): Graph {
  const { variant, inputSize, classes } = opts;
  if (!isVariant(variant)) {
    throw new UserError(`unknown SqueezeNet variant "${variant}"`, `use one of: ${VARIANTS.join(', ')}`);
  }
  if (!Number.isInteger(classes) || classes < 1 || classes > 100000) {
    throw new UserError(`class count ${classes} is not a positive integer`, 'pass e.g. --classes 1000');
  }
  const version = variant.startsWith('v1.0') ? VERSIONS['v1.0'] : VERSIONS['v1.1'];
  const bypass = variant.endsWith('complex-bypass') ? 'complex' : variant.endsWith('simple-bypass') ? 'simple' : 'none';
  const nodes: GraphNode[] = [];
  const pool = (name: string, input: string): string => {
    nodes.push({ op: 'maxpool', name, inputs: [input], output: name, kernel: [3, 3], stride: [2, 2], pad: samePad(0), ceil: true });
    return name;
  };

  nodes.push({
    op: 'conv',
    name: 'conv1',
    inputs: ['input'],
    output: 'conv1',
    kernel: [version.conv1.k, version.conv1.k],
    stride: [2, 2],
    pad: samePad(0),
    outChannels: version.conv1.c,
    relu: true,
  });
  let x = pool('pool1', 'conv1');
  let channels = version.conv1.c;

  for (let f = 2; f <= 9; f++) {
    const spec = FIRES[f];
    const p = `fire${f}`;
    const outChannels = spec.expand1x1 + spec.expand3x3;
    const fireInput = x;
    nodes.push({ op: 'conv', name: `${p}.squeeze`, inputs: [x], output: `${p}.squeeze`, kernel: [1, 1], stride: [1, 1], pad: samePad(0), outChannels: spec.squeeze, relu: true });
    nodes.push({ op: 'conv', name: `${p}.expand1x1`, inputs: [`${p}.squeeze`], output: `${p}.expand1x1`, kernel: [1, 1], stride: [1, 1], pad: samePad(0), outChannels: spec.expand1x1, relu: true });
    nodes.push({ op: 'conv', name: `${p}.expand3x3`, inputs: [`${p}.squeeze`], output: `${p}.expand3x3`, kernel: [3, 3], stride: [1, 1], pad: samePad(1), outChannels: spec.expand3x3, relu: true });
    nodes.push({ op: 'concat', name: `${p}.concat`, inputs: [`${p}.expand1x1`, `${p}.expand3x3`], output: `${p}.concat` });
    x = `${p}.concat`;
    // Bypass (paper, section 6): simple where channel counts match, a 1x1 conv on the bypass where they differ.
    if (bypass !== 'none') {
      if (channels === outChannels) {
        nodes.push({ op: 'add', name: `${p}.bypass`, inputs: [fireInput, x], output: `${p}.bypass`, relu: false });
        x = `${p}.bypass`;
      } else if (bypass === 'complex') {
        nodes.push({ op: 'conv', name: `${p}.bypass_conv`, inputs: [fireInput], output: `${p}.bypass_conv`, kernel: [1, 1], stride: [1, 1], pad: samePad(0), outChannels, relu: false });
        nodes.push({ op: 'add', name: `${p}.bypass`, inputs: [`${p}.bypass_conv`, x], output: `${p}.bypass`, relu: false });
        x = `${p}.bypass`;
      }
    }
    channels = outChannels;
    if (version.poolsAfter.includes(f)) x = pool(`pool${f}`, x);
  }

  nodes.push({ op: 'conv', name: 'conv10', inputs: [x], output: 'conv10', kernel: [1, 1], stride: [1, 1], pad: samePad(0), outChannels: classes, relu: true });
  nodes.push({ op: 'avgpool', name: 'pool10', inputs: ['conv10'], output: 'pool10', kernel: [0, 0], stride: [1, 1], pad: samePad(0), ceil: false, global: true });
  const outputs = ['pool10'];
  if (opts.softmax !== false) {
    nodes.push({ op: 'softmax', name: 'prob', inputs: ['pool10'], output: 'prob' });
    outputs.push('prob');
  }
  const graph: Graph = {
    name: `squeezenet-${variant}-${inputSize}-${classes}`,
    input: { name: 'input', dims: { h: inputSize, w: inputSize, c: 3 } },
    nodes,
    outputs,
    tensors: {},
  };
  return inferShapes(graph);
}
