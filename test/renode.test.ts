/**
 * The Renode files of generated firmware: the .resc scripts pass a strict check of Renode's monitor syntax (its
 * tokens, the commands, the platforms' memories and UARTs), the .robot tests parse with the real Robot Framework
 * parser (robotframework 6.1, the version Renode pins; installed by scripts/setup.sh) and call only keywords Renode
 * documents, and their expected lines match what the firmware prints (checked against the QEMU twin's UART).
 * renode-test itself is not available here: its runner is checked with a stand-in on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoard, qemuTwin } from '../src/boards/index.js';
import { buildFirmware } from '../src/toolchain/index.js';
import { checkResc, renderRenodeFiles, renodeFilesForProject, rescCommands, runRenode, tokenizeResc, RENODE_FILES } from '../src/emulate/renode.js';
import { defaultEmulator, emulateWithRenode, qemuTarget } from '../src/emulate/targets.js';
import { runQemu } from '../src/emulate/qemu.js';
import { generateProject } from '../src/driver/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { UserError } from '../src/errors.js';

const work = mkdtempSync(join(tmpdir(), 'sqzfw-renode-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const REAL = ['nucleo-h743zi', 'stm32f746g-disco', 'stm32f429i-disc1', 'nrf52840-dk'];
/** Every board whose chip Renode has a platform for: the real boards and netduinoplus2 (platforms/cpus/stm32f4.repl). */
const WITH_RENODE = [...REAL, 'netduinoplus2'];

/**
 * Keywords of Renode's Robot Framework library used by sqzfw tests, as Renode documents them (renode-docs:
 * "Testing with Renode"; the RobotFrameworkKeyword methods of Renode's RenodeKeywords and UartKeywords).
 */
const RENODE_KEYWORDS = new Set([
  'Execute Command',
  'Create Terminal Tester',
  'Start Emulation',
  'Wait For Line On Uart',
  'Wait For Lines On Uart',
  'Should Not Be On Uart',
  'Set Default Uart Timeout',
]);

const ROBOT_CHECK = String.raw`
import json, sys
from robot.api import get_model
from robot.api.parsing import ModelVisitor, Token
from robot.utils import unescape

class V(ModelVisitor):
    def __init__(self):
        self.keywords, self.errors, self.sections, self.variables = [], [], [], {}
    def generic_visit(self, node):
        for e in getattr(node, 'errors', ()) or ():
            self.errors.append(e)
        if hasattr(node, 'get_tokens'):
            for t in node.get_tokens(Token.ERROR):
                self.errors.append(t.error or t.value)
        super().generic_visit(node)
    def visit_Section(self, node):
        self.sections.append(node.header.data_tokens[0].value.strip('* ').strip())
        self.generic_visit(node)
    def visit_KeywordCall(self, node):
        self.keywords.append({'name': node.keyword, 'args': list(node.args)})
        self.generic_visit(node)
    def visit_Variable(self, node):
        self.variables[node.name] = [unescape(v) for v in node.value]
        self.generic_visit(node)

out = []
for path in sys.argv[1:]:
    v = V()
    v.visit(get_model(path))
    out.append({'keywords': v.keywords, 'errors': v.errors, 'sections': v.sections, 'variables': v.variables})
print(json.dumps(out))
`;

interface RobotModel {
  keywords: { name: string; args: string[] }[];
  errors: string[];
  sections: string[];
  variables: Record<string, string[]>;
}

function robotAvailable(): boolean {
  return spawnSync('python3', ['-c', "import sys, robot; sys.exit(robot.__version__ != '6.1')"], { stdio: 'ignore' }).status === 0;
}

function parseRobot(paths: string[]): RobotModel[] {
  return JSON.parse(execFileSync('python3', ['-c', ROBOT_CHECK, ...paths], { encoding: 'utf8' })) as RobotModel[];
}

/** Small generated projects (v1.1 at 48x48, 10 classes), one per board with a Renode platform, with their Renode files. */
const projects = new Map<string, string>();
beforeAll(() => {
  if (!robotAvailable()) {
    // scripts/setup.sh installs it; try once here too.
    spawnSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'robotframework==6.1'], {
      stdio: 'ignore',
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
    });
  }
  const prepared = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 7 });
  for (const name of WITH_RENODE) {
    const dir = join(work, name);
    generateProject(prepared, loadBoard(name), dir);
    for (const [p, c] of Object.entries(renodeFilesForProject(dir))) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), c);
    }
    projects.set(name, dir);
  }
});

