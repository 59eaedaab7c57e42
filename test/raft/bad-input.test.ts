/**
 * Input the core must refuse: malformed messages, misaddressed messages, invalid configuration,
 * a clock going backwards. Refusing must leave the core exactly as it was.
 */
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from '../../src/raft/config.js';
import { InvalidConfigError, MalformedMessageError, RaftInvariantError } from '../../src/raft/errors.js';
import type { RaftCore } from '../../src/raft/raft.js';
import { appendEntries, cluster, cmd, ents, entry, makeCore, nodes, snapshot, state } from './support/cores.js';

const N3 = nodes(3);

/** A follower n1 with a log and a known leader (n2), its Ready drained; now = 10. */
function follower(): RaftCore {
  const core = makeCore('n1', N3, { state: state(ents(1, 1), { term: 2, votedFor: 'n2', commit: 1 }) });
  core.step(appendEntries({ from: 'n2', to: 'n1', term: 2, prevLogIndex: 2, prevLogTerm: 1, leaderCommit: 2 }), 10);
  core.ready();
  return core;
}

/** n1 leading a 3-node cluster, its Ready drained. */
function leader(): { core: RaftCore; now: number } {
  const net = cluster(3);
  net.elect('n1');
  return { core: net.core('n1'), now: net.now };
}

function expectUntouched(core: RaftCore, before: ReturnType<typeof snapshot>): void {
  expect(snapshot(core)).toEqual(before);
  expect(core.hasReady()).toBe(false);
}

const goodAppend = appendEntries({ from: 'n2', to: 'n1', term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: [entry(3, 3)], leaderCommit: 3 });
const goodSnapshot = {
  type: 'InstallSnapshot',
  from: 'n2',
  to: 'n1',
  term: 3,
  index: 2,
  snapshotTerm: 2,
  membership: { voters: ['n1', 'n2', 'n3'], learners: [] },
  offset: 0,
  data: 'ab',
  size: 2,
  done: true,
};

describe('malformed messages', () => {
  // Each is refused with MalformedMessageError whose text names the problem.
  const cases: { name: string; message: unknown; mentions: string }[] = [
    { name: 'null', message: null, mentions: 'not an object' },
    { name: 'a string', message: 'AppendEntries', mentions: 'not an object' },
    { name: 'an array', message: [goodAppend], mentions: 'not an object' },
    { name: 'a number', message: 42, mentions: 'not an object' },
    { name: 'an unknown type', message: { ...goodAppend, type: 'Gossip' }, mentions: 'unknown type "Gossip"' },
    { name: 'no type', message: { from: 'n2', to: 'n1', term: 3 }, mentions: 'unknown type' },
    { name: 'a negative term', message: { ...goodAppend, term: -1 }, mentions: 'term must be an integer >= 0' },
    { name: 'a fractional term', message: { ...goodAppend, term: 2.5 }, mentions: 'term must be an integer >= 0' },
    { name: 'a term as a string', message: { ...goodAppend, term: '3' }, mentions: 'term must be an integer >= 0' },
    { name: 'a NaN term', message: { ...goodAppend, term: Number.NaN }, mentions: 'term must be an integer >= 0' },
    { name: 'no prevLogTerm', message: { ...goodAppend, prevLogTerm: undefined }, mentions: 'prevLogTerm' },
    { name: 'no from', message: { ...goodAppend, from: undefined }, mentions: 'from must be a non-empty node id' },
    { name: 'an empty to', message: { ...goodAppend, to: '' }, mentions: 'to must be a non-empty node id' },
    { name: 'entries not an array', message: { ...goodAppend, entries: { 0: entry(3, 3) } }, mentions: 'entries must be an array' },
    {
      name: 'non-contiguous entries',
      message: { ...goodAppend, entries: [entry(3, 3), entry(5, 3)] },
      mentions: 'entries[1].index must be 4',
    },
    {
      name: 'entries not starting after prevLogIndex',
      message: { ...goodAppend, entries: [entry(2, 3)] },
      mentions: 'entries[0].index must be 3',
    },
    {
      name: 'an entry with a bad command',
      message: { ...goodAppend, entries: [{ index: 3, term: 3, type: 'command', command: { clientId: 7, seq: 1, op: null } }] },
      mentions: 'entries[0].command',
    },
    {
      name: 'an entry with no command',
      message: { ...goodAppend, entries: [{ index: 3, term: 3, type: 'command' }] },
      mentions: 'entries[0].command',
    },
    {
      name: 'an entry of unknown type',
      message: { ...goodAppend, entries: [{ index: 3, term: 3, type: 'checkpoint' }] },
      mentions: 'entries[0].type',
    },
    { name: 'an entry that is null', message: { ...goodAppend, entries: [null] }, mentions: 'entries[0] must be an object' },
    {
      name: 'a config entry without voters',
      message: { ...goodAppend, entries: [{ index: 3, term: 3, type: 'config', membership: { learners: [] } }] },
      mentions: 'entries[0].membership.voters must be a list of node ids',
    },
    {
      name: 'a snapshot chunk whose data is not a string',
      message: { ...goodSnapshot, data: 42 },
      mentions: 'data must be a string',
    },
    {
      name: 'a snapshot chunk running past the size it declares',
      message: { ...goodSnapshot, offset: 2, data: 'abcd', size: 5 },
      mentions: 'chunk at 2 of 4 runs past size 5',
    },
    {
      name: 'a snapshot with a bad membership',
      message: { ...goodSnapshot, membership: { voters: 'n1', learners: [] } },
      mentions: 'membership.voters must be a list of node ids',
    },
    {
      name: 'a vote request with a transfer flag that is not true',
      message: { type: 'RequestVote', from: 'n2', to: 'n1', term: 3, lastLogIndex: 2, lastLogTerm: 1, transfer: 'yes' },
      mentions: 'transfer must be true when present',
    },
    {
      name: 'a vote reply without granted',
      message: { type: 'RequestVoteReply', from: 'n2', to: 'n1', term: 3 },
      mentions: 'granted must be a boolean',
    },
    {
      name: 'a vote request with a string lastLogIndex',
      message: { type: 'RequestVote', from: 'n2', to: 'n1', term: 3, lastLogIndex: '2', lastLogTerm: 1 },
      mentions: 'lastLogIndex',
    },
    {
      name: 'an append reply with a string conflictTerm',
      message: {
        type: 'AppendEntriesReply',
        from: 'n2',
        to: 'n1',
        term: 3,
        success: false,
        prevLogIndex: 2,
        matchIndex: 0,
        conflictTerm: '1',
        conflictIndex: 1,
        readRound: 0,
      },
      mentions: 'conflictTerm',
    },
  ];

  it.each(cases)('$name → MalformedMessageError naming the problem, core untouched', ({ message, mentions }) => {
    const core = follower();
    const before = snapshot(core);
    let error: unknown;
    try {
      // Far in the future: a refused message must not even move the clock.
      core.step(message, 1_000_000);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedMessageError);
    const e = error as MalformedMessageError;
    expect(e.name).toBe('MalformedMessageError');
    expect(e.message.startsWith('raft-harness: malformed message: ')).toBe(true);
    expect(e.message).toContain(mentions);
    expect(e.received).toBe(message);
    expectUntouched(core, before);
    expect(() => core.tick(11)).not.toThrow();
  });

  it('the well-formed message those cases start from is accepted', () => {
    const core = follower();
    core.step(goodAppend, 11);
    expect(core.status()).toMatchObject({ term: 3, lastIndex: 3, commitIndex: 3 });
  });

  it('a leader refuses a malformed message without changing anything either', () => {
    const { core, now } = leader();
    const before = snapshot(core);
    expect(() => core.step({ ...goodAppend, term: 9, entries: 'none' }, now)).toThrow(MalformedMessageError);
    expectUntouched(core, before);
  });
});

