/**
 * MIT 6.5840 TestUnreliableAgree3C: agreement on an unreliable network.
 *
 * Five servers; every message (between servers, and between clients and servers) is lost with
 * probability 0.1 and delayed 0–26 ms. For iters 1..49: four commands submitted concurrently,
 * each by its own client (a client keeps one write outstanding; its session makes retries apply
 * once), not waited for; then one more, waited for: `one(cmd, 1)`. Then the network becomes
 * reliable, every concurrent command must have been answered ok (each within MIT's 10 s), and a
 * final command must reach all five. Every command is then in the log exactly once as an
 * applied entry (a retried command may be appended twice; the session applies it once).
 */
import { describe, expect, it } from 'vitest';
import type { HistoryOperation } from '../../harness/cluster.js';
import type { ClientOperation } from '../../harness/client.js';
import { useClusters } from '../harness/support/clusters.js';
import { AGREEMENT_TIMEOUT, TraceFollower, effectiveCredits, expectAllAgreeThrough, one, outcome } from './support-faults.js';

/** The most operations in progress at one instant (a return at t is counted before a call at t). */
function maxInProgress(history: readonly HistoryOperation[]): number {
  const points = history.flatMap((h) => [
    { t: h.call, d: 1 },
    { t: h.return ?? Number.POSITIVE_INFINITY, d: -1 },
  ]);
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (now += p.d));
  return max;
}

const start = useClusters({ host: 'inline' });
const SERVERS = 5;

describe('MIT TestUnreliableAgree3C: agreement despite lost and delayed messages', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 49 × (4 concurrent + 1) commands all commit; then all five agree`, async () => {
      const cluster = await start({ nodes: SERVERS, seed, network: { drop: 0.1, latency: [0, 26] } });
      const watch = new TraceFollower(cluster);
      const main = cluster.client();
      const concurrent: Array<{ readonly amount: number; readonly op: ClientOperation }> = [];
      const sequential: number[] = [];
      for (let iters = 1; iters < 50; iters++) {
        for (let j = 0; j < 4; j++) {
          const amount = 100 * iters + j;
          concurrent.push({ amount, op: cluster.client().credit(amount, { timeout: AGREEMENT_TIMEOUT }) });
        }
        await one(cluster, watch, main, iters, 1);
        sequential.push(iters);
      }
      const lost = cluster.trace().filter((e) => e.type === 'send' && e['lost'] === 'dropped').length;
      cluster.configureNetwork({ drop: 0, latency: [1, 10] });
      await cluster.runUntil(() => concurrent.every((c) => c.op.settled), { timeout: AGREEMENT_TIMEOUT });
      for (const c of concurrent) expect(await outcome(c.op), `credit(${c.amount})`).toMatchObject({ ok: true });
      const final = await one(cluster, watch, main, 10_000, SERVERS);

      const log = await expectAllAgreeThrough(cluster, final.index);
      const { times, balance } = effectiveCredits(log);
      const all = [...sequential, ...concurrent.map((c) => c.amount), 10_000];
      expect(all).toHaveLength(49 * 5 + 1);
      for (const amount of all) expect(times.get(amount), `credit(${amount}) applied`).toBe(1);
      expect(times.size).toBe(all.length);
      expect(balance).toBe(all.reduce((a, b) => a + b, 0));
      expect(final.result).toEqual({ ok: true, balance });
      // The network was unreliable: retries happened (more requests than commands).
      expect(cluster.counters().byType['ClientRequest']!.messages).toBeGreaterThan(all.length);
      expect(lost).toBeGreaterThan(0);
      // And the commands were concurrent: at some instant five or more were in progress.
      expect(maxInProgress(cluster.history())).toBeGreaterThanOrEqual(5);
    });
  }
});
