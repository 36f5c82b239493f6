/**
 * Run the generated testbench in Icarus Verilog (iverilog -g2012 + vvp) or Verilator (--binary --timing, 5.x) in
 * the output directory, and parse the per-layer checksums it prints. Build products go to a temporary directory.
 * Used by `sqzfw asic --simulate` and the HDL tests.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { EXIT, UserError } from '../errors.js';
import { SV_PACKAGE_FILE, SV_ROM_FILE, SV_TB_FILE } from './writers/sv.js';

export interface SimResult {
  layers: { index: number; name: string; checksum: number }[];
  banks: { memory: string; bank: number; checksum: number }[];
  /** Per layer with linear weights: FNV-1a of the weights as the testbench's decoder decoded them. */
  decoded: { index: number; name: string; checksum: number }[];
  passed: boolean;
  stdout: string;
}

export type Simulator = 'iverilog' | 'verilator';

export function haveIverilog(): boolean {
  const r = spawnSync('iverilog', ['-V'], { encoding: 'utf8' });
  return r.error === undefined && /Icarus/.test(`${r.stdout}${r.stderr}`);
}

/** Verilator 5 or newer (needs --binary and --timing). */
export function haveVerilator(): boolean {
  const r = spawnSync('verilator', ['--version'], { encoding: 'utf8' });
  const m = /Verilator (\d+)\./.exec(r.stdout ?? '');
  return r.error === undefined && !!m && Number(m[1]) >= 5;
}

export interface SimOptions {
  /** Also print whole-bank checksums (+banks). */
  banks?: boolean;
  timeoutMs?: number;
  simulator?: Simulator;
}

export function runTestbench(dir: string, opts: SimOptions = {}): SimResult {
  const work = mkdtempSync(join(tmpdir(), 'sqzfw-asic-sim-'));
  try {
    return simulateIn(dir, work, opts);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const SOURCES = [SV_PACKAGE_FILE, SV_ROM_FILE, SV_TB_FILE];

function simulateIn(dir: string, work: string, opts: SimOptions): SimResult {
  const sim = opts.simulator ?? 'iverilog';
  const timeout = opts.timeoutMs ?? 600_000;
  let exe: string;
  let args: string[];
  if (sim === 'iverilog') {
    exe = 'vvp';
    const vvpFile = join(work, 'sqzfw_asic_tb.vvp');
    const c = spawnSync('iverilog', ['-g2012', '-o', vvpFile, ...SOURCES], { cwd: dir, encoding: 'utf8' });
    if (c.error) throw new UserError(`cannot run iverilog: ${c.error.message}`, 'install Icarus Verilog (Debian: apt-get install iverilog)', EXIT.missingTool);
    if (c.status !== 0) throw new Error(`iverilog failed:\n${c.stdout}${c.stderr}`);
    args = ['-n', vvpFile];
  } else {
    const c = spawnSync(
      'verilator',
      ['--binary', '--timing', '-Wno-fatal', '-Wno-lint', '-Wno-style', '--top-module', 'sqzfw_asic_tb', '-Mdir', work, ...SOURCES],
      { cwd: dir, encoding: 'utf8', timeout, maxBuffer: 64 << 20 },
    );
    if (c.error) throw new UserError(`cannot run verilator: ${c.error.message}`, 'install Verilator 5 (Debian: apt-get install verilator)', EXIT.missingTool);
    if (c.status !== 0) throw new Error(`verilator failed:\n${c.stdout}${c.stderr}`);
    exe = join(work, 'Vsqzfw_asic_tb');
    args = [];
  }
  if (opts.banks) args.push('+banks');
  const r = spawnSync(exe, args, { cwd: dir, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${exe} failed: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${exe} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  const layers: SimResult['layers'] = [];
  const banks: SimResult['banks'] = [];
  const decoded: SimResult['decoded'] = [];
  for (const line of r.stdout.split('\n')) {
    let m = /^LAYER (\d+) (.*) ([0-9a-fA-F]{8})$/.exec(line.trim());
    if (m) layers.push({ index: Number(m[1]), name: m[2]!, checksum: parseInt(m[3]!, 16) });
    m = /^DECODED (\d+) (.*) ([0-9a-fA-F]{8})$/.exec(line.trim());
    if (m) decoded.push({ index: Number(m[1]), name: m[2]!, checksum: parseInt(m[3]!, 16) });
    m = /^BANK (\S+) (\d+) ([0-9a-fA-F]{8})$/.exec(line.trim());
    if (m) banks.push({ memory: m[1]!, bank: Number(m[2]), checksum: parseInt(m[3]!, 16) });
  }
  const all = `${r.stdout}${r.stderr}`;
  return { layers, banks, decoded, passed: /^PASS /m.test(r.stdout) && !/MISMATCH|ERROR|WARNING/.test(all), stdout: all };
}
