/**
 * What a user meets at the command line and in the generated files, one check per rough edge: the source speaks of
 * the code (not of how it was written), and the Renode files exist exactly where Renode can run the board.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { listBoards } from '../src/boards/index.js';
import { arenaRegions, kernelPath } from '../src/driver/board-plan.js';
import { emulateProject, generateFiles } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { planModel } from '../src/planner/index.js';
import { layerRuns, planSvg } from '../src/planner/plan-svg.js';
import { loadProfile } from '../src/asic/profile.js';
import { computeAsicMap } from '../src/asic/layout.js';
import { renderBanksSvg } from '../src/asic/writers/report.js';
import { RENODE_FILES, RENODE_PLATFORMS } from '../src/emulate/renode.js';

const root = new URL('..', import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('source comments', () => {
  test('src/, templates/, firmware/ and scripts/ say nothing of the project process (the lead, issue N, a helper)', () => {
    const words = /\b(the lead|lead's|issue ?#?\d+|coordinator|helper engineer|worktree)\b/i;
    const hits: string[] = [];
    for (const d of ['src', 'templates', 'firmware', 'scripts']) {
      for (const f of filesUnder(join(root, d))) {
        readFileSync(f, 'utf8').split('\n').forEach((l, i) => {
          if (words.test(l)) hits.push(`${f.slice(root.length)}:${i + 1}: ${l.trim()}`);
        });
      }
    }
    expect(hits).toEqual([]);
  });
});

describe("the model library's linker fragment (model/sqzfw_model.ld)", () => {
  const prepared = prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 4, seed: 3 });
  test("its REGION_ALIAS lines name the board profile's own regions, with their address and size", () => {
    for (const b of listBoards()) {
      const { files, plan } = generateFiles(prepared, b);
      const ld = files['model/sqzfw_model.ld']!;
      const aliases = [...ld.matchAll(/^ \*     REGION_ALIAS\("(\w+)", (\w+)\);  \((0x[0-9A-F]{8}), ([^:)]+)/gm)].map((m) => m.slice(1));
      const arenas = plan.regions.filter((r) => r.used > 0 && !r.external).map((r) => r.name);
      expect(aliases.map((a) => a[0]), b.name).toEqual(['SQZFW_WEIGHTS_REGION', ...arenas.map((r) => `SQZFW_ARENA_${r}`)]);
      for (const [alias, region, origin] of aliases) {
        const r = b.memory.find((m) => m.name === region);
        expect(r, `${b.name} ${alias} -> ${region}`).toBeDefined();
        expect(origin).toBe(`0x${r!.origin.toString(16).toUpperCase().padStart(8, '0')}`);
        expect(region).toBe(alias === 'SQZFW_WEIGHTS_REGION' ? b.placement.weights[0] : alias.slice('SQZFW_ARENA_'.length));
      }
      expect(ld).toContain(`board profile ${b.name}`);
    }
    // The H743's arena is its D1 AXI SRAM at 0x24000000, not a region called RAM.
    const h7 = generateFiles(prepared, listBoards().find((b) => b.name === 'nucleo-h743zi')!).files['model/sqzfw_model.ld']!;
    expect(h7).toMatch(/REGION_ALIAS\("SQZFW_ARENA_AXI_SRAM", AXI_SRAM\);  \(0x24000000, 512 KiB: D1 AXI SRAM\)/);
    expect(h7).not.toMatch(/, RAM\)/);
  });
});

describe('Renode files', () => {
  const prepared = prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 4, seed: 3 });
  test('every board whose chip Renode has a platform for gets them; only the MPS2 boards get none (Renode has no MPS2 platform)', () => {
    const without: string[] = [];
    for (const b of listBoards()) {
      const files = generateFiles(prepared, b).files;
      if (b.renode) {
        expect(RENODE_PLATFORMS[b.renode.platform], b.name).toBeDefined();
        for (const f of Object.values(RENODE_FILES)) expect(files[f], `${b.name} ${f}`).toBeDefined();
      } else {
        for (const f of Object.values(RENODE_FILES)) expect(files[f], `${b.name} ${f}`).toBeUndefined();
        without.push(b.name);
      }
    }
    expect(without.sort()).toEqual(['mps2-an386', 'mps2-an500']);
    // The README says the same.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/MPS2 boards \(mps2-an500, mps2-an386\) get none/);
    expect(readme).toMatch(/netduinoplus2 on `platforms\/cpus\/stm32f4\.repl`/);
  });
});

// ---- the command line, run as a user runs it ----

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';
import type { z } from 'zod';
import { boardsJson, buildJson, emulateJson, fitJson, infoJson, planJson } from '../src/cli/json.js';
import { buildSqueezeNet } from '../src/graph/squeezenet.js';
import { graphInfo } from '../src/graph/info.js';
import { loadBoard } from '../src/boards/index.js';
import { twinRun } from '../src/emulate/twin-note.js';
import { parseFirmwareOutput } from '../src/emulate/qemu.js';
import { monitorLines } from '../src/flash/monitor.js';
import { loadModel } from '../src/import/index.js';
import { required } from './helpers/require.js';

const work = mkdtempSync(join(tmpdir(), 'sqzfw-user-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MODEL = join(root, '..', 'shared', 'models', 'squeezenet1.0-imagenet.onnx');
const haveModel = existsSync(MODEL);

function sqzfw(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'src', 'main.ts'), ...args], { cwd: work, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs a --json command: exit 0, nothing on stderr, and stdout is one document of the documented shape. */
function json<T extends z.ZodTypeAny>(schema: T, args: string[]): z.infer<T> {
  const r = sqzfw([...args, '--json']);
  expect(r.code, r.err).toBe(0);
  return schema.parse(JSON.parse(r.out));
}

