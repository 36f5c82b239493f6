/**
 * Model card: how images become model inputs (layout, channel order, pixel range, mean/std, resize) and the class
 * names. Read from a JSON sidecar (our flat format, or the data authors' format as in
 * ../shared/models/squeezenet1.0-imagenet.json) and overridden by CLI flags; defaults are torchvision's ImageNet
 * convention, which is what torch.onnx exports of torchvision models expect.
 */
import { existsSync } from 'node:fs';
import { readInputText } from '../util/input-file.js';
import { escapeControls } from '../util/text.js';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';

export type ChannelOrder = 'RGB' | 'BGR';
export type ResizeMode = 'shorter' | 'squash' | 'none';

export interface Labels {
  /** Class name by index. */
  names: string[];
  /** WordNet ids by index when the file has them (imagenet-classes.txt does). */
  wnids?: string[];
  source?: string;
}

/** The input preprocessing a model expects, as the generated model.h documents it for the application. */
export interface Preprocessing {
  channelOrder: 'RGB' | 'BGR';
  pixelRange: number;
  /** Per input channel, in the model's channel order. */
  mean: number[];
  std: number[];
  resize: { mode: 'shorter' | 'squash' | 'none'; size: number };
  /** Where it came from (card file, defaults). */
  source: string;
}

export interface ModelCard {
  name: string;
  /** Layout of the source model's input tensor (ONNX models are NCHW); sqzfw itself always runs NHWC. */
  layout: 'NCHW' | 'NHWC';
  channelOrder: ChannelOrder;
  /** Pixels are scaled from 0..255 to 0..pixelRange before the mean is subtracted (Caffe 255, torchvision 1). */
  pixelRange: number;
  /** Per input channel, in the model's channel order, in pixelRange units: x = (p * pixelRange / 255 - mean) / std. */
  mean: number[];
  std: number[];
  /** Resize before the centre crop to the model's input size: shorter side to `size`, both sides to `size`, or none. */
  resize: { mode: ResizeMode; size: number };
  labels?: Labels;
  /** Where each part came from, for reports: e.g. "sidecar squeezenet1.0-imagenet.json", "defaults", "flags". */
  source: string;
}

/** CLI-level overrides; every field optional. */
export interface CardOverrides {
  channelOrder?: ChannelOrder;
  pixelRange?: number;
  mean?: number[];
  std?: number[];
  resize?: { mode: ResizeMode; size: number };
  labelsFile?: string;
}

const TORCHVISION_MEAN_RGB = [0.485, 0.456, 0.406];
const TORCHVISION_STD_RGB = [0.229, 0.224, 0.225];

/** torchvision ImageNet preprocessing for an input of `inputSize` (256/224 resize ratio). */
export function defaultCard(name: string, inputSize: number, channels = 3): ModelCard {
  const c = channels === 1 ? 1 : 3;
  return {
    name,
    layout: 'NCHW',
    channelOrder: 'RGB',
    pixelRange: 1,
    mean: c === 1 ? [0.449] : [...TORCHVISION_MEAN_RGB],
    std: c === 1 ? [0.226] : [...TORCHVISION_STD_RGB],
    resize: { mode: 'shorter', size: Math.round((inputSize * 256) / 224) },
    source: 'defaults (torchvision ImageNet: RGB, /255, mean 0.485,0.456,0.406, std 0.229,0.224,0.225)',
  };
}

// ---------- labels ----------

/** Class lists are tens of KB (ImageNet: 31 KB); anything beyond this is refused before it is read. */
export const MAX_LABELS_BYTES = 8 << 20;

/** Reads class names: "0 n01440764 tench" lines (imagenet-classes.txt), "n01440764 tench, Tinca tinca" (synset.txt), or one name per line. */
export function readLabelsFile(path: string): Labels {
  const text = readInputText(path, { what: 'labels file', maxBytes: MAX_LABELS_BYTES, hint: 'pass a text file with one class per line' });
  return parseLabels(text, path);
}

export function parseLabels(text: string, source = 'labels'): Labels {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new UserError(`labels file ${source} is empty`, 'one class name per line');
  const indexed = /^\s*(\d+)\s+(n\d{8})\s+(.+?)\s*$/;
  if (lines.every((l) => indexed.test(l))) {
    const names: string[] = [];
    const wnids: string[] = [];
    for (const l of lines) {
      const m = indexed.exec(l)!;
      const i = Number(m[1]);
      if (i >= lines.length || names[i] !== undefined) throw new UserError(`labels file ${source}: index ${i} is out of order or repeated`, 'indices must run 0..N-1 once each');
      names[i] = m[3];
      wnids[i] = m[2];
    }
    return { names, wnids, source };
  }
  const synset = /^\s*(n\d{8})\s+(.+?)\s*$/;
  if (lines.every((l) => synset.test(l))) {
    // "n01440764 tench, Tinca tinca" (synset.txt): the first synonym is the name.
    const m = lines.map((l) => synset.exec(l)!);
    return { names: m.map((x) => x[2].split(',')[0].trim()), wnids: m.map((x) => x[1]), source };
  }
  return { names: lines.map((l) => l.trim()), source };
}

