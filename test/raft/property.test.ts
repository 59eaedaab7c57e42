import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryKey } from '../../harness/check/safety.js';
import { CoreNetwork } from '../../harness/core-network.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'] as const;

const node = fc.constantFrom(...NODES);
const action = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('propose' as const), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('partition' as const), side: fc.subarray([...NODES], { minLength: 1, maxLength: 4 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oneWay' as const), from: node, to: node }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('heal' as const) }) },
);

const scenario = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  drop: fc.constantFrom(0, 0.05, 0.2),
  duplicate: fc.constantFrom(0, 0.05, 0.2),
  latency: fc.constantFrom<[number, number]>([1, 1], [1, 10], [0, 26], [5, 120]),
  preVote: fc.boolean(),
  checkQuorum: fc.boolean(),
  actions: fc.array(action, { minLength: 5, maxLength: 40 }),
});

describe('pure cores on a faulty network (fast-check)', () => {
  it('keep Figure 3 safety: one leader per term, matching logs, committed entries never lost or changed', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const net = new CoreNetwork({
          nodes: NODES,
          seed: s.seed,
          drop: s.drop,
          duplicate: s.duplicate,
          latency: s.latency,
          raft: { preVote: s.preVote, checkQuorum: s.checkQuorum, maxEntriesPerMessage: 4, maxInflight: 3 },
        });
        let seq = 0;
        // The network's SafetyMonitor runs after every event and throws SafetyViolationError.
        for (const a of s.actions) {
          switch (a.kind) {
            case 'run':
              net.runUntil(net.now + a.ms);
              break;
            case 'propose':
              for (let i = 0; i < a.count; i++) net.propose({ clientId: 'c', seq: seq++, op: { op: 'credit', amount: 1 } });
              break;
            case 'crash':
              net.crash(a.node);
              break;
            case 'restart':
              net.restart(a.node);
              break;
            case 'partition':
              net.partition(a.side, NODES.filter((n) => !a.side.includes(n)));
              break;
            case 'oneWay':
              if (a.from !== a.to) net.cutLink(a.from, a.to);
              break;
            case 'heal':
              net.heal();
              break;
          }
        }
        // Heal everything; the cluster must converge and still agree on every committed entry.
        net.heal();
        for (const id of NODES) net.restart(id);
        net.runUntil(net.now + 5_000);
        const views = net.views();
        const commit = Math.min(...views.map((v) => v.commitIndex));
        const reference = views[0]!.log.slice(0, commit).map(entryKey);
        for (const v of views) expect(v.log.slice(0, commit).map(entryKey)).toEqual(reference);
        for (const id of NODES) {
          const applied = net.applied(id).map(entryKey);
          const log = net.views().find((v) => v.id === id)!.log.map(entryKey);
          expect(applied).toEqual(log.slice(0, applied.length));
        }
      }),
      { numRuns: 500, seed: 20261122 },
    );
  });

  it('with a stable majority and a reliable network, eventually elects and commits every proposal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 30 }), (seed, count) => {
        const net = new CoreNetwork({ nodes: NODES, seed, latency: [1, 10] });
        expect(net.runUntilTrue(() => net.leader() !== undefined, 5_000)).toBe(true);
        for (let i = 0; i < count; i++) expect(net.propose({ clientId: 'c', seq: i, op: i })).toBe(true);
        const target = count + 1; // the leader's no-op, then the proposals
        expect(net.runUntilTrue(() => net.views().every((v) => v.commitIndex >= target), 2_000)).toBe(true);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});
