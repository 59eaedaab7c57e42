// The scenario test shown in README.md, kept verbatim (readme.test.ts checks they stay equal).
import { describe } from 'vitest';
import { test, expect } from '../../harness/vitest.js';

describe('leader isolation', () => {
  test('a partitioned leader is replaced and its uncommitted entry is overwritten', ({ network }) => {
    const net = network({ nodes: 5, seed: 42, latency: [1, 10] });
    net.runUntil(2_000);
    expect(net).toHaveSingleLeader();
    const old = net.leader()!;

    // Cut the leader off, then give it a proposal that can never reach a majority.
    net.partition([old], net.ids.filter((id) => id !== old));
    net.propose({ clientId: 'c1', seq: 1, op: { op: 'credit', amount: 100 } }, old);

    net.runUntil(net.now + 2_000);          // the majority elects a new leader
    const next = net.leader()!;
    expect(next).not.toBe(old);
    net.propose({ clientId: 'c1', seq: 2, op: { op: 'credit', amount: 5 } }, next);

    net.heal();
    net.runUntil(net.now + 2_000);          // the old leader rejoins as a follower
    expect(net).toHaveSingleLeader();
    expect(net).toAgreeOnCommitted();
    const holdsFirst = net.views().filter((v) => v.log.some((e) => e.type === 'command' && e.command.seq === 1));
    expect(holdsFirst).toEqual([]);           // the isolated leader's entry is gone everywhere
  });
});
