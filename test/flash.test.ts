/**
 * Flashing: the exact commands for each probe and board (dry runs), the OpenOCD configurations accepted by the
 * installed openocd offline, and the clear errors: no probe attached (real openocd and st-flash, no hardware here),
 * pyOCD not installed, a probe that cannot program the board or its external flash, a firmware built for QEMU or for
 * another board.
 */
import { userError } from './helpers/user-error.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoard, type Board } from '../src/boards/index.js';
import { buildFirmware, type ElfSection } from '../src/toolchain/index.js';
import { commandLine, flashFirmware, planFlash, runFlashPlan, type Probe } from '../src/flash/index.js';
import { buildFlashProject, flashCli } from './helpers/flash-project.js';

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-flash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const REAL = ['nucleo-h743zi', 'stm32f746g-disco', 'stm32f429i-disc1', 'nrf52840-dk'];
const ELF = '/p/build/firmware.elf';

/** ELF sections of a firmware for `board`: code and .data's image in its code region, optionally weights in QSPI. */
function sections(board: Board, qspi = false): ElfSection[] {
  const code = board.memory.find((r) => r.name === board.placement.code)!.origin;
  const ram = board.memory.find((r) => r.name === board.placement.data)!.origin;
  const s = (name: string, size: number, vma: number, lma: number, load = true): ElfSection => ({ name, size, vma, lma, alloc: true, load });
  return [
    s('.isr_vector', 0x298, code, code),
    s('.text', 0x4000, code + 0x400, code + 0x400),
    s('.rodata', 0x1000, code + 0x4400, code + 0x4400),
    s('.data', 0x10, ram, code + 0x5400),
    s('.sqzfw_weights', 0x20000, code + 0x5410, code + 0x5410),
    ...(qspi ? [s('.sqzfw_weights_QSPI', 0x80000, 0x90000000, 0x90000000)] : []),
    s('.bss', 0x100, ram + 0x10, ram + 0x10, false),
  ];
}

