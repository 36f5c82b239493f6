/**
 * The parts of TFLite's flatbuffer schema (tensorflow/compiler/mlir/lite/schema/schema.fbs, file identifier
 * "TFL3", schema version 3) that sqzfw reads and writes: field ids (vtable slot = 4 + 2 * id) and enum values.
 * Only numbers from the schema; the table layout code is ours (read.ts, write.ts).
 */

export const FILE_IDENTIFIER = 'TFL3';
export const SCHEMA_VERSION = 3;

/** Field ids per table, in schema order (union fields take two ids: the type, then the value). */
export const F = {
  model: { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 },
  subgraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 },
  tensor: { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, isVariable: 5, sparsity: 6 },
  buffer: { data: 0, offset: 1, size: 2 },
  operator: { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4, customOptions: 5 },
  operatorCode: { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 },
  quantization: { min: 0, max: 1, scale: 2, zeroPoint: 3, detailsType: 4, details: 5, quantizedDimension: 6 },
  conv2d: { padding: 0, strideW: 1, strideH: 2, activation: 3, dilationW: 4, dilationH: 5 },
  pool2d: { padding: 0, strideW: 1, strideH: 2, filterW: 3, filterH: 4, activation: 5 },
  concat: { axis: 0, activation: 1 },
  add: { activation: 0 },
  softmax: { beta: 0 },
  reducer: { keepDims: 0 },
} as const;

export const slot = (id: number): number => 4 + 2 * id;

export const TensorType = { FLOAT32: 0, INT32: 2, UINT8: 3, INT64: 4, INT8: 9 } as const;

export const TENSOR_TYPE_NAMES: Record<number, string> = {
  0: 'FLOAT32', 1: 'FLOAT16', 2: 'INT32', 3: 'UINT8', 4: 'INT64', 5: 'STRING', 6: 'BOOL', 7: 'INT16', 8: 'COMPLEX64', 9: 'INT8',
  10: 'FLOAT64', 11: 'COMPLEX128', 12: 'UINT64', 13: 'RESOURCE', 14: 'VARIANT', 15: 'UINT32', 16: 'UINT16', 17: 'INT4',
};

export const Op = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEQUANTIZE: 6,
  MAX_POOL_2D: 17,
  PAD: 34,
  RESHAPE: 22,
  SOFTMAX: 25,
  MEAN: 40,
  QUANTIZE: 114,
} as const;

/** Names of common operators sqzfw does not run, for error messages. */
const OTHER_OPS: Record<number, string> = { 4: 'DEPTHWISE_CONV_2D', 9: 'FULLY_CONNECTED', 14: 'LOGISTIC', 18: 'MUL', 19: 'RELU', 21: 'RELU6', 28: 'TANH', 41: 'SUB', 49: 'SPLIT', 65: 'SLICE', 82: 'REDUCE_MAX', 117: 'HARD_SWISH' };
export const OP_NAMES: Record<number, string> = { ...OTHER_OPS, ...Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k])) };
export const opName = (code: number): string => OP_NAMES[code] ?? `builtin operator ${code}`;

/** BuiltinOptions union member types. */
export const Options = {
  NONE: 0,
  Conv2DOptions: 1,
  Pool2DOptions: 5,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  PadOptions: 22,
  ReshapeOptions: 17,
  ReducerOptions: 27,
  DequantizeOptions: 38,
  QuantizeOptions: 89,
} as const;

export const Padding = { SAME: 0, VALID: 1 } as const;

export const Activation = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3 } as const;
export const ACTIVATION_NAMES: Record<number, string> = { 0: 'NONE', 1: 'RELU', 2: 'RELU_N1_TO_1', 3: 'RELU6', 4: 'TANH', 5: 'SIGN_BIT' };
