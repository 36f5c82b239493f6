/**
 * Compressed on-die weight storage: per-layer codebooks (Deep Compression's weight sharing) and
 * zero-run sparse encoding of pruned weights. Pure: no I/O.
 *
 * Codebook (k = 4..8): the layer's int8 weights (per-channel scales unchanged) take only 2^k distinct int8 values,
 * chosen by 1-D k-means on the layer's int8 weight histogram, solved exactly by dynamic programming over the sorted
 * distinct values (optimal contiguous clusters; centroids rounded to the nearest integer, which is the best integer
 * centre of a cluster under squared error). The compressed model's weights ARE the decoded values, so the golden
 * model, the firmware and the map all agree on them; storage is the 2^k int8 codebook plus k-bit indices.
 *
 * Pruning: per layer, the `prune` fraction of weights with the smallest float magnitude |q * scale[c]| is set to 0
 * (ties broken by position; weights already 0 count). Sparse storage then needs no zero value in the stream.
 *
 * Sparse (zero-run) stream: fixed-width entries {run: R bits, value: V bits}, entry = run | value << R. The decoder
 * emits `run` zeros, then the value (a k-bit codebook index, or an int8 when there is no codebook), so every entry
 * yields run + 1 weights. A run longer than 2^R - 1 is cut by an entry whose value is a zero (codebook: index 0
 * is reserved for 0 and the other 2^k - 1 entries are clustered over the non-zero weights). The decoder stops after
 * the layer's element count. R is chosen per layer (0..8) for the shortest stream; R = 0 is the dense stream, kept
 * for a layer with too few zeros for runs to pay.
 *
 * Every weights stream, coded or not, is one form for the decoder: [codebook: 2^k int8 bytes]
 * [entries packed LSB first: entry i at bits i * (R + V) .. of the little-endian bit stream]. Plain int8 is
 * R = 0, V = 8, no codebook; packed int4 is R = 0, V = 4 (signed); a dense codebook is R = 0, V = k.
 */
import type { QConv, QModel, QLayer } from '../quantize/types.js';
import { UserError, EXIT } from '../errors.js';

export interface CompressOptions {
  /** Codebook index bits k (4..8); absent: no codebook. */
  codebookBits?: number;
  /** Zero-run sparse encoding of the weights. */
  sparse?: boolean;
  /** Magnitude pruning: fraction (0..1) of each layer's weights set to zero before encoding. */
  prune?: number;
}

export const CODEBOOK_BITS_MIN = 4;
export const CODEBOOK_BITS_MAX = 8;
export const RUN_BITS_MAX = 8;

/** How one layer's weights stream decodes (see the file comment). Plain data. */
export interface WeightDecoder {
  /** 0: dense (every entry is one weight). */
  runBits: number;
  /** Bits of an entry's value: a codebook index, or a signed weight (8 or 4) without codebook. */
  valueBits: number;
  /** Codebook entries at the start of the stream (2^k), 0 without codebook. */
  codebookEntries: number;
  /** The codebook: int8 values, index order. */
  codebook: number[];
  /** Entries in the stream after the codebook. */
  entries: number;
  /** Byte offset of the first entry (= codebookEntries). */
  payloadOffset: number;
  /** entries * (runBits + valueBits). */
  payloadBits: number;
  /** Decoded weights (int8, OHWI): what the golden model and the firmware use. */
  elements: number;
}

export interface EncodedWeights {
  decoder: WeightDecoder;
  /** The section byte stream: codebook bytes then the packed entries (last byte zero-padded). */
  stream: Uint8Array;
}

export const isCompressed = (o: CompressOptions | undefined): boolean =>
  !!o && (o.codebookBits !== undefined || !!o.sparse || (o.prune !== undefined && o.prune > 0));

