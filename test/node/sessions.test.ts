import { describe, expect, it } from 'vitest';
import { createBank } from '../../src/apps/bank/index.js';
import { SessionTable } from '../../src/node/sessions.js';

describe('SessionTable (exactly-once application, dissertation §6.3)', () => {
  it('applies a (clientId, seq) once; a duplicate in the log returns the first result unapplied', () => {
    const bank = createBank();
    const table = new SessionTable();
    const credit = { clientId: 'c1', seq: 1, op: { op: 'credit', amount: 10 } };
    expect(table.apply(credit, bank)).toEqual({ kind: 'applied', result: { ok: true, balance: 10 } });
    expect(table.apply(credit, bank)).toEqual({ kind: 'duplicate', result: { ok: true, balance: 10 } });
    expect(bank.inspect()).toEqual({ balance: 10 });
  });

  it('refuses a seq older than the last applied one without applying it', () => {
    const bank = createBank();
    const table = new SessionTable();
    table.apply({ clientId: 'c1', seq: 5, op: { op: 'credit', amount: 1 } }, bank);
    expect(table.apply({ clientId: 'c1', seq: 4, op: { op: 'credit', amount: 1 } }, bank)).toEqual({ kind: 'stale' });
    expect(table.lookup('c1', 4)).toEqual({ kind: 'stale' });
    expect(table.lookup('c1', 6)).toBeUndefined();
    expect(bank.inspect()).toEqual({ balance: 1 });
  });

  it('keeps sessions of different clients apart and survives snapshot and restore', () => {
    const bank = createBank();
    const table = new SessionTable();
    table.apply({ clientId: 'a', seq: 1, op: { op: 'credit', amount: 3 } }, bank);
    table.apply({ clientId: 'b', seq: 1, op: { op: 'credit', amount: 4 } }, bank);
    const copy = new SessionTable();
    copy.restore(table.snapshot());
    expect(copy.size).toBe(2);
    expect(copy.apply({ clientId: 'b', seq: 1, op: { op: 'credit', amount: 4 } }, bank)).toEqual({
      kind: 'duplicate',
      result: { ok: true, balance: 7 },
    });
    expect(bank.inspect()).toEqual({ balance: 7 });
  });
});
