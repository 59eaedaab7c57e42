import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRandom, deriveSeed, type Random } from '../../src/raft/random.js';
import type { NodeId } from '../../src/raft/types.js';
import { InvalidConfigError } from '../../src/raft/errors.js';
import { SafetyViolationError } from '../check/safety.js';
import type { BankClient } from '../client.js';
import { Cluster } from '../cluster.js';
import type { ProgramSpec } from '../protocol.js';

/** The faults a simulation may inject, by name. */
/** The default fault mix. */
export const FAULTS = ['partition', 'one-way', 'isolate', 'crash', 'crash-leader', 'drop', 'duplicate', 'delay', 'reorder'] as const;
/**
 * Operations of a mature cluster, in the mix on request (`--advanced`, or by name): nodes added
 * and removed, leadership handed over, and log compaction (snapshots every 10–30 entries, sent in
 * small chunks) all along the run.
 */
export const ADVANCED_FAULTS = ['membership', 'transfer', 'snapshot'] as const;
export const ALL_FAULTS = [...FAULTS, ...ADVANCED_FAULTS] as const;
export type Fault = (typeof ALL_FAULTS)[number];

export type SimulationOptions = {
  readonly seed: number;
  readonly nodes: number;
  /** Virtual ms of the chaos phase; a healed phase follows. */
  readonly duration: number;
  readonly clients: number;
  readonly faults: readonly Fault[];
  readonly host: 'inline' | 'worker';
  /** A node program other than the built-in Raft bank (it must serve the bank client protocol). */
  readonly program?: ProgramSpec;
  /** Where a failing seed writes its trace (HTML viewer, table, JSON); none when absent. */
  readonly out?: string;
  /** Write the trace to `out` even when the seed held (replay does, to look at it). */
  readonly writeTrace?: boolean;
};

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'seed'> = {
  nodes: 5,
  duration: 10_000,
  clients: 3,
  faults: FAULTS,
  host: 'inline',
};

export type SimulationResult = {
  readonly seed: number;
  readonly ok: boolean;
  /** The first safety violation (or failure) of the run, if any. */
  readonly violation: { readonly property: string; readonly message: string } | null;
  readonly linearizability: 'ok' | 'violation' | 'unknown' | 'not-checked';
  readonly elections: number;
  readonly operations: number;
  readonly virtualMs: number;
  readonly events: number;
  readonly traceHash: string;
  /** Files written for a failing seed. */
  readonly files: readonly string[];
};

/** Parses `--faults a,b,c` (or `all`, `none`). */
export function parseFaults(text: string): Fault[] {
  if (text === 'all') return [...ALL_FAULTS];
  if (text === 'none') return [];
  const list = text.split(',').map((f) => f.trim()).filter((f) => f.length > 0);
  for (const f of list) {
    if (!(ALL_FAULTS as readonly string[]).includes(f)) throw new InvalidConfigError('--faults', f, `a comma list of ${ALL_FAULTS.join(', ')}, or all, or none`);
  }
  return list as Fault[];
}

/** What an operator's request may end in under chaos without anything being wrong. */
const CHAOS_OUTCOMES = new Set(['ClusterTimeoutError', 'MembershipChangeError', 'LeadershipTransferError']);

async function tolerated(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (!CHAOS_OUTCOMES.has((error as Error).name)) throw error;
  }
}

const OP_TIMEOUT = 2_000;

/** A client keeps one bank operation in flight until told to stop. */
async function clientLoop(client: BankClient, random: Random, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const roll = random();
    const amount = 1 + Math.floor(random() * 20);
    const op = roll < 0.45 ? client.credit(amount, { timeout: OP_TIMEOUT }) : roll < 0.8 ? client.debit(amount, { timeout: OP_TIMEOUT }) : client.balance({ timeout: OP_TIMEOUT });
    try {
      await op;
    } catch (error) {
      if ((error as Error).name !== 'ClusterTimeoutError') throw error; // timeouts are part of chaos
    }
  }
}