describe('sqzfw info', () => {
  test('--model: per-layer MACs, weight bytes and activation bytes of the real ONNX model', () => {
    if (!required('../shared/models/squeezenet1.0-imagenet.onnx', haveModel)) return;
    const i = json(infoJson, ['info', '--model', MODEL]);
    const g = graphInfo(loadModel(MODEL).model.graph);
    expect(i.input).toEqual({ h: 227, w: 227, c: 3 });
    // The count src/graph/info.ts makes of the same graph, and the MACs src/toolchain/latency.ts measured its rate on.
    expect(i.totals.macs).toBe(g.macs);
    expect(i.totals.macs).toBe(861_339_936);
    expect(i.totals.params).toBe(g.params);
    expect(i.layers.map((l) => l.macs)).toEqual(g.layers.map((l) => l.macs));
    const conv1 = i.layers[0]!;
    expect(conv1).toMatchObject({ op: 'conv', output: { h: 111, w: 111, c: 96 }, macs: 111 * 111 * 96 * 7 * 7 * 3, weightBytes: 96 * 7 * 7 * 3 + 4 * 96, activationBytes: 111 * 111 * 96 });
    expect(i.totals.weightBytes).toBe(i.layers.reduce((s, l) => s + l.weightBytes, 0));
    const text = sqzfw(['info', '--model', MODEL]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^conv1 +conv +111x111x96 +14208 +173,873,952 +14,496 +1,182,816$/m);
  });

  test('--json on the synthetic model matches its text table', () => {
    const i = json(infoJson, ['info', '--variant', 'v1.1', '--input-size', '224']);
    expect(i.totals.macs).toBe(graphInfo(buildSqueezeNet({ variant: "v1.1", inputSize: 224, classes: 1000 })).macs);
    expect(i.totals.params).toBe(1_235_496);
    expect(i.layers.map((l) => l.name)).toEqual(buildSqueezeNet({ variant: 'v1.1', inputSize: 224, classes: 1000 }).nodes.map((n) => n.name));
  });
});

describe('sqzfw info --model on an int8 .tflite', () => {
  test('the exported synthetic model has the totals of the graph it came from', () => {
    const e = sqzfw(['export', '--tflite', 'm32.tflite', '--input-size', '32', '--classes', '10']);
    expect(e.code, e.err).toBe(0);
    const t = json(infoJson, ['info', '--model', 'm32.tflite']);
    const g = json(infoJson, ['info', '--input-size', '32', '--classes', '10']);
    expect(t.input).toEqual(g.input);
    expect(t.totals).toMatchObject({ macs: g.totals.macs, params: g.totals.params, weightBytes: g.totals.weightBytes });
    expect(t.layers.filter((l) => l.op === 'conv').map((l) => l.macs)).toEqual(g.layers.filter((l) => l.op === 'conv').map((l) => l.macs));
  });
});

