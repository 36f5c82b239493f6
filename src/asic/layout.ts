/**
 * Layout: places every conv layer's weights / bias / multipliers / shifts into the profile's memories, maps the
 * planner's activation arena onto SRAM, checks capacities and builds the bank images. Pure: no I/O.
 *
 * linear memories: the banks form one range of banks * depth words, filled in layer order; a section starts at a
 *   word boundary (aligned to alignWords, counted inside the bank) and is the exact byte array CMSIS-NN reads
 *   (int8 OHWI, packed int4, int32 or int8 elements in the profile's byte order), split at bank ends.
 * spread memories: output channel c goes to bank c % banks, all banks starting the section at one common word
 *   offset so a single address reads `banks` channels at once. Weights: each channel in a slot of whole words
 *   (int4 channels packed on their own, from the low nibble). Bias / multiplier / shift: channel c of bank b is
 *   element floor(c / banks) of that bank's packed run.
 */
import type { QConv, QModel } from '../quantize/types.js';
import type { MemoryPlan, PlanRegion } from '../planner/types.js';
import { EXIT, UserError } from '../errors.js';
import {
  PARAM_KINDS,
  memoryBankBytes,
  memoryBankStride,
  memoryCapacityBytes,
  memoryWordBytes,
  type AsicMemory,
  type AsicProfile,
  type ParamKind,
} from './profile.js';
import { packInt4, quantizeInt4 } from './int4.js';
import { compressModel, encodeWeights, isCompressed, type CompressOptions, type EncodedWeights, type LayerCompression } from './compress.js';
import { fnv1a, FNV_OFFSET, FNV_PRIME } from './checksum.js';
import { generatorStamp } from './version.js';
import {
  imageKey,
  type ArenaBuffer,
  type ArenaRegion,
  type AsicMap,
  type BankUse,
  type MapCompression,
  type MapLayer,
  type MapMemory,
  type MapPiece,
  type MapSection,
  type Precision,
  type SectionDecoder,
} from './types.js';

export interface AsicOptions {
  /** Weight precision; default: the profile's weightPrecision. */
  precision?: Precision;
  /** The planner's arena plan for the regions from arenaRegions(); null/absent: no arena mapped. */
  plan?: MemoryPlan | null;
  /** Name written into the map; default: model.name. */
  modelName?: string;
  /** Codebooks, pruning, zero-run sparse weights (compress.ts); absent: plain int8 / int4 arrays. */
  compress?: CompressOptions;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** The conv layers of a model, the only ones with stored parameters. */
export const paramLayers = (model: QModel): QConv[] => model.layers.filter((l): l is QConv => l.op === 'conv');

/** Model used for the given precision (int4: weights requantized, see int4.ts). */
export const modelForPrecision = (model: QModel, precision: Precision): QModel =>
  precision === 'int4' ? quantizeInt4(model) : model;

/**
 * The model whose weights the map stores (decoded): int4-requantized for int4, pruned and clustered when
 * compressed. This is the model the golden model and the firmware must run to agree with the map.
 */
export function storedModel(model: QModel, precision: Precision, compress?: CompressOptions): { model: QModel; layers: Map<string, LayerCompression> | null } {
  const q = modelForPrecision(model, precision);
  if (!isCompressed(compress)) return { model: q, layers: null };
  if (precision === 'int4')
    throw new UserError('codebooks, pruning and sparse storage apply to int8 weights, not --precision int4', 'drop --precision int4 (a 4-bit codebook is --codebook-bits 4)', EXIT.usage);
  const c = compressModel(q, compress!);
  return { model: c.model, layers: c.layers };
}

const plainDecoder = (weights: Int8Array, bits: number): SectionDecoder => ({
  runBits: 0,
  valueBits: bits,
  codebookEntries: 0,
  codebook: [],
  entries: weights.length,
  payloadOffset: 0,
  payloadBits: weights.length * bits,
  elements: weights.length,
  decodedChecksum: fnv1a(new Uint8Array(weights.buffer, weights.byteOffset, weights.length)),
});

function elementBits(kind: ParamKind, precision: Precision, profile: AsicProfile): number {
  if (kind === 'weights') return precision === 'int4' ? 4 : 8;
  if (kind === 'shift') return profile.placement.shift.elementBytes * 8;
  return 32;
}

function writeElement(out: Uint8Array, at: number, value: number, bytes: number, big: boolean): void {
  for (let k = 0; k < bytes; k++) {
    const b = (value >>> (8 * k)) & 0xff;
    out[big ? at + bytes - 1 - k : at + k] = b;
  }
}

/** A section's byte stream: the array CMSIS-NN reads (weights), or the elements in the profile's byte order. */
export function sectionStream(layer: QConv, kind: ParamKind, precision: Precision, profile: AsicProfile): Uint8Array {
  const big = profile.byteOrder === 'big';
  if (kind === 'weights') {
    if (precision === 'int4') return packInt4(layer.weights);
    return new Uint8Array(layer.weights.buffer, layer.weights.byteOffset, layer.weights.length).slice();
  }
  const src = kind === 'bias' ? layer.bias : kind === 'multiplier' ? layer.multiplier : layer.shift;
  const eb = elementBits(kind, precision, profile) / 8;
  const out = new Uint8Array(src.length * eb);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (eb === 1 && (v < -128 || v > 127))
      throw new UserError(
        `layer ${layer.name}: shift ${v} of channel ${i} does not fit the profile's 1-byte shift elements`,
        'set placement.shift.elementBytes to 4 in the profile',
      );
    writeElement(out, i * eb, v, eb, big);
  }
  return out;
}

