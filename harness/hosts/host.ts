import type { HostControl, MainPost, NodeStopReport, Step, StepReport } from '../protocol.js';

/** Where a node runs: its own worker thread, or inline in the main thread. Same steps, same results. */
export interface NodeHost {
  readonly id: string;
  readonly alive: boolean;
  /** Calls in flight, for hang reports and leak checks. */
  readonly outstanding: ReadonlySet<string>;
  /** Deterministic mode: one event, to quiescence. */
  step(step: Step): Promise<StepReport>;
  call<K extends keyof HostControl>(name: K, ...args: Parameters<HostControl[K]>): Promise<Awaited<ReturnType<HostControl[K]>>>;
  /** Realtime mode: hands a message over as it arrives. */
  post(message: MainPost): void;
  /** Ends the node at once: what it had not synced is lost. */
  terminate(): Promise<void>;
  /** Stops the program (within the control timeout), then ends the node, and says how it went. */
  stop(): Promise<NodeStopReport>;
}
