/**
 * `sqzfw fetch-model NAME`: downloads a public pretrained SqueezeNet from the ONNX Model Zoo (github.com/onnx/models),
 * checks its size and SHA-256 (the Git LFS object ids of that repository), and writes a model card sidecar with the
 * zoo's documented preprocessing plus the ImageNet class list. Offline it says so and how to get the file by hand.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { makeDirs } from '../util/out-dir.js';

export interface CatalogFile {
  url: string;
  sha256: string;
  bytes: number;
}

export interface CatalogEntry {
  description: string;
  model: CatalogFile;
  labels: CatalogFile;
  /** Flat sqzfw card written beside the model (labels added by fetch). */
  card: Record<string, unknown>;
}

const ZOO = 'https://github.com/onnx/models/raw/main/validated/vision/classification';
const SYNSET: CatalogFile = { url: `${ZOO}/synset.txt`, sha256: 'acf75ef0abe89694b19056e0796401068b459c457baa30335f240c7692857355', bytes: 31675 };
/** The zoo's imagenet_preprocess.py: RGB, shorter side 256, centre crop 224, /255, ImageNet mean and std. */
const ZOO_CARD = { layout: 'NCHW', channelOrder: 'RGB', pixelRange: 1, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: { mode: 'shorter', size: 256 } };

export const CATALOG: Record<string, CatalogEntry> = {
  squeezenet1_1: {
    description: 'SqueezeNet 1.1, ONNX Model Zoo (opset 7), ImageNet 56.34% top-1 / 79.12% top-5 as published',
    model: { url: `${ZOO}/squeezenet/model/squeezenet1.1-7.onnx`, sha256: '1eeff551a67ae8d565ca33b572fc4b66e3ef357b0eb2863bb9ff47a918cc4088', bytes: 4956208 },
    labels: SYNSET,
    card: { name: 'SqueezeNet 1.1 (ONNX Model Zoo squeezenet1.1-7)', ...ZOO_CARD },
  },
  squeezenet1_0: {
    description: 'SqueezeNet 1.0, ONNX Model Zoo (opset 12), ImageNet 56.85% top-1 / 79.87% top-5 as published',
    model: { url: `${ZOO}/squeezenet/model/squeezenet1.0-12.onnx`, sha256: 'dec81a8684617770b3cf13fadc1d92565d1d453d23935fc6388b792d99c992bd', bytes: 4952956 },
    labels: SYNSET,
    card: { name: 'SqueezeNet 1.0 (ONNX Model Zoo squeezenet1.0-12)', ...ZOO_CARD },
  },
};

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'ABORT_ERR']);

function causeCode(e: unknown): string | undefined {
  let c: unknown = e;
  for (let i = 0; i < 4 && c && typeof c === 'object'; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if ((c as { name?: string }).name === 'TimeoutError' || (c as { name?: string }).name === 'AbortError') return 'ABORT_ERR';
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface FetchOptions {
  /** Output folder (default models/). */
  outDir?: string;
  /** Replace an existing file even when its checksum matches. */
  force?: boolean;
  /** Per-download time limit (default 120 s). */
  timeoutMs?: number;
  /** For tests: the fetch implementation and a URL rewrite (e.g. to a local server). */
  fetchImpl?: typeof fetch;
  rewriteUrl?: (url: string) => string;
  log?: (line: string) => void;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function download(f: CatalogFile, path: string, o: FetchOptions, what: string): Promise<'downloaded' | 'present'> {
  if (!o.force && existsSync(path)) {
    const have = readFileSync(path);
    if (have.length === f.bytes && sha256(have) === f.sha256) return 'present';
  }
  const url = o.rewriteUrl ? o.rewriteUrl(f.url) : f.url;
  const doFetch = o.fetchImpl ?? fetch;
  let bytes: Uint8Array;
  try {
    const res = await doFetch(url, { redirect: 'follow', signal: AbortSignal.timeout(o.timeoutMs ?? 120_000) });
    if (!res.ok) throw new UserError(`downloading ${what} from ${url} failed: HTTP ${res.status} ${res.statusText}`, 'the address may have moved; download the file by hand and pass it with --model');
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = causeCode(e);
    if (code && OFFLINE_CODES.has(code)) {
      throw new UserError(
        `cannot download ${what}: ${new URL(url).host} is not reachable (${code}); this machine seems to be offline`,
        `download ${f.url} by hand (sha256 ${f.sha256}) into ${o.outDir ?? 'models'}/, or use a local model such as ../shared/models/squeezenet1.0-imagenet.onnx`,
      );
    }
    throw new UserError(`cannot download ${what} from ${url}: ${e instanceof Error ? e.message : String(e)}`, 'check the network, or download the file by hand');
  }
  const got = sha256(bytes);
  if (bytes.length !== f.bytes || got !== f.sha256) {
    throw new UserError(`${what} from ${url} fails its checksum: ${bytes.length} bytes, sha256 ${got}; expected ${f.bytes} bytes, sha256 ${f.sha256}`, 'nothing was written; the download was damaged or the file changed upstream');
  }
  const tmp = `${path}.part-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return 'downloaded';
}

/** Downloads NAME's model and class list, verifies both, writes NAME.onnx, NAME.json (card) and NAME.labels.txt. */
export async function fetchModel(name: string, o: FetchOptions = {}): Promise<{ model: string; card: string; labels: string }> {
  const entry = CATALOG[name];
  if (!entry) throw new UserError(`unknown model "${name}"`, `available: ${Object.keys(CATALOG).join(', ')}`);
  const dir = o.outDir ?? 'models';
  const log = o.log ?? (() => {});
  makeDirs(dir, `--out ${dir}`);
  const model = join(dir, `${name}.onnx`);
  const labels = join(dir, `${name}.labels.txt`);
  const card = join(dir, `${name}.json`);
  try {
    log(`${name}: ${entry.description}`);
    const m = await download(entry.model, model, o, `${name} model`);
    log(`${m === 'present' ? 'already present' : 'downloaded'}: ${model} (${entry.model.bytes} bytes, sha256 ok)`);
    const l = await download(entry.labels, labels, o, `${name} class list`);
    log(`${l === 'present' ? 'already present' : 'downloaded'}: ${labels} (sha256 ok)`);
  } catch (e) {
    rmSync(`${model}.part-${process.pid}`, { force: true });
    throw e;
  }
  writeFileSync(card, `${JSON.stringify({ ...entry.card, labels: `${name}.labels.txt` }, null, 1)}\n`);
  log(`wrote ${card} (model card: preprocessing and labels)`);
  return { model, card, labels };
}
