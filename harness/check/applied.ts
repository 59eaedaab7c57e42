import type { NodeId } from '../../src/raft/types.js';
import { SafetyViolationError } from './safety.js';

/**
 * The checks a cluster makes on every event it sees, whatever the scenario (the MIT tester's
 * applier check, plus election safety): at most one leader per term; each node applies entries
 * in order, one index after the other; no two nodes apply different entries at one index (an
 * entry is identified by its index and term: Log Matching makes that unique).
 */
export class AppliedChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** index → the term applied there first, and by whom. */
  private readonly applied = new Map<number, { readonly term: number; readonly node: NodeId }>();
  private readonly last = new Map<NodeId, number>();

  /** A node's state machine restarted: from its snapshot at `from` (0: from index 1). */
  restarted(node: NodeId, from = 0): void {
    this.last.set(node, from);
  }

  leader(node: NodeId, term: number, time: number): void {
    const holder = this.leaders.get(term);
    if (holder !== undefined && holder !== node) {
      throw new SafetyViolationError('election-safety', [holder, node], time, `two leaders in term ${term}`);
    }
    this.leaders.set(term, node);
  }

  apply(node: NodeId, index: number, term: number, time: number): void {
    const previous = this.last.get(node) ?? 0;
    if (index !== previous + 1) {
      throw new SafetyViolationError('state-machine-safety', [node], time, `${node} applied index ${index} after ${previous} (out of order)`);
    }
    this.last.set(node, index);
    const first = this.applied.get(index);
    if (first === undefined) this.applied.set(index, { term, node });
    else if (first.term !== term) {
      throw new SafetyViolationError(
        'state-machine-safety',
        [first.node, node],
        time,
        `index ${index} applied with term ${first.term} on ${first.node} and with term ${term} on ${node}`,
      );
    }
  }
}
