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
  /** Index of the node's snapshot (0 without one): `log` holds the entries after it. */
  readonly snapshotIndex?: number;
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
  'applied-within-commit',
] as const;
export type SafetyProperty = (typeof SAFETY_PROPERTIES)[number];

export class SafetyViolationError extends RaftHarnessError {
  readonly property: SafetyProperty;
  readonly nodes: readonly NodeId[];
  readonly time: number;
  readonly detail: string;
  /** The saved HTML trace of the run, when a cluster saved one. */
  tracePath: string | null = null;
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
  if (e.type === 'noop') return `${e.term}:noop`;
  if (e.type === 'config') return `${e.term}:config:${e.membership.voters.join('+')}/${e.membership.learners.join('+')}`;
  return `${e.term}:${e.command.clientId}:${e.command.seq}:${JSON.stringify(e.command.op)}`;
}

/** Two independent 32-bit mixes: a chain value summarizes a whole log prefix. */
type Chain = { readonly a: number; readonly b: number };
const EMPTY_CHAIN: Chain = { a: 0x811c9dc5, b: 0x9747b28c };

function hash32(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const keyCache = new WeakMap<Entry, string>();
function cachedKey(e: Entry): string {
  let k = keyCache.get(e);
  if (k === undefined) {
    k = `${e.index}|${entryKey(e)}`;
    keyCache.set(e, k);
  }
  return k;
}

function extend(prev: Chain, e: Entry): Chain {
  const k = cachedKey(e);
  return { a: hash32(k, Math.imul(prev.a, 31) ^ 0x5bd1e995), b: hash32(k, Math.imul(prev.b, 37) ^ 0x1b873593) };
}

function same(x: Chain | undefined, y: Chain | undefined): boolean {
  return x !== undefined && y !== undefined && x.a === y.a && x.b === y.b;
}

/** A node's log with the chain value at every index, updated incrementally. */
type Tracked = { entries: Entry[]; chains: Chain[] };

/**
 * Checks the safety properties of Figure 3 over successive observations of a cluster. Feed it
 * every node after every event; it remembers what it has seen (leaders per term, committed
 * prefix, each leader's log) and throws SafetyViolationError at the first breach.
 *
 * Every log prefix is summarized by a chain hash, so each check is O(1) per node after an O(n)
 * pointer scan that finds where a log changed; two logs agree up to i iff their chains at i do.
 */
export class SafetyMonitor {
  private readonly leaders = new Map<number, NodeId>();
  /** Log length and chain of each leader (`id@term`) when last seen. */
  private readonly leaderLogs = new Map<string, { length: number; chain: Chain }>();
  /** Chain of the committed prefix at every committed index; [0] is the empty log. */
  private readonly committedChain: Chain[] = [EMPTY_CHAIN];
  private readonly committedBy: NodeId[] = [''];
  /** term → highest index seen committed by a node whose term was at most that. */
  private readonly committedAtTerm = new Map<number, { index: number; node: NodeId }>();
  /** (index, term) → chain: Log Matching says the chain is the same wherever the pair appears. */
  private readonly pairChains = new Map<string, { chain: Chain; node: NodeId }>();
  private readonly tracked = new Map<NodeId, Tracked>();
  private readonly lastSeen = new Map<NodeId, { incarnation: number; term: number; commit: number }>();

  observe(nodes: readonly NodeView[], time: number): void {
    for (const n of nodes) this.observeNode(n, time);
  }

  /**
   * Brings the monitor's copy of a node's whole log (from index 1) up to date. Entries a snapshot
   * replaced are still known here: the node held them at an earlier observation, or, for a
   * snapshot installed from the leader, they are the committed prefix (a snapshot holds only
   * committed entries).
   */
  private track(n: NodeView, time: number): Tracked {
    let t = this.tracked.get(n.id);
    if (!t) {
      t = { entries: [], chains: [EMPTY_CHAIN] };
      this.tracked.set(n.id, t);
    }
    const base = n.snapshotIndex ?? 0;
    if (base > 0) {
      if (this.committedEntries.length >= base) {
        if (!(t.entries.length >= base && same(t.chains[base], this.committedChain[base]))) {
          t.entries = this.committedEntries.slice(0, base);
          t.chains = this.committedChain.slice(0, base + 1);
        }
      } else if (t.entries.length < base) {
        // Neither held here before nor seen committed anywhere: a snapshot out of nowhere.
        throw new SafetyViolationError(
          'state-machine-safety',
          [n.id],
          time,
          `${n.id} holds a snapshot up to ${base}, beyond anything it held or anyone committed (${this.committedEntries.length})`,
        );
      }
    }
    const length = base + n.log.length;
    // Entries are never changed in place, and a rewrite replaces everything after its start: the
    // positions still holding the same objects form a prefix. Binary search for its end.
    let from = base;
    let hi = Math.min(t.entries.length, length);
    while (from < hi) {
      const mid = (from + hi) >>> 1;
      if (t.entries[mid] === n.log[mid - base]) from = mid + 1;
      else hi = mid;
    }
    t.entries.length = from;
    t.chains.length = from + 1;
    for (let i = from; i < length; i++) {
      const e = n.log[i - base]!;
      t.entries.push(e);
      const chain = extend(t.chains[i]!, e);
      t.chains.push(chain);
      const pair = `${e.index}:${e.term}`;
      const known = this.pairChains.get(pair);
      if (known === undefined) {
        this.pairChains.set(pair, { chain, node: n.id });
      } else if (!same(known.chain, chain)) {
        throw new SafetyViolationError(
          'log-matching',
          [known.node, n.id],
          time,
          `both hold an entry at index ${e.index} of term ${e.term}, but their logs differ at or before it`,
        );
      }
    }
    return t;
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
    const t = this.track(n, time);
    const length = t.entries.length;

    if (n.commitIndex > length) {
      throw new SafetyViolationError('state-machine-safety', [n.id], time, `commit index ${n.commitIndex} beyond log of ${length}`);
    }
    const known = this.committedChain.length - 1;
    const overlap = Math.min(known, n.commitIndex);
    if (!same(this.committedChain[overlap], t.chains[overlap])) {
      let i = 1;
      while (same(this.committedChain[i], t.chains[i])) i++;
      throw new SafetyViolationError(
        'state-machine-safety',
        [this.committedBy[i] ?? '?', n.id],
        time,
        `index ${i} committed as ${entryKey(this.committedEntry(i))} on ${this.committedBy[i]} and as ${entryKey(t.entries[i - 1]!)} on ${n.id}`,
      );
    }
    for (let i = known + 1; i <= n.commitIndex; i++) {
      this.committedChain.push(t.chains[i]!);
      this.committedBy.push(n.id);
      this.committedEntries.push(t.entries[i - 1]!);
    }
    const atTerm = this.committedAtTerm.get(n.term);
    if (n.commitIndex > 0 && (atTerm === undefined || atTerm.index < n.commitIndex)) {
      this.committedAtTerm.set(n.term, { index: n.commitIndex, node: n.id });
    }

    if (n.role !== 'leader') return;
    const holder = this.leaders.get(n.term);
    if (holder !== undefined && holder !== n.id) {
      throw new SafetyViolationError('election-safety', [holder, n.id], time, `two leaders in term ${n.term}`);
    }
    this.leaders.set(n.term, n.id);

    const logKey = `${n.id}@${n.term}`;
    const before = this.leaderLogs.get(logKey);
    if (before !== undefined && !same(before.chain, t.chains[before.length])) {
      throw new SafetyViolationError('leader-append-only', [n.id], time, `leader of term ${n.term} lost or changed an entry at or below ${before.length}`);
    }
    this.leaderLogs.set(logKey, { length, chain: t.chains[length]! });

    // Committed as seen by a node of an earlier term: this leader must hold it.
    for (const [term, c] of this.committedAtTerm) {
      if (term >= n.term) continue;
      if (!same(t.chains[c.index], this.committedChain[c.index])) {
        throw new SafetyViolationError(
          'leader-completeness',
          [n.id, c.node],
          time,
          `leader of term ${n.term} lacks entries up to ${c.index} that ${c.node} saw committed in term ${term}`,
        );
      }
    }
  }

  private readonly committedEntries: Entry[] = [];
  private committedEntry(index: number): Entry {
    return this.committedEntries[index - 1]!;
  }
}
