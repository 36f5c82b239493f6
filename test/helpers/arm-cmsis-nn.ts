/**
 * Arm's CMSIS-NN tree for the tests that build against it: SQZFW_TEST_CMSIS_NN, else ../shared/cmsis-nn-v7.0.0 beside
 * the repository when it is there (so `npx vitest run test/X.test.ts` runs those tests as `npm test` does), else
 * undefined: those tests skip on a developer's machine and fail in CI.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHARED_TREE = fileURLToPath(new URL('../../../shared/cmsis-nn-v7.0.0', import.meta.url));

export const ARM_CMSIS_NN: string | undefined =
  process.env.SQZFW_TEST_CMSIS_NN || (existsSync(join(SHARED_TREE, 'Include', 'arm_nnfunctions.h')) ? SHARED_TREE : undefined);
