/**
 * `sqzfw flash --monitor`: read the board's UART after programming and report the demo's lines (result, check,
 * cycles). The port is opened and configured before the flash steps run, so nothing printed right after the reset
 * is lost; the report is the line protocol parsed by parseFirmwareOutput.
 */
import { UserError } from '../errors.js';
import type { Board } from '../boards/index.js';
import { parseFirmwareOutput, type FirmwareReport } from '../emulate/qemu.js';
import { commandLine } from './index.js';
import { openSerialLink, sttyArgs, type Link } from '../validate/link.js';

/** ST-LINK and J-Link virtual COM ports enumerate as ttyACM on Linux. */
export const DEFAULT_PORT = '/dev/ttyACM0';

export interface MonitorOptions {
  port: string;
  baud: number;
  timeoutS: number;
}

export const monitorBaud = (board: Board, baud?: number): number => baud ?? board.uart.baud ?? 115200;

/** What the monitor does, as shell commands (for --dry-run). */
export function monitorCommands(o: MonitorOptions): string[] {
  return [commandLine(['stty', ...sttyArgs(o.port, o.baud)]), `timeout ${o.timeoutS} cat ${o.port}   # until "sqzfw end" or a fault line`];
}

const END = /^(sqzfw end -?\d+|sqzfw: fault [^\n]*)\r?$/m;

export class Monitor {
  private text = '';
  private closedWhy: string | undefined;
  private wake: (() => void) | undefined;
  private constructor(
    private readonly link: Link,
    private readonly o: MonitorOptions,
  ) {
    link.onData((d) => {
      this.text += d.toString('latin1');
      this.wake?.();
    });
    link.onClose((why) => {
      this.closedWhy = why;
      this.wake?.();
    });
  }

  /** Open and configure the port (UserError when it is missing, busy or not a serial port). */
  static open(o: MonitorOptions): Monitor {
    return new Monitor(openSerialLink(o.port, o.baud), o);
  }

  /** Wait for `sqzfw end` (or a fault line) and parse everything since `sqzfw begin`. */
  async report(): Promise<FirmwareReport> {
    const deadline = Date.now() + this.o.timeoutS * 1000;
    try {
      while (!END.test(this.text)) {
        if (this.closedWhy) throw new UserError(`the serial port closed before the board finished: ${this.closedWhy}${this.lastLines()}`, 'the board reset or was unplugged');
        const left = deadline - Date.now();
        if (left <= 0)
          throw new UserError(
            `no "sqzfw end" from the board on ${this.o.port} within ${this.o.timeoutS} s${this.lastLines()}`,
            this.text.trim() ? 'the firmware may still be running: raise --monitor-timeout' : `nothing arrived: is ${this.o.port} the board's virtual COM port, at ${this.o.baud} baud? Is the demo app (not validate) flashed?`,
          );
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(left, 500));
          this.wake = () => (clearTimeout(t), r());
        });
        this.wake = undefined;
      }
      return parseFirmwareOutput(this.text);
    } finally {
      await this.link.close();
    }
  }

  async close(): Promise<void> {
    await this.link.close();
  }

  private lastLines(): string {
    const l = this.text.replace(/\r/g, '').split('\n').filter((x) => x.trim()).slice(-4);
    return l.length ? `; last output:\n${l.map((x) => `  ${x.slice(0, 160)}`).join('\n')}` : ' (no output)';
  }
}

/** The report as lines for people: result, check, cycles and time at the board's clock. */
export function monitorLines(r: FirmwareReport, board: Board): string[] {
  const lines: string[] = [];
  const labels = r.labels ?? [];
  lines.push(`result: top5 ${r.top5.map((t, i) => `${t.index}${labels[i] ? ` (${labels[i]})` : ''}:${t.value}`).join('  ')}`);
  // The firmware's dequantized top 5: logits, and probabilities where the model has a softmax.
  for (const s of r.scores ?? []) lines.push(`result: ${s.kind === 'prob' ? 'probabilities' : 'logits'} ${s.classes.map((c) => `${c.index}:${c.value.toFixed(4)}`).join('  ')}`);
  if (r.check) lines.push(`check: ${r.check === 'ok' ? 'ok (every output byte equals the golden model)' : 'MISMATCH (the firmware differs from the golden model)'}`);
  if (r.cycles !== undefined) lines.push(`cycles: ${r.cycles.toLocaleString('en-US')} per inference = ${((r.cycles / board.cpu.clockHz) * 1000).toFixed(1)} ms at ${board.cpu.clockHz / 1e6} MHz (DWT, measured)`);
  else if (r.cyclesNote) lines.push(`cycles: unavailable (${r.cyclesNote})`);
  for (const e of r.errors) lines.push(`firmware error: ${e}`);
  return lines;
}
