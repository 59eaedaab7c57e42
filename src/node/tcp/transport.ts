import { createServer, type Server, type Socket } from 'node:net';
import { InvalidConfigError } from '../../raft/errors.js';
import type { Random } from '../../raft/random.js';
import type { NodeId } from '../../raft/types.js';
import type { Transport } from '../transport.js';
import { formatHostPort, type HostPort } from './address.js';
import { FrameChannel, isFrameError } from './channel.js';
import { ListenError, MalformedFrameError } from './errors.js';
import { encodeFrame, MAX_CLIENT_FRAME_BYTES, MAX_FRAME_BYTES, MAX_HANDSHAKE_FRAME_BYTES, type Frame } from './frame.js';
import { DEFAULT_BACKOFF, PeerLink, type Backoff, type Log, type PeerLinkStats } from './peer-link.js';
import { DEFAULT_SEND_QUEUE, SendQueue, checkSendQueueLimits, type SendQueueLimits } from './send-queue.js';
import { checkClientFrame, checkHello, checkNodeFrame, hello, parseConnectionAddress, type PeerRole } from './wire.js';

export type TcpTransportOptions = {
  readonly id: NodeId;
  readonly listen: HostPort;
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  readonly maxFrameBytes?: number;
  /** Per peer, and per client connection. */
  readonly sendQueue?: SendQueueLimits;
  readonly backoff?: Backoff;
  /** Jitter of the reconnect backoff. */
  readonly random?: Random;
  /**
   * Most accepted connections at once (peers and clients); more are refused, with a log line.
   * With the per-connection queue and frame limits it bounds what strangers can make a node hold.
   */
  readonly maxConnections?: number;
  /** A connection that has not said Hello by then is closed. */
  readonly handshakeTimeoutMs?: number;
  readonly log?: Log;
};

export const DEFAULT_MAX_CONNECTIONS = 256;
/** A client's replies: small, and a client has few in flight per session. */
export const CLIENT_SEND_QUEUE: SendQueueLimits = { maxMessages: 4096, maxBytes: 4 * 1024 * 1024 };

type Message = { readonly to: string; readonly [field: string]: unknown };

type Inbound = {
  readonly id: number;
  readonly remote: string;
  readonly channel: FrameChannel;
  role: PeerRole | null;
  name: string | null;
  timer: ReturnType<typeof setTimeout> | null;
};

export type TcpTransportStats = {
  readonly address: string;
  readonly peers: Readonly<Record<NodeId, PeerLinkStats>>;
  readonly connections: { readonly nodes: number; readonly clients: number; readonly handshaking: number };
  readonly accepted: number;
  /** Connections this node closed for a bad frame, a bad handshake or the connection limit. */
  readonly rejected: number;
  readonly lastRejection: string | null;
  readonly received: number;
  /** Messages for an address with no connection (a client gone, an unknown id). */
  readonly unroutable: number;
  /** Messages that could not be encoded (too large): never sent. */
  readonly unsendable: number;
};

/**
 * The Transport over TCP. Each node listens, and dials each peer (a PeerLink per peer, one-way:
 * it only writes there). Incoming connections start with a Hello naming a peer node or a client;
 * every frame after it is checked against that role, and the first bad one closes the connection
 * with a logged reason while the node goes on. Replies to clients leave on the connection the
 * request came in on (see wire.ts for the addressing).
 */
export class TcpTransport implements Transport {
  readonly id: NodeId;
  private readonly options: TcpTransportOptions;
  private readonly server: Server;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly peerIds: ReadonlySet<NodeId>;
  private readonly inbound = new Map<number, Inbound>();
  private readonly maxFrameBytes: number;
  private readonly sendQueue: SendQueueLimits;
  private readonly log: Log;
  private receiver: (message: unknown) => void = () => {};
  private bound: HostPort;
  private nextConnection = 1;
  private closing = false;
  private counts = { accepted: 0, rejected: 0, received: 0, unroutable: 0, unsendable: 0 };
  private lastRejection: string | null = null;