/** One chaos action, chosen by the seed from the enabled faults. */
async function inject(cluster: Cluster, faults: readonly Fault[], random: Random, crashed: Set<NodeId>, nodes: number): Promise<void> {
  const ids = cluster.ids;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const roll = random();
  if (roll < 0.25) {
    // Back toward health: heal, restart, or calm the network.
    const r = random();
    if (r < 0.4) cluster.heal();
    else if (r < 0.75 && crashed.size > 0) {
      const id = pick([...crashed].sort());
      crashed.delete(id);
      await cluster.restart(id);
    } else cluster.configureNetwork({ drop: 0, duplicate: 0, reorder: 0, latency: [1, 10] });
    return;
  }
  if (faults.length === 0) return;
  switch (pick(faults)) {
    case 'partition': {
      const side = ids.filter(() => random() < 0.5);
      if (side.length > 0 && side.length < ids.length) cluster.partition(side, ids.filter((id) => !side.includes(id)));
      return;
    }
    case 'one-way': {
      const a = pick(ids);
      const b = pick(ids.filter((id) => id !== a));
      cluster.partitionOneWay(a, b);
      return;
    }
    case 'isolate':
      cluster.isolate(pick(ids));
      return;
    case 'crash': {
      const alive = ids.filter((id) => !crashed.has(id));
      if (alive.length <= 1) return;
      const id = pick(alive);
      crashed.add(id);
      await cluster.crash(id);
      return;
    }
    case 'crash-leader': {
      // The leader dies: the fault that makes a new leader finish (or not) its predecessor's work.
      const leader = await cluster.leader();
      if (leader === undefined || crashed.size + 1 >= ids.length) return;
      crashed.add(leader);
      await cluster.crash(leader);
      return;
    }
    case 'drop':
      cluster.configureNetwork({ drop: pick([0.05, 0.1, 0.2]) });
      return;
    case 'duplicate':
      cluster.configureNetwork({ duplicate: pick([0.05, 0.1]) });
      return;
    case 'delay':
      cluster.configureNetwork({ latency: pick<[number, number]>([[1, 10], [5, 50], [20, 120]]) });
      return;
    case 'reorder':
      cluster.configureNetwork({ reorder: pick([0.05, 0.2]), reorderDelay: [20, 300] });
      return;
    case 'membership': {
      // Grow back to the starting size, or shrink by one (any member, the leader included).
      if (ids.length < nodes) {
        await tolerated(cluster.addNode({ timeout: 2_000 }));
      } else {
        const id = pick(ids);
        crashed.delete(id); // a removed node is stopped for good
        await tolerated(cluster.removeNode(id, { timeout: 2_000 }));
        if (cluster.ids.includes(id) && (await cluster.inspect(id)).status === 'crashed') crashed.add(id);
      }
      return;
    }
    case 'transfer': {
      const leader = await cluster.leader();
      const others = ids.filter((id) => id !== leader && !crashed.has(id));
      if (leader === undefined || others.length === 0) return;
      await tolerated(cluster.transferLeadership(pick(others), { timeout: 1_000 }));
      return;
    }
    case 'snapshot':
      return; // compaction runs all along (set at start), nothing to inject
  }
}

/**
 * One seed of the default workload: `clients` bank clients keep operations in flight while faults
 * are injected for `duration` virtual ms; then everything heals, the cluster must elect a leader
 * and every client's operation in progress must complete; then the client history is checked for
 * linearizability. Every event is checked for safety all along (a violation ends the run).
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const snapshots = options.faults.includes('snapshot');
  const cluster = await Cluster.start({
    nodes: options.nodes,
    seed: options.seed,
    ...(snapshots ? { raft: { snapshotEvery: 10 + (options.seed % 21), snapshotChunkSize: 64 } } : {}),
    host: options.host,
    traceDir: false,
    timerSites: false,
    ...(options.program === undefined ? {} : { program: options.program }),
  });
  const chaos = createRandom(deriveSeed(options.seed, 'chaos'));
  const crashed = new Set<NodeId>();
  let stopping = false;
  let violation: SimulationResult['violation'] = null;
  let linearizability: SimulationResult['linearizability'] = 'not-checked';
  try {
    const loops = Array.from({ length: options.clients }, (_, i) =>
      clientLoop(cluster.client(), createRandom(deriveSeed(options.seed, `client${i}`)), () => stopping),
    );
    try {
      while (cluster.now() < options.duration) {
        await cluster.advance(50 + Math.floor(chaos() * 250));
        await inject(cluster, options.faults, chaos, crashed, options.nodes);
      }
      // Healed phase: a clean network, every node up; it must converge.
      cluster.heal();
      cluster.configureNetwork({ drop: 0, duplicate: 0, reorder: 0, latency: [1, 10] });
      for (const id of [...crashed].sort()) await cluster.restart(id);
      await cluster.waitForLeader({ timeout: 10_000 });
      stopping = true;
      await Promise.all(loops);
      const final = await cluster.client().credit(1, { timeout: 10_000 });
      if (!final.ok) throw new Error(`raft-harness: the final operation was refused: ${JSON.stringify(final)}`);
      await cluster.checkSafety();
      linearizability = (await cluster.checkLinearizability({ timeoutMs: 10_000 })).result;
    } finally {
      stopping = true;
      await Promise.allSettled(loops);
    }
  } catch (error) {
    const e = error as Error;
    violation = { property: e instanceof SafetyViolationError ? e.property : e.name === 'ClusterTimeoutError' ? 'liveness' : e.name, message: e.message };
  }
  const files: string[] = [];
  const ok = violation === null && linearizability !== 'violation';
  if ((!ok || options.writeTrace === true) && options.out !== undefined) {
    mkdirSync(options.out, { recursive: true });
    const base = join(options.out, `seed-${options.seed}`);
    const verdict = ok
      ? { result: linearizability === 'unknown' ? ('unknown' as const) : ('ok' as const), detail: `safety held; linearizability ${linearizability}` }
      : { result: 'violation' as const, detail: violation?.message ?? 'the client history is not linearizable' };
    writeFileSync(`${base}.html`, cluster.trace.html(verdict));
    writeFileSync(`${base}.txt`, cluster.trace.table(verdict));
    writeFileSync(`${base}.json`, cluster.trace.json(verdict));
    files.push(`${base}.html`, `${base}.txt`, `${base}.json`);
  }
  const result: SimulationResult = {
    seed: options.seed,
    ok,
    violation,
    linearizability,
    elections: cluster.trace().filter((e) => e.type === 'role' && e['to'] === 'leader').length,
    operations: cluster.history().length,
    virtualMs: cluster.now(),
    events: cluster.stats().events,
    traceHash: cluster.traceHash(),
    files,
  };
  await cluster.stop();
  return result;
}
