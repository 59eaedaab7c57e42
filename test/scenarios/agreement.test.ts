/**
 * MIT 6.5840 Raft tester, part 3B (log agreement), on the harness. A "command" is a bank credit
 * through a client; distinct amounts tell commands apart. Index numbering differs from MIT's in
 * one way: every new leader appends a no-op (§5.4.2/§8), so the first command of a cluster lands
 * at index 2, not 1.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/cluster.js';
import type { Entry } from '../../src/raft/types.js';
import { useClusters } from '../harness/support/clusters.js';
import {
  ELECTION_TIMEOUT,
  QUIET_PERIOD,
  Tester,
  checkAppliedAndAgreed,
  expectedBalance,
  isCredit,
  liveSnapshots,
  rpcCount,
  stepObserving,
  waitCommitted,
} from './support.js';

const start = useClusters({ host: 'inline' });
const SEEDS = [1, 2, 3];

/** Where `clientId`'s credit of `amount` sits in `id`'s log (0 if absent). */
async function indexIn(cluster: Cluster, id: string, clientId: string, amount: number): Promise<number> {
  const e = (await cluster.inspect(id)).log.find((x) => isCredit(x, clientId, amount));
  return e?.index ?? 0;
}

/** Settles an operation that is expected to fail, and returns its error's name. */
async function failure(op: PromiseLike<unknown>): Promise<string> {
  return op.then(
    (value) => `answered ${JSON.stringify(value)}`,
    (e: unknown) => (e as Error).name,
  );
}

/** Every node up shows the same log, committed and applied in full, and this balance. */
async function expectConverged(cluster: Cluster, balance: number): Promise<void> {
  const snaps = await liveSnapshots(cluster);
  checkAppliedAndAgreed(snaps);
  for (const s of snaps) {
    expect(s.log).toEqual(snaps[0]!.log);
    expect(s.commitIndex).toBe(s.log.length);
    expect(s.app).toEqual({ balance });
  }
}

