/** Commands owned by other stages (ASIC map, evaluation), registered when their modules are present. */
import type { Command } from 'commander';

export function registerExtraCommands(_program: Command): void {}
