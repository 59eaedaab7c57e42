import type * as FakeTimers from '@sinonjs/fake-timers';
import { createRaftBankNode } from '../../src/apps/bank/program.js';
import type { NodeProgram, NodeProgramFactory } from '../../src/node/program.js';
import { RaftHarnessError } from '../../src/raft/errors.js';
import { createRandom, deriveSeed } from '../../src/raft/random.js';
import { createPingNode } from '../programs/ping.js';
import type {
  BuiltinProgram,
  DiskWrite,
  HostInit,
  NodeTraceEvent,
  PendingTimer,
  ProgramSpec,
  SentMessage,
  Step,
  StepReport,
} from '../protocol.js';
import type { Observation } from '../triggers.js';
import { MirroredStorage } from '../worker/mirrored-storage.js';

/** Either an installed clock (worker) or a free-standing one (inline host): the same API. */
export type Clock = ReturnType<typeof FakeTimers.createClock>;

const BUILTINS: Record<BuiltinProgram, NodeProgramFactory> = {
  'raft-bank': createRaftBankNode,
  ping: createPingNode,
};

export async function loadProgram(spec: ProgramSpec): Promise<NodeProgramFactory> {
  if (spec.kind === 'builtin') return BUILTINS[spec.name];
  const mod = (await import(spec.url)) as Record<string, unknown>;
  const factory = mod[spec.name ?? 'default'];
  if (typeof factory !== 'function') {
    throw new TypeError(`raft-harness: ${spec.url} has no function export ${JSON.stringify(spec.name ?? 'default')}`);
  }
  return factory as NodeProgramFactory;
}

type FakeTimer = { id: number; callAt: number; interval?: number };

/** Node's limit: a longer delay is silently replaced by 1 ms (a classic timer-hang bug). */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A timer delay above MAX_TIMER_DELAY: Node (and so the fake clock) would fire it after 1 ms. */
export class TimerOverflowError extends RaftHarnessError {
  readonly delay: number;
  readonly site: string | null;
  constructor(node: string, delay: number, site: string | null) {
    super(
      `node ${node} set a timer of ${delay} ms, above Node's limit of ${MAX_TIMER_DELAY} ms: Node fires such a timer after 1 ms` +
        (site === null ? '' : `; created at ${site}`),
    );
    this.name = 'TimerOverflowError';
    this.delay = delay;
    this.site = site;
  }
}

/** Frames of the harness and of fake-timers, skipped when naming where a timer was created. */
const INTERNAL_FRAME = /node_modules[\\/]@sinonjs|harness[\\/](hosts|worker)[\\/]|node:internal|node:timers|<anonymous>/;

function siteOf(holder: { stack?: string }): string | null {
  const lines = (holder.stack ?? '').split('\n').slice(1);
  const frame = lines.find((l) => !INTERNAL_FRAME.test(l));
  return frame === undefined ? null : frame.trim().replace(/^at /, '');
}

export type RuntimeHooks = {
  /** A real setImmediate, to let promise continuations run before a step is declared over. */
  readonly setImmediate: (callback: () => void) => void;
  /** Realtime: sends and synced writes go out as they happen instead of with the step report. */
  readonly immediate?: {
    readonly send: (message: SentMessage) => void;
    readonly synced: (writes: readonly DiskWrite[]) => void;
    readonly failed: (failure: NonNullable<StepReport['failure']>) => void;
  };
  /** Trigger evaluation at the exact point (realtime worker). */
  readonly observe?: (o: Observation) => void;
  /** Runs program code in the node's context (the inline host routes timers by it). */
  readonly within?: <T>(fn: () => T) => T;
  /**
   * The program never continues asynchronously (the built-in ones: every handler and timer runs
   * to completion at once). Steps then fire timers synchronously and need not wait a turn of the
   * event loop for promise continuations: the same events in the same order, without the hops.
   */
  readonly synchronous?: boolean;
};

/**
 * One node program on a fake clock: what a worker runs and what the inline host runs, the same
 * code in both, so both hosts produce the same steps. A step handles one input to quiescence and
 * reports what the node sent, synced and emitted, and when its next timer is due.
 */
export class NodeRuntime {
  readonly init: HostInit;
  readonly clock: Clock;
  private readonly hooks: RuntimeHooks;
  private program: NodeProgram | null = null;
  private events: NodeTraceEvent[] = [];
  private sends: SentMessage[] = [];
  private disk: Array<readonly DiskWrite[]> = [];
  /** The first exception a handler or timer threw; the node does nothing after it. */
  failure: StepReport['failure'] = null;

  /** Where each pending timer was created, by the fake clock's timer record (freed with it). */
  private readonly sites = new WeakMap<object, { stack?: string }>();

  constructor(init: HostInit, clock: Clock, hooks: RuntimeHooks) {
    this.init = init;
    this.clock = clock;
    this.hooks = hooks;
    this.instrument('setTimeout');
    this.instrument('setInterval');
  }

  /**
   * Wraps the clock's timer functions (every global, `node:timers` and `node:timers/promises`
   * timer goes through them) to remember where each timer was created, and to catch delays Node
   * would silently turn into 1 ms.
   */
  private instrument(method: 'setTimeout' | 'setInterval'): void {
    const clock = this.clock as unknown as Record<string, (...args: unknown[]) => unknown>;
    const original = clock[method]!;
    const sites = this.sites;
    const timers = (): Map<number, object> | undefined => (this.clock as unknown as { timers?: Map<number, object> }).timers;
    const wrapper = (...args: unknown[]): unknown => {
      const handle = original.apply(clock, args);
      const holder: { stack?: string } = {};
      if (this.init.timerSites) {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 8;
        Error.captureStackTrace(holder, wrapper); // formatted lazily, only if a report asks
        Error.stackTraceLimit = limit;
        const record = timers()?.get(Number(handle));
        if (record !== undefined) sites.set(record, holder);
      }
      const delay = Number(args[1] ?? 0);
      if (delay > MAX_TIMER_DELAY) this.fail(new TimerOverflowError(this.init.id, delay, siteOf(holder)));
      return handle;
    };
    clock[method] = wrapper;
  }

