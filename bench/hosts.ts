import { Cluster, type ClusterOptions } from '../harness/cluster.js';
import type { Scenario } from '../harness/replay.js';

/** The sweep scenario: an election, client traffic, a leader crash and restart, a partition and a heal. */
export const sweepScenario: Scenario = async (cluster) => {
  const leader = await cluster.waitForLeader({ timeout: 10_000 });
  const client = cluster.client();
  await client.credit(10, { timeout: 10_000 });
  await cluster.crash(leader);
  await client.debit(3, { timeout: 10_000 });
  await cluster.restart(leader);
  cluster.partition([cluster.ids[0]!], cluster.ids.slice(1));
  await cluster.advance(500);
  cluster.heal();
  await client.credit(1, { timeout: 10_000 });
  await cluster.advance(200);
};

export type SweepResult = { readonly host: string; readonly seeds: number; readonly wallMs: number; readonly perSecond: number; readonly events: number };

/** Runs the scenario on `seeds` seeds, one cluster per seed (start and stop included). */
export async function benchSweep(host: NonNullable<ClusterOptions['host']>, seeds: number, nodes = 5): Promise<SweepResult> {
  let events = 0;
  const start = process.hrtime.bigint();
  for (let seed = 1; seed <= seeds; seed++) {
    const cluster = await Cluster.start({ nodes, seed, host });
    try {
      await sweepScenario(cluster);
      events += cluster.stats().events;
    } finally {
      await cluster.stop();
    }
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { host, seeds, wallMs, perSecond: (seeds * 1000) / wallMs, events };
}
