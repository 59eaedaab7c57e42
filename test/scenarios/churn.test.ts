/**
 * MIT 6.5840 TestReliableChurn3C and TestUnreliableChurn3C (internalChurn).
 *
 * Five servers; three clients submit commands back to back (each its own session, one write
 * outstanding, retried across leaders, given up after 1 s) while the test, 20 times, with MIT's
 * probabilities, disconnects a random server (0.2), restarts-and-reconnects a random one (0.5),
 * crashes a random one (0.2; MIT's crash also disconnects), then lets 0.7 × RAFT_ELECTION_TIMEOUT
 * pass: 7 virtual seconds of churn. Then RAFT_ELECTION_TIMEOUT more, a reliable network, every
 * server restarted and connected, the clients stopped (their last operation finishes), another
 * RAFT_ELECTION_TIMEOUT, and one command that must reach all five within 10 s.
 *
 * Required: every command a client saw succeed is in the final log of every server and took
 * effect exactly once (the bank's sessions, replayed over the log, apply it once); no command
 * took effect twice; every server's balance is what its log says.
 *
 * Clients reach every server that runs, connected or not, as MIT's clients call Start() on every
 * server that is not crashed. In the unreliable variant their messages cross the same lossy
 * network as the servers' (MIT's Start() is a direct call): lost requests and replies are retried.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/cluster.js';
import type { BankClient } from '../../harness/client.js';
import type { NodeId } from '../../src/raft/types.js';
import { useClusters } from '../harness/support/clusters.js';
import {
  Connectivity,
  RAFT_ELECTION_TIMEOUT,
  TraceFollower,
  dice,
  effectiveCredits,
  expectAllAgreeThrough,
  answeredOk,
  one,
} from './support-faults.js';

const start = useClusters({ host: 'inline' });
const SERVERS = 5;
const CLIENTS = 3;
const ITERATIONS = 20;
const CLIENT_TIMEOUT = 2 * RAFT_ELECTION_TIMEOUT;

type ChurnResult = {
  readonly cluster: Cluster;
  /** Per client, the amounts of its operations that returned ok. */
  readonly succeeded: readonly number[][];
  /** Every amount submitted. */
  readonly submitted: readonly number[];
  readonly crashes: number;
  readonly disconnects: number;
};

async function churn(seed: number, unreliable: boolean): Promise<ChurnResult> {
  const cluster = await start({ nodes: SERVERS, seed, ...(unreliable ? { network: { drop: 0.1, latency: [0, 26] } } : {}) });
  const ids = cluster.ids;
  const d = dice(seed, unreliable ? 'unreliable-churn' : 'reliable-churn');
  const watch = new TraceFollower(cluster);
  const net = new Connectivity(cluster, 'keep');
  const crashed = new Set<NodeId>();
  let crashes = 0;
  let disconnects = 0;

  // The clients: each submits its next command as soon as the previous one has an outcome. They
  // only wait (whenSettled does not drive the cluster): the test's own waits move time. They read
  // the outcome from the history rather than by awaiting the operation, which would register a
  // wait from a concurrent loop: see the skipped test at the end of this file.
  let stop = false;
  let nextAmount = 1;
  const submitted: number[] = [];
  const succeeded: number[][] = Array.from({ length: CLIENTS }, () => []);
  const clients: BankClient[] = Array.from({ length: CLIENTS }, () => cluster.client());
  let finished = 0;
  const loops = clients.map(async (client, me) => {
    while (!stop) {
      const amount = nextAmount++;
      submitted.push(amount);
      const op = client.credit(amount, { timeout: CLIENT_TIMEOUT });
      await op.whenSettled();
      if (answeredOk(cluster, client, amount)) succeeded[me]!.push(amount);
    }
    finished += 1;
  });

  for (let iters = 0; iters < ITERATIONS; iters++) {
    if (d.int(1_000) < 200) {
      net.disconnect(ids[d.int(SERVERS)]!);
      disconnects += 1;
    }
    if (d.int(1_000) < 500) {
      const i = ids[d.int(SERVERS)]!;
      if (crashed.delete(i)) await cluster.restart(i);
      net.connect(i);
    }
    if (d.int(1_000) < 200) {
      const i = ids[d.int(SERVERS)]!;
      if (!crashed.has(i)) {
        net.disconnect(i);
        await cluster.crash(i);
        crashed.add(i);
        crashes += 1;
      }
    }
    await cluster.advance((RAFT_ELECTION_TIMEOUT * 7) / 10);
  }
  await cluster.advance(RAFT_ELECTION_TIMEOUT);
  if (unreliable) cluster.configureNetwork({ drop: 0, latency: [1, 10] });
  for (const i of ids) {
    if (crashed.delete(i)) await cluster.restart(i);
  }
  net.connect(...ids);
  stop = true;
  await cluster.runUntil(() => finished === CLIENTS, { timeout: CLIENT_TIMEOUT + 1 });
  await Promise.all(loops);
  await cluster.advance(RAFT_ELECTION_TIMEOUT);

  const finalAmount = nextAmount++;
  const final = await one(cluster, watch, cluster.client(), finalAmount, SERVERS);

  const log = await expectAllAgreeThrough(cluster, final.index);
  const { times, balance } = effectiveCredits(log);
  for (const [me, values] of succeeded.entries()) {
    for (const amount of values) expect(times.get(amount), `client ${me}: credit(${amount}) answered ok`).toBe(1);
  }
  expect(times.get(finalAmount)).toBe(1);
  const asked = new Set([...submitted, finalAmount]);
  for (const [amount, n] of times) {
    expect(asked.has(amount), `credit(${amount}) in the log was submitted`).toBe(true);
    expect(n, `credit(${amount}) took effect`).toBe(1);
  }
  expect(final.result).toEqual({ ok: true, balance });
  return { cluster, succeeded, submitted, crashes, disconnects };
}

describe('MIT TestReliableChurn3C: clients keep submitting while servers crash, restart, leave and rejoin', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: every acknowledged command is on every server, once`, async () => {
      const r = await churn(seed, false);
      expect(r.crashes + r.disconnects).toBeGreaterThanOrEqual(3);
      for (const values of r.succeeded) expect(values.length).toBeGreaterThan(0);
      expect(r.succeeded.flat().length).toBeGreaterThanOrEqual(50);
    });
  }
});

describe('MIT TestUnreliableChurn3C: the same on a network that loses and delays messages', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: every acknowledged command is on every server, once`, async () => {
      const r = await churn(seed, true);
      expect(r.crashes + r.disconnects).toBeGreaterThanOrEqual(3);
      for (const values of r.succeeded) expect(values.length).toBeGreaterThan(0);
      expect(r.succeeded.flat().length).toBeGreaterThanOrEqual(20);
    });
  }
});
