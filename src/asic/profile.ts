/**
 * ASIC profile: the memory macros of a chip (or FPGA) and the rules for what goes where. Plain JSON, validated
 * with zod; every error names the offending field (`memories[1].wordBits: ...`). See asic-profiles/*.json.
 *
 * Addresses are byte addresses in a 32-bit space. A memory is `banks` identical macro instances of `depth` words of
 * `wordBits` bits; bank b starts at `base + b * bankStride` (bankStride defaults to the bank size, which makes the
 * banks one contiguous address range). Inside a word, byte lanes follow `byteOrder`: little = the byte at the lowest
 * address is bits [7:0]; big = it is the top byte. Multi-byte elements (int32 bias, ...) use the same byte order.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { packageRoot } from './version.js';
import { escapeControls, textProblem } from '../util/text.js';
import { readInputText } from '../util/input-file.js';

/** One line of free text: no control characters, bounded length. */
const text = z.string().superRefine((s, ctx) => {
  const p = textProblem(s, 1000);
  if (p) ctx.addIssue({ code: 'custom', message: `expected one line of text: it ${p}` });
});

const ADDRESS_LIMIT = 2 ** 32;

/** A byte address: a non-negative integer or a hex string such as "0x1000_0000". */
const address = z.union([
  z.number().int().nonnegative().max(ADDRESS_LIMIT - 1),
  z
    .string()
    .regex(/^0x[0-9a-fA-F_]+$/, 'must be a number or a hex string like "0x1000_0000"')
    .transform((s) => parseInt(s.slice(2).replace(/_/g, ''), 16))
    .pipe(z.number().int().nonnegative().max(ADDRESS_LIMIT - 1, 'must be below 2^32')),
]);

const identifier = z.string().max(32, 'must be at most 32 characters').regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be an identifier: a letter, then letters, digits or _');

export const memorySchema = z
  .object({
    name: identifier.describe('Memory name; used for file names and C/SV identifiers.'),
    description: text.optional(),
    kind: z.enum(['rom', 'sram']).describe('rom: contents fixed at tape-out (init file); sram: writable.'),
    wordBits: z
      .number()
      .int()
      .min(8)
      .max(1024)
      .refine((v) => v % 8 === 0, 'must be a multiple of 8')
      .describe('Word (data port) width in bits.'),
    depth: z.number().int().min(1).max(2 ** 24).describe('Words per bank (per macro instance).'),
    banks: z.number().int().min(1).max(64).describe('Number of identical macro instances.'),
    ports: z.number().int().min(1).max(4).default(1).describe('Read ports per macro (reported as read bandwidth).'),
    base: address.describe('Byte address of bank 0.'),
    bankStride: address.optional().describe('Byte distance between bank bases; default: the bank size.'),
    layout: z
      .enum(['linear', 'spread'])
      .default('linear')
      .describe(
        'linear: banks form one address range filled in order; spread: output channel c of a layer goes to bank c % banks at a word offset common to all banks, so the banks deliver `banks` channels per read.',
      ),
    crossBanks: z
      .boolean()
      .default(true)
      .describe('linear only: false starts a section in the next bank rather than splitting it, when it fits in one bank.'),
  })
  .strict();

const placeOne = z
  .object({
    memory: identifier,
    alignWords: z.number().int().min(1).max(65536).optional().describe('Section start alignment in words.'),
  })
  .strict();

