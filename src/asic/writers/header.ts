/** The C header: base addresses, sizes, per-layer offsets, and (under SQZ_ASIC_MAP_TABLES) the piece tables. */
import type { AsicMap } from '../types.js';
import { PARAM_KINDS } from '../profile.js';
import { KIND_CODE, KIND_IDENT, cComment, cString, hexC, ident, layerIdents } from './names.js';

export const HEADER_FILE = 'sqzfw_asic_map.h';

export function renderHeader(map: AsicMap): string {
  const o: string[] = [];
  const def = (name: string, value: string | number, comment?: string): void => {
    const v = typeof value === 'number' ? `${value}u` : value;
    o.push(`#define SQZ_ASIC_${name} ${v}${comment ? ` /* ${comment} */` : ''}`);
  };
  o.push(`/* ${map.generator}: memory map of ${map.model} in ASIC profile ${map.profile}, ${map.precision} weights. */`);
  o.push('/* Generated from memory_map.json; do not edit. Addresses are byte addresses; WORD values are bank-local word addresses. */');
  o.push('#ifndef SQZFW_ASIC_MAP_H', '#define SQZFW_ASIC_MAP_H', '', '#include <stdint.h>', '');
  def('WEIGHT_BITS', map.precision === 'int4' ? 4 : 8, map.precision === 'int4' ? 'packed int4, low nibble first' : 'int8');
  def('BIG_ENDIAN', map.byteOrder === 'big' ? 1 : 0);
  def('FNV_OFFSET', hexC(map.checksum.offset));
  def('FNV_PRIME', hexC(map.checksum.prime));
  def('CONTENT_BITS', map.totals.contentBits, 'parameter bits stored');
  def('ALLOCATED_BITS', map.totals.allocatedBits, 'parameter words allocated x word width');
  def('ON_DIE_BITS', map.totals.onDieBits, 'capacity of all memories');
  const c = map.compression;
  def('CODEBOOK_BITS', c?.codebookBits ?? 0, 'per-layer codebook index bits; 0: no codebook');
  def('SPARSE', c?.sparse ? 1 : 0, 'zero-run sparse weight streams');
  o.push(
    '/* Weight stream decoding (every layer, *_WEIGHTS_*): CODEBOOK_ENTRIES int8 bytes, then entries of RUN_BITS + VALUE_BITS bits,',
    ' * LSB first; entry = run | value << RUN_BITS yields run zeros, then codebook[value] (or value sign-extended). */',
  );
  o.push('', '/* Memories: banks of identical macros; bank b starts at BASE + b * BANK_STRIDE. */');
  def('NUM_MEMORIES', map.memories.length);
  for (const m of map.memories) {
    const n = `MEM_${ident(m.name)}`;
    o.push(`/* ${m.name}: ${m.kind.toUpperCase()}, ${m.banks} x ${m.depth} words x ${m.wordBits} bits, ${m.layout}; holds ${m.holds.join(', ') || 'nothing'} */`);
    def(`${n}_ID`, m.id);
    def(`${n}_BASE`, hexC(m.base));
    def(`${n}_WORD_BITS`, m.wordBits);
    def(`${n}_DEPTH`, m.depth);
    def(`${n}_BANKS`, m.banks);
    def(`${n}_PORTS`, m.ports);
    def(`${n}_BANK_BYTES`, m.bankBytes);
    def(`${n}_BANK_STRIDE`, hexC(m.bankStride));
    def(`${n}_SIZE`, m.capacityBytes);
    def(`${n}_SPREAD`, m.layout === 'spread' ? 1 : 0);
  }
  if (map.arena) {
    o.push('', `/* Activation arena (planner strategy ${map.arena.strategy}, peak ${map.arena.peakBytes} B). */`);
    for (const r of map.arena.regions) {
      const n = ident(r.memory);
      def(`ARENA_${n}_ADDR`, hexC(r.address));
      def(`ARENA_${n}_OFFSET`, r.offset, `from ${r.memory} base`);
      def(`ARENA_${n}_USED`, r.used);
      def(`ARENA_${n}_CAPACITY`, r.capacity);
    }
  }
  o.push('', '/* Layers. Per section: MEM = memory id, ADDR/WORD = first piece, BYTES = stream length, PIECES = entries in sqz_asic_pieces. */');
  def('NUM_LAYERS', map.layers.length);
  def('NUM_SECTIONS', map.sections.length);
  def('NUM_PIECES', map.sections.reduce((a, s) => a + s.pieces.length, 0));
  const ids = layerIdents(map);
  const memId = new Map(map.memories.map((m) => [m.name, m] as const));
  map.layers.forEach((l, i) => {
    const n = `L_${ids[i]}`;
    o.push(`/* ${cComment(l.name)}: ${l.outChannels} x ${l.kernel[0]}x${l.kernel[1]} x ${l.inChannels} */`);
    def(`${n}_INDEX`, l.index);
    def(`${n}_OUT_CH`, l.outChannels);
    def(`${n}_IN_CH`, l.inChannels);
    def(`${n}_CHECKSUM`, hexC(l.checksum));
    for (const k of PARAM_KINDS) {
      const s = map.sections[l.sections[k]]!;
      const m = memId.get(s.memory)!;
      const kn = `${n}_${KIND_IDENT[k]}`;
      def(`${kn}_MEM`, m.id, s.memory);
      def(`${kn}_ADDR`, hexC(s.address));
      def(`${kn}_OFFSET`, s.address - m.base);
      def(`${kn}_WORD`, s.wordOffset);
      def(`${kn}_WORDS`, s.words);
      def(`${kn}_BYTES`, s.bytes);
      def(`${kn}_ELEMENT_BITS`, s.elementBits);
      def(`${kn}_STRIDE_BITS`, s.channelStrideBits);
      def(`${kn}_PIECES`, s.pieces.length);
      def(`${kn}_FNV`, hexC(s.checksum));
      const d = s.decoder;
      if (d) {
        def(`${kn}_RUN_BITS`, d.runBits, d.runBits ? 'zero-run field bits' : 'dense');
        def(`${kn}_VALUE_BITS`, d.valueBits, d.codebookEntries ? 'codebook index bits' : 'signed weight bits');
        def(`${kn}_CODEBOOK_ENTRIES`, d.codebookEntries, 'int8 codebook bytes at the start of the stream');
        def(`${kn}_ENTRIES`, d.entries);
        def(`${kn}_ELEMENTS`, d.elements, 'decoded int8 weights');
        def(`${kn}_DECODED_FNV`, hexC(d.decodedChecksum));
      }
    }
  });
  o.push('', '#ifdef SQZ_ASIC_MAP_TABLES', '/* Define SQZ_ASIC_MAP_TABLES in one translation unit for the tables. */');
  o.push(
    'typedef struct { uint8_t memory; uint8_t bank; uint32_t word; uint32_t words; uint32_t addr; uint32_t bytes; uint32_t content_bits; uint32_t stream_offset; uint32_t ch_first; uint32_t ch_step; uint32_t ch_count; } sqz_asic_piece_t;',
  );
  o.push(
    'typedef struct { uint16_t layer; uint8_t kind; uint8_t memory; uint8_t element_bits; uint8_t spread; uint32_t bytes; uint32_t channels; uint32_t stride_bits; uint32_t first_piece; uint32_t pieces; uint32_t fnv; } sqz_asic_section_t;',
  );
  o.push('typedef struct { const char *name; uint32_t out_ch; uint32_t in_ch; uint32_t section[4]; uint32_t checksum; } sqz_asic_layer_t;');
  o.push('/* kind: 0 weights, 1 bias, 2 multiplier, 3 shift */');
  const pieceRows: string[] = [];
  const sectionRows: string[] = [];
  const layerIndex = new Map(map.layers.map((l) => [l.name, l.index] as const));
  for (const s of map.sections) {
    sectionRows.push(
      `  { ${layerIndex.get(s.layer)}, ${KIND_CODE[s.kind]}, ${memId.get(s.memory)!.id}, ${s.elementBits}, ${s.layout === 'spread' ? 1 : 0}, ${s.bytes}u, ${s.channels}u, ${s.channelStrideBits}u, ${pieceRows.length}u, ${s.pieces.length}u, ${hexC(s.checksum)} },`,
    );
    for (const p of s.pieces)
      pieceRows.push(
        `  { ${memId.get(p.memory)!.id}, ${p.bank}, ${p.wordOffset}u, ${p.words}u, ${hexC(p.address)}, ${p.bytes}u, ${p.contentBits}u, ${p.streamOffset}u, ${p.channelFirst}u, ${p.channelStep}u, ${p.channelCount}u },`,
    );
  }
  const table = (decl: string, rows: string[], empty: string): void => {
    o.push(`static const ${decl}[${Math.max(1, rows.length)}] = {`, ...(rows.length ? rows : [`  ${empty}`]), '};');
  };
  table('sqz_asic_piece_t sqz_asic_pieces', pieceRows, '{ 0 }');
  table('sqz_asic_section_t sqz_asic_sections', sectionRows, '{ 0 }');
  table(
    'sqz_asic_layer_t sqz_asic_layers',
    map.layers.map(
      (l) => `  { ${cString(l.name)}, ${l.outChannels}u, ${l.inChannels}u, { ${PARAM_KINDS.map((k) => `${l.sections[k]}u`).join(', ')} }, ${hexC(l.checksum)} },`,
    ),
    '{ 0 }',
  );
  o.push('typedef struct { uint8_t run_bits; uint8_t value_bits; uint16_t codebook_entries; uint32_t entries; uint32_t elements; uint32_t decoded_fnv; const int8_t *codebook; } sqz_asic_decoder_t;');
  const withCb = map.sections.filter((s) => s.decoder && s.decoder.codebookEntries > 0);
  for (const s of withCb)
    o.push(`static const int8_t sqz_asic_codebook_${s.id}[${s.decoder!.codebookEntries}] = { ${s.decoder!.codebook.join(', ')} };`);
  table(
    'sqz_asic_decoder_t sqz_asic_decoders',
    map.layers.map((l) => {
      const s = map.sections[l.sections.weights]!;
      const d = s.decoder!;
      return `  { ${d.runBits}, ${d.valueBits}, ${d.codebookEntries}u, ${d.entries}u, ${d.elements}u, ${hexC(d.decodedChecksum)}, ${d.codebookEntries ? `sqz_asic_codebook_${s.id}` : '0'} },`;
    }),
    '{ 0 }',
  );
  o.push('#endif /* SQZ_ASIC_MAP_TABLES */', '', '#endif /* SQZFW_ASIC_MAP_H */', '');
  return o.join('\n');
}