/** Bytes of one channel as stored in a spread slot. */
function channelBytes(layer: QConv, kind: ParamKind, precision: Precision, profile: AsicProfile, c: number, stream: Uint8Array): Uint8Array {
  const cout = layer.bias.length;
  if (kind === 'weights') {
    const per = layer.weights.length / cout;
    const slice = layer.weights.subarray(c * per, (c + 1) * per);
    return precision === 'int4' ? packInt4(slice) : new Uint8Array(slice.buffer, slice.byteOffset, slice.length);
  }
  const eb = elementBits(kind, precision, profile) / 8;
  return stream.subarray(c * eb, (c + 1) * eb);
}

interface Placed {
  section: MapSection;
  /** Per piece, its content bytes in address order starting at the piece's first word. */
  data: Uint8Array[];
}

interface MemState {
  mem: AsicMemory;
  /** linear: next free linear word (bank * depth + word). */
  ptr: number;
  /** spread: next free word per bank. */
  fill: number[];
  placed: Placed[];
}

interface ParamLayout {
  states: Map<string, MemState>;
  sections: MapSection[];
  placed: Placed[];
  layers: Omit<MapLayer, 'checksum'>[];
  compression: MapCompression | null;
}

function layoutParams(model: QModel, profile: AsicProfile, precision: Precision, compress?: CompressOptions): ParamLayout {
  const states = new Map<string, MemState>();
  for (const mem of profile.memories) states.set(mem.name, { mem, ptr: 0, fill: new Array<number>(mem.banks).fill(0), placed: [] });
  const sections: MapSection[] = [];
  const placed: Placed[] = [];
  const layers: Omit<MapLayer, 'checksum'>[] = [];
  const stored = storedModel(model, precision, compress);
  const qmodel = stored.model;
  const coded = !!stored.layers && (compress?.codebookBits !== undefined || !!compress?.sparse);

  for (const layer of paramLayers(qmodel)) {
    const cout = layer.bias.length;
    const ids = {} as Record<ParamKind, number>;
    let layerWords = 0;
    for (const kind of PARAM_KINDS) {
      const rule = profile.placement[kind];
      const st = states.get(rule.memory)!;
      const mem = st.mem;
      const wb = memoryWordBytes(mem);
      const align = rule.alignWords ?? profile.alignment.sectionWords;
      const eBits = elementBits(kind, precision, profile);
      const elements = kind === 'weights' ? layer.weights.length : cout;
      const chElems = elements / cout;
      let enc: EncodedWeights | null = null;
      if (kind === 'weights' && coded) {
        if (mem.layout !== 'linear')
          throw new UserError(
            `codebook and sparse weights need a linear weights memory: ${mem.name} of ASIC profile ${profile.name} is spread`,
            'use a profile whose weights memory has "layout": "linear" (e.g. asic-compressed or fpga-bram)',
          );
        enc = encodeWeights(layer.weights, { codebook: stored.layers!.get(layer.name)!.codebook ?? undefined, sparse: !!compress!.sparse });
      }
      const stream = enc ? enc.stream : sectionStream(layer, kind, precision, profile);
      const sectionBits = enc ? enc.decoder.payloadOffset * 8 + enc.decoder.payloadBits : elements * eBits;
      const decoder: SectionDecoder | null =
        kind !== 'weights'
          ? null
          : enc
            ? { ...enc.decoder, decodedChecksum: fnv1a(new Uint8Array(layer.weights.buffer, layer.weights.byteOffset, layer.weights.length)) }
            : plainDecoder(layer.weights, eBits);
      const pieces: MapPiece[] = [];
      const data: Uint8Array[] = [];
      let strideBits: number;
      const bankAddr = (bank: number, word: number): number => mem.base + bank * memoryBankStride(mem) + word * wb;

      if (mem.layout === 'linear') {
        strideBits = enc ? (enc.decoder.runBits > 0 ? 0 : chElems * enc.decoder.valueBits) : chElems * eBits;
        const words = ceilDiv(stream.length, wb);
        const alignLinear = (p: number): number => {
          const b = Math.floor(p / mem.depth);
          const w = alignUp(p % mem.depth, align);
          return w >= mem.depth ? (b + 1) * mem.depth : b * mem.depth + w;
        };
        let p = alignLinear(st.ptr);
        if (!mem.crossBanks && words <= mem.depth && Math.floor(p / mem.depth) !== Math.floor((p + words - 1) / mem.depth))
          p = (Math.floor(p / mem.depth) + 1) * mem.depth;
        let left = words;
        let streamOff = 0;
        while (left > 0) {
          const bank = Math.floor(p / mem.depth);
          const w = p % mem.depth;
          const n = Math.min(left, mem.depth - w);
          const bytes = Math.min(n * wb, stream.length - streamOff);
          // the stream ends in a pad nibble when an int4 tensor has an odd element count
          const contentBits = Math.min(bytes * 8, sectionBits - streamOff * 8);
          pieces.push({ memory: mem.name, bank, wordOffset: w, words: n, address: bankAddr(bank, w), bytes, contentBits, streamOffset: streamOff, channelFirst: 0, channelStep: 0, channelCount: 0 });
          data.push(stream.subarray(streamOff, streamOff + bytes));
          streamOff += bytes;
          p += n;
          left -= n;
        }
        st.ptr = p;
      } else {
        const lanes = mem.banks;
        const start = alignUp(Math.max(...st.fill), align);
        let slotBytes: number;
        if (kind === 'weights') {
          const chB = precision === 'int4' ? ceilDiv(chElems, 2) : chElems;
          slotBytes = ceilDiv(chB, wb) * wb;
        } else slotBytes = eBits / 8;
        strideBits = slotBytes * 8;
        for (let b = 0; b < lanes && b < cout; b++) {
          const count = Math.floor((cout - 1 - b) / lanes) + 1;
          const words = ceilDiv(count * slotBytes, wb);
          const buf = new Uint8Array(words * wb);
          let content = 0;
          for (let k = 0; k < count; k++) {
            const ch = channelBytes(layer, kind, precision, profile, b + k * lanes, stream);
            buf.set(ch, k * slotBytes);
            content += ch.length;
          }
          const contentBits = count * chElems * eBits;
          pieces.push({ memory: mem.name, bank: b, wordOffset: start, words, address: bankAddr(b, start), bytes: content, contentBits, streamOffset: 0, channelFirst: b, channelStep: lanes, channelCount: count });
          data.push(buf);
          st.fill[b] = start + words;
        }
      }
      const words = pieces.reduce((s, p) => s + p.words, 0);
      const section: MapSection = {
        id: sections.length,
        layer: layer.name,
        kind,
        memory: mem.name,
        layout: mem.layout,
        elementBits: eBits,
        elements,
        channels: cout,
        channelElements: chElems,
        channelStrideBits: strideBits,
        bytes: stream.length,
        contentBits: sectionBits,
        words,
        allocatedBits: words * mem.wordBits,
        paddingBits: words * mem.wordBits - sectionBits,
        wordOffset: pieces[0]?.wordOffset ?? 0,
        address: pieces[0]?.address ?? mem.base,
        pieces,
        checksum: fnv1a(stream),
        decoder,
      };
      sections.push(section);
      const pl = { section, data };
      placed.push(pl);
      st.placed.push(pl);
      ids[kind] = section.id;
      layerWords += words;
    }
    layers.push({
      index: layers.length,
      name: layer.name,
      outChannels: cout,
      inChannels: qmodel.tensors[layer.inputs[0] ?? '']?.dims.c ?? (cout === 0 ? 0 : layer.weights.length / cout / layer.kernel[0] / layer.kernel[1]),
      kernel: [layer.kernel[0], layer.kernel[1]],
      sections: ids,
      words: layerWords,
    });
  }
  let compression: MapCompression | null = null;
  if (stored.layers) {
    const ls = [...stored.layers.values()];
    compression = {
      codebookBits: compress?.codebookBits ?? null,
      sparse: !!compress?.sparse,
      prune: compress?.prune ?? 0,
      weights: ls.reduce((a, l) => a + l.elements, 0),
      zeros: ls.reduce((a, l) => a + l.zeros, 0),
      denseInt8Bits: ls.reduce((a, l) => a + l.elements * 8, 0),
    };
  }
  return { states, sections, placed, layers, compression };
}

