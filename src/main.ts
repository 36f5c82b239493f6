/** Process entry used by bin/sqzfw.js (compiled) and by tests (through tsx). */
import { main } from './cli.js';
import { EXIT } from './errors.js';

// `sqzfw boards | head`: the reader went away. Stop quietly instead of a stack trace for EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    throw e;
  });
}

try {
  process.exitCode = await main(process.argv);
} catch (e) {
  // A bug: keep the stack trace, exit with the documented code.
  console.error(e);
  process.exitCode = EXIT.bug;
}
