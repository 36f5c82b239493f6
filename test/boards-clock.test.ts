/**
 * Clock trees as board data: each real board's configured clock is its rated maximum, every datasheet limit of
 * the schema rejects a profile that breaks it (naming the field), and the start-up code compiles for each family.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOARDS_DIR, loadBoard, parseBoard, qemuTwin, runtimeDefines } from '../src/boards/index.js';
import { clockTree, describeClock, qspiInitSteps } from '../src/boards/clock.js';
import { RUNTIME_DIR } from '../src/emit/board-files.js';
import { UserError } from '../src/errors.js';

const profile = (name: string): Record<string, any> => JSON.parse(readFileSync(join(BOARDS_DIR, `${name}.json`), 'utf8'));
const MHZ = 1e6;

describe('clock trees of the real boards', () => {
  it.each([
    ['nucleo-h743zi', 480, 240, 120, 120],
    ['stm32f746g-disco', 216, 216, 54, 108],
    ['stm32f429i-disc1', 180, 180, 45, 90],
    ['nrf52840-dk', 64, 64, 16, 16],
  ] as const)('%s runs at its rated %i MHz', (name, cpu, hclk, pclk1, pclk2) => {
    const b = loadBoard(name);
    const t = clockTree(b.clock!);
    expect(t.cpuHz / MHZ).toBe(cpu);
    expect(t.hclkHz / MHZ).toBe(hclk);
    expect([t.pclk1Hz / MHZ, t.pclk2Hz / MHZ]).toEqual([pclk1, pclk2]);
    expect(b.cpu.clockHz).toBe(cpu * MHZ);
    // The firmware gets the configured clocks, and the reset clock it falls back to.
    const d = runtimeDefines(b);
    expect(d).toContain(`SQZFW_CPU_HZ=${cpu * MHZ}`);
    expect(d.some((x) => x.startsWith('SQZFW_RESET_CPU_HZ='))).toBe(true);
    expect(describeClock(b.clock!)).toContain(`${cpu} MHz core`);
    // QEMU twins run at the machine's clock, with no clock set-up.
    const twin = qemuTwin(b)!;
    expect(twin.clock).toBeUndefined();
    expect(runtimeDefines(twin).some((x) => x.startsWith('SQZFW_CLOCK_'))).toBe(false);
  });

  it('the UART baud divisor comes from the configured bus clock', () => {
    expect(runtimeDefines(loadBoard('nucleo-h743zi'))).toContain('SQZFW_UART_CLK_HZ=120000000');
    expect(runtimeDefines(loadBoard('stm32f746g-disco'))).toContain('SQZFW_UART_CLK_HZ=108000000');
    expect(runtimeDefines(loadBoard('stm32f429i-disc1'))).toContain('SQZFW_UART_CLK_HZ=90000000');
  });

  it('the H743 profile says which silicon revision 480 MHz needs', () => {
    const c = loadBoard('nucleo-h743zi').clock!;
    expect(c).toMatchObject({ family: 'stm32h7', revision: 'V', voltageScale: 0 });
    expect(c.note).toMatch(/revision V/);
    expect(c.note).toMatch(/revision Y/);
  });

  it('the F746 reads its QSPI flash in quad I/O fast-read mode at 108 MHz, set up after the pins', () => {
    const b = loadBoard('stm32f746g-disco');
    expect(clockTree(b.clock!).qspiHz).toBe(108 * MHZ);
    const ccr = b.init.find((s) => s.op === 'write' && s.reg === 0xa0001014 && s.value >>> 26 === 3)!;
    expect(ccr.op === 'write' && ccr.value).toBe(0x0f282deb); // memory-mapped, 0xEB, quad address and data, 10 dummy cycles
    expect(b.init.indexOf(ccr)).toBeGreaterThan(b.init.findIndex((s) => s.reg === 0x40021020));
    expect(qspiInitSteps({ prescaler: 1, mode: 'read', dummyCycles: 0, maxHz: 54e6, fsize: 23, csht: 5 }).at(-1)).toMatchObject({ value: 0x0d002503 });
  });
});

/** Edit a copy of a profile, expect the schema to reject it naming `field` and matching `message`. */
function rejects(name: string, edit: (p: Record<string, any>) => void, field: string, message: RegExp): void {
  const p = profile(name);
  edit(p);
  let err: unknown;
  try {
    parseBoard(p, `${name}.json`);
  } catch (e) {
    err = e;
  }
  expect(err, `${field} should be rejected`).toBeInstanceOf(UserError);
  const m = (err as UserError).message;
  // The first issue reported is the one the edit broke (others may follow in "(and N more: ...)").
  expect(m).toContain(`invalid board profile ${name}.json: ${field}: `);
  expect(m).toMatch(message);
}

