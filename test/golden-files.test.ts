/**
 * Golden files: the project generated for a tiny model, committed under test/golden/projects/<case>/ for the plain
 * and the row-band (tiled) plan on two boards, and the placement of the v1.1@224 and v1.0@227 plans under
 * test/golden/plans/. Each test regenerates and compares byte for byte, so any change to an emitted byte or a
 * planned offset fails here and shows up as a diff of readable files in review.
 *
 * After an intended change: `UPDATE_GOLDEN=1 npx vitest run test/golden-files.test.ts`, then read the diff of
 * test/golden/ before committing it. The pinned peak sizes below are written out by hand on purpose: they move only
 * with a planner change, and the commit that moves them says why.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { generateFiles } from '../src/driver/index.js';
import { syntheticInput } from '../src/prepare/index.js';
import { samePad, type Graph, type GraphNode } from '../src/graph/ir.js';
import { inferShapes } from '../src/graph/shapes.js';
import { buildQuantizedModel, quantizeFloatModel, syntheticInputs } from '../src/prepare/index.js';
import { planModel, type PlanStrategy } from '../src/planner/index.js';
import type { MemoryPlan } from '../src/planner/types.js';
import { syntheticModel } from '../src/weights/synthetic.js';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Every file below dir, by its path relative to dir ('/'-separated). */
function readTree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, readTree(dir, path));
    else out[path] = readFileSync(join(dir, path), 'utf8');
  }
  return out;
}

function writeTree(dir: string, files: Record<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

const FIRMWARE = fileURLToPath(new URL('../firmware/', import.meta.url));
const FIRMWARE_FILES = new Map<string, string>();
for (const part of ['runtime']) for (const name of readdirSync(join(FIRMWARE, part))) FIRMWARE_FILES.set(name, `firmware/${part}/${name}`);

/**
 * Generated files that are verbatim copies of a firmware/ source (the runtime, the library's operators) are checked
 * against that source here and listed in the golden folder's COPIED.txt instead of being committed twice; what the
 * generator computes is committed whole.
 */
function splitCopies(files: Record<string, string>): Record<string, string> {
  const own: Record<string, string> = {};
  const copied: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    const src = FIRMWARE_FILES.get(rel.split('/').pop()!);
    if (src !== undefined && readFileSync(join(FIRMWARE, '..', src), 'utf8') === text) copied.push(`${rel} = ${src}`);
    else own[rel] = text;
  }
  if (copied.length) own['COPIED.txt'] = `${copied.sort().join('\n')}\n`;
  return own;
}

/** Compares generated files with a golden folder (or rewrites it under UPDATE_GOLDEN=1). */
function expectGolden(dir: string, generated: Record<string, string>): void {
  const files = splitCopies(generated);
  if (UPDATE) writeTree(dir, files);
  expect(existsSync(dir), `${dir} is missing: run UPDATE_GOLDEN=1 npx vitest run test/golden-files.test.ts`).toBe(true);
  const golden = readTree(dir);
  expect(Object.keys(files).sort()).toEqual(Object.keys(golden).sort());
  for (const [rel, text] of Object.entries(files)) {
    if (text === golden[rel]) continue;
    const a = text.split('\n');
    const b = golden[rel]!.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    // The first differing line names the change; the whole-file equality below is what fails.
    expect(`${rel}:${line + 1}: ${a[line]}`).toBe(`${rel}:${line + 1}: ${b[line]}`);
    expect(text).toBe(golden[rel]);
  }
}

/**
 * A SqueezeNet in miniature: conv1 3x3/2, pool1 3x3/2 (ceil), one fire module (squeeze 1x1, expand 1x1 and 3x3,
 * concat), conv10 1x1 to 10 classes, the global average pool and softmax. Its weights file is a few kilobytes, so
 * the whole project can be read in review.
 */
