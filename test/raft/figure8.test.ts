/**
 * Figure 8 of the Raft paper (§5.4.2): why a leader cannot conclude that an entry of an earlier
 * term is committed once it is stored on a majority, played step by step on five cores.
 *
 * Crashes are modelled by the network losing everything to and from the crashed node; a restart
 * builds a fresh core from what the old one had persisted (hard state + log). Elections are
 * driven by timing out the chosen node and delivering only the messages the step calls for.
 * Pre-vote and check-quorum are off so that the scenario reads like the paper.
 *
 * Every node starts with the same committed entry of term 1 at index 1, as in the figure.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/raft/raft.js';
import type { NodeId } from '../../src/raft/types.js';
import { Network, among, ents, makeCore, persisted, state, terms, votes } from './support/cores.js';

const SERVERS = ['S1', 'S2', 'S3', 'S4', 'S5'];
// One entry per AppendEntries, so that a leader can send index 2 without index 3.
const OPTIONS = { preVote: false, checkQuorum: false, maxEntriesPerMessage: 1 };

function boot(id: NodeId, from: ReturnType<typeof state>, now: number): RaftCore {
  return makeCore(id, SERVERS, { options: OPTIONS, state: from, now });
}

function restart(net: Network, id: NodeId): void {
  net.replace(boot(id, persisted(net.core(id)), net.now));
}

function logs(net: Network): Record<NodeId, number[]> {
  return Object.fromEntries(SERVERS.map((id) => [id, terms(net.core(id))]));
}

function commits(net: Network): number[] {
  return SERVERS.map((id) => net.core(id).status().commitIndex);
}

/** Steps (a) to (c). Returns with S1 leading term 4 and S5 down. */
function throughC(): Network {
  const net = new Network(SERVERS.map((id) => boot(id, state(ents(1), { term: 1, commit: 1 }), 0)));

  // (a) S1 is leader of term 2 and replicates its entry at index 2 (the no-op of term 2) to S2 only.
  net.timeout('S1');
  net.settle(votes);
  expect(net.core('S1').status()).toMatchObject({ role: 'leader', term: 2 });
  net.round((m) => m.type === 'AppendEntries' && m.to === 'S2');
  net.round((m) => m.from === 'S2');
  expect(logs(net)).toEqual({ S1: [1, 2], S2: [1, 2], S3: [1], S4: [1], S5: [1] });
  expect(commits(net)).toEqual([1, 1, 1, 1, 1]);

  // (b) S1 crashes. S5 is elected for term 3 by S3, S4 and itself (S2's log is more up-to-date
  // than S5's, so S2 refuses), appends a different entry at index 2, and crashes before sending it.
  net.crash('S1');
  net.timeout('S5');
  const election = net.settle(votes);
  expect(election.filter((m) => m.type === 'RequestVoteReply').map((m) => [m.from, m.type === 'RequestVoteReply' && m.granted])).toEqual([
    ['S2', false],
    ['S3', true],
    ['S4', true],
  ]);
  expect(net.core('S5').status()).toMatchObject({ role: 'leader', term: 3 });
  net.crash('S5');
  expect(logs(net)).toEqual({ S1: [1, 2], S2: [1, 2], S3: [1], S4: [1], S5: [1, 3] });

  // (c) S1 restarts. S3 and S4 voted for S5 in term 3, so S1's first election (term 3) is split;
  // its next one, in term 4, wins with S2, S3 and S4. Its no-op of term 4 goes at index 3.
  restart(net, 'S1');
  net.timeout('S1');
  net.settle(votes);
  expect(net.core('S1').status()).toMatchObject({ role: 'candidate', term: 3 });
  net.timeout('S1');
  net.settle(votes);
  const s1 = net.core('S1');
  expect(s1.status()).toMatchObject({ role: 'leader', term: 4 });

  // S1 replicates its term-2 entry at index 2 to S3 (and S4), but not yet index 3. In the paper S1
  // knows S2 holds index 2; here anything S1 sends S2 would also carry index 3, and S2 must not
  // have index 3 for (d), so the majority S1 knows about is S1, S3, S4 instead.
  const s1WithS3S4 = among('S1', 'S3', 'S4');
  net.round(s1WithS3S4); // S3, S4 lack index 2: they reject S1's first AppendEntries
  net.round(s1WithS3S4); // S1 backs up to index 2
  net.round(s1WithS3S4); // S3, S4 store index 2
  net.round(s1WithS3S4); // S1 learns it; its AppendEntries carrying index 3 stay queued
  expect(logs(net)).toEqual({ S1: [1, 2, 4], S2: [1, 2], S3: [1, 2], S4: [1, 2], S5: [1, 3] });
  expect([s1.progressOf('S3')?.match, s1.progressOf('S4')?.match]).toEqual([2, 2]);

  // Index 2 is on a majority and S1 knows it, but it is of term 2: S1 must NOT count it committed.
  expect(commits(net)).toEqual([1, 1, 1, 1, 1]);
  for (const id of SERVERS) expect(net.committed(id).length).toBeLessThanOrEqual(1);
  return net;
}