export function checkCompressOptions(o: CompressOptions): void {
  const k = o.codebookBits;
  if (k !== undefined && (!Number.isInteger(k) || k < CODEBOOK_BITS_MIN || k > CODEBOOK_BITS_MAX))
    throw new UserError(`--codebook-bits ${k} must be an integer from ${CODEBOOK_BITS_MIN} to ${CODEBOOK_BITS_MAX}`, 'Deep Compression used 8 (conv) and 5 (fc); try 6', EXIT.usage);
  if (o.prune !== undefined && !(o.prune >= 0 && o.prune < 1))
    throw new UserError(`--prune ${o.prune} must be a fraction from 0 to below 1`, 'e.g. --prune 0.5 zeroes half of each layer\'s weights (smallest magnitudes first)', EXIT.usage);
}

/** Zero the `fraction` of weights with the smallest |q * scale[c]| (ties: lower index first). */
export function pruneWeights(layer: QConv, fraction: number): Int8Array {
  const w = layer.weights;
  const n = w.length;
  const cout = layer.bias.length;
  const per = cout === 0 ? 0 : n / cout;
  const target = Math.floor(fraction * n);
  const out = w.slice();
  if (target <= 0) return out;
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) mag[i] = Math.abs(w[i]!) * (layer.weightScales[Math.floor(i / per)] ?? 1);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => mag[a]! - mag[b]! || a - b);
  for (let j = 0; j < target; j++) out[order[j]!] = 0;
  return out;
}

/**
 * Optimal 1-D k-means over integer values with counts (values sorted ascending, distinct): at most `clusters`
 * integer centres minimising sum count * (v - centre)^2. Returns the centres, ascending, and each value's cluster.
 */
export function kmeans1d(values: number[], counts: number[], clusters: number): { centres: number[]; assign: number[] } {
  const d = values.length;
  if (d === 0) return { centres: [], assign: [] };
  if (d <= clusters) return { centres: values.slice(), assign: values.map((_, i) => i) };
  const s0 = new Float64Array(d + 1);
  const s1 = new Float64Array(d + 1);
  const s2 = new Float64Array(d + 1);
  for (let i = 0; i < d; i++) {
    const c = counts[i]!;
    const v = values[i]!;
    s0[i + 1] = s0[i]! + c;
    s1[i + 1] = s1[i]! + c * v;
    s2[i + 1] = s2[i]! + c * v * v;
  }
  // Best integer centre of values[i..j] (inclusive) and its cost.
  const centre = (i: number, j: number): number => {
    const n = s0[j + 1]! - s0[i]!;
    return n > 0 ? Math.round((s1[j + 1]! - s1[i]!) / n) : values[i]!;
  };
  const cost = (i: number, j: number): number => {
    const n = s0[j + 1]! - s0[i]!;
    const a = s1[j + 1]! - s1[i]!;
    const c = centre(i, j);
    return s2[j + 1]! - s2[i]! - 2 * c * a + c * c * n;
  };
  // cost(i, j) tabulated once: the DP below looks each up `clusters` times.
  const table = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) table[i * d + j] = cost(i, j);
  // dp[m][j]: best cost of values[0..j] in m+1 clusters; from[m][j]: start of the last cluster.
  const dp: Float64Array[] = [];
  const from: Int32Array[] = [];
  dp.push(Float64Array.from({ length: d }, (_, j) => cost(0, j)));
  from.push(new Int32Array(d));
  for (let m = 1; m < clusters; m++) {
    const prev = dp[m - 1]!;
    const cur = new Float64Array(d).fill(Infinity);
    const fr = new Int32Array(d);
    for (let j = m; j < d; j++) {
      let best = Infinity;
      let at = m;
      for (let i = m; i <= j; i++) {
        const c = prev[i - 1]! + table[i * d + j]!;
        if (c < best) {
          best = c;
          at = i;
        }
      }
      cur[j] = best;
      fr[j] = at;
    }
    dp.push(cur);
    from.push(fr);
  }
  const bounds: [number, number][] = [];
  let j = d - 1;
  for (let m = clusters - 1; m >= 0; m--) {
    const i = m === 0 ? 0 : from[m]![j]!;
    bounds.unshift([i, j]);
    j = i - 1;
  }
  const centres = bounds.map(([a, b]) => centre(a, b));
  const assign = new Array<number>(d);
  bounds.forEach(([a, b], k) => {
    for (let i = a; i <= b; i++) assign[i] = k;
  });
  return { centres, assign };
}

