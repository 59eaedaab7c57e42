import { resolveRaftConfig } from '../src/raft/config.js';
import { RaftCore } from '../src/raft/raft.js';
import { createRandom } from '../src/raft/random.js';
import { EMPTY_STATE, type RaftMessage } from '../src/raft/types.js';

export type CoreBenchResult = {
  readonly nodes: number;
  readonly maxEntriesPerMessage: number;
  readonly entries: number;
  readonly seconds: number;
  readonly entriesPerSecond: number;
  readonly steps: number;
  readonly microsPerStep: number;
};

/**
 * Core-only throughput: pure cores exchanging messages through an in-memory FIFO, no workers,
 * no storage, no safety checks. The leader takes proposals in bursts of `burst` and the clock
 * stands still while they replicate, so only protocol work is measured. An entry counts once
 * every node has it committed.
 */
export function benchCoreThroughput(nodes: number, maxEntriesPerMessage: number, entries = 200_000, burst = 2_000): CoreBenchResult {
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const cores = new Map(
    ids.map((id, i) => [
      id,
      new RaftCore(resolveRaftConfig(id, ids, { maxEntriesPerMessage, maxInflight: 8 }), EMPTY_STATE, createRandom(i + 1), 0),
    ]),
  );
  let queue: RaftMessage[] = [];
  let steps = 0;
  const pump = (): void => {
    for (const c of cores.values()) if (c.hasReady()) queue.push(...c.ready().messages);
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      for (const m of batch) {
        const c = cores.get(m.to)!;
        c.step(m, now);
        steps += 1;
        if (c.hasReady()) queue.push(...c.ready().messages);
      }
    }
  };
  let now = 0;
  // Elect n1 deterministically: let it time out first.
  const first = cores.get('n1')!;
  now = first.nextDeadline();
  first.tick(now);
  pump();
  if (first.status().role !== 'leader') throw new Error('raft-harness bench: n1 did not win the election');
  const base = first.status().commitIndex;
  const command = { clientId: 'bench', seq: 0, op: { op: 'credit', amount: 1 } };

  steps = 0;
  const start = process.hrtime.bigint();
  for (let done = 0; done < entries; done += burst) {
    for (let i = 0; i < burst; i++) first.propose(command, now);
    pump();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const c of cores.values()) {
    if (c.status().commitIndex !== base + entries) throw new Error(`raft-harness bench: ${c.id} committed ${c.status().commitIndex}`);
  }
  return {
    nodes,
    maxEntriesPerMessage,
    entries,
    seconds,
    entriesPerSecond: entries / seconds,
    steps,
    microsPerStep: (seconds * 1e6) / steps,
  };
}

/** Cost of one `step` of a heartbeat (an empty AppendEntries and its reply), in µs. */
export function benchHeartbeatStep(rounds = 200_000): number {
  const ids = ['n1', 'n2', 'n3'];
  const leader = new RaftCore(resolveRaftConfig('n1', ids), EMPTY_STATE, createRandom(1), 0);
  const follower = new RaftCore(resolveRaftConfig('n2', ids), EMPTY_STATE, createRandom(2), 0);
  let now = leader.nextDeadline();
  leader.tick(now);
  const votes = leader.ready().messages.filter((m) => m.to === 'n2');
  // Pre-vote then vote, then the no-op: run the pair until quiet.
  let queue: RaftMessage[] = [...votes];
  const run = (): void => {
    while (queue.length > 0) {
      const m = queue.shift()!;
      const c = m.to === 'n1' ? leader : follower;
      c.step(m, now);
      queue.push(...c.ready().messages.filter((x) => x.to === 'n1' || x.to === 'n2'));
    }
  };
  run();
  const heartbeat: RaftMessage = {
    type: 'AppendEntries',
    from: 'n1',
    to: 'n2',
    term: leader.status().term,
    prevLogIndex: leader.status().lastIndex,
    prevLogTerm: leader.status().lastTerm,
    entries: [],
    leaderCommit: leader.status().commitIndex,
    readRound: 0,
  };
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    now += 1;
    follower.step(heartbeat, now);
    follower.ready();
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / rounds;
}
