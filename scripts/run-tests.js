#!/usr/bin/env node
// Runs the whole vitest suite and ends with the plain summary line "N passed, N failed[, N skipped]".
// With Arm's CMSIS-NN beside the repository (../shared/cmsis-nn-v7.0.0), SQZFW_TEST_CMSIS_NN points at it, so the
// tests that build against Arm's library run too.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const results = '.vitest-results.json';
rmSync(results, { force: true });
const armTree = resolve('..', 'shared', 'cmsis-nn-v7.0.0');
const env = { ...process.env };
if (!env.SQZFW_TEST_CMSIS_NN && existsSync(resolve(armTree, 'Include', 'arm_nnfunctions.h'))) env.SQZFW_TEST_CMSIS_NN = armTree;
const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)], { stdio: 'inherit', env });
let summary;
try {
  const j = JSON.parse(readFileSync(results, 'utf8'));
  summary = { passed: j.numPassedTests, failed: j.numFailedTests + (j.numRuntimeErrorTestSuites ?? 0), skipped: j.numPendingTests + j.numTodoTests };
} catch {
  summary = undefined;
}
if (summary) {
  console.log(`\n${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}`);
  if (summary.passed === 0) process.exit(1);
} else console.log('\n0 passed, 1 failed (vitest wrote no results)');
process.exit(r.status ?? 1);
