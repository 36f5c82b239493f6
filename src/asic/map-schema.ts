/**
 * The documented schema of memory_map.json (`schema: "sqzfw-asic-memory-map/2"`). The zod schema below is the
 * source: tests parse every generated memory_map.json with it, and `memory_map.schema.json` (JSON Schema 2020-12,
 * with these descriptions) is written next to every map.
 */
import { z } from 'zod/v4';

const u32 = z.number().int().min(0).max(2 ** 32 - 1);
const count = z.number().int().min(0);

const piece = z
  .object({
    memory: z.string().describe('Memory name.'),
    bank: count.describe('Bank (macro instance) index.'),
    wordOffset: count.describe('Word address inside the bank: what the macro address port sees.'),
    words: count.describe('Whole words of the piece.'),
    address: u32.describe('System byte address of the first word.'),
    bytes: count.describe('Bytes of the piece holding content (a byte with an int4 and a pad nibble counts).'),
    contentBits: count.describe('Exact content bits: elements x element bits, padding excluded.'),
    streamOffset: count.describe('linear: offset of the first byte in the section byte stream. spread: 0.'),
    channelFirst: count.describe('spread: first output channel held (then every channelStep-th). linear: 0.'),
    channelStep: count.describe('spread: the number of banks. linear: 0.'),
    channelCount: count.describe('spread: channels held. linear: 0.'),
  })
  .strict();

const kind = z.enum(['weights', 'bias', 'multiplier', 'shift']);

const decoder = z
  .object({
    runBits: count.describe('Bits of the zero-run field of an entry; 0: dense (every entry is one weight).'),
    valueBits: count.describe('Bits of the value field: a codebook index, or (no codebook) a signed weight, 8 or 4.'),
    codebookEntries: count.describe('int8 codebook entries at the start of the stream (2^k), 0 without codebook.'),
    codebook: z.array(z.number().int().min(-128).max(127)).describe('The codebook, index order (sparse: entry 0 is the zero).'),
    entries: count.describe('Entries after the codebook.'),
    payloadOffset: count.describe('Byte offset of the first entry in the section stream (= codebookEntries).'),
    payloadBits: count.describe('entries x (runBits + valueBits); entry i starts at bit payloadOffset * 8 + i * (runBits + valueBits), LSB first.'),
    elements: count.describe('Weights the stream decodes to (OHWI int8).'),
    decodedChecksum: u32.describe('FNV-1a 32 over the decoded weights as int8 bytes: what the golden model and the firmware use.'),
  })
  .strict()
  .describe(
    'How a weights stream decodes: an entry is run | value << runBits; it yields run zeros, then the value (codebook[value], or the value sign-extended); decoding stops after elements weights.',
  );

const section = z
  .object({
    id: count,
    layer: z.string(),
    kind,
    memory: z.string(),
    layout: z.enum(['linear', 'spread']),
    elementBits: z.union([z.literal(4), z.literal(8), z.literal(32)]).describe('4: packed int4 weights (low nibble first); 8: int8 (codebook and sparse weights: the decoded width); 32: int32.'),
    elements: count,
    channels: count.describe('Output channels.'),
    channelElements: count.describe('Elements per output channel.'),
    channelStrideBits: count.describe(
      'linear: bits from channel c to c+1 in the stream. spread: bits from channel c to c+banks inside a bank piece (weights: whole-word slots).',
    ),
    bytes: count.describe('Length of the section byte stream: the exact array CMSIS-NN reads (OHWI int8, packed int4, int32/int8 elements in the map byte order).'),
    contentBits: count.describe('elements x elementBits; codebook / sparse weights: codebook bits + payload bits.'),
    words: count.describe('Words allocated over all pieces.'),
    allocatedBits: count,
    paddingBits: count,
    wordOffset: count.describe('Bank-local word offset of the first piece.'),
    address: u32.describe('Byte address of the first piece.'),
    pieces: z.array(piece),
    checksum: u32.describe('FNV-1a 32 over the section byte stream.'),
    decoder: decoder.nullable().describe('Weights sections: how the stream decodes; null for bias, multiplier and shift.'),
  })
  .strict();

