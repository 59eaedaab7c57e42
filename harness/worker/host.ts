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
  DiskWrite,
  HostControl,
  HostInit,
  MainPost,
  NodeTraceEvent,
  PendingTimer,
  ProgramSpec,
  SentMessage,
  Step,
  StepReport,
  WorkerPost,
} from '../protocol.js';
import { MirroredStorage } from './mirrored-storage.js';
import { ArmedTrigger, type Observation, type Trigger } from '../triggers.js';

type InstalledClock = ReturnType<typeof FakeTimers.install>;
type RealTimers = {
  setImmediate: typeof setImmediate;
  setTimeout: typeof setTimeout;
  clearTimeout: typeof clearTimeout;
  /** Wall-clock ms (the real performance.now). */
  now: () => number;
};

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

type FakeTimer = { id: number; callAt: number; interval?: number };

/**
 * Runs one node program inside a worker, on a fake clock.
 *
 * Deterministic mode: only the main thread moves the clock. Each control call handles one input
 * to quiescence and reports what the node did: how many data-port posts it made, its trace
 * events, and when its next timer is due.
 *
 * Realtime mode: the clock follows wall time, messages are handled as they arrive, and what the
 * node does is posted as it happens. `pause()` freezes the clock at one instant and buffers
 * arriving messages; `resume()` continues from that instant. Armed triggers are evaluated here,
 * at the exact point, and pause the node on a hit.
 */
