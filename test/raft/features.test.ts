/**
 * The core's features beyond the basic paper algorithm: pre-vote, check-quorum, fast backup,
 * batching, pipelining, ReadIndex, and the Ready contract the shell relies on.
 */
import { describe, expect, it } from 'vitest';
import type { RaftOptions } from '../../src/raft/config.js';
import { createRandom, randomInt } from '../../src/raft/random.js';
import type { RaftCore } from '../../src/raft/raft.js';
import type { Entry, NodeId, PersistedState, RaftMessage } from '../../src/raft/types.js';
import {
  appendEntries,
  cluster,
  cmd,
  ents,
  entry,
  isType,
  makeCore,
  nodes,
  ofType,
  requestVote,
  state,
  timeout,
  votes,
  type CoreSetup,
} from './support/cores.js';

const N3 = nodes(3);

function withOptions(options: Partial<RaftOptions>): (id: NodeId) => CoreSetup {
  return () => ({ options });
}

// ------------------------------------------------------------------------------------ pre-vote

describe('pre-vote (dissertation §9.6)', () => {
  // A node cut off from the others times out again and again. With pre-vote it never gets a
  // quorum of pre-votes, so it never enters a new term, and rejoins without deposing the leader.
  it.each([
    { preVote: true, partitionedTerm: 1, leaderAfter: 'n1', leaderTermAfter: 1 },
    // Without pre-vote (the contrast): the term climbs, and its first answer to the leader, which
    // carries that term, deposes it.
    { preVote: false, partitionedTerm: 'higher', leaderAfter: 'another', leaderTermAfter: 'higher' },
  ])('preVote $preVote: a partitioned node that keeps timing out stays in term $partitionedTerm', (want) => {
    const net = cluster(3, withOptions({ preVote: want.preVote, checkQuorum: true }));
    net.elect('n1');
    expect(net.core('n1').status().term).toBe(1);

    net.crash('n3');
    net.runUntil(net.now + 3_000); // ten or more election timeouts of n3
    const partitioned = net.core('n3').status();
    if (want.preVote) {
      expect(partitioned).toMatchObject({ role: 'precandidate', term: 1 });
    } else {
      expect(partitioned.term).toBeGreaterThan(10);
    }

    net.heal('n3');
    net.runUntil(net.now + 3_000);
    const leaders = N3.filter((id) => net.core(id).status().role === 'leader');
    expect(leaders).toHaveLength(1);
    if (want.preVote) {
      expect(leaders).toEqual(['n1']);
      for (const id of N3) expect(net.core(id).status()).toMatchObject({ term: 1, leaderId: 'n1' });
    } else {
      expect(net.core(leaders[0]!).status().term).toBeGreaterThan(partitioned.term);
    }
  });

  it('a follower that heard from its leader within electionTimeout min refuses pre-votes, later grants them', () => {
    const core = makeCore('n2', N3, { options: { preVote: true, checkQuorum: true }, state: state(ents(1), { term: 1 }) });
    core.step(appendEntries({ from: 'n1', to: 'n2', term: 1, prevLogIndex: 1, prevLogTerm: 1 }), 1_000);
    core.ready();
    const preVote = { type: 'PreVote', from: 'n3', to: 'n2', term: 2, lastLogIndex: 1, lastLogTerm: 1 } as const;

    core.step(preVote, 1_149);
    expect(core.ready().messages).toEqual([{ type: 'PreVoteReply', from: 'n2', to: 'n3', term: 1, granted: false }]);
    core.step(preVote, 1_150);
    expect(core.ready().messages).toEqual([{ type: 'PreVoteReply', from: 'n2', to: 'n3', term: 2, granted: true }]);
    // Granting a pre-vote changes nothing here: no term, no vote, same leader.
    expect(core.status()).toMatchObject({ role: 'follower', term: 1, votedFor: null, leaderId: 'n1' });
  });

  it('the pre-vote refusal does not depend on check-quorum', () => {
    const core = makeCore('n2', N3, { options: { preVote: true, checkQuorum: false }, state: state(ents(1), { term: 1 }) });
    core.step(appendEntries({ from: 'n1', to: 'n2', term: 1, prevLogIndex: 1, prevLogTerm: 1 }), 100);
    core.ready();
    core.step({ type: 'PreVote', from: 'n3', to: 'n2', term: 2, lastLogIndex: 1, lastLogTerm: 1 }, 101);
    expect(core.ready().messages).toEqual([{ type: 'PreVoteReply', from: 'n2', to: 'n3', term: 1, granted: false }]);
  });

  it('a precandidate that gets a quorum of pre-votes then campaigns for real in term + 1', () => {
    const core = makeCore('n1', N3, { options: { preVote: true } });
    const at = timeout(core);
    core.ready();
    core.step({ type: 'PreVoteReply', from: 'n2', to: 'n1', term: 1, granted: true }, at);
    expect(core.status()).toMatchObject({ role: 'candidate', term: 1, votedFor: 'n1' });
    expect(ofType(core.ready().messages, 'RequestVote').map((m) => [m.to, m.term])).toEqual([
      ['n2', 1],
      ['n3', 1],
    ]);
  });
});