describe('flash commands (dry run)', () => {
  const cases: [string, Probe, string[]][] = [
    ['nucleo-h743zi', 'openocd', [`openocd -f board/st_nucleo_h743zi.cfg -c 'program ${ELF} verify reset exit'`]],
    ['stm32f746g-disco', 'openocd', [`openocd -f board/stm32f746g-disco.cfg -c 'program ${ELF} verify reset exit'`]],
    ['stm32f429i-disc1', 'openocd', [`openocd -f board/stm32f429disc1.cfg -c 'program ${ELF} verify reset exit'`]],
    ['nrf52840-dk', 'openocd', [`openocd -f interface/jlink.cfg -c 'transport select swd' -f target/nrf52.cfg -c 'program ${ELF} verify reset exit'`]],
    [
      'nucleo-h743zi',
      'pyocd',
      [
        `arm-none-eabi-objcopy -O binary -j .isr_vector -j .text -j .rodata -j .data -j .sqzfw_weights ${ELF} /p/build/firmware.FLASH.bin`,
        `pyocd commander -t stm32h743xx -c 'load ${ELF}' -c 'compare 0x08000000 /p/build/firmware.FLASH.bin' -c reset`,
      ],
    ],
    ['stm32f746g-disco', 'pyocd', ['arm-none-eabi-objcopy', "pyocd commander -t stm32f746nghx -c 'load"]],
    ['stm32f429i-disc1', 'pyocd', ['arm-none-eabi-objcopy', "pyocd commander -t stm32f429xi -c 'load"]],
    [
      'nrf52840-dk',
      'pyocd',
      [
        `arm-none-eabi-objcopy -O binary -j .isr_vector -j .text -j .rodata -j .data -j .sqzfw_weights ${ELF} /p/build/firmware.FLASH.bin`,
        `pyocd commander -t nrf52840 -c 'load ${ELF}' -c 'compare 0x00000000 /p/build/firmware.FLASH.bin' -c reset`,
      ],
    ],
    [
      'nucleo-h743zi',
      'stlink',
      [
        `arm-none-eabi-objcopy -O binary -j .isr_vector -j .text -j .rodata -j .data -j .sqzfw_weights ${ELF} /p/build/firmware.FLASH.bin`,
        'st-flash --reset write /p/build/firmware.FLASH.bin 0x08000000',
      ],
    ],
    ['stm32f746g-disco', 'stlink', ['arm-none-eabi-objcopy', 'st-flash --reset write /p/build/firmware.FLASH.bin 0x08000000']],
    ['stm32f429i-disc1', 'stlink', ['arm-none-eabi-objcopy', 'st-flash --reset write /p/build/firmware.FLASH.bin 0x08000000']],
  ];
  it.each(cases)('%s with %s', (name, probe, expected) => {
    const plan = planFlash(loadBoard(name), ELF, sections(loadBoard(name)), probe);
    const lines = plan.steps.map((s) => commandLine(s.argv));
    expect(lines).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(lines[i]!.startsWith(e), `${lines[i]} starts with ${e}`).toBe(true));
    expect(plan.images.map((i) => i.region)).toEqual(['FLASH']);
  });

  it('programs the F746 QSPI weights with OpenOCD (its board config has the QSPI bank), and refuses the other probes', async () => {
    const f746 = loadBoard('stm32f746g-disco');
    const plan = planFlash(f746, ELF, sections(f746, true), 'openocd');
    expect(plan.images.map((i) => [i.region, i.address, i.external])).toEqual([
      ['FLASH', 0x08000000, false],
      ['QSPI', 0x90000000, true],
    ]);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]!.what).toBe('program FLASH and QSPI, verify, reset');
    expect((await userError(() => planFlash(f746, ELF, sections(f746, true), 'stlink'))).message).toBe(
      'st-flash cannot program QSPI of stm32f746g-disco (external flash)',
    );
    const e = await userError(() => planFlash(f746, ELF, sections(f746, true), 'pyocd'));
    expect(e.message).toMatch(/^pyOCD cannot program QSPI of stm32f746g-disco/);
    expect(e.hint).toMatch(/--probe openocd/);
  });

  it('refuses st-flash on the nRF52840, and a RAM-loaded (QEMU twin) image', async () => {
    const nrf = loadBoard('nrf52840-dk');
    expect((await userError(() => planFlash(nrf, ELF, sections(nrf), 'stlink'))).message).toMatch(/st-flash cannot program nrf52840-dk/);
    const bad = sections(nrf).map((s) => (s.name === '.data' ? { ...s, lma: s.vma } : s));
    expect((await userError(() => planFlash(nrf, ELF, bad, 'openocd'))).message).toMatch(/section \.data loads into RAM region RAM/);
  });

  it('quotes paths with spaces for the shell and for OpenOCD', () => {
    const plan = planFlash(loadBoard('nucleo-h743zi'), '/my fw/build/firmware.elf', sections(loadBoard('nucleo-h743zi')), 'openocd');
    expect(commandLine(plan.steps[0]!.argv)).toBe("openocd -f board/st_nucleo_h743zi.cfg -c 'program {/my fw/build/firmware.elf} verify reset exit'");
  });
});

