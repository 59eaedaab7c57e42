/**
 * Log compaction (paper §7), single-server membership changes (dissertation §4.1–4.2) and
 * leadership transfer (dissertation §3.10), on pure cores over the test network.
 */
import { describe, expect, it } from 'vitest';
import { RaftInvariantError } from '../../src/raft/errors.js';
import type { RaftOptions } from '../../src/raft/config.js';
import type { InstallSnapshot, NodeId, RaftMessage } from '../../src/raft/types.js';
import { appendEntries, cluster, cmd, ents, isType, makeCore, Network, nodes, ofType, persisted, state, type CoreSetup } from './support/cores.js';

const N3 = nodes(3);

/** A 3-node network with n1 leading and `count` commands committed everywhere. */
function withCommitted(count: number, options: Partial<RaftOptions> = {}): Network {
  const net = cluster(3, () => ({ options }));
  net.elect('n1');
  for (let i = 1; i <= count; i++) net.core('n1').propose(cmd(i), net.now);
  net.settle();
  return net;
}

const from = (id: NodeId) => (m: RaftMessage) => m.from === id;

// ------------------------------------------------------------------------------ §7 compaction

describe('log compaction and InstallSnapshot (§7)', () => {
  it('§7: a leader compacts its log up to an applied index; entries above it stay', () => {
    const net = withCommitted(10); // noop at 1, commands at 2..11
    net.compact('n1', 8);
    const s = net.core('n1').status();
    expect(s).toMatchObject({ snapshotIndex: 8, snapshotTerm: 1, lastIndex: 11, commitIndex: 11 });
    expect(net.core('n1').entries().map((e) => e.index)).toEqual([9, 10, 11]);
    expect(net.core('n1').ready().events).toContainEqual({ type: 'snapshot', index: 8, term: 1, source: 'taken' });
  });

  it('§7: compaction beyond what the state machine applied is a shell bug, refused at once', () => {
    const net = withCommitted(3);
    const c = net.core('n1');
    expect(() => c.snapshotAt(9)).toThrow(RaftInvariantError);
    expect(() => c.compact({ index: 9, term: 1, membership: { voters: N3, learners: [] }, data: '' })).toThrow(RaftInvariantError);
    expect(() => c.compact({ index: 3, term: 7, membership: { voters: N3, learners: [] }, data: '' })).toThrow(/has term 7/);
    expect(c.status().snapshotIndex).toBe(0);
  });

  it('§7: a follower missing compacted entries gets the snapshot, installs it, then the entries after it', () => {
    const net = withCommitted(2);
    net.crash('n3');
    for (let i = 3; i <= 10; i++) net.core('n1').propose(cmd(i), net.now);
    net.settle();
    net.compact('n1', 9);
    net.heal('n3');
    net.core('n1').propose(cmd(11), net.now);
    net.runUntil(net.now + 200);
    const n3 = net.core('n3').status();
    expect(n3).toMatchObject({ snapshotIndex: 9, lastIndex: 12, commitIndex: 12 });
    expect(net.appliedFrom('n3')).toBe(9);
    expect(net.committed('n3').map((e) => e.index)).toEqual([10, 11, 12]);
    expect(net.core('n3').currentSnapshot()?.data).toBe('state@9');
    expect(net.core('n1').progressOf('n3')).toMatchObject({ match: 12, state: 'replicate' });
  });

  it('§7: a large snapshot travels in chunks, one at a time, each after the previous was acknowledged', () => {
    const net = withCommitted(2, { snapshotChunkSize: 10 });
    net.crash('n3');
    for (let i = 3; i <= 6; i++) net.core('n1').propose(cmd(i), net.now);
    net.settle();
    const data = 'x'.repeat(45);
    net.compact('n1', 6, data);
    net.heal('n3');
    net.timeout('n1'); // heartbeat: n3's probe is refused, then the snapshot goes
    const chunks: InstallSnapshot[] = [];
    for (let round = 0; round < 20; round++) {
      const batch = net.round(among3);
      chunks.push(...ofType(batch, 'InstallSnapshot'));
      if (batch.length === 0) break;
    }
    expect(chunks.map((c) => [c.offset, c.data.length, c.done])).toEqual([
      [0, 10, false],
      [10, 10, false],
      [20, 10, false],
      [30, 10, false],
      [40, 5, true],
    ]);
    expect(net.core('n3').currentSnapshot()).toMatchObject({ index: 6, data });
  });

  it('§7: a lost chunk is sent again on the next heartbeat, and the install completes', () => {
    const net = withCommitted(2, { snapshotChunkSize: 4 });
    net.crash('n3');
    for (let i = 3; i <= 6; i++) net.core('n1').propose(cmd(i), net.now);
    net.settle();
    net.compact('n1', 6, 'abcdefghijkl');
    net.heal('n3');
    net.timeout('n1');
    net.settle((m) => !(m.type === 'InstallSnapshot' && m.offset === 4)); // the second chunk is lost
    net.drop(isType('InstallSnapshot'));
    expect(net.core('n3').currentSnapshot()).toBeNull();
    net.runUntil(net.now + 200);
    expect(net.core('n3').currentSnapshot()).toMatchObject({ index: 6, data: 'abcdefghijkl' });
    expect(net.core('n3').status().commitIndex).toBe(net.core('n1').status().commitIndex);
  });

  it('§7: a follower whose log holds the snapshot\'s last entry keeps what follows it', () => {
    const f = makeCore('n2', N3, { state: state(ents(1, 1, 1, 1, 1), { term: 1 }) });
    f.step(installSnapshot({ index: 3, snapshotTerm: 1 }), 10);
    expect(f.status()).toMatchObject({ snapshotIndex: 3, lastIndex: 5, commitIndex: 3 });
    const r = f.ready();
    expect(r.snapshot).toMatchObject({ index: 3, term: 1 });
    expect(ofType(r.messages, 'InstallSnapshotReply')[0]).toMatchObject({ done: true, index: 3 });
  });

  it('§7: a follower whose log conflicts with the snapshot discards it whole', () => {
    const f = makeCore('n2', N3, { state: state(ents(1, 1, 2, 2, 2), { term: 2 }) });
    f.step(installSnapshot({ term: 3, index: 3, snapshotTerm: 3 }), 10);
    expect(f.status()).toMatchObject({ snapshotIndex: 3, snapshotTerm: 3, lastIndex: 3, commitIndex: 3 });
    expect(f.entries()).toEqual([]);
  });

  it('§7: a snapshot covering no more than is committed is acknowledged and not installed', () => {
    const f = makeCore('n2', N3, { state: state(ents(1, 1, 1, 1), { term: 1, commit: 4 }) });
    f.step(installSnapshot({ index: 3, snapshotTerm: 1 }), 10);
    const r = f.ready();
    expect(r.snapshot).toBeNull();
    expect(f.status().snapshotIndex).toBe(0);
    expect(ofType(r.messages, 'InstallSnapshotReply')[0]).toMatchObject({ done: true });
  });

  it('§7: AppendEntries reaching below the snapshot is matched on the part above it', () => {
    const f = makeCore('n2', N3, { state: state(ents(1, 1, 1, 1, 1), { term: 1, commit: 5 }) });
    f.compact({ ...f.snapshotAt(0 + drainApplied(f)), data: '' });
    expect(f.status().snapshotIndex).toBe(5);
    const e = ents(1, 1, 1, 1, 1, 1, 1);
    f.step(appendEntries({ from: 'n1', to: 'n2', term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: e.slice(2), leaderCommit: 7 }), 20);
    expect(f.status()).toMatchObject({ lastIndex: 7, commitIndex: 7 });
    expect(ofType(f.ready().messages, 'AppendEntriesReply')[0]).toMatchObject({ success: true, matchIndex: 7 });
  });

  it('§7: a node restarted from a snapshot and the log after it hands out only the entries after it', () => {
    const net = withCommitted(6);
    net.compact('n2', 5);
    const disk = persisted(net.core('n2'));
    expect(disk.snapshot?.index).toBe(5);
    const restarted = makeCore('n2', N3, { state: disk });
    expect(restarted.status()).toMatchObject({ snapshotIndex: 5, lastIndex: 7, commitIndex: 7 });
    expect(restarted.ready().committed.map((e) => e.index)).toEqual([6, 7]);
  });
});

