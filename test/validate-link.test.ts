/**
 * The framed protocol of the validation firmware, host side: CRC-32, frames and the streaming decoder, and a
 * session over a real pseudo-terminal pair with a fake board on the other end (test/fixtures/validate/fake_board.py),
 * including the fault cases: a corrupted frame, a truncated frame, a firmware that stops answering, a fault report,
 * a port that does not exist. No image is silently skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32, decodeResult, encodeFrame, FRAME, FrameDecoder } from '../src/validate/protocol.js';
import { openSerialLink, type Link } from '../src/validate/link.js';
import { Session, SessionError } from '../src/validate/session.js';
import { validateBatch } from '../src/validate/run.js';
import { modelFingerprint } from '../src/emit/fingerprint.js';
import { prepareSynthetic } from '../src/prepare/index.js';
import { UserError } from '../src/errors.js';
import { runValidate, type ValidateFlags } from '../src/validate/cli.js';
import { calibrateImages } from '../src/eval/prepare.js';
import { writeRanges } from '../src/quantize/ranges-file.js';
import { prepareImageModel } from '../src/prepare/image-model.js';
import { runGolden, topK } from '../src/golden/run.js';
import { formatEval } from '../src/eval/eval.js';
import { tinyEvalFixture } from './helpers/tiny-eval.js';

const FAKE = new URL('./fixtures/validate/fake_board.py', import.meta.url).pathname;

describe('frames', () => {
  it('CRC-32 is zlib\'s (IEEE 802.3)', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('decodes frames split anywhere, with text lines between them', () => {
    const payload = Buffer.from([1, 2, 3, 0xa5, 0x5a, 0x0a]);
    const stream = Buffer.concat([Buffer.from('sqzfw clock: ok\nhello '), encodeFrame(FRAME.RESULT, 7, payload), Buffer.from('world\n'), encodeFrame(FRAME.ACK, 8)]);
    for (const chunk of [1, 3, 7, stream.length]) {
      const d = new FrameDecoder();
      const ev = [];
      for (let i = 0; i < stream.length; i += chunk) ev.push(...d.push(stream.subarray(i, i + chunk)));
      expect(ev).toEqual([
        { kind: 'text', line: 'sqzfw clock: ok' },
        { kind: 'frame', frame: { type: FRAME.RESULT, seq: 7, payload } },
        { kind: 'text', line: 'hello world' },
        { kind: 'frame', frame: { type: FRAME.ACK, seq: 8, payload: Buffer.alloc(0) } },
      ]);
    }
  });

  it('reports a frame with a bad CRC and resynchronizes on the next one', () => {
    const bad = encodeFrame(FRAME.RESULT, 1, Buffer.from('abc'));
    bad[11] ^= 0x40; // a payload bit flips on the line
    const d = new FrameDecoder();
    const ev = d.push(Buffer.concat([bad, encodeFrame(FRAME.ACK, 2)]));
    expect(ev[0]).toMatchObject({ kind: 'corrupt', seq: 1, why: expect.stringMatching(/CRC-32/) });
    expect(ev.at(-1)).toMatchObject({ kind: 'frame', frame: { type: FRAME.ACK, seq: 2 } });
    // A truncated frame stays pending, with how much arrived.
    const t = new FrameDecoder();
    t.push(encodeFrame(FRAME.RESULT, 3, Buffer.alloc(100)).subarray(0, 50));
    expect(t.pending()).toEqual({ have: 50, need: 114 });
  });

  it('decodes a RESULT into status, ticks, cycles and outputs', () => {
    const p = Buffer.alloc(28 + 5);
    p.writeInt32LE(0, 0);
    p.writeInt32LE(-1, 4);
    p.writeBigUInt64LE(123n, 8);
    p.writeBigUInt64LE(456n, 16);
    p.writeUInt32LE(1, 24);
    Buffer.from([1, 255, 3, 4, 128]).copy(p, 28);
    const r = decodeResult(p, [2, 3]);
    expect(r).toMatchObject({ status: 0, failedStep: -1, ticks: 123, cycles: 456, cyclesCounting: true });
    expect(r.outputs.map((o) => [...o])).toEqual([[1, -1], [3, 4, -128]]);
    expect(() => decodeResult(p, [2, 2])).toThrow(/expected 32/);
  });
});

// ---- a fake board on a pseudo-terminal -------------------------------------------------------------------------

const children: ChildProcess[] = [];
const links: Link[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) await l.close();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function fakeBoard(fingerprint: number, inputBytes: number, outBytes: number, faults: string[] = []): Promise<string> {
  const child = spawn('python3', [FAKE, String(fingerprint), String(inputBytes), String(outBytes), ...faults], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const rl = createInterface({ input: child.stdout! });
  const port = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('error', reject);
    child.once('exit', (c) => reject(new Error(`fake board exited ${c}`)));
  });
  expect(port).toMatch(/^\/dev\/pts\/\d+$/);
  return port;
}

const input = (n: number, k: number): Int8Array => new Int8Array(n).map((_, i) => ((i * 31 + k) & 0xff) - 128);
const expectedOut = (x: Int8Array, n: number): number[] => [...x.slice(0, n)].reverse();

async function session(port: string): Promise<Session> {
  const link = openSerialLink(port, 115200);
  links.push(link);
  const s = new Session(link);
  await s.hello(5000);
  return s;
}

const sessionError = async (p: Promise<unknown>): Promise<SessionError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SessionError);
    return e as SessionError;
  }
  throw new Error('expected a SessionError');
};

describe('a session over a serial port (pseudo-terminal)', () => {
  it('says HELLO, streams inputs and reads every output byte back', async () => {
    const s = await session(await fakeBoard(0x1234abcd, 3000, 10));
    expect(s.info).toMatchObject({ fingerprint: 0x1234abcd, inputBytes: 3000, outputBytes: [10], cpuHz: 64e6, model: 'fake-model', board: 'fake-board' });
    expect(s.text).toContain('sqzfw validate fake-model fake-board');
    for (let k = 0; k < 3; k++) {
      const x = input(3000, k);
      const r = await s.infer(x, 5000);
      expect([...r.outputs[0]!]).toEqual(expectedOut(x, 10));
      expect(r.ticks).toBe(1001 + k);
    }
    await s.bye(5000);
  });

  it('a corrupted answer fails that request only; the next one goes through', async () => {
    const s = await session(await fakeBoard(1, 100, 4, ['badcrc@2']));
    await s.infer(input(100, 1), 5000);
    const e = await sessionError(s.infer(input(100, 2), 5000));
    expect(e.kind).toBe('corrupt');
    expect(e.recoverable).toBe(true);
    expect(e.message).toMatch(/arrived corrupted \(CRC-32 0x[0-9a-f]{8} instead of 0x[0-9a-f]{8}\)/);
    const x = input(100, 3);
    expect([...(await s.infer(x, 5000)).outputs[0]!]).toEqual(expectedOut(x, 4));
  });

  it('the board rejects a frame of the wrong length with an ERROR frame', async () => {
    const s = await session(await fakeBoard(1, 100, 4));
    const e = await sessionError(s.infer(input(99, 0), 5000));
    expect(e.kind).toBe('device');
    expect(e.message).toMatch(/the firmware rejected an inference: the frame it received has the wrong length \(detail 99\)/);
  });

  it('a truncated answer is a timeout that says how much arrived', async () => {
    const s = await session(await fakeBoard(1, 100, 40, ['truncate@1']));
    const e = await sessionError(s.infer(input(100, 0), 1500));
    expect(e.kind).toBe('timeout');
    expect(e.recoverable).toBe(false);
    expect(e.message).toMatch(/truncated frame from the firmware: 41 of 82 bytes of the answer to an inference arrived, then nothing for 1\.5 s/);
  });

  it('a firmware that stops answering times out with a clear message', async () => {
    const s = await session(await fakeBoard(1, 100, 4, ['silent@1']));
    const e = await sessionError(s.infer(input(100, 0), 1000));
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/the firmware did not answer an inference within 1\.0 s; it printed: "sqzfw validate fake-model fake-board"/);
  });

  it('a fault report ends the request at once', async () => {
    const s = await session(await fakeBoard(1, 100, 4, ['text@1']));
    const e = await sessionError(s.infer(input(100, 0), 20_000));
    expect(e.kind).toBe('fault');
    expect(e.message).toMatch(/firmware faulted: HardFault pc=0x08001234/);
  });

  it('a port that does not exist, and one that is not a serial port', () => {
    expect(() => openSerialLink('/dev/ttyNOPE-sqzfw', 115200)).toThrow(UserError);
    expect(() => openSerialLink('/dev/ttyNOPE-sqzfw', 115200)).toThrow(/serial port \/dev\/ttyNOPE-sqzfw does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'sqzfw-port-'));
    expect(() => openSerialLink(dir, 115200)).toThrow(UserError);
    expect(() => openSerialLink('/dev/null', 115200)).toThrow(/cannot configure \/dev\/null as a serial port/);
    expect(() => openSerialLink('/dev/null', 12345)).toThrow(/--baud 12345 is not a standard rate/);
  });
});

describe('validateBatch on a board over a serial port', () => {
  const p = prepareSynthetic({ variant: 'v1.1', inputSize: 32, classes: 10, seed: 3 });
  const inBytes = p.input.length;
  const outBytes = 10;
  const inputs = [0, 1, 2].map((k) => ({ name: `img${k}.bin`, input: input(inBytes, k) }));
  const model = { ...p.model, outputs: [p.model.outputs[0]!] };
  const batch = async (faults: string[], fp = modelFingerprint(model)) =>
    validateBatch({ model, inputs, board: 'nucleo-h743zi', target: { kind: 'port', port: await fakeBoard(fp, inBytes, outBytes, [...faults, 'board=nucleo-h743zi']), baud: 921600 }, workDir: tmpdir(), timeoutS: 2 });

  it('answers every input, with the board clock and measured cycles; a corrupted answer fails that image, not silently', async () => {
    const r = await batch(['badcrc@2']);
    expect(r.results.map((x) => x.name)).toEqual(['img0.bin', 'img1.bin', 'img2.bin']);
    expect(r.results[1]).toMatchObject({ name: 'img1.bin', error: expect.stringMatching(/corrupted/) });
    const ok = r.results[0]!;
    if (!('outputs' in ok)) throw new Error('img0 failed');
    expect([...Object.values(ok.outputs)[0]!]).toEqual(expectedOut(inputs[0]!.input, outBytes));
    expect(ok.latency).toMatchObject({ cycles: 2001, msKind: 'measured', clockHz: 64e6 });
    expect(ok.latency.ms).toBeCloseTo((2001 / 64e6) * 1000, 9);
  });

  it('a board that stops answering stops the run, naming the image and how many were done', async () => {
    const e = await batch(['silent@2']).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(/did not answer an inference within .* \(image img1\.bin: 1 of 3 done\)/);
  });

  it('refuses a board running another model', async () => {
    await expect(batch([], 0xdeadbeef)).rejects.toThrow(/the firmware runs model fake-model \(fingerprint 0xdeadbeef/);
  });
});

describe('sqzfw validate (CLI) fails fast on bad arguments', () => {
  const run = async (args: string[]): Promise<unknown> => {
    const { Command } = await import('commander');
    const { registerValidateCommand } = await import('../src/validate/cli.js');
    const program = new Command().exitOverride();
    registerValidateCommand(program);
    return program.parseAsync(['node', 'sqzfw', 'validate', '--model', 'm.onnx', '--images', 'imgs', ...args]).then(() => undefined, (e: unknown) => e);
  };
  it('needs --emulate or --port, and checks the port before calibrating', async () => {
    expect(await run([])).toMatchObject({ message: 'say where the firmware runs', hint: expect.stringMatching(/--emulate .* or --port/) });
    expect(await run(['--emulate', '--port', '/dev/ttyACM0'])).toMatchObject({ message: '--emulate and --port exclude each other' });
    expect(await run(['--port', '/dev/ttyNOPE-sqzfw'])).toMatchObject({ message: 'serial port /dev/ttyNOPE-sqzfw does not exist' });
    expect(await run(['--port', '/dev/ttyNOPE-sqzfw', '--baud', '12345'])).toMatchObject({ message: '--baud 12345 is not a standard rate' });
  });
});

describe('sqzfw validate --ranges: the saved calibration, not a new one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqzfw-validate-ranges-'));
  const fx = tinyEvalFixture(dir);
  const ranges = join(dir, 'ranges.json');
  const flags = (port: string, more: Partial<ValidateFlags> = {}): ValidateFlags => ({ model: fx.model, images: fx.images, calibCount: 100, port, baud: 115200, board: 'nucleo-h743zi', timeout: 5, progress: false, jobs: 1, ...more });

  it('quantizes from the file (no calibration pass): the board running firmware of the same ranges is accepted, and the golden outputs are those of the model prepared from them', async () => {
    // Calibrated on 2 of the 5 images with minmax: not what validate would calibrate (all 5 images, mse).
    const cal = await calibrateImages({ model: fx.model, images: fx.images, count: 2, method: 'minmax', jobs: 1 });
    writeRanges(ranges, cal.float, cal.calibrator.ranges(), { method: cal.method, images: cal.images });
    const images = [0, 1, 2, 3, 4].map((i) => prepareImageModel({ model: fx.model, image: join(fx.images, `img${i}.jpg`), ranges }));
    const q = images[0]!.model;
    const outBytes = q.tensors[q.outputs[0]!]!.dims.c;
    const board = () => fakeBoard(modelFingerprint(q), images[0]!.input.length, outBytes, ['board=nucleo-h743zi']);

    const r = await runValidate(flags(await board(), { ranges }));
    expect(r.calibration.source).toBe(`the ranges in ${ranges} (minmax, 2 images; not held out)`);
    // No calibrator ran: no calibration time; one model, with the file's method and image count.
    expect(r.calibration).toMatchObject({ method: 'minmax', models: 1, imagesPerModel: [2], seconds: [] });
    expect(r.firmware).toMatchObject({ n: 5, builds: 0 });
    expect(formatEval(r).split('\n')).toContain(`calibration  minmax, the ranges in ${ranges} (minmax, 2 images; not held out)`);
    for (const [i, p] of r.perImage.entries()) {
      const prepared = images[i]!;
      expect(p.int8).toEqual(topK(runGolden(q, prepared.input)[r.model.scoreTensor]!, 5));
      // The fake board answers the first bytes of the input it received, reversed: the input sent was quantized with the file's input range.
      expect(p.firmware!.top5).toEqual(topK([...prepared.input.slice(0, outBytes)].reverse(), 5));
    }

    // Without --ranges validate calibrates on the images, a different int8 model: the same board is refused.
    await expect(runValidate(flags(await board()))).rejects.toThrow(/the firmware runs model fake-model .* not this one/);
  }, 120_000);

  const cli = async (args: string[]): Promise<unknown> => {
    const { Command } = await import('commander');
    const { registerValidateCommand } = await import('../src/validate/cli.js');
    const program = new Command().exitOverride();
    registerValidateCommand(program);
    return program.parseAsync(['node', 'sqzfw', 'validate', '--images', fx.images, '--emulate', ...args]).then(() => undefined, (e: unknown) => e);
  };

  it('CLI: a bad ranges file, and the options it leaves nothing to do, are one-line errors before any work', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"format": "sqzfw-ranges/1", "graph"');
    expect(await cli(['--model', fx.model, '--ranges', join(dir, 'nope.json')])).toMatchObject({ message: expect.stringMatching(/^cannot read ranges file .*nope\.json/), hint: expect.stringMatching(/sqzfw calibrate .* --out ranges\.json/) });
    expect(await cli(['--model', fx.model, '--ranges', join(dir, 'broken.json')])).toMatchObject({ message: expect.stringMatching(/^cannot read ranges file .*broken\.json: .*JSON/) });
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ format: 'sqzfw-ranges/1', graph: 'other', method: 'mse', images: 1, ranges: { x: { min: -1, max: 1 } } }));
    expect(await cli(['--model', fx.model, '--ranges', join(dir, 'other.json')])).toMatchObject({ message: expect.stringMatching(/has no range for \d+ tensor\(s\)/) });
    expect(await cli(['--model', fx.model, '--ranges', join(dir, 'other.json'), '--calib', fx.images])).toMatchObject({ message: '--ranges and --calib both choose the calibration' });
    expect(await cli(['--model', fx.model, '--ranges', join(dir, 'other.json'), '--calib-count', '3'])).toMatchObject({ message: `--calib-count does not apply with --ranges ${join(dir, 'other.json')}: the saved ranges replace calibrating`, exitCode: 2 });
    expect(await cli(['--model', join(dir, 'm.tflite'), '--ranges', join(dir, 'other.json')])).toMatchObject({ message: '--ranges does not apply to a .tflite model: its quantization is used as stored' });
    expect(await cli(['--model', join(dir, 'm.tflite')])).toMatchObject({ message: `sqzfw validate takes an ONNX model, not ${join(dir, 'm.tflite')}` });
  });
});