describe('OpenOCD configurations', () => {
  it.each(REAL)('%s: openocd accepts its configuration offline (-c shutdown)', (name) => {
    const o = loadBoard(name).openocd!;
    const args = ['-f', o.configs[0]!, ...(o.transport ? ['-c', `transport select ${o.transport}`] : []), ...o.configs.slice(1).flatMap((c) => ['-f', c]), '-c', 'shutdown'];
    const r = spawnSync('openocd', args, { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('shutdown command invoked');
  });
});

describe('flashing a built firmware', () => {
  const board = loadBoard('stm32f429i-disc1');
  let dir = '';
  beforeAll(async () => {
    dir = join(tmp, 'f429');
    await buildFlashProject(board, dir);
  });

  it('prints the exact commands with --dry-run (CLI)', async () => {
    const out = [...(await flashCli(['--project', dir, '--dry-run'])), ...(await flashCli(['--project', dir, '--dry-run', '--probe', 'stlink']))];
    const elf = join(dir, 'build', 'firmware.elf');
    expect(out[0]).toBe(`openocd -f board/stm32f429disc1.cfg -c 'program ${elf} verify reset exit'`);
    expect(out[1]).toMatch(/^arm-none-eabi-objcopy -O binary -j \.isr_vector -j \.text -j \.rodata .*firmware\.elf .*firmware\.FLASH\.bin$/);
    expect(out[2]).toBe(`st-flash --reset write ${join(dir, 'build', 'firmware.FLASH.bin')} 0x08000000`);
  });

  it('says clearly that no probe is attached (real openocd and st-flash, no hardware here)', async () => {
    for (const probe of ['openocd', 'stlink'] as const) {
      const e = await userError(flashFirmware({ board, projectDir: dir, probe, log: () => {} }));
      expect(e.message).toMatch(
        probe === 'openocd'
          ? /^no debug probe found for stm32f429i-disc1 \(openocd: Error: open failed\)$/
          : /^no debug probe found for stm32f429i-disc1 \(st-flash: Couldn't find any ST-Link devices\)$/,
      );
      expect(e.hint).toMatch(/connect the board's/);
    }
    // A J-Link board: OpenOCD's own message.
    const nrf = loadBoard('nrf52840-dk');
    const plan = planFlash(nrf, join(dir, 'build', 'firmware.elf'), sections(nrf), 'openocd');
    const e = await userError(runFlashPlan(plan, { log: () => {} }));
    expect(e.message).toBe('no debug probe found for nrf52840-dk (openocd: No J-Link device found)');
  });

  it('says how to install pyOCD when it is missing (checked before anything runs)', async () => {
    const saved = process.env.PATH;
    process.env.PATH = dirname(execFileSync('sh', ['-c', 'command -v arm-none-eabi-objcopy'], { encoding: 'utf8' }).trim());
    try {
      const e = await userError(flashFirmware({ board, projectDir: dir, probe: 'pyocd', log: () => {} }));
      expect(e.message).toBe('pyocd not found: it is needed to flash with --probe pyocd');
      expect(e.hint).toMatch(/pip install pyocd/);
    } finally {
      process.env.PATH = saved;
    }
    // The dry run needs no pyocd.
    const lines: string[] = [];
    await flashFirmware({ board, projectDir: dir, probe: 'pyocd', dryRun: true, log: (l) => lines.push(l) });
    expect(lines[1]).toMatch(/^pyocd commander -t stm32f429xi -c 'load .*firmware\.elf' -c 'compare 0x08000000 .*firmware\.FLASH\.bin' -c reset$/);
  });

  it('refuses a firmware built for QEMU (semihosting), for another board, or the twin ELF', async () => {
    const semi = join(tmp, 'f429-semi');
    execFileSync('cp', ['-r', dir, semi]);
    await buildFirmware({ projectDir: semi, semihosting: true });
    const e1 = await userError(flashFirmware({ board, projectDir: semi, dryRun: true, log: () => {} }));
    expect(e1.message).toMatch(/was built with SEMIHOSTING=1 \(for QEMU\)/);
    expect(e1.hint).toMatch(/SEMIHOSTING=0/);
    const e2 = await userError(flashFirmware({ board: loadBoard('nucleo-h743zi'), projectDir: dir, dryRun: true, log: () => {} }));
    expect(e2.message).toMatch(/was built for board stm32f429i-disc1, not nucleo-h743zi/);
    await buildFirmware({ projectDir: dir, variant: 'qemu' });
    const e3 = await userError(flashFirmware({ board, elf: join(dir, 'build', 'qemu', 'firmware.elf'), dryRun: true, log: () => {} }));
    expect(e3.message).toMatch(/is the QEMU twin's firmware/);
    const e4 = await userError(flashCli(['--project', dir, '--board', 'nrf52840-dk', '--dry-run']));
    expect(e4.message).toBe(`${dir} was generated for board stm32f429i-disc1, not nrf52840-dk`);
  });
});
