import { Cluster } from '../harness/cluster.js';
import { quantile } from './table.js';

export type RealtimeOpsResult = {
  readonly clients: number;
  readonly ops: number;
  readonly wallMs: number;
  readonly opsPerSecond: number;
  readonly latency: readonly [number, number];
};

/**
 * Realtime mode: committed bank operations per second through a 3-node cluster, `clients`
 * clients each keeping one operation in flight (sessions allow one outstanding write per
 * client) for `durationMs` of wall time. Every counted operation was committed and answered.
 */
export async function benchRealtimeOps(clients = 256, durationMs = 3_000, latency: [number, number] = [0, 1]): Promise<RealtimeOpsResult> {
  const cluster = await Cluster.start({ nodes: 3, seed: 1, mode: 'realtime', network: { latency } });
  try {
    await cluster.waitForLeader({ timeout: 10_000 });
    // Warm-up: every client's first operation (the leader is known to all afterwards).
    const pool = Array.from({ length: clients }, () => cluster.client());
    await Promise.all(pool.map((c) => c.credit(1, { timeout: 30_000 })));
    let ops = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(durationMs) * 1_000_000n;
    await Promise.all(
      pool.map(async (c) => {
        while (process.hrtime.bigint() < end) {
          const r = await c.credit(1, { timeout: 30_000 });
          if (!r.ok) throw new Error(`raft-harness bench: credit failed: ${JSON.stringify(r)}`);
          ops += 1;
        }
      }),
    );
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    return { clients, ops, wallMs, opsPerSecond: (ops * 1000) / wallMs, latency };
  } finally {
    await cluster.stop();
  }
}

export type RealtimePauseResult = { readonly samples: number; readonly pauseMedianUs: number; readonly pauseP99Us: number; readonly resumeMedianUs: number; readonly resumeP99Us: number };

/** Realtime mode: wall µs for pause() and resume() of all 5 nodes (each a control call to its worker). */
export async function benchRealtimePauseResume(samples = 200): Promise<RealtimePauseResult> {
  const cluster = await Cluster.start({ nodes: 5, seed: 1, mode: 'realtime' });
  try {
    await cluster.waitForLeader({ timeout: 10_000 });
    const pauses: number[] = [];
    const resumes: number[] = [];
    for (let i = 0; i < samples; i++) {
      let t = process.hrtime.bigint();
      await cluster.pause();
      pauses.push(Number(process.hrtime.bigint() - t) / 1e3);
      t = process.hrtime.bigint();
      await cluster.resume();
      resumes.push(Number(process.hrtime.bigint() - t) / 1e3);
    }
    pauses.sort((a, b) => a - b);
    resumes.sort((a, b) => a - b);
    return {
      samples,
      pauseMedianUs: quantile(pauses, 0.5),
      pauseP99Us: quantile(pauses, 0.99),
      resumeMedianUs: quantile(resumes, 0.5),
      resumeP99Us: quantile(resumes, 0.99),
    };
  } finally {
    await cluster.stop();
  }
}
