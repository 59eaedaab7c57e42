import { describe, expect, it } from 'vitest';
import { expectCommitWithin, expectLeaderWithin } from '../../harness/check/liveness.js';
import { useClusters } from './support/clusters.js';

const start = useClusters({ host: 'inline' });

describe('liveness checks in virtual time', () => {
  it('a leader within T ms after the network heals', async () => {
    const cluster = await start({ nodes: 5, seed: 3 });
    await cluster.waitForLeader();
    cluster.partition(['n1', 'n2'], ['n3'], ['n4', 'n5']); // no majority anywhere
    await cluster.advance(2_000);
    expect(await cluster.leader()).toBeUndefined();
    cluster.heal();
    const leader = await expectLeaderWithin(cluster, 1_000);
    expect(cluster.ids).toContain(leader);
  });

  it('fails with LivenessError and a hang report when no leader can be elected', async () => {
    const cluster = await start({ nodes: 3, seed: 3 });
    cluster.partition(['n1'], ['n2'], ['n3']);
    await expect(expectLeaderWithin(cluster, 1_000)).rejects.toMatchObject({ name: 'LivenessError', property: 'leader-within', ms: 1_000 });
  });

  it('a proposal commits within T ms while a majority is connected; not without one', async () => {
    const cluster = await start({ nodes: 5, seed: 4 });
    const leader = await cluster.waitForLeader();
    const others = cluster.ids.filter((id) => id !== leader);
    cluster.partition([leader, others[0]!, others[1]!], [others[2]!, others[3]!]);
    expect(await expectCommitWithin(cluster, 500)).toEqual({ ok: true, balance: 1 });
    cluster.partition([leader, others[0]!], [others[1]!, others[2]!, others[3]!]);
    cluster.isolate(others[1]!);
    cluster.isolate(others[2]!);
    const error = await expectCommitWithin(cluster, 500).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'LivenessError', property: 'commit-within' });
    expect((error as Error).message).toMatch(/was not committed and answered within 500 virtual ms[\s\S]*on the wire/);
  });
});
