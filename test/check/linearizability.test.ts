import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  InvalidHistoryError,
  InvalidModelError,
  checkLinearizable,
  type CheckResult,
  type Model,
  type Operation,
  type TieRule,
  type Violation,
} from '../../harness/check/linearizability.js';
import { jsonEqual, models } from '../../harness/check/models.js';

// ---------------------------------------------------------------------------------------------
// History builders. Times are arbitrary units; `client` is only for reports.

/** Returned, output known. */
function done(client: string | number, call: number, ret: number, input: unknown, output: unknown): Operation {
  return { client, call, return: ret, input, output };
}
/** Returned, output not recorded: took effect within [call, return]. */
function blind(client: string | number, call: number, ret: number, input: unknown): Operation {
  return { client, call, return: ret, input };
}
/** Never returned: took effect after `call`, or never. */
function pending(client: string | number, call: number, input: unknown): Operation {
  return { client, call, input };
}

const read = { op: 'read' };
const write = (value: unknown) => ({ op: 'write', value });
const cas = (from: unknown, to: unknown) => ({ op: 'cas', from, to });
const value = (v: unknown) => ({ value: v });
const get = (key: string) => ({ op: 'get', key });
const put = (key: string, v: string) => ({ op: 'put', key, value: v });
const append = (key: string, v: string) => ({ op: 'append', key, value: v });
const credit = (amount: number) => ({ op: 'credit', amount });
const debit = (amount: number) => ({ op: 'debit', amount });
const balanceOp = { op: 'balance' };
const bal = (balance: number) => ({ ok: true, balance });

function violation(r: CheckResult): readonly Violation[] {
  if (r.result !== 'violation') throw new Error(`expected a violation, got ${r.result}: ${r.summary}`);
  return r.violations;
}