describe('the schema checks every datasheet limit', () => {
  const H7 = 'nucleo-h743zi';
  const F7 = 'stm32f746g-disco';
  const F4 = 'stm32f429i-disc1';
  it.each<[string, string, (p: Record<string, any>) => void, string, RegExp]>([
    ['HSE frequency range', F4, (p) => (p.clock.hseHz = 3_000_000), 'clock.hseHz', /HSE 3 MHz is outside 4 MHz\.\.26 MHz/],
    ['HSE frequency given', F4, (p) => delete p.clock.hseHz, 'clock.hseHz', /expected the HSE frequency/],
    ['PLL M range', F4, (p) => (p.clock.pll.m = 1), 'clock.pll.m', /PLL M 1 is outside 2\.\.63/],
    ['PLL N range', F7, (p) => (p.clock.pll.n = 433), 'clock.pll.n', /PLL N 433 is outside 50\.\.432/],
    ['PLL P values', F4, (p) => (p.clock.pll.p = 3), 'clock.pll.p', /PLL P 3 is not allowed/],
    ['PLL P even on the H7', H7, (p) => (p.clock.pll.p = 3), 'clock.pll.p', /even number/],
    ['PLL Q range', F4, (p) => (p.clock.pll.q = 1), 'clock.pll.q', /PLL Q 1 is outside 2\.\.15/],
    ['PLL R range (H7)', H7, (p) => (p.clock.pll.r = 0), 'clock.pll.r', /PLL R 0 is outside 1\.\.128/],
    ['HSE frequency range (H7)', H7, (p) => (p.clock.hseHz = 60_000_000), 'clock.hseHz', /HSE 60 MHz is outside 4 MHz\.\.50 MHz/],
    ['no HSE frequency with the HSI', F4, (p) => (p.clock.source = 'hsi'), 'clock.hseHz', /expected no hseHz with source "hsi"/],
    ['PLL input range (H7)', H7, (p) => (p.clock.pll.m = 63), 'clock.pll.m', /PLL input \(source \/ M\) 0\.127 MHz is outside 1 MHz\.\.16 MHz/],
    ['VCO range (H7 medium VCO, input 1-2 MHz)', H7, (p) => (p.clock.pll.m = 8), 'clock.pll.n', /VCO output \(input x N\) 480 MHz is outside 150 MHz\.\.420 MHz/],
    ['PLL input range', F4, (p) => (p.clock.pll.m = 2), 'clock.pll.m', /PLL input \(source \/ M\) 4 MHz is outside 0\.95 MHz\.\.2\.1 MHz/],
    ['VCO range', F4, (p) => Object.assign(p.clock.pll, { m: 4, n: 300, p: 4 }), 'clock.pll.n', /VCO output \(input x N\) 600 MHz is outside 100 MHz\.\.432 MHz/],
    ['VCO range (H7 wide VCO)', H7, (p) => Object.assign(p.clock.pll, { n: 490, p: 4 }), 'clock.pll.n', /VCO output \(input x N\) 980 MHz is outside 192 MHz\.\.960 MHz/],
    ['SYSCLK per scale without over-drive', F4, (p) => (p.clock.overdrive = false), 'clock.pll.p', /SYSCLK 180 MHz exceeds 168 MHz, the maximum at voltage scale 1 without over-drive/],
    ['SYSCLK per scale', F7, (p) => (p.clock.voltageScale = 3, p.clock.overdrive = false), 'clock.pll.p', /SYSCLK 216 MHz exceeds 144 MHz/],
    ['SYSCLK per scale (H7 VOS1)', H7, (p) => (p.clock.voltageScale = 1), 'clock.pll.p', /SYSCLK 480 MHz exceeds 400 MHz, the maximum at voltage scale 1\b/],
    ['HCLK maximum', H7, (p) => (p.clock.prescalers.ahb = 1), 'clock.prescalers.ahb', /HCLK 480 MHz exceeds 240 MHz/],
    ['PCLK1 maximum', F4, (p) => (p.clock.prescalers.apb1 = 2), 'clock.prescalers.apb1', /PCLK1 90 MHz exceeds 45 MHz/],
    ['PCLK2 maximum', F7, (p) => (p.clock.prescalers.apb2 = 1), 'clock.prescalers.apb2', /PCLK2 216 MHz exceeds 108 MHz/],
    ['PCLK3 maximum (H7)', H7, (p) => (p.clock.prescalers.apb3 = 1), 'clock.prescalers.apb3', /PCLK3 240 MHz exceeds 120 MHz/],
    ['PCLK4 maximum (H7)', H7, (p) => (p.clock.prescalers.apb4 = 1), 'clock.prescalers.apb4', /PCLK4 240 MHz exceeds 120 MHz/],
    ['prescaler values', F4, (p) => (p.clock.prescalers.apb1 = 3), 'clock.prescalers.apb1', /expected one of 1, 2, 4, 8, 16/],
    ['flash wait states (F4/F7: 30 MHz each)', F7, (p) => (p.clock.flashWaitStates = 6), 'clock.flashWaitStates', /6 wait states are too few for HCLK 216 MHz: at least 7/],
    ['flash wait states (H7 VOS0 table)', H7, (p) => (p.clock.flashWaitStates = 3), 'clock.flashWaitStates', /at least 4/],
    ['VOS0 needs revision V', H7, (p) => (p.clock.revision = 'Y'), 'clock.voltageScale', /revision V only/],
    ['over-drive needs scale 1 or 2', F4, (p) => (p.clock.voltageScale = 3), 'clock.overdrive', /over-drive needs voltage scale 1 or 2/],
    ['QSPI clock of the flash', F7, (p) => (p.clock.qspi.prescaler = 0), 'clock.qspi.prescaler', /QSPI clock 216 MHz .* exceeds the flash's 108 MHz/],
    ['QSPI dummy cycles', F7, (p) => (p.clock.qspi.dummyCycles = 0), 'clock.qspi.dummyCycles', /needs dummy cycles/],
    ['stated SYSCLK', F4, (p) => (p.clock.result.sysclkHz = 168_000_000), 'clock.result.sysclkHz', /expected 180000000/],
    ['stated HCLK', F7, (p) => (p.clock.result.hclkHz = 108_000_000), 'clock.result.hclkHz', /expected 216000000/],
    ['stated PCLK2', F4, (p) => (p.clock.result.pclk2Hz = 45_000_000), 'clock.result.pclk2Hz', /expected 90000000/],
    ['stated PCLK1', H7, (p) => (p.clock.result.pclk1Hz = 100_000_000), 'clock.result.pclk1Hz', /expected 120000000/],
    ['core clock agrees', F7, (p) => (p.cpu.clockHz = 16_000_000), 'cpu.clockHz', /expected 216000000/],
    ['UART clock agrees', F4, (p) => (p.uart.clockHz = 16_000_000), 'uart.clockHz', /expected 90000000, the pclk2/],
    ['nRF52840 runs at 64 MHz', 'nrf52840-dk', (p) => (p.clock.result.sysclkHz = 32_000_000), 'clock.result', /64 MHz/],
  ])('%s', (_what, name, edit, field, message) => rejects(name, edit, field, message));

  it('accepts the revision Y set-up the H743 profile describes (400 MHz at VOS1)', () => {
    const p = profile('nucleo-h743zi');
    Object.assign(p.clock, { revision: 'Y', voltageScale: 1, flashWaitStates: 2, result: { sysclkHz: 400e6, hclkHz: 200e6, pclk1Hz: 100e6, pclk2Hz: 100e6 } });
    p.clock.pll.n = 400;
    p.cpu.clockHz = 400e6;
    expect(clockTree(parseBoard(p, 'rev-y.json').clock!).cpuHz).toBe(400e6);
  });
});

describe('start-up clock code', () => {
  it.each(['nucleo-h743zi', 'stm32f746g-disco', 'stm32f429i-disc1', 'nrf52840-dk', 'mps2-an500'])('compiles warning-free for %s and exports the clock API', (name) => {
    const b = loadBoard(name);
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-clock-'));
    try {
      const flags = ['-mthumb', `-mcpu=${b.cpu.core}`, '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', '-ffreestanding', ...runtimeDefines(b).map((d) => `-D${d}`)];
      const files = ['sqzfw_clock.c', 'sqzfw_clock_stm32h7.c', 'sqzfw_clock_stm32f4f7.c', 'sqzfw_clock_nrf52.c'];
      const objs = files.map((f) => {
        const o = join(dir, f.replace(/\.c$/, '.o'));
        execFileSync('arm-none-eabi-gcc', [...flags, '-c', join(RUNTIME_DIR, f), '-o', o], { stdio: 'pipe' });
        return o;
      });
      const syms = execFileSync('arm-none-eabi-nm', ['-g', '--defined-only', ...objs], { encoding: 'utf8' });
      for (const s of ['sqzfw_clock_setup', 'sqzfw_clock_step_name', 'sqzfw_clock_cpu_hz', 'sqzfw_clock_uart_hz', 'sqzfw_clock_failed_step'])
        expect(syms.match(new RegExp(`\\b${s}\\b`, 'g')), s).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('latency estimate printed by build', () => {
  it('instructions per inference and the time at the configured clock, said to be an estimate', async () => {
    const { estimateLatency, latencyLine } = await import('../src/toolchain/latency.js');
    const h7 = loadBoard('nucleo-h743zi');
    const macs = 861_339_936; // SqueezeNet v1.0 at 227
    const e = estimateLatency(h7, macs, true)!;
    expect(e.instructions).toBe(Math.round(macs * 1.217));
    expect(e.seconds).toBeCloseTo(2.18, 2); // 16 s at the 64 MHz reset clock
    expect(latencyLine(h7, macs, true)).toMatch(/~1,048,250,702 instructions per inference .* ~2\.18 s at the board's 480 MHz: an estimate from instruction counts .* not a cycle measurement/);
    expect(estimateLatency(loadBoard('stm32f746g-disco'), macs, true)!.seconds).toBeCloseTo(4.85, 2);
    expect(latencyLine(h7, macs, false)).toMatch(/none for the scalar kernels/);
  });

  it('counts the MACs of int4 layers at the s4 kernels\' measured rate, and generate\'s mixed-precision line sets it beside int8', async () => {
    const { estimateLatency, latencyLine, mixedLatencyLine, DSP_INSTRUCTIONS_PER_MAC, DSP_S4_INSTRUCTIONS_PER_MAC } = await import('../src/toolchain/latency.js');
    const h7 = loadBoard('nucleo-h743zi');
    const macs = 861_339_936;
    const four = 600_000_000;
    // The s4 kernels unpack the weights before the MACs: measurably more instructions per MAC than int8.
    expect(DSP_S4_INSTRUCTIONS_PER_MAC).toBeGreaterThan(DSP_INSTRUCTIONS_PER_MAC);
    const e = estimateLatency(h7, macs, true, four)!;
    expect(e.instructions).toBe(Math.round((macs - four) * DSP_INSTRUCTIONS_PER_MAC + four * DSP_S4_INSTRUCTIONS_PER_MAC));
    expect(e.instructions).toBeGreaterThan(estimateLatency(h7, macs, true)!.instructions);
    expect(estimateLatency(h7, macs, true, 0)).toEqual(estimateLatency(h7, macs, true));
    const nrf = loadBoard('nrf52840-dk');
    const [m8, m4] = [estimateLatency(nrf, macs, true)!, estimateLatency(nrf, macs, true, four)!];
    const ms = (x: number): string => `~${Math.round(x * 1000)} ms`;
    const line = mixedLatencyLine(nrf, macs, true, four);
    expect(line).toContain(`~${m4.instructions.toLocaleString('en-US')} instructions per inference (${ms(m4.seconds)} at 64 MHz) against ~${m8.instructions.toLocaleString('en-US')} (${ms(m8.seconds)}) with int8 weights everywhere`);
    expect(line).toContain(`600,000,000 of 861,339,936 MACs with int4 weights`);
    expect(mixedLatencyLine(nrf, macs, false, four)).toMatch(/none for the scalar kernels/);
    expect(latencyLine(h7, macs, true, four)).toMatch(/261,339,936 MACs with int8 weights x [\d.]+ \+ 600,000,000 MACs with int4 weights x [\d.]+ instructions per MAC/);
  });

  it('the project manifest records the MACs of the int4 layers, and only for a model that has some', async () => {
    const { prepareSynthetic } = await import('../src/prepare/index.js');
    const { generateFiles } = await import('../src/driver/index.js');
    const { int4Macs, convMacs } = await import('../src/planner/index.js');
    const { withInt4Layers } = await import('../src/quantize/int4.js');
    const board = loadBoard('mps2-an500');
    const prep = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 3 });
    const plain = generateFiles(prep, board);
    expect(JSON.parse(plain.files['sqzfw.json']!)).not.toHaveProperty('int4Macs');
    expect(int4Macs(plain.plan, prep.model)).toBe(0);
    // Two layers int4: the count is theirs, whatever the plan's bands.
    const names = ['fire2.expand3x3', 'conv10'];
    const m = withInt4Layers(prep.float!, prep.model, names);
    const r = generateFiles({ ...prep, model: m }, board);
    const layerMacs = names.reduce((n, name) => {
      const l = m.layers.find((x) => x.name === name)!;
      if (l.op !== 'conv') throw new Error(name);
      const inC = m.tensors[l.inputs[0]!]!.dims.c;
      return n + convMacs(inC, l.kernel, m.tensors[l.output]!.dims);
    }, 0);
    expect(layerMacs).toBeGreaterThan(0);
    expect(int4Macs(r.plan, m)).toBe(layerMacs);
    expect(JSON.parse(r.files['sqzfw.json']!).int4Macs).toBe(layerMacs);
    // Every layer int4: all of the plan's MACs.
    const all4 = withInt4Layers(prep.float!, prep.model, prep.model.layers.filter((l) => l.op === 'conv').map((l) => l.name));
    const a = generateFiles({ ...prep, model: all4 }, board);
    expect(int4Macs(a.plan, all4)).toBe(a.plan.macs);
  });
});

describe('Renode runs the board at its configured clock', () => {
  it.each([['nucleo-h743zi', 480e6], ['stm32f746g-disco', 216e6], ['stm32f429i-disc1', 180e6], ['nrf52840-dk', 64e6]])('%s: SysTick and the core at %d Hz, and a CI workflow with the Renode action', async (name, hz) => {
    const { renderRenodeFiles, checkResc, RENODE_FILES } = await import('../src/emulate/renode.js');
    const board = loadBoard(name);
    const files = renderRenodeFiles({ board, model: 'm', expected: [{ name: 'prob', bytes: new Int8Array([1, -2]) }], macs: 1e6 });
    const resc = files[RENODE_FILES.machine]!;
    expect(resc).toContain(`nvic Frequency ${hz}\n`);
    expect(resc).toContain(`cpu PerformanceInMips ${hz / 1e6}\n`);
    expect(checkResc(resc, { board })).toEqual([]);
    expect(checkResc(resc.replace(`nvic Frequency ${hz}`, 'nvic Frequency fast'), { board }).join('\n')).toMatch(/expected nvic Frequency <positive integer, Hz>/);
    const wf = files[RENODE_FILES.workflow]!;
    expect(wf).toMatch(/uses: antmicro\/renode-test-action@v4\n\s+with:\n\s+renode-revision: 'master'\n\s+tests-to-run: 'renode\/sqzfw\.robot'/);
    expect(wf).toContain('run: make -j2');
  });
});
