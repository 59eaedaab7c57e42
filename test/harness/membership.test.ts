/**
 * The harness's operator verbs on a running cluster: addNode, removeNode, transferLeadership,
 * and the named errors for what cannot be asked. Both hosts run the same Raft.
 */
import { describe, expect, it } from 'vitest';
import { LeadershipTransferError, MembershipChangeError, UnknownNodeError } from '../../harness/errors.js';
import { useClusters } from './support/clusters.js';

const start = useClusters({ host: 'inline' });

describe('on the worker host', () => {
  const startWorkers = useClusters({ host: 'worker' });
  it('a node added to a running cluster runs in its own worker, catches up, votes, and can take over', async () => {
    const cluster = await startWorkers({ nodes: 3, seed: 7 });
    await cluster.waitForLeader();
    const client = cluster.client();
    await client.credit(5);
    const id = await cluster.addNode();
    await cluster.transferLeadership(id);
    expect(await cluster.leader()).toBe(id);
    await client.credit(6);
    expect(await client.balance()).toEqual({ ok: true, balance: 11 });
    expect(cluster.resources().workers).toBe(4);
  });

  it('a follower restarted behind a snapshot gets InstallSnapshot; its disk (on the main thread) keeps the snapshot', async () => {
    const cluster = await startWorkers({ nodes: 3, seed: 8, raft: { snapshotEvery: 5 } });
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    const client = cluster.client();
    await client.credit(1);
    await cluster.crash(follower);
    for (let k = 2; k <= 13; k++) await client.credit(k);
    await cluster.restart(follower);
    await cluster.runUntil(async () => ((await cluster.inspect(follower)).app as { balance: number }).balance === 91);
    expect(cluster.trace().some((e) => e.node === follower && e.type === 'snapshot' && e['source'] === 'installed')).toBe(true);
    await cluster.crash(follower);
    const down = await cluster.inspect(follower);
    expect(down.snapshotIndex).toBeGreaterThan(0);
    await cluster.restart(follower);
    await cluster.runUntil(async () => (await cluster.inspect(follower)).lastApplied >= down.snapshotIndex);
    expect(((await cluster.inspect(follower)).app as { balance: number }).balance).toBe(91);
  });
});

describe('addNode / removeNode / transferLeadership', () => {
  it('addNode starts a node, adds it as a learner, catches it up, then makes it a voter', async () => {
    const cluster = await start({ nodes: 3, seed: 4 });
    await cluster.waitForLeader();
    const client = cluster.client();
    for (let i = 1; i <= 5; i++) await client.credit(i);
    const id = await cluster.addNode();
    expect(id).toBe('n4');
    expect(cluster.ids).toEqual(['n1', 'n2', 'n3', 'n4']);
    const s = await cluster.inspect('n4');
    expect(s.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(s.learners).toEqual([]);
    await client.credit(100);
    await cluster.runUntil(async () => (await cluster.inspect('n4')).app !== null && ((await cluster.inspect('n4')).app as { balance: number }).balance === 115);
    const changes = cluster
      .trace()
      .filter((e) => e.type === 'membership' && e.node === 'n4')
      .map((e) => [e['voters'], e['learners']]);
    expect(changes).toEqual([
      [['n1', 'n2', 'n3'], ['n4']],
      [['n1', 'n2', 'n3', 'n4'], []],
    ]);
  });

  it('removeNode takes a node out and stops it; removing the leader makes it step down', async () => {
    const cluster = await start({ nodes: 5, seed: 2 });
    const leader = await cluster.waitForLeader();
    const client = cluster.client();
    await client.credit(7);
    await cluster.removeNode(leader);
    expect(cluster.ids).not.toContain(leader);
    const next = await cluster.waitForLeader();
    expect(next).not.toBe(leader);
    expect((await cluster.inspect(next)).voters).toHaveLength(4);
    expect((await cluster.inspect(leader)).status).toBe('stopped');
    await client.credit(8);
    expect(await client.balance()).toEqual({ ok: true, balance: 15 });
    const report = await cluster.stop();
    expect(report.nodes.find((r) => r.id === leader)).toEqual({ id: leader, outcome: 'clean', error: null, pendingTimers: [] });
  });

  it('transferLeadership hands over to the chosen follower', async () => {
    const cluster = await start({ nodes: 3, seed: 3 });
    const leader = await cluster.waitForLeader();
    const target = cluster.ids.find((id) => id !== leader)!;
    await cluster.client().credit(1);
    await cluster.transferLeadership(target);
    expect(await cluster.leader()).toBe(target);
    expect(cluster.trace().some((e) => e.type === 'transfer' && e['phase'] === 'timeout-now' && e.node === leader)).toBe(true);
  });

  it('a transfer to a node hidden by a partition times out, and the old leader leads on', async () => {
    const cluster = await start({ nodes: 3, seed: 5 });
    const leader = await cluster.waitForLeader();
    await cluster.client().credit(1);
    const target = cluster.ids.find((id) => id !== leader)!;
    cluster.isolate(target);
    const error = await cluster.transferLeadership(target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeadershipTransferError);
    expect((error as LeadershipTransferError).reason).toBe('transfer-timeout');
    expect(await cluster.leader()).toBe(leader);
    expect(await cluster.client().credit(2)).toMatchObject({ ok: true });
  });

  describe('bad input: named errors, cluster unchanged', () => {
    it('adding an id already in the cluster', async () => {
      const cluster = await start({ nodes: 3 });
      await cluster.waitForLeader();
      await expect(cluster.addNode({ id: 'n2' })).rejects.toThrow(MembershipChangeError);
      await expect(cluster.addNode({ id: 'n2' })).rejects.toThrow(/addNode\("n2"\) refused \(already-member\)/);
      expect(cluster.ids).toEqual(['n1', 'n2', 'n3']);
    });

    it('removing a node that is not in the cluster', async () => {
      const cluster = await start({ nodes: 3 });
      await expect(cluster.removeNode('n9')).rejects.toThrow(/removeNode\("n9"\) refused \(not-member\): no node "n9" in the cluster; nodes: n1, n2, n3/);
      expect(cluster.ids).toEqual(['n1', 'n2', 'n3']);
    });

    it('a second change while one is pending', async () => {
      const cluster = await start({ nodes: 3 });
      await cluster.waitForLeader();
      const adding = cluster.addNode();
      await expect(cluster.removeNode('n3')).rejects.toThrow(/removeNode\("n3"\) refused \(change-pending\): addNode\(n4\) is still in progress/);
      await adding;
      expect(cluster.ids).toEqual(['n1', 'n2', 'n3', 'n4']);
    });

    it('a transfer to a node that is not a member, or not a voter', async () => {
      const cluster = await start({ nodes: 3 });
      await cluster.waitForLeader();
      await expect(cluster.transferLeadership('n9')).rejects.toThrow(UnknownNodeError);
      const learner = await cluster.addNode({ voter: false });
      const error = await cluster.transferLeadership(learner).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LeadershipTransferError);
      expect((error as LeadershipTransferError).reason).toBe('not-voter');
    });
  });
});
