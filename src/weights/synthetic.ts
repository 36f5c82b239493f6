/**
 * Deterministic synthetic weights for demos and tests: He-normal conv weights (std sqrt(2 / fan_in)) and small
 * biases from a seeded PRNG, so activations neither vanish nor explode through the network. Same seed, same bytes.
 */
import type { FloatModel, FloatWeights, Graph } from '../graph/ir.js';
import { fillNormal, gaussian, mulberry32, normalStream } from '../util/random.js';

export function syntheticWeights(graph: Graph, seed = 1): FloatWeights {
  const weights: FloatWeights = {};
  graph.nodes.forEach((node, index) => {
    if (node.op !== 'conv') return;
    // One gaussian(mulberry32(...)) stream per layer: the weights, then the biases.
    const normal = normalStream((seed * 7919 + index * 104729) >>> 0);
    const cin = graph.tensors[node.inputs[0]].c;
    const fanIn = node.kernel[0] * node.kernel[1] * cin;
    const w = new Float32Array(node.outChannels * fanIn);
    fillNormal(normal, w, Math.sqrt(2 / fanIn));
    const b = new Float32Array(node.outChannels);
    fillNormal(normal, b, 0.05);
    weights[node.name] = { weights: w, bias: b };
  });
  return weights;
}

export const syntheticModel = (graph: Graph, seed = 1): FloatModel => ({ graph, weights: syntheticWeights(graph, seed) });

/** A deterministic test image in roughly [-1, 1]: smooth colour gradients, a few blobs and noise, HWC float. */
export function syntheticImage(h: number, w: number, c: number, seed = 7): Float32Array {
  const rnd = mulberry32(seed);
  const noise = gaussian(rnd);
  const blobs = Array.from({ length: 4 }, () => ({ y: rnd() * h, x: rnd() * w, r: (0.1 + rnd() * 0.3) * Math.min(h, w), v: rnd() * 2 - 1 }));
  const img = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let base = 0;
      for (const b of blobs) base += b.v * Math.exp(-((y - b.y) ** 2 + (x - b.x) ** 2) / (2 * b.r * b.r));
      for (let ch = 0; ch < c; ch++) {
        const grad = ((ch % 2 === 0 ? y / h : x / w) - 0.5) * (ch + 1) * 0.5;
        img[(y * w + x) * c + ch] = Math.max(-1, Math.min(1, base + grad + noise() * 0.1));
      }
    }
  }
  return img;
}

/**
 * n int8 values from mulberry32(seed): value i = (top 8 bits of the i-th 32-bit output) - 128. The demo firmware
 * generates the same bytes at run time (sqzfw_synthetic_input in firmware/runtime/sqzfw_synth.c), so a synthetic
 * input costs no flash.
 */
export function syntheticInt8Input(n: number, seed: number): Int8Array {
  const out = new Int8Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t = (t ^ (t >>> 14)) >>> 0;
    out[i] = (t >>> 24) - 128;
  }
  return out;
}
