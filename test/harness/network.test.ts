import { describe, expect, it } from 'vitest';
import { useClusters } from './support/clusters.js';

const start = useClusters();

describe('message control: hold, inflight, deliver, drop, release', () => {
  it('held AppendEntries wait on the wire; deliver(id) and release() let them through', async () => {
    const cluster = await start({ nodes: 3, seed: 12 });
    const leader = await cluster.waitForLeader();
    await cluster.advance(100);
    const lagging = cluster.ids.find((id) => id !== leader)!;
    cluster.hold({ type: 'AppendEntries', to: lagging });
    const client = cluster.client();
    expect(await client.credit(3)).toEqual({ ok: true, balance: 3 }); // the other follower is a majority
    const before = await cluster.inspect(lagging);

    const held = cluster.inflight().filter((m) => m.held);
    expect(held.length).toBeGreaterThan(0);
    for (const m of held) {
      expect(m).toMatchObject({ type: 'AppendEntries', from: leader, to: lagging, held: true });
      expect(m.term).toBe(before.term);
      expect(typeof m.index).toBe('number');
      expect(m.due).toBeGreaterThanOrEqual(m.sentAt);
    }
    await cluster.advance(500);
    expect((await cluster.inspect(lagging)).log).toEqual(before.log); // nothing got through

    const carrying = held.find((m) => Array.isArray(m.message['entries']) && (m.message['entries'] as unknown[]).length > 0)!;
    await cluster.deliver(carrying.id);
    expect((await cluster.inspect(lagging)).log.length).toBe(before.log.length + 1);
    expect(cluster.inflight().some((m) => m.id === carrying.id)).toBe(false);

    const another = cluster.inflight().find((m) => m.held)!;
    cluster.drop(another.id);
    expect(cluster.inflight().some((m) => m.id === another.id)).toBe(false);

    cluster.release();
    await cluster.advance(300);
    const after = await cluster.inspect(lagging);
    expect(after.app).toEqual({ balance: 3 });
    expect(cluster.inflight().some((m) => m.held)).toBe(false);
  });

  it('filters see term, index and a predicate; release(filter) frees only what matches', async () => {
    const cluster = await start({ nodes: 3, seed: 13 });
    const leader = await cluster.waitForLeader();
    const term = (await cluster.inspect(leader)).term;
    cluster.hold({ from: leader, term, where: (m) => m.type === 'AppendEntries' });
    await cluster.advance(120);
    const held = cluster.inflight().filter((m) => m.held);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((m) => m.type === 'AppendEntries' && m.from === leader && m.term === term)).toBe(true);
    const to = held[0]!.to;
    cluster.release({ type: 'AppendEntries', to });
    expect(cluster.inflight().filter((m) => m.held).every((m) => m.to !== to)).toBe(true);
  });

  it('deliver and drop of an unknown id, and filters naming unknown nodes, are named errors', async () => {
    const cluster = await start({ nodes: 3 });
    await expect(cluster.deliver(999_999)).rejects.toMatchObject({ name: 'InvalidConfigError', field: 'deliver' });
    expect(() => cluster.drop(999_999)).toThrow(/drop = 999999; allowed: the id of a message in flight/);
    expect(() => cluster.hold({ to: 'n9' })).toThrow(/unknown node "n9"/);
  });
});

describe('partitions', () => {
  it('one-way: a follower that cannot hear the leader, but can reach it, does not depose it (pre-vote)', async () => {
    const cluster = await start({ nodes: 3, seed: 14 });
    const leader = await cluster.waitForLeader();
    const term = (await cluster.inspect(leader)).term;
    const deaf = cluster.ids.find((id) => id !== leader)!;
    cluster.partitionOneWay(leader, deaf);
    const sentBefore = cluster.counters().byNode[deaf]!.messages;
    await cluster.advance(3_000);
    expect(await cluster.leader()).toBe(leader);
    expect((await cluster.inspect(leader)).term).toBe(term);
    // It kept trying (pre-votes reach the others, who still hear the leader and refuse).
    expect(cluster.counters().byNode[deaf]!.messages).toBeGreaterThan(sentBefore);
    expect((await cluster.inspect(deaf)).term).toBe(term);
    cluster.heal();
    await cluster.advance(500);
    expect((await cluster.inspect(deaf)).leaderId).toBe(leader);
  });
});

