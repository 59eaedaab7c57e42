import { describe, expect, it } from 'vitest';
import { when } from '../../harness/triggers.js';
import { checkDeterminism, type Scenario } from '../../harness/replay.js';

/** Elections, client traffic, a lossy network, a crash and restart, a trigger, a partition. */
const busy: Scenario = async (cluster) => {
  cluster.configureNetwork({ drop: 0.05, duplicate: 0.05, reorder: 0.05 });
  const leader = await cluster.waitForLeader({ timeout: 10_000 });
  const a = cluster.client();
  const b = cluster.client();
  await Promise.all([a.credit(10, { timeout: 10_000 }), b.credit(5, { timeout: 10_000 })]);
  await cluster.crash(leader);
  await cluster.pauseWhen(when.electionDone(), { timeout: 10_000 });
  await cluster.resume();
  await cluster.restart(leader);
  cluster.partition([cluster.ids[0]!], cluster.ids.slice(1));
  const pending = a.debit(3, { timeout: 10_000 });
  await cluster.advance(700);
  cluster.heal();
  await pending;
  await cluster.advance(300);
};

describe('determinism self-check', () => {
  it('300 seeds on the inline host: every seed replays byte for byte', async () => {
    const report = await checkDeterminism(busy, { nodes: 5, host: 'inline', seeds: Array.from({ length: 300 }, (_, i) => i + 1) });
    expect(report.failures.map((f) => `seed ${f.seed}: ${f.error.message}`)).toEqual([]);
    expect(report.mismatches).toEqual([]);
    expect(report.seeds).toBe(300);
  });

  it('catches a scenario that is not deterministic', async () => {
    let calls = 0;
    const flaky: Scenario = async (cluster) => {
      calls += 1;
      await cluster.advance(calls % 2 === 0 ? 300 : 400); // differs between the two runs of a seed
    };
    const report = await checkDeterminism(flaky, { nodes: 3, host: 'inline', seeds: [1] });
    expect(report.mismatches.map((m) => m.seed)).toEqual([1]);
  });
});