/** Words of parameters a memory needs (linear: up to the fill pointer; spread: the fullest bank, in every bank). */
function paramNeedBytes(st: MemState): number {
  const wb = memoryWordBytes(st.mem);
  if (st.mem.layout === 'linear') return st.ptr * wb;
  return Math.max(0, ...st.fill) * st.mem.banks * wb;
}

/** Where the arena starts in an arena memory (bytes from its base), after any parameters. */
function arenaStart(st: MemState, profile: AsicProfile): number {
  return alignUp(paramNeedBytes(st), profile.alignment.arenaBytes);
}

/**
 * The regions to hand the planner: one per arena memory of the profile, named after the memory, with the bytes left
 * after the parameters placed there. Empty if the profile places no arena.
 */
export function arenaRegions(model: QModel, profile: AsicProfile, opts: { precision?: Precision; compress?: CompressOptions } = {}): PlanRegion[] {
  const precision = opts.precision ?? profile.weightPrecision;
  const lay = layoutParams(model, profile, precision, opts.compress);
  return (profile.placement.arena?.memories ?? []).map((name) => {
    const st = lay.states.get(name)!;
    return { name, capacity: Math.max(0, memoryCapacityBytes(st.mem) - arenaStart(st, profile)) };
  });
}

export interface Shortfall {
  memory: string;
  needBytes: number;
  capacityBytes: number;
  shortBytes: number;
  /** What needs the room. */
  holds: string[];
}

