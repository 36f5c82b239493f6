/**
 * Board profiles are data: one JSON file per board under boards/. This schema validates a profile and normalizes
 * it (addresses and sizes written as "0x..." / "512K" / "4M" strings become numbers, optional parts get their
 * defaults), so that every later stage reads plain numbers and never re-checks the JSON.
 */
import { z } from 'zod';
import { textProblem } from '../util/text.js';
import { clockIssues, clockSchema, qspiInitSteps } from './clock.js';

/** Cores GCC 12 knows as -mcpu values that sqzfw may target. */
export const CORES = [
  'cortex-m0',
  'cortex-m0plus',
  'cortex-m3',
  'cortex-m4',
  'cortex-m7',
  'cortex-m23',
  'cortex-m33',
  'cortex-m35p',
  'cortex-m55',
  'cortex-m85',
] as const;
export type Core = (typeof CORES)[number];

/** -mfpu values; 'none' means no FPU (soft float), 'auto' lets -mcpu decide (Armv8.1-M). */
export const FPUS = ['none', 'fpv4-sp-d16', 'fpv5-sp-d16', 'fpv5-d16', 'auto'] as const;
export type Fpu = (typeof FPUS)[number];

/** The FPUs each core can have (the first is its usual configuration). */
export const CORE_FPUS: Record<Core, readonly Fpu[]> = {
  'cortex-m0': ['none'],
  'cortex-m0plus': ['none'],
  'cortex-m3': ['none'],
  'cortex-m4': ['fpv4-sp-d16', 'none'],
  'cortex-m7': ['fpv5-d16', 'fpv5-sp-d16', 'none'],
  'cortex-m23': ['none'],
  'cortex-m33': ['fpv5-sp-d16', 'none'],
  'cortex-m35p': ['fpv5-sp-d16', 'none'],
  'cortex-m55': ['auto', 'none'],
  'cortex-m85': ['auto', 'none'],
};

/** Cores with optional L1 instruction and data caches that software enables (CCR.IC/DC). */
export const CACHE_CORES: readonly Core[] = ['cortex-m7', 'cortex-m55', 'cortex-m85'];

/** Cores that implement the DSP extension (or may: M33/M35P/M55/M85 make it optional). */
export const DSP_CORES: readonly Core[] = ['cortex-m4', 'cortex-m7', 'cortex-m33', 'cortex-m35p', 'cortex-m55', 'cortex-m85'];

/**
 * UART drivers (firmware/runtime/sqzfw_uart_*.c):
 *   cmsdk           Arm CMSDK APB UART (MPS2/MPS3 FPGA images, QEMU mps2-*)
 *   stm32-usart     STM32 USART with the ISR/TDR register layout (F0, F3, F7, H7, L4, G4, ...)
 *   stm32-usart-v1  STM32 USART with the SR/DR register layout (F1, F2, F4, L1)
 *   nrf-uarte       nRF52/nRF53 UARTE (EasyDMA)
 */
export const UART_KINDS = ['cmsdk', 'stm32-usart', 'stm32-usart-v1', 'nrf-uarte'] as const;
export type UartKind = (typeof UART_KINDS)[number];

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SIZE_RE = /^(\d+)\s*(K|KB|KiB|M|MB|MiB)?$/;

/**
 * An address or a size: a non-negative integer below 2^32, written as a number, "0x2000_0000", "0x20000000",
 * "65536", "64K" or "4M" (K and M are binary: 1024 and 1048576).
 */
