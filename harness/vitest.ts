/**
 * raft-harness/vitest: a `test` with cluster fixtures, and matchers.
 *
 *   import { test, expect } from 'raft-harness/vitest';
 *   test('elects', async ({ cluster }) => {
 *     const c = await cluster({ nodes: 5, seed: 7 });
 *     await c.waitForLeader();
 *     expect(c).toHaveSingleLeader();
 *   });
 *
 * The `cluster` fixture stops every cluster after the test. When the test fails it prints each
 * cluster's seed with the one-line command that replays it, and saves its trace (JSON) under
 * `.raft-harness/traces/`. `RAFT_HARNESS_SEED=N` overrides the seed of every cluster a test starts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test as base } from 'vitest';
import { Cluster, type ClusterOptions } from './cluster.js';
import { replayCommand } from './replay.js';
import type { NodeId } from '../src/raft/types.js';
import { checkLinearizable, type CheckOptions, type Model, type Operation } from './check/linearizability.js';
import { models } from './check/models.js';
import { entryKey, type NodeView } from './check/safety.js';
import { CoreNetwork, type CoreNetworkOptions } from './core-network.js';

type Observable = { views(): NodeView[] };

function isObservable(value: unknown): value is Observable {
  return typeof value === 'object' && value !== null && typeof (value as Observable).views === 'function';
}

function describeViews(views: readonly NodeView[]): string {
  return views.map((v) => `${v.id}: ${v.role} term ${v.term} commit ${v.commitIndex} last ${v.log.length}`).join('\n');
}

expect.extend({
  /** Exactly one node leads in the highest term any live node has reached. */
  toHaveSingleLeader(received: unknown) {
    if (!isObservable(received)) return { pass: false, message: () => 'expected a cluster (something with views())' };
    const views = received.views();
    const top = Math.max(...views.map((v) => v.term));
    const leaders = views.filter((v) => v.role === 'leader' && v.term === top).map((v) => v.id);
    return {
      pass: leaders.length === 1,
      message: () =>
        `expected ${this.isNot ? 'not ' : ''}a single leader in term ${top}, found ${leaders.length} (${leaders.join(', ') || 'none'}):\n${describeViews(views)}`,
    };
  },
  /** Every live node holds the same entries up to the lowest commit index among them. */
  toAgreeOnCommitted(received: unknown) {
    if (!isObservable(received)) return { pass: false, message: () => 'expected a cluster (something with views())' };
    const views = received.views();
    const commit = Math.min(...views.map((v) => v.commitIndex));
    const keys = views.map((v) => v.log.slice(0, commit).map(entryKey).join(','));
    const pass = keys.every((k) => k === keys[0]);
    return {
      pass,
      message: () => `expected nodes ${this.isNot ? 'not ' : ''}to agree on the first ${commit} entries:\n${describeViews(views)}`,
    };
  },
  /** Every live node has committed `index` (or, with `{ nodes }`, at least that many have). */
  toHaveCommitted(received: unknown, index: number, options: { nodes?: number } = {}) {
    if (!isObservable(received)) return { pass: false, message: () => 'expected a cluster (something with views())' };
    const views = received.views();
    const needed = options.nodes ?? views.length;
    const have = views.filter((v) => v.commitIndex >= index).length;
    return {
      pass: have >= needed,
      message: () =>
        `expected ${this.isNot ? 'fewer than ' : ''}${needed} node(s) to have committed index ${index}, ${have} have:\n${describeViews(views)}`,
    };
  },
  /** The client history is linearizable (bank model), or with `model`, against that model. */
  toBeLinearizable(received: unknown, model: Model<unknown> = models.bank() as Model<unknown>, options: CheckOptions = {}) {
    const history = (received as { history?: () => readonly Operation[] })?.history;
    if (typeof history !== 'function') return { pass: false, message: () => 'expected a cluster (something with history())' };
    const result = checkLinearizable(history.call(received), model, options);
    return {
      pass: result.result === 'ok',
      message: () =>
        this.isNot
          ? `expected the history not to be linearizable, but it is (${result.summary})`
          : `expected a linearizable history, got '${result.result}': ${result.summary}`,
    };
  },
  /** Every live node holds exactly the same log (as synced). */
  toAgreeOnLog(received: unknown) {
    if (!isObservable(received)) return { pass: false, message: () => 'expected a cluster (something with views())' };
    const views = received.views();
    const logs = views.map((v) => v.log.map(entryKey).join(','));
    let firstDiff = -1;
    const longest = Math.max(...views.map((v) => v.log.length));
    for (let i = 0; i < longest && firstDiff < 0; i++) {
      const at = new Set(views.map((v) => (v.log[i] === undefined ? '(none)' : entryKey(v.log[i]!))));
      if (at.size > 1) firstDiff = i + 1;
    }
    return {
      pass: logs.every((l) => l === logs[0]),
      message: () =>
        this.isNot
          ? `expected the logs to differ, but all ${views.length} nodes hold the same ${longest} entries`
          : `expected every node to hold the same log; they first differ at index ${firstDiff}:\n${describeViews(views)}`,
    };
  },
});

