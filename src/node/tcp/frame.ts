import { FrameTooLargeError, MalformedFrameError } from './errors.js';

/*
 * Wire format: a 4-byte big-endian payload length, then the payload, UTF-8 JSON of one object
 * with a string `type`. Plain data only, so what crosses a socket is what crosses a MessagePort.
 */

export const FRAME_HEADER_BYTES = 4;
/** Far above any Raft message (an AppendEntries batch is kilobytes), far below what hurts a node. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Before the Hello nobody is trusted with more than this: a Hello is a hundred bytes. */
export const MAX_HANDSHAKE_FRAME_BYTES = 64 * 1024;
/** A client's requests are small: its connections get this limit, far below a peer's. */
export const MAX_CLIENT_FRAME_BYTES = 1024 * 1024;
/** Protocol version carried by the handshake; a node refuses any other. */
export const WIRE_VERSION = 1;

/** What every frame decodes to: a plain object with a message type. */
export type Frame = { readonly type: string; readonly [field: string]: unknown };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function checkLimit(max: number): void {
  if (!Number.isSafeInteger(max) || max < 1 || max > 0xffff_ffff) throw new RangeError(`raft-harness: max frame bytes ${max} not in 1..2^32-1`);
}

/** Encodes one message. Throws FrameTooLargeError above `max`, MalformedFrameError if not JSON. */
export function encodeFrame(message: Frame, max = MAX_FRAME_BYTES): Buffer {
  checkLimit(max);
  let text: string | undefined;
  try {
    text = JSON.stringify(message);
  } catch (error) {
    throw new MalformedFrameError(`cannot encode ${message.type}: ${(error as Error).message}`);
  }
  if (text === undefined) throw new MalformedFrameError('cannot encode a value JSON leaves out');
  const length = Buffer.byteLength(text);
  if (length > max) throw new FrameTooLargeError(length, max);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(text, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

/** Parses one payload; throws MalformedFrameError with what was wrong. */
export function parsePayload(payload: Uint8Array): Frame {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new MalformedFrameError(`payload of ${payload.length} bytes is not UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MalformedFrameError(`payload is not JSON (${(error as Error).message})`, text);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedFrameError('payload must be a JSON object', value);
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0 || type.length > 64) {
    throw new MalformedFrameError('type must be a string of 1..64 characters', value);
  }
  return value as Frame;
}

/**
 * Reassembles frames from a byte stream cut anywhere. Holds at most one partial frame, whose
 * size the prefix has already bounded, so a sender can never make it buffer more than `max`.
 * After an error the stream is out of sync for good: the caller closes the connection.
 */
export class FrameDecoder {
  private max: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being read, once its prefix is in. */
  private need: number | null = null;
  private failed = false;

  constructor(max = MAX_FRAME_BYTES) {
    checkLimit(max);
    this.max = max;
  }

  /** Changes the limit for frames whose prefix has not arrived yet (a connection's role decides it). */
  setMax(max: number): void {
    checkLimit(max);
    this.max = max;
  }

  /** Bytes held for the frame in progress. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns every frame they complete, in order. Throws on the first bad one. */
  push(chunk: Buffer): Frame[] {
    this.feed(chunk);
    const frames: Frame[] = [];
    for (let f = this.next(); f !== null; f = this.next()) frames.push(f);
    return frames;
  }

  /** Adds bytes without decoding: `next()` takes frames out one at a time. */
  feed(chunk: Buffer): void {
    if (this.failed) throw new MalformedFrameError('stream already failed');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
  }

  /**
   * The next whole frame, or null until more bytes come. One at a time, so that what a frame
   * means (a Hello sets the connection's limits) applies to the very next prefix.
   */
  next(): Frame | null {
    if (this.failed) throw new MalformedFrameError('stream already failed');
    try {
      if (this.need === null) {
        if (this.buffered < FRAME_HEADER_BYTES) return null;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length === 0 || length > this.max) throw new FrameTooLargeError(length, this.max);
        this.need = length;
      }
      if (this.buffered < this.need) return null;
      const payload = this.take(this.need);
      this.need = null;
      return parsePayload(payload);
    } catch (error) {
      this.failed = true;
      this.chunks = [];
      this.buffered = 0;
      throw error;
    }
  }

  private take(n: number): Buffer {
    const head = this.chunks[0]!;
    let out: Buffer;
    if (head.length >= n) {
      out = head.subarray(0, n);
      if (head.length === n) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
