import type { BankResult } from '../../src/apps/bank/bank.js';
import { RaftHarnessError } from '../../src/raft/errors.js';
import type { NodeId } from '../../src/raft/types.js';
import type { BankClient, ClientOperation } from '../client.js';
import type { Cluster } from '../cluster.js';

/** A liveness property did not hold within its bound of virtual time; carries the hang report. */
export class LivenessError extends RaftHarnessError {
  readonly property: 'leader-within' | 'commit-within';
  readonly ms: number;
  constructor(property: 'leader-within' | 'commit-within', ms: number, what: string, report: string) {
    super(`liveness: ${what} within ${ms} virtual ms\n${report}`);
    this.name = 'LivenessError';
    this.property = property;
    this.ms = ms;
  }
}

/**
 * "A leader within `ms` after the network heals": call it right after `heal()` (or any change
 * that should let an election succeed). Returns the leader.
 */
export async function expectLeaderWithin(cluster: Cluster, ms: number): Promise<NodeId> {
  const start = cluster.now();
  try {
    return await cluster.waitForLeader({ timeout: ms });
  } catch (error) {
    if ((error as Error).name !== 'ClusterTimeoutError') throw error;
    throw new LivenessError('leader-within', ms, `no leader elected from ${start} ms`, await cluster.hangReport());
  }
}

/**
 * "A proposal commits within `ms` while a majority is connected": runs `operation` with a fresh
 * client (a write, so it goes through the log) and requires its answer in time.
 */
export async function expectCommitWithin(
  cluster: Cluster,
  ms: number,
  operation: (client: BankClient, options: { timeout: number }) => ClientOperation = (c, o) => c.credit(1, o),
): Promise<BankResult> {
  const start = cluster.now();
  try {
    return await operation(cluster.client(), { timeout: ms });
  } catch (error) {
    if ((error as Error).name !== 'ClusterTimeoutError') throw error;
    throw new LivenessError('commit-within', ms, `a proposal made at ${start} ms was not committed and answered`, await cluster.hangReport());
  }
}
