/**
 * SystemVerilog: the map package (same values as the C header, plus constant lookup functions over the piece
 * table), a behavioural ROM model that loads an init file with $readmemh, and a testbench that reads every layer
 * back through the package's addresses and prints per-layer FNV-1a checksums (`LAYER <index> <name> <hex>`).
 * Written for Icarus Verilog 11 (-g2012) and Verilator: scalar localparams and case-based functions only
 * (no unpacked array parameters).
 */
import type { AsicMap, MapMemory } from '../types.js';
import { PARAM_KINDS } from '../profile.js';
import { KIND_IDENT, hexSv, ident, layerIdents, lineComment, svString } from './names.js';

export const SV_PACKAGE_FILE = 'sqzfw_asic_map_pkg.sv';
export const SV_ROM_FILE = 'sqzfw_asic_rom.sv';
export const SV_TB_FILE = 'sqzfw_asic_tb.sv';

const u32 = (v: number): string => hexSv(v);
const u64 = (v: number): string => `64'd${v}`;

function caseFunction(name: string, type: string, arg: string, rows: [number, string][], dflt: string): string[] {
  const o = [`  function automatic ${type} ${name}(${arg});`, '    case (i)'];
  for (const [k, v] of rows) o.push(`      ${k}: ${name} = ${v};`);
  o.push(`      default: ${name} = ${dflt};`, '    endcase', '  endfunction');
  return o;
}

/** Macro instances that hold parameters (one init file each), in memory then bank order. */
export function initMacros(map: AsicMap): { memory: MapMemory; bank: number; file: string; index: number }[] {
  const out: { memory: MapMemory; bank: number; file: string; index: number }[] = [];
  for (const m of map.memories) for (const u of m.bankUse) if (u.initFile) out.push({ memory: m, bank: u.bank, file: u.initFile, index: out.length });
  return out;
}

