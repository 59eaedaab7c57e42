import { InvalidConfigError, RaftHarnessError, describe as render } from '../../src/raft/errors.js';
import { createRandom, hashString } from '../../src/raft/random.js';

/**
 * A linearizability checker in the style of Porcupine (Anish Athalye's, used by MIT 6.5840):
 * Wing & Gong's search with Lowe's just-in-time linearization and memoization of
 * (linearized set, model state) pairs, checked per partition (P-compositionality: a history is
 * linearizable iff each partition is, when the model's operations on different partitions
 * commute and never observe one another, as a kv store's keys do).
 *
 * What an operation's fields mean:
 *
 * - `return` and `output` present: the operation took effect exactly once, at some instant in
 *   [call, return], and produced `output`.
 * - `return` present, `output` absent: the operation took effect exactly once in [call, return],
 *   with whatever output the model allows there (the client knew it completed but the output was
 *   not recorded). A client that gave up waiting (a timeout) must leave `return` out instead:
 *   its operation may still take effect later.
 * - `return` absent (`output` must be absent too): the operation never returned (timed out,
 *   client crashed). It may have taken effect at any instant after its call, with any output,
 *   or not at all. This is Porcupine's "return at +infinity, output matches anything", plus the
 *   explicit "or never" (which Porcupine gets by linearizing it last): the search never has to
 *   linearize it, and stops as soon as every operation that returned is linearized.
 * - Equal timestamps (`ties`, default `'return-first'`): an operation whose return time equals
 *   another's call time precedes it (the clock is read when the reply arrives and when the next
 *   call starts, so a tie means "one after the other" — true of the harness's virtual clock,
 *   where every message takes at least 1 ms, so an effect is never in the same ms as the call or
 *   reply that bounds it). Two zero-length operations (call = return) at the same instant are
 *   concurrent with each other. `'concurrent'` is Porcupine's rule instead: at equal times calls
 *   come before returns, so touching intervals overlap (more permissive: use it when the clock
 *   is too coarse to order a reply and the next call).
 *
 * The answer is `'ok'` only when the search finished; a budget that runs out gives `'unknown'`
 * (or `'violation'` if some partition was already proven not linearizable), never `'ok'`.
 */

export type Operation<I = unknown, O = unknown> = {
  readonly client: string | number;
  /** Model-specific, e.g. `{ op: 'cas', from: 1, to: 2 }`. */
  readonly input: I;
  /** Absent (or `undefined`): the outcome is unknown. */
  readonly output?: O;
  /** Invoke time. */
  readonly call: number;
  /** Absent (or `undefined`): never returned; may take effect any time after `call`, or never. */
  readonly return?: number;
};

/** `next` is read only when `ok`. */
export type StepResult<S> = { readonly ok: boolean; readonly next: S };

/** A group of operations checked on its own: indices into the history handed to the checker. */
export type HistoryPartition = { readonly key: string; readonly indices: readonly number[] };

/**
 * A sequential specification. States are values: `step` must not mutate the state it is given.
 * Errors about malformed operations should be `InvalidHistoryError` (the checker adds which
 * operation it was).
 */
export type Model<S, I = unknown, O = unknown> = {
  readonly name: string;
  readonly init: () => S;
  /** The operation applied to `state` produced `output`: is that allowed, and what state follows? */
  readonly step: (state: S, input: I, output: O) => StepResult<S>;
  /** The output is unknown: every state the operation may leave behind, whatever it returned. */
  readonly stepUnknown: (state: S, input: I) => readonly S[];
  readonly equal: (a: S, b: S) => boolean;
  /** Equal states should hash alike (correctness rests on `equal`; a bad hash only loses memoization). */
  readonly hash: (state: S) => string | number;
  /** Independent sub-histories (e.g. one per key); each index exactly once. Absent: one partition. */
  readonly partition?: (history: readonly Operation<I, O>[]) => readonly HistoryPartition[];
  /** One line, for reports; `output` is absent when unknown. */
  readonly describe: (input: I, output?: O) => string;
  readonly describeState?: (state: S) => string;
};

export const TIE_RULES = ['return-first', 'concurrent'] as const;
export type TieRule = (typeof TIE_RULES)[number];

export const UNKNOWN_REASONS = ['timeout', 'max-states'] as const;
export type UnknownReason = (typeof UNKNOWN_REASONS)[number];

