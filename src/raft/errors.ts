/**
 * Every error this library throws is a small named class whose message starts with
 * `raft-harness:` and carries the offending values. Across a worker boundary the class is lost,
 * so callers match on `name`, which each class sets explicitly (minifiers rename classes).
 */
export class RaftHarnessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`raft-harness: ${message}`, options);
    this.name = 'RaftHarnessError';
  }
}

/** A configuration value is out of range; names the field, the value and what is allowed. */
export class InvalidConfigError extends RaftHarnessError {
  readonly field: string;
  readonly value: unknown;
  readonly allowed: string;
  constructor(field: string, value: unknown, allowed: string) {
    super(`invalid config: ${field} = ${describe(value)}; allowed: ${allowed}`);
    this.name = 'InvalidConfigError';
    this.field = field;
    this.value = value;
    this.allowed = allowed;
  }
}

/**
 * A message that is not structurally a protocol message (unknown type, wrong field type, negative
 * term, missing field). Stale or rejected messages are not this: they are protocol outcomes.
 */
export class MalformedMessageError extends RaftHarnessError {
  readonly problem: string;
  readonly received: unknown;
  constructor(problem: string, received: unknown) {
    super(`malformed message: ${problem}; received ${describe(received)}`);
    this.name = 'MalformedMessageError';
    this.problem = problem;
    this.received = received;
  }
}

/**
 * A protocol invariant broke inside the core (two leaders in one term, a committed entry about to
 * be overwritten, time going backwards). Thrown at once: continuing would corrupt state.
 */
export class RaftInvariantError extends RaftHarnessError {
  readonly node: string;
  constructor(node: string, what: string) {
    super(`invariant broken on ${node}: ${what}`);
    this.name = 'RaftInvariantError';
    this.node = node;
  }
}

/** Storage found on disk cannot be read back as what was written (torn header, bad checksum). */
export class StorageCorruptError extends RaftHarnessError {
  readonly path: string;
  constructor(path: string, what: string) {
    super(`storage corrupt at ${path}: ${what}`);
    this.name = 'StorageCorruptError';
    this.path = path;
  }
}

/** Short, bounded rendering of a value for an error message. */
export function describe(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
