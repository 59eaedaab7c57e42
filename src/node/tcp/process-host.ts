import { randomBytes } from 'node:crypto';
import { createRandom, deriveSeed, type Random } from '../../raft/random.js';
import type { NodeId } from '../../raft/types.js';
import { FileStorage } from '../file-storage.js';
import type { NodeProgram, NodeProgramFactory } from '../program.js';
import { formatHostPort, type HostPort } from './address.js';
import { lockDataDir } from './data-lock.js';
import { GroupCommit } from './group-commit.js';
import type { LogLevel } from './peer-link.js';
import { TcpTransport, type TcpTransportOptions, type TcpTransportStats } from './transport.js';
import type { StatusReply } from './wire.js';

export type TcpNodeOptions = {
  readonly id: NodeId;
  readonly listen: HostPort;
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  /** FileStorage directory; locked for this process while it runs. */
  readonly dataDir: string;
  readonly program: NodeProgramFactory;
  /** The program's options, plain data (for Raft: `{ raft: Partial<RaftOptions> }`). */
  readonly programOptions?: unknown;
  /** Seeds the node's randomness (election timeouts); default: from the OS. */
  readonly seed?: number;
  /** Log lines; `debug` ones (every trace event, every connection) only matter with --verbose. */
  readonly log?: (level: LogLevel, line: string) => void;
  /** The disk failed under the node: the host should exit (nonzero) now. */
  readonly onFatal?: (error: unknown) => void;
  readonly transport?: Pick<TcpTransportOptions, 'maxFrameBytes' | 'sendQueue' | 'backoff' | 'maxConnections' | 'handshakeTimeoutMs'>;
};

/** What a `Status` request returns: the program's view without its log, plus the process's. */
export type TcpNodeStatus = {
  readonly id: NodeId;
  readonly pid: number;
  readonly uptimeMs: number;
  readonly lastLogIndex: number | null;
  readonly lastLogTerm: number | null;
  readonly transport: TcpTransportStats;
  /** Real fsync rounds, buffered writes, and syncs the program asked for (group commit merges them). */
  readonly storage: { readonly syncs: number; readonly writes: number; readonly syncsRequested: number };
  readonly [field: string]: unknown;
};

export type TcpNode = {
  readonly id: NodeId;
  /** The bound address (the real port when listening on port 0). */
  readonly address: HostPort;
  status(): TcpNodeStatus;
  /** Stop accepting, stop the program, flush storage and queued frames, close files. Idempotent. */
  shutdown(): Promise<void>;
};

/**
 * Runs one node program as a real process would: real timers, FileStorage in `dataDir`, a
 * TcpTransport for `send`. Apart from the transport and the disk, the program cannot tell this
 * host from the harness's worker, which is the point: what was tested is what runs.
 */
