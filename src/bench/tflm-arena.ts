/**
 * The planner bench's TFLite Micro column: the same QModel exported as .tflite and run once in TFLM (when the venv
 * is set up), its arena as TFLM's RecordingMicroAllocator reports it beside sqzfw's plans. TFLM's head is the
 * non-persistent part (activations and scratch, TFLM's own greedy planner over the layer order); its tail holds
 * TFLM's runtime structures, which sqzfw's static C keeps out of the arena. The model input is in both.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MemoryPlan } from '../planner/types.js';
import type { QModel } from '../quantize/types.js';
import { exportTflite } from '../tflite/export.js';
import { parseTflmArena, runTflm, tflmPython } from '../tflite/tflm.js';
import type { BenchRow } from './types.js';
import { kib } from '../util/format.js';


export async function tflmArenaRows(name: string, model: QModel, input: Int8Array, plain: MemoryPlan, tiled: MemoryPlan): Promise<BenchRow[]> {
  if (!tflmPython()) return [{ name: `${name}: TFLite Micro arena`, baseline: { label: 'skipped', value: 1 }, result: { label: 'skipped', value: 1 }, unit: 'bytes', ratio: 1, note: '.venv with tflite-micro missing: run scripts/setup.sh' }];
  const dir = mkdtempSync(join(tmpdir(), 'sqzfw-bench-tflm-'));
  try {
    const file = join(dir, 'model.tflite');
    writeFileSync(file, exportTflite(model));
    const r = await runTflm({ model: file, inputs: [new Uint8Array(input.buffer, input.byteOffset, input.length)], outputCount: model.outputs.length, allocations: true });
    const a = parseTflmArena(r.allocations);
    if (!a) throw new Error(`no arena report from TFLite Micro: ${r.allocations.slice(0, 200)}`);
    const row = (what: string, plan: MemoryPlan): BenchRow => ({
      name: `${name}: activation arena against TFLite Micro on the same .tflite (${what})`,
      baseline: { label: 'TFLM non-persistent arena', value: a.head },
      result: { label: `sqzfw ${plan.strategy} plan`, value: plan.peakBytes },
      unit: 'bytes',
      ratio: plan.peakBytes / a.head,
      note: `TFLM ${kib(a.head)} + ${kib(a.tail)} persistent = ${kib(a.total)} total; sqzfw ${kib(plan.peakBytes)} with CMSIS-NN scratch`,
    });
    return [row('layer by layer', plain), row('row bands', tiled)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
