import { describe } from 'vitest';
import { effectiveSeed, expect, test } from '../../harness/vitest.js';

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

describe('raft-harness/vitest cluster fixture', () => {
  test('starts clusters, and the matchers read a Cluster as well as a core network', async ({ cluster }) => {
    const c = await cluster({ nodes: 3, seed: 5, host: 'inline' });
    expect(c).not.toHaveSingleLeader();
    await c.waitForLeader();
    await c.client().credit(2);
    expect(c).toHaveSingleLeader();
    expect(c).toAgreeOnCommitted();
    expect(c).toHaveCommitted(2, { nodes: 1 }); // the leader's no-op, then the credit
    await c.advance(100); // followers learn the commit index with the next message
    expect(c).toHaveCommitted(2);
    expect(c).not.toHaveCommitted(3);
    expect(c).toAgreeOnLog();
    c.isolate(c.ids[0]!);
    await c.client().credit(1);
    await c.advance(50);
    expect(() => expect(c).toAgreeOnLog()).toThrow(/they first differ at index 3/);
    expect(c).toHaveCommitted(3, { nodes: 2 });
  });

  test('RAFT_HARNESS_SEED overrides the seed; without it the test’s own seed (or 1) is used', () => {
    const saved = process.env['RAFT_HARNESS_SEED'];
    try {
      delete process.env['RAFT_HARNESS_SEED'];
      expect(effectiveSeed(9)).toBe(9);
      expect(effectiveSeed(undefined)).toBe(1);
      process.env['RAFT_HARNESS_SEED'] = '42';
      expect(effectiveSeed(9)).toBe(42);
      process.env['RAFT_HARNESS_SEED'] = 'x';
      expect(() => effectiveSeed(9)).toThrow(/RAFT_HARNESS_SEED="x" is not an integer >= 0/);
    } finally {
      if (saved === undefined) delete process.env['RAFT_HARNESS_SEED'];
      else process.env['RAFT_HARNESS_SEED'] = saved;
    }
  });
});

describe('linearizability of a cluster’s client history', () => {
  test('concurrent clients across a leader crash: the history is linearizable', async ({ cluster }) => {
    const c = await cluster({ nodes: 5, seed: 8, host: 'inline', network: { drop: 0.05 } });
    const leader = await c.waitForLeader();
    const clients = [c.client(), c.client(), c.client()];
    const work = clients.map(async (client, k) => {
      for (let i = 0; i < 5; i++) {
        await client.credit(k + 1, { timeout: 10_000 });
        await client.balance({ timeout: 10_000 });
      }
    });
    await c.advance(30);
    await c.crash(leader);
    await Promise.all(work);
    expect((await c.checkLinearizability()).result).toBe('ok');
    expect(c).toBeLinearizable();
  });

  test('a history that no order explains is reported as a violation', () => {
    const fake = {
      history: () => [
        { client: 'a', input: { op: 'credit', amount: 5 }, call: 0, return: 10, output: { ok: true, balance: 5 } },
        { client: 'b', input: { op: 'balance' }, call: 20, return: 30, output: { ok: true, balance: 0 } },
      ],
    };
    expect(fake).not.toBeLinearizable();
    expect(() => expect(fake).toBeLinearizable()).toThrow(/expected a linearizable history, got 'violation'/);
  });
});
