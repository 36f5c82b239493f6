/**
 * Eval on the real model and images of ../shared (a few images: the full 200-image run is `sqzfw eval`, see the
 * closing note): float scores follow the reference logits, and the fast int8 path equals the golden interpreter on
 * every tensor of the real network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runEval } from '../src/eval/eval.js';
import { runGolden, runReference } from '../src/golden/run.js';
import { loadImageInput } from '../src/image/index.js';
import { loadModel } from '../src/import/index.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { quantizeInput, quantizeModel } from '../src/quantize/quantize.js';
import { required } from './helpers/require.js';

const SHARED = resolve(__dirname, '../../shared');
const ONNX = join(SHARED, 'models/squeezenet1.0-imagenet.onnx');

describe.skipIf(!required(`the real model ${ONNX}`, existsSync(ONNX)))('eval on ../shared', () => {
  test('first 6 dev images: float top-5 equal the reference, int8 scored by held-out calibration', async () => {
    const r = await runEval({ model: ONNX, images: join(SHARED, 'images/dev'), limit: 6, calibMethod: 'mse' });
    const ref = JSON.parse(readFileSync(join(SHARED, 'models/squeezenet1.0-imagenet.ref-logits.json'), 'utf8')).images;
    for (const p of r.perImage) expect(p.float, p.file).toEqual(ref[p.file].top5);
    expect(r.float.n).toBe(6);
    expect(r.int8.top5).toBeGreaterThanOrEqual(4);
    expect(r.calibration.imagesPerModel).toEqual([3, 3]);
  }, 60_000);

  test('the fast int8 engine (runGolden) equals the reference kernels (runReference) on every tensor of the real network', () => {
    const { model, card } = loadModel(ONNX);
    const x = loadImageInput(join(SHARED, 'images/dev/n01530575_brambling.JPEG'), card, model.graph.input.dims);
    const q = quantizeModel(model, calibrate(model, [x], { method: 'percentile' }));
    const qi = quantizeInput(x, q.tensors[q.input]);
    const g = runReference(q, qi);
    const f = runGolden(q, qi);
    for (const k of Object.keys(g)) expect(Buffer.from(f[k].buffer).equals(Buffer.from(g[k].buffer)), k).toBe(true);
  }, 60_000);
});