describe('register', () => {
  const register = models.register();

  it('a read of the last completed write is linearizable; a stale read after a completed write is not', () => {
    const base = [done(1, 0, 10, write(1), {}), done(2, 11, 20, write(2), {})];
    expect(checkLinearizable([...base, done(3, 21, 30, read, value(2))], register).result).toBe('ok');

    const r = checkLinearizable([...base, done(3, 21, 30, read, value(1))], register);
    const [v] = violation(r);
    expect(v!.partition).toBeNull();
    expect(v!.prefix.map((p) => p.index)).toEqual([0, 1]);
    expect(v!.prefix.map((p) => p.stateAfter)).toEqual(['1', '2']);
    expect(v!.state).toBe('2');
    expect(v!.stuck).toEqual({ index: 2, client: 3, call: 21, return: 30, input: read, output: value(1), description: 'read() → 1' });
    expect(v!.candidates).toEqual([{ ...v!.stuck, accepted: false }]);
    expect(v!.message).toContain('#2 client 3 [21, 30] read() → 1 must take effect by 30, but cannot');
    expect(r.summary).toContain('not linearizable (register)');
  });

  it('two concurrent writes may take effect in either order; a later read sees one of them', () => {
    const writes = [done(1, 0, 10, write(1), {}), done(2, 0, 10, write(2), {})];
    expect(checkLinearizable([...writes, done(3, 11, 20, read, value(1))], register).result).toBe('ok');
    expect(checkLinearizable([...writes, done(3, 11, 20, read, value(2))], register).result).toBe('ok');
    // Reads during the writes may each see either value (write 1, read, write 2, read).
    const during = [...writes, done(3, 1, 9, read, value(1)), done(4, 1, 9, read, value(2))];
    expect(checkLinearizable(during, register).result).toBe('ok');
    // Once both returned the register holds one value for good: 1 then 2 is impossible.
    const after = [...writes, done(3, 11, 20, read, value(1)), done(4, 21, 30, read, value(2))];
    expect(checkLinearizable(after, register).result).toBe('violation');
  });

  it('a read of a value never written is a violation; null before any write is fine', () => {
    expect(checkLinearizable([done(1, 0, 5, read, value(null))], register).result).toBe('ok');
    const r = checkLinearizable([done(1, 0, 10, write(1), {}), done(2, 5, 15, read, value(7))], register);
    const [v] = violation(r);
    expect(v!.stuck.index).toBe(1);
    expect(v!.candidates.map((c) => [c.index, c.accepted])).toEqual([[1, false]]);
    expect(checkLinearizable([done(1, 0, 10, write(1), {}), done(2, 11, 15, read, value(null))], register).result).toBe('violation');
  });

  it('values compare structurally', () => {
    const h = [done(1, 0, 10, write({ a: 1, b: [1, 2] }), {}), done(2, 11, 15, read, value({ b: [1, 2], a: 1 }))];
    expect(checkLinearizable(h, register).result).toBe('ok');
  });

  it('cas: succeeds only on the expected value, and only one of two concurrent identical cas can', () => {
    const h = [done(1, 0, 10, write(1), {}), done(2, 11, 20, cas(1, 2), { ok: true }), done(3, 21, 30, read, value(2))];
    expect(checkLinearizable(h, register).result).toBe('ok');
    expect(checkLinearizable([done(1, 0, 10, write(3), {}), done(2, 11, 20, cas(1, 2), { ok: true })], register).result).toBe('violation');
    expect(checkLinearizable([done(1, 0, 10, write(3), {}), done(2, 11, 20, cas(1, 2), { ok: false })], register).result).toBe('ok');
    const both = [done(1, 0, 10, write(0), {}), done(2, 11, 20, cas(0, 1), { ok: true }), done(3, 11, 20, cas(0, 1), { ok: true })];
    expect(checkLinearizable(both, register).result).toBe('violation');
    const one = [done(1, 0, 10, write(0), {}), done(2, 11, 20, cas(0, 1), { ok: true }), done(3, 11, 20, cas(0, 1), { ok: false })];
    expect(checkLinearizable(one, register).result).toBe('ok');
  });

  it('a write that never returned may take effect at any time after its call, or never', () => {
    const base = [done(1, 0, 10, write(1), {}), pending(2, 11, write(2))];
    expect(checkLinearizable([...base, done(3, 50, 60, read, value(2))], register).result).toBe('ok');
    expect(checkLinearizable([...base, done(3, 50, 60, read, value(1))], register).result).toBe('ok');
    // Once seen, it has happened: a later read cannot see the old value again.
    const flip = [...base, done(3, 50, 60, read, value(2)), done(3, 61, 70, read, value(1))];
    expect(checkLinearizable(flip, register).result).toBe('violation');
    // It cannot take effect before it was called.
    expect(checkLinearizable([done(3, 0, 5, read, value(2)), pending(2, 6, write(2))], register).result).toBe('violation');
  });

  it('a write that returned without an output took effect by its return', () => {
    const base = [done(1, 0, 10, write(1), {}), blind(2, 11, 20, write(2))];
    expect(checkLinearizable([...base, done(3, 21, 30, read, value(2))], register).result).toBe('ok');
    expect(checkLinearizable([...base, done(3, 21, 30, read, value(1))], register).result).toBe('violation');
    // ... while during it, either value.
    expect(checkLinearizable([...base, done(3, 12, 18, read, value(1))], register).result).toBe('ok');
    // A cas without output took effect, with whichever outcome the state dictated.
    const c = [done(1, 0, 10, write(1), {}), blind(2, 11, 20, cas(1, 5)), done(3, 21, 30, read, value(5))];
    expect(checkLinearizable(c, register).result).toBe('ok');
  });

  it('equal timestamps: a return at t precedes a call at t, unless ties are concurrent', () => {
    const h = [done(1, 0, 10, write(1), {}), done(2, 10, 20, read, value(null))];
    expect(checkLinearizable(h, register).result).toBe('violation');
    expect(checkLinearizable(h, register, { ties: 'return-first' }).result).toBe('violation');
    expect(checkLinearizable(h, register, { ties: 'concurrent' }).result).toBe('ok');
    // Zero-length operations: after returns at t, before calls at t, concurrent with each other.
    const instant = [done(1, 5, 5, write(1), {}), done(2, 5, 5, read, value(null)), done(3, 5, 9, read, value(1))];
    expect(checkLinearizable(instant, register).result).toBe('ok');
    const late = [done(1, 0, 5, write(1), {}), done(2, 5, 5, read, value(null))];
    expect(checkLinearizable(late, register).result).toBe('violation');
    expect(checkLinearizable(late, register, { ties: 'concurrent' }).result).toBe('ok');
  });

  it('a history of operations that never returned is linearizable, as is the empty history', () => {
    expect(checkLinearizable([], register)).toMatchObject({ result: 'ok', partitions: 1, explored: 0 });
    expect(checkLinearizable([pending(1, 0, write(1)), pending(2, 0, read)], register).result).toBe('ok');
  });
});

