/**
 * Clock trees of the real boards, as data: oscillator, PLL, voltage scale, flash wait states, bus prescalers (and the
 * F746's QSPI read mode), checked against the datasheet limits, and the register fields the start-up code
 * (firmware/runtime/sqzfw_clock_<family>.c) writes. Sources, by section:
 *   STM32H743  RM0433 Rev 7: §8.5 (RCC clock tree, PLL1: DIVM1 1..63, ref 1-16 MHz in 4 ranges, VCO wide 192-960 MHz
 *              on revision V / 192-836 MHz on revision Y, medium 150-420 MHz), §6.6.2 + §6.8.6 (VOS0..VOS3, VOS0 via
 *              SYSCFG_PWRCR.ODEN), §4.3.8 Table 17 (flash wait states and WRHIGHFREQ per AXI clock and VOS),
 *              DS12110 Table 23 (max sys_ck/HCLK/PCLK per VOS: VOS0 480/240/120 on revision V only).
 *   STM32F746  RM0385 Rev 8: §5.3.2 (RCC_PLLCFGR: M 2..63, N 50..432, P 2/4/6/8, VCO in 0.95-2.1 MHz, VCO out
 *              100-432 MHz), §4.1.4 (VOS scales and over-drive), §3.3.2 Table 5 (wait states, 2.7-3.6 V: 30 MHz
 *              each), DS10916 Table 17 (216 MHz with over-drive in scale 1; APB1 54 MHz, APB2 108 MHz),
 *              §15.3 QUADSPI (memory-mapped mode), N25Q128A datasheet (quad I/O fast read 0xEB: 10 dummy cycles,
 *              108 MHz).
 *   STM32F429  RM0090 Rev 19: §6.3.2 (RCC_PLLCFGR, same PLL limits as the F7), §5.1.4 (scales and over-drive),
 *              §3.5.1 Table 11 (wait states, 2.7-3.6 V: 30 MHz each), DS9405 Table 17 (180 MHz with over-drive in
 *              scale 1; APB1 45 MHz, APB2 90 MHz).
 *   nRF52840   Product Specification v1.7 §5.4 (CLOCK: 64 MHz HFCLK, HFXO 32 MHz crystal started by TASKS_HFCLKSTART).
 */
import { z } from 'zod';
import { hex32Upper } from '../util/format.js';

const MHZ = 1_000_000;
const hz = z.number().int().positive();

/** AHB/core prescalers (HPRE, D1CPRE encodings) and APB prescalers (PPRE encodings). */
const AHB_DIVS = [1, 2, 4, 8, 16, 64, 128, 256, 512] as const;
const APB_DIVS = [1, 2, 4, 8, 16] as const;
const ahbDiv = z.number().refine((v) => (AHB_DIVS as readonly number[]).includes(v), `expected one of ${AHB_DIVS.join(', ')}`);
const apbDiv = z.number().refine((v) => (APB_DIVS as readonly number[]).includes(v), `expected one of ${APB_DIVS.join(', ')}`);

/** Frequencies the profile states; the schema checks each against the computed tree. */
const resultSchema = z
  .object({
    sysclkHz: hz,
    hclkHz: hz,
    pclk1Hz: hz,
    pclk2Hz: hz,
  })
  .strict();

const hseSchema = {
  /** 'hse': external crystal or clock (hseHz), 'hsi': the internal RC oscillator (reset clock). */
  source: z.enum(['hse', 'hsi']),
  hseHz: hz.optional(),
  /** HSE driven by an external clock (e.g. ST-LINK MCO) rather than a crystal: RCC_CR.HSEBYP. */
  hseBypass: z.boolean().default(false),
};