export type CheckOptions = {
  /** Wall-clock budget for the whole check, in ms. Default: none. */
  readonly timeoutMs?: number;
  /** Cap on (linearized set, state) configurations cached, over all partitions. Default 1,000,000. */
  readonly maxStates?: number;
  /** How an operation returning at the very time another is called is ordered. */
  readonly ties?: TieRule;
};

export const DEFAULT_MAX_STATES = 1_000_000;

export type OperationReport = {
  /** Position in the history handed to `checkLinearizable`. */
  readonly index: number;
  readonly client: string | number;
  readonly call: number;
  /** Absent: never returned. */
  readonly return?: number;
  readonly input: unknown;
  /** Absent: unknown. */
  readonly output?: unknown;
  /** The model's one-line rendering. */
  readonly description: string;
};

export type Violation = {
  /** The partition key (`null` when the model does not partition). */
  readonly partition: string | null;
  /**
   * The longest linearizable prefix the search found, in linearization order: the one with the
   * most operations that returned (then the fewest that never did).
   */
  readonly prefix: readonly (OperationReport & { readonly stateAfter: string })[];
  /** The model state after the prefix (several, joined by " | ", when outputs were unknown). */
  readonly state: string;
  /** The earliest-returning operation left: it must be linearized next, or before, and cannot. */
  readonly stuck: OperationReport;
  /**
   * Every operation that real-time order allowed next (called before `stuck` returned).
   * `accepted`: the model allows it right after the prefix, but every way on from there failed.
   */
  readonly candidates: readonly (OperationReport & { readonly accepted: boolean })[];
  /** All of the above, for a person. */
  readonly message: string;
};

type CheckCounters = {
  /** Number of partitions the history split into. */
  readonly partitions: number;
  /** Configurations (linearized set, state) the search entered; each was cached. */
  readonly explored: number;
  /** Model steps tried. */
  readonly steps: number;
  /** A paragraph for a person. */
  readonly summary: string;
};

export type CheckResult =
  | (CheckCounters & { readonly result: 'ok' })
  | (CheckCounters & {
      readonly result: 'violation';
      /** One per partition proven not linearizable, in partition order. */
      readonly violations: readonly Violation[];
      /** Set when the budget ran out before the other partitions were decided. */
      readonly budgetExceeded: UnknownReason | null;
    })
  | (CheckCounters & {
      readonly result: 'unknown';
      readonly reason: UnknownReason;
      /** Partitions the budget left undecided. */
      readonly undecided: readonly (string | null)[];
    });

/** The history handed to the checker is malformed (the index is of the offending operation). */
export class InvalidHistoryError extends RaftHarnessError {
  readonly index: number | null;
  readonly problem: string;
  readonly received: unknown;
  constructor(problem: string, received: unknown, index: number | null = null) {
    super(`invalid history: ${index === null ? '' : `operation #${index}: `}${problem}; received ${render(received)}`);
    this.name = 'InvalidHistoryError';
    this.index = index;
    this.problem = problem;
    this.received = received;
  }
}

/** A model broke its contract (a partition that does not cover the history once, say). */
export class InvalidModelError extends RaftHarnessError {
  readonly model: string;
  constructor(model: string, problem: string) {
    super(`invalid model ${model}: ${problem}`);
    this.name = 'InvalidModelError';
    this.model = model;
  }
}

/** Helper for `Model.partition`: groups the history by a key, in order of first appearance. */
export function partitionBy<I, O>(history: readonly Operation<I, O>[], keyOf: (op: Operation<I, O>, index: number) => string): HistoryPartition[] {
  const groups = new Map<string, number[]>();
  history.forEach((op, i) => {
    const key = keyOf(op, i);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [i]);
    else group.push(i);
  });
  return [...groups].map(([key, indices]) => ({ key, indices }));
}

