/**
 * A .tflite model as plain data: one subgraph, tensors with their constant bytes, builtin operators in execution
 * order. read.ts parses files into it, write.ts serializes it, import.ts / export.ts map it to and from a QModel.
 */

export interface TflQuant {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TflTensor {
  name: string;
  shape: number[];
  /** TensorType enum value (schema.ts). */
  type: number;
  /** Constant contents (little-endian), absent for activations. */
  data?: Uint8Array;
  quant?: TflQuant;
}

export type TflOptions =
  | { kind: 'none' }
  | { kind: 'conv2d'; padding: number; strideW: number; strideH: number; activation: number; dilationW: number; dilationH: number }
  | { kind: 'pool2d'; padding: number; strideW: number; strideH: number; filterW: number; filterH: number; activation: number }
  | { kind: 'concat'; axis: number; activation: number }
  | { kind: 'add'; activation: number }
  | { kind: 'softmax'; beta: number }
  | { kind: 'reducer'; keepDims: boolean }
  /** Any other BuiltinOptions member: kept by type only, so import can name it in an error. */
  | { kind: 'other'; type: number };

export interface TflOperator {
  /** BuiltinOperator code; custom operators have -1 and their name in `custom`. */
  builtin: number;
  custom?: string;
  version: number;
  /** Tensor indices; -1 is an omitted optional input. */
  inputs: number[];
  outputs: number[];
  options: TflOptions;
}

export interface TflModel {
  description: string;
  tensors: TflTensor[];
  operators: TflOperator[];
  inputs: number[];
  outputs: number[];
}
