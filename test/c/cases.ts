/**
 * Kernel test cases for firmware/cmsis-nn: seeded generators, the binary case/result format read by
 * test/c/kernel_driver.c, builders for the host (plain C and emulated DSP) and QEMU drivers, and the
 * golden expectation of each case (src/golden/kernels.ts).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Dims } from '../../src/graph/ir.js';
import {
  addS8,
  avgPoolS8,
  concatS8X,
  convS8,
  maxPoolS8,
  quantizeMultiplier,
  requantize,
  softmaxS8,
  type AddArgs,
  type ConvArgs,
  type PoolArgs,
} from '../../src/golden/kernels.js';
import { convS4, packInt4 } from '../../src/golden/int4.js';
import { mulberry32 } from '../../src/util/random.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const NN_DIR = join(REPO, 'firmware', 'cmsis-nn');
const DRIVER = join(REPO, 'test', 'c', 'kernel_driver.c');

// ---------------------------------------------------------------------------------------------- case types

/** Which CMSIS-NN entry point a conv case calls. */
export const CONV_FN = { wrapper: 0, convolve: 1, fast1x1: 2, conv1x1: 3, conv1xn: 4 } as const;
export type ConvFn = (typeof CONV_FN)[keyof typeof CONV_FN];

/** A convolution's geometry: what CMSIS-NN's dispatch and *_get_buffer_size functions read. */
export interface ConvGeometry {
  inDims: Dims;
  filterC: number;
  kernel: [number, number];
  outDims: Dims;
  stride: [number, number];
  padTop: number;
  padLeft: number;
  dilation: [number, number];
}

export interface ConvCase extends ConvGeometry {
  op: 'conv';
  label: string;
  fn: ConvFn;
  batch: number;
  upscale: [number, number]; // [0,0]: upscale_dims = NULL
  inputOffset: number;
  outputOffset: number;
  actMin: number;
  actMax: number;
  bias: Int32Array | null;
  multiplier: Int32Array;
  shift: Int32Array;
  input: Int8Array;
  filter: Int8Array;
  nullScratch: boolean;
  misalign: number;
  /** 4: the *_s4 functions; `filter` then holds int4 values (-8..7), packed when encoded. */
  weightBits?: 4;
}

export interface PoolCase extends PoolArgs {
  op: 'maxpool' | 'avgpool';
  label: string;
  batch: number;
  nullScratch: boolean;
  misalign: number;
}

export interface AddCase extends AddArgs {
  op: 'add';
  label: string;
  misalign: number;
}

export interface SoftmaxCase {
  op: 'softmax';
  label: string;
  input: Int8Array;
  rows: number;
  rowSize: number;
  mult: number;
  shift: number;
  diffMin: number;
  misalign: number;
}

export interface ConcatCase {
  op: 'concat';
  label: string;
  input: Int8Array;
  inDims: Dims;
  batch: number;
  outC: number;
  offsetC: number;
  init: Int8Array;
}

export interface BufSizeCase extends ConvGeometry {
  op: 'bufsize';
  label: string;
}

/** Fixed-point helpers of arm_nnsupportfunctions.h, applied to (a, b, c) triples. */
export const MATH_FN = {
  requantize: 0,
  doublingHighMult: 1,
  doublingHighMultNoSat: 2,
  divideByPowerOfTwo: 3,
  expOnNegativeValues: 4,
  oneOverOnePlusX: 5,
  multByPowerOfTwo: 6,
} as const;

export interface MathCase {
  op: 'math';
  label: string;
  fn: (typeof MATH_FN)[keyof typeof MATH_FN];
  args: Array<[number, number, number]>;
}

export type KernelCase = ConvCase | PoolCase | AddCase | SoftmaxCase | ConcatCase | BufSizeCase | MathCase;

export interface KernelResult {
  status: number;
  flags: number;
  scratch: number;
  out: Int8Array;
}

export const FLAGS = { scratchOverrun: 1, outputOverrun: 2, inputModified: 4, badCase: 8 } as const;

// ---------------------------------------------------------------------------------------------- encoding

const OPS = { conv: 1, maxpool: 2, avgpool: 3, add: 4, softmax: 5, concat: 6, bufsize: 7, math: 8 } as const;
const OP_CONV_S4 = 9;

