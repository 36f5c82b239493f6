/**
 * The emitter: a pure generate(input) -> files function. It turns a QModel, its MemoryPlan and a board into a
 * static-C project in two layers (no malloc; one CMSIS-NN call per plan step): the model library in model/
 * (src/emit/library.ts; nothing board-specific) and an application chosen from APPS (src/emit/apps.ts). All
 * decisions are made here in TypeScript; the ejs templates under templates/c only loop and substitute.
 */
import type { Board } from '../boards/index.js';
import type { QModel } from '../quantize/types.js';
import type { MemoryPlan } from '../planner/types.js';
import { generatedHeader } from './board-files.js';
import { renderLibrary, type Preprocessing } from './library.js';
import { APPS, DEFAULT_APP, type AppName } from './apps.js';
import { VERSION } from '../version.js';

export type { Preprocessing } from './library.js';

export interface GenerateInput {
  model: QModel;
  plan: MemoryPlan;
  board: Board;
  /** The application (default demo). */
  app?: AppName;
  /** The int8 input the demo application runs on. */
  input: Int8Array;
  inputNote: string;
  /** Set when `input` is syntheticInt8Input(bytes, inputSeed): the demo generates it at run time (no flash). */
  inputSeed?: number;
  /** Golden output bytes for that input, per model output: the demo checks itself against them. */
  expected: Record<string, Int8Array>;
  /** Class names (model.h's sqzfw_class_names, printed with the top 5). */
  labels?: string[];
  /** The model card's preprocessing (model.h's constants); default: torchvision ImageNet. */
  preprocessing?: Preprocessing;
  /** The weights region (default: the board's first weights region). */
  weightsRegion?: string;
}

/** Path inside the project -> file content. */
export type GeneratedFiles = Record<string, string>;

/**
 * torchvision's ImageNet preprocessing, the default of models without a card (src/import/card.ts defaultCard); for
 * inputs with neither 1 nor 3 channels, none (x = pixel / 255).
 */
export function defaultPreprocessing(inputSize: number, channels: number): Preprocessing {
  const resize = { mode: 'shorter' as const, size: Math.round((inputSize * 256) / 224) };
  if (channels === 1) return { channelOrder: 'RGB', pixelRange: 1, mean: [0.449], std: [0.226], resize, source: 'defaults: torchvision ImageNet, grey' };
  if (channels === 3) return { channelOrder: 'RGB', pixelRange: 1, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize, source: 'defaults: torchvision ImageNet' };
  return { channelOrder: 'RGB', pixelRange: 1, mean: Array(channels).fill(0), std: Array(channels).fill(1), resize, source: `none (${channels} input channels)` };
}

export function generate(input: GenerateInput): GeneratedFiles {
  const { model, plan } = input;
  const d = model.tensors[model.input].dims;
  const inputBytes = d.h * d.w * d.c;
  if (input.input.length !== inputBytes) throw new Error(`input has ${input.input.length} bytes, the model takes ${inputBytes}`);
  const app = APPS[input.app ?? DEFAULT_APP];
  return {
    ...renderLibrary({
      model,
      plan,
      preprocessing: input.preprocessing ?? defaultPreprocessing(d.h, d.c),
      labels: input.labels,
      stamp: generatedHeader(`model library ${model.name}, plan ${plan.strategy}`),
      board: input.board.name,
      memory: input.board.memory,
      weightsRegion: input.weightsRegion ?? input.board.placement.weights[0],
    }),
    ...app.render(input),
    'plan.json': `${JSON.stringify(planSummary(plan), null, 1)}\n`,
  };
}

/** The plan as JSON for people and tools (buffers, steps, regions); no weights. */
export function planSummary(plan: MemoryPlan): object {
  return {
    generator: `sqzfw ${VERSION}`,
    model: plan.model,
    strategy: plan.strategy,
    peakBytes: plan.peakBytes,
    inputIn: plan.inputIn ?? 'arena',
    inputBytes: plan.inputBytes,
    macs: plan.macs,
    baseMacs: plan.baseMacs,
    lowerBound: plan.lowerBound,
    copyBytes: plan.copyBytes,
    chains: plan.chains,
    regions: plan.regions,
    buffers: plan.buffers,
    steps: plan.steps,
  };
}