describe('options that a model ignores are refused, not dropped', () => {
  test.each([
    [['info', '--model', 'm.onnx', '--input-size', '100'], /^error: --input-size does not apply to --model m\.onnx/m],
    [['generate', '--model', 'm.onnx', '--classes', '10', '--out', 'g'], /^error: --classes does not apply to --model/m],
    [['plan', '--class-names', 'names.txt', '--out', 'p'], /^error: --class-names needs --model/m],
    [['demo', '--card', 'card.json', '--out', 'd'], /^error: --card needs --model/m],
    [['generate', '--model', 'm.onnx', '--ranges', 'r.json', '--calib-count', '3', '--out', 'g'], /^error: --calib-count does not apply with --ranges r\.json/m],
    [['eval', '--model', 'm.onnx', '--images', 'i', '--ranges', 'r.json', '--calib-count', '3', '--work-dir', 'e'], /^error: --calib-count does not apply with --ranges r\.json/m],
    [['validate', '--model', 'm.onnx', '--images', 'i', '--emulate', '--ranges', 'r.json', '--calib-count', '3', '--work-dir', 'v'], /^error: --calib-count does not apply with --ranges r\.json/m],
    // The other settings of a calibration run: a saved ranges file replaces the run, so none of them applies.
    [['eval', '--model', 'm.onnx', '--images', 'i', '--ranges', 'r.json', '--calib-method', 'percentile', '--work-dir', 'e'], /^error: --calib-method does not apply with --ranges r\.json/m],
    [['eval', '--model', 'm.onnx', '--images', 'i', '--ranges', 'r.json', '--percentile', '99.9', '--work-dir', 'e'], /^error: --percentile does not apply with --ranges r\.json/m],
    [['eval', '--model', 'm.onnx', '--images', 'i', '--ranges', 'r.json', '--folds', '3', '--work-dir', 'e'], /^error: --folds does not apply with --ranges r\.json/m],
    // A calibration folder replaces the held-out folds.
    [['eval', '--model', 'm.onnx', '--images', 'i', '--calib', 'c', '--folds', '3', '--work-dir', 'e'], /^error: --folds does not apply with --calib c: /m],
    // asic's --model also names a synthetic variant: the model-file options have nothing to apply to.
    [['asic', '--profile', 'asic-4x32', '--model', 'v1.1', '--calib-count', '5', '--out', 'a'], /^error: --calib-count needs a model file: --model v1\.1 is the synthetic SqueezeNet v1\.1, which has no calibration images/m],
    [['asic', '--profile', 'asic-4x32', '--model', 'v1.1', '--calib', 'i', '--out', 'a'], /^error: --calib needs a model file/m],
    [['asic', '--profile', 'asic-4x32', '--model', 'v1.1', '--variant', 'v1.0', '--out', 'a'], /^error: --variant and --model v1\.1 both name the synthetic variant/m],
    [['generate', '--calib', 'i', '--out', 'g'], /^error: --calib needs --model: the synthetic SqueezeNet has no calibration images/m],
  ])('%j', (args, message) => {
    const r = sqzfw(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/^hint: /m);
    expect(r.err.trim().split('\n')).toHaveLength(2);
    expect(existsSync(join(work, (args as string[]).at(-1)!))).toBe(false);
  });

  test('asic --model <variant> takes the synthetic options, as --variant does', () => {
    const r = sqzfw(['asic', '--profile', 'asic-4x32', '--model', 'v1.1', '--input-size', '32', '--classes', '10', '--out', 'asic-variant']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'asic-variant', 'memory_map.json'), 'utf8')).model).toMatch(/32/);
  });

  test.each([
    [['asic', '--profile', 'asic-4x32'], 'sqzfw asic'],
    [['generate'], 'sqzfw generate'],
    [['demo'], 'sqzfw generate'],
    [['plan'], 'sqzfw plan'],
  ])('%j checks its --out folder before it loads the model: a folder it will not replace fails first', (cmd, writer) => {
    mkdirSync(join(work, 'theirs'), { recursive: true });
    writeFileSync(join(work, 'theirs', 'notes.txt'), 'not sqzfw\n');
    const r = sqzfw([...cmd, '--model', 'missing.onnx', '--out', 'theirs']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(new RegExp(`^error: --out theirs is a folder not written by ${writer}`, 'm'));
    expect(r.err.trim().split('\n')).toHaveLength(2);
    expect(readdirSync(join(work, 'theirs'))).toEqual(['notes.txt']);
  });

  test('the defaults alone are not "given": --model without --input-size still runs', () => {
    if (!required('../shared/models/squeezenet1.0-imagenet.onnx', haveModel)) return;
    expect(sqzfw(['info', '--model', MODEL]).code).toBe(0);
  });
});