function installSnapshot(fields: Partial<InstallSnapshot>): InstallSnapshot {
  return {
    type: 'InstallSnapshot',
    from: 'n1',
    to: 'n2',
    term: 1,
    index: 1,
    snapshotTerm: 1,
    membership: { voters: N3, learners: [] },
    offset: 0,
    data: 'snap',
    size: 4,
    done: true,
    ...fields,
  };
}

/** Takes the core's Ready, returns the last index it handed out to apply. */
function drainApplied(core: ReturnType<typeof makeCore>): number {
  const r = core.ready();
  return r.committed[r.committed.length - 1]?.index ?? 0;
}

const among3 = (m: RaftMessage): boolean => N3.includes(m.from) && N3.includes(m.to);

// ------------------------------------------------------------------------------ membership

/** n1..n3 with n1 leading, plus n4 joining (not yet in any configuration). */
function withJoiner(setup: CoreSetup = {}): Network {
  const net = withCommitted(1, setup.options ?? {});
  net.replace(makeCore('n4', N3, { ...setup, joining: true }));
  return net;
}

describe('single-server membership changes (dissertation §4.1)', () => {
  it('§4.2.1: a new server joins as a learner: it receives the log, but neither votes nor counts', () => {
    const net = withJoiner();
    const r = net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4' }, net.now);
    expect(r).toMatchObject({ ok: true, index: 3 });
    net.settle();
    expect(net.core('n4').status()).toMatchObject({ lastIndex: 3, commitIndex: 3, voters: N3, learners: ['n4'] });
    // With n2 and n3 gone, n1 + the learner n4 are not a majority of the voters: nothing commits.
    net.crash('n2', 'n3');
    net.core('n1').propose(cmd(9), net.now);
    net.settle();
    expect(net.core('n4').status().lastIndex).toBe(4);
    expect(net.core('n1').status().commitIndex).toBe(3);
    // A learner never campaigns, however long it waits.
    net.crash('n1');
    net.runUntil(net.now + 2_000);
    expect(net.core('n4').status()).toMatchObject({ role: 'follower', term: 1 });
  });

  it('§4.1: a promoted learner is a voter: the quorum is now 3 of 4', () => {
    const net = withJoiner();
    net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4' }, net.now);
    net.settle();
    expect(net.core('n1').proposeMembership({ type: 'promote', id: 'n4' }, net.now)).toMatchObject({ ok: true });
    net.settle();
    expect(net.core('n2').status()).toMatchObject({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    net.crash('n3');
    net.core('n1').propose(cmd(9), net.now);
    net.settle();
    expect(net.core('n1').status().commitIndex).toBe(5); // n1, n2, n4: 3 of 4
    net.crash('n2');
    net.core('n1').propose(cmd(10), net.now);
    net.settle();
    expect(net.core('n1').status().commitIndex).toBe(5); // n1, n4: 2 of 4 is not a majority
  });

  it('§4.1: a change takes effect where it is appended, before it commits', () => {
    const net = withJoiner();
    net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4' }, net.now);
    expect(net.core('n1').status().learners).toEqual(['n4']);
    expect(net.core('n1').progressOf('n4')).toBeDefined();
    expect(net.core('n2').status().learners).toEqual([]);
  });

  it('§4.1: one change at a time: a second change waits for the first to commit', () => {
    const net = withJoiner();
    net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4' }, net.now);
    expect(net.core('n1').proposeMembership({ type: 'promote', id: 'n4' }, net.now)).toMatchObject({ ok: false, reason: 'change-pending' });
    net.settle();
    expect(net.core('n1').proposeMembership({ type: 'promote', id: 'n4' }, net.now)).toMatchObject({ ok: true });
  });

  it('§4.1 (errata): a new leader changes membership only after committing an entry of its term', () => {
    const net = cluster(3);
    net.timeout('n1');
    net.settle((m) => m.type !== 'AppendEntriesReply'); // elected, but its no-op is not acknowledged
    expect(net.core('n1').status().role).toBe('leader');
    expect(net.core('n1').proposeMembership({ type: 'remove', id: 'n3' }, net.now)).toMatchObject({ ok: false, reason: 'change-pending' });
  });

  it.each([
    [{ type: 'add-learner', id: 'n2' }, 'already-member'],
    [{ type: 'promote', id: 'n2' }, 'already-member'],
    [{ type: 'promote', id: 'n9' }, 'not-learner'],
    [{ type: 'remove', id: 'n9' }, 'not-member'],
  ] as const)('refuses %j (%s) and changes nothing', (change, reason) => {
    const net = withCommitted(1);
    const before = net.core('n1').status();
    expect(net.core('n1').proposeMembership(change, net.now)).toMatchObject({ ok: false, reason });
    expect(net.core('n1').status()).toEqual(before);
  });

  it('§7 + §4.1: a configuration compacted into a snapshot still rules, after a restart and at a new node', () => {
    const net = withJoiner();
    net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4' }, net.now);
    net.settle();
    net.core('n1').proposeMembership({ type: 'promote', id: 'n4' }, net.now);
    net.settle();
    for (let i = 5; i <= 8; i++) net.core('n1').propose(cmd(i), net.now);
    net.settle();
    net.compact('n1', 7); // both configuration entries are now inside the snapshot
    const restarted = makeCore('n1', N3, { state: persisted(net.core('n1')) });
    expect(restarted.status()).toMatchObject({ snapshotIndex: 7, voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    // A fifth node joining now gets its first configuration from the snapshot.
    net.replace(makeCore('n5', ['n1', 'n2', 'n3', 'n4'], { joining: true }));
    expect(net.core('n1').proposeMembership({ type: 'add-learner', id: 'n5' }, net.now)).toMatchObject({ ok: true });
    net.runUntil(net.now + 300);
    expect(net.core('n5').status()).toMatchObject({ snapshotIndex: 7, voters: ['n1', 'n2', 'n3', 'n4'], learners: ['n5'] });
    expect(net.core('n5').status().commitIndex).toBe(net.core('n1').status().commitIndex);
  });

  it('refuses a change at a follower, with the leader as hint', () => {
    const net = withCommitted(1);
    expect(net.core('n2').proposeMembership({ type: 'remove', id: 'n3' }, net.now)).toEqual({ ok: false, reason: 'not-leader', leaderHint: 'n1' });
  });

  it('§4.2.2: a leader removing itself commits without counting itself, then steps down; the rest go on', () => {
    const net = withCommitted(1);
    expect(net.core('n1').proposeMembership({ type: 'remove', id: 'n1' }, net.now)).toMatchObject({ ok: true, index: 3 });
    expect(net.core('n1').status().role).toBe('leader'); // it manages the cluster until the change commits
    net.settle();
    expect(net.core('n1').status()).toMatchObject({ role: 'follower', commitIndex: 3, voters: ['n2', 'n3'] });
    net.runUntil(net.now + 1_000);
    const roles = N3.map((id) => net.core(id).status().role);
    expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
    expect(net.core('n1').status().role).toBe('follower'); // never campaigns again
    expect(net.core('n2').status().voters).toEqual(['n2', 'n3']);
  });

  it('§4.2.3: a removed server that keeps running cannot disrupt the cluster', () => {
    const net = withCommitted(1);
    net.crash('n3'); // n3 never hears of its removal
    net.core('n1').proposeMembership({ type: 'remove', id: 'n3' }, net.now);
    net.settle();
    expect(net.core('n1').status().commitIndex).toBe(3);
    net.heal('n3');
    const leaderTerm = net.core('n1').status().term;
    net.runUntil(net.now + 3_000); // n3 times out again and again
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: leaderTerm });
    expect(net.core('n2').status().term).toBe(leaderTerm);
  });

  it('§4.1: a configuration entry that is overwritten takes its configuration with it', () => {
    const net = withCommitted(1);
    net.crash('n2', 'n3');
    net.core('n1').proposeMembership({ type: 'remove', id: 'n3' }, net.now); // reaches no one
    expect(net.core('n1').status().voters).toEqual(['n1', 'n2']);
    const disk = persisted(net.core('n1'));
    net.crash('n1');
    net.heal('n2', 'n3');
    net.elect('n2'); // term 2: its no-op takes index 3
    net.replace(makeCore('n1', N3, { state: disk }));
    expect(net.core('n1').status().voters).toEqual(['n1', 'n2']);
    net.runUntil(net.now + 200);
    expect(net.core('n1').status()).toMatchObject({ term: 2, voters: N3, lastIndex: 3, leaderId: 'n2' });
  });
});

// ------------------------------------------------------------------------------ transfer

describe('leadership transfer (dissertation §3.10)', () => {
  const guarded = { preVote: true, checkQuorum: true };

  it('§3.10: to an up-to-date follower: TimeoutNow at once, it wins at once, despite pre-vote and the lease', () => {
    const net = withCommitted(2, guarded);
    const term = net.core('n1').status().term;
    expect(net.core('n1').transferLeadership('n2', net.now)).toMatchObject({ ok: true });
    const sent = net.round(from('n1'));
    expect(ofType(sent, 'TimeoutNow')).toHaveLength(1);
    net.settle();
    expect(net.core('n2').status()).toMatchObject({ role: 'leader', term: term + 1 });
    expect(net.core('n1').status()).toMatchObject({ role: 'follower', leaderId: 'n2' });
  });

  it('§3.10: to a lagging follower: the leader first brings it up to date, then sends TimeoutNow', () => {
    const net = withCommitted(2, guarded);
    net.crash('n3');
    for (let i = 3; i <= 6; i++) net.core('n1').propose(cmd(i), net.now);
    net.settle();
    net.heal('n3');
    net.core('n1').transferLeadership('n3', net.now);
    const first = net.round(from('n1'));
    expect(ofType(first, 'TimeoutNow')).toHaveLength(0);
    net.settle();
    expect(net.core('n3').status()).toMatchObject({ role: 'leader', lastIndex: 7 + 1 }); // its own no-op after n1's 7
  });

  it('§3.10: the leader accepts no proposals during a transfer', () => {
    const net = withCommitted(1, guarded);
    net.crash('n2');
    net.core('n1').transferLeadership('n2', net.now);
    expect(net.core('n1').propose(cmd(7), net.now)).toEqual({ ok: false, reason: 'not-leader', leaderHint: 'n2' });
    expect(net.core('n1').proposeMembership({ type: 'remove', id: 'n3' }, net.now)).toMatchObject({ ok: false, reason: 'transferring' });
  });

  it('§3.10: a transfer whose target does not take over within an election timeout is abandoned', () => {
    const net = withCommitted(1, guarded);
    net.crash('n2');
    net.core('n1').transferLeadership('n2', net.now);
    net.runUntil(net.now + 400);
    const s = net.core('n1').status();
    expect(s).toMatchObject({ role: 'leader', transferee: null });
    expect(net.core('n1').propose(cmd(8), net.now)).toMatchObject({ ok: true });
  });

  it.each([
    ['n1', 'not-voter'],
    ['n9', 'not-voter'],
  ])('refuses a transfer to %s (%s)', (target, reason) => {
    const net = withCommitted(1);
    expect(net.core('n1').transferLeadership(target, net.now)).toMatchObject({ ok: false, reason });
    expect(net.core('n1').status().transferee).toBeNull();
  });

  it('refuses a transfer to a learner', () => {
    const net = withJoiner();
    net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4' }, net.now);
    net.settle();
    expect(net.core('n1').transferLeadership('n4', net.now)).toMatchObject({ ok: false, reason: 'not-voter' });
  });

  it('a learner that receives TimeoutNow does not campaign', () => {
    const net = withJoiner();
    net.core('n1').proposeMembership({ type: 'add-learner', id: 'n4' }, net.now);
    net.settle();
    net.core('n4').step({ type: 'TimeoutNow', from: 'n1', to: 'n4', term: 1 }, net.now);
    expect(net.core('n4').status().role).toBe('follower');
  });
});
