/**
 * The timer-hang bugs this tool exists for, each caught with a clear report within bounded real
 * time, on both hosts.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterOptions } from '../../harness/cluster.js';
import { useClusters } from '../harness/support/clusters.js';

const start = useClusters();
const FIXTURES = new URL('../fixtures/hang-programs.mjs', import.meta.url).href;
const program = (name: string): NonNullable<ClusterOptions['program']> => ({ kind: 'module', url: FIXTURES, name });

describe.each(['worker', 'inline'] as const)('on the %s host', (host) => {
  it('a stop() that polls a sleep that never completes is reported with the timer it waits on', async () => {
    const cluster = await start({ nodes: 2, host, program: program('createPollingStopNode'), controlTimeoutMs: 300 });
    await cluster.advance(100);
    await cluster.pause();
    const report = await cluster.stop();
    expect(report.nodes.map((n) => n.outcome)).toEqual(['timed-out', 'timed-out']);
    expect(report.nodes[0]!.error).toMatch(/stop|did not/);
    expect(report.pendingTimers).toHaveLength(2);
    for (const t of report.pendingTimers) {
      expect(t.kind).toBe('timeout');
      expect(t.site).toMatch(/hang-programs\.mjs:\d+/);
    }
    expect(cluster.resources()).toEqual({ workers: 0, outstandingCalls: 0 });
  });

  it('a timer created by a timer after a pause and resume fires at the right time on the node clock', async () => {
    const cluster = await start({ nodes: 1, host, program: program('createChainedTimerNode') });
    await cluster.advance(20);
    await cluster.pause();
    await cluster.advance(1_000); // the node's clock stands still meanwhile
    await cluster.resume();
    await cluster.advance(500);
    const fired = cluster.trace().filter((e) => e.type === 'first-fired' || e.type === 'second-fired');
    expect(fired.map((e) => [e.type, e['at'], e.time])).toEqual([
      ['first-fired', 50, 1_050],
      ['second-fired', 150, 1_150],
    ]);
  });

  it('timers set for 100, 200, 150 and 150 ms fire in the order 1, 3, 4, 2', async () => {
    const cluster = await start({ nodes: 1, host, program: program('createTimerQueueNode') });
    await cluster.advance(300);
    expect(await cluster.inspectRaw('n1')).toEqual({ order: [1, 3, 4, 2] });
    const times = cluster.trace().filter((e) => e.type === 'timer-fired').map((e) => [e['n'], e['at']]);
    expect(times).toEqual([
      [1, 100],
      [3, 150],
      [4, 150],
      [2, 200],
    ]);
  });

  it('a timeout above 2^31 - 1 ms fails the node with TimerOverflowError naming the delay and the line', async () => {
    // The node sets it while starting, so the start itself fails.
    const error = await start({ nodes: 1, host, program: program('createOverflowTimerNode') }).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'NodeFailureError', node: 'n1' });
    expect((error as Error).message).toMatch(/TimerOverflowError: raft-harness: node n1 set a timer of 3000000000 ms, above Node's limit of 2147483647 ms: Node fires such a timer after 1 ms; created at .*hang-programs\.mjs:\d+/);
  });

  it('stop() reports the timers a node left pending; a clean Raft cluster leaves none', async () => {
    const leaky = await start({ nodes: 1, host, program: program('createLeakyNode') });
    const report = await leaky.stop();
    expect(report.nodes).toEqual([expect.objectContaining({ id: 'n1', outcome: 'clean', error: null })]);
    expect(report.pendingTimers).toEqual([expect.objectContaining({ node: 'n1', kind: 'interval', at: 1_000, site: expect.stringMatching(/hang-programs\.mjs/) })]);

    const raft = await start({ nodes: 3, host, seed: 4 });
    await raft.waitForLeader();
    await raft.client().credit(1);
    const clean = await raft.stop();
    expect(clean.nodes.map((n) => n.outcome)).toEqual(['clean', 'clean', 'clean']);
    expect(clean.pendingTimers).toEqual([]);
  });
});

describe('controlled time for one node', () => {
  it('fireTimers fires exactly the next timer (or N) on that node, then stops and reports what waits', async () => {
    const cluster = await start({ nodes: 2, host: 'inline', program: program('createTimerQueueNode') });
    const one = await cluster.fireTimers('n1');
    expect(one.fired).toBe(1);
    expect(one.clock).toBe(100);
    expect(one.pendingTimers.map((t) => t.at)).toEqual([150, 150, 200]);
    expect(cluster.now()).toBe(0); // the global clock did not move
    expect((await cluster.inspect('n1')).status).toBe('paused');
    expect(await cluster.inspectRaw('n2')).toEqual({ order: [] }); // nobody else ran

    const two = await cluster.fireTimers('n1', 2);
    expect(two).toMatchObject({ fired: 2, clock: 150 });
    expect(await cluster.inspectRaw('n1')).toEqual({ order: [1, 3, 4] });
    const rest = await cluster.fireTimers('n1', 5);
    expect(rest).toMatchObject({ fired: 1, clock: 200, pendingTimers: [] });
    await expect(cluster.fireTimers('n1', 0)).rejects.toMatchObject({ name: 'InvalidConfigError', field: 'count' });
  });
});
