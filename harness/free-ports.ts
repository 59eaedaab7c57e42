import { createServer, type Server } from 'node:net';

/**
 * `count` distinct ports that were free a moment ago on `host`: all are held open at once (so
 * they differ), then released for the caller to bind. Another process could take one in between;
 * callers that must not fail retry, the others report the bind error.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: 0, exclusive: true }, resolve);
      });
      const address = server.address();
      if (typeof address !== 'object' || address === null) throw new Error(`raft-harness: no port for ${host}`);
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
