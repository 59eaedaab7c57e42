import { RaftHarnessError, describe } from '../../raft/errors.js';
import type { StateMachine } from '../../node/state-machine.js';

export type BankOp =
  | { readonly op: 'credit'; readonly amount: number }
  | { readonly op: 'debit'; readonly amount: number }
  | { readonly op: 'balance' };

export const BANK_ERRORS = ['insufficient-funds', 'invalid-amount', 'invalid-operation'] as const;
export type BankError = (typeof BANK_ERRORS)[number];

export type BankResult =
  | { readonly ok: true; readonly balance: number }
  | { readonly ok: false; readonly error: BankError };

export type BankSnapshot = { readonly balance: number };

export type ParsedBankOp =
  | { readonly ok: true; readonly op: BankOp }
  | { readonly ok: false; readonly error: 'invalid-amount' | 'invalid-operation' };

/** `restore` was handed something `snapshot()` could not have produced. */
export class BankSnapshotError extends RaftHarnessError {
  readonly received: unknown;
  constructor(problem: string, received: unknown) {
    super(`bank snapshot rejected: ${problem}; received ${describe(received)}`);
    this.name = 'BankSnapshotError';
    this.received = received;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Amounts are whole units (say, cents): integers keep every replica's arithmetic exact. */
function isValidAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/**
 * Validates a client operation. Pure, so clients can reject bad input before proposing it and
 * `apply` reaches the same verdict on every replica. Returns a fresh object: the caller's input
 * (and any extra fields on it) never reaches the state machine.
 */
export function parseBankOp(value: unknown): ParsedBankOp {
  if (!isRecord(value)) return { ok: false, error: 'invalid-operation' };
  const op = value['op'];
  switch (op) {
    case 'balance':
      return { ok: true, op: { op: 'balance' } };
    case 'credit':
    case 'debit': {
      const amount = value['amount'];
      if (!isValidAmount(amount)) return { ok: false, error: 'invalid-amount' };
      return { ok: true, op: { op, amount } };
    }
    default:
      return { ok: false, error: 'invalid-operation' };
  }
}

/**
 * The bank teller: one shared account. Small enough to read at a glance, yet a lost, duplicated
 * or reordered write shows up at once in the balance, which is what a Raft test wants to see.
 */
export class BankStateMachine implements StateMachine {
  /** Invariant: a safe integer >= 0, so it is exact on every replica and in every snapshot. */
  private balance = 0;

  apply(op: unknown): BankResult {
    const parsed = parseBankOp(op);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const o = parsed.op;
    switch (o.op) {
      case 'balance':
        // A read that went through the log anyway (a client may choose to): still harmless.
        return { ok: true, balance: this.balance };
      case 'credit':
        // Past MAX_SAFE_INTEGER doubles round, so the balance would silently stop being
        // credits minus debits (and the invariant above would break); refuse instead.
        if (o.amount > Number.MAX_SAFE_INTEGER - this.balance) return { ok: false, error: 'invalid-amount' };
        this.balance += o.amount;
        return { ok: true, balance: this.balance };
      case 'debit':
        if (o.amount > this.balance) return { ok: false, error: 'insufficient-funds' };
        this.balance -= o.amount;
        return { ok: true, balance: this.balance };
      default:
        return assertNever(o);
    }
  }

  /** Answers reads only: a write handed here would be silently dropped, so it is refused. */
  query(op: unknown): BankResult {
    const parsed = parseBankOp(op);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    if (parsed.op.op !== 'balance') return { ok: false, error: 'invalid-operation' };
    return { ok: true, balance: this.balance };
  }

  isReadOnly(op: unknown): boolean {
    const parsed = parseBankOp(op);
    return parsed.ok && parsed.op.op === 'balance';
  }

  snapshot(): BankSnapshot {
    return { balance: this.balance };
  }

  /**
   * Strict about shape (exactly `{ balance }`) so that a snapshot of another application, or a
   * damaged one, is caught here rather than surfacing later as a wrong balance.
   */
  restore(snapshot: unknown): void {
    if (!isRecord(snapshot)) throw new BankSnapshotError('not an object', snapshot);
    const keys = Object.keys(snapshot);
    const extra = keys.filter((k) => k !== 'balance');
    if (extra.length > 0) throw new BankSnapshotError(`unexpected fields ${extra.join(', ')}`, snapshot);
    const balance = snapshot['balance'];
    if (typeof balance !== 'number' || !Number.isSafeInteger(balance) || balance < 0) {
      throw new BankSnapshotError('balance must be a safe integer >= 0', snapshot);
    }
    this.balance = balance;
  }

  inspect(): BankSnapshot {
    return { balance: this.balance };
  }
}

export function createBank(): BankStateMachine {
  return new BankStateMachine();
}

function assertNever(value: never): never {
  throw new RaftHarnessError(`unreachable bank operation ${describe(value)}`);
}