describe('kv', () => {
  const kv = models.kv();

  it('appends across keys are checked per key', () => {
    const h = [
      done(1, 0, 10, append('x', 'a'), {}),
      done(2, 0, 10, append('y', 'b'), {}),
      done(3, 11, 20, append('x', 'c'), {}),
      done(1, 21, 30, get('x'), value('ac')),
      done(2, 21, 30, get('y'), value('b')),
      done(3, 21, 30, get('z'), value('')),
    ];
    const r = checkLinearizable(h, kv);
    expect(r).toMatchObject({ result: 'ok', partitions: 3 });
  });

  it('concurrent appends to one key land in either order, once each', () => {
    const appends = [done(1, 0, 10, append('x', 'a'), {}), done(2, 0, 10, append('x', 'b'), {})];
    expect(checkLinearizable([...appends, done(3, 11, 20, get('x'), value('ab'))], kv).result).toBe('ok');
    expect(checkLinearizable([...appends, done(3, 11, 20, get('x'), value('ba'))], kv).result).toBe('ok');
    expect(checkLinearizable([...appends, done(3, 11, 20, get('x'), value('aab'))], kv).result).toBe('violation');
    expect(checkLinearizable([...appends, done(3, 11, 20, get('x'), value('a'))], kv).result).toBe('violation');
  });

  it('put replaces; get of an absent key is the empty string', () => {
    const h = [done(1, 0, 5, get('k'), value('')), done(1, 6, 10, append('k', 'a'), {}), done(1, 11, 15, put('k', 'z'), {}), done(1, 16, 20, get('k'), value('z'))];
    expect(checkLinearizable(h, kv).result).toBe('ok');
  });

  it('a violation names its key; other keys stay linearizable', () => {
    const h = [
      done(1, 0, 10, put('x', '1'), {}),
      done(2, 0, 10, put('y', '1'), {}),
      done(1, 11, 20, get('x'), value('1')),
      done(2, 11, 20, get('y'), value('2')),
      done(3, 0, 10, put('z', 'q'), {}),
      done(3, 11, 20, get('z'), value('')),
    ];
    const r = checkLinearizable(h, kv);
    const vs = violation(r);
    expect(vs.map((v) => v.partition)).toEqual(['y', 'z']);
    expect(vs[0]!.stuck).toMatchObject({ index: 3, client: 2, call: 11, return: 20, description: 'get("y") → "2"' });
    expect(vs[0]!.prefix.map((p) => p.index)).toEqual([1]);
    expect(vs[0]!.state).toBe('"1"');
    expect(vs[1]!.stuck.index).toBe(5);
    expect(r.partitions).toBe(3);
    expect(r.summary).toContain('kv partition "y"');
    expect(r.summary).toContain('kv partition "z"');
  });

  it('an append with unknown outcome: seen or not, but not twice', () => {
    const h = [done(1, 0, 10, put('x', 'a'), {}), pending(2, 11, append('x', 'b'))];
    expect(checkLinearizable([...h, done(3, 20, 30, get('x'), value('a'))], kv).result).toBe('ok');
    expect(checkLinearizable([...h, done(3, 20, 30, get('x'), value('ab'))], kv).result).toBe('ok');
    expect(checkLinearizable([...h, done(3, 20, 30, get('x'), value('abb'))], kv).result).toBe('violation');
  });
});

