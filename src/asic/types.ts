/**
 * The ASIC memory map: one table from which memory_map.json, the C header, the SystemVerilog package, the init
 * files, the testbench and the report are all rendered. Everything but `images` is plain JSON data
 * (see map-schema.ts for the documented JSON form).
 */
import type { ParamKind } from './profile.js';
import type { WeightDecoder } from './compress.js';

export type Precision = 'int8' | 'int4';
export type { ParamKind };

/** A run of whole words in one bank holding (part of) one section. */
export interface MapPiece {
  memory: string;
  bank: number;
  /** Word address inside the bank (what the macro's address port sees). */
  wordOffset: number;
  words: number;
  /** Byte address of the piece's first word in the system address map. */
  address: number;
  /** Bytes of the piece that hold content (a byte with one int4 and one pad nibble counts). */
  bytes: number;
  /** Exact content bits: element bits only, pad nibbles and padding bytes excluded. */
  contentBits: number;
  /** linear: offset of the piece's first byte in the section's byte stream. spread: 0. */
  streamOffset: number;
  /** spread: the output channels held here are first, first + step, ... (count of them). linear: all zero. */
  channelFirst: number;
  channelStep: number;
  channelCount: number;
}

export interface MapSection {
  id: number;
  layer: string;
  kind: ParamKind;
  memory: string;
  layout: 'linear' | 'spread';
  /** 4 (packed int4 weights), 8 (int8 weights, int8 shifts) or 32. */
  elementBits: number;
  elements: number;
  channels: number;
  channelElements: number;
  /**
   * Bits from one channel's data to the next one's. linear: channelElements * elementBits (the stream is the exact
   * array CMSIS-NN reads). spread: bits from channel c to channel c + banks inside one bank's piece.
   */
  channelStrideBits: number;
  /** Length of the section's byte stream (the CMSIS-NN array). */
  bytes: number;
  /** elements * elementBits. */
  contentBits: number;
  words: number;
  allocatedBits: number;
  paddingBits: number;
  /** Bank-local word offset and byte address of the first piece. */
  wordOffset: number;
  address: number;
  pieces: MapPiece[];
  /** FNV-1a over the section's byte stream (independent of the layout). */
  checksum: number;
  /**
   * Weights sections: how the stream decodes into the int8 weights the model runs (compress.ts): plain int8 / int4
   * (runBits 0, no codebook), a k-bit codebook, or zero-run sparse entries. Null for bias / multiplier / shift.
   */
  decoder: SectionDecoder | null;
}

export interface SectionDecoder extends WeightDecoder {
  /** FNV-1a over the decoded weights as int8 bytes (OHWI): what the golden model and the firmware use. */
  decodedChecksum: number;
}

/** Compressed weight storage of the map (null: the weights are stored as the plain int8 / int4 arrays). */
export interface MapCompression {
  /** Codebook index bits k (2^k shared int8 values per layer), or null. */
  codebookBits: number | null;
  sparse: boolean;
  /** Magnitude pruning applied before encoding (fraction per layer), 0 for none. */
  prune: number;
  /** Weights as decoded: elements, of which zeros. */
  weights: number;
  zeros: number;
  /** Bits of the plain int8 weight arrays, for comparison. */
  denseInt8Bits: number;
}

export interface MapLayer {
  index: number;
  name: string;
  outChannels: number;
  inChannels: number;
  kernel: [number, number];
  /** Section ids, in the order weights, bias, multiplier, shift. */
  sections: Record<ParamKind, number>;
  words: number;
  /**
   * FNV-1a over every byte of every word the layer's pieces occupy, padding included: sections in the order
   * weights, bias, multiplier, shift; pieces in order; words in ascending address; bytes in address order.
   * This is what the generated testbench computes from the init files.
   */
  checksum: number;
}

export interface BankUse {
  bank: number;
  address: number;
  capacityBits: number;
  /** One past the highest word holding parameters. */
  usedWords: number;
  contentBits: number;
  /** Allocated parameter words' bits that hold no content (alignment, channel padding, tails). */
  paddingBits: number;
  arenaBits: number;
  /** (content + arena) / capacity. */
  utilization: number;
  /** Init file name, for banks holding parameters. */
  initFile: string | null;
  /** FNV-1a over the whole bank image (every word, address order), as written to the init file. */
  checksum: number | null;
}

export interface MapMemory {
  id: number;
  name: string;
  kind: 'rom' | 'sram';
  wordBits: number;
  wordBytes: number;
  depth: number;
  banks: number;
  ports: number;
  base: number;
  bankStride: number;
  bankBytes: number;
  capacityBytes: number;
  layout: 'linear' | 'spread';
  holds: string[];
  /** Byte offset (from base, banks taken as one range) where the arena starts; null if no arena here. */
  arenaOffset: number | null;
  bankUse: BankUse[];
}

export interface ArenaRegion {
  memory: string;
  offset: number;
  address: number;
  capacity: number;
  used: number;
}

export interface ArenaBuffer {
  name: string;
  kind: string;
  tensor: string | null;
  memory: string;
  offset: number;
  size: number;
  address: number;
  bank: number;
  wordOffset: number;
}

export interface MapArena {
  strategy: string;
  peakBytes: number;
  regions: ArenaRegion[];
  buffers: ArenaBuffer[];
}

export interface MapTotals {
  weightsBits: number;
  biasBits: number;
  multiplierBits: number;
  shiftBits: number;
  /** All parameter content bits (elements x element bits). */
  contentBits: number;
  /** Parameter words allocated, times word width. */
  allocatedBits: number;
  paddingBits: number;
  arenaBits: number;
  /** Capacity of the memories that hold parameters. */
  paramCapacityBits: number;
  /** Capacity of every memory in the profile. */
  onDieBits: number;
}

export interface AsicMap {
  schema: 'sqzfw-asic-memory-map/2';
  generator: string;
  model: string;
  profile: string;
  precision: Precision;
  compression: MapCompression | null;
  byteOrder: 'little' | 'big';
  checksum: { algorithm: 'fnv1a32'; offset: number; prime: number };
  memories: MapMemory[];
  layers: MapLayer[];
  sections: MapSection[];
  arena: MapArena | null;
  totals: MapTotals;
  /** Bank images of memories that hold parameters: key `${memory}[${bank}]`. Not part of the JSON. */
  images: Map<string, Uint8Array>;
}

export const imageKey = (memory: string, bank: number): string => `${memory}[${bank}]`;
