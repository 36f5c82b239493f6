import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BOARDS_DIR, DEFAULT_BOARD, gccArchFlags, listBoards, loadBoard, parseBoard, runtimeDefines } from '../src/boards/index.js';
import { defaultLayout, renderBoardFiles } from '../src/emit/board-files.js';
import { UserError } from '../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-boards-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const an500 = (): Record<string, any> => JSON.parse(readFileSync(join(BOARDS_DIR, 'mps2-an500.json'), 'utf8'));

/** Write a profile, load it, return the UserError's message (fails the test if it loads). */
function rejection(profile: unknown, file = 'bad.json'): string {
  const path = join(tmp, file);
  writeFileSync(path, JSON.stringify(profile));
  try {
    loadBoard(path);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error('profile was accepted');
}

describe('board profiles', () => {
  it('loads the built-in boards and normalizes addresses to numbers', () => {
    const names = listBoards().map((b) => b.name);
    expect(names).toContain('mps2-an500');
    expect(names).toContain('mps2-an386');
    expect(DEFAULT_BOARD).toBe('mps2-an500');
    const b = loadBoard('mps2-an500');
    expect(b.cpu.core).toBe('cortex-m7');
    expect(b.memory.map((r) => [r.name, r.kind, r.origin, r.length])).toEqual([
      ['SSRAM1', 'flash', 0, 4 << 20],
      ['SSRAM23', 'ram', 0x20000000, 4 << 20],
      ['PSRAM', 'ram', 0x60000000, 16 << 20],
    ]);
    expect(b.stackSize).toBe(16384);
    expect(b.uart).toMatchObject({ kind: 'cmsdk', base: 0x40004000 });
    expect(b.qemu).toEqual({ machine: 'mps2-an500', cpu: 'cortex-m7', systickHz: 25_000_000 });
    expect(b.placement).toEqual({ code: 'SSRAM1', data: 'SSRAM23', weights: ['SSRAM1'], arena: ['SSRAM23', 'PSRAM'] });
    const m4 = loadBoard('mps2-an386');
    expect(m4.memory.find((r) => r.name === 'PSRAM')!.origin).toBe(0x21000000);
    expect(gccArchFlags(m4)).toEqual(['-mcpu=cortex-m4', '-mthumb', '-mfpu=fpv4-sp-d16', '-mfloat-abi=hard']);
    expect(gccArchFlags(b)).toEqual(['-mcpu=cortex-m7', '-mthumb', '-mfpu=fpv5-d16', '-mfloat-abi=hard']);
    expect(runtimeDefines(b)).toContain('SQZFW_UART_CMSDK=1');
  });

  it('accepts numbers, hex strings and K/M sizes, and defaults placement.data to the first RAM region', () => {
    const p = an500();
    p.name = 'custom';
    p.memory[1].origin = 0x20000000;
    p.memory[1].length = '0x400000';
    p.memory[2].length = 16777216;
    delete p.placement.data;
    const b = parseBoard(p, 'custom.json');
    expect(b.memory[1]!.length).toBe(4 << 20);
    expect(b.memory[2]!.length).toBe(16 << 20);
    expect(b.placement.data).toBe('SSRAM23');
  });

  it('names the file, the field path and what was expected', () => {
    const p = an500();
    p.memory[1].origin = 'twenty';
    const msg = rejection(p, 'origin.json');
    expect(msg).toContain('origin.json');
    expect(msg).toContain('memory[1].origin');
    expect(msg).toMatch(/expected a number or a string such as "0x20000000"/);
  });

  it.each([
    ['unknown core', (p: any) => (p.cpu.core = 'cortex-m9'), 'cpu.core', /expected 'cortex-m0'/i],
    ['fpu the core lacks', (p: any) => (p.cpu.fpu = 'fpv4-sp-d16'), 'cpu.fpu', /cortex-m7 has no FPU "fpv4-sp-d16"/],
    ['arena in a flash region', (p: any) => (p.placement.arena = ['SSRAM1']), 'placement.arena[0]', /expected a ram region/],
    ['unknown weights region', (p: any) => (p.placement.weights = ['QSPI']), 'placement.weights[0]', /unknown region "QSPI"/],
    ['overlapping regions', (p: any) => (p.memory[2].origin = '0x20100000'), 'memory[2].origin', /overlaps/],
    ['qemu cpu differs', (p: any) => (p.qemu.cpu = 'cortex-m4'), 'qemu.cpu', /expected the board's core/],
    ['bad uart kind', (p: any) => (p.uart.kind = 'pl011'), 'uart.kind', /cmsdk/],
    ['missing uart', (p: any) => delete p.uart, 'uart', /Required/],
    ['unknown field', (p: any) => (p.cpu.mhz = 25), 'cpu', /Unrecognized key.*mhz/],
    ['region name not an identifier', (p: any) => (p.memory[0].name = 'SSRAM-1'), 'memory[0].name', /letters, digits and _/],
    ['stack larger than its region', (p: any) => (p.stackSize = '8M'), 'stackSize', /does not fit/],
  ])('rejects %s', (_what, edit, path, expected) => {
    const p = an500();
    edit(p);
    const msg = rejection(p);
    expect(msg).toContain(`${path}: `);
    expect(msg).toMatch(expected);
  });

  it('rejects a file that is not JSON, and a missing file', () => {
    const f = join(tmp, 'broken.json');
    writeFileSync(f, '{ "name": ');
    expect(() => loadBoard(f)).toThrow(/not valid JSON/);
    expect(() => loadBoard(join(tmp, 'nope.json'))).toThrow(/not found/);
  });

  it('lists the available boards for an unknown name', () => {
    try {
      loadBoard('stm32-nope');
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).message).toBe('unknown board "stm32-nope"');
      expect((e as UserError).hint).toMatch(/mps2-an386, mps2-an500/);
    }
  });

  it('accepts a board without a QEMU twin and with renode/openocd/pyocd fields', () => {
    const b = parseBoard(
      {
        name: 'stm32f746g-disco',
        description: 'STM32F746G Discovery',
        cpu: { core: 'cortex-m7', fpu: 'fpv5-sp-d16', floatAbi: 'hard', dsp: true, clockHz: 216_000_000, irqCount: 98 },
        memory: [
          { name: 'FLASH', kind: 'flash', origin: '0x08000000', length: '1M' },
          { name: 'QSPI', kind: 'flash', origin: '0x90000000', length: '16M', external: true },
          { name: 'DTCM', kind: 'ram', origin: '0x20000000', length: '64K' },
          { name: 'SRAM', kind: 'ram', origin: '0x20010000', length: '256K' },
          { name: 'SDRAM', kind: 'ram', origin: '0xC0000000', length: '8M', external: true },
        ],
        placement: { code: 'FLASH', weights: ['QSPI', 'FLASH'], arena: ['SRAM', 'DTCM', 'SDRAM'] },
        stackSize: '8K',
        uart: { kind: 'stm32-usart', base: '0x40011000', baud: 115200, instance: 'usart1' },
        renode: { platform: 'platforms/boards/stm32f7_discovery-bb.repl', uart: 'sysbus.usart1' },
        openocd: { configs: ['board/stm32f746g-disco.cfg'] },
        pyocd: { target: 'stm32f746xg' },
      },
      'inline',
    );
    expect(b.qemu).toBeUndefined();
    expect(b.placement.data).toBe('DTCM');
    expect(b.memory[1]!.external).toBe(true);
    expect(b.openocd!.commands).toEqual([]);
    const files = renderBoardFiles(b, { weightsRegion: 'QSPI', arenaRegions: ['SRAM', 'SDRAM'] });
    expect(files['linker.ld']).toMatch(/\.sqzfw_weights : ALIGN\(16\)[\s\S]*?\} > QSPI\n/);
    expect(files['linker.ld']).toContain('VTOR needs 512-byte alignment for 114 vectors');
  });
});

