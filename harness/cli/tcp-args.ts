import { parseArgs } from 'node:util';
import { checkNodeId, parseHostPort, parsePeers, type HostPort } from '../../src/node/tcp/address.js';
import { resolveRaftOptions, type RaftOptions } from '../../src/raft/config.js';
import { InvalidConfigError } from '../../src/raft/errors.js';
import type { NodeId } from '../../src/raft/types.js';
import { UsageError } from './usage-error.js';

/**
 * Real networks and disks are slower and noisier than the harness's: etcd's defaults (100 ms
 * heartbeat, 1 s election timeout) are the usual choice; half of that keeps failover quick.
 */
export const SERVE_RAFT_DEFAULTS = { electionTimeout: [500, 1000] as const, heartbeatInterval: 100, snapshotEvery: 10_000 };

export type ServeArgs = {
  readonly id: NodeId;
  readonly listen: HostPort;
  readonly peers: ReadonlyMap<NodeId, HostPort>;
  readonly data: string;
  readonly raft: Partial<RaftOptions>;
  readonly seed: number | undefined;
  readonly verbose: boolean;
  /** Shut down when stdin closes: `cluster` sets it, so its nodes never outlive it. */
  readonly exitOnStdinClose: boolean;
};

export type ClientOp = { readonly op: 'credit' | 'debit'; readonly amount: number } | { readonly op: 'balance' } | { readonly op: 'status' };
export type ClientArgs = { readonly peers: ReadonlyMap<NodeId, HostPort>; readonly op: ClientOp; readonly timeout: number; readonly json: boolean };

export type ClusterArgs = {
  readonly nodes: number;
  readonly data: string;
  readonly host: string;
  readonly basePort: number | undefined;
  readonly raftFlags: readonly string[];
  readonly verbose: boolean;
  readonly timeout: number;
};

/** Runs a parser of config values, turning its InvalidConfigError into a usage error. */
function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof InvalidConfigError) throw new UsageError(error.message);
    throw error;
  }
}

function parsing<T>(command: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw new UsageError(`raft-harness ${command}: ${(error as Error).message}`);
  }
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

function required(name: string, value: string | undefined, allowed: string): string {
  if (value === undefined || value === '') throw new UsageError(new InvalidConfigError(`--${name}`, value, allowed).message);
  return value;
}

function integer(name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(new InvalidConfigError(`--${name}`, text, `an integer in ${min}..${max}`).message);
  }
  return n;
}

function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`raft-harness ${command}: unexpected argument ${JSON.stringify(positionals[0])}`);
}

const RAFT_OPTIONS = { 'election-timeout': { type: 'string' }, heartbeat: { type: 'string' }, 'snapshot-every': { type: 'string' } } as const;

function raftOptions(values: {
  'election-timeout'?: string | undefined;
  heartbeat?: string | undefined;
  'snapshot-every'?: string | undefined;
}): Partial<RaftOptions> {
  let electionTimeout: readonly [number, number] = SERVE_RAFT_DEFAULTS.electionTimeout;
  const et = values['election-timeout'];
  if (et !== undefined) {
    const m = /^(\d+)\.\.(\d+)$/.exec(et);
    if (!m) throw new UsageError(new InvalidConfigError('--election-timeout', et, 'MIN..MAX in ms, integers, 1 <= MIN < MAX').message);
    electionTimeout = [Number(m[1]), Number(m[2])];
  }
  const heartbeatInterval = integer('heartbeat', values.heartbeat, 1) ?? SERVE_RAFT_DEFAULTS.heartbeatInterval;
  // Log compaction (§7): a long-running node would otherwise keep every entry forever.
  const snapshotEvery = integer('snapshot-every', values['snapshot-every'], 0) ?? SERVE_RAFT_DEFAULTS.snapshotEvery;
  return usage(() => {
    const r = resolveRaftOptions({ electionTimeout, heartbeatInterval, snapshotEvery });
    return { electionTimeout: r.electionTimeout, heartbeatInterval: r.heartbeatInterval, snapshotEvery: r.snapshotEvery };
  });
}

