import { describe, expect, it } from 'vitest';
import { useClusters } from './support/clusters.js';

const start = useClusters();

describe('Cluster (worker threads, deterministic mode)', () => {
  it('elects a leader in virtual time and serves bank operations through a client', async () => {
    const cluster = await start({ nodes: 3, seed: 42 });
    expect(cluster.now()).toBe(0);
    const leader = await cluster.waitForLeader({ timeout: 5_000 });
    expect(cluster.ids).toContain(leader);
    const client = cluster.client();
    expect(await client.credit(100)).toEqual({ ok: true, balance: 100 });
    expect(await client.debit(30)).toEqual({ ok: true, balance: 70 });
    expect(await client.debit(100)).toEqual({ ok: false, error: 'insufficient-funds' });
    expect(await client.balance()).toEqual({ ok: true, balance: 70 });
    await cluster.advance(200);
    for (const s of await cluster.inspectAll()) expect(s.app).toEqual({ balance: 70 });
  });

  it('replays: the same seed gives the same trace', async () => {
    const run = async (): Promise<string> => {
      const c = await start({ nodes: 3, seed: 7 });
      await c.waitForLeader();
      const client = c.client();
      await client.credit(5);
      await c.advance(500);
      const t = JSON.stringify(c.trace());
      await c.stop();
      return t;
    };
    expect(await run()).toBe(await run());
  });
});
