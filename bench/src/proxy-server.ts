/**
 * The floor for one extra hop: a bare node:http reverse proxy, no framework, no routing, no
 * re-encoding. Each request is read whole, sent to the upstream over a keep-alive agent, and the
 * whole answer is sent back, as the split gateway does with a worker. Placed in front of the
 * one-model service, the p50 it adds is what one loopback hop between two Node processes costs on
 * this machine, the part of the split topology's added latency that no gateway code can remove.
 *
 *   node bench/dist/proxy-server.js http://127.0.0.1:<upstream port>
 *
 * Listens on 127.0.0.1, a free port, and prints `{"event":"ready","listener":"http","port":N}`.
 * Exits when its stdin closes.
 */
import http from 'node:http';

const upstream = new URL(process.argv[2] ?? '');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });
/** Request and answer headers passed along; everything else is hop-by-hop or recomputed. */
const FORWARDED = ['content-type', 'inference-header-content-length'];

function pick(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

function readAll(stream: http.IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

const server = http.createServer((request, response) => {
  readAll(request, (body) => {
    const forward = http.request(
      { agent, hostname: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: { ...pick(request.headers), 'content-length': body.byteLength } },
      (answer) =>
        readAll(answer, (answerBody) => {
          response.writeHead(answer.statusCode ?? 502, { ...pick(answer.headers), 'content-length': answerBody.byteLength });
          response.end(answerBody);
        }),
    );
    forward.on('error', (err) => {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(err.message);
    });
    forward.end(body);
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'ready', listener: 'http', port })}\n`);
});
process.stdin.on('end', () => process.exit(0)).resume();
