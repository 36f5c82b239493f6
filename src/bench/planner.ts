/**
 * Planner benchmark: the plain layer-by-layer plan against the row-band plans, measured in the same run, for
 * SqueezeNet v1.1 at 224x224 and v1.0 at 227x227 (1000 classes, int8, all kernel scratch in the arena): the row-band
 * plan without the fused classifier pool and with the input in the arena (the tiled plan of before), and the
 * smallest plans with the fused pool and the input in the arena, in a caller's buffer, or streamed. Every plan is first run on simulated RAM against the golden model; when arm-none-eabi-gcc and QEMU are
 * available (and SQZFW_BENCH_QEMU is not 0) each one is also built and run on mps2-an500, all output bytes
 * compared, and the guest instruction counts reported. The same model exported as .tflite gives TFLite Micro's arena
 * beside ours (tflm-arena.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBoard, type Board } from '../boards/index.js';
import { buildFirmware, checkToolchain } from '../toolchain/index.js';
import { arenaRegions } from '../driver/board-plan.js';
import { emitProject, emulateProject, goldenOutputs, verifyPlan } from '../driver/index.js';
import { prepareSynthetic, type PreparedModel } from '../prepare/index.js';
import type { Variant } from '../prepare/index.js';
import { CALLER_REGION, planForBoard } from '../planner/index.js';
import { chainUse } from '../planner/live.js';
import type { MemoryPlan } from '../planner/types.js';
import { writeProject } from '../project.js';
import { tflmArenaRows } from './tflm-arena.js';
import type { Bench, BenchRow } from './types.js';
import { kib } from '../util/format.js';

const KIB = 1024;
/** ST Edge AI Core 3.0 activation RAM for SqueezeNet v1.1 int8 at 224x224, input included (stm32ai-modelzoo). */
const ST_V11_224_BYTES = 829.09 * KIB;

interface Case {
  variant: Variant;
  size: number;
  targetKiB: number;
  /** Target marks for the smallest arena: with the input in it, and without. */
  markInKiB: number;
  markOutKiB: number;
}

const CASES: Case[] = [
  { variant: 'v1.1', size: 224, targetKiB: 256, markInKiB: 160, markOutKiB: 64 },
  { variant: 'v1.0', size: 227, targetKiB: 384, markInKiB: 176, markOutKiB: 64 },
];

const pct = (x: number, base: number): string => `${((100 * (x - base)) / base).toFixed(1)}%`;

function row(name: string, baseline: [string, number], result: [string, number], unit: string, note?: string): BenchRow {
  return { name, baseline: { label: baseline[0], value: baseline[1] }, result: { label: result[0], value: result[1] }, unit, ratio: result[1] / baseline[1], ...(note ? { note } : {}) };
}

async function qemuRun(p: PreparedModel, plan: MemoryPlan, board: Board, dir: string): Promise<{ instructions: number; textBytes: number }> {
  const { files } = emitProject(p, board, plan);
  writeProject(dir, files);
  const built = await buildFirmware({ projectDir: dir, semihosting: true });
  const run = await emulateProject({ projectDir: dir, board, timeoutMs: 300_000 });
  const bad = run.comparison.mismatches.length + run.comparison.missing.length;
  if (bad || run.comparison.bytes === 0) throw new Error(`${p.model.name} (${plan.strategy}): firmware output differs from the golden model in QEMU`);
  if (run.instructions === undefined) throw new Error('QEMU printed no tick count');
  // Code and constant data (the embedded input image included, the same in every plan); weights have their own sections.
  return { instructions: run.instructions, textBytes: (built.sections['.text'] ?? 0) + (built.sections['.rodata'] ?? 0) };
}

async function qemuAvailable(): Promise<boolean> {
  if (process.env.SQZFW_BENCH_QEMU === '0') return false;
  try {
    await checkToolchain();
    return true;
  } catch {
    return false;
  }
}

