import type { Random } from '../raft/random.js';
import type { NodeId } from '../raft/types.js';
import type { Storage } from './storage.js';

/**
 * What a node program gets from whatever hosts it (a worker thread, the inline host, a process):
 * its identity, a way to send plain-data messages, its disk, its randomness and a trace sink.
 * Everything time-related goes through the global timers, which the host may control.
 */
export type NodeContext = {
  readonly id: NodeId;
  /** Every member of the cluster, this node included, in the cluster's order. */
  readonly members: readonly NodeId[];
  /** The other members. */
  readonly peers: readonly NodeId[];
  /** Sends one plain-data message; `to` is a node id or a client address. */
  send(message: { readonly to: string; readonly [field: string]: unknown }): void;
  readonly storage: Storage;
  readonly random: Random;
  /** Publishes a structured trace event (role change, commit, apply, ...). */
  emit(event: { readonly type: string; readonly [field: string]: unknown }): void;
  /** Program-specific options, plain data (for Raft: `{ raft: Partial<RaftOptions> }`). */
  readonly options: unknown;
};

/** A running node program. Handlers run to completion; the host delivers one input at a time. */
export type NodeProgram = {
  onMessage(message: unknown): void;
  /** A plain-data view of the node's state. */
  inspect(): unknown;
  stop(): void | Promise<void>;
};

export type NodeProgramFactory = (context: NodeContext) => NodeProgram | Promise<NodeProgram>;