function tinyGraph(): Graph {
  const conv = (name: string, input: string, k: number, s: number, p: number, out: number): GraphNode => ({ op: 'conv', name, inputs: [input], output: name, kernel: [k, k], stride: [s, s], pad: samePad(p), outChannels: out, relu: true });
  return inferShapes({
    name: 'tiny-squeezenet-32-10',
    input: { name: 'input', dims: { h: 32, w: 32, c: 3 } },
    nodes: [
      conv('conv1', 'input', 3, 2, 0, 8),
      { op: 'maxpool', name: 'pool1', inputs: ['conv1'], output: 'pool1', kernel: [3, 3], stride: [2, 2], pad: samePad(0), ceil: true },
      conv('fire2.squeeze', 'pool1', 1, 1, 0, 4),
      conv('fire2.expand1x1', 'fire2.squeeze', 1, 1, 0, 8),
      conv('fire2.expand3x3', 'fire2.squeeze', 3, 1, 1, 8),
      { op: 'concat', name: 'fire2.concat', inputs: ['fire2.expand1x1', 'fire2.expand3x3'], output: 'fire2.concat' },
      conv('conv10', 'fire2.concat', 1, 1, 0, 10),
      { op: 'avgpool', name: 'pool10', inputs: ['conv10'], output: 'pool10', kernel: [0, 0], stride: [1, 1], pad: samePad(0), ceil: false, global: true },
      { op: 'softmax', name: 'prob', inputs: ['pool10'], output: 'prob' },
    ],
    outputs: ['pool10', 'prob'],
    tensors: {},
  });
}

function tinyPrepared() {
  const float = syntheticModel(tinyGraph(), 3);
  const model = quantizeFloatModel(float, syntheticInputs(float, 2));
  return { model, ...syntheticInput(model, 1003) };
}

describe('golden projects: a tiny model, plain and row-band plans, two boards', () => {
  const prepared = tinyPrepared();
  test.each([
    ['mps2-an500', 'plain'],
    ['mps2-an500', 'tiled'],
    ['stm32f746g-disco', 'plain'],
    ['stm32f746g-disco', 'tiled'],
  ] as [string, PlanStrategy][])('%s, %s plan: every generated file as committed', (boardName, strategy) => {
    const { plan, files } = generateFiles(prepared, loadBoard(boardName), { strategy });
    if (strategy === 'tiled') expect(plan.chains?.length ?? 0).toBeGreaterThan(0);
    else expect(plan.chains?.length ?? 0).toBe(0);
    expectGolden(join(GOLDEN, 'projects', `${boardName}-${strategy}`), files);
  });

  test('the same inputs give the same bytes twice in one process', () => {
    const board = loadBoard('mps2-an500');
    expect(generateFiles(tinyPrepared(), board, { strategy: 'tiled' }).files).toEqual(generateFiles(prepared, board, { strategy: 'tiled' }).files);
  });
});

/** One line a buffer: where the plan put it and when it is live; what an offset change shows up in. */
function placement(plan: MemoryPlan): string {
  const lines = [`${plan.model}: ${plan.strategy}`, `peak ${plan.peakBytes} bytes, ${plan.macs} MACs, ${plan.steps.length} steps`];
  for (const r of plan.regions) lines.push(`region ${r.name}: ${r.used} of ${r.capacity}`);
  for (const b of plan.buffers) {
    const live = b.live ? ` live ${b.live.map((p) => `${p.first}-${p.last}@[${p.start},${p.end})`).join(' ')}` : '';
    lines.push(`${b.name} ${b.kind} ${b.region}+${b.offset} size ${b.size} align ${b.alignment} steps ${b.firstUse}-${b.lastUse}${live}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('pinned plans: the exact peak and every offset of v1.1@224 and v1.0@227 (1000 classes, DSP scratch)', () => {
  const regions = [{ name: 'SRAM', capacity: 16 << 20 }];
  // Exact bytes, scratch and the input included. A planner change that moves these moves them here, on purpose.
  const PINNED: [string, number, PlanStrategy, number][] = [
    ['v1.1', 224, 'plain', 982_144],
    ['v1.1', 224, 'tiled', 161_312],
    ['v1.0', 227, 'plain', 1_473_216],
    ['v1.0', 227, 'tiled', 173_088],
  ];
  const models = new Map<string, ReturnType<typeof buildQuantizedModel>>();
  const modelFor = (variant: 'v1.0' | 'v1.1', size: number) => {
    const key = `${variant}@${size}`;
    if (!models.has(key)) models.set(key, buildQuantizedModel({ variant, inputSize: size, classes: 1000, calibrationImages: 1 }));
    return models.get(key)!;
  };
  test.each(PINNED)('%s@%i %s', (variant, size, strategy, peak) => {
    const plan = planModel(modelFor(variant as 'v1.0' | 'v1.1', size), { regions, path: 'dsp', strategy });
    expectGolden(join(GOLDEN, 'plans', `${variant}-${size}-${strategy}`), { 'placement.txt': placement(plan) });
    expect(plan.peakBytes).toBe(peak);
  });
});
