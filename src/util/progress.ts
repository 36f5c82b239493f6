/**
 * A one-line progress bar on stderr (redrawn in place on a terminal, a few plain lines otherwise). With `quietMs`, a
 * step that ends sooner prints nothing: the commands whose steps are usually quick (generate, build, fit, asic
 * --simulate) show a bar only when one is slow.
 */

export interface ProgressSink {
  start(label: string, total: number): void;
  tick(done: number, note?: string): void;
  end(): void;
}

export const silentProgress: ProgressSink = { start() {}, tick() {}, end() {} };

const fmtTime = (s: number): string => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`);

export function stderrProgress(stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'> = process.stderr, opts: { quietMs?: number } = {}): ProgressSink {
  const tty = Boolean(stream.isTTY);
  const quietMs = opts.quietMs ?? 0;
  let label = '';
  let total = 0;
  let t0 = 0;
  let lastQuarter = -1;
  let drawn = false;
  return {
    start(l, n) {
      label = l;
      total = n;
      t0 = Date.now();
      lastQuarter = -1;
      drawn = false;
    },
    tick(done, note) {
      if (Date.now() - t0 < quietMs) return;
      const el = (Date.now() - t0) / 1000;
      const eta = done > 0 ? (el / done) * (total - done) : 0;
      if (tty) {
        const width = 28;
        const fill = total ? Math.round((width * done) / total) : width;
        const line = `${label.padEnd(22)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(done).padStart(String(total).length)}/${total}  ${fmtTime(el)}${done < total ? ` eta ${fmtTime(eta)}` : ''}${note ? `  ${note}` : ''}`;
        const cols = stream.columns || 100;
        stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`); // ESC[K clears the rest of the previous line
        drawn = true;
      } else {
        const quarter = total ? Math.floor((4 * done) / total) : 4;
        if (quarter > lastQuarter) {
          lastQuarter = quarter;
          stream.write(`${label}: ${done}/${total} (${fmtTime(el)})${note ? ` ${note}` : ''}\n`);
        }
      }
    },
    end() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/** The sink of a command's --progress/--no-progress flag: stderr after `quietMs` of a step, or nothing. */
export const progressFlag = (on: boolean, quietMs = 1000): ProgressSink => (on ? stderrProgress(process.stderr, { quietMs }) : silentProgress);
