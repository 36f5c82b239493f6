/**
 * Firmware speed in QEMU: guest instructions per inference (exact and repeatable under -icount shift=0), all measured
 * in this run:
 *  - SqueezeNet v1.1@224 on mps2-an500 (Cortex-M7) and mps2-an386 (Cortex-M4): this tree's kernels (firmware/cmsis-nn)
 *    against the previous kernels (the same folder at git revision PREVIOUS_KERNELS, or SQZFW_BENCH_PREVIOUS), DSP and
 *    scalar builds;
 *  - with SQZFW_BENCH_CMSIS_NN=/path/to/CMSIS-NN, Arm's library against ours: v1.1@224 on both boards, v1.0@227 and
 *    (when ../shared has it) the real ImageNet SqueezeNet v1.0 on the M7;
 *  - v1.1@224 with int4 weights in every conv layer on the M7 (DSP): this tree's s4 kernels against the previous ones
 *    (firmware/cmsis-nn at PREVIOUS_S4_KERNELS, or SQZFW_BENCH_PREVIOUS_S4), and Arm's with SQZFW_BENCH_CMSIS_NN;
 *  - per layer type (conv1, 1x1, 3x3, pools, concat, softmax) from the same builds: every kernel call is timed by a
 *    bench-only wrapper file linked in with -Wl,--wrap (src/bench/profile-c.ts); its cost is a few dozen instructions
 *    per call, ~0.001% of an inference.
 * Every firmware run is checked bit-exact against the golden model.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBoard } from '../boards/index.js';
import type { Board } from '../boards/schema.js';
import { buildFirmware } from '../toolchain/index.js';
import { ticksToInstructions } from '../emulate/qemu.js';
import { prepareImageModel } from '../prepare/image-model.js';
import { emulateProject, generateProject } from '../driver/index.js';
import { prepareSynthetic, type PreparedModel } from '../prepare/index.js';
import { withInt4Layers } from '../quantize/int4.js';
import { MANIFEST, projectSourcesHash } from '../project.js';
import type { Bench, BenchRow } from './types.js';
import { PROFILE_C, PROFILE_LDFLAGS, PROFILE_TYPES, parseProfile, type ProfileType } from './profile-c.js';

/** The tree before the current DSP kernels (git revision 7c081d6): the "previous kernels" baseline. */
const PREVIOUS_KERNELS = process.env.SQZFW_BENCH_PREVIOUS ?? '7c081d6';
/** The tree before the blocked s4 kernels (git revision db103a9): the int4 row's baseline. */
const PREVIOUS_S4_KERNELS = process.env.SQZFW_BENCH_PREVIOUS_S4 ?? 'db103a9';
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = join(REPO, '..', 'shared');

interface Kernels {
  label: string;
  dsp: boolean;
  /** CMSIS-NN tree to build against; undefined: the project's own copy of this tree's firmware/cmsis-nn. */
  nnDir?: string;
}

interface Measured {
  instructions: number;
  byType: Map<ProfileType, { calls: number; instructions: number; macs: number }>;
}

/** Build with the profiling wrappers, run in QEMU, check bit-exactness, return totals and per-type counts. */
async function measure(dir: string, board: Board, k: Kernels): Promise<Measured> {
  writeFileSync(join(dir, 'src', 'sqzfw_bench_profile.c'), PROFILE_C);
  // The added file is an edit of the project on purpose: record it, or emulate refuses the build as stale.
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Record<string, unknown>;
  manifest.sourcesHash = projectSourcesHash(dir);
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  // The Makefile's EXTRA_LDFLAGS ?= takes the environment's value; make inherits it from this process.
  const saved = process.env.EXTRA_LDFLAGS;
  process.env.EXTRA_LDFLAGS = PROFILE_LDFLAGS;
  try {
    await buildFirmware({ projectDir: dir, semihosting: true, dsp: k.dsp, cmsisNnDir: k.nnDir });
  } finally {
    if (saved === undefined) delete process.env.EXTRA_LDFLAGS;
    else process.env.EXTRA_LDFLAGS = saved;
  }
  const r = await emulateProject({ projectDir: dir, board, timeoutMs: 900_000 });
  if (r.comparison.mismatches.length || r.comparison.missing.length || r.instructions === undefined) {
    throw new Error(`benchmark firmware (${k.label}) is not bit-exact or printed no ticks (${dir})`);
  }
  const prof = parseProfile(r.stdout);
  const byType = new Map<ProfileType, { calls: number; instructions: number; macs: number }>();
  for (const [t, p] of prof) byType.set(t, { calls: p.calls, instructions: ticksToInstructions(p.ticks, board), macs: p.macs });
  return { instructions: r.instructions, byType };
}