const layer = z
  .object({
    index: count,
    name: z.string(),
    outChannels: count,
    inChannels: count,
    kernel: z.tuple([count, count]),
    sections: z.object({ weights: count, bias: count, multiplier: count, shift: count }).strict().describe('Section ids.'),
    words: count,
    checksum: u32.describe(
      'FNV-1a 32 over every byte of every word of the layer pieces (padding included): sections weights, bias, multiplier, shift; pieces in order; words ascending; bytes in address order. The generated testbench prints the same value.',
    ),
  })
  .strict();

const bankUse = z
  .object({
    bank: count,
    address: u32,
    capacityBits: count,
    usedWords: count.describe('Words up to the last parameter word (gaps count as padding).'),
    contentBits: count,
    paddingBits: count,
    arenaBits: count,
    utilization: z.number().min(0).describe('(content + arena) / capacity.'),
    initFile: z.string().nullable().describe('$readmemh init file of this bank; null if it holds no parameters.'),
    checksum: u32.nullable().describe('FNV-1a 32 over the whole bank image in address order.'),
  })
  .strict();

const memory = z
  .object({
    id: count,
    name: z.string(),
    kind: z.enum(['rom', 'sram']),
    wordBits: count,
    wordBytes: count,
    depth: count,
    banks: count,
    ports: count,
    base: u32,
    bankStride: count,
    bankBytes: count,
    capacityBytes: count,
    layout: z.enum(['linear', 'spread']),
    holds: z.array(z.enum(['weights', 'bias', 'multiplier', 'shift', 'arena'])),
    arenaOffset: count.nullable().describe('Byte offset from base where the arena starts; null if none here.'),
    bankUse: z.array(bankUse),
  })
  .strict();

const arena = z
  .object({
    strategy: z.string(),
    peakBytes: count,
    regions: z.array(z.object({ memory: z.string(), offset: count, address: u32, capacity: count, used: count }).strict()),
    buffers: z.array(
      z
        .object({
          name: z.string(),
          kind: z.string(),
          tensor: z.string().nullable(),
          memory: z.string(),
          offset: count,
          size: count,
          address: u32,
          bank: count,
          wordOffset: count,
        })
        .strict(),
    ),
  })
  .strict();

export const memoryMapSchema = z
  .object({
    schema: z.literal('sqzfw-asic-memory-map/2'),
    generator: z.string().describe('sqzfw asic <version>'),
    model: z.string(),
    profile: z.string(),
    precision: z.enum(['int8', 'int4']),
    compression: z
      .object({
        codebookBits: z.number().int().min(4).max(8).nullable().describe('Codebook index bits k (2^k shared int8 values per layer), or null.'),
        sparse: z.boolean().describe('Zero-run sparse weight streams.'),
        prune: z.number().min(0).max(1).describe('Fraction of each layer\'s weights zeroed by magnitude pruning before encoding.'),
        weights: count,
        zeros: count.describe('Zero weights after pruning and clustering.'),
        denseInt8Bits: count.describe('Bits of the plain int8 weight arrays, for comparison.'),
      })
      .strict()
      .nullable()
      .describe('Compressed weight storage; null: plain int8 / int4 arrays.'),
    byteOrder: z.enum(['little', 'big']).describe('little: the lowest-address byte of a word is bits [7:0]; big: the top byte.'),
    checksum: z.object({ algorithm: z.literal('fnv1a32'), offset: u32, prime: u32 }).strict(),
    memories: z.array(memory),
    layers: z.array(layer),
    sections: z.array(section),
    arena: arena.nullable(),
    totals: z
      .object({
        weightsBits: count,
        biasBits: count,
        multiplierBits: count,
        shiftBits: count,
        contentBits: count,
        allocatedBits: count,
        paddingBits: count,
        arenaBits: count,
        paramCapacityBits: count,
        onDieBits: count,
      })
      .strict(),
  })
  .strict()
  .describe('sqzfw ASIC memory map: every parameter section of every conv layer, where its words are, and the arena.');

export type MemoryMapJson = z.infer<typeof memoryMapSchema>;

export function memoryMapJsonSchema(): unknown {
  return z.toJSONSchema(memoryMapSchema);
}