  private constructor(options: TcpTransportOptions, server: Server, bound: HostPort) {
    this.options = options;
    this.id = options.id;
    this.server = server;
    this.bound = bound;
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.sendQueue = checkSendQueueLimits(options.sendQueue ?? DEFAULT_SEND_QUEUE);
    this.log = options.log ?? (() => {});
    this.peerIds = new Set(options.peers.keys());
    for (const [peer, address] of options.peers) {
      this.links.set(
        peer,
        new PeerLink({
          name: peer,
          address,
          hello: hello('node', options.id, peer),
          queue: this.sendQueue,
          maxFrameBytes: this.maxFrameBytes,
          backoff: options.backoff ?? DEFAULT_BACKOFF,
          random: options.random ?? Math.random,
          eager: true,
          log: this.log,
        }),
      );
    }
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens (port 0: any free port, see `address`) and starts dialing the peers. */
  static async start(options: TcpTransportOptions): Promise<TcpTransport> {
    if (options.peers.has(options.id)) throw new InvalidConfigError('peers', options.id, 'the other nodes, not this one');
    const limit = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidConfigError('maxConnections', limit, 'an integer >= 1');
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenError(formatHostPort(options.listen), error)));
      server.listen({ host: options.listen.host, port: options.listen.port, exclusive: true }, resolve);
    });
    const info = server.address();
    const port = typeof info === 'object' && info !== null ? info.port : options.listen.port;
    const transport = new TcpTransport(options, server, { host: options.listen.host, port });
    server.on('error', (error) => transport.log('info', `listener error: ${error.message}`));
    for (const link of transport.links.values()) link.start();
    return transport;
  }

  /** Where the node listens (with the real port when it was started on port 0). */
  get address(): HostPort {
    return this.bound;
  }

  listen(receiver: (message: unknown) => void): void {
    this.receiver = receiver;
  }

  send(message: Message): void {
    if (this.closing) return;
    const link = this.links.get(message.to);
    if (link !== undefined) {
      const frame = this.encode(message);
      if (frame !== null) link.send(frame);
      return;
    }
    const back = parseConnectionAddress(message.to);
    const conn = back === null ? undefined : this.inbound.get(back.connection);
    if (back === null || conn === undefined || conn.role !== 'client') {
      this.counts.unroutable += 1;
      return;
    }
    const frame = this.encode({ ...message, to: back.to });
    if (frame !== null) conn.channel.write(frame);
  }

  /** Closes everything at once: queued frames are dropped. */
  close(): void {
    this.closing = true;
    this.server.close();
    for (const link of this.links.values()) link.close();
    for (const conn of this.inbound.values()) conn.channel.close(null);
  }

  /**
   * Graceful: stop accepting, send what is queued to peers and clients (within `timeoutMs`),
   * then close every connection.
   */
  async shutdown(timeoutMs = 500): Promise<void> {
    this.closing = true;
    const listening = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([
      ...[...this.links.values()].map((l) => l.flushAndClose(timeoutMs)),
      ...[...this.inbound.values()].map((c) => (c.role === 'client' ? c.channel.flushAndEnd(timeoutMs) : Promise.resolve())),
    ]);
    this.close();
    await listening;
  }

  stats(): TcpTransportStats {
    const conns = [...this.inbound.values()];
    return {
      address: formatHostPort(this.bound),
      peers: Object.fromEntries([...this.links].map(([id, l]) => [id, l.stats()])),
      connections: {
        nodes: conns.filter((c) => c.role === 'node').length,
        clients: conns.filter((c) => c.role === 'client').length,
        handshaking: conns.filter((c) => c.role === null).length,
      },
      ...this.counts,
      lastRejection: this.lastRejection,
    };
  }

  private encode(message: Message): Buffer | null {
    try {
      return encodeFrame(message as unknown as Frame, this.maxFrameBytes);
    } catch (error) {
      if (!isFrameError(error)) throw error;
      this.counts.unsendable += 1;
      this.log('info', `not sent to ${message.to}: ${error.message}`);
      return null;
    }
  }

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.closing) {
      socket.destroy();
      return;
    }
    const limit = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.inbound.size >= limit) {
      this.reject(`connection from ${remote}`, `the node already has ${limit} connections (the limit)`);
      socket.destroy();
      return;
    }
    this.counts.accepted += 1;
    const id = this.nextConnection++;
    // A client's replies are queued per connection: a client that stops reading loses its own replies only.
    const queue = new SendQueue(this.options.sendQueue ?? CLIENT_SEND_QUEUE);
    const conn: Inbound = {
      id,
      remote,
      role: null,
      name: null,
      timer: null,
      channel: new FrameChannel(
        socket,
        queue,
        {
          onFrame: (frame) => this.onFrame(conn, frame),
          onClose: (reason) => this.onClose(conn, reason),
        },
        Math.min(this.maxFrameBytes, MAX_HANDSHAKE_FRAME_BYTES),
      ),
    };
    const wait = this.options.handshakeTimeoutMs ?? 10_000;
    conn.timer = setTimeout(() => conn.channel.close(new MalformedFrameError(`no Hello within ${wait} ms`)), wait);
    this.inbound.set(id, conn);
  }

  private onFrame(conn: Inbound, frame: Frame): void {
    if (conn.role === null) {
      const h = checkHello(frame, this.id, this.peerIds);
      conn.role = h.role;
      conn.name = h.from;
      // Only a peer may send frames as large as Raft batches; a client gets far less.
      conn.channel.setMaxFrameBytes(h.role === 'node' ? this.maxFrameBytes : Math.min(this.maxFrameBytes, MAX_CLIENT_FRAME_BYTES));
      if (conn.timer !== null) clearTimeout(conn.timer);
      conn.timer = null;
      this.log('debug', `connection #${conn.id} from ${conn.remote}: ${h.role} ${h.from}`);
      return;
    }
    let message: Frame;
    if (conn.role === 'node') {
      checkNodeFrame(frame, this.id, conn.name!);
      message = frame;
    } else {
      message = checkClientFrame(frame, this.id, conn.id);
    }
    this.counts.received += 1;
    this.receiver(message);
  }

  private onClose(conn: Inbound, reason: Error | null): void {
    if (conn.timer !== null) clearTimeout(conn.timer);
    this.inbound.delete(conn.id);
    const who = `connection #${conn.id} from ${conn.remote}${conn.role === null ? '' : ` (${conn.role} ${conn.name})`}`;
    if (reason !== null && isFrameError(reason)) this.reject(who, reason.message);
    else if (!this.closing) this.log('debug', `${who} closed${reason === null ? '' : `: ${reason.message}`}`);
  }

  private reject(who: string, why: string): void {
    this.counts.rejected += 1;
    this.lastRejection = `${who}: ${why}`;
    this.log('info', `closed ${who}: ${why}`);
  }
}
