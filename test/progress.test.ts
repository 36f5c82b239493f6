/**
 * Progress bars: the stderr sink (TTY redraw, plain lines otherwise, nothing for a step shorter than its
 * quiet time) and the hooks of the slow steps: generate's plan verification, fit's input-size checks, the build's
 * compile and link steps (counted with make -n) and the ASIC testbench's layer read-back.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { largestInputSize, maxFitChecks } from '../src/driver/fit.js';
import { buildFirmware } from '../src/toolchain/index.js';
import { generateFiles, generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { progressFlag, silentProgress, stderrProgress, type ProgressSink } from '../src/util/progress.js';
import { computeAsicMap } from '../src/asic/layout.js';
import { renderAsicFiles } from '../src/asic/render.js';
import { writeFilesAtomic } from '../src/asic/write.js';
import { haveIverilog, runTestbench, runTestbenchStreaming } from '../src/asic/sim.js';
import { loadProfile } from '../src/asic/profile.js';
import { makeModel } from './asic-fixtures.js';
import { haveTool } from './c/cases.js';

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-progress-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A sink that records every call. */
function recorder(): { sink: ProgressSink; starts: [string, number][]; ticks: [number, string | undefined][]; ends: number } {
  const r = { starts: [] as [string, number][], ticks: [] as [number, string | undefined][], ends: 0 };
  const sink: ProgressSink = { start: (l, n) => void r.starts.push([l, n]), tick: (d, note) => void r.ticks.push([d, note]), end: () => void r.ends++ };
  return Object.assign(r, { sink });
}

function fakeStream(isTTY: boolean): { stream: { write: (s: string) => boolean; isTTY: boolean; columns: number }; text: () => string } {
  let out = '';
  return { stream: { isTTY, columns: 80, write: (s: string) => ((out += s), true) }, text: () => out };
}