describe('Figure 8: a leader commits earlier-term entries only through an entry of its own term', () => {
  it('(a)–(c) an entry of term 2 stored on a majority by the leader of term 4 is not committed', () => {
    throughC();
  });

  it('(d) if S1 crashes, S5 can be elected and overwrite index 2 everywhere, and nothing committed is lost', () => {
    const net = throughC();
    net.crash('S1');
    restart(net, 'S5');

    // Term 4: S2, S3, S4 already voted for S1 in it.
    net.timeout('S5');
    net.settle();
    expect(net.core('S5').status()).toMatchObject({ role: 'follower', term: 4 });
    // Term 5: S5's last entry (term 3) is more up-to-date than their index 2 (term 2).
    net.timeout('S5');
    net.settle();
    expect(net.core('S5').status()).toMatchObject({ role: 'leader', term: 5 });

    // S5 replaces S1's term-2 entry at index 2 with its own term-3 entry on S2, S3, S4.
    expect(logs(net)).toEqual({ S1: [1, 2, 4], S2: [1, 3, 5], S3: [1, 3, 5], S4: [1, 3, 5], S5: [1, 3, 5] });
    expect(commits(net)).toEqual([1, 3, 3, 3, 3]);
    // The overwritten entry was never handed out as committed anywhere (checked at the end of
    // (c)); what is handed out now is S5's log.
    for (const id of ['S2', 'S3', 'S4', 'S5']) {
      expect(net.committed(id).map((e) => e.term)).toEqual([1, 3, 5]);
    }
  });

  it('(e) if S1 first stores an entry of term 4 on a majority, indexes 2 and 3 commit and S5 can never win', () => {
    const net = throughC();
    net.settle(); // index 3 (term 4) reaches S2, S3, S4
    expect(logs(net)).toEqual({ S1: [1, 2, 4], S2: [1, 2, 4], S3: [1, 2, 4], S4: [1, 2, 4], S5: [1, 3] });
    expect(commits(net)).toEqual([3, 3, 3, 3, 1]);
    expect(net.committed('S1').map((e) => e.term)).toEqual([1, 2, 4]);

    net.crash('S1');
    restart(net, 'S5');
    for (let attempt = 0; attempt < 5; attempt++) {
      net.timeout('S5');
      net.settle();
      expect(net.core('S5').status().role).not.toBe('leader');
    }
    expect(net.core('S5').status().term).toBeGreaterThanOrEqual(8);

    // Another server can still win, and it keeps the committed entries; S5's index 2 goes.
    net.timeout('S2');
    net.settle();
    expect(net.core('S2').status().role).toBe('leader');
    for (const id of ['S2', 'S3', 'S4', 'S5']) expect(terms(net.core(id)).slice(0, 3)).toEqual([1, 2, 4]);
    expect(net.committed('S5').map((e) => e.term).slice(0, 3)).toEqual([1, 2, 4]);
  });
});
