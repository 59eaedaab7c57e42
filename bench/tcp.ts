import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../harness/free-ports.js';
import { TcpClients } from '../harness/tcp-client.js';
import type { HostPort } from '../src/node/tcp/address.js';
import { quantile } from './table.js';

const CLI = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));

export type TcpOpsResult = {
  readonly clients: number;
  readonly connections: number;
  readonly ops: number;
  readonly wallMs: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The leader's fsyncs during the measured window, per committed operation. */
  readonly syncsPerOp: number;
};

type Node = { readonly id: string; readonly child: ChildProcess; readonly exited: Promise<void> };

function startNode(id: string, addresses: ReadonlyMap<string, HostPort>, dir: string): Promise<Node> {
  const at = (a: HostPort): string => `${a.host}:${a.port}`;
  const peers = [...addresses].filter(([p]) => p !== id).map(([p, a]) => `${p}=${at(a)}`).join(',');
  const child = spawn(process.execPath, [CLI, 'serve', '--id', id, '--listen', at(addresses.get(id)!), '--peers', peers, '--data', join(dir, id)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes(' listening on ')) resolve({ id, child, exited });
    });
    void exited.then(() => reject(new Error(`raft-harness bench: ${id} exited before listening:\n${err}`)));
  });
}

/**
 * Committed bank operations per second on 3 `raft-harness serve` processes over loopback TCP,
 * each with its own FileStorage (fsync per write batch): `clients` sessions, each keeping one
 * credit(1) in flight (a session allows one outstanding write), spread over `connections`
 * client connections per node, for `durationMs` of wall time. Every counted operation was
 * committed and answered; p50/p99 are per-operation latencies.
 */
export async function benchTcpOps(clients = 256, connections = 4, durationMs = 3_000): Promise<TcpOpsResult> {
  const ids = ['n1', 'n2', 'n3'];
  const ports = await freePorts(ids.length);
  const addresses = new Map(ids.map((id, i) => [id, { host: '127.0.0.1', port: ports[i]! }]));
  const dir = mkdtempSync(join(tmpdir(), 'raft-harness-bench-tcp-'));
  const nodes: Node[] = [];
  const pools = Array.from({ length: connections }, (_, i) => new TcpClients({ nodes: addresses, name: `bench${i}`, retryInterval: 2_000 }));
  try {
    nodes.push(...(await Promise.all(ids.map((id) => startNode(id, addresses, dir)))));
    const leader = await pools[0]!.waitForLeader(30_000);
    const sessions = Array.from({ length: clients }, (_, i) => pools[i % connections]!.client());
    // Warm-up: every session's first operation (the leader is known to all afterwards).
    await Promise.all(sessions.map((c) => c.credit(1, { timeout: 60_000 })));
    const syncs = async (): Promise<number> => {
      const s = await pools[0]!.status(leader, 10_000);
      if (!s.ok) throw new Error(`raft-harness bench: ${leader} did not answer status: ${s.error}`);
      return s.status.storage.syncs;
    };
    const syncsBefore = await syncs();
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + durationMs;
    await Promise.all(
      sessions.map(async (c) => {
        while (performance.now() < end) {
          const t = performance.now();
          const r = await c.credit(1, { timeout: 60_000 });
          if (!r.ok) throw new Error(`raft-harness bench: credit failed: ${JSON.stringify(r)}`);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const wallMs = performance.now() - start;
    const syncsDuring = (await syncs()) - syncsBefore;
    latencies.sort((a, b) => a - b);
    return {
      clients,
      connections,
      ops: latencies.length,
      wallMs,
      opsPerSecond: (latencies.length * 1000) / wallMs,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      syncsPerOp: syncsDuring / Math.max(1, latencies.length),
    };
  } finally {
    for (const p of pools) p.close();
    for (const n of nodes) n.child.kill('SIGTERM');
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}