// -------------------------------------------------------------------------------- check-quorum

describe('check-quorum', () => {
  it('a leader that hears from no quorum for electionTimeout min steps down, dropping its pending reads', () => {
    const net = cluster(3, withOptions({ checkQuorum: true }));
    net.elect('n1');
    const leader = net.core('n1');
    const t0 = net.now; // both followers acknowledged the no-op at t0
    net.crash('n2', 'n3');
    leader.readIndex('pending', t0);

    let steppedDownAt = Number.NaN;
    while (leader.nextDeadline() <= t0 + 1_000) {
      const at = leader.nextDeadline();
      leader.tick(at);
      if (leader.status().role !== 'leader') {
        steppedDownAt = at;
        break;
      }
    }
    // Heard from a quorum at t0: may lead until t0 + min, must be gone by t0 + 2 min.
    expect(steppedDownAt).toBeGreaterThanOrEqual(t0 + 150);
    expect(steppedDownAt).toBeLessThanOrEqual(t0 + 300);
    expect(leader.status()).toMatchObject({ role: 'follower', term: 1, leaderId: null });
    net.collect();
    expect(net.reads('n1')).toEqual({ reads: [], dropped: ['pending'] });
  });

  // The contrasts: a leader that still hears from a quorum (itself and n2) stays, and so does any
  // leader when check-quorum is off.
  it.each([
    { checkQuorum: true, cutOff: ['n3'] },
    { checkQuorum: false, cutOff: ['n2', 'n3'] },
  ])('checkQuorum $checkQuorum, $cutOff cut off: still leads after many election timeouts', ({ checkQuorum, cutOff }) => {
    const net = cluster(3, withOptions({ checkQuorum }));
    net.elect('n1');
    net.crash(...cutOff);
    net.runUntil(net.now + 3_000);
    expect(net.core('n1').status()).toMatchObject({ role: 'leader', term: 1 });
  });
});

// ------------------------------------------------------------------------------- fast backup

describe('fast backup', () => {
  // Without the conflict hint a leader backs up one entry per rejection: 60 round trips here.
  // With it, each rejection skips a whole term of the follower's log.
  it.each([
    { follower: [1, ...Array<number>(30).fill(2), ...Array<number>(30).fill(3)], wrongTerms: 2 },
    { follower: [1, ...Array<number>(100).fill(2)], wrongTerms: 1 },
  ])('a follower with $follower.length entries of $wrongTerms wrong term(s) is fixed in that many rejections', ({ follower, wrongTerms }) => {
    const leaderLog = [1, ...Array<number>(60).fill(4)];
    const logs: Record<NodeId, number[]> = { n1: leaderLog, n2: follower, n3: leaderLog };
    const net = cluster(3, (id) => ({ options: { maxEntriesPerMessage: 100 }, state: state(ents(...logs[id]!), { term: 4, commit: 1 }) }));
    net.timeout('n1');
    const delivered = net.settle();
    const rejections = ofType(delivered, 'AppendEntriesReply').filter((m) => m.from === 'n2' && !m.success);
    expect(rejections).toHaveLength(wrongTerms);
    expect(net.core('n2').entries()).toEqual(net.core('n1').entries());
  });
});

