/**
 * A memory plan: buffers placed in a board's RAM regions, and the schedule of kernel calls (steps) that read and
 * write them. The emitter renders each step as one CMSIS-NN call; the golden plan executor runs the same steps on
 * simulated memory, so a wrong offset or an overlap shows up as a wrong byte in tests, not only on a device.
 */
import type { Dims } from '../graph/ir.js';

/** A RAM region the planner may place buffers in: the one region type of the planner's interface. */
export interface PlanRegion {
  name: string;
  capacity: number;
}

/** A byte position inside a planned buffer. */
export interface Ref {
  buffer: string;
  offset: number;
}

/**
 * A part of a buffer that holds live data: bytes [start, end) of the buffer from step `first` to step `last`
 * (inclusive). Row-band plans use them for tensors whose rows are born and die at different steps (the model
 * input dies row by row as bands consume it; a chain's output is born band by band), so another buffer may use
 * the dead rows. A buffer without pieces is live whole from firstUse to lastUse.
 */
export interface LivePiece {
  first: number;
  last: number;
  start: number;
  end: number;
}

export interface PlannedBuffer {
  name: string;
  /** What it holds: a whole activation tensor, a row band of one, or kernel scratch. */
  kind: 'tensor' | 'band' | 'scratch' | 'input' | 'output';
  /** The graph tensor it holds, if any. */
  tensor?: string;
  size: number;
  /** First and last step index (inclusive) that touch it. */
  firstUse: number;
  lastUse: number;
  region: string;
  /** Byte offset inside the region's arena. */
  offset: number;
  alignment: number;
  /** When present, only these parts are live (firstUse/lastUse are their hull); absent: the whole buffer. */
  live?: LivePiece[];
}

interface StepBase {
  /** The quantized layer whose parameters the call uses. */
  layer: string;
  /** Human-readable note, e.g. "rows 0-13 of 111". */
  note?: string;
  /** Row-band plans: the chain (index into MemoryPlan.chains) and band this call belongs to. */
  band?: { chain: number; index: number; count: number };
}

export interface ConvStep extends StepBase {
  op: 'conv';
  input: Ref;
  inDims: Dims;
  output: Ref;
  outDims: Dims;
  /** Padding passed to the kernel for this call (band calls pass top padding only at row 0). */
  padTop: number;
  padLeft: number;
  scratch?: Ref;
  scratchSize: number;
}

export interface PoolStep extends StepBase {
  op: 'maxpool' | 'avgpool';
  input: Ref;
  inDims: Dims;
  output: Ref;
  outDims: Dims;
  padTop: number;
  padLeft: number;
  scratch?: Ref;
  scratchSize: number;
  /**
   * A max pool split in two passes (row pools, see tiling.ts): 'w' runs only the window's width over single rows
   * (kernel 1 x kw, stride 1 x sw), 'h' only its height over those pooled rows (kh x 1, sh x 1). Absent: the window.
   */
  axis?: 'w' | 'h';
}

/** Kernel and stride of a pool step: the layer's window, or one axis of it for a split max pool. */
export function poolWindow(layer: { kernel: [number, number]; stride: [number, number] }, axis: PoolStep['axis']): { kernel: [number, number]; stride: [number, number] } {
  if (axis === 'w') return { kernel: [1, layer.kernel[1]], stride: [1, layer.stride[1]] };
  if (axis === 'h') return { kernel: [layer.kernel[0], 1], stride: [layer.stride[0], 1] };
  return { kernel: layer.kernel, stride: layer.stride };
}

/** arm_concatenation_s8_x: copy a [h][w][c] tensor into channels [offsetC, offsetC + c) of a [h][w][outC] one. */
export interface ConcatStep extends StepBase {
  op: 'concat';
  input: Ref;
  inDims: Dims;
  output: Ref;
  outC: number;
  offsetC: number;
}

export interface AddStep extends StepBase {
  op: 'add';
  input1: Ref;
  input2: Ref;
  output: Ref;
  size: number;
}

export interface SoftmaxStep extends StepBase {
  op: 'softmax';
  input: Ref;
  output: Ref;
  rows: number;
  rowSize: number;
}

