import { describe, expect, it } from 'vitest';
import { useClusters } from './support/clusters.js';

const start = useClusters({ host: 'inline' });
const FIXTURES = new URL('../fixtures/timer-program.mjs', import.meta.url).href;
const program = (name: string) => ({ kind: 'module' as const, url: FIXTURES, name });

describe('the checks every cluster makes on every event', () => {
  it('two leaders in one term fail the run with SafetyViolationError (election safety)', async () => {
    const cluster = await start({ nodes: 3, program: program('createTwoLeadersNode') });
    await expect(cluster.advance(100)).rejects.toMatchObject({ name: 'SafetyViolationError', property: 'election-safety', time: 10 });
  });

  it('different entries applied at one index fail the run (state machine safety)', async () => {
    const cluster = await start({ nodes: 2, program: program('createDivergentApplyNode') });
    await expect(cluster.advance(100)).rejects.toThrow(/state-machine-safety at 10 ms on n1, n2: index 1 applied with term 1 on n1 and with term 2 on n2/);
  });

  it('an entry applied out of order fails the run (the applier check)', async () => {
    const cluster = await start({ nodes: 1, program: program('createOutOfOrderApplyNode') });
    await expect(cluster.advance(100)).rejects.toThrow(/n1 applied index 2 after 0 \(out of order\)/);
  });

  it('a healthy Raft cluster passes them through elections, crashes and restarts', async () => {
    const cluster = await start({ nodes: 5, seed: 31 });
    const leader = await cluster.waitForLeader();
    const client = cluster.client();
    for (let i = 0; i < 5; i++) await client.credit(1);
    await cluster.crash(leader);
    await client.credit(1);
    await cluster.restart(leader);
    await cluster.advance(1_000);
    expect((await cluster.inspect(leader)).app).toEqual({ balance: 6 });
  });
});
