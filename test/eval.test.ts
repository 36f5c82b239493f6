/**
 * Evaluation, calibration and fetch-model on small generated models and images (no network, no QEMU: the firmware
 * runner is injected). The real QEMU path is exercised by `sqzfw eval --emulate N` (see the closing note).
 */
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { UserError } from '../src/errors.js';
import { registerEvalCommand, registerFetchModelCommand } from '../src/eval/cli.js';
import { formatEval, runEval, type EvalResult, type FirmwareRunner } from '../src/eval/eval.js';
import { int4WeightBytes } from '../src/precision/mixed.js';
import { CATALOG, fetchModel } from '../src/eval/fetch.js';
import { requantizeFast } from '../src/golden/fast.js';
import { requantize } from '../src/golden/kernels.js';
import { groundTruth, parseLabelsCsv } from '../src/eval/labels.js';
import { calibrateImages } from '../src/eval/prepare.js';
import { prepareImageModel } from '../src/prepare/image-model.js';
import { runGolden, runReference } from '../src/golden/run.js';
import { importOnnx, loadModel } from '../src/import/index.js';
import { Calibrator, calibrate, calibrationReport, formatCalibrationReport } from '../src/quantize/calibrate.js';
import { quantizeInput, quantizeModel } from '../src/quantize/quantize.js';
import { mulberry32 } from '../src/util/random.js';
import { buildQuantizedModel, syntheticFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { torchvisionSqueezeNet } from './helpers/onnx-writer.js';

/** A folder with a small torchvision-style SqueezeNet 1.1 (8 classes, 40x40), its card, 8 images and labels.csv. */
function fixture(): { dir: string; model: string; images: string; calib: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sqzfw-eval-'));
  const ex = torchvisionSqueezeNet({ version: '1_1', inputSize: 40, classes: 8, seed: 5 });
  const model = join(dir, 'tiny.onnx');
  writeFileSync(model, ex.bytes);
  writeFileSync(join(dir, 'names.txt'), Array.from({ length: 8 }, (_, i) => `class${i}`).join('\n'));
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ channelOrder: 'RGB', pixelRange: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: { mode: 'shorter', size: 46 }, labels: 'names.txt' }));
  const images = join(dir, 'images');
  const calib = join(dir, 'calib');
  for (const d of [images, calib]) {
    require('node:fs').mkdirSync(d);
  }
  const rnd = mulberry32(9);
  const rows = ['file,index'];
  for (let i = 0; i < 8; i++) {
    const w = 48 + i * 3;
    const h = 44 + ((i * 5) % 9);
    const rgba = Buffer.alloc(w * h * 4);
    for (let p = 0; p < w * h; p++) rgba.set([Math.floor(rnd() * 256), (p * (i + 1)) % 256, (i * 30) % 256, 255], p * 4);
    const name = i % 2 ? `img${i}.png` : `img${i}.jpg`;
    if (i % 2) {
      const png = new PNG({ width: w, height: h });
      rgba.copy(png.data);
      writeFileSync(join(images, name), PNG.sync.write(png));
    } else writeFileSync(join(images, name), jpeg.encode({ width: w, height: h, data: rgba }, 90).data);
    writeFileSync(join(calib, name), readFileSync(join(images, name)));
    rows.push(`${name},${i % 8}`);
  }
  writeFileSync(join(images, 'labels.csv'), rows.join('\n'));
  return { dir, model, images, calib };
}

