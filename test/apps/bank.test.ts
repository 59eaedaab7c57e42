import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { BankSnapshotError, BankStateMachine, createBank, parseBankOp } from '../../src/apps/bank/index.js';
import type { BankOp } from '../../src/apps/bank/index.js';

const BAD_AMOUNTS: readonly unknown[] = [
  0,
  -1,
  -0,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_SAFE_INTEGER + 1,
  '10',
  null,
  undefined,
  10n,
  {},
];

const BAD_OPERATIONS: readonly unknown[] = [
  null,
  undefined,
  42,
  'credit',
  [],
  [{ op: 'credit', amount: 1 }],
  {},
  { op: 'withdraw', amount: 1 },
  { op: 'CREDIT', amount: 1 },
  { amount: 1 },
];

describe('bank: operations', () => {
  it('starts at 0', () => {
    const bank = createBank();
    expect(bank.query({ op: 'balance' })).toEqual({ ok: true, balance: 0 });
    expect(bank.inspect()).toEqual({ balance: 0 });
  });

  it('credits and debits, returning the balance after the operation', () => {
    const bank = createBank();
    expect(bank.apply({ op: 'credit', amount: 100 })).toEqual({ ok: true, balance: 100 });
    expect(bank.apply({ op: 'debit', amount: 30 })).toEqual({ ok: true, balance: 70 });
    expect(bank.apply({ op: 'debit', amount: 70 })).toEqual({ ok: true, balance: 0 });
    expect(bank.query({ op: 'balance' })).toEqual({ ok: true, balance: 0 });
  });

  it('answers balance through apply too, without changing it', () => {
    const bank = createBank();
    bank.apply({ op: 'credit', amount: 5 });
    expect(bank.apply({ op: 'balance' })).toEqual({ ok: true, balance: 5 });
    expect(bank.inspect()).toEqual({ balance: 5 });
  });

  it('refuses a debit that would overdraw, leaving the balance unchanged', () => {
    const bank = createBank();
    expect(bank.apply({ op: 'debit', amount: 1 })).toEqual({ ok: false, error: 'insufficient-funds' });
    bank.apply({ op: 'credit', amount: 10 });
    expect(bank.apply({ op: 'debit', amount: 11 })).toEqual({ ok: false, error: 'insufficient-funds' });
    expect(bank.inspect()).toEqual({ balance: 10 });
  });

  it.each(BAD_AMOUNTS.map((a) => [a]))('refuses amount %s as invalid-amount without throwing', (amount) => {
    const bank = createBank();
    bank.apply({ op: 'credit', amount: 10 });
    expect(bank.apply({ op: 'credit', amount })).toEqual({ ok: false, error: 'invalid-amount' });
    expect(bank.apply({ op: 'debit', amount })).toEqual({ ok: false, error: 'invalid-amount' });
    expect(bank.inspect()).toEqual({ balance: 10 });
  });

  it('refuses a missing amount as invalid-amount', () => {
    expect(createBank().apply({ op: 'credit' })).toEqual({ ok: false, error: 'invalid-amount' });
  });

  it.each(BAD_OPERATIONS.map((o) => [o]))('refuses operation %j as invalid-operation without throwing', (op) => {
    const bank = createBank();
    expect(bank.apply(op)).toEqual({ ok: false, error: 'invalid-operation' });
    expect(bank.query(op)).toEqual({ ok: false, error: 'invalid-operation' });
    expect(bank.isReadOnly(op)).toBe(false);
    expect(bank.inspect()).toEqual({ balance: 0 });
  });

  it('accepts amounts up to MAX_SAFE_INTEGER but refuses a credit that would pass it', () => {
    const bank = createBank();
    expect(bank.apply({ op: 'credit', amount: Number.MAX_SAFE_INTEGER - 1 })).toEqual({
      ok: true,
      balance: Number.MAX_SAFE_INTEGER - 1,
    });
    expect(bank.apply({ op: 'credit', amount: 2 })).toEqual({ ok: false, error: 'invalid-amount' });
    expect(bank.apply({ op: 'credit', amount: 1 })).toEqual({ ok: true, balance: Number.MAX_SAFE_INTEGER });
    expect(bank.apply({ op: 'debit', amount: Number.MAX_SAFE_INTEGER })).toEqual({ ok: true, balance: 0 });
  });

  it('query refuses writes instead of performing them', () => {
    const bank = createBank();
    expect(bank.query({ op: 'credit', amount: 5 })).toEqual({ ok: false, error: 'invalid-operation' });
    expect(bank.query({ op: 'debit', amount: 5 })).toEqual({ ok: false, error: 'invalid-operation' });
    expect(bank.inspect()).toEqual({ balance: 0 });
  });

  it('isReadOnly is true only for balance', () => {
    const bank = createBank();
    expect(bank.isReadOnly({ op: 'balance' })).toBe(true);
    expect(bank.isReadOnly({ op: 'credit', amount: 1 })).toBe(false);
    expect(bank.isReadOnly({ op: 'debit', amount: 1 })).toBe(false);
    expect(bank.isReadOnly({ op: 'credit', amount: -1 })).toBe(false);
  });

  it('createBank returns a BankStateMachine; instances are independent', () => {
    const a = createBank();
    const b = createBank();
    expect(a).toBeInstanceOf(BankStateMachine);
    a.apply({ op: 'credit', amount: 3 });
    expect(b.inspect()).toEqual({ balance: 0 });
  });
});