declare module 'vitest' {
  interface Matchers<T = any> {
    toHaveSingleLeader(): T;
    toAgreeOnCommitted(): T;
    toHaveCommitted(index: number, options?: { nodes?: number }): T;
    toAgreeOnLog(): T;
    toBeLinearizable(model?: Model<unknown>, options?: CheckOptions): T;
  }
}

export type NetworkOptions = Omit<CoreNetworkOptions, 'nodes' | 'seed'> & {
  /** Ids, or a count for ids n1..nN. */
  readonly nodes: readonly NodeId[] | number;
  readonly seed?: number;
};
export type NetworkFactory = (options: NetworkOptions) => CoreNetwork;

export type ClusterFactory = (options?: ClusterOptions) => Promise<Cluster>;

/** The seed a test's cluster runs with: RAFT_HARNESS_SEED (replaying a failure) wins. */
export function effectiveSeed(seed: number | undefined): number {
  const env = process.env['RAFT_HARNESS_SEED'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`raft-harness: RAFT_HARNESS_SEED=${JSON.stringify(env)} is not an integer >= 0`);
    return n;
  }
  return seed ?? 1;
}

function slug(text: string): string {
  return text.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-|-$/g, '').slice(0, 120);
}

export const test = base.extend<{ network: NetworkFactory; cluster: ClusterFactory }>({
  // Clusters are stopped after the test; a failed test names each seed and how to replay it.
  cluster: async ({ task, onTestFailed, annotate }, use) => {
    const started: Array<{ cluster: Cluster; base: string }> = [];
    const file = task.file?.filepath === undefined ? undefined : relative(process.cwd(), task.file.filepath);
    const dir = join(process.cwd(), '.raft-harness', 'traces');
    const rel = (p: string): string => relative(process.cwd(), p);
    // Runs after the fixture's teardown: the clusters are stopped by then, their traces remain.
    onTestFailed(() => {
      mkdirSync(dir, { recursive: true });
      for (const [i, { cluster: c, base }] of started.entries()) {
        writeFileSync(`${base}.json`, c.trace.json());
        writeFileSync(`${base}.txt`, c.trace.table());
        writeFileSync(`${base}.html`, c.trace.html());
        console.error(
          `raft-harness: "${task.name}" failed on cluster ${i + 1} (seed ${c.seed}, virtual time ${c.now()} ms)\n` +
            `  replay: ${replayCommand(c.seed, file, task.name)}\n` +
            `  viewer: ${rel(`${base}.html`)}\n  table:  ${rel(`${base}.txt`)}\n  trace:  ${rel(`${base}.json`)}`,
        );
      }
    });
    await use(async (options = {}) => {
      const c = await Cluster.start({ ...options, seed: effectiveSeed(options.seed) });
      const base = join(dir, `${slug(`${file ?? 'test'}-${task.name}`)}-${started.length + 1}`);
      started.push({ cluster: c, base });
      // Annotations can only be made while the test runs; reporters show them with a failure.
      await annotate(
        `cluster ${started.length}: seed ${c.seed}; replay: ${replayCommand(c.seed, file, task.name)}; ` +
          `if the test fails, its trace is saved to ${rel(`${base}.html`)} (viewer), .txt (table) and .json`,
        'raft-harness',
      );
      return c;
    });
    await Promise.all(started.map(({ cluster: c }) => c.stop()));
  },
  // A factory, so a test can build several networks; seeds default to a fixed 1 for replay.
  // eslint-disable-next-line no-empty-pattern
  network: async ({}, use) => {
    await use((options) => {
      const nodes = typeof options.nodes === 'number' ? Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`) : options.nodes;
      return new CoreNetwork({ seed: 1, ...options, nodes });
    });
  },
});

export { expect };
