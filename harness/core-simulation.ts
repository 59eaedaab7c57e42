import { createRandom, deriveSeed } from '../src/raft/random.js';
import type { NodeId } from '../src/raft/types.js';
import { SafetyViolationError } from './check/safety.js';
import { CoreNetwork } from './core-network.js';

export type CoreSimulationOptions = {
  readonly seed: number;
  readonly nodes: number;
  /** Virtual ms of the chaos phase; a healed phase follows in which the cluster must converge. */
  readonly duration: number;
  readonly drop: number;
  readonly duplicate: number;
  readonly latency: readonly [number, number];
};

export const DEFAULT_CORE_SIMULATION: Omit<CoreSimulationOptions, 'seed'> = {
  nodes: 5,
  duration: 10_000,
  drop: 0.05,
  duplicate: 0.02,
  latency: [1, 30],
};

export type CoreSimulationResult =
  | { readonly seed: number; readonly ok: true; readonly events: number; readonly committed: number; readonly leaders: number }
  | { readonly seed: number; readonly ok: false; readonly events: number; readonly failure: string };

/**
 * One seed of the core simulation: pure cores on a lossy, duplicating, reordering network with
 * random partitions (symmetric and one-way), crashes and restarts, under a steady stream of
 * proposals; every event is checked against Figure 3's safety properties. Then the network heals,
 * every node restarts, and the cluster must elect a leader and commit a final proposal
 * everywhere within a bounded virtual time (liveness).
 */
export function runCoreSimulation(options: CoreSimulationOptions): CoreSimulationResult {
  const ids: NodeId[] = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const net = new CoreNetwork({
    nodes: ids,
    seed: options.seed,
    drop: options.drop,
    duplicate: options.duplicate,
    latency: options.latency,
  });
  const chaos = createRandom(deriveSeed(options.seed, 'faults'));
  const pick = (): NodeId => ids[Math.floor(chaos() * ids.length)]!;
  let seq = 0;
  const leaders = new Set<string>();
  try {
    while (net.now < options.duration) {
      net.runUntil(net.now + 20 + Math.floor(chaos() * 80));
      const leader = net.leader();
      if (leader !== undefined) leaders.add(`${leader}@${net.core(leader)!.status().term}`);
      net.propose({ clientId: 'sim', seq: seq++, op: { op: 'credit', amount: 1 } });
      const roll = chaos();
      if (roll < 0.04) {
        const side = ids.filter(() => chaos() < 0.5);
        net.partition(side, ids.filter((id) => !side.includes(id)));
      } else if (roll < 0.06) {
        net.cutLink(pick(), pick());
      } else if (roll < 0.1) {
        net.heal();
      } else if (roll < 0.13) {
        net.crash(pick());
      } else if (roll < 0.17) {
        net.restart(pick());
      }
    }
    net.heal();
    for (const id of ids) net.restart(id);
    if (!net.runUntilTrue(() => net.leader() !== undefined, 10_000)) {
      return { seed: options.seed, ok: false, events: net.events, failure: 'liveness: no leader within 10000 ms after healing' };
    }
    // A final proposal, retried at whoever leads (as a client would), must commit everywhere.
    const finalSeq = seq++;
    const indexOf = (id: NodeId): number =>
      net.core(id)?.entries().find((e) => e.type === 'command' && e.command.clientId === 'sim' && e.command.seq === finalSeq)?.index ?? 0;
    const converged = net.runUntilTrue(() => {
      const leader = net.leader();
      if (leader === undefined) return false;
      const index = indexOf(leader);
      if (index === 0) {
        net.propose({ clientId: 'sim', seq: finalSeq, op: { op: 'credit', amount: 1 } }, leader);
        return false;
      }
      return net.views().every((v) => v.commitIndex >= index && indexOf(v.id) === index);
    }, 10_000);
    if (!converged) {
      const commits = net.views().map((v) => `${v.id}:${v.commitIndex}`).join(' ');
      return { seed: options.seed, ok: false, events: net.events, failure: `liveness: the final proposal did not commit everywhere within 10000 ms after healing (${commits})` };
    }
    return { seed: options.seed, ok: true, events: net.events, committed: Math.min(...net.views().map((v) => v.commitIndex)), leaders: leaders.size };
  } catch (error) {
    if (error instanceof SafetyViolationError || (error instanceof Error && error.name === 'RaftInvariantError')) {
      return { seed: options.seed, ok: false, events: net.events, failure: error.message };
    }
    throw error;
  }
}
