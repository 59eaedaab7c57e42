import { describe, expect, it } from 'vitest';
import { Cluster } from '../../harness/cluster.js';
import { useClusters } from './support/clusters.js';

const FIXTURES = new URL('../fixtures/timer-program.mjs', import.meta.url).href;

const start = useClusters();

describe('the fake clock inside each worker', () => {
  it('runs setTimeout, setInterval, node:timers, node:timers/promises, Date, performance and timers captured by a library on virtual time', async () => {
    const cluster = await start({ nodes: 1, program: { kind: 'module', url: FIXTURES, name: 'createTimerNode' } });
    await cluster.advance(99);
    expect(((await cluster.inspectRaw('n1')) as { fired: unknown[] }).fired.map((f) => (f as { label: string }).label)).toEqual([
      'setInterval tick 1',
      'setInterval tick 2',
    ]);
    await cluster.advance(1_000);
    const state = (await cluster.inspectRaw('n1')) as { fired: Array<{ label: string; date: number; perf: number }>; now: number };
    expect(state.fired).toEqual([
      { label: 'setInterval tick 1', date: 40, perf: 40 },
      { label: 'setInterval tick 2', date: 80, perf: 80 },
      { label: 'global setTimeout 100', date: 100, perf: 100 },
      { label: 'setInterval tick 3', date: 120, perf: 120 },
      { label: 'node:timers setTimeout 150', date: 150, perf: 150 },
      { label: 'timers/promises 250', date: 250, perf: 250 },
      { label: 'library setTimeout 300', date: 300, perf: 300 },
      { label: 'library timers/promises 350', date: 350, perf: 350 },
    ]);
    expect(state.now).toBe(350); // the node's clock moved only as far as its last event
  });
});

describe('any node program', () => {
  it('runs the built-in ping program on the same host', async () => {
    const cluster = await start({ nodes: 3, program: { kind: 'builtin', name: 'ping' }, programOptions: { interval: 100 } });
    await cluster.advance(1_050); // rounds at 100..1000; replies land within the 10 ms latency
    for (const id of cluster.ids) {
      expect(await cluster.inspectRaw(id)).toMatchObject({ round: 10, pings: 20, pongs: 20 });
    }
  });

  it('an exception in a node timer fails the waiting test with the node and its stack', async () => {
    const cluster = await start({ nodes: 3, program: { kind: 'module', url: FIXTURES, name: 'createThrowingNode' } });
    const error = await cluster.advance(1_000).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'NodeFailureError', node: 'n2' });
    expect((error as Error).message).toMatch(/node n2 failed at 50 ms: Error: boom in a timer of n2[\s\S]*timer-program\.mjs/);
  });

  it('a hung worker makes the control call fail with ControlTimeoutError naming node and call; stop still ends it', async () => {
    const cluster = await start({ nodes: 2, program: { kind: 'module', url: FIXTURES, name: 'createHangingNode' }, controlTimeoutMs: 300 });
    const error = await cluster.advance(100).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ControlTimeoutError', node: 'n1' });
    expect((error as Error).message).toMatch(/node n1 did not answer step\(timers until 10\) within 300 ms/);
    await cluster.stop();
    expect(cluster.resources()).toEqual({ workers: 0, outstandingCalls: 0 });
  });

  it('a stop that never completes (timer-hang bug) does not hang the harness', async () => {
    const cluster = await start({ nodes: 1, program: { kind: 'module', url: FIXTURES, name: 'createStuckStopNode' }, controlTimeoutMs: 300 });
    await cluster.stop();
    expect(cluster.resources()).toEqual({ workers: 0, outstandingCalls: 0 });
  });
});

