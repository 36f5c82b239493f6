/**
 * Host side of the framed UART protocol of the validation firmware (firmware/runtime/sqzfw_frame.h describes the
 * bytes): CRC-32, frame encoding, a streaming decoder that separates frames from the text lines the firmware may
 * print between them, and the payloads of INFO and RESULT.
 */
import { hex32 } from '../util/format.js';

export const MAGIC = [0xa5, 0x5a] as const;
export const HEADER_BYTES = 10;
export const PROTOCOL_VERSION = 1;
/** Largest payload accepted from a device: anything longer is a corrupted length field. */
export const MAX_PAYLOAD = 64 << 20;

export const FRAME = { HELLO: 0x01, INFER: 0x02, BYE: 0x03, INFO: 0x81, RESULT: 0x82, ACK: 0x83, ERROR: 0xee } as const;
export const DEVICE_ERRORS: Record<number, string> = {
  1: 'the frame it received failed its CRC-32 (corrupted on the line)',
  2: 'the frame it received has the wrong length',
  3: 'the frame type is unknown to it',
  4: 'the frame it received stopped arriving (truncated)',
  5: 'the linked CMSIS-NN needs more scratch than planned',
};

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, zlib's crc32). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export interface Frame {
  type: number;
  seq: number;
  payload: Buffer;
}

export function encodeFrame(type: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + payload.length + 4);
  out[0] = MAGIC[0];
  out[1] = MAGIC[1];
  out[2] = type;
  out[3] = 0;
  out.writeUInt16LE(seq & 0xffff, 4);
  out.writeUInt32LE(payload.length, 6);
  out.set(payload, HEADER_BYTES);
  out.writeUInt32LE(crc32(out.subarray(2, HEADER_BYTES + payload.length)), HEADER_BYTES + payload.length);
  return out;
}

export type DecoderEvent =
  | { kind: 'frame'; frame: Frame }
  /** A frame whose CRC (or length field) is wrong: its bytes are dropped and decoding resumes after its magic. */
  | { kind: 'corrupt'; type: number; seq: number; why: string }
  | { kind: 'text'; line: string };

/** Streaming decoder: push bytes as they arrive, get frames, corrupt frames and complete text lines. */
export class FrameDecoder {
  private buf = Buffer.alloc(0);
  private text = '';

  push(data: Uint8Array): DecoderEvent[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : Buffer.from(data);
    const out: DecoderEvent[] = [];
    for (;;) {
      const at = this.findMagic();
      if (at < 0) {
        // Keep a trailing 0xA5: it may start a magic.
        const keep = this.buf.length && this.buf[this.buf.length - 1] === MAGIC[0] ? 1 : 0;
        this.addText(this.buf.subarray(0, this.buf.length - keep), out);
        this.buf = this.buf.subarray(this.buf.length - keep);
        return out;
      }
      if (at > 0) {
        this.addText(this.buf.subarray(0, at), out);
        this.buf = this.buf.subarray(at);
      }
      if (this.buf.length < HEADER_BYTES) return out;
      const type = this.buf[2]!;
      const seq = this.buf.readUInt16LE(4);
      const len = this.buf.readUInt32LE(6);
      if (len > MAX_PAYLOAD) {
        out.push({ kind: 'corrupt', type, seq, why: `length field ${len} is impossible` });
        this.buf = this.buf.subarray(2);
        continue;
      }
      if (this.buf.length < HEADER_BYTES + len + 4) return out;
      const body = this.buf.subarray(2, HEADER_BYTES + len);
      const want = this.buf.readUInt32LE(HEADER_BYTES + len);
      const got = crc32(body);
      if (got !== want) {
        out.push({ kind: 'corrupt', type, seq, why: `CRC-32 ${hex32(got)} instead of ${hex32(want)}` });
        this.buf = this.buf.subarray(2);
        continue;
      }
      out.push({ kind: 'frame', frame: { type, seq, payload: Buffer.from(this.buf.subarray(HEADER_BYTES, HEADER_BYTES + len)) } });
      this.buf = this.buf.subarray(HEADER_BYTES + len + 4);
    }
  }