describe('.resc scripts', () => {
  it.each(WITH_RENODE)('%s: pass the strict Renode syntax check', (name) => {
    const dir = projects.get(name)!;
    const board = loadBoard(name);
    const machine = readFileSync(join(dir, RENODE_FILES.machine), 'utf8');
    const script = readFileSync(join(dir, RENODE_FILES.script), 'utf8');
    expect(checkResc(machine, { board, siblings: ['machine.resc'] })).toEqual([]);
    expect(checkResc(script, { board, siblings: ['machine.resc'] })).toEqual([]);
    expect(machine).toContain(`machine LoadPlatformDescription @${board.renode!.platform}`);
    expect(machine).toMatch(/\n\$bin \?= \$ORIGIN\/\.\.\/build\/firmware\.elf\n/);
    expect(machine).toMatch(/macro reset\n"""\n    sysbus LoadELF \$bin\n    cpu VectorTableOffset `sysbus GetSymbolAddress "sqzfw_vector_table"`\n"""\nrunMacro \$reset\n/);
    expect(script).toMatch(/include \$ORIGIN\/machine\.resc\nshowAnalyzer \w+\nstart\n$/);
    // Every command is one of those Renode's scripts use, and the memories the platform lacks are added.
    const added = [...machine.matchAll(/LoadPlatformDescriptionFromString "(\w+): Memory\.MappedMemory @ sysbus (0x[0-9A-F]+) \{ size: (0x[0-9A-F]+) \}"/g)];
    expect(added.map((m) => m[1])).toEqual(board.renode!.addMemory.map((n) => `sqzfw_${n.toLowerCase()}`));
  });

  it('F746: adds the QSPI flash at 0x90000000 that Renode’s stm32f746 platform lacks', () => {
    const machine = readFileSync(join(projects.get('stm32f746g-disco')!, RENODE_FILES.machine), 'utf8');
    expect(machine).toContain('machine LoadPlatformDescriptionFromString "sqzfw_qspi: Memory.MappedMemory @ sysbus 0x90000000 { size: 0x01000000 }"');
  });

  const board = loadBoard('stm32f746g-disco');
  const good = () => readFileSync(join(projects.get('stm32f746g-disco')!, RENODE_FILES.machine), 'utf8');
  it.each([
    ['an unknown command', (s: string) => `${s}\nsysbus WriteDoubleWord 0x0 0x1\n`, /not a command sqzfw scripts use/],
    ['an unknown platform', (s: string) => s.replace('@platforms/cpus/stm32f746.repl', '@platforms/cpus/stm32f999.repl'), /unknown platform platforms\/cpus\/stm32f999\.repl/],
    ['a platform path without @ (Renode stops at the /)', (s: string) => s.replace('@platforms/', 'platforms/'), /line \d+: Renode cannot tokenize it \(column 42: cannot tokenize "\/cpus/],
    ['a platform given as a string', (s: string) => s.replace('@platforms/cpus/stm32f746.repl', '"platforms/cpus/stm32f746.repl"'), /expected machine LoadPlatformDescription @platforms/],
    ['a used region Renode does not map', (s: string) => s.replace(/^.*sqzfw_qspi.*$/m, ''), /region QSPI \(0x90000000, 16777216 bytes\) is not mapped/],
    ['a malformed memory description', (s: string) => s.replace('{ size: 0x01000000 }', 'size: 0x01000000'), /expected a one-line memory description/],
    ['an undefined macro', (s: string) => s.replace('runMacro $reset', 'runMacro $boot'), /expected runMacro \$<macro defined above>/],
    ['an unterminated block', (s: string) => s.replace(/"""\nrunMacro/, 'runMacro'), /unterminated """ block/],
    ['a string Renode cannot tokenize', (s: string) => s.replace('mach create "sqzfw-stm32f746g-disco"', 'mach create "sqzfw'), /Renode cannot tokenize it/],
    ['a non-integer performance', (s: string) => s.replace('PerformanceInMips 216', 'PerformanceInMips fast'), /expected cpu PerformanceInMips <positive integer>/],
  ])('rejects %s', (_what, edit, expected) => {
    const problems = checkResc(edit(good()), { board, siblings: ['machine.resc'] });
    expect(problems.join('\n')).toMatch(expected);
  });

  it('rejects an analyzer on a UART the platform does not have, and an include of a file that is not generated', () => {
    const script = readFileSync(join(projects.get('stm32f746g-disco')!, RENODE_FILES.script), 'utf8');
    const withPlatform = `machine LoadPlatformDescription @platforms/cpus/stm32f746.repl\n${script.replace('showAnalyzer usart1', 'showAnalyzer usart9')}`;
    expect(checkResc(withPlatform).join('\n')).toMatch(/platforms\/cpus\/stm32f746\.repl has no UART usart9/);
    expect(checkResc(script.replace('machine.resc', 'other.resc'), { siblings: ['machine.resc'] }).join('\n')).toMatch(/other\.resc is not generated/);
  });

  it('tokenizes like Renode’s monitor', () => {
    expect(tokenizeResc('$bin ?= $ORIGIN/../build/firmware.elf').map((t) => t.kind)).toEqual(['variable', 'condassign', 'path']);
    expect(tokenizeResc('machine LoadPlatformDescription @platforms/cpus/nrf52840.repl # c').map((t) => t.kind)).toEqual(['literal', 'literal', 'path', 'comment']);
    expect(tokenizeResc('cpu VectorTableOffset `sysbus GetSymbolAddress "x"`').map((t) => t.kind)).toEqual(['literal', 'literal', 'exec']);
    // A block's first line starting with """ belongs to the command before it, as in Renode's script reader.
    expect(rescCommands('macro reset\n"""\n    sysbus LoadELF $bin\n"""\nrunMacro $reset').map((c) => [c.line, c.text.split('\n').length])).toEqual([
      [1, 4],
      [5, 1],
    ]);
  });
});

describe('.robot tests', () => {
  it('parse with Robot Framework 6.1 and call only keywords Renode documents', () => {
    expect(robotAvailable(), 'robotframework 6.1 for python3: run scripts/setup.sh').toBe(true);
    const models = parseRobot(WITH_RENODE.map((n) => join(projects.get(n)!, RENODE_FILES.test)));
    models.forEach((m, i) => {
      const board = loadBoard(WITH_RENODE[i]!);
      expect(m.errors).toEqual([]);
      expect(m.sections).toEqual(['Comments', 'Variables', 'Test Cases']);
      for (const k of m.keywords) expect(RENODE_KEYWORDS.has(k.name), k.name).toBe(true);
      expect(m.keywords.map((k) => k.name)).toEqual([
        'Execute Command',
        'Execute Command',
        'Create Terminal Tester',
        'Start Emulation',
        ...Array(5).fill('Wait For Line On Uart'),
      ]);
      expect(m.keywords[1]!.args).toEqual(['include @${CURDIR}/machine.resc']);
      expect(m.variables['${UART}']).toEqual([board.renode!.uart]);
      expect(Number(m.variables['${TIMEOUT}']![0])).toBeGreaterThan(30);
    });
  });

  it.each(WITH_RENODE)('%s: the expected lines are the golden bytes, and match what the firmware prints (QEMU twin)', async (name) => {
    const dir = projects.get(name)!;
    const [model] = parseRobot([join(dir, RENODE_FILES.test)]);
    const manifest = JSON.parse(readFileSync(join(dir, 'sqzfw.json'), 'utf8')) as { expected: Record<string, string>; outputs: string[]; model: string };
    const patterns = ['${BEGIN}', ...manifest.outputs.map((_o, i) => `\${OUT_${i}}`), '${CHECK}', '${END}'].map((v) => model!.variables[v]![0]!);
    manifest.outputs.forEach((o, i) => expect(patterns[i + 1]).toBe(`^out ${o} ${manifest.expected[o]!.length / 2} ${manifest.expected[o]}$`));
    expect(patterns[0]).toBe(`^sqzfw begin ${manifest.model.replace(/\./g, '\\.')} ${name}$`);
    // Build the twin, run it, and find every expected line, in order, in its UART output.
    const t = qemuTarget(dir);
    const b = await buildFirmware(t.variant === 'qemu' ? { projectDir: dir, variant: 'qemu' } : { projectDir: dir, semihosting: true });
    expect(b.elf).toBe(t.elf);
    const run = await runQemu({ elf: t.elf, board: t.board, timeoutMs: 60_000 });
    const lines = run.stdout.replace(/\r/g, '').split('\n');
    let at = 0;
    for (const p of patterns) {
      const re = new RegExp(p);
      const k = lines.findIndex((l, j) => j >= at && re.test(l));
      expect(k, `${p.slice(0, 60)} in the UART output`).toBeGreaterThanOrEqual(0);
      at = k + 1;
    }
  });
});

describe('running renode-test', () => {
  const savedPath = process.env.PATH;
  afterAll(() => {
    process.env.PATH = savedPath;
  });

  it('says how to install Renode when renode-test is missing', async () => {
    process.env.PATH = '/nonexistent';
    try {
      const dir = projects.get('nucleo-h743zi')!;
      for (const run of [() => runRenode({ projectDir: dir }), () => emulateWithRenode(dir, 60)]) {
        const e = await run().then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(UserError);
        expect((e as UserError).message).toBe('renode-test not found: Renode is not installed here');
        expect((e as UserError).hint).toMatch(/install Renode 1\.14 or newer .*renode\.io.*--emulator qemu/);
      }
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('runs renode-test on the project’s .robot file and reports pass or fail (stand-in renode-test)', async () => {
    const dir = projects.get('stm32f429i-disc1')!;
    await buildFirmware({ projectDir: dir });
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    const fake = join(bin, 'renode-test');
    writeFileSync(fake, `#!/bin/sh\necho "renode-test $*" > "${join(work, 'args.txt')}"\ntest -f "$1" || exit 3\nexit \${FAKE_STATUS:-0}\n`);
    chmodSync(fake, 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      const ok = await runRenode({ projectDir: dir });
      expect(ok.passed).toBe(true);
      expect(readFileSync(join(work, 'args.txt'), 'utf8').trim()).toBe(`renode-test ${join(dir, 'renode', 'sqzfw.robot')} --results-dir ${join(dir, 'build', 'renode')}`);
      process.env.FAKE_STATUS = '1';
      const e = await emulateWithRenode(dir, 60).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect((e as UserError).message).toMatch(/^the Renode test failed \(renode-test exit code 1\)/);
    } finally {
      delete process.env.FAKE_STATUS;
      process.env.PATH = savedPath;
    }
  });

  it('refuses a semihosting build (its exit would stop Renode) and picks QEMU where there is a twin', async () => {
    const dir = projects.get('nrf52840-dk')!;
    await buildFirmware({ projectDir: dir, semihosting: true });
    const e = await runRenode({ projectDir: dir, renodeTest: '/bin/true' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect((e as UserError).message).toMatch(/was built with SEMIHOSTING=1/);
    for (const n of REAL) expect(defaultEmulator(loadBoard(n))).toBe('qemu');
    expect(qemuTwin(loadBoard('nrf52840-dk'))!.qemu!.machine).toBe('mps2-an386');
    const { twin: _t, ...noTwin } = loadBoard('nrf52840-dk');
    expect(defaultEmulator({ ...noTwin, twin: undefined })).toBe('renode');
  });

  it('renders from the plan: no Renode section, no files', () => {
    const { renode: _r, ...noRenode } = loadBoard('nrf52840-dk');
    expect(() => renderRenodeFiles({ board: { ...noRenode, renode: undefined }, model: 'm', expected: [], macs: 1 })).toThrow(/has no Renode platform/);
    const files = renderRenodeFiles({ board: loadBoard('stm32f429i-disc1'), model: 'm', expected: [{ name: 'y', bytes: new Int8Array([-1, 0, 1]) }], macs: 1e6, regionsUsed: ['FLASH', 'SRAM'] });
    // CCM is not used by this firmware: not added.
    expect(files[RENODE_FILES.machine]).not.toContain('sqzfw_ccm');
    expect(files[RENODE_FILES.test]).toContain('${OUT_0}    ^out y 3 ff0001$');
  });
});