describe('pause and resume', () => {
  it('a paused node does not change: same snapshot, same timer due times, messages to it wait', async () => {
    const cluster = await start({ nodes: 3, seed: 3 });
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    await cluster.pause(follower);
    const before = await cluster.inspect(follower);
    expect(before.status).toBe('paused');
    await cluster.advance(1_000); // the rest of the cluster moves on
    const after = await cluster.inspect(follower);
    expect(after).toEqual(before);
    const waiting = cluster.inflight().filter((m) => m.to === follower);
    expect(waiting.length).toBeGreaterThan(0);
    await cluster.resume(follower);
    // Its clock continues from the paused instant: no timer became overdue, so no election.
    await cluster.advance(10);
    const resumed = await cluster.inspect(follower);
    expect(resumed.role).toBe('follower');
    expect(resumed.term).toBe(before.term);
    expect(resumed.clock - before.clock).toBeLessThanOrEqual(10);
  });

  it('a wait that cannot make progress (every node paused) fails at once with a hang report', async () => {
    const cluster = await start({ nodes: 3 });
    await cluster.pause();
    const error = await cluster.waitForLeader({ timeout: 60_000 }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ClusterTimeoutError' });
    expect((error as Error).message).toMatch(/nothing is scheduled/);
    expect((error as Error).message).toMatch(/n1: paused, follower, term 0[\s\S]*timers:\s+timeout@\d+ created at RaftServer.armTimer/);
    expect(cluster.now()).toBe(0);
  });

  it('waitForLeader times out in virtual time when no majority can form, with a per-node report', async () => {
    const cluster = await start({ nodes: 3 });
    for (const id of cluster.ids) cluster.isolate(id);
    const error = await cluster.waitForLeader({ timeout: 2_000 }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ClusterTimeoutError' });
    expect((error as Error).message).toMatch(/timed out waiting for a leader: 2000 virtual ms reached/);
    expect((error as Error).message).toMatch(/n3: running, (follower|precandidate), term 0/);
    expect(cluster.now()).toBe(2_000);
  });
});

describe('client operations', () => {
  it('time out in virtual time with a hang report when no leader can be reached', async () => {
    const cluster = await start({ nodes: 3, seed: 6 });
    await cluster.waitForLeader();
    for (const id of cluster.ids) cluster.isolate(id);
    const client = cluster.client();
    const error = await client.credit(5, { timeout: 2_000 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ name: 'ClusterTimeoutError' });
    expect(error!.message).toMatch(/timed out waiting for client1 credit\(5\)/);
    expect(error!.message).toMatch(/n1: running, \w+, term \d+, commit \d+, clock \d+; control calls: none; timers:\n +timeout@\d+ created at .*raft-server/);
    expect(error!.message).toMatch(/on the wire:[\s\S]*last events:/);
    const op = cluster.history().find((h) => h.client === 'client1')!;
    expect(op.output).toBeUndefined(); // outcome unknown: it may still take effect later
  });

  it('are refused locally, without a round trip, when the amount is invalid', async () => {
    const cluster = await start({ nodes: 3 });
    expect(await cluster.client().credit(-3)).toEqual({ ok: false, error: 'invalid-amount' });
    expect(cluster.now()).toBe(0);
  });
});

describe('faults', () => {
  it('a partitioned leader is replaced by the majority, and the cluster converges after heal', async () => {
    const cluster = await start({ nodes: 5, seed: 11 });
    const old = await cluster.waitForLeader();
    cluster.partition([old], cluster.ids.filter((id) => id !== old));
    await cluster.runUntil(async (c) => {
      const l = await c.leader();
      return l !== undefined && l !== old;
    });
    const client = cluster.client();
    expect(await client.credit(7)).toEqual({ ok: true, balance: 7 });
    cluster.heal();
    await cluster.advance(1_000);
    const snaps = await cluster.inspectAll();
    expect(snaps.filter((s) => s.role === 'leader')).toHaveLength(1);
    for (const s of snaps) expect(s.app).toEqual({ balance: 7 });
  });

  it('a restarted node keeps its term and vote, and loses only what it had not synced', async () => {
    const cluster = await start({ nodes: 3, seed: 5 });
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    await cluster.client().credit(10);
    const before = await cluster.inspect(follower);
    await cluster.crash(follower);
    const crashed = await cluster.inspect(follower);
    expect(crashed).toMatchObject({ status: 'crashed', term: before.term, votedFor: before.votedFor });
    await cluster.restart(follower);
    const after = await cluster.inspect(follower);
    expect(after).toMatchObject({ status: 'running', term: before.term, votedFor: before.votedFor });
    expect(after.clock).toBe(cluster.now()); // a restarted node comes back on the cluster's clock
    expect(after.log).toEqual(before.log);
    await cluster.advance(500);
    expect((await cluster.inspect(follower)).app).toEqual({ balance: 10 });
  });

  it('a stalled leader (clock running) is replaced, and steps down when it wakes', async () => {
    const cluster = await start({ nodes: 3, seed: 9 });
    const old = await cluster.waitForLeader();
    const term = (await cluster.inspect(old)).term;
    await cluster.stall(old, 2_000);
    await cluster.runUntil(async (c) => (await c.leader()) !== old, { timeout: 1_900 });
    await cluster.advance(2_000);
    const snap = await cluster.inspect(old);
    expect(snap.role).toBe('follower');
    expect(snap.term).toBeGreaterThan(term);
  });

  it('a client operation survives a leader crash and is applied exactly once', async () => {
    const cluster = await start({ nodes: 3, seed: 21 });
    const leader = await cluster.waitForLeader();
    const client = cluster.client();
    await client.credit(1);
    const pending = client.credit(10); // not awaited: it waits for the cluster to move
    await cluster.crash(leader);
    expect(await pending).toEqual({ ok: true, balance: 11 });
    await cluster.restart(leader);
    await cluster.advance(1_000);
    for (const s of await cluster.inspectAll()) expect(s.app).toEqual({ balance: 11 });
  });
});

describe('bad input and stop', () => {
  it('rejects bad options with named errors naming the value', async () => {
    await expect(Cluster.start({ nodes: 0 })).rejects.toMatchObject({ name: 'InvalidConfigError', field: 'nodes' });
    await expect(Cluster.start({ nodes: ['a', 'a'] })).rejects.toMatchObject({ name: 'InvalidConfigError', field: 'nodes[1]' });
    await expect(Cluster.start({ raft: { electionTimeout: [300, 150] } })).rejects.toMatchObject({ name: 'InvalidConfigError' });
    await expect(Cluster.start({ network: { drop: 2 } })).rejects.toMatchObject({ name: 'InvalidConfigError', field: 'network.drop' });
  });

  it('unknown node ids and calls after stop are named errors', async () => {
    const cluster = await start({ nodes: 3 });
    await expect(cluster.inspect('n9')).rejects.toMatchObject({ name: 'UnknownNodeError', node: 'n9' });
    expect(() => cluster.isolate('zz')).toThrow(/unknown node "zz"; nodes: n1, n2, n3/);
    await cluster.stop();
    await expect(cluster.advance(1)).rejects.toMatchObject({ name: 'ClusterStoppedError' });
    expect(() => cluster.heal()).toThrow(/cluster is stopped; cannot heal/);
  });

  it('stop leaves no workers, no ports and no control calls behind', async () => {
    const handles = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    const baseline = handles();
    const cluster = await start({ nodes: 5 });
    await cluster.waitForLeader();
    expect(cluster.resources().workers).toBe(5);
    expect(handles()).toBeGreaterThan(baseline);
    await cluster.stop();
    expect(cluster.resources()).toEqual({ workers: 0, outstandingCalls: 0 });
    expect(handles()).toBe(baseline);
  });
});

describe('the driver', () => {
  // A wait registered in the moment a driver winds down (it saw `driving` still true, so it did
  // not start one) must still be driven to its end. Both spacings of microtasks are swept.
  it('drives a wait registered while the previous driver winds down', async () => {
    for (let checkHops = 0; checkHops < 4; checkHops++) {
      for (let testHops = 0; testHops < 6; testHops++) {
        const cluster = await start({ nodes: 3, seed: 1, host: 'inline' });
        await cluster.advance(300);
        let aDone = false;
        const a = cluster.advance(100);
        void a.then(() => (aDone = true));
        const b = cluster.runUntil(async () => {
          for (let i = 0; i < checkHops; i++) await null;
          return aDone;
        });
        await a;
        for (let i = 0; i < testHops; i++) await null;
        const c = cluster.advance(10);
        await b;
        await c;
        expect(cluster.now()).toBeGreaterThanOrEqual(410);
        await cluster.stop();
      }
    }
  });
});
