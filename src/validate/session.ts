/**
 * One conversation with a validation firmware over a Link: HELLO -> INFO, INFER -> RESULT, BYE -> ACK, one request
 * at a time, each with a timeout. Every failure is a SessionError saying what happened on the line:
 *   corrupt  an answer failed its CRC-32 (or had an impossible length): that request failed, the link is usable
 *   device   the firmware answered ERROR (it received a corrupted, truncated or wrong frame): same
 *   timeout  no answer, or an answer that stopped arriving (truncated), within the time limit: the firmware is stuck
 *   fault    the firmware printed a fault report
 *   closed   the link went away (QEMU exited, the port was unplugged)
 */
import { UserError } from '../errors.js';
import type { Link } from './link.js';
import { decodeDeviceError, decodeInfo, decodeResult, encodeFrame, FRAME, FrameDecoder, type DeviceInfo, type DeviceResult, type Frame } from './protocol.js';

export type SessionErrorKind = 'corrupt' | 'device' | 'timeout' | 'fault' | 'closed' | 'protocol';

export class SessionError extends UserError {
  constructor(
    readonly kind: SessionErrorKind,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
  /** The link can carry the next request (the firmware is alive and listening). */
  get recoverable(): boolean {
    return this.kind === 'corrupt' || this.kind === 'device';
  }
}

interface Pending {
  seq: number;
  what: string;
  resolve: (f: Frame) => void;
  reject: (e: SessionError) => void;
}

export class Session {
  private readonly decoder = new FrameDecoder();
  private pending: Pending | undefined;
  private seq = 0;
  private closedWhy: string | undefined;
  /** Text lines the firmware printed between frames (start-up messages, clock fallback, faults). */
  readonly text: string[] = [];
  info: DeviceInfo | undefined;

  constructor(
    private readonly link: Link,
    private readonly log: (line: string) => void = () => {},
  ) {
    link.onData((d) => this.onData(d));
    link.onClose((why) => {
      this.closedWhy = why;
      this.fail(new SessionError('closed', `the link to the firmware went away during ${this.pending?.what ?? 'the session'}: ${why}`, 'check the board connection (or QEMU\'s message)'));
    });
  }

  async hello(timeoutMs: number): Promise<DeviceInfo> {
    const f = await this.request(FRAME.HELLO, new Uint8Array(0), FRAME.INFO, 'HELLO', timeoutMs);
    try {
      this.info = decodeInfo(f.payload);
    } catch (e) {
      throw new SessionError('protocol', `malformed INFO from the firmware: ${(e as Error).message}`, 'the firmware and sqzfw versions may not match: regenerate and rebuild');
    }
    return this.info;
  }

  /** `afterWrite` runs once the input has been handed to the link, while the firmware computes. */
  async infer(input: Int8Array, timeoutMs: number, afterWrite?: () => void): Promise<DeviceResult> {
    if (!this.info) throw new Error('hello() first');
    const f = await this.request(FRAME.INFER, new Uint8Array(input.buffer, input.byteOffset, input.length), FRAME.RESULT, 'an inference', timeoutMs, afterWrite);
    try {
      return decodeResult(f.payload, this.info.outputBytes);
    } catch (e) {
      throw new SessionError('protocol', `malformed RESULT from the firmware: ${(e as Error).message}`, 'the firmware and sqzfw versions may not match');
    }
  }

  async bye(timeoutMs: number): Promise<void> {
    await this.request(FRAME.BYE, new Uint8Array(0), FRAME.ACK, 'BYE', timeoutMs);
  }

  private request(type: number, payload: Uint8Array, answer: number, what: string, timeoutMs: number, afterWrite?: () => void): Promise<Frame> {
    if (this.closedWhy) return Promise.reject(new SessionError('closed', `the link to the firmware is closed: ${this.closedWhy}`));
    const seq = (this.seq = (this.seq + 1) & 0xffff);
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.decoder.pending();
        const s = (timeoutMs / 1000).toFixed(1);
        this.fail(
          p
            ? new SessionError('timeout', `truncated frame from the firmware: ${p.have} of ${p.need} bytes of the answer to ${what} arrived, then nothing for ${s} s`, 'the board reset or the line dropped bytes: check the cable, lower --baud')
            : new SessionError('timeout', `the firmware did not answer ${what} within ${s} s${this.lastText()}`, 'is the validation firmware (--app validate) running on it, at this baud rate? Raise --timeout if the model is just slow'),
        );
      }, timeoutMs);
      this.pending = {
        seq,
        what,
        resolve: (f) => {
          clearTimeout(timer);
          if (f.type === answer) return resolve(f);
          if (f.type === FRAME.ERROR) {
            const e = decodeDeviceError(f.payload);
            return reject(new SessionError('device', `the firmware rejected ${what}: ${e.text} (detail ${e.detail})`, e.code === 5 ? 'rebuild with the bundled CMSIS-NN, or regenerate' : 'the line corrupts bytes: check the cable, lower --baud'));
          }
          reject(new SessionError('protocol', `the firmware answered ${what} with frame type 0x${f.type.toString(16)}`, 'the firmware and sqzfw versions may not match'));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.link.write(encodeFrame(type, seq, payload)).then(
        () => afterWrite?.(),
        (e: Error) => this.fail(new SessionError('closed', `cannot write to ${this.link.description}: ${e.message}`)),
      );
    });
  }

  private lastText(): string {
    const t = [...this.text.slice(-3), this.decoder.partialText()].filter((l) => l.trim());
    return t.length ? `; it printed: ${t.map((l) => JSON.stringify(l.slice(0, 120))).join(', ')}` : '';
  }

  private fail(e: SessionError): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  private onData(d: Buffer): void {
    for (const ev of this.decoder.push(d)) {
      if (ev.kind === 'text') {
        this.text.push(ev.line);
        if (ev.line.trim()) this.log(ev.line);
        if (ev.line.startsWith('sqzfw: fault '))
          this.fail(new SessionError('fault', `firmware faulted: ${ev.line.slice('sqzfw: fault '.length)}`, 'look the pc up with arm-none-eabi-addr2line -e build/firmware.elf <pc>'));
      } else if (ev.kind === 'corrupt') {
        if (this.pending && ev.seq === this.pending.seq)
          this.fail(new SessionError('corrupt', `the answer to ${this.pending.what} arrived corrupted (${ev.why})`, 'the line corrupts bytes: check the cable, lower --baud'));
        else this.fail(new SessionError('corrupt', `a corrupted frame arrived (${ev.why})`, 'the line corrupts bytes: check the cable, lower --baud'));
      } else if (this.pending && ev.frame.seq === this.pending.seq) {
        const p = this.pending;
        this.pending = undefined;
        p.resolve(ev.frame);
      }
      // A frame for no pending request (a late answer after a timeout): dropped.
    }
  }
}
