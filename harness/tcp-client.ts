import { randomBytes } from 'node:crypto';
import type { ClientReply, ClientRequest } from '../src/node/client-protocol.js';
import type { HostPort } from '../src/node/tcp/address.js';
import { encodeFrame, MAX_FRAME_BYTES, type Frame } from '../src/node/tcp/frame.js';
import { DEFAULT_BACKOFF, PeerLink, type Log } from '../src/node/tcp/peer-link.js';
import type { TcpNodeStatus } from '../src/node/tcp/process-host.js';
import { DEFAULT_SEND_QUEUE } from '../src/node/tcp/send-queue.js';
import { hello, type StatusRequest } from '../src/node/tcp/wire.js';
import { InvalidConfigError, RaftHarnessError } from '../src/raft/errors.js';
import type { NodeId } from '../src/raft/types.js';
import { BankClient, type ClientHost, type ClientOptions } from './client.js';
import type { HistoryOperation } from './cluster.js';
import { ClusterTimeoutError } from './errors.js';

export type TcpClientsOptions = {
  /** The cluster: node id → address. */
  readonly nodes: ReadonlyMap<NodeId, HostPort>;
  /** Names this process's connections in the nodes' logs. */
  readonly name?: string;
  /**
   * Wall ms before an unanswered attempt goes to the next node. Longer than the harness's
   * virtual 100 ms: a real disk and a loaded machine answer slower, and a spurious retry costs
   * a round trip through a follower.
   */
  readonly retryInterval?: number;
  /** Keep every operation's call, return and output (for a linearizability check). */
  readonly recordHistory?: boolean;
  readonly log?: Log;
};

/** A node's answer to Status, or why there is none. */
export type StatusResult = { readonly ok: true; readonly status: TcpNodeStatus } | { readonly ok: false; readonly error: string };

/**
 * Bank clients for a cluster of real processes: one TCP connection per node, shared by every
 * client session made here, each session the harness's own BankClient (same retries, leader
 * hints and exactly-once sequence numbers), on real timers instead of the harness's clock.
 */
export class TcpClients {
  readonly ids: readonly NodeId[];
  readonly history: HistoryOperation[] = [];
  private readonly options: TcpClientsOptions;
  private readonly name: string;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly clients = new Map<string, BankClient>();
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly statusWaiters = new Map<number, (result: StatusResult) => void>();
  private readonly host: ClientHost;
  private nextTimer = 1;
  private nextStatus = 1;
  private nextClient = 1;
  private closed = false;

  constructor(options: TcpClientsOptions) {
    if (options.nodes.size === 0) throw new InvalidConfigError('nodes', [], 'at least one node id and address');
    this.options = options;
    this.ids = [...options.nodes.keys()];
    this.name = options.name ?? `client-${process.pid}-${randomBytes(3).toString('hex')}`;
    const log = options.log ?? (() => {});
    for (const [id, address] of options.nodes) {
      this.links.set(
        id,
        new PeerLink({
          name: id,
          address,
          hello: hello('client', this.name, id),
          queue: DEFAULT_SEND_QUEUE,
          maxFrameBytes: MAX_FRAME_BYTES,
          backoff: DEFAULT_BACKOFF,
          random: Math.random,
          eager: false,
          onFrame: (frame) => this.receive(frame),
          log,
        }),
      );
    }
    this.host = this.makeHost();
  }

  /** A new client session (its own id and sequence numbers) over the shared connections. */
  client(options: ClientOptions = {}): BankClient {
    const id = `${this.name}.${this.nextClient++}`;
    const client = new BankClient(id, { retryInterval: this.options.retryInterval ?? 500, ...options }, this.host);
    this.clients.set(`client:${id}`, client);
    return client;
  }

