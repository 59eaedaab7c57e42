import { describe, expect, it } from 'vitest';
import type { Cluster, ClusterOptions } from '../../harness/cluster.js';
import { useClusters } from './support/clusters.js';

const start = useClusters();
const FIXTURES = new URL('../fixtures/timer-program.mjs', import.meta.url).href;

/** A scenario with elections, client traffic, a partition and a heal; returns the trace hash. */
async function scenario(options: ClusterOptions): Promise<string> {
  const cluster: Cluster = await start({ nodes: 3, ...options });
  const leader = await cluster.waitForLeader();
  const client = cluster.client();
  await client.credit(10);
  await client.debit(4);
  cluster.partition([leader], cluster.ids.filter((id) => id !== leader));
  const pending = client.credit(1);
  await cluster.advance(1_000);
  cluster.heal();
  await pending;
  await cluster.advance(300);
  const hash = cluster.traceHash();
  await cluster.stop();
  return hash;
}

describe('the inline host', () => {
  // Trace equality with the worker host on 200 seeds: host-equality.test.ts.
  it('different seeds give different traces', async () => {
    expect(await scenario({ seed: 1, host: 'inline' })).not.toBe(await scenario({ seed: 2, host: 'inline' }));
  });

  it('runs every kind of timer of a node program on that node’s own clock', async () => {
    const cluster = await start({ nodes: 2, host: 'inline', program: { kind: 'module', url: FIXTURES, name: 'createTimerNode' } });
    await cluster.advance(1_000);
    const state = (await cluster.inspectRaw('n1')) as { fired: Array<{ label: string; date: number }> };
    expect(state.fired.map((f) => `${f.label}@${f.date}`)).toEqual([
      'setInterval tick 1@40',
      'setInterval tick 2@80',
      'global setTimeout 100@100',
      'setInterval tick 3@120',
      'node:timers setTimeout 150@150',
      'timers/promises 250@250',
      'library setTimeout 300@300',
      'library timers/promises 350@350',
    ]);
  });

  it('leaves the test runner’s own timers real', async () => {
    await start({ nodes: 1, host: 'inline' });
    const handle = setTimeout(() => {}, 1_000);
    expect(typeof handle).toBe('object'); // a real Node Timeout, not a fake clock's numeric id
    clearTimeout(handle);
    expect(new Date(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
  });

  it('gives up on a stop() that never completes instead of hanging', async () => {
    const cluster = await start({ nodes: 1, host: 'inline', controlTimeoutMs: 200, program: { kind: 'module', url: FIXTURES, name: 'createStuckStopNode' } });
    await cluster.stop();
    expect(cluster.resources()).toEqual({ workers: 0, outstandingCalls: 0 });
  });

  it('is refused in realtime mode', async () => {
    await expect(start({ host: 'inline', mode: 'realtime' })).rejects.toMatchObject({ name: 'InvalidConfigError', field: 'host' });
  });
});
