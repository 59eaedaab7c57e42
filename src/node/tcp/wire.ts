import { RAFT_MESSAGE_TYPES, type NodeId } from '../../raft/types.js';
import { MalformedFrameError } from './errors.js';
import { WIRE_VERSION, type Frame } from './frame.js';

/*
 * What travels over a connection, beyond the Raft messages and the client protocol themselves:
 *
 *   Hello        first frame on every connection: who dials (a node or a client) and whom it
 *                means to reach, so a misconfigured address is caught at once
 *   Status       a client asks a node how it is (role, term, commit, app, transport)
 *   StatusReply  the answer
 *
 * Connections are one-way between nodes (each node dials each peer and only writes on it) and
 * two-way to clients. A node never dials a client: it answers on the connection the request came
 * in on, which it names by rewriting the request's `from` to `conn:<n>/<from>`. The reply's `to`
 * routes it back to connection n, where it leaves with the client's own `from` restored.
 */

export type PeerRole = 'node' | 'client';

export type Hello = {
  readonly type: 'Hello';
  readonly version: number;
  readonly role: PeerRole;
  /** The dialer's id (a node id, or any name a client picks). */
  readonly from: string;
  /** The node the dialer means to reach. */
  readonly to: NodeId;
};

export type StatusRequest = { readonly type: 'Status'; readonly from: string; readonly to: NodeId; readonly requestId: number };
export type StatusReply = {
  readonly type: 'StatusReply';
  readonly from: NodeId;
  readonly to: string;
  readonly requestId: number;
  readonly status: unknown;
};

const RAFT_TYPES: ReadonlySet<string> = new Set(RAFT_MESSAGE_TYPES);
/** What a client may send a node after its Hello. */
const CLIENT_TYPES: ReadonlySet<string> = new Set(['ClientRequest', 'Status']);
const CONNECTION_ADDRESS = /^conn:(\d+)\/(.*)$/s;
/** Longest client-chosen name or address: bounds what a node keeps per request. */
const MAX_NAME = 256;

export function hello(role: PeerRole, from: string, to: NodeId): Hello {
  return { type: 'Hello', version: WIRE_VERSION, role, from, to };
}

/** Checks a connection's first frame; returns the dialer's role and name. */
export function checkHello(frame: Frame, self: NodeId, peers: ReadonlySet<NodeId>): { role: PeerRole; from: string } {
  if (frame.type !== 'Hello') throw new MalformedFrameError(`expected Hello as the first frame, got ${frame.type}`);
  if (frame['version'] !== WIRE_VERSION) throw new MalformedFrameError(`wire version ${String(frame['version'])}; this node speaks ${WIRE_VERSION}`);
  const { role, from, to } = frame;
  if (role !== 'node' && role !== 'client') throw new MalformedFrameError('Hello.role must be "node" or "client"', frame);
  if (typeof from !== 'string' || from.length === 0 || from.length > MAX_NAME) {
    throw new MalformedFrameError(`Hello.from must be a string of 1..${MAX_NAME} characters`, frame);
  }
  if (to !== self) throw new MalformedFrameError(`Hello is for ${JSON.stringify(to)}, but this is node ${self} (check the address map)`, frame);
  if (role === 'node' && !peers.has(from)) {
    throw new MalformedFrameError(`Hello from node ${JSON.stringify(from)}, which is not a peer of ${self} (${peers.size === 0 ? 'it has none' : `peers: ${[...peers].join(', ')}`})`);
  }
  return { role, from };
}

/** Checks a frame from a peer node after its Hello: a Raft message from that peer to this node. */
export function checkNodeFrame(frame: Frame, self: NodeId, peer: NodeId): void {
  if (!RAFT_TYPES.has(frame.type)) throw new MalformedFrameError(`node ${peer} sent ${JSON.stringify(frame.type)}, which is not a Raft message`);
  if (frame['from'] !== peer) throw new MalformedFrameError(`a message on ${peer}'s connection claims to be from ${JSON.stringify(frame['from'])}`);
  if (frame['to'] !== self) throw new MalformedFrameError(`a message for ${JSON.stringify(frame['to'])} reached node ${self}`);
}

/** Checks a frame from a client after its Hello; returns it addressed for the reply to come back on `connection`. */
export function checkClientFrame(frame: Frame, self: NodeId, connection: number): Frame {
  if (!CLIENT_TYPES.has(frame.type)) throw new MalformedFrameError(`a client sent ${JSON.stringify(frame.type)}; allowed: ${[...CLIENT_TYPES].join(', ')}`);
  const from = frame['from'];
  if (typeof from !== 'string' || from.length === 0 || from.length > MAX_NAME) {
    throw new MalformedFrameError(`${frame.type}.from must be a string of 1..${MAX_NAME} characters`, frame);
  }
  if (frame['to'] !== self) throw new MalformedFrameError(`${frame.type} for ${JSON.stringify(frame['to'])} reached node ${self}`, frame);
  const requestId = frame['requestId'];
  if (typeof requestId !== 'number' || !Number.isSafeInteger(requestId)) throw new MalformedFrameError(`${frame.type}.requestId must be an integer`, frame);
  return { ...frame, from: connectionAddress(connection, from) };
}

export function connectionAddress(connection: number, from: string): string {
  return `conn:${connection}/${from}`;
}

/** The connection and the client's own address named by a reply's `to`, or null if not one. */
export function parseConnectionAddress(to: string): { connection: number; to: string } | null {
  const m = CONNECTION_ADDRESS.exec(to);
  return m ? { connection: Number(m[1]), to: m[2]! } : null;
}