function holdsOf(profile: AsicProfile, name: string): string[] {
  const h: string[] = PARAM_KINDS.filter((k) => profile.placement[k].memory === name);
  if (profile.placement.arena?.memories.includes(name)) h.push('arena');
  return h;
}

function shortfalls(lay: ParamLayout, profile: AsicProfile, plan: MemoryPlan | null): Shortfall[] {
  const out: Shortfall[] = [];
  for (const mem of profile.memories) {
    const st = lay.states.get(mem.name)!;
    let need = paramNeedBytes(st);
    if (plan && profile.placement.arena?.memories.includes(mem.name)) {
      const used = plan.regions.find((r) => r.name === mem.name)?.used ?? 0;
      if (used > 0) need = arenaStart(st, profile) + used;
    }
    const cap = memoryCapacityBytes(mem);
    if (need > cap) out.push({ memory: mem.name, needBytes: need, capacityBytes: cap, shortBytes: need - cap, holds: holdsOf(profile, mem.name) });
  }
  return out;
}

const fmtBytes = (n: number): string => `${n.toLocaleString('en-US')} B`;

export interface ParamCost {
  precision: Precision;
  weightsBits: number;
  contentBits: number;
  /** Parameter words allocated (alignment and channel padding included) times word width. */
  allocatedBits: number;
  paddingBits: number;
  /** Memories too small for the parameters alone (the arena is not counted here). */
  shortfalls: Shortfall[];
}

