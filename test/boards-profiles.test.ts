/**
 * Real-board profiles (STM32H743, STM32F746 + QSPI, STM32F429, nRF52840) and the QEMU machines: validation, QEMU
 * twins, runtime defines, linker scripts with weights spilling into external flash, the weights placement
 * prediction and the per-board fit search.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOARDS_DIR, listBoards, loadBoard, parseBoard, qemuTwin, runtimeDefines } from '../src/boards/index.js';
import { makeTwin } from '../src/boards/twin.js';
import { checkFit, largestInputSize, MIN_INPUT_SIZE } from '../src/driver/fit.js';
import { defaultLayout, renderBoardFiles } from '../src/emit/board-files.js';
import { checkWeightsFit, placeWeights, placementReport, weightArraysOf } from '../src/emit/weights-placement.js';
import { buildQuantizedModel } from '../src/prepare/index.js';
import { UserError } from '../src/errors.js';

const REAL = ['nucleo-h743zi', 'stm32f746g-disco', 'stm32f429i-disc1', 'nrf52840-dk'];
const profile = (name: string): Record<string, any> => JSON.parse(readFileSync(join(BOARDS_DIR, `${name}.json`), 'utf8'));
const userError = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
};

describe('board profiles from the datasheets', () => {
  it('lists the real boards and the QEMU machines', () => {
    const names = listBoards().map((b) => b.name);
    for (const n of [...REAL, 'mps2-an500', 'mps2-an386', 'netduinoplus2']) expect(names).toContain(n);
  });

  it.each([
    ['nucleo-h743zi', 'cortex-m7', 'fpv5-d16', 2 << 20, [['DTCM', 128], ['AXI_SRAM', 512], ['SRAM123', 288], ['SRAM4', 64]]],
    ['stm32f746g-disco', 'cortex-m7', 'fpv5-sp-d16', 1 << 20, [['SRAM', 320]]],
    ['stm32f429i-disc1', 'cortex-m4', 'fpv4-sp-d16', 2 << 20, [['SRAM', 192], ['CCM', 64]]],
    ['nrf52840-dk', 'cortex-m4', 'fpv4-sp-d16', 1 << 20, [['RAM', 256]]],
  ] as const)('%s: core, FPU, flash and RAM', (name, core, fpu, flash, ram) => {
    const b = loadBoard(name);
    expect(b.cpu.core).toBe(core);
    expect(b.cpu.fpu).toBe(fpu);
    expect(b.cpu.dsp).toBe(true);
    expect(b.memory.find((r) => r.name === b.placement.code)!.length).toBe(flash);
    expect(b.memory.filter((r) => r.kind === 'ram').map((r) => [r.name, r.length / 1024])).toEqual(ram);
    // Each names its UART, Renode platform, OpenOCD config and pyOCD target.
    expect(b.uart.instance).toBeTruthy();
    expect(b.renode!.platform).toMatch(/^platforms\/cpus\/.*\.repl$/);
    expect(b.openocd!.configs.length).toBeGreaterThan(0);
    expect(b.pyocd!.target).toBeTruthy();
    expect(b.qemu).toBeUndefined();
    expect(b.twin).toBeDefined();
  });

  it('puts the F746 weights in internal flash first, then in the memory-mapped QSPI flash', () => {
    const b = loadBoard('stm32f746g-disco');
    const qspi = b.memory.find((r) => r.name === 'QSPI')!;
    expect(qspi).toMatchObject({ kind: 'flash', origin: 0x90000000, length: 16 << 20, external: true });
    expect(b.placement.weights).toEqual(['FLASH', 'QSPI']);
    expect(b.renode!.addMemory).toEqual(['QSPI']);
    // The firmware maps the QSPI flash itself (QUADSPI memory-mapped mode), after its clock and pins.
    const ccr = b.init.find((s) => s.op === 'write' && s.reg === 0xa0001014 && s.value >>> 26 === 3);
    expect(ccr, 'memory-mapped mode write').toBeDefined();
    expect(b.init.findIndex((s) => s === ccr)).toBeGreaterThan(b.init.findIndex((s) => s.reg === 0x40023838));
  });

  it('derives the runtime defines of each UART driver', () => {
    expect(runtimeDefines(loadBoard('nucleo-h743zi'))).toEqual(
      expect.arrayContaining(['SQZFW_UART_STM32_USART=1', 'SQZFW_UART_BASE=0x40004800u', 'SQZFW_UART_BAUD=115200', 'SQZFW_CM7_CACHES=1', 'SQZFW_BOARD_INIT=1']),
    );
    expect(runtimeDefines(loadBoard('stm32f429i-disc1'))).toEqual(expect.arrayContaining(['SQZFW_UART_STM32_USART=1', 'SQZFW_UART_STM32_V1=1']));
    expect(runtimeDefines(loadBoard('nrf52840-dk'))).toEqual(expect.arrayContaining(['SQZFW_UART_NRF_UARTE=1', 'SQZFW_UART_TX_PIN=6']));
    const an500 = runtimeDefines(loadBoard('mps2-an500'));
    expect(an500).toContain('SQZFW_UART_CMSDK=1');
    expect(an500.some((d) => d.startsWith('SQZFW_BOARD_INIT') || d.startsWith('SQZFW_CM7_CACHES'))).toBe(false);
  });

  it.each([
    ['a twin on another core', (p: any) => (p.twin.board = 'mps2-an386'), /has core cortex-m4, the board cortex-m7/],
    ['an unmapped region', (p: any) => delete p.twin.map.SRAM4, /twin\.map: expected an address for region "SRAM4"/],
    ['a region outside the machine', (p: any) => (p.twin.map.AXI_SRAM = '0x40000000'), /AXI_SRAM .* is not inside one memory region of mps2-an500/],
    ['overlapping twin regions', (p: any) => (p.twin.map.AXI_SRAM = '0x20010000'), /puts regions DTCM and AXI_SRAM on top of each other/],
    ['the code region not at the boot address', (p: any) => (p.twin.map.FLASH = '0x00100000'), /must put the code region FLASH at 0x00000000/],
    ['caches on a Cortex-M4', (p: any) => ((p.cpu.core = 'cortex-m4'), (p.cpu.fpu = 'fpv4-sp-d16')), /cortex-m4 has no caches/],
    ['an unaligned init register', (p: any) => (p.init[0].reg = '0x580244E1'), /init\[0\]\.reg: expected a 4-byte aligned/],
    ['an init step without a note', (p: any) => delete p.init[0].note, /init\[0\]\.note/],
    ['a Renode UART outside sysbus', (p: any) => (p.renode.uart = 'usart3'), /renode\.uart: expected "sysbus\.<peripheral>"/],
  ])('rejects %s', (_what, edit, expected) => {
    const p = profile('nucleo-h743zi');
    edit(p);
    const e = userError(() => {
      const b = parseBoard(p, 'edited.json');
      makeTwin(b, loadBoard(b.twin!.board));
    });
    expect(e.message).toMatch(expected);
  });
});

describe('QEMU twins', () => {
  it.each([
    ['nucleo-h743zi', 'mps2-an500'],
    ['stm32f746g-disco', 'mps2-an500'],
    ['stm32f429i-disc1', 'mps2-an386'],
    ['nrf52840-dk', 'mps2-an386'],
  ])('%s runs on %s with the same core, flags and region sizes', (name, machine) => {
    const b = loadBoard(name);
    const t = qemuTwin(b)!;
    expect(t.name).toBe(`${name}@qemu`);
    expect(loadBoard(`${name}@qemu`)).toEqual(t);
    expect(t.qemu!.machine).toBe(machine);
    expect(t.cpu).toEqual({ ...b.cpu, clockHz: t.cpu.clockHz, caches: false });
    expect(t.memory.map((r) => [r.name, r.kind, r.length])).toEqual(b.memory.map((r) => [r.name, r.kind, r.length]));
    expect(t.placement).toEqual(b.placement);
    expect(t.uart.kind).toBe('cmsdk');
    expect(t.init).toEqual([]);
    // Same architecture flags for the compiler: same kernel code path.
    const mk = renderBoardFiles(b, defaultLayout(b)).Makefile!;
    expect(mk).toContain('make qemu');
    expect(mk).toMatch(/ifeq \(\$\(TWIN\),1\)[\s\S]*LDSCRIPT    := qemu\/linker\.ld[\s\S]*-DSQZFW_UART_CMSDK=1[\s\S]*else[\s\S]*-DSQZFW_CLOCK_/);
  });

  it('a QEMU machine is its own twin; a board without one has none', () => {
    const an386 = loadBoard('mps2-an386');
    expect(qemuTwin(an386)).toBe(an386);
    const p = profile('nrf52840-dk');
    delete p.twin;
    expect(qemuTwin(parseBoard(p, 'x'))).toBeUndefined();
    expect(loadBoard('mps2-an386@qemu')).toEqual(an386);
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-twin-'));
    try {
      writeFileSync(join(dir, 'nrf-no-twin.json'), JSON.stringify({ ...p, name: 'nrf-no-twin' }));
      expect(userError(() => loadBoard(join(dir, 'nrf-no-twin.json@qemu'))).message).toBe('board nrf-no-twin has no QEMU twin');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('board files', () => {
  it('renders a real board project: linker scripts for the board and its twin, init code, Makefile', () => {
    const b = loadBoard('stm32f746g-disco');
    const files = renderBoardFiles(b, defaultLayout(b));
    expect(Object.keys(files).sort()).toEqual(['Makefile', 'linker.ld', 'qemu/linker.ld', 'src/sqzfw_board.c']);
    const ld = files['linker.ld']!;
    expect(ld).toMatch(/QSPI\s+\(rx\)\s+: ORIGIN = 0x90000000, LENGTH = 0x01000000/);
    // .data's image comes before the weights, which may fill FLASH to its end.
    expect(ld.indexOf('.data :')).toBeLessThan(ld.indexOf('.sqzfw_weights : ALIGN(16)'));
    expect(ld).toMatch(/\.sqzfw_weights : ALIGN\(16\)[\s\S]*?SORT_BY_INIT_PRIORITY\(\.sqzfw_weights\.\*\)[\s\S]*?\} > FLASH\n/);
    expect(ld).toMatch(/\.sqzfw_weights_QSPI : ALIGN\(16\)[\s\S]*?\} > QSPI\n/);
    expect(ld).toContain('"sqzfw: the weights do not fit in FLASH, QSPI');
    expect(files.Makefile).toContain('-Wl,--enable-non-contiguous-regions');
    const twinLd = files['qemu/linker.ld']!;
    expect(twinLd).toMatch(/QSPI\s+\(rx\)\s+: ORIGIN = 0x60000000, LENGTH = 0x01000000/);
    expect(twinLd).toMatch(/FLASH\s+\(rx\)\s+: ORIGIN = 0x00000000, LENGTH = 0x00100000/);
    const c = files['src/sqzfw_board.c']!;
    expect(c).toContain('#if defined(SQZFW_BOARD_INIT)');
    expect(c).toContain('SQZFW_REG32(0xA0001014u) = 0x0F282DEBu;');
    expect(c).toMatch(/for \(n = 0u; n < 1000000u && \(SQZFW_REG32\(0xA0001008u\) & 0x00000020u\) != 0x00000000u; n\+\+\)/);
  });

  it('keeps single-region weights boards as they were (no spill sections, no flag)', () => {
    const b = loadBoard('nucleo-h743zi');
    const files = renderBoardFiles(b, { weightsRegion: 'FLASH', arenaRegions: ['AXI_SRAM', 'SRAM123'] });
    expect(files['linker.ld']).not.toContain('.sqzfw_weights_');
    expect(files.Makefile).not.toContain('non-contiguous');
    expect(files['linker.ld']).toMatch(/\.sqzfw_arena_SRAM123 \(NOLOAD\)[\s\S]*?\} > SRAM123/);
    const mps2 = renderBoardFiles(loadBoard('mps2-an500'), defaultLayout(loadBoard('mps2-an500')));
    expect(Object.keys(mps2).sort()).toEqual(['Makefile', 'linker.ld']);
    expect(mps2.Makefile).not.toContain('TWIN');
  });
});

describe('weights placement', () => {
  const f746 = loadBoard('stm32f746g-disco');

  it('fills the first region in source order and puts the rest, from the first array that does not fit, in the next', () => {
    const arrays = [
      { name: 'a', bytes: 600_000 },
      { name: 'b', bytes: 300_000 },
      { name: 'c', bytes: 200_000 },
      { name: 'd', bytes: 100 },
    ];
    const p = placeWeights(arrays, f746, { reserveBytes: 100_000 });
    expect(p.fits).toBe(true);
    expect(p.regionOf).toEqual({ a: 'FLASH', b: 'FLASH', c: 'QSPI', d: 'QSPI' });
    expect(p.regions.map((r) => [r.region, r.section, r.used])).toEqual([
      ['FLASH', '.sqzfw_weights', 900_000],
      ['QSPI', '.sqzfw_weights_QSPI', 200_100 + (16 - (200_000 % 16)) % 16],
    ]);
    expect(placementReport(p)[1]).toMatch(/^weights in QSPI \(external\): \d+ bytes .* 2 arrays \(c \.\.\. d\)$/);
    const none = placeWeights([{ name: 'huge', bytes: 20 << 20 }], f746, { reserveBytes: 0 });
    expect(none.fits).toBe(false);
    expect(none.unplaced.map((a) => a.name)).toEqual(['huge']);
  });

  it('SqueezeNet v1.1 with 1000 classes: 1.2 MiB of int8 weights, more than the F746 flash: conv10 goes to QSPI', () => {
    const model = buildQuantizedModel({ variant: 'v1.1', inputSize: 64, classes: 1000, calibrationImages: 1 });
    const arrays = weightArraysOf(model);
    const total = arrays.reduce((s, a) => s + a.bytes, 0);
    expect(total).toBe(1_278_880);
    const p = checkWeightsFit(model, f746, { steps: 47 });
    expect(p.regionOf.sqzfw_w_conv1).toBe('FLASH');
    expect(p.regionOf.sqzfw_w_conv10).toBe('QSPI');
    const h743 = checkWeightsFit(model, loadBoard('nucleo-h743zi'), { steps: 47 });
    expect(h743.regions.map((r) => r.region)).toEqual(['FLASH']);
    // The nRF52840 has 1 MB of flash and no external flash here: a clear error, before anything is built.
    const e = userError(() => checkWeightsFit(model, loadBoard('nrf52840-dk'), { steps: 47 }));
    expect(e.message).toMatch(/^squeezenet-v1\.1-64-1000 does not fit: its weights need 1278880 bytes \(1248\.9 KiB\) but the weights regions of nrf52840-dk offer FLASH \d+ bytes after the code: \d+ bytes in \d+ arrays are left over \(the largest, sqzfw_w_conv10, is 512000 bytes\)$/);
    expect(e.hint).toMatch(/fewer --classes/);
  });
});

describe('fit search', () => {
  it('finds the largest input size, consistent with the planner at the sizes around it', () => {
    const b = loadBoard('stm32f429i-disc1');
    const r = largestInputSize(b, { variant: 'v1.1', classes: 100, maxSize: 224 });
    if (r.atMax.fits) {
      expect(r.largest!.inputSize).toBe(224);
    } else {
      expect(r.atMax.message).toMatch(/does not fit/);
      const s = r.largest!.inputSize;
      expect(checkFit(b, { variant: 'v1.1', classes: 100, inputSize: s }).fits).toBe(true);
      expect(checkFit(b, { variant: 'v1.1', classes: 100, inputSize: s + 1 }).fits).toBe(false);
    }
    expect(r.largest!.arenaRegions!.length).toBeGreaterThan(0);
    expect(r.largest!.weights!.fits).toBe(true);
  });

  it('says why nothing fits the nRF52840 with 1000 classes', () => {
    const r = largestInputSize(loadBoard('nrf52840-dk'), { variant: 'v1.1', classes: 1000 });
    expect(r.largest).toBeNull();
    const atMin = checkFit(loadBoard('nrf52840-dk'), { variant: 'v1.1', classes: 1000, inputSize: MIN_INPUT_SIZE });
    expect(atMin.message).toMatch(/its weights need 1278880 bytes/);
  });
});
