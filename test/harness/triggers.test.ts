import { describe, expect, it } from 'vitest';
import { useClusters } from './support/clusters.js';
import { when } from '../../harness/triggers.js';

const start = useClusters();

const carriesEntries = (m: Readonly<Record<string, unknown>>): boolean => Array.isArray(m['entries']) && m['entries'].length > 0;

describe('pauseWhen', () => {
  it('pauses after the AppendEntries carrying a new entry is sent, before followers process it; resume commits it everywhere', async () => {
    const cluster = await start({ nodes: 3, seed: 42 });
    const leader = await cluster.waitForLeader();
    await cluster.advance(100); // the leader's no-op is committed everywhere
    const before = (await cluster.inspect(leader)).log.length;

    const credit = cluster.client().credit(25); // not awaited: it proceeds as the cluster runs
    const hit = await cluster.pauseWhen(when.messageSent({ type: 'AppendEntries', from: leader, where: carriesEntries }));
    expect(hit.node).toBe(leader);
    expect(hit.reason).toMatch(new RegExp(`^${leader} sent AppendEntries ${leader}→n\\d$`));

    const snaps = await cluster.inspectAll();
    expect(snaps.every((s) => s.status === 'paused')).toBe(true);
    const leaderSnap = snaps.find((s) => s.id === leader)!;
    expect(leaderSnap.log).toHaveLength(before + 1);
    expect(leaderSnap.log.at(-1)).toMatchObject({ type: 'command', command: { op: { op: 'credit', amount: 25 } } });
    for (const s of snaps.filter((x) => x.id !== leader)) expect(s.log).toHaveLength(before);
    // Frozen: inspecting again, or letting time pass with everyone paused, changes nothing.
    expect(await cluster.inspectAll()).toEqual(snaps);

    await cluster.resume();
    expect(await credit).toEqual({ ok: true, balance: 25 });
    await cluster.advance(100);
    for (const s of await cluster.inspectAll()) {
      expect(s.log).toHaveLength(before + 1);
      expect(s.commitIndex).toBe(before + 1);
    }
  });

  it('messageReceived pauses before the receiver processes the message', async () => {
    const cluster = await start({ nodes: 3, seed: 4 });
    const hit = await cluster.pauseWhen(when.messageReceived({ type: 'RequestVote', to: 'n2' }));
    expect(hit).toMatchObject({ node: 'n2', message: { type: 'RequestVote', to: 'n2' } });
    const n2 = await cluster.inspect('n2');
    const candidate = hit.message!['from'] as string;
    expect(n2.votedFor).not.toBe(candidate); // has not voted yet: it has not seen the request
    expect(cluster.inflight().some((m) => m.to === 'n2' && m.type === 'RequestVote')).toBe(true);
    await cluster.resume();
    await cluster.step();
    expect((await cluster.inspect('n2')).term).toBe(hit.message!['term']);
  });

  it('role, term and electionDone triggers hit right after the change, naming the node', async () => {
    const cluster = await start({ nodes: 5, seed: 8 });
    const pre = await cluster.pauseWhen(when.role('precandidate'));
    expect((await cluster.inspect(pre.node)).role).toBe('precandidate');
    await cluster.resume();
    const elected = await cluster.pauseWhen(when.electionDone());
    const snap = await cluster.inspect(elected.node);
    expect(snap.role).toBe('leader');
    expect(elected.reason).toBe(`${elected.node} became leader in term ${snap.term}`);
    await cluster.resume();
    const both = await cluster.pauseWhen(when.all(when.commitIndex(1, { node: 'n5' }), when.term(1, { node: 'n4' })));
    expect(both.reason).toMatch(/^all hit; last: /);
    expect((await cluster.inspect('n5')).commitIndex).toBeGreaterThanOrEqual(1);
  });

  it('times out with ClusterTimeoutError when the trigger never hits', async () => {
    const cluster = await start({ nodes: 3 });
    const error = await cluster.pauseWhen(when.term(50), { timeout: 1_000 }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ClusterTimeoutError' });
    expect(cluster.now()).toBe(1_000);
  });

  it('rejects a trigger on an unknown message type or node with InvalidConfigError naming the value', async () => {
    const cluster = await start({ nodes: 3 });
    await expect(cluster.pauseWhen(when.messageSent({ type: 'Gossip' }))).rejects.toThrow(
      /trigger\.type = "Gossip"; allowed: a message type: RequestVote, RequestVoteReply/,
    );
    await expect(cluster.pauseWhen(when.any(when.role('leader', { node: 'n7' })))).rejects.toMatchObject({
      name: 'InvalidConfigError',
      field: 'trigger.any[0].node',
    });
  });
});