describe('linker script and Makefile', () => {
  const board = loadBoard('mps2-an500');

  it('renders deterministic files stamped with the generator', () => {
    const a = renderBoardFiles(board, defaultLayout(board));
    const b = renderBoardFiles(loadBoard('mps2-an500'), { weightsRegion: 'SSRAM1', arenaRegions: ['SSRAM23', 'PSRAM'] });
    expect(Object.keys(a).sort()).toEqual(['Makefile', 'linker.ld']);
    expect(a).toEqual(b);
    expect(a['linker.ld']!.split('\n')[0]).toMatch(/^\/\* Generated by sqzfw \d+\.\d+\.\d+/);
    expect(a.Makefile!.split('\n')[0]).toMatch(/^# Generated by sqzfw \d+\.\d+\.\d+/);
    expect(a['linker.ld']).not.toMatch(/20\d\d-\d\d-\d\d/);
  });

  it('places every section in the right region', () => {
    const ld = renderBoardFiles(board, defaultLayout(board))['linker.ld']!;
    expect(ld).toMatch(/SSRAM1\s+\(rx\)\s+: ORIGIN = 0x00000000, LENGTH = 0x00400000/);
    expect(ld).toMatch(/\.isr_vector :[\s\S]*?KEEP\(\*\(\.isr_vector\)\)[\s\S]*?\} > SSRAM1/);
    expect(ld).toMatch(/\.data :[\s\S]*?\} > SSRAM23 AT> SSRAM1/);
    expect(ld).toMatch(/\.sqzfw_weights : ALIGN\(16\)[\s\S]*?\} > SSRAM1\n/);
    expect(ld).toMatch(/\.sqzfw_arena_SSRAM23 \(NOLOAD\)[\s\S]*?\} > SSRAM23/);
    expect(ld).toMatch(/\.sqzfw_arena_PSRAM \(NOLOAD\)[\s\S]*?\} > PSRAM/);
    expect(ld).toContain('__StackTop = ORIGIN(SSRAM23) + LENGTH(SSRAM23);');
    expect(ld).toContain('__sqzfw_stack_size = 0x00004000;');
    // Arena sections come before .bss so that .bss.* does not take their input sections.
    expect(ld.indexOf('.sqzfw_arena_PSRAM (NOLOAD)')).toBeLessThan(ld.indexOf('.bss (NOLOAD)'));
  });

  it('copies RAM-resident weights at reset and omits arenas not in the layout', () => {
    const ld = renderBoardFiles(board, { weightsRegion: 'SSRAM1', arenaRegions: ['PSRAM'] })['linker.ld']!;
    expect(ld).not.toContain('.sqzfw_arena_SSRAM23 (NOLOAD)');
    const p = an500();
    p.placement.weights = ['SSRAM1', 'PSRAM'];
    const b2 = parseBoard(p, 'x');
    const ld2 = renderBoardFiles(b2, { weightsRegion: 'PSRAM', arenaRegions: ['SSRAM23'] })['linker.ld']!;
    expect(ld2).toMatch(/\} > PSRAM AT> SSRAM1/);
    expect(ld2).toContain('LONG(LOADADDR(.sqzfw_weights)) LONG(ADDR(.sqzfw_weights)) LONG(SIZEOF(.sqzfw_weights))');
  });

  it('rejects a layout the board does not allow', () => {
    expect(() => renderBoardFiles(board, { weightsRegion: 'PSRAM', arenaRegions: [] })).toThrow(/weights cannot go to region PSRAM/);
    expect(() => renderBoardFiles(board, { weightsRegion: 'SSRAM1', arenaRegions: ['SSRAM1'] })).toThrow(/arena cannot go to region SSRAM1/);
    expect(() => renderBoardFiles(board, { weightsRegion: 'NOPE', arenaRegions: [] })).toThrow(/no memory region "NOPE"/);
  });

  it('puts the board flags and the build switches in the Makefile', () => {
    const mk = renderBoardFiles(loadBoard('mps2-an386'), defaultLayout(loadBoard('mps2-an386'))).Makefile!;
    expect(mk).toContain('ARCH_FLAGS := -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard');
    expect(mk).toContain(`'-DSQZFW_BOARD_NAME="mps2-an386"'`);
    expect(mk).toContain('CMSIS_NN    ?= sqzfw/cmsis-nn');
    expect(mk).toMatch(/ifeq \(\$\(SEMIHOSTING\),1\)\nDEFS \+= -DSQZFW_SEMIHOSTING=1/);
    expect(mk).toMatch(/ifeq \(\$\(DSP\),0\)\nDEFS \+= -DSQZFW_NO_DSP=1/);
    expect(mk).toContain('-Wl,--gc-sections -Wl,-Map=$(MAP)');
    // Recipes are indented with tabs.
    expect(mk).toMatch(/\n\t\$\(Q\)\$\(CC\) \$\(LDFLAGS\)/);
  });
});
