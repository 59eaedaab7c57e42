import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import FakeTimers from '@sinonjs/fake-timers';
import { InvalidConfigError } from '../../src/raft/errors.js';
import { NodeCrashedError } from '../errors.js';
import type { HostControl, HostInit, MainPost, NodeStopReport, Step, StepReport } from '../protocol.js';
import type { NodeHost } from './host.js';
import { NodeRuntime, type Clock } from './node-runtime.js';

/** The clock of the node whose code is running, carried across awaits by async context. */
const current = new AsyncLocalStorage<Clock>();
/**
 * The clock of the synchronous (built-in) node whose code is running right now. Such code never
 * resumes after an await, so a plain variable routes its timers, and the async context (whose
 * promise hooks slow every promise in the process) is never entered.
 */
let running: Clock | null = null;
const clockNow = (): Clock | undefined => running ?? current.getStore();
let dispatching = false;

/**
 * Makes the global timers, Date and performance.now (and `node:timers`, `node:timers/promises`)
 * answer from the clock of the node whose code is running, and from the real ones everywhere else
 * (the test runner, the harness). Installed once per process; inert outside node code.
 */
function installDispatch(): void {
  if (dispatching) return;
  dispatching = true;
  const require = createRequire(import.meta.url);
  const timers = require('node:timers') as typeof import('node:timers');
  const timersPromises = require('node:timers/promises') as typeof import('node:timers/promises');
  const real = {
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
    Date: globalThis.Date,
    performanceNow: performance.now.bind(performance),
    sleep: timersPromises.setTimeout,
  };
  type Fn = (...args: unknown[]) => unknown;
  const route = (fake: (c: Clock) => Fn, fallback: Fn): Fn =>
    function (this: unknown, ...args: unknown[]) {
      const clock = clockNow();
      return clock ? fake(clock)(...args) : fallback.apply(this, args);
    };
  const setTimeoutRouted = route((c) => c.setTimeout as Fn, real.setTimeout as unknown as Fn);
  const clearTimeoutRouted = route((c) => c.clearTimeout as Fn, real.clearTimeout as unknown as Fn);
  const setIntervalRouted = route((c) => c.setInterval as Fn, real.setInterval as unknown as Fn);
  const clearIntervalRouted = route((c) => c.clearInterval as Fn, real.clearInterval as unknown as Fn);
  Object.assign(globalThis, {
    setTimeout: setTimeoutRouted,
    clearTimeout: clearTimeoutRouted,
    setInterval: setIntervalRouted,
    clearInterval: clearIntervalRouted,
  });
  Object.assign(timers, {
    setTimeout: setTimeoutRouted,
    clearTimeout: clearTimeoutRouted,
    setInterval: setIntervalRouted,
    clearInterval: clearIntervalRouted,
  });
  timersPromises.setTimeout = function <T>(ms?: number, value?: T): Promise<T> {
    const clock = clockNow();
    if (!clock) return real.sleep(ms, value);
    return new Promise<T>((resolve) => clock.setTimeout(() => resolve(value as T), ms ?? 1));
  } as typeof timersPromises.setTimeout;
  const RealDate = real.Date;
  globalThis.Date = new Proxy(RealDate, {
    construct: (_target, args) => Reflect.construct(clockNow()?.Date ?? RealDate, args),
    apply: (_target, thisArg, args) => Reflect.apply(clockNow()?.Date ?? RealDate, thisArg, args),
    get: (target, prop) => {
      if (prop === 'now') return () => (clockNow()?.Date ?? RealDate).now();
      return Reflect.get(target, prop);
    },
  });
  performance.now = () => {
    const clock = clockNow();
    return clock ? clock.performance.now() : real.performanceNow();
  };
  syncBuiltinESMExports();
}

/**
 * A node run in the main thread, on its own fake clock, for fast deterministic sweeps: no thread
 * hop per event. It runs the same NodeRuntime as a worker does, so a seed gives the same trace on
 * both hosts. Programs must keep no mutable state at module level (all nodes share the module).
 */
export class InlineNodeHost implements NodeHost {
  readonly id: string;
  readonly outstanding = new Set<string>();
  private readonly runtime: NodeRuntime;
  private exit: string | null = null;

  /** Real ms a program's stop() may take before the node is dropped anyway. */
  private readonly stopTimeoutMs: number;

  constructor(init: HostInit, stopTimeoutMs: number) {
    this.stopTimeoutMs = stopTimeoutMs;
    if (init.mode !== 'deterministic') {
      throw new InvalidConfigError('host', 'inline', "the worker host in realtime mode (the inline host is for deterministic mode)");
    }
    installDispatch();
    this.id = init.id;
    const clock = FakeTimers.createClock(init.now, 1_000_000);
    const synchronous = init.program.kind === 'builtin';
    this.runtime = new NodeRuntime(init, clock, {
      setImmediate: (callback) => setImmediate(callback),
      within: synchronous
        ? (fn) => {
            const outer = running;
            running = clock;
            try {
              return fn();
            } finally {
              running = outer;
            }
          }
        : (fn) => current.run(clock, fn),
      synchronous,
    });
  }

  get alive(): boolean {
    return this.exit === null;
  }

  async step(step: Step): Promise<StepReport> {
    if (this.exit !== null) throw new NodeCrashedError(this.id, `step(${step.type})`, this.exit);
    return this.runtime.step(step);
  }

  async call<K extends keyof HostControl>(name: K, ..._args: Parameters<HostControl[K]>): Promise<Awaited<ReturnType<HostControl[K]>>> {
    if (this.exit !== null) throw new NodeCrashedError(this.id, name, this.exit);
    type R = Awaited<ReturnType<HostControl[K]>>;
    switch (name) {
      case 'inspect':
        return this.runtime.inspect() as R;
      case 'pendingTimers':
        return this.runtime.pendingTimers() as R;
      case 'clock':
        return this.runtime.clock.now as R;
      case 'stop':
        return (await this.stopProgram()).pendingTimers as R;
      default:
        throw new InvalidConfigError('host', 'inline', `the worker host for ${name}() (realtime mode only)`);
    }
  }

  post(_message: MainPost): void {
    throw new InvalidConfigError('host', 'inline', 'the worker host for realtime delivery');
  }

  async terminate(): Promise<void> {
    this.exit ??= 'it was terminated';
  }

  async stop(): Promise<NodeStopReport> {
    const report: NodeStopReport = this.exit === null ? await this.stopProgram() : { id: this.id, outcome: 'crashed', error: this.exit, pendingTimers: [] };
    this.exit ??= 'it was stopped';
    return report;
  }

  /**
   * A program whose stop() never completes (a timer-hang bug: it waits on a timer that will not
   * fire) is given up on after the limit, as a worker would be terminated, and reported.
   */
  private async stopProgram(): Promise<NodeStopReport> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = Symbol('timed out');
    try {
      const outcome = await Promise.race([
        this.runtime.stop(),
        new Promise<typeof timedOut>((resolve) => {
          timer = setTimeout(() => resolve(timedOut), this.stopTimeoutMs);
          timer.unref();
        }),
      ]);
      if (outcome === timedOut) {
        const error = `its stop() did not complete within ${this.stopTimeoutMs} ms of real time`;
        return { id: this.id, outcome: 'timed-out', error, pendingTimers: this.runtime.pendingTimers() };
      }
      return { id: this.id, outcome: 'clean', error: null, pendingTimers: outcome };
    } catch (error) {
      return { id: this.id, outcome: 'failed', error: (error as Error).message, pendingTimers: [] };
    } finally {
      clearTimeout(timer);
    }
  }
}