export const stm32f4f7ClockSchema = z
  .object({
    family: z.enum(['stm32f4', 'stm32f7']),
    ...hseSchema,
    pll: z.object({ m: z.number().int(), n: z.number().int(), p: z.number().int(), q: z.number().int() }).strict(),
    /** PWR_CR(1).VOS: 1 (highest), 2, 3. */
    voltageScale: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    /** Over-drive mode (PWR_CR ODEN/ODSWEN), needed above 168 MHz (F429) / 180 MHz (F746). */
    overdrive: z.boolean(),
    flashWaitStates: z.number().int().min(0).max(15),
    prescalers: z.object({ ahb: ahbDiv, apb1: apbDiv, apb2: apbDiv }).strict(),
    /** Bus clock of the console UART's kernel. */
    uartClock: z.enum(['pclk1', 'pclk2']),
    /** F746 QUADSPI memory-mapped read of the external NOR flash. */
    qspi: z
      .object({
        /** QUADSPI_CR.PRESCALER: QSPI clock = HCLK / (prescaler + 1). */
        prescaler: z.number().int().min(0).max(255),
        /** 'quad-io-fast-read': 0xEB, address and data on 4 lines; 'read': 0x03 on 1 line (slow, no dummy cycles). */
        mode: z.enum(['quad-io-fast-read', 'read']),
        dummyCycles: z.number().int().min(0).max(31),
        /** The flash's maximum clock in that mode (N25Q128A: 108 MHz for 0xEB with 10 dummy cycles, 54 MHz for 0x03). */
        maxHz: hz,
        /** log2(flash bytes) - 1: QUADSPI_DCR.FSIZE. */
        fsize: z.number().int().min(0).max(31),
        /** QUADSPI_DCR.CSHT: chip select high for csht + 1 cycles between commands. */
        csht: z.number().int().min(0).max(7),
      })
      .strict()
      .optional(),
    result: resultSchema,
    note: z.string().optional(),
  })
  .strict();

export const stm32h7ClockSchema = z
  .object({
    family: z.literal('stm32h7'),
    /** Silicon revision (DBGMCU_IDC.REV_ID 0x1003 = Y, 0x2003 = V): only V runs VOS0 and 480 MHz. */
    revision: z.enum(['Y', 'V']),
    ...hseSchema,
    pll: z.object({ m: z.number().int(), n: z.number().int(), p: z.number().int(), q: z.number().int(), r: z.number().int() }).strict(),
    /** PWR_D3CR.VOS: 0 (VOS0, with SYSCFG_PWRCR.ODEN), 1, 2, 3. */
    voltageScale: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
    flashWaitStates: z.number().int().min(0).max(15),
    /** cpu: D1CPRE (sys_ck -> core), ahb: HPRE (-> AXI/AHB), apb1/apb2: D2PPRE1/2, apb3: D1PPRE, apb4: D3PPRE. */
    prescalers: z.object({ cpu: ahbDiv, ahb: ahbDiv, apb1: apbDiv, apb2: apbDiv, apb3: apbDiv, apb4: apbDiv }).strict(),
    uartClock: z.enum(['pclk1', 'pclk2']),
    result: resultSchema,
    note: z.string().optional(),
  })
  .strict();

export const nrf52ClockSchema = z
  .object({
    family: z.literal('nrf52'),
    /** Start the 32 MHz crystal (HFXO) for an accurate UART baud rate; the CPU runs at 64 MHz either way. */
    hfxo: z.boolean(),
    result: z.object({ sysclkHz: hz, hclkHz: hz }).strict(),
    note: z.string().optional(),
  })
  .strict();

export const clockSchema = z.discriminatedUnion('family', [stm32f4f7ClockSchema, stm32h7ClockSchema, nrf52ClockSchema]);
export type ClockConfig = z.output<typeof clockSchema>;
type F4F7 = z.output<typeof stm32f4f7ClockSchema>;
type H7 = z.output<typeof stm32h7ClockSchema>;

/** The frequencies a clock configuration gives. */
export interface ClockTree {
  /** Core clock (SysTick, DWT). */
  cpuHz: number;
  sysclkHz: number;
  hclkHz: number;
  pclk1Hz: number;
  pclk2Hz: number;
  uartHz: number;
  /** The reset clock (HSI) the firmware falls back to, and the UART kernel clock then. */
  resetCpuHz: number;
  resetUartHz: number;
  vcoInHz?: number;
  vcoHz?: number;
  qspiHz?: number;
}

/** Reset clocks: STM32F4/F7 HSI 16 MHz, STM32H7 HSI 64 MHz, nRF52 HFINT 64 MHz; every prescaler 1 after reset. */
const RESET_HZ = { stm32f4: 16 * MHZ, stm32f7: 16 * MHZ, stm32h7: 64 * MHZ, nrf52: 64 * MHZ } as const;