/** firmware/cmsis-nn as it was at `rev`, extracted with git archive. */
function previousKernels(rev: string, into: string): string {
  mkdirSync(into, { recursive: true });
  try {
    const tar = execFileSync('git', ['-C', REPO, 'archive', rev, 'firmware/cmsis-nn'], { maxBuffer: 64 << 20 });
    execFileSync('tar', ['-x', '-C', into], { input: tar });
  } catch (e) {
    throw new Error(`cannot extract the previous kernels (git archive ${rev} firmware/cmsis-nn): ${(e as Error).message.split('\n')[0]}`);
  }
  return join(into, 'firmware', 'cmsis-nn');
}

const perMac = (instr: number, macs: number): string => (instr / macs).toFixed(2);

function totalRow(what: string, macs: number, base: Kernels, b: Measured, res: Kernels, r: Measured, note = ''): BenchRow {
  return {
    name: `${what} instructions/inference`,
    baseline: { label: base.label, value: b.instructions },
    result: { label: res.label, value: r.instructions },
    unit: 'instructions',
    ratio: +(r.instructions / b.instructions).toFixed(3),
    note: `${perMac(b.instructions, macs)} and ${perMac(r.instructions, macs)} instructions per MAC; ${(b.instructions / r.instructions).toFixed(2)}x fewer${note}`,
  };
}

/** One row per layer type: baseline and result instructions, instructions per MAC (per call for layers without MACs). */
function typeRows(what: string, base: Kernels, b: Measured, res: Kernels, r: Measured, arm?: Measured): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const t of PROFILE_TYPES) {
    const x = b.byType.get(t);
    const y = r.byType.get(t);
    if (!x || !y || y.calls === 0) continue;
    const a = arm?.byType.get(t);
    const rate = (m: { instructions: number; macs: number; calls: number }): string =>
      m.macs > 0 ? `${perMac(m.instructions, m.macs)}/MAC` : `${Math.round(m.instructions / m.calls).toLocaleString('en-US')}/call`;
    const share = ((100 * y.instructions) / r.instructions).toFixed(1);
    rows.push({
      name: `${what} layer type ${t} (${y.calls} calls${y.macs ? `, ${(y.macs / 1e6).toFixed(1)}M MACs` : ''}; ${share}% of ${res.label})`,
      baseline: { label: base.label, value: x.instructions },
      result: { label: res.label, value: y.instructions },
      unit: 'instructions',
      ratio: +(y.instructions / Math.max(1, x.instructions)).toFixed(3),
      note: `${rate(x)} -> ${rate(y)}${a ? `; Arm CMSIS-NN ${a.instructions.toLocaleString('en-US')} (${rate(a)})` : ''}`,
    });
  }
  return rows;
}

/**
 * The int4 row: v1.1@224 (1000 classes, synthetic weights) with every conv layer int4 on the M7, DSP builds: the
 * previous s4 kernels, this tree's and (armK) Arm's, each run bit-exact; the totals and the per-layer-type table.
 */
