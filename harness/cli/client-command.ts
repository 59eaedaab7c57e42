import type { BankResult } from '../../src/apps/bank/bank.js';
import { formatHostPort } from '../../src/node/tcp/address.js';
import { describeStatuses, TcpClients } from '../tcp-client.js';
import type { ClientArgs } from './tcp-args.js';

/**
 * `raft-harness client`: one operation against a cluster of `serve` processes, as a fresh client
 * session: it finds the leader (following hints, trying each node in turn) and retries with the
 * same sequence number, so the operation applies once however many attempts it takes.
 * Exit 0 when applied (or for status, when any node answered), 1 when refused or unanswered.
 */
export async function client(args: ClientArgs): Promise<number> {
  const clients = new TcpClients({ nodes: args.peers });
  try {
    if (args.op.op === 'status') return await status(clients, args);
    const session = clients.client();
    const op = args.op;
    const what = op.op === 'balance' ? 'balance' : `${op.op} ${op.amount}`;
    let result: BankResult;
    try {
      result = await (op.op === 'balance' ? session.balance({ timeout: args.timeout }) : session[op.op](op.amount, { timeout: args.timeout }));
    } catch (error) {
      if ((error as Error).name !== 'ClusterTimeoutError') throw error;
      const outcome = op.op === 'balance' ? '' : ' (it may still be applied: a write that timed out has an unknown outcome)';
      process.stderr.write(
        `raft-harness client: no leader answered ${what} within ${args.timeout} ms${outcome}\n` +
          `${clients.connections()}\n` +
          `  is the cluster running, and are these its addresses? ${[...args.peers].map(([id, a]) => `${id}=${formatHostPort(a)}`).join(',')}\n`,
      );
      return 1;
    }
    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(result.ok ? `ok balance ${result.balance}\n` : `refused ${result.error}\n`);
    return result.ok ? 0 : 1;
  } finally {
    clients.close();
  }
}

async function status(clients: TcpClients, args: ClientArgs): Promise<number> {
  const all = await clients.statusAll(Math.min(args.timeout, 5_000));
  if (args.json) {
    process.stdout.write(`${JSON.stringify(Object.fromEntries([...all].map(([id, r]) => [id, r.ok ? r.status : { error: r.error }])), null, 2)}\n`);
  } else {
    const lines = describeStatuses(all).split('\n');
    // Balance at the end of each answering node's line: what a user checks for agreement.
    const ids = [...all.keys()];
    const withBalance = lines.map((line, i) => {
      const r = all.get(ids[i]!);
      const app = r?.ok ? (r.status['app'] as { balance?: unknown } | undefined) : undefined;
      return typeof app?.balance === 'number' ? `${line}, balance ${app.balance}` : line;
    });
    process.stdout.write(`${withBalance.join('\n')}\n`);
  }
  return [...all.values()].some((r) => r.ok) ? 0 : 1;
}
