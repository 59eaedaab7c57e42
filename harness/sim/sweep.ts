import { Tinypool } from 'tinypool';
import { runSimulation, type SimulationOptions, type SimulationResult } from './simulation.js';

export type SweepOptions = Omit<SimulationOptions, 'seed'> & {
  readonly seeds: readonly number[];
  /** Parallel pool threads (tinypool); 1 runs in this thread. */
  readonly jobs: number;
  readonly onResult?: (result: SimulationResult, done: number) => void;
};

/** Runs every seed, `jobs` at a time; results come back in seed order. */
export async function sweep(options: SweepOptions): Promise<SimulationResult[]> {
  const { seeds, jobs, onResult, ...base } = options;
  const results = new Array<SimulationResult>(seeds.length);
  let done = 0;
  const record = (i: number, r: SimulationResult): void => {
    results[i] = r;
    done += 1;
    onResult?.(r, done);
  };
  if (jobs <= 1) {
    for (const [i, seed] of seeds.entries()) record(i, await runSimulation({ ...base, seed }));
    return results;
  }
  const pool = new Tinypool({
    // Pool threads load the build (Node 20 cannot run a .ts entry); from source, use dist/.
    filename: import.meta.url.endsWith('.ts')
      ? new URL('../../dist/harness/sim/pool-task.js', import.meta.url).href
      : new URL('./pool-task.js', import.meta.url).href,
    minThreads: Math.min(jobs, seeds.length),
    maxThreads: jobs,
    // A simulation may start workers of its own (the worker host); keep pool threads independent.
    isolateWorkers: false,
  });
  try {
    await Promise.all(seeds.map(async (seed, i) => record(i, (await pool.run({ ...base, seed })) as SimulationResult)));
  } finally {
    await pool.destroy();
  }
  return results;
}
