/**
 * The validation firmware in QEMU: one build of `--app validate`, several inputs streamed over the UART socket,
 * every output byte equal to the golden model, instruction counts from -icount; on a QEMU machine and on a real
 * board's twin (its clock set-up compiled out). The device side of the protocol answers a corrupted frame with
 * ERROR and keeps serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../src/boards/index.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { runGolden } from '../src/golden/run.js';
import { validateBatch } from '../src/validate/run.js';
import { openQemuLink } from '../src/validate/link.js';
import { Session } from '../src/validate/session.js';
import { encodeFrame, FRAME, FrameDecoder } from '../src/validate/protocol.js';
import { qemuTarget } from '../src/emulate/targets.js';

/** Instructions of one SysTick_Handler entry and return as -icount counts them (40 measured; 64 leaves room). */
const SYSTICK_HANDLER_MAX = 64;

const tmp = mkdtempSync(join(tmpdir(), 'sqzfw-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const p = prepareSynthetic({ variant: 'v1.1', inputSize: 48, classes: 10, seed: 5 });
const inputs = [0, 1, 2].map((k) => ({ name: `in${k}`, input: k === 0 ? p.input : p.input.map((v, i) => ((v + 17 * k + (i % 7)) << 24) >> 24) }));

describe.each(['mps2-an500', 'stm32f429i-disc1'])('validation firmware on %s', (boardName) => {
  const dir = join(tmp, boardName);

  it('one build answers every input, bit-exact with the golden model', async () => {
    const r = await validateBatch({ model: p.model, inputs, board: boardName, target: { kind: 'emulate' }, workDir: dir, timeoutS: 120 });
    expect(r.results).toHaveLength(3);
    for (const [k, x] of r.results.entries()) {
      if (!('outputs' in x)) throw new Error(`${x.name}: ${x.error}`);
      const g = runGolden(p.model, inputs[k]!.input);
      for (const o of p.model.outputs) expect([...x.outputs[o]!], `${x.name} ${o}`).toEqual([...g[o]!]);
      expect(x.latency.msKind).toBe('estimate');
      expect(x.latency.instructions).toBeGreaterThan(1e6);
      expect(x.latency.clockHz).toBe(loadBoard(boardName).cpu.clockHz);
    }
    expect(r.info.board).toBe(boardName);
    expect(r.text[0]).toMatch(/^sqzfw validate squeezenet-v1\.1-48-10 /);
    // -icount: the same input takes the same number of instructions, up to the SysTick interrupts that fall inside
    // the run: the counter free-runs from start-up, so whether its 2^24-tick wrap (one handler entry) lands inside
    // an inference depends on when the host sent the frame. Allow one handler's worth, no more.
    const again = await validateBatch({ model: p.model, inputs: inputs.slice(0, 1), board: boardName, target: { kind: 'emulate' }, workDir: dir, timeoutS: 120 });
    const a = r.results[0]!;
    const b = again.results[0]!;
    if (!('latency' in a) || !('latency' in b)) throw new Error('no latency');
    expect(a.latency.instructions).toBeGreaterThan(0);
    expect(Math.abs(b.latency.instructions! - a.latency.instructions!)).toBeLessThanOrEqual(SYSTICK_HANDLER_MAX);
  });

  it('answers a corrupted frame with ERROR and keeps serving', async () => {
    const t = qemuTarget(dir, loadBoard(boardName));
    const link = await openQemuLink({ elf: t.elf, board: t.board });
    try {
      const s = new Session(link);
      await s.hello(60_000);
      // Send a frame with a flipped payload bit ourselves and read the raw answer.
      const bad = encodeFrame(FRAME.INFER, 0x77, new Uint8Array(p.input.buffer, p.input.byteOffset, p.input.length));
      bad[20] ^= 1;
      const dec = new FrameDecoder();
      const answer = new Promise<{ type: number; seq: number; code: number }>((resolve) =>
        link.onData((d) => {
          for (const ev of dec.push(d)) if (ev.kind === 'frame') resolve({ type: ev.frame.type, seq: ev.frame.seq, code: ev.frame.payload[0]! });
        }),
      );
      await link.write(bad);
      expect(await answer).toEqual({ type: FRAME.ERROR, seq: 0x77, code: 1 });
      const r = await s.infer(p.input, 120_000);
      expect([...r.outputs[0]!]).toEqual([...runGolden(p.model, p.input)[p.model.outputs[0]!]!]);
    } finally {
      await link.close();
    }
  });
});
