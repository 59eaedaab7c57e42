import { BankStateMachine, type BankResult } from '../../src/apps/bank/bank.js';
import { RaftHarnessError, describe as render } from '../../src/raft/errors.js';
import { InvalidHistoryError, partitionBy, type Model, type StepResult } from './linearizability.js';

/**
 * The models `checkLinearizable` ships with. Each takes its inputs and outputs as `unknown`
 * (histories come from real clients) and checks their shape: a malformed one is an
 * `InvalidHistoryError`, not a violation.
 */

/** A register's value: JSON-like data; `null` before the first write. */
export type RegisterValue = unknown;
export type RegisterInput =
  | { readonly op: 'read' }
  | { readonly op: 'write'; readonly value: RegisterValue }
  | { readonly op: 'cas'; readonly from: RegisterValue; readonly to: RegisterValue };
/** read → `{ value }`, write → `{}`, cas → `{ ok }`. */
export type RegisterOutput = { readonly value: RegisterValue } | Record<string, never> | { readonly ok: boolean };

export type KvInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'append'; readonly key: string; readonly value: string };
/** get → `{ value }` (`''` when absent), put and append → `{}`. */
export type KvOutput = { readonly value: string } | Record<string, never>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON-like values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  if (ka.length !== Object.keys(rb).length) return false;
  return ka.every((k) => Object.hasOwn(rb, k) && jsonEqual(ra[k], rb[k]));
}

