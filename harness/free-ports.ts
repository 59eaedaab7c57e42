import { createServer, type Server } from 'node:net';

/**
 * Ports are drawn below Linux's ephemeral range (32768–60999), which the OS hands out as the
 * source ports of outgoing connections: a node's port taken from that range could be grabbed by
 * some client's connection while the node is down, and its restart would fail to bind.
 */
const LOW = 20_000;
const HIGH = 32_767;

/**
 * `count` distinct ports that were free a moment ago on `host`: all are held open at once (so
 * they differ), then released for the caller to bind. Another process could take one in between;
 * callers that must not fail retry, the others report the bind error.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let attempt = 0; ports.length < count; attempt++) {
      // Random ports in the low range first; past many collisions, whatever the OS gives.
      const port = attempt < 200 ? LOW + Math.floor(Math.random() * (HIGH - LOW + 1)) : 0;
      if (ports.includes(port)) continue;
      const server = createServer();
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen({ host, port, exclusive: true }, () => resolve(true));
      });
      if (!bound) continue;
      servers.push(server);
      const address = server.address();
      if (typeof address !== 'object' || address === null) throw new Error(`raft-harness: no port for ${host}`);
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
