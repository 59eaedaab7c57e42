/**
 * MIT 6.5840 Raft tester, part 3C (persistence), on the harness. MIT's `crash1` / `start1`
 * become `cluster.crash(id)` (the node is gone: what it had not synced is lost, messages to it
 * too) and `cluster.restart(id)` (it comes back from exactly what its disk had synced).
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/cluster.js';
import { useClusters } from '../harness/support/clusters.js';
import {
  ELECTION_TIMEOUT,
  Tester,
  checkAppliedAndAgreed,
  isCredit,
  liveSnapshots,
  randomIndex,
  scenarioRandom,
  waitCommitted,
} from './support.js';

const start = useClusters({ host: 'inline' });
const SEEDS = [1, 2, 3];

/** MIT `start1` on a running node: crash it, then bring it back from its disk. */
async function crashAndRestart(cluster: Cluster, id: string): Promise<void> {
  await cluster.crash(id);
  await cluster.restart(id);
}

/** Every node up has the same log, fully committed and applied, and this balance. */
async function expectConverged(cluster: Cluster, balance: number): Promise<void> {
  const snaps = await liveSnapshots(cluster);
  expect(snaps).toHaveLength(cluster.ids.length);
  checkAppliedAndAgreed(snaps);
  for (const s of snaps) {
    expect(s.log).toEqual(snaps[0]!.log);
    expect(s.commitIndex).toBe(s.log.length);
    expect(s.app).toEqual({ balance });
  }
}

/** Waits until every node committed everything the most advanced log holds; then settles. */
async function settle(cluster: Cluster): Promise<void> {
  const last = Math.max(...(await liveSnapshots(cluster)).map((s) => s.log.length));
  await waitCommitted(cluster, last, cluster.ids.length);
  await cluster.advance(100);
}

describe('3C: persistence (MIT)', () => {
  it.each(SEEDS)('persist 1: every node crashes, the leader, then a follower; committed commands survive (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    const { index: i11 } = await t.one(client, 11, 3);

    // Crash everything. What was committed is on every disk, with each node's term and vote.
    const before = await cluster.inspectAll();
    for (const id of cluster.ids) await cluster.crash(id);
    for (const s of await cluster.inspectAll()) {
      const was = before.find((b) => b.id === s.id)!;
      expect(s).toMatchObject({ status: 'crashed', term: was.term, votedFor: was.votedFor });
      expect(s.log.slice(0, i11)).toEqual(was.log.slice(0, i11));
    }
    for (const id of cluster.ids) await cluster.restart(id);
    for (const s of await cluster.inspectAll()) {
      const was = before.find((b) => b.id === s.id)!;
      expect(s).toMatchObject({ status: 'running', role: 'follower', term: was.term, votedFor: was.votedFor });
      expect(isCredit(s.log[i11 - 1], client.id, 11)).toBe(true);
    }
    // The old commands remain, and new ones commit on top of them.
    expect(await t.one(client, 12, 3)).toMatchObject({ balance: 23 });

    // The leader crashes and comes back.
    const leader1 = await t.checkOneLeader();
    await crashAndRestart(cluster, leader1);
    expect(await t.one(client, 13, 3)).toMatchObject({ balance: 36 });

    // The next leader goes down; two agree; it comes back and catches up.
    const leader2 = await t.checkOneLeader();
    await cluster.crash(leader2);
    const { index: i14 } = await t.one(client, 14, 2);
    await cluster.restart(leader2);
    await waitCommitted(cluster, i14, 3); // leader2 rejoined before we take another node down

    // A follower goes down; two agree; it comes back.
    const i3 = t.after(await t.checkOneLeader(), 1);
    await cluster.crash(i3);
    await t.one(client, 15, 2);
    await cluster.restart(i3);
    await t.one(client, 16, 3);
    await settle(cluster);
    await expectConverged(cluster, 11 + 12 + 13 + 14 + 15 + 16);
  });

  it.each(SEEDS)('persist 2: on 5 nodes, nodes that missed an entry restart; the one that has it must win (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 5, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    let sum = 0;
    let amount = 10;
    const agree = async (servers: number): Promise<void> => {
      amount += 1;
      await t.one(client, amount, servers);
      sum += amount;
    };
    for (let iter = 0; iter < 5; iter++) {
      await agree(5);
      const leader1 = await t.checkOneLeader();
      const at = (k: number): string => t.after(leader1, k);

      t.disconnect(at(1), at(2));
      await agree(3); // on leader1, at(3), at(4)

      // Now only at(3) of the connected ones will hold that last entry.
      t.disconnect(at(0), at(3), at(4));
      await crashAndRestart(cluster, at(1));
      await crashAndRestart(cluster, at(2));
      t.connect(at(1), at(2));
      await cluster.advance(1_000);
      await crashAndRestart(cluster, at(3));
      t.connect(at(3));
      await agree(3); // at(1), at(2), at(3): at(3) must lead, or the entry would be lost
      expect(await t.checkOneLeader()).toBe(at(3)); // the only one whose log the others' votes allow

      t.connect(at(4), at(0));
    }
    await agree(5);
    await settle(cluster);
    await expectConverged(cluster, sum);
  });

  it.each(SEEDS)('persist 3: a partitioned follower, then the leader and the other follower crash (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    await t.one(client, 101, 3);

    const leader = await t.checkOneLeader();
    const at = (k: number): string => t.after(leader, k);
    t.disconnect(at(2));
    await t.one(client, 102, 2);

    await cluster.crash(at(0));
    await cluster.crash(at(1));
    t.connect(at(2));
    await cluster.restart(at(0));
    // at(2) missed 102: only the restarted leader, from its disk, can make it survive.
    await t.one(client, 103, 2);
    await cluster.restart(at(1));
    await t.one(client, 104, 3);
    await settle(cluster);
    await expectConverged(cluster, 101 + 102 + 103 + 104);
  });
});