const pllSource = (c: F4F7 | H7): number => (c.source === 'hse' ? c.hseHz ?? 0 : RESET_HZ[c.family]);

export function clockTree(c: ClockConfig): ClockTree {
  if (c.family === 'nrf52')
    return { cpuHz: 64 * MHZ, sysclkHz: 64 * MHZ, hclkHz: 64 * MHZ, pclk1Hz: 16 * MHZ, pclk2Hz: 16 * MHZ, uartHz: 16 * MHZ, resetCpuHz: 64 * MHZ, resetUartHz: 16 * MHZ };
  const vcoInHz = pllSource(c) / c.pll.m;
  const vcoHz = vcoInHz * c.pll.n;
  const sysclkHz = vcoHz / c.pll.p;
  if (c.family === 'stm32h7') {
    const cpuHz = sysclkHz / c.prescalers.cpu;
    const hclkHz = cpuHz / c.prescalers.ahb;
    const pclk1Hz = hclkHz / c.prescalers.apb1;
    const pclk2Hz = hclkHz / c.prescalers.apb2;
    return { cpuHz, sysclkHz, hclkHz, pclk1Hz, pclk2Hz, uartHz: c.uartClock === 'pclk1' ? pclk1Hz : pclk2Hz, resetCpuHz: RESET_HZ.stm32h7, resetUartHz: RESET_HZ.stm32h7, vcoInHz, vcoHz };
  }
  const hclkHz = sysclkHz / c.prescalers.ahb;
  const pclk1Hz = hclkHz / c.prescalers.apb1;
  const pclk2Hz = hclkHz / c.prescalers.apb2;
  const qspiHz = c.qspi ? hclkHz / (c.qspi.prescaler + 1) : undefined;
  return { cpuHz: hclkHz, sysclkHz, hclkHz, pclk1Hz, pclk2Hz, uartHz: c.uartClock === 'pclk1' ? pclk1Hz : pclk2Hz, resetCpuHz: RESET_HZ[c.family], resetUartHz: RESET_HZ[c.family], vcoInHz, vcoHz, qspiHz };
}

/** Datasheet limits per family (see the header for the sections). */
interface Limits {
  hse: [number, number];
  m: [number, number];
  n: [number, number];
  pValues: number[];
  q: [number, number];
  vcoIn: [number, number];
  vco: [number, number];
  /** Max sysclk, HCLK, PCLK1, PCLK2 per voltage scale (index: scale; with over-drive where it applies). */
  maxSys: Record<number, number>;
  maxHclk: Record<number, number>;
  maxPclk1: Record<number, number>;
  maxPclk2: Record<number, number>;
}

const f4f7Limits = (c: F4F7): Limits => {
  const f7 = c.family === 'stm32f7';
  // Scale -> max HCLK without / with over-drive (F429: DS9405 Table 17; F746: DS10916 Table 17).
  const sys = f7 ? { 1: c.overdrive ? 216 : 180, 2: c.overdrive ? 180 : 168, 3: 144 } : { 1: c.overdrive ? 180 : 168, 2: c.overdrive ? 168 : 144, 3: 120 };
  const scale = (o: Record<number, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v * MHZ]));
  const maxSys = scale(sys);
  const apb1 = f7 ? 54 : 45;
  const apb2 = f7 ? 108 : 90;
  return {
    hse: [4 * MHZ, 26 * MHZ],
    m: [2, 63],
    n: [50, 432],
    pValues: [2, 4, 6, 8],
    q: [2, 15],
    vcoIn: [0.95 * MHZ, 2.1 * MHZ],
    vco: [100 * MHZ, 432 * MHZ],
    maxSys,
    maxHclk: maxSys,
    maxPclk1: { 1: apb1 * MHZ, 2: apb1 * MHZ, 3: apb1 * MHZ },
    maxPclk2: { 1: apb2 * MHZ, 2: apb2 * MHZ, 3: apb2 * MHZ },
  };
};