describe('bank', () => {
  const bank = models.bank();

  it('a balance that only a debit applied twice could give is a violation', () => {
    const h = [done(1, 0, 5, credit(10), bal(10)), done(1, 6, 10, debit(3), bal(7)), done(2, 11, 15, balanceOp, bal(4))];
    const [v] = violation(checkLinearizable(h, bank));
    expect(v!.state).toBe('balance 7');
    expect(v!.stuck.description).toBe('balance() → balance 4');
    expect(checkLinearizable([...h.slice(0, 2), done(2, 11, 15, balanceOp, bal(7))], bank).result).toBe('ok');
  });

  it('concurrent credits with a balance read in the middle', () => {
    const h = [done(1, 0, 20, credit(5), bal(5)), done(2, 0, 20, credit(7), bal(12)), done(3, 2, 18, balanceOp, bal(5))];
    expect(checkLinearizable(h, bank).result).toBe('ok');
    // The outputs fix the order (5 first): a read of 7 fits nowhere.
    expect(checkLinearizable([...h.slice(0, 2), done(3, 2, 18, balanceOp, bal(7))], bank).result).toBe('violation');
    // With the credits' outputs unknown, any partial sum is fine, 3 is not.
    const blindCredits = [blind(1, 0, 20, credit(5)), blind(2, 0, 20, credit(7))];
    for (const b of [0, 5, 7, 12]) expect(checkLinearizable([...blindCredits, done(3, 2, 18, balanceOp, bal(b))], bank).result).toBe('ok');
    expect(checkLinearizable([...blindCredits, done(3, 2, 18, balanceOp, bal(3))], bank).result).toBe('violation');
  });

  it('an operation with unknown outcome that must have happened', () => {
    const h = [blind(1, 0, 5, credit(10)), done(2, 6, 10, balanceOp, bal(0))];
    expect(checkLinearizable(h, bank).result).toBe('violation');
    expect(checkLinearizable([h[0]!, done(2, 6, 10, balanceOp, bal(10))], bank).result).toBe('ok');
  });

  it('an operation with unknown outcome that may not have happened', () => {
    const h = [pending(1, 0, credit(10)), done(2, 6, 10, balanceOp, bal(0))];
    expect(checkLinearizable(h, bank).result).toBe('ok');
    expect(checkLinearizable([...h, done(2, 11, 15, balanceOp, bal(10))], bank).result).toBe('ok');
    expect(checkLinearizable([h[0]!, done(2, 6, 10, balanceOp, bal(10)), done(2, 11, 15, balanceOp, bal(0))], bank).result).toBe('violation');
  });

  it('a refused debit leaves the balance; invalid input is refused as the app refuses it', () => {
    const h = [
      done(1, 0, 5, credit(5), bal(5)),
      done(1, 6, 10, debit(10), { ok: false, error: 'insufficient-funds' }),
      done(1, 11, 11, debit(-1), { ok: false, error: 'invalid-amount' }),
      done(1, 12, 12, { op: 'steal' }, { ok: false, error: 'invalid-operation' }),
      done(2, 13, 20, balanceOp, bal(5)),
    ];
    expect(checkLinearizable(h, bank).result).toBe('ok');
    expect(checkLinearizable([...h.slice(0, 4), done(2, 13, 20, balanceOp, bal(-5))], bank).result).toBe('violation');
    expect(checkLinearizable([done(1, 0, 5, debit(1), bal(0))], bank).result).toBe('violation');
  });

  it('checks the history the cluster records (HistoryOperation) as it is', () => {
    type HistoryOperation = { readonly client: string; readonly input: unknown; readonly call: number; output?: unknown; return?: number };
    const recorded: HistoryOperation[] = [{ client: 'c1', input: credit(3), call: 1, output: bal(3), return: 9 }, { client: 'c2', input: debit(1), call: 4 }];
    expect(checkLinearizable(recorded, bank).result).toBe('ok');
  });
});

