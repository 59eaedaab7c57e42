/**
 * Membership changes (dissertation §4) and leadership transfer (§3.10) as scenarios, on virtual
 * time, under client load: every write must complete exactly once, the history must be
 * linearizable, and the members must converge.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/cluster.js';
import type { ClientOperation } from '../../harness/client.js';
import { LeadershipTransferError } from '../../harness/errors.js';
import type { NodeId } from '../../src/raft/types.js';
import { useClusters } from '../harness/support/clusters.js';
import { liveSnapshots } from './support.js';

const start = useClusters({ host: 'inline' });
const SEEDS = [1, 2, 3];

/**
 * Credits in flight, wave after wave, while the test changes things. Each wave has clients of its
 * own: a client keeps one write outstanding (a session's writes apply in sequence order).
 */
class Load {
  private readonly ops: ClientOperation[] = [];
  private readonly cluster: Cluster;
  private readonly clients: number;
  total = 0;
  constructor(cluster: Cluster, clients: number) {
    this.cluster = cluster;
    this.clients = clients;
  }

  /** Starts one credit per client (not awaited: whatever drives the cluster moves them). */
  wave(amount: number): void {
    for (let i = 0; i < this.clients; i++) {
      this.ops.push(this.cluster.client().credit(amount, { timeout: 20_000 }));
      this.total += amount;
    }
  }

  /** Waits for every operation; each must have succeeded. */
  async done(): Promise<void> {
    for (const op of this.ops.splice(0)) expect((await op).ok).toBe(true);
  }
}

/** Every member that is up has the same commit index, has applied it, and shows `balance`. */
async function converged(cluster: Cluster, members: readonly NodeId[], balance: number): Promise<void> {
  await cluster.runUntil(
    async () => {
      const snaps = await liveSnapshots(cluster, members);
      if (snaps.length !== members.length) return false;
      const commit = snaps[0]!.commitIndex;
      return snaps.every((s) => s.commitIndex === commit && s.lastApplied === commit && (s.app as { balance: number }).balance === balance);
    },
    { timeout: 10_000 },
  );
  for (const s of await liveSnapshots(cluster, members)) expect([...s.voters].sort()).toEqual([...members].sort());
}

describe('membership changes (dissertation §4.1)', () => {
  it.each(SEEDS)('grow 3 → 5 under load: each new node catches up as a learner, then votes (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const load = new Load(cluster, 4);
    load.wave(1);
    const n4 = await cluster.addNode();
    load.wave(2);
    const n5 = await cluster.addNode();
    load.wave(3);
    await load.done();
    expect([n4, n5]).toEqual(['n4', 'n5']);
    await converged(cluster, ['n1', 'n2', 'n3', 'n4', 'n5'], load.total);
    expect((await cluster.checkLinearizability()).result).toBe('ok');
    // With 5 voters, two nodes down still leave a quorum.
    await cluster.crash('n1');
    await cluster.crash('n2');
    expect(await cluster.client().credit(1000, { timeout: 10_000 })).toMatchObject({ ok: true });
  });

  it.each(SEEDS)('shrink 5 → 3 under load, removing the leader first: it steps down once the change commits (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 5, seed });
    const load = new Load(cluster, 4);
    const leader = await cluster.waitForLeader();
    load.wave(1);
    await cluster.removeNode(leader);
    load.wave(2);
    const other = cluster.ids.find((id) => id !== leader && id !== cluster.ids[0])!;
    await cluster.removeNode(other);
    load.wave(3);
    await load.done();
    const members = cluster.ids.filter((id) => id !== leader && id !== other);
    expect(members).toHaveLength(3);
    await converged(cluster, members, load.total);
    const steppedDown = cluster.trace().find((e) => e.node === leader && e.type === 'role' && e['from'] === 'leader');
    expect(steppedDown).toBeDefined();
    expect((await cluster.checkLinearizability()).result).toBe('ok');
  });

  it.each(SEEDS)('add a node while a partition cuts one member off; the member rejoins afterwards (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const leader = await cluster.waitForLeader();
    const cutOff = cluster.ids.find((id) => id !== leader)!;
    cluster.isolate(cutOff);
    const load = new Load(cluster, 2);
    load.wave(5);
    const added = await cluster.addNode();
    load.wave(6);
    await load.done();
    cluster.heal();
    await converged(cluster, ['n1', 'n2', 'n3', added], load.total);
  });

  it.each(SEEDS)('a removed node that keeps running does not disrupt the cluster (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const leader = await cluster.waitForLeader();
    const removed = cluster.ids.find((id) => id !== leader)!;
    await cluster.removeNode(removed, { stop: false });
    const term = (await cluster.inspect(leader)).term;
    const client = cluster.client();
    for (let k = 1; k <= 5; k++) {
      expect(await client.credit(k)).toMatchObject({ ok: true });
      await cluster.advance(600); // the removed node times out again and again meanwhile
    }
    expect(await cluster.leader()).toBe(leader);
    expect((await cluster.inspect(leader)).term).toBe(term);
    expect((await cluster.inspect(removed)).status).toBe('running');
    expect((await cluster.inspect(removed)).role).not.toBe('leader');
  });
});

describe('leadership transfer (dissertation §3.10)', () => {
  it.each(SEEDS)('to an up-to-date follower, under load: no write is lost or applied twice (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const leader = await cluster.waitForLeader();
    const load = new Load(cluster, 3);
    load.wave(1);
    await load.done();
    const target = cluster.ids.find((id) => id !== leader)!;
    load.wave(2);
    await cluster.transferLeadership(target);
    load.wave(3);
    await load.done();
    expect(await cluster.leader()).toBe(target);
    await converged(cluster, cluster.ids, load.total);
    expect((await cluster.checkLinearizability()).result).toBe('ok');
  });

  it.each(SEEDS)('to a lagging follower: the leader catches it up first (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const leader = await cluster.waitForLeader();
    const target = cluster.ids.find((id) => id !== leader)!;
    cluster.isolate(target);
    const client = cluster.client();
    for (let k = 1; k <= 20; k++) await client.credit(k);
    cluster.heal();
    const behind = (await cluster.inspect(target)).commitIndex;
    expect(behind).toBeLessThan((await cluster.inspect(leader)).commitIndex);
    await cluster.transferLeadership(target);
    expect(await cluster.leader()).toBe(target);
    expect(await client.balance()).toEqual({ ok: true, balance: 210 });
  });

  it.each(SEEDS)('to a follower hidden by a partition: it times out, the old leader leads on (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const leader = await cluster.waitForLeader();
    const target = cluster.ids.find((id) => id !== leader)!;
    cluster.partition([target], cluster.ids.filter((id) => id !== target));
    const error = await cluster.transferLeadership(target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeadershipTransferError);
    expect(String(error)).toMatch(new RegExp(`leadership transfer ${leader} → ${target} failed \\(transfer-timeout\\)`));
    expect(await cluster.leader()).toBe(leader);
    expect(await cluster.client().credit(4)).toMatchObject({ ok: true });
  });
});
