import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { NodeRuntime, type Clock } from '../hosts/node-runtime.js';
import type { HostControl, HostInit, MainPost, PendingTimer, WorkerPost } from '../protocol.js';
import { ArmedTrigger, type Observation, type Trigger } from '../triggers.js';

type RealTimers = {
  setImmediate: typeof setImmediate;
  setTimeout: typeof setTimeout;
  clearTimeout: typeof clearTimeout;
  /** Wall-clock ms (the real performance.now). */
  now: () => number;
};

/**
 * Runs one node program inside a worker, on a fake clock.
 *
 * Deterministic mode: only the main thread moves the clock. Each `step` message on the data port
 * is one event, run to quiescence, answered by one `report`.
 *
 * Realtime mode: the clock follows wall time, messages are handled as they arrive, and what the
 * node does is posted as it happens. `pause()` freezes the clock at one instant and buffers
 * arriving messages; `resume()` continues from that instant. Armed triggers are evaluated here,
 * at the exact point, and pause the node on a hit.
 */
export function startHost(clock: Clock, real: RealTimers): void {
  const { init, dataPort } = workerData as { init: HostInit; dataPort: MessagePort };
  const realtime = init.mode === 'realtime';
  const post = (p: WorkerPost): void => dataPort.postMessage(p);

  /** Realtime: frozen until started, and while paused (by the controller or a trigger). */
  let paused = true;
  /** Realtime: the wall instant at which the clock last (re)started, and its reading then. */
  let base = { wall: 0, virtual: clock.now };
  let pump: ReturnType<typeof setTimeout> | undefined;
  const buffered: unknown[] = [];
  let armed: ArmedTrigger | null = null;
  let tripped = false;

  const observe = (o: Observation): void => {
    if (armed === null || tripped) return;
    const hit = armed.observe(o, clock.now);
    if (hit === null) return;
    tripped = true;
    paused = true; // frozen from here on: the rest of this handler finishes, then nothing moves
    post({ kind: 'trigger', hit: { node: hit.node, reason: hit.reason, time: hit.time } });
  };
  const runtime = new NodeRuntime(init, clock, {
    setImmediate: (callback) => real.setImmediate(callback),
    // The built-in programs never continue asynchronously: their steps need no event-loop turns.
    synchronous: init.program.kind === 'builtin' && !realtime,
    ...(realtime
      ? {
          immediate: {
            send: (message) => post({ kind: 'send', message }),
            synced: (writes) => post({ kind: 'disk', writes }),
            failed: (failure) => post({ kind: 'failure', failure }),
          },
          observe,
        }
      : {}),
  });

  /** One input at a time: a tick of the clock must not interleave with a message. */
  let queue: Promise<void> = Promise.resolve();
  const serial = (work: () => Promise<void>): Promise<void> => {
    queue = queue.then(work, work);
    return queue;
  };

  dataPort.on('message', (p: MainPost) => {
    if (p.kind === 'deliver') arrive(p.message);
    else if (p.step.type === 'start' && realtime) void serial(startRealtime);
    else {
      const step = p.step;
      void serial(async () => post({ kind: 'report', report: await runtime.step(step) }));
    }
  });

  // ---------------------------------------------------------------- realtime machinery

  const flush = (): void => {
    const events = runtime.takeEvents();
    if (events.length > 0) post({ kind: 'events', events, nextTimer: runtime.nextTimer(), clock: clock.now });
  };
  /** Brings the clock to wall time (firing what falls due), lets the node settle, reports. */
  const catchUp = async (): Promise<void> => {
    await runtime.advanceTo(Math.floor(base.virtual + (real.now() - base.wall)));
    await runtime.settle();
    flush();
  };
  const schedulePump = (): void => {
    if (pump !== undefined) real.clearTimeout(pump);
    pump = undefined;
    const next = runtime.nextTimer();
    if (!realtime || paused || next === null || !runtime.started) return;
    const delay = Math.max(0, next - (base.virtual + (real.now() - base.wall)));
    pump = real.setTimeout(() => {
      pump = undefined;
      void serial(async () => {
        if (!paused) await catchUp();
      }).then(schedulePump);
    }, delay);
  };
  const startRealtime = async (): Promise<void> => {
    await runtime.start();
    base = { wall: real.now(), virtual: clock.now };
    paused = false;
    flush();
    schedulePump();
  };
  const handle = async (message: unknown): Promise<void> => {
    if (!runtime.started || runtime.failure !== null) return;
    observe({ kind: 'receiving', node: init.id, message: message as Readonly<Record<string, unknown>> });
    if (paused) {
      buffered.unshift(message); // tripped before processing: it waits at the head of the line
      return;
    }
    runtime.deliver(message);
    await runtime.settle();
    flush();
  };
  const arrive = (message: unknown): void => {
    void serial(async () => {
      if (paused) {
        buffered.push(message);
        return;
      }
      await catchUp();
      await handle(message);
    }).then(schedulePump);
  };

  // ---------------------------------------------------------------- control

  const control: HostControl = {
    async pause() {
      await serial(async () => {
        if (!paused) await catchUp();
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
      return runtime.inspect();
    },
    async clock() {
      // In realtime the clock is caught up lazily; report where wall time has brought it.
      if (realtime && !paused) {
        await serial(catchUp);
        schedulePump();
      }
      return clock.now;
    },
    async pendingTimers(): Promise<PendingTimer[]> {
      return runtime.pendingTimers();
    },
    async stop() {
      paused = true;
      if (pump !== undefined) real.clearTimeout(pump);
      try {
        return await runtime.stop();
      } finally {
        (clock as unknown as { uninstall(): void }).uninstall();
        dataPort.close();
      }
    },
  };
  expose(control, nodeEndpoint(parentPort as unknown as Parameters<typeof nodeEndpoint>[0]));
}
