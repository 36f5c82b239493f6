/**
 * Board commands for the sqzfw CLI: `flash` (program, verify and reset a real board) and `fit` (the largest
 * SqueezeNet input size each board holds), registered on the program by registerBoardCommands(program).
 */
import { intArg, variantArg } from '../cli/args.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { listBoards, loadBoard, type Board } from '../boards/index.js';
import { largestInputSize, maxFitChecks } from '../driver/fit.js';
import { fitView, printJson, type FitJson } from '../cli/json.js';
import { progressFlag } from '../util/progress.js';
import { placementReport } from '../emit/weights-placement.js';
import { VARIANTS, type Variant } from '../graph/squeezenet.js';
import { checkBuildIsCurrent, MANIFEST, projectBoard, readManifest } from '../project.js';
import { flashFirmware, PROBES, type Probe } from './index.js';
import { DEFAULT_PORT, Monitor, monitorBaud, monitorCommands, monitorLines } from './monitor.js';
import { kib } from '../util/format.js';



/** The board of a flash: --board, else the project's manifest; both given must agree. */
function flashBoard(o: { board?: string; project: string; elf?: string }): Board {
  const manifest = existsSync(join(o.project, MANIFEST)) && !o.elf ? readManifest(o.project) : undefined;
  if (!o.board && !manifest)
    throw new UserError(`no board given and ${o.project} is not a sqzfw project`, 'pass --board <name> (and --project DIR or --elf FILE)');
  const board = o.board ? loadBoard(o.board) : projectBoard(o.project, manifest);
  if (manifest && manifest.board !== board.name)
    throw new UserError(`${o.project} was generated for board ${manifest.board}, not ${board.name}`, `pass --board ${manifest.board}, or regenerate for ${board.name}`);
  if (board.qemu && !board.openocd && !board.pyocd && !board.stlink)
    throw new UserError(`board ${board.name} is a QEMU machine: there is nothing to flash`, 'use sqzfw emulate');
  return board;
}

export function registerBoardCommands(program: Command): void {
  program
    .command('flash')
    .description('program a built firmware into a real board, verify it and reset the board')
    .option('--board <name>', "board profile name or JSON file (default: the project's board)")
    .option('--project <dir>', 'project folder (uses build/firmware.elf)', 'out/firmware')
    .option('--elf <file>', 'flash this ELF instead of the project build')
    .addOption(new Option('--probe <probe>', "openocd, pyocd or stlink (default: the board's first: openocd when it has a config)").choices([...PROBES]))
    .option('--dry-run', 'print the exact commands instead of running them')
    .option('--monitor', "after programming, read the board's UART and report the demo's result, check and cycles")
    .option('--port <dev>', 'serial port for --monitor', DEFAULT_PORT)
    .addOption(new Option('--baud <n>', "baud rate for --monitor (default: the board's)").argParser(intArg('--baud', 1)))
    .addOption(new Option('--monitor-timeout <s>', 'seconds to wait for "sqzfw end"').default(120).argParser(intArg('--monitor-timeout', 1)))
    .action(async (o: { board?: string; project: string; elf?: string; probe?: Probe; dryRun?: boolean; monitor?: boolean; port: string; baud?: number; monitorTimeout: number }) => {
      const board = flashBoard(o);
      // The project's own build must match its sources (regenerated since? rebuild first).
      const elf = join(o.project, 'build', 'firmware.elf');
      if (!o.elf && existsSync(join(o.project, MANIFEST)) && existsSync(elf)) checkBuildIsCurrent(o.project, elf, readManifest(o.project));
      const mon = { port: o.port, baud: monitorBaud(board, o.baud), timeoutS: o.monitorTimeout };
      if (o.dryRun || !o.monitor) {
        await flashFirmware({ board, projectDir: o.project, elf: o.elf, probe: o.probe, dryRun: o.dryRun });
        if (o.monitor) for (const c of monitorCommands(mon)) console.log(c);
        return;
      }
      // Open the port first: the board prints its result right after the reset that ends the flash.
      const monitor = Monitor.open(mon);
      try {
        await flashFirmware({ board, projectDir: o.project, elf: o.elf, probe: o.probe });
      } catch (e) {
        await monitor.close();
        throw e;
      }
      console.log(`reading ${o.port} at ${mon.baud} baud (at most ${mon.timeoutS} s)...`);
      const r = await monitor.report();
      for (const line of monitorLines(r, board)) console.log(line);
      if (r.check === 'mismatch') throw new UserError('the firmware on the board differs from the golden model', 'this is a bug in sqzfw or in the linked CMSIS-NN: please report it with the project folder', 1);
    });

  program
    .command('fit')
    .description('the largest SqueezeNet input size that fits each board (arena planner and weights placement)')
    .option('--board <name>', 'one board (default: every board)')
    .addOption(
      new Option('--variant <v>', `SqueezeNet variant (${VARIANTS.join(', ')})`).default('v1.1').argParser(variantArg),
    )
    .addOption(
      new Option('--classes <n>', 'number of output classes').default(1000).argParser(intArg('--classes', 1, 100000)),
    )
    .addOption(
      new Option('--max-size <n>', 'largest input size tried').default(224).argParser(intArg('--max-size', 25, 1024)),
    )
    .option('--json', 'print the results as JSON (shape: src/cli/json.ts)')
    .option('--no-progress', 'no progress bar on stderr')
    .action((o: { board?: string; variant: Variant; classes: number; maxSize: number; json?: boolean; progress: boolean }) => {
      const boards = o.board ? [loadBoard(o.board)] : listBoards();
      // Every board first, under one bar (ticks per planned input size), then the report.
      const progress = progressFlag(o.progress);
      const per = maxFitChecks(o.maxSize);
      progress.start('fit', boards.length * per);
      const results = boards.map((b, k) => {
        let checks = 0;
        const r = largestInputSize(b, { variant: o.variant, classes: o.classes, maxSize: o.maxSize, onCheck: (size) => progress.tick(k * per + Math.min(++checks, per), `${b.name} @${size}`) });
        progress.tick((k + 1) * per, b.name);
        return r;
      });
      progress.end();
      if (o.json) return printJson(results.map((r) => fitView(r, o.maxSize)) satisfies FitJson);
      for (const [k, b] of boards.entries()) {
        const r = results[k];
        if (!r.largest) {
          console.log(`${b.name}: SqueezeNet ${o.variant} with ${o.classes} classes fits at no input size`);
          console.log(`  ${r.atMax.message ?? ''}`);
          continue;
        }
        const l = r.largest;
        const arena = (l.arenaRegions ?? []).map((x) => `${x.name} ${kib(x.used)}`).join(' + ');
        console.log(`${b.name}: largest input ${l.inputSize}x${l.inputSize} (activation arena ${kib(l.arenaBytes ?? 0)}: ${arena})`);
        for (const line of l.weights ? placementReport(l.weights) : []) console.log(`  ${line}`);
        if (!r.atMax.fits) console.log(`  at ${o.maxSize}: ${r.atMax.message ?? ''}`);
      }
    });
}
