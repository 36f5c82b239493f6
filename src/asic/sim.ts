/**
 * Run the generated testbench in Icarus Verilog (iverilog -g2012 + vvp) or Verilator (--binary --timing, 5.x) in
 * the output directory, and parse the per-layer checksums it prints. Build products go to a temporary directory.
 * Used by `sqzfw asic --simulate` and the HDL tests.
 */
import { spawn, spawnSync } from 'node:child_process';
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
    const { exe, args, timeout } = compileTestbench(dir, work, opts);
    const r = spawnSync(exe, args, { cwd: dir, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
    if (r.error) throw new Error(`${exe} failed: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${exe} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return parseSimOutput(r.stdout, r.stderr);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** coreutils' stdbuf, when installed: makes the simulator's stdout line-buffered in a pipe, so layers stream. */
const haveStdbuf = (): boolean => spawnSync('stdbuf', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * The same run without blocking, calling `onLayer` as each LAYER line arrives (a progress bar); the lines stream
 * when stdbuf is installed, else they all arrive at the end. Same result as runTestbench.
 */
export async function runTestbenchStreaming(dir: string, opts: SimOptions & { onLayer?: (index: number, name: string) => void } = {}): Promise<SimResult> {
  const work = mkdtempSync(join(tmpdir(), 'sqzfw-asic-sim-'));
  try {
    const { exe, args, timeout } = compileTestbench(dir, work, opts);
    const [cmd, argv] = haveStdbuf() ? ['stdbuf', ['-oL', exe, ...args]] : [exe, args];
    const { code, stdout, stderr, error } = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((done) => {
      const child = spawn(cmd, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout });
      let out = '';
      let err = '';
      let at = 0;
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        for (let nl = out.indexOf('\n', at); nl >= 0; nl = out.indexOf('\n', at)) {
          const m = LAYER_LINE.exec(out.slice(at, nl).trim());
          if (m) opts.onLayer?.(Number(m[1]), m[2]!);
          at = nl + 1;
        }
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => done({ code: null, stdout: out, stderr: err, error: e }));
      child.on('close', (c) => done({ code: c, stdout: out, stderr: err }));
    });
    if (error) throw new Error(`${exe} failed: ${error.message}`);
    if (code !== 0) throw new Error(`${exe} exited ${code}:\n${stdout}${stderr}`);
    return parseSimOutput(stdout, stderr);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const SOURCES = [SV_PACKAGE_FILE, SV_ROM_FILE, SV_TB_FILE];
const LAYER_LINE = /^LAYER (\d+) (.*) ([0-9a-fA-F]{8})$/;

/** Compiles the testbench into `work`; returns the simulation command. */
function compileTestbench(dir: string, work: string, opts: SimOptions): { exe: string; args: string[]; timeout: number } {
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
  return { exe, args, timeout };
}

/** The per-layer, decoded and (+banks) whole-bank checksums and the verdict of a testbench run. */
function parseSimOutput(stdout: string, stderr: string): SimResult {
  const layers: SimResult['layers'] = [];
  const banks: SimResult['banks'] = [];
  const decoded: SimResult['decoded'] = [];
  for (const line of stdout.split('\n')) {
    let m = LAYER_LINE.exec(line.trim());
    if (m) layers.push({ index: Number(m[1]), name: m[2]!, checksum: parseInt(m[3]!, 16) });
    m = /^DECODED (\d+) (.*) ([0-9a-fA-F]{8})$/.exec(line.trim());
    if (m) decoded.push({ index: Number(m[1]), name: m[2]!, checksum: parseInt(m[3]!, 16) });
    m = /^BANK (\S+) (\d+) ([0-9a-fA-F]{8})$/.exec(line.trim());
    if (m) banks.push({ memory: m[1]!, bank: Number(m[2]), checksum: parseInt(m[3]!, 16) });
  }
  const all = `${stdout}${stderr}`;
  return { layers, banks, decoded, passed: /^PASS /m.test(stdout) && !/MISMATCH|ERROR|WARNING/.test(all), stdout: all };
}