const h7Limits = (c: H7): Limits => {
  const revV = c.revision === 'V';
  // DS12110 Table 23: VOS0 480/240/120 (revision V only), VOS1 400/200/100, VOS2 300/150/75, VOS3 200/100/50.
  const maxSys = { 0: revV ? 480 * MHZ : 0, 1: 400 * MHZ, 2: 300 * MHZ, 3: 200 * MHZ };
  const maxHclk = { 0: revV ? 240 * MHZ : 0, 1: 200 * MHZ, 2: 150 * MHZ, 3: 100 * MHZ };
  const maxPclk = { 0: revV ? 120 * MHZ : 0, 1: 100 * MHZ, 2: 75 * MHZ, 3: 50 * MHZ };
  const vcoIn = c.pll.m >= 1 ? pllSource(c) / c.pll.m : 0;
  return {
    hse: [4 * MHZ, 50 * MHZ],
    m: [1, 63],
    n: [4, 512],
    pValues: Array.from({ length: 64 }, (_, i) => 2 * (i + 1)),
    q: [1, 128],
    vcoIn: [1 * MHZ, 16 * MHZ],
    // Wide VCO (ref >= 2 MHz) 192-960 MHz on revision V, 192-836 MHz on Y; medium VCO (ref 1-2 MHz) 150-420 MHz.
    vco: vcoIn >= 2 * MHZ ? [192 * MHZ, (revV ? 960 : 836) * MHZ] : [150 * MHZ, 420 * MHZ],
    maxSys,
    maxHclk,
    maxPclk1: maxPclk,
    maxPclk2: maxPclk,
  };
};

/** Minimum flash wait states for an HCLK (F4/F7: 30 MHz each at 2.7-3.6 V; H7: RM0433 Table 17 per VOS). */
export function minWaitStates(c: F4F7 | H7, hclkHz: number): number {
  const mhz = hclkHz / MHZ;
  if (c.family !== 'stm32h7') return Math.max(0, Math.ceil(mhz / 30) - 1);
  const bounds: Record<number, number[]> = { 0: [70, 140, 185, 225, 240], 1: [70, 140, 210], 2: [55, 110, 165, 225], 3: [45, 90, 135, 180, 225] };
  const b = bounds[c.voltageScale]!;
  const i = b.findIndex((x) => mhz <= x);
  return i < 0 ? b.length : i;
}

/** H7 FLASH_ACR.WRHIGHFREQ (programming delay) for an AXI clock (RM0433 Table 17). */
export const h7ProgrammingDelay = (hclkHz: number): number => (hclkHz <= 70 * MHZ ? 0 : hclkHz <= 185 * MHZ ? 1 : 2);

type Issue = { path: (string | number)[]; message: string };

const mhzText = (v: number): string => `${+(v / MHZ).toFixed(3)} MHz`;

/**
 * Every datasheet limit the configuration must meet, each failure naming the field and the limit. `cpuHz` and
 * `uartHz` are the board's cpu.clockHz and uart.clockHz, which must equal the tree's.
 */
