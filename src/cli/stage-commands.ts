/** Commands owned by other stages (evaluation, boards, validation), registered on the main program; `asic` is registered in cli.ts with generate's model options. */
import type { Command } from 'commander';
import { registerEvalCommand, registerFetchModelCommand } from '../eval/cli.js';
import { registerBoardCommands } from '../flash/cli.js';
import { registerValidateCommand } from '../validate/cli.js';

export function registerExtraCommands(program: Command): void {
  registerEvalCommand(program);
  registerFetchModelCommand(program);
  registerBoardCommands(program);
  registerValidateCommand(program);
}