describe('isolate', () => {
  it('cuts the node off from clients created later too, and connect() undoes it', async () => {
    const cluster = await start({ nodes: 3, seed: 1 });
    const leader = await cluster.waitForLeader();
    await cluster.advance(100);
    cluster.isolate(leader);
    const late = cluster.client({ node: leader });
    const outcome = await late.credit(5, { timeout: 200 }).then(
      () => 'answered',
      (e: unknown) => (e as Error).name,
    );
    expect(outcome).toBe('ClusterTimeoutError');
    const reached = cluster.trace().filter((e) => e.type === 'deliver' && e.node === leader && String(e['from']).startsWith('client:'));
    expect(reached).toEqual([]);
    expect((await cluster.inspect(leader)).log.filter((e) => e.type === 'command')).toEqual([]);
    cluster.connect(leader);
    expect(await cluster.client().credit(7)).toEqual({ ok: true, balance: 7 });
  });
});

describe('network settings', () => {
  it('per-link latency applies to that direction only', async () => {
    const cluster = await start({ nodes: 3, seed: 15, network: { latency: [2, 2] } });
    cluster.configureNetwork({ latency: [40, 40] }, { from: 'n1', to: 'n2' });
    await cluster.waitForLeader();
    await cluster.advance(200);
    for (const m of cluster.inflight()) {
      expect(m.due - m.sentAt).toBe(m.from === 'n1' && m.to === 'n2' ? 40 : 2);
    }
  });

  it('reorder holds some messages back so that later ones overtake them', async () => {
    const cluster = await start({ nodes: 3, seed: 16, network: { latency: [1, 1], reorder: 0.5, reorderDelay: [30, 30] } });
    await cluster.waitForLeader();
    await cluster.advance(100);
    const delays = new Set(cluster.inflight().map((m) => m.due - m.sentAt));
    expect(delays).toEqual(new Set([1, 31]));
  });

  it('draws latency from a distribution, the same for the same seed', async () => {
    const run = async (): Promise<number[]> => {
      const c = await start({ nodes: 3, seed: 17, network: { latency: { kind: 'normal', mean: 20, stddev: 5 } } });
      await c.waitForLeader();
      await c.advance(300);
      const delays = c.inflight().map((m) => m.due - m.sentAt);
      await c.stop();
      return delays;
    };
    const a = await run();
    expect(a.length).toBeGreaterThan(0);
    expect(a.every((d) => d >= 0 && d < 60)).toBe(true);
    expect(await run()).toEqual(a);
  });

  it('rejects bad settings with InvalidConfigError naming the field', async () => {
    const cluster = await start({ nodes: 3 });
    expect(() => cluster.configureNetwork({ drop: 1 })).toThrow(/network\.drop = 1; allowed: a probability in \[0, 1\)/);
    expect(() => cluster.configureNetwork({ latency: [5, 1] })).toThrow(/network\.latency/);
    expect(() => cluster.configureNetwork({ latency: { kind: 'gamma' } as never })).toThrow(/kind: 'normal'/);
    expect(() => cluster.configureNetwork({ reorder: 0.1 }, { from: 'n1', to: 'nope' })).toThrow(/unknown node "nope"/);
  });
});

describe('counters', () => {
  it('count messages and bytes per node and per type; an idle second costs about 20 heartbeats per follower', async () => {
    const cluster = await start({ nodes: 3, seed: 18 });
    const leader = await cluster.waitForLeader();
    await cluster.advance(500);
    const before = cluster.counters();
    await cluster.advance(1_000);
    const after = cluster.counters();
    const appends = after.byType['AppendEntries']!.messages - before.byType['AppendEntries']!.messages;
    expect(appends).toBeGreaterThanOrEqual(2 * 19);
    expect(appends).toBeLessThanOrEqual(2 * 21);
    const sum = Object.values(after.byNode).reduce((a, c) => a + c.messages, 0);
    expect(sum).toBe(after.total.messages);
    expect(after.byNode[leader]!.bytes).toBeGreaterThan(0);
    expect(Object.keys(after.byType)).toEqual(expect.arrayContaining(['AppendEntries', 'AppendEntriesReply']));
  });
});
