/** Compiles a generated project's model library (model/*.c) with the host gcc and runs it on an input: the host-C leg of bit-exactness. */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('../c/', import.meta.url).pathname;

export function hostModelBinary(projectDir: string, opts: { emulateDsp: boolean }): string {
  const cn = join(projectDir, 'sqzfw', 'cmsis-nn');
  const sources = readdirSync(join(cn, 'Source'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.c'))
    .map((f) => join(cn, 'Source', f));
  const exe = join(projectDir, opts.emulateDsp ? 'host-model-dsp' : 'host-model');
  execFileSync('gcc', [
    '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror',
    ...(opts.emulateDsp ? ['-DSQZFW_EMULATE_DSP'] : []),
    `-I${join(cn, 'Include')}`, `-I${join(projectDir, 'model')}`,
    ...['model.c', 'model_weights.c', 'sqzfw_ops.c', 'sqzfw_ops_gap.c'].map((f) => join(projectDir, 'model', f)), join(here, 'host_model_main.c'), ...sources, '-o', exe,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return exe;
}

export function runHostModel(exe: string, input: Int8Array): Buffer {
  return execFileSync(exe, [], { input: Buffer.from(input.buffer, input.byteOffset, input.length), maxBuffer: 1 << 26 });
}