describe('a model of your own', () => {
  /** A bag of tokens; `take` removes one. A take with unknown output removed any of them. */
  type Bag = readonly number[];
  const bag: Model<Bag, { readonly op: 'take' } | { readonly op: 'count' }, { readonly token: number } | { readonly count: number }> = {
    name: 'bag',
    init: () => [1, 2],
    step: (state, input, output) => {
      if (input.op === 'count') return { ok: 'count' in output && output.count === state.length, next: state };
      if (!('token' in output) || !state.includes(output.token)) return { ok: false, next: state };
      return { ok: true, next: state.filter((t) => t !== output.token) };
    },
    stepUnknown: (state, input) => (input.op === 'count' ? [state] : state.map((t) => state.filter((u) => u !== t))),
    equal: (a, b) => a.length === b.length && a.every((t, i) => t === b[i]),
    hash: (state) => state.join(','),
    describe: (input, output) => `${input.op} → ${output === undefined ? '?' : JSON.stringify(output)}`,
  };

  it('non-deterministic unknown outcomes: the checker follows every state they may leave', () => {
    const take = { op: 'take' } as const;
    expect(checkLinearizable([{ client: 1, call: 0, return: 5, input: take }, { client: 2, call: 6, return: 9, input: take, output: { token: 1 } }], bag).result).toBe('ok');
    const twice = [
      { client: 1, call: 0, return: 5, input: take },
      { client: 2, call: 6, return: 9, input: take, output: { token: 1 } },
      { client: 2, call: 10, return: 12, input: take, output: { token: 2 } },
    ];
    const r = checkLinearizable(twice, bag);
    expect(r.result).toBe('violation');
    const [v] = violation(r);
    expect(v!.prefix.map((p) => p.index)).toEqual([0, 1]);
    expect(v!.state).toBe('[]');
    expect(v!.prefix[0]!.stateAfter).toBe('[2] | [1]');
  });

  it('a partition must cover the history once', () => {
    const bad: Model<number> = { ...models.bank(), name: 'split', partition: () => [{ key: 'a', indices: [0] }] };
    const h = [done(1, 0, 1, balanceOp, bal(0)), done(1, 2, 3, balanceOp, bal(0))];
    expect(() => checkLinearizable(h, bad)).toThrow(InvalidModelError);
    expect(() => checkLinearizable(h, bad)).toThrow(/raft-harness: invalid model split: index 1 is in no partition/);
  });
});