  /** Bytes of a frame begun but not complete (0: none). */
  pending(): { have: number; need: number } | undefined {
    if (this.buf.length < 2 || this.buf[0] !== MAGIC[0] || this.buf[1] !== MAGIC[1]) return undefined;
    const need = this.buf.length >= HEADER_BYTES ? HEADER_BYTES + this.buf.readUInt32LE(6) + 4 : HEADER_BYTES;
    return { have: this.buf.length, need };
  }

  /** Text received but not yet ended by a newline. */
  partialText(): string {
    return this.text;
  }

  private findMagic(): number {
    for (let i = 0; i + 1 < this.buf.length; i++) if (this.buf[i] === MAGIC[0] && this.buf[i + 1] === MAGIC[1]) return i;
    return -1;
  }

  private addText(b: Uint8Array, out: DecoderEvent[]): void {
    if (!b.length) return;
    this.text += Buffer.from(b).toString('latin1').replace(/\r/g, '');
    let nl: number;
    while ((nl = this.text.indexOf('\n')) >= 0) {
      out.push({ kind: 'text', line: this.text.slice(0, nl) });
      this.text = this.text.slice(nl + 1);
    }
  }
}

export interface DeviceInfo {
  version: number;
  fingerprint: number;
  inputBytes: number;
  outputCount: number;
  cpuHz: number;
  tickHz: number;
  /** 0: the configured clock runs; else the clock set-up step that timed out (the firmware runs at its reset clock). */
  clockFailedStep: number;
  /** -1, or the first step whose scratch the linked CMSIS-NN finds too small. */
  badScratchStep: number;
  cyclesCounting: boolean;
  outputBytes: number[];
  model: string;
  board: string;
}

export function decodeInfo(p: Buffer): DeviceInfo {
  if (p.length < 40) throw new Error(`INFO payload of ${p.length} bytes is too short`);
  const u = (i: number) => p.readUInt32LE(4 * i);
  const outputCount = u(3);
  const sizesAt = 40;
  if (p.length < sizesAt + 4 * outputCount) throw new Error('INFO payload too short for its output sizes');
  const outputBytes = Array.from({ length: outputCount }, (_, i) => p.readUInt32LE(sizesAt + 4 * i));
  const [model = '', board = ''] = p.subarray(sizesAt + 4 * outputCount).toString('latin1').split('\0');
  return {
    version: u(0),
    fingerprint: u(1),
    inputBytes: u(2),
    outputCount,
    cpuHz: u(4),
    tickHz: u(5),
    clockFailedStep: p.readInt32LE(24),
    badScratchStep: p.readInt32LE(28),
    cyclesCounting: (u(8) & 1) === 1,
    outputBytes,
    model,
    board,
  };
}

export interface DeviceResult {
  status: number;
  failedStep: number;
  ticks: number;
  cycles: number;
  cyclesCounting: boolean;
  /** Every output's bytes, in the firmware's output order. */
  outputs: Int8Array[];
}

export function decodeResult(p: Buffer, outputBytes: number[]): DeviceResult {
  const total = outputBytes.reduce((a, b) => a + b, 0);
  if (p.length !== 28 + total) throw new Error(`RESULT payload has ${p.length} bytes, expected ${28 + total}`);
  const outputs: Int8Array[] = [];
  let at = 28;
  for (const n of outputBytes) {
    outputs.push(new Int8Array(p.buffer.slice(p.byteOffset + at, p.byteOffset + at + n)));
    at += n;
  }
  return {
    status: p.readInt32LE(0),
    failedStep: p.readInt32LE(4),
    ticks: Number(p.readBigUInt64LE(8)),
    cycles: Number(p.readBigUInt64LE(16)),
    cyclesCounting: (p.readUInt32LE(24) & 1) === 1,
    outputs,
  };
}

export function decodeDeviceError(p: Buffer): { code: number; detail: number; text: string } {
  const code = p.length >= 1 ? p[0]! : 0;
  const detail = p.length >= 8 ? p.readUInt32LE(4) : 0;
  return { code, detail, text: DEVICE_ERRORS[code] ?? `error code ${code}` };
}
