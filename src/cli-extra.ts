/** Commands owned by other stages (ASIC map, evaluation), registered on the main program. */
import type { Command } from 'commander';
import { registerAsicCommand } from './asic/cli.js';

export function registerExtraCommands(program: Command): void {
  registerAsicCommand(program);
}
