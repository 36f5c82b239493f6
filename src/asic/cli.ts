/**
 * `sqzfw asic --profile P --model M`: lay a quantized model's parameters out in an ASIC/FPGA profile's memories,
 * map the activation arena onto SRAM, and write memory_map.json, the C header, the SV package + ROM model +
 * testbench, one $readmemh file per macro, report.md and banks.svg, all or nothing.
 */
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { fractionArg, intArg } from '../cli/args.js';
import { EXIT, isUserError, UserError } from '../errors.js';
import { buildQuantizedModel } from '../prepare/index.js';
import { planModel } from '../planner/index.js';
import { isVariant, VARIANTS } from '../graph/squeezenet.js';
import type { QModel } from '../quantize/types.js';
import type { MemoryPlan } from '../planner/types.js';
import { loadProfile, listBuiltinProfiles, type AsicProfile } from './profile.js';
import { arenaRegions, computeAsicMap } from './layout.js';
import { renderAsicFiles } from './render.js';
import { checkAsicOutDir, writeFilesAtomic } from './write.js';
import { allowVariantInModelOption } from '../cli/model-options.js';
import { comparePrecisions, toMB } from './summary.js';
import { runTestbenchStreaming } from './sim.js';
import { progressFlag, stderrProgress } from '../util/progress.js';
import type { AsicMap, Precision } from './types.js';
import { CODEBOOK_BITS_MAX, CODEBOOK_BITS_MIN, checkCompressOptions, isCompressed, type CompressOptions } from './compress.js';
import { compressionAccuracy, formatAccuracy } from './accuracy.js';
import { weightsLabel } from './writers/report.js';

export interface ModelRequest {
  model: string;
  inputSize: number;
  classes: number;
  seed: number;
}

/** The model options `sqzfw generate` takes (--variant, --input-size, --classes, --seed, --model, --card, --calib ...). */
export interface SharedModelOptions {
  variant?: string;
  inputSize: number;
  classes: number;
  seed: number;
  model?: string;
  calib?: string;
  card?: string;
  calibCount?: number;
  [k: string]: unknown;
}

export interface AsicCommandOptions {
  /** Load a model that is not a synthetic SqueezeNet variant (e.g. an ONNX file); return null to decline. */
  loadModel?: (req: ModelRequest) => QModel | null;
  /**
   * The main program's model options and model preparation (the same as generate's: ONNX + card + calibration,
   * .tflite as stored, or a synthetic variant). When given, they replace --model/--input-size/--classes/--seed
   * and loadModel; `--model <variant>` still names a synthetic variant.
   */
  addModelOptions?: (cmd: Command) => Command;
  prepare?: (o: never) => { model: QModel } | Promise<{ model: QModel }>;
}


