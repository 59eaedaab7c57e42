import { parseBankOp, type BankOp, type BankResult } from '../src/apps/bank/bank.js';
import type { ClientReply, ClientRequest } from '../src/node/client-protocol.js';
import { InvalidConfigError } from '../src/raft/errors.js';
import type { NodeId } from '../src/raft/types.js';
import type { HistoryOperation } from './cluster.js';
import { ClusterTimeoutError } from './errors.js';

export type ClientOptions = {
  /** Pin the client to one node: it never tries another. */
  readonly node?: NodeId;
  /** Virtual ms before an unanswered attempt is sent again (to the next node). Default 100. */
  readonly retryInterval?: number;
};

export type OperationOptions = {
  /** Virtual ms before the operation fails with ClusterTimeoutError. Default 5 000. */
  readonly timeout?: number;
};

/** What the cluster lends a client: its clock, its network and its scheduler. */
export type ClientHost = {
  readonly ids: readonly NodeId[];
  now(): number;
  send(message: ClientRequest): void;
  setTimer(at: number, label: string, fire: () => void): number;
  clearTimer(id: number): void;
  wait(label: string, done: () => boolean, timeout: number): Promise<void>;
  /** Realtime: nodes run by themselves, so an operation needs no driver, only its own timers. */
  readonly realtime: boolean;
  record(op: HistoryOperation): void;
  /** Adds a line to the cluster's trace, from this client's address. */
  trace(type: string, fields: Record<string, unknown>): void;
  assertLive(call: string): void;
  /** The hang report: every node's state and pending timers. */
  hangReport(): Promise<string>;
};

type Outcome = { readonly ok: true; readonly value: BankResult } | { readonly ok: false; readonly error: Error };

/**
 * A client operation in progress. It is a thenable, not a Promise: the operation goes on (when
 * something drives the cluster) whether or not the test awaits it, but only awaiting it drives
 * the cluster. So a test can start operations, partition, pause, and let them finish later.
 */
export class ClientOperation implements PromiseLike<BankResult> {
  private outcome: Outcome | null = null;
  private driven: Promise<BankResult> | null = null;
  private onSettle: (() => void) | null = null;
  private readonly drive: () => Promise<void>;

  constructor(drive: (op: ClientOperation) => Promise<void>) {
    this.drive = () => drive(this);
  }

  get settled(): boolean {
    return this.outcome !== null;
  }

  settle(outcome: Outcome): void {
    if (this.outcome !== null) return;
    this.outcome = outcome;
    this.onSettle?.();
  }

  /** Resolves when the operation has an outcome (without driving anything). */
  whenSettled(): Promise<void> {
    if (this.outcome !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.onSettle = resolve;
    });
  }

  then<A = BankResult, B = never>(
    onFulfilled?: ((value: BankResult) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.driven ??= this.drive().then(() => {
      const o = this.outcome!;
      if (o.ok) return o.value;
      throw o.error;
    });
    return this.driven.then(onFulfilled, onRejected);
  }
}

/**
 * A bank teller client with its own session: every write carries (client id, seq) and is retried
 * with the same seq, across leader changes, until answered, so it is applied exactly once. It
 * follows leader hints, and rotates through the nodes when an attempt goes unanswered.
 */
export class BankClient {
  readonly id: string;
  private readonly options: ClientOptions;
  private readonly host: ClientHost;
  private seq = 0;
  private nextRequest = 1;
  /** Numbers this client's operations in the trace. */
  private nextOp = 1;
  private target: number;
  /** The attempt awaiting an answer, by request id. */
  private readonly pending = new Map<number, (reply: ClientReply) => void>();

  constructor(id: string, options: ClientOptions, host: ClientHost) {
    if (options.retryInterval !== undefined && (!Number.isSafeInteger(options.retryInterval) || options.retryInterval < 1)) {
      throw new InvalidConfigError('retryInterval', options.retryInterval, 'an integer >= 1 (virtual ms)');
    }
    this.id = id;
    this.options = options;
    this.host = host;
    this.target = options.node === undefined ? 0 : host.ids.indexOf(options.node);
  }

  credit(amount: number, options: OperationOptions = {}): ClientOperation {
    return this.start({ op: 'credit', amount }, options);
  }

  debit(amount: number, options: OperationOptions = {}): ClientOperation {
    return this.start({ op: 'debit', amount }, options);
  }

  balance(options: OperationOptions = {}): ClientOperation {
    return this.start({ op: 'balance' }, options);
  }

