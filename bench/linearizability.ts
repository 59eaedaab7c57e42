import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { checkLinearizable, type CheckResult, type Operation } from '../harness/check/linearizability.js';
import { models } from '../harness/check/models.js';
import { createRandom, randomInt, type Random } from '../src/raft/random.js';

export type LinearizabilityBenchResult = {
  readonly ops: number;
  readonly clients: number;
  readonly keys: number;
  readonly partitions: number;
  readonly result: CheckResult['result'];
  /** Wall time of `checkLinearizable` alone (the history is generated beforehand). */
  readonly ms: number;
  /**
   * process.memoryUsage().heapUsed right after the check minus right before it (after a full
   * GC): what the check allocated and the GC had not yet reclaimed, so a rough upper bound on
   * what it held at once, and an underestimate when a major GC ran during it.
   */
  readonly heapDeltaBytes: number;
  /** Configurations the search cached (it caches every one it enters). */
  readonly cachedStates: number;
  readonly steps: number;
};

const KEYS = 5;

/**
 * A linearizable kv history as a real store would leave it: `clients` clients each issue one
 * operation at a time (gets half the time, puts and appends the rest, over a few keys), with
 * random gaps and durations so operations of different clients overlap. Each operation takes
 * effect at an instant strictly inside its interval; outputs are computed by applying the
 * operations to a map in that order.
 */
export function generateKvHistory(ops: number, clients: number, random: Random): Operation[] {
  type Planned = { client: number; call: number; effect: number; ret: number; input: { op: 'get' | 'put' | 'append'; key: string; value: string } };
  const planned: Planned[] = [];
  const free = Array.from({ length: clients }, () => randomInt(random, 0, 5));
  for (let i = 0; i < ops; i++) {
    const client = i % clients;
    const call = free[client]! + randomInt(random, 0, 4);
    const effect = call + 1 + randomInt(random, 0, 6);
    const ret = effect + 1 + randomInt(random, 0, 6);
    free[client] = ret;
    const key = `k${randomInt(random, 0, KEYS)}`;
    const roll = random();
    const op = roll < 0.5 ? 'get' : roll < 0.75 ? 'put' : 'append';
    planned.push({ client, call, effect, ret, input: { op, key, value: op === 'get' ? '' : `${client}.${i};` } });
  }
  const outputs: unknown[] = [];
  const store = new Map<string, string>();
  const order = planned.map((_, i) => i).sort((a, b) => planned[a]!.effect - planned[b]!.effect || a - b);
  for (const i of order) {
    const { op, key, value } = planned[i]!.input;
    const current = store.get(key) ?? '';
    if (op === 'get') outputs[i] = { value: current };
    else {
      store.set(key, op === 'put' ? value : current + value);
      outputs[i] = {};
    }
  }
  return planned.map((p, i) => ({
    client: `c${p.client}`,
    call: p.call,
    return: p.ret,
    input: p.input.op === 'get' ? { op: 'get', key: p.input.key } : p.input,
    output: outputs[i],
  }));
}

/** Generates a linearizable kv history of `ops` operations and times the check of it. */
export function benchLinearizability(ops: number, clients = 5, seed = 1): LinearizabilityBenchResult {
  const history = generateKvHistory(ops, clients, createRandom(seed));
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  const r = checkLinearizable(history, models.kv(), { timeoutMs: 60_000 });
  const ms = performance.now() - start;
  const heapDeltaBytes = process.memoryUsage().heapUsed - heapBefore;
  return { ops, clients, keys: KEYS, partitions: r.partitions, result: r.result, ms, heapDeltaBytes, cachedStates: r.explored, steps: r.steps };
}

/** A full GC, without needing `node --expose-gc`. */
function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