describe('3B: agreement (MIT)', () => {
  it.each(SEEDS)('basic agreement: 3 commands, each committed on all nodes at the next index (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const leader = await t.checkOneLeader();
    // The leader's no-op is index 1.
    expect((await cluster.inspect(leader)).log).toEqual([{ index: 1, term: (await cluster.inspect(leader)).term, type: 'noop' }]);
    await waitCommitted(cluster, 1, 3);
    const client = cluster.client();
    let sum = 0;
    for (let i = 1; i <= 3; i++) {
      const index = 1 + i;
      expect((await t.nCommitted(index)).count).toBe(0); // nothing committed before it was submitted
      const r = await t.one(client, i * 100, 3);
      sum += i * 100;
      expect(r).toEqual({ index, balance: sum });
    }
    await cluster.advance(100);
    await expectConverged(cluster, 600);
  });

  it.each(SEEDS)('RPC bytes: each command travels to each follower once (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const leader = await t.checkOneLeader();
    await waitCommitted(cluster, 1, 3);
    const followers = cluster.ids.filter((id) => id !== leader);
    const client = cluster.client({ node: leader });
    // copies[seq][follower]: how many AppendEntries carried that command to that follower.
    const copies = new Map<number, Map<string, number>>();
    let entryBytes = 0;
    let commandBytes = 0;
    const commands = 10;
    for (let i = 1; i <= commands; i++) {
      const op = client.credit(1_000_000 + i);
      // MIT sends each command with cfg.one: wait until it is committed on all three.
      await stepObserving(
        cluster,
        async () => op.settled && (await liveSnapshots(cluster)).every((s) => s.commitIndex === 1 + i),
        (m) => {
          if (m.type !== 'AppendEntries') return;
          for (const e of m.message['entries'] as readonly Entry[]) {
            if (e.type !== 'command') continue;
            const perPeer = copies.get(e.command.seq) ?? new Map<string, number>();
            perPeer.set(m.to, (perPeer.get(m.to) ?? 0) + 1);
            copies.set(e.command.seq, perPeer);
            entryBytes += JSON.stringify(e).length;
          }
        },
        10_000,
      );
      expect(await op).toMatchObject({ ok: true });
    }
    for (const e of (await cluster.inspect(leader)).log) if (e.type === 'command') commandBytes += JSON.stringify(e).length;

    // Every command reached every follower (it is committed there)...
    expect([...copies.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: commands }, (_, i) => i + 1));
    for (const perPeer of copies.values()) expect([...perPeer.keys()].sort()).toEqual([...followers].sort());
    // ...and about once. MIT allows the bytes of 3 copies per command plus 50 000 bytes of slack
    // (1/3 of its total), for a cluster where 2 copies suffice. On this lossless network, with
    // replies back well within a heartbeat, a re-send would be waste: we allow one copy per
    // command per follower, plus 10% of that in total (one resend per ten commands), and the
    // same for the bytes of entries carried.
    const ideal = commands * followers.length;
    const total = [...copies.values()].reduce((sum, p) => sum + [...p.values()].reduce((a, b) => a + b, 0), 0);
    expect(total).toBeGreaterThanOrEqual(ideal);
    expect(total).toBeLessThanOrEqual(ideal * 1.1);
    for (const perPeer of copies.values()) for (const n of perPeer.values()) expect(n).toBeLessThanOrEqual(2);
    expect(entryBytes).toBeLessThanOrEqual(commandBytes * followers.length * 1.1);
  });

  it.each(SEEDS)('follower failure: one follower gone, commands commit; both gone, a command does not (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    await t.one(client, 101, 3);

    // Disconnect one follower: the leader and the other follower still agree.
    const leader1 = await t.checkOneLeader();
    const first = t.after(leader1, 1);
    t.disconnect(first);
    await t.one(client, 102, 2);
    await cluster.advance(ELECTION_TIMEOUT[1]);
    const { index: i103 } = await t.one(client, 103, 2);

    // Disconnect the remaining follower: the leader takes a command but cannot commit it.
    const leader2 = await t.checkOneLeader();
    expect(leader2).toBe(leader1);
    t.disconnect(t.after(leader2, 1), t.after(leader2, 2));
    const pinned = cluster.client({ node: leader2 });
    expect(await failure(pinned.credit(104, { timeout: QUIET_PERIOD }))).toBe('ClusterTimeoutError');
    const index = await indexIn(cluster, leader2, pinned.id, 104);
    expect(index).toBe(i103 + 1);
    expect((await t.nCommitted(index)).count).toBe(0);
    // Nothing past 103 was applied anywhere; the first follower to go missed 102 and 103.
    for (const s of await liveSnapshots(cluster)) expect(s.app).toEqual({ balance: s.id === first ? 101 : 101 + 102 + 103 });
  });

  it.each(SEEDS)('leader failure: a new leader takes over; with two leaders gone nothing commits (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    await t.one(client, 101, 3);

    // Disconnect the first leader: the other two elect one of them and agree.
    const leader1 = await t.checkOneLeader();
    t.disconnect(leader1);
    await t.one(client, 102, 2);
    await cluster.advance(ELECTION_TIMEOUT[1]);
    const { index: i103 } = await t.one(client, 103, 2);

    // Disconnect the new leader too: one node left, every node is offered a command.
    const leader2 = await t.checkOneLeader();
    expect(leader2).not.toBe(leader1);
    t.disconnect(leader2);
    const offered = cluster.ids.map((id) => cluster.client({ node: id }).credit(104, { timeout: QUIET_PERIOD }));
    expect(await Promise.all(offered.map(failure))).toEqual(cluster.ids.map(() => 'ClusterTimeoutError'));
    expect((await t.nCommitted(i103 + 1)).count).toBe(0);
    for (const s of await liveSnapshots(cluster)) {
      expect(s.log.slice(0, s.commitIndex).some((e) => e.type === 'command' && (e.command.op as { amount: number }).amount === 104)).toBe(false);
    }
  });

  it.each(SEEDS)('agreement after a follower reconnects: it catches up (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    await t.one(client, 101, 3);

    const leader = await t.checkOneLeader();
    const follower = t.after(leader, 1);
    t.disconnect(follower);
    await t.one(client, 102, 2);
    await t.one(client, 103, 2);
    await cluster.advance(ELECTION_TIMEOUT[1]);
    await t.one(client, 104, 2);
    const { index: i105 } = await t.one(client, 105, 2);
    expect((await cluster.inspect(follower)).commitIndex).toBeLessThan(i105);
    expect((await cluster.inspect(follower)).app).toEqual({ balance: 101 });

    t.connect(follower);
    await t.one(client, 106, 3);
    await cluster.advance(ELECTION_TIMEOUT[1]);
    await t.one(client, 107, 3);
    await cluster.advance(100);
    await expectConverged(cluster, 101 + 102 + 103 + 104 + 105 + 106 + 107);
  });

  it.each(SEEDS)('no agreement without a majority: 3 of 5 disconnected; reconnected, the cluster recovers (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 5, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    const { index: i10 } = await t.one(client, 10, 5);

    const leader = await t.checkOneLeader();
    t.disconnect(t.after(leader, 1), t.after(leader, 2), t.after(leader, 3));
    const pinned = cluster.client({ node: leader });
    expect(await failure(pinned.credit(20, { timeout: QUIET_PERIOD }))).toBe('ClusterTimeoutError');
    const index = await indexIn(cluster, leader, pinned.id, 20);
    expect(index).toBe(i10 + 1); // the leader did take it
    expect((await t.nCommitted(index)).count).toBe(0);

    t.connect(t.after(leader, 1), t.after(leader, 2), t.after(leader, 3));
    const leader2 = await t.checkOneLeader();
    const { index: i30 } = await t.one(cluster.client({ node: leader2 }), 30, 5);
    // After the new leader's no-op: right after 10 if the entry of 20 was overwritten, or after
    // it if the new leader held it (and then commits it: a timed-out command may take effect).
    expect([i10 + 2, i10 + 3]).toContain(i30);
    await t.one(client, 1000, 5);
    await cluster.advance(100);
    const snaps = await liveSnapshots(cluster);
    const kept = snaps[0]!.log.some((e) => isCredit(e, pinned.id, 20));
    expect(kept).toBe(i30 === i10 + 3);
    await expectConverged(cluster, 10 + 30 + 1000 + (kept ? 20 : 0));
  });

  it.each(SEEDS)('concurrent proposals from five clients all commit, in one term; the balance is their sum (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const leader = await t.checkOneLeader();
    const term = (await cluster.inspect(leader)).term;
    const clients = Array.from({ length: 5 }, () => cluster.client());
    const amounts = [11, 22, 33, 44, 55];
    const results = await Promise.all(clients.map((c, i) => c.credit(amounts[i]!)));
    expect(results.every((r) => r.ok)).toBe(true);
    // Applied one after the other: the balances the clients saw are five distinct partial sums.
    const seen = results.map((r) => (r.ok ? r.balance : -1)).sort((a, b) => a - b);
    expect(new Set(seen).size).toBe(5);
    expect(seen.at(-1)).toBe(165);

    const last = Math.max(...(await liveSnapshots(cluster)).map((s) => s.log.length));
    await waitCommitted(cluster, last, 3);
    const log = (await cluster.inspect(leader)).log;
    for (const [i, c] of clients.entries()) {
      const at = log.filter((e) => isCredit(e, c.id, amounts[i]!));
      expect(at).toHaveLength(1); // once each, at distinct indices
      expect(at[0]!.term).toBe(term);
    }
    await expectConverged(cluster, 165);
  });

  it.each(SEEDS)('rejoin of a partitioned leader whose minority entries get overwritten (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    const { index: i101 } = await t.one(client, 101, 3);

    // The leader is cut off and takes three commands it can never commit.
    const leader1 = await t.checkOneLeader();
    t.disconnect(leader1);
    const stale = [102, 103, 104].map((amount) => ({ client: cluster.client({ node: leader1 }), amount }));
    const outcomes = await Promise.all(stale.map((s) => failure(s.client.credit(s.amount, { timeout: 1_000 }))));
    expect(outcomes).toEqual(['ClusterTimeoutError', 'ClusterTimeoutError', 'ClusterTimeoutError']);
    const held = (await cluster.inspect(leader1)).log.slice(i101);
    expect(held).toHaveLength(3);
    for (const s of stale) expect(held.some((e) => isCredit(e, s.client.id, s.amount))).toBe(true);

    // The others elect a new leader and agree on 103.
    const leader2 = await t.checkOneLeader();
    expect(leader2).not.toBe(leader1);
    await t.one(client, 103, 2);

    // The new leader goes; the old one comes back and must give up its entries.
    t.disconnect(leader2);
    t.connect(leader1);
    await t.one(client, 104, 2);

    // Everyone back.
    t.connect(leader2);
    await t.one(client, 105, 3);
    await cluster.advance(100);
    await expectConverged(cluster, 101 + 103 + 104 + 105);
    const log = (await cluster.inspect(leader1)).log;
    for (const s of stale) expect(log.some((e) => e.type === 'command' && e.command.clientId === s.client.id)).toBe(false);
    expect(expectedBalance(log, log.length)).toBe(101 + 103 + 104 + 105);
  });
});

