/**
 * MIT 6.5840 TestBackup3B: "leader backs up quickly over incorrect follower logs".
 *
 * Five servers. The leader and one follower are cut off with 50 commands that cannot commit; the
 * other three elect and commit 50; then a new minority (that group's leader and one follower)
 * gets 50 more entries that cannot commit; the first minority comes back with the third server,
 * which must overwrite their 50 wrong entries and commit 50 more; finally everyone reconnects and
 * one command must reach all five within 10 s. Disconnect is MIT's: a disconnected server talks
 * to nobody, clients included.
 *
 * Fast backup, measured: every AppendEntriesReply with success = false is counted on the wire.
 * When leader1 and its follower return, each holds 50 wrong entries of one term: backing up one
 * entry per rejection would cost at least 50 rejections each; with the conflict term and index of
 * fast backup it costs a constant per conflicting term. The bound asserted, per catch-up: at most
 * 3 rejections per follower per divergent term (one for a log too short, one for the term to
 * skip, one for a heartbeat probe crossing them), so at most 6 here; measured: 2 per follower.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/cluster.js';
import type { NodeId } from '../../src/raft/types.js';
import { useClusters } from '../harness/support/clusters.js';
import { Connectivity, RAFT_ELECTION_TIMEOUT, TraceFollower, WireTap, creditAmount, expectAllAgreeThrough, one } from './support-faults.js';

const start = useClusters({ host: 'inline' });
const SEEDS = [1, 2, 3, 4];
const WRONG = 50;

/** MIT's `rafts[leader].Start(cmd)` × n: one client per command, pinned to `leader`, one attempt. */
function submitWithoutCommit(net: Connectivity, leader: NodeId, amounts: readonly number[]): void {
  for (const amount of amounts) {
    const client = net.client({ node: leader, retryInterval: 1_000_000 });
    void client.credit(amount, { timeout: RAFT_ELECTION_TIMEOUT });
  }
}

/** How many of `amounts` sit in `id`'s log above its commit index. */
async function uncommittedOn(cluster: Cluster, id: NodeId, amounts: readonly number[]): Promise<number> {
  const s = await cluster.inspect(id);
  const wanted = new Set(amounts);
  return s.log.filter((e) => e.index > s.commitIndex && wanted.has(creditAmount(e) ?? -1)).length;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

describe('MIT TestBackup3B: the leader backs up quickly over incorrect follower logs', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: 2 × 50 wrong entries overwritten, everyone agrees; rejections O(terms), not O(entries)`, async () => {
      const cluster = await start({ nodes: 5, seed });
      const ids = cluster.ids;
      const watch = new TraceFollower(cluster);
      const net = new Connectivity(cluster, 'cut');
      const rejections = new Map<NodeId, number>();
      const tap = new WireTap(cluster, (m) => {
        if (m.type === 'AppendEntriesReply' && m.message['success'] === false) rejections.set(m.from, (rejections.get(m.from) ?? 0) + 1);
      });
      const rejected = (who: readonly NodeId[]): number => who.reduce((sum, id) => sum + (rejections.get(id) ?? 0), 0);
      const agree = net.client();
      let next = 1;
      const oneCmd = (expected: number) => one(cluster, watch, agree, next++, expected, () => tap.scan());

      await oneCmd(5);

      // Put the leader and one follower in a partition: disconnect the other three.
      const leader1 = await cluster.leader();
      expect(leader1).toBeDefined();
      const at = (k: number): NodeId => ids[(ids.indexOf(leader1!) + k) % ids.length]!;
      net.disconnect(at(2), at(3), at(4));

      // Lots of commands that won't commit.
      const wrong1 = range(10_000, WRONG);
      submitWithoutCommit(net, leader1!, wrong1);
      await cluster.advance(RAFT_ELECTION_TIMEOUT / 2);
      expect(await uncommittedOn(cluster, leader1!, wrong1)).toBe(WRONG);
      expect(await uncommittedOn(cluster, at(1), wrong1)).toBe(WRONG);

      // The other three recover, and commit lots of commands.
      net.disconnect(at(0), at(1));
      net.connect(at(2), at(3), at(4));
      for (let i = 0; i < WRONG; i++) await oneCmd(3);

      // Another partitioned leader and one follower, with lots of commands that won't commit.
      const leader2 = await cluster.leader();
      expect([at(2), at(3), at(4)]).toContain(leader2);
      let other = at(2);
      if (leader2 === other) other = ids[(ids.indexOf(leader2) + 1) % ids.length]!;
      net.disconnect(other);
      const partner2 = net.connectedIds().find((id) => id !== leader2)!;
      const wrong2 = range(20_000, WRONG);
      submitWithoutCommit(net, leader2!, wrong2);
      await cluster.advance(RAFT_ELECTION_TIMEOUT / 2);
      expect(await uncommittedOn(cluster, leader2!, wrong2)).toBe(WRONG);
      expect(await uncommittedOn(cluster, partner2, wrong2)).toBe(WRONG);

      // Bring the original leader back to life with `other`; lots of successful commands.
      net.disconnect(...ids);
      net.connect(at(0), at(1), other);
      const stale1 = [at(0), at(1)];
      const before4 = rejected(stale1);
      for (let i = 0; i < WRONG; i++) await oneCmd(3);
      const backup4 = rejected(stale1) - before4;

      // Now everyone.
      const stale2 = [leader2!, partner2];
      const before5 = rejected(stale2);
      net.connect(...ids);
      const final = await oneCmd(5);
      const backup5 = rejected(stale2) - before5;

      const log = await expectAllAgreeThrough(cluster, final.index);
      const amounts = log.map(creditAmount);
      for (const w of [...wrong1, ...wrong2]) expect(amounts).not.toContain(w);
      expect(final.result).toEqual({ ok: true, balance: ((next - 1) * next) / 2 }); // 1 + 2 + … + (next − 1)

      // Fast backup. Returning leader1 and its follower each hold 50 wrong entries of one term
      // (leader1's): skipping them one by one would take >= 50 rejections each.
      expect(backup4).toBeGreaterThan(0); // the tap does see the rejections
      expect(backup4).toBeLessThanOrEqual(2 * 3); // 2 followers × 1 divergent term × 3
      // leader2's wrong entries are of the term its group committed in, right after the last
      // entry the new leader shares with it: the leader's first probe may land there at once.
      expect(backup5).toBeLessThanOrEqual(2 * 3);
      // No other follower ever diverged, so nothing else was rejected over the whole run.
      expect(rejected(ids)).toBe(backup4 + backup5);
    });
  }
});
