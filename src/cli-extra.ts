/** Commands owned by other stages (ASIC map, evaluation), registered on the main program. */
import type { Command } from 'commander';
import { registerAsicCommand } from './asic/cli.js';
import { registerEvalCommand, registerFetchModelCommand } from './eval/cli.js';
import { registerBoardCommands } from './flash/cli.js';
import { isTflitePath, loadTflite } from './tflite/index.js';
import { registerValidateCommand } from './validate/cli.js';

export function registerExtraCommands(program: Command): void {
  registerEvalCommand(program);
  registerFetchModelCommand(program);
  registerAsicCommand(program, { loadModel: (req) => (isTflitePath(req.model) ? loadTflite(req.model).model : null) });
  registerBoardCommands(program);
  registerValidateCommand(program);
}
