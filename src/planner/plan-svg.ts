/**
 * plan.svg: the memory plan as a picture, time (kernel calls, x) against address (y), one panel per arena region.
 * Every buffer is a box over the steps it is live in; the x axis names the layer each run of steps belongs to, the
 * y axis has address ticks (offsets in the region's arena), each panel draws the region's capacity (or says how far
 * above the drawing it is), and the legend says what each colour holds, banded buffers included. Deterministic.
 */
import type { MemoryPlan, PlannedBuffer } from './types.js';

export const BUFFER_KINDS: Record<PlannedBuffer['kind'], { color: string; meaning: string }> = {
  input: { color: '#8ecae6', meaning: 'model input' },
  output: { color: '#ffb703', meaning: 'model output' },
  tensor: { color: '#90be6d', meaning: 'whole activation tensor' },
  band: { color: '#43aa8b', meaning: 'rows of a tensor held by the row-band planner (all rows where its chain runs as one band)' },
  scratch: { color: '#f94144', meaning: 'kernel scratch buffer' },
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Bytes for an axis label: "0", "12 KiB", "1.5 MiB". */
function bytesLabel(n: number): string {
  if (n >= 1 << 20) return `${+(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A tick step of 1, 2 or 5 x 10^k in the unit the labels use (B, KiB or MiB), giving at most `max` ticks up to `top`. */
function tickStep(top: number, max: number): number {
  const unit = top >= 10 << 20 ? 1 << 20 : top >= 10 << 10 ? 1024 : 1;
  const raw = top / unit / max;
  const p = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  return unit * ([1, 2, 5, 10].map((m) => m * p).find((v) => v >= raw) ?? 10 * p);
}

/** Splits text at spaces into lines of at most `width` characters (a longer word stays whole). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Runs of consecutive steps of one layer: the x axis labels. */
export function layerRuns(plan: MemoryPlan): { layer: string; first: number; last: number }[] {
  const runs: { layer: string; first: number; last: number }[] = [];
  plan.steps.forEach((s, i) => {
    const r = runs[runs.length - 1];
    if (r && r.layer === s.layer) r.last = i;
    else runs.push({ layer: s.layer, first: i, last: i });
  });
  return runs;
}

export function planSvg(plan: MemoryPlan): string {
  const regions = plan.regions.filter((r) => r.used > 0);
  const width = 1100;
  const left = 110;
  const right = 20;
  const panelH = 300;
  const axisH = 110; // rotated layer names under each panel
  const n = Math.max(1, plan.steps.length);
  const sx = (width - left - right) / n;
  const subtitle = wrapText(`strategy: ${plan.strategy}`, 150);
  const headH = 22 + subtitle.length * 12 + 10;
  const parts: string[] = [];
  const runs = layerRuns(plan);

  regions.forEach((r, ri) => {
    const top = headH + 20 + ri * (panelH + axisH + 30);
    // The y range: the capacity when the arena fills a good part of it, else a little above the peak.
    const capacityShown = r.capacity <= r.used * 1.25;
    const yMax = capacityShown ? r.capacity : Math.ceil(r.used * 1.1);
    const sy = panelH / Math.max(1, yMax);
    const y = (addr: number): number => top + panelH - addr * sy;
    const x = (step: number): number => left + step * sx;
    parts.push(`<g class="region" data-region="${esc(r.name)}">`);
    parts.push(`<text x="${left}" y="${top - 6}" font-size="12"><tspan font-weight="bold">${esc(r.name)}</tspan>: peak ${bytesLabel(r.used)} (${r.used} B) of ${bytesLabel(r.capacity)}</text>`);
    parts.push(`<rect x="${left}" y="${top}" width="${(n * sx).toFixed(1)}" height="${panelH}" fill="none" stroke="#999"/>`);
    // Address ticks: offsets in this region's arena.
    const step = tickStep(yMax, 6);
    for (let a = 0; a <= yMax; a += step) {
      parts.push(`<line x1="${left - 4}" y1="${y(a).toFixed(1)}" x2="${left}" y2="${y(a).toFixed(1)}" stroke="#333"/>`);
      parts.push(`<text class="address-tick" x="${left - 6}" y="${(y(a) + 3).toFixed(1)}" font-size="9" text-anchor="end">${bytesLabel(a)}</text>`);
    }
    // The peak and the capacity.
    parts.push(`<line x1="${left}" y1="${y(r.used).toFixed(1)}" x2="${left + n * sx}" y2="${y(r.used).toFixed(1)}" stroke="#555" stroke-dasharray="2,2"/>`);
    if (capacityShown) {
      parts.push(`<line class="capacity" x1="${left}" y1="${y(r.capacity).toFixed(1)}" x2="${left + n * sx}" y2="${y(r.capacity).toFixed(1)}" stroke="#d00" stroke-width="1.5"/>`);
      parts.push(`<text class="capacity" x="${left + n * sx - 4}" y="${(y(r.capacity) + 11).toFixed(1)}" font-size="10" fill="#d00" text-anchor="end">capacity ${bytesLabel(r.capacity)} (${r.capacity} B)</text>`);
    } else {
      parts.push(`<text class="capacity" x="${left + n * sx - 4}" y="${top + 11}" font-size="10" fill="#d00" text-anchor="end">capacity ${bytesLabel(r.capacity)} (${r.capacity} B), above the top: ${((100 * r.used) / r.capacity).toFixed(1)}% used</text>`);
    }
    for (const b of plan.buffers.filter((x) => x.region === r.name && x.size > 0)) {
      // One box per buffer; a buffer whose rows live at different times is drawn as its live pieces.
      const pieces = b.live ?? [{ first: b.firstUse, last: b.lastUse, start: 0, end: b.size }];
      const title = `<title>${esc(b.name)} (${b.kind}): ${b.size} B at ${b.offset}, steps ${b.firstUse}-${b.lastUse}</title>`;
      const rects = pieces.map(
        (p) =>
          `<rect x="${x(p.first).toFixed(1)}" y="${y(b.offset + p.end).toFixed(1)}" width="${((p.last - p.first + 1) * sx).toFixed(1)}" height="${Math.max(0.5, (p.end - p.start) * sy).toFixed(1)}" fill="${BUFFER_KINDS[b.kind].color}" stroke="#333" stroke-width="${pieces.length > 1 ? 0.1 : 0.3}"/>`,
      );
      parts.push(pieces.length === 1 ? rects[0]!.replace('/>', `>${title}</rect>`) : `<g>${title}${rects.join('')}</g>`);
    }
    // Step axis: a tick per layer run, named when there is room for it (the rest keep their tick and a tooltip).
    const base = top + panelH;
    let lastLabel = -Infinity;
    for (const run of runs) {
      const mid = x((run.first + run.last + 1) / 2);
      parts.push(`<line x1="${x(run.first).toFixed(1)}" y1="${base}" x2="${x(run.first).toFixed(1)}" y2="${base + 4}" stroke="#333"><title>${esc(run.layer)}: steps ${run.first}-${run.last}</title></line>`);
      if (mid - lastLabel >= 11) {
        parts.push(`<text class="layer-label" transform="translate(${mid.toFixed(1)},${base + 8}) rotate(60)" font-size="8">${esc(run.layer)}</text>`);
        lastLabel = mid;
      }
    }
    parts.push(`<text x="${left + (n * sx) / 2}" y="${base + axisH - 4}" font-size="10" text-anchor="middle">kernel call (step 0-${n - 1}), named by layer</text>`);
    parts.push(`<text transform="translate(${left - 62},${top + panelH / 2}) rotate(-90)" font-size="10" text-anchor="middle">offset in ${esc(r.name)}</text>`);
    parts.push('</g>');
  });

  const height = headH + 20 + regions.length * (panelH + axisH + 30);
  const legend = Object.entries(BUFFER_KINDS)
    .map(([k, { color, meaning }], i) => {
      const lx = left + (i % 2) * 460;
      const ly = height + Math.floor(i / 2) * 16;
      return `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/><text class="legend" x="${lx + 14}" y="${ly}" font-size="11">${k}: ${esc(meaning)}</text>`;
    })
    .join('');
  const legendH = Math.ceil(Object.keys(BUFFER_KINDS).length / 2) * 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + legendH + 6}" font-family="sans-serif">`,
    `<text x="${left}" y="16" font-size="13">${esc(plan.model)}: activation arena peak ${plan.peakBytes} B (x: kernel call, y: offset in the region's arena; dashed: the peak)</text>`,
    ...subtitle.map((l, i) => `<text class="subtitle" x="${left}" y="${30 + i * 12}" font-size="10">${esc(l)}</text>`),
    ...parts,
    legend,
    '</svg>',
    '',
  ].join('\n');
}
