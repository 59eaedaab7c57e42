import type { Socket } from 'node:net';
import { FrameTooLargeError, MalformedFrameError } from './errors.js';
import { FrameDecoder, type Frame } from './frame.js';
import type { SendQueue } from './send-queue.js';

/** Bytes handed to the socket per write: enough to batch a burst, small enough to share the loop. */
const WRITE_BATCH_BYTES = 256 * 1024;

export type ChannelHandlers = {
  /**
   * One decoded frame. Throwing MalformedFrameError closes the connection with that reason; any
   * other exception is the node's own failure and propagates.
   */
  readonly onFrame: (frame: Frame) => void;
  /** Once, when the socket is gone; `reason` says why when it was this side's decision or an error. */
  readonly onClose: (reason: Error | null) => void;
};

export function isFrameError(error: unknown): error is MalformedFrameError | FrameTooLargeError {
  return error instanceof MalformedFrameError || error instanceof FrameTooLargeError;
}

/**
 * One socket carrying frames both ways. Writes go through a bounded queue and are handed to the
 * socket only while it is not asking for a drain, so the socket's own buffer stays bounded too;
 * nothing here ever waits, so a stuck peer cannot stall the node.
 */
export class FrameChannel {
  readonly socket: Socket;
  private readonly queue: SendQueue;
  private readonly handlers: ChannelHandlers;
  private readonly decoder: FrameDecoder;
  private pumpScheduled = false;
  private closed = false;
  /** flushAndEnd was called: no more frames are taken. */
  private ending = false;
  private closeReason: Error | null = null;
  private readonly drained: Array<() => void> = [];

  constructor(socket: Socket, queue: SendQueue, handlers: ChannelHandlers, maxFrameBytes: number) {
    this.socket = socket;
    this.queue = queue;
    this.handlers = handlers;
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.pump());
    socket.on('connect', () => this.pump());
    socket.on('error', (error) => this.close(error));
    socket.on('close', () => this.finish());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sets the largest frame accepted from here on. */
  setMaxFrameBytes(max: number): void {
    this.decoder.setMax(max);
  }

  /** Queues an encoded frame; false when the queue was full (the frame is dropped and counted). */
  write(frame: Buffer): boolean {
    if (this.closed || this.ending) {
      this.queue.drop(frame.length);
      return false;
    }
    const ok = this.queue.push(frame);
    if (ok && !this.pumpScheduled) {
      // A node sends a burst per input (a Ready's messages): one write for all of them.
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
    return ok;
  }

  /** Closes at once; queued frames are dropped. `reason` null: an orderly close by this side. */
  close(reason: Error | null = null): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.queue.clear();
    this.socket.destroy();
  }

  /**
   * Orderly close: stop reading, send what is queued, then end. Gives up (and destroys) after
   * `timeoutMs`, so a peer that does not read cannot hold a shutdown.
   */
  async flushAndEnd(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.ending = true;
    this.socket.pause();
    const done = new Promise<void>((resolve) => this.drained.push(resolve));
    this.pump();
    const timer = setTimeout(() => this.close(null), timeoutMs);
    await done;
    clearTimeout(timer);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.decoder.feed(chunk);
      for (let frame = this.decoder.next(); frame !== null; frame = this.closed ? null : this.decoder.next()) {
        this.handlers.onFrame(frame);
      }
    } catch (error) {
      if (!isFrameError(error)) throw error;
      this.close(error);
    }
  }

  private pump(): void {
    const s = this.socket;
    if (this.closed || s.connecting || s.destroyed) return;
    if (this.queue.length > 0 && !s.writableNeedDrain) {
      s.cork();
      while (this.queue.length > 0 && !s.writableNeedDrain) {
        for (const frame of this.queue.takeBatch(WRITE_BATCH_BYTES)) s.write(frame);
      }
      s.uncork();
    }
    if (this.ending && this.queue.length === 0 && !s.writableEnded) s.end(() => this.close(null));
  }

  private finish(): void {
    if (!this.closed) {
      this.closed = true;
      this.queue.clear();
    }
    for (const resolve of this.drained.splice(0)) resolve();
    const reason = this.closeReason;
    this.closeReason = null;
    this.handlers.onClose(reason);
  }
}