describe('sqzfw boards', () => {
  test('lists each memory on its own line: the F746 internal flash and its external QSPI are not summed', () => {
    const r = sqzfw(['boards']);
    expect(r.code).toBe(0);
    const f746 = r.out.slice(r.out.indexOf('stm32f746g-disco'));
    expect(f746).toMatch(/^ {2}flash FLASH +1 MiB at 0x08000000 internal {2}\(code, weights\)$/m);
    expect(f746).toMatch(/^ {2}flash QSPI +16 MiB at 0x90000000 external {2}\(weights\)$/m);
    expect(r.out).not.toMatch(/17408/);
    const b = json(boardsJson, ['boards']).find((x) => x.name === 'stm32f746g-disco')!;
    expect(b.memory.map((m) => [m.name, m.bytes, m.external])).toEqual([
      ['FLASH', 1 << 20, false],
      ['QSPI', 16 << 20, true],
      ['SRAM', 320 << 10, false],
    ]);
  });
});

describe('emulate on a QEMU twin says what the twin does not exercise', () => {
  test('stm32f746g-disco: UART, clock, init steps, QSPI, caches, timing; a QEMU board: nothing left out', () => {
    const r = twinRun(loadBoard('stm32f746g-disco'))!;
    expect(r).toMatchObject({ machine: 'mps2-an500', twinOf: 'stm32f746g-disco' });
    const text = r.notExercised.join('\n');
    expect(text).toMatch(/stm32-usart\S* UART usart1 driver/);
    expect(text).toMatch(/clock set-up to 216 MHz/);
    expect(text).toMatch(/external QSPI flash \(16 MiB\)/);
    expect(text).toMatch(/caches/);
    expect(text).toMatch(/cycle timing/);
    expect(twinRun(loadBoard('mps2-an500'))).toEqual({ emulator: 'qemu', machine: 'mps2-an500', twinOf: null, notExercised: [] });
    expect(twinRun(loadBoard('nrf52840-dk'))!.notExercised.join('\n')).not.toMatch(/external/);
  });
});