const addr = z
  .union([z.number(), z.string()], {
    errorMap: () => ({ message: 'expected a number or a string such as "0x20000000", "512K" or "4M"' }),
  })
  .transform((v, ctx) => {
    let n: number;
    if (typeof v === 'number') {
      n = v;
    } else {
      const s = v.trim().replace(/_/g, '');
      const m = SIZE_RE.exec(s);
      if (/^0x[0-9a-f]+$/i.test(s)) n = parseInt(s.slice(2), 16);
      else if (m) n = Number(m[1]) * (m[2] ? (m[2].startsWith('M') ? 1 << 20 : 1 << 10) : 1);
      else {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `expected a number or a string such as "0x20000000", "512K" or "4M", got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
    }
    if (!Number.isInteger(n) || n < 0 || n > 0x1_0000_0000) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `expected an integer from 0 to 0x100000000, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return n;
  });

const ident = (what: string) =>
  z.string().max(32, `expected ${what} of at most 32 characters`).regex(IDENT, `expected ${what} made of letters, digits and _ (not starting with a digit)`);

/**
 * Words the GNU linker-script lexer treats as keywords: a region named like one breaks linker.ld. Region names are
 * written into the MEMORY block and `> REGION` clauses as they are, so these are refused.
 */
const LD_KEYWORDS = new Set(
  (
    'ABSOLUTE ADDR AFTER ALIAS ALIGN ALIGNOF ALIGN_WITH_INPUT ASCIZ ASSERT AS_NEEDED AT BEFORE BIND BLOCK BYTE CONSTANT ' +
    'CONSTRUCTORS COPY CREATE_OBJECT_SYMBOLS DATA_SEGMENT_ALIGN DATA_SEGMENT_END DATA_SEGMENT_RELRO_END DEFINED DSECT ' +
    'ENTRY EXCLUDE_FILE EXTERN FILEHDR FILL FLOAT FORCE_COMMON_ALLOCATION FORCE_GROUP_ALLOCATION GROUP HIDDEN HLL INCLUDE ' +
    'INFO INHIBIT_COMMON_ALLOCATION INPUT INPUT_SECTION_FLAGS INSERT KEEP LD_FEATURE LENGTH LOADADDR LOG2CEIL LONG MAP MAX ' +
    'MEMORY MIN NEXT NOCROSSREFS NOCROSSREFS_TO NOFLOAT NOLOAD ONLY_IF_RO ONLY_IF_RW ORIGIN OUTPUT OUTPUT_ARCH ' +
    'OUTPUT_FORMAT OVERLAY PHDRS PROVIDE PROVIDE_HIDDEN QUAD READONLY REGION_ALIAS SEARCH_DIR SECTIONS SECTION_FLAGS ' +
    'SEGMENT_START SHORT SIZEOF SIZEOF_HEADERS SORT SORT_BY_ALIGNMENT SORT_BY_INIT_PRIORITY SORT_BY_NAME SORT_NONE ' +
    'SPECIAL SQUAD STARTUP SUBALIGN SYSLIB TARGET TYPE VERSION l len o org global local extern'
  ).split(' '),
);
const regionName = ident('a region name').refine((n) => !LD_KEYWORDS.has(n), (n) => ({ message: `"${n}" is a linker-script keyword: expected another region name` }));

/** One line of free text (descriptions, notes): no control characters, bounded length. */
const text = (max = 1000) =>
  z.string().superRefine((s, ctx) => {
    const p = textProblem(s, max);
    if (p) ctx.addIssue({ code: 'custom', message: `expected one line of text: it ${p}` });
  });

/**
 * Compiler and linker flags from a profile reach gcc's command line: only code-generation, warning, optimization and
 * define flags, made of plain characters (no paths, plugins, wrappers, spec or response files, no shell or make
 * metacharacters).
 */
const CFLAG = /^-(?:m[A-Za-z0-9_=+,.:-]+|f(?!plugin)[A-Za-z0-9_=+,.:-]+|W(?![lap],)[A-Za-z0-9_=+,.:-]+|O[0-3sgz]?|g[0-3]?|std=[a-z0-9+]+|[DU][A-Za-z_][A-Za-z0-9_]*(?:=[A-Za-z0-9_.+-]*)?)$/;
const LDFLAG = /^(?:-Wl,(?![^]*plugin)[A-Za-z0-9_=+,.:-]+|-l[A-Za-z0-9_]+)$/;
const OPENOCD_COMMAND = /^(?!.*\b(?:exec|source|script|file|open|system|add_script_search_dir)\b)[A-Za-z0-9_ .,:=+\/-]{1,200}$/;

export const memoryRegionSchema = z
  .object({
    /** Used as the linker MEMORY name and in section names (.sqzfw_arena_<name>): an identifier. */
    name: regionName,
    /** 'flash': non-volatile or loaded image memory (code, read-only data); 'ram': read-write at run time. */
    kind: z.enum(['flash', 'ram']),
    origin: addr,
    length: addr,
    /** Off-chip memory (QSPI/OSPI flash, SDRAM, PSRAM): it may need the clock tree or a memory controller set up. */
    external: z.boolean().default(false),
    description: text().optional(),
  })
  .strict();

export const cpuSchema = z
  .object({
    core: z.enum(CORES),
    fpu: z.enum(FPUS),
    floatAbi: z.enum(['soft', 'softfp', 'hard']),
    /** Whether the core has the DSP extension (SMLAD & co.); false builds the scalar kernels (-DSQZFW_NO_DSP). */
    dsp: z.boolean(),
    /** Core clock; SysTick counts it (sqzfw_rt_ticks). */
    clockHz: z.number().int().positive(),
    /** External interrupt lines in the vector table (default 32; unused ones point at the default handler). */
    irqCount: z.number().int().min(0).max(496).default(32),
    /** Enable the L1 instruction and data caches at reset (Cortex-M7: SCB CCR.IC/DC after invalidation). */
    caches: z.boolean().default(false),
  })
  .strict();

const note = text().pipe(z.string().min(1, 'expected a note saying what the step does (register and bits)'));

/**
 * One register-level step run at reset, before .data/.bss are initialized and before main (clock gates, pin
 * multiplexing, external memory set-up). Runs only on the real board, never on its QEMU twin.
 */
export const initStepSchema = z.discriminatedUnion('op', [
  /** reg = (reg & ~clear) | set, then read back (the read makes a clock-enable take effect before the next step). */
  z.object({ op: z.literal('modify'), reg: addr, clear: addr.default(0), set: addr.default(0), note }).strict(),
  /** reg = value. */
  z.object({ op: z.literal('write'), reg: addr, value: addr, note }).strict(),
  /** Poll until (reg & mask) == value, at most `limit` reads (then go on: the UART may still report it). */
  z.object({ op: z.literal('wait'), reg: addr, mask: addr, value: addr, limit: z.number().int().positive().default(1_000_000), note }).strict(),
]);
export type InitStep = z.output<typeof initStepSchema>;

const boardFieldsSchema = z
  .object({
    /** Board name, used in --board and printed by the firmware: lower case, digits, '-', '_', '.'. */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected at most 64 lower case letters, digits, ".", "-" or "_"'),
    description: text().pipe(z.string().min(1)),
    /** Silicon or FPGA image, for reports (e.g. "STM32F746NG"). */
    chip: text(80).optional(),
    cpu: cpuSchema,
    gcc: z
      .object({
        /** Extra compiler flags appended after the ones derived from cpu (e.g. "-mcpu=cortex-m33+nodsp" variants). */
        cflags: z.array(z.string().max(100).regex(CFLAG, 'expected a -m, -f, -W, -O, -g, -std, -D or -U flag of plain characters (no paths, plugins or wrappers)')).max(64).default([]),
        /** Extra linker flags: -Wl,<options> or -l<library>. */
        ldflags: z.array(z.string().max(100).regex(LDFLAG, 'expected -Wl,<options> or -l<library> of plain characters (no paths or plugins)')).max(64).default([]),
        /** Extra preprocessor defines, NAME or NAME=VALUE (VALUE: letters, digits, _ . + - or a "quoted string" of them and spaces). */
        defines: z.array(z.string().max(100).regex(/^[A-Za-z_][A-Za-z0-9_]*(=(?:[A-Za-z0-9_.+-]*|"[A-Za-z0-9_.+ -]*"))?$/, 'expected NAME or NAME=VALUE (VALUE: letters, digits, _ . + - or a "quoted string" of them)')).max(64).default([]),
      })
      .strict()
      .default({}),
    memory: z.array(memoryRegionSchema).min(1, 'expected at least one memory region').max(32, 'expected at most 32 memory regions'),
    placement: z
      .object({
        /** Region for the vector table, code, read-only data and the load image of .data: a 'flash' region. */
        code: regionName,
        /** Region for .data, .bss and the stack (at its top); default: the first 'ram' region. */
        data: regionName.optional(),
        /**
         * Regions that may hold the weights, in order of preference: the linker fills the first (after the code, when it
         * is the code region) and puts each weight array that no longer fits into the next one (e.g. external QSPI flash).
         */
        weights: z.array(regionName).min(1, 'expected at least one region').max(32),
        /** RAM regions that may hold the activation arena, in order of preference. */
        arena: z.array(regionName).min(1, 'expected at least one region').max(32),
      })
      .strict(),
    stackSize: addr,
    uart: z
      .object({
        kind: z.enum(UART_KINDS),
        base: addr,
        /** Baud rate on real hardware; without it the CMSDK driver uses the minimum divider (16), all QEMU needs. */
        baud: z.number().int().positive().optional(),
        /** Peripheral instance for reports and Renode (e.g. "usart1"). */
        instance: z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'expected a peripheral name such as "usart1"').optional(),
        /** Clock of the UART's baud generator; default cpu.clockHz. */
        clockHz: z.number().int().positive().optional(),
        /** nRF UARTE: PSEL.TXD pin number (port 0: 0-31, port 1: 32-47). */
        txPin: z.number().int().min(0).max(47).optional(),
        /** nRF UARTE: PSEL.RXD pin number (the validation app receives input tensors on it). */
        rxPin: z.number().int().min(0).max(47).optional(),
      })
      .strict(),
    qemu: z
      .object({
        machine: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a QEMU machine name such as "mps2-an500"'),
        cpu: z.enum(CORES),
        /** Rate at which QEMU's SysTick counts the core clock (mps2: 25 MHz); default cpu.clockHz. */
        systickHz: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** Register steps run at reset on the real board (see initStepSchema). */
    init: z.array(initStepSchema).max(1024, 'expected at most 1024 init steps').default([]),
    /**
     * The clock tree the start-up code sets up (oscillator, PLL, voltage scale, flash wait states, prescalers; see
     * ./clock.ts), checked against the datasheet limits. Without it the board runs at its reset clock.
     */
    clock: clockSchema.optional(),
    /**
     * QEMU twin of a real board: a QEMU machine (a board profile with "qemu") with the same core, on which the board's
     * firmware runs with the same compiler flags, the same memory layout (each region moved to `map[region]`) and the
     * same generated code; only the UART driver and the init steps differ.
     */
    twin: z
      .object({
        /** The QEMU board profile, e.g. "mps2-an500". */
        board: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a board name such as "mps2-an500"'),
        /** Region name -> its address in the twin machine. Every region of the board must be mapped. */
        map: z.record(regionName, addr).refine((m) => Object.keys(m).length <= 32, 'expected at most 32 regions'),
      })
      .strict()
      .optional(),
    renode: z
      .object({
        /** Platform description under Renode's tree, e.g. "platforms/cpus/stm32f746.repl". */
        platform: z.string().regex(/^platforms\/[A-Za-z0-9_./-]+\.repl$/, 'expected a path such as "platforms/cpus/stm32f746.repl"'),
        /** UART peripheral on the sysbus, e.g. "sysbus.usart1". */
        uart: z.string().regex(/^sysbus\.[A-Za-z_][A-Za-z0-9_]*$/, 'expected "sysbus.<peripheral>", e.g. "sysbus.usart1"'),
        /** Renode's instructions per second (cpu PerformanceInMips); default: clock in MHz. */
        performanceInMips: z.number().int().positive().optional(),
        /** Regions of this board that the platform does not map (e.g. QSPI flash): the .resc adds them as memory. */
        addMemory: z.array(regionName).max(32).default([]),
      })
      .strict()
      .optional(),
    openocd: z
      .object({
        /** Config files passed with -f, in order, e.g. ["board/stm32f746g-disco.cfg"] or ["interface/jlink.cfg", "target/nrf52.cfg"]. */
        configs: z.array(z.string().max(100).regex(/^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_./-]*\.cfg$/, 'expected a config path such as "board/x.cfg" (relative, no "..")')).min(1).max(16),
        /** Transport selected after the first config (the interface) and before the others, e.g. "swd". */
        transport: z.enum(['swd', 'jtag', 'hla_swd', 'dapdirect_swd']).optional(),
        /** Extra -c commands run after the configs, before programming. */
        commands: z.array(z.string().regex(OPENOCD_COMMAND, 'expected a plain OpenOCD command (letters, digits, spaces and _ . , : = + / -; no exec, source or script)')).max(32).default([]),
      })
      .strict()
      .optional(),
    stlink: z
      .object({
        /** st-flash can program this board (STM32 with an ST-LINK). */
        supported: z.boolean(),
      })
      .strict()
      .optional(),
    pyocd: z
      .object({
        target: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a pyOCD target name such as "stm32f746ng"'),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Cross-field checks, run only on a profile whose fields are all valid (a pipe stops at the first stage's issues):
 * they loop over regions and banks, so they must never see an out-of-range count.
 */
export const boardSchema = boardFieldsSchema
  .pipe(z.custom<z.output<typeof boardFieldsSchema>>().superRefine((b, ctx) => {
    const regions = new Map(b.memory.map((r) => [r.name, r]));
    // Region names unique, sizes non-zero, inside the 32-bit space, no overlaps.
    const seen = new Set<string>();
    b.memory.forEach((r, i) => {
      if (seen.has(r.name))
        ctx.addIssue({ code: 'custom', path: ['memory', i, 'name'], message: `duplicate region name "${r.name}"` });
      seen.add(r.name);
      if (r.length === 0) ctx.addIssue({ code: 'custom', path: ['memory', i, 'length'], message: 'expected a non-zero length' });
      if (r.origin + r.length > 0x1_0000_0000)
        ctx.addIssue({ code: 'custom', path: ['memory', i, 'length'], message: 'region extends past the 4 GiB address space' });
      b.memory.forEach((o, j) => {
        if (j <= i) return;
        if (r.origin < o.origin + o.length && o.origin < r.origin + r.length)
          ctx.addIssue({
            code: 'custom',
            path: ['memory', j, 'origin'],
            message: `region "${o.name}" overlaps region "${r.name}"`,
          });
      });
    });
    const names = b.memory.map((r) => r.name).join(', ');
    const wantRegion = (path: (string | number)[], name: string, kind?: 'flash' | 'ram') => {
      const r = regions.get(name);
      if (!r) ctx.addIssue({ code: 'custom', path, message: `unknown region "${name}" (regions: ${names})` });
      else if (kind && r.kind !== kind)
        ctx.addIssue({ code: 'custom', path, message: `region "${name}" is ${r.kind}, expected a ${kind} region` });
    };
    wantRegion(['placement', 'code'], b.placement.code, 'flash');
    if (b.placement.data !== undefined) wantRegion(['placement', 'data'], b.placement.data, 'ram');
    else if (!b.memory.some((r) => r.kind === 'ram'))
      ctx.addIssue({ code: 'custom', path: ['memory'], message: 'expected at least one ram region' });
    b.placement.weights.forEach((n, i) => wantRegion(['placement', 'weights', i], n));
    b.placement.arena.forEach((n, i) => wantRegion(['placement', 'arena', i], n, 'ram'));
    const dataRegion = regions.get(b.placement.data ?? '') ?? b.memory.find((r) => r.kind === 'ram');
    if (dataRegion && b.stackSize >= dataRegion.length)
      ctx.addIssue({
        code: 'custom',
        path: ['stackSize'],
        message: `stack (${b.stackSize} bytes) does not fit in region "${dataRegion.name}" (${dataRegion.length} bytes)`,
      });
    if (b.stackSize % 8 !== 0 || b.stackSize < 256)
      ctx.addIssue({ code: 'custom', path: ['stackSize'], message: 'expected a multiple of 8, at least 256' });

    // CPU consistency.
    const fpus = CORE_FPUS[b.cpu.core];
    if (!fpus.includes(b.cpu.fpu))
      ctx.addIssue({
        code: 'custom',
        path: ['cpu', 'fpu'],
        message: `${b.cpu.core} has no FPU "${b.cpu.fpu}" (expected one of: ${fpus.join(', ')})`,
      });
    if (b.cpu.fpu === 'none' && b.cpu.floatAbi !== 'soft')
      ctx.addIssue({ code: 'custom', path: ['cpu', 'floatAbi'], message: 'expected "soft" when cpu.fpu is "none"' });
    if (b.cpu.dsp && !DSP_CORES.includes(b.cpu.core))
      ctx.addIssue({ code: 'custom', path: ['cpu', 'dsp'], message: `${b.cpu.core} has no DSP extension` });
    if (b.qemu && b.qemu.cpu !== b.cpu.core)
      ctx.addIssue({
        code: 'custom',
        path: ['qemu', 'cpu'],
        message: `expected the board's core "${b.cpu.core}" (QEMU enforces the machine's CPU)`,
      });
    if (b.uart.kind === 'nrf-uarte' && b.uart.txPin === undefined)
      ctx.addIssue({ code: 'custom', path: ['uart', 'txPin'], message: 'expected the TXD pin number for an nRF UARTE' });
    if (b.cpu.caches && !CACHE_CORES.includes(b.cpu.core))
      ctx.addIssue({ code: 'custom', path: ['cpu', 'caches'], message: `${b.cpu.core} has no caches to enable` });
    if (b.twin) {
      if (b.qemu)
        ctx.addIssue({ code: 'custom', path: ['twin'], message: 'a board with a "qemu" section runs in QEMU itself: expected no "twin"' });
      for (const r of b.memory)
        if (!(r.name in b.twin.map))
          ctx.addIssue({ code: 'custom', path: ['twin', 'map'], message: `expected an address for region "${r.name}"` });
      for (const n of Object.keys(b.twin.map))
        if (!regions.has(n)) ctx.addIssue({ code: 'custom', path: ['twin', 'map', n], message: `unknown region "${n}" (regions: ${names})` });
    }
    (b.renode?.addMemory ?? []).forEach((n, i) => wantRegion(['renode', 'addMemory', i], n));
    b.init.forEach((s, i) => {
      if (s.reg % 4 !== 0) ctx.addIssue({ code: 'custom', path: ['init', i, 'reg'], message: 'expected a 4-byte aligned register address' });
    });
    if (b.clock) for (const i of clockIssues(b.clock, { cpuHz: b.cpu.clockHz, uartHz: b.uart.clockHz })) ctx.addIssue({ code: 'custom', ...i });
  }))
  .transform((b) => ({
    ...b,
    // The QSPI flash's memory-mapped set-up follows the board's own steps (its clock gate and pins).
    init: b.clock && b.clock.family !== 'stm32h7' && b.clock.family !== 'nrf52' && b.clock.qspi ? [...b.init, ...qspiInitSteps(b.clock.qspi)] : b.init,
    placement: {
      ...b.placement,
      data: b.placement.data ?? b.memory.find((r) => r.kind === 'ram')!.name,
    },
  }));

/** A validated, normalized board profile (all addresses and sizes are numbers). */
export type Board = z.output<typeof boardSchema>;
export type MemoryRegion = Board['memory'][number];
/** A profile as written in JSON (addresses may be strings). */
export type BoardInput = z.input<typeof boardSchema>;

/** "memory[1].origin" from a zod issue path. */
export function formatIssuePath(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s || '(top level)';
}