// ---------- sidecar parsing ----------

const triple = z.array(z.number().finite()).min(1).max(4);
const flatCard = z
  .object({
    name: z.string().optional(),
    layout: z.enum(['NCHW', 'NHWC']).optional(),
    channelOrder: z.enum(['RGB', 'BGR']).optional(),
    pixelRange: z.number().positive().finite().optional(),
    mean: triple.optional(),
    std: triple.optional(),
    resize: z.object({ mode: z.enum(['shorter', 'squash', 'none']), size: z.number().int().positive().max(16384) }).optional(),
    labels: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  })
  .strict();

/** The data authors' card (../shared/models/*.json): nested, partly free text. Only what we read is checked. */
const authorsCard = z.object({
  model: z.object({ name: z.string().optional() }).passthrough().optional(),
  input: z.object({ layout: z.string().optional(), channel_order: z.string().optional() }).passthrough(),
  preprocessing: z
    .object({
      pixel_range: z.string().optional(),
      mean_subtraction: z.record(z.number()).nullable().optional(),
      std_division: z.record(z.number()).nullable().optional(),
      resize: z.string().optional(),
    })
    .passthrough(),
  classes: z.object({ list: z.string().optional() }).passthrough().optional(),
});

/** Finds a path the card gives relative to some ancestor (e.g. "shared/images/x.txt"), from the card's folder up. */
function resolveNear(p: string, baseDir: string): string | undefined {
  if (isAbsolute(p)) return existsSync(p) ? p : undefined;
  let dir = resolve(baseDir);
  for (let i = 0; i < 8; i++) {
    const cand = join(dir, p);
    if (existsSync(cand)) return cand;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

function byChannel(rec: Record<string, number> | null | undefined, order: ChannelOrder, what: string, file: string): number[] | undefined {
  if (!rec) return undefined;
  const keys = order === 'RGB' ? ['R', 'G', 'B'] : ['B', 'G', 'R'];
  const vals = keys.map((k) => rec[k] ?? rec[k.toLowerCase()]);
  if (vals.some((v) => typeof v !== 'number')) throw new UserError(`card ${file}: ${what} must give R, G and B`, `e.g. {"B": 104, "G": 117, "R": 123}`);
  return vals as number[];
}

/** Parses a sidecar's JSON text into card fields (over `base`). */
export function parseCardJson(text: string, file: string, base: ModelCard): ModelCard {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`card ${file} is not valid JSON: ${(e as Error).message}`, 'fix the file or pass the preprocessing with flags');
  }
  const dir = dirname(file);
  const card: ModelCard = { ...base, source: `card ${file}` };
  if (json && typeof json === 'object' && 'preprocessing' in json) {
    const r = authorsCard.safeParse(json);
    if (!r.success) throw new UserError(`card ${file}: ${escapeControls(`${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`)}`, 'see ../shared/models/squeezenet1.0-imagenet.json for the expected fields');
    const a = r.data;
    if (a.model?.name) card.name = a.model.name;
    const layout = a.input.layout?.toUpperCase();
    if (layout === 'NCHW' || layout === 'NHWC') card.layout = layout;
    const order = a.input.channel_order?.toUpperCase();
    if (order === 'RGB' || order === 'BGR') card.channelOrder = order;
    else if (order) throw new UserError(`card ${file}: channel order ${order} is not RGB or BGR`, 'sqzfw feeds RGB or BGR');
    const pr = a.preprocessing.pixel_range;
    if (pr) card.pixelRange = /0\s*\.\.\s*1(\D|$)/.test(pr) ? 1 : 255;
    const mean = byChannel(a.preprocessing.mean_subtraction, card.channelOrder, 'mean_subtraction', file);
    card.mean = mean ?? [0, 0, 0];
    const std = byChannel(a.preprocessing.std_division, card.channelOrder, 'std_division', file);
    card.std = std ?? [1, 1, 1];
    const rs = a.preprocessing.resize ?? '';
    const shorter = /shorter side to (\d+)/i.exec(rs);
    const squash = /squash(?:ed)? to (\d+)/i.exec(rs);
    if (shorter) card.resize = { mode: 'shorter', size: Number(shorter[1]) };
    else if (squash) card.resize = { mode: 'squash', size: Number(squash[1]) };
    const list = a.classes?.list;
    if (list) {
      const p = resolveNear(list, dir);
      if (p) card.labels = readLabelsFile(p);
    }
    return card;
  }
  const r = flatCard.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`card ${file}: ${escapeControls(`${i.path.join('.') || 'top level'}: ${i.message}`)}`, 'fields: name, layout, channelOrder, pixelRange, mean, std, resize {mode, size}, labels');
  }
  const f = r.data;
  if (f.name) card.name = f.name;
  if (f.layout) card.layout = f.layout;
  if (f.channelOrder) card.channelOrder = f.channelOrder;
  if (f.pixelRange !== undefined) card.pixelRange = f.pixelRange;
  if (f.mean) card.mean = f.mean;
  if (f.std) card.std = f.std;
  if (f.resize) card.resize = f.resize;
  if (typeof f.labels === 'string') {
    const p = resolveNear(f.labels, dir);
    if (!p) throw new UserError(`card ${file}: labels file ${escapeControls(JSON.stringify(f.labels))} not found`, 'give a path relative to the card');
    card.labels = readLabelsFile(p);
  } else if (f.labels) card.labels = { names: f.labels, source: file };
  return card;
}