describe('stderr progress sink', () => {
  it('redraws one line in place on a terminal and ends it with a newline', () => {
    const f = fakeStream(true);
    const p = stderrProgress(f.stream);
    p.start('build', 4);
    for (let i = 1; i <= 4; i++) p.tick(i, `f${i}.c`);
    p.end();
    const draws = f.text().split('\r').filter(Boolean);
    expect(draws).toHaveLength(4);
    expect(draws[3]).toMatch(/^build\s+\[#{28}\] 4\/4 .* f4\.c\x1b\[K\n$/);
    expect(f.text().split('\n')).toHaveLength(2);
  });

  it('prints at most a line per quarter when stderr is not a terminal', () => {
    const f = fakeStream(false);
    const p = stderrProgress(f.stream);
    p.start('fit', 100);
    for (let i = 1; i <= 100; i++) p.tick(i);
    p.end();
    const lines = f.text().trim().split('\n');
    expect(lines.map((l) => l.replace(/ \(.*\)$/, ''))).toEqual(['fit: 1/100', 'fit: 25/100', 'fit: 50/100', 'fit: 75/100', 'fit: 100/100']);
  });

  it('stays silent for a step shorter than its quiet time, and draws once it runs longer', () => {
    vi.useFakeTimers();
    try {
      const f = fakeStream(true);
      const p = stderrProgress(f.stream, { quietMs: 1000 });
      p.start('quick', 3);
      p.tick(1);
      p.tick(2);
      vi.advanceTimersByTime(400);
      p.tick(3);
      p.end();
      expect(f.text()).toBe('');
      p.start('slow', 3);
      p.tick(1);
      vi.advanceTimersByTime(1500);
      p.tick(2);
      p.end();
      expect(f.text()).toMatch(/^\rslow\s+\[#{19}\.{9}\] 2\/3/);
      expect(progressFlag(false)).toBe(silentProgress);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('progress hooks of the slow steps', () => {
  it("generate's plan verification ticks once for the golden model and once per plan step", () => {
    const rec = recorder();
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 3 });
    const r = generateFiles(p, loadBoard('mps2-an500'), { progress: rec.sink });
    const n = r.plan.steps.length + 1;
    expect(rec.starts).toEqual([['verifying the plan', n]]);
    expect(rec.ticks.map(([d]) => d)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(rec.ends).toBe(1);
  });

  it('fit reports every input size it checks, no more than maxFitChecks per board', () => {
    // The DK with 64 KB of RAM: the arena at 128x128 does not fit, at 25x25 it does, so the sizes are bisected.
    const profile = JSON.parse(readFileSync(join(import.meta.dirname, '../boards/nrf52840-dk.json'), 'utf8'));
    profile.name = 'nrf52840-64k';
    profile.memory.find((m: { name: string }) => m.name === 'RAM').length = '64K';
    const file = join(tmp, 'nrf52840-64k.json');
    writeFileSync(file, JSON.stringify(profile));
    const sizes: number[] = [];
    const r = largestInputSize(loadBoard(file), { variant: 'v1.1', classes: 10, maxSize: 128, onCheck: (s) => sizes.push(s) });
    expect(sizes.length).toBeGreaterThan(2);
    expect(sizes.length).toBeLessThanOrEqual(maxFitChecks(128));
    expect(sizes.slice(0, 2)).toEqual([128, 25]);
    expect(new Set(sizes).size).toBe(sizes.length);
    expect(sizes).toContain(r.largest!.inputSize);
    expect(r.largest!.inputSize).toBeLessThan(128);
  });

  it.skipIf(!haveTool('arm-none-eabi-gcc'))('build ticks once per file make compiles or links (counted with make -n), and not at all when nothing is out of date', async () => {
    const dir = join(tmp, 'fw');
    generateProject(prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 4, seed: 1 }), loadBoard('mps2-an500'), dir);
    const rec = recorder();
    await buildFirmware({ projectDir: dir, semihosting: true, progress: rec.sink });
    expect(rec.starts).toHaveLength(1);
    const [label, total] = rec.starts[0]!;
    expect(label).toBe('build');
    expect(total).toBeGreaterThan(10);
    expect(rec.ticks.map(([d]) => d)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(rec.ticks.at(-1)![1]).toBe('build/firmware.elf');
    expect(rec.ticks.map(([, note]) => note)).toContain('model/model.c');
    const again = recorder();
    await buildFirmware({ projectDir: dir, semihosting: true, progress: again.sink });
    expect([again.starts, again.ticks]).toEqual([[], []]);
    // One source changed: that file and the link.
    const model = join(dir, 'model', 'model.c');
    writeFileSync(model, `${readFileSync(model, 'utf8')}\n`);
    const one = recorder();
    await buildFirmware({ projectDir: dir, semihosting: true, progress: one.sink });
    expect(one.starts).toEqual([['build', 2]]);
    expect(one.ticks).toEqual([[1, 'model/model.c'], [2, 'build/firmware.elf']]);
  }, 600_000);

  it.skipIf(!haveIverilog())('the ASIC read-back streams one tick per layer and gives the same checksums as the blocking run', async () => {
    const model = makeModel(7, [
      { name: 'conv1', cout: 13, k: 3 },
      { name: 'fire2/squeeze1x1', cout: 6, k: 1 },
      { name: 'conv10', cout: 11, k: 1 },
    ]);
    const map = computeAsicMap(model, loadProfile('asic-4x32'), { precision: 'int8' });
    const out = join(tmp, 'asic');
    writeFilesAtomic(out, renderAsicFiles(map));
    const layers: string[] = [];
    const streamed = await runTestbenchStreaming(out, { onLayer: (i, name) => layers.push(`${i} ${name}`) });
    expect(layers).toEqual(map.layers.map((l) => `${l.index} ${l.name}`));
    expect(streamed.passed).toBe(true);
    const blocking = runTestbench(out);
    expect(streamed.layers).toEqual(blocking.layers);
    expect(streamed.layers.map((l) => l.checksum)).toEqual(map.layers.map((l) => l.checksum));
  }, 300_000);
});