/** A key equal values share (sorted object keys); numbers and strings as themselves. */
function jsonHash(value: unknown): string | number {
  if (typeof value === 'number' || typeof value === 'string') return value;
  return canonical(value);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

function field(output: unknown, name: string, what: string): unknown {
  if (!isRecord(output) || !Object.hasOwn(output, name)) throw new InvalidHistoryError(`${what} must output { ${name} }`, output);
  return output[name];
}

function expectRecord(output: unknown, what: string): void {
  if (!isRecord(output)) throw new InvalidHistoryError(`${what} must output an object ({})`, output);
}

function parseRegisterInput(input: unknown): RegisterInput {
  if (isRecord(input)) {
    switch (input['op']) {
      case 'read':
        return { op: 'read' };
      case 'write':
        if (input['value'] !== undefined) return { op: 'write', value: input['value'] };
        break;
      case 'cas':
        if (input['from'] !== undefined && input['to'] !== undefined) return { op: 'cas', from: input['from'], to: input['to'] };
        break;
    }
  }
  throw new InvalidHistoryError('a register input is { op: "read" }, { op: "write", value } or { op: "cas", from, to }', input);
}

/**
 * A single register: read, write and compare-and-set. Values compare structurally (JSON-like
 * data); a read before any write returns `null`.
 */
function register(): Model<RegisterValue> {
  const step = (state: RegisterValue, input: unknown, output: unknown): StepResult<RegisterValue> => {
    const op = parseRegisterInput(input);
    switch (op.op) {
      case 'read':
        return { ok: jsonEqual(field(output, 'value', 'a read'), state), next: state };
      case 'write':
        expectRecord(output, 'a write');
        return { ok: true, next: op.value };
      case 'cas': {
        const ok = field(output, 'ok', 'a cas');
        if (typeof ok !== 'boolean') throw new InvalidHistoryError('a cas must output { ok: boolean }', output);
        const matches = jsonEqual(state, op.from);
        return { ok: ok === matches, next: matches ? op.to : state };
      }
      default:
        return assertNever(op);
    }
  };
  return {
    name: 'register',
    init: () => null,
    step,
    stepUnknown: (state, input) => {
      const op = parseRegisterInput(input);
      switch (op.op) {
        case 'read':
          return [state];
        case 'write':
          return [op.value];
        case 'cas':
          return [jsonEqual(state, op.from) ? op.to : state];
        default:
          return assertNever(op);
      }
    },
    equal: jsonEqual,
    hash: jsonHash,
    describe: (input, output) => {
      const op = parseRegisterInput(input);
      const unknown = output === undefined ? ' → ?' : '';
      switch (op.op) {
        case 'read':
          return `read() → ${output === undefined ? '?' : render(isRecord(output) ? output['value'] : output)}`;
        case 'write':
          return `write(${render(op.value)})${unknown}`;
        case 'cas':
          return `cas(${render(op.from)}, ${render(op.to)}) → ${output === undefined ? '?' : isRecord(output) && output['ok'] === true ? 'ok' : 'failed'}`;
        default:
          return assertNever(op);
      }
    },
    describeState: (state) => render(state),
  };
}

function parseKvInput(input: unknown): KvInput {
  if (isRecord(input) && typeof input['key'] === 'string') {
    const key = input['key'];
    const value = input['value'];
    switch (input['op']) {
      case 'get':
        return { op: 'get', key };
      case 'put':
      case 'append':
        if (typeof value === 'string') return { op: input['op'], key, value };
        break;
    }
  }
  throw new InvalidHistoryError('a kv input is { op: "get", key } or { op: "put" | "append", key, value } with string key and value', input);
}

/**
 * A string key/value store (the 6.5840 kvraft service): get, put, append. Checked one key at a
 * time (Porcupine's partition by key), so the state is the value of the partition's one key.
 */
function kv(): Model<string> {
  const step = (state: string, input: unknown, output: unknown): StepResult<string> => {
    const op = parseKvInput(input);
    switch (op.op) {
      case 'get': {
        const value = field(output, 'value', 'a get');
        if (typeof value !== 'string') throw new InvalidHistoryError('a get must output { value: string }', output);
        return { ok: value === state, next: state };
      }
      case 'put':
        expectRecord(output, 'a put');
        return { ok: true, next: op.value };
      case 'append':
        expectRecord(output, 'an append');
        return { ok: true, next: state + op.value };
      default:
        return assertNever(op);
    }
  };
  return {
    name: 'kv',
    init: () => '',
    step,
    stepUnknown: (state, input) => {
      const op = parseKvInput(input);
      switch (op.op) {
        case 'get':
          return [state];
        case 'put':
          return [op.value];
        case 'append':
          return [state + op.value];
        default:
          return assertNever(op);
      }
    },
    equal: (a, b) => a === b,
    hash: (state) => state,
    partition: (history) =>
      partitionBy(history, (op, index) => {
        try {
          return parseKvInput(op.input).key;
        } catch (error) {
          if (error instanceof InvalidHistoryError) throw new InvalidHistoryError(error.problem, error.received, index);
          throw error;
        }
      }),
    describe: (input, output) => {
      const op = parseKvInput(input);
      switch (op.op) {
        case 'get':
          return `get(${render(op.key)}) → ${output === undefined ? '?' : render(isRecord(output) ? output['value'] : output)}`;
        case 'put':
        case 'append':
          return `${op.op}(${render(op.key)}, ${render(op.value)})${output === undefined ? ' → ?' : ''}`;
        default:
          return assertNever(op);
      }
    },
    describeState: (state) => render(state),
  };
}

function isBankResult(value: unknown): value is BankResult {
  if (!isRecord(value)) return false;
  if (value['ok'] === true) return typeof value['balance'] === 'number';
  return value['ok'] === false && typeof value['error'] === 'string';
}

/**
 * The bank teller of src/apps/bank: one account starting at 0. Each step runs the app's own
 * `BankStateMachine.apply`, so the model refuses, rounds and errs exactly as the replicas do
 * (a refused debit leaves the balance; invalid input is `invalid-amount` or `invalid-operation`).
 */
function bank(): Model<number> {
  const teller = new BankStateMachine();
  const apply = (balance: number, input: unknown): { readonly result: BankResult; readonly next: number } => {
    teller.restore({ balance });
    const result = teller.apply(input);
    return { result, next: teller.inspect().balance };
  };
  return {
    name: 'bank',
    init: () => 0,
    step: (state, input, output) => {
      if (!isBankResult(output)) {
        throw new InvalidHistoryError('a bank output is { ok: true, balance: number } or { ok: false, error: string }', output);
      }
      const { result, next } = apply(state, input);
      const ok = result.ok ? output.ok && output.balance === result.balance : !output.ok && output.error === result.error;
      return { ok, next };
    },
    stepUnknown: (state, input) => [apply(state, input).next],
    equal: (a, b) => a === b,
    hash: (state) => state,
    describe: (input, output) => {
      const call = isRecord(input) && (input['op'] === 'credit' || input['op'] === 'debit') ? `${input['op']}(${render(input['amount'])})` : isRecord(input) && input['op'] === 'balance' ? 'balance()' : `invalid ${render(input)}`;
      if (output === undefined) return `${call} → ?`;
      if (!isBankResult(output)) return `${call} → ${render(output)}`;
      return `${call} → ${output.ok ? `balance ${output.balance}` : output.error}`;
    },
    describeState: (state) => `balance ${state}`,
  };
}

export const models = { register, kv, bank } as const;

function assertNever(value: never): never {
  throw new RaftHarnessError(`unreachable model operation ${render(value)}`);
}