/** Is `history` linearizable with respect to `model`? See the top of this file for the semantics. */
export function checkLinearizable<S, I, O>(history: readonly Operation<I, O>[], model: Model<S, I, O>, options: CheckOptions = {}): CheckResult {
  const timeoutMs = options.timeoutMs ?? Infinity;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new InvalidConfigError('timeoutMs', timeoutMs, 'a number of ms >= 0 (Infinity: no limit)');
  }
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  if (!(maxStates === Infinity || (Number.isSafeInteger(maxStates) && maxStates >= 1))) {
    throw new InvalidConfigError('maxStates', maxStates, 'an integer >= 1, or Infinity');
  }
  const ties = options.ties ?? 'return-first';
  if (!TIE_RULES.includes(ties)) throw new InvalidConfigError('ties', ties, TIE_RULES.join(' | '));
  if (!Array.isArray(history)) throw new InvalidHistoryError('the history must be an array of operations', history);
  history.forEach(validateOperation);

  const groups: readonly { readonly key: string | null; readonly indices: readonly number[] }[] =
    model.partition === undefined ? [{ key: null, indices: history.map((_, i) => i) }] : model.partition(history);
  if (model.partition !== undefined) validatePartition(model.name, groups, history.length);

  const budget: Budget = {
    deadline: timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs,
    maxStates,
    explored: 0,
    steps: 0,
  };
  // Smaller partitions first: a quick violation is found before a hard partition eats the budget.
  const order = groups.map((_, i) => i).sort((a, b) => groups[a]!.indices.length - groups[b]!.indices.length || a - b);
  const outcomes: (Outcome | null)[] = groups.map(() => null);
  let stopped: UnknownReason | null = null;
  for (const g of order) {
    const group = groups[g]!;
    const outcome = searchPartition(history, group.indices, model, ties, budget);
    outcomes[g] = outcome;
    if (outcome.kind === 'aborted') {
      stopped = outcome.reason;
      break;
    }
  }

  const counters = { partitions: groups.length, explored: budget.explored, steps: budget.steps };
  const violations: Violation[] = [];
  groups.forEach((group, g) => {
    const outcome = outcomes[g];
    if (outcome?.kind === 'violation') violations.push(reportViolation(history, group, model, ties, outcome.prefix));
  });
  const undecided = groups.filter((_, g) => outcomes[g] === null || outcomes[g]!.kind === 'aborted').map((group) => group.key);
  const what = `${history.length} operation${history.length === 1 ? '' : 's'} in ${groups.length} partition${groups.length === 1 ? '' : 's'}, ${budget.explored} configuration${budget.explored === 1 ? '' : 's'} explored`;

  if (violations.length > 0) {
    const budgetNote = stopped === null ? '' : `\n(the ${stopped} budget ran out with ${undecided.length} partition(s) undecided)`;
    const summary = `not linearizable (${model.name}): ${violations.length === 1 ? 'a partition fails' : `${violations.length} partitions fail`}; ${what}\n${violations.map((v) => v.message).join('\n')}${budgetNote}`;
    return { result: 'violation', ...counters, summary, violations, budgetExceeded: stopped };
  }
  if (stopped !== null) {
    const summary = `undecided (${model.name}): the ${stopped === 'timeout' ? `${timeoutMs} ms time` : `${maxStates}-state`} budget ran out with ${undecided.length} partition(s) undecided; ${what}`;
    return { result: 'unknown', ...counters, summary, reason: stopped, undecided };
  }
  return { result: 'ok', ...counters, summary: `linearizable (${model.name}): ${what}` };
}

type Budget = { readonly deadline: number; readonly maxStates: number; explored: number; steps: number };

type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'violation'; readonly prefix: readonly number[] }
  | { readonly kind: 'aborted'; readonly reason: UnknownReason };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function validateOperation(op: unknown, index: number): void {
  if (!isRecord(op)) throw new InvalidHistoryError('an operation must be an object', op, index);
  const call = op['call'];
  const ret = op['return'];
  if (typeof call !== 'number' || !Number.isFinite(call)) throw new InvalidHistoryError('call must be a finite number', op, index);
  if (ret !== undefined && (typeof ret !== 'number' || !Number.isFinite(ret) || ret < call)) {
    throw new InvalidHistoryError('return must be a finite number >= call, or absent (never returned)', op, index);
  }
  if (ret === undefined && op['output'] !== undefined) {
    throw new InvalidHistoryError('an operation that never returned cannot have an output (give its return time, or drop the output)', op, index);
  }
  const client = op['client'];
  if (typeof client !== 'string' && typeof client !== 'number') throw new InvalidHistoryError('client must be a string or a number', op, index);
}