const profileFieldsSchema = z
  .object({
    $schema: text.optional(),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be at most 64 letters, digits, _ . or - (it names output directories)'),
    description: text.optional(),
    byteOrder: z.enum(['little', 'big']).default('little'),
    weightPrecision: z.enum(['int8', 'int4']).default('int8').describe('Default for --precision.'),
    alignment: z
      .object({
        sectionWords: z.number().int().min(1).max(65536).default(1).describe('Default section start alignment in words.'),
        arenaBytes: z.number().int().min(1).max(65536).default(16).describe('Alignment of the arena start in an SRAM.'),
      })
      .strict()
      .default({}),
    memories: z.array(memorySchema).min(1).max(64, 'at most 64 memories'),
    placement: z
      .object({
        weights: placeOne,
        bias: placeOne,
        multiplier: placeOne,
        shift: placeOne.extend({ elementBytes: z.union([z.literal(1), z.literal(4)]).default(4) }).strict(),
        arena: z.object({ memories: z.array(identifier).min(1).max(64) }).strict().optional(),
      })
      .strict(),
  })
  .strict();

/**
 * Cross-field checks (overlaps, placement), run only once every field is valid: a pipe stops at the first stage's
 * issues, so the per-bank loops never see `"banks": 1e308`.
 */
export const profileSchema = profileFieldsSchema.pipe(
  z.custom<z.output<typeof profileFieldsSchema>>().superRefine((p, ctx) => {
    const byName = new Map<string, number>();
    p.memories.forEach((m, i) => {
      if ([...byName.keys()].some((n) => n.toLowerCase() === m.name.toLowerCase()))
        ctx.addIssue({ code: 'custom', path: ['memories', i, 'name'], message: `duplicate memory name "${m.name}" (names are compared ignoring case)` });
      byName.set(m.name, i);
      if (m.wordBits % 8 !== 0) return; // already reported on wordBits
      const wordBytes = m.wordBits / 8;
      const bankBytes = wordBytes * m.depth;
      if (m.base % wordBytes !== 0)
        ctx.addIssue({ code: 'custom', path: ['memories', i, 'base'], message: `must be a multiple of the word size (${wordBytes} B)` });
      if (m.bankStride !== undefined) {
        if (m.bankStride < bankBytes)
          ctx.addIssue({ code: 'custom', path: ['memories', i, 'bankStride'], message: `must be at least the bank size (${bankBytes} B)` });
        if (m.bankStride % wordBytes !== 0)
          ctx.addIssue({ code: 'custom', path: ['memories', i, 'bankStride'], message: `must be a multiple of the word size (${wordBytes} B)` });
      }
      const stride = m.bankStride ?? bankBytes;
      if (m.base + stride * (m.banks - 1) + bankBytes > ADDRESS_LIMIT)
        ctx.addIssue({ code: 'custom', path: ['memories', i, 'depth'], message: 'the memory runs past the 32-bit address space' });
    });
    // Address ranges must not overlap (each bank separately).
    const ranges: { lo: number; hi: number; what: string; i: number }[] = [];
    p.memories.forEach((m, i) => {
      if (m.wordBits % 8 !== 0) return;
      const bankBytes = (m.wordBits / 8) * m.depth;
      const stride = m.bankStride ?? bankBytes;
      for (let b = 0; b < m.banks; b++) ranges.push({ lo: m.base + b * stride, hi: m.base + b * stride + bankBytes, what: `${m.name} bank ${b}`, i });
    });
    ranges.sort((a, b) => a.lo - b.lo);
    for (let k = 1; k < ranges.length; k++) {
      const a = ranges[k - 1]!;
      const b = ranges[k]!;
      if (b.lo < a.hi)
        ctx.addIssue({ code: 'custom', path: ['memories', b.i, 'base'], message: `${b.what} overlaps ${a.what}` });
    }
    for (const kind of ['weights', 'bias', 'multiplier', 'shift'] as const) {
      const name = p.placement[kind].memory;
      if (!byName.has(name))
        ctx.addIssue({ code: 'custom', path: ['placement', kind, 'memory'], message: `no memory named "${name}"` });
    }
    p.placement.arena?.memories.forEach((name, k) => {
      const i = byName.get(name);
      if (i === undefined) {
        ctx.addIssue({ code: 'custom', path: ['placement', 'arena', 'memories', k], message: `no memory named "${name}"` });
        return;
      }
      const m = p.memories[i]!;
      if (m.kind !== 'sram')
        ctx.addIssue({ code: 'custom', path: ['placement', 'arena', 'memories', k], message: `"${name}" is a ROM; the arena needs an sram` });
      if (m.layout !== 'linear')
        ctx.addIssue({ code: 'custom', path: ['placement', 'arena', 'memories', k], message: `"${name}" has layout spread; the arena needs a linear memory` });
      const bankBytes = (m.wordBits / 8) * m.depth;
      if (m.bankStride !== undefined && m.bankStride !== bankBytes && m.banks > 1)
        ctx.addIssue({
          code: 'custom',
          path: ['placement', 'arena', 'memories', k],
          message: `"${name}" has gaps between banks (bankStride ${m.bankStride} != bank size ${bankBytes}); the arena needs one contiguous range`,
        });
      if (p.placement.arena!.memories.indexOf(name) !== k)
        ctx.addIssue({ code: 'custom', path: ['placement', 'arena', 'memories', k], message: `"${name}" is listed twice` });
    });
  }),
);