describe('--json on plan, fit, build and emulate; the top 5 dequantized on the board and on the host', () => {
  test('plan --json: the plan summary, and plan.json says the same', () => {
    const p = json(planJson, ['plan', '--board', 'stm32f746g-disco', '--input-size', '64', '--classes', '10', '--out', 'plan64']);
    const file = JSON.parse(readFileSync(join(work, 'plan64', 'plan.json'), 'utf8')) as { peakBytes: number; macs: number; steps: unknown[] };
    expect(p).toMatchObject({ board: 'stm32f746g-disco', peakBytes: file.peakBytes, macs: file.macs, kernelCalls: file.steps.length });
    expect(p.regions.reduce((s, r) => s + r.used, 0)).toBe(p.peakBytes);
  });

  test('fit --json: the largest input size, with the weights split between internal flash and QSPI', () => {
    const [f] = json(fitJson, ['fit', '--board', 'stm32f746g-disco', '--max-size', '64']);
    expect(f!.largest!.inputSize).toBe(64);
    expect(f!.largest!.weights.map((w) => [w.region, w.external])).toEqual([
      ['FLASH', false],
      ['QSPI', true],
    ]);
    expect(f!.atMaxSize).toBeUndefined();
  });

  test('build --json, emulate --json on the F746 twin: twin named with what it leaves out, bit-exact, top 5 as probabilities from the softmax output', async () => {
    if (!required('arm-none-eabi-gcc and qemu-system-arm', spawnSync('sh', ['-c', 'command -v arm-none-eabi-gcc && command -v qemu-system-arm'], { stdio: 'ignore' }).status === 0)) return;
    const g = sqzfw(['generate', '--board', 'stm32f746g-disco', '--input-size', '32', '--classes', '10', '--out', 'f746']);
    expect(g.code, g.err).toBe(0);
    const b = json(buildJson, ['build', '--project', 'f746']);
    expect(b.output).toMatch(/f746\/build\/firmware\.elf$/);
    expect(b.twinElf).toMatch(/f746\/build\/qemu\/firmware\.elf$/);
    expect(b.latencyEstimate!.clockHz).toBe(216e6);
    const e = json(emulateJson, ['emulate', '--project', 'f746']);
    expect(e.ranOn).toMatchObject({ machine: 'mps2-an500', twinOf: 'stm32f746g-disco' });
    expect(e.ranOn.notExercised.join('\n')).toMatch(/QSPI/);
    expect(e.bitExact).toBe(true);
    expect(e.comparedBytes).toBe(20);
    // The host's dequantization, checked by hand from the manifest: probabilities from the softmax output 'prob'.
    const m = JSON.parse(readFileSync(join(work, 'f746', 'sqzfw.json'), 'utf8')) as { expected: Record<string, string>; quant: Record<string, { scale: number; zeroPoint: number; softmax: boolean }> };
    const bytes = (t: string) => Int8Array.from(Buffer.from(m.expected[t]!, 'hex'));
    const logits = bytes('pool10');
    const probs = bytes('prob');
    expect(m.quant.prob!.softmax).toBe(true);
    expect(e.top5!.kind).toBe('logit');
    expect(e.top5!.classes).toHaveLength(5);
    for (const c of e.top5!.classes) {
      expect(c.q).toBe(logits[c.index]);
      expect(c.score).toBeCloseTo(m.quant.pool10!.scale * (logits[c.index]! - m.quant.pool10!.zeroPoint), 10);
      expect(c.prob).toBeCloseTo(m.quant.prob!.scale * (probs[c.index]! - m.quant.prob!.zeroPoint), 10);
      expect(c.prob!).toBeGreaterThanOrEqual(0);
      expect(c.prob!).toBeLessThanOrEqual(1);
    }
    const ranked = e.top5!.classes.map((c) => c.q);
    expect(ranked).toEqual([...ranked].sort((x, y) => y - x));
    // The text report says it ran on the twin and prints the probabilities.
    const t = sqzfw(['emulate', '--project', 'f746']);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/^ran on stm32f746g-disco's QEMU twin \(mps2-an500/m);
    expect(t.out).toMatch(/^ {2}- the external QSPI flash \(16 MiB\)/m);
    expect(t.out).toMatch(/^top5 \(output pool10, dequantized: logits and softmax probabilities\):$/m);
    expect(t.out).toMatch(new RegExp(`^  1\\. class ${e.top5!.classes[0]!.index}  logit -?\\d+\\.\\d{4}  p \\d\\.\\d{4} \\(\\d+\\.\\d%\\)  \\[int8 -?\\d+\\]$`, 'm'));
    // The firmware printed the same values (4 decimals) on its UART.
    const r = await emulateProject({ projectDir: join(work, 'f746') });
    expect(r.firmwareScores!.map((s) => s.kind)).toEqual(['logit', 'prob']);
    for (const [k, s] of r.firmwareScores!.entries()) {
      expect(s.classes.map((c) => c.index)).toEqual(r.scored!.classes.map((c) => c.index));
      s.classes.forEach((c, i) => expect(Math.abs(c.value - (k === 0 ? r.scored!.classes[i]!.score : r.scored!.classes[i]!.prob!))).toBeLessThanOrEqual(0.00005 + 1e-6));
    }
  }, 600_000);
});

describe('the board monitor (sqzfw flash --monitor) prints the firmware\'s dequantized top 5', () => {
  test('score lines parsed and printed as logits and probabilities; a malformed one is refused', () => {
    const out = ['sqzfw begin m b', 'out prob 3 7f80ff', 'top5 0:127 2:-1 1:-128', 'score prob 0:0.9961 2:0.4961 1:0.0000', 'ticks 5', 'check ok', 'sqzfw end 0', ''].join('\n');
    const r = parseFirmwareOutput(out);
    expect(r.scores).toEqual([{ kind: 'prob', classes: [{ index: 0, value: 0.9961 }, { index: 2, value: 0.4961 }, { index: 1, value: 0 }] }]);
    expect(monitorLines(r, loadBoard('stm32f429i-disc1'))[1]).toBe('result: probabilities 0:0.9961  2:0.4961  1:0.0000');
    expect(() => parseFirmwareOutput(out.replace('score prob', 'score odds'))).toThrow(/expected score logit\|prob/);
    expect(() => parseFirmwareOutput(out.replace('0:0.9961', '0:1'))).toThrow(/expected score logit\|prob/);
  });
});

