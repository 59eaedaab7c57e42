import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type * as FakeTimers from '@sinonjs/fake-timers';
import { createRaftBankNode } from '../../src/apps/bank/program.js';
import type { NodeProgram, NodeProgramFactory } from '../../src/node/program.js';
import { createRandom, deriveSeed } from '../../src/raft/random.js';
import { createPingNode } from '../programs/ping.js';
import type {
  BuiltinProgram,
  HostControl,
  HostInit,
  MainPost,
  NodeTraceEvent,
  PendingTimer,
  ProgramSpec,
  StepReport,
  WorkerPost,
} from '../protocol.js';
import { MirroredStorage } from './mirrored-storage.js';

type InstalledClock = ReturnType<typeof FakeTimers.install>;
type RealTimers = { setImmediate: typeof setImmediate };

const BUILTINS: Record<BuiltinProgram, NodeProgramFactory> = {
  'raft-bank': createRaftBankNode,
  ping: createPingNode,
};

async function loadProgram(spec: ProgramSpec): Promise<NodeProgramFactory> {
  if (spec.kind === 'builtin') return BUILTINS[spec.name];
  const mod = (await import(spec.url)) as Record<string, unknown>;
  const factory = mod[spec.name ?? 'default'];
  if (typeof factory !== 'function') {
    throw new TypeError(`raft-harness: ${spec.url} has no function export ${JSON.stringify(spec.name ?? 'default')}`);
  }
  return factory as NodeProgramFactory;
}

type SentMessage = Extract<WorkerPost, { kind: 'send' }>['message'];

type FakeTimer = { id: number; callAt: number; interval?: number };

/**
 * Runs one node program inside a worker, on a fake clock that only the main thread moves. Each
 * control call handles one input to quiescence and reports what the node did: how many data-port
 * posts it made, its trace events, and when its next timer is due.
 */
export function startHost(clock: InstalledClock, real: RealTimers): void {
  const { init, dataPort } = workerData as { init: HostInit; dataPort: MessagePort };
  let posted = 0;
  let events: NodeTraceEvent[] = [];
  let failure: StepReport['failure'] = null;
  let program: NodeProgram | null = null;
  /** Messages posted by the main thread, by sequence number, until their delivery is ordered. */
  const inbox = new Map<number, unknown>();
  const waiting = new Map<number, (message: unknown) => void>();

  const post = (p: WorkerPost): void => {
    posted += 1;
    dataPort.postMessage(p);
  };
  dataPort.on('message', (p: MainPost) => {
    const w = waiting.get(p.seq);
    if (w) {
      waiting.delete(p.seq);
      w(p.message);
    } else {
      inbox.set(p.seq, p.message);
    }
  });
  const take = (seq: number): Promise<unknown> => {
    if (inbox.has(seq)) {
      const m = inbox.get(seq);
      inbox.delete(seq);
      return Promise.resolve(m);
    }
    return new Promise((resolve) => waiting.set(seq, resolve));
  };

  const fail = (error: unknown): void => {
    if (failure !== null) return;
    const e = error instanceof Error ? error : new Error(String(error));
    failure = { name: e.name, message: e.message, stack: e.stack ?? `${e.name}: ${e.message}` };
  };
  // Let promise continuations started by the program run before reporting: the step is over
  // only when the node is quiescent.
  const settle = (): Promise<void> => new Promise((resolve) => real.setImmediate(resolve));
  const timers = (): FakeTimer[] => {
    const map = (clock as unknown as { timers?: Map<number, FakeTimer> }).timers;
    return map ? [...map.values()] : [];
  };
  const report = (): StepReport => {
    let next: number | null = null;
    for (const t of timers()) if (next === null || t.callAt < next) next = t.callAt;
    const out: StepReport = { posted, events, nextTimer: failure ? null : next, clock: clock.now, failure };
    events = [];
    return out;
  };

  const control: HostControl = {
    async start() {
      try {
        const factory = await loadProgram(init.program);
        const storage = new MirroredStorage(init.disk, (writes) => post({ kind: 'disk', writes }));
        program = await factory({
          id: init.id,
          members: init.members,
          peers: init.members.filter((m) => m !== init.id),
          send: (message) => post({ kind: 'send', message: message as SentMessage }),
          storage,
          random: createRandom(deriveSeed(init.seed, `${init.id}#${init.incarnation}`)),
          emit: (event) => events.push({ time: clock.now, event: event as NodeTraceEvent['event'] }),
          options: init.options,
        });
      } catch (error) {
        fail(error);
      }
      await settle();
      return report();
    },
    async runTimers(until) {
      if (failure === null) {
        try {
          await clock.tickAsync(Math.max(0, until - clock.now));
        } catch (error) {
          fail(error);
        }
        await settle();
      }
      return report();
    },
    async deliver(seq, at) {
      const message = await take(seq);
      if (failure === null && program !== null) {
        try {
          await clock.tickAsync(Math.max(0, at - clock.now));
          program.onMessage(message);
        } catch (error) {
          fail(error);
        }
        await settle();
      }
      return report();
    },
    async inspect() {
      return program === null ? null : program.inspect();
    },
    async pendingTimers(): Promise<PendingTimer[]> {
      return timers()
        .map((t): PendingTimer => ({ id: t.id, at: t.callAt, kind: t.interval === undefined ? 'timeout' : 'interval' }))
        .sort((a, b) => a.at - b.at || a.id - b.id);
    },
    async stop() {
      try {
        await program?.stop();
      } finally {
        program = null;
        clock.uninstall();
        dataPort.close();
      }
    },
  };
  expose(control, nodeEndpoint(parentPort as unknown as Parameters<typeof nodeEndpoint>[0]));
}