/**
 * The layer's codebook: 2^bits int8 values. With `reserveZero`, entry 0 is 0 and the other 2^bits - 1 entries are
 * clustered over the non-zero weights; otherwise all weights are clustered. Unused entries repeat the last centre
 * (stored anyway: the table has a fixed size). Returns the codebook and each weight's index.
 */
export function layerCodebook(weights: Int8Array, bits: number, reserveZero: boolean): { codebook: number[]; index: Uint8Array } {
  const size = 1 << bits;
  const counts = new Map<number, number>();
  for (const v of weights) if (!(reserveZero && v === 0)) counts.set(v, (counts.get(v) ?? 0) + 1);
  const values = [...counts.keys()].sort((a, b) => a - b);
  const km = kmeans1d(values, values.map((v) => counts.get(v)!), reserveZero ? size - 1 : size);
  const base = reserveZero ? 1 : 0;
  const codebook = reserveZero ? [0, ...km.centres] : km.centres.slice();
  while (codebook.length < size) codebook.push(codebook.length > 0 ? codebook[codebook.length - 1]! : 0);
  const idxOf = new Map<number, number>();
  values.forEach((v, i) => idxOf.set(v, base + km.assign[i]!));
  const index = new Uint8Array(weights.length);
  for (let i = 0; i < weights.length; i++) index[i] = reserveZero && weights[i] === 0 ? 0 : idxOf.get(weights[i]!)!;
  return { codebook, index };
}

/** LSB-first bit packer. */
class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  bits = 0;
  put(value: number, width: number): void {
    for (let b = 0; b < width; b++) {
      this.acc |= ((value >>> b) & 1) << this.n;
      this.n++;
      if (this.n === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
    this.bits += width;
  }
  finish(): Uint8Array {
    const out = this.bytes.slice();
    if (this.n > 0) out.push(this.acc);
    return Uint8Array.from(out);
  }
}

/** Zero-run entries of a value sequence whose zero is `zero` (run <= 2^runBits - 1, see the file comment). */
function runEntries(values: ArrayLike<number>, zero: number, runBits: number): [number, number][] {
  const maxRun = (1 << runBits) - 1;
  const out: [number, number][] = [];
  let run = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const last = i === values.length - 1;
    if (v === zero && run < maxRun && !last) run++;
    else {
      out.push([run, v]);
      run = 0;
    }
  }
  return out;
}

/**
 * Encode a layer's (already decoded) int8 weights: a dense or sparse stream, with or without a codebook.
 * `codebook`/`index` come from layerCodebook (reserveZero when sparse). `int4`: packed int4 (dense only).
 */
export function encodeWeights(weights: Int8Array, o: { codebook?: { codebook: number[]; index: Uint8Array }; sparse?: boolean; int4?: boolean }): EncodedWeights {
  const cb = o.codebook;
  const valueBits = cb ? Math.log2(cb.codebook.length) : o.int4 ? 4 : 8;
  const symbols: ArrayLike<number> = cb ? cb.index : weights;
  const mask = (1 << valueBits) - 1;
  let runBits = 0;
  let entries: [number, number][];
  if (o.sparse) {
    let best: { r: number; e: [number, number][] } | null = null;
    for (let r = 0; r <= RUN_BITS_MAX; r++) {
      // r = 0: dense (every weight an entry), kept when a layer has too few zeros for runs to pay
      const e = r === 0 ? Array.from(symbols, (v) => [0, v] as [number, number]) : runEntries(symbols, 0, r);
      if (!best || e.length * (r + valueBits) < best.e.length * (best.r + valueBits)) best = { r, e };
    }
    runBits = best!.r;
    entries = best!.e;
  } else entries = Array.from(symbols, (v) => [0, v] as [number, number]);
  const w = new BitWriter();
  for (const [run, v] of entries) {
    if (runBits > 0) w.put(run, runBits);
    w.put(v & mask, valueBits);
  }
  const payload = w.finish();
  const cbBytes = cb ? Uint8Array.from(cb.codebook, (v) => v & 0xff) : new Uint8Array(0);
  const stream = new Uint8Array(cbBytes.length + payload.length);
  stream.set(cbBytes, 0);
  stream.set(payload, cbBytes.length);
  return {
    decoder: {
      runBits,
      valueBits,
      codebookEntries: cb ? cb.codebook.length : 0,
      codebook: cb ? cb.codebook.slice() : [],
      entries: entries.length,
      payloadOffset: cbBytes.length,
      payloadBits: w.bits,
      elements: weights.length,
    },
    stream,
  };
}

