/**
 * A small torchvision-style SqueezeNet 1.1 (6 classes, 40x40) with its card, and 5 labelled JPEG images, written
 * into `dir`: the real-model fixture of the validate tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { mulberry32 } from '../../src/util/random.js';
import { torchvisionSqueezeNet } from './onnx-writer.js';

export function tinyEvalFixture(dir: string): { model: string; images: string } {
  const ex = torchvisionSqueezeNet({ version: '1_1', inputSize: 40, classes: 6, seed: 11 });
  const model = join(dir, 'tiny.onnx');
  writeFileSync(model, ex.bytes);
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ channelOrder: 'RGB', pixelRange: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: { mode: 'shorter', size: 44 } }));
  const images = join(dir, 'images');
  mkdirSync(images);
  const rnd = mulberry32(4);
  const rows = ['file,index'];
  for (let i = 0; i < 5; i++) {
    const [w, h] = [46 + i, 44 + 2 * i];
    const rgba = Buffer.alloc(w * h * 4);
    for (let p = 0; p < w * h; p++) rgba.set([Math.floor(rnd() * 256), (p * (i + 3)) % 256, (i * 50) % 256, 255], p * 4);
    writeFileSync(join(images, `img${i}.jpg`), jpeg.encode({ width: w, height: h, data: rgba }, 90).data);
    rows.push(`img${i}.jpg,${i % 6}`);
  }
  writeFileSync(join(images, 'labels.csv'), rows.join('\n'));
  return { model, images };
}
