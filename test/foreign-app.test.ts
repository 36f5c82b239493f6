/**
 * The model library inside someone else's firmware: test/fixtures/foreign-app is a vendor-style application (its
 * own startup with Reset_Handler and SysTick_Handler, its own linker script that INCLUDEs model/sqzfw_model.ld, its
 * own UART code and main) built with CMake around a project generated with --app none, linked with
 * -Wl,--orphan-handling=error, run in QEMU (mps2-an500) and compared byte for byte with the golden model: with the
 * layer-by-layer plan and a row-band plan on sqzfw's kernels, and against Arm's CMSIS-NN. Its main quantizes 8-bit
 * pixels with model.h's preprocessing constants and helpers: those must give the golden input.
 * Also: the --app none project's own Makefile (model/sqzfw_model.mk) builds the library.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { buildLibrary } from '../src/toolchain/index.js';
import { defaultPreprocessing } from '../src/emit/index.js';
import { runQemu } from '../src/emulate/qemu.js';
import { generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { runGolden } from '../src/golden/run.js';
import { normalize } from '../src/image/preprocess.js';
import { quantizeInput } from '../src/quantize/quantize.js';
import { ARM_CMSIS_NN } from './helpers/arm-cmsis-nn.js';
import { IN_CI, required } from './helpers/require.js';

const APP = fileURLToPath(new URL('./fixtures/foreign-app/', import.meta.url));
const hasCmake = spawnSync('cmake', ['--version']).status === 0;
required('cmake', hasCmake);

const work = mkdtempSync(join(tmpdir(), 'sqzfw-foreign-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fixture's test image: main.c's pixel(y, x, c). */
const pixel = (y: number, x: number, c: number): number => (y * 7 + x * 13 + c * 61 + ((y * x) >> 3)) & 0xff;