/** `serve` arguments; null for --help. */
export function parseServe(argv: string[]): ServeArgs | null {
  const { values, positionals } = parsing('serve', () => parseArgs({ args: argv, allowPositionals: true, options: {
    ...HELP,
    id: { type: 'string' },
    listen: { type: 'string' },
    peers: { type: 'string' },
    data: { type: 'string' },
    seed: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    'exit-on-stdin-close': { type: 'boolean' },
    ...RAFT_OPTIONS,
  } }));
  if (values.help) return null;
  noPositionals('serve', positionals);
  const id = usage(() => checkNodeId('--id', required('id', values.id, 'this node\'s id, e.g. n1')));
  const listen = usage(() => parseHostPort('--listen', required('listen', values.listen, 'HOST:PORT to listen on, e.g. 127.0.0.1:7001'), true));
  const peers = values.peers === undefined ? new Map<NodeId, HostPort>() : usage(() => parsePeers('--peers', values.peers!, id));
  return {
    id,
    listen,
    peers,
    data: required('data', values.data, 'a directory for this node\'s log and state'),
    raft: raftOptions(values),
    seed: integer('seed', values.seed, 0, 0xffff_ffff),
    verbose: values.verbose === true,
    exitOnStdinClose: values['exit-on-stdin-close'] === true,
  };
}

/** `client` arguments; null for --help. */
export function parseClient(argv: string[]): ClientArgs | null {
  const { values, positionals } = parsing('client', () =>
    parseArgs({ args: argv, allowPositionals: true, options: { ...HELP, peers: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } } }),
  );
  if (values.help) return null;
  const peers = usage(() => parsePeers('--peers', required('peers', values.peers, 'ID=HOST:PORT,... of the cluster\'s nodes')));
  const [name, amountText, extra] = positionals;
  const ops = 'credit N, debit N, balance or status';
  let op: ClientOp;
  if (name === 'credit' || name === 'debit') {
    const amount = Number(amountText);
    if (amountText === undefined || !/^\d+$/.test(amountText) || !Number.isSafeInteger(amount) || amount < 1) {
      throw new UsageError(new InvalidConfigError(`${name} amount`, amountText, 'a whole number >= 1').message);
    }
    op = { op: name, amount };
    if (extra !== undefined) throw new UsageError(`raft-harness client: unexpected argument ${JSON.stringify(extra)}`);
  } else if (name === 'balance' || name === 'status') {
    op = { op: name };
    if (amountText !== undefined) throw new UsageError(`raft-harness client: unexpected argument ${JSON.stringify(amountText)}`);
  } else {
    throw new UsageError(new InvalidConfigError('operation', name, ops).message);
  }
  return { peers, op, timeout: integer('timeout', values.timeout, 1) ?? 10_000, json: values.json === true };
}

/** `cluster` arguments; null for --help. */
export function parseCluster(argv: string[]): ClusterArgs | null {
  const { values, positionals } = parsing('cluster', () => parseArgs({ args: argv, allowPositionals: true, options: {
    ...HELP,
    nodes: { type: 'string' },
    data: { type: 'string' },
    host: { type: 'string' },
    'base-port': { type: 'string' },
    timeout: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    ...RAFT_OPTIONS,
  } }));
  if (values.help) return null;
  noPositionals('cluster', positionals);
  const host = values.host ?? '127.0.0.1';
  usage(() => parseHostPort('--host', `${host.includes(':') ? `[${host}]` : host}:1`));
  const nodes = integer('nodes', values.nodes, 1, 99) ?? 3;
  const basePort = integer('base-port', values['base-port'], 1, 65535 - nodes + 1);
  raftOptions(values); // checked here, passed on verbatim
  const raftFlags = (['election-timeout', 'heartbeat', 'snapshot-every'] as const).flatMap((k) => (values[k] === undefined ? [] : [`--${k}`, values[k]!]));
  return {
    nodes,
    data: required('data', values.data, 'a directory; node nI keeps its log in DIR/nI'),
    host,
    basePort,
    raftFlags,
    verbose: values.verbose === true,
    timeout: integer('timeout', values.timeout, 1) ?? 30_000,
  };
}