/**
 * Classifier conv fused with its requantizing global average pool: a band of the conv output (`pixels` x `c`
 * int8) is added into `c` int32 sums (sqzfw_gap_accumulate_s8); the first band starts them from 0.
 */
export interface GapAccStep extends StepBase {
  op: 'gapacc';
  input: Ref;
  pixels: number;
  c: number;
  sum: Ref;
  first: boolean;
}

/** The fused pool's end: the `c` sums requantized into the pool output (sqzfw_gap_finish_s8). */
export interface GapFinishStep extends StepBase {
  op: 'gapfinish';
  sum: Ref;
  c: number;
  output: Ref;
}

/**
 * Streamed model input: the application's callback writes input rows [first, last] (inclusive) to `output`
 * (sqzfw_input_rows_fn in the model API).
 */
export interface FetchStep extends StepBase {
  op: 'fetch';
  first: number;
  last: number;
  rowBytes: number;
  output: Ref;
}

/**
 * Elementwise int8 maximum of two byte runs (sqzfw_max_s8): a row pool's running max folds each pooled row into the
 * pool's output row as soon as it exists (see running-max.ts). The output may be input1 or input2 itself.
 */
export interface MaxStep extends StepBase {
  op: 'max';
  input1: Ref;
  input2: Ref;
  output: Ref;
  size: number;
}

export type Step = ConvStep | PoolStep | ConcatStep | AddStep | SoftmaxStep | GapAccStep | GapFinishStep | FetchStep | MaxStep;

export interface RegionUse {
  name: string;
  /** 'caller': not arena memory but the caller's input buffer (--input-in caller), outside peakBytes. */
  external?: 'caller';
  /** Bytes of this region used by the arena (peak, alignment included). */
  used: number;
  capacity: number;
}

export interface MemoryPlan {
  model: string;
  strategy: string;
  buffers: PlannedBuffer[];
  steps: Step[];
  regions: RegionUse[];
  /** Where the model input (absent when streamed) and each output live. */
  input?: Ref;
  outputs: Record<string, Ref>;
  /** Total arena bytes over all regions (the caller's input buffer not included). */
  peakBytes: number;
  /** Where the model input lives: in the arena, in a caller-owned buffer, or streamed in rows by a callback. */
  inputIn?: InputIn;
  /** Bytes of the whole model input (with the arena: counted in peakBytes; caller: outside it; stream: never held). */
  inputBytes?: number;
  /** MACs executed by the steps, and by the untiled model, for recompute accounting. */
  macs: number;
  baseMacs: number;
  /** Bytes moved by copy steps (concatenation slices and kept halo rows); absent in older plans. */
  copyBytes?: number;
  /** Row-band plans: the chains (runs of layers executed band by band) the planner chose. */
  chains?: ChainSummary[];
  /** Most bytes live at any one step: no placement can use less. */
  lowerBound?: number;
}

export type InputIn = 'arena' | 'caller' | 'stream';
export const INPUT_IN: readonly InputIn[] = ['arena', 'caller', 'stream'];

/** One chain of a row-band plan: layers [first..last] run over `bands` row bands of the last layer's output. */
export interface ChainSummary {
  first: string;
  last: string;
  /** Rows of the last layer's output per band, and the number of bands (1 = layer by layer). */
  bandRows: number;
  bands: number;
  /** Overlapping (halo) rows between bands: kept by copying them forward, or recomputed. */
  halo: 'keep' | 'recompute';
  /** Most bytes live during the chain (the lower bound of its placement). */
  liveBytes: number;
  /** The chain ends in a global average pool fused with the conv before it (sums accumulated band by band). */
  fusedPool?: boolean;
  /** Max pools fed by a conv run row by row: each conv row is pooled across at once (see tiling.ts). */
  rowPool?: boolean;
  /** Those row pools fold each pooled row into the pool's output row at once (running max, see running-max.ts). */
  runningMax?: boolean;
  /** Each row computed right after the rows it reads, not band by band (see pullBands in tiling.ts). */
  pull?: boolean;
  /** Kept halo rows wait between bands in a small buffer of their own, not at the head of a band-sized one. */
  parkHalo?: boolean;
  /** Convs feeding a concat run one output row per call through a one-row temporary. */
  rowTemps?: boolean;
}
