import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBank } from '../../src/apps/bank/index.js';
import type { ClientReply, ClientRequest, WireMessage } from '../../src/node/client-protocol.js';
import { MemoryStorage } from '../../src/node/memory-storage.js';
import { RaftServer, type NodeEvent } from '../../src/node/raft-server.js';
import type { Transport } from '../../src/node/transport.js';
import { createRandom } from '../../src/raft/random.js';

/**
 * RaftServer on fake timers (no workers here, so faking the main thread is safe): messages
 * travel through an in-memory network with 2 ms of delay, also on the fake clock.
 */
class LocalNet {
  readonly receivers = new Map<string, (m: unknown) => void>();
  readonly down = new Set<string>();
  readonly replies: ClientReply[] = [];
  transport(id: string): Transport {
    return {
      send: (m: WireMessage) => {
        setTimeout(() => {
          if (this.down.has(id) || this.down.has(m.to)) return;
          if (m.type === 'ClientReply') this.replies.push(m);
          else this.receivers.get(m.to)?.(structuredClone(m));
        }, 2);
      },
      listen: (r) => this.receivers.set(id, r),
      close: () => this.receivers.delete(id),
    };
  }
}

const IDS = ['n1', 'n2', 'n3'];

describe('RaftServer', () => {
  let net: LocalNet;
  let disks: Map<string, MemoryStorage>;
  let servers: Map<string, RaftServer>;
  let events: Array<{ node: string; event: NodeEvent }>;
  let requestId = 0;

  const boot = (id: string): RaftServer => {
    const server = new RaftServer({
      id,
      members: IDS,
      transport: net.transport(id),
      storage: disks.get(id)!,
      stateMachine: createBank(),
      random: createRandom(`${id}:${disks.get(id)!.syncCount}`),
      emit: (event) => events.push({ node: id, event }),
    });
    servers.set(id, server);
    return server;
  };
  const leader = (): string | undefined => [...servers.values()].find((s) => s.status().role === 'leader')?.id;
  const request = (to: string, clientId: string, seq: number, op: unknown): number => {
    const req: ClientRequest = { type: 'ClientRequest', from: 'client', to, clientId, seq, requestId: ++requestId, op };
    net.receivers.get(to)!(req);
    return req.requestId;
  };
  const replyTo = (id: number): ClientReply | undefined => net.replies.find((r) => r.requestId === id);

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    net = new LocalNet();
    disks = new Map(IDS.map((id) => [id, new MemoryStorage()]));
    servers = new Map();
    events = [];
    for (const id of IDS) boot(id);
  });
  afterEach(() => {
    for (const s of servers.values()) s.stop();
    vi.useRealTimers();
  });

  it('elects a leader on its own timers and serves credit, debit and balance', () => {
    vi.advanceTimersByTime(1_000);
    const l = leader()!;
    expect(l).toBeDefined();
    const a = request(l, 'c1', 1, { op: 'credit', amount: 100 });
    vi.advanceTimersByTime(50);
    expect(replyTo(a)).toMatchObject({ ok: true, result: { ok: true, balance: 100 } });
    const b = request(l, 'c1', 2, { op: 'debit', amount: 130 });
    vi.advanceTimersByTime(50);
    expect(replyTo(b)).toMatchObject({ ok: true, result: { ok: false, error: 'insufficient-funds' } });
    const c = request(l, 'c1', 3, { op: 'debit', amount: 30 });
    const d = request(l, 'c2', 0, { op: 'balance' });
    vi.advanceTimersByTime(50);
    expect(replyTo(c)).toMatchObject({ ok: true, result: { ok: true, balance: 70 } });
    expect(replyTo(d)).toMatchObject({ ok: true, result: { ok: true, balance: 70 } });
    vi.advanceTimersByTime(200);
    for (const s of servers.values()) expect(s.status().app).toEqual({ balance: 70 });
  });

  it('a follower answers with a leader hint', () => {
    vi.advanceTimersByTime(1_000);
    const l = leader()!;
    const follower = IDS.find((id) => id !== l)!;
    const r = request(follower, 'c1', 1, { op: 'credit', amount: 5 });
    vi.advanceTimersByTime(10);
    expect(replyTo(r)).toMatchObject({ ok: false, error: 'not-leader', leaderHint: l });
  });

  it('applies a retried command exactly once (same client id and seq)', () => {
    vi.advanceTimersByTime(1_000);
    const l = leader()!;
    const first = request(l, 'c1', 7, { op: 'credit', amount: 10 });
    const retry = request(l, 'c1', 7, { op: 'credit', amount: 10 });
    vi.advanceTimersByTime(50);
    const late = request(l, 'c1', 7, { op: 'credit', amount: 10 });
    vi.advanceTimersByTime(50);
    expect(replyTo(retry)).toMatchObject({ ok: true, result: { balance: 10 } });
    expect(replyTo(late)).toMatchObject({ ok: true, result: { balance: 10 } });
    expect(replyTo(first)).toBeUndefined(); // superseded by the retry, which got the answer
    const stale = request(l, 'c1', 6, { op: 'credit', amount: 10 });
    vi.advanceTimersByTime(10);
    expect(replyTo(stale)).toMatchObject({ ok: false, error: 'stale-request' });
    vi.advanceTimersByTime(200);
    for (const s of servers.values()) expect(s.status().app).toEqual({ balance: 10 });
  });

  it('reports a malformed message and keeps running with its state unchanged', () => {
    vi.advanceTimersByTime(1_000);
    const l = leader()!;
    const follower = IDS.find((id) => id !== l)!;
    const before = servers.get(follower)!.status();
    net.receivers.get(follower)!({ type: 'AppendEntries', from: l, to: follower, term: -1 });
    net.receivers.get(follower)!({ type: 'Gossip', from: l, to: follower, term: 1 });
    net.receivers.get(follower)!({ type: 'ClientRequest', from: 'x', to: follower, clientId: '', seq: 1, requestId: 1, op: {} });
    expect(servers.get(follower)!.status()).toEqual(before);
    const reported = events.filter((e) => e.node === follower && e.event.type === 'malformed-message');
    expect(reported).toHaveLength(3);
    expect(reported.map((e) => (e.event as { error: string }).error).join('\n')).toMatch(/term must be an integer >= 0[\s\S]*unknown type "Gossip"[\s\S]*clientId/);
    const r = request(l, 'c1', 1, { op: 'credit', amount: 1 });
    vi.advanceTimersByTime(50);
    expect(replyTo(r)).toMatchObject({ ok: true, result: { balance: 1 } });
  });

  it('persists before it answers: a crash loses no acknowledged write, and a restart re-applies the log', () => {
    vi.advanceTimersByTime(1_000);
    const l = leader()!;
    const ids = [1, 2, 3].map((seq) => request(l, 'c1', seq, { op: 'credit', amount: 10 }));
    vi.advanceTimersByTime(100);
    for (const id of ids) expect(replyTo(id)).toMatchObject({ ok: true });
    // Crash every node: unsynced writes vanish, synced ones stay.
    for (const id of IDS) {
      servers.get(id)!.stop();
      disks.get(id)!.crash();
      disks.set(id, new MemoryStorage({ initial: disks.get(id)!.durable() }));
    }
    for (const id of IDS) boot(id);
    vi.advanceTimersByTime(1_000);
    const again = leader()!;
    const r = request(again, 'c2', 1, { op: 'balance' });
    vi.advanceTimersByTime(100);
    expect(replyTo(r)).toMatchObject({ ok: true, result: { ok: true, balance: 30 } });
  });

  it('keeps a single leader and a consistent bank across a leader crash', () => {
    vi.advanceTimersByTime(1_000);
    const old = leader()!;
    request(old, 'c1', 1, { op: 'credit', amount: 50 });
    vi.advanceTimersByTime(100);
    net.down.add(old);
    vi.advanceTimersByTime(1_000);
    const next = [...servers.values()].find((s) => s.id !== old && s.status().role === 'leader')!;
    expect(next).toBeDefined();
    const r = request(next.id, 'c1', 2, { op: 'debit', amount: 20 });
    vi.advanceTimersByTime(100);
    expect(replyTo(r)).toMatchObject({ ok: true, result: { ok: true, balance: 30 } });
    net.down.delete(old);
    vi.advanceTimersByTime(1_000);
    expect([...servers.values()].filter((s) => s.status().role === 'leader')).toHaveLength(1);
    for (const s of servers.values()) expect(s.status().app).toEqual({ balance: 30 });
  });
});
