/** Process entry used by bin/sqzfw.js (compiled) and by tests (through tsx). */
import { main } from './cli.js';

process.exitCode = await main(process.argv);