describe('calibration', () => {
  const model = syntheticFloatModel({ variant: 'v1.1', inputSize: 32, classes: 10, seed: 2, softmax: false });
  const inputs = syntheticInputs(model, 6, 300);

  test('minmax is unchanged; percentile and mse stay inside the min/max range', () => {
    const mm = calibrate(model, inputs, { method: 'minmax' });
    for (const method of ['percentile', 'mse'] as const) {
      const r = calibrate(model, inputs, { method });
      for (const [t, range] of Object.entries(r)) {
        expect(range.min).toBeGreaterThanOrEqual(mm[t].min);
        expect(range.max).toBeLessThanOrEqual(mm[t].max);
        expect(range.max).toBeGreaterThan(range.min);
      }
      expect(r[model.graph.input.name]).toEqual(mm[model.graph.input.name]);
    }
  });

  test('deterministic: merging calibrators of any split equals one calibrator', () => {
    for (const method of ['minmax', 'percentile', 'mse'] as const) {
      const one = new Calibrator(model, { method });
      for (const x of inputs) one.addInput(x);
      const a = new Calibrator(model, { method });
      const b = new Calibrator(model, { method });
      inputs.forEach((x, i) => (i % 3 === 1 ? a : b).addInput(x));
      b.merge(a);
      expect(b.ranges()).toEqual(one.ranges());
    }
  });

  test('percentile and mse clip a rare outlier that min/max keeps', () => {
    const cal = new Calibrator(model, { method: 'percentile', percentile: 99.9 });
    const mse = new Calibrator(model, { method: 'mse' });
    const mm = new Calibrator(model, { method: 'minmax' });
    const data = Float32Array.from({ length: 100_000 }, (_, i) => (i === 7 ? 1000 : (i % 1000) / 100));
    for (const c of [cal, mm]) c.addTensors({ t: data });
    expect(cal.ranges().t.max).toBeLessThan(11);
    expect(mm.ranges().t.max).toBe(1000);
    // Exponential values (max near 11.5 for 10^5 samples): the 8-bit MSE optimum is about 10 (Banner et al. 2019).
    const rnd = mulberry32(3);
    const tail = Float32Array.from({ length: 100_000 }, () => -Math.log(1 - rnd()));
    mse.addTensors({ t: tail });
    const max = Math.max(...tail);
    expect(mse.ranges().t.max).toBeLessThan(max);
    expect(mse.ranges().t.max).toBeGreaterThan(8.5);
    expect(mse.ranges().t.max).toBeLessThan(11);
  });

  test('NaN or infinite activations are a UserError naming the tensor', () => {
    const cal = new Calibrator(model, { method: 'mse' });
    expect(() => cal.addTensors({ bad: Float32Array.from([1, Number.NaN]) })).toThrow(/NaN or infinite values in tensor bad/);
    expect(() => cal.addTensors({ big: Float32Array.from([Infinity]) })).toThrow(UserError);
  });

  test('the report lists every tensor with its scale and zero point', () => {
    const cal = new Calibrator(model, { method: 'mse' });
    for (const x of inputs) cal.addInput(x);
    const q = quantizeModel(model, cal.ranges());
    const rows = calibrationReport(q, cal);
    expect(rows.length).toBe(Object.keys(q.tensors).length);
    for (const r of rows) {
      expect(r.scale).toBeGreaterThan(0);
      expect(r.zeroPoint).toBeGreaterThanOrEqual(-128);
      expect(r.zeroPoint).toBeLessThanOrEqual(127);
      expect(r.representable.min).toBeLessThanOrEqual(0);
    }
    const text = formatCalibrationReport(rows, 'mse');
    expect(text).toMatch(/scale/);
    expect(text.split('\n').length).toBe(rows.length + 3);
  });
});

