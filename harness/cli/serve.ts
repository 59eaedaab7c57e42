import { createRaftBankNode } from '../../src/apps/bank/program.js';
import { RaftHarnessError } from '../../src/raft/errors.js';
import { formatHostPort, isLoopback } from '../../src/node/tcp/address.js';
import { startTcpNode, type TcpNode } from '../../src/node/tcp/process-host.js';
import type { ServeArgs } from './tcp-args.js';

/** A shutdown that takes longer than this is stuck: exit anyway, nonzero. */
const SHUTDOWN_LIMIT_MS = 10_000;

/**
 * `raft-harness serve`: one bank node as this process, until SIGTERM or SIGINT, then a graceful
 * stop (stop accepting, flush, close files) and exit 0. Resolves with the exit code.
 */
export async function serve(args: ServeArgs): Promise<number> {
  const prefix = `[${args.id}]`;
  const log = (level: 'info' | 'debug', line: string): void => {
    if (level === 'info' || args.verbose) process.stderr.write(`${prefix} ${line}\n`);
  };
  if (!isLoopback(args.listen.host)) {
    log('info', `listening on ${args.listen.host}, beyond this machine: frames are neither authenticated nor encrypted`);
  }
  let node: TcpNode;
  try {
    node = await startTcpNode({
      id: args.id,
      listen: args.listen,
      peers: args.peers,
      dataDir: args.data,
      program: createRaftBankNode,
      programOptions: { raft: args.raft },
      ...(args.seed === undefined ? {} : { seed: args.seed }),
      log,
      onFatal: () => process.exit(1),
    });
  } catch (error) {
    // A port in use, a locked or corrupt data directory: the message says it all.
    if (!(error instanceof RaftHarnessError)) throw error;
    process.stderr.write(`${prefix} ${error.message}\n`);
    return 1;
  }
  // The line scripts and `cluster` wait for; with --listen HOST:0 it carries the real port.
  process.stdout.write(`raft-harness serve: ${args.id} listening on ${formatHostPort(node.address)} (pid ${process.pid})\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log('info', `${why}: shutting down`);
      const limit = setTimeout(() => {
        log('info', `shutdown took over ${SHUTDOWN_LIMIT_MS} ms; exiting`);
        resolve(1);
      }, SHUTDOWN_LIMIT_MS);
      limit.unref();
      node.shutdown().then(
        () => {
          clearTimeout(limit);
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(limit);
          log('info', `shutdown failed: ${(error as Error).stack ?? String(error)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    if (args.exitOnStdinClose) {
      process.stdin.on('end', () => stop('stdin closed'));
      process.stdin.on('error', () => stop('stdin closed'));
      process.stdin.resume();
    }
  });
}
