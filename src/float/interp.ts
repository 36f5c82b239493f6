/**
 * Float reference interpreter (NHWC, OHWI weights). Feeds calibration and the float side of evaluation.
 */
import type { ConvNode, Dims, FloatModel, GraphNode } from '../graph/ir.js';

export type FloatTensors = Record<string, Float32Array>;

function conv(node: ConvNode, x: Float32Array, id: Dims, od: Dims, w: Float32Array, b: Float32Array): Float32Array {
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const cin = id.c;
  const out = new Float32Array(od.h * od.w * od.c);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - node.pad.top;
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - node.pad.left;
      const ob = (oy * od.w + ox) * od.c;
      for (let oc = 0; oc < od.c; oc++) {
        let sum = b[oc];
        for (let ky = 0; ky < kh; ky++) {
          const y = y0 + ky;
          if (y < 0 || y >= id.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const xx = x0 + kx;
            if (xx < 0 || xx >= id.w) continue;
            const ib = (y * id.w + xx) * cin;
            const fb = ((oc * kh + ky) * kw + kx) * cin;
            for (let ic = 0; ic < cin; ic++) sum += x[ib + ic] * w[fb + ic];
          }
        }
        out[ob + oc] = node.relu && sum < 0 ? 0 : sum;
      }
    }
  }
  return out;
}

function pool(node: GraphNode & { op: 'maxpool' | 'avgpool' }, x: Float32Array, id: Dims, od: Dims): Float32Array {
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const out = new Float32Array(od.h * od.w * od.c);
  for (let oy = 0; oy < od.h; oy++) {
    const y0 = oy * sh - node.pad.top;
    const ys = Math.max(0, y0);
    const ye = Math.min(y0 + kh, id.h);
    for (let ox = 0; ox < od.w; ox++) {
      const x0 = ox * sw - node.pad.left;
      const xs = Math.max(0, x0);
      const xe = Math.min(x0 + kw, id.w);
      for (let c = 0; c < id.c; c++) {
        let r = node.op === 'maxpool' ? -Infinity : 0;
        for (let y = ys; y < ye; y++) {
          for (let xx = xs; xx < xe; xx++) {
            const v = x[(y * id.w + xx) * id.c + c];
            r = node.op === 'maxpool' ? Math.max(r, v) : r + v;
          }
        }
        // Average over the clipped window (count_include_pad = false), as the int8 kernel does.
        out[(oy * od.w + ox) * od.c + c] = node.op === 'maxpool' ? r : r / ((ye - ys) * (xe - xs));
      }
    }
  }
  return out;
}

/** Runs the model on one HWC input; returns every tensor (the input included). */
export function runFloat(model: FloatModel, input: Float32Array): FloatTensors {
  const g = model.graph;
  const t: FloatTensors = { [g.input.name]: input };
  for (const node of g.nodes) {
    const id = g.tensors[node.inputs[0]];
    const od = g.tensors[node.output];
    const x = t[node.inputs[0]];
    switch (node.op) {
      case 'conv': {
        const p = model.weights[node.name];
        if (!p) throw new Error(`no weights for ${node.name}`);
        t[node.output] = conv(node, x, id, od, p.weights, p.bias);
        break;
      }
      case 'maxpool':
      case 'avgpool':
        t[node.output] = pool(node, x, id, od);
        break;
      case 'concat': {
        const out = new Float32Array(od.h * od.w * od.c);
        let off = 0;
        for (const name of node.inputs) {
          const c = g.tensors[name].c;
          const src = t[name];
          for (let p = 0; p < od.h * od.w; p++) out.set(src.subarray(p * c, p * c + c), p * od.c + off);
          off += c;
        }
        t[node.output] = out;
        break;
      }
      case 'add': {
        const y = t[node.inputs[1]];
        const out = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) out[i] = node.relu ? Math.max(0, x[i] + y[i]) : x[i] + y[i];
        t[node.output] = out;
        break;
      }
      case 'softmax': {
        const out = new Float32Array(x.length);
        const rows = od.h * od.w;
        for (let r = 0; r < rows; r++) {
          const row = x.subarray(r * od.c, (r + 1) * od.c);
          const m = Math.max(...row);
          let s = 0;
          for (let i = 0; i < od.c; i++) s += (out[r * od.c + i] = Math.exp(row[i] - m));
          for (let i = 0; i < od.c; i++) out[r * od.c + i] /= s;
        }
        t[node.output] = out;
        break;
      }
    }
  }
  return t;
}
