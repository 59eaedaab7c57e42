import { describe } from 'vitest';
import { expect, test } from '../../harness/vitest.js';

describe('raft-harness/vitest', () => {
  test('the network fixture builds a seeded cluster; toHaveSingleLeader and toAgreeOnCommitted pass on a healthy one', ({ network }) => {
    const net = network({ nodes: 5, seed: 3, latency: [1, 10] });
    net.runUntil(2_000);
    expect(net).toHaveSingleLeader();
    for (let seq = 0; seq < 5; seq++) net.propose({ clientId: 'c', seq, op: seq });
    net.runUntil(net.now + 500);
    expect(net).toAgreeOnCommitted();
  });

  test('toHaveSingleLeader fails, naming every node, before any election', ({ network }) => {
    const net = network({ nodes: ['a', 'b', 'c'] });
    expect(() => expect(net).toHaveSingleLeader()).toThrow(/found 0 \(none\)[\s\S]*a: follower term 0/);
    expect(net).not.toHaveSingleLeader();
  });
});
