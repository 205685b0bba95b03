/**
 * A TCP proxy the tests put between the apps and a dependency (PostgreSQL, Redis) to take that
 * dependency away and give it back, without touching the real server other tests share.
 *
 * `cut()` stops listening and destroys every proxied connection: from the apps' side the dependency
 * is down (connections reset, new ones refused). `restore()` listens again on the same port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (fixed for its life, across cut and restore). */
  readonly port: number;
  /** `host:port` of the proxy. */
  readonly address: string;
  /** Connections accepted since the proxy started. */
  readonly accepted: number;
  /** Whether the dependency is reachable through the proxy now. */
  readonly up: boolean;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:<free port> to `target` (`host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const at = target.lastIndexOf(':');
  const targetHost = target.slice(0, at);
  const targetPort = Number(target.slice(at + 1));
  const open = new Set<Socket>();
  let accepted = 0;
  let up = false;
  let port = 0;
  let server: Server | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        accepted += 1;
        const upstream = connect({ host: targetHost, port: targetPort });
        open.add(client);
        open.add(upstream);
        const close = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on('error', close);
        upstream.on('error', close);
        client.on('close', close);
        upstream.on('close', close);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        const address = s.address();
        port = typeof address === 'object' && address !== null ? address.port : port;
        server = s;
        up = true;
        resolve();
      });
    });

  const cut = async () => {
    if (!up) return;
    up = false;
    const s = server!;
    server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of open) socket.destroy();
    open.clear();
    await closed;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get address() {
      return `127.0.0.1:${port}`;
    },
    get accepted() {
      return accepted;
    },
    get up() {
      return up;
    },
    cut,
    restore: async () => {
      if (up) return;
      // The port was ours a moment ago; a TIME_WAIT does not block a listener on Linux.
      await listen();
    },
    close: cut,
  };
}
