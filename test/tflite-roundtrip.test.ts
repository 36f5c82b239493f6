/**
 * .tflite export -> import round trip (no TFLM needed): the model read back has the same kernel parameters and
 * the same golden output bytes on every tensor; export is deterministic; unsupported files give one-line errors
 * naming the operator, the tensor and the field.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { UserError } from '../src/errors.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { runGolden } from '../src/golden/run.js';
import { quantizeFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import type { QModel } from '../src/quantize/types.js';
import { exportTflite, importTflite } from '../src/tflite/index.js';
import { qmodelToTflite } from '../src/tflite/export.js';
import { readTflite } from '../src/tflite/read.js';
import { Op, TensorType } from '../src/tflite/schema.js';
import type { TflModel } from '../src/tflite/types.js';
import { writeTflite } from '../src/tflite/write.js';
import { mulberry32 } from '../src/util/random.js';
import { syntheticImage, syntheticModel } from '../src/weights/synthetic.js';
import { randomGraph } from './helpers/random-graph.js';
import { settle } from './helpers/settle.js';
import { VARIANTS } from '../src/graph/squeezenet.js';
import { required } from './helpers/require.js';

const work = mkdtempSync(join(tmpdir(), 'sqzfw-tflite-'));
const DEV = new URL('../../shared/images/dev/', import.meta.url).pathname;
/** ../shared's photos: a test that needs them is skipped without them, except in CI (CI=true), where that fails. */
const haveDev = required('../shared/images/dev', existsSync(DEV));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function expectSameGolden(a: QModel, b: QModel, input: Int8Array): number {
  const ga = runGolden(a, input);
  const gb = runGolden(b, input);
  let bytes = 0;
  for (const t of Object.keys(a.tensors)) {
    expect(Buffer.from(gb[t].buffer, gb[t].byteOffset, gb[t].length).equals(Buffer.from(ga[t].buffer, ga[t].byteOffset, ga[t].length)), t).toBe(true);
    bytes += ga[t].length;
  }
  expect(b.outputs).toEqual(a.outputs);
  return bytes;
}

describe('export then import', () => {
  test.each(VARIANTS.map((v, i) => [v, [48, 67, 56, 61, 64, 50][i], [3, 10, 100, 7, 64, 2][i], i % 2 === 0] as const))('%s @%i, %i classes (uint8/float32 edges: %s): same layers, same golden bytes on every tensor; export is deterministic', async (variant, size, classes, edges) => {
    await settle();
    const p = prepareSynthetic({ variant, inputSize: size, classes, seed: 9 });
    for (const o of [edges ? ({ input: 'uint8', output: 'float32' } as const) : {}]) {
      await settle();
      const bytes = exportTflite(p.model, o);
      expect(Buffer.from(exportTflite(p.model, o)).equals(Buffer.from(bytes))).toBe(true);
      const back = importTflite(bytes);
      expect(back.inputType).toBe(o.input ?? 'int8');
      expect(back.model.layers.map((l) => l.op)).toEqual(p.model.layers.map((l) => l.op));
      expect(expectSameGolden(p.model, back.model, p.input)).toBeGreaterThan(0);
      await settle();
      // A second export of the imported model reads back to the same numbers again.
      expectSameGolden(p.model, importTflite(exportTflite(back.model, o)).model, p.input);
    }
  });

  test('property: random SqueezeNet-like graphs either round-trip exactly or are refused with a clear error', async () => {
    const rnd = mulberry32(77);
    let exact = 0;
    const refused: string[] = [];
    for (let t = 0; t < 60; t++) {
      if (t % 10 === 0) await settle();
      const g = randomGraph(rnd, `r${t}`);
      const fm = syntheticModel(g, t + 3);
      const q = quantizeFloatModel(fm, syntheticInputs(fm, 2, t));
      const d = g.input.dims;
      const input = quantizeInput(syntheticImage(d.h, d.w, d.c, 900 + t), q.tensors[q.input]);
      let bytes: Uint8Array;
      try {
        bytes = exportTflite(q);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as Error).message).toMatch(/padding .* is neither SAME nor VALID/);
        refused.push((e as Error).message);
        continue;
      }
      expectSameGolden(q, importTflite(bytes).model, input);
      exact++;
    }
    expect(exact).toBeGreaterThan(15);
    console.log(`random graphs: ${exact} round-tripped exactly, ${refused.length} refused (explicit pads TFLite cannot express)`);
  });
});

/** A minimal valid model (conv -> softmax) to damage field by field. */
function tiny(): TflModel {
  const p = prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 2, seed: 1 });
  const m = qmodelToTflite(p.model);
  return m;
}

function importError(m: TflModel): string {
  try {
    importTflite(writeTflite(m), 'model x.tflite');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).hint).toBeTruthy();
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('import succeeded');
}

