import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../harness/free-ports.js';
import { describeStatuses, TcpClients } from '../../harness/tcp-client.js';
import type { TcpNodeStatus } from '../../src/node/tcp/process-host.js';
import { killAll, listening, run, runToEnd, waitFor, type Proc } from '../support/tcp-processes.js';

// Three `raft-harness serve` processes on loopback: the bank server the harness tests, over TCP.
const DATA = mkdtempSync(join(tmpdir(), 'raft-harness-tcp-'));
const IDS = ['n1', 'n2', 'n3'] as const;
// Snapshots every 10 entries: restarts load a snapshot plus the log after it from disk.
const RAFT = ['--election-timeout', '400..800', '--heartbeat', '80', '--snapshot-every', '10'];
const procs = new Map<string, Proc>();
let ports: number[] = [];
let clients: TcpClients | null = null;

afterAll(async () => {
  clients?.close();
  await killAll();
  rmSync(DATA, { recursive: true, force: true });
});

const address = (id: string): string => `127.0.0.1:${ports[IDS.indexOf(id as (typeof IDS)[number])]!}`;
const peerList = (except?: string): string => IDS.filter((id) => id !== except).map((id) => `${id}=${address(id)}`).join(',');

async function start(id: string): Promise<Proc> {
  const p = run(['serve', '--id', id, '--listen', address(id), '--peers', peerList(id), '--data', join(DATA, id), ...RAFT]);
  procs.set(id, p);
  await listening(p);
  return p;
}

async function statuses(): Promise<Map<string, TcpNodeStatus | null>> {
  const all = await clients!.statusAll(2_000);
  return new Map([...all].map(([id, r]) => [id, r.ok ? r.status : null]));
}

const report = async (): Promise<string> => describeStatuses(await clients!.statusAll(2_000));
const balanceOf = (s: TcpNodeStatus | null | undefined): unknown => (s?.['app'] as { balance?: unknown } | undefined)?.balance;

async function client(...args: string[]): Promise<{ code: number | string; out: string }> {
  const r = await runToEnd(['client', '--peers', peerList(), '--timeout', '30000', ...args]);
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
}

describe('raft-harness serve: three processes over TCP', () => {
  let leader = '';

  it('elect a leader and serve client commands', async () => {
    ports = await freePorts(3);
    await Promise.all(IDS.map((id) => start(id)));
    clients = new TcpClients({ nodes: new Map(IDS.map((id) => [id, { host: '127.0.0.1', port: ports[IDS.indexOf(id)]! }])), name: 'test' });
    leader = await clients.waitForLeader(30_000);

    expect(await client('credit', '100')).toEqual({ code: 0, out: 'ok balance 100' });
    expect(await client('debit', '30')).toEqual({ code: 0, out: 'ok balance 70' });
    expect(await client('debit', '1000')).toEqual({ code: 1, out: 'refused insufficient-funds' });
    // Many sessions in flight at once over the shared connections.
    const results = await Promise.all(Array.from({ length: 20 }, () => clients!.client().credit(1, { timeout: 30_000 })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await client('balance')).toEqual({ code: 0, out: 'ok balance 90' });
  });

  it('SIGKILL the leader: commands go on at a new leader', async () => {
    const old = procs.get(leader)!;
    old.child.kill('SIGKILL');
    expect(await old.exited).toBe('SIGKILL');
    expect(await client('credit', '5')).toEqual({ code: 0, out: 'ok balance 95' });
    const next = await waitFor(
      'a new leader',
      async () => [...(await statuses())].find(([id, s]) => id !== leader && s?.['role'] === 'leader')?.[0],
      report,
    );
    expect(next).not.toBe(leader);
    expect(await client('debit', '15')).toEqual({ code: 0, out: 'ok balance 80' });
  });

  it('restart the old leader on its data directory: it catches up, and every balance agrees', async () => {
    await start(leader);
    const agreed = await waitFor(
      `${leader} to catch up (same commit index and balance 80 everywhere)`,
      async () => {
        const all = [...(await statuses()).values()];
        const commit = all[0]?.['commitIndex'];
        const same = all.every((s) => s !== null && s['commitIndex'] === commit && s['lastApplied'] === commit && balanceOf(s) === 80);
        return same ? all : null;
      },
      report,
    );
    expect(agreed.map(balanceOf)).toEqual([80, 80, 80]);
    expect(await client('balance')).toEqual({ code: 0, out: 'ok balance 80' });
  });

  it('SIGTERM stops each node cleanly; a restart on the same data continues with its term, vote and log', async () => {
    const before = await statuses();
    await Promise.all(
      IDS.map(async (id) => {
        const p = procs.get(id)!;
        p.child.kill('SIGTERM');
        expect(await p.exited, p.stderr).toBe(0);
        expect(p.stderr).toContain(`[${id}] node ${id} stopped`);
      }),
    );
    // Alone (its peers are down, and pre-vote keeps an isolated node's term), it shows what it persisted.
    const id = IDS.find((x) => x !== leader)!;
    await start(id);
    const was = before.get(id)!;
    const now = await waitFor(`${id} to answer status`, async () => {
      const r = await clients!.status(id, 2_000);
      return r.ok ? r.status : null;
    }, report);
    expect({ term: now['term'], votedFor: now['votedFor'], lastLogIndex: now.lastLogIndex, lastLogTerm: now.lastLogTerm }).toEqual({
      term: was['term'],
      votedFor: was['votedFor'],
      lastLogIndex: was.lastLogIndex,
      lastLogTerm: was.lastLogTerm,
    });
    // The commit index was flushed at shutdown, so the state machine is rebuilt up to it: from
    // the snapshot on disk, then the entries after it.
    expect(now['snapshotIndex']).toBeGreaterThan(0);
    expect(balanceOf(now)).toBe(80);
  });
});