describe.skipIf(!hasCmake)('a foreign application links the model library (CMake, vendor linker script, QEMU)', () => {
  const board = loadBoard('mps2-an500');
  const prepared = prepareSynthetic({ variant: 'v1.1', inputSize: 96, classes: 10, seed: 4 });
  prepared.labels = Array.from({ length: 10 }, (_, i) => `class "${i}"`);
  const model = prepared.model;
  const project = join(work, 'lib');
  // The same model planned in row bands (band loops over offset tables, a row pool), as a board with little SRAM
  // gets it, in the same foreign application. 96x96: at 64x64 the chains are three pulled bands that all differ, so
  // nothing repeats and model.c has no loop to test.
  const tiledProject = join(work, 'lib-tiled');
  let expected: Int8Array[];
  let tiledCalls = 0;

  beforeAll(() => {
    generateProject(prepared, board, project, { app: 'none' });
    const tiled = generateProject(prepared, board, tiledProject, { app: 'none', strategy: 'tiled' });
    expect(tiled.plan.strategy).toMatch(/^row bands/);
    tiledCalls = tiled.plan.steps.length;
    // What main.c computes: pixels -> model.h's preprocessing -> sqzfw_quantize_input.
    const d = model.tensors[model.input].dims;
    const rgb = new Uint8Array(d.h * d.w * 3);
    for (let y = 0; y < d.h; y++) for (let x = 0; x < d.w; x++) for (let c = 0; c < 3; c++) rgb[(y * d.w + x) * 3 + c] = pixel(y, x, c);
    const x = normalize({ width: d.w, height: d.h, data: rgb }, defaultPreprocessing(d.h, d.c), d.c);
    const golden = runGolden(model, quantizeInput(x, model.tensors[model.input]));
    expected = model.outputs.map((o) => golden[o]);
  });

  test('the project holds the library and a Makefile, no application, no runtime', () => {
    expect(existsSync(join(project, 'model', 'model.h'))).toBe(true);
    expect(existsSync(join(project, 'src'))).toBe(false);
    expect(existsSync(join(project, 'sqzfw', 'runtime'))).toBe(false);
    expect(existsSync(join(project, 'linker.ld'))).toBe(false);
  });

  // Arm's tree: SQZFW_TEST_CMSIS_NN or ../shared (test/helpers/arm-cmsis-nn.ts); in CI a missing tree fails.
  const variants = [
    { name: "sqzfw's kernels", arm: false, tiled: false },
    { name: "sqzfw's kernels, row-band plan", arm: false, tiled: true },
    ...(ARM_CMSIS_NN || IN_CI ? [{ name: "Arm's CMSIS-NN", arm: true, tiled: false }] : []),
  ];
  test.each(variants)('built with CMake against $name, run in QEMU: bit-exact, its own handlers, no orphan sections', async ({ arm, tiled }) => {
    if (arm) expect(ARM_CMSIS_NN, "SQZFW_TEST_CMSIS_NN must name Arm's CMSIS-NN tree in CI").toBeTruthy();
    const nn = arm ? ARM_CMSIS_NN : undefined;
    const lib = tiled ? tiledProject : project;
    if (tiled) expect(readFileSync(join(lib, 'model', 'model.c'), 'utf8')).toMatch(/for \(/); // band loops (the plain plan's model.c has none)
    const build = join(work, `build-${nn ? 'arm' : 'sqzfw'}${tiled ? '-tiled' : ''}`);
    execFileSync('cmake', [
      '-S', APP, '-B', build, `-DCMAKE_TOOLCHAIN_FILE=${join(APP, 'arm-none-eabi.cmake')}`, '-DCMAKE_BUILD_TYPE=Release',
      `-DSQZFW_MODEL_DIR=${join(lib, 'model')}`, ...(nn ? [`-DSQZFW_CMSIS_NN=${nn}`, '-DSQZFW_WERROR=OFF'] : []),
    ], { stdio: 'pipe' });
    execFileSync('cmake', ['--build', build, '-j2'], { stdio: 'pipe' });
    expect(readFileSync(join(build, 'CMakeFiles', 'foreign_app.elf.dir', 'link.txt'), 'utf8')).toContain('-Wl,--orphan-handling=error');
    const elf = join(build, 'foreign_app.elf');
    // vendor.ld's /DISCARD/ names the C library this link uses (--specs=nano.specs: libc_nano.a, not libc.a).
    const linkedLibc = [...new Set([...readFileSync(join(build, 'foreign_app.map'), 'utf8').matchAll(/\/(libc(?:_nano)?)\.a\(/g)].map((m) => m[1]))];
    expect(linkedLibc).toEqual(['libc_nano']);
    const discard = /\/DISCARD\/ : \{([^}]*)\}/.exec(readFileSync(join(APP, 'vendor.ld'), 'utf8'))![1]!;
    expect(discard.match(/\blibc\w*\.a\b/g)).toEqual(linkedLibc.map((l) => `${l}.a`));

    // One Reset_Handler and one SysTick_Handler, the application's; nothing of sqzfw's runtime.
    const syms = execFileSync('arm-none-eabi-nm', [elf], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ').pop()!);
    expect(syms.filter((s) => s === 'Reset_Handler')).toHaveLength(1);
    expect(syms.filter((s) => s === 'SysTick_Handler')).toHaveLength(1);
    expect(syms.filter((s) => /^sqzfw_(rt|uart|report|fault)_|^sqzfw_vector_table$/.test(s))).toEqual([]);
    expect(syms).toContain('sqzfw_model_run');
    const header = readFileSync(join(lib, 'model', 'model.h'), 'utf8');
    if (tiled) expect(header).toContain(`#define SQZFW_STEP_COUNT ${tiledCalls}`);
    const weightsBytes = Number(/#define SQZFW_WEIGHTS_BYTES (\d+)/.exec(header)![1]);
    const arenaBytes = Number(/#define SQZFW_ARENA_SSRAM23_BYTES (\d+)/.exec(header)![1]);
    const sections = execFileSync('arm-none-eabi-objdump', ['-h', '-w', elf], { encoding: 'utf8' });
    const size = (name: string) => parseInt(new RegExp(`\\s${name.replace(/\./g, '\\.')}\\s+([0-9a-f]+)`).exec(sections)![1]!, 16);
    expect(size('.sqzfw_weights')).toBeGreaterThanOrEqual(weightsBytes);
    expect(size('.sqzfw_weights')).toBeLessThan(weightsBytes + 16 * 104);
    expect(size('.sqzfw_arena_SSRAM23')).toBe(arenaBytes);
    expect(sections).toMatch(/\.sqzfw_arena_SSRAM23\s+\S+\s+20000000\s+\S+\s+\S+\s+\S+\s+ALLOC$/m); // NOLOAD, in RAM

    const run = await runQemu({ elf, board, timeoutMs: 60_000 });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode, run.stdout).toBe(0);
    const lines = run.stdout.replace(/\r/g, '').split('\n');
    expect(lines).toContain(`foreign begin ${model.name}`);
    model.outputs.forEach((o, i) => {
      const line = lines.find((l) => l.startsWith(`out ${o} `));
      expect(line, run.stdout).toBeDefined();
      const hex = line!.split(' ')[3]!;
      expect(hex).toBe(Buffer.from(expected[i]!.buffer, expected[i]!.byteOffset, expected[i]!.length).toString('hex'));
    });
    // The top class, its name from model.h, and its score dequantized with SQZFW_OUTPUT_SCALE/ZERO_POINT in float.
    const scores = expected[0]!;
    const best = scores.indexOf(Math.max(...scores));
    const t = model.tensors[model.outputs[0]!];
    const milli = Math.trunc(Math.fround(Math.fround(Math.fround(t.scale) * (scores[best]! - t.zeroPoint)) * 1000));
    expect(lines).toContain(`top1 ${best} class "${best}" milli ${milli}`);
    expect(Number(/^ticks (\d+)$/m.exec(run.stdout)![1])).toBeGreaterThan(0); // the application's SysTick_Handler ran
    expect(lines).toContain('foreign end 0');
  });

  test("the project's Makefile builds the library through model/sqzfw_model.mk", async () => {
    const l = await buildLibrary({ projectDir: project });
    expect(l.text).toBeGreaterThan(Number(/#define SQZFW_WEIGHTS_BYTES (\d+)/.exec(readFileSync(join(project, 'model', 'model.h'), 'utf8'))![1]));
    const syms = execFileSync('arm-none-eabi-nm', [l.lib], { encoding: 'utf8' });
    for (const s of ['sqzfw_model_init', 'sqzfw_model_run', 'sqzfw_model_input', 'sqzfw_outputs', 'sqzfw_class_names', 'arm_convolve_wrapper_s8']) expect(syms).toMatch(new RegExp(`\\b[TDR] ${s}$`, 'm'));
    expect(syms).not.toMatch(/\bReset_Handler\b|\bSysTick_Handler\b/);
  });
});