describe('3B: RPC counts (MIT TestCount3B)', () => {
  // RPCs are requests (PreVote, RequestVote, AppendEntries): MIT counts an RPC once, with its
  // reply. MIT's budgets assume at most 10 heartbeats per second per peer; this Raft's default
  // heartbeat is 50 ms (20 per second), and the test runs both the default and MIT's 100 ms.
  it.each([
    [1, 50],
    [2, 50],
    [3, 50],
    [1, 100],
    [2, 100],
  ])('election, 10 commands, one idle second (seed %i, heartbeat %i ms)', async (seed, heartbeatInterval) => {
    const cluster = await start({ nodes: 3, seed, raft: { heartbeatInterval } });
    const t = new Tester(cluster);
    const leader = await t.checkOneLeader();
    const term = (await cluster.inspect(leader)).term;

    // An election: MIT allows 30. Here one campaign costs 2 PreVotes + 2 RequestVotes, and the
    // winner's no-op 2 AppendEntries; a split costs another 4 per campaign.
    const total1 = rpcCount(cluster.counters());
    expect(total1).toBeGreaterThanOrEqual(1);
    expect(total1).toBeLessThanOrEqual(30);

    // 1 + 11 commands submitted at once (as MIT starts them), each by its own client, then all
    // committed on all three nodes. MIT allows (1 + 10 + 3) × 3 = 42 RPCs. This Raft sends at
    // most one AppendEntries per follower per proposal (24; fewer when a full pipeline makes it
    // batch), plus a commit notice to a follower that is idle when the commit index moves, and
    // the heartbeats meanwhile: 22 to 35 over seeds 1-8. MIT's budget holds as it is, no slack.
    await waitCommitted(cluster, 1, 3);
    const before = rpcCount(cluster.counters());
    const clients = Array.from({ length: 12 }, () => cluster.client());
    const results = await Promise.all(clients.map((c, i) => c.credit(1 + i)));
    expect(results.every((r) => r.ok)).toBe(true);
    await waitCommitted(cluster, 13, 3);
    const total2 = rpcCount(cluster.counters());
    expect(await t.checkTerms()).toBe(term);
    expect(total2 - before).toBeGreaterThanOrEqual(2);
    expect(total2 - before).toBeLessThanOrEqual((10 + 1 + 3) * 3);

    // One idle second: MIT allows 3 × 20 = 60. Here the leader sends exactly one heartbeat per
    // follower per interval, nothing else: 2 × 1000 / heartbeat, give or take one per follower
    // for where the second starts within an interval. Both settings also meet MIT's 60.
    const appends = cluster.counters().byType['AppendEntries']!.messages;
    await cluster.advance(1_000);
    const idle = rpcCount(cluster.counters()) - total2;
    const beats = 2 * (1_000 / heartbeatInterval);
    expect(idle).toBeGreaterThanOrEqual(beats - 2);
    expect(idle).toBeLessThanOrEqual(beats + 2);
    expect(idle).toBeLessThanOrEqual(3 * 20);
    expect(cluster.counters().byType['AppendEntries']!.messages - appends).toBe(idle); // heartbeats only
  });
});
