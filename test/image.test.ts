/**
 * Image input: decoding (JPEG, PNG), OpenCV-geometry bilinear resize, centre crop, channel order and normalisation,
 * the model card, and byte-exact agreement with the reference crops in ../shared/models/ref-inputs.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { UserError } from '../src/errors.js';
import { centerCrop, decodeImage, loadImageCrop, loadImageInput, normalize, resizeBilinear, shorterSideSize, type RgbImage } from '../src/image/index.js';
import { applyOverrides, defaultCard, parseCardJson, parseLabels, parseResizeFlag, validateCard, type ModelCard } from '../src/import/card.js';
import { required } from './helpers/require.js';

const SHARED = resolve(__dirname, '../../shared');
const hasShared = required(`../shared/models/ref-inputs`, existsSync(join(SHARED, 'models/ref-inputs')));

const img = (width: number, height: number, f: (x: number, y: number, c: number) => number): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = f(x, y, c);
  return { width, height, data };
};

const caffeCard = (): ModelCard => ({ ...defaultCard('t', 227), channelOrder: 'BGR', pixelRange: 255, mean: [104, 117, 123], std: [1, 1, 1], resize: { mode: 'shorter', size: 256 } });

describe('resize and crop', () => {
  test('exact 2x downscale averages pixel pairs (half-pixel centres), rounding half up', () => {
    const src = img(4, 2, (x) => [10, 21, 30, 40][x]);
    const r = resizeBilinear(src, 2, 1);
    // dst 0 <- src 0.5: (10 + 21) / 2 = 15.5 -> 16; dst 1 <- src 2.5: 35
    expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([16, 35]);
  });
  test('upscale clamps at the edges and interpolates inside', () => {
    const src = img(2, 1, (x) => (x === 0 ? 0 : 100));
    const r = resizeBilinear(src, 4, 1);
    // src x = (d + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([0, 25, 75, 100]);
  });
  test('a constant image stays constant; same size is a copy', () => {
    const src = img(37, 23, () => 77);
    expect(resizeBilinear(src, 256, 159).data.every((v) => v === 77)).toBe(true);
    const same = resizeBilinear(src, 37, 23);
    expect(same.data).toEqual(src.data);
    expect(same.data).not.toBe(src.data);
  });
  test('shorter side to 256 truncates the longer side', () => {
    expect(shorterSideSize(500, 375, 256)).toEqual({ width: 341, height: 256 });
    expect(shorterSideSize(500, 308, 256)).toEqual({ width: 415, height: 256 });
    expect(shorterSideSize(375, 500, 256)).toEqual({ width: 256, height: 341 });
    expect(shorterSideSize(256, 256, 256)).toEqual({ width: 256, height: 256 });
  });
  test('centre crop offset is floor((S - crop) / 2)', () => {
    const src = img(6, 5, (x, y) => y * 10 + x);
    const c = centerCrop(src, 3, 2);
    expect(Array.from(c.data.filter((_, i) => i % 3 === 0))).toEqual([11, 12, 13, 21, 22, 23]);
    expect(() => centerCrop(src, 7, 2)).toThrow(UserError);
  });
});

describe('normalisation and channel order', () => {
  test('Caffe BGR, mean subtraction, no scaling', () => {
    const crop = img(1, 1, (_x, _y, c) => [200, 100, 50][c]);
    expect(Array.from(normalize(crop, caffeCard(), 3))).toEqual([50 - 104, 100 - 117, 200 - 123]);
  });
  test('torchvision RGB, /255, mean and std', () => {
    const crop = img(1, 1, (_x, _y, c) => [255, 0, 128][c]);
    const out = normalize(crop, defaultCard('t', 224), 3);
    expect(out[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(out[1]).toBeCloseTo((0 - 0.456) / 0.224, 5);
    expect(out[2]).toBeCloseTo((128 / 255 - 0.406) / 0.225, 5);
  });
  test('grey models get BT.601 luma', () => {
    const crop = img(1, 1, (_x, _y, c) => [100, 200, 50][c]);
    const out = normalize(crop, { ...caffeCard(), mean: [0], std: [1] }, 1);
    expect(out[0]).toBeCloseTo(0.299 * 100 + 0.587 * 200 + 0.114 * 50, 4);
  });
});

describe('decoding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqzfw-img-'));
  test('PNG: RGB, RGBA composited on white, grey', () => {
    for (const [colorType, bitDepth] of [[2, 8], [6, 8], [0, 8]] as const) {
      const png = new PNG({ width: 3, height: 2 });
      for (let i = 0; i < 6; i++) png.data.set([i * 40, 255 - i * 40, 7, colorType === 6 && i === 5 ? 0 : 255], i * 4);
      const bytes = PNG.sync.write(png, { colorType, bitDepth });
      const d = decodeImage(bytes, 'test.png');
      expect([d.width, d.height]).toEqual([3, 2]);
      if (colorType === 2) expect(Array.from(d.data.slice(3, 6))).toEqual([40, 215, 7]);
      if (colorType === 6) expect(Array.from(d.data.slice(15, 18))).toEqual([255, 255, 255]);
      if (colorType === 0) expect(Array.from(d.data.slice(3, 6))).toEqual([87, 87, 87]);
    }
  });
  test('JPEG round trip at quality 100 is within a few levels', () => {
    const src = img(32, 24, (x, y, c) => (x * 7 + y * 5 + c * 40) % 256);
    const enc = jpeg.encode({ width: 32, height: 24, data: Buffer.from(rgba(src)) }, 100);
    const p = join(dir, 'a.jpg');
    writeFileSync(p, enc.data);
    const card = { ...caffeCard(), resize: { mode: 'none' as const, size: 0 } };
    const crop = loadImageCrop(p, { ...card, channelOrder: 'RGB' }, { h: 24, w: 32 });
    let worst = 0;
    for (let i = 0; i < crop.length; i++) worst = Math.max(worst, Math.abs(crop[i] - src.data[i]));
    expect(worst).toBeLessThan(12);
    expect(loadImageInput(p, card, { h: 20, w: 30, c: 3 }).length).toBe(20 * 30 * 3);
    expect(() => loadImageInput(p, card, { h: 40, w: 30, c: 3 })).toThrow(/smaller than the 30x40 model input/);
  });
  test('size errors name the file: one bad image among a folder of them can be found', () => {
    const strip = join(dir, 'photo-0173.png');
    writeFileSync(strip, PNG.sync.write(Object.assign(new PNG({ width: 20000, height: 1 }), {})));
    expect(() => loadImageInput(strip, caffeCard(), { h: 227, w: 227, c: 3 })).toThrow(`${strip} is 20000x1: resizing its shorter side to 256 gives 5120000x256, more than 40 megapixels`);
    expect(() => loadImageCrop(strip, caffeCard(), { h: 227, w: 227 })).toThrow(`${strip} is 20000x1`);
    const small = join(dir, 'photo-0174.png');
    writeFileSync(small, PNG.sync.write(Object.assign(new PNG({ width: 8, height: 8 }), {})));
    expect(() => loadImageInput(small, { ...caffeCard(), resize: { mode: 'none', size: 0 } }, { h: 16, w: 16, c: 3 })).toThrow(`${small} is 8x8, smaller than the 16x16 model input`);
    expect(() => loadImageInput(small, { ...caffeCard(), resize: { mode: 'squash', size: 12 } }, { h: 16, w: 16, c: 3 })).toThrow(`${small}: resize squash:12 gives 12x12, smaller than the 16x16 model input`);
  });
  test('damaged and hostile files give UserErrors', () => {
    const src = img(16, 16, (x, y) => x * y);
    const enc = jpeg.encode({ width: 16, height: 16, data: Buffer.from(rgba(src)) }, 90).data;
    expect(() => decodeImage(new Uint8Array(enc.subarray(0, 40)), 'cut.jpg')).toThrow(UserError);
    expect(() => decodeImage(new TextEncoder().encode('GIF89a....'), 'x.gif')).toThrow(/neither a JPEG nor a PNG/);
    const png = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), {}));
    const huge = new Uint8Array(png);
    new DataView(huge.buffer).setUint32(16, 100000);
    new DataView(huge.buffer).setUint32(20, 100000);
    expect(() => decodeImage(huge, 'huge.png')).toThrow(/megapixels/);
    const bad = new Uint8Array(png);
    bad[bad.length - 20] ^= 0xff;
    expect(() => decodeImage(bad, 'bad.png')).toThrow(UserError);
    expect(() => loadImageInput(join(dir, 'missing.jpg'), caffeCard(), { h: 1, w: 1, c: 3 })).toThrow(/cannot read image/);
  });
});

function rgba(i: RgbImage): Uint8Array {
  const out = new Uint8Array(i.width * i.height * 4);
  for (let p = 0; p < i.width * i.height; p++) out.set([i.data[p * 3], i.data[p * 3 + 1], i.data[p * 3 + 2], 255], p * 4);
  return out;
}

describe('model card', () => {
  test('flat sqzfw card, labels inline or from a file, overrides, validation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-card-'));
    writeFileSync(join(dir, 'names.txt'), 'cat\ndog\n');
    const c = parseCardJson(JSON.stringify({ channelOrder: 'BGR', pixelRange: 255, mean: [1, 2, 3], std: [4, 5, 6], resize: { mode: 'squash', size: 240 }, labels: 'names.txt' }), join(dir, 'm.json'), defaultCard('m', 224));
    expect(c).toMatchObject({ channelOrder: 'BGR', pixelRange: 255, mean: [1, 2, 3], std: [4, 5, 6], resize: { mode: 'squash', size: 240 } });
    expect(c.labels?.names).toEqual(['cat', 'dog']);
    const o = applyOverrides(c, { channelOrder: 'RGB', resize: parseResizeFlag('shorter:300') });
    expect(o).toMatchObject({ channelOrder: 'RGB', resize: { mode: 'shorter', size: 300 } });
    expect(o.source).toMatch(/flags: channel order, resize/);
    expect(() => validateCard(c, 3, 3)).toThrow(/2 names but the model has 3 classes/);
    expect(() => validateCard({ ...c, std: [1, 0, 1] }, 3)).toThrow(/must be positive/);
    expect(() => validateCard({ ...c, mean: [1] }, 3)).toThrow(/mean has 1 values/);
    expect(() => parseCardJson('{"channelOrder": "XYZ"}', 'x.json', c)).toThrow(/channelOrder/);
    expect(() => parseCardJson('{nope', 'x.json', c)).toThrow(/not valid JSON/);
    expect(() => parseCardJson('{"colour": 1}', 'x.json', c)).toThrow(UserError);
    expect(() => parseResizeFlag('big')).toThrow(/shorter:N/);
  });
  test('labels: imagenet-classes format and plain lines', () => {
    const l = parseLabels('0 n01440764 tench\n1 n01443537 goldfish\n');
    expect(l).toMatchObject({ names: ['tench', 'goldfish'], wnids: ['n01440764', 'n01443537'] });
    expect(parseLabels('a b\nc\n').names).toEqual(['a b', 'c']);
  });
  test.skipIf(!hasShared)('the data authors\' card: Caffe BGR, mean 104/117/123, shorter side 256, 1000 labels', () => {
    const path = join(SHARED, 'models/squeezenet1.0-imagenet.json');
    const c = parseCardJson(readFileSync(path, 'utf8'), path, defaultCard('x', 227));
    expect(c).toMatchObject({ layout: 'NCHW', channelOrder: 'BGR', pixelRange: 255, mean: [104, 117, 123], std: [1, 1, 1], resize: { mode: 'shorter', size: 256 } });
    expect(c.labels?.names.length).toBe(1000);
    expect(c.labels?.names[999]).toBe('toilet_tissue');
  });
});

describe.skipIf(!hasShared)('reference crops (../shared/models/ref-inputs)', () => {
  test('every reference crop is reproduced byte for byte', () => {
    const refDir = join(SHARED, 'models/ref-inputs');
    const files = readdirSync(refDir).filter((f) => f.endsWith('.bgr227.u8'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const want = readFileSync(join(refDir, f));
      const got = loadImageCrop(join(SHARED, 'images/dev', f.replace('.bgr227.u8', '.JPEG')), caffeCard(), { h: 227, w: 227 });
      expect(Buffer.from(got).equals(want), f).toBe(true);
    }
  });
});