export const benchPlanner: Bench = async () => {
  const rows: BenchRow[] = [];
  const board = loadBoard('mps2-an500');
  const regions = arenaRegions(board);
  const data = regions[0].name;
  const qemu = await qemuAvailable();
  const work = qemu ? mkdtempSync(join(tmpdir(), 'sqzfw-bench-planner-')) : '';
  try {
    for (const c of CASES) {
      const name = `SqueezeNet ${c.variant} ${c.size}x${c.size} int8`;
      const p = prepareSynthetic({ variant: c.variant, inputSize: c.size, classes: 1000, seed: 3 });
      const expected = goldenOutputs(p);
      const t0 = Date.now();
      const plain = planForBoard(p.model, regions, { strategy: 'plain', path: 'dsp' });
      const t1 = Date.now();
      // The earlier tiled plan: no fused classifier pool, no row pools.
      const tiled = planForBoard(p.model, regions, { strategy: 'tiled', path: 'dsp', fusePool: false, rowPool: false, pull: false });
      const t2 = Date.now();
      const fit = planForBoard(p.model, [{ name: data, capacity: c.targetKiB * KIB }], { strategy: 'auto', path: 'dsp' });
      const t3 = Date.now();
      const fused = planForBoard(p.model, regions, { strategy: 'tiled', path: 'dsp' });
      // The same with two-pass row pools (no running max): the smallest in-arena plan of before.
      const twoPass = planForBoard(p.model, regions, { strategy: 'tiled', path: 'dsp', runningMax: false });
      const caller = planForBoard(p.model, regions, { strategy: 'tiled', path: 'dsp', inputIn: 'caller' });
      const stream = planForBoard(p.model, regions, { strategy: 'tiled', path: 'dsp', inputIn: 'stream' });
      const t4 = Date.now();
      for (const plan of [plain, tiled, fit, fused, twoPass, caller, stream]) verifyPlan(p, plan, expected);
      const bands = (plan: MemoryPlan): string => {
        const banded = (plan.chains ?? []).filter((x) => x.bands > 1);
        const rowPools = banded.filter((x) => x.rowPool).map((x) => `${x.first}..${x.last}`);
        // The chain that sets the arena (its placement reaches highest), and what it has live: the gap is lost to holes.
        const uses = chainUse(plan.buffers, plan.steps, CALLER_REGION);
        const top = uses.reduce<(typeof uses)[number] | undefined>((w, u) => (!w || u.placed > w.placed || (u.placed === w.placed && u.placed - u.live > w.placed - w.live) ? u : w), undefined);
        const chain = top && plan.chains?.[top.chain];
        const holes = top && chain ? `; the arena is set in ${chain.first}..${chain.last}: placed to ${top.placed} B over ${top.live} B live` : '';
        return `${plan.steps.length} calls, ${banded.length} banded chains${rowPools.length ? ` (row pools in ${rowPools.join(', ')})` : ''}; live-bytes lower bound ${kib(plan.lowerBound ?? 0)}${holes}`;
      };
      rows.push(
        row(`${name}: peak SRAM, input and scratch included (smallest plan)`, ['layer by layer', plain.peakBytes], ['row bands', tiled.peakBytes], 'bytes',
          `${kib(plain.peakBytes)} -> ${kib(tiled.peakBytes)} (live-bytes lower bound ${kib(tiled.lowerBound ?? 0)}); ${bands(tiled)}; bit-exact on simulated RAM; planned in ${t1 - t0} ms and ${t2 - t1} ms`),
        row(`${name}: MACs executed (smallest plan)`, ['layer by layer', plain.macs], ['row bands', tiled.macs], 'MACs', `extra MACs from recompute ${pct(tiled.macs, plain.macs)} (halo rows are kept, not recomputed)`),
        row(`${name}: peak SRAM of the fastest plan within ${c.targetKiB} KiB`, ['layer by layer', plain.peakBytes], ['row bands', fit.peakBytes], 'bytes',
          `${kib(fit.peakBytes)} <= ${c.targetKiB} KiB: ${fit.peakBytes <= c.targetKiB * KIB ? 'yes' : 'NO'}; extra MACs ${pct(fit.macs, plain.macs)}; ${bands(fit)}; planned in ${t3 - t2} ms`),
      );
      const mark = (plan: MemoryPlan, markKiB: number): string => `<= ${markKiB} KiB: ${plan.peakBytes <= markKiB * KIB ? 'yes' : 'NO'}`;
      const inputBytes = fused.inputBytes ?? 0;
      const fetches = stream.steps.filter((s) => s.op === 'fetch');
      const fetchedRows = fetches.reduce((n, s) => n + (s.op === 'fetch' ? s.last - s.first + 1 : 0), 0);
      const vs = (plan: MemoryPlan): string => `${kib(plan.peakBytes)}; ${(plain.peakBytes / plan.peakBytes).toFixed(1)}x below the plain plan; extra MACs ${pct(plan.macs, plain.macs)}; ${bands(plan)}`;
      rows.push(
        row(`${name}: arena of the smallest plan, fused classifier pool, input in the arena`, ['row bands, unfused, no row pools', tiled.peakBytes], ['fused pool', fused.peakBytes], 'bytes',
          `${vs(fused)}; ${mark(fused, c.markInKiB)}; input ${inputBytes} B inside; with two-pass row pools instead of running maxes: ${twoPass.peakBytes} B (live-bytes lower bound ${twoPass.lowerBound ?? 0} B)`),
        row(`${name}: arena of the smallest plan, fused pool, input in a caller's buffer`, ['row bands, unfused, no row pools', tiled.peakBytes], ['fused pool, input outside', caller.peakBytes], 'bytes',
          `${vs(caller)}; ${mark(caller, c.markOutKiB)}; with the input: ${kib(caller.peakBytes + inputBytes)}`),
        row(`${name}: arena of the smallest plan, fused pool, streamed input`, ['row bands, unfused, no row pools', tiled.peakBytes], ['fused pool, input streamed', stream.peakBytes], 'bytes',
          `${vs(stream)}; ${mark(stream, c.markOutKiB)}; the callback is asked ${fetches.length} times for ${fetchedRows} of ${p.model.tensors[p.model.input].dims.h} rows; the three plans planned in ${t4 - t3} ms`),
      );
      rows.push(...(await tflmArenaRows(name, p.model, p.input, plain, fused)));
      if (c.variant === 'v1.1') {
        rows.push(row(`${name}: activation RAM against ST Edge AI Core 3.0`, ['ST Edge AI Core 3.0 (published)', ST_V11_224_BYTES], ['sqzfw row bands', tiled.peakBytes], 'bytes',
          `${(ST_V11_224_BYTES / tiled.peakBytes).toFixed(2)}x below (target: at least 3.2x, <= 256 KiB); ST's figure is from the stm32ai-modelzoo README, not measured here`));
      }
      if (qemu) {
        const dir = (what: string): string => join(work, `${c.variant}-${c.size}-${what}`);
        const rPlain = await qemuRun(p, plain, board, dir('plain'));
        const rTiled = await qemuRun(p, tiled, board, dir('tiled'));
        const rFit = await qemuRun(p, fit, board, dir('fit'));
        const rFused = await qemuRun(p, fused, board, dir('fused'));
        const rCaller = await qemuRun(p, caller, board, dir('caller'));
        const rStream = await qemuRun(p, stream, board, dir('stream'));
        const [iPlain, iTiled, iFit] = [rPlain.instructions, rTiled.instructions, rFit.instructions];
        rows.push(
          row(`${name}: instructions per inference in QEMU mps2-an500, smallest plan (all 2000 output bytes bit-exact)`, ['layer by layer', iPlain], ['row bands', iTiled], 'instructions', `${pct(iTiled, iPlain)}`),
          row(`${name}: instructions per inference in QEMU mps2-an500, fastest plan within ${c.targetKiB} KiB (bit-exact)`, ['layer by layer', iPlain], ['row bands', iFit], 'instructions', `${pct(iFit, iPlain)}`),
          row(`${name}: instructions per inference in QEMU mps2-an500, smallest plan with the input in the arena (bit-exact)`, ['layer by layer', iPlain], ['fused pool, input inside', rFused.instructions], 'instructions',
            `${pct(rFused.instructions, iPlain)}; arena ${fused.peakBytes} B (${mark(fused, c.markInKiB)}); code and constants ${rFused.textBytes - rPlain.textBytes} B more than the plain plan's; ${fused.steps.length} calls`),
          row(`${name}: instructions per inference in QEMU mps2-an500, fused pool + caller's input (bit-exact)`, ['layer by layer', iPlain], ['fused, input outside', rCaller.instructions], 'instructions', `${pct(rCaller.instructions, iPlain)}; streamed input: ${rStream.instructions} (${pct(rStream.instructions, iPlain)}), bit-exact`),
          row(`${name}: code and constants (.text + .rodata, weights excluded) of the smallest plan, fused pool + caller's input`, ['layer by layer', rPlain.textBytes], ['fused, input outside', rCaller.textBytes], 'bytes',
            `${rCaller.textBytes - rPlain.textBytes} B more than the plain plan's (mark: within 15 KiB: ${rCaller.textBytes - rPlain.textBytes <= 15 * KIB ? 'yes' : 'NO'}); unfused row bands without row pools: ${rTiled.textBytes} B, streamed: ${rStream.textBytes} B; ${caller.steps.length} calls`),
        );
      }
    }
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
  if (!qemu) rows.push(row('QEMU runs of the planner bench', ['skipped', 1], ['skipped', 1], 'runs', 'arm-none-eabi-gcc/QEMU not available or SQZFW_BENCH_QEMU=0'));
  return rows;
};