// ----------------------------------------------------------------------- batching, pipelining

describe('batching and pipelining', () => {
  it('no AppendEntries carries more than maxEntriesPerMessage entries', () => {
    const long = Array<number>(200).fill(1);
    const net = cluster(3, (id) => ({
      options: { maxEntriesPerMessage: 10 },
      state: state(id === 'n2' ? [] : ents(...long), { term: 1 }),
    }));
    net.timeout('n1');
    const sizes = ofType(net.settle(), 'AppendEntries').map((m) => m.entries.length);
    expect(Math.max(...sizes)).toBe(10);
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThanOrEqual(20);
    expect(net.core('n2').entries()).toEqual(net.core('n1').entries());
  });

  it('in replicate state the leader streams up to maxInflight AppendEntries ahead of acks', () => {
    const net = cluster(3, withOptions({ maxEntriesPerMessage: 1, maxInflight: 3 }));
    net.elect('n1');
    const leader = net.core('n1');
    expect(leader.progressOf('n2')?.state).toBe('replicate');
    for (let i = 1; i <= 5; i++) leader.propose(cmd(i), net.now);

    const toN2 = (): RaftMessage[] => net.pending((m) => m.type === 'AppendEntries' && m.to === 'n2');
    // Three in flight at once (not one at a time, not all five).
    expect(toN2().map((m) => ofType([m], 'AppendEntries')[0]!.entries.map((e) => e.index))).toEqual([[2], [3], [4]]);
    // One ack frees one slot.
    net.round((m) => m.type === 'AppendEntries' && m.to === 'n2' && m.prevLogIndex === 1);
    net.round((m) => m.type === 'AppendEntriesReply' && m.from === 'n2');
    expect(ofType(toN2(), 'AppendEntries').map((m) => m.entries.map((e) => e.index))).toEqual([[3], [4], [5]]);

    net.settle();
    expect(net.core('n2').entries()).toEqual(leader.entries());
    expect(leader.status().commitIndex).toBe(6);
  });
});

// ----------------------------------------------------------------------------------- ReadIndex

describe('ReadIndex (dissertation §6.4)', () => {
  it('a read is answered only after a quorum acknowledges a message sent after the request', () => {
    const net = cluster(3);
    net.elect('n1');
    const leader = net.core('n1');
    const commit = leader.status().commitIndex;

    // Heartbeats sent (and answered) before the read cannot vouch for it.
    net.now = leader.nextDeadline();
    leader.tick(net.now);
    net.round(isType('AppendEntries'));
    expect(leader.readIndex('r1', net.now)).toEqual({ ok: true });
    expect(net.round((m) => m.type === 'AppendEntriesReply' && m.readRound === 0)).toHaveLength(2);
    expect(net.reads('n1').reads).toEqual([]);

    // One follower's answer to the read's own round makes a quorum with the leader.
    net.round((m) => m.type === 'AppendEntries' && m.to === 'n2');
    net.round((m) => m.type === 'AppendEntriesReply');
    expect(net.reads('n1').reads).toEqual([{ ctx: 'r1', index: commit }]);
  });

  it('read rounds do not count as heartbeats: streaming followers stay in replicate state', () => {
    const net = cluster(3);
    net.elect('n1');
    const leader = net.core('n1');
    expect(leader.progressOf('n2')?.state).toBe('replicate');
    leader.propose(cmd(1), net.now);
    leader.readIndex('a', net.now);
    leader.readIndex('b', net.now);
    leader.readIndex('c', net.now);
    expect(leader.progressOf('n2')?.state).toBe('replicate');
    const carried = ofType(leader.ready().messages, 'AppendEntries').filter((m) => m.to === 'n2').flatMap((m) => m.entries);
    expect(carried.map((e) => e.index)).toEqual([leader.status().lastIndex]); // sent once, not again
  });

  it('a leader that has not yet committed an entry of its term answers only once it has', () => {
    const logs: Record<NodeId, number[]> = { n1: [1, 1, 1], n2: [1], n3: [1] };
    const net = cluster(3, (id) => ({ state: state(ents(...logs[id]!), { term: 1, commit: 1 }) }));
    net.timeout('n1');
    net.settle(votes);
    const leader = net.core('n1');
    expect(leader.status()).toMatchObject({ role: 'leader', term: 2, commitIndex: 1, lastIndex: 4 });
    leader.readIndex('r1', net.now);

    // n2 answers the read's round (a rejection: it lacks index 3), so leadership is confirmed;
    // but commit index 1 may be stale for a new leader.
    net.round((m) => m.to === 'n2');
    const answers = net.round((m) => m.from === 'n2');
    expect(answers.some((m) => m.type === 'AppendEntriesReply' && m.readRound >= 1)).toBe(true);
    expect(net.reads('n1').reads).toEqual([]);

    net.settle();
    expect(leader.status().commitIndex).toBe(4);
    expect(net.reads('n1').reads).toEqual([{ ctx: 'r1', index: 4 }]);
  });

  it('a deposed leader hands its pending reads back as droppedReads', () => {
    const net = cluster(3);
    net.elect('n1');
    const leader = net.core('n1');
    net.crash('n2', 'n3');
    leader.readIndex('r1', net.now);
    leader.readIndex('r2', net.now);
    leader.step(requestVote({ from: 'n2', to: 'n1', term: 5, lastLogIndex: 9, lastLogTerm: 4 }), net.now);
    expect(leader.status().role).toBe('follower');
    const ready = leader.ready();
    expect(ready.droppedReads).toEqual(['r1', 'r2']);
    expect(ready.reads).toEqual([]);
    expect(leader.readIndex('r3', net.now)).toEqual({ ok: false, reason: 'not-leader', leaderHint: null });
  });
});

