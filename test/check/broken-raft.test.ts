/**
 * The checkers catch a real Raft bug: a test-only variant of the core that commits entries of
 * earlier terms by counting replicas (the mistake §5.4.2 and Figure 8 warn about). The same
 * scripted Figure 8 schedule runs clean on the real core and breaks safety on the variant.
 *
 * This file patches RaftCore.prototype; vitest runs each test file in its own process, so the
 * patch cannot leak into other files, and the inline host runs the nodes in this process.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../../harness/cluster.js';
import { RaftCore } from '../../src/raft/raft.js';
import type { Entry } from '../../src/raft/types.js';

type CoreInternals = {
  log: { lastIndex: number; termAt(i: number): number | null };
  progress: Map<string, { match: number }>;
  quorum: number;
  commitIndex: number;
  advanceCommit(i: number): void;
};

const proto = RaftCore.prototype as unknown as { maybeCommit(this: CoreInternals): void };
const correct = proto.maybeCommit;
/** The bug: commit the highest index on a quorum whatever its term. */
function brokenMaybeCommit(this: CoreInternals): void {
  const matches = [this.log.lastIndex, ...[...this.progress.values()].map((p) => p.match)].sort((a, b) => b - a);
  const candidate = matches[this.quorum - 1]!;
  if (candidate > this.commitIndex) this.advanceCommit(candidate);
}
afterEach(() => {
  proto.maybeCommit = correct;
});

const entriesOf = (m: { message: Readonly<Record<string, unknown>> }): Entry[] => (m.message['entries'] as Entry[] | undefined) ?? [];

/** Figure 8 of the Raft paper, scripted with holds, crashes and chosen elections. */
async function figure8(cluster: Cluster): Promise<void> {
  /** Makes `id` campaign (its election timer fires now) until it wins. */
  const elect = async (id: string): Promise<void> => {
    for (let round = 0; round < 3 && (await cluster.leader()) !== id; round++) {
      await cluster.fireTimers(id);
      await cluster.resume(id);
      await cluster.advance(30);
    }
    expect(await cluster.leader()).toBe(id);
  };
  const dropHeld = (): void => {
    for (const m of cluster.inflight()) if (m.held) cluster.drop(m.id);
  };

  // (a) n1 leads; its entry X reaches n2 only.
  await elect('n1');
  await cluster.advance(100);
  const i = (await cluster.inspect('n1')).log.length + 1;
  cluster.hold({ type: 'AppendEntries', from: 'n1', where: (m) => m.to !== 'n2' && entriesOf(m).length > 0 });
  cluster.client({ node: 'n1' }).credit(1, { timeout: 60_000 }); // not awaited: it must not drive the cluster
  await cluster.advance(30);
  await cluster.crash('n1');
  dropHeld();
  cluster.release();

  // (b) n5 leads (votes of n3, n4; n2 holds X, a longer log); the no-op it appends lands at X's
  // index with n5's term, and goes nowhere.
  cluster.hold({ type: 'AppendEntries', from: 'n5' });
  await elect('n5');
  await cluster.advance(30);
  await cluster.crash('n5');
  dropHeld();
  cluster.release();

  // (c) n1 comes back and leads (n2, n3, n4 vote for it in a later term); X (of an earlier term)
  // reaches n3 — a majority holds it — and n1's own no-op reaches only n2. The real rule does not
  // commit X; the broken one does.
  await cluster.restart('n1');
  cluster.hold({ type: 'AppendEntries', from: 'n1' });
  await elect('n1');
  const toN2 = cluster.inflight().find((m) => m.held && m.to === 'n2' && entriesOf(m).length > 0);
  if (toN2) await cluster.deliver(toN2.id);
  for (let k = 0; k < 4; k++) {
    const toN3 = cluster.inflight().find((m) => m.held && m.to === 'n3');
    if (toN3 === undefined) break;
    await cluster.deliver(toN3.id);
    await cluster.advance(10); // n3's answer reaches n1, which sends the next probe (held)
    const xTerm = (await cluster.inspect('n1')).log[i - 1]!.term;
    if ((await cluster.inspect('n3')).log.some((e) => e.index === i && e.term === xTerm)) break;
  }
  await cluster.advance(10);
  await cluster.crash('n1');
  dropHeld();
  cluster.release();

  // (d) n5 comes back and wins (n3, n4 vote for it: its entry at i has a later term than X): it
  // overwrites index i everywhere.
  await cluster.restart('n5');
  await elect('n5');
  await cluster.advance(500);
}

const options = {
  nodes: 5,
  seed: 1,
  host: 'inline' as const,
  // Long election timeouts, so that only the nodes the script picks ever campaign; one entry per
  // message, so that X and the no-op travel separately.
  raft: { electionTimeout: [5_000, 10_000] as [number, number], heartbeatInterval: 1_000, preVote: false, checkQuorum: false, maxEntriesPerMessage: 1 },
};

describe('a Raft that commits earlier-term entries by counting (§5.4.2, Figure 8)', () => {
  it('the real core: Figure 8 ends with every node agreeing, nothing committed lost', async () => {
    const cluster = await Cluster.start(options);
    try {
      await figure8(cluster);
      await cluster.checkSafety();
      const logs = (await cluster.inspectAll()).filter((s) => s.status === 'running').map((s) => s.log.slice(0, s.commitIndex));
      for (const log of logs) expect(log.slice(0, 3)).toEqual(logs[0]!.slice(0, 3));
    } finally {
      await cluster.stop();
    }
  });

  it('the broken variant is caught by the safety checker, with the trace saved', async () => {
    proto.maybeCommit = brokenMaybeCommit;
    const cluster = await Cluster.start(options);
    let error: Error | undefined;
    try {
      await figure8(cluster).catch((e: unknown) => {
        error = e as Error;
      });
      error ??= await cluster.checkSafety().then(() => undefined, (e: unknown) => e as Error);
      expect(error).toMatchObject({ name: 'SafetyViolationError' });
      expect(['state-machine-safety', 'leader-completeness']).toContain((error as unknown as { property: string }).property);
      // The cluster saved the trace of the run where the violation happened, and says where.
      const tracePath = (error as unknown as { tracePath: string | null }).tracePath;
      expect(error!.message).toContain(`trace saved: ${tracePath}`);
      expect(existsSync(tracePath!)).toBe(true);
    } finally {
      await cluster.stop();
    }
  });
});
