/**
 * The CLI as a user meets it: help, info, and every bad input gives one error line plus a hint, a non-zero exit,
 * no stack trace and no half-written output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sqzfw-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { IN_CI } from './helpers/require.js';

// The CLI runs from its TypeScript sources through tsx, resolved from this repo (the tests' cwd is a temp folder).
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function sqzfw(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'src', 'main.ts'), ...args], { cwd: work, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectUserError(r: { code: number | null; err: string }, pattern: RegExp) {
  expect(r.code, r.err).not.toBe(0);
  expect(r.err).toMatch(/^error: /m);
  expect(r.err).toMatch(pattern);
  expect(r.err).toMatch(/^hint: /m);
  expect(r.err).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
}

describe('sqzfw CLI', () => {
  test('info prints the v1.1 totals', () => {
    const r = sqzfw(['info', '--variant', 'v1.1', '--input-size', '224', '--classes', '1000']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/total: 1,235,496 parameters, 349\.2 M MACs/);
  });

  test('every command has --help', () => {
    const listed = [...sqzfw(['--help']).out.matchAll(/^  ([a-z-]+) /gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(listed).toEqual(expect.arrayContaining(['info', 'generate', 'build', 'emulate', 'export', 'eval', 'validate', 'flash', 'asic']));
    for (const c of listed) {
      const r = sqzfw([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(/Usage: sqzfw/);
    }
  });

  test('unknown board lists the available ones', () => {
    expectUserError(sqzfw(['generate', '--board', 'nucleo-zz', '--out', 'x']), /unknown board "?nucleo-zz"?[\s\S]*mps2-an500/);
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  test('unknown variant is refused with the list', () => {
    const r = sqzfw(['info', '--variant', 'v2']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/unknown variant; use one of: v1\.0, v1\.1/);
  });

  test('a board profile that fails its schema names the field', () => {
    const bad = join(work, 'bad-board.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', description: 'x', cpu: { core: 'cortex-m4', fpu: 'fpv4-sp-d16', floatAbi: 'hard', dsp: true, clockHz: 1 }, memory: [{ name: 'FLASH', kind: 'flash', origin: '0x0', length: 'lots' }], placement: { code: 'FLASH', weights: ['FLASH'], arena: ['FLASH'] }, stackSize: 1024, uart: { kind: 'cmsdk', base: 0 } }));
    expectUserError(sqzfw(['generate', '--board', bad, '--out', 'y']), /memory\[0\]\.length/);
    expect(existsSync(join(work, 'y'))).toBe(false);
  });

  test('a model that does not fit names the region and the bytes short, and writes nothing', () => {
    const small = join(work, 'small-board.json');
    writeFileSync(small, JSON.stringify({
      name: 'small', description: 'tiny RAM', cpu: { core: 'cortex-m4', fpu: 'fpv4-sp-d16', floatAbi: 'hard', dsp: true, clockHz: 16000000 },
      memory: [{ name: 'FLASH', kind: 'flash', origin: '0x08000000', length: '2M' }, { name: 'SRAM', kind: 'ram', origin: '0x20000000', length: '64K' }],
      placement: { code: 'FLASH', weights: ['FLASH'], arena: ['SRAM'] }, stackSize: '4K', uart: { kind: 'cmsdk', base: '0x40004000' },
    }));
    const r = sqzfw(['generate', '--board', small, '--out', 'z', '--input-size', '128', '--classes', '10']);
    expectUserError(r, /does not fit: .* SRAM, has \d+ bytes: \d+ bytes short\. The peak is at layer \w+/);
    expect(existsSync(join(work, 'z'))).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('tmp-'))).toEqual([]);
  });

  test('generate refuses to overwrite a folder that is not a sqzfw project', () => {
    mkdirSync(join(work, 'mine'));
    writeFileSync(join(work, 'mine', 'notes.txt'), 'keep me');
    expectUserError(sqzfw(['generate', '--input-size', '64', '--classes', '10', '--out', 'mine']), /--out mine is a folder not written by sqzfw generate \(no sqzfw\.json from sqzfw\); refusing to replace it/);
    expect(existsSync(join(work, 'mine', 'notes.txt'))).toBe(true);
  });

  test('a missing toolchain says how to install it', () => {
    const g = sqzfw(['generate', '--input-size', '64', '--classes', '10', '--out', 'tc']);
    expect(g.code, g.err).toBe(0);
    const r = sqzfw(['build', '--project', 'tc'], { ...process.env, PATH: '/nonexistent' });
    expectUserError(r, /arm-none-eabi-gcc/);
    expect(r.err).toMatch(/apt-get install|npm run setup/);
  });

  test('emulate without a built firmware, and on a folder that is no project, are clear errors', () => {
    expectUserError(sqzfw(['emulate', '--project', 'tc']), /firmware\.elf|not built|build/);
    expectUserError(sqzfw(['emulate', '--project', 'nowhere']), /not a sqzfw project/);
  });

  test('--app none: no image needed; --image needs the demo; a library-only project cannot be emulated', () => {
    expectUserError(sqzfw(['generate', '--model', 'm.onnx', '--app', 'none', '--image', 'x.jpg', '--out', 'img']), /--image needs an application/);
    // Without a model file, --image has nothing to preprocess for: refused by the shared model-option check.
    expectUserError(sqzfw(['generate', '--input-size', '64', '--classes', '10', '--app', 'none', '--image', 'x.jpg', '--out', 'img']), /--image needs --model/);
    expect(existsSync(join(work, 'img'))).toBe(false);
    const g = sqzfw(['generate', '--input-size', '64', '--classes', '10', '--app', 'none', '--out', 'lib']);
    expect(g.code, g.err).toBe(0);
    expect(g.out).toMatch(/\(--app none\)/);
    expect(readdirSync(join(work, 'lib')).sort()).toEqual(['Makefile', 'model', 'plan.json', 'sqzfw', 'sqzfw.json']);
    expectUserError(sqzfw(['emulate', '--project', 'lib']), /no application to run \(generated with --app none\)/);
    expect(sqzfw(['generate', '--app', 'web', '--out', 'web']).err).toMatch(/--app.*Allowed choices are demo, validate, none/);
  });

  const REAL_MODEL = join(root, '..', 'shared', 'models', 'squeezenet1.0-imagenet.onnx');
  test.skipIf(!existsSync(REAL_MODEL) && !IN_CI)('generate --model <real ONNX> --app none works without an image', () => {
    expect(existsSync(REAL_MODEL), `${REAL_MODEL} is needed in CI`).toBe(true);
    const r = sqzfw(['generate', '--model', REAL_MODEL, '--app', 'none', '--out', 'real']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/calibrated on 4 synthetic images/);
    const h = readFileSync(join(work, 'real', 'model', 'model.h'), 'utf8');
    expect(h).toContain('#define SQZFW_INPUT_HEIGHT 227');
    expect(h).toContain('#define SQZFW_CLASS_COUNT 1000');
    expect(h).toContain('#define SQZFW_HAS_CLASS_NAMES 1');
    expect(h).toContain('#define SQZFW_PREPROC_CHANNEL_ORDER "BGR"');
    expect(h).toMatch(/#define SQZFW_PREPROC_MEAN \{ 104(\.0)?, 117(\.0)?, 123(\.0)? \}/);
  });

  test('bad numbers are refused by the option parser', () => {
    const r = sqzfw(['info', '--input-size', 'big']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--input-size must be an integer/);
  });
});

describe('calibration options', () => {
  // validate checks firmware that generate wrote (a board runs generate --app validate firmware): both must quantize
  // the model the same way, so they take the same calibration options with the same defaults.
  const calibrationOptions = (command: string): string[] => {
    const r = sqzfw([command, '--help']);
    expect(r.code, r.err).toBe(0);
    // One entry per option (help wraps long descriptions onto indented lines).
    const entries = r.out.split(/\n(?= {2}-)/).map((e) => e.replace(/\s+/g, ' ').trim());
    return entries
      .map((e) => /^(--calib(?:-count|-method)?|--percentile|--ranges|--folds)\b.*?(\(default: [^)]*\))?$/.exec(e))
      .filter((m) => m !== null)
      .map((m) => `${m[1]} ${m[2] ?? ''}`.trim())
      .sort();
  };
  test('generate and validate take the same ones; eval adds only its own run settings', () => {
    const generate = calibrationOptions('generate');
    expect(generate).toEqual(['--calib', '--calib-count (default: 100)', '--ranges']);
    expect(calibrationOptions('validate')).toEqual(generate);
    expect(calibrationOptions('demo')).toEqual(generate);
    const name = (o: string): string => o.split(' ')[0]!;
    expect(calibrationOptions('eval').map(name)).toEqual([...generate.map(name), '--calib-method', '--folds', '--percentile'].sort());
  });
});
