/**
 * `sqzfw flash --monitor`: the dry run prints the flash commands and how the port is read; the monitor reads the
 * demo's lines from a serial port (a pseudo-terminal with a fake board) and reports result, check and cycles; a
 * missing port fails before anything is flashed, a silent board times out with a clear message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { Monitor, monitorLines } from '../src/flash/monitor.js';
import { UserError } from '../src/errors.js';
import { buildFlashProject, flashCli as cli } from './helpers/flash-project.js';

const FAKE = new URL('./fixtures/validate/fake_demo.py', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-monitor-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const children: ChildProcess[] = [];
afterEach(() => children.splice(0).forEach((c) => c.kill('SIGKILL')));

async function fakeDemo(...args: string[]): Promise<string> {
  const child = spawn('python3', [FAKE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('error', reject);
  });
}

describe('flash --monitor', () => {
  const board = loadBoard('stm32f429i-disc1');
  const dir = join(tmp, 'f429');
  beforeAll(() => buildFlashProject(board, dir));

  it('--dry-run prints the flash command, then how the port is configured and read', async () => {
    const out = await cli(['--project', dir, '--dry-run', '--monitor', '--port', '/dev/ttyACM1', '--monitor-timeout', '30']);
    expect(out).toEqual([
      `openocd -f board/stm32f429disc1.cfg -c 'program ${join(dir, 'build', 'firmware.elf')} verify reset exit'`,
      'stty -F /dev/ttyACM1 115200 raw -echo -echoe -echok -echoctl -echoke -ixon -ixoff -crtscts cs8 -cstopb -parenb clocal cread min 1 time 0',
      'timeout 30 cat /dev/ttyACM1   # until "sqzfw end" or a fault line',
    ]);
  });

  it('a missing port fails before anything is flashed', async () => {
    const e = await cli(['--project', dir, '--monitor', '--port', '/dev/ttyNOPE-sqzfw']).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe('serial port /dev/ttyNOPE-sqzfw does not exist');
    expect((e as UserError).hint).toMatch(/ttyACM0/);
  });

  it("reports the demo's result, check and cycles at the board's clock", async () => {
    const port = await fakeDemo('0.3');
    const r = await Monitor.open({ port, baud: 115200, timeoutS: 10 }).report();
    expect(r).toMatchObject({ check: 'ok', cycles: 738_000_000, status: 0, top5: [{ index: 0, value: 127 }, { index: 1, value: 0 }, { index: 2, value: -1 }] });
    expect(monitorLines(r, board)).toEqual([
      'result: top5 0 (tench):127  1 (goldfish):0  2 (shark):-1',
      'check: ok (every output byte equals the golden model)',
      'cycles: 738,000,000 per inference = 4100.0 ms at 180 MHz (DWT, measured)',
    ]);
  });

  it('a board that prints nothing times out with a clear message', async () => {
    const port = await fakeDemo('0', 'silent');
    const e = await Monitor.open({ port, baud: 115200, timeoutS: 1 }).report().then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe(`no "sqzfw end" from the board on ${port} within 1 s (no output)`);
    expect((e as UserError).hint).toMatch(/is .* the board's virtual COM port, at 115200 baud/);
  });
});
