import type { MessagePort } from 'node:worker_threads';
import type { WireMessage } from './client-protocol.js';

/**
 * How a node reaches the others. Delivery is unreliable by contract (messages may be lost,
 * delayed, duplicated or reordered); the protocol copes. Messages are plain data.
 */
export interface Transport {
  send(message: WireMessage): void;
  /** Sets the single receiver of incoming messages (unvalidated: they come from the wire). */
  listen(receiver: (message: unknown) => void): void;
  close(): void;
}

/**
 * A transport over one MessagePort whose other end routes by `to` (the harness's network). Raft
 * traffic is plain structured-clone data on raw ports, never RPC.
 */
export class PortTransport implements Transport {
  private readonly port: MessagePort;
  private closed = false;

  constructor(port: MessagePort) {
    this.port = port;
  }

  send(message: WireMessage): void {
    if (!this.closed) this.port.postMessage(message);
  }

  listen(receiver: (message: unknown) => void): void {
    this.port.on('message', receiver);
  }

  close(): void {
    this.closed = true;
    this.port.close();
  }
}