describe('bad input', () => {
  it('a malformed history is an InvalidHistoryError naming the operation', () => {
    const register = models.register();
    const cases: [Operation[], RegExp][] = [
      [[done(1, 5, 4, read, value(null))], /operation #0: return must be a finite number >= call/],
      [[{ client: 1, call: 0, input: read, output: value(null) }], /operation #0: an operation that never returned cannot have an output/],
      [[done(1, 0, 1, write(1), {}), done(1, 2, 3, { op: 'swap' }, {})], /operation #1: a register input is/],
      [[done(1, 0, 1, read, { v: 1 })], /operation #0: a read must output \{ value \}/],
      [[{ client: 1, call: Number.NaN, input: read }], /operation #0: call must be a finite number/],
    ];
    for (const [h, message] of cases) {
      const error = (() => {
        try {
          checkLinearizable(h, register);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(InvalidHistoryError);
      expect((error as InvalidHistoryError).name).toBe('InvalidHistoryError');
      expect((error as Error).message).toMatch(/^raft-harness: invalid history: /);
      expect((error as Error).message).toMatch(message);
    }
    expect(() => checkLinearizable([done(1, 0, 1, { op: 'get', key: 3 }, value(''))], models.kv())).toThrow(/operation #0: a kv input/);
  });

  it('budget options are checked', () => {
    expect(() => checkLinearizable([], models.register(), { maxStates: 0 })).toThrow(/invalid config: maxStates = 0/);
    expect(() => checkLinearizable([], models.register(), { timeoutMs: -1 })).toThrow(/invalid config: timeoutMs = -1/);
  });
});

describe('the budget', () => {
  // Eight concurrent writes, then a read of the first: the search (which tries writes in call
  // order) has to dig through many orders; with the read of a value never written, all of them.
  const writes = Array.from({ length: 8 }, (_, i) => done(i, 0, 100, write(i), {}));
  const hardOk = [...writes, done(9, 101, 110, read, value(0))];
  const hardBad = [...writes, done(9, 101, 110, read, value(99))];

  it('the full search decides both', () => {
    expect(checkLinearizable(hardOk, models.register()).result).toBe('ok');
    const r = checkLinearizable(hardBad, models.register());
    expect(r.result).toBe('violation');
    expect(r.explored).toBeGreaterThan(100);
  });

  it('runs out on a hard history with maxStates: 10 and answers unknown, never ok', () => {
    for (const h of [hardOk, hardBad]) {
      const r = checkLinearizable(h, models.register(), { maxStates: 10 });
      expect(r).toMatchObject({ result: 'unknown', reason: 'max-states', undecided: [null] });
      expect(r.explored).toBe(10);
      expect(r.summary).toContain('10-state budget ran out');
    }
  });

  it('a time budget of 0 ms answers unknown', () => {
    const r = checkLinearizable(hardOk, models.register(), { timeoutMs: 0 });
    expect(r).toMatchObject({ result: 'unknown', reason: 'timeout' });
  });

  it('a violation found before the budget ran out stands', () => {
    // Partition "a" (small, checked first) fails at once; "b" is hard.
    const h = [
      done(1, 0, 5, get('a'), value('zz')),
      ...Array.from({ length: 8 }, (_, i) => done(i, 0, 100, put('b', String(i)), {})),
      done(9, 101, 110, get('b'), value('0')),
    ];
    const r = checkLinearizable(h, models.kv(), { maxStates: 5 });
    expect(r).toMatchObject({ result: 'violation', budgetExceeded: 'max-states' });
    expect(violation(r).map((v) => v.partition)).toEqual(['a']);
  });

  it('a budget-limited answer is the true answer or unknown (randomized)', () => {
    fc.assert(
      fc.property(historyArb(SPECS.register), fc.integer({ min: 1, max: 12 }), (h, maxStates) => {
        const full = checkLinearizable(h, models.register()).result;
        const limited = checkLinearizable(h, models.register(), { maxStates }).result;
        expect([full, 'unknown']).toContain(limited);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Randomized: the checker against a brute-force one, on histories of at most 7 operations.

/** A reference sequential spec, written apart from models.ts. */
type Spec = {
  readonly name: 'register' | 'kv' | 'bank';
  readonly check: (history: readonly Operation[], options?: { readonly ties?: TieRule; readonly maxStates?: number }) => CheckResult;
  readonly init: () => unknown;
  /** Deterministic: the output and the next state. */
  readonly apply: (state: unknown, input: unknown) => { readonly output: unknown; readonly next: unknown };
  readonly input: fc.Arbitrary<unknown>;
  /** A plausible output for an input (often wrong: that is the point). */
  readonly output: (input: unknown) => fc.Arbitrary<unknown>;
};

type Rec = Record<string, unknown>;

const SPECS = {
  register: {
    name: 'register',
    check: (history, options) => checkLinearizable(history, models.register(), options),
    init: () => null,
    apply: (state, input) => {
      const i = input as Rec;
      if (i['op'] === 'read') return { output: { value: state }, next: state };
      if (i['op'] === 'write') return { output: {}, next: i['value'] };
      const ok = state === i['from'];
      return { output: { ok }, next: ok ? i['to'] : state };
    },
    input: fc.oneof(
      fc.constant({ op: 'read' }),
      fc.integer({ min: 1, max: 3 }).map((v) => ({ op: 'write', value: v })),
      fc.tuple(fc.constantFrom(null, 1, 2), fc.integer({ min: 1, max: 3 })).map(([from, to]) => ({ op: 'cas', from, to })),
    ),
    output: (input) => {
      const op = (input as Rec)['op'];
      if (op === 'read') return fc.constantFrom(null, 1, 2, 3).map((v) => ({ value: v }));
      if (op === 'write') return fc.constant({});
      return fc.boolean().map((ok) => ({ ok }));
    },
  },
  kv: {
    name: 'kv',
    check: (history, options) => checkLinearizable(history, models.kv(), options),
    init: () => ({}),
    apply: (state, input) => {
      const s = state as Record<string, string>;
      const i = input as { op: string; key: string; value: string };
      if (i.op === 'get') return { output: { value: s[i.key] ?? '' }, next: s };
      return { output: {}, next: { ...s, [i.key]: i.op === 'put' ? i.value : (s[i.key] ?? '') + i.value } };
    },
    input: fc.oneof(
      fc.constantFrom('a', 'b').map((key) => ({ op: 'get', key })),
      fc.tuple(fc.constantFrom('put', 'append'), fc.constantFrom('a', 'b'), fc.constantFrom('x', 'y')).map(([op, key, v]) => ({ op, key, value: v })),
    ),
    output: (input) =>
      (input as Rec)['op'] === 'get' ? fc.constantFrom('', 'x', 'y', 'xy', 'yx', 'xx').map((v) => ({ value: v })) : fc.constant({}),
  },
  bank: {
    name: 'bank',
    check: (history, options) => checkLinearizable(history, models.bank(), options),
    init: () => 0,
    apply: (state, input) => {
      const b = state as number;
      const i = input as Rec;
      const amount = i['amount'] as number;
      if (i['op'] === 'balance') return { output: { ok: true, balance: b }, next: b };
      if (i['op'] === 'credit') return { output: { ok: true, balance: b + amount }, next: b + amount };
      if (amount > b) return { output: { ok: false, error: 'insufficient-funds' }, next: b };
      return { output: { ok: true, balance: b - amount }, next: b - amount };
    },
    input: fc.oneof(
      fc.constant({ op: 'balance' }),
      fc.tuple(fc.constantFrom('credit', 'debit'), fc.integer({ min: 1, max: 3 })).map(([op, amount]) => ({ op, amount })),
    ),
    output: () =>
      fc.oneof(
        fc.integer({ min: 0, max: 6 }).map((balance) => ({ ok: true, balance })),
        fc.constant({ ok: false, error: 'insufficient-funds' }),
      ),
  },
} as const satisfies Record<string, Spec>;

/** The real-time order, as documented in linearizability.ts. */
function precedes(a: Operation, b: Operation, ties: TieRule): boolean {
  if (a === b || a.return === undefined) return false;
  if (a.return < b.call) return true;
  if (a.return > b.call || ties === 'concurrent') return false;
  return !(a.call === a.return && b.call === b.return);
}

/**
 * Brute force: every order of the operations consistent with real time, every subset of the
 * ones that never returned, no memo, no partitions (kv runs on one map of all keys).
 */
function bruteForce(spec: Spec, history: readonly Operation[], ties: TieRule): boolean {
  const placed = history.map(() => false);
  const search = (state: unknown): boolean => {
    if (history.every((op, i) => placed[i] || op.return === undefined)) return true;
    for (let i = 0; i < history.length; i++) {
      const op = history[i]!;
      if (placed[i] || history.some((p, j) => !placed[j] && precedes(p, op, ties))) continue;
      const { output, next } = spec.apply(state, op.input);
      if (op.output !== undefined && !jsonEqual(output, op.output)) continue;
      placed[i] = true;
      const found = search(next);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(spec.init());
}

type Fate = 'done' | 'blind' | 'pending';
const fateArb = fc.constantFrom<Fate>('done', 'done', 'done', 'blind', 'pending');

/** Fully random outputs: mostly not linearizable, some are. */
function randomHistoryArb(spec: Spec): fc.Arbitrary<Operation[]> {
  const opArb = fc
    .record({ client: fc.integer({ min: 0, max: 2 }), call: fc.integer({ min: 0, max: 12 }), length: fc.integer({ min: 0, max: 6 }), fate: fateArb, input: spec.input })
    .chain((o) => spec.output(o.input).map((output) => ({ ...o, output })));
  return fc.array(opArb, { minLength: 1, maxLength: 7 }).map((ops) =>
    ops.map((o): Operation => {
      switch (o.fate) {
        case 'done':
          return done(o.client, o.call, o.call + o.length, o.input, o.output);
        case 'blind':
          return blind(o.client, o.call, o.call + o.length, o.input);
        case 'pending':
          return pending(o.client, o.call, o.input);
      }
    }),
  );
}

/**
 * Simulated: each operation takes effect at an instant inside its interval (at its call when
 * it has zero length; pending ones at any time after the call, or never), outputs computed from
 * the spec in that order; then, half the time, one output is replaced at random.
 */
function simulatedHistoryArb(spec: Spec): fc.Arbitrary<{ readonly history: Operation[]; readonly mutated: boolean }> {
  const opArb = fc.record({
    client: fc.integer({ min: 0, max: 2 }),
    call: fc.integer({ min: 0, max: 12 }),
    length: fc.integer({ min: 0, max: 6 }),
    at: fc.constantFrom(0.25, 0.5, 0.75),
    late: fc.integer({ min: 0, max: 10 }),
    applied: fc.boolean(),
    fate: fateArb,
    input: spec.input,
  });
  return fc.array(opArb, { minLength: 1, maxLength: 7 }).chain((ops) => {
    const effect = ops.map((o) => (o.fate === 'pending' ? (o.applied ? o.call + o.late + o.at : null) : o.length === 0 ? o.call : o.call + o.length * o.at));
    const order = ops.map((_, i) => i).filter((i) => effect[i] !== null);
    order.sort((a, b) => effect[a]! - effect[b]! || a - b);
    const outputs: unknown[] = ops.map(() => undefined);
    let state = spec.init();
    for (const i of order) {
      const r = spec.apply(state, ops[i]!.input);
      outputs[i] = r.output;
      state = r.next;
    }
    const history = ops.map((o, i): Operation => {
      switch (o.fate) {
        case 'done':
          return done(o.client, o.call, o.call + o.length, o.input, outputs[i]);
        case 'blind':
          return blind(o.client, o.call, o.call + o.length, o.input);
        case 'pending':
          return pending(o.client, o.call, o.input);
      }
    });
    const known = history.map((op, i) => (op.output === undefined ? -1 : i)).filter((i) => i >= 0);
    if (known.length === 0) return fc.constant({ history, mutated: false });
    return fc.tuple(fc.boolean(), fc.constantFrom(...known)).chain(([mutate, i]) => {
      if (!mutate) return fc.constant({ history, mutated: false });
      return spec.output(history[i]!.input).map((output) => ({
        history: history.map((op, j) => (j === i ? { ...op, output } : op)),
        mutated: !jsonEqual(output, history[i]!.output),
      }));
    });
  });
}

function historyArb(spec: Spec): fc.Arbitrary<Operation[]> {
  return fc.oneof(randomHistoryArb(spec), simulatedHistoryArb(spec).map((s) => s.history));
}

describe('against a brute-force checker (randomized, fixed seeds)', () => {
  const seeds = { register: 11, kv: 12, bank: 13 } as const;
  for (const spec of Object.values(SPECS)) {
    for (const ties of ['return-first', 'concurrent'] as const) {
      it(`${spec.name}, ties ${ties}: both agree on every history of up to 7 operations`, () => {
        const seen = { ok: 0, violation: 0, pending: 0, blind: 0 };
        fc.assert(
          fc.property(historyArb(spec), (history) => {
            const expected = bruteForce(spec, history, ties) ? 'ok' : 'violation';
            const r = spec.check(history, { ties });
            expect(r.result, JSON.stringify(history)).toBe(expected);
            seen[expected] += 1;
            if (history.some((op) => op.return === undefined)) seen.pending += 1;
            if (history.some((op) => op.return !== undefined && op.output === undefined)) seen.blind += 1;
          }),
          { seed: seeds[spec.name] + (ties === 'concurrent' ? 100 : 0), numRuns: 600 },
        );
        // The generator covers both answers and both kinds of unknown outcome.
        expect(Math.min(seen.ok, seen.violation, seen.pending, seen.blind)).toBeGreaterThan(60);
      });
    }

    it(`${spec.name}: a simulated execution, left alone, is always linearizable`, () => {
      fc.assert(
        fc.property(simulatedHistoryArb(spec), ({ history, mutated }) => {
          if (!mutated) expect(spec.check(history, {}).result).toBe('ok');
        }),
        { seed: seeds[spec.name] + 200, numRuns: 300 },
      );
    });
  }
});
