/**
 * The transport floor for the 16 MiB case: node:http, no framework, no model. It streams each
 * request body straight back, chunk by chunk, so a round trip through it is what loopback HTTP
 * and the client alone cost on this machine.
 *
 *   node bench/dist/echo-server.js
 *
 * Listens on 127.0.0.1, a free port, and prints `{"event":"ready","listener":"http","port":N}`.
 * Exits when its stdin closes.
 */
import http from 'node:http';

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  let length = 0;
  request.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.byteLength;
  });
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': length });
    for (const chunk of chunks) response.write(chunk);
    response.end();
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'ready', listener: 'http', port })}\n`);
});
process.stdin.on('end', () => process.exit(0)).resume();
