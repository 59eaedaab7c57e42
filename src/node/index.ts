export { RaftServer, type NodeEvent, type RaftServerOptions, type ServerStatus } from './raft-server.js';
export { MemoryStorage, type MemoryStorageOptions } from './memory-storage.js';
export { FileStorage, type FileStorageOptions } from './file-storage.js';
export { StorageError } from './storage-errors.js';
export type { Storage } from './storage.js';
export type { StateMachine } from './state-machine.js';
export { PortTransport, type Transport } from './transport.js';
export { SessionTable, type SessionResult } from './sessions.js';
export {
  CLIENT_ERRORS,
  type ClientError,
  type ClientReply,
  type ClientRequest,
  type WireMessage,
} from './client-protocol.js';
export type { NodeContext, NodeProgram, NodeProgramFactory } from './program.js';
export * from './tcp/index.js';
