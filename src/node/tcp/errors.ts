import { RaftHarnessError, describe } from '../../raft/errors.js';

/**
 * A frame's length prefix is above the limit (or zero). Raised on the 4-byte prefix alone, so a
 * peer announcing a huge frame is cut off before a single byte of its body is buffered.
 */
export class FrameTooLargeError extends RaftHarnessError {
  readonly length: number;
  readonly max: number;
  constructor(length: number, max: number) {
    super(`frame too large: length prefix ${length} bytes; allowed: 1..${max} bytes`);
    this.name = 'FrameTooLargeError';
    this.length = length;
    this.max = max;
  }
}

/**
 * A frame arrived whole but is not a message: not UTF-8, not JSON, not an object with a string
 * `type`, or not allowed on this connection (before the handshake, from the wrong sender).
 */
export class MalformedFrameError extends RaftHarnessError {
  readonly problem: string;
  constructor(problem: string, received?: unknown) {
    super(`malformed frame: ${problem}${received === undefined ? '' : `; received ${describe(received)}`}`);
    this.name = 'MalformedFrameError';
    this.problem = problem;
  }
}

/** Another live process holds the data directory: two nodes on one log would corrupt it. */
export class DataDirLockedError extends RaftHarnessError {
  readonly dir: string;
  readonly pid: number;
  constructor(dir: string, pid: number) {
    super(`data directory ${dir} is in use by process ${pid}; allowed: one node per data directory`);
    this.name = 'DataDirLockedError';
    this.dir = dir;
    this.pid = pid;
  }
}

/** The node cannot listen where it was told to (port taken, address not local, no permission). */
export class ListenError extends RaftHarnessError {
  readonly address: string;
  readonly code: string | null;
  constructor(address: string, cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    super(`cannot listen on ${address}: ${(cause as Error | null)?.message ?? String(cause)}`, { cause });
    this.name = 'ListenError';
    this.address = address;
    this.code = typeof code === 'string' ? code : null;
  }
}