describe('persistence scenarios', () => {
  it.each(SEEDS)('a follower that crashes and restarts repeatedly, even mid-catch-up, still catches up (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const random = scenarioRandom(seed, 'flaky-follower');
    const client = cluster.client();
    await t.one(client, 1, 3);
    const flaky = t.after(await t.checkOneLeader(), 1);
    let sum = 1;
    for (let round = 1; round <= 6; round++) {
      await cluster.crash(flaky);
      for (let k = 0; k < 3; k++) {
        const amount = 100 * round + k;
        await t.one(client, amount, 2);
        sum += amount;
      }
      await cluster.restart(flaky);
      // Up for a random while: sometimes not even long enough to hear the leader.
      await cluster.advance(randomIndex(random, ELECTION_TIMEOUT[0]));
      const s = await cluster.inspect(flaky);
      expect(s.role).toBe('follower');
      checkAppliedAndAgreed([s]);
    }
    const { index } = await t.one(client, 999, 3);
    sum += 999;
    await waitCommitted(cluster, index, 3);
    await settle(cluster);
    await expectConverged(cluster, sum);
    // It really came back six times, each from its own disk.
    expect(cluster.trace().filter((e) => e.type === 'restart' && e.node === flaky)).toHaveLength(6);
  });

  it.each(SEEDS)('the leader crashes right after taking a command: it survives if a follower had it, and is applied once (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const t = new Tester(cluster);
    const client = cluster.client();
    await t.one(client, 5, 3);
    const leader = await t.checkOneLeader();
    // The client's command reaches the leader; crash it as soon as one follower has stored it.
    const pending = client.credit(50);
    await cluster.runUntil(async () => {
      const snaps = await liveSnapshots(cluster, cluster.ids.filter((id) => id !== leader));
      return snaps.some((s) => s.log.some((e) => isCredit(e, client.id, 50)));
    });
    await cluster.crash(leader);
    // The follower that has it wins (its log is longer), commits it, and the client's retry is
    // answered from the session: applied exactly once.
    expect(await pending).toEqual({ ok: true, balance: 55 });
    await cluster.restart(leader);
    await t.one(client, 500, 3);
    await settle(cluster);
    await expectConverged(cluster, 555);
  });
});