function validatePartition(model: string, groups: readonly { readonly key: string | null; readonly indices: readonly number[] }[], length: number): void {
  const seen = new Uint8Array(length);
  for (const group of groups) {
    for (const i of group.indices) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= length) throw new InvalidModelError(model, `partition ${render(group.key)} holds index ${render(i)}, outside the history`);
      if (seen[i] === 1) throw new InvalidModelError(model, `index ${i} is in more than one partition`);
      seen[i] = 1;
    }
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new InvalidModelError(model, `index ${missing} is in no partition`);
}

/** One operation of a partition, as the search sees it. */
type Local<I, O> = {
  readonly index: number;
  readonly op: Operation<I, O>;
  readonly returned: boolean;
  readonly known: boolean;
};

function localOps<I, O>(history: readonly Operation<I, O>[], indices: readonly number[]): Local<I, O>[] {
  return indices.map((index) => {
    const op = history[index]!;
    return { index, op, returned: op.return !== undefined, known: op.output !== undefined };
  });
}

/**
 * The entry list: node 0 is the head; operation i has its call at node 2i+1 and, if it
 * returned, its return at node 2i+2. Sorted by time; at equal times by `rank`.
 */
function entryOrder(ops: readonly Local<unknown, unknown>[], ties: TieRule): number[] {
  const nodes: { node: number; time: number; rank: number }[] = [];
  ops.forEach((o, i) => {
    const call = o.op.call;
    const ret = o.op.return;
    const instant = ret === call;
    let callRank: number;
    let returnRank: number;
    switch (ties) {
      case 'return-first':
        // Returns of longer operations, then zero-length operations (concurrent among themselves),
        // then calls of operations that return later.
        callRank = instant ? 1 : 3;
        returnRank = instant ? 2 : 0;
        break;
      case 'concurrent':
        callRank = 0;
        returnRank = 1;
        break;
      default:
        return assertNever(ties);
    }
    nodes.push({ node: 2 * i + 1, time: call, rank: callRank });
    if (ret !== undefined) nodes.push({ node: 2 * i + 2, time: ret, rank: returnRank });
  });
  nodes.sort((a, b) => a.time - b.time || a.rank - b.rank || a.node - b.node);
  return nodes.map((n) => n.node);
}

const EMPTY: readonly never[] = [];

/** The states `o` may leave behind from any of `states` (the model made deterministic over sets). */
function advance<S, I, O>(model: Model<S, I, O>, states: readonly S[], o: Local<I, O>): readonly S[] {
  let out: S[] | null = null;
  const add = (s: S): void => {
    if (out === null) out = [s];
    else if (!out.some((t) => model.equal(s, t))) out.push(s);
  };
  for (const s of states) {
    if (o.known) {
      const r = model.step(s, o.op.input, o.op.output as O);
      if (r.ok) add(r.next);
    } else {
      for (const n of model.stepUnknown(s, o.op.input)) add(n);
    }
  }
  return out ?? EMPTY;
}

function toInt(h: string | number): number {
  if (typeof h === 'string') return hashString(h);
  if (Number.isInteger(h)) return (h | 0) ^ ((h / 4294967296) | 0);
  return hashString(String(h));
}

function hashStates<S, I, O>(model: Model<S, I, O>, states: readonly S[]): number {
  if (states.length === 1) return toInt(model.hash(states[0]!));
  let h = states.length;
  for (const s of states) h ^= Math.imul(toInt(model.hash(s)), 0x9e3779b1);
  return h;
}

function sameStates<S, I, O>(model: Model<S, I, O>, a: readonly S[], b: readonly S[]): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 1) return model.equal(a[0]!, b[0]!);
  return a.every((s) => b.some((t) => model.equal(s, t)));
}

/**
 * Porcupine's checkSingle: a depth-first search over the entry list. At a call entry, try to
 * linearize that operation now (the model allows it and the resulting configuration is new):
 * lift its call and return out of the list and start again from the head. At a return entry the
 * operation had to be linearized by now: undo the last linearization and try the next call after
 * it. Success: every operation that returned is linearized (ones that never returned may stay).
 */
