/**
 * The quantized model: what the golden interpreter runs, the planner schedules, the emitter writes as C
 * and the ASIC mapper lays out. Plain data; every number here is exactly what the CMSIS-NN call receives.
 */
import type { Dims, Pad } from '../graph/ir.js';

/** A tensor's float range, as calibration measured it or a ranges file stored it. */
export interface Range {
  min: number;
  max: number;
}
export type Ranges = Record<string, Range>;

export interface QTensor {
  name: string;
  dims: Dims;
  scale: number;
  zeroPoint: number;
}

interface QBase {
  name: string;
  inputs: string[];
  output: string;
}

export interface QConv extends QBase {
  op: 'conv';
  kernel: [number, number];
  stride: [number, number];
  pad: Pad;
  /**
   * Weights, OHWI, symmetric per output channel, one value per element: int8 (range -127..127), or with
   * weightBits 4 int4 values (range -7..7) that the firmware stores packed (CMSIS-NN s4, src/golden/int4.ts).
   */
  weights: Int8Array;
  /** 4: int4 weights, run by the CMSIS-NN s4 convolutions; 8 or absent: int8. */
  weightBits?: 4 | 8;
  /**
   * Only with weightBits 4, only on the classifier conv (src/quantize/int4.ts classifierConv): the output channels,
   * ascending, whose weights stay int8. The firmware runs them as one s8 call and the others as one s4 call, each
   * writing its own block of the output band, and the pool's sums are added back in channel order.
   */
  int8Channels?: number[];
  /** int32 bias, scale = input_scale * weight_scale[c]. */
  bias: Int32Array;
  /** Per-output-channel float weight scale (kept for reports and the ASIC map). */
  weightScales: Float64Array;
  multiplier: Int32Array;
  shift: Int32Array;
  inputOffset: number; // -input zero point
  outputOffset: number; // output zero point
  actMin: number;
  actMax: number;
}

export interface QPool extends QBase {
  op: 'maxpool' | 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pad: Pad;
  actMin: number;
  actMax: number;
  /**
   * Present only on a global average pool whose output has its own quantization (sqzfw_global_avgpool_requant_s8,
   * golden globalAvgPoolRequantS8): out = clamp(outputOffset + requantize(sum(in + inputOffset), mult, shift),
   * actMin, actMax), (mult, shift) = quantizeMultiplier(in_scale / (H*W * out_scale)). Absent: arm_avgpool_s8,
   * output quantized like the input.
   */
  requant?: QPoolRequant;
}

/** Requantization of a global average pool (see QPool.requant). */
export interface QPoolRequant {
  inputOffset: number; // -input zero point
  outputOffset: number; // output zero point
  mult: number;
  shift: number;
}

export interface QConcat extends QBase {
  op: 'concat';
}

/** arm_elementwise_add_s8 parameters, in its argument order. */
export interface QAdd extends QBase {
  op: 'add';
  input1Offset: number;
  input1Mult: number;
  input1Shift: number;
  input2Offset: number;
  input2Mult: number;
  input2Shift: number;
  leftShift: number;
  outputOffset: number;
  outputMult: number;
  outputShift: number;
  actMin: number;
  actMax: number;
}

/** arm_softmax_s8 parameters. */
export interface QSoftmax extends QBase {
  op: 'softmax';
  mult: number;
  shift: number;
  diffMin: number;
}

export type QLayer = QConv | QPool | QConcat | QAdd | QSoftmax;

export interface QModel {
  name: string;
  input: string;
  outputs: string[];
  tensors: Record<string, QTensor>;
  layers: QLayer[];
}
