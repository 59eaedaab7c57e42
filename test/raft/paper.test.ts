/**
 * The rules of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", extended version), one test per rule, in the style of etcd's raft_paper_test.go.
 * Each title names the rule and its section.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/raft/raft.js';
import type { Entry, NodeId, RaftMessage, Role } from '../../src/raft/types.js';
import {
  appendEntries,
  appendReply,
  cluster,
  cmd,
  ents,
  entry,
  makeCore,
  nodes,
  ofType,
  requestVote,
  sent,
  snapshot,
  state,
  terms,
  timeout,
  votes,
} from './support/cores.js';

const N3 = nodes(3);

/**
 * n1 of a 3-node cluster, log [t1], in the given role: follower of term 2, precandidate of term 2
 * (pre-vote on), candidate of term 3, or leader of term 3. Its Ready is drained.
 */
function inRole(role: Role): { core: RaftCore; now: number } {
  const core = makeCore('n1', N3, { options: { preVote: role === 'precandidate' }, state: state(ents(1), { term: 2 }) });
  let now = 0;
  if (role !== 'follower') now = timeout(core);
  if (role === 'leader') core.step({ type: 'RequestVoteReply', from: 'n2', to: 'n1', term: 3, granted: true }, now);
  core.ready();
  expect(core.status().role).toBe(role);
  return { core, now };
}

const ROLES_TO_TEST: Role[] = ['follower', 'precandidate', 'candidate', 'leader'];

// ---------------------------------------------------------------------------------------- §5.1

describe('§5.1 a node seeing a higher term in any message adopts it and becomes follower', () => {
  const T = 9;
  const messages: RaftMessage[] = [
    appendEntries({ from: 'n2', to: 'n1', term: T }),
    appendReply({ from: 'n2', to: 'n1', term: T, success: false }),
    requestVote({ from: 'n2', to: 'n1', term: T, lastLogIndex: 5, lastLogTerm: 5 }),
    { type: 'RequestVoteReply', from: 'n2', to: 'n1', term: T, granted: false },
    // A refused pre-vote carries the refuser's own term.
    { type: 'PreVoteReply', from: 'n2', to: 'n1', term: T, granted: false },
  ];
  for (const role of ROLES_TO_TEST) {
    it.each(messages.map((m) => [m.type, m] as const))(`%s reaching a ${role}`, (_type, m) => {
      const { core, now } = inRole(role);
      core.step(m, now + 1);
      expect(core.status()).toMatchObject({
        role: 'follower',
        term: T,
        // Only a leader's AppendEntries names the leader; only a RequestVote uses the fresh vote.
        leaderId: m.type === 'AppendEntries' ? 'n2' : null,
        votedFor: m.type === 'RequestVote' ? 'n2' : null,
      });
      expect(core.ready().hardState?.term).toBe(T);
    });
  }

  // Dissertation §9.6: a PreVote carries the term its sender *would* campaign in.
  it.each(ROLES_TO_TEST)('a PreVote with a future term leaves a %s in its term and role', (role) => {
    const { core, now } = inRole(role);
    const before = core.status();
    core.step({ type: 'PreVote', from: 'n2', to: 'n1', term: T, lastLogIndex: 5, lastLogTerm: 5 }, now + 1);
    expect(core.status()).toEqual(before);
    expect(core.ready().hardState).toBeNull();
  });
});