/** Decode a weights stream with its decoder description (what the SV decoder does; used by read-back and tests). */
export function decodeWeights(stream: Uint8Array, d: WeightDecoder): Int8Array {
  const out = new Int8Array(d.elements);
  let bit = d.payloadOffset * 8;
  const get = (width: number): number => {
    let v = 0;
    for (let b = 0; b < width; b++, bit++) {
      const byte = stream[bit >> 3];
      if (byte === undefined) throw new Error(`weights stream ends at byte ${bit >> 3} before ${d.elements} weights`);
      v |= ((byte >> (bit & 7)) & 1) << b;
    }
    return v;
  };
  const cb = d.codebookEntries > 0 ? Array.from(stream.subarray(0, d.codebookEntries), (b) => (b << 24) >> 24) : null;
  let n = 0;
  for (let e = 0; n < d.elements; e++) {
    if (e >= d.entries) throw new Error(`weights stream has ${d.entries} entries, which decode to fewer than ${d.elements} weights`);
    const run = d.runBits > 0 ? get(d.runBits) : 0;
    const raw = get(d.valueBits);
    n += run; // zeros are already in `out`
    if (n >= d.elements) throw new Error(`weights stream entry ${e} runs past ${d.elements} weights`);
    out[n++] = cb ? cb[raw]! : (raw << (32 - d.valueBits)) >> (32 - d.valueBits);
  }
  return out;
}

/** What compressModel did to one conv layer. */
export interface LayerCompression {
  layer: string;
  codebook: { codebook: number[]; index: Uint8Array } | null;
  /** Zero weights after pruning and clustering. */
  zeros: number;
  elements: number;
}

/**
 * Prune and cluster every conv layer of an int8 model. The result's weights are the decoded int8 values (bias,
 * multipliers and shifts unchanged: the per-channel scales stay those of the int8 model); `layers` keeps the
 * codebook indices for the encoder.
 */
export function compressModel(model: QModel, o: CompressOptions): { model: QModel; layers: Map<string, LayerCompression> } {
  checkCompressOptions(o);
  const layers = new Map<string, LayerCompression>();
  const out = model.layers.map((l: QLayer): QLayer => {
    if (l.op !== 'conv') return l;
    if (l.weightBits === 4) throw new UserError(`layer ${l.name} has int4 weights: codebooks and sparse storage apply to an int8 model`, 'drop --weights-budget/--precision int4 with --codebook-bits or --sparse');
    let weights = o.prune ? pruneWeights(l, o.prune) : l.weights;
    let codebook: LayerCompression['codebook'] = null;
    if (o.codebookBits !== undefined) {
      codebook = layerCodebook(weights, o.codebookBits, !!o.sparse);
      const decoded = new Int8Array(weights.length);
      for (let i = 0; i < weights.length; i++) decoded[i] = codebook.codebook[codebook.index[i]!]!;
      weights = decoded;
    }
    let zeros = 0;
    for (const v of weights) if (v === 0) zeros++;
    layers.set(l.name, { layer: l.name, codebook, zeros, elements: weights.length });
    return weights === l.weights ? l : { ...l, weights };
  });
  return { model: { ...model, layers: out }, layers };
}
