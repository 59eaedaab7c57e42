import { describe, expect, it } from 'vitest';
import { Cluster, type ClusterOptions } from '../../harness/cluster.js';

/** Elections, a client, a crash and restart, a partition and a heal, on a lossy network. */
async function traceOf(options: ClusterOptions): Promise<string> {
  const cluster = await Cluster.start({ nodes: 3, network: { drop: 0.05, duplicate: 0.05 }, ...options });
  try {
    const leader = await cluster.waitForLeader({ timeout: 10_000 });
    const client = cluster.client();
    await client.credit(3, { timeout: 10_000 });
    await cluster.crash(leader);
    await client.debit(1, { timeout: 10_000 });
    await cluster.restart(leader);
    cluster.partition([cluster.ids[0]!], cluster.ids.slice(1));
    await cluster.advance(400);
    cluster.heal();
    await cluster.advance(200);
    return cluster.traceHash();
  } finally {
    await cluster.stop();
  }
}

describe('inline host and worker host', () => {
  it('give byte-identical traces for the same seed, on 200 seeds', async () => {
    const differing: number[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const [worker, inline] = await Promise.all([traceOf({ seed, host: 'worker' }), traceOf({ seed, host: 'inline' })]);
      if (worker !== inline) differing.push(seed);
    }
    expect(differing).toEqual([]);
  }, 300_000);
});
