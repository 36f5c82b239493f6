/**
 * An independent NCHW reference interpreter for the NodeSpec lists of onnx-writer.ts: ONNX semantics written
 * straight from the operator docs, no shared code with src/ (layout transposes, padding and ceil mode included).
 */
import type { AttrValue, NodeSpec, TensorSpec } from './onnx-writer.js';

export interface NdArray {
  shape: number[];
  data: Float64Array;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const ints = (a: Record<string, AttrValue> | undefined, k: string): number[] | undefined => (a?.[k] && 'ints' in a[k] ? (a[k] as { ints: number[] }).ints : undefined);
const int = (a: Record<string, AttrValue> | undefined, k: string, d: number): number => (a?.[k] && 'i' in a[k] ? (a[k] as { i: number }).i : d);
const str = (a: Record<string, AttrValue> | undefined, k: string, d: string): string => (a?.[k] && 's' in a[k] ? (a[k] as { s: string }).s : d);

function windowParams(n: NodeSpec, x: NdArray, kernel: number[]) {
  const [, , H, W] = x.shape;
  const strides = ints(n.attrs, 'strides') ?? [1, 1];
  let pads = ints(n.attrs, 'pads') ?? [0, 0, 0, 0];
  const auto = str(n.attrs, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') pads = [0, 0, 0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const tot = [H, W].map((s, i) => Math.max(0, (Math.ceil(s / strides[i]) - 1) * strides[i] + kernel[i] - s));
    const head = tot.map((t) => (auto === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    pads = [head[0], head[1], tot[0] - head[0], tot[1] - head[1]];
  }
  const ceil = int(n.attrs, 'ceil_mode', 0) === 1;
  const outLen = (s: number, k: number, st: number, pa: number, pb: number): number => {
    if (!ceil) return Math.floor((s + pa + pb - k) / st) + 1;
    let o = Math.ceil((s + pa + pb - k) / st) + 1;
    if ((o - 1) * st >= s + pa) o--; // the last window must start inside the input or the head padding
    return o;
  };
  return { strides, pads, OH: outLen(H, kernel[0], strides[0], pads[0], pads[2]), OW: outLen(W, kernel[1], strides[1], pads[1], pads[3]) };
}

export function tensorValue(t: TensorSpec): NdArray {
  const data = Float64Array.from(t.ints ?? (t.floats as ArrayLike<number>) ?? []);
  return { shape: t.dims, data };
}

/** Runs the nodes in order on NCHW float input; returns every value. */
export function runReference(nodes: NodeSpec[], inits: TensorSpec[], inputs: Record<string, NdArray>, opset = 17): Record<string, NdArray> {
  const v: Record<string, NdArray> = { ...inputs };
  for (const t of inits) v[t.name] = tensorValue(t);
  for (const n of nodes) {
    const x = v[n.inputs[0]];
    let y: NdArray;
    switch (n.op) {
      case 'Constant': {
        const a = n.attrs!;
        y = 'value' in a ? tensorValue((a.value as { t: TensorSpec }).t) : { shape: [(a.value_ints as { ints: number[] }).ints.length], data: Float64Array.from((a.value_ints as { ints: number[] }).ints) };
        break;
      }
      case 'Identity':
      case 'Dropout':
        y = x;
        break;
      case 'Relu':
        y = { shape: x.shape, data: x.data.map((q) => Math.max(0, q)) };
        break;
      case 'Add': {
        const b = v[n.inputs[1]];
        y = { shape: x.shape, data: x.data.map((q, i) => q + b.data[i]) };
        break;
      }
      case 'Conv': {
        const w = v[n.inputs[1]];
        const b = n.inputs[2] ? v[n.inputs[2]] : undefined;
        const [, C, H, W] = x.shape;
        const [O, , KH, KW] = w.shape;
        const { strides, pads, OH, OW } = windowParams(n, x, [KH, KW]);
        const out = new Float64Array(O * OH * OW);
        for (let o = 0; o < O; o++)
          for (let oy = 0; oy < OH; oy++)
            for (let ox = 0; ox < OW; ox++) {
              let s = b ? b.data[o] : 0;
              for (let c = 0; c < C; c++)
                for (let ky = 0; ky < KH; ky++)
                  for (let kx = 0; kx < KW; kx++) {
                    const iy = oy * strides[0] - pads[0] + ky;
                    const ix = ox * strides[1] - pads[1] + kx;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    s += x.data[(c * H + iy) * W + ix] * w.data[((o * C + c) * KH + ky) * KW + kx];
                  }
              out[(o * OH + oy) * OW + ox] = s;
            }
        y = { shape: [1, O, OH, OW], data: out };
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const kernel = ints(n.attrs, 'kernel_shape')!;
        const [, C, H, W] = x.shape;
        const { strides, pads, OH, OW } = windowParams(n, x, kernel);
        const out = new Float64Array(C * OH * OW);
        for (let c = 0; c < C; c++)
          for (let oy = 0; oy < OH; oy++)
            for (let ox = 0; ox < OW; ox++) {
              let m = -Infinity;
              let s = 0;
              let cnt = 0;
              for (let ky = 0; ky < kernel[0]; ky++)
                for (let kx = 0; kx < kernel[1]; kx++) {
                  const iy = oy * strides[0] - pads[0] + ky;
                  const ix = ox * strides[1] - pads[1] + kx;
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  const q = x.data[(c * H + iy) * W + ix];
                  m = Math.max(m, q);
                  s += q;
                  cnt++;
                }
              out[(c * OH + oy) * OW + ox] = n.op === 'MaxPool' ? m : s / cnt;
            }
        y = { shape: [1, C, OH, OW], data: out };
        break;
      }
      case 'GlobalAveragePool': {
        const [, C, H, W] = x.shape;
        const out = new Float64Array(C);
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let i = 0; i < H * W; i++) s += x.data[c * H * W + i];
          out[c] = s / (H * W);
        }
        y = { shape: [1, C, 1, 1], data: out };
        break;
      }
      case 'Concat': {
        const parts = n.inputs.map((i) => v[i]);
        const rank = parts[0].shape.length;
        let axis = int(n.attrs, 'axis', 1);
        if (axis < 0) axis += rank;
        if (axis !== 1) throw new Error('reference: concat axis 1 only');
        const inner = size(parts[0].shape.slice(2));
        const C = parts.reduce((s, p) => s + p.shape[1], 0);
        const out = new Float64Array(C * inner);
        let off = 0;
        for (const p of parts) {
          out.set(p.data, off * inner);
          off += p.shape[1];
        }
        y = { shape: [1, C, ...parts[0].shape.slice(2)], data: out };
        break;
      }
      case 'Softmax': {
        const rank = x.shape.length;
        let axis = int(n.attrs, 'axis', opset >= 13 ? -1 : 1);
        if (axis < 0) axis += rank;
        const out = new Float64Array(x.data.length);
        if (opset < 13 || rank === 2) {
          // [N, rest] coerced: softmax over everything from axis on.
          const inner = size(x.shape.slice(axis));
          for (let r = 0; r < x.data.length / inner; r++) {
            const row = x.data.subarray(r * inner, (r + 1) * inner);
            const m = Math.max(...row);
            const e = row.map((q) => Math.exp(q - m));
            const s = e.reduce((a, b) => a + b, 0);
            out.set(e.map((q) => q / s), r * inner);
          }
        } else {
          const [, C, H, W] = x.shape;
          if (axis !== 1) throw new Error('reference: softmax axis 1 only');
          for (let p = 0; p < H * W; p++) {
            let m = -Infinity;
            for (let c = 0; c < C; c++) m = Math.max(m, x.data[c * H * W + p]);
            let s = 0;
            for (let c = 0; c < C; c++) s += Math.exp(x.data[c * H * W + p] - m);
            for (let c = 0; c < C; c++) out[c * H * W + p] = Math.exp(x.data[c * H * W + p] - m) / s;
          }
        }
        y = { shape: x.shape, data: out };
        break;
      }
      case 'Flatten': {
        let axis = int(n.attrs, 'axis', 1);
        if (axis < 0) axis += x.shape.length;
        y = { shape: [size(x.shape.slice(0, axis)), size(x.shape.slice(axis))], data: x.data };
        break;
      }
      case 'Reshape': {
        const target = Array.from(v[n.inputs[1]].data);
        const shape = target.map((d, i) => (d === 0 ? x.shape[i] : d));
        const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        y = { shape: shape.map((d) => (d === -1 ? x.data.length / known : d)), data: x.data };
        break;
      }
      default:
        throw new Error(`reference: no ${n.op}`);
    }
    v[n.outputs[0]] = y;
  }
  return v;
}

/** NCHW (batch 1) -> NHWC float32, the layout sqzfw runs. */
export function nchwToNhwc(a: NdArray): Float32Array {
  if (a.shape.length === 2) return Float32Array.from(a.data);
  const [, C, H, W] = a.shape;
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[(y * W + x) * C + c] = a.data[(c * H + y) * W + x];
  return out;
}

export function randomInput(shape: number[], seed: number): NdArray {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return { shape, data: Float64Array.from({ length: size(shape) }, () => rnd() * 2 - 1) };
}
