/**
 * Human-facing views of a MemoryPlan: a per-step table, and the memory-timeline picture of ./plan-svg.ts.
 */
import { kib } from '../util/format.js';
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
    case 'max':
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
  out.push(`peak: ${plan.peakBytes} bytes (${kib(plan.peakBytes)}) of arena; most live at step ${peakStep} (${plan.steps[peakStep]?.layer}), ${perStep[peakStep]} bytes`);
  for (const r of plan.regions) out.push(r.external ? `input: ${r.used} bytes in the caller's buffer, outside the arena` : `region ${r.name}: ${r.used} of ${r.capacity} bytes`);
  const inputBytes = plan.inputBytes ?? 0;
  const fetches = plan.steps.filter((s) => s.op === 'fetch');
  if (plan.inputIn === 'caller') out.push(`arena without the input: ${plan.peakBytes} bytes; with it: ${plan.peakBytes + inputBytes} bytes`);
  else if (plan.inputIn === 'stream') out.push(`input streamed: ${fetches.length} callback calls ask for ${fetches.reduce((n, s) => n + (s.op === 'fetch' ? s.last - s.first + 1 : 0), 0)} rows (steps ${fetches.map((s) => plan.steps.indexOf(s)).join(', ')}); no whole input is held`);
  else out.push(`arena with the input (${inputBytes} bytes) in it: ${plan.peakBytes} bytes`);
  if (plan.lowerBound !== undefined) out.push(`live-bytes lower bound: ${plan.lowerBound} bytes (${kib(plan.lowerBound)})`);
  const extra = plan.baseMacs ? (100 * (plan.macs - plan.baseMacs)) / plan.baseMacs : 0;
  out.push(`MACs: ${plan.macs.toLocaleString('en-US')} (${extra.toFixed(1)}% above the untiled ${plan.baseMacs.toLocaleString('en-US')}); strategy ${plan.strategy}`);
  if (plan.copyBytes !== undefined) out.push(`bytes copied (concat slices, kept halo rows): ${plan.copyBytes.toLocaleString('en-US')}; ${plan.steps.length} kernel calls`);
  for (const [i, c] of (plan.chains ?? []).entries()) {
    if (c.bands > 1) out.push(`chain ${i}: ${c.first}..${c.last} in ${c.bands} bands of ${c.bandRows} rows, halo rows ${c.halo === 'keep' ? 'kept' : 'recomputed'}${c.pull ? ', the other tensors pulled a row at a time' : ''}, ${c.liveBytes} bytes live at most`);
  }
  return out.join('\n');
}

export { planSvg } from './plan-svg.js';
