import { InvalidConfigError } from '../../raft/errors.js';

export type SendQueueLimits = {
  /** Most frames waiting. */
  readonly maxMessages: number;
  /** Most bytes waiting (encoded frames, headers included). */
  readonly maxBytes: number;
};

export const DEFAULT_SEND_QUEUE: SendQueueLimits = { maxMessages: 4096, maxBytes: 32 * 1024 * 1024 };

export type SendQueueStats = {
  readonly queued: number;
  readonly queuedBytes: number;
  readonly dropped: number;
  readonly droppedBytes: number;
};

export function checkSendQueueLimits(limits: SendQueueLimits, field = 'sendQueue'): SendQueueLimits {
  for (const key of ['maxMessages', 'maxBytes'] as const) {
    const v = limits[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new InvalidConfigError(`${field}.${key}`, v, 'an integer >= 1');
  }
  return limits;
}

/**
 * Encoded frames waiting for a socket, bounded in count and bytes. When full, the new frame is
 * dropped and counted: Raft tolerates loss and retries on its own, whereas waiting would let a
 * slow or dead peer hold the node's memory (or its event loop) hostage. Dropping the newest
 * keeps what is queued an unbroken prefix of what was sent.
 */
export class SendQueue {
  readonly limits: SendQueueLimits;
  private items: Buffer[] = [];
  private head = 0;
  private bytes = 0;
  private drops = 0;
  private dropBytes = 0;

  constructor(limits: SendQueueLimits = DEFAULT_SEND_QUEUE) {
    this.limits = checkSendQueueLimits(limits);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get byteLength(): number {
    return this.bytes;
  }

  /** Queues a frame; false (and counted as dropped) when it does not fit. */
  push(frame: Buffer): boolean {
    if (this.length + 1 > this.limits.maxMessages || this.bytes + frame.length > this.limits.maxBytes) {
      this.drop(frame.length);
      return false;
    }
    this.items.push(frame);
    this.bytes += frame.length;
    return true;
  }

  /** Counts a frame dropped without ever being queued (no connection to queue it for). */
  drop(bytes: number): void {
    this.drops += 1;
    this.dropBytes += bytes;
  }

  /**
   * Removes frames from the front, at least one when any, up to `maxBytes` in total, for one
   * socket write: many small Raft messages then cost one syscall.
   */
  takeBatch(maxBytes: number): Buffer[] {
    const out: Buffer[] = [];
    let size = 0;
    while (this.head < this.items.length) {
      const next = this.items[this.head]!;
      if (out.length > 0 && size + next.length > maxBytes) break;
      out.push(next);
      size += next.length;
      this.head += 1;
    }
    this.bytes -= size;
    // Compact now and then so the array does not grow with everything ever sent.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Discards everything waiting (the connection it was for is gone); counted as dropped. */
  clear(): void {
    while (this.length > 0) for (const f of this.takeBatch(Number.POSITIVE_INFINITY)) this.drop(f.length);
  }

  stats(): SendQueueStats {
    return { queued: this.length, queuedBytes: this.bytes, dropped: this.drops, droppedBytes: this.dropBytes };
  }
}
