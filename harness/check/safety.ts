import { RaftHarnessError } from '../../src/raft/errors.js';
import type { Entry, NodeId, Role } from '../../src/raft/types.js';

/** What the safety monitor needs to see of one node at one instant. */
export type NodeView = {
  readonly id: NodeId;
  /** A restart starts a new incarnation: volatile state (commit index) may restart lower. */
  readonly incarnation: number;
  readonly role: Role;
  readonly term: number;
  readonly commitIndex: number;
  readonly log: readonly Entry[];
};

export const SAFETY_PROPERTIES = [
  'election-safety',
  'leader-append-only',
  'log-matching',
  'leader-completeness',
  'state-machine-safety',
  'monotonic-term',
  'monotonic-commit',
] as const;
export type SafetyProperty = (typeof SAFETY_PROPERTIES)[number];

export class SafetyViolationError extends RaftHarnessError {
  readonly property: SafetyProperty;
  readonly nodes: readonly NodeId[];
  readonly time: number;
  readonly detail: string;
  constructor(property: SafetyProperty, nodes: readonly NodeId[], time: number, detail: string) {
    super(`safety violation: ${property} at ${time} ms on ${nodes.join(', ')}: ${detail}`);
    this.name = 'SafetyViolationError';
    this.property = property;
    this.nodes = nodes;
    this.time = time;
    this.detail = detail;
  }
}

/** Identity of an entry across nodes: same index and term must mean the same entry (§5.3). */
export function entryKey(e: Entry): string {
  return e.type === 'noop' ? `${e.term}:noop` : `${e.term}:${e.command.clientId}:${e.command.seq}:${JSON.stringify(e.command.op)}`;
}

type Committed = { readonly key: string; readonly entry: Entry; readonly node: NodeId; readonly term: number };

/**
 * Checks the safety properties of Figure 3 over successive observations of a cluster. Feed it
 * every node after every event; it remembers what it has seen (leaders per term, committed
 * entries, each leader's log) and throws SafetyViolationError at the first breach.
 */
export class SafetyMonitor {
  private readonly leaders = new Map<number, NodeId>();
  private readonly leaderLogs = new Map<string, readonly Entry[]>();
  /** Index → the entry first seen committed there, and the lowest term of a node that saw it. */
  private readonly committed = new Map<number, Committed>();
  private readonly lastSeen = new Map<NodeId, { incarnation: number; term: number; commit: number }>();

  observe(nodes: readonly NodeView[], time: number): void {
    for (const n of nodes) this.observeNode(n, time);
    this.checkLogMatching(nodes, time);
  }

  private observeNode(n: NodeView, time: number): void {
    const last = this.lastSeen.get(n.id);
    if (last !== undefined) {
      if (n.term < last.term) {
        throw new SafetyViolationError('monotonic-term', [n.id], time, `term went from ${last.term} to ${n.term}`);
      }
      if (n.incarnation === last.incarnation && n.commitIndex < last.commit) {
        throw new SafetyViolationError('monotonic-commit', [n.id], time, `commit index went from ${last.commit} to ${n.commitIndex}`);
      }
    }
    this.lastSeen.set(n.id, { incarnation: n.incarnation, term: n.term, commit: n.commitIndex });

    for (let i = 0; i < n.commitIndex; i++) {
      const e = n.log[i];
      if (e === undefined) {
        throw new SafetyViolationError('state-machine-safety', [n.id], time, `commit index ${n.commitIndex} beyond log of ${n.log.length}`);
      }
      const known = this.committed.get(e.index);
      const key = entryKey(e);
      if (known === undefined) {
        this.committed.set(e.index, { key, entry: e, node: n.id, term: n.term });
      } else if (known.key !== key) {
        throw new SafetyViolationError(
          'state-machine-safety',
          [known.node, n.id],
          time,
          `index ${e.index} committed as ${known.key} on ${known.node} and as ${key} on ${n.id}`,
        );
      } else if (n.term < known.term) {
        this.committed.set(e.index, { ...known, term: n.term });
      }
    }

    if (n.role !== 'leader') return;
    const holder = this.leaders.get(n.term);
    if (holder !== undefined && holder !== n.id) {
      throw new SafetyViolationError('election-safety', [holder, n.id], time, `two leaders in term ${n.term}`);
    }
    this.leaders.set(n.term, n.id);

    const logKey = `${n.id}@${n.term}`;
    const before = this.leaderLogs.get(logKey);
    if (before !== undefined) {
      for (const [i, e] of before.entries()) {
        const now = n.log[i];
        if (now === undefined || entryKey(now) !== entryKey(e)) {
          throw new SafetyViolationError('leader-append-only', [n.id], time, `leader of term ${n.term} lost or changed its entry ${i + 1}`);
        }
      }
    }
    this.leaderLogs.set(logKey, n.log);

    for (const c of this.committed.values()) {
      // Committed as seen by a node of term c.term: every leader of a later term must hold it.
      if (c.term >= n.term) continue;
      const mine = n.log[c.entry.index - 1];
      if (mine === undefined || entryKey(mine) !== c.key) {
        throw new SafetyViolationError(
          'leader-completeness',
          [n.id, c.node],
          time,
          `leader of term ${n.term} lacks entry ${c.entry.index} (${c.key}) committed by term ${c.term}`,
        );
      }
    }
  }

  /** §5.3 Log Matching: same index and term ⇒ identical logs up to there. */
  private checkLogMatching(nodes: readonly NodeView[], time: number): void {
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) {
        const x = nodes[a]!;
        const y = nodes[b]!;
        const len = Math.min(x.log.length, y.log.length);
        let top = -1;
        for (let i = len - 1; i >= 0; i--) {
          if (x.log[i]!.term === y.log[i]!.term) {
            top = i;
            break;
          }
        }
        for (let i = top; i >= 0; i--) {
          if (entryKey(x.log[i]!) !== entryKey(y.log[i]!)) {
            throw new SafetyViolationError(
              'log-matching',
              [x.id, y.id],
              time,
              `entry ${top + 1} has term ${x.log[top]!.term} on both, but entry ${i + 1} differs: ${entryKey(x.log[i]!)} vs ${entryKey(y.log[i]!)}`,
            );
          }
        }
      }
    }
  }
}