export function clockIssues(c: ClockConfig, board: { cpuHz: number; uartHz?: number }): Issue[] {
  const out: Issue[] = [];
  const issue = (path: (string | number)[], message: string) => out.push({ path: ['clock', ...path], message });
  const t = clockTree(c);
  if (c.family === 'nrf52') {
    if (c.result.sysclkHz !== t.sysclkHz || c.result.hclkHz !== t.hclkHz) issue(['result'], `the nRF52840 CPU runs at 64 MHz (HFCLK): expected sysclkHz and hclkHz 64000000`);
    if (board.cpuHz !== t.cpuHz) out.push({ path: ['cpu', 'clockHz'], message: `expected ${t.cpuHz}, the core clock of clock (64 MHz)` });
    return out;
  }
  const L = c.family === 'stm32h7' ? h7Limits(c) : f4f7Limits(c);
  const range = (path: (string | number)[], v: number, [lo, hi]: [number, number], what: string, fmt = (x: number) => String(x)) => {
    if (v < lo || v > hi) issue(path, `${what} ${fmt(v)} is outside ${fmt(lo)}..${fmt(hi)}`);
  };
  if (c.source === 'hse') {
    if (c.hseHz === undefined) issue(['hseHz'], 'expected the HSE frequency with source "hse"');
    else range(['hseHz'], c.hseHz, L.hse, 'HSE', mhzText);
  } else if (c.hseHz !== undefined) issue(['hseHz'], 'expected no hseHz with source "hsi"');
  range(['pll', 'm'], c.pll.m, L.m, 'PLL M');
  range(['pll', 'n'], c.pll.n, L.n, 'PLL N');
  if (!L.pValues.includes(c.pll.p)) issue(['pll', 'p'], `PLL P ${c.pll.p} is not allowed (expected ${c.family === 'stm32h7' ? 'an even number 2..128' : '2, 4, 6 or 8'})`);
  range(['pll', 'q'], c.pll.q, L.q, 'PLL Q');
  if (c.family === 'stm32h7') range(['pll', 'r'], c.pll.r, [1, 128], 'PLL R');
  if (out.length) return out; // frequencies below need sane dividers
  const vs = c.voltageScale;
  // First, as it is the cause of what follows: a revision Y part has no VOS0 (and no maximums there to compare with).
  const noScale = c.family === 'stm32h7' && vs === 0 && c.revision !== 'V';
  if (noScale) issue(['voltageScale'], 'VOS0 (480 MHz) exists on silicon revision V only; revision Y tops out at VOS1, 400 MHz');
  range(['pll', 'm'], t.vcoInHz!, L.vcoIn, 'PLL input (source / M)', mhzText);
  range(['pll', 'n'], t.vcoHz!, L.vco, 'VCO output (input x N)', mhzText);
  if (c.family !== 'stm32h7' && c.overdrive && vs === 3) issue(['overdrive'], 'over-drive needs voltage scale 1 or 2');
  const over = (path: (string | number)[], v: number, max: number, what: string) => {
    if (v > max && !noScale) issue(path, `${what} ${mhzText(v)} exceeds ${mhzText(max)}, the maximum at voltage scale ${vs}${c.family !== 'stm32h7' ? (c.overdrive ? ' with over-drive' : ' without over-drive') : ''}`);
  };
  over(['pll', 'p'], t.sysclkHz, L.maxSys[vs]!, 'SYSCLK');
  over(['prescalers', 'ahb'], t.hclkHz, L.maxHclk[vs]!, 'HCLK');
  over(['prescalers', 'apb1'], t.pclk1Hz, L.maxPclk1[vs]!, 'PCLK1');
  over(['prescalers', 'apb2'], t.pclk2Hz, L.maxPclk2[vs]!, 'PCLK2');
  if (c.family === 'stm32h7') {
    over(['prescalers', 'apb3'], t.hclkHz / c.prescalers.apb3, L.maxPclk1[vs]!, 'PCLK3');
    over(['prescalers', 'apb4'], t.hclkHz / c.prescalers.apb4, L.maxPclk1[vs]!, 'PCLK4');
  }
  const ws = minWaitStates(c, t.hclkHz);
  if (c.flashWaitStates < ws) issue(['flashWaitStates'], `${c.flashWaitStates} wait states are too few for HCLK ${mhzText(t.hclkHz)}: at least ${ws}`);
  if (c.family !== 'stm32h7' && c.qspi) {
    const q = c.qspi;
    if (t.qspiHz! > q.maxHz) issue(['qspi', 'prescaler'], `QSPI clock ${mhzText(t.qspiHz!)} (HCLK / ${q.prescaler + 1}) exceeds the flash's ${mhzText(q.maxHz)}`);
    if (q.mode === 'quad-io-fast-read' && q.dummyCycles < 1) issue(['qspi', 'dummyCycles'], 'quad I/O fast read needs dummy cycles (N25Q128A: 10)');
  }
  const res = c.result;
  const stated: [keyof typeof res, number][] = [['sysclkHz', t.sysclkHz], ['hclkHz', t.hclkHz], ['pclk1Hz', t.pclk1Hz], ['pclk2Hz', t.pclk2Hz]];
  for (const [k, v] of stated) if (res[k] !== v) issue(['result', k], `expected ${v} (${mhzText(v)}), what the PLL and prescalers give`);
  if (board.cpuHz !== t.cpuHz) out.push({ path: ['cpu', 'clockHz'], message: `expected ${t.cpuHz}, the core clock the clock section gives` });
  if (board.uartHz !== undefined && board.uartHz !== t.uartHz) out.push({ path: ['uart', 'clockHz'], message: `expected ${t.uartHz}, the ${c.uartClock} the clock section gives` });
  return out;
}