  /** Called by the cluster when a reply reaches this client's address. */
  receive(message: unknown): void {
    const reply = message as ClientReply;
    this.pending.get(reply.requestId)?.(reply);
  }

  private start(input: BankOp, options: OperationOptions): ClientOperation {
    this.host.assertLive(`client.${input.op}`);
    const timeout = options.timeout ?? 5_000;
    if (!Number.isSafeInteger(timeout) || timeout < 1) throw new InvalidConfigError('timeout', timeout, 'an integer >= 1 (virtual ms)');
    const parsed = parseBankOp(input);
    const call = this.host.now();
    const record: HistoryOperation = { client: this.id, input, call };
    this.host.record(record);
    const opId = this.nextOp++;
    this.host.trace('client-call', { op: opId, input });
    const deadline = call + timeout;
    const op = new ClientOperation((self) =>
      this.host.realtime ? self.whenSettled() : this.host.wait(`${this.id} ${describeOp(input)}`, () => self.settled, deadline - this.host.now() + 1),
    );
    if (!parsed.ok) {
      // Refused here, as the state machine would: nothing is sent.
      const value: BankResult = { ok: false, error: parsed.error };
      record.output = value;
      record.return = call;
      this.host.trace('client-return', { op: opId, input, output: value });
      op.settle({ ok: true, value });
      return op;
    }
    const seq = input.op === 'balance' ? 0 : ++this.seq;
    const retry = this.options.retryInterval ?? 100;
    let retryTimer: number | null = null;
    /** Every attempt's request id: a late success of an earlier attempt still answers the op. */
    const attempts: number[] = [];
    let current = 0;
    let timedOut = false;

    const finish = (outcome: Outcome): void => {
      if (op.settled) return;
      if (retryTimer !== null) this.host.clearTimer(retryTimer);
      this.host.clearTimer(timeoutTimer);
      for (const id of attempts) this.pending.delete(id);
      if (outcome.ok) {
        record.output = outcome.value;
        record.return = this.host.now();
        this.host.trace('client-return', { op: opId, input, output: outcome.value });
      } else {
        this.host.trace('client-failed', { op: opId, input, error: outcome.error.name });
      }
      op.settle(outcome);
    };
    const onReply = (reply: ClientReply): void => {
      if (timedOut) return;
      if (reply.ok) {
        finish({ ok: true, value: reply.result as BankResult });
        return;
      }
      if (reply.requestId !== current) return; // a refusal of an attempt already given up on
      if (retryTimer !== null) this.host.clearTimer(retryTimer);
      if (reply.error === 'stale-request') {
        finish({ ok: false, error: new Error(`raft-harness: ${this.id} seq ${seq} was overtaken by a later request of the same client`) });
        return;
      }
      this.follow(reply.leaderHint);
      retryTimer = this.host.setTimer(this.host.now() + (reply.leaderHint === null ? retry : 1), `${this.id} retry`, attempt);
    };
    const attempt = (): void => {
      if (op.settled || timedOut) return;
      const to = this.host.ids[this.target]!;
      current = this.nextRequest++;
      attempts.push(current);
      this.pending.set(current, onReply);
      this.host.send({ type: 'ClientRequest', from: `client:${this.id}`, to, clientId: this.id, seq, requestId: current, op: input });
      retryTimer = this.host.setTimer(this.host.now() + retry, `${this.id} retry`, () => {
        this.follow(null);
        attempt();
      });
    };
    const timeoutTimer = this.host.setTimer(deadline, `${this.id} timeout`, () => {
      // An operation that timed out may still take effect later: its output stays unknown.
      timedOut = true;
      if (retryTimer !== null) this.host.clearTimer(retryTimer);
      const label = `${this.id} ${describeOp(input)}`;
      const why = `no answer within ${timeout} virtual ms`;
      void this.host.hangReport().then(
        (report) => finish({ ok: false, error: new ClusterTimeoutError(label, why, report) }),
        (error: unknown) => finish({ ok: false, error: new ClusterTimeoutError(label, why, `(no hang report: ${String(error)})`) }),
      );
    });
    attempt();
    return op;
  }

  /** Next target: the hinted leader, or the next node in turn (unless pinned). */
  private follow(hint: NodeId | null): void {
    if (this.options.node !== undefined) return;
    const i = hint === null ? -1 : this.host.ids.indexOf(hint);
    this.target = i >= 0 ? i : (this.target + 1) % this.host.ids.length;
  }
}

function describeOp(op: BankOp): string {
  return op.op === 'balance' ? 'balance()' : `${op.op}(${op.amount})`;
}
