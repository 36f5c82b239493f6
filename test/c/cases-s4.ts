/**
 * Kernel cases for the CMSIS-NN s4 convolutions (packed int4 weights): conv cases of test/c/cases.ts with int4
 * filters, the s4 wrapper's dispatch, the status and scratch CMSIS-NN v7.0.0 gives for each.
 */
import { mulberry32 } from '../../src/util/random.js';
import { convS4ScratchBytes } from '../../src/planner/scratch.js';
import { CONV_FN, convShape, convStatus, fillConv, pick, randI8, randomDilation, ri, twoImages, wrapperPath, type ConvCase, type ConvFn, type ConvGeometry, type Rnd } from './cases.js';

/** Which kernel arm_convolve_wrapper_s4 calls (CMSIS-NN v7.0.0, non-MVE: no C_IN test on the 1x1 path). */
export const wrapperPathS4 = (c: ConvGeometry): ConvFn => wrapperPath(c, true);

/** Scratch the driver passes: the called function's *_get_buffer_size (0 when the case passes NULL). */
export function driverScratchBytesS4(c: ConvCase): number {
  if (c.nullScratch) return 0;
  const general = 2 * c.kernel[0] * c.kernel[1] * c.inDims.c * 2;
  switch (c.fn) {
    case CONV_FN.wrapper: // the planner's rule (src/planner/scratch.ts), plus the dilation test it does not need
      return c.dilation[0] !== 1 || c.dilation[1] !== 1 ? general : convS4ScratchBytes(c);
    case CONV_FN.convolve:
    case CONV_FN.conv1xn:
      return general;
    default:
      return 0;
  }
}

/** Status CMSIS-NN v7.0.0's s4 functions return for a case. */
export function expectedConvS4Status(c: ConvCase): number {
  return convStatus(c, c.fn === CONV_FN.wrapper ? wrapperPathS4(c) : c.fn, driverScratchBytesS4(c));
}

/** int4 weights: mostly the symmetric range [-7, 7] the quantizer produces, sometimes -8 too. */
const randI4 = (r: Rnd, n: number): Int8Array => randI8(r, n, r() < 0.7 ? -7 : -8, 7);

function toS4(r: Rnd, c: ConvCase): ConvCase {
  const filter = randI4(r, c.filter.length);
  // the int8 generator sized the multipliers for int8 weights: scale them up 16x where that keeps them valid
  const shift = c.shift.map((s) => (r() < 0.7 && s <= 26 ? s + 4 : s));
  return { ...c, filter, shift, weightBits: 4 };
}

/** s4 conv cases with golden expectations: every wrapper path (odd and even row lengths), direct calls. */
export function convS4Cases(seed: number, count: number, maxMacs = 120_000): ConvCase[] {
  const r = mulberry32(seed);
  const out: ConvCase[] = [];
  for (let i = 0; i < count; i++) {
    const s = convShape(r, maxMacs);
    const c = toS4(r, fillConv(r, s, ''));
    const path = wrapperPathS4(c);
    const u = r();
    if (u < 0.15) c.fn = CONV_FN.convolve;
    else if (u < 0.3) c.fn = path;
    const cols = s.kernel[0] * s.kernel[1] * s.inDims.c;
    c.label = `s4 conv#${i} fn=${c.fn} path=${path} in=${s.inDims.h}x${s.inDims.w}x${s.inDims.c} k=${s.kernel.join('x')} out=${s.outDims.h}x${s.outDims.w}x${s.outDims.c} stride=${s.stride.join(',')} pad=${s.padTop},${s.padLeft} rowlen=${cols}${cols % 2 ? ' (odd)' : ''}`;
    out.push(c);
  }
  return out;
}

/** s4 cases beyond the golden model: batch 2, dilation, NULL scratch (checked against Arm and across builds). */
export function extendedConvS4Cases(seed: number, count: number, maxMacs = 60_000): ConvCase[] {
  const r = mulberry32(seed);
  const out: ConvCase[] = [];
  for (let i = 0; i < count; i++) {
    const s = convShape(r, maxMacs);
    const c = toS4(r, fillConv(r, s, ''));
    const kind = ri(r, 0, 2);
    if (kind === 0) {
      twoImages(r, c, s);
      c.fn = pick(r, [CONV_FN.wrapper, CONV_FN.convolve, wrapperPathS4(c)] as const);
    } else if (kind === 1) {
      randomDilation(r, c, s);
      c.fn = pick(r, [CONV_FN.wrapper, CONV_FN.convolve] as const);
    } else {
      c.nullScratch = true;
      c.fn = pick(r, [CONV_FN.wrapper, CONV_FN.convolve, wrapperPathS4(c)] as const);
    }
    c.label = `s4 ext conv#${i} kind=${kind} fn=${c.fn} batch=${c.batch} in=${c.inDims.h}x${c.inDims.w}x${c.inDims.c} k=${c.kernel.join('x')} out=${c.outDims.h}x${c.outDims.w}x${c.outDims.c} stride=${c.stride.join(',')} pad=${c.padTop},${c.padLeft} dil=${c.dilation.join(',')} null=${c.nullScratch}`;
    out.push(c);
  }
  return out;
}
