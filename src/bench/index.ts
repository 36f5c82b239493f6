/**
 * `npm run bench`: every benchmark reports a baseline and a result measured in the same run, and their ratio.
 * `npm run bench -- firmware float` runs a subset; `--json FILE` also writes the rows as JSON.
 */
import { writeFileSync } from 'node:fs';
import { benchCli } from './cli.js';
import { benchFirmware } from './firmware.js';
import { benchFloat } from './float.js';
import { benchPlanner } from './planner.js';
import type { Bench, BenchRow } from './types.js';

const BENCHES: Record<string, Bench> = { planner: benchPlanner, firmware: benchFirmware, float: benchFloat, cli: benchCli };

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const names = args.filter((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
const selected = names.length ? names : Object.keys(BENCHES);
for (const n of selected) {
  if (!BENCHES[n]) {
    console.error(`error: unknown benchmark ${n}; available: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 ? v.toLocaleString('en-US') : String(v));
const all: BenchRow[] = [];
for (const n of selected) {
  console.log(`\n== ${n}`);
  const rows = await BENCHES[n]();
  for (const r of rows) {
    console.log(`${r.name}\n  baseline ${r.baseline.label}: ${fmt(r.baseline.value)} ${r.unit}\n  result   ${r.result.label}: ${fmt(r.result.value)} ${r.unit}\n  ratio    ${r.ratio}${r.note ? `  (${r.note})` : ''}`);
  }
  all.push(...rows);
}
if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(all, null, 1)}\n`);
