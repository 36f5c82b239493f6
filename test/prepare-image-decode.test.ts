/**
 * prepareImageModel decodes each image file once: --image is the firmware's input and, without --calib, also the
 * calibration image (and the mixed-precision inputs); with --ranges it is still decoded only once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { tinyEvalFixture } from './helpers/tiny-eval.js';

const decoded: string[] = [];
vi.mock('../src/image/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/image/index.js')>();
  return { ...real, loadImageInput: (...a: Parameters<typeof real.loadImageInput>) => (decoded.push(a[0]), real.loadImageInput(...a)) };
});

const { prepareImageModel } = await import('../src/prepare/image-model.js');
const { loadImageInput } = await import('../src/image/index.js');
const { loadModel } = await import('../src/import/index.js');
const { quantizeInput } = await import('../src/quantize/quantize.js');
const { Calibrator } = await import('../src/quantize/calibrate.js');
const { writeRanges } = await import('../src/quantize/ranges-file.js');

const dir = mkdtempSync(join(tmpdir(), 'sqzfw-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fx = tinyEvalFixture(dir);
const image = join(fx.images, 'img2.jpg');
beforeEach(() => void (decoded.length = 0));

describe('prepareImageModel decodes --image once', () => {
  test('the image alone: its one decode is the calibration input and the firmware input', () => {
    const p = prepareImageModel({ model: fx.model, image });
    expect(decoded).toEqual([image]);
    expect(p.calibration).toMatchObject({ images: 1, source: 'the image itself (no --calib folder)' });
    // The same model and input as calibrating on the decoded image by hand.
    const { model: float, card } = loadModel(fx.model);
    const x = loadImageInput(image, card, float.graph.input.dims);
    const cal = new Calibrator(float, { method: 'mse' });
    cal.addInput(x);
    expect(p.calibInputs).toEqual([x]);
    expect(Array.from(p.input)).toEqual(Array.from(quantizeInput(x, p.model.tensors[p.model.input])));
    expect(p.model.tensors[p.model.input]!.scale).toBeGreaterThan(0);
    const ranges = join(dir, 'r.json');
    writeRanges(ranges, float, cal.ranges(), { method: 'mse', images: 1 });
    decoded.length = 0;
    const r = prepareImageModel({ model: fx.model, image, ranges });
    expect(decoded).toEqual([image]);
    expect(r.model.tensors).toEqual(p.model.tensors);
    expect(Array.from(r.input)).toEqual(Array.from(p.input));
  });

  test('with --calib: each calibration image once, the image once', () => {
    prepareImageModel({ model: fx.model, image, calib: fx.images, calibCount: 3 });
    expect([...decoded].sort()).toEqual([join(fx.images, 'img0.jpg'), join(fx.images, 'img1.jpg'), join(fx.images, 'img2.jpg'), image].sort());
  });
});