describe('§5.1 a message with a stale term is refused or ignored, leaving the receiver unchanged', () => {
  // Every role below is in term 2 or 3; these messages carry term 1.
  const stale: { m: RaftMessage; reply: Partial<RaftMessage> | null }[] = [
    {
      m: appendEntries({ from: 'n2', to: 'n1', term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, 1)], leaderCommit: 2 }),
      reply: { type: 'AppendEntriesReply', from: 'n1', to: 'n2', success: false },
    },
    {
      m: requestVote({ from: 'n2', to: 'n1', term: 1, lastLogIndex: 9, lastLogTerm: 1 }),
      reply: { type: 'RequestVoteReply', from: 'n1', to: 'n2', granted: false },
    },
    {
      m: { type: 'PreVote', from: 'n2', to: 'n1', term: 1, lastLogIndex: 9, lastLogTerm: 1 },
      reply: { type: 'PreVoteReply', from: 'n1', to: 'n2', granted: false },
    },
    { m: appendReply({ from: 'n2', to: 'n1', term: 1, matchIndex: 1, prevLogIndex: 1 }), reply: null },
    { m: { type: 'RequestVoteReply', from: 'n2', to: 'n1', term: 1, granted: true }, reply: null },
    { m: { type: 'PreVoteReply', from: 'n2', to: 'n1', term: 1, granted: false }, reply: null },
  ];
  for (const role of ROLES_TO_TEST) {
    it.each(stale.map((s) => [s.m.type, s] as const))(`%s reaching a ${role}`, (_type, { m, reply }) => {
      const { core, now } = inRole(role);
      const before = snapshot(core);
      core.step(m, now + 1);
      expect(snapshot(core)).toEqual(before);
      const ready = core.ready();
      expect(ready.hardState).toBeNull();
      expect(ready.entries).toEqual([]);
      if (reply === null) {
        expect(ready.messages).toEqual([]);
      } else {
        // The refusal carries the receiver's current term, so the sender learns it is stale.
        expect(ready.messages).toEqual([expect.objectContaining({ ...reply, term: before.status.term })]);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------- §5.2

describe('§5.2 leader election', () => {
  it('§5.2 a new node starts as a follower of term 0 that knows no leader', () => {
    const core = makeCore('n1', N3);
    expect(core.status()).toEqual({
      id: 'n1',
      role: 'follower',
      term: 0,
      votedFor: null,
      leaderId: null,
      commitIndex: 0,
      lastIndex: 0,
      lastTerm: 0,
      snapshotIndex: 0,
      snapshotTerm: 0,
      voters: N3,
      learners: [],
      transferee: null,
    });
    expect(core.nextDeadline()).toBeGreaterThanOrEqual(150);
    expect(core.nextDeadline()).toBeLessThan(300);
    expect(core.hasReady()).toBe(false);
  });

  it('§5.2 a leader sends AppendEntries to every peer each heartbeatInterval, empty when they are caught up', () => {
    const net = cluster(3);
    net.elect('n1');
    const leader = net.core('n1');
    const t0 = net.now; // the leader was elected at t0; its followers have acknowledged everything
    const { lastIndex, lastTerm, commitIndex, term } = leader.status();
    for (let k = 1; k <= 3; k++) {
      leader.tick(t0 + 50 * k - 1);
      expect(leader.ready().messages).toEqual([]);
      leader.tick(t0 + 50 * k);
      const beats = sent(leader, 'AppendEntries');
      expect(beats.map((m) => m.to).sort()).toEqual(['n2', 'n3']);
      for (const m of beats) {
        expect(m).toMatchObject({ term, prevLogIndex: lastIndex, prevLogTerm: lastTerm, entries: [], leaderCommit: commitIndex });
      }
    }
  });

  describe('§5.2 a follower that hears nothing for its election timeout starts an election', () => {
    it('without pre-vote: it becomes candidate, increments its term, votes for itself, asks every peer', () => {
      const core = makeCore('n1', N3);
      const deadline = core.nextDeadline();
      core.tick(deadline - 1);
      expect(core.status().role).toBe('follower');
      expect(core.hasReady()).toBe(false);

      core.tick(deadline);
      expect(core.status()).toMatchObject({ role: 'candidate', term: 1, votedFor: 'n1', leaderId: null });
      const ready = core.ready();
      expect(ready.hardState).toEqual({ term: 1, votedFor: 'n1', commit: 0 });
      expect(ofType(ready.messages, 'RequestVote')).toEqual([
        { type: 'RequestVote', from: 'n1', to: 'n2', term: 1, lastLogIndex: 0, lastLogTerm: 0 },
        { type: 'RequestVote', from: 'n1', to: 'n3', term: 1, lastLogIndex: 0, lastLogTerm: 0 },
      ]);
    });

    it('with pre-vote: it becomes precandidate and sends PreVote for term + 1 without changing its term', () => {
      const core = makeCore('n1', N3, { options: { preVote: true }, state: state([], { term: 4 }) });
      timeout(core);
      expect(core.status()).toMatchObject({ role: 'precandidate', term: 4, votedFor: null });
      const ready = core.ready();
      expect(ready.hardState).toBeNull();
      expect(ready.messages).toEqual([
        { type: 'PreVote', from: 'n1', to: 'n2', term: 5, lastLogIndex: 0, lastLogTerm: 0 },
        { type: 'PreVote', from: 'n1', to: 'n3', term: 5, lastLogIndex: 0, lastLogTerm: 0 },
      ]);
    });

    it('hearing from the leader restarts the timeout', () => {
      const core = makeCore('n1', N3);
      let now = 0;
      for (let i = 0; i < 10; i++) {
        now = core.nextDeadline() - 1;
        core.step(appendEntries({ from: 'n2', to: 'n1', term: 1 }), now);
        expect(core.nextDeadline()).toBeGreaterThanOrEqual(now + 150);
        core.tick(now + 149);
      }
      expect(core.status()).toMatchObject({ role: 'follower', term: 1, leaderId: 'n2' });
    });
  });

  it('§5.2 a candidate that wins no majority starts a new election, in term + 1, at its next timeout', () => {
    const core = makeCore('n1', nodes(5));
    const at = timeout(core);
    core.step({ type: 'RequestVoteReply', from: 'n2', to: 'n1', term: 1, granted: true }, at);
    core.step({ type: 'RequestVoteReply', from: 'n3', to: 'n1', term: 1, granted: false }, at);
    expect(core.status()).toMatchObject({ role: 'candidate', term: 1 });
    core.ready();

    const again = timeout(core);
    expect(core.status()).toMatchObject({ role: 'candidate', term: 2, votedFor: 'n1' });
    expect(core.nextDeadline()).toBeGreaterThanOrEqual(again + 150);
    expect(core.nextDeadline()).toBeLessThan(again + 300);
    const asks = sent(core, 'RequestVote');
    expect(asks.map((m) => m.to)).toEqual(['n2', 'n3', 'n4', 'n5']);
    expect(asks.every((m) => m.term === 2)).toBe(true);
  });

  // etcd's TestLeaderElectionInOneRoundRPC.
  describe('§5.2 an election is decided in one round by a majority of votes', () => {
    const cases: { size: number; votes: Record<string, boolean>; role: Role }[] = [
      // a majority of grants wins
      { size: 1, votes: {}, role: 'leader' },
      { size: 3, votes: { n2: true, n3: true }, role: 'leader' },
      { size: 3, votes: { n2: true }, role: 'leader' },
      { size: 5, votes: { n2: true, n3: true, n4: true, n5: true }, role: 'leader' },
      { size: 5, votes: { n2: true, n3: true, n4: true }, role: 'leader' },
      { size: 5, votes: { n2: true, n3: true }, role: 'leader' },
      // a majority of refusals sends the candidate back to follower
      { size: 3, votes: { n2: false, n3: false }, role: 'follower' },
      { size: 5, votes: { n2: false, n3: false, n4: false, n5: false }, role: 'follower' },
      { size: 5, votes: { n2: true, n3: false, n4: false, n5: false }, role: 'follower' },
      // neither: still candidate
      { size: 3, votes: {}, role: 'candidate' },
      { size: 5, votes: { n2: true }, role: 'candidate' },
      { size: 5, votes: { n2: false, n3: false }, role: 'candidate' },
      { size: 5, votes: {}, role: 'candidate' },
    ];
    it.each(cases)('cluster of $size, votes $votes: $role', ({ size, votes: replies, role }) => {
      const core = makeCore('n1', nodes(size));
      const at = timeout(core);
      for (const [from, granted] of Object.entries(replies)) {
        core.step({ type: 'RequestVoteReply', from, to: 'n1', term: 1, granted }, at);
      }
      expect(core.status()).toMatchObject({ role, term: 1, leaderId: role === 'leader' ? 'n1' : null });
    });
  });

  describe('§5.2 a follower votes for at most one candidate per term, first come first served', () => {
    // etcd's TestFollowerVote: (already voted for, asked by) → granted?
    it.each([
      { voted: null, asker: 'n2', granted: true },
      { voted: null, asker: 'n3', granted: true },
      { voted: 'n2', asker: 'n2', granted: true },
      { voted: 'n3', asker: 'n3', granted: true },
      { voted: 'n2', asker: 'n3', granted: false },
      { voted: 'n3', asker: 'n2', granted: false },
    ])('voted for $voted in term 1, asked by $asker: granted $granted', ({ voted, asker, granted }) => {
      const core = makeCore('n1', N3, { state: state([], { term: 1, votedFor: voted }) });
      core.step(requestVote({ from: asker, to: 'n1', term: 1 }), 1);
      expect(core.ready().messages).toEqual([{ type: 'RequestVoteReply', from: 'n1', to: asker, term: 1, granted }]);
      expect(core.status().votedFor).toBe(voted ?? asker);
    });

    it('two candidates of one term: the first gets the vote, the second not, the first again when it re-asks', () => {
      const core = makeCore('n1', N3);
      const ask = (from: NodeId): boolean => {
        core.step(requestVote({ from, to: 'n1', term: 1 }), 1);
        return sent(core, 'RequestVoteReply')[0]!.granted;
      };
      expect([ask('n3'), ask('n2'), ask('n3'), ask('n2')]).toEqual([true, false, true, false]);
      expect(core.hardState()).toEqual({ term: 1, votedFor: 'n3', commit: 0 });
    });
  });

  describe('§5.2 a candidate returns to follower on AppendEntries from a leader of its term or later', () => {
    it.each([
      { role: 'candidate' as const, leaderTerm: 3 },
      { role: 'candidate' as const, leaderTerm: 4 },
      { role: 'precandidate' as const, leaderTerm: 2 },
      { role: 'precandidate' as const, leaderTerm: 3 },
    ])('$role, leader of term $leaderTerm', ({ role, leaderTerm }) => {
      const { core, now } = inRole(role);
      core.step(appendEntries({ from: 'n2', to: 'n1', term: leaderTerm, prevLogIndex: 1, prevLogTerm: 1 }), now);
      expect(core.status()).toMatchObject({ role: 'follower', term: leaderTerm, leaderId: 'n2' });
      expect(sent(core, 'AppendEntriesReply')).toEqual([
        expect.objectContaining({ to: 'n2', term: leaderTerm, success: true, matchIndex: 1 }),
      ]);
    });
  });

  describe('§5.2 election timeouts are randomized', () => {
    it('nodes with different seeds draw different timeouts', () => {
      const deadlines = nodes(5).map((id) => makeCore(id, nodes(5)).nextDeadline());
      expect(new Set(deadlines).size).toBe(5);
    });

    it('one node draws every timeout of [min, max) over repeated resets, and nothing outside it', () => {
      const core = makeCore('n1', N3, { options: { electionTimeout: [150, 300] } });
      const seen = new Set<number>();
      let now = 0;
      for (let i = 0; i < 3_000; i++) {
        seen.add(core.nextDeadline() - now);
        now = timeout(core); // a split election each time: the timer is reset
        core.ready();
      }
      expect(Math.min(...seen)).toBe(150);
      expect(Math.max(...seen)).toBe(299);
      expect(seen.size).toBe(150);
    });
  });
});

// ---------------------------------------------------------------------------------------- §5.3

describe('§5.3 log replication', () => {
  it('§5.3 a leader appends a proposal in its term and sends it to every follower after the right prev entry', () => {
    const net = cluster(3);
    net.elect('n1');
    const leader = net.core('n1');
    const { lastIndex, lastTerm, term, commitIndex } = leader.status();

    expect(leader.propose(cmd(1), net.now)).toEqual({ ok: true, index: lastIndex + 1, term });
    const appended: Entry = { index: lastIndex + 1, term, type: 'command', command: cmd(1) };
    const ready = leader.ready();
    expect(ready.entries).toEqual([appended]);
    expect(ofType(ready.messages, 'AppendEntries')).toEqual(
      ['n2', 'n3'].map((to) => ({
        type: 'AppendEntries',
        from: 'n1',
        to,
        term,
        prevLogIndex: lastIndex,
        prevLogTerm: lastTerm,
        entries: [appended],
        leaderCommit: commitIndex,
        readRound: 0,
      })),
    );
  });

  it('§5.3 a leader commits an entry once a majority stores it, and later messages tell the followers', () => {
    const net = cluster(5);
    net.elect('n1');
    const leader = net.core('n1');
    const li = leader.status().lastIndex;
    leader.propose(cmd(1), net.now);
    const toAndBack = (id: NodeId): void => {
      net.round((m) => m.type === 'AppendEntries' && m.to === id);
      net.round((m) => m.type === 'AppendEntriesReply' && m.from === id);
    };

    toAndBack('n2'); // stored on n1, n2: 2 of 5
    expect(leader.status().commitIndex).toBe(li);
    toAndBack('n3'); // stored on n1, n2, n3: 3 of 5
    expect(leader.status().commitIndex).toBe(li + 1);
    expect(net.committed('n1').at(-1)).toMatchObject({ index: li + 1, command: cmd(1) });

    // n2 and n3 hold the entry but do not know it is committed until the leader says so.
    expect(net.core('n2').status().commitIndex).toBe(li);
    const told = ofType(net.pending(), 'AppendEntries').filter((m) => m.leaderCommit === li + 1);
    expect(told.map((m) => m.to).sort()).toEqual(['n2', 'n3']);
    net.settle();
    for (const id of nodes(5)) {
      expect(net.core(id).status().commitIndex).toBe(li + 1);
      expect(net.committed(id).at(-1)).toMatchObject({ index: li + 1, command: cmd(1) });
    }
  });

  // etcd's TestLeaderAcknowledgeCommit.
  it.each([
    { size: 1, acceptors: [], committed: true },
    { size: 3, acceptors: [], committed: false },
    { size: 3, acceptors: ['n2'], committed: true },
    { size: 3, acceptors: ['n2', 'n3'], committed: true },
    { size: 5, acceptors: [], committed: false },
    { size: 5, acceptors: ['n2'], committed: false },
    { size: 5, acceptors: ['n2', 'n3'], committed: true },
    { size: 5, acceptors: ['n2', 'n3', 'n4'], committed: true },
    { size: 5, acceptors: ['n2', 'n3', 'n4', 'n5'], committed: true },
  ])('§5.3 cluster of $size, stored by leader and $acceptors: committed $committed', ({ size, acceptors, committed }) => {
    const net = cluster(size);
    net.elect('n1');
    const leader = net.core('n1');
    const { index } = leader.propose(cmd(1), net.now) as { index: number };
    net.round((m) => m.type === 'AppendEntries' && acceptors.includes(m.to));
    net.round((m) => m.type === 'AppendEntriesReply');
    expect(leader.status().commitIndex === index).toBe(committed);
  });

  describe('§5.3 committing an entry commits every entry before it', () => {
    it('follower: commitIndex = min(leaderCommit, index of last new entry), applying all entries up to it', () => {
      const core = makeCore('n2', N3, { state: state(ents(1, 1), { term: 1 }) });
      core.step(appendEntries({ from: 'n1', to: 'n2', term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [entry(3, 1)], leaderCommit: 3 }), 1);
      expect(core.status().commitIndex).toBe(3);
      expect(core.ready().committed).toEqual(ents(1, 1, 1));

      // A heartbeat only vouches for the log up to its prevLogIndex.
      const other = makeCore('n2', N3, { state: state(ents(1, 1, 1), { term: 1 }) });
      other.step(appendEntries({ from: 'n1', to: 'n2', term: 1, prevLogIndex: 1, prevLogTerm: 1, leaderCommit: 3 }), 1);
      expect(other.status().commitIndex).toBe(1);
    });

    // etcd's TestLeaderCommitPrecedingEntries: the leader's no-op commits whatever precedes it.
    it.each([[[]], [[2]], [[1, 2]], [[1]]])('leader with log of terms %j in term 2 → commits it all', (logTerms) => {
      const net = cluster(3, () => ({ state: state(ents(...logTerms), { term: 2 }) }));
      net.elect('n1');
      const noop = { index: logTerms.length + 1, term: 3, type: 'noop' };
      expect(net.committed('n1')).toEqual([...ents(...logTerms), noop]);
    });
  });

  // etcd's TestFollowerCheckMsgApp, with the fast-backup hint of types.ts.
  describe('§5.3 a follower rejects AppendEntries whose prevLogIndex/prevLogTerm it does not hold', () => {
    const log = ents(1, 1, 2, 2, 2);
    it.each([
      { prev: [0, 0], success: true, matchIndex: 0, conflictTerm: null, conflictIndex: 0 },
      { prev: [2, 1], success: true, matchIndex: 2, conflictTerm: null, conflictIndex: 0 },
      { prev: [5, 2], success: true, matchIndex: 5, conflictTerm: null, conflictIndex: 0 },
      // different term at prevLogIndex: the hint names that term and its first index here
      { prev: [4, 3], success: false, matchIndex: 0, conflictTerm: 2, conflictIndex: 3 },
      { prev: [2, 2], success: false, matchIndex: 0, conflictTerm: 1, conflictIndex: 1 },
      // log too short: no term, and the index just past the follower's log
      { prev: [7, 2], success: false, matchIndex: 0, conflictTerm: null, conflictIndex: 6 },
    ])('prev $prev → success $success, conflict ($conflictTerm, $conflictIndex)', ({ prev, ...reply }) => {
      const core = makeCore('n1', N3, { state: state(log, { term: 3 }) });
      const [prevLogIndex, prevLogTerm] = prev as [number, number];
      core.step(appendEntries({ from: 'n2', to: 'n1', term: 3, prevLogIndex, prevLogTerm }), 1);
      expect(sent(core, 'AppendEntriesReply')).toEqual([
        { type: 'AppendEntriesReply', from: 'n1', to: 'n2', term: 3, prevLogIndex, readRound: 0, ...reply },
      ]);
      expect(core.entries()).toEqual(log);
    });
  });

  // etcd's TestFollowerAppendEntries.
  describe('§5.3 a follower deletes a conflicting entry and all that follow, keeps matching ones', () => {
    it.each([
      { prev: [2, 2], incoming: [entry(3, 3)], want: [1, 2, 3], written: [3] },
      { prev: [1, 1], incoming: [entry(2, 3), entry(3, 4)], want: [1, 3, 4], written: [3, 4] },
      // a stale, shorter AppendEntries whose entries all match truncates nothing
      { prev: [0, 0], incoming: [entry(1, 1)], want: [1, 2], written: [] },
      { prev: [0, 0], incoming: [entry(1, 3)], want: [3], written: [3] },
    ])('log [1, 2], prev $prev, entries $incoming.length → terms $want', ({ prev, incoming, want, written }) => {
      const core = makeCore('n1', N3, { state: state(ents(1, 2), { term: 3 }) });
      const [prevLogIndex, prevLogTerm] = prev as [number, number];
      core.step(appendEntries({ from: 'n2', to: 'n1', term: 3, prevLogIndex, prevLogTerm, entries: incoming }), 1);
      expect(terms(core)).toEqual(want);
      const ready = core.ready();
      expect(ready.entries.map((e) => e.term)).toEqual(written);
      expect(ofType(ready.messages, 'AppendEntriesReply')[0]).toMatchObject({ success: true, matchIndex: prevLogIndex + incoming.length });
    });
  });

  // Figure 7 / etcd's TestLeaderSyncFollowerLog. n3 has an empty log and only casts the vote n1
  // may need (followers (c) and (d) hold logs more up-to-date than the leader's), then is cut off
  // so that every later commit needs the follower.
  describe('§5.3 a leader of term 8 brings each follower log of Figure 7 into agreement with its own', () => {
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<string, number[]> = {
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      b: [1, 1, 1, 4],
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      e: [1, 1, 1, 4, 4, 4, 4],
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    it.each(Object.entries(followers))('(%s) %j', (_name, followerLog) => {
      const logs: Record<NodeId, number[]> = { n1: leaderLog, n2: followerLog, n3: [] };
      const net = cluster(3, (id) => ({ state: state(ents(...logs[id]!), { term: 7 }) }));
      net.timeout('n1');
      net.settle(votes);
      expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: 8 });
      net.crash('n3');
      net.settle();
      net.core('n1').propose(cmd(1), net.now);
      net.settle();

      const leader = net.core('n1');
      expect(terms(leader)).toEqual([...leaderLog, 8, 8]);
      expect(net.core('n2').entries()).toEqual(leader.entries());
      // Committed with n1 and n2 only, so n2 really holds the whole log.
      expect(leader.status().commitIndex).toBe(12);
      expect(net.core('n2').status().commitIndex).toBe(12);
    });
  });
});

// ---------------------------------------------------------------------------------------- §5.4

describe('§5.4 safety', () => {
  it('§5.4.1 a RequestVote carries the candidate’s last log index and term', () => {
    const core = makeCore('n1', N3, { state: state(ents(1, 1, 2), { term: 2 }) });
    timeout(core);
    expect(sent(core, 'RequestVote')).toEqual(
      ['n2', 'n3'].map((to) => ({ type: 'RequestVote', from: 'n1', to, term: 3, lastLogIndex: 3, lastLogTerm: 2 })),
    );
  });

  // etcd's TestVoter: the vote goes only to a candidate whose log is at least as up-to-date.
  describe('§5.4.1 a voter refuses a candidate whose log is less up-to-date than its own', () => {
    it.each([
      // same last term: the longer-or-equal log wins
      { voter: [1], last: [1, 1], granted: true },
      { voter: [1], last: [2, 1], granted: true },
      { voter: [1, 1], last: [1, 1], granted: false },
      // candidate with a higher last term, whatever the lengths
      { voter: [1], last: [1, 2], granted: true },
      { voter: [1, 1, 1], last: [1, 2], granted: true },
      // voter with a higher last term, whatever the lengths
      { voter: [2], last: [1, 1], granted: false },
      { voter: [2], last: [5, 1], granted: false },
      { voter: [1, 2], last: [1, 1], granted: false },
    ])('voter log $voter, candidate last (index, term) $last: granted $granted', ({ voter, last, granted }) => {
      const core = makeCore('n1', N3, { state: state(ents(...voter), { term: 2 }) });
      const [lastLogIndex, lastLogTerm] = last as [number, number];
      core.step(requestVote({ from: 'n2', to: 'n1', term: 3, lastLogIndex, lastLogTerm }), 1);
      expect(sent(core, 'RequestVoteReply')).toEqual([{ type: 'RequestVoteReply', from: 'n1', to: 'n2', term: 3, granted }]);
      expect(core.status().votedFor).toBe(granted ? 'n2' : null);
    });
  });

  // Figure 8: an entry of an earlier term stored on a majority can still be overwritten, so the
  // leader must not commit it by counting replicas; it commits it only through an entry of its
  // own term.
  it('§5.4.2 a leader does not commit an earlier-term entry stored on a majority until one of its own term is', () => {
    // n1, n2: [1, 2, 2]; n3: [1]. Only index 1 is committed. One entry per message so that the
    // leader can replicate index 2..3 to n3 without its no-op.
    const logs: Record<NodeId, number[]> = { n1: [1, 2, 2], n2: [1, 2, 2], n3: [1] };
    const net = cluster(3, (id) => ({
      options: { maxEntriesPerMessage: 2 },
      state: state(ents(...logs[id]!), { term: 2, commit: 1 }),
    }));
    net.timeout('n1');
    net.settle(votes);
    const leader = net.core('n1');
    expect(leader.status()).toMatchObject({ role: 'leader', term: 3, lastIndex: 4, commitIndex: 1 });

    // Bring n3 up to index 3 (entries of term 2) but not to the no-op at 4.
    net.round((m) => m.to === 'n3'); // rejected: n3 lacks index 3
    net.round((m) => m.from === 'n3'); // the leader backs up and sends [2, 3]
    net.round((m) => m.to === 'n3'); // accepted
    net.round((m) => m.from === 'n3');
    expect(leader.progressOf('n3')?.match).toBe(3);
    expect(terms(net.core('n3'))).toEqual([1, 2, 2]);
    // Index 3 (term 2) is on n1, n2, n3 and the leader knows it is on n1 and n3: a majority.
    expect(leader.status().commitIndex).toBe(1);
    expect(net.committed('n1').map((e) => e.index)).toEqual([1]); // re-applied from the persisted commit

    // Once the no-op of term 3 is on a majority, it commits, and everything before it with it.
    net.round((m) => m.to === 'n3');
    net.round((m) => m.from === 'n3');
    expect(leader.status().commitIndex).toBe(4);
    expect(net.committed('n1').map((e) => e.term)).toEqual([1, 2, 2, 3]);
  });

  it('§5.4.2 a new leader appends a no-op entry of its own term and replicates it', () => {
    const net = cluster(3, () => ({ state: state(ents(1, 1), { term: 1 }) }));
    net.timeout('n1');
    net.round(votes);
    net.round(votes);
    const leader = net.core('n1');
    expect(leader.status()).toMatchObject({ role: 'leader', term: 2, lastIndex: 3, lastTerm: 2 });
    const noop = { index: 3, term: 2, type: 'noop' };
    expect(leader.entries(3)).toEqual([noop]);
    const appends = ofType(net.pending(), 'AppendEntries');
    expect(appends.map((m) => [m.to, m.prevLogIndex, m.prevLogTerm, m.entries])).toEqual([
      ['n2', 2, 1, [noop]],
      ['n3', 2, 1, [noop]],
    ]);
  });
});
