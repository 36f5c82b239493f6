// Times onnxruntime-web's WebAssembly backend (one thread, SIMD) on an ONNX model: the bench's comparison column.
// Usage: node run.mjs MODEL.onnx RUNS; prints one JSON line {"ms": median, "runs": n, "output": first output's values}.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

const [model, runsArg] = process.argv.slice(2);
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const session = await ort.InferenceSession.create(readFileSync(model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
const name = session.inputNames[0];
const meta = session.inputMetadata?.[0];
const dims = (meta && meta.shape) || [1, 3, 227, 227];
const shape = dims.map((d) => (typeof d === 'number' ? d : 1));
const size = shape.reduce((a, b) => a * b, 1);
const data = new Float32Array(size);
let s = 1;
for (let i = 0; i < size; i++) {
  s = (s * 1103515245 + 12345) >>> 0;
  data[i] = (s / 2 ** 32) * 255 - 128;
}
const feeds = { [name]: new ort.Tensor('float32', data, shape) };
await session.run(feeds);
const runs = Number(runsArg ?? 9);
const t = [];
let out;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  out = await session.run(feeds);
  t.push(performance.now() - t0);
}
t.sort((a, b) => a - b);
console.log(JSON.stringify({ ms: t[Math.floor(runs / 2)], runs, version: ort.env.versions?.web ?? null, shape }));
