/**
 * Fuzz runner, run as a child process by test/fuzz-inputs.test.ts with a heap cap (--max-old-space-size) and a
 * wall-clock timeout: `fuzz-runner.ts <target> <seed> <cases> <caseMs> <rssMB>`. Every case must end in an accepted
 * input (checked further) or a UserError; anything else, a case slower than caseMs, or a resident set above rssMB
 * is a failure. Prints one JSON line: counts, the slowest case, peak RSS and the first failures.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { loadBoard, parseBoard } from '../../src/boards/index.js';
import { defaultLayout, renderBoardFiles } from '../../src/emit/board-files.js';
import { loadProfile } from '../../src/asic/profile.js';
import { defaultCard, parseCardJson, validateCard } from '../../src/import/card.js';
import { MAX_CARD_BYTES } from '../../src/import/index.js';
import { readInputText } from '../../src/util/input-file.js';
import { decodeImage } from '../../src/image/decode.js';
import { cropForModel } from '../../src/image/preprocess.js';
import { isUserError } from '../../src/errors.js';
import { mulberry32 } from '../../src/util/random.js';

const [target = '', seedArg = '1', casesArg = '100', caseMsArg = '2000', rssArg = '1024'] = process.argv.slice(2);
const rnd = mulberry32(Number(seedArg));
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
const int = (n: number): number => Math.floor(rnd() * n);
const ROOT = new URL('../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sqzfw-fuzz-'));
const fifo = join(work, 'fifo');
execFileSync('mkfifo', [fifo]);

// ---------- JSON mutation ----------

const HOSTILE: unknown[] = [
  1e308, -1, 0, 1.5, 2 ** 53, -(2 ** 31), 4294967296, 65, 1e6, '0x' + 'f'.repeat(20), '4M', '64K', '0x20000000', '',
  'x\ny', 'line1\r\nall:\n\ttouch /tmp/pwned', 'a */ b', '/* c', '??/', '??=', 'a\u0000b', '\u2028', '$(touch x)', "'; rm -rf ~ #",
  '`id`', '-fplugin=/tmp/x.so', '-Wl,-T,/etc/passwd', '-O2', '-mcpu=cortex-m4', 'MEMORY', 'SECTIONS', 'ORIGIN', 'sram', 'flash',
  'x'.repeat(5000), '\\', '"', '#', '%', 'é', '\ud800', [], {}, null, true, false, ['a'], Array.from({ length: 2000 }, (_, i) => i),
  { __proto__: 1 }, '/dev/zero', '/etc/passwd', '/', '.', '..', '../../../../etc/shadow', fifo, 'constructor', '__proto__',
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every [container, key] pair in a JSON value. */
function slots(v: Json, out: [Json[] | Record<string, Json>, string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push([v, k]), slots(v[k]!, out);
  return out;
}

function mutateJson(base: Json): Json {
  const v = JSON.parse(JSON.stringify(base)) as Json;
  const n = 1 + int(3);
  for (let k = 0; k < n; k++) {
    const s = slots(v);
    if (s.length === 0) break;
    const [c, key] = pick(s);
    const r = rnd();
    const hostile = JSON.parse(JSON.stringify(pick(HOSTILE)) ?? 'null') as Json;
    if (r < 0.55) (c as Record<string, Json>)[key as string] = hostile;
    else if (r < 0.7) {
      if (Array.isArray(c)) c.splice(key as number, 1);
      else delete c[key as string];
    } else if (r < 0.8 && !Array.isArray(c)) Object.defineProperty(c, pick(['__proto__', 'constructor', 'extra', 'toString']), { value: hostile, enumerable: true, writable: true, configurable: true });
    else if (r < 0.9 && Array.isArray(c)) for (let i = 0; i < 1 + int(200); i++) c.push(JSON.parse(JSON.stringify(c[int(c.length)] ?? null)) as Json);
    else {
      const x = (c as Record<string, Json>)[key as string];
      if (typeof x === 'number') (c as Record<string, Json>)[key as string] = pick([x * 1024, -x, x + 1, x - 1, x / 3, x * 1e300]);
      else if (typeof x === 'string') (c as Record<string, Json>)[key as string] = x + pick(['\n', '*/', '??/', ' ', '\u0000', x]);
    }
  }
  return v;
}

/** Serialized JSON with, sometimes, raw byte damage (truncation, a bad UTF-8 byte). */
function damage(text: string): Buffer {
  let b = Buffer.from(text, 'utf8');
  const r = rnd();
  if (r < 0.05) b = b.subarray(0, int(b.length));
  else if (r < 0.1) b = Buffer.concat([b.subarray(0, int(b.length)), Buffer.from([0xe9, 0xff]), b.subarray(int(b.length))]);
  return b;
}

// ---------- targets ----------

const readJson = (dir: string): Json[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(ROOT, dir, f), 'utf8')) as Json);

