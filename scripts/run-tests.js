#!/usr/bin/env node
// Runs the whole vitest suite and ends with the plain summary line "N passed, N failed[, N skipped]".
// With Arm's CMSIS-NN beside the repository (../shared/cmsis-nn-v7.0.0), SQZFW_TEST_CMSIS_NN points at it, so the
// tests that build against Arm's library run too.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const results = '.vitest-results.json';
rmSync(results, { force: true });
const armTree = resolve('..', 'shared', 'cmsis-nn-v7.0.0');
const env = { ...process.env };
if (!env.SQZFW_TEST_CMSIS_NN && existsSync(resolve(armTree, 'Include', 'arm_nnfunctions.h'))) env.SQZFW_TEST_CMSIS_NN = armTree;
// vitest's output is shown as it comes and kept, to tell its own worker-RPC time-outs from test failures (below).
const child = spawn('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'], env });
let output = '';
child.stdout.on('data', (d) => { process.stdout.write(d); output += d; });
child.stderr.on('data', (d) => { process.stderr.write(d); output += d; });
const status = await new Promise((done) => child.on('close', (code) => done(code ?? 1)));
let summary;
try {
  const j = JSON.parse(readFileSync(results, 'utf8'));
  summary = {
    passed: j.numPassedTests,
    failed: j.numFailedTests + (j.numRuntimeErrorTestSuites ?? 0),
    skipped: j.numPendingTests + j.numTodoTests,
    complete: j.numTotalTests === j.numPassedTests + j.numFailedTests + j.numPendingTests + j.numTodoTests,
  };
} catch {
  summary = undefined;
}
if (!summary) {
  console.log('\n0 passed, 1 failed (vitest wrote no results)');
  process.exit(1);
}
console.log(`\n${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}`);
if (summary.passed === 0) process.exit(1);
/**
 * A test that blocks its worker's event loop for over 60 s (a long synchronous build or QEMU run on a busy machine)
 * makes vitest's worker report `Timeout calling "onTaskUpdate"`: its reply from the main process arrived late, the
 * results themselves arrived. When every test has a result, none failed, and every unhandled error vitest counted is
 * that time-out, the run passes and says so; any other unhandled error keeps vitest's failing status.
 */
const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
const caught = Number(/Vitest caught (\d+) unhandled error/.exec(plain)?.[1] ?? 0);
const rpcTimeouts = (plain.match(/^Error: \[vitest-worker\]: Timeout calling "onTaskUpdate"$/gm) ?? []).length;
if (status !== 0 && summary.failed === 0 && summary.complete && caught > 0 && rpcTimeouts === caught) {
  console.log(`note: vitest's worker timed out ${caught} time(s) waiting for the main process to acknowledge a task update (a long synchronous test); every test has its result`);
  process.exit(0);
}
process.exit(status);
