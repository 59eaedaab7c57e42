import type { NodeContext, NodeProgram } from '../../src/node/program.js';

export type PingOptions = { readonly interval?: number };

/**
 * A tiny non-Raft program: every `interval` ms each node pings its peers, and answers pings with
 * pongs. It exists to show the harness hosts any node program, not only Raft.
 */
export function createPingNode(context: NodeContext): NodeProgram {
  const interval = (context.options as PingOptions | undefined)?.interval ?? 100;
  let pings = 0;
  let pongs = 0;
  let round = 0;
  const timer = setInterval(() => {
    round += 1;
    for (const peer of context.peers) context.send({ type: 'Ping', from: context.id, to: peer, round });
    context.emit({ type: 'ping-round', round });
  }, interval);
  return {
    onMessage(message) {
      const m = message as { type?: unknown; from?: unknown; round?: unknown };
      if (m.type === 'Ping' && typeof m.from === 'string') {
        pings += 1;
        context.send({ type: 'Pong', from: context.id, to: m.from, round: m.round });
      } else if (m.type === 'Pong') {
        pongs += 1;
      }
    },
    inspect: () => ({ id: context.id, round, pings, pongs, now: Date.now() }),
    stop: () => clearInterval(timer),
  };
}
