import type { ChangeRefusal, Membership, MembershipChange, NodeId, RaftMessage } from '../raft/types.js';

/**
 * A client's request to a node. Writes are applied exactly once per (clientId, seq): a client
 * keeps one request outstanding and retries it, with the same seq, until it gets an answer.
 * Read-only operations (as the state machine says) are served by ReadIndex and ignore `seq`.
 */
export type ClientRequest = {
  readonly type: 'ClientRequest';
  /** Address to reply to (a client address, not necessarily a node). */
  readonly from: string;
  readonly to: NodeId;
  readonly clientId: string;
  readonly seq: number;
  /** Distinguishes retries on the wire; echoed in the reply. */
  readonly requestId: number;
  readonly op: unknown;
};

export const CLIENT_ERRORS = ['not-leader', 'stale-request'] as const;
/**
 * `not-leader`: retry at `leaderHint` (or another node) — the request may or may not have been
 * applied, so retry with the same seq. `stale-request`: the session already moved past `seq`.
 */
export type ClientError = (typeof CLIENT_ERRORS)[number];

export type ClientReply = {
  readonly type: 'ClientReply';
  readonly from: NodeId;
  readonly to: string;
  readonly clientId: string;
  readonly seq: number;
  readonly requestId: number;
} & (
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: ClientError; readonly leaderHint: NodeId | null }
);

/**
 * An operator's request to the leader: a single-server membership change, or a leadership
 * transfer to `id`. Idempotent, so an operator may retry it freely: asking for a membership the
 * cluster already has (committed) succeeds at once.
 */
export type AdminOp = MembershipChange | { readonly type: 'transfer'; readonly id: NodeId };
export const ADMIN_OPS = ['add-learner', 'promote', 'remove', 'transfer'] as const satisfies ReadonlyArray<AdminOp['type']>;

export type AdminRequest = {
  readonly type: 'AdminRequest';
  readonly from: string;
  readonly to: NodeId;
  readonly requestId: number;
  readonly op: AdminOp;
};

/**
 * `ok`: the change committed (membership ops), or the leader handed over (transfer). Errors:
 * the leader's refusals, and `transfer-timeout` when the target did not take over in time.
 */
export type AdminReply = {
  readonly type: 'AdminReply';
  readonly from: NodeId;
  readonly to: string;
  readonly requestId: number;
} & (
  | { readonly ok: true; readonly membership: Membership }
  | { readonly ok: false; readonly error: ChangeRefusal | 'transfer-timeout'; readonly leaderHint: NodeId | null }
);

/** Everything that travels between nodes and clients. */
export type WireMessage = RaftMessage | ClientRequest | ClientReply | AdminRequest | AdminReply;

export function isAdminRequest(value: unknown): value is { type: 'AdminRequest' } & Record<string, unknown> {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'AdminRequest';
}

/** Shape check of an admin request from the network; returns a reason when malformed. */
export function adminRequestProblem(value: Record<string, unknown>): string | null {
  if (typeof value.from !== 'string' || value.from.length === 0) return 'from must be a non-empty string';
  if (typeof value.to !== 'string') return 'to must be a node id';
  if (typeof value.requestId !== 'number' || !Number.isSafeInteger(value.requestId)) return 'requestId must be an integer';
  const op = value.op as Record<string, unknown> | null;
  if (typeof op !== 'object' || op === null || !(ADMIN_OPS as readonly unknown[]).includes(op.type)) {
    return `op.type must be one of ${ADMIN_OPS.join(', ')}`;
  }
  if (typeof op.id !== 'string' || op.id.length === 0) return 'op.id must be a node id';
  return null;
}

export function isClientRequest(value: unknown): value is { type: 'ClientRequest' } & Record<string, unknown> {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'ClientRequest';
}

/** Shape check of a request arriving from the network; returns a reason when malformed. */
export function clientRequestProblem(value: Record<string, unknown>): string | null {
  if (typeof value.from !== 'string' || value.from.length === 0) return 'from must be a non-empty string';
  if (typeof value.to !== 'string') return 'to must be a node id';
  if (typeof value.clientId !== 'string' || value.clientId.length === 0) return 'clientId must be a non-empty string';
  if (typeof value.seq !== 'number' || !Number.isSafeInteger(value.seq) || value.seq < 0) return 'seq must be an integer >= 0';
  if (typeof value.requestId !== 'number' || !Number.isSafeInteger(value.requestId)) return 'requestId must be an integer';
  if (!('op' in value)) return 'op is missing';
  return null;
}
