/**
 * The real Caffe SqueezeNet v1.0 ONNX file in ../shared: structure as its card describes, the first layers against an
 * independent NCHW computation on the exact reference crops, and full logits against the reference logits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runFloat, runFloatBlocked, runFloatNaive } from '../src/float/interp.js';
import { decodeOnnx, loadModel } from '../src/import/index.js';
import { loadImageInput } from '../src/image/index.js';
import { required } from './helpers/require.js';

const SHARED = resolve(__dirname, '../../shared');
const ONNX = join(SHARED, 'models/squeezenet1.0-imagenet.onnx');
const have = required(`the real model ${ONNX}`, existsSync(ONNX));

describe.skipIf(!have)('real SqueezeNet v1.0 (Caffe, Deep Compression) from ../shared', () => {
  const load = () => loadModel(ONNX);

  test('graph matches the card: 26 convs with fused ReLU, ceil pools, conv10 1x1 pad 1 -> 15x15, GAP -> 1000 logits', () => {
    const { model, card } = load();
    const card2 = JSON.parse(readFileSync(ONNX.replace(/\.onnx$/, '.json'), 'utf8'));
    const g = model.graph;
    expect(g.input).toEqual({ name: 'data', dims: { h: 227, w: 227, c: 3 } });
    const convs = g.nodes.filter((n) => n.op === 'conv');
    expect(convs.map((n) => n.name)).toEqual(card2.model.layers.map((l: { name: string }) => l.name));
    for (const [i, l] of (card2.model.layers as { weight_shape_oihw: number[]; output_shape_chw: number[] }[]).entries()) {
      const n = convs[i];
      expect(n.op === 'conv' && n.relu).toBe(true);
      expect([n.op === 'conv' ? n.outChannels : 0, g.tensors[n.inputs[0]].c, ...(n.op === 'conv' ? n.kernel : [])]).toEqual(l.weight_shape_oihw);
      const d = g.tensors[n.output];
      expect([d.c, d.h, d.w]).toEqual(l.output_shape_chw);
    }
    const last = convs[convs.length - 1];
    expect(last.op === 'conv' && last.pad).toEqual({ top: 1, left: 1, bottom: 1, right: 1 });
    expect(g.nodes.filter((n) => n.op === 'maxpool').every((n) => n.op === 'maxpool' && n.ceil)).toBe(true);
    expect(g.outputs).toEqual(['pool_final']);
    expect(g.tensors.pool_final).toEqual({ h: 1, w: 1, c: 1000 });
    expect(card).toMatchObject({ channelOrder: 'BGR', pixelRange: 255, mean: [104, 117, 123], resize: { mode: 'shorter', size: 256 } });
  });

  test('conv1 + ReLU on the reference crop equals an NCHW computation with the file\'s OIHW weights', () => {
    const { model, card } = load();
    const onnx = decodeOnnx(readFileSync(ONNX));
    const wt = onnx.graph.initializers.find((t) => t.name === 'conv1.weight')!;
    const bt = onnx.graph.initializers.find((t) => t.name === 'conv1.bias')!;
    const W = new Float32Array(Uint8Array.from(wt.rawData).buffer);
    const B = new Float32Array(Uint8Array.from(bt.rawData).buffer);
    const crop = readFileSync(join(SHARED, 'models/ref-inputs/n01440764_tench.bgr227.u8'));
    const x = loadImageInput(join(SHARED, 'images/dev/n01440764_tench.JPEG'), card, model.graph.input.dims);
    // The model input is the crop minus the mean, BGR, HWC.
    for (let i = 0; i < x.length; i++) expect(x[i]).toBe(crop[i] - card.mean[i % 3]);
    const conv1 = runFloat(model, x).conv1;
    // NCHW reference at a few output positions and channels: out[o][oy][ox] = relu(b + sum W[o][c][ky][kx] * in[c][2oy+ky][2ox+kx])
    for (const [o, oy, ox] of [[0, 0, 0], [5, 10, 20], [95, 110, 110], [40, 55, 3], [17, 99, 64]]) {
      let s = B[o];
      for (let c = 0; c < 3; c++)
        for (let ky = 0; ky < 7; ky++)
          for (let kx = 0; kx < 7; kx++) s += W[((o * 3 + c) * 7 + ky) * 7 + kx] * (crop[((2 * oy + ky) * 227 + 2 * ox + kx) * 3 + c] - card.mean[c]);
      expect(conv1[(oy * 111 + ox) * 96 + o]).toBeCloseTo(Math.max(0, s), 3);
    }
  });

  test('logits of the reference images match ref-logits.json (and the fast kernels equal the plain loops)', () => {
    const { model, card } = load();
    const ref = JSON.parse(readFileSync(join(SHARED, 'models/squeezenet1.0-imagenet.ref-logits.json'), 'utf8'));
    const entries = Object.entries<{ logits: number[]; top5: number[] }>(ref.images).slice(0, 3);
    for (const [file, r] of entries) {
      const x = loadImageInput(join(SHARED, 'images/dev', file), card, model.graph.input.dims);
      const t = runFloat(model, x);
      const logits = t.pool_final;
      let worst = 0;
      for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(logits[i] - r.logits[i]));
      expect(worst, file).toBeLessThan(1e-4); // reference rounded to 5 decimals
      const top5 = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, 5);
      expect(top5).toEqual(r.top5);
      if (file === entries[0][0]) {
        // The float64 blocked kernel equals the plain loops bit for bit; the float32 fast engine stays within 1e-5 of
        // each tensor's largest magnitude.
        const naive = runFloatNaive(model, x);
        const blocked = runFloatBlocked(model, x);
        for (const k of Object.keys(naive)) {
          expect(Buffer.from(blocked[k].buffer).equals(Buffer.from(naive[k].buffer)), k).toBe(true);
          let max = 0;
          let diff = 0;
          for (let i = 0; i < naive[k].length; i++) {
            max = Math.max(max, Math.abs(naive[k][i]));
            diff = Math.max(diff, Math.abs(t[k][i] - naive[k][i]));
          }
          expect(diff, k).toBeLessThanOrEqual(1e-5 * max);
        }
      }
    }
  }, 60_000);
});
