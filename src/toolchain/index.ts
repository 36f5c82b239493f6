/**
 * Build a generated firmware project with its Makefile (arm-none-eabi-gcc) and report flash/RAM use per memory
 * region, read from the ELF section headers (arm-none-eabi-objdump -h) and the MEMORY block of linker.ld, and where
 * each weight array went (arm-none-eabi-nm). A real board's project also builds for its QEMU twin (variant 'qemu':
 * `make qemu`, build/qemu/firmware.elf, qemu/linker.ld).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, UserError } from '../errors.js';
import { MANIFEST, writeBuildRecord } from '../project.js';
import type { ProgressSink } from '../util/progress.js';

export interface BuildOptions {
  projectDir: string;
  /** Arm's CMSIS-NN tree (Include/, Source/) instead of the project's sqzfw/cmsis-nn. */
  cmsisNnDir?: string;
  /** Exit through semihosting (QEMU runs). */
  semihosting?: boolean;
  /** false: scalar kernels (make DSP=0). Default: the board's setting. */
  dsp?: boolean;
  /** Parallel make jobs; default: available CPUs. */
  jobs?: number;
  /**
   * 'board' (default): build/firmware.elf for the project's board. 'qemu': the firmware QEMU runs: for a real board
   * with a twin, `make qemu` (build/qemu/firmware.elf, always with semihosting); for a QEMU board, the board build
   * with semihosting.
   */
  variant?: 'board' | 'qemu';
  /** A bar over the files make compiles and links (counted with `make -n` first). */
  progress?: ProgressSink;
}

/** One weight array (a symbol in a .sqzfw_weights* section). */
export interface WeightArrayPlacement {
  name: string;
  bytes: number;
  address: number;
}

/** Where the weights went: one entry per weights output section that holds any. */
export interface WeightsRegionReport {
  /** Output section, e.g. .sqzfw_weights or .sqzfw_weights_QSPI. */
  section: string;
  /** Memory region of linker.ld holding it (by run address). */
  region: string;
  bytes: number;
  arrays: WeightArrayPlacement[];
}

export interface RegionUse {
  name: string;
  used: number;
  length: number;
}

export interface BuildResult {
  /** Absolute path of build/firmware.elf. */
  elf: string;
  /** Bytes loaded into flash regions (code, rodata, weights, .data's initial values). */
  flashBytes: number;
  /** Bytes of RAM regions taken by sections (data, bss, arenas, stack). */
  ramBytes: number;
  /** Allocated section name -> size in bytes. */
  sections: Record<string, number>;
  /** Use of each memory region of linker.ld, in its order. */
  regions: RegionUse[];
  /** Where the weight arrays went, in fill order. */
  weights: WeightsRegionReport[];
  /** Which firmware this is ('qemu': the QEMU twin's, or a QEMU board's semihosting build). */
  variant: 'board' | 'qemu';
}

export interface ElfSection {
  name: string;
  size: number;
  vma: number;
  lma: number;
  alloc: boolean;
  load: boolean;
}

export interface LinkerRegion {
  name: string;
  kind: 'flash' | 'ram';
  origin: number;
  length: number;
}