describe('bank: parseBankOp', () => {
  it('returns a fresh, normalized op', () => {
    const input = { op: 'credit', amount: 7, note: 'extra' };
    const parsed = parseBankOp(input);
    expect(parsed).toEqual({ ok: true, op: { op: 'credit', amount: 7 } });
    expect(parsed.ok && parsed.op).not.toBe(input);
    expect(parseBankOp({ op: 'balance', amount: 3 })).toEqual({ ok: true, op: { op: 'balance' } });
  });

  it('tells invalid amounts from invalid operations', () => {
    expect(parseBankOp({ op: 'debit', amount: 0 })).toEqual({ ok: false, error: 'invalid-amount' });
    expect(parseBankOp({ op: 'nope', amount: 1 })).toEqual({ ok: false, error: 'invalid-operation' });
    expect(parseBankOp('balance')).toEqual({ ok: false, error: 'invalid-operation' });
  });
});

describe('bank: snapshot and restore', () => {
  it('round-trips through plain data', () => {
    const bank = createBank();
    bank.apply({ op: 'credit', amount: 42 });
    const snap = bank.snapshot();
    expect(snap).toEqual({ balance: 42 });
    expect(structuredClone(snap)).toEqual(snap);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);

    const other = createBank();
    other.restore(JSON.parse(JSON.stringify(snap)));
    expect(other.inspect()).toEqual({ balance: 42 });
    expect(other.apply({ op: 'debit', amount: 2 })).toEqual({ ok: true, balance: 40 });
  });

  it('is a copy: later operations do not change a taken snapshot', () => {
    const bank = createBank();
    const snap = bank.snapshot();
    bank.apply({ op: 'credit', amount: 1 });
    expect(snap).toEqual({ balance: 0 });
  });

  const MALFORMED: readonly unknown[] = [
    null,
    undefined,
    7,
    'balance',
    [],
    {},
    { balance: -1 },
    { balance: 1.5 },
    { balance: Number.NaN },
    { balance: Number.POSITIVE_INFINITY },
    { balance: Number.MAX_SAFE_INTEGER + 1 },
    { balance: '10' },
    { balance: 10, accounts: {} },
  ];

  it.each(MALFORMED.map((s) => [s]))('rejects %j with BankSnapshotError, state unchanged', (snap) => {
    const bank = createBank();
    bank.apply({ op: 'credit', amount: 9 });
    let thrown: unknown;
    try {
      bank.restore(snap);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BankSnapshotError);
    expect((thrown as Error).name).toBe('BankSnapshotError');
    expect((thrown as Error).message).toMatch(/^raft-harness: bank snapshot rejected/);
    expect(bank.inspect()).toEqual({ balance: 9 });
  });

  it('accepts a zero balance', () => {
    const bank = createBank();
    bank.apply({ op: 'credit', amount: 9 });
    bank.restore({ balance: 0 });
    expect(bank.inspect()).toEqual({ balance: 0 });
  });
});

describe('bank: properties', () => {
  const amount = fc.oneof(
    fc.integer({ min: 1, max: 1000 }),
    fc.constantFrom(0, -5, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER),
  );
  const op: fc.Arbitrary<unknown> = fc.oneof(
    fc.record({ op: fc.constant('credit'), amount }),
    fc.record({ op: fc.constant('debit'), amount }),
    fc.constant({ op: 'balance' }),
    fc.anything(),
  );

  it('balance never goes negative and equals credits minus accepted debits', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const bank = createBank();
        // BigInt: the model must stay exact where the bank refuses to go (past MAX_SAFE_INTEGER).
        let credited = 0n;
        let debited = 0n;
        for (const o of ops) {
          const parsed = parseBankOp(o);
          const result = bank.apply(o);
          if (result.ok) {
            expect(parsed.ok).toBe(true);
            const accepted = (parsed as { ok: true; op: BankOp }).op;
            if (accepted.op === 'credit') credited += BigInt(accepted.amount);
            if (accepted.op === 'debit') debited += BigInt(accepted.amount);
            expect(BigInt(result.balance)).toBe(credited - debited);
          }
          const { balance } = bank.inspect();
          expect(balance).toBeGreaterThanOrEqual(0);
          expect(Number.isSafeInteger(balance)).toBe(true);
          expect(BigInt(balance)).toBe(credited - debited);
        }
      }),
    );
  });

  it('a restored snapshot behaves like the original', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50 }), fc.array(op, { maxLength: 50 }), (before, after) => {
        const original = createBank();
        for (const o of before) original.apply(o);
        const copy = createBank();
        copy.restore(structuredClone(original.snapshot()));
        for (const o of after) expect(copy.apply(o)).toEqual(original.apply(o));
        expect(copy.inspect()).toEqual(original.inspect());
      }),
    );
  });
});
