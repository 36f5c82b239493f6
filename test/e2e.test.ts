/**
 * End to end: generate -> build (arm-none-eabi-gcc, -Werror) -> QEMU, every output byte compared with the golden
 * model; the same generated model compiled for the host as a third leg; generation is deterministic.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { buildFirmware } from '../src/toolchain/index.js';
import { emulateProject, generateFiles, generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import type { Variant } from '../src/prepare/index.js';
import { topK } from '../src/golden/run.js';
import { hostModelBinary, runHostModel } from './helpers/host-model.js';
import { existsSync } from 'node:fs';
import { prepareImageModel } from '../src/prepare/image-model.js';
import { required, IN_CI } from './helpers/require.js';
import { ARM_CMSIS_NN } from './helpers/arm-cmsis-nn.js';
import { buildAndRun, expectBitExact } from './helpers/plan-qemu.js';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const REAL_MODEL = join(SHARED, 'models', 'squeezenet1.0-imagenet.onnx');

const work = mkdtempSync(join(tmpdir(), 'sqzfw-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function roundTrip(variant: Variant, inputSize: number, classes: number, boardName: string, opts: { dsp?: boolean; host?: boolean; cmsisNnDir?: string } = {}) {
  const board = loadBoard(boardName);
  const prepared = prepareSynthetic({ variant, inputSize, classes, seed: 3 });
  const dir = join(work, `${variant}-${inputSize}-${classes}-${boardName}-${opts.dsp === false ? 'scalar' : 'dsp'}${opts.cmsisNnDir ? '-arm' : ''}`);
  const gen = generateProject(prepared, board, dir, { dsp: opts.dsp });
  const totalBytes = prepared.model.outputs.reduce((s, o) => s + gen.expected[o].length, 0);
  const { run, built } = await buildAndRun(dir, board, opts.dsp ?? true, totalBytes, opts.cmsisNnDir);
  if (opts.host) {
    for (const emulateDsp of [false, true]) {
      const out = runHostModel(hostModelBinary(dir, { emulateDsp }), prepared.input);
      const golden = Buffer.concat(prepared.model.outputs.map((o) => Buffer.from(gen.expected[o].buffer, gen.expected[o].byteOffset, gen.expected[o].length)));
      expect(out.equals(golden), `host C (${emulateDsp ? 'DSP path' : 'scalar'}) differs from golden`).toBe(true);
    }
  }
  return { run, built, gen };
}

describe('small SqueezeNet (v1.1, 64x64, 10 classes) bit-exact in QEMU on both boards, both kernel paths', () => {
  test.each([
    ['mps2-an500', true],
    ['mps2-an500', false],
    ['mps2-an386', true],
    ['mps2-an386', false],
  ])('%s, dsp=%s', async (board, dsp) => {
    const { run } = await roundTrip('v1.1', 64, 10, board, { dsp, host: board === 'mps2-an500' && dsp });
    expect(run.instructions).toBeGreaterThan(0);
  });
});

// Arm's tree: SQZFW_TEST_CMSIS_NN or ../shared (test/helpers/arm-cmsis-nn.ts); in CI a missing tree fails.
describe.skipIf(!ARM_CMSIS_NN && !IN_CI)("the generated model linked with Arm's CMSIS-NN", () => {
  test('v1.1 at 64x64 on the Cortex-M4 (DSP) and, scalar, on the Cortex-M7: bit-exact', async () => {
    expect(ARM_CMSIS_NN, "SQZFW_TEST_CMSIS_NN must name Arm's CMSIS-NN tree in CI").toBeTruthy();
    await roundTrip('v1.1', 64, 10, 'mps2-an386', { cmsisNnDir: ARM_CMSIS_NN });
    await roundTrip('v1.1', 64, 10, 'mps2-an500', { cmsisNnDir: ARM_CMSIS_NN, dsp: false });
  });
});

describe('bypass variants bit-exact in QEMU', () => {
  test.each(['v1.0-simple-bypass', 'v1.0-complex-bypass', 'v1.1-simple-bypass', 'v1.1-complex-bypass'] as Variant[])('%s at 64x64', async (variant) => {
    await roundTrip(variant, 64, 10, 'mps2-an500', { host: variant === 'v1.0-complex-bypass' });
  });
  test('v1.0 at 96x96 on the Cortex-M4', async () => {
    await roundTrip('v1.0', 96, 10, 'mps2-an386');
  });
});

describe('full size', () => {
  test('SqueezeNet v1.1 at 224x224 with 1000 classes on mps2-an500: all 2000 output bytes bit-exact', async () => {
    const { run, built } = await roundTrip('v1.1', 224, 1000, 'mps2-an500');
    expect(run.comparison.bytes).toBe(2000);
    expect(built.flashBytes).toBeGreaterThan(1_235_496); // every weight is in flash
  });
});

describe.runIf(required(`the real model ${REAL_MODEL}`, existsSync(REAL_MODEL)))('the real ImageNet SqueezeNet v1.0 (../shared)', () => {
  test('a real JPEG through generate, build and QEMU: every output byte equals the golden model, labels printed', async () => {
    const board = loadBoard('mps2-an500');
    const prepared = prepareImageModel({ model: REAL_MODEL, image: join(SHARED, 'images', 'dev', 'n01530575_brambling.JPEG'), overrides: { labelsFile: join(SHARED, 'images', 'imagenet-classes.txt') } });
    const dir = join(work, 'real-v1.0');
    const gen = generateProject(prepared, board, dir);
    await buildFirmware({ projectDir: dir, semihosting: true });
    const run = await emulateProject({ projectDir: dir, board, timeoutMs: 240_000 });
    expectBitExact(run, 1000);
    expect(run.top5.map((t) => t.index)).toEqual(topK(gen.expected[prepared.model.outputs[0]], 5));
    expect(run.labels).toHaveLength(5);
    expect(run.labels[0]).toBe(prepared.labels![run.top5[0].index]);
  });
});

describe('generated code', () => {
  test('generating twice gives byte-identical files', () => {
    const board = loadBoard('mps2-an386');
    const a = generateFiles(prepareSynthetic({ variant: 'v1.0-complex-bypass', inputSize: 64, classes: 7, seed: 9 }), board).files;
    const b = generateFiles(prepareSynthetic({ variant: 'v1.0-complex-bypass', inputSize: 64, classes: 7, seed: 9 }), board).files;
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(a)) expect(a[k] === b[k], k).toBe(true);
    expect(a['model/model.c']).toMatch(/^\/\* Generated by sqzfw \d+\.\d+\.\d+/);
  });

  test('no HTML escaping anywhere in generated text, plain and tiled plans, every application, class names', () => {
    const board = loadBoard('mps2-an500');
    const p = { ...prepareSynthetic({ variant: 'v1.1', inputSize: 64, classes: 3, seed: 2 }), labels: ['a <b>', 'c & d', '"e" -> f'] };
    for (const strategy of ['plain', 'tiled'] as const) {
      for (const app of ['demo', 'validate', 'none'] as const) {
        const files = generateFiles(p, board, { strategy, app }).files;
        for (const [name, text] of Object.entries(files)) expect(text, `${strategy} ${app} ${name}`).not.toMatch(/&(gt|lt|amp|quot|#39);/);
        expect(files['model/model.c']).toContain('"c & d"');
        if (strategy === 'tiled') expect(files['model/model.c']).toMatch(/\(BUF_\w+ \+ \d+\)/); // band calls point inside named buffers
      }
    }
  });

  test('every template writes values unescaped (<%- %>): no <%= %> that an EJS renderer would HTML-escape', () => {
    const dir = new URL('../templates/', import.meta.url).pathname;
    const templates = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ejs'));
    expect(templates).toContain(join('c', 'model.c.ejs'));
    for (const f of templates) expect(readFileSync(join(dir, f), 'utf8'), f).not.toContain('<%=');
  });

  test('the model library: model.h has the API and constants, no board or runtime in it; the app layer is separate', () => {
    const board = loadBoard('mps2-an386');
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 64, classes: 10, seed: 5 });
    const files = generateFiles(p, board).files;
    const h = files['model/model.h']!;
    const t = p.model.tensors[p.model.input];
    for (const m of ['sqzfw_model_init(int32_t *failed_step)', 'sqzfw_model_run(int32_t *failed_step)', 'int8_t *sqzfw_model_input(void)', 'extern const sqzfw_tensor sqzfw_outputs[SQZFW_OUTPUT_COUNT]', 'static inline int8_t sqzfw_quantize_input(float x)', 'static inline float sqzfw_dequantize('])
      expect(h).toContain(m);
    expect(h).toContain(`#define SQZFW_INPUT_SCALE ${t.scale}`);
    expect(h).toContain(`#define SQZFW_INPUT_ZERO_POINT ${t.zeroPoint}`);
    expect(h).toContain('#define SQZFW_INPUT_BYTES 12288');
    expect(h).toContain('#define SQZFW_CLASS_COUNT 10');
    expect(h).toContain('#define SQZFW_PREPROC_MEAN { 0.485, 0.456, 0.406 }');
    // The linker fragment's comment tells the user which of the profile's regions to alias (documentation, not
    // code); everything the compiler or linker reads is board-free.
    expect(files['model/sqzfw_model.ld']).toContain('REGION_ALIAS("SQZFW_WEIGHTS_REGION", SSRAM1);');
    const lib = Object.entries(files).filter(([k]) => k.startsWith('model/')).map(([, v]) => v.replace(/\/\*[\s\S]*?\*\//g, '')).join('\n');
    expect(lib).not.toMatch(/Reset_Handler|SysTick_Handler|sqzfw_rt_|isr_vector|mps2|SSRAM1\b/);
    expect(files['model/model_weights.c']).toMatch(/const int8_t sqzfw_w_conv1\[\d+\] SQZFW_WEIGHTS = \{/);
    expect(files['model/model.c']).not.toMatch(/arena_\w+ \+ \d+\)?[,;]/); // only the buffer macros use raw offsets
    // The demo's synthetic input is generated at run time: no image in main.c.
    expect(files['src/main.c']).toContain('sqzfw_synthetic_input(in, SQZFW_INPUT_BYTES, DEMO_INPUT_SEED)');
    expect(files['src/main.c'].length).toBeLessThan(8000);
  });

  test('a project written twice to the same folder is identical on disk, and a failed write leaves nothing', () => {
    const board = loadBoard('mps2-an500');
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 64, classes: 10, seed: 5 });
    const d1 = join(work, 'det1');
    const d2 = join(work, 'det2');
    generateProject(p, board, d1);
    generateProject(p, board, d2);
    const list = (d: string) => readdirSync(d, { recursive: true, encoding: 'utf8' }).sort();
    expect(list(d1)).toEqual(list(d2));
    const files = list(d1).filter((f) => statSync(join(d1, f)).isFile());
    expect(files).toContain('Makefile'); // files without a dot in their name are compared too
    for (const f of files) expect(readFileSync(join(d1, f)).equals(readFileSync(join(d2, f))), f).toBe(true);
  });
});