const CROSS = 'arm-none-eabi-';

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd?: string, onLine?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let at = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!onLine) return;
      for (let nl = stdout.indexOf('\n', at); nl >= 0; nl = stdout.indexOf('\n', at)) {
        onLine(stdout.slice(at, nl));
        at = nl + 1;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

const isEnoent = (e: unknown): boolean => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

const INSTALL_HINT =
  'run `npm run setup` (installs gcc-arm-none-eabi libnewlib-arm-none-eabi) or ' +
  '`sudo apt-get install -y --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi make`';

/** Runs one of the arm-none-eabi tools; a tool that is not installed is a UserError naming it (missing tool). */
async function runCross(tool: 'gcc' | 'objdump' | 'nm' | 'size', args: string[]): Promise<RunResult> {
  try {
    return await run(`${CROSS}${tool}`, args);
  } catch (e) {
    if (isEnoent(e)) throw new UserError(`${CROSS}${tool} not found`, INSTALL_HINT, EXIT.missingTool);
    throw e;
  }
}

/** Throws UserError unless arm-none-eabi-gcc (with newlib) and make can be run. */
export async function checkToolchain(): Promise<void> {
  const libc = await runCross('gcc', ['-print-file-name=libc_nano.a']);
  const path = libc.stdout.trim();
  if (libc.code !== 0 || !path.startsWith('/') || !existsSync(path))
    throw new UserError('newlib for arm-none-eabi not found (libc_nano.a)', INSTALL_HINT, EXIT.missingTool);
  try {
    await run('make', ['--version']);
  } catch (e) {
    if (isEnoent(e)) throw new UserError('make not found', 'run `sudo apt-get install -y make`', EXIT.missingTool);
    throw e;
  }
}

/**
 * The first compiler/linker error of a build log and the lines after it (at most `max`), without make's noise.
 * Falls back to the last lines when no line looks like an error.
 */
export function firstErrorLines(log: string, max = 12): string[] {
  const lines = log
    .split('\n')
    .map((l) => l.trimEnd().replace(/^\S*\/(arm-none-eabi-)?ld(\.bfd)?: /, 'ld: '))
    .filter((l) => l && !/^\s+(CC|LD)\s/.test(l));
  const isError = (l: string) =>
    /\berror\b|\bError\b|overflowed|overlaps|undefined reference|multiple definition|No rule to make target|cannot find|^ld: sqzfw: /.test(
      l,
    ) && !/^make(\[\d+\])?: \*\*\*/.test(l);
  const i = lines.findIndex(isError);
  const from = i < 0 ? Math.max(0, lines.length - max) : i;
  // Keep the "In function"/"In file included from" line just before the first error, if any.
  const start = from > 0 && /: In function|In file included from/.test(lines[from - 1]!) ? from - 1 : from;
  const picked = lines.slice(start);
  const quiet = picked.filter((l) => !/^make(\[\d+\])?: /.test(l));
  return (quiet.length > 0 ? quiet : picked).slice(0, max);
}

/** Parse `objdump -h -w` output. */
export function parseObjdumpSections(text: string): ElfSection[] {
  const out: ElfSection[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+2\*\*\d+\s*(.*)$/i.exec(line);
    if (!m) continue;
    const flags = m[5]!.split(',').map((f) => f.trim());
    out.push({
      name: m[1]!,
      size: parseInt(m[2]!, 16),
      vma: parseInt(m[3]!, 16),
      lma: parseInt(m[4]!, 16),
      alloc: flags.includes('ALLOC'),
      load: flags.includes('LOAD') && flags.includes('CONTENTS'),
    });
  }
  return out;
}

/** Parse the MEMORY block of a linker script: `NAME (attrs) : ORIGIN = x, LENGTH = y`; 'w' in attrs means RAM. */
export function parseLinkerMemory(script: string): LinkerRegion[] {
  const block = /MEMORY\s*\{([\s\S]*?)\}/.exec(script.replace(/\/\*[\s\S]*?\*\//g, ''));
  if (!block) return [];
  const num = (s: string): number => {
    const m = /^(0x[0-9a-f]+|\d+)\s*([KM])?$/i.exec(s.trim());
    if (!m) return NaN;
    const base = m[1]!.toLowerCase().startsWith('0x') ? parseInt(m[1]!, 16) : parseInt(m[1]!, 10);
    return base * (m[2] ? (m[2].toUpperCase() === 'M' ? 1 << 20 : 1 << 10) : 1);
  };
  const out: LinkerRegion[] = [];
  const re = /(\w+)\s*(?:\(([^)]*)\))?\s*:\s*ORIGIN\s*=\s*([^,]+),\s*LENGTH\s*=\s*([^\s,;]+)/g;
  for (let m = re.exec(block[1]!); m; m = re.exec(block[1]!)) {
    out.push({
      name: m[1]!,
      kind: /w/i.test(m[2] ?? '') ? 'ram' : 'flash',
      origin: num(m[3]!),
      length: num(m[4]!),
    });
  }
  return out;
}

/** Per-region use: allocated sections by run address, plus load images (e.g. .data's initial values) by load address. */
export function memoryUse(
  sections: ElfSection[],
  regions: LinkerRegion[],
): Pick<BuildResult, 'flashBytes' | 'ramBytes' | 'sections' | 'regions'> {
  const inRegion = (addr: number, r: LinkerRegion) => addr >= r.origin && addr < r.origin + r.length;
  const used = new Map(regions.map((r) => [r.name, 0]));
  const sizes: Record<string, number> = {};
  let flashBytes = 0;
  let ramBytes = 0;
  for (const s of sections) {
    if (!s.alloc || s.size === 0) continue;
    sizes[s.name] = s.size;
    const run = regions.find((r) => inRegion(s.vma, r));
    if (run) used.set(run.name, used.get(run.name)! + s.size);
    if (run ? run.kind === 'ram' : !s.load || s.vma !== s.lma) ramBytes += s.size;
    if (s.load) {
      const load = regions.find((r) => inRegion(s.lma, r));
      if (load && load !== run) used.set(load.name, used.get(load.name)! + s.size);
      if (!load || load.kind === 'flash') flashBytes += s.size;
    }
  }
  return {
    flashBytes,
    ramBytes,
    sections: sizes,
    regions: regions.map((r) => ({ name: r.name, used: used.get(r.name)!, length: r.length })),
  };
}

/** Read the sections of an ELF file with arm-none-eabi-objdump. */
export async function readElfSections(elf: string): Promise<ElfSection[]> {
  const r = await runCross('objdump', ['-h', '-w', elf]);
  if (r.code !== 0) throw new UserError(`cannot read ${elf}: ${r.stderr.trim().split('\n')[0]}`, 'rebuild the firmware');
  return parseObjdumpSections(r.stdout);
}

/** Parse `nm -S -n` output: address, size, type, name (symbols without a size are skipped). */
export function parseNmSizes(text: string): { name: string; address: number; bytes: number; type: string }[] {
  const out: { name: string; address: number; bytes: number; type: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)\s+([0-9a-f]+)\s+(\w)\s+(\S+)$/i.exec(line.trim());
    if (m) out.push({ address: parseInt(m[1]!, 16), bytes: parseInt(m[2]!, 16), type: m[3]!, name: m[4]! });
  }
  return out;
}

/** Which weight arrays are in which .sqzfw_weights* section, from the ELF's sections and symbols. */
export function weightsReport(
  sections: ElfSection[],
  symbols: { name: string; address: number; bytes: number }[],
  regions: LinkerRegion[],
): WeightsRegionReport[] {
  const out: WeightsRegionReport[] = [];
  for (const s of sections) {
    if (!/^\.sqzfw_weights(_\w+)?$/.test(s.name) || s.name === '.sqzfw_weights_unplaced' || s.size === 0) continue;
    const region = regions.find((r) => s.vma >= r.origin && s.vma < r.origin + r.length)?.name ?? '?';
    const arrays = symbols
      .filter((y) => y.bytes > 0 && y.address >= s.vma && y.address < s.vma + s.size)
      .map((y) => ({ name: y.name, bytes: y.bytes, address: y.address }));
    out.push({ section: s.name, region, bytes: s.size, arrays });
  }
  return out;
}

/** Human-readable lines: what went where (one line per weights region, with the biggest arrays). */
export function weightsReportLines(report: WeightsRegionReport[], maxNames = 6): string[] {
  const total = report.reduce((a, r) => a + r.bytes, 0);
  return report.map((r) => {
    const names = [...r.arrays].sort((a, b) => b.bytes - a.bytes || a.address - b.address);
    const shown = names.slice(0, maxNames).map((a) => `${a.name} ${a.bytes}`);
    const more = names.length > maxNames ? `, +${names.length - maxNames} more` : '';
    const share = total > 0 ? ` (${((100 * r.bytes) / total).toFixed(1)}% of the weights)` : '';
    return `weights in ${r.region}: ${r.bytes} bytes${share}, ${r.arrays.length} arrays: ${shown.join(', ')}${more}`;
  });
}

async function readSymbols(elf: string): Promise<{ name: string; address: number; bytes: number; type: string }[]> {
  const r = await runCross('nm', ['-S', '-n', elf]);
  if (r.code !== 0) throw new UserError(`cannot read the symbols of ${elf}: ${r.stderr.trim().split('\n')[0]}`, 'rebuild the firmware');
  return parseNmSizes(r.stdout);
}

/** The input sections of an output section in a GNU ld map file: name and size in bytes. */
export function mapInputSections(map: string, outputSection: string): { name: string; bytes: number }[] {
  const lines = map.split('\n');
  const start = lines.findIndex((l) => l === outputSection || l.startsWith(`${outputSection} `));
  if (start < 0) return [];
  const out: { name: string; bytes: number }[] = [];
  // Input sections: " .name  0xADDR  0xSIZE file", or " .name" with the numbers on the next line.
  for (let i = start + 1; i < lines.length && !/^\S/.test(lines[i]!); i++) {
    const m = /^ (\.\S+)(?:\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+\S)?/.exec(lines[i]!);
    if (!m) continue;
    const size = m[2] ?? /^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+\S/.exec(lines[i + 1] ?? '')?.[1];
    if (size !== undefined) out.push({ name: m[1]!, bytes: parseInt(size, 16) });
  }
  return out;
}

export interface LibraryBuildResult {
  /** Absolute path of build/libsqzfw_model.a. */
  lib: string;
  /** Bytes of code and read-only data (weights included), initialized data and zeroed data over its objects. */
  text: number;
  data: number;
  bss: number;
}

/** Build the model library of a project generated with --app none (its Makefile makes build/libsqzfw_model.a). */
export async function buildLibrary(opts: Pick<BuildOptions, 'projectDir' | 'cmsisNnDir' | 'dsp' | 'jobs'>): Promise<LibraryBuildResult> {
  const dir = resolve(opts.projectDir);
  if (!existsSync(join(dir, 'Makefile')))
    throw new UserError(`no Makefile in ${dir}`, 'generate the project first (sqzfw generate)');
  await checkToolchain();
  const args = ['-C', dir, `-j${Math.max(1, opts.jobs ?? availableParallelism())}`, ...makeCmsisNnArgs(opts.cmsisNnDir)];
  if (opts.dsp !== undefined) args.push(`DSP=${opts.dsp ? 1 : 0}`);
  const r = await run('make', args);
  if (r.code !== 0)
    throw new UserError(`model library build failed in ${dir}:\n${firstErrorLines(`${r.stderr}\n${r.stdout}`).join('\n')}`, `run \`make -C ${dir}\` to see the full log`);
  const lib = join(dir, 'build', 'libsqzfw_model.a');
  if (!existsSync(lib)) throw new UserError(`make did not produce ${lib}`, 'check the Makefile');
  const size = await runCross('size', ['-t', lib]);
  const total = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+[0-9a-f]+\s+\(TOTALS\)/m.exec(size.stdout);
  if (size.code !== 0 || !total) throw new UserError(`cannot read the sizes of ${lib}`, 'rebuild the library');
  return { lib, text: Number(total[1]), data: Number(total[2]), bss: Number(total[3]) };
}

/** make's CMSIS_NN=<tree> argument, after checking the tree. */
function makeCmsisNnArgs(cmsisNnDir: string | undefined): string[] {
  if (cmsisNnDir === undefined) return [];
  const nn = resolve(cmsisNnDir);
  if (!existsSync(join(nn, 'Include', 'arm_nnfunctions.h')))
    throw new UserError(
      `${cmsisNnDir} is not a CMSIS-NN tree (no Include/arm_nnfunctions.h)`,
      'pass the root of a checkout of github.com/ARM-software/CMSIS-NN',
    );
  if (/\s/.test(nn)) throw new UserError(`CMSIS-NN path contains spaces: ${nn}`, 'move or symlink it to a path without spaces');
  return [`CMSIS_NN=${nn}`];
}

/** The quiet Makefile's "  CC      file.c" and "  LD      firmware.elf" lines: one per compiled or linked file. */
const MAKE_STEP = /^\s*(?:make\[\d+\]: )?(?:echo ")?  (?:CC|LD|AR) /;

const mtimeOf = (f: string): number | undefined => (existsSync(f) ? statSync(f).mtimeMs : undefined);

/**
 * make with a progress bar over the files it compiles and links. The count comes from `make -n` (nothing is run).
 * The Makefile's config file (compiler and flags, a FORCE rule) is brought up to date first, exactly as make's
 * first step would; when it did not change, the dry run treats it as old (-o), else every object is rebuilt and the
 * dry run says so. `countArgs` are the make arguments without a recursive target (TWIN=1 rather than qemu: -o does
 * not reach sub-makes). Without a sink, plain make.
 */
async function makeWithProgress(args: string[], progress: ProgressSink | undefined, label: string, count: { dir: string; config: string; countArgs: string[] }): Promise<RunResult> {
  if (!progress) return run('make', args);
  const file = join(count.dir, count.config);
  const before = mtimeOf(file);
  await run('make', [...count.countArgs, count.config]);
  const kept = before !== undefined && mtimeOf(file) === before;
  const dry = await run('make', ['-n', ...(kept ? ['-o', count.config] : []), ...count.countArgs]);
  const total = dry.code === 0 ? dry.stdout.split('\n').filter((l) => MAKE_STEP.test(l)).length : 0;
  if (total === 0) return run('make', args);
  let done = 0;
  progress.start(label, total);
  try {
    return await run('make', args, undefined, (line) => {
      if (MAKE_STEP.test(line) && done < total) progress.tick(++done, line.trim().split(/\s+/).pop());
    });
  } finally {
    progress.end();
  }
}

/** Run make in a generated project and measure the result. */
export async function buildFirmware(opts: BuildOptions): Promise<BuildResult> {
  const dir = resolve(opts.projectDir);
  if (!existsSync(join(dir, 'Makefile')))
    throw new UserError(`no Makefile in ${dir}`, 'generate the project first (sqzfw generate)');
  await checkToolchain();
  const variant = opts.variant ?? 'board';
  const twin = variant === 'qemu' && existsSync(join(dir, 'qemu', 'linker.ld'));
  const buildDir = twin ? join(dir, 'build', 'qemu') : join(dir, 'build');
  const args = ['-C', dir, `-j${Math.max(1, opts.jobs ?? availableParallelism())}`, ...makeCmsisNnArgs(opts.cmsisNnDir)];
  args.push(`SEMIHOSTING=${opts.semihosting || variant === 'qemu' ? 1 : 0}`);
  if (opts.dsp !== undefined) args.push(`DSP=${opts.dsp ? 1 : 0}`);
  const countArgs = twin ? [...args, 'TWIN=1'] : [...args];
  if (twin) args.push('qemu');

  const r = await makeWithProgress(args, opts.progress, `build${twin ? ' (QEMU twin)' : ''}`, { dir, config: twin ? 'build/qemu/config.txt' : 'build/config.txt', countArgs });
  if (r.code !== 0) {
    const log = `${r.stderr}\n${r.stdout}`;
    const lines = firstErrorLines(log);
    const mapFile = join(buildDir, 'firmware.map');
    let hint = `run \`make -C ${dir}${twin ? ' qemu' : ''} V=1\` to see the full log`;
    if (/undefined reference to `end'/.test(log))
      hint = `something calls malloc (sbrk needs \`end\`): sqzfw firmware has no heap; ${hint}`;
    else if (/sqzfw: the weights do not fit/.test(log)) {
      const left = existsSync(mapFile) ? mapInputSections(readFileSync(mapFile, 'utf8'), '.sqzfw_weights_unplaced') : [];
      const bytes = left.reduce((a, x) => a + x.bytes, 0);
      hint =
        (left.length ? `${left.length} weight array(s), ${bytes} bytes, fit in none of the weights regions; ` : '') +
        'use fewer --classes, a smaller model, or a board with more (or external) flash';
    } else if (/section `\.sqzfw_weights\w*' will not fit in region/.test(log))
      hint = 'the weights do not fit in the board\'s flash: use fewer --classes, a smaller model, or a board with more (or external) flash';
    else if (/overflowed|overlaps|does not fit in its region/.test(log))
      hint = `the sections do not fit the board's memory regions (see ${twin ? 'build/qemu' : 'build'}/firmware.map); ${hint}`;
    throw new UserError(`firmware build failed in ${dir}:\n${lines.join('\n')}`, hint);
  }
  const elf = join(buildDir, 'firmware.elf');
  if (!existsSync(elf)) throw new UserError(`make did not produce ${elf}`, 'check the Makefile');
  // Which sources this ELF was built from: emulate refuses it once the project is regenerated.
  if (existsSync(join(dir, MANIFEST))) writeBuildRecord(dir, elf);
  const sections = await readElfSections(elf);
  const ld = join(dir, twin ? 'qemu' : '', 'linker.ld');
  const regions = existsSync(ld) ? parseLinkerMemory(readFileSync(ld, 'utf8')) : [];
  const weights = weightsReport(sections, await readSymbols(elf), regions);
  return { elf, ...memoryUse(sections, regions), weights, variant };
}