  /** Asks one node for its status; never rejects. */
  status(id: NodeId, timeoutMs = 2_000): Promise<StatusResult> {
    const link = this.links.get(id);
    if (link === undefined || this.closed) return Promise.resolve({ ok: false, error: `no node ${id}` });
    const requestId = this.nextStatus++;
    const failuresBefore = link.stats().failures;
    return new Promise((resolve) => {
      const done = (result: StatusResult): void => {
        clearTimeout(timer);
        clearInterval(watch);
        this.statusWaiters.delete(requestId);
        resolve(result);
      };
      const timer = setTimeout(() => {
        const s = link.stats();
        done({ ok: false, error: `no answer within ${timeoutMs} ms (${s.state}${s.lastError === null ? '' : `, last error: ${s.lastError}`})` });
      }, timeoutMs);
      // A refused or lost connection is an answer too: no need to sit out the timeout.
      const watch = setInterval(() => {
        const s = link.stats();
        if (s.failures > failuresBefore) done({ ok: false, error: `unreachable (${s.lastError ?? 'connection failed'})` });
      }, 20);
      this.statusWaiters.set(requestId, done);
      const request: StatusRequest = { type: 'Status', from: `status:${this.name}`, to: id, requestId };
      if (!link.send(encodeFrame(request))) {
        const s = link.stats();
        done({ ok: false, error: `unreachable (${s.state}${s.lastError === null ? '' : `, last error: ${s.lastError}`})` });
      }
    });
  }

  async statusAll(timeoutMs = 2_000): Promise<Map<NodeId, StatusResult>> {
    const results = await Promise.all(this.ids.map(async (id) => [id, await this.status(id, timeoutMs)] as const));
    return new Map(results);
  }

  /**
   * Polls every node until one says it leads, and returns it. Throws ClusterTimeoutError after
   * `timeoutMs`, with what each node last said.
   */
  async waitForLeader(timeoutMs = 10_000, pollMs = 100): Promise<NodeId> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const all = await this.statusAll(Math.min(2_000, timeoutMs));
      for (const [id, r] of all) if (r.ok && r.status['role'] === 'leader') return id;
      if (performance.now() >= deadline) throw new ClusterTimeoutError('a leader', `no node said it leads within ${timeoutMs} ms`, describeStatuses(all));
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** What each connection is doing: the report of a client operation that timed out. */
  connections(): string {
    return [...this.links]
      .map(([id, l]) => {
        const s = l.stats();
        return `  ${id} ${s.address}: ${s.state}${s.lastError === null ? '' : `, last error: ${s.lastError}`}`;
      })
      .join('\n');
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const l of this.links.values()) l.close();
    for (const w of this.statusWaiters.values()) w({ ok: false, error: 'client closed' });
    this.statusWaiters.clear();
  }

  private receive(frame: Frame): void {
    if (frame.type === 'ClientReply') {
      this.clients.get(String(frame['to']))?.receive(frame as unknown as ClientReply);
    } else if (frame.type === 'StatusReply') {
      const requestId = Number(frame['requestId']);
      const waiter = this.statusWaiters.get(requestId);
      this.statusWaiters.delete(requestId);
      waiter?.({ ok: true, status: frame['status'] as TcpNodeStatus });
    }
  }

  private makeHost(): ClientHost {
    return {
      ids: this.ids,
      now: () => performance.now(),
      send: (message: ClientRequest) => {
        this.links.get(message.to)?.send(encodeFrame(message as unknown as Frame));
      },
      setTimer: (at, _label, fire) => {
        const id = this.nextTimer++;
        this.timers.set(
          id,
          setTimeout(() => {
            this.timers.delete(id);
            fire();
          }, Math.max(0, at - performance.now())),
        );
        return id;
      },
      clearTimer: (id) => {
        const t = this.timers.get(id);
        if (t !== undefined) clearTimeout(t);
        this.timers.delete(id);
      },
      wait: () => Promise.reject(new RaftHarnessError('TcpClients: wait() is for virtual time; real clients settle by themselves')),
      realtime: true,
      record: (op) => {
        if (this.options.recordHistory) this.history.push(op);
      },
      trace: () => {},
      assertLive: (call) => {
        if (this.closed) throw new RaftHarnessError(`${call} after TcpClients.close()`);
      },
      hangReport: async () => `connections:\n${this.connections()}`,
    };
  }
}

export function describeStatuses(all: ReadonlyMap<NodeId, StatusResult>): string {
  return [...all]
    .map(([id, r]) => {
      if (!r.ok) return `  ${id}: ${r.error}`;
      const s = r.status;
      return `  ${id} ${s.transport.address}: ${String(s['role'])}, term ${String(s['term'])}, leader ${String(s['leaderId'] ?? '-')}, commit ${String(s['commitIndex'])}, applied ${String(s['lastApplied'])}, log ${String(s.lastLogIndex)}`;
    })
    .join('\n');
}
