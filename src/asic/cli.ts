/**
 * `sqzfw asic --profile P --model M`: lay a quantized model's parameters out in an ASIC/FPGA profile's memories,
 * map the activation arena onto SRAM, and write memory_map.json, the C header, the SV package + ROM model +
 * testbench, one $readmemh file per macro, report.md and banks.svg, all or nothing.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, isUserError, UserError } from '../errors.js';
import { buildQuantizedModel } from '../pipeline.js';
import { planModel } from '../planner/index.js';
import { isVariant, VARIANTS } from '../graph/squeezenet.js';
import type { QModel } from '../quantize/types.js';
import type { MemoryPlan } from '../planner/types.js';
import { loadProfile, listBuiltinProfiles, type AsicProfile } from './profile.js';
import { arenaRegions, computeAsicMap } from './layout.js';
import { renderAsicFiles } from './render.js';
import { writeFilesAtomic } from './write.js';
import { comparePrecisions, toMB } from './summary.js';
import { runTestbench } from './sim.js';
import type { AsicMap, Precision } from './types.js';

export interface ModelRequest {
  model: string;
  inputSize: number;
  classes: number;
  seed: number;
}

export interface AsicCommandOptions {
  /** Load a model that is not a synthetic SqueezeNet variant (e.g. an ONNX file); return null to decline. */
  loadModel?: (req: ModelRequest) => QModel | null;
}

const int = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

export function loadAsicModel(req: ModelRequest, opts: AsicCommandOptions = {}): QModel {
  if (isVariant(req.model)) return buildQuantizedModel({ variant: req.model, inputSize: req.inputSize, classes: req.classes, seed: req.seed });
  const m = opts.loadModel?.(req) ?? null;
  if (m) return m;
  throw new UserError(
    `unknown model "${req.model}"`,
    `use a SqueezeNet variant (${VARIANTS.join(', ')}) or an int8 .tflite file; ONNX models are accepted once the importer is wired into sqzfw asic`,
  );
}

/** Plan the arena into the profile's arena memories; on a capacity failure, plan unbounded to measure the need. */
export function planForProfile(model: QModel, profile: AsicProfile, precision: Precision): MemoryPlan | null {
  const regions = arenaRegions(model, profile, { precision });
  if (regions.length === 0) return null;
  const wordBytes = Math.max(
    8,
    ...profile.memories.filter((m) => profile.placement.arena!.memories.includes(m.name)).map((m) => m.wordBits / 8),
  );
  try {
    return planModel(model, { regions, alignment: wordBytes });
  } catch (e) {
    if (!isUserError(e)) throw e;
    // Measure what the arena needs; computeAsicMap then reports the shortfall per memory.
    const need = planModel(model, { regions: regions.map((r) => ({ ...r, capacity: 2 ** 31 })), alignment: wordBytes });
    const fits = need.regions.every((r) => r.used <= (regions.find((q) => q.name === r.name)?.capacity ?? 0));
    if (fits) throw e;
    return need;
  }
}

export interface AsicRunResult {
  map: AsicMap;
  files: Record<string, string>;
}

/** Everything `sqzfw asic` does short of writing: model -> plan -> map -> files. */
export function runAsic(model: QModel, profile: AsicProfile, opts: { precision?: Precision; arena?: boolean; modelName?: string } = {}): AsicRunResult {
  const precision = opts.precision ?? profile.weightPrecision;
  const plan = opts.arena === false ? null : planForProfile(model, profile, precision);
  const map = computeAsicMap(model, profile, { precision, plan, modelName: opts.modelName });
  const files = renderAsicFiles(map, { comparison: comparePrecisions(model, profile) });
  return { map, files };
}

const n = (v: number): string => v.toLocaleString('en-US');

export function registerAsicCommand(program: Command, cmdOpts: AsicCommandOptions = {}): Command {
  return program
    .command('asic')
    .description('lay the int8/int4 weights out in on-die ROM/SRAM macros: memory_map.json, C header, SV package, $readmemh files, report')
    .requiredOption('--profile <profile>', `ASIC profile: a JSON file or a built-in name (${listBuiltinProfiles().join(', ') || 'see asic-profiles/'})`)
    .requiredOption('--model <model>', `model: a SqueezeNet variant (${VARIANTS.join(', ')}) or an int8 .tflite file`)
    .addOption(new Option('--precision <p>', 'weight precision (default: the profile\'s weightPrecision)').choices(['int8', 'int4']))
    .addOption(new Option('--input-size <n>', 'input height and width in pixels (sizes the arena)').default(224).argParser(int('--input-size', 16, 1024)))
    .addOption(new Option('--classes <n>', 'number of output classes').default(1000).argParser(int('--classes', 1, 100000)))
    .addOption(new Option('--seed <n>', 'seed of the synthetic weights').default(1).argParser(int('--seed', 0, 2 ** 31 - 1)))
    .option('--out <dir>', 'output directory (replaced as a whole; default out/asic/<model>-<profile>-<precision>)')
    .option('--no-arena', 'do not plan or map the activation arena')
    .addOption(new Option('--simulate [simulator]', 'run the generated testbench and compare its checksums (iverilog or verilator)').choices(['iverilog', 'verilator']))
    .action((o: { profile: string; model: string; precision?: Precision; inputSize: number; classes: number; seed: number; out?: string; arena: boolean; simulate?: boolean | 'iverilog' | 'verilator' }) => {
      const profile = loadProfile(o.profile);
      const precision = o.precision ?? profile.weightPrecision;
      const model = loadAsicModel({ model: o.model, inputSize: o.inputSize, classes: o.classes, seed: o.seed }, cmdOpts);
      const { map, files } = runAsic(model, profile, { precision, arena: o.arena });
      const out = o.out ?? `out/asic/${o.model}-${profile.name}-${precision}`;
      writeFilesAtomic(out, files);
      const t = map.totals;
      console.log(`${map.model} in ${profile.name}, ${precision} weights: ${n(t.contentBits)} parameter bits (${n(t.contentBits / 8)} B, ${toMB(t.contentBits).toFixed(3)} MB), ${n(t.allocatedBits)} bits allocated, ${n(t.paddingBits)} wasted`);
      if (map.arena) console.log(`arena: ${n(map.arena.peakBytes)} B peak (${map.arena.strategy})`);
      for (const m of map.memories) {
        const util = m.bankUse.map((u) => `${(u.utilization * 100).toFixed(1)}%`).join(' ');
        console.log(`  ${m.name.padEnd(10)} ${m.kind} ${m.banks}x${m.depth}x${m.wordBits}b  ${m.holds.join('+') || '-'}  banks: ${util}`);
      }
      console.log(`wrote ${Object.keys(files).length} files to ${out}`);
      if (o.simulate) {
        const simulator = o.simulate === true ? 'iverilog' : o.simulate;
        const r = runTestbench(out, { simulator });
        const bad = map.layers.filter((l) => r.layers.find((x) => x.index === l.index)?.checksum !== l.checksum);
        if (!r.passed || bad.length > 0 || r.layers.length !== map.layers.length)
          throw new UserError(`simulation disagrees with the map for ${bad.map((l) => l.name).join(', ') || 'the testbench run'}`, `see ${out}/sqzfw_asic_tb.sv and run it by hand`, EXIT.mismatch);
        console.log(`${simulator}: ${r.layers.length} layer checksums match`);
      }
    });
}
