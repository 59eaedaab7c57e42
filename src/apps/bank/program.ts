import type { RaftOptions } from '../../raft/config.js';
import { InvalidConfigError } from '../../raft/errors.js';
import type { NodeContext, NodeProgram } from '../../node/program.js';
import { RaftServer } from '../../node/raft-server.js';
import type { Transport } from '../../node/transport.js';
import { createBank } from './bank.js';

export type RaftBankOptions = {
  readonly raft?: Partial<RaftOptions>;
  /** A node added to a running cluster: `members` are the cluster's first members, without it. */
  readonly joining?: boolean;
};

/** The built-in node program: a Raft server replicating the bank teller. */
export function createRaftBankNode(context: NodeContext): NodeProgram {
  const options = (context.options ?? {}) as RaftBankOptions;
  if (typeof options !== 'object') throw new InvalidConfigError('options', context.options, 'an object { raft?: RaftOptions }');
  let receiver: (message: unknown) => void = () => {};
  const transport: Transport = {
    send: (message) => context.send(message),
    listen: (r) => {
      receiver = r;
    },
    close: () => {},
  };
  const server = new RaftServer({
    id: context.id,
    members: context.members,
    joining: options.joining === true,
    raft: options.raft ?? {},
    transport,
    storage: context.storage,
    stateMachine: createBank(),
    random: context.random,
    emit: (event) => context.emit(event),
  });
  return {
    onMessage: (message) => receiver(message),
    inspect: () => server.status(),
    stop: () => server.stop(),
  };
}