/** Make rule targets at column 0 (not variable assignments, not recipes). */
const ruleTargets = (mk: string): string[] => mk.split('\n').filter((l) => /^[^\s#][^=]*:(?!=)/.test(l) && !/^\S+\s*[:?+]?=/.test(l)).map((l) => l.split(':')[0]!.trim());
const boardBases = readJson('boards');
const baseRules = new Set(boardBases.flatMap((b) => ruleTargets(renderBoardFiles(parseBoard(b, 'base'), defaultLayout(parseBoard(b, 'base'))).Makefile!)));

function boardCase(): string {
  const file = join(work, 'board.json');
  writeFileSync(file, damage(JSON.stringify(mutateJson(pick(boardBases)))));
  const board = loadBoard(file);
  const files = renderBoardFiles(board, defaultLayout(board));
  for (const [name, text] of Object.entries(files)) {
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) throw new Error(`${name}: control character in the output`);
    if (name.endsWith('.ld') && text.split('/*').length !== text.split('*/').length) throw new Error(`${name}: unbalanced comments`);
  }
  for (const t of ruleTargets(files.Makefile!)) if (!baseRules.has(t)) throw new Error(`Makefile: unexpected rule "${t}"`);
  return 'ok';
}

const asicBases = readJson('asic-profiles');
function asicCase(): string {
  const file = join(work, 'profile.json');
  writeFileSync(file, damage(JSON.stringify(mutateJson(pick(asicBases)))));
  loadProfile(file);
  return 'ok';
}

const labelsFile = join(work, 'labels.txt');
writeFileSync(labelsFile, Array.from({ length: 10 }, (_, i) => `class ${i}`).join('\n'));
const cardBase: Json = { name: 'm', layout: 'NCHW', channelOrder: 'BGR', pixelRange: 255, mean: [104, 117, 123], std: [1, 1, 1], resize: { mode: 'shorter', size: 256 }, labels: 'labels.txt' };
function cardCase(): string {
  const file = join(work, 'card.json');
  writeFileSync(file, damage(JSON.stringify(mutateJson(cardBase))));
  const card = parseCardJson(readInputText(file, { what: 'model card', maxBytes: MAX_CARD_BYTES }), file, defaultCard('m', 227, 3));
  validateCard(card, 3, 10);
  return 'ok';
}

function pngBytes(w: number, h: number, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16): Buffer {
  const p = new PNG({ width: w, height: h, colorType, inputColorType: 6, bitDepth, inputHasAlpha: true });
  for (let i = 0; i < p.data.length; i++) p.data[i] = int(256);
  return PNG.sync.write(p, { colorType, bitDepth, inputHasAlpha: true });
}
const imageBases: Buffer[] = [
  pngBytes(17, 9, 2, 8),
  pngBytes(8, 8, 6, 8),
  pngBytes(12, 5, 0, 8),
  pngBytes(6, 6, 2, 16),
  Buffer.from(jpeg.encode({ width: 19, height: 11, data: Buffer.from(Array.from({ length: 19 * 11 * 4 }, () => int(256))) }, 80).data),
  Buffer.from(jpeg.encode({ width: 32, height: 32, data: Buffer.alloc(32 * 32 * 4, 90) }, 50).data),
];
function imageCase(): string {
  const b = Buffer.from(pick(imageBases));
  const r = rnd();
  if (r < 0.3) for (let k = 0; k < 1 + int(8); k++) b[int(b.length)] = int(256);
  else if (r < 0.5) return decodeAndCrop(b.subarray(0, int(b.length)));
  else if (r < 0.8) {
    // Header sizes: PNG IHDR width/height, or the JPEG SOF0 frame size.
    const big = pick([0, 1, 2, 255, 65535, 60000, 20000, 9999, 4096]);
    if (b[0] === 0x89) b.writeUInt32BE(rnd() < 0.5 ? big : int(2 ** 32), 16 + 4 * int(2));
    else for (let i = 2; i < b.length - 9; i++) if (b[i] === 0xff && b[i + 1] === 0xc0) (b.writeUInt16BE(big, i + 5 + 2 * int(2)), (i = b.length));
  } else {
    const at = int(b.length);
    return decodeAndCrop(Buffer.concat([b.subarray(0, at), b.subarray(int(b.length)), b.subarray(at)]));
  }
  return decodeAndCrop(b);
}
function decodeAndCrop(bytes: Uint8Array): string {
  const img = decodeImage(bytes, 'fuzz image');
  if (img.data.length !== img.width * img.height * 3) throw new Error(`decoded ${img.data.length} bytes for ${img.width}x${img.height}`);
  const crop = cropForModel(img, { resize: { mode: 'shorter', size: 16 } }, { h: 16, w: 16 });
  if (crop.data.length !== 16 * 16 * 3) throw new Error('bad crop');
  return 'ok';
}

const TARGETS: Record<string, () => string> = { board: boardCase, asic: asicCase, card: cardCase, image: imageCase };

// ---------- run ----------

const run = TARGETS[target];
if (!run) throw new Error(`unknown fuzz target ${target}`);
const caseMs = Number(caseMsArg);
const rssCap = Number(rssArg) * 2 ** 20;
const result = { target, cases: Number(casesArg), ok: 0, refused: 0, slowestMs: 0, slowestCase: -1, peakRssMB: 0, failures: [] as string[] };
for (let i = 0; i < result.cases; i++) {
  const t0 = performance.now();
  try {
    run();
    result.ok++;
  } catch (e) {
    if (isUserError(e)) {
      result.refused++;
      if (e.message.includes('\n') || e.message.length > 2100) result.failures.push(`case ${i}: UserError message is not one short line: ${e.message.slice(0, 200)}`);
    } else result.failures.push(`case ${i}: ${e instanceof Error ? e.stack?.split('\n').slice(0, 3).join(' | ') : String(e)}`);
  }
  const ms = performance.now() - t0;
  if (ms > result.slowestMs) (result.slowestMs = Math.round(ms)), (result.slowestCase = i);
  if (ms > caseMs) result.failures.push(`case ${i}: took ${Math.round(ms)} ms, more than ${caseMs}`);
  const rss = process.memoryUsage().rss;
  result.peakRssMB = Math.max(result.peakRssMB, Math.round(rss / 2 ** 20));
  if (rss > rssCap) result.failures.push(`case ${i}: resident set ${Math.round(rss / 2 ** 20)} MB, more than ${rssArg} MB`);
  if (result.failures.length > 20) break;
}
rmSync(work, { recursive: true, force: true });
console.log(JSON.stringify(result));
