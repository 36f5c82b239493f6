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
import { emulateProject, generateFiles, generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { runGolden, runReference } from '../src/golden/run.js';
import { executePlan } from '../src/planner/execute.js';
import { planModel } from '../src/planner/index.js';
import { withInt4Layers, weightArrayBytes } from '../src/quantize/int4.js';
import { selectMixed, weightBytes } from '../src/precision/mixed.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import type { QConv } from '../src/quantize/types.js';
import { UserError } from '../src/errors.js';
import { haveTool } from './c/cases.js';
import { required } from './helpers/require.js';

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-mixed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const canRun = haveTool('arm-none-eabi-gcc') && haveTool('qemu-system-arm');
required('arm-none-eabi-gcc and qemu-system-arm', canRun);

const prep = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 3 });
const convs = prep.model.layers.filter((l): l is QConv => l.op === 'conv');

describe('int4 quantization of conv layers', () => {
  const all4 = withInt4Layers(prep.float!, prep.model, convs.map((l) => l.name));
  const c4 = all4.layers.filter((l): l is QConv => l.op === 'conv');

  it('gives per-channel symmetric int4 values in [-7, 7], new scales and requantization, same activations', () => {
    for (const l of c4) {
      expect(l.weightBits).toBe(4);
      expect(l.weights.reduce((m, w) => Math.max(m, Math.abs(w)), 0)).toBeLessThanOrEqual(7);
      expect(l.weights.some((w) => Math.abs(w) === 7)).toBe(true);
      expect(weightArrayBytes(l)).toBe(Math.ceil(l.weights.length / 2));
    }
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

  it('--fit-flash refuses what int4 cannot fit, with the one-line error', () => {
    const board = loadBoard('netduinoplus2');
    const big = prepareSynthetic({ variant: 'v1.0', inputSize: 64, classes: 5000, seed: 1 });
    expect(() => generateFiles(big, board, { fitFlash: true })).toThrow(/does not fit the internal flash of netduinoplus2 even with int4 weights in every layer/);
  }, 120_000);
});
