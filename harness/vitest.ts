/**
 * raft-harness/vitest: a `test` with cluster fixtures, and matchers.
 *
 *   import { test, expect } from 'raft-harness/vitest';
 *   test('elects', ({ network }) => {
 *     const net = network({ nodes: ['a', 'b', 'c'], seed: 1 });
 *     net.runUntil(1_000);
 *     expect(net).toHaveSingleLeader();
 *   });
 */
import { expect, test as base } from 'vitest';
import type { NodeId } from '../src/raft/types.js';
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
});

declare module 'vitest' {
  interface Matchers<T = any> {
    toHaveSingleLeader(): T;
    toAgreeOnCommitted(): T;
  }
}

export type NetworkOptions = Omit<CoreNetworkOptions, 'nodes' | 'seed'> & {
  /** Ids, or a count for ids n1..nN. */
  readonly nodes: readonly NodeId[] | number;
  readonly seed?: number;
};
export type NetworkFactory = (options: NetworkOptions) => CoreNetwork;

export const test = base.extend<{ network: NetworkFactory }>({
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
