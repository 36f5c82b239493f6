/**
 * The runtime on the real boards, without the emitter: a small firmware (weights, an arena, the line protocol, the
 * DWT cycle counter) is built with -Werror for each board (its UART driver, init steps, caches) and for its QEMU
 * twin, and the twin runs in QEMU. netduinoplus2 is an STM32F405 in QEMU: the STM32 USART driver runs there for real.
 * Weights that fit nowhere fail the build with a clear message.
 */
import { userError } from './helpers/user-error.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBoard, qemuTwin, type Board } from '../src/boards/index.js';
import { buildFirmware, weightsReportLines } from '../src/toolchain/index.js';
import { parseFirmwareOutput, runFirmware } from '../src/emulate/qemu.js';
import { writeBoardProject } from './helpers/board-project.js';

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-boards-fw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A firmware with two weight arrays of the given sizes, an arena in `arena`, and the protocol lines. */
function fixture(arena: string, w1: number, w2: number): string {
  return `#include <stdint.h>
#include "sqzfw_rt.h"
#include "sqzfw_sections.h"

static const int8_t w1[${w1}] SQZFW_WEIGHTS = { 1, 2, 3 };
static const int8_t w2[${w2}] SQZFW_WEIGHTS = { 4, 5, 6 };
static int8_t arena[4096] SQZFW_ARENA(${arena});
static volatile uint32_t pick = 1u;

int main(void)
{
    int32_t acc = 0;
    uint64_t c0, c1, t0, t1;
    sqzfw_rt_init();
    sqzfw_rt_puts("sqzfw begin fixture " SQZFW_BOARD_NAME "\\n");
    t0 = sqzfw_rt_ticks();
    c0 = sqzfw_rt_cycles();
    for (uint32_t r = 0; r < 64u; r++)
        for (uint32_t i = 0; i < 4096u; i++) {
            arena[i] = (int8_t)(w1[(i * pick) % 3u] + w2[(i + r) % 3u]);
            acc += arena[i];
        }
    c1 = sqzfw_rt_cycles();
    t1 = sqzfw_rt_ticks();
    sqzfw_rt_puts("out x 4 ");
    sqzfw_rt_put_hex(arena, 4);
    sqzfw_rt_puts("\\nacc ");
    sqzfw_rt_put_i32(acc);
    sqzfw_rt_puts("\\nticks ");
    sqzfw_rt_put_u32((uint32_t)(t1 - t0));
    sqzfw_rt_puts("\\n");
    sqzfw_rt_report_cycles(c0, c1);
    sqzfw_rt_puts("sqzfw end 0\\n");
    return 0;
}
`;
}

/** The sum the fixture computes, in TypeScript. */
function fixtureAcc(): number {
  const w1 = [1, 2, 3];
  const w2 = [4, 5, 6];
  let acc = 0;
  for (let r = 0; r < 64; r++) for (let i = 0; i < 4096; i++) acc += w1[i % 3]! + w2[(i + r) % 3]!;
  return acc;
}

function project(board: Board, tag: string, main: string): string {
  const dir = join(tmp, `${board.name}-${tag}`);
  writeBoardProject(board, dir, main);
  return dir;
}

describe.each([
  ['nucleo-h743zi', 'AXI_SRAM', 'stm32-usart'],
  ['stm32f746g-disco', 'SRAM', 'stm32-usart'],
  ['stm32f429i-disc1', 'CCM', 'stm32-usart-v1'],
  ['nrf52840-dk', 'RAM', 'nrf-uarte'],
])('%s', (name, arena, uart) => {
  const board = loadBoard(name);

  it(`builds with its ${uart} driver and init steps, and its QEMU twin runs the same code`, async () => {
    const dir = project(board, 'fixture', fixture(arena, 300_000, 60_000));
    const real = await buildFirmware({ projectDir: dir });
    expect(real.variant).toBe('board');
    expect(real.elf).toBe(join(dir, 'build', 'firmware.elf'));
    expect(real.sections['.isr_vector']).toBe((16 + board.cpu.irqCount) * 4);
    expect(real.sections[`.sqzfw_arena_${arena}`]).toBe(4096);
    expect(real.weights.map((w) => [w.region, w.arrays.map((a) => a.name)])).toEqual([['FLASH', ['w1', 'w2']]]);
    const config = readFileSync(join(dir, 'build', 'config.txt'), 'utf8');
    // The board build sets up its clock tree, and runs its register init steps where the profile has any (the nRF's
    // HFXO start is part of its clock set-up, so it has none).
    expect(config).toMatch(/-DSQZFW_CLOCK_(STM32H7|STM32F4F7|NRF52)=1/);
    if (board.init.length > 0) expect(config).toContain('-DSQZFW_BOARD_INIT=1');
    else expect(config).not.toContain('SQZFW_BOARD_INIT');
    expect(config).not.toContain('SQZFW_SEMIHOSTING');

    const twin = await buildFirmware({ projectDir: dir, variant: 'qemu' });
    expect(twin.variant).toBe('qemu');
    expect(twin.elf).toBe(join(dir, 'build', 'qemu', 'firmware.elf'));
    expect(twin.sections[`.sqzfw_arena_${arena}`]).toBe(4096);
    const twinConfig = readFileSync(join(dir, 'build', 'qemu', 'config.txt'), 'utf8');
    expect(twinConfig).toContain('-DSQZFW_UART_CMSDK=1');
    expect(twinConfig).toContain('-DSQZFW_SEMIHOSTING=1');
    expect(twinConfig).not.toContain('SQZFW_BOARD_INIT');
    expect(twinConfig).not.toMatch(/SQZFW_CLOCK_/);
    // Same architecture flags in both builds.
    const arch = (t: string) => /-mcpu=\S+ -mthumb( -mfpu=\S+)? -mfloat-abi=\S+/.exec(t)![0];
    expect(arch(twinConfig)).toBe(arch(config));

    const { report, run } = await runFirmware({ elf: twin.elf, board: qemuTwin(board)!, timeoutMs: 30_000, icount: true });
    expect(run.exitCode).toBe(0);
    expect(report.board).toBe(`${name}@qemu`);
    expect(Array.from(report.outputs.x!)).toEqual([5, 7, 9, 5]);
    expect(run.stdout).toContain(`acc ${fixtureAcc()}`);
    // QEMU does not model the DWT cycle counter: the firmware says so instead of printing 0.
    expect(report.cycles).toBeUndefined();
    expect(report.cyclesNote).toMatch(/^the DWT cycle counter does not count here/);
    expect(report.ticks).toBeGreaterThan(0);
  });
});

