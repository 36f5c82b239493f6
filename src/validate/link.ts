/**
 * Byte links to a validation firmware: a serial port (a board's USB virtual COM port) or QEMU's UART on a Unix
 * socket. A serial port is configured with `stty` (raw, 8N1, the baud rate) and read through Node's TTY stream, so
 * no native npm module is needed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, write as fsWrite } from 'node:fs';
import { ReadStream as TtyReadStream } from 'node:tty';
import { createConnection, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Board } from '../boards/index.js';
import { QEMU } from '../emulate/qemu.js';

export interface Link {
  /** For messages: "/dev/ttyACM0 at 115200 baud", "QEMU mps2-an500 UART (socket)". */
  readonly description: string;
  write(data: Buffer): Promise<void>;
  onData(cb: (d: Buffer) => void): void;
  /** Called once when the other end goes away (QEMU exited, port closed), with why. */
  onClose(cb: (why: string) => void): void;
  close(): Promise<void>;
}

/** Standard baud rates stty accepts. */
export const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 3000000, 4000000];

/** The stty command that configures a port (also printed by dry runs). */
export const sttyArgs = (port: string, baud: number): string[] => ['-F', port, String(baud), 'raw', '-echo', '-echoe', '-echok', '-echoctl', '-echoke', '-ixon', '-ixoff', '-crtscts', 'cs8', '-cstopb', '-parenb', 'clocal', 'cread', 'min', '1', 'time', '0'];

class StreamLink implements Link {
  private closed = false;
  private closeCbs: ((why: string) => void)[] = [];
  constructor(
    readonly description: string,
    private readonly sock: Socket,
    private readonly cleanup: () => Promise<void> = async () => {},
    private readonly writer?: (data: Buffer) => Promise<void>,
  ) {
    sock.on('close', () => this.fireClose(`${description} closed`));
    sock.on('error', (e) => this.fireClose(`${description}: ${e.message}`));
  }
  fireClose(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closeCbs) cb(why);
  }
  write(data: Buffer): Promise<void> {
    if (this.writer) return this.writer(data);
    return new Promise((resolve, reject) => this.sock.write(data, (e) => (e ? reject(e) : resolve())));
  }
  onData(cb: (d: Buffer) => void): void {
    this.sock.on('data', cb);
  }
  onClose(cb: (why: string) => void): void {
    this.closeCbs.push(cb);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.sock.destroy();
    await this.cleanup();
  }
}

/** Open and configure a serial port; UserError when it does not exist, is busy or is not accessible. */
export function openSerialLink(port: string, baud: number): Link {
  if (!BAUD_RATES.includes(baud)) throw new UserError(`--baud ${baud} is not a standard rate`, `use one of ${BAUD_RATES.join(', ')}`);
  let fd: number;
  try {
    fd = openSync(port, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV')
      throw new UserError(`serial port ${port} does not exist`, "connect the board's USB port; its virtual COM port is usually /dev/ttyACM0 (ST-LINK, J-Link) or /dev/ttyUSB0: ls /dev/ttyACM* /dev/ttyUSB*");
    if (code === 'EBUSY') throw new UserError(`serial port ${port} is busy`, 'another program has it open (screen, minicom, a serial monitor, ModemManager): close it and retry');
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`no permission to open serial port ${port}`, 'add yourself to the dialout group (sudo usermod -aG dialout $USER, then log in again)');
    throw new UserError(`cannot open serial port ${port}: ${(e as Error).message}`, 'check the port name');
  }
  const stty = spawnSync('stty', sttyArgs(port, baud), { encoding: 'utf8' });
  if (stty.status !== 0) {
    closeSync(fd);
    const why = (stty.stderr || stty.error?.message || '').trim().split('\n')[0];
    throw new UserError(`cannot configure ${port} as a serial port: ${why}`, `is ${port} a serial device? (stty ${sttyArgs(port, baud).join(' ')})`);
  }
  // Reads through Node's TTY stream (non-blocking, on the event loop); writes through a second, blocking descriptor
  // on the thread pool (a TTY stream is read-only).
  const sock = new TtyReadStream(fd);
  const wfd = openSync(port, constants.O_WRONLY | constants.O_NOCTTY);
  const writeAll = (data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const step = (at: number): void => {
        if (at >= data.length) return resolve();
        fsWrite(wfd, data, at, data.length - at, null, (e, n) => (e ? reject(e) : step(at + n)));
      };
      step(0);
    });
  return new StreamLink(`${port} at ${baud} baud`, sock, async () => closeSync(wfd), writeAll);
}

export interface QemuLinkOptions {
  elf: string;
  board: Board;
  /** -icount shift=0: ticks count guest instructions, identical run to run. */
  icount?: boolean;
}

/**
 * Start QEMU with the board's UART on a Unix socket (not -nographic's stdio, which multiplexes the monitor and
 * treats byte 0x01 as an escape) and connect to it. Semihosting output and QEMU's messages go to stderr.
 */
export async function openQemuLink(opts: QemuLinkOptions): Promise<Link & { stderr: () => string }> {
  const { board } = opts;
  if (!board.qemu) throw new UserError(`board ${board.name} is not a QEMU machine`, 'validate its QEMU twin (<board>@qemu), or a real board with --port');
  if (!existsSync(opts.elf)) throw new UserError(`firmware ${opts.elf} not found`, 'build it first (sqzfw build)');
  const dir = mkdtempSync(join(tmpdir(), 'sqzfw-qemu-'));
  const sockPath = join(dir, 'uart.sock');
  const args = [
    '-M', board.qemu.machine, '-cpu', board.qemu.cpu, '-display', 'none', '-monitor', 'none', '-nodefaults',
    '-chardev', `socket,id=uart,path=${sockPath},server=on,wait=on`, '-serial', 'chardev:uart',
    '-semihosting-config', 'enable=on,target=native',
    ...(opts.icount ? ['-icount', 'shift=0'] : []),
    '-kernel', opts.elf,
  ];
  const child = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited: string | undefined;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const spawned = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new UserError(`${QEMU} not found`, 'run `npm run setup`, or `sudo apt-get install -y --no-install-recommends qemu-system-arm`') : e));
    child.on('spawn', () => resolve());
  });
  child.on('exit', (code, signal) => (exited = `QEMU exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-2).join(' / ')}` : ''}`));
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => (child.kill('SIGKILL'), r()), 2000);
        child.once('exit', () => (clearTimeout(t), r()));
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await spawned;
    // QEMU creates the socket and waits for us before it starts the machine.
    const sock = await connectWithRetry(sockPath, () => exited, 20_000);
    const link = new StreamLink(`QEMU ${board.qemu.machine} UART (socket)`, sock, cleanup);
    child.on('exit', () => link.fireClose(exited ?? 'QEMU exited'));
    return Object.assign(link, { stderr: () => stderr });
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function connectWithRetry(path: string, exited: () => string | undefined, timeoutMs: number): Promise<Socket> {
  const t0 = Date.now();
  for (;;) {
    const why = exited();
    if (why) throw new UserError(`QEMU did not start: ${why}`, 'check the machine name and the ELF');
    if (existsSync(path)) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = createConnection(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() - t0 > timeoutMs) throw new UserError(`QEMU's UART socket ${path} did not open within ${timeoutMs / 1000} s`, 'the machine may be overloaded: retry');
    await new Promise((r) => setTimeout(r, 50));
  }
}