/** What storing the parameters at one precision costs in this profile; never throws on shortfall. */
export function paramCost(model: QModel, profile: AsicProfile, precision: Precision, compress?: CompressOptions): ParamCost {
  const lay = layoutParams(model, profile, precision, compress);
  let allocated = 0;
  for (const st of lay.states.values()) {
    const words = st.mem.layout === 'linear' ? st.ptr : st.fill.reduce((a, f) => a + f, 0);
    allocated += words * st.mem.wordBits;
  }
  const content = lay.sections.reduce((a, s) => a + s.contentBits, 0);
  return {
    precision,
    weightsBits: lay.sections.filter((s) => s.kind === 'weights').reduce((a, s) => a + s.contentBits, 0),
    contentBits: content,
    allocatedBits: allocated,
    paddingBits: allocated - content,
    shortfalls: shortfalls(lay, profile, null),
  };
}

/** Per-memory shortfall for this model and profile (empty when everything fits). */
export function asicShortfalls(model: QModel, profile: AsicProfile, opts: AsicOptions = {}): Shortfall[] {
  const precision = opts.precision ?? profile.weightPrecision;
  return shortfalls(layoutParams(model, profile, precision, opts.compress), profile, opts.plan ?? null);
}

export function shortfallError(model: string, profile: AsicProfile, precision: Precision, list: Shortfall[]): UserError {
  const parts = list.map(
    (s) => `${s.memory} (${s.holds.join('+')}) short by ${fmtBytes(s.shortBytes)}: needs ${fmtBytes(s.needBytes)}, has ${fmtBytes(s.capacityBytes)}`,
  );
  return new UserError(
    `ASIC profile ${profile.name} is too small for ${model} at ${precision}: ${parts.join('; ')}`,
    precision === 'int8'
      ? 'add depth or banks to those memories, try --precision int4 or --codebook-bits K --sparse (linear weight memories), or pick a larger profile'
      : 'add depth or banks to those memories, or pick a larger profile',
    EXIT.doesNotFit,
  );
}

