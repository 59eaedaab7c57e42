/**
 * Plain-data types that cross the worker boundary. Nothing here may hold a class instance or a
 * function: it all goes through structured clone, and error classes do not survive it.
 */
import type { HardState, Entry, NodeId, PersistedState, Snapshot } from '../src/raft/types.js';

/** Which node program a host runs. Built-ins are looked up by name inside the worker. */
export type ProgramSpec =
  | { readonly kind: 'builtin'; readonly name: BuiltinProgram }
  /** A module URL (file:) whose export `name` (default: `default`) is a NodeProgramFactory. */
  | { readonly kind: 'module'; readonly url: string; readonly name?: string };

export const BUILTIN_PROGRAMS = ['raft-bank', 'ping'] as const;
export type BuiltinProgram = (typeof BUILTIN_PROGRAMS)[number];

export type HostMode = 'deterministic' | 'realtime';

export type HostInit = {
  /**
   * `deterministic`: the clock moves only when the main thread runs an event here.
   * `realtime`: the clock follows wall time from `start()`; messages are handled on arrival.
   */
  readonly mode: HostMode;
  readonly id: NodeId;
  readonly members: readonly NodeId[];
  readonly seed: number;
  /** 1 for the first start; each restart adds one (and changes the node's random stream). */
  readonly incarnation: number;
  readonly program: ProgramSpec;
  readonly options: unknown;
  /** What survived on the simulated disk. */
  readonly disk: PersistedState;
  /** Virtual time at which the node starts: its clock begins there. */
  readonly now: number;
  /** Record where each timer was created (for hang reports). Costs a stack capture per timer. */
  readonly timerSites: boolean;
};

/** A trace event emitted by a node program, stamped with the node's virtual time. */
export type NodeTraceEvent = { readonly time: number; readonly event: { readonly type: string } & Record<string, unknown> };

/** A timer pending on a node's fake clock. */
export type PendingTimer = {
  readonly id: number;
  /** Due time, on the node's clock. */
  readonly at: number;
  readonly kind: 'timeout' | 'interval';
  /** Where the node's code created it (`file:line:column`, with the function), when known. */
  readonly site: string | null;
};

/** A message a node sent: plain data addressed by `to`. */
export type SentMessage = { readonly to: string; readonly [key: string]: unknown };

/** What a node reports after handling one input to quiescence. */
export type StepReport = {
  /** What it sent during the step, in order. */
  readonly sends: readonly SentMessage[];
  /** What it synced to its disk during the step, one batch per sync. */
  readonly disk: ReadonlyArray<readonly DiskWrite[]>;
  readonly events: readonly NodeTraceEvent[];
  /** Due time of its earliest timer, or null when it has none. */
  readonly nextTimer: number | null;
  readonly clock: number;
  /** An exception thrown by the program's handler or timer; the node is failed from then on. */
  readonly failure: { readonly name: string; readonly message: string; readonly stack: string } | null;
};

/** One write made durable by a sync, mirrored to the main thread so it survives a crash. */
export type DiskWrite =
  | { readonly kind: 'hard-state'; readonly hardState: HardState }
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

/** Data plane, worker → main. Realtime nodes also report events, failures and trigger hits here. */
export type WorkerPost =
  | { readonly kind: 'report'; readonly report: StepReport }
  | { readonly kind: 'send'; readonly message: SentMessage }
  | { readonly kind: 'disk'; readonly writes: readonly DiskWrite[] }
  | { readonly kind: 'events'; readonly events: readonly NodeTraceEvent[]; readonly nextTimer: number | null; readonly clock: number }
  | { readonly kind: 'failure'; readonly failure: NonNullable<StepReport['failure']> }
  | { readonly kind: 'trigger'; readonly hit: { readonly node: string; readonly reason: string; readonly time: number } };

/**
 * Data plane, main → worker. Deterministic mode runs each event as one `step` message answered
 * by one `report` on the same port: one round trip per event, and the node's sends travel with
 * the report, in order. Realtime mode gets `deliver` messages and handles them on arrival.
 */
export type MainPost =
  | { readonly kind: 'step'; readonly step: Step }
  | { readonly kind: 'deliver'; readonly message: unknown };

export type Step =
  | { readonly type: 'start' }
  /** Fires every timer due at or before `until` (node time), in order. */
  | { readonly type: 'timers'; readonly until: number }
  /** Fires exactly one timer, the next due, moving the clock to it (controlled time). */
  | { readonly type: 'next-timer' }
  /** Moves the clock to `at` (node time) and hands `message` to the program. */
  | { readonly type: 'deliver'; readonly at: number; readonly message: unknown };

/** The control API a worker exposes over comlink. Every method resolves with plain data. */
export type HostControl = {
  inspect(): Promise<unknown>;
  pendingTimers(): Promise<PendingTimer[]>;
  /** The node's clock now (in realtime it moves on its own). */
  clock(): Promise<number>;
  /** Realtime: freezes the clock and buffers arriving messages; resolves with the clock. */
  pause(): Promise<number>;
  /**
   * Realtime: continues from the paused instant, then handles what arrived meanwhile. With
   * `sleptMs` the clock first jumps by that much (a stall: timers come due at once).
   */
  resume(sleptMs: number): Promise<void>;
  /** Realtime: evaluate this trigger here, at the exact point; on a hit, pause and report. */
  arm(trigger: unknown): Promise<void>;
  disarm(): Promise<void>;
  /** Stops the program; resolves with the timers it left pending (they are then dropped). */
  stop(): Promise<PendingTimer[]>;
};

/** How a node's stop went, and what it left behind. */
export type NodeStopReport = {
  readonly id: string;
  /** `timed-out`: its stop() never completed (often: it waits on a timer that cannot fire). */
  readonly outcome: 'clean' | 'timed-out' | 'failed' | 'crashed';
  readonly error: string | null;
  /** Timers still pending when it stopped (for `timed-out`: what its stop() was waiting on). */
  readonly pendingTimers: readonly PendingTimer[];
};