// ---------------------------------------------------------------------------- Ready contract

describe('the Ready contract', () => {
  it('a granted vote comes in the same Ready as the hardState recording it', () => {
    const core = makeCore('n1', N3);
    core.step(requestVote({ from: 'n2', to: 'n1', term: 3 }), 1);
    const ready = core.ready();
    expect(ready.hardState).toEqual({ term: 3, votedFor: 'n2', commit: 0 });
    expect(ready.messages).toEqual([{ type: 'RequestVoteReply', from: 'n1', to: 'n2', term: 3, granted: true }]);
  });

  it('a candidate’s vote requests come with the hardState of its new term and self-vote', () => {
    const core = makeCore('n1', N3);
    timeout(core);
    const ready = core.ready();
    expect(ready.hardState).toEqual({ term: 1, votedFor: 'n1', commit: 0 });
    expect(ready.messages.map((m) => m.type)).toEqual(['RequestVote', 'RequestVote']);
  });

  it('an acknowledgement of appended entries comes with those entries to persist', () => {
    const core = makeCore('n2', N3, { state: state(ents(1), { term: 1 }) });
    core.step(appendEntries({ from: 'n1', to: 'n2', term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, 2), entry(3, 2)] }), 1);
    const ready = core.ready();
    expect(ready.hardState).toEqual({ term: 2, votedFor: null, commit: 0 });
    expect(ready.entries).toEqual([entry(2, 2), entry(3, 2)]);
    expect(ready.messages).toEqual([expect.objectContaining({ type: 'AppendEntriesReply', success: true, matchIndex: 3 })]);
  });

  it('committed entries are handed out exactly once', () => {
    const core = makeCore('n2', N3, { state: state(ents(1), { term: 1 }) });
    core.step(appendEntries({ from: 'n1', to: 'n2', term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, 1)], leaderCommit: 1 }), 1);
    expect(core.ready().committed).toEqual(ents(1));
    expect(core.ready().committed).toEqual([]);
    core.step(appendEntries({ from: 'n1', to: 'n2', term: 1, prevLogIndex: 2, prevLogTerm: 1, leaderCommit: 2 }), 2);
    expect(core.hasReady()).toBe(true);
    expect(core.ready().committed).toEqual([entry(2, 1)]);
    expect(core.hasReady()).toBe(false);
  });

  // A shell that persists each Ready's hardState and entries before sending its messages: every
  // message must be backed by what is then on disk, every committed entry handed out once, in
  // order, already on disk. Random delivery, loss, duplication, reordering, timeouts, proposals,
  // and crashes that restart a node from its disk alone.
  it.each([1, 2, 3, 4, 5])('under a random schedule (seed %i) a persist-then-send shell is always consistent', (seed) => {
    const random = createRandom(seed);
    const options: Partial<RaftOptions> = { preVote: true, checkQuorum: true, maxEntriesPerMessage: 3, maxInflight: 2 };
    const cores = new Map<NodeId, RaftCore>(N3.map((id) => [id, makeCore(id, N3, { options, seed: `${seed}/${id}` })]));
    const disks = new Map<NodeId, PersistedState>(N3.map((id) => [id, state()]));
    const applied = new Map<NodeId, Entry[]>(N3.map((id) => [id, []]));
    /** Every entry any node ever applied, by index: all nodes must apply the same (Figure 3). */
    const appliedAnywhere: Entry[] = [];
    let queue: RaftMessage[] = [];
    let now = 0;
    let seq = 0;

    const handle = (id: NodeId): void => {
      const ready = cores.get(id)!.ready();
      const disk = disks.get(id)!;
      const log = ready.entries.length === 0 ? disk.entries : [...disk.entries.slice(0, ready.entries[0]!.index - 1), ...ready.entries];
      disks.set(id, { hardState: ready.hardState ?? disk.hardState, snapshot: null, entries: log });
      for (const m of ready.messages) {
        expectBackedBy(m, disks.get(id)!);
        queue.push(m);
      }
      const done = applied.get(id)!;
      for (const e of ready.committed) {
        expect(e.index).toBe(done.length + 1);
        expect(log[e.index - 1]).toEqual(e);
        done.push(e);
        appliedAnywhere[e.index - 1] ??= e;
        expect(e).toEqual(appliedAnywhere[e.index - 1]);
      }
    };

    for (let step = 0; step < 3_000; step++) {
      const r = random();
      if (r < 0.7 && queue.length > 0) {
        const [m] = queue.splice(randomInt(random, 0, queue.length), 1);
        if (random() < 0.1) continue; // lost
        if (random() < 0.05) queue.push(m!); // duplicated
        cores.get(m!.to)!.step(m, now);
        handle(m!.to);
      } else if (r < 0.88) {
        now += randomInt(random, 1, 40);
        for (const id of N3) {
          cores.get(id)!.tick(now);
          handle(id);
        }
      } else if (r < 0.98) {
        for (const id of N3) {
          if (cores.get(id)!.propose(cmd(seq), now).ok) seq += 1;
          handle(id);
        }
      } else {
        // Crash and restart from disk: messages in flight to it are lost; it re-applies its log.
        const id = N3[randomInt(random, 0, N3.length)]!;
        cores.set(id, makeCore(id, N3, { options, seed: `${seed}/${id}/${step}`, state: disks.get(id)!, now }));
        applied.set(id, []);
        queue = queue.filter((m) => m.to !== id);
      }
    }
    // The run did something.
    expect(appliedAnywhere.length).toBeGreaterThan(20);
  });
});

/** What a message promises about its sender's stable storage at the time it is sent. */
function expectBackedBy(m: RaftMessage, disk: PersistedState): void {
  // Every message carries its sender's current term, except the pre-vote ones that carry the
  // term a precandidate would campaign in.
  if (m.type !== 'PreVote' && !(m.type === 'PreVoteReply' && m.granted)) expect(m.term).toBe(disk.hardState.term);
  switch (m.type) {
    case 'RequestVote':
      expect(disk.hardState.votedFor).toBe(m.from);
      break;
    case 'RequestVoteReply':
      if (m.granted) expect(disk.hardState.votedFor).toBe(m.to);
      break;
    case 'AppendEntries':
      for (const e of m.entries) expect(disk.entries[e.index - 1]).toEqual(e);
      break;
    case 'AppendEntriesReply':
      if (m.success) expect(disk.entries.length).toBeGreaterThanOrEqual(m.matchIndex);
      break;
    default:
      break;
  }
}