export type AsicProfileInput = z.input<typeof profileSchema>;
export type AsicProfile = z.output<typeof profileSchema>;
export type AsicMemory = AsicProfile['memories'][number];
export type ParamKind = 'weights' | 'bias' | 'multiplier' | 'shift';
export const PARAM_KINDS: readonly ParamKind[] = ['weights', 'bias', 'multiplier', 'shift'];

/** `memories[1].wordBits` from a zod path. */
export function formatPath(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s === '' ? '(top level)' : s;
}

/** Validate a parsed JSON value; throws UserError naming the first bad fields. */
export function parseProfile(value: unknown, source = '(inline)'): AsicProfile {
  const r = profileSchema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 3).map((i) => {
    let msg = i.message;
    if (i.code === 'unrecognized_keys') msg = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return escapeControls(`${formatPath(i.path)}: ${msg}`);
  });
  const more = r.error.issues.length > 3 ? ` (+${r.error.issues.length - 3} more)` : '';
  throw new UserError(
    `ASIC profile ${source} is invalid: ${issues.join('; ')}${more}`,
    'fix the named field; the fields are described in src/asic/README.md and the examples in asic-profiles/',
  );
}

export const builtinProfileDir = (): string => join(packageRoot, 'asic-profiles');

/** A path to a JSON file, or the name of a profile in asic-profiles/ (with or without .json). */
export function resolveProfilePath(ref: string): string {
  if (existsSync(ref)) return ref;
  const name = ref.endsWith('.json') ? basename(ref) : `${ref}.json`;
  const builtin = join(builtinProfileDir(), name);
  if (existsSync(builtin)) return builtin;
  throw new UserError(`ASIC profile not found: ${ref}`, `give a path to a profile JSON file, or one of: ${listBuiltinProfiles().join(', ')}`);
}

export function listBuiltinProfiles(): string[] {
  try {
    return readdirSync(builtinProfileDir())
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** ASIC profiles are a few KB; anything larger is refused before it is read. */
export const MAX_PROFILE_BYTES = 1 << 20;

export function loadProfile(ref: string): AsicProfile {
  const path = resolveProfilePath(ref);
  const content = readInputText(path, { what: 'ASIC profile', maxBytes: MAX_PROFILE_BYTES });
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (e) {
    throw new UserError(`ASIC profile ${path} is not valid JSON: ${(e as Error).message}`, 'fix the JSON syntax');
  }
  return parseProfile(json, path);
}

export const memoryWordBytes = (m: AsicMemory): number => m.wordBits / 8;
export const memoryBankBytes = (m: AsicMemory): number => (m.wordBits / 8) * m.depth;
export const memoryBankStride = (m: AsicMemory): number => m.bankStride ?? memoryBankBytes(m);
export const memoryCapacityBytes = (m: AsicMemory): number => memoryBankBytes(m) * m.banks;