/** HPRE/D1CPRE field value for a divider (0: /1, 8: /2 ... 15: /512). */
const ahbBits = (d: number): number => (d === 1 ? 0 : 8 + AHB_DIVS.indexOf(d as (typeof AHB_DIVS)[number]) - 1);
/** PPRE field value (0: /1, 4: /2 ... 7: /16). */
const apbBits = (d: number): number => (d === 1 ? 0 : 4 + APB_DIVS.indexOf(d as (typeof APB_DIVS)[number]) - 1);

/** Preprocessor defines for firmware/runtime/sqzfw_clock_<family>.c: the register field values, computed here. */
export function clockDefines(c: ClockConfig): string[] {
  const t = clockTree(c);
  const common = [`SQZFW_RESET_CPU_HZ=${t.resetCpuHz}`, `SQZFW_RESET_UART_CLK_HZ=${t.resetUartHz}`];
  if (c.family === 'nrf52') return ['SQZFW_CLOCK_NRF52=1', `SQZFW_CLK_HFXO=${c.hfxo ? 1 : 0}`, ...common];
  const hse = [`SQZFW_CLK_HSE=${c.source === 'hse' ? 1 : 0}`, `SQZFW_CLK_HSE_BYPASS=${c.hseBypass ? 1 : 0}`];
  const pll = [`SQZFW_CLK_PLLM=${c.pll.m}`, `SQZFW_CLK_PLLN=${c.pll.n}`, `SQZFW_CLK_PLLP=${c.pll.p}`, `SQZFW_CLK_PLLQ=${c.pll.q}`];
  if (c.family === 'stm32h7') {
    const rge = t.vcoInHz! < 2 * MHZ ? 0 : t.vcoInHz! < 4 * MHZ ? 1 : t.vcoInHz! < 8 * MHZ ? 2 : 3;
    return [
      'SQZFW_CLOCK_STM32H7=1',
      ...hse,
      ...pll,
      `SQZFW_CLK_PLLR=${c.pll.r}`,
      `SQZFW_CLK_PLLRGE=${rge}`,
      `SQZFW_CLK_PLLVCOSEL=${t.vcoInHz! < 2 * MHZ ? 1 : 0}`,
      `SQZFW_CLK_VOS=${c.voltageScale}`,
      `SQZFW_CLK_FLASH_WS=${c.flashWaitStates}`,
      `SQZFW_CLK_WRHIGHFREQ=${h7ProgrammingDelay(t.hclkHz)}`,
      `SQZFW_CLK_D1CPRE=${ahbBits(c.prescalers.cpu)}`,
      `SQZFW_CLK_HPRE=${ahbBits(c.prescalers.ahb)}`,
      `SQZFW_CLK_D1PPRE=${apbBits(c.prescalers.apb3)}`,
      `SQZFW_CLK_D2PPRE1=${apbBits(c.prescalers.apb1)}`,
      `SQZFW_CLK_D2PPRE2=${apbBits(c.prescalers.apb2)}`,
      `SQZFW_CLK_D3PPRE=${apbBits(c.prescalers.apb4)}`,
      ...common,
    ];
  }
  return [
    'SQZFW_CLOCK_STM32F4F7=1',
    ...(c.family === 'stm32f7' ? ['SQZFW_CLK_F7=1'] : []),
    ...hse,
    ...pll,
    `SQZFW_CLK_VOS=${c.voltageScale}`,
    `SQZFW_CLK_OVERDRIVE=${c.overdrive ? 1 : 0}`,
    `SQZFW_CLK_FLASH_WS=${c.flashWaitStates}`,
    `SQZFW_CLK_HPRE=${ahbBits(c.prescalers.ahb)}`,
    `SQZFW_CLK_PPRE1=${apbBits(c.prescalers.apb1)}`,
    `SQZFW_CLK_PPRE2=${apbBits(c.prescalers.apb2)}`,
    ...common,
  ];
}

