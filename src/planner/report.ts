/**
 * Human-facing views of a MemoryPlan: a per-step table and a memory-timeline picture (SVG, time x address,
 * one box per buffer, one band per region).
 */
import type { MemoryPlan, Ref, Step } from './types.js';
import { liveProfile } from './live.js';

const dimsText = (d: { h: number; w: number; c: number }): string => `${d.h}x${d.w}x${d.c}`;

function stepShapes(s: Step): { input: string; output: string; refs: Ref[] } {
  switch (s.op) {
    case 'conv':
    case 'maxpool':
    case 'avgpool':
      return { input: dimsText(s.inDims), output: dimsText(s.outDims), refs: [s.input, s.output, ...(s.scratch ? [s.scratch] : [])] };
    case 'concat':
      return { input: dimsText(s.inDims), output: `${s.inDims.h}x${s.inDims.w}x${s.outC}@${s.offsetC}`, refs: [s.input, s.output] };
    case 'add':
      return { input: `${s.size}+${s.size}`, output: String(s.size), refs: [s.input1, s.input2, s.output] };
    case 'softmax':
      return { input: `${s.rows}x${s.rowSize}`, output: `${s.rows}x${s.rowSize}`, refs: [s.input, s.output] };
    case 'gapacc':
      return { input: `${s.pixels}x${s.c}`, output: `${s.c} sums`, refs: [s.input, s.sum] };
    case 'gapfinish':
      return { input: `${s.c} sums`, output: `1x1x${s.c}`, refs: [s.sum, s.output] };
    case 'fetch':
      return { input: `rows ${s.first}-${s.last}`, output: `${s.last - s.first + 1}x${s.rowBytes}`, refs: [s.output] };
  }
}

export function planTable(plan: MemoryPlan): string {
  const byName = new Map(plan.buffers.map((b) => [b.name, b]));
  const { perStep, peakStep } = liveProfile(plan.buffers, plan.steps.length);
  const rows = plan.steps.map((s, i) => {
    const { input, output, refs } = stepShapes(s);
    const where = refs.map((r) => {
      const b = byName.get(r.buffer)!;
      return `${b.region}+${b.offset + r.offset}`;
    });
    return [String(i), s.op, s.layer, s.note ?? '', input, output, String(perStep[i]), where.join(' ')];
  });
  const head = ['step', 'op', 'layer', 'band', 'input', 'output', 'live bytes', 'region+offset (in, out, scratch)'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((v, c) => (c === 6 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  out.push('');
  out.push(`peak: ${plan.peakBytes} bytes (${(plan.peakBytes / 1024).toFixed(1)} KiB) of arena; most live at step ${peakStep} (${plan.steps[peakStep]?.layer}), ${perStep[peakStep]} bytes`);
  for (const r of plan.regions) out.push(r.external ? `input: ${r.used} bytes in the caller's buffer, outside the arena` : `region ${r.name}: ${r.used} of ${r.capacity} bytes`);
  const inputBytes = plan.inputBytes ?? 0;
  const fetches = plan.steps.filter((s) => s.op === 'fetch');
  if (plan.inputIn === 'caller') out.push(`arena without the input: ${plan.peakBytes} bytes; with it: ${plan.peakBytes + inputBytes} bytes`);
  else if (plan.inputIn === 'stream') out.push(`input streamed: ${fetches.length} callback calls ask for ${fetches.reduce((n, s) => n + (s.op === 'fetch' ? s.last - s.first + 1 : 0), 0)} rows (steps ${fetches.map((s) => plan.steps.indexOf(s)).join(', ')}); no whole input is held`);
  else out.push(`arena with the input (${inputBytes} bytes) in it: ${plan.peakBytes} bytes`);
  if (plan.lowerBound !== undefined) out.push(`live-bytes lower bound: ${plan.lowerBound} bytes (${(plan.lowerBound / 1024).toFixed(1)} KiB)`);
  const extra = plan.baseMacs ? (100 * (plan.macs - plan.baseMacs)) / plan.baseMacs : 0;
  out.push(`MACs: ${plan.macs.toLocaleString('en-US')} (${extra.toFixed(1)}% above the untiled ${plan.baseMacs.toLocaleString('en-US')}); strategy ${plan.strategy}`);
  if (plan.copyBytes !== undefined) out.push(`bytes copied (concat slices, kept halo rows): ${plan.copyBytes.toLocaleString('en-US')}; ${plan.steps.length} kernel calls`);
  for (const [i, c] of (plan.chains ?? []).entries()) {
    if (c.bands > 1) out.push(`chain ${i}: ${c.first}..${c.last} in ${c.bands} bands of ${c.bandRows} rows, halo rows ${c.halo === 'keep' ? 'kept' : 'recomputed'}, ${c.liveBytes} bytes live at most`);
  }
  return out.join('\n');
}

const COLORS: Record<string, string> = { input: '#8ecae6', output: '#ffb703', tensor: '#90be6d', band: '#43aa8b', scratch: '#f94144' };
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Time (steps, x) against address (bytes, y) per region; deterministic output. */
export function planSvg(plan: MemoryPlan): string {
  const regions = plan.regions.filter((r) => r.used > 0);
  const width = 1000;
  const left = 90;
  const bandH = 320;
  const gap = 40;
  const n = Math.max(1, plan.steps.length);
  const sx = (width - left - 20) / n;
  const parts: string[] = [];
  regions.forEach((r, ri) => {
    const top = 36 + ri * (bandH + gap);
    const sy = bandH / Math.max(1, r.used);
    parts.push(`<text x="4" y="${top + 12}" font-size="12">${esc(r.name)}</text>`);
    parts.push(`<text x="4" y="${top + 26}" font-size="10">${r.used} B</text>`);
    parts.push(`<rect x="${left}" y="${top}" width="${(n * sx).toFixed(1)}" height="${bandH}" fill="none" stroke="#999"/>`);
    for (const b of plan.buffers.filter((x) => x.region === r.name && x.size > 0)) {
      // One box per buffer; a buffer whose rows live at different times is drawn as its live pieces.
      const pieces = b.live ?? [{ first: b.firstUse, last: b.lastUse, start: 0, end: b.size }];
      const title = `<title>${esc(b.name)}: ${b.size} B at ${b.offset}, steps ${b.firstUse}-${b.lastUse}</title>`;
      const rects = pieces.map((p) => {
        const x = left + p.first * sx;
        const w = (p.last - p.first + 1) * sx;
        const y = top + bandH - (b.offset + p.end) * sy;
        const h = Math.max(0.5, (p.end - p.start) * sy);
        return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[b.kind]}" stroke="#333" stroke-width="${pieces.length > 1 ? 0.1 : 0.3}"/>`;
      });
      parts.push(pieces.length === 1 ? rects[0].replace('/>', `>${title}</rect>`) : `<g>${title}${rects.join('')}</g>`);
    }
  });
  const height = 36 + regions.length * (bandH + gap) + 20;
  const legend = Object.entries(COLORS)
    .map(([k, c], i) => `<rect x="${left + i * 110}" y="${height - 18}" width="10" height="10" fill="${c}"/><text x="${left + i * 110 + 14}" y="${height - 9}" font-size="11">${k}</text>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 10}" font-family="sans-serif">`,
    `<text x="${left}" y="14" font-size="13">${esc(plan.model)}: peak ${plan.peakBytes} B (x: step, y: address)</text>`,
    `<text x="${left}" y="27" font-size="9">${esc(plan.strategy.length > 180 ? `${plan.strategy.slice(0, 177)}...` : plan.strategy)}</text>`,
    ...parts,
    legend,
    '</svg>',
    '',
  ].join('\n');
}
