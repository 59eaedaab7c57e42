import { client } from './client-command.js';
import { cluster } from './cluster-command.js';
import { serve } from './serve.js';
import { parseClient, parseCluster, parseServe, SERVE_RAFT_DEFAULTS } from './tcp-args.js';

export const TCP_COMMANDS = ['serve', 'client', 'cluster'] as const;
export type TcpCommand = (typeof TCP_COMMANDS)[number];

const [ETMIN, ETMAX] = SERVE_RAFT_DEFAULTS.electionTimeout;

export const TCP_USAGE_LINES = `  raft-harness serve --id ID --listen [HOST:]PORT [--peers ID=HOST:PORT,...] --data DIR
                     [--election-timeout MIN..MAX] [--heartbeat MS] [--snapshot-every N]
                     [--seed N] [--verbose]
  raft-harness client --peers ID=HOST:PORT,... [--timeout MS] [--json] credit N | debit N | balance | status
  raft-harness cluster --data DIR [--nodes N] [--base-port P] [--host HOST] [--timeout MS] [--verbose]`;

export const TCP_USAGE_TEXT = `serve     runs one node of the bank (the same Raft server the harness tests) as this process,
          over TCP, with its log in --data DIR. HOST defaults to 127.0.0.1 (loopback).
          Defaults: --election-timeout ${ETMIN}..${ETMAX}, --heartbeat ${SERVE_RAFT_DEFAULTS.heartbeatInterval}, --snapshot-every
          ${SERVE_RAFT_DEFAULTS.snapshotEvery} (log compaction: a snapshot every N applied entries; 0 never). SIGTERM or SIGINT:
          stop accepting, flush, close files, exit 0; a restart with the same --data continues
          with its term, vote and log.
client    runs one operation as a new client session: finds the leader, retries with the same
          sequence number (applied once), prints e.g. "ok balance 70". Exit 1 when refused or
          when no leader answers within --timeout (default 10000 ms). status asks every node.
cluster   starts --nodes (default 3) serve processes on free loopback ports (or --base-port on),
          with node nI's data in DIR/nI, prints their addresses and a ready line once a leader
          is elected, and stops them all cleanly on Ctrl-C or SIGTERM.`;

export function isTcpCommand(name: string | undefined): name is TcpCommand {
  return (TCP_COMMANDS as readonly string[]).includes(name ?? '');
}

/**
 * Runs serve, client or cluster; throws UsageError on bad arguments. The long-running ones exit
 * the process themselves when done (stdin and signal listeners would keep it alive).
 */
export async function runTcpCommand(command: TcpCommand, argv: string[], usage: string): Promise<number> {
  const help = (): number => {
    process.stdout.write(`${usage}\n`);
    return 0;
  };
  switch (command) {
    case 'serve': {
      const args = parseServe(argv);
      if (args === null) return help();
      process.exit(await serve(args));
      break;
    }
    case 'client': {
      const args = parseClient(argv);
      return args === null ? help() : client(args);
    }
    case 'cluster': {
      const args = parseCluster(argv);
      if (args === null) return help();
      process.exit(await cluster(args));
      break;
    }
    default: {
      const never: never = command;
      throw new Error(`unknown command ${String(never)}`);
    }
  }
  return 0;
}
