// The scenario test shown in README.md, kept verbatim (readme.test.ts checks they stay equal).
import { describe } from 'vitest';
import { test, expect } from '../../harness/vitest.js';
import { when } from '../../harness/index.js';

describe('replication, frozen mid-flight', () => {
  test('a new entry is on the leader but not yet on the followers, then on all', async ({ cluster }) => {
    const c = await cluster({ nodes: 3, seed: 42 });     // stopped after the test; on failure: seed, replay command, trace
    const leader = await c.waitForLeader({ timeout: 5_000 });   // virtual ms
    await c.advance(100);
    expect(c).toHaveSingleLeader();

    const credit = c.client().credit(25);              // runs while the cluster runs
    const hit = await c.pauseWhen(
      when.messageSent({ type: 'AppendEntries', from: leader, where: (m) => (m.entries as unknown[]).length > 0 }),
    );
    expect(hit.node).toBe(leader);                     // the whole cluster is paused here

    const [first, ...others] = await Promise.all([leader, ...c.ids.filter((id) => id !== leader)].map((id) => c.inspect(id)));
    expect(first!.log.at(-1)).toMatchObject({ type: 'command', command: { op: { op: 'credit', amount: 25 } } });
    for (const s of others) expect(s.log.length).toBe(first!.log.length - 1);

    await c.resume();
    expect(await credit).toEqual({ ok: true, balance: 25 });
    await c.advance(100);
    expect(c).toHaveCommitted(first!.log.length);      // on every node
    expect(c).toAgreeOnLog();
    expect(c).toBeLinearizable();                      // the client history, against the bank model
    await c.trace.saveHtml('.raft-harness/traces/replication.html');   // lanes, roles, arrows: open it in a browser
  });
});