function searchPartition<S, I, O>(
  history: readonly Operation<I, O>[],
  indices: readonly number[],
  model: Model<S, I, O>,
  ties: TieRule,
  budget: Budget,
): Outcome {
  const ops = localOps(history, indices);
  const n = ops.length;
  const returnedTotal = ops.filter((o) => o.returned).length;
  let remaining = returnedTotal;
  if (remaining === 0) return { kind: 'ok' };

  // The doubly linked entry list.
  const size = 2 * n + 1;
  const next = new Int32Array(size).fill(-1);
  const prev = new Int32Array(size).fill(-1);
  let last = 0;
  for (const node of entryOrder(ops, ties)) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }

  // The linearized set: a bitset, and its Zobrist hash (xor of a random word per operation).
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const random = createRandom(n);
  const zobrist = Int32Array.from({ length: n }, () => (random() * 4294967296) | 0);
  let zob = 0;

  // The cache: hash → entry ids; entry e's bitset is pool[e*words, (e+1)*words).
  const buckets = new Map<number, number[]>();
  let pool = new Uint32Array(Math.max(words * 64, 64));
  const cachedStates: (readonly S[])[] = [];
  const insertIfNew = (key: number, states: readonly S[]): 'new' | 'seen' | 'full' => {
    const bucket = buckets.get(key);
    if (bucket !== undefined) {
      for (const e of bucket) {
        let same = true;
        const base = e * words;
        for (let w = 0; w < words; w++) {
          if (pool[base + w] !== bits[w]) {
            same = false;
            break;
          }
        }
        if (same && sameStates(model, cachedStates[e]!, states)) return 'seen';
      }
    }
    if (budget.explored >= budget.maxStates) return 'full';
    const e = cachedStates.length;
    if ((e + 1) * words > pool.length) {
      const grown = new Uint32Array(pool.length * 2);
      grown.set(pool);
      pool = grown;
    }
    pool.set(bits, e * words);
    cachedStates.push(states);
    if (bucket === undefined) buckets.set(key, [e]);
    else bucket.push(e);
    budget.explored += 1;
    return 'new';
  };

  const lift = (c: number, returned: boolean): void => {
    next[prev[c]!] = next[c]!;
    if (next[c]! !== -1) prev[next[c]!] = prev[c]!;
    if (returned) {
      const r = c + 1;
      next[prev[r]!] = next[r]!;
      if (next[r]! !== -1) prev[next[r]!] = prev[r]!;
    }
  };
  const unlift = (c: number, returned: boolean): void => {
    if (returned) {
      const r = c + 1;
      next[prev[r]!] = r;
      if (next[r]! !== -1) prev[next[r]!] = r;
    }
    next[prev[c]!] = c;
    if (next[c]! !== -1) prev[next[c]!] = c;
  };

  const toggle = (i: number): void => {
    bits[i >>> 5] = bits[i >>> 5]! ^ (1 << (i & 31));
    zob ^= zobrist[i]!;
  };

  const stackNodes: number[] = [];
  const stackStates: (readonly S[])[] = [];
  let states: readonly S[] = [model.init()];
  /** The best dead end so far: most returned operations linearized, then fewest pending ones. */
  let best: number[] | null = null;
  let bestReturned = -1;
  let iterations = 0;
  let cursor = next[0]!;
  /** The operation whose model code is running, to name it in an InvalidHistoryError. */
  let current = -1;

  const run = (): Outcome => {
    for (;;) {
      if ((iterations++ & 1023) === 0 && budget.deadline !== Infinity && performance.now() >= budget.deadline) {
        return { kind: 'aborted', reason: 'timeout' };
      }
      if (cursor !== -1 && (cursor & 1) === 1) {
        // A call entry: try to linearize its operation here.
        const i = (cursor - 1) >>> 1;
        const o = ops[i]!;
        current = o.index;
        budget.steps += 1;
        const after = advance(model, states, o);
        if (after.length > 0) {
          toggle(i);
          const verdict = insertIfNew(zob ^ Math.imul(hashStates(model, after), 0x85ebca6b), after);
          if (verdict === 'full') return { kind: 'aborted', reason: 'max-states' };
          if (verdict === 'new') {
            stackNodes.push(cursor);
            stackStates.push(states);
            states = after;
            lift(cursor, o.returned);
            if (o.returned) {
              remaining -= 1;
              if (remaining === 0) return { kind: 'ok' };
            }
            cursor = next[0]!;
            continue;
          }
          toggle(i);
        }
        cursor = next[cursor]!;
        continue;
      }
      // A return entry (or the end of the list): a dead end. Undo the last linearization.
      const linearizedReturned = returnedTotal - remaining;
      if (linearizedReturned > bestReturned || (linearizedReturned === bestReturned && stackNodes.length < best!.length)) {
        best = stackNodes.map((c) => (c - 1) >>> 1);
        bestReturned = linearizedReturned;
      }
      const c = stackNodes.pop();
      if (c === undefined) return { kind: 'violation', prefix: best! };
      const i = (c - 1) >>> 1;
      const o = ops[i]!;
      states = stackStates.pop()!;
      unlift(c, o.returned);
      toggle(i);
      if (o.returned) remaining += 1;
      cursor = next[c]!;
    }
  };
  try {
    return run();
  } catch (error) {
    if (error instanceof InvalidHistoryError && error.index === null && current >= 0) {
      throw new InvalidHistoryError(error.problem, error.received, current);
    }
    throw error;
  }
}

