/**
 * Worker-thread entry of eval's parallel path (src/eval/parallel.ts): loads the model once, then runs each chunk it
 * is sent with the same functions as the one-thread path, reporting one tick per image.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../errors.js';
import { loadSpec, runChunk, type ModelSpec, type Task } from './parallel.js';

const port = parentPort!;
const loaded = loadSpec((workerData as { spec: ModelSpec }).spec);
port.on('message', (task: Task) => {
  try {
    port.postMessage({ result: runChunk(loaded, task, () => port.postMessage({ tick: true })) });
  } catch (e) {
    port.postMessage(isUserError(e) ? { error: e.message, hint: e.hint, user: true } : { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
