import { connect } from 'node:net';
import { InvalidConfigError } from '../../raft/errors.js';
import type { Random } from '../../raft/random.js';
import { formatHostPort, type HostPort } from './address.js';
import { FrameChannel } from './channel.js';
import { MalformedFrameError } from './errors.js';
import { encodeFrame, type Frame } from './frame.js';
import { SendQueue, type SendQueueLimits, type SendQueueStats } from './send-queue.js';

export type Backoff = {
  /** Delay before the first reconnect after a failure. */
  readonly initialMs: number;
  /** Cap of the doubling delay. */
  readonly maxMs: number;
};

/** Short at first (a restarting peer is back within a second), capped low enough to rejoin fast. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 50, maxMs: 1_000 };

export type LogLevel = 'info' | 'debug';
export type Log = (level: LogLevel, line: string) => void;

export type PeerLinkOptions = {
  /** The peer's name, for logs and stats. */
  readonly name: string;
  readonly address: HostPort;
  /** Sent first on every connection. */
  readonly hello: Frame;
  readonly queue: SendQueueLimits;
  readonly maxFrameBytes: number;
  readonly backoff: Backoff;
  /** For jitter, so that nodes that lost a peer together do not all knock at once. */
  readonly random: Random;
  /** Reconnect after a failure by itself (a node's peers) or only when next sent to (a client). */
  readonly eager: boolean;
  /** Frames coming back; absent: the link is one-way and any frame from the peer is refused. */
  readonly onFrame?: (frame: Frame) => void;
  readonly log: Log;
};

export type LinkState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

export type PeerLinkStats = SendQueueStats & {
  readonly state: LinkState;
  readonly address: string;
  readonly connects: number;
  readonly failures: number;
  readonly lastError: string | null;
};

export function checkBackoff(backoff: Backoff): Backoff {
  if (!Number.isSafeInteger(backoff.initialMs) || backoff.initialMs < 1) throw new InvalidConfigError('backoff.initialMs', backoff.initialMs, 'an integer >= 1');
  if (!Number.isSafeInteger(backoff.maxMs) || backoff.maxMs < backoff.initialMs) {
    throw new InvalidConfigError('backoff.maxMs', backoff.maxMs, `an integer >= backoff.initialMs (${backoff.initialMs})`);
  }
  return backoff;
}

/**
 * An outgoing connection to one address that comes back by itself: on failure it waits an
 * exponentially growing, jittered, capped delay and dials again. Frames sent while it is
 * connecting are queued (bounded); frames sent while it is known to be down are dropped and
 * counted, since a dead peer is exactly where a queue would grow without bound.
 */
export class PeerLink {
  private readonly options: PeerLinkOptions;
  private readonly queue: SendQueue;
  private channel: FrameChannel | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private current: LinkState = 'idle';
  /** Consecutive failed or short-lived connections: the backoff exponent. */
  private streak = 0;
  private connects = 0;
  private failures = 0;
  private lastError: string | null = null;
  private connectedAt = 0;

  constructor(options: PeerLinkOptions) {
    this.options = { ...options, backoff: checkBackoff(options.backoff) };
    this.queue = new SendQueue(options.queue);
  }

  get state(): LinkState {
    return this.current;
  }

  /** Dials now unless already connected or connecting. */
  start(): void {
    if (this.current === 'idle' || this.current === 'backoff') this.dial();
  }

  /** Sends one encoded frame; false when it was dropped (peer down, or queue full). */
  send(frame: Buffer): boolean {
    if (this.current === 'idle') this.dial();
    if (this.channel === null || this.current === 'backoff' || this.current === 'closed') {
      this.queue.drop(frame.length);
      return false;
    }
    return this.channel.write(frame);
  }

  close(): void {
    this.current = 'closed';
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.channel?.close(null);
  }

  /** Sends what is queued (within `timeoutMs`), then closes. */
  async flushAndClose(timeoutMs: number): Promise<void> {
    const channel = this.channel;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (channel !== null && this.current === 'connected') {
      this.current = 'closed';
      await channel.flushAndEnd(timeoutMs);
    }
    this.close();
  }

  stats(): PeerLinkStats {
    return {
      state: this.current,
      address: formatHostPort(this.options.address),
      connects: this.connects,
      failures: this.failures,
      lastError: this.lastError,
      ...this.queue.stats(),
    };
  }

  private dial(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const { address, name, log } = this.options;
    this.current = 'connecting';
    const socket = connect({ host: address.host, port: address.port });
    const channel = new FrameChannel(
      socket,
      this.queue,
      {
        onFrame: (frame) => {
          if (this.options.onFrame === undefined) {
            throw new MalformedFrameError(`${name} sent ${frame.type} on a connection that carries frames one way, to ${name}`);
          }
          this.options.onFrame(frame);
        },
        onClose: (reason) => this.closed(channel, reason),
      },
      this.options.maxFrameBytes,
    );
    this.channel = channel;
    socket.once('connect', () => {
      if (this.channel !== channel || this.current !== 'connecting') return;
      this.current = 'connected';
      this.connects += 1;
      this.connectedAt = performance.now();
      log('debug', `connected to ${name} at ${formatHostPort(address)}`);
    });
    // The handshake goes first: the queue is empty on a fresh connection (a lost one clears it).
    channel.write(encodeFrame(this.options.hello, this.options.maxFrameBytes));
  }

  private closed(channel: FrameChannel, reason: Error | null): void {
    if (this.channel !== channel) return;
    this.channel = null;
    const was = this.current;
    if (was === 'closed') return;
    const { backoff, random, name, log, eager } = this.options;
    const why = reason === null ? 'closed by the peer' : reason.message;
    this.failures += 1;
    this.lastError = why;
    if (was === 'connected') {
      log('info', `lost connection to ${name} at ${formatHostPort(this.options.address)}: ${why}`);
      // A connection that held for a while was a success: start the backoff over.
      if (performance.now() - this.connectedAt >= backoff.maxMs) this.streak = 0;
    } else if (this.streak === 0) {
      log('debug', `cannot reach ${name} at ${formatHostPort(this.options.address)}: ${why}; retrying with backoff`);
    }
    const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(this.streak, 30));
    this.streak += 1;
    // Jitter in [base/2, base): spreads the dials of nodes that lost a peer at the same moment.
    const delay = Math.max(1, Math.round(base * (0.5 + random() / 2)));
    this.current = 'backoff';
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.current !== 'backoff') return;
      if (eager) this.dial();
      else this.current = 'idle';
    }, delay);
    this.timer.unref();
  }
}
