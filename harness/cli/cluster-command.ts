import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatHostPort, type HostPort } from '../../src/node/tcp/address.js';
import { freePorts } from '../free-ports.js';
import { describeStatuses, TcpClients } from '../tcp-client.js';
import type { ClusterArgs } from './tcp-args.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
/** A node that has not said it listens by then is not going to. */
const START_LIMIT_MS = 15_000;
/** A node still running this long after SIGTERM is killed. */
const STOP_LIMIT_MS = 10_000;

type Child = { readonly id: string; readonly process: ChildProcess; readonly exited: Promise<string>; done: boolean };

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * `raft-harness cluster`: `serve` children on loopback ports, a ready line once one leads, and a
 * clean stop on SIGINT/SIGTERM (each child stops gracefully; the command waits for all). The
 * children also stop if this process dies without a word: their stdin is its pipe.
 */
export async function cluster(args: ClusterArgs): Promise<number> {
  const ids = Array.from({ length: args.nodes }, (_, i) => `n${i + 1}`);
  const ports = args.basePort === undefined ? await freePorts(args.nodes, args.host) : ids.map((_, i) => args.basePort! + i);
  const addresses = new Map<string, HostPort>(ids.map((id, i) => [id, { host: args.host, port: ports[i]! }]));
  const peerList = (except?: string): string => [...addresses].filter(([id]) => id !== except).map(([id, a]) => `${id}=${formatHostPort(a)}`).join(',');
  const data = resolve(args.data);
  say(`raft-harness cluster: ${args.nodes} node(s) on ${args.host}, data in ${data}`);

  const children = ids.map((id) => start(id, args, addresses.get(id)!, peerList(id), join(data, id)));
  let stopping: Promise<number> | null = null;
  const stopAll = (why: string): Promise<number> =>
    (stopping ??= (async () => {
      say(`stopping (${why})...`);
      const results = await Promise.all(children.map((c) => stop(c)));
      say(`stopped: ${results.join(', ')}`);
      return results.every((r) => r.endsWith('exit 0')) ? 0 : 1;
    })());
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  const allGone = Promise.all(children.map((c) => c.exited)).then(() => 'gone' as const);
  for (const c of children) {
    void c.exited.then((how) => {
      if (stopping === null) say(`${c.id} ${how}`);
    });
  }

  const listening = await Promise.race([Promise.all(children.map((c) => listeningLine(c))), allGone]);
  if (listening === 'gone' || listening.some((l) => l === null)) {
    process.stderr.write('raft-harness cluster: a node did not start (see its output above)\n');
    await stopAll('a node did not start');
    return 1;
  }
  for (const [i, c] of children.entries()) say(`  ${c.id} ${listening[i]} pid ${c.process.pid ?? '?'} data ${join(data, c.id)}`);

  const clients = new TcpClients({ nodes: addresses, name: 'cluster' });
  try {
    const leader = await Promise.race([clients.waitForLeader(args.timeout), stoppedOr(allGone, () => stopping)]);
    if (leader === null) return await stopAll('stopped before a leader was elected');
    const s = await clients.status(leader);
    say(`ready: leader ${leader}${s.ok ? ` (term ${String(s.status['term'])})` : ''}`);
    say(`  try: raft-harness client --peers ${peerList()} credit 100`);
    say(`  stop: Ctrl-C (or kill -TERM ${process.pid})`);
  } catch (error) {
    process.stderr.write(`raft-harness cluster: no leader within ${args.timeout} ms\n${describeStatuses(await clients.statusAll())}\n${(error as Error).message.split('\n')[0]}\n`);
    clients.close();
    await stopAll('no leader');
    return 1;
  } finally {
    clients.close();
  }
  const ended = await Promise.race([allGone, new Promise<'stopping'>((r) => process.once('SIGINT', () => r('stopping')).once('SIGTERM', () => r('stopping')))]);
  if (ended === 'gone' && stopping === null) {
    process.stderr.write('raft-harness cluster: every node exited\n');
    return 1;
  }
  return stopAll('signal');
}

function start(id: string, args: ClusterArgs, address: HostPort, peers: string, data: string): Child {
  const argv = [MAIN, 'serve', '--id', id, '--listen', formatHostPort(address), '--data', data, '--exit-on-stdin-close', ...args.raftFlags];
  if (peers !== '') argv.push('--peers', peers);
  if (args.verbose) argv.push('--verbose');
  const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  const record: Child = {
    id,
    process: child,
    done: false,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        record.done = true;
        resolve(signal === null ? `exit ${code ?? '?'}` : `killed by ${signal}`);
      });
    }),
  };
  return record;
}

/** Resolves with the address from the child's "listening on" line, or null if it exits or stalls first. */
function listeningLine(c: Child): Promise<string | null> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: c.process.stdout! });
    const timer = setTimeout(() => resolve(null), START_LIMIT_MS);
    lines.on('line', (line) => {
      const m = / listening on (\S+) /.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      } else {
        process.stdout.write(`[${c.id}] ${line}\n`);
      }
    });
    void c.exited.then(() => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

async function stop(c: Child): Promise<string> {
  if (!c.done) {
    c.process.kill('SIGTERM');
    const timer = setTimeout(() => c.process.kill('SIGKILL'), STOP_LIMIT_MS);
    await c.exited;
    clearTimeout(timer);
  }
  return `${c.id} ${await c.exited}`;
}

/** null once every node is gone or a stop began; never resolves otherwise. */
function stoppedOr(allGone: Promise<unknown>, stopping: () => unknown): Promise<null> {
  return new Promise((resolve) => {
    void allGone.then(() => resolve(null));
    const poll = setInterval(() => {
      if (stopping() !== null) {
        clearInterval(poll);
        resolve(null);
      }
    }, 100);
    poll.unref();
  });
}