function describeStates<S, I, O>(model: Model<S, I, O>, states: readonly S[]): string {
  const one = (s: S): string => (model.describeState === undefined ? render(s) : model.describeState(s));
  return states.map(one).join(' | ');
}

function operationReport<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>, index: number): OperationReport {
  const description = op.output === undefined ? model.describe(op.input) : model.describe(op.input, op.output);
  return {
    index,
    client: op.client,
    call: op.call,
    ...(op.return === undefined ? {} : { return: op.return }),
    input: op.input,
    ...(op.output === undefined ? {} : { output: op.output }),
    description,
  };
}

function formatOp(r: OperationReport): string {
  return `#${r.index} client ${r.client} [${r.call}, ${r.return ?? 'never returned'}] ${r.description}`;
}

const PREFIX_SHOWN = 10;

/** Rebuilds what a person needs from the longest prefix the search found (local indices). */
function reportViolation<S, I, O>(
  history: readonly Operation<I, O>[],
  group: { readonly key: string | null; readonly indices: readonly number[] },
  model: Model<S, I, O>,
  ties: TieRule,
  prefix: readonly number[],
): Violation {
  const ops = localOps(history, group.indices);
  let states: readonly S[] = [model.init()];
  const initial = describeStates(model, states);
  const steps = prefix.map((i) => {
    const o = ops[i]!;
    states = advance(model, states, o);
    return { ...operationReport(model, o.op, o.index), stateAfter: describeStates(model, states) };
  });
  const state = steps.length === 0 ? initial : describeStates(model, states);
  const done = new Set(prefix);
  // Walk the entry list as the search did, skipping the prefix: calls until the first return.
  const candidates: (OperationReport & { readonly accepted: boolean })[] = [];
  let stuck: OperationReport | null = null;
  for (const node of entryOrder(ops, ties)) {
    const i = (node - 1) >>> 1;
    if (done.has(i)) continue;
    const o = ops[i]!;
    if ((node & 1) === 1) {
      candidates.push({ ...operationReport(model, o.op, o.index), accepted: advance(model, states, o).length > 0 });
    } else {
      stuck = operationReport(model, o.op, o.index);
      break;
    }
  }
  if (stuck === null) throw new RaftHarnessError('linearizability checker: a violation with no operation left to linearize');
  const where = group.key === null ? model.name : `${model.name} partition ${render(group.key)}`;
  const shown = steps.slice(-PREFIX_SHOWN);
  const lines = [
    `${where}: ${steps.length} of ${ops.length} operations linearize, then none can come next.`,
    steps.length === 0
      ? `  longest linearizable prefix: none (initial state ${initial})`
      : `  longest linearizable prefix (${steps.length} operations${steps.length > shown.length ? `, last ${shown.length} shown` : ''}):`,
    ...shown.map((s) => `    ${formatOp(s)}  => ${s.stateAfter}`),
    `  state after it: ${state}`,
    `  ${formatOp(stuck)} must take effect by ${stuck.return}, but cannot; the operations that could come next:`,
    ...candidates.map((c) => `    ${formatOp(c)}: ${c.accepted ? 'allowed here, but every way on from it fails' : 'refused by the model in this state'}`),
  ];
  return { partition: group.key, prefix: steps, state, stuck, candidates, message: lines.join('\n') };
}

function assertNever(value: never): never {
  throw new RaftHarnessError(`unreachable: ${render(value)}`);
}