async function benchFirmwareInt4(work: string, armK?: Kernels): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const board = loadBoard('mps2-an500');
  const dir = join(work, 'int4');
  const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 1 });
  const convs = p.model.layers.filter((l) => l.op === 'conv').map((l) => l.name);
  const { plan } = generateProject({ ...p, model: withInt4Layers(p.float!, p.model, convs) }, board, dir);
  const prev: Kernels = { label: `previous s4 kernels ${PREVIOUS_S4_KERNELS} (DSP)`, dsp: true, nnDir: previousKernels(PREVIOUS_S4_KERNELS, join(work, 'previous-s4')) };
  const ours: Kernels = { label: 'sqzfw s4 kernels (DSP)', dsp: true };
  const what = `v1.1@224 every conv int4 ${board.name} (${board.cpu.core}) DSP`;
  const b = await measure(dir, board, prev);
  const r = await measure(dir, board, ours);
  const a = armK ? await measure(dir, board, armK) : undefined;
  rows.push(totalRow(what, plan.macs, prev, b, ours, r));
  if (a && armK) rows.push(totalRow(what, plan.macs, armK, a, ours, r, '; same flags'));
  rows.push(...typeRows(what, prev, b, ours, r, a));
  return rows;
}

export const benchFirmware: Bench = async () => {
  const rows: BenchRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'sqzfw-bench-fw-'));
  const arm = process.env.SQZFW_BENCH_CMSIS_NN;
  try {
    const prevDir = previousKernels(PREVIOUS_KERNELS, join(work, 'previous'));
    const ours = (dsp: boolean): Kernels => ({ label: `sqzfw kernels${dsp ? ' (DSP)' : ' (scalar)'}`, dsp });
    const prev = (dsp: boolean): Kernels => ({ label: `previous kernels ${PREVIOUS_KERNELS}${dsp ? ' (DSP)' : ' (scalar)'}`, dsp, nnDir: prevDir });
    const armK: Kernels | undefined = arm ? { label: `Arm CMSIS-NN (${arm})`, dsp: true, nnDir: arm } : undefined;

    for (const boardName of ['mps2-an500', 'mps2-an386']) {
      const board = loadBoard(boardName);
      const dir = join(work, boardName);
      const { plan } = generateProject(prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 1 }), board, dir);
      const what = `v1.1@224 ${boardName} (${board.cpu.core})`;
      for (const dsp of [true, false]) {
        const b = await measure(dir, board, prev(dsp));
        const r = await measure(dir, board, ours(dsp));
        const a = dsp && armK ? await measure(dir, board, armK) : undefined;
        rows.push(totalRow(`${what} ${dsp ? 'DSP' : 'scalar'}`, plan.macs, prev(dsp), b, ours(dsp), r));
        if (a && armK) rows.push(totalRow(`${what} DSP`, plan.macs, armK, a, ours(dsp), r, '; same flags'));
        rows.push(...typeRows(`${what} ${dsp ? 'DSP' : 'scalar'}`, prev(dsp), b, ours(dsp), r, a));
      }
    }

    rows.push(...(await benchFirmwareInt4(work, armK)));

    if (armK) {
      const board = loadBoard('mps2-an500');
      const models: Array<{ what: string; prepare: () => PreparedModel }> = [
        { what: 'v1.0@227 mps2-an500 (cortex-m7) DSP', prepare: () => prepareSynthetic({ variant: 'v1.0', inputSize: 227, classes: 1000, seed: 1 }) },
      ];
      const realModel = join(SHARED, 'models', 'squeezenet1.0-imagenet.onnx');
      const realImage = join(SHARED, 'images', 'dev', 'n01530575_brambling.JPEG');
      if (existsSync(realModel) && existsSync(realImage)) {
        models.push({
          what: 'real ImageNet SqueezeNet v1.0 mps2-an500 (cortex-m7) DSP',
          prepare: () => prepareImageModel({ model: realModel, image: realImage }),
        });
      }
      for (const [i, m] of models.entries()) {
        const dir = join(work, `model-${i}`);
        const { plan } = generateProject(m.prepare(), board, dir);
        const a = await measure(dir, board, armK);
        const r = await measure(dir, board, ours(true));
        rows.push(totalRow(m.what, plan.macs, armK, a, ours(true), r, '; same flags'));
        rows.push(...typeRows(m.what, armK, a, ours(true), r));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
};