class Writer {
  private chunks: Buffer[] = [];
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v | 0);
    this.chunks.push(b);
  }
  bytes(b: Buffer): void {
    this.chunks.push(b);
    const pad = (4 - (b.length % 4)) % 4;
    if (pad) this.chunks.push(Buffer.alloc(pad));
  }
  done(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const i8buf = (a: Int8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const i32buf = (a: Int32Array): Buffer => {
  const b = Buffer.alloc(a.length * 4);
  a.forEach((v, i) => b.writeInt32LE(v, i * 4));
  return b;
};
const padded = (b: Buffer): Buffer => {
  const pad = (4 - (b.length % 4)) % 4;
  return pad ? Buffer.concat([b, Buffer.alloc(pad)]) : b;
};

function caseParams(c: KernelCase): { params: number[]; data: Buffer[] } {
  switch (c.op) {
    case 'conv': {
      const params = [
        c.fn, c.batch, c.inDims.h, c.inDims.w, c.inDims.c, c.kernel[0], c.kernel[1], c.filterC,
        c.outDims.h, c.outDims.w, c.outDims.c, c.stride[0], c.stride[1], c.padTop, c.padLeft,
        c.dilation[0], c.dilation[1], c.inputOffset, c.outputOffset, c.actMin, c.actMax,
        c.bias ? 1 : 0, c.nullScratch ? 1 : 0, c.upscale[0], c.upscale[1], c.misalign,
      ];
      const filter = c.weightBits === 4 ? Buffer.from(packInt4(c.filter)) : i8buf(c.filter);
      const data = [...(c.bias ? [i32buf(c.bias)] : []), i32buf(c.multiplier), i32buf(c.shift), i8buf(c.input), filter];
      return { params, data };
    }
    case 'maxpool':
    case 'avgpool':
      return {
        params: [
          c.batch, c.inDims.h, c.inDims.w, c.inDims.c, c.kernel[0], c.kernel[1], c.outDims.h, c.outDims.w,
          c.stride[0], c.stride[1], c.padTop, c.padLeft, c.actMin, c.actMax, c.nullScratch ? 1 : 0, c.misalign,
        ],
        data: [i8buf(c.input)],
      };
    case 'add':
      return {
        params: [
          c.in1Offset, c.in1Mult, c.in1Shift, c.in2Offset, c.in2Mult, c.in2Shift, c.leftShift, c.outOffset,
          c.outMult, c.outShift, c.actMin, c.actMax, c.in1.length, c.misalign,
        ],
        data: [i8buf(c.in1), i8buf(c.in2)],
      };
    case 'softmax':
      return { params: [c.rows, c.rowSize, c.mult, c.shift, c.diffMin, c.misalign], data: [i8buf(c.input)] };
    case 'concat':
      return {
        params: [c.inDims.c, c.inDims.w, c.inDims.h, c.batch, c.outC, c.offsetC],
        data: [i8buf(c.input), i8buf(c.init)],
      };
    case 'math':
      return { params: [c.fn, c.args.length], data: [i32buf(Int32Array.from(c.args.flat()))] };
    case 'bufsize':
      return {
        params: [
          c.inDims.h, c.inDims.w, c.inDims.c, c.kernel[0], c.kernel[1], c.filterC, c.outDims.h, c.outDims.w,
          c.outDims.c, c.stride[0], c.stride[1], c.padTop, c.padLeft, c.dilation[0], c.dilation[1],
        ],
        data: [],
      };
  }
}

export function encodeCases(cases: KernelCase[]): Buffer {
  const w = new Writer();
  w.u32(0x4b5a5153);
  w.u32(1);
  w.u32(cases.length);
  for (const c of cases) {
    const { params, data } = caseParams(c);
    w.u32(c.op === 'conv' && c.weightBits === 4 ? OP_CONV_S4 : OPS[c.op]);
    w.u32(params.length);
    for (const p of params) w.u32(p);
    const blob = Buffer.concat(data.map(padded));
    w.u32(blob.length);
    w.bytes(blob);
  }
  return w.done();
}

export function decodeResults(buf: Buffer, count: number): KernelResult[] {
  if (buf.length < 12 || buf.readUInt32LE(0) !== 0x525a5153 || buf.readUInt32LE(8) !== count) {
    throw new Error(`bad result file (${buf.length} bytes)`);
  }
  const out: KernelResult[] = [];
  let p = 12;
  for (let i = 0; i < count; i++) {
    const status = buf.readInt32LE(p);
    const flags = buf.readUInt32LE(p + 4);
    const scratch = buf.readInt32LE(p + 8);
    const n = buf.readUInt32LE(p + 12);
    p += 16;
    out.push({ status, flags, scratch, out: new Int8Array(buf.subarray(p, p + n)) });
    p += (n + 3) & ~3;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- building and running

export const nnSources = (nnDir = NN_DIR): string[] =>
  readdirSync(join(nnDir, 'Source'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(nnDir, 'Source', d.name))
        .filter((f) => f.endsWith('.c'))
        .map((f) => join(nnDir, 'Source', d.name, f)),
    )
    .sort();

export const WARN_FLAGS = ['-Wall', '-Wextra', '-Werror', '-Wshadow'];

const tempDirs: string[] = [];

/** A fresh temporary directory; removed by cleanupTempDirs(). */
export function makeTempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `sqzfw-${tag}-`));
  tempDirs.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * Host build of the driver against the CMSIS-NN tree `nnDir`: 'scalar' (plain C) or 'dsp' (DSP path with emulated
 * intrinsics); -Werror with the firmware build's warnings plus -Wshadow and, unless `conversion` is false (Arm's
 * tree), -Wconversion.
 */
export async function buildHostDriver(dir: string, path: 'scalar' | 'dsp', nnDir = NN_DIR, conversion = true): Promise<string> {
  const exe = join(dir, `kernel_driver_${path}`);
  const flags = [...WARN_FLAGS, ...(conversion ? ['-Wconversion'] : []), ...(path === 'dsp' ? ['-DSQZFW_EMULATE_DSP'] : [])];
  await promisify(execFile)('gcc', ['-std=c99', '-O2', ...flags, '-I', join(nnDir, 'Include'), ...nnSources(nnDir), DRIVER, '-o', exe]);
  return exe;
}

export function runHostDriver(exe: string, dir: string, cases: KernelCase[], tag: string): KernelResult[] {
  const inFile = join(dir, `${tag}.cases.bin`);
  const outFile = join(dir, `${tag}.results.bin`);
  writeFileSync(inFile, encodeCases(cases));
  const r = spawnSync(exe, [inFile, outFile], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${exe} exited with ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
  return decodeResults(readFileSync(outFile), cases.length);
}

export const QEMU_MACHINES = {
  'mps2-an386': { cpu: ['-mcpu=cortex-m4', '-mfpu=fpv4-sp-d16'], psram: '0x21000000' },
  'mps2-an500': { cpu: ['-mcpu=cortex-m7', '-mfpu=fpv5-d16'], psram: '0x60000000' },
} as const;
export type QemuMachine = keyof typeof QEMU_MACHINES;

export const haveTool = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** Bare-metal build of the driver for a QEMU mps2 machine (DSP path with the real intrinsics). */
export function buildQemuDriver(dir: string, machine: QemuMachine, nnDir = NN_DIR, extraFlags: string[] = []): string {
  const m = QEMU_MACHINES[machine];
  const elf = join(dir, `kernel_driver_${machine}.elf`);
  const q = join(REPO, 'test', 'c', 'qemu');
  execFileSync(
    'arm-none-eabi-gcc',
    [
      ...m.cpu, '-mthumb', '-mfloat-abi=hard', '-O2', '-std=c99', ...WARN_FLAGS, '-ffreestanding', '-nostartfiles',
      '-DSQZFW_TARGET', '-DFILE_MAX=(6u<<20)', '-DRESULT_MAX=(5u<<20)', '-DWORK_MAX=(4u<<20)',
      '-DBIG_SECTION=__attribute__((section(".bigbss")))', ...extraFlags,
      '-I', join(nnDir, 'Include'), ...nnSources(nnDir), DRIVER, join(q, 'startup.c'),
      '-T', join(q, 'mps2.ld'), `-Wl,--defsym=PSRAM_BASE=${m.psram}`, '-Wl,--gc-sections', '-o', elf,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return elf;
}

/** Runs the QEMU driver on the cases; QEMU's working directory holds cases.bin / results.bin. */
export function runQemuDriver(elf: string, machine: QemuMachine, cases: KernelCase[], timeoutS = 120): KernelResult[] {
  const dir = makeTempDir('qemu-run');
  writeFileSync(join(dir, 'cases.bin'), encodeCases(cases));
  const r = spawnSync(
    'timeout',
    [String(timeoutS), 'qemu-system-arm', '-M', machine, '-nographic', '-monitor', 'none', '-serial', 'none',
      '-semihosting-config', 'enable=on,target=native', '-kernel', elf],
    { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    if (r.status !== 0 || !existsSync(join(dir, 'results.bin'))) {
      throw new Error(`QEMU ${machine} exited with ${r.status}${r.status === 124 ? ' (timeout)' : ''}: ${r.stdout} ${r.stderr}`);
    }
    return decodeResults(readFileSync(join(dir, 'results.bin')), cases.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------- generators

export type Rnd = () => number;
export const ri = (r: Rnd, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
export const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
export const randI8 = (r: Rnd, n: number, lo = -128, hi = 127): Int8Array => {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = ri(r, lo, hi);
  return a;
};

const CHANNELS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 24, 31, 32, 33] as const;
/** input_offset = -zero point: extremes 128 (zp -128) and -127 (zp 127). */
const inputOffset = (r: Rnd): number => (r() < 0.3 ? pick(r, [128, -127, 0] as const) : ri(r, -127, 128));
const outputOffset = (r: Rnd): number => (r() < 0.3 ? pick(r, [-128, 127, 0] as const) : ri(r, -128, 127));

function activation(r: Rnd, outOffset: number): [number, number] {
  const u = r();
  if (u < 0.6) return [-128, 127];
  if (u < 0.8) return [Math.max(-128, Math.min(127, outOffset)), 127]; // fused ReLU
  const a = ri(r, -128, 127);
  const b = ri(r, -128, 127);
  return [Math.min(a, b), Math.max(a, b)];
}

/** A multiplier/shift pair: mostly a scale that keeps outputs in range, sometimes an extreme one. */
function requantPair(r: Rnd, accMagnitude: number): [number, number] {
  const u = r();
  if (u < 0.08) return [pick(r, [1073741824, 2147483647, 2147483646, 1073741825] as const), ri(r, -31, 2)];
  if (u < 0.12) return [ri(r, 1, 1073741823), ri(r, -12, 0)];
  if (u < 0.18) return [ri(r, 1073741824, 2147483647), pick(r, [-31, -30, -24, 1, 4, 8] as const)];
  const target = 40 + r() * 100;
  const { mult, shift } = quantizeMultiplier(target / Math.max(accMagnitude, 1));
  return [mult, Math.max(-31, shift)];
}

export const convOutSize = (inSize: number, k: number, s: number, padBefore: number, padAfter: number, d = 1): number =>
  Math.floor((inSize + padBefore + padAfter - (d * (k - 1) + 1)) / s) + 1;

export interface ConvShape {
  inDims: Dims;
  kernel: [number, number];
  stride: [number, number];
  padTop: number;
  padLeft: number;
  outDims: Dims;
}

export function convShape(r: Rnd, maxMacs: number): ConvShape {
  for (;;) {
    const kind = r();
    let kh: number, kw: number, ih: number, iw: number;
    if (kind < 0.3) [kh, kw] = [1, 1];
    else if (kind < 0.62) [kh, kw] = [3, 3];
    else if (kind < 0.72) [kh, kw] = [7, 7];
    else if (kind < 0.85) [kh, kw] = [1, ri(r, 1, 7)];
    else[kh, kw] = pick(r, [[5, 5], [2, 2], [3, 1], [1, 3], [2, 3], [4, 4]] as const);
    const oneRow = kh === 1 && r() < 0.6;
    ih = oneRow ? 1 : ri(r, 1, 16);
    iw = ri(r, 1, 20);
    const sh = pick(r, [1, 1, 2, 2, 3] as const);
    const sw = r() < 0.8 ? sh : pick(r, [1, 2, 3] as const);
    const padMode = r();
    let pt = 0, pl = 0, pb = 0, pr = 0;
    if (padMode < 0.35) {
      // no padding
    } else if (padMode < 0.7) {
      pt = pb = Math.floor(kh / 2);
      pl = pr = Math.floor(kw / 2);
    } else {
      pt = ri(r, 0, kh - 1);
      pb = ri(r, 0, kh - 1);
      pl = ri(r, 0, kw - 1);
      pr = ri(r, 0, kw - 1);
    }
    const oh = convOutSize(ih, kh, sh, pt, pb);
    const ow = convOutSize(iw, kw, sw, pl, pr);
    if (oh < 1 || ow < 1) continue;
    const ic = pick(r, CHANNELS);
    const oc = pick(r, CHANNELS);
    if (oh * ow * oc * kh * kw * ic > maxMacs) continue;
    return {
      inDims: { h: ih, w: iw, c: ic },
      kernel: [kh, kw],
      stride: [sh, sw],
      padTop: pt,
      padLeft: pl,
      outDims: { h: oh, w: ow, c: oc },
    };
  }
}

export function fillConv(r: Rnd, s: ConvShape, label: string, fn: ConvFn = 0): ConvCase {
  const { inDims: id, outDims: od, kernel } = s;
  const cols = kernel[0] * kernel[1] * id.c;
  const weightRange = r() < 0.8 ? 127 : 128;
  const filter = randI8(r, od.c * cols, -weightRange, 127);
  const inOff = inputOffset(r);
  const outOff = outputOffset(r);
  const bias = r() < 0.15 ? null : new Int32Array(od.c);
  if (bias) {
    const big = r() < 0.15;
    for (let i = 0; i < od.c; i++) bias[i] = big ? ri(r, -(1 << 28), 1 << 28) : ri(r, -65536, 65536);
  }
  const accMag = Math.sqrt(cols) * 128 * 70 + (bias ? 30000 : 0);
  const multiplier = new Int32Array(od.c);
  const shift = new Int32Array(od.c);
  const perTensor = r() < 0.3;
  const [m0, s0] = requantPair(r, accMag);
  for (let i = 0; i < od.c; i++) {
    const [m, sh] = perTensor ? [m0, s0] : requantPair(r, accMag);
    multiplier[i] = m;
    shift[i] = sh;
  }
  const [actMin, actMax] = activation(r, outOff);
  return {
    op: 'conv',
    label,
    fn,
    batch: 1,
    inDims: id,
    filterC: id.c,
    kernel,
    outDims: od,
    stride: s.stride,
    padTop: s.padTop,
    padLeft: s.padLeft,
    dilation: [1, 1],
    upscale: [0, 0],
    inputOffset: inOff,
    outputOffset: outOff,
    actMin,
    actMax,
    bias,
    multiplier,
    shift,
    input: randI8(r, id.h * id.w * id.c),
    filter,
    nullScratch: false,
    misalign: ri(r, 0, 3),
  };
}

/**
 * Which CMSIS-NN kernel arm_convolve_wrapper_s8 calls for these arguments (CMSIS-NN v7.0.0 rules); with `s4`, which
 * arm_convolve_wrapper_s4 calls: the same rules but (non-MVE) no input c == filter c test on the 1x1 path.
 */
export function wrapperPath(c: ConvGeometry, s4 = false): ConvFn {
  const [kh, kw] = c.kernel;
  if (c.padTop === 0 && c.padLeft === 0 && kh === 1 && kw === 1 && c.dilation[0] === 1 && c.dilation[1] === 1 && (s4 || c.inDims.c === c.filterC)) {
    return c.stride[0] === 1 && c.stride[1] === 1 ? CONV_FN.fast1x1 : CONV_FN.conv1x1;
  }
  if (c.inDims.h === 1 && c.dilation[1] === 1 && kh === 1 && (c.stride[1] * c.inDims.c) % 4 === 0 && c.inDims.c === c.filterC) {
    return CONV_FN.conv1xn;
  }
  return CONV_FN.convolve;
}

/** Scratch bytes the driver passes for a conv case (the called function's *_get_buffer_size, 0 when NULL). */
export function driverScratchBytes(c: ConvCase): number {
  if (c.nullScratch) return 0;
  const im2col = 4 * Math.ceil((c.kernel[0] * c.kernel[1] * c.inDims.c) / 4);
  switch (c.fn) {
    case CONV_FN.wrapper: {
      const is1x1 = c.padTop === 0 && c.padLeft === 0 && c.kernel[0] === 1 && c.kernel[1] === 1 && c.dilation[0] === 1 && c.dilation[1] === 1;
      return is1x1 ? 0 : 2 * im2col; // the size rule has no input c == filter c test (unlike the wrapper's dispatch)
    }
    case CONV_FN.convolve:
    case CONV_FN.conv1xn:
      return 2 * im2col;
    default:
      return 0;
  }
}

/**
 * Status CMSIS-NN v7.0.0's kernel `path` (s8 or s4: the same checks) returns for a conv case given `scratchBytes`:
 * its argument checks, and ARM_CMSIS_NN_ARG_ERROR (-1) when an im2col kernel gets no scratch.
 */
export function convStatus(c: ConvGeometry, path: ConvFn, scratchBytes: number): number {
  if (path === CONV_FN.fast1x1 && (c.padTop !== 0 || c.padLeft !== 0 || c.stride[0] !== 1 || c.stride[1] !== 1)) return -1;
  if (path === CONV_FN.conv1x1 && (c.padTop !== 0 || c.padLeft !== 0)) return -1;
  if (path === CONV_FN.conv1xn && (c.inDims.h !== 1 || c.dilation[1] !== 1 || (c.stride[1] * c.inDims.c) % 4 !== 0)) return -1;
  if ((path === CONV_FN.convolve || path === CONV_FN.conv1xn) && scratchBytes === 0) return -1;
  return 0;
}

/**
 * Status CMSIS-NN v7.0.0 returns for an s8 conv case. A grouped 1x1 convolution through the wrapper gets -1: the
 * wrapper sends it to arm_convolve_s8, but the wrapper's size function answers 0 for every unpadded 1x1 filter.
 */
export function expectedConvStatus(c: ConvCase): number {
  return convStatus(c, c.fn === CONV_FN.wrapper ? wrapperPath(c) : c.fn, driverScratchBytes(c));
}

/** Conv cases with golden expectations: every wrapper path, direct calls, edges. */
export function convCases(seed: number, count: number, maxMacs = 120_000): ConvCase[] {
  const r = mulberry32(seed);
  const out: ConvCase[] = [];
  for (let i = 0; i < count; i++) {
    const s = convShape(r, maxMacs);
    const c = fillConv(r, s, `conv#${i}`);
    // Sometimes call the selected kernel (or the general one) directly instead of the wrapper.
    const path = wrapperPath(c);
    const u = r();
    if (u < 0.15) c.fn = CONV_FN.convolve;
    else if (u < 0.3) c.fn = path;
    c.label = `conv#${i} fn=${c.fn} path=${path} in=${s.inDims.h}x${s.inDims.w}x${s.inDims.c} k=${s.kernel.join('x')} out=${s.outDims.h}x${s.outDims.w}x${s.outDims.c} stride=${s.stride.join(',')} pad=${s.padTop},${s.padLeft}`;
    out.push(c);
  }
  // Fixed shapes that matter for SqueezeNet and for the DSP code's edges.
  const fixed: Array<[Dims, [number, number], [number, number], number, number, Dims]> = [
    [{ h: 9, w: 9, c: 3 }, [3, 3], [2, 2], 0, 0, { h: 4, w: 4, c: 8 }], // conv1 (v1.1), C_IN 3: staged im2col
    [{ h: 15, w: 15, c: 3 }, [7, 7], [2, 2], 0, 0, { h: 5, w: 5, c: 6 }], // conv1 (v1.0)
    [{ h: 6, w: 6, c: 16 }, [3, 3], [1, 1], 1, 1, { h: 6, w: 6, c: 9 }], // expand3x3
    [{ h: 6, w: 5, c: 32 }, [1, 1], [1, 1], 0, 0, { h: 6, w: 5, c: 16 }], // squeeze / expand1x1
    [{ h: 7, w: 7, c: 13 }, [1, 1], [2, 2], 0, 0, { h: 4, w: 4, c: 7 }], // strided 1x1
    [{ h: 1, w: 11, c: 4 }, [1, 5], [1, 1], 0, 2, { h: 1, w: 11, c: 5 }], // 1xN, h=1
    [{ h: 1, w: 12, c: 2 }, [1, 3], [2, 2], 0, 1, { h: 1, w: 6, c: 3 }], // 1xN, stride*c % 4 == 0
    [{ h: 1, w: 9, c: 3 }, [1, 3], [1, 1], 0, 1, { h: 1, w: 9, c: 4 }], // h=1 but stride*c % 4 != 0: general path
    [{ h: 3, w: 4, c: 5 }, [3, 3], [1, 1], 1, 1, { h: 5, w: 4, c: 3 }], // band-like: rows past the input are padding
    [{ h: 2, w: 2, c: 1 }, [7, 7], [1, 1], 3, 3, { h: 2, w: 2, c: 1 }], // kernel larger than the input
  ];
  fixed.forEach(([inDims, kernel, stride, padTop, padLeft, outDims], i) => {
    const c = fillConv(r, { inDims, kernel, stride, padTop, padLeft, outDims }, `fixed#${i}`);
    c.label = `fixed conv#${i} in=${inDims.h}x${inDims.w}x${inDims.c} k=${kernel.join('x')} out=${outDims.h}x${outDims.w}x${outDims.c}`;
    out.push(c);
  });
  out.push(...kernelPathCases(r));
  return out;
}

/**
 * Whether the kernels requantize a (one-group) conv case the lean way (firmware/cmsis-nn/Include/Internal/
 * sqzfw_nn_requant.h: sqzfw_rq_mode gives SMMULR, every shift is -22..-1, the output offset is an int8 and the
 * activation range the whole int8 range). The 1x1 DSP path also needs K <= 512 (its widened weight rows).
 */
export function leanRequant(c: ConvCase): boolean {
  const cols = c.kernel[0] * c.kernel[1] * c.filterC;
  const shifts = Array.from(c.shift);
  if (shifts.some((s) => s < -31 || s > 31)) return false;
  const maxLsh = Math.max(0, ...shifts);
  const maxBias = c.bias ? Math.max(0, ...Array.from(c.bias, (b) => Math.abs(b))) : 0;
  const macBound = cols >= 32768 ? 2 ** 30 : cols * 32640;
  const fast = macBound < 2 ** 30 && maxBias < 2 ** 30 && maxBias + macBound < Math.floor(2 ** 30 / 2 ** maxLsh);
  return (
    fast &&
    c.actMin === -128 &&
    c.actMax === 127 &&
    c.outputOffset >= -128 &&
    c.outputOffset <= 127 &&
    shifts.every((s) => s >= -22 && s <= -1)
  );
}

/**
 * One case per code path of the blocked kernels: 1 and 3 input channels, K not a multiple of 4 (zero-padded
 * last group, tail words of rows shorter than 4 bytes, the 64-byte gather chunk), odd pixel and channel counts around
 * the 2x2 blocks and the two-groups-per-iteration loops, and the three requantization modes (SMMULR when accumulators
 * stay below 2^30, 64-bit for large biases, the reference helper for shifts below -31).
 */
function kernelPathCases(r: Rnd): ConvCase[] {
  type Spec = [string, Dims, [number, number], [number, number], number, Dims, ConvFn?, ((c: ConvCase) => void)?];
  const bigBias = (c: ConvCase): void => {
    c.bias = Int32Array.from({ length: c.outDims.c }, (_, i) => (i % 2 ? -1 : 1) * (0x3fff0000 + 977 * i));
    c.shift.fill(-20);
  };
  const tinyShift = (c: ConvCase): void => c.shift.forEach((_, i) => (c.shift[i] = i % 2 ? -33 - i : c.shift[i]!));
  /** The lean requantization (whole int8 range, shifts -22..-1, both ends included), output offset off. */
  const lean =
    (off: number) =>
    (c: ConvCase): void => {
      c.actMin = -128;
      c.actMax = 127;
      c.outputOffset = off;
      c.shift.forEach((s, i) => (c.shift[i] = i % 5 === 0 ? -1 : i % 5 === 1 ? -22 : Math.min(-1, Math.max(-22, s))));
    };
  const specs: Spec[] = [
    ['1x1 lean, K=16 (widened weight pair), 7 pixels, 5 outputs', { h: 7, w: 1, c: 16 }, [1, 1], [1, 1], 0, { h: 7, w: 1, c: 5 }, undefined, lean(-128)],
    ['1x1 lean, K=13 (tail columns), 9 pixels, 3 outputs', { h: 3, w: 3, c: 13 }, [1, 1], [1, 1], 0, { h: 3, w: 3, c: 3 }, undefined, lean(127)],
    ['1x1 lean, 3 input channels (no whole word)', { h: 3, w: 3, c: 3 }, [1, 1], [1, 1], 0, { h: 3, w: 3, c: 6 }, undefined, lean(0)],
    ['1x1 lean, 1 input channel, 1 output', { h: 2, w: 3, c: 1 }, [1, 1], [1, 1], 0, { h: 2, w: 3, c: 1 }, undefined, lean(-5)],
    ['1x1 lean, K=512 (largest widened pair), 11 outputs', { h: 3, w: 1, c: 512 }, [1, 1], [1, 1], 0, { h: 3, w: 1, c: 11 }, undefined, lean(-128)],
    ['1x1 lean, K=517 (above the widened limit: int8 blocks)', { h: 3, w: 1, c: 517 }, [1, 1], [1, 1], 0, { h: 3, w: 1, c: 5 }, undefined, lean(-100)],
    ['3x3 lean, K=27 (3 channels, conv1: last pair on its own), 7 outputs', { h: 9, w: 8, c: 3 }, [3, 3], [2, 2], 1, { h: 5, w: 4, c: 7 }, undefined, lean(-128)],
    ['3x3 lean, 1 input channel (K=9), 6 outputs', { h: 5, w: 6, c: 1 }, [3, 3], [1, 1], 1, { h: 5, w: 6, c: 6 }, undefined, lean(127)],
    ['3x3 lean, 16 channels (K=144, even groups), 8 outputs, odd column count', { h: 5, w: 3, c: 16 }, [3, 3], [1, 1], 1, { h: 5, w: 3, c: 8 }, undefined, lean(-128)],
    ['3x3 lean, 12 channels (K=108, odd group count), 5 outputs', { h: 4, w: 4, c: 12 }, [3, 3], [1, 1], 1, { h: 4, w: 4, c: 5 }, undefined, lean(3)],
    ['3x3 lean, 5 channels (K=45), 1 output', { h: 4, w: 5, c: 5 }, [3, 3], [1, 1], 1, { h: 4, w: 5, c: 1 }, undefined, lean(-128)],
    ['3x3 lean without bias (the run-time mode copy), 6 outputs', { h: 4, w: 5, c: 8 }, [3, 3], [1, 1], 1, { h: 4, w: 5, c: 6 }, undefined, (c) => { lean(-128)(c); c.bias = null; }],
    ['1x1 lean without bias, 5 outputs', { h: 3, w: 3, c: 8 }, [1, 1], [1, 1], 0, { h: 3, w: 3, c: 5 }, undefined, (c) => { lean(-128)(c); c.bias = null; }],
    ['1x1 lean strided (pixel step != K)', { h: 5, w: 7, c: 20 }, [1, 1], [2, 2], 0, { h: 3, w: 4, c: 7 }, undefined, lean(-128)],
    ['1 input channel 3x3 (K=9)', { h: 6, w: 7, c: 1 }, [3, 3], [1, 1], 1, { h: 6, w: 7, c: 5 }],
    ['3 input channels 3x3/2 (K=27, conv1)', { h: 9, w: 8, c: 3 }, [3, 3], [2, 2], 1, { h: 5, w: 4, c: 7 }],
    ['3 input channels 7x7 (K=147 > one gather chunk)', { h: 9, w: 9, c: 3 }, [7, 7], [2, 2], 3, { h: 5, w: 5, c: 9 }],
    ['13 input channels 3x3 (K=117)', { h: 4, w: 9, c: 13 }, [3, 3], [1, 1], 1, { h: 4, w: 9, c: 9 }],
    ['1x1 through arm_convolve_s8, 3 channels (rows of 3 bytes)', { h: 3, w: 5, c: 3 }, [1, 1], [1, 1], 0, { h: 3, w: 5, c: 5 }, CONV_FN.convolve],
    ['1x1 through arm_convolve_s8, 1 channel', { h: 4, w: 3, c: 1 }, [1, 1], [1, 1], 0, { h: 4, w: 3, c: 3 }, CONV_FN.convolve],
    ['1x1 fast, 3 channels (no whole word)', { h: 3, w: 3, c: 3 }, [1, 1], [1, 1], 0, { h: 3, w: 3, c: 5 }],
    ['1x1 fast, 12 channels (odd group count), 9 pixels, 5 outputs', { h: 3, w: 3, c: 12 }, [1, 1], [1, 1], 0, { h: 3, w: 3, c: 5 }],
    ['1x1 fast, 33 channels, 7 outputs', { h: 5, w: 3, c: 33 }, [1, 1], [1, 1], 0, { h: 5, w: 3, c: 7 }],
    ['1x1 strided (rows and weights at unrelated steps)', { h: 5, w: 7, c: 16 }, [1, 1], [2, 2], 0, { h: 3, w: 4, c: 6 }],
    ['3x3, biases near 2^30 (64-bit requantization)', { h: 5, w: 5, c: 8 }, [3, 3], [1, 1], 1, { h: 5, w: 5, c: 6 }, undefined, bigBias],
    ['1x1, biases near 2^30 (64-bit requantization)', { h: 3, w: 4, c: 16 }, [1, 1], [1, 1], 0, { h: 3, w: 4, c: 6 }, undefined, bigBias],
    ['3x3, shifts below -31 (reference requantization)', { h: 4, w: 5, c: 8 }, [3, 3], [1, 1], 1, { h: 4, w: 5, c: 6 }, undefined, tinyShift],
    ['1x1, shifts below -31 (reference requantization)', { h: 3, w: 3, c: 8 }, [1, 1], [1, 1], 0, { h: 3, w: 3, c: 6 }, undefined, tinyShift],
  ];
  return specs.map(([what, inDims, kernel, stride, pad, outDims, fn, tweak]) => {
    const c = fillConv(r, { inDims, kernel, stride, padTop: pad, padLeft: pad, outDims }, '', fn ?? CONV_FN.wrapper);
    tweak?.(c);
    c.label = `path case: ${what}, in=${inDims.h}x${inDims.w}x${inDims.c} k=${kernel.join('x')} out=${outDims.h}x${outDims.w}x${outDims.c}`;
    return c;
  });
}

/** Makes `c` (drawn with shape `s`) a batch of two images. */
export function twoImages(r: Rnd, c: ConvCase, s: ConvShape): void {
  c.batch = 2;
  c.input = randI8(r, 2 * s.inDims.h * s.inDims.w * s.inDims.c);
}

/** Gives `c` (drawn with shape `s`) a random dilation, 1..3 each way, unless its output would then be empty. */
export function randomDilation(r: Rnd, c: ConvCase, s: ConvShape): void {
  const d: [number, number] = [ri(r, 1, 3), ri(r, 1, 3)];
  const oh = convOutSize(s.inDims.h, s.kernel[0], s.stride[0], s.padTop, s.padTop, d[0]);
  const ow = convOutSize(s.inDims.w, s.kernel[1], s.stride[1], s.padLeft, s.padLeft, d[1]);
  if (oh >= 1 && ow >= 1) {
    c.dilation = d;
    c.outDims = { ...s.outDims, h: oh, w: ow };
  }
}

/**
 * Conv cases outside the golden model (batch 2, dilation, groups, upscale, NULL scratch): the plain C
 * and DSP builds must agree with each other (and, checked outside the repo, with Arm's library).
 */
export function extendedConvCases(seed: number, count: number, maxMacs = 60_000): ConvCase[] {
  const r = mulberry32(seed);
  const out: ConvCase[] = [];
  for (let i = 0; i < count; i++) {
    const s = convShape(r, maxMacs);
    const c = fillConv(r, s, '');
    const kind = i % 5;
    if (kind === 0) {
      twoImages(r, c, s);
    } else if (kind === 1) {
      randomDilation(r, c, s);
      c.fn = CONV_FN.convolve;
    } else if (kind === 2) {
      const groups = pick(r, [2, 3, 4] as const);
      const fc = ri(r, 1, 6);
      const ocg = ri(r, 1, 5);
      c.inDims = { ...s.inDims, c: groups * fc };
      c.filterC = fc;
      c.outDims = { ...s.outDims, c: groups * ocg };
      c.input = randI8(r, s.inDims.h * s.inDims.w * groups * fc);
      c.filter = randI8(r, groups * ocg * s.kernel[0] * s.kernel[1] * fc, -127, 127);
      c.bias = new Int32Array(groups * ocg).map(() => ri(r, -5000, 5000));
      c.multiplier = new Int32Array(groups * ocg).map(() => ri(r, 1073741824, 2147483647));
      c.shift = new Int32Array(groups * ocg).map(() => ri(r, -12, -6));
      c.fn = pick(r, [CONV_FN.wrapper, CONV_FN.convolve] as const);
    } else if (kind === 3) {
      // upscale_dims (2x zero insertion): input_dims are the upscaled dims; the data holds half of them
      const uh = pick(r, [1, 2] as const);
      const uw = pick(r, [1, 2] as const);
      const dh = Math.max(1, Math.floor(s.inDims.h / uh));
      const dw = Math.max(1, Math.floor(s.inDims.w / uw));
      const oh = convOutSize(dh * uh, s.kernel[0], s.stride[0], s.padTop, s.padTop);
      const ow = convOutSize(dw * uw, s.kernel[1], s.stride[1], s.padLeft, s.padLeft);
      if (oh >= 1 && ow >= 1) {
        c.inDims = { ...s.inDims, h: dh * uh, w: dw * uw };
        c.input = randI8(r, dh * dw * s.inDims.c);
        c.upscale = [uh, uw];
        c.outDims = { ...s.outDims, h: oh, w: ow };
      }
      c.fn = CONV_FN.convolve;
    } else {
      c.nullScratch = true;
      c.fn = pick(r, [CONV_FN.wrapper, CONV_FN.convolve, wrapperPath(c)] as const);
    }
    c.label = `ext conv#${i} kind=${kind} fn=${c.fn} batch=${c.batch} in=${c.inDims.h}x${c.inDims.w}x${c.inDims.c} fc=${c.filterC} k=${c.kernel.join('x')} out=${c.outDims.h}x${c.outDims.w}x${c.outDims.c} stride=${c.stride.join(',')} pad=${c.padTop},${c.padLeft} dil=${c.dilation.join(',')} up=${c.upscale.join(',')} null=${c.nullScratch}`;
    out.push(c);
  }
  return out;
}

/** Pool output size, floor or ceil mode (the last window must start inside the input or the left padding). */
export function poolOutSize(inSize: number, k: number, s: number, pad: number, ceil: boolean): number {
  const span = inSize + 2 * pad - k;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= inSize + pad) o--;
  return o;
}

export function poolCases(seed: number, count: number, op: 'maxpool' | 'avgpool'): PoolCase[] {
  const r = mulberry32(seed);
  const out: PoolCase[] = [];
  while (out.length < count) {
    const global = r() < 0.1;
    const ih = ri(r, 1, 16);
    const iw = ri(r, 1, 16);
    const c = pick(r, [1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64] as const);
    let kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, oh: number, ow: number;
    let mode = 'global';
    if (global) {
      [kh, kw, sh, sw, ph, pw, oh, ow] = [ih, iw, 1, 1, 0, 0, 1, 1];
    } else {
      kh = ri(r, 1, 4);
      kw = r() < 0.8 ? kh : ri(r, 1, 4);
      sh = ri(r, 1, 3);
      sw = r() < 0.8 ? sh : ri(r, 1, 3);
      ph = r() < 0.5 ? 0 : ri(r, 0, kh - 1);
      pw = r() < 0.7 ? Math.min(ph, kw - 1) : ri(r, 0, kw - 1);
      const ceil = r() < 0.5;
      mode = ceil ? 'ceil' : 'floor';
      oh = poolOutSize(ih, kh, sh, ph, ceil);
      ow = poolOutSize(iw, kw, sw, pw, ceil);
      if (oh < 1 || ow < 1) continue;
      // every window must hold at least one input element
      if ((oh - 1) * sh - ph >= ih || (ow - 1) * sw - pw >= iw || kh - ph <= 0 || kw - pw <= 0) continue;
    }
    const [actMin, actMax] = r() < 0.7 ? [-128, 127] : activation(r, ri(r, -128, 127));
    const n = out.length;
    out.push({
      op,
      label: `${op}#${n} ${mode} in=${ih}x${iw}x${c} k=${kh}x${kw} s=${sh},${sw} pad=${ph},${pw} out=${oh}x${ow} act=${actMin},${actMax}`,
      batch: 1,
      inDims: { h: ih, w: iw, c },
      kernel: [kh, kw],
      stride: [sh, sw],
      padTop: ph,
      padLeft: pw,
      outDims: { h: oh, w: ow, c },
      actMin,
      actMax,
      input: r() < 0.1 ? randI8(r, ih * iw * c, -128, -120) : randI8(r, ih * iw * c),
      nullScratch: false,
      misalign: ri(r, 0, 3),
    });
  }
  return out;
}

/** TFLite's int8 ADD parameters for random scales (left shift 20), or raw extremes. */
export function addCases(seed: number, count: number, leftShifts: readonly number[] = [20]): AddCase[] {
  const r = mulberry32(seed);
  const out: AddCase[] = [];
  for (let i = 0; i < count; i++) {
    const n = r() < 0.2 ? ri(r, 1, 7) : ri(r, 1, 400);
    const s1 = Math.exp((r() - 0.5) * 4) * 0.05;
    const s2 = r() < 0.3 ? s1 : Math.exp((r() - 0.5) * 4) * 0.05;
    const so = Math.exp((r() - 0.5) * 2) * Math.max(s1, s2) * 1.5;
    const leftShift = pick(r, leftShifts);
    const twiceMax = 2 * Math.max(s1, s2);
    const q1 = quantizeMultiplier(s1 / twiceMax);
    const q2 = quantizeMultiplier(s2 / twiceMax);
    const qo = quantizeMultiplier(twiceMax / (2 ** leftShift * so));
    const outOffset = outputOffset(r);
    const [actMin, actMax] = activation(r, outOffset);
    const extreme = r() < 0.1;
    out.push({
      op: 'add',
      label: `add#${i} n=${n} ls=${leftShift}${extreme ? ' extreme' : ''}`,
      in1: randI8(r, n),
      in2: randI8(r, n),
      in1Offset: inputOffset(r),
      in1Mult: extreme ? 2147483647 : q1.mult,
      in1Shift: q1.shift,
      in2Offset: inputOffset(r),
      in2Mult: extreme ? 1073741824 : q2.mult,
      in2Shift: extreme ? -31 : q2.shift,
      leftShift,
      outOffset,
      outMult: qo.mult,
      outShift: qo.shift,
      actMin,
      actMax,
      misalign: ri(r, 0, 3),
    });
  }
  return out;
}

/**
 * Rough float estimate of the softmax accumulator (sum of exp in Q12.19). At 2^28 and above the
 * kernel's final shift reaches 32 bits, where CMSIS-NN's C code relies on the shift behaviour of the
 * target (see arm_nnsupportfunctions.h); those rows are kept out of the golden comparison.
 */
export function softmaxSumEstimate(c: SoftmaxCase, inputScale: number): number {
  let worst = 0;
  for (let r = 0; r < c.rows; r++) {
    const row = c.input.subarray(r * c.rowSize, (r + 1) * c.rowSize);
    const max = Math.max(...row);
    let s = 0;
    for (const v of row) if (v - max >= c.diffMin) s += Math.exp((v - max) * inputScale) * 2 ** 19;
    worst = Math.max(worst, s);
  }
  return worst;
}

/** TFLite's softmax preparation (beta 1, 5 integer bits) for a given input scale. */
export function softmaxParams(inputScale: number, beta = 1): { mult: number; shift: number; diffMin: number } {
  const real = Math.min(beta * inputScale * 2 ** 26, 2 ** 31 - 1);
  const { mult, shift } = quantizeMultiplier(real);
  const maxInputRescaled = (31 * 2 ** 26) / 2 ** shift; // ((1 << 5) - 1) * (1 << (31 - 5)) / (1 << shift)
  return { mult, shift, diffMin: -Math.floor(maxInputRescaled) };
}

export function softmaxCases(seed: number, count: number): Array<SoftmaxCase & { sumEstimate: number }> {
  const r = mulberry32(seed);
  const out: Array<SoftmaxCase & { sumEstimate: number }> = [];
  for (let i = 0; i < count; i++) {
    const rows = ri(r, 1, 3);
    const rowSize = r() < 0.1 ? 1000 : r() < 0.2 ? ri(r, 1, 5) : ri(r, 6, 300);
    const inputScale = Math.exp((r() - 0.5) * 5) * 0.1;
    const p = softmaxParams(inputScale);
    const narrow = r() < 0.2;
    const input = narrow ? randI8(r, rows * rowSize, 100, 127) : randI8(r, rows * rowSize);
    const diffMin = r() < 0.25 ? -ri(r, 0, 60) : p.diffMin; // also tight cut-offs
    const c: SoftmaxCase = {
      op: 'softmax',
      label: `softmax#${i} rows=${rows} size=${rowSize} scale=${inputScale.toExponential(2)} mult=${p.mult} shift=${p.shift} diffMin=${diffMin}`,
      input,
      rows,
      rowSize,
      mult: p.mult,
      shift: p.shift,
      diffMin,
      misalign: ri(r, 0, 3),
    };
    out.push({ ...c, sumEstimate: softmaxSumEstimate(c, inputScale) });
  }
  return out;
}

export function concatCases(seed: number, count: number): ConcatCase[] {
  const r = mulberry32(seed);
  const out: ConcatCase[] = [];
  for (let i = 0; i < count; i++) {
    const inDims = { h: ri(r, 1, 9), w: ri(r, 1, 9), c: ri(r, 1, 40) };
    const outC = inDims.c + ri(r, 0, 40);
    const offsetC = ri(r, 0, outC - inDims.c);
    out.push({
      op: 'concat',
      label: `concat#${i} in=${inDims.h}x${inDims.w}x${inDims.c} outC=${outC} offset=${offsetC}`,
      input: randI8(r, inDims.h * inDims.w * inDims.c),
      inDims,
      batch: 1,
      outC,
      offsetC,
      init: randI8(r, inDims.h * inDims.w * outC),
    });
  }
  return out;
}

/** Geometry-only cases for the scratch-size functions (including shapes the wrapper treats specially). */
export function bufSizeCases(seed: number, count: number): BufSizeCase[] {
  const r = mulberry32(seed);
  const out: BufSizeCase[] = [];
  for (let i = 0; i < count; i++) {
    const kh = pick(r, [1, 1, 1, 3, 5, 7, 2] as const);
    const kw = r() < 0.7 ? kh : ri(r, 1, 7);
    const inDims = { h: r() < 0.3 ? 1 : ri(r, 1, 224), w: ri(r, 1, 224), c: ri(r, 1, 600) };
    const stride: [number, number] = [ri(r, 1, 3), ri(r, 1, 3)];
    const padTop = r() < 0.5 ? 0 : ri(r, 0, kh);
    const padLeft = r() < 0.5 ? padTop : ri(r, 0, kw);
    const outDims = {
      h: Math.max(1, convOutSize(inDims.h, kh, stride[0], padTop, padTop)),
      w: Math.max(1, convOutSize(inDims.w, kw, stride[1], padLeft, padLeft)),
      c: ri(r, 1, 1000),
    };
    const dilation: [number, number] = r() < 0.9 ? [1, 1] : [ri(r, 1, 2), ri(r, 1, 2)];
    out.push({
      op: 'bufsize',
      label: `bufsize#${i} in=${inDims.h}x${inDims.w}x${inDims.c} k=${kh}x${kw} s=${stride.join(',')} pad=${padTop},${padLeft} dil=${dilation.join(',')}`,
      inDims,
      filterC: r() < 0.95 ? inDims.c : Math.max(1, Math.floor(inDims.c / 2)),
      kernel: [kh, kw],
      outDims,
      stride,
      padTop,
      padLeft,
      dilation,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- expectations

/** The golden kernels' arguments of a conv case (batch 1, no dilation). */
const convArgsOf = (c: ConvCase): ConvArgs => ({
  input: c.input,
  inDims: c.inDims,
  filter: c.filter,
  kernel: c.kernel,
  bias: c.bias,
  outDims: c.outDims,
  inputOffset: c.inputOffset,
  outputOffset: c.outputOffset,
  stride: c.stride,
  padTop: c.padTop,
  padLeft: c.padLeft,
  multiplier: c.multiplier,
  shift: c.shift,
  actMin: c.actMin,
  actMax: c.actMax,
});

/** The golden model's output for a case (null: no golden for it). */
export function golden(c: KernelCase): Int8Array | null {
  switch (c.op) {
    case 'conv':
      if (c.batch !== 1 || c.dilation[0] !== 1 || c.dilation[1] !== 1 || c.filterC !== c.inDims.c) return null;
      if (c.upscale[0] > 1 || c.upscale[1] > 1 || c.nullScratch) return null;
      if (c.weightBits === 4) return convS4({ ...convArgsOf(c), packedFilter: packInt4(c.filter) });
      return convS8(convArgsOf(c));
    case 'maxpool':
    case 'avgpool':
      return (c.op === 'maxpool' ? maxPoolS8 : avgPoolS8)(c); // a PoolCase is the golden pool's arguments
    case 'add':
      return addS8(c);
    case 'softmax':
      return softmaxS8(c);
    case 'concat': {
      const o = new Int8Array(c.init);
      concatS8X({ input: c.input, inDims: c.inDims, output: o, outC: c.outC, offsetC: c.offsetC });
      return o;
    }
    case 'bufsize':
    case 'math':
      return null;
  }
}

/** Random and edge triples for the fixed-point helpers (exponents kept in their documented ranges). */
export function mathCases(seed: number, perFn: number): MathCase[] {
  const r = mulberry32(seed);
  const edges = [-2147483648, -2147483647, -1073741824, -65536, -1, 0, 1, 65535, 1073741824, 2147483646, 2147483647];
  const i32 = (): number => (r() < 0.15 ? pick(r, edges) : r() < 0.5 ? ri(r, -300000, 300000) : (Math.floor(r() * 4294967296) | 0));
  const mk = (fn: MathCase['fn'], name: string, gen: () => [number, number, number]): MathCase => ({
    op: 'math',
    label: `math ${name}`,
    fn,
    args: Array.from({ length: perFn }, gen),
  });
  return [
    mk(MATH_FN.requantize, 'requantize', () => [i32(), r() < 0.1 ? pick(r, [2147483647, 1073741824]) : ri(r, 1073741824, 2147483647), ri(r, -31, 30)]),
    mk(MATH_FN.doublingHighMult, 'doubling_high_mult', () => [i32(), i32(), 0]),
    mk(MATH_FN.doublingHighMultNoSat, 'doubling_high_mult_no_sat', () => [i32(), i32(), 0]),
    mk(MATH_FN.divideByPowerOfTwo, 'divide_by_power_of_two', () => [i32(), ri(r, 0, 31), 0]),
    mk(MATH_FN.expOnNegativeValues, 'exp_on_negative_values', () => [r() < 0.1 ? pick(r, [0, -1, -2147483648, -16777216]) : -ri(r, 0, 2147483647), 0, 0]),
    mk(MATH_FN.oneOverOnePlusX, 'one_over_one_plus_x', () => [r() < 0.1 ? pick(r, [0, 1, 2147483647]) : ri(r, 0, 2147483647), 0, 0]),
    mk(MATH_FN.multByPowerOfTwo, 'mult_by_power_of_two', () => [i32(), ri(r, 1, 2), 0]),
  ];
}

/**
 * arm_elementwise_add_s8 of a DSP build (CMSIS-NN v7.0.0 and ours): all but the last n % 4 elements
 * take (x + offset) as an unsigned 16-bit lane before the left shift. Equal to addS8 when leftShift >= 16.
 */
export function addS8DspModel(c: AddCase): Int8Array {
  const n = c.in1.length;
  const n4 = n - (n % 4);
  const out = addS8(c);
  for (let i = 0; i < n4; i++) {
    const a = Math.imul((c.in1[i] + c.in1Offset) & 0xffff, 2 ** c.leftShift);
    const b = Math.imul((c.in2[i] + c.in2Offset) & 0xffff, 2 ** c.leftShift);
    const s = requantize((requantize(a, c.in1Mult, c.in1Shift) + requantize(b, c.in2Mult, c.in2Shift)) | 0, c.outMult, c.outShift) + c.outOffset;
    out[i] = Math.min(c.actMax, Math.max(c.actMin, s));
  }
  return out;
}

/** What a case's result must be: its output (none: not compared), status (default 0) and scratch bytes (none: not compared). */
export interface ExpectedResult {
  out?: Int8Array | null;
  status?: number;
  scratch?: number;
}

/** Failures of driver results against expectations, one description per failing case (with its first difference). */
export function checkResults<C extends KernelCase>(cases: C[], results: KernelResult[], expected: (c: C, i: number) => ExpectedResult): string[] {
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const r = results[i];
    const e = expected(c, i);
    const problems: string[] = [];
    if (r.flags !== 0) problems.push(`driver flags ${r.flags} (1 scratch overrun, 2 output overrun, 4 input modified, 8 bad case)`);
    if (r.status !== (e.status ?? 0)) problems.push(`status ${r.status}, expected ${e.status ?? 0}`);
    if (e.scratch !== undefined && r.scratch !== e.scratch) problems.push(`scratch ${r.scratch} bytes, expected ${e.scratch}`);
    if (e.out) {
      const d = firstDiff(r.out, e.out);
      if (d) problems.push(d);
    }
    if (problems.length) failures.push(`#${i} ${problems.join('; ')}\n    ${describeCase(c)}`);
  });
  return failures;
}

/** Description of the first difference between two outputs, or null when equal. */
export function firstDiff(got: Int8Array, want: Int8Array): string | null {
  if (got.length !== want.length) return `length ${got.length} != expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) {
      let n = 0;
      for (let j = i; j < got.length; j++) if (got[j] !== want[j]) n++;
      return `first difference at index ${i}: got ${got[i]}, expected ${want[i]} (${n} of ${got.length} differ)`;
    }
  }
  return null;
}

/** One-line parameter summary of a case for failure messages. */
export function describeCase(c: KernelCase): string {
  const skip = new Set(['input', 'filter', 'in1', 'in2', 'init', 'bias', 'multiplier', 'shift', 'label', 'op', 'args']);
  const parts = Object.entries(c)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (c.op === 'conv') {
    parts.push(`multiplier[0..3]=${Array.from(c.multiplier.slice(0, 4))}`, `shift[0..3]=${Array.from(c.shift.slice(0, 4))}`);
    parts.push(`bias[0..3]=${c.bias ? Array.from(c.bias.slice(0, 4)) : 'null'}`);
  }
  return `${c.label} {${parts.join(' ')}}`;
}
