#!/usr/bin/env node
// sqzfw entry point: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('error: sqzfw is not built yet');
  console.error('hint: run `npm run build` (or `npm run setup && npm run build` on a fresh checkout)');
  process.exit(2);
}
await import(entry.href);
