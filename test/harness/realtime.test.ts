import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/cluster.js';
import { useClusters } from './support/clusters.js';
import { when } from '../../harness/triggers.js';

const start = useClusters({ mode: 'realtime' });

/** A real-time gap that lets a running cluster move (a condition-free wait on the cluster). */
const realGap = (c: Cluster, ms: number): Promise<void> => c.advance(ms);

describe('realtime mode', () => {
  it('elects and serves bank operations with clocks on wall time', async () => {
    const cluster = await start({ nodes: 3, seed: 1 });
    const leader = await cluster.waitForLeader({ timeout: 10_000 });
    expect(cluster.ids).toContain(leader);
    const client = cluster.client();
    expect(await client.credit(40, { timeout: 10_000 })).toEqual({ ok: true, balance: 40 });
    expect(await client.debit(15, { timeout: 10_000 })).toEqual({ ok: true, balance: 25 });
    expect(await client.balance({ timeout: 10_000 })).toEqual({ ok: true, balance: 25 });
  });

  it('a paused node does not change while real time passes; resume continues from that instant', async () => {
    const cluster = await start({ nodes: 3, seed: 2 });
    const leader = await cluster.waitForLeader({ timeout: 10_000 });
    const follower = cluster.ids.find((id) => id !== leader)!;
    await cluster.pause(follower);
    const first = await cluster.inspect(follower);
    await realGap(cluster, 400); // heartbeats keep arriving for it meanwhile
    const second = await cluster.inspect(follower);
    expect(second).toEqual(first); // same clock, same timers with the same due times, same state
    expect(first.status).toBe('paused');
    await cluster.resume(follower);
    await cluster.runUntil(async (c) => (await c.inspect(follower)).clock > first.clock, { timeout: 10_000 });
    const resumed = await cluster.inspect(follower);
    // No timer became overdue while paused: it did not start an election on waking.
    expect(resumed.term).toBe(first.term);
    expect(resumed.leaderId).toBe(leader);
  });

  it('pauseWhen evaluates the trigger inside the worker and leaves the cluster paused', async () => {
    const cluster = await start({ nodes: 3, seed: 3 });
    const hit = await cluster.pauseWhen(when.electionDone(), { timeout: 10_000 });
    const snaps = await cluster.inspectAll();
    expect(snaps.every((s) => s.status === 'paused')).toBe(true);
    expect(snaps.find((s) => s.id === hit.node)!.role).toBe('leader');
    expect(hit.reason).toMatch(/became leader in term \d+/);
    await expect(cluster.pauseWhen(when.messageSent({ type: 'AppendEntries', where: () => true }))).rejects.toMatchObject({
      name: 'InvalidConfigError',
      field: 'trigger.where',
    });
  });

  it('step() is for deterministic mode only', async () => {
    const cluster = await start({ nodes: 1 });
    await expect(cluster.step()).rejects.toMatchObject({ name: 'InvalidConfigError', field: 'step' });
  });
});