describe('the fast int8 engine equals the reference kernels', () => {
  test('requantizeFast equals the golden requantize (random and edge values)', () => {
    const rnd = mulberry32(99);
    const edges = [0, 1, -1, 2097152, -2097152, 2097153, -2097153, 2147483647, -2147483648, 1 << 20, -(1 << 20) - 1, 12345, -54321];
    const mults = [0, 1073741824, 2147483647, 1518500250, 1073741825];
    for (const acc of edges) for (const mult of mults) for (let shift = -31; shift <= 30; shift++) expect(requantizeFast(acc, mult, shift)).toBe(requantize(acc, mult, shift));
    for (let i = 0; i < 300_000; i++) {
      const big = rnd() < 0.1;
      const acc = Math.floor((rnd() * 2 - 1) * (big ? 2 ** 31 : 2 ** (1 + rnd() * 22)));
      const mult = 1073741824 + Math.floor(rnd() * 1073741823);
      const shift = Math.floor(rnd() * 40) - 31;
      expect(requantizeFast(acc | 0, mult, Math.min(shift, 8))).toBe(requantize(acc | 0, mult, Math.min(shift, 8)));
    }
  });
  test('every tensor of a synthetic SqueezeNet, bit for bit', () => {
    for (const variant of ['v1.0', 'v1.1-complex-bypass'] as const) {
      const q = buildQuantizedModel({ variant, inputSize: 48, classes: 12, seed: 4 });
      const x = quantizeInput(syntheticInputs(syntheticFloatModel({ variant, inputSize: 48, classes: 12, seed: 4 }), 1, 77)[0], q.tensors[q.input]);
      const g = runReference(q, x);
      const f = runGolden(q, x);
      for (const k of Object.keys(g)) expect(Buffer.from(f[k].buffer).equals(Buffer.from(g[k].buffer)), `${variant} ${k}`).toBe(true);
    }
  });
  test('an imported model with a padded 1x1 conv (Caffe conv10 style)', () => {
    const ex = torchvisionSqueezeNet({ version: '1_0', inputSize: 35, classes: 6, seed: 8 });
    const m = importOnnx(ex.bytes);
    const q = quantizeModel(m, calibrate(m, syntheticInputs(m, 2, 5)));
    const x = quantizeInput(syntheticInputs(m, 1, 6)[0], q.tensors[q.input]);
    const g = runReference(q, x);
    const f = runGolden(q, x);
    for (const k of Object.keys(g)) expect(Array.from(f[k])).toEqual(Array.from(g[k]));
  });
});

describe('labels', () => {
  test('CSV with and without header; missing labels and bad lines are UserErrors', () => {
    expect([...parseLabelsCsv('file,index,wnid\na.jpg,3,n1\nb.png,0,n2\n', 'x').entries()]).toEqual([['a.jpg', 3], ['b.png', 0]]);
    expect([...parseLabelsCsv('a.jpg,3\n', 'x').entries()]).toEqual([['a.jpg', 3]]);
    expect(() => parseLabelsCsv('a.jpg,cat\n', 'x')).toThrow(UserError);
    expect(() => parseLabelsCsv('a.jpg,12\n', 'x', 10)).toThrow(/below 10/);
    expect(() => parseLabelsCsv('name,colour\n', 'x')).toThrow(/no file and index/);
  });
  test('WordNet ids in file names when there is no CSV', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-lab-'));
    const labels = { names: ['a', 'b'], wnids: ['n00000001', 'n00000002'] };
    expect(groundTruth([join(dir, 'n00000002_x.JPEG')], dir, { labels }).labels).toEqual([1]);
    expect(() => groundTruth([join(dir, 'cat.jpg')], dir, { labels })).toThrow(/WordNet id/);
    expect(() => groundTruth([join(dir, 'cat.jpg')], dir, {})).toThrow(/no labels/);
  });
});