describe('import errors name the operator, the tensor and the field', () => {
  test('unsupported operator', () => {
    const m = tiny();
    m.operators[3] = { ...m.operators[3], builtin: 4 };
    expect(importError(m)).toMatch(/operator 3 \(DEPTHWISE_CONV_2D\): operator DEPTHWISE_CONV_2D is not supported/);
  });
  test('unsupported tensor type', () => {
    const m = tiny();
    const out = m.operators[0].outputs[0];
    m.tensors[out] = { ...m.tensors[out], type: TensorType.FLOAT32 };
    expect(importError(m)).toMatch(new RegExp(`operator 0 \\(CONV_2D\\), tensor ${out} "conv1": type FLOAT32 is not supported`));
  });
  test('unsupported options: dilation, fused activation, concatenation axis, MEAN axes', () => {
    const m = tiny();
    const conv = m.operators[0];
    m.operators[0] = { ...conv, options: { ...(conv.options as Extract<TflModel['operators'][0]['options'], { kind: 'conv2d' }>), dilationH: 2 } };
    expect(importError(m)).toMatch(/operator 0 \(CONV_2D\)\.dilation: dilation 2x1 is not supported/);
    const m2 = tiny();
    m2.operators[0] = { ...m2.operators[0], options: { ...(m2.operators[0].options as Extract<TflModel['operators'][0]['options'], { kind: 'conv2d' }>), activation: 4 } };
    expect(importError(m2)).toMatch(/fused_activation_function: fused activation TANH is not supported/);
    const m3 = tiny();
    const ci = m3.operators.findIndex((o) => o.builtin === Op.CONCATENATION);
    m3.operators[ci] = { ...m3.operators[ci], options: { kind: 'concat', axis: 1, activation: 0 } };
    expect(importError(m3)).toMatch(new RegExp(`operator ${ci} \\(CONCATENATION\\)\\.axis: concatenation on axis 1 is not supported`));
    const m4 = tiny();
    const mi = m4.operators.findIndex((o) => o.builtin === Op.MEAN);
    const ax = m4.operators[mi].inputs[1];
    m4.tensors[ax] = { ...m4.tensors[ax], data: new Uint8Array(new Int32Array([1, 3]).buffer) };
    expect(importError(m4)).toMatch(/MEAN over axes \[1,3\] is not supported/);
  });
  test('per-tensor filter zero point and softmax output quantization', () => {
    const m = tiny();
    const f = m.operators[0].inputs[1];
    m.tensors[f] = { ...m.tensors[f], quant: { ...m.tensors[f].quant!, zeroPoint: m.tensors[f].quant!.zeroPoint.map(() => 3) } };
    expect(importError(m)).toMatch(/tensor \d+ "conv1\/filter"\.quantization\.zero_point: int8 filters must be symmetric/);
    const m2 = tiny();
    const so = m2.operators.find((o) => o.builtin === Op.SOFTMAX)!.outputs[0];
    m2.tensors[so] = { ...m2.tensors[so], quant: { scale: [0.01], zeroPoint: [0], quantizedDimension: 0 } };
    expect(importError(m2)).toMatch(/int8 softmax output must have scale 1\/256 and zero point -128/);
  });
  test('the reader round-trips what the writer wrote, field for field', () => {
    const m = tiny();
    const back = readTflite(writeTflite(m));
    expect(back.operators.map((o) => [o.builtin, o.inputs, o.outputs, o.options])).toEqual(m.operators.map((o) => [o.builtin, o.inputs, o.outputs, o.options]));
    expect(back.tensors.map((t) => [t.name, t.shape, t.type, t.quant?.scale.map(Math.fround), t.data?.length])).toEqual(m.tensors.map((t) => [t.name, t.shape, t.type, t.quant?.scale.map(Math.fround), t.data?.length]));
  });
});

describe('CLI', () => {
  const cli = (args: string[]) => {
    try {
      return { code: 0, out: execFileSync('node', ['bin/sqzfw.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), err: '' };
    } catch (e) {
      const x = e as { status: number; stdout: string; stderr: string };
      return { code: x.status, out: x.stdout, err: x.stderr };
    }
  };
  test('export writes a file that plan reads back with --model; a damaged file is one error line and a hint', () => {
    const file = join(work, 'cli.tflite');
    const r = cli(['export', '--variant', 'v1.1', '--input-size', '48', '--classes', '5', '--tflite', file, '--input-type', 'uint8']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/wrote .*cli\.tflite: \d+ bytes, 39 layers, input uint8, output int8/);
    const plan = cli(['plan', '--model', file, '--image', join(new URL('../../shared/images/dev/', import.meta.url).pathname, 'n01440764_tench.JPEG'), '--out', join(work, 'plan')]);
    if (haveDev) {
      expect(plan.code, plan.err).toBe(0);
      expect(plan.out).toMatch(/wrote .*plan\.json/);
    } else expect(plan.err).toMatch(/^error: cannot read image .*n01440764_tench\.JPEG: not found/); // without ../shared only the image is missing
    writeFileSync(join(work, 'bad.tflite'), Buffer.from('TFL3 is not enough'));
    const bad = cli(['plan', '--model', join(work, 'bad.tflite'), '--image', 'x.jpg']);
    expect(bad.code).toBe(3); // EXIT.input: a damaged model file
    expect(bad.err.trim().split('\n')).toHaveLength(2);
    expect(bad.err).toMatch(/^error: model .*bad\.tflite is not a valid \.tflite file: /);
    expect(bad.err).toMatch(/\nhint: /);
    const calib = cli(['generate', '--model', file, '--image', 'x.jpg', '--calib', 'dir']);
    expect(calib.err).toMatch(/^error: --calib does not apply to a \.tflite model/);
  });
  test.skipIf(!haveDev)('eval --model file.tflite scores the stored int8 model on labelled photos', () => {
    const file = join(work, 'eval.tflite');
    expect(cli(['export', '--variant', 'v1.0', '--input-size', '48', '--classes', '1000', '--tflite', file]).code).toBe(0);
    const r = cli(['eval', '--model', file, '--images', DEV, '--limit', '3', '--no-progress', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j.images.count).toBe(3);
    expect(j.int8.n).toBe(3);
    expect(j.model.classes).toBe(1000);
    expect(j.model.scoreTensor).toBe('pool10');
  });
});
