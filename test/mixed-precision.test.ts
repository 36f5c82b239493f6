/**
 * int4 quantization of conv layers (src/quantize/int4.ts), mixed precision under a weights budget
 * (src/precision) and int4 layers in generated firmware: the s4 calls, packed weights and scratch, built with
 * -Werror and run in QEMU bit-exact with the golden model; the tiled planner with int4 layers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { buildFirmware } from '../src/toolchain/index.js';
import { emitProject, emulateProject, generateFiles, generateProject } from '../src/driver/index.js';
import { writeProject } from '../src/project.js';
import type { ConvStep } from '../src/planner/types.js';
import { splitPoolSteps } from '../src/emit/library.js';
import { codeRegionReserve, S4_CODE_BYTES, weightArraysOf } from '../src/emit/weights-placement.js';
import { prepareSynthetic, type PreparedModel } from '../src/prepare/index.js';
import { runGolden, runReference } from '../src/golden/run.js';
import { executePlan } from '../src/planner/execute.js';
import { int4Macs, planModel } from '../src/planner/index.js';
import { classifierConv, withInt4Layers, withInt8Channels, weightArrayBytes } from '../src/quantize/int4.js';
import { selectMixed, weightBytes } from '../src/precision/mixed.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import type { QConv, QModel } from '../src/quantize/types.js';
import { UserError } from '../src/errors.js';
import { haveTool } from './c/cases.js';
import { required } from './helpers/require.js';
import { ARM_CMSIS_NN } from './helpers/arm-cmsis-nn.js';
import { hostModelBinary, runHostModel } from './helpers/host-model.js';

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-mixed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const canRun = haveTool('arm-none-eabi-gcc') && haveTool('qemu-system-arm');
required('arm-none-eabi-gcc and qemu-system-arm', canRun);

const prep = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 3 });
const convs = prep.model.layers.filter((l): l is QConv => l.op === 'conv');

describe('int4 quantization of conv layers', () => {
  const all4 = withInt4Layers(prep.float!, prep.model, convs.map((l) => l.name));
  const c4 = all4.layers.filter((l): l is QConv => l.op === 'conv');

  it('gives per-channel symmetric int4 values in [-8, 7], new scales and requantization, same activations', () => {
    for (const l of c4) {
      expect(l.weightBits).toBe(4);
      expect(l.weights.every((w) => w >= -8 && w <= 7)).toBe(true);
      expect(l.weights.some((w) => w === -8 || Math.abs(w) === 7)).toBe(true);
      expect(weightArrayBytes(l)).toBe(Math.ceil(l.weights.length / 2));
    }
    // the 16th level is used: channels whose largest |w| is negative (or clipped) reach -8
    expect(c4.some((l) => l.weights.includes(-8))).toBe(true);
    expect(all4.tensors).toEqual(prep.model.tensors);
    expect(c4[0].multiplier).not.toEqual(convs[0].multiplier);
  });

  it('the chosen channel scale has no larger weight error than the plain max-abs scale', () => {
    const l = c4[3];
    const f = prep.float!.weights[l.name].weights;
    const per = l.weights.length / l.bias.length;
    for (let c = 0; c < l.bias.length; c++) {
      let amax = 0;
      for (let i = c * per; i < (c + 1) * per; i++) amax = Math.max(amax, Math.abs(f[i]));
      const s0 = amax / 7;
      let e0 = 0;
      let e1 = 0;
      for (let i = c * per; i < (c + 1) * per; i++) {
        e0 += (f[i] - s0 * Math.max(-7, Math.min(7, Math.round(f[i] / s0)))) ** 2;
        e1 += (f[i] - l.weightScales[c] * l.weights[i]) ** 2;
      }
      expect(e1).toBeLessThanOrEqual(e0 * (1 + 1e-9));
    }
  });

  it('the flash estimate reserves the s4 kernels\' code only when a layer is int4', () => {
    const one = withInt4Layers(prep.float!, prep.model, [convs[1].name]);
    expect(codeRegionReserve(one, 10) - codeRegionReserve(prep.model, 10)).toBe(S4_CODE_BYTES);
    expect(codeRegionReserve(all4, 10)).toBe(codeRegionReserve(one, 10));
  });

  it('the reference golden model (s4 twins on packed weights) equals the fast engine (int4 values as int8) on an int4 model', () => {
    const a = runReference(all4, prep.input);
    const b = runGolden(all4, prep.input);
    for (const o of all4.outputs) expect(Array.from(a[o])).toEqual(Array.from(b[o]));
  });
});

describe('mixed precision under a budget', () => {
  const inputs = prep.calibInputs!.map((x) => quantizeInput(x, prep.model.tensors[prep.model.input]));
  const target = prep.model.outputs[0];
  const int8 = weightBytes(prep.model);

  it('turns the cheapest layers to int4 until the weights fit, and no more than needed', () => {
    const budget = Math.round(int8 * 0.8);
    const r = selectMixed(prep.float!, prep.model, inputs, target, (m) => weightBytes(m) <= budget, 'test');
    expect(r.bytes).toBeLessThanOrEqual(budget);
    expect(r.bytes).toBe(weightBytes(r.model));
    const four = r.layers.filter((l) => l.bits === 4);
    expect(four.length).toBeGreaterThan(0);
    expect(four.length).toBeLessThan(convs.length);
    // minimal: giving int8 back to any chosen layer breaks the budget
    for (const l of four) {
      const rest = four.filter((x) => x !== l).map((x) => x.name);
      expect(weightBytes(withInt4Layers(prep.float!, prep.model, rest))).toBeGreaterThan(budget);
    }
    expect(r.layers.every((l) => l.sensitivity > 0)).toBe(true);
    expect(r.outputError).toBeGreaterThan(0);
  });

  it('keeps the int8 model when it fits, and refuses a budget int4 cannot meet', () => {
    const r = selectMixed(prep.float!, prep.model, inputs, target, () => true, 'test');
    expect(r.layers.every((l) => l.bits === 8)).toBe(true);
    expect(() => selectMixed(prep.float!, prep.model, inputs, target, (m) => weightBytes(m) <= 1000, 'a budget of 1000 bytes')).toThrow(UserError);
  });

  it('tiled plans with int4 layers execute bit-exact with the golden model (s4 scratch rule)', () => {
    const mixed = withInt4Layers(prep.float!, prep.model, convs.filter((_, i) => i % 2 === 0).map((l) => l.name));
    const plan = planModel(mixed, { regions: [{ name: 'RAM', capacity: 24 * 1024 }], path: 'dsp', strategy: 'tiled' });
    const via = executePlan(mixed, plan, prep.input);
    const golden = runGolden(mixed, prep.input);
    for (const o of mixed.outputs) expect(Array.from(via[o])).toEqual(Array.from(golden[o]));
    expect(plan.steps.filter((s) => s.op === 'conv').length).toBeGreaterThan(convs.length);
  });
});

describe.skipIf(!canRun)('int4 layers in firmware', () => {
  it('generate --weights-budget emits arm_convolve_wrapper_s4 with packed weights; QEMU M4 output is bit-exact', async () => {
    const board = loadBoard('mps2-an386');
    const budget = Math.round(weightBytes(prep.model) * 0.75);
    const dir = join(tmp, 'fw');
    const r = generateProject(prep, board, dir, { weightsBudget: budget });
    expect(r.mixed!.bytes).toBeLessThanOrEqual(budget);
    const src = readFileSync(join(dir, 'model', 'model.c'), 'utf8');
    const weights = readFileSync(join(dir, 'model', 'model_weights.c'), 'utf8');
    const four = r.mixed!.layers.filter((l) => l.bits === 4);
    expect(four.length).toBeGreaterThan(0);
    // Each conv layer's calls go through its sqzfw_conv_layer: the int4 ones name the s4 wrapper, the others s8.
    expect(src).toContain('.run = arm_convolve_wrapper_s4,');
    expect(src).toContain('.run = arm_convolve_wrapper_s8,');
    expect(src.match(/\.run = arm_convolve_wrapper_s4,/g)).toHaveLength(four.length);
    const l4 = r.mixed!.model.layers.find((l) => l.name === four[0].name) as QConv;
    expect(weights).toMatch(new RegExp(`sqzfw_w_\\w+\\[${Math.ceil(l4.weights.length / 2)}\\]`));
    expect(src).toContain('.buffer_size = arm_convolve_wrapper_s4_get_buffer_size,');
    await buildFirmware({ projectDir: dir, semihosting: true });
    const e = await emulateProject({ projectDir: dir, timeoutMs: 120_000 });
    expect(e.comparison.mismatches).toEqual([]);
    expect(e.comparison.bytes).toBe(Object.values(r.expected).reduce((n, v) => n + v.length, 0));
    expect(e.comparison.bytes).toBeGreaterThanOrEqual(10);
  }, 300_000);

  /**
   * The classifier conv in int4 but for some classes kept in int8 (QConv.int8Channels): an s8 call and an s4 call
   * per conv step, each writing its own block of channels, pooled back into class order through the order table.
   */
  function splitModel(p: PreparedModel, alsoInt4: string[] = []): { model: QModel; conv: QConv } {
    const q = p.model;
    const cls = classifierConv(q)!;
    const all4 = withInt4Layers(p.float!, q, [cls.name, ...alsoInt4]);
    const cout = cls.bias.length;
    // every third class and a few at the ends, so that both calls have channels out of class order
    const keep = [...Array.from({ length: cout }, (_, c) => c).filter((c) => c % 3 === 1), 0, cout - 1];
    const conv = withInt8Channels(all4.layers.find((l) => l.name === cls.name) as QConv, cls, keep);
    expect(conv.int8Channels!.length).toBeGreaterThan(1);
    expect(conv.int8Channels!.length).toBeLessThan(cout - 1);
    return { model: { ...all4, layers: all4.layers.map((l) => (l.name === cls.name ? conv : l)) }, conv };
  }

  /** Bytes of the arrays model_weights.c declares, by name. */
  function declaredArrays(weightsC: string): Map<string, number> {
    const size: Record<string, number> = { int8_t: 1, uint16_t: 2, int32_t: 4 };
    return new Map([...weightsC.matchAll(/^const (int8_t|uint16_t|int32_t) (\w+)\[(\d+)\]/gm)].map((m) => [m[2], size[m[1]] * Number(m[3])]));
  }

  /** What the emitted C of a split classifier conv must hold, and the weight arrays' bytes against placement. */
  function checkSplitSources(dir: string, model: QModel, conv: QConv): string {
    const src = readFileSync(join(dir, 'model', 'model.c'), 'utf8');
    const weightsC = readFileSync(join(dir, 'model', 'model_weights.c'), 'utf8');
    const id = conv.name;
    const n8 = conv.int8Channels!.length;
    const cout = conv.bias.length;
    const per = conv.weights.length / cout;
    expect(src).toMatch(new RegExp(`sqzfw_conv_layer ${id}_s8_layer = \\{ \\.run = arm_convolve_wrapper_s8,.*\\.weights = sqzfw_w_${id},.*\\.bias = sqzfw_b_${id} \\}`));
    expect(src).toMatch(new RegExp(`sqzfw_conv_layer ${id}_s4_layer = \\{ \\.run = arm_convolve_wrapper_s4,.*\\.filter_dims = &dims_${cout - n8}x1x1x${conv.weights.length / cout}, \\.weights = sqzfw_w4_${id},.*\\.bias = sqzfw_b_${id} \\+ ${n8} \\}`));
    expect(src).toMatch(new RegExp(`st = sqzfw_conv\\(&${id}_s8_call_\\w+, .*\\n.*if \\(st == ARM_CMSIS_NN_SUCCESS\\) st = sqzfw_conv\\(&${id}_s4_call_`));
    // the order table: class of each position, int8 classes first
    const table = new RegExp(`const uint16_t sqzfw_o_${id}\\[${cout}\\] SQZFW_WEIGHTS = \\{\\n([^}]*)\\}`).exec(weightsC);
    expect(table).not.toBeNull();
    const order = table![1].split(/[,\s]+/).filter(Boolean).map(Number);
    expect(order).toEqual([...conv.int8Channels!, ...Array.from({ length: cout }, (_, c) => c).filter((c) => !conv.int8Channels!.includes(c))]);
    // weights: n8 classes in s8, the rest packed two per byte; placement and the precision budget count the same bytes
    const declared = declaredArrays(weightsC);
    expect(declared.get(`sqzfw_w_${id}`)).toBe(n8 * per);
    expect(declared.get(`sqzfw_w4_${id}`)).toBe(Math.ceil(((cout - n8) * per) / 2));
    const arrays = weightArraysOf(model);
    expect(new Map(arrays.map((a) => [a.name, a.bytes]))).toEqual(declared);
    const total = [...declared.values()].reduce((a, b) => a + b, 0);
    expect(weightBytes(model)).toBe(total);
    expect(readFileSync(join(dir, 'model', 'model.h'), 'utf8')).toContain(`#define SQZFW_WEIGHTS_BYTES ${total}\n`);
    return src;
  }

  async function runSplit(dir: string, expected: Record<string, Int8Array>, p: PreparedModel, opts: { cmsisNnDir?: string } = {}): Promise<void> {
    const golden = runGolden(p.model, p.input);
    for (const o of p.model.outputs) expect(Array.from(expected[o])).toEqual(Array.from(golden[o]));
    await buildFirmware({ projectDir: dir, semihosting: true, cmsisNnDir: opts.cmsisNnDir });
    const e = await emulateProject({ projectDir: dir, timeoutMs: 120_000 });
    expect(e.comparison.missing).toEqual([]);
    expect(e.comparison.mismatches).toEqual([]);
    expect(e.comparison.bytes).toBe(p.model.outputs.reduce((n, o) => n + golden[o].length, 0));
    // the same library on the host, scalar and with the DSP path emulated (bundled CMSIS-NN)
    const want = Buffer.concat(p.model.outputs.map((o) => Buffer.from(golden[o].buffer, golden[o].byteOffset, golden[o].length)));
    for (const emulateDsp of [false, true]) expect(runHostModel(hostModelBinary(dir, { emulateDsp }), p.input).equals(want), `host C, DSP ${emulateDsp}`).toBe(true);
  }

  /** The loop bodies over bands in model.c that contain `text`. */
  const loopBodies = (src: string, text: string): string[] =>
    [...src.matchAll(/\n    for \(int32_t band = 0; band < \d+; band\+\+\) \{\n((?:        .*\n)+)    \}/g)].map((m) => m[1]).filter((b) => b.includes(text));

  it('a classifier conv split between int8 and int4 classes, row bands with the fused pool in a band loop: QEMU M4 and host C bit-exact', async () => {
    const base = prepareSynthetic({ variant: 'v1.1', inputSize: 128, classes: 10, seed: 3 });
    const { model, conv } = splitModel(base);
    const p = { ...base, model };
    const dir = join(tmp, 'split-bands');
    const r = generateProject(p, loadBoard('mps2-an386'), dir, { strategy: 'tiled' });
    expect(r.plan.chains!.some((c) => c.fusedPool && c.bands >= 4)).toBe(true);
    expect(r.plan.steps.some((s) => s.op === 'avgpool')).toBe(false);
    const src = checkSplitSources(dir, model, conv);
    // the split calls and the order-aware accumulation inside a loop over bands
    const n8 = conv.int8Channels!.length;
    const bodies = loopBodies(src, `${conv.name}_s4_call_`);
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies[0]).toMatch(new RegExp(`sqzfw_gap_accumulate_order_s8\\(.*, sqzfw_o_${conv.name}, `));
    expect(bodies[0]).toMatch(new RegExp(`sqzfw_gap_accumulate_order_s8\\(.*, sqzfw_o_${conv.name} \\+ ${n8}, `));
    expect(src).not.toMatch(/sqzfw_gap_accumulate_s8\(/);
    // int4 MACs: only the int4 classes' share of the classifier
    const per = conv.weights.length / conv.bias.length;
    const h = model.tensors[conv.output].dims;
    expect(int4Macs(r.plan, model)).toBe(h.h * h.w * (conv.bias.length - n8) * per);
    await runSplit(dir, r.expected, p);
  }, 300_000);

  it("a classifier conv split between int8 and int4 classes, whole tensors (plain plan, M7, Arm's CMSIS-NN when present): QEMU and host C bit-exact", async () => {
    const { model, conv } = splitModel(prep, [convs[1].name]);
    const p = { ...prep, model };
    const dir = join(tmp, 'split-plain');
    const r = generateProject(p, loadBoard('mps2-an500'), dir, { strategy: 'plain' });
    const src = checkSplitSources(dir, model, conv);
    const n8 = conv.int8Channels!.length;
    const d = model.tensors[conv.output].dims;
    // one conv call over the whole tensor, then the pool of its two blocks (chunk = all h*w pixels) into class order
    expect(src).toMatch(new RegExp(`st = sqzfw_global_avgpool_requant_split_s8\\(&\\w+, &dims_1x${d.h}x${d.w}x${d.c}, \\w+, ${d.h * d.w}, ${n8}, sqzfw_o_${conv.name}, \\w+\\);`));
    expect(src).not.toMatch(/sqzfw_global_avgpool_requant_s8\(/);
    await runSplit(dir, r.expected, p, { cmsisNnDir: ARM_CMSIS_NN });
  }, 300_000);

  it('a classifier conv split between int8 and int4 classes, run in row bands into the whole tensor before its pool (unfused, band loop): QEMU and host C bit-exact', async () => {
    // As the v1.0@227 and v1.1@224 plans for stm32f746g-disco run the classifier conv: in 2 bands, then one pool.
    const base = prepareSynthetic({ variant: 'v1.1', inputSize: 128, classes: 10, seed: 3 });
    const { model, conv } = splitModel(base);
    const p = { ...base, model };
    const board = loadBoard('mps2-an386');
    const plan = planModel(model, { regions: [{ name: 'SSRAM23', capacity: 80 * 1024 }], path: 'dsp', strategy: 'tiled', fusePool: false });
    const calls = plan.steps.filter((s): s is ConvStep => s.op === 'conv' && s.layer === conv.name);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(plan.steps.some((s) => s.op === 'gapacc')).toBe(false);
    const dir = join(tmp, 'split-unfused');
    const { files, expected } = emitProject(p, board, plan);
    writeProject(dir, files);
    const src = checkSplitSources(dir, model, conv);
    const d = model.tensors[conv.output].dims;
    const n8 = conv.int8Channels!.length;
    expect(loopBodies(src, `${conv.name}_s4_call_`).length).toBeGreaterThan(0);
    expect(src).toMatch(new RegExp(`st = sqzfw_global_avgpool_requant_split_s8\\(&\\w+, &dims_1x${d.h}x${d.w}x${d.c}, \\w+, ${calls[0].outDims.h * d.w}, ${n8}, sqzfw_o_${conv.name}, \\w+\\);`));
    await runSplit(dir, expected, p);
  }, 300_000);

  it('generate --weights-budget that keeps classifier classes in int8: the split classifier in firmware, QEMU M4 bit-exact', async () => {
    // 1000 classes: the classifier holds most weights, so the budget makes it int4 and its leftover bytes keep classes
    const big = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 1000, seed: 3 });
    const budget = Math.round(weightBytes(big.model) * 0.7);
    const dir = join(tmp, 'split-budget');
    const r = generateProject(big, loadBoard('mps2-an386'), dir, { weightsBudget: budget });
    const conv = r.mixed!.model.layers.find((l) => l.name === classifierConv(big.model)!.name) as QConv;
    expect(conv.int8Channels?.length).toBeGreaterThan(0);
    expect(r.mixed!.bytes).toBeLessThanOrEqual(budget);
    checkSplitSources(dir, r.mixed!.model, conv);
    await runSplit(dir, r.expected, { ...big, model: r.mixed!.model });
  }, 300_000);

  it('a split classifier conv read by anything but its global pool is an internal error', () => {
    const { model, conv } = splitModel(prep);
    const plan = planModel(model, { regions: [{ name: 'RAM', capacity: 1 << 20 }], path: 'dsp', strategy: 'plain' });
    expect(splitPoolSteps(model, plan).size).toBe(1);
    const at = plan.steps.findIndex((s) => s.op === 'conv' && s.layer === conv.name);
    // the conv run twice before its pool, or the pool reading another place than the conv wrote
    const twice = { ...plan, steps: [...plan.steps.slice(0, at + 1), plan.steps[at], ...plan.steps.slice(at + 1)] };
    expect(() => splitPoolSteps(model, twice)).toThrow(/^internal error: step \d+ \(avgpool pool10\): it does not read the bands the conv10 calls before it wrote/);
    const moved = { ...plan, steps: plan.steps.map((s) => (s.op === 'avgpool' && s.layer !== conv.name ? { ...s, input: { ...s.input, offset: s.input.offset + 1 } } : s)) };
    expect(() => splitPoolSteps(model, moved)).toThrow(/it does not read the bands the conv10 calls before it wrote/);
    const unpooled = { ...plan, steps: plan.steps.filter((s) => s.op !== 'avgpool') };
    expect(() => splitPoolSteps(model, unpooled)).toThrow(/^internal error: step \d+ \(conv conv10\): the channels conv10 wrote are never pooled$/);
  });

  it('--fit-flash refuses what int4 cannot fit, with the one-line error', () => {
    const board = loadBoard('netduinoplus2');
    const big = prepareSynthetic({ variant: 'v1.0', inputSize: 64, classes: 5000, seed: 1 });
    expect(() => generateFiles(big, board, { fitFlash: true })).toThrow(/does not fit the internal flash of netduinoplus2 even with int4 weights in every layer/);
  }, 120_000);
});
