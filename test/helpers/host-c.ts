/**
 * Host-C drivers of firmware/runtime functions: a driver's C text defines run_case (test/c/case_file.h), which reads
 * one case from the case file and writes its results; test/c/case_file_main.c runs it over every case. Compiled
 * once per test file with the host gcc, warnings as errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUNTIME = join(ROOT, 'firmware', 'runtime');
const TEST_C = join(ROOT, 'test', 'c');
const FLAGS = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wconversion', '-pedantic'];
const INCLUDES = ['-I', RUNTIME, '-I', join(ROOT, 'firmware', 'cmsis-nn', 'Include'), '-I', TEST_C];

/**
 * Compiles `driverC` with the firmware/runtime files `runtime` (e.g. 'sqzfw_ops.c') before the test file's tests and
 * removes it after them. The returned function writes the case bytes, runs the driver on them and returns the bytes
 * it wrote (a non-zero exit throws).
 */
export function hostCaseDriver(name: string, driverC: string, runtime: string[]): (cases: Buffer) => Buffer {
  let dir = '';
  let exe = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `sqzfw-${name}-`));
    writeFileSync(join(dir, 'driver.c'), driverC);
    exe = join(dir, 'driver');
    const sources = [...runtime.map((f) => join(RUNTIME, f)), join(TEST_C, 'case_file_main.c'), join(dir, 'driver.c')];
    execFileSync('gcc', [...FLAGS, ...INCLUDES, ...sources, '-o', exe], { stdio: ['ignore', 'ignore', 'pipe'] });
  }, 60_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return (cases) => {
    writeFileSync(join(dir, 'cases.bin'), cases);
    execFileSync(exe, [join(dir, 'cases.bin'), join(dir, 'out.bin')]);
    return readFileSync(join(dir, 'out.bin'));
  };
}