export async function startTcpNode(options: TcpNodeOptions): Promise<TcpNode> {
  const log = options.log ?? (() => {});
  const release = lockDataDir(options.dataDir);
  let storage: FileStorage | null = null;
  let transport: TcpTransport | null = null;
  try {
    storage = FileStorage.open(options.dataDir);
    const seed = options.seed ?? randomBytes(4).readUInt32LE(0);
    const random: Random = createRandom(deriveSeed(seed, options.id));
    transport = await TcpTransport.start({
      ...options.transport,
      id: options.id,
      listen: options.listen,
      peers: options.peers,
      random: createRandom(deriveSeed(seed, `${options.id}/backoff`)),
      log,
    });
    const members = [options.id, ...options.peers.keys()].sort();
    const started = performance.now();
    const net = transport;
    const disk = storage;
    const group = new GroupCommit(disk, (message) => net.send(message), (error) => {
      // The disk can no longer be trusted to hold what the node promised: stop being a node.
      log('info', `fatal: sync failed: ${(error as Error).message}`);
      options.onFatal?.(error);
    });
    const program: NodeProgram = await options.program({
      id: options.id,
      members,
      peers: members.filter((m) => m !== options.id),
      send: (message) => group.send(message),
      storage: group.storage,
      random,
      emit: (event) => log(isNotable(event) ? 'info' : 'debug', describeEvent(event)),
      options: options.programOptions ?? {},
    });
    const status = (): TcpNodeStatus => ({
      ...summarize(program.inspect()),
      id: options.id,
      pid: process.pid,
      uptimeMs: Math.round(performance.now() - started),
      transport: net.stats(),
      storage: { syncs: disk.syncCount, writes: disk.writeCount, syncsRequested: group.stats().requested },
    });
    net.listen((message) => {
      const m = message as { type: string; from: string; requestId: number };
      if (m.type !== 'Status') return program.onMessage(message);
      const reply: StatusReply = { type: 'StatusReply', from: options.id, to: m.from, requestId: m.requestId, status: status() };
      group.send(reply);
    });
    const peerList = [...options.peers].map(([id, a]) => `${id}=${formatHostPort(a)}`).join(',') || 'none';
    log('info', `node ${options.id} listening on ${formatHostPort(net.address)}, peers ${peerList}, data ${options.dataDir}`);

    let stopping: Promise<void> | null = null;
    return {
      id: options.id,
      address: net.address,
      status,
      shutdown: () =>
        (stopping ??= (async () => {
          net.listen(() => {});
          try {
            // The commit index is written lazily; sync it so a restart re-applies all it can.
            group.flush();
            disk.sync();
          } catch (error) {
            log('info', `final sync failed: ${(error as Error).message}`);
          }
          await program.stop();
          await net.shutdown(500);
          disk.close();
          release();
          log('info', `node ${options.id} stopped`);
        })()),
    };
  } catch (error) {
    transport?.close();
    storage?.close();
    release();
    throw error;
  }
}

/** Leadership changes and dropped messages are worth a line without --verbose; the rest is noise. */
function isNotable(event: { readonly type: string; readonly [field: string]: unknown }): boolean {
  if (event.type === 'malformed-message') return true;
  return event.type === 'role' && (event['to'] === 'leader' || event['from'] === 'leader');
}

function describeEvent(event: { readonly type: string; readonly [field: string]: unknown }): string {
  const e = event as Record<string, unknown>;
  switch (event.type) {
    case 'role':
      return `role ${String(e['from'])} -> ${String(e['to'])} in term ${String(e['term'])}`;
    case 'term':
      return `term ${String(e['from'])} -> ${String(e['to'])}`;
    case 'commit':
      return `commit ${String(e['from'])} -> ${String(e['to'])}`;
    case 'malformed-message':
      return `dropped a malformed message: ${String(e['error'])}`;
    default:
      return `${event.type} ${JSON.stringify(event)}`;
  }
}

/** The program's own view, with its log replaced by its last index and term: a log can be huge. */
function summarize(view: unknown): Record<string, unknown> & { lastLogIndex: number | null; lastLogTerm: number | null } {
  if (typeof view !== 'object' || view === null) return { app: view, lastLogIndex: null, lastLogTerm: null };
  const { log, ...rest } = view as Record<string, unknown>;
  if (!Array.isArray(log)) return { ...rest, lastLogIndex: null, lastLogTerm: null };
  const last = log.at(-1) as { index?: unknown; term?: unknown } | undefined;
  // With the whole log compacted, the last entry is the snapshot's.
  const snapIndex = typeof rest['snapshotIndex'] === 'number' ? rest['snapshotIndex'] : 0;
  const snapTerm = typeof rest['snapshotTerm'] === 'number' ? rest['snapshotTerm'] : 0;
  return {
    ...rest,
    lastLogIndex: typeof last?.index === 'number' ? last.index : snapIndex,
    lastLogTerm: typeof last?.term === 'number' ? last.term : snapTerm,
  };
}
