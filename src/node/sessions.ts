import type { ClientCommand } from '../raft/types.js';
import type { StateMachine } from './state-machine.js';

type Session = {
  /** Highest seq applied for this client. A client has one write outstanding at a time. */
  readonly seq: number;
  /** Its result, returned again (not re-applied) when that request is retried. */
  readonly result: unknown;
};

export type SessionResult =
  | { readonly kind: 'applied'; readonly result: unknown }
  | { readonly kind: 'duplicate'; readonly result: unknown }
  | { readonly kind: 'stale' };

/**
 * Exactly-once application of client commands (dissertation §6.3). Every node applies the same
 * log through its own table, so every node makes the same decision for every entry: the table
 * is part of the replicated state and belongs in snapshots.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  apply(command: ClientCommand, machine: StateMachine): SessionResult {
    const last = this.sessions.get(command.clientId);
    if (last !== undefined && command.seq <= last.seq) {
      return command.seq === last.seq ? { kind: 'duplicate', result: last.result } : { kind: 'stale' };
    }
    const result = machine.apply(command.op);
    this.sessions.set(command.clientId, { seq: command.seq, result });
    return { kind: 'applied', result };
  }

  /** The cached answer if (clientId, seq) was already applied. */
  lookup(clientId: string, seq: number): SessionResult | undefined {
    const last = this.sessions.get(clientId);
    if (last === undefined || seq > last.seq) return undefined;
    return seq === last.seq ? { kind: 'duplicate', result: last.result } : { kind: 'stale' };
  }

  get size(): number {
    return this.sessions.size;
  }

  snapshot(): Array<[string, Session]> {
    return [...this.sessions.entries()].map(([id, s]) => [id, { ...s }]);
  }

  restore(entries: ReadonlyArray<readonly [string, Session]>): void {
    this.sessions.clear();
    for (const [id, s] of entries) this.sessions.set(id, { seq: s.seq, result: s.result });
  }
}
