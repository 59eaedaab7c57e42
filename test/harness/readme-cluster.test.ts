// The scenario test shown in README.md, kept verbatim (readme.test.ts checks they stay equal).
import { describe, expect, it } from 'vitest';
import { Cluster, when } from '../../harness/index.js';

describe('replication, frozen mid-flight', () => {
  it('a new entry is on the leader but not yet on the followers, then on all', async () => {
    await using cluster = await Cluster.start({ nodes: 3, seed: 42 });
    const leader = await cluster.waitForLeader({ timeout: 5_000 });   // virtual ms
    await cluster.advance(100);

    const credit = cluster.client().credit(25);        // runs while the cluster runs
    const hit = await cluster.pauseWhen(
      when.messageSent({ type: 'AppendEntries', from: leader, where: (m) => (m.entries as unknown[]).length > 0 }),
    );
    expect(hit.node).toBe(leader);                     // the whole cluster is paused here

    const [first, ...others] = await Promise.all([leader, ...cluster.ids.filter((id) => id !== leader)].map((id) => cluster.inspect(id)));
    expect(first!.log.at(-1)).toMatchObject({ type: 'command', command: { op: { op: 'credit', amount: 25 } } });
    for (const s of others) expect(s.log.length).toBe(first!.log.length - 1);

    await cluster.resume();
    expect(await credit).toEqual({ ok: true, balance: 25 });
  });
});
