// A stand-in app for the launcher's own tests (not for the split suites, which run the real apps):
// `node test-app.fixture.mjs <mode> <port>`. Modes: serve (ready 300 ms after start, exits 0 on
// SIGTERM), ignore-term (ready, but ignores SIGTERM), crash (exits 3 at once), never-ready (503 forever).
import { createServer } from 'node:http';

const [mode, port] = process.argv.slice(2);
console.log(`starting in mode ${mode}`);
if (mode === 'crash') {
  console.error('boom: --no-such-flag is not a flag');
  process.exit(3);
}
const startedAt = Date.now();
const server = createServer((req, res) => {
  const ready = mode !== 'never-ready' && Date.now() - startedAt > 300;
  res.writeHead(ready ? 200 : 503).end(ready ? 'ready' : 'not yet');
});
server.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => {
  if (mode === 'ignore-term') {
    console.log('SIGTERM ignored');
    return;
  }
  console.error('draining');
  server.close(() => process.exit(0));
});
