/** The generator stamp written into every generated file: `sqzfw asic <version>` (version from package.json). */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { VERSION } from '../version.js';

/** Repository / package root: src/asic/*.ts and dist/asic/*.js are both two levels below it. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const generatorStamp = (): string => `sqzfw asic ${VERSION}`;