export function applyOverrides(card: ModelCard, o: CardOverrides): ModelCard {
  const out = { ...card };
  const flags: string[] = [];
  if (o.channelOrder) (out.channelOrder = o.channelOrder), flags.push('channel order');
  if (o.pixelRange !== undefined) (out.pixelRange = o.pixelRange), flags.push('pixel range');
  if (o.mean) (out.mean = o.mean), flags.push('mean');
  if (o.std) (out.std = o.std), flags.push('std');
  if (o.resize) (out.resize = o.resize), flags.push('resize');
  if (o.labelsFile) (out.labels = readLabelsFile(o.labelsFile)), flags.push('labels');
  if (flags.length) out.source = `${card.source}; flags: ${flags.join(', ')}`;
  return out;
}

/** Checks the card against the model input: channel counts, positive std, sane sizes. */
export function validateCard(card: ModelCard, channels: number, classes?: number): void {
  const bad = (m: string, hint: string): never => {
    throw new UserError(`model card: ${m}`, hint);
  };
  if (channels !== 1 && channels !== 3) bad(`the model input has ${channels} channels`, 'images feed 1 (grey) or 3 (colour) channel models');
  if (card.mean.length !== channels) bad(`mean has ${card.mean.length} values for a ${channels}-channel input`, `give ${channels} values (--mean)`);
  if (card.std.length !== channels) bad(`std has ${card.std.length} values for a ${channels}-channel input`, `give ${channels} values (--std)`);
  if (card.std.some((s) => !(s > 0) || !Number.isFinite(s))) bad(`std ${card.std.join(',')} must be positive`, 'use 1 for no division');
  if (!(card.pixelRange > 0)) bad(`pixel range ${card.pixelRange} must be positive`, 'use 255 (Caffe) or 1 (torchvision)');
  if (card.resize.mode !== 'none' && !(Number.isInteger(card.resize.size) && card.resize.size > 0 && card.resize.size <= 16384)) {
    bad(`resize size ${card.resize.size} is not a positive integer`, 'e.g. --resize shorter:256');
  }
  if (classes !== undefined && card.labels && card.labels.names.length !== classes) {
    bad(`labels list ${card.labels.source ?? ''} has ${card.labels.names.length} names but the model has ${classes} classes`, 'pass the labels file that belongs to this model');
  }
}

/** Parses "shorter:256", "squash:256" or "none" (the --resize flag). */
export function parseResizeFlag(s: string): { mode: ResizeMode; size: number } {
  if (s === 'none') return { mode: 'none', size: 0 };
  const m = /^(shorter|squash):(\d+)$/.exec(s);
  if (!m) throw new UserError(`--resize ${s} is not shorter:N, squash:N or none`, 'e.g. --resize shorter:256');
  return { mode: m[1] as ResizeMode, size: Number(m[2]) };
}

/** Parses "104,117,123" (the --mean / --std flags). */
export function parseNumberList(s: string, flag: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isFinite(x) || s.trim() === '')) throw new UserError(`${flag} ${s} is not a comma-separated list of numbers`, `e.g. ${flag} 104,117,123`);
  return v;
}
