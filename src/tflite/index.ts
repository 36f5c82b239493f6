/**
 * TFLite in and out: read a .tflite file into a QModel (quantization as stored) with its image preprocessing card,
 * and write a QModel as .tflite. See read.ts/write.ts (flatbuffer layout), import.ts/export.ts (QModel mapping).
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { loadImageInput } from '../image/index.js';
import { applyOverrides, defaultCard, parseCardJson, validateCard, type CardOverrides, type ModelCard } from '../import/card.js';
import { MAX_MODEL_BYTES } from '../import/index.js';
import type { Preprocessing } from '../emit/index.js';
import { SYNTHETIC_INPUT_SEED } from '../prepare/image-model.js';
import { syntheticInput, type PreparedModel } from '../prepare/index.js';
import { quantizeInput } from '../quantize/quantize.js';
import type { QModel } from '../quantize/types.js';
import { importTflite, type TfliteImport } from './import.js';

export { exportTflite, type ExportOptions } from './export.js';
export { importTflite, type TfliteImport } from './import.js';

export const isTflitePath = (path: string): boolean => /\.tflite$/i.test(path);

/** Reads and imports a .tflite file. Throws UserError for anything wrong with it. */
export function loadTflite(path: string): TfliteImport {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`${path} is not a file`, 'pass a .tflite model file');
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read model ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'check the path');
  }
  if (size > MAX_MODEL_BYTES) throw new UserError(`model ${path} is ${size} bytes, more than the ${MAX_MODEL_BYTES}-byte limit`, 'sqzfw targets microcontroller-sized CNNs');
  return importTflite(readFileSync(path), `model ${path}`, basename(path).replace(/\.tflite$/i, ''));
}

/** The preprocessing card of a .tflite model: defaults, then the JSON sidecar (--card), then flag overrides. */
export function tfliteCard(model: QModel, o: { cardPath?: string; overrides?: CardOverrides }): ModelCard {
  const d = model.tensors[model.input].dims;
  let card = defaultCard(model.name, Math.min(d.h, d.w), d.c);
  if (o.cardPath) {
    let text: string;
    try {
      text = readFileSync(o.cardPath, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read model card ${o.cardPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'check the --card path');
    }
    card = parseCardJson(text, o.cardPath, card);
  }
  if (o.overrides) card = applyOverrides(card, o.overrides);
  const out = model.tensors[model.outputs[0]].dims;
  validateCard(card, d.c, out.h === 1 && out.w === 1 ? out.c : undefined);
  return card;
}

/**
 * For `--model m.tflite [--image photo.jpg]`: the stored int8 model and the photo quantized with its input
 * parameters (without a photo, the synthetic input the demo generates at run time), with the card's class names
 * and preprocessing. The result has the fields of flows.ts's PreparedModel.
 */
export function prepareTfliteImage(o: { model: string; image?: string; card?: string; overrides?: CardOverrides }): PreparedModel {
  const { model } = loadTflite(o.model);
  const card = tfliteCard(model, { cardPath: o.card, overrides: o.overrides });
  const preprocessing: Preprocessing = { channelOrder: card.channelOrder, pixelRange: card.pixelRange, mean: card.mean, std: card.std, resize: card.resize, source: card.source };
  const common = { model, labels: card.labels?.names, preprocessing };
  if (!o.image) return { ...common, ...syntheticInput(model, SYNTHETIC_INPUT_SEED) };
  const dims = model.tensors[model.input].dims;
  const x = loadImageInput(o.image, card, dims);
  return {
    ...common,
    input: quantizeInput(x, model.tensors[model.input]),
    inputNote: `${basename(o.image)}: centre crop ${dims.w}x${dims.h}, ${card.channelOrder}, mean ${card.mean.join(',')}, std ${card.std.join(',')}; quantization as stored in ${basename(o.model)}`,
  };
}