  get started(): boolean {
    return this.program !== null;
  }

  private within<T>(fn: () => T): T {
    return this.hooks.within ? this.hooks.within(fn) : fn();
  }

  async start(): Promise<void> {
    const init = this.init;
    try {
      const factory = await loadProgram(init.program);
      const storage = new MirroredStorage(init.disk, (writes) => {
        if (this.hooks.immediate) this.hooks.immediate.synced(writes);
        else this.disk.push(writes);
        const last = writes.findLast((w) => w.kind === 'append');
        if (last?.kind === 'append' && last.entries.length > 0) {
          this.hooks.observe?.({ kind: 'logIndex', node: init.id, index: last.entries[last.entries.length - 1]!.index });
        }
      });
      this.program = await this.within(() =>
        factory({
          id: init.id,
          members: init.members,
          peers: init.members.filter((m) => m !== init.id),
          send: (message) => {
            if (this.hooks.immediate) this.hooks.immediate.send(message);
            else this.sends.push(message);
            this.hooks.observe?.({ kind: 'sent', node: init.id, message });
          },
          storage,
          random: createRandom(deriveSeed(init.seed, `${init.id}#${init.incarnation}`)),
          emit: (event) => {
            this.events.push({ time: this.clock.now, event: event as NodeTraceEvent['event'] });
            this.hooks.observe?.({ kind: 'event', node: init.id, event });
          },
          options: init.options,
        }),
      );
    } catch (error) {
      this.fail(error);
    }
    await this.settle();
  }

  /** Deterministic mode: one event, to quiescence. */
  async step(step: Step): Promise<StepReport> {
    if (step.type === 'start') {
      await this.start();
    } else if (this.failure === null && this.program !== null) {
      const program = this.program;
      try {
        const sync = this.hooks.synchronous === true;
        if (step.type === 'timers') {
          const ms = Math.max(0, step.until - this.clock.now);
          if (sync) this.within(() => this.clock.tick(ms));
          else await this.within(() => this.clock.tickAsync(ms));
        } else if (step.type === 'next-timer') {
          if (sync) this.within(() => this.clock.next());
          else await this.within(() => this.clock.nextAsync());
        } else {
          await this.advanceTo(step.at);
          this.within(() => program.onMessage(step.message));
        }
      } catch (error) {
        this.fail(error);
      }
      await this.settle();
    }
    return this.report();
  }

  /** Hands a message to the program now (realtime). */
  deliver(message: unknown): void {
    if (this.program === null || this.failure !== null) return;
    const program = this.program;
    try {
      this.within(() => program.onMessage(message));
    } catch (error) {
      this.fail(error);
    }
  }

  /** Moves the clock to `at`, firing what falls due; a throwing timer fails the node. */
  async advanceTo(at: number): Promise<void> {
    if (at <= this.clock.now) return;
    const next = this.nextTimer();
    try {
      // With nothing due on the way (the usual case: the scheduler runs timers first) this is a
      // plain synchronous move, saving tickAsync's event-loop hops.
      if (next === null || next > at) this.clock.tick(at - this.clock.now);
      else if (this.hooks.synchronous === true) this.within(() => this.clock.tick(at - this.clock.now));
      else await this.within(() => this.clock.tickAsync(at - this.clock.now));
    } catch (error) {
      this.fail(error);
    }
  }

  /** Lets promise continuations started by the program run: a step is over only when quiet. */
  settle(): Promise<void> {
    if (this.hooks.synchronous === true) return Promise.resolve();
    return new Promise((resolve) => this.hooks.setImmediate(resolve));
  }

  /** Events emitted since the last call (realtime reports them as they come). */
  takeEvents(): NodeTraceEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  report(): StepReport {
    const out: StepReport = {
      sends: this.sends,
      disk: this.disk,
      events: this.events,
      nextTimer: this.nextTimer(),
      clock: this.clock.now,
      failure: this.failure,
    };
    this.sends = [];
    this.disk = [];
    this.events = [];
    return out;
  }

  nextTimer(): number | null {
    if (this.failure !== null) return null;
    let next: number | null = null;
    for (const t of this.timers()) if (next === null || t.callAt < next) next = t.callAt;
    return next;
  }

  pendingTimers(): PendingTimer[] {
    return this.timers()
      .map((t): PendingTimer => {
        const holder = this.sites.get(t);
        return { id: t.id, at: t.callAt, kind: t.interval === undefined ? 'timeout' : 'interval', site: holder === undefined ? null : siteOf(holder) };
      })
      .sort((a, b) => a.at - b.at || a.id - b.id);
  }

  inspect(): unknown {
    const program = this.program;
    return program === null ? null : this.within(() => program.inspect());
  }

  /** Stops the program and returns the timers it left pending. */
  async stop(): Promise<PendingTimer[]> {
    const program = this.program;
    this.program = null;
    if (program) await this.within(() => program.stop());
    return this.pendingTimers();
  }

  fail(error: unknown): void {
    if (this.failure !== null) return;
    const e = error instanceof Error ? error : new Error(String(error));
    this.failure = { name: e.name, message: e.message, stack: e.stack ?? `${e.name}: ${e.message}` };
    this.hooks.immediate?.failed(this.failure);
  }

  private timers(): FakeTimer[] {
    const map = (this.clock as unknown as { timers?: Map<number, FakeTimer> }).timers;
    return map ? [...map.values()] : [];
  }
}