describe('eval', () => {
  const fx = fixture();

  test('2-fold held-out calibration: every image scored by the model calibrated on the other fold; deterministic', async () => {
    const r = await runEval({ model: fx.model, images: fx.images, jobs: 1, calibMethod: 'mse' });
    expect(r.images.count).toBe(8);
    expect(r.calibration.models).toBe(2);
    expect(r.calibration.imagesPerModel).toEqual([4, 4]);
    expect(r.perImage.map((p) => p.fold)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(r.float.n).toBe(8);
    expect(r.float.top5).toBeGreaterThanOrEqual(r.float.top1);
    expect(r.perImage.every((p) => p.float.length === 5 && p.int8.length === 5)).toBe(true);
    expect(r.card.channelOrder).toBe('RGB');
    const again = await runEval({ model: fx.model, images: fx.images, jobs: 1, calibMethod: 'mse' });
    expect(again.perImage).toEqual(r.perImage);
    const text = formatEval(r);
    expect(text).toMatch(/float\s+\d+\/8/);
    expect(text).toMatch(/int8 golden/);
  });

  test('--jobs 1 and --jobs 2 give identical results (held-out folds and a calibration folder)', async () => {
    for (const extra of [{ calibMethod: 'mse' as const }, { calib: fx.calib, calibCount: 3, calibMethod: 'percentile' as const }]) {
      const one = await runEval({ model: fx.model, images: fx.images, jobs: 1, ...extra });
      const two = await runEval({ model: fx.model, images: fx.images, jobs: 2, ...extra });
      expect(two.perImage).toEqual(one.perImage);
      expect(two.calibration.imagesPerModel).toEqual(one.calibration.imagesPerModel);
      expect([two.float, two.int8, two.top1Flips]).toEqual([one.float, one.int8, one.top1Flips]);
    }
    await expect(runEval({ model: fx.model, images: fx.images, jobs: 0 })).rejects.toThrow(/--jobs 0/);
    const c1 = await calibrateImages({ model: fx.model, images: fx.calib, count: 5, jobs: 1 });
    const c2 = await calibrateImages({ model: fx.model, images: fx.calib, count: 5, jobs: 2 });
    expect(c2.calibrator.ranges()).toEqual(c1.calibrator.ranges());
    expect(c2.images).toBe(5);
  });

  test('separate calibration folder, calibration count and limit', async () => {
    const r = await runEval({ model: fx.model, images: fx.images, jobs: 1, calib: fx.calib, calibCount: 3, calibMethod: 'percentile', limit: 5 });
    expect(r.calibration).toMatchObject({ models: 1, imagesPerModel: [3], method: 'percentile' });
    expect(r.images.count).toBe(5);
  });

  test('an unusable --work-dir is refused before any pass runs, naming --work-dir', async () => {
    const file = join(fx.dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const steps: string[] = [];
    const progress = { start: (label: string) => steps.push(label), tick() {}, end() {} };
    const never: FirmwareRunner = async () => {
      throw new Error('the firmware runner must not be reached');
    };
    const err = await runEval({ model: fx.model, images: fx.images, jobs: 1, emulate: 1, runFirmware: never, workDir: file, progress }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(`cannot write --work-dir ${file}: a file is in the way (EEXIST)`);
    expect(steps).toEqual([]);
  });

  test('--emulate N streams the images through one firmware per int8 model and compares every output byte with the golden model', async () => {
    const calls: { workDir: string; names: string[] }[] = [];
    const latency = { ticks: 1234, instructions: 49360, ms: 1.97, msKind: 'estimate' as const, clockHz: 25e6 };
    const exact: FirmwareRunner = async ({ model, inputs, workDir, whileRunning }) => {
      calls.push({ workDir, names: inputs.map((x) => x.name) });
      inputs.forEach((_, k) => whileRunning?.(k));
      return { results: inputs.map((x) => ({ name: x.name, outputs: runGolden(model, x.input), latency })) };
    };
    const r = await runEval({ model: fx.model, images: fx.images, jobs: 1, emulate: 3, runFirmware: exact, workDir: join(fx.dir, 'fw') });
    expect(r.firmware).toMatchObject({ n: 3, bitExact: 3, mismatched: [], builds: 2, latency: { medianMs: 1.97, kind: 'estimate', medianInstructions: 49360 } });
    expect(r.perImage[0].firmware).toMatchObject({ bitExact: true, ticks: 1234 });
    expect(r.perImage[0].firmware!.top5).toEqual(r.perImage[0].int8);
    // Two folds: one firmware each, images 0 and 2 through the first, image 1 through the second.
    expect(calls.map((c) => [c.workDir, c.names.length])).toEqual([[join(fx.dir, 'fw/fold0'), 2], [join(fx.dir, 'fw/fold1'), 1]]);
    expect(formatEval(r)).toMatch(/2 firmware build\(s\) in QEMU, \d+ s for 3 images/);
    expect(formatEval(r)).toMatch(/median 49,360 instructions \(QEMU -icount\) -> ~2\.0 ms at 25 MHz: an estimate from instruction counts/);
    // The int8 column of emulated images is the golden model's, the same as without --emulate.
    const plain = await runEval({ model: fx.model, images: fx.images, jobs: 1 });
    expect(r.perImage.map((p) => p.int8)).toEqual(plain.perImage.map((p) => p.int8));
    const broken: FirmwareRunner = async ({ model, inputs }) => ({
      results: inputs.map((x, k) => {
        if (k === 1) return { name: x.name, error: 'the answer to an inference arrived corrupted (CRC-32 0x1 instead of 0x2)' };
        const out = runGolden(model, x.input);
        const o = model.outputs[0];
        out[o] = out[o].slice();
        out[o][2] ^= 1;
        return { name: x.name, outputs: out, latency };
      }),
    });
    const bad = await runEval({ model: fx.model, images: fx.images, jobs: 1, emulate: 3, runFirmware: broken });
    expect(bad.firmware).toMatchObject({ n: 3, bitExact: 0 });
    expect(bad.firmware!.mismatched).toHaveLength(3);
    expect(bad.firmware!.mismatched[0]).toMatch(/1 output bytes differ/);
    expect(bad.firmware!.mismatched.join('\n')).toMatch(/arrived corrupted/);
    expect(formatEval(bad)).toMatch(/MISMATCH/);
  });

  test('the CLI prints JSON with --json and a table otherwise', async () => {
    const program = new Command().exitOverride();
    registerEvalCommand(program);
    registerFetchModelCommand(program);
    const out: string[] = [];
    const log = console.log;
    console.log = (s: string) => void out.push(s);
    try {
      await program.parseAsync(['node', 'sqzfw', 'eval', '--model', fx.model, '--images', fx.images, '--json', '--no-progress', '--calib-method', 'minmax', '--limit', '4']);
      await program.parseAsync(['node', 'sqzfw', 'eval', '--model', fx.model, '--images', fx.images, '--no-progress', '--limit', '4', '--resize', 'squash:44', '--channel-order', 'BGR']);
      await program.parseAsync(['node', 'sqzfw', 'calibrate', '--model', fx.model, '--images', fx.calib, '--no-progress', '--calib-count', '2']);
    } finally {
      console.log = log;
    }
    const j = JSON.parse(out[0]);
    expect(j.float.n).toBe(4);
    expect(j.calibration.method).toBe('minmax');
    expect(out[1]).toMatch(/BGR/);
    expect(out[1]).toMatch(/squash to 44/);
    expect(out[2]).toMatch(/zero point/);
    expect(out[2]).toMatch(/calibrated on 2 images/);
  });

  test('calibration once, reused: calibrate --out, then eval --ranges and generate --ranges give the calibrated model', async () => {
    const program = new Command().exitOverride();
    registerEvalCommand(program);
    const ranges = join(fx.dir, 'out', 'ranges.json');
    const log = console.log;
    console.log = () => undefined;
    try {
      await program.parseAsync(['node', 'sqzfw', 'calibrate', '--model', fx.model, '--images', fx.calib, '--no-progress', '--calib-count', '3', '--calib-method', 'percentile', '--out', ranges]);
    } finally {
      console.log = log;
    }
    const file = JSON.parse(readFileSync(ranges, 'utf8'));
    expect(file.format).toBe('sqzfw-ranges/1');
    expect(file.images).toBe(3);
    const viaCalib = await runEval({ model: fx.model, images: fx.images, jobs: 1, calib: fx.calib, calibCount: 3, calibMethod: 'percentile' });
    const viaRanges = await runEval({ model: fx.model, images: fx.images, jobs: 1, ranges });
    expect(viaRanges.perImage.map((p) => p.int8)).toEqual(viaCalib.perImage.map((p) => p.int8));
    expect(viaRanges.calibration.source).toMatch(/ranges in/);
    const calibrated = prepareImageModel({ model: fx.model, image: join(fx.images, 'img0.jpg'), calib: fx.calib, calibCount: 3, method: 'percentile' });
    const reused = prepareImageModel({ model: fx.model, image: join(fx.images, 'img0.jpg'), ranges });
    expect(Array.from(reused.input)).toEqual(Array.from(calibrated.input));
    expect(reused.model.tensors).toEqual(calibrated.model.tensors);
    // Bad files: one-line user errors, and --ranges with --calib is refused.
    writeFileSync(join(fx.dir, 'bad.json'), JSON.stringify({ ...file, ranges: { data: file.ranges.data } }));
    expect(() => prepareImageModel({ model: fx.model, image: join(fx.images, 'img0.jpg'), ranges: join(fx.dir, 'bad.json') })).toThrow(UserError);
    expect(() => prepareImageModel({ model: fx.model, image: join(fx.images, 'img0.jpg'), ranges: join(fx.dir, 'nope.json') })).toThrow(/cannot read ranges file/);
    await expect(runEval({ model: fx.model, images: fx.images, jobs: 1, ranges, calib: fx.calib })).rejects.toThrow(/--ranges and --calib/);
  });

  test('user errors: missing model, folder without images, too few images for folds', async () => {
    await expect(runEval({ model: join(fx.dir, 'nope.onnx'), images: fx.images })).rejects.toThrow(/cannot read model/);
    await expect(runEval({ model: fx.model, images: fx.dir })).rejects.toThrow(/no \.jpg/);
    await expect(runEval({ model: fx.model, images: fx.images, jobs: 1, limit: 1 })).rejects.toThrow(/cannot be split into 2/);
  });

  test('generate input: a real image quantized with the model input parameters, class names for the firmware', () => {
    const p = prepareImageModel({ model: fx.model, image: join(fx.images, 'img0.jpg'), calib: fx.calib, calibCount: 2 });
    expect(p.input.length).toBe(40 * 40 * 3);
    expect(p.labels).toEqual(Array.from({ length: 8 }, (_, i) => `class${i}`));
    expect(p.inputNote).toMatch(/img0\.jpg: shorter 46, centre crop 40x40, RGB/);
    expect(loadModel(fx.model).card.labels?.names.length).toBe(8);
  });
});

describe('fetch-model (no network: loopback server and unreachable hosts only)', () => {
  test('offline: a clear error and how to get the file by hand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-fetch-'));
    // A loopback port nobody listens on: connection refused, as when the network is down.
    const probe = createServer();
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
    const closed = (probe.address() as AddressInfo).port;
    await new Promise((ok) => probe.close(ok));
    const err = await fetchModel('squeezenet1_1', { outDir: dir, rewriteUrl: () => `http://127.0.0.1:${closed}/model.onnx`, timeoutMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/offline/);
    expect(err.hint).toMatch(/sha256 1eeff551/);
    expect(existsSync(join(dir, 'squeezenet1_1.onnx'))).toBe(false);
    await expect(fetchModel('alexnet', { outDir: dir })).rejects.toThrow(/unknown model/);
  });

  test('checksum: a wrong file is refused and nothing is written; a right one is written with its card', async () => {
    const good = new TextEncoder().encode('pretend this is an onnx file');
    const labels = new TextEncoder().encode('n01440764 tench, Tinca tinca\nn01443537 goldfish\n');
    const sha = (b: Uint8Array) => require('node:crypto').createHash('sha256').update(b).digest('hex');
    let serve: Uint8Array = new TextEncoder().encode('tampered');
    const server = createServer((req, res) => {
      res.end(req.url?.endsWith('.txt') ? labels : serve);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    CATALOG.test_model = {
      description: 'test',
      model: { url: 'https://example.invalid/m.onnx', sha256: sha(good), bytes: good.length },
      labels: { url: 'https://example.invalid/l.txt', sha256: sha(labels), bytes: labels.length },
      card: { channelOrder: 'RGB' },
    };
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-fetch-'));
    const rewriteUrl = (u: string) => `http://127.0.0.1:${port}/${u.split('/').pop()}`;
    try {
      await expect(fetchModel('test_model', { outDir: dir, rewriteUrl })).rejects.toThrow(/fails its checksum/);
      expect(existsSync(join(dir, 'test_model.onnx'))).toBe(false);
      serve = good;
      const r = await fetchModel('test_model', { outDir: dir, rewriteUrl });
      expect(readFileSync(r.model)).toEqual(Buffer.from(good));
      expect(JSON.parse(readFileSync(r.card, 'utf8'))).toEqual({ channelOrder: 'RGB', labels: 'test_model.labels.txt' });
      const lines: string[] = [];
      await fetchModel('test_model', { outDir: dir, rewriteUrl: () => 'http://unused.invalid/x', log: (l) => lines.push(l) });
      expect(lines.join('\n')).toMatch(/already present/);
    } finally {
      delete CATALOG.test_model;
      server.close();
    }
  });
});

describe('eval of int4 and mixed precision', () => {
  const fx = fixture();
  // --int4-all alone: the int8 and int4-everywhere columns, and their weight bytes.
  let all4: Promise<EvalResult> | undefined;
  const int4All = (): Promise<EvalResult> => (all4 ??= runEval({ model: fx.model, images: fx.images, jobs: 1, int4All: true }));

  test('--weights-budget: int8, int4 everywhere and the budgeted mixed model per fold; identical for --jobs 1 and 2', async () => {
    const a = await int4All();
    expect(a.mixed).toBeUndefined();
    const [int8Bytes, int4Bytes] = [a.int8WeightBytes[0], a.int4!.weightBytes[0]];
    expect(int4Bytes).toBeLessThan(int8Bytes);
    expect(int4WeightBytes(loadModel(fx.model).model)).toBe(int4Bytes);
    const budget = Math.floor((int8Bytes + int4Bytes) / 2);
    const one = await runEval({ model: fx.model, images: fx.images, jobs: 1, weightsBudget: budget });
    const two = await runEval({ model: fx.model, images: fx.images, jobs: 2, weightsBudget: budget });
    expect(two.perImage).toEqual(one.perImage);
    expect([two.int4, two.mixed]).toEqual([one.int4, one.mixed]);
    // The int8 and int4 columns are those of the run without a budget.
    expect(one.perImage.map((p) => [p.int8, p.int4])).toEqual(a.perImage.map((p) => [p.int8, p.int4]));
    const m = one.mixed!;
    expect(m.budget).toBe(`a weights budget of ${budget} bytes`);
    expect(m.models).toHaveLength(2);
    for (const [f, c] of m.models.entries()) {
      expect(m.weightBytes[f]).toBeLessThanOrEqual(budget);
      expect(m.weightBytes[f]).toBeGreaterThan(int4Bytes);
      expect(c.int4Layers.length).toBeGreaterThan(0);
      expect(c.int4Layers.length).toBeLessThan(c.layers.length);
      expect(c.sensitivityImages).toBe(4); // the model's calibration images: the other fold's 4
      expect([c.roundingImages, c.classImages]).toEqual([4, 4]); // fewer than ROUNDING_IMAGES and CLASS_IMAGES: all of them
      expect(c.layers.filter((l) => l.bits === 4).map((l) => l.name)).toEqual(c.int4Layers);
    }
    expect(m.top1Flips).toBe(one.perImage.filter((p) => p.mixed![0] !== p.float[0]).length);
    expect(m.top1).toBe(one.perImage.filter((p) => p.mixed![0] === p.label).length);
    expect(m.vsInt8.changed).toBe(one.perImage.filter((p) => p.mixed![0] !== p.int8[0]).length);
    expect(m.vsInt8.points).toBeCloseTo((100 * (m.top1 - one.int8.top1)) / 8, 9);
    const text = formatEval(one);
    expect(text).toMatch(/^mixed vs int8: top-1 [+-]?\d+\.\d points \(95% interval [+-]?\d+\.\d \.\. [+-]?\d+\.\d, paired over the images\); \d+ images change/m);
    expect(text).toMatch(/^int4 everywhere\s+\d+\/8/m);
    expect(text).toMatch(new RegExp(`^mixed int4/int8\\s+\\d+/8.*\\s${m.weightBytes[0]}`, 'm'));
    expect(text).toMatch(/model 1: \d+ of \d+ conv layers in int4/);
  });

  test('a budget the int8 model meets keeps it; the int4-everywhere size makes every layer int4; a smaller one fails before any pass', async () => {
    const a = await int4All();
    const tight = await runEval({ model: fx.model, images: fx.images, jobs: 1, weightsBudget: a.int4!.weightBytes[0] });
    expect(tight.perImage.map((p) => p.mixed)).toEqual(a.perImage.map((p) => p.int4));
    expect(tight.mixed!.weightBytes).toEqual(a.int4!.weightBytes);
    const roomy = await runEval({ model: fx.model, images: fx.images, jobs: 1, weightsBudget: a.int8WeightBytes[0] });
    expect(roomy.perImage.map((p) => p.mixed)).toEqual(a.perImage.map((p) => p.int8));
    expect(roomy.mixed!.models.map((m) => m.int4Layers)).toEqual([[], []]);
    const t0 = Date.now();
    await expect(runEval({ model: fx.model, images: fx.images, jobs: 1, weightsBudget: a.int4!.weightBytes[0] - 1 })).rejects.toThrow(/even with int4 weights in every layer/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
