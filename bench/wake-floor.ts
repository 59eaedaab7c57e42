import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { DEFAULT_RAFT_OPTIONS } from '../src/raft/config.js';

/** A worker that answers every message at once: no harness, no node, only the round trip. */
const ECHO = `
const { workerData } = require('node:worker_threads');
const port = workerData.port;
port.on('message', (m) => port.postMessage(m));
`;

export type WakeFloorResult = {
  readonly rounds: number;
  /** One message to a sleeping worker thread and its answer, polled for as the scheduler does. */
  readonly microsPerRoundTrip: number;
  /** An idle heartbeat round of 5 nodes: the leader's timer, 4 deliveries, 4 answers. */
  readonly microsPerRound: number;
  readonly heartbeatMs: number;
  /** Virtual/wall an idle cluster could reach if the harness and the nodes cost nothing. */
  readonly ceiling: number;
};

/**
 * What the machine allows the worker host at best: 5 worker threads that do nothing but echo,
 * driven one message at a time in the pattern of an idle heartbeat round (the leader, each
 * follower, the leader 4 times), with the scheduler's message shapes and its polling wait.
 */
export async function benchWakeFloor(rounds = 2_000): Promise<WakeFloorResult> {
  const workers: Array<{ worker: Worker; port: MessagePort }> = [];
  for (let i = 0; i < 5; i++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(ECHO, { eval: true, workerData: { port: port2 }, transferList: [port2] });
    workers.push({ worker, port: port1 });
  }
  try {
    // Every worker answers once before timing starts (thread start-up is not a round trip).
    for (const w of workers) {
      w.port.postMessage(0);
      while (receiveMessageOnPort(w.port) === undefined) await new Promise((resolve) => setImmediate(resolve));
    }
    const step = { kind: 'step', step: { type: 'deliver', at: 1_000, message: { type: 'AppendEntries', from: 'n1', to: 'n2', term: 2, prevLogIndex: 7, prevLogTerm: 2, entries: [], commit: 7 } } };
    const pattern = [0, 1, 2, 3, 4, 0, 0, 0, 0];
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      for (const i of pattern) {
        const port = workers[i]!.port;
        port.postMessage(step);
        const give = process.hrtime.bigint() + 1_000_000_000n;
        while (receiveMessageOnPort(port) === undefined) {
          if (process.hrtime.bigint() > give) throw new Error(`raft-harness bench: echo worker ${i} did not answer within 1 s`);
        }
      }
    }
    const micros = Number(process.hrtime.bigint() - t0) / 1_000;
    const microsPerRound = micros / rounds;
    const heartbeatMs = DEFAULT_RAFT_OPTIONS.heartbeatInterval;
    return { rounds, microsPerRoundTrip: microsPerRound / pattern.length, microsPerRound, heartbeatMs, ceiling: (heartbeatMs * 1_000) / microsPerRound };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