/** The memory map of `model` in `profile`: the one table every output is rendered from. Throws on shortfall. */
export function computeAsicMap(model: QModel, profile: AsicProfile, opts: AsicOptions = {}): AsicMap {
  const precision = opts.precision ?? profile.weightPrecision;
  const plan = opts.plan ?? null;
  const modelName = opts.modelName ?? model.name;
  const lay = layoutParams(model, profile, precision, opts.compress);
  const short = shortfalls(lay, profile, plan);
  if (short.length > 0) throw shortfallError(modelName, profile, precision, short);

  const arenaNames = profile.placement.arena?.memories ?? [];
  if (plan) {
    for (const r of plan.regions)
      if (!arenaNames.includes(r.name))
        throw new UserError(
          `the memory plan uses region "${r.name}", which is not an arena memory of ASIC profile ${profile.name}`,
          'plan with the regions from arenaRegions(model, profile)',
        );
  }

  // Bank images.
  const images = new Map<string, Uint8Array>();
  for (const st of lay.states.values()) {
    if (st.placed.length === 0) continue;
    const wb = memoryWordBytes(st.mem);
    for (let b = 0; b < st.mem.banks; b++) images.set(imageKey(st.mem.name, b), new Uint8Array(memoryBankBytes(st.mem)));
    for (const pl of st.placed)
      pl.section.pieces.forEach((p, i) => images.get(imageKey(p.memory, p.bank))!.set(pl.data[i]!, p.wordOffset * wb));
  }

  // Layer checksums: what the testbench reads back.
  const layers: MapLayer[] = lay.layers.map((l) => {
    let h = FNV_OFFSET;
    for (const kind of PARAM_KINDS) {
      const s = lay.sections[l.sections[kind]]!;
      for (const p of s.pieces) {
        const mem = lay.states.get(p.memory)!.mem;
        const wb = memoryWordBytes(mem);
        h = fnv1a(images.get(imageKey(p.memory, p.bank))!, h, p.wordOffset * wb, (p.wordOffset + p.words) * wb);
      }
    }
    return { ...l, checksum: h };
  });

  // Arena.
  let arena: AsicMap['arena'] = null;
  if (plan) {
    const regions: ArenaRegion[] = [];
    const buffers: ArenaBuffer[] = [];
    for (const r of plan.regions) {
      const st = lay.states.get(r.name)!;
      const off = arenaStart(st, profile);
      regions.push({ memory: r.name, offset: off, address: st.mem.base + off, capacity: memoryCapacityBytes(st.mem) - off, used: r.used });
    }
    for (const b of plan.buffers) {
      const st = lay.states.get(b.region)!;
      const off = arenaStart(st, profile) + b.offset;
      const bankBytes = memoryBankBytes(st.mem);
      buffers.push({
        name: b.name,
        kind: b.kind,
        tensor: b.tensor ?? null,
        memory: b.region,
        offset: off,
        size: b.size,
        address: st.mem.base + off,
        bank: Math.floor(off / bankBytes),
        wordOffset: Math.floor((off % bankBytes) / memoryWordBytes(st.mem)),
      });
    }
    arena = { strategy: plan.strategy, peakBytes: plan.peakBytes, regions, buffers };
  }

  // Memories and bank use.
  const memories: MapMemory[] = profile.memories.map((mem, id) => {
    const st = lay.states.get(mem.name)!;
    const wb = memoryWordBytes(mem);
    const bankBytes = memoryBankBytes(mem);
    const region = arena?.regions.find((r) => r.memory === mem.name);
    const bankUse: BankUse[] = [];
    for (let b = 0; b < mem.banks; b++) {
      let content = 0;
      for (const pl of st.placed) for (const p of pl.section.pieces) if (p.bank === b) content += p.contentBits;
      // Words up to the fill pointer count as allocated: gaps (alignment, skipped bank tails) are padding.
      const used = mem.layout === 'linear' ? Math.min(mem.depth, Math.max(0, st.ptr - b * mem.depth)) : st.fill[b]!;
      let arenaBytes = 0;
      if (region) {
        const lo = Math.max(region.offset, b * bankBytes);
        const hi = Math.min(region.offset + region.used, (b + 1) * bankBytes);
        arenaBytes = Math.max(0, hi - lo);
      }
      const img = images.get(imageKey(mem.name, b));
      bankUse.push({
        bank: b,
        address: mem.base + b * memoryBankStride(mem),
        capacityBits: bankBytes * 8,
        usedWords: used,
        contentBits: content,
        paddingBits: used * wb * 8 - content,
        arenaBits: arenaBytes * 8,
        utilization: (content / 8 + arenaBytes) / bankBytes,
        initFile: img ? initFileName(mem.name, b) : null,
        checksum: img ? fnv1a(img) : null,
      });
    }
    return {
      id,
      name: mem.name,
      kind: mem.kind,
      wordBits: mem.wordBits,
      wordBytes: wb,
      depth: mem.depth,
      banks: mem.banks,
      ports: mem.ports,
      base: mem.base,
      bankStride: memoryBankStride(mem),
      bankBytes,
      capacityBytes: memoryCapacityBytes(mem),
      layout: mem.layout,
      holds: holdsOf(profile, mem.name),
      arenaOffset: region ? region.offset : null,
      bankUse,
    };
  });

  const sumKind = (k: ParamKind): number => lay.sections.filter((s) => s.kind === k).reduce((a, s) => a + s.contentBits, 0);
  const paramMems = memories.filter((m) => m.holds.some((h) => h !== 'arena'));
  const totals = {
    weightsBits: sumKind('weights'),
    biasBits: sumKind('bias'),
    multiplierBits: sumKind('multiplier'),
    shiftBits: sumKind('shift'),
    contentBits: lay.sections.reduce((a, s) => a + s.contentBits, 0),
    allocatedBits: memories.reduce((a, m) => a + m.bankUse.reduce((x, u) => x + u.usedWords * m.wordBits, 0), 0),
    paddingBits: memories.reduce((a, m) => a + m.bankUse.reduce((x, u) => x + u.paddingBits, 0), 0),
    arenaBits: (arena?.regions ?? []).reduce((a, r) => a + r.used * 8, 0),
    paramCapacityBits: paramMems.reduce((a, m) => a + m.capacityBytes * 8, 0),
    onDieBits: memories.reduce((a, m) => a + m.capacityBytes * 8, 0),
  };

  return {
    schema: 'sqzfw-asic-memory-map/2',
    generator: generatorStamp(),
    model: modelName,
    profile: profile.name,
    precision,
    compression: lay.compression,
    byteOrder: profile.byteOrder,
    checksum: { algorithm: 'fnv1a32', offset: FNV_OFFSET, prime: FNV_PRIME },
    memories,
    layers,
    sections: lay.sections,
    arena,
    totals,
    images,
  };
}

export const initFileName = (memory: string, bank: number): string => `${memory}_b${bank}.memh`;
