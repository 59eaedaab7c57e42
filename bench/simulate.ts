import { DEFAULT_SIMULATION } from '../harness/sim/simulation.js';
import { sweep } from '../harness/sim/sweep.js';

export type SimulateBench = {
  readonly host: 'inline' | 'worker';
  readonly seeds: number;
  readonly jobs: number;
  readonly failed: number;
  readonly wallMs: number;
  readonly perSecond: number;
  readonly virtualMs: number;
};

/** `raft-harness simulate` on its defaults (5 nodes, bank workload, every fault), timed end to end. */
export async function benchSimulate(host: 'inline' | 'worker', seeds: number, jobs: number): Promise<SimulateBench> {
  const start = process.hrtime.bigint();
  const results = await sweep({ ...DEFAULT_SIMULATION, host, jobs, seeds: Array.from({ length: seeds }, (_, i) => i + 1) });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    host,
    seeds,
    jobs,
    failed: results.filter((r) => !r.ok).length,
    wallMs,
    perSecond: (seeds * 1000) / wallMs,
    virtualMs: results.reduce((a, r) => a + r.virtualMs, 0),
  };
}
