/**
 * The application layer of a generated project: what runs the model library. Each application is one entry of
 * APPS (a new one joins the table without touching the others):
 *   demo  runs the model once on an embedded or synthetic input and prints the line protocol `sqzfw emulate` reads;
 *         brings the startup code, UART, SysTick and semihosting (sqzfw/runtime), the board's linker script and
 *         Makefile;
 *   validate  answers input tensors framed on the UART (firmware/runtime/sqzfw_frame.h) with every output byte,
 *         ticks and cycles, for `sqzfw validate` and `eval --emulate`: one build for any number of inputs; same
 *         runtime, linker script and Makefile as the demo;
 *   none  nothing but a Makefile that builds the library for the board's CPU (build/libsqzfw_model.a): the user's
 *         own firmware links it (model/CMakeLists.txt, model/sqzfw_model.mk, model/sqzfw_model.ld).
 */
import { hex32 } from '../util/format.js';
import type { Board } from '../boards/index.js';
import type { MemoryPlan } from '../planner/types.js';
import type { QModel } from '../quantize/types.js';
import { boardFileModel, defaultLayout, generatedHeader, renderBoardFiles, runtimeFiles } from './board-files.js';
import { formatArray, formatPackedWords } from './c.js';
import { cComment, cString, hashComment } from '../util/text.js';
import { renderC } from './render.js';
import { modelFingerprint } from './fingerprint.js';

export interface AppInput {
  model: QModel;
  plan: MemoryPlan;
  board: Board;
  /** The int8 input the demo runs on. */
  input: Int8Array;
  inputNote: string;
  /** Set when `input` is syntheticInt8Input(bytes, inputSeed): the firmware generates it at run time (no flash). */
  inputSeed?: number;
  /** Golden output bytes for that input, per model output: the demo checks itself against them. */
  expected: Record<string, Int8Array>;
  /** The weights region (default: the board's first weights region). */
  weightsRegion?: string;
}

export interface AppSpec {
  description: string;
  /** Whether the project can be run in an emulator (prints the line protocol). */
  runnable: boolean;
  /** Whether the app stores an image given with --image. */
  takesImage: boolean;
  render(a: AppInput): Record<string, string>;
}

const demo: AppSpec = {
  description: 'runs the model once and prints the outputs, the top 5 and the time (startup, UART, SysTick, semihosting)',
  runnable: true,
  takesImage: true,
  render(a) {
    const { model, board } = a;
    const header = `/* ${cComment(generatedHeader(`demo application, model ${model.name}, board ${board.name}`))} */`;
    const bytes = a.input.length;
    const synthetic = a.inputSeed !== undefined;
    return {
      'src/main.c': renderC('main.c.ejs', {
        header,
        boardLine: cString(` ${board.name}\n`),
        input: { synthetic, seed: a.inputSeed, note: cComment(a.inputNote), words: synthetic ? '' : formatPackedWords(a.input), bytes },
        inputIn: a.plan.inputIn ?? 'arena',
        expected: model.outputs.map((o, index) => {
          const e = a.expected[o];
          if (!e) throw new Error(`no expected bytes for output ${o}`);
          return { index, bytes: e.length, body: formatArray(e) };
        }),
      }),
      ...runtimeFiles(),
      ...renderBoardFiles(board, { weightsRegion: a.weightsRegion ?? board.placement.weights[0]!, arenaRegions: a.plan.regions.filter((r) => r.used > 0 && !r.external).map((r) => r.name) }),
    };
  },
};

const none: AppSpec = {
  description: 'no application: the model library and a Makefile that builds it for the board (build/libsqzfw_model.a)',
  runnable: false,
  takesImage: false,
  render(a) {
    const m = boardFileModel(a.board, defaultLayout(a.board));
    return {
      Makefile: renderC('Makefile.lib.ejs', { header: generatedHeader(`Makefile of the model library for board ${a.board.name}`), board: a.board.name, description: hashComment(a.board.description), dspDefault: m.dspDefault, archFlags: m.archFlags }),
    };
  },
};

const validate: AppSpec = {
  description: 'answers input tensors framed on the UART with every output byte and the time (sqzfw validate); never rebuilt per input',
  runnable: false,
  takesImage: false,
  render(a) {
    const { model, board } = a;
    return {
      'src/main.c': renderC('validate.c.ejs', {
        header: `/* ${generatedHeader(`validation application, model ${model.name}, board ${board.name}`)} */`,
        boardName: board.name,
        fingerprint: hex32(modelFingerprint(model)),
      }),
      ...runtimeFiles(),
      ...renderBoardFiles(board, { weightsRegion: a.weightsRegion ?? board.placement.weights[0]!, arenaRegions: a.plan.regions.filter((r) => r.used > 0).map((r) => r.name) }),
    };
  },
};

export const APPS = { demo, validate, none } satisfies Record<string, AppSpec>;
export type AppName = keyof typeof APPS;
export const APP_NAMES = Object.keys(APPS) as AppName[];
export const DEFAULT_APP: AppName = 'demo';