describe('plan.svg and banks.svg', () => {
  const wellFormed = (svg: string): void => {
    const f = join(work, 'check.svg');
    writeFileSync(f, svg);
    const r = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])', f], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };
  const texts = (svg: string, cls: string): string[] => [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
  const prepared = prepareSynthetic({ variant: 'v1.1', inputSize: 96, classes: 10, seed: 2 });

  test('plan.svg: layer axis, address ticks, each region\'s capacity, the whole strategy, a legend saying what is banded', () => {
    const board = loadBoard('stm32f746g-disco');
    const plan = planModel(prepared.model, { regions: arenaRegions(board), path: kernelPath(board), strategy: 'tiled' });
    expect(plan.strategy.length).toBeGreaterThan(150); // long enough that the old subtitle was cut
    const svg = planSvg(plan);
    wellFormed(svg);
    // Every layer run has a tick with its name; the first layers are named on the axis.
    const labels = texts(svg, 'layer-label');
    expect(labels[0]).toBe(plan.steps[0]!.layer);
    for (const run of layerRuns(plan)) expect(svg).toContain(`<title>${run.layer}: steps ${run.first}-${run.last}</title>`);
    // Names are thinned where a thousand calls share the axis: those shown are the plan's layers.
    for (const l of labels) expect(plan.steps.some((st) => st.layer === l), l).toBe(true);
    // Address ticks from 0 up, in order.
    const ticks = texts(svg, 'address-tick');
    expect(ticks[0]).toBe('0 B');
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    // The capacity of every region used.
    for (const r of plan.regions.filter((x) => x.used > 0)) expect(texts(svg, 'capacity').some((t) => t.includes(`(${r.capacity} B)`)), r.name).toBe(true);
    // The strategy, whole, over as many lines as it needs.
    expect(texts(svg, 'subtitle').join(' ')).toBe(`strategy: ${plan.strategy}`);
    expect(texts(svg, 'subtitle').length).toBeGreaterThan(1);
    const legend = texts(svg, 'legend');
    expect(legend).toContain('band: rows of a tensor held by the row-band planner (all rows where its chain runs as one band)');
    expect(legend).toHaveLength(5);
  });

  test('plan.svg names every layer of a short plan and draws the capacity line inside the panel when the arena fills most of the region', () => {
    const board = loadBoard('nucleo-h743zi');
    const big = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 1 });
    const plan = planModel(big.model, { regions: arenaRegions(board), path: kernelPath(board) });
    const svg = planSvg(plan);
    // 50 calls: every layer is named on the axis.
    expect(new Set(texts(svg, 'layer-label'))).toEqual(new Set(plan.steps.map((st) => st.layer)));
    expect(svg).toMatch(/<line class="capacity" /);
    expect(texts(svg, 'capacity')).toContain('capacity 512 KiB (524288 B)');
  });

  test('banks.svg names the layers beside the banks that hold them', () => {
    const profile = loadProfile('asic-4x32');
    const map = computeAsicMap(prepared.model, profile, { precision: 'int8' });
    const svg = renderBanksSvg(map);
    wellFormed(svg);
    const labels = texts(svg, 'layer-label');
    const conv = prepared.model.layers.filter((l) => l.op === 'conv').map((l) => l.name);
    // Each memory holding weights lists every conv layer once.
    for (const m of map.memories.filter((x) => map.sections.some((s) => s.memory === x.name))) expect(conv.every((c) => labels.includes(c)), m.name).toBe(true);
    expect(labels.filter((l) => l === conv[0]).length).toBe(map.memories.filter((x) => map.sections.some((s) => s.memory === x.name && s.layer === conv[0])).length);
  });
});

describe('README', () => {
  test('documents --json for exactly the commands that take it, and the refused option pairs', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### JSON output'), readme.indexOf('Errors are one line'));
    const documented = [...section.matchAll(/^- `(\w+)`: /gm)].map((m) => m[1]);
    const withJson = ['info', 'boards', 'plan', 'fit', 'build', 'emulate'].filter((c) => sqzfw([c, '--help']).out.includes('--json'));
    expect(documented).toEqual(withJson);
    expect(withJson).toHaveLength(6);
    expect(readme).toMatch(/are refused with\n?\s*`--model`/);
  });
});
