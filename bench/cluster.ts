import { Cluster } from '../harness/cluster.js';
import { quantile } from './table.js';

/**
 * Whole-harness benchmarks: real worker threads, the main-thread scheduler, the comlink control
 * plane and the data port, deterministic mode. Every figure is wall time measured with
 * `process.hrtime.bigint()`; clusters are stopped after each measurement, outside the timing.
 */

const NS_PER_MS = 1e6;

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / NS_PER_MS;
}

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}


function median(ascending: readonly number[]): number {
  const n = ascending.length;
  if (n === 0) return Number.NaN;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? ascending[mid]! : (ascending[mid - 1]! + ascending[mid]!) / 2;
}

export type StartToLeaderResult = {
  readonly nodes: number;
  readonly runs: number;
  /** Wall ms from calling Cluster.start to waitForLeader resolving, per run (seed order). */
  readonly totalMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** The part spent in Cluster.start (workers booted), median over runs. */
  readonly medianStartMs: number;
  /** The part spent in waitForLeader (the election, in virtual time), median over runs. */
  readonly medianElectionMs: number;
  /** Virtual ms at which a leader was seen, median over runs. */
  readonly medianVirtualMs: number;
  /** Scheduler events up to the leader, median over runs. */
  readonly medianEvents: number;
};

/** Wall ms from `Cluster.start({ nodes, seed: i })` to `waitForLeader()` resolving, seeds 0..runs-1. */
export async function benchStartToLeader(nodes: 3 | 5, runs = 10): Promise<StartToLeaderResult> {
  const total: number[] = [];
  const startPart: number[] = [];
  const electionPart: number[] = [];
  const virtual: number[] = [];
  const events: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const cluster = await Cluster.start({ nodes, seed: i });
    const t1 = process.hrtime.bigint();
    try {
      await cluster.waitForLeader();
      const t2 = process.hrtime.bigint();
      total.push(Number(t2 - t0) / NS_PER_MS);
      startPart.push(Number(t1 - t0) / NS_PER_MS);
      electionPart.push(Number(t2 - t1) / NS_PER_MS);
      virtual.push(cluster.now());
      events.push(cluster.stats().events);
    } finally {
      await cluster.stop();
    }
  }
  const s = sorted(total);
  return {
    nodes,
    runs,
    totalMs: total,
    medianMs: median(s),
    minMs: s[0]!,
    maxMs: s[s.length - 1]!,
    medianStartMs: median(sorted(startPart)),
    medianElectionMs: median(sorted(electionPart)),
    medianVirtualMs: median(sorted(virtual)),
    medianEvents: median(sorted(events)),
  };
}

export type EventRateResult = {
  readonly nodes: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Virtual ms per wall ms. */
  readonly speedup: number;
  readonly microsPerEvent: number;
};

/**
 * A 5-node cluster after election, idle (heartbeats only): `advance(virtualMs)`, timed, after
 * `warmupMs` of virtual time. A short warm-up (the default) measures a fresh cluster, which runs
 * slower while its threads warm up; a long one measures the steady state.
 */
export async function benchIdleEvents(virtualMs = 20_000, seed = 1, warmupMs = 1_000): Promise<EventRateResult> {
  const cluster = await Cluster.start({ nodes: 5, seed });
  try {
    await cluster.waitForLeader();
    await cluster.advance(warmupMs); // settle: the no-op committed everywhere, steady heartbeats
    const e0 = cluster.stats().events;
    const v0 = cluster.now();
    const t0 = process.hrtime.bigint();
    await cluster.advance(virtualMs);
    const wallMs = elapsedMs(t0);
    const events = cluster.stats().events - e0;
    const virtual = cluster.now() - v0;
    return {
      nodes: 5,
      virtualMs: virtual,
      wallMs,
      events,
      eventsPerSecond: events / (wallMs / 1_000),
      speedup: virtual / wallMs,
      microsPerEvent: (wallMs * 1_000) / events,
    };
  } finally {
    await cluster.stop();
  }
}

export type BusyResult = EventRateResult & {
  readonly clients: number;
  readonly opsPerClient: number;
  readonly committed: number;
  readonly opsPerSecond: number;
  /** Committed operations per virtual second. */
  readonly opsPerVirtualSecond: number;
};

/**
 * 5 nodes, steady heartbeats plus `clients` clients each doing `opsPerClient` sequential
 * `credit(1)`, all awaited together. An operation counts once its client has the ok answer.
 */
export async function benchBusyEvents(clients = 4, opsPerClient = 250, seed = 1): Promise<BusyResult> {
  const cluster = await Cluster.start({ nodes: 5, seed });
  try {
    await cluster.waitForLeader();
    await cluster.advance(1_000);
    const bank = Array.from({ length: clients }, () => cluster.client());
    // One untimed op per client so each has found the leader before timing starts.
    await Promise.all(bank.map(async (c) => c.credit(1)));
    const e0 = cluster.stats().events;
    const v0 = cluster.now();
    const t0 = process.hrtime.bigint();
    const oks = await Promise.all(
      bank.map(async (c) => {
        let ok = 0;
        for (let i = 0; i < opsPerClient; i++) {
          const r = await c.credit(1);
          if (r.ok) ok += 1;
        }
        return ok;
      }),
    );
    const wallMs = elapsedMs(t0);
    const events = cluster.stats().events - e0;
    const virtual = cluster.now() - v0;
    const committed = oks.reduce((a, b) => a + b, 0);
    return {
      nodes: 5,
      clients,
      opsPerClient,
      committed,
      virtualMs: virtual,
      wallMs,
      events,
      eventsPerSecond: events / (wallMs / 1_000),
      speedup: virtual / wallMs,
      microsPerEvent: (wallMs * 1_000) / events,
      opsPerSecond: committed / (wallMs / 1_000),
      opsPerVirtualSecond: virtual > 0 ? committed / (virtual / 1_000) : Number.POSITIVE_INFINITY,
    };
  } finally {
    await cluster.stop();
  }
}

export type PauseResumeResult = {
  readonly samples: number;
  readonly pauseMedianUs: number;
  readonly pauseP99Us: number;
  readonly resumeMedianUs: number;
  readonly resumeP99Us: number;
};

/**
 * Wall µs of `await cluster.pause()` and `await cluster.resume()` (all nodes) on a 5-node cluster
 * after election. Between samples the cluster runs 10 virtual ms (untimed) so each pause meets a
 * live cluster.
 */
export async function benchPauseResume(samples = 200, seed = 1): Promise<PauseResumeResult> {
  const cluster = await Cluster.start({ nodes: 5, seed });
  try {
    await cluster.waitForLeader();
    await cluster.advance(500);
    const pause: number[] = [];
    const resume: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = process.hrtime.bigint();
      await cluster.pause();
      const t1 = process.hrtime.bigint();
      await cluster.resume();
      const t2 = process.hrtime.bigint();
      pause.push(Number(t1 - t0) / 1e3);
      resume.push(Number(t2 - t1) / 1e3);
      await cluster.advance(10);
    }
    const p = sorted(pause);
    const r = sorted(resume);
    return {
      samples,
      pauseMedianUs: median(p),
      pauseP99Us: quantile(p, 0.99),
      resumeMedianUs: median(r),
      resumeP99Us: quantile(r, 0.99),
    };
  } finally {
    await cluster.stop();
  }
}
