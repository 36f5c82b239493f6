/** report.md (tables) and banks.svg (a picture of every bank: what each word range holds). */
import type { AsicMap } from '../types.js';
import type { ParamCost } from '../layout.js';
import { SEED_FIGURES, toMB, toMiB } from '../summary.js';
import { hex32Upper } from '../../util/format.js';

export const REPORT_FILE = 'report.md';
export const SVG_FILE = 'banks.svg';

const COLORS: Record<string, [string, string]> = {
  weights: ['#4e79a7', '#7aa6d6'],
  bias: ['#f28e2b', '#ffb870'],
  multiplier: ['#59a14f', '#8cd17d'],
  shift: ['#e15759', '#ff9d9a'],
  arena: ['#b07aa1', '#b07aa1'],
};

const n = (v: number): string => v.toLocaleString('en-US');
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const mb = (bits: number): string => `${toMB(bits).toFixed(3)} MB (${toMiB(bits).toFixed(3)} MiB)`;
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const mdEsc = (s: string): string => s.replace(/\|/g, '\\|');

/** Gap between two layer names in the label column (px at font-size 9). */
const LABEL_PITCH = 10;

/**
 * The names of the layers a memory holds, in a column right of its banks, each at the first word its layer's data
 * starts at (pushed down to keep LABEL_PITCH apart, with a leader line to where it starts); names that no longer fit
 * above the bottom are counted in a last line (all are in the tooltips and report.md). Returns the next free x.
 */
function layerLabelColumn(body: string[], map: AsicMap, memory: string, x: number, top: number, H: number, y: (word: number) => number): number {
  const starts = new Map<string, number>();
  for (const s of map.sections) {
    if (s.memory !== memory) continue;
    for (const p of s.pieces) starts.set(s.layer, Math.min(starts.get(s.layer) ?? Infinity, y(p.wordOffset)));
  }
  if (!starts.size) return x;
  const labels = [...starts].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  let at = top + 4;
  let shown = 0;
  for (const [layer, ly] of labels) {
    const ty = Math.max(ly + 4, at);
    if (ty > top + H + 4) break;
    body.push(`<line x1="${x - 8}" y1="${ly.toFixed(2)}" x2="${x + 6}" y2="${(ty - 3).toFixed(2)}" stroke="#888" stroke-width="0.5"/>`);
    body.push(`<text class="layer-label" x="${x + 8}" y="${ty.toFixed(2)}" font-size="9">${esc(layer)}</text>`);
    at = ty + LABEL_PITCH;
    shown++;
  }
  if (shown < labels.length) body.push(`<text x="${x + 8}" y="${top + H + 14}" font-size="9">+${labels.length - shown} more layers (report.md)</text>`);
  return x + 8 + 9 * Math.max(...labels.slice(0, Math.max(1, shown)).map(([l]) => l.length)) * 0.6 + 12;
}

