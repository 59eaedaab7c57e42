/**
 * The replicated application. `apply` runs on every node, in log order, exactly once per
 * (clientId, seq) session key, so it must be deterministic: no clocks, no randomness, no I/O.
 * It never throws for bad client input; it returns an error result (that, too, is replicated).
 */
export interface StateMachine {
  /** Applies a committed write and returns its result (plain data). */
  apply(op: unknown): unknown;
  /** Answers a read-only operation against the current state (plain data). */
  query(op: unknown): unknown;
  /** True if `op` only reads: it is served with ReadIndex instead of going through the log. */
  isReadOnly(op: unknown): boolean;
  /** A plain-data copy of the whole state. */
  snapshot(): unknown;
  /** Replaces the state with one produced by `snapshot()`. */
  restore(snapshot: unknown): void;
  /** A small plain-data summary for inspection (`NodeSnapshot.app`). */
  inspect(): unknown;
}
