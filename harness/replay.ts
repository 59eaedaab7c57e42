import { Cluster, type ClusterOptions } from './cluster.js';

/** A scenario: what a test does with a started cluster. */
export type Scenario = (cluster: Cluster) => Promise<void>;

export type DeterminismReport = {
  readonly seeds: number;
  /** Seeds whose two runs produced different traces, with both hashes. */
  readonly mismatches: ReadonlyArray<{ readonly seed: number; readonly first: string; readonly second: string }>;
  /** Seeds whose scenario threw, with the error (a failing run is reported, not hidden). */
  readonly failures: ReadonlyArray<{ readonly seed: number; readonly error: Error }>;
};

async function runOnce(scenario: Scenario, options: ClusterOptions, seed: number): Promise<string> {
  const cluster = await Cluster.start({ ...options, seed });
  try {
    await scenario(cluster);
    return cluster.traceHash();
  } finally {
    await cluster.stop();
  }
}

/**
 * The determinism self-check: runs `scenario` twice for every seed on fresh clusters and compares
 * the trace hashes. Any difference is a determinism bug (in the harness or the program): the same
 * seed must give a byte-identical trace.
 */
export async function checkDeterminism(
  scenario: Scenario,
  options: ClusterOptions & { readonly seeds: readonly number[] },
): Promise<DeterminismReport> {
  const { seeds, ...clusterOptions } = options;
  const mismatches: Array<{ seed: number; first: string; second: string }> = [];
  const failures: Array<{ seed: number; error: Error }> = [];
  for (const seed of seeds) {
    try {
      const first = await runOnce(scenario, clusterOptions, seed);
      const second = await runOnce(scenario, clusterOptions, seed);
      if (first !== second) mismatches.push({ seed, first, second });
    } catch (error) {
      failures.push({ seed, error: error as Error });
    }
  }
  return { seeds: seeds.length, mismatches, failures };
}

/**
 * The one-line shell command that replays a failing seed of a vitest test. vitest's `-t` takes a
 * pattern, so the name's pattern characters are escaped; inside double quotes the shell keeps
 * those backslashes, and `"`, `$`, `` ` `` and `\` are escaped for the shell.
 */
export function replayCommand(seed: number, file?: string, testName?: string): string {
  const target = file === undefined ? '' : ` ${file}`;
  const pattern = testName?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const quoted = pattern === undefined ? '' : ` -t "${pattern.replace(/["$`]/g, '\\$&')}"`;
  return `RAFT_HARNESS_SEED=${seed} npx vitest run${target}${quoted}`;
}