export function renderBanksSvg(map: AsicMap): string {
  const H = 360;
  const colW = 44;
  const gap = 10;
  const groupGap = 36;
  const top = 64;
  const left = 20;
  let x = left;
  const body: string[] = [];
  const layerIndex = new Map(map.layers.map((l) => [l.name, l.index] as const));
  for (const m of map.memories) {
    const gx = x;
    const words = m.depth;
    const y = (w: number): number => top + (w / words) * H;
    for (const u of m.bankUse) {
      body.push(`<rect x="${x}" y="${top}" width="${colW}" height="${H}" fill="#f4f4f4" stroke="#555"><title>${esc(`${m.name} bank ${u.bank}: ${pct(u.utilization)} used`)}</title></rect>`);
      for (const s of map.sections) {
        if (s.memory !== m.name) continue;
        const shade = COLORS[s.kind]![(layerIndex.get(s.layer) ?? 0) % 2]!;
        for (const p of s.pieces) {
          if (p.bank !== u.bank) continue;
          const h = Math.max(0.5, (p.words / words) * H);
          body.push(
            `<rect x="${x + 1}" y="${y(p.wordOffset).toFixed(2)}" width="${colW - 2}" height="${h.toFixed(2)}" fill="${shade}"><title>${esc(
              `${s.layer} ${s.kind}: words ${p.wordOffset}..${p.wordOffset + p.words - 1}, ${p.bytes} B`,
            )}</title></rect>`,
          );
        }
      }
      if (m.arenaOffset !== null && map.arena) {
        const r = map.arena.regions.find((q) => q.memory === m.name)!;
        const lo = Math.max(r.offset, u.bank * m.bankBytes);
        const hi = Math.min(r.offset + r.used, (u.bank + 1) * m.bankBytes);
        if (hi > lo) {
          const w0 = (lo - u.bank * m.bankBytes) / m.wordBytes;
          const w1 = (hi - u.bank * m.bankBytes) / m.wordBytes;
          body.push(
            `<rect x="${x + 1}" y="${y(w0).toFixed(2)}" width="${colW - 2}" height="${Math.max(0.5, ((w1 - w0) / words) * H).toFixed(2)}" fill="url(#arena)"><title>${esc(
              `arena: ${hi - lo} B of peak ${r.used} B`,
            )}</title></rect>`,
          );
        }
      }
      body.push(`<text x="${x + colW / 2}" y="${top + H + 14}" text-anchor="middle">b${u.bank}</text>`);
      body.push(`<text x="${x + colW / 2}" y="${top + H + 28}" text-anchor="middle">${pct(u.utilization)}</text>`);
      x += colW + gap;
    }
    x = layerLabelColumn(body, map, m.name, x, top, H, (w) => y(w));
    body.push(`<text x="${gx}" y="${top - 22}" font-weight="bold">${esc(m.name)}</text>`);
    body.push(`<text x="${gx}" y="${top - 8}">${esc(`${m.kind.toUpperCase()} ${m.banks}x${m.depth}x${m.wordBits}b ${m.layout}`)}</text>`);
    x += groupGap - gap;
  }
  const width = Math.max(x + left, left + Object.keys(COLORS).length * 90 + 110);
  const legendY = top + H + 50;
  const legend: string[] = [];
  let lx = left;
  for (const [k, [c]] of Object.entries(COLORS)) {
    legend.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${k === 'arena' ? 'url(#arena)' : c}" stroke="#555"/>`);
    legend.push(`<text x="${lx + 16}" y="${legendY}">${k}</text>`);
    lx += 90;
  }
  legend.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="#f4f4f4" stroke="#555"/><text x="${lx + 16}" y="${legendY}">free / padding</text>`);
  const height = legendY + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<!-- ${esc(map.generator)}: banks of ${esc(map.model)} in ${esc(map.profile)} (${map.precision}); word 0 at the top -->`,
    '<defs><pattern id="arena" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e8d5e3"/><rect width="3" height="6" fill="#b07aa1"/></pattern></defs>',
    `<text x="${left}" y="16" font-size="13" font-weight="bold">${esc(`${map.model} in ${map.profile}, ${map.precision} weights`)}</text>`,
    ...body,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

/** "int8", "int4", or e.g. "codebook k=6, sparse". */
export function weightsLabel(map: AsicMap): string {
  const c = map.compression;
  if (!c || (c.codebookBits === null && !c.sparse)) return c && c.prune > 0 ? `${map.precision}, pruned ${pct(c.prune)}` : map.precision;
  const parts = [c.codebookBits !== null ? `codebook k=${c.codebookBits}` : 'int8', ...(c.sparse ? ['sparse'] : []), ...(c.prune > 0 ? [`pruned ${pct(c.prune)}`] : [])];
  return parts.join(', ');
}

const bar = (f: number): string => {
  const k = Math.round(Math.min(1, f) * 20);
  return `\`${'#'.repeat(k)}${'.'.repeat(20 - k)}\``;
};

export function renderReport(map: AsicMap, opts: { comparison?: ParamCost[] } = {}): string {
  const t = map.totals;
  const o: string[] = [];
  o.push(`<!-- ${map.generator} -->`, `# ASIC memory map: ${mdEsc(map.model)} in ${mdEsc(map.profile)} (${map.precision} weights)`, '');
  o.push(
    `Generated by ${map.generator} from one table (memory_map.json); the C header, the SystemVerilog package, the init files and this report carry the same values. Byte order: ${map.byteOrder}-endian lanes. Checksums: FNV-1a 32.`,
    '',
  );
  o.push(`![banks](${SVG_FILE})`, '');
  o.push('## On-die bits', '', '| what | bits | bytes | size |', '| --- | ---: | ---: | ---: |');
  const row = (what: string, bits: number): void => void o.push(`| ${what} | ${n(bits)} | ${n(Math.ceil(bits / 8))} | ${mb(bits)} |`);
  row(`weights (${weightsLabel(map)})`, t.weightsBits);
  row('bias (int32)', t.biasBits);
  row('requantization multipliers (int32)', t.multiplierBits);
  row(`requantization shifts (int${map.sections.find((s) => s.kind === 'shift')?.elementBits ?? 32})`, t.shiftBits);
  row('**all parameters (content)**', t.contentBits);
  row('parameter words allocated', t.allocatedBits);
  row('of which padding / alignment (wasted)', t.paddingBits);
  row('activation arena (peak)', t.arenaBits);
  row('capacity of the parameter memories', t.paramCapacityBits);
  row('capacity of all memories', t.onDieBits);
  o.push('');

  if (opts.comparison && opts.comparison.length > 0) {
    o.push('## int8 vs packed int4 in this profile', '', '| precision | weight bits | all parameter bits | bytes | allocated bits | wasted bits | fits |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const c of opts.comparison)
      o.push(
        `| ${c.precision} | ${n(c.weightsBits)} | ${n(c.contentBits)} | ${n(c.contentBits / 8)} | ${n(c.allocatedBits)} | ${n(c.paddingBits)} | ${
          c.shortfalls.length === 0 ? 'yes' : `no: ${c.shortfalls.map((s) => `${s.memory} short ${n(s.shortBytes)} B`).join(', ')}`
        } |`,
      );
    o.push('');
  }
  const comp = map.compression;
  if (comp) {
    const ws = map.layers.map((l) => map.sections[l.sections.weights]!);
    o.push(
      '## Compressed weights',
      '',
      `${weightsLabel(map)}: ${n(comp.weights)} weights, ${n(comp.zeros)} of them zero (${pct(comp.zeros / Math.max(1, comp.weights))})${comp.prune > 0 ? ` after pruning ${pct(comp.prune)} of each layer by magnitude` : ''}; stored in ${n(Math.ceil(t.weightsBits / 8))} B against ${n(comp.denseInt8Bits / 8)} B of plain int8 (${(comp.denseInt8Bits / Math.max(1, t.weightsBits)).toFixed(2)}x smaller). The golden model and the firmware run the decoded int8 weights (checksum per layer below).`,
      '',
      'Stream per layer: codebook (int8 bytes), then entries of run + value bits, LSB first; an entry yields run zeros, then codebook[value] (or the value sign-extended).',
      '',
      '| layer | weights | codebook | run bits | value bits | entries | stream bytes | bits / weight | decoded checksum |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const w of ws) {
      const d = w.decoder!;
      o.push(
        `| ${mdEsc(w.layer)} | ${n(d.elements)} | ${d.codebookEntries || '-'} | ${d.runBits || '-'} | ${d.valueBits} | ${n(d.entries)} | ${n(w.bytes)} | ${(w.contentBits / Math.max(1, d.elements)).toFixed(2)} | ${hex32Upper(d.decodedChecksum)} |`,
      );
    }
    o.push('');
  }
  o.push('## Next to the seed', '', '| model | size |', '| --- | ---: |');
  for (const f of SEED_FIGURES) o.push(`| ${f.what} (seed) | ${f.mb} MB |`);
  if (comp) {
    o.push(`| ${mdEsc(map.model)}, ${weightsLabel(map)}, weights (codebooks + stream) (this map) | ${mb(t.weightsBits)} |`);
    o.push(`| ${mdEsc(map.model)}, ${weightsLabel(map)}, all parameters (this map) | ${mb(t.contentBits)} |`);
    o.push('', 'The seed\'s figures count weights only (pruning, codebooks and sparse indices); the weights row compares with them, the all-parameters row adds int32 bias, multipliers and shifts.', '');
  } else {
    for (const c of opts.comparison ?? [{ precision: map.precision, contentBits: t.contentBits }])
      o.push(`| ${mdEsc(map.model)}, ${c.precision}, all parameters (this map) | ${mb(c.contentBits)} |`);
    o.push('', 'The seed\'s figures count weights only and, for Deep Compression, pruning plus codebooks; ours count every stored parameter (weights, int32 bias, multipliers, shifts), unpruned.', '');
  }

  o.push('## Memories', '', '| memory | kind | banks x depth x width | base | bank stride | layout | ports | read width/cycle | holds | capacity |', '| --- | --- | --- | --- | --- | --- | ---: | ---: | --- | ---: |');
  for (const m of map.memories)
    o.push(
      `| ${m.name} | ${m.kind} | ${m.banks} x ${n(m.depth)} x ${m.wordBits} b | ${hex32Upper(m.base)} | ${hex32Upper(m.bankStride)} | ${m.layout} | ${m.ports} | ${n(m.banks * m.ports * m.wordBits)} b | ${m.holds.join(', ') || '-'} | ${n(m.capacityBytes)} B |`,
    );
  o.push('', '## Banks', '', '| memory | bank | address | used words | content bits | wasted bits | arena bits | utilization | | init file |', '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const m of map.memories)
    for (const u of m.bankUse)
      o.push(
        `| ${m.name} | ${u.bank} | ${hex32Upper(u.address)} | ${n(u.usedWords)} / ${n(m.depth)} | ${n(u.contentBits)} | ${n(u.paddingBits)} | ${n(u.arenaBits)} | ${pct(u.utilization)} | ${bar(u.utilization)} | ${u.initFile ?? '-'} |`,
      );
  if (map.arena) {
    o.push('', `## Activation arena`, '', `Planner strategy \`${map.arena.strategy}\`, peak ${n(map.arena.peakBytes)} B.`, '', '| memory | address | offset | used | capacity |', '| --- | --- | ---: | ---: | ---: |');
    for (const r of map.arena.regions) o.push(`| ${r.memory} | ${hex32Upper(r.address)} | ${n(r.offset)} | ${n(r.used)} B | ${n(r.capacity)} B |`);
  }
  o.push('', '## Layers', '', '| # | layer | out x k x in | weights at | weight bytes | words | bias / mult / shift at | checksum |', '| ---: | --- | --- | --- | ---: | ---: | --- | --- |');
  for (const l of map.layers) {
    const w = map.sections[l.sections.weights]!;
    const at = (id: number): string => {
      const s = map.sections[id]!;
      return `${s.memory}@${hex32Upper(s.address)}`;
    };
    o.push(
      `| ${l.index} | ${mdEsc(l.name)} | ${l.outChannels} x ${l.kernel[0]}x${l.kernel[1]} x ${l.inChannels} | ${w.memory}@${hex32Upper(w.address)}${w.pieces.length > 1 ? ` (${w.pieces.length} pieces)` : ''} | ${n(w.bytes)} | ${n(l.words)} | ${at(l.sections.bias)} / ${at(l.sections.multiplier)} / ${at(l.sections.shift)} | ${hex32Upper(l.checksum)} |`,
    );
  }
  o.push('');
  return o.join('\n');
}
