#!/usr/bin/env node
// sqzfw entry point: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('error: sqzfw is not built yet');
  console.error('hint: run `npm run build` (or `npm run setup && npm run build` on a fresh checkout)');
  process.exit(2);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv);
