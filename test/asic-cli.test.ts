/** `sqzfw asic` end to end: files, determinism, all-or-nothing writes, and the user errors. */
import { userError } from './helpers/user-error.js';
import { describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerAsicCommand } from '../src/asic/cli.js';
import { writeFilesAtomic } from '../src/asic/write.js';
import { memoryMapSchema } from '../src/asic/map-schema.js';
import { UserError } from '../src/errors.js';

async function run(args: string[]): Promise<string> {
  const program = new Command('sqzfw').exitOverride();
  registerAsicCommand(program);
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await program.parseAsync(['node', 'sqzfw', 'asic', ...args]);
  } finally {
    log.mockRestore();
  }
  return lines.join('\n');
}

const cliError = (args: string[]): Promise<UserError> => userError(run(args));

const readDir = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

const small = ['--model', 'v1.1', '--input-size', '32', '--classes', '10'];

describe('sqzfw asic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqzfw-asic-cli-'));

  it('writes the map, header, SV, init files and report; a rerun is byte-identical', async () => {
    const out = join(dir, 'a');
    const text = await run(['--profile', 'asic-4x32', ...small, '--precision', 'int4', '--out', out]);
    expect(text).toMatch(/in asic-4x32, int4 weights: [\d,]+ parameter bits/);
    expect(text).toMatch(/arena: [\d,]+ B peak/);
    const first = readDir(out);
    expect(Object.keys(first)).toEqual(
      expect.arrayContaining(['memory_map.json', 'memory_map.schema.json', 'sqzfw_asic_map.h', 'sqzfw_asic_map_pkg.sv', 'sqzfw_asic_tb.sv', 'sqzfw_asic_rom.sv', 'wrom_b0.memh', 'qrom_b3.memh', 'report.md', 'banks.svg']),
    );
    const map = memoryMapSchema.parse(JSON.parse(first['memory_map.json']!));
    expect(map.layers).toHaveLength(26);
    expect(map.arena?.regions[0]?.memory).toBe('asram');
    expect(first['report.md']).toContain('## int8 vs packed int4 in this profile');
    await run(['--profile', 'asic-4x32', ...small, '--precision', 'int4', '--out', out]);
    expect(readDir(out)).toEqual(first);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('--no-arena leaves the arena out', async () => {
    const out = join(dir, 'noarena');
    await run(['--profile', 'fpga-bram', ...small, '--no-arena', '--out', out]);
    const map = memoryMapSchema.parse(JSON.parse(readFileSync(join(out, 'memory_map.json'), 'utf8')));
    expect(map.arena).toBeNull();
    expect(map.memories[0]!.holds).toEqual(['weights', 'bias', 'multiplier', 'shift', 'arena']);
  });

  it('fails on a profile too small, with the shortfall per memory in bytes, and writes nothing', async () => {
    const out = join(dir, 'tiny');
    const e = await cliError(['--profile', 'tiny', '--model', 'v1.1', '--input-size', '96', '--classes', '1000', '--out', out]);
    expect(e.message).toMatch(/^ASIC profile tiny is too small for squeezenet-v1\.1-96-1000 at int8: /);
    expect(e.message).toMatch(/wrom \(weights\) short by [\d,]+ B: needs [\d,]+ B, has 65,536 B/);
    expect(e.message).toMatch(/qrom \(bias\+multiplier\+shift\) short by [\d,]+ B: needs [\d,]+ B, has 1,024 B/);
    expect(e.message).toMatch(/asram \(arena\) short by [\d,]+ B: needs [\d,]+ B, has 16,384 B/);
    expect(e.hint).toMatch(/int4/);
    expect(existsSync(out)).toBe(false);
  });

  it('names the field of a malformed profile', async () => {
    const p = join(dir, 'bad.json');
    const good = JSON.parse(readFileSync(new URL('../asic-profiles/asic-128b.json', import.meta.url), 'utf8')) as { memories: { wordBits: number }[] };
    good.memories[1]!.wordBits = 100;
    writeFileSync(p, JSON.stringify(good));
    const e = await cliError(['--profile', p, ...small, '--out', join(dir, 'bad')]);
    expect(e.message).toBe(`ASIC profile ${p} is invalid: memories[1].wordBits: must be a multiple of 8`);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });

  it('rejects an unknown model and refuses to replace a foreign directory', async () => {
    expect((await cliError(['--profile', 'asic-4x32', '--model', 'resnet50'])).message).toMatch(/unknown model "resnet50"/);
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'thesis.tex'), 'precious');
    const e = await cliError(['--profile', 'asic-4x32', ...small, '--out', foreign]);
    expect(e.message).toMatch(/not written by sqzfw asic/);
    expect(readdirSync(foreign)).toEqual(['thesis.tex']);
  });

  it('keeps the previous output when a write fails half way', () => {
    const out = join(dir, 'atomic');
    writeFilesAtomic(out, { 'memory_map.json': '{}', 'a.memh': 'old' });
    expect(() => writeFilesAtomic(out, { 'memory_map.json': '{"new":1}', 'b.memh': 'new', 'x/../../escape': 'no' })).toThrow();
    expect(readDir(out)).toEqual({ 'a.memh': 'old', 'memory_map.json': '{}' });
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
