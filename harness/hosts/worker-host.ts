import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { ControlTimeoutError, NodeCrashedError } from '../errors.js';
import type { HostControl, HostInit, MainPost, NodeStopReport, Step, StepReport, WorkerPost } from '../protocol.js';
import type { NodeHost } from './host.js';

/**
 * The compiled worker entry. Node 20 cannot load a .ts worker, so when this module itself runs
 * from source (under vitest) it still starts the build in dist/ (`npm test` builds first).
 */
function entryUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL('../../dist/harness/worker/entry.js', here)
    : new URL('../worker/entry.js', here);
}

export type WorkerHostOptions = {
  /** Real-time limit for any control call. */
  readonly controlTimeoutMs: number;
  /** Realtime: every data-plane post from the node (sends, disk writes, events), in order. */
  readonly onPost: (post: WorkerPost) => void;
};

type Call = keyof HostControl;

/** How long a step's report is polled for synchronously before waiting on the event loop. */
const SPIN_BUDGET_NS = 1_000_000n;

/**
 * The main thread's handle on one node's worker: a comlink proxy wrapped once and kept, a raw
 * data port, and a watch on the worker's exit. Every control call races the exit and a timeout,
 * so a call to a crashed, terminated or hung worker rejects with a named error, never hangs.
 */
export class WorkerNodeHost implements NodeHost {
  readonly id: string;
  private readonly worker: Worker;
  private readonly remote: Remote<HostControl>;
  private readonly dataPort: MessagePort;
  private readonly options: WorkerHostOptions;
  /** Deterministic: steps posted and not yet reported, oldest first (the port keeps order). */
  private readonly steps: Array<(report: StepReport) => void> = [];
  private exit: string | null = null;
  /** Rejecters of the calls and drains in flight: the worker's exit fails each of them once. */
  private readonly onExit = new Set<(detail: string) => void>();
  /** Control calls in flight, for hang reports and for stop() to account for. */
  readonly outstanding = new Set<string>();

  constructor(init: HostInit, options: WorkerHostOptions) {
    this.id = init.id;
    this.options = options;
    const channel = new MessageChannel();
    this.dataPort = channel.port1;
    this.worker = new Worker(entryUrl(), {
      workerData: { init, dataPort: channel.port2 },
      transferList: [channel.port2],
      stderr: false,
    });
    this.remote = wrap<HostControl>(nodeEndpoint(this.worker as unknown as Parameters<typeof nodeEndpoint>[0]));
    this.dataPort.on('message', (post: WorkerPost) => this.receive(post));
    const onGone = (detail: string): void => {
      if (this.exit === null) this.exit = detail;
      for (const fail of this.onExit) fail(this.exit);
      this.onExit.clear();
    };
    this.worker.once('exit', (code) => onGone(`its worker exited with code ${code}`));
    this.worker.once('error', (error) => onGone(`its worker threw ${error.name}: ${error.message}`));
  }

  /**
   * Races `work` against the worker's exit and the real-time limit. Nothing outlives the race:
   * the exit hook and the timer are removed when it settles.
   */
  private guard<T>(work: Promise<T>, label: string, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onExit.delete(gone);
        reject(onTimeout());
      }, this.options.controlTimeoutMs);
      timer.unref();
      const gone = (detail: string): void => {
        clearTimeout(timer);
        reject(new NodeCrashedError(this.id, label, detail));
      };
      this.onExit.add(gone);
      work.then(
        (value) => {
          clearTimeout(timer);
          this.onExit.delete(gone);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.onExit.delete(gone);
          reject(error);
        },
      );
    });
  }

  private receive(post: WorkerPost): void {
    if (post.kind === 'report') this.steps.shift()?.(post.report);
    else this.options.onPost(post);
  }

  /**
   * Waits for the step's report by polling the port synchronously for a short while. A step takes
   * tens of µs; letting the main thread fall asleep and be woken by the port would add about as
   * much again. Past the budget (a slow step, a hung or dead worker) it falls back to the event
   * loop, where the exit watch and the timeout apply.
   */
  private spinForReport(pending: number, budgetNs: bigint): void {
    const end = process.hrtime.bigint() + budgetNs;
    while (this.steps.length >= pending && process.hrtime.bigint() < end) {
      const got = receiveMessageOnPort(this.dataPort);
      if (got !== undefined) this.receive(got.message as WorkerPost);
    }
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** Calls the worker's control API, racing its exit and the real-time limit. */
  async call<K extends Call>(name: K, ...args: Parameters<HostControl[K]>): Promise<Awaited<ReturnType<HostControl[K]>>> {
    if (this.exit !== null) throw new NodeCrashedError(this.id, name, this.exit);
    const label = `${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
    this.outstanding.add(label);
    try {
      const fn = this.remote[name] as unknown as (...a: unknown[]) => Promise<Awaited<ReturnType<HostControl[K]>>>;
      return await this.guard(fn(...args), label, () => new ControlTimeoutError(this.id, label, this.options.controlTimeoutMs));
    } finally {
      this.outstanding.delete(label);
    }
  }

  /** Realtime: hands a message to the node, which handles it on arrival (or when resumed). */
  post(message: MainPost): void {
    if (this.exit === null) this.dataPort.postMessage(message);
  }

  /**
   * Deterministic: runs one event on the node and resolves with its report: one message each way
   * on the data port, raced against the worker's exit and the real-time limit.
   */
  async step(step: Step): Promise<StepReport> {
    const label = step.type === 'deliver' ? `step(deliver at ${step.at})` : step.type === 'timers' ? `step(timers until ${step.until})` : `step(${step.type})`;
    if (this.exit !== null) throw new NodeCrashedError(this.id, label, this.exit);
    this.outstanding.add(label);
    try {
      const reported = new Promise<StepReport>((resolve) => this.steps.push(resolve));
      this.dataPort.postMessage({ kind: 'step', step } satisfies MainPost);
      this.spinForReport(this.steps.length, SPIN_BUDGET_NS);
      return await this.guard(reported, label, () => new ControlTimeoutError(this.id, label, this.options.controlTimeoutMs));
    } finally {
      this.outstanding.delete(label);
    }
  }

  /** Ends the worker for real; what it had not synced is gone. */
  async terminate(): Promise<void> {
    if (this.exit === null) this.exit = 'it was terminated';
    // No releaseProxy(): comlink awaits the worker's answer to it, which a dead worker never sends.
    this.dataPort.close();
    await this.worker.terminate();
  }

  /**
   * Stops the program, then the worker. A stop() that does not complete within the control
   * timeout is reported with the timers the node was waiting on, and the worker is terminated.
   */
  async stop(): Promise<NodeStopReport> {
    let report: NodeStopReport;
    if (this.exit !== null) {
      report = { id: this.id, outcome: 'crashed', error: this.exit, pendingTimers: [] };
    } else {
      try {
        report = { id: this.id, outcome: 'clean', error: null, pendingTimers: await this.call('stop') };
      } catch (error) {
        const timedOut = error instanceof ControlTimeoutError;
        const pendingTimers = timedOut ? await this.call('pendingTimers').catch(() => []) : [];
        report = { id: this.id, outcome: timedOut ? 'timed-out' : 'failed', error: (error as Error).message, pendingTimers };
      }
    }
    await this.terminate();
    return report;
  }
}
