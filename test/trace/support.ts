import { Cluster } from '../../harness/cluster.js';
import type { TraceData, Verdict } from '../../harness/trace/index.js';

/** A real run to export: 5 nodes, an election, client operations, a partition, a crash and a restart. */
export async function realTrace(verdict: (operations: number) => Verdict): Promise<TraceData> {
  const cluster = await Cluster.start({ nodes: 5, seed: 3, host: 'inline' });
  try {
    await cluster.waitForLeader();
    const client = cluster.client();
    await client.credit(5);
    cluster.partition(['n1', 'n2'], ['n3', 'n4', 'n5']);
    const pending = client.debit(2);
    await cluster.advance(400);
    cluster.heal();
    await pending;
    await cluster.crash('n4');
    await cluster.advance(300);
    await cluster.restart('n4');
    await cluster.advance(200);
    return cluster.trace.data(verdict(cluster.history().length));
  } finally {
    await cluster.stop();
  }
}
