/**
 * ImageNet on the nrf52840-dk: SqueezeNet v1.1@224 with 1000 classes needs 1,278,880 B of int8 weights;
 * with --fit-flash (mixed int4/int8) it fits the internal 1 MB flash and 256 KB RAM, and its QEMU twin is bit-exact;
 * in int8 it fits the DK's QSPI flash, the linker map putting the weights at 0x12000000.
 *
 * nrf52840-dk-qspi: the weights in the DK's 8 MB QSPI flash, read in place (XIP) at 0x12000000 once the init steps
 * have set the QSPI peripheral up. The board build's ELF puts every weight array there; the QEMU twin (mps2-an386)
 * maps the region to its PSRAM and runs bit-exact with the golden model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { buildFirmware } from '../src/toolchain/index.js';
import { emulateProject, generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { checkWeightsFit } from '../src/emit/weights-placement.js';
import { weightBytes } from '../src/precision/mixed.js';
import { haveTool } from './c/cases.js';
import { required } from './helpers/require.js';

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-qspi-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canRun = haveTool('arm-none-eabi-gcc') && haveTool('qemu-system-arm');
required('arm-none-eabi-gcc and qemu-system-arm', canRun);

describe('nrf52840-dk-qspi profile', () => {
  const board = loadBoard('nrf52840-dk-qspi');

  it('is the DK with an external QSPI region at 0x12000000 for the weights and the QSPI set-up in its init steps', () => {
    const q = board.memory.find((m) => m.name === 'QSPI')!;
    expect([q.origin, q.length, q.external]).toEqual([0x12000000, 8 << 20, true]);
    expect(board.placement.weights).toEqual(['QSPI']);
    const regs = board.init.map((s) => s.reg);
    // PSEL of the DK's MX25R6435F pins, ENABLE, TASKS_ACTIVATE, then wait for EVENTS_READY
    expect(regs.slice(-12)).toEqual([0x40029524, 0x40029528, 0x40029530, 0x40029534, 0x40029538, 0x4002953c, 0x40029540, 0x40029544, 0x40029500, 0x40029100, 0x40029000, 0x40029100]);
    expect(board.init.at(-1)!.op).toBe('wait');
  });

  it.skipIf(!canRun)('weights link at the QSPI address; the twin runs bit-exact', async () => {
    const p = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 2 });
    const dir = join(tmp, 'fw');
    generateProject(p, board, dir);
    const real = await buildFirmware({ projectDir: dir });
    expect(real.weights.map((w) => w.region)).toEqual(['QSPI']);
    const addrs = real.weights[0]!.arrays.map((a) => a.address);
    expect(Math.min(...addrs)).toBe(0x12000000);
    expect(Math.max(...addrs)).toBeLessThan(0x12000000 + (8 << 20));
    expect(readFileSync(join(dir, 'linker.ld'), 'utf8')).toMatch(/QSPI\s*\(r\w*\)\s*:\s*ORIGIN = 0x12000000/);
    await buildFirmware({ projectDir: dir, variant: 'qemu' });
    const e = await emulateProject({ projectDir: dir, timeoutMs: 120_000 });
    expect(e.comparison.mismatches).toEqual([]);
  }, 300_000);
});

describe.skipIf(!canRun)('SqueezeNet v1.1@224, 1000 classes, on the nrf52840-dk', () => {
  const p = prepareSynthetic({ variant: 'v1.1', inputSize: 224, classes: 1000, seed: 1 });

  it('--fit-flash: mixed int4/int8 weights fit the 1 MB internal flash and 256 KB RAM; the QEMU twin is bit-exact', async () => {
    const board = loadBoard('nrf52840-dk');
    expect(() => checkWeightsFit(p.model, board, { steps: 178, storedInput: false })).toThrow(/does not fit/);
    const dir = join(tmp, 'imagenet');
    const g = generateProject(p, board, dir, { fitFlash: true });
    const mixed = g.mixed!;
    expect(weightBytes(p.model)).toBe(1278880);
    expect(mixed.layers.some((l) => l.bits === 4)).toBe(true);
    expect(mixed.bytes).toBeLessThan(mixed.int8Bytes);
    const real = await buildFirmware({ projectDir: dir });
    const region = (name: string) => real.regions.find((r) => r.name === name)!;
    expect(region('FLASH').used).toBeLessThanOrEqual(1 << 20);
    expect(region('RAM').used).toBeLessThanOrEqual(256 << 10);
    expect(real.weights.map((w) => w.region)).toEqual(['FLASH']);
    expect(real.weights[0]!.bytes).toBe(mixed.bytes);
    await buildFirmware({ projectDir: dir, variant: 'qemu' });
    const e = await emulateProject({ projectDir: dir, timeoutMs: 600_000 });
    expect(e.comparison.mismatches).toEqual([]);
    expect(e.comparison.bytes).toBeGreaterThanOrEqual(1000);
  }, 1_200_000);

  it('int8 in the QSPI flash: the linker map puts .sqzfw_weights at 0x12000000', async () => {
    const dir = join(tmp, 'imagenet-qspi');
    generateProject(p, loadBoard('nrf52840-dk-qspi'), dir);
    const real = await buildFirmware({ projectDir: dir });
    expect(real.weights.map((w) => [w.region, w.bytes])).toEqual([['QSPI', weightBytes(p.model)]]);
    const map = readFileSync(join(dir, 'build', 'firmware.map'), 'utf8');
    expect(map).toMatch(/^\.sqzfw_weights\s+0x12000000\s+0x[0-9a-f]+$/m);
  }, 1_200_000);
});