export function loadAsicModel(req: ModelRequest, opts: AsicCommandOptions = {}): QModel {
  if (isVariant(req.model)) return buildQuantizedModel({ variant: req.model, inputSize: req.inputSize, classes: req.classes, seed: req.seed });
  const m = opts.loadModel?.(req) ?? null;
  if (m) return m;
  throw new UserError(
    `unknown model "${req.model}"`,
    `use a SqueezeNet variant (${VARIANTS.join(', ')})${opts.loadModel ? ' or a model file' : ''}; sqzfw asic takes ONNX and .tflite files with generate\'s model options (registerAsicCommand with addModelOptions + prepare)`,
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
export function runAsic(model: QModel, profile: AsicProfile, opts: { precision?: Precision; arena?: boolean; modelName?: string; compress?: CompressOptions } = {}): AsicRunResult {
  const precision = opts.precision ?? profile.weightPrecision;
  const plan = opts.arena === false ? null : planForProfile(model, profile, precision);
  const map = computeAsicMap(model, profile, { precision, plan, modelName: opts.modelName, compress: opts.compress });
  const files = renderAsicFiles(map, { comparison: comparePrecisions(model, profile) });
  return { map, files };
}

const n = (v: number): string => v.toLocaleString('en-US');

const compressSuffix = (c: CompressOptions): string =>
  `${c.codebookBits !== undefined ? `-k${c.codebookBits}` : ''}${c.sparse ? '-sparse' : ''}${c.prune ? `-prune${c.prune}` : ''}`;

interface AsicFlags {
  profile: string;
  precision?: Precision;
  out?: string;
  arena: boolean;
  simulate?: boolean | 'iverilog' | 'verilator';
  progress: boolean;
  codebookBits?: number;
  sparse?: boolean;
  prune?: number;
  accuracy?: string;
  accuracyLimit?: number;
}

/** The name an `asic` run gives its model (its default --out folder): the variant, or the model file's base name. */
function asicLabel(o: AsicFlags & SharedModelOptions, cmdOpts: AsicCommandOptions): string {
  if (o.model !== undefined && !isVariant(o.model)) return basename(o.model).replace(/\.(onnx|tflite)$/i, '');
  return o.model ?? (cmdOpts.prepare ? String(o.variant ?? 'v1.1') : 'v1.1');
}

/**
 * The model of an `asic` run: the main program's preparation when registered with it, else variants + loadModel.
 * (`--model <variant>` with model-file options is refused before this by the shared model-option check.)
 */
async function asicModel(o: AsicFlags & SharedModelOptions, cmdOpts: AsicCommandOptions): Promise<QModel> {
  if (cmdOpts.prepare) {
    if (o.model !== undefined && isVariant(o.model)) return (await cmdOpts.prepare({ ...o, variant: o.model, model: undefined } as never)).model;
    return (await cmdOpts.prepare(o as never)).model;
  }
  return loadAsicModel({ model: o.model ?? 'v1.1', inputSize: o.inputSize, classes: o.classes, seed: o.seed }, cmdOpts);
}

export function registerAsicCommand(program: Command, cmdOpts: AsicCommandOptions = {}): Command {
  let cmd = program
    .command('asic')
    .description('lay the int8/int4 weights out in on-die ROM/SRAM macros (optionally as per-layer codebooks and zero-run sparse streams): memory_map.json, C header, SV package, $readmemh files, report')
    .requiredOption('--profile <profile>', `ASIC profile: a JSON file or a built-in name (${listBuiltinProfiles().join(', ') || 'see asic-profiles/'})`);
  if (cmdOpts.addModelOptions) cmd = cmdOpts.addModelOptions(allowVariantInModelOption(cmd));
  else
    cmd = cmd
      .requiredOption('--model <model>', `model: a SqueezeNet variant (${VARIANTS.join(', ')}) or an int8 .tflite file`)
      .addOption(new Option('--input-size <n>', 'input height and width in pixels (sizes the arena)').default(224).argParser(intArg('--input-size', 16, 1024)))
      .addOption(new Option('--classes <n>', 'number of output classes').default(1000).argParser(intArg('--classes', 1, 100000)))
      .addOption(new Option('--seed <n>', 'seed of the synthetic weights').default(1).argParser(intArg('--seed', 0, 2 ** 31 - 1)));
  return cmd
    .addOption(new Option('--precision <p>', 'weight precision (default: the profile\'s weightPrecision)').choices(['int8', 'int4']))
    .addOption(
      new Option('--codebook-bits <k>', `per-layer codebooks: k-bit indices into 2^k shared int8 values (k-means on each layer's weights; the model is re-quantized to the decoded values), k = ${CODEBOOK_BITS_MIN}..${CODEBOOK_BITS_MAX}; needs a linear weights memory`).argParser(
        intArg('--codebook-bits', CODEBOOK_BITS_MIN, CODEBOOK_BITS_MAX),
      ),
    )
    .option('--sparse', 'zero-run sparse weight streams: entries {run of zeros, value} with a per-layer run width (needs a linear weights memory)')
    .addOption(new Option('--prune <fraction>', 'magnitude pruning: zero this fraction of each layer\'s weights (smallest |w| first) before encoding').argParser(fractionArg('--prune')))
    .option('--accuracy <dir>', 'also measure top-1/top-5 of float, int8 and the compressed weights on these labelled images (fast int8 engine, 2-fold held-out calibration as sqzfw eval; ONNX models)')
    .addOption(new Option('--accuracy-limit <n>', 'score only the first N images of --accuracy').argParser(intArg('--accuracy-limit', 2, 1000000)))
    .option('--out <dir>', 'output directory (replaced as a whole; default out/asic/<model>-<profile>-<precision>)')
    .option('--no-arena', 'do not plan or map the activation arena')
    .addOption(new Option('--simulate [simulator]', 'run the generated testbench and compare its checksums (iverilog or verilator)').choices(['iverilog', 'verilator']))
    .option('--no-progress', 'no progress bar on stderr (--simulate)')
    .action(async (o: AsicFlags & SharedModelOptions) => {
      const compress: CompressOptions = { codebookBits: o.codebookBits, sparse: o.sparse, prune: o.prune };
      checkCompressOptions(compress);
      const profile = loadProfile(o.profile);
      const precision = o.precision ?? profile.weightPrecision;
      if (o.accuracy && !isCompressed(compress)) throw new UserError('--accuracy measures the cost of compressed weights', 'add --codebook-bits K, --sparse or --prune F', EXIT.usage);
      if (o.accuracy && (!o.model || !/\.onnx$/i.test(o.model))) throw new UserError('--accuracy needs an ONNX model (--model file.onnx): it calibrates the float model on the images', 'pass --model model.onnx', EXIT.usage);
      const out = o.out ?? `out/asic/${asicLabel(o, cmdOpts)}-${profile.name}-${precision}${compressSuffix(compress)}`;
      // A folder that will not be replaced fails now, not after the model, the layout and the files.
      checkAsicOutDir(out);
      const model = await asicModel(o, cmdOpts);
      const { map, files } = runAsic(model, profile, { precision, arena: o.arena, compress: isCompressed(compress) ? compress : undefined });
      writeFilesAtomic(out, files);
      const t = map.totals;
      console.log(`${map.model} in ${profile.name}, ${weightsLabel(map)} weights: ${n(t.contentBits)} parameter bits (${n(t.contentBits / 8)} B, ${toMB(t.contentBits).toFixed(3)} MB), ${n(t.allocatedBits)} bits allocated, ${n(t.paddingBits)} wasted`);
      if (map.compression) {
        const c = map.compression;
        console.log(
          `weights: ${n(Math.ceil(t.weightsBits / 8))} B stored (${toMB(t.weightsBits).toFixed(3)} MB, codebooks and streams) against ${n(c.denseInt8Bits / 8)} B plain int8; ${n(c.zeros)} of ${n(c.weights)} weights are zero`,
        );
      }
      if (map.arena) console.log(`arena: ${n(map.arena.peakBytes)} B peak (${map.arena.strategy})`);
      for (const m of map.memories) {
        const util = m.bankUse.map((u) => `${(u.utilization * 100).toFixed(1)}%`).join(' ');
        console.log(`  ${m.name.padEnd(10)} ${m.kind} ${m.banks}x${m.depth}x${m.wordBits}b  ${m.holds.join('+') || '-'}  banks: ${util}`);
      }
      console.log(`wrote ${Object.keys(files).length} files to ${out}`);
      if (o.simulate) {
        const simulator = o.simulate === true ? 'iverilog' : o.simulate;
        const progress = progressFlag(o.progress);
        progress.start(`${simulator} read-back`, map.layers.length);
        let read = 0;
        const r = await runTestbenchStreaming(out, { simulator, onLayer: (_, name) => progress.tick(++read, name) }).finally(() => progress.end());
        const bad = map.layers.filter((l) => r.layers.find((x) => x.index === l.index)?.checksum !== l.checksum);
        if (!r.passed || bad.length > 0 || r.layers.length !== map.layers.length)
          throw new UserError(`simulation disagrees with the map for ${bad.map((l) => l.name).join(', ') || 'the testbench run'}`, `see ${out}/sqzfw_asic_tb.sv and run it by hand`, EXIT.mismatch);
        const badDecode = map.layers.filter((l) => {
          const s = map.sections[l.sections.weights]!;
          return s.layout === 'linear' && r.decoded.find((x) => x.index === l.index)?.checksum !== s.decoder!.decodedChecksum;
        });
        if (badDecode.length > 0)
          throw new UserError(`the testbench decoder disagrees with the map for ${badDecode.map((l) => l.name).join(', ')}`, `see ${out}/sqzfw_asic_tb.sv and run it by hand`, EXIT.mismatch);
        console.log(`${simulator}: ${r.layers.length} layer checksums match${r.decoded.length ? `; ${r.decoded.length} layers decoded bit-exact with the int8 weights` : ''}`);
      }
      if (o.accuracy) {
        const variant = { name: weightsLabel(map), options: compress };
        const acc = await compressionAccuracy({ model: o.model!, card: o.card, images: o.accuracy, limit: o.accuracyLimit, variants: [variant], progress: process.stderr.isTTY ? stderrProgress() : undefined });
        for (const line of formatAccuracy(acc)) console.log(line);
      }
    });
}