describe('misaddressed messages are ignored', () => {
  it.each([
    { name: 'addressed to another node', message: { ...goodAppend, term: 9, to: 'n3' } },
    { name: 'addressed to a non-member', message: { ...goodAppend, term: 9, to: 'n9' } },
    { name: 'from a non-member', message: { ...goodAppend, term: 9, from: 'n9' } },
    { name: 'from itself', message: { ...goodAppend, term: 9, from: 'n1' } },
    { name: 'a vote request from a non-member', message: { type: 'RequestVote', from: 'x', to: 'n1', term: 9, lastLogIndex: 9, lastLogTerm: 9 } },
  ])('$name (carrying a higher term): no state change, no output', ({ message }) => {
    const core = follower();
    const before = snapshot(core);
    core.step(message, 11);
    expectUntouched(core, before);
  });
});

describe('invalid configuration', () => {
  const ok = ['n1', 'n2', 'n3'];
  it.each([
    { name: 'no nodes', id: 'n1', members: [], options: {}, field: 'members', allowed: 'a non-empty list of node ids' },
    { name: 'members not a list', id: 'n1', members: 'n1,n2', options: {}, field: 'members', allowed: 'a non-empty list' },
    { name: 'duplicate ids', id: 'n1', members: ['n1', 'n2', 'n1'], options: {}, field: 'members[2]', allowed: 'all different' },
    { name: 'an empty id', id: 'n1', members: ['n1', ''], options: {}, field: 'members[1]', allowed: 'a non-empty string' },
    { name: 'a numeric id', id: 'n1', members: ['n1', 2], options: {}, field: 'members[1]', allowed: 'a non-empty string' },
    { name: 'id not a member', id: 'n4', members: ok, options: {}, field: 'id', allowed: 'one of the members (n1, n2, n3)' },
    {
      name: 'electionTimeout min = max',
      id: 'n1',
      members: ok,
      options: { electionTimeout: [150, 150] },
      field: 'electionTimeout',
      allowed: 'min < max',
    },
    {
      name: 'electionTimeout min > max',
      id: 'n1',
      members: ok,
      options: { electionTimeout: [300, 150] },
      field: 'electionTimeout',
      allowed: 'min < max',
    },
    {
      name: 'electionTimeout not a pair',
      id: 'n1',
      members: ok,
      options: { electionTimeout: 150 },
      field: 'electionTimeout',
      allowed: 'a pair [min, max]',
    },
    {
      name: 'a fractional electionTimeout',
      id: 'n1',
      members: ok,
      options: { electionTimeout: [150.5, 300] },
      field: 'electionTimeout[0]',
      allowed: 'an integer >= 1',
    },
    {
      name: 'a negative electionTimeout',
      id: 'n1',
      members: ok,
      options: { electionTimeout: [-300, 150] },
      field: 'electionTimeout[0]',
      allowed: 'an integer >= 1',
    },
    {
      name: 'heartbeatInterval = electionTimeout min',
      id: 'n1',
      members: ok,
      options: { heartbeatInterval: 150 },
      field: 'heartbeatInterval',
      allowed: 'below electionTimeout min (150)',
    },
    {
      name: 'heartbeatInterval above electionTimeout min',
      id: 'n1',
      members: ok,
      options: { electionTimeout: [100, 200], heartbeatInterval: 120 },
      field: 'heartbeatInterval',
      allowed: 'below electionTimeout min (100)',
    },
    { name: 'a zero heartbeatInterval', id: 'n1', members: ok, options: { heartbeatInterval: 0 }, field: 'heartbeatInterval', allowed: 'an integer >= 1' },
    { name: 'a fractional heartbeatInterval', id: 'n1', members: ok, options: { heartbeatInterval: 2.5 }, field: 'heartbeatInterval', allowed: 'an integer >= 1' },
    { name: 'a string heartbeatInterval', id: 'n1', members: ok, options: { heartbeatInterval: '50' }, field: 'heartbeatInterval', allowed: 'an integer >= 1' },
    { name: 'a negative maxInflight', id: 'n1', members: ok, options: { maxInflight: -1 }, field: 'maxInflight', allowed: 'an integer >= 1' },
    { name: 'a zero maxEntriesPerMessage', id: 'n1', members: ok, options: { maxEntriesPerMessage: 0 }, field: 'maxEntriesPerMessage', allowed: 'an integer >= 1' },
    { name: 'an infinite maxEntriesPerMessage', id: 'n1', members: ok, options: { maxEntriesPerMessage: Infinity }, field: 'maxEntriesPerMessage', allowed: 'an integer >= 1' },
    { name: 'a string preVote', id: 'n1', members: ok, options: { preVote: 'yes' }, field: 'preVote', allowed: 'true or false' },
    { name: 'a numeric checkQuorum', id: 'n1', members: ok, options: { checkQuorum: 1 }, field: 'checkQuorum', allowed: 'true or false' },
  ])('$name → InvalidConfigError on $field', ({ id, members, options, field, allowed }) => {
    let error: unknown;
    try {
      resolveRaftConfig(id, members, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConfigError);
    const e = error as InvalidConfigError;
    expect(e.name).toBe('InvalidConfigError');
    expect(e.field).toBe(field);
    expect(e.allowed).toContain(allowed);
    expect(e.message.startsWith(`raft-harness: invalid config: ${field} = `)).toBe(true);
    expect(e.message).toContain(`allowed: ${e.allowed}`);
  });

  it('a valid configuration resolves, with defaults filled in', () => {
    expect(resolveRaftConfig('n2', ['n1', 'n2'], { heartbeatInterval: 20 })).toEqual({
      id: 'n2',
      members: ['n1', 'n2'],
      electionTimeout: [150, 300],
      heartbeatInterval: 20,
      preVote: true,
      checkQuorum: true,
      maxEntriesPerMessage: 64,
      maxInflight: 8,
      snapshotEvery: 0,
      snapshotLogBytes: 0,
      snapshotChunkSize: 65_536,
      joining: false,
    });
  });
});

describe('a clock going backwards', () => {
  it.each([
    { input: 'tick', call: (c: RaftCore) => c.tick(9) },
    { input: 'step', call: (c: RaftCore) => c.step(goodAppend, 9) },
    { input: 'tick with NaN', call: (c: RaftCore) => c.tick(Number.NaN) },
  ])('$input → RaftInvariantError, core untouched', ({ call }) => {
    const core = follower(); // its clock is at 10
    const before = snapshot(core);
    expect(() => call(core)).toThrow(RaftInvariantError);
    try {
      call(core);
    } catch (e) {
      expect((e as Error).name).toBe('RaftInvariantError');
      expect((e as Error).message).toMatch(/^raft-harness: invariant broken on n1: clock going back from 10 to /);
    }
    expectUntouched(core, before);
  });

  it('on a leader, for propose and readIndex too', () => {
    const { core, now } = leader();
    const before = snapshot(core);
    expect(() => core.propose(cmd(1), now - 1)).toThrow(RaftInvariantError);
    expect(() => core.readIndex('r', now - 1)).toThrow(RaftInvariantError);
    expectUntouched(core, before);
  });
});