export function startHost(clock: InstalledClock, real: RealTimers): void {
  const { init, dataPort } = workerData as { init: HostInit; dataPort: MessagePort };
  const realtime = init.mode === 'realtime';
  let events: NodeTraceEvent[] = [];
  let failure: StepReport['failure'] = null;
  let program: NodeProgram | null = null;
  /** Deterministic: what the current step sent and synced, reported with it. */
  let sends: SentMessage[] = [];
  let disk: Array<readonly DiskWrite[]> = [];

  const post = (p: WorkerPost): void => dataPort.postMessage(p);
  const send = (message: SentMessage): void => {
    if (realtime) post({ kind: 'send', message });
    else sends.push(message);
  };
  const synced = (writes: readonly DiskWrite[]): void => {
    if (realtime) post({ kind: 'disk', writes });
    else disk.push(writes);
  };
  dataPort.on('message', (p: MainPost) => {
    if (p.kind === 'deliver') arrive(p.message);
    else void serial(() => runStep(p.step));
  });

  const fail = (error: unknown): void => {
    if (failure !== null) return;
    const e = error instanceof Error ? error : new Error(String(error));
    failure = { name: e.name, message: e.message, stack: e.stack ?? `${e.name}: ${e.message}` };
    if (realtime) post({ kind: 'failure', failure });
  };
  // Let promise continuations started by the program run before reporting: the step is over
  // only when the node is quiescent.
  const settle = (): Promise<void> => new Promise((resolve) => real.setImmediate(resolve));
  const timers = (): FakeTimer[] => {
    const map = (clock as unknown as { timers?: Map<number, FakeTimer> }).timers;
    return map ? [...map.values()] : [];
  };
  const nextTimer = (): number | null => {
    let next: number | null = null;
    for (const t of timers()) if (next === null || t.callAt < next) next = t.callAt;
    return failure ? null : next;
  };
  /**
   * Moves the clock to `at`. When no timer falls due on the way (the usual case: the scheduler
   * runs due timers first) this is a plain synchronous move, saving tickAsync's event-loop hops.
   */
  const advanceTo = async (at: number): Promise<void> => {
    if (at <= clock.now) return;
    const next = nextTimer();
    if (next === null || next > at) clock.tick(at - clock.now);
    else await clock.tickAsync(at - clock.now);
  };
  const report = (): StepReport => {
    const out: StepReport = { sends, disk, events, nextTimer: nextTimer(), clock: clock.now, failure };
    sends = [];
    disk = [];
    events = [];
    return out;
  };

  // ---------------------------------------------------------------- realtime machinery

  /** Realtime: frozen until started, and while paused (by the controller or a trigger). */
  let paused = true;
  /** Realtime: the wall instant at which the clock last (re)started, and its reading then. */
  let base = { wall: 0, virtual: clock.now };
  let pump: ReturnType<typeof setTimeout> | undefined;
  const buffered: unknown[] = [];
  let armed: ArmedTrigger | null = null;
  let tripped = false;
  /** One input at a time: a tick of the clock must not interleave with a message. */
  let queue: Promise<void> = Promise.resolve();
  const serial = (work: () => Promise<void>): Promise<void> => {
    queue = queue.then(work, work);
    return queue;
  };

  const observe = (o: Observation): void => {
    if (armed === null || tripped) return;
    const hit = armed.observe(o, clock.now);
    if (hit === null) return;
    tripped = true;
    paused = true; // frozen from here on: the rest of this handler finishes, then nothing moves
    post({ kind: 'trigger', hit: { node: hit.node, reason: hit.reason, time: hit.time } });
  };
  const flush = (): void => {
    if (!realtime) return;
    if (events.length > 0) post({ kind: 'events', events, nextTimer: nextTimer(), clock: clock.now });
    events = [];
  };
  const catchUp = async (): Promise<void> => {
    const target = Math.floor(base.virtual + (real.now() - base.wall));
    if (target > clock.now) await clock.tickAsync(target - clock.now);
  };
  /** Brings the clock to wall time (firing what falls due); a throwing timer fails the node. */
  const catchUpSafely = async (): Promise<void> => {
    try {
      await catchUp();
    } catch (error) {
      fail(error);
    }
  };
  const schedulePump = (): void => {
    if (pump !== undefined) real.clearTimeout(pump);
    pump = undefined;
    const next = nextTimer();
    if (!realtime || paused || next === null || program === null) return;
    const delay = Math.max(0, next - (base.virtual + (real.now() - base.wall)));
    pump = real.setTimeout(() => {
      pump = undefined;
      void serial(async () => {
        if (paused) return;
        await catchUpSafely();
        await settle();
        flush();
      }).then(schedulePump);
    }, delay);
  };
  const handle = async (message: unknown): Promise<void> => {
    if (program === null || failure !== null) return;
    observe({ kind: 'receiving', node: init.id, message: message as Readonly<Record<string, unknown>> });
    if (paused) {
      buffered.unshift(message); // tripped before processing: it waits at the head of the line
      return;
    }
    try {
      program.onMessage(message);
    } catch (error) {
      fail(error);
    }
    await settle();
    flush();
  };
  const arrive = (message: unknown): void => {
    void serial(async () => {
      if (paused) {
        buffered.push(message);
        return;
      }
      await catchUpSafely();
      await handle(message);
    }).then(schedulePump);
  };

  // ---------------------------------------------------------------- steps

  const startProgram = async (): Promise<void> => {
    try {
      const factory = await loadProgram(init.program);
      const storage = new MirroredStorage(init.disk, (writes) => {
        synced(writes);
        const last = writes.findLast((w) => w.kind === 'append');
        if (last?.kind === 'append' && last.entries.length > 0) {
          observe({ kind: 'logIndex', node: init.id, index: last.entries[last.entries.length - 1]!.index });
        }
      });
      program = await factory({
        id: init.id,
        members: init.members,
        peers: init.members.filter((m) => m !== init.id),
        send: (message) => {
          send(message);
          observe({ kind: 'sent', node: init.id, message });
        },
        storage,
        random: createRandom(deriveSeed(init.seed, `${init.id}#${init.incarnation}`)),
        emit: (event) => {
          events.push({ time: clock.now, event: event as NodeTraceEvent['event'] });
          observe({ kind: 'event', node: init.id, event });
        },
        options: init.options,
      });
    } catch (error) {
      fail(error);
    }
    await settle();
    if (realtime) {
      base = { wall: real.now(), virtual: clock.now };
      paused = false;
      flush();
      schedulePump();
    }
  };

  /** Deterministic: one event, to quiescence, answered by one report on the data port. */
  const runStep = async (step: Step): Promise<void> => {
    if (step.type === 'start') {
      await startProgram();
    } else if (failure === null && program !== null) {
      try {
        if (step.type === 'timers') {
          await clock.tickAsync(Math.max(0, step.until - clock.now));
        } else {
          await advanceTo(step.at);
          program.onMessage(step.message);
        }
      } catch (error) {
        fail(error);
      }
      await settle();
    }
    post({ kind: 'report', report: report() });
  };

  // ---------------------------------------------------------------- control

  const control: HostControl = {
    async pause() {
      await serial(async () => {
        if (!paused) {
          await catchUpSafely();
          await settle();
          flush();
        }
        paused = true;
      });
      schedulePump();
      return clock.now;
    },
    async resume(sleptMs) {
      await serial(async () => {
        if (!paused) return;
        paused = false;
        tripped = false;
        base = { wall: real.now(), virtual: clock.now + sleptMs };
        while (buffered.length > 0 && !paused) await handle(buffered.shift());
      });
      schedulePump();
    },
    async arm(trigger) {
      armed = new ArmedTrigger(trigger as Trigger);
      tripped = false;
    },
    async disarm() {
      armed = null;
      tripped = false;
    },
    async inspect() {
      return program === null ? null : program.inspect();
    },
    async clock() {
      // In realtime the clock is caught up lazily; report where wall time has brought it.
      if (realtime && !paused) {
        await serial(async () => {
          await catchUpSafely();
          await settle();
          flush();
        });
        schedulePump();
      }
      return clock.now;
    },
    async pendingTimers(): Promise<PendingTimer[]> {
      return timers()
        .map((t): PendingTimer => ({ id: t.id, at: t.callAt, kind: t.interval === undefined ? 'timeout' : 'interval' }))
        .sort((a, b) => a.at - b.at || a.id - b.id);
    },
    async stop() {
      paused = true;
      if (pump !== undefined) real.clearTimeout(pump);
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
