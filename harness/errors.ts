import { RaftHarnessError } from '../src/raft/errors.js';

/** A node id that is not in the cluster. */
export class UnknownNodeError extends RaftHarnessError {
  readonly node: unknown;
  constructor(node: unknown, known: readonly string[]) {
    super(`unknown node ${JSON.stringify(node)}; nodes: ${known.join(', ')}`);
    this.name = 'UnknownNodeError';
    this.node = node;
  }
}

/** Any use of a cluster after `stop()`. */
export class ClusterStoppedError extends RaftHarnessError {
  readonly call: string;
  constructor(call: string) {
    super(`cluster is stopped; cannot ${call}`);
    this.name = 'ClusterStoppedError';
    this.call = call;
  }
}

/** A control call to a node whose worker exited or was terminated (crashed). */
export class NodeCrashedError extends RaftHarnessError {
  readonly node: string;
  readonly call: string;
  constructor(node: string, call: string, detail: string) {
    super(`node ${node} is down (${detail}); ${call} cannot run there`);
    this.name = 'NodeCrashedError';
    this.node = node;
    this.call = call;
  }
}

/** A control call that got no answer in time: the worker is hung (a busy loop, a deadlock). */
export class ControlTimeoutError extends RaftHarnessError {
  readonly node: string;
  readonly call: string;
  readonly ms: number;
  constructor(node: string, call: string, ms: number) {
    super(`node ${node} did not answer ${call} within ${ms} ms of real time; its worker is hung`);
    this.name = 'ControlTimeoutError';
    this.node = node;
    this.call = call;
    this.ms = ms;
  }
}

/** An exception escaped a node program's handler or timer. */
export class NodeFailureError extends RaftHarnessError {
  readonly node: string;
  readonly time: number;
  /** The stack of the exception inside the node (this error's own stack is the harness's). */
  readonly nodeStack: string;
  constructor(node: string, time: number, failure: { name: string; message: string; stack: string }) {
    super(`node ${node} failed at ${time} ms: ${failure.name}: ${failure.message}\n${failure.stack}`);
    this.name = 'NodeFailureError';
    this.node = node;
    this.time = time;
    this.nodeStack = failure.stack;
  }
}

/**
 * A wait ran out of virtual time (or could not make progress, or hit its real-time guard). The
 * message is a hang report: what every node was doing.
 */
export class ClusterTimeoutError extends RaftHarnessError {
  readonly waitingFor: string;
  readonly report: string;
  constructor(waitingFor: string, why: string, report: string) {
    super(`timed out waiting for ${waitingFor}: ${why}\n${report}`);
    this.name = 'ClusterTimeoutError';
    this.waitingFor = waitingFor;
    this.report = report;
  }
}

/**
 * A membership change the cluster refused, or that cannot be asked: an id already in the cluster,
 * a node that is not a member, a change while another is pending. Nothing changed.
 */
export class MembershipChangeError extends RaftHarnessError {
  readonly change: string;
  readonly node: string;
  readonly reason: string;
  constructor(change: string, node: string, reason: string, detail: string) {
    super(`${change}(${JSON.stringify(node)}) refused (${reason}): ${detail}`);
    this.name = 'MembershipChangeError';
    this.change = change;
    this.node = node;
    this.reason = reason;
  }
}

/** A leadership transfer that was refused, or whose target did not take over in time. */
export class LeadershipTransferError extends RaftHarnessError {
  readonly from: string | null;
  readonly to: string;
  readonly reason: string;
  constructor(from: string | null, to: string, reason: string, detail: string) {
    super(`leadership transfer ${from ?? '?'} → ${to} failed (${reason}): ${detail}`);
    this.name = 'LeadershipTransferError';
    this.from = from;
    this.to = to;
    this.reason = reason;
  }
}
