/**
 * Model import: an ONNX file (+ optional JSON sidecar card) -> FloatModel + ModelCard.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { FloatModel } from '../graph/ir.js';
import { applyOverrides, defaultCard, parseCardJson, validateCard, type CardOverrides, type ModelCard } from './card.js';
import { decodeOnnx } from './onnx-proto.js';
import { LIMITS, onnxToFloatModel, type ImportOptions } from './onnx.js';
import { readInputBytes, readInputText } from '../util/input-file.js';

export type { CardOverrides, ChannelOrder, Labels, ModelCard, Preprocessing, ResizeMode } from './card.js';
export { applyOverrides, defaultCard, parseCardJson, parseLabels, parseNumberList, parseResizeFlag, readLabelsFile, validateCard } from './card.js';
export { decodeOnnx } from './onnx-proto.js';
export { LIMITS, onnxToFloatModel, type ImportOptions } from './onnx.js';

/** Files larger than this are refused before reading (SqueezeNet is 5 MB; the limit leaves room for bigger CNNs). */
export const MAX_MODEL_BYTES = 256 << 20;
/** Model cards are a few hundred bytes. */
export const MAX_CARD_BYTES = 1 << 20;

export interface LoadModelOptions extends ImportOptions {
  /** JSON sidecar; default: the model path with .onnx replaced by .json, when that file exists. */
  cardPath?: string;
  /** Flag overrides applied over the sidecar. */
  overrides?: CardOverrides;
}

/** Parses ONNX bytes into a FloatModel (no card). `what` names the source in error messages. */
export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}, what = 'model'): FloatModel {
  return onnxToFloatModel(decodeOnnx(bytes, what, LIMITS), opts, what);
}

/** The default sidecar path of a model file. */
export const sidecarPath = (modelPath: string): string => modelPath.replace(/\.onnx$/i, '') + '.json';

/** Reads an ONNX model and its card. Throws UserError for anything wrong with either. */
export function loadModel(path: string, opts: LoadModelOptions = {}): { model: FloatModel; card: ModelCard } {
  const bytes = readInputBytes(path, { what: 'model', maxBytes: MAX_MODEL_BYTES, hint: 'check the path (models: .onnx files; see sqzfw fetch-model)' });
  const model = importOnnx(bytes, { ...opts, name: opts.name ?? basename(path).replace(/\.onnx$/i, '') }, `model ${path}`);

  const dims = model.graph.input.dims;
  let card = defaultCard(model.graph.name, Math.min(dims.h, dims.w), dims.c);
  const side = opts.cardPath ?? (existsSync(sidecarPath(path)) && sidecarPath(path) !== path ? sidecarPath(path) : undefined);
  if (side) {
    const text = readInputText(side, { what: 'model card', maxBytes: MAX_CARD_BYTES, hint: 'check the --card path' });
    card = parseCardJson(text, side, card);
  }
  if (opts.overrides) card = applyOverrides(card, opts.overrides);
  const out = model.graph.tensors[model.graph.outputs[0]];
  validateCard(card, dims.c, out.h === 1 && out.w === 1 ? out.c : undefined);
  return { model, card };
}