/** One-line description for reports: "480 MHz core (HSE 8 MHz bypass, PLL1 /4 x480 /2, VOS0, 4 wait states)". */
export function describeClock(c: ClockConfig): string {
  const t = clockTree(c);
  if (c.family === 'nrf52') return `64 MHz core (HFCLK${c.hfxo ? ', 32 MHz crystal started' : ''})`;
  const src = c.source === 'hse' ? `HSE ${mhzText(c.hseHz!)}${c.hseBypass ? ' bypass' : ''}` : 'HSI';
  return `${mhzText(t.cpuHz)} core (${src}, PLL /${c.pll.m} x${c.pll.n} /${c.pll.p}, ${c.family === 'stm32h7' ? `VOS${c.voltageScale}` : `scale ${c.voltageScale}${c.overdrive ? ' + over-drive' : ''}`}, ${c.flashWaitStates} wait states; HCLK ${mhzText(t.hclkHz)}, PCLK1 ${mhzText(t.pclk1Hz)}, PCLK2 ${mhzText(t.pclk2Hz)})`;
}

type QspiConfig = NonNullable<F4F7['qspi']>;
type RegStep = { op: 'write'; reg: number; value: number; note: string } | { op: 'modify'; reg: number; clear: number; set: number; note: string } | { op: 'wait'; reg: number; mask: number; value: number; limit: number; note: string };

const QUADSPI = 0xa0001000;

/**
 * QUADSPI register steps (RM0385 §15.3.3-15.3.5, §15.5) that put the external NOR flash in memory-mapped read mode,
 * appended to the board's init steps (after its clock gate and pins). They run after the clock set-up, so the QSPI
 * clock is HCLK / (prescaler + 1) of the configured tree.
 */
export function qspiInitSteps(q: QspiConfig): RegStep[] {
  const cr = ((q.prescaler << 24) | (1 << 4)) >>> 0; // PRESCALER, SSHIFT: sample half a cycle later (needed at speed)
  const dcr = ((q.fsize << 16) | (q.csht << 8)) >>> 0;
  // CCR: FMODE 11 memory-mapped, DMODE, DCYC, ADSIZE 10 (24-bit), ADMODE, IMODE 01 (instruction on 1 line), INSTRUCTION.
  const quad = q.mode === 'quad-io-fast-read';
  const lines = quad ? 3 : 1;
  const ccr = ((3 << 26) | (lines << 24) | (q.dummyCycles << 18) | (2 << 12) | (lines << 10) | (1 << 8) | (quad ? 0xeb : 0x03)) >>> 0;
  return [
    { op: 'write', reg: QUADSPI + 0x00, value: cr, note: `QUADSPI_CR: disabled, PRESCALER ${q.prescaler} (QSPI clock = HCLK / ${q.prescaler + 1}), SSHIFT` },
    { op: 'write', reg: QUADSPI + 0x04, value: dcr, note: `QUADSPI_DCR: FSIZE ${q.fsize} (${2 ** (q.fsize + 1)} bytes), CSHT ${q.csht} (${q.csht + 1} cycles)` },
    { op: 'modify', reg: QUADSPI + 0x00, clear: 0, set: 1, note: 'QUADSPI_CR: EN' },
    { op: 'write', reg: QUADSPI + 0x14, value: 0x3f5, note: 'QUADSPI_CCR: indirect mode, instruction 0xF5 on 4 lines (leave quad I/O mode, in case the flash is in it)' },
    { op: 'wait', reg: QUADSPI + 0x08, mask: 0x20, value: 0, limit: 1_000_000, note: 'QUADSPI_SR: BUSY clear' },
    { op: 'write', reg: QUADSPI + 0x0c, value: 2, note: 'QUADSPI_FCR: clear TCF' },
    {
      op: 'write',
      reg: QUADSPI + 0x14,
      value: ccr,
      note: quad
        ? `QUADSPI_CCR ${hex32Upper(ccr)}: memory-mapped mode, QUAD I/O FAST READ 0xEB (instruction on 1 line, 24-bit address and data on 4 lines, ${q.dummyCycles} dummy cycles)`
        : `QUADSPI_CCR ${hex32Upper(ccr)}: memory-mapped mode, READ 0x03 on 1 line, 24-bit address`,
    },
  ];
}