export function renderSvPackage(map: AsicMap): string {
  const o: string[] = [];
  o.push(`// ${map.generator}: memory map of ${map.model} in ASIC profile ${map.profile}, ${map.precision} weights.`);
  o.push('// Generated from memory_map.json; do not edit. Same values as sqzfw_asic_map.h. ADDR = byte address, WORD = bank-local word address.');
  o.push('`timescale 1ns/1ps', 'package sqzfw_asic_map_pkg;', '');
  const lp = (name: string, value: string, comment?: string): void => {
    o.push(`  localparam logic [31:0] ${name} = ${value};${comment ? ` // ${comment}` : ''}`);
  };
  const lpi = (name: string, value: number, comment?: string): void => {
    o.push(`  localparam int ${name} = ${value};${comment ? ` // ${comment}` : ''}`);
  };
  lpi('WEIGHT_BITS', map.precision === 'int4' ? 4 : 8);
  lpi('BIG_ENDIAN', map.byteOrder === 'big' ? 1 : 0);
  lp('FNV_OFFSET', u32(map.checksum.offset));
  lp('FNV_PRIME', u32(map.checksum.prime));
  o.push(`  localparam logic [63:0] CONTENT_BITS = ${u64(map.totals.contentBits)};`);
  o.push(`  localparam logic [63:0] ALLOCATED_BITS = ${u64(map.totals.allocatedBits)};`);
  o.push(`  localparam logic [63:0] ON_DIE_BITS = ${u64(map.totals.onDieBits)};`, '');
  lpi('NUM_MEMORIES', map.memories.length);
  for (const m of map.memories) {
    const n = `MEM_${ident(m.name)}`;
    o.push(`  // ${m.name}: ${m.kind.toUpperCase()}, ${m.banks} x ${m.depth} words x ${m.wordBits} bits, ${m.layout}; holds ${m.holds.join(', ') || 'nothing'}`);
    lpi(`${n}_ID`, m.id);
    lp(`${n}_BASE`, u32(m.base));
    lpi(`${n}_WORD_BITS`, m.wordBits);
    lpi(`${n}_DEPTH`, m.depth);
    lpi(`${n}_BANKS`, m.banks);
    lpi(`${n}_PORTS`, m.ports);
    lp(`${n}_BANK_BYTES`, u32(m.bankBytes));
    lp(`${n}_BANK_STRIDE`, u32(m.bankStride));
    lp(`${n}_SIZE`, u32(m.capacityBytes));
    lpi(`${n}_SPREAD`, m.layout === 'spread' ? 1 : 0);
  }
  if (map.arena) {
    o.push('', `  // Activation arena (planner strategy ${map.arena.strategy}, peak ${map.arena.peakBytes} B).`);
    for (const r of map.arena.regions) {
      const n = `ARENA_${ident(r.memory)}`;
      lp(`${n}_ADDR`, u32(r.address));
      lp(`${n}_OFFSET`, u32(r.offset));
      lp(`${n}_USED`, u32(r.used));
      lp(`${n}_CAPACITY`, u32(r.capacity));
    }
  }
  o.push('');
  lpi('NUM_LAYERS', map.layers.length);
  lpi('NUM_SECTIONS', map.sections.length);
  const pieces = map.sections.flatMap((s) => s.pieces);
  lpi('NUM_PIECES', pieces.length);
  const memByName = new Map(map.memories.map((m) => [m.name, m] as const));
  const ids = layerIdents(map);
  map.layers.forEach((l, i) => {
    const n = `L_${ids[i]}`;
    o.push(`  // ${lineComment(l.name)}: ${l.outChannels} x ${l.kernel[0]}x${l.kernel[1]} x ${l.inChannels}`);
    lpi(`${n}_INDEX`, l.index);
    lpi(`${n}_OUT_CH`, l.outChannels);
    lpi(`${n}_IN_CH`, l.inChannels);
    lp(`${n}_CHECKSUM`, u32(l.checksum));
    for (const k of PARAM_KINDS) {
      const s = map.sections[l.sections[k]]!;
      const m = memByName.get(s.memory)!;
      const kn = `${n}_${KIND_IDENT[k]}`;
      lpi(`${kn}_MEM`, m.id, s.memory);
      lp(`${kn}_ADDR`, u32(s.address));
      lp(`${kn}_OFFSET`, u32(s.address - m.base));
      lp(`${kn}_WORD`, u32(s.wordOffset));
      lp(`${kn}_WORDS`, u32(s.words));
      lp(`${kn}_BYTES`, u32(s.bytes));
      lpi(`${kn}_ELEMENT_BITS`, s.elementBits);
      lp(`${kn}_STRIDE_BITS`, u32(s.channelStrideBits));
      lpi(`${kn}_PIECES`, s.pieces.length);
      lp(`${kn}_FNV`, u32(s.checksum));
      const d = s.decoder;
      if (d) {
        lpi(`${kn}_RUN_BITS`, d.runBits);
        lpi(`${kn}_VALUE_BITS`, d.valueBits);
        lpi(`${kn}_CODEBOOK_ENTRIES`, d.codebookEntries);
        lp(`${kn}_ENTRIES`, u32(d.entries));
        lp(`${kn}_ELEMENTS`, u32(d.elements));
        lp(`${kn}_DECODED_FNV`, u32(d.decodedChecksum));
      }
    }
  });

  o.push('', '  // Lookup tables (constant functions). kind: 0 weights, 1 bias, 2 multiplier, 3 shift.');
  const L = map.layers;
  o.push(
    ...caseFunction('memory_word_bytes', 'int', 'input int i', map.memories.map((m) => [m.id, String(m.wordBytes)]), '0'),
    ...caseFunction('memory_depth', 'int', 'input int i', map.memories.map((m) => [m.id, String(m.depth)]), '0'),
    ...caseFunction('layer_name', 'string', 'input int i', L.map((l) => [l.index, svString(l.name)]), '""'),
    ...caseFunction('layer_checksum', 'logic [31:0]', 'input int i', L.map((l) => [l.index, u32(l.checksum)]), "32'h0"),
  );
  o.push('  function automatic int layer_section(input int i, input int kind);');
  o.push('    case (kind)');
  PARAM_KINDS.forEach((k, kk) => {
    o.push(`      ${kk}: case (i)`);
    for (const l of L) o.push(`        ${l.index}: layer_section = ${l.sections[k]};`);
    o.push('        default: layer_section = 0;', '      endcase');
  });
  o.push('      default: layer_section = 0;', '    endcase', '  endfunction');
  let first = 0;
  const firstPiece: [number, string][] = [];
  for (const s of map.sections) {
    firstPiece.push([s.id, String(first)]);
    first += s.pieces.length;
  }
  o.push(
    ...caseFunction('section_first_piece', 'int', 'input int i', firstPiece, '0'),
    ...caseFunction('section_pieces', 'int', 'input int i', map.sections.map((s) => [s.id, String(s.pieces.length)]), '0'),
    ...caseFunction('section_fnv', 'logic [31:0]', 'input int i', map.sections.map((s) => [s.id, u32(s.checksum)]), "32'h0"),
    ...caseFunction('piece_memory', 'int', 'input int i', pieces.map((p, k) => [k, String(memByName.get(p.memory)!.id)]), '0'),
    ...caseFunction('piece_bank', 'int', 'input int i', pieces.map((p, k) => [k, String(p.bank)]), '0'),
    ...caseFunction('piece_word', 'logic [31:0]', 'input int i', pieces.map((p, k) => [k, u32(p.wordOffset)]), "32'h0"),
    ...caseFunction('piece_words', 'logic [31:0]', 'input int i', pieces.map((p, k) => [k, u32(p.words)]), "32'h0"),
    ...caseFunction('piece_addr', 'logic [31:0]', 'input int i', pieces.map((p, k) => [k, u32(p.address)]), "32'h0"),
  );
  o.push(...renderDecoderTables(map));
  o.push('', 'endpackage', '');
  return o.join('\n');
}

/**
 * Weight decoder tables, per weights section id: stream layout (run / value field widths, codebook entries,
 * elements, decoded checksum), whether the section is linear, and the codebooks (codebook_value(s, i)).
 */
function renderDecoderTables(map: AsicMap): string[] {
  const ws = map.sections.filter((s) => s.decoder);
  const d = (f: (x: NonNullable<(typeof ws)[number]['decoder']>) => string): [number, string][] => ws.map((s) => [s.id, f(s.decoder!)]);
  const o: string[] = ['', '  // Weight decoder tables by section id (weights sections): an entry is run | value << RUN_BITS, LSB first after', '  // CODEBOOK_ENTRIES int8 codebook bytes; it yields run zeros, then codebook[value] (or value sign-extended).'];
  o.push(
    ...caseFunction('section_linear', 'int', 'input int i', map.sections.map((s) => [s.id, s.layout === 'linear' ? '1' : '0']), '0'),
    ...caseFunction('wdec_run_bits', 'int', 'input int i', d((x) => String(x.runBits)), '0'),
    ...caseFunction('wdec_value_bits', 'int', 'input int i', d((x) => String(x.valueBits)), '8'),
    ...caseFunction('wdec_codebook_entries', 'int', 'input int i', d((x) => String(x.codebookEntries)), '0'),
    ...caseFunction('wdec_entries', 'logic [31:0]', 'input int i', d((x) => u32(x.entries)), "32'h0"),
    ...caseFunction('wdec_elements', 'logic [31:0]', 'input int i', d((x) => u32(x.elements)), "32'h0"),
    ...caseFunction('wdec_decoded_fnv', 'logic [31:0]', 'input int i', d((x) => u32(x.decodedChecksum)), "32'h0"),
  );
  const cbs = ws.filter((s) => s.decoder!.codebookEntries > 0);
  o.push('  function automatic logic [7:0] codebook_value(input int s, input int i);', '    codebook_value = 8\'h00;', '    case (s)');
  for (const s of cbs) {
    o.push(`      ${s.id}: case (i)`);
    s.decoder!.codebook.forEach((v, i) => o.push(`        ${i}: codebook_value = 8'h${(v & 0xff).toString(16).padStart(2, '0')};`));
    o.push('        default: codebook_value = 8\'h00;', '      endcase');
  }
  o.push('      default: codebook_value = 8\'h00;', '    endcase', '  endfunction');
  return o;
}

export function renderSvRom(map: AsicMap): string {
  return [
    `// ${map.generator}: behavioural ROM macro model (synchronous read, one cycle latency), loaded with $readmemh.`,
    '`timescale 1ns/1ps',
    'module sqzfw_asic_rom #(',
    '  parameter int WORD_BITS = 32,',
    '  parameter int DEPTH = 1024,',
    '  parameter int ADDR_BITS = 10,',
    '  parameter INIT_FILE = ""',
    ') (',
    '  input  logic                 clk,',
    '  input  logic [ADDR_BITS-1:0] addr,',
    '  output logic [WORD_BITS-1:0] q',
    ');',
    '  logic [WORD_BITS-1:0] mem [0:DEPTH-1];',
    '  initial $readmemh(INIT_FILE, mem);',
    '  always @(posedge clk) q <= mem[addr];',
    'endmodule',
    '',
  ].join('\n');
}

const addrBits = (depth: number): number => Math.max(1, Math.ceil(Math.log2(depth)));

export function renderSvTestbench(map: AsicMap): string {
  const macros = initMacros(map);
  const maxW = Math.max(8, ...macros.map((x) => x.memory.wordBits));
  const aw = Math.max(1, ...macros.map((x) => addrBits(x.memory.depth)));
  const o: string[] = [];
  o.push(`// ${map.generator}: testbench for the memory map of ${map.model} (${map.profile}, ${map.precision}).`);
  o.push('// Loads every init file into a ROM model, reads every layer back through the map package and prints');
  o.push('// "LAYER <index> <name> <fnv1a32>" per layer (+banks: also "BANK <memory> <bank> <fnv1a32>" over whole banks), then');
  o.push('// decodes the weights of every layer held in a linear memory and prints "DECODED <index> <name> <fnv1a32>".');
  o.push(`// iverilog -g2012 -o tb ${SV_PACKAGE_FILE} ${SV_ROM_FILE} ${SV_TB_FILE} && vvp tb   (run where the .memh files are)`);
  o.push('`timescale 1ns/1ps', 'module sqzfw_asic_tb;', '  import sqzfw_asic_map_pkg::*;', '');
  o.push(`  localparam int MAXW = ${maxW};`, `  localparam int AW = ${aw};`, `  localparam int NUM_MACROS = ${macros.length};`, '');
  o.push('  logic clk = 1\'b0;', '  always #5 clk = ~clk;', '  logic [AW-1:0] addr = \'0;', '');
  for (const x of macros) {
    const w = x.memory.wordBits;
    const ab = addrBits(x.memory.depth);
    o.push(`  wire [${w - 1}:0] q${x.index}; // ${x.memory.name} bank ${x.bank}`);
    o.push(
      `  sqzfw_asic_rom #(.WORD_BITS(${w}), .DEPTH(${x.memory.depth}), .ADDR_BITS(${ab}), .INIT_FILE("${x.file}")) u_rom${x.index} (.clk(clk), .addr(addr[${ab - 1}:0]), .q(q${x.index}));`,
    );
  }
  o.push('', '  function automatic logic [MAXW-1:0] q_sel(input int i);', '    case (i)');
  for (const x of macros) o.push(`      ${x.index}: q_sel = MAXW'(q${x.index});`);
  o.push("      default: q_sel = '0;", '    endcase', '  endfunction', '');
  o.push('  function automatic int macro_of(input int mem, input int bank);', '    macro_of = -1;');
  for (const x of macros) o.push(`    if (mem == ${x.memory.id} && bank == ${x.bank}) macro_of = ${x.index};`);
  o.push('  endfunction', '');
  o.push(
    '  logic [31:0] h;',
    '  logic [MAXW-1:0] w;',
    '  int l, kd, s, p, p0, pn, j, k, m, errors;',
    '',
    '  // One synchronous read per word; bytes fold into h in address order.',
    '  task automatic read_words(input int macro, input int wbytes, input logic [31:0] word, input logic [31:0] words);',
    '    for (j = 0; j < words; j++) begin',
    '      addr = AW\'(word + j);',
    '      @(posedge clk); #1;',
    '      w = q_sel(macro);',
    '      for (k = 0; k < wbytes; k++)',
    '        h = (h ^ {24\'d0, (BIG_ENDIAN != 0) ? w[8*(wbytes-1-k) +: 8] : w[8*k +: 8]}) * FNV_PRIME;',
    '    end',
    '  endtask',
    '',
    '  // Weight decoder (streaming, as a hardware decoder reads it): the section\'s words in piece order, bytes',
    '  // appended to a bit buffer, fixed-width fields popped LSB first; entries decode into int8 weights whose',
    '  // FNV-1a must equal the decoded checksum of the map (the int8 weights the golden model runs).',
    '  logic [MAXW+63:0] bitbuf, wide;',
    '  logic [31:0] fld, run, dh, nel;',
    '  logic signed [31:0] sx;',
    '  logic [7:0] val;',
    '  logic [7:0] cb [0:255];',
    '  int nbits, dpc, dpn, dword, dleft, dmacro, dwb, rb, vb, ce, e, r, past;',
    '  logic [31:0] cnt;',
    '',
    '  task automatic dec_next_word();',
    '    while (dleft == 0 && past == 0) begin',
    '      dpc++;',
    '      if (dpc >= dpn) past = 1;',
    '      else begin',
    '        dmacro = macro_of(piece_memory(dpc), piece_bank(dpc));',
    '        dwb = memory_word_bytes(piece_memory(dpc));',
    '        dword = piece_word(dpc);',
    '        dleft = piece_words(dpc);',
    '      end',
    '    end',
    '    if (past != 0 || dmacro < 0) begin',
    '      // ran past the section: feed zero bytes; the caller reports the error',
    '      past = 1;',
    '      nbits += 8;',
    '    end else begin',
    '      addr = AW\'(dword);',
    '      @(posedge clk); #1;',
    '      w = q_sel(dmacro);',
    '      for (k = 0; k < dwb; k++) begin',
    "        wide = '0;",
    '        wide[7:0] = (BIG_ENDIAN != 0) ? w[8*(dwb-1-k) +: 8] : w[8*k +: 8];',
    '        bitbuf = bitbuf | (wide << nbits);',
    '        nbits += 8;',
    '      end',
    '      dword++;',
    '      dleft--;',
    '    end',
    '  endtask',
    '',
    '  task automatic dec_pop(input int n, output logic [31:0] v);',
    '    while (nbits < n) dec_next_word();',
    "    v = bitbuf[31:0] & ((32'd1 << n) - 32'd1);",
    '    bitbuf = bitbuf >> n;',
    '    nbits -= n;',
    '  endtask',
    '',
    '  task automatic decode_layer(input int l);',
    '    s = layer_section(l, 0);',
    '    dpc = section_first_piece(s) - 1;',
    '    dpn = section_first_piece(s) + section_pieces(s);',
    "    dleft = 0; nbits = 0; past = 0; dmacro = 0; bitbuf = '0;",
    '    rb = wdec_run_bits(s); vb = wdec_value_bits(s); ce = wdec_codebook_entries(s); nel = wdec_elements(s);',
    '    for (e = 0; e < ce; e++) begin',
    '      dec_pop(8, fld);',
    '      cb[e] = fld[7:0];',
    '      if (fld[7:0] !== codebook_value(s, e)) begin',
    '        errors++;',
    '        $display("MISMATCH layer %0d %s: codebook[%0d] reads %02x, map says %02x", l, layer_name(l), e, fld[7:0], codebook_value(s, e));',
    '      end',
    '    end',
    '    dh = FNV_OFFSET;',
    '    cnt = 0;',
    '    e = 0;',
    '    while (cnt < nel) begin',
    "      run = 32'd0;",
    '      if (rb > 0) dec_pop(rb, run);',
    '      dec_pop(vb, fld);',
    '      if (cnt + run >= nel) begin',
    '        errors++;',
    '        $display("MISMATCH layer %0d %s: entry %0d runs past %0d weights", l, layer_name(l), e, nel);',
    '        cnt = nel;',
    '      end else begin',
    "        for (r = 0; r < run; r++) dh = (dh ^ 32'd0) * FNV_PRIME;",
    '        cnt = cnt + run;',
    '        if (ce > 0) val = cb[fld[7:0]];',
    '        else begin',
    '          sx = fld << (32 - vb);',
    '          sx = sx >>> (32 - vb);',
    '          val = sx[7:0];',
    '        end',
    "        dh = (dh ^ {24'd0, val}) * FNV_PRIME;",
    '        cnt = cnt + 1;',
    '      end',
    '      e++;',
    '    end',
    '    if (past != 0) begin',
    '      errors++;',
    '      $display("MISMATCH layer %0d %s: the weights stream ends before %0d weights", l, layer_name(l), nel);',
    '    end',
    '    if (e !== wdec_entries(s)) begin',
    '      errors++;',
    '      $display("MISMATCH layer %0d %s: %0d entries decoded, map says %0d", l, layer_name(l), e, wdec_entries(s));',
    '    end',
    '    $display("DECODED %0d %s %08x", l, layer_name(l), dh);',
    '    if (dh !== wdec_decoded_fnv(s)) begin',
    '      errors++;',
    '      $display("MISMATCH layer %0d %s: decoded weights %08x, map says %08x", l, layer_name(l), dh, wdec_decoded_fnv(s));',
    '    end',
    '  endtask',
    '',
    '  initial begin',
    '    errors = 0;',
    '    for (l = 0; l < NUM_LAYERS; l++) begin',
    '      h = FNV_OFFSET;',
    '      for (kd = 0; kd < 4; kd++) begin',
    '        s = layer_section(l, kd);',
    '        p0 = section_first_piece(s);',
    '        pn = p0 + section_pieces(s);',
    '        for (p = p0; p < pn; p++) begin',
    '          m = macro_of(piece_memory(p), piece_bank(p));',
    '          if (m < 0) begin errors++; $display("ERROR piece %0d: no ROM model for memory %0d bank %0d", p, piece_memory(p), piece_bank(p)); end',
    '          else read_words(m, memory_word_bytes(piece_memory(p)), piece_word(p), piece_words(p));',
    '        end',
    '      end',
    '      $display("LAYER %0d %s %08x", l, layer_name(l), h);',
    '      if (h !== layer_checksum(l)) begin',
    '        errors++;',
    '        $display("MISMATCH layer %0d %s: read %08x, map says %08x", l, layer_name(l), h, layer_checksum(l));',
    '      end',
    '    end',
    '    // Every layer whose weights are in a linear memory: through the weight decoder.',
    '    for (l = 0; l < NUM_LAYERS; l++) if (section_linear(layer_section(l, 0)) != 0) decode_layer(l);',
    '    if ($test$plusargs("banks")) begin',
  );
  for (const x of macros) {
    o.push(
      '      h = FNV_OFFSET;',
      `      read_words(${x.index}, ${x.memory.wordBytes}, 0, ${x.memory.depth});`,
      `      $display("BANK ${x.memory.name} ${x.bank} %08x", h);`,
    );
  }
  o.push(
    '    end',
    '    if (errors == 0) $display("PASS %0d layers", NUM_LAYERS);',
    '    else $display("FAIL %0d errors", errors);',
    '    $finish;',
    '  end',
    'endmodule',
    '',
  );
  return o.join('\n');
}
