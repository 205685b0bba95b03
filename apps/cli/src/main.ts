/** The `sibyl` process: runs the CLI on the process's arguments and streams, and sets the exit status. */
import { processIo } from './io.js';
import { run } from './run.js';

// `sibyl models list | head -1` closes the pipe early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await run(process.argv.slice(2), processIo());