describe('netduinoplus2 (STM32F405 in QEMU)', () => {
  const board = loadBoard('netduinoplus2');

  it('prints through the STM32 USART driver (SR/DR layout) after its init steps, and counts ticks', async () => {
    const dir = project(board, 'fixture', fixture('SRAM', 30_000, 6_000));
    const b = await buildFirmware({ projectDir: dir, semihosting: true });
    expect(readFileSync(join(dir, 'build', 'config.txt'), 'utf8')).toContain('-DSQZFW_UART_STM32_V1=1');
    const { report, run } = await runFirmware({ elf: b.elf, board, timeoutMs: 30_000, icount: true });
    expect(run.exitCode).toBe(0);
    expect(report.board).toBe('netduinoplus2');
    expect(Array.from(report.outputs.x!)).toEqual([5, 7, 9, 5]);
    expect(report.cyclesNote).toBeDefined();
    expect(report.ticks).toBeGreaterThan(1000);
  });
});

describe('weights across internal and external flash', () => {
  const board = loadBoard('stm32f746g-disco');

  it('puts what does not fit the 1 MB internal flash into QSPI, the same way for the board and its twin', async () => {
    const dir = project(board, 'spill', fixture('SRAM', 700_000, 500_000));
    const real = await buildFirmware({ projectDir: dir });
    expect(real.weights.map((w) => [w.section, w.region, w.arrays.map((a) => a.name)])).toEqual([
      ['.sqzfw_weights', 'FLASH', ['w1']],
      ['.sqzfw_weights_QSPI', 'QSPI', ['w2']],
    ]);
    expect(real.weights[1]!.arrays[0]!.address).toBe(0x90000000);
    expect(real.regions.find((r) => r.name === 'QSPI')!.used).toBe(500_000);
    expect(weightsReportLines(real.weights)).toEqual([
      'weights in FLASH: 700000 bytes (58.3% of the weights), 1 arrays: w1 700000',
      'weights in QSPI: 500000 bytes (41.7% of the weights), 1 arrays: w2 500000',
    ]);
    const twin = await buildFirmware({ projectDir: dir, variant: 'qemu' });
    expect(twin.weights.map((w) => [w.region, w.arrays.map((a) => a.name)])).toEqual([
      ['FLASH', ['w1']],
      ['QSPI', ['w2']],
    ]);
    expect(twin.weights[1]!.arrays[0]!.address).toBe(0x60000000);
    const { report } = await runFirmware({ elf: twin.elf, board: qemuTwin(board)!, timeoutMs: 30_000 });
    expect(Array.from(report.outputs.x!)).toEqual([5, 7, 9, 5]);
  });

  it('fails the build with a clear message when the weights fit nowhere', async () => {
    const dir = project(board, 'toobig', fixture('SRAM', 700_000, 20_000_000));
    const e = await userError(buildFirmware({ projectDir: dir }));
    expect(e.message).toMatch(/sqzfw: the weights do not fit in FLASH, QSPI/);
    expect(e.hint).toMatch(/^1 weight array\(s\), 20000000 bytes, fit in none of the weights regions; use fewer --classes/);
  });

  it('fails with the region named when an arena overflows (the spill flag is on for this board)', async () => {
    const dir = project(board, 'arena', fixture('SRAM', 1000, 1000).replace('arena[4096]', 'arena[400000]').replace(/4096u/g, '400000u'));
    const e = await userError(buildFirmware({ projectDir: dir }));
    expect(e.message).toMatch(/SQZFW_ARENA\(REGION\) buffer does not fit in its region.*\(arena regions: SRAM\)/);
  });
});

describe('cycles line', () => {
  it('parses a cycle count and the unavailable note', () => {
    const base = 'sqzfw begin m b\nout x 1 00\nticks 5\n%\ncheck ok\nsqzfw end 0\n';
    expect(parseFirmwareOutput(base.replace('%', 'cycles 123456789012')).cycles).toBe(123456789012);
    const r = parseFirmwareOutput(base.replace('%', 'cycles unavailable: the DWT cycle counter does not count here (emulator or no DWT)'));
    expect(r.cycles).toBeUndefined();
    expect(r.cyclesNote).toMatch(/^the DWT cycle counter/);
    expect(() => parseFirmwareOutput(base.replace('%', 'cycles 0x12'))).toThrow(/expected cycles <n> or cycles unavailable/);
  });
});
