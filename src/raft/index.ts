export { RaftCore } from './raft.js';
export { RaftLog } from './log.js';
export { validateMessage } from './validate.js';
export { createRandom, deriveSeed, hashString, randomInt, type Random } from './random.js';
export {
  DEFAULT_RAFT_OPTIONS,
  resolveRaftConfig,
  resolveRaftOptions,
  validateMembers,
  type RaftConfig,
  type RaftOptions,
} from './config.js';
export {
  InvalidConfigError,
  MalformedMessageError,
  RaftHarnessError,
  RaftInvariantError,
  StorageCorruptError,
} from './errors.js';
export {
  EMPTY_STATE,
  RAFT_MESSAGE_TYPES,
  ROLES,
  type AppendEntries,
  type AppendEntriesReply,
  type ClientCommand,
  type CommandEntry,
  type CoreEvent,
  type CoreStatus,
  type Entry,
  type HardState,
  type NodeId,
  type NoopEntry,
  type PersistedState,
  type PreVote,
  type PreVoteReply,
  type ProposeResult,
  type RaftMessage,
  type RaftMessageType,
  type Ready,
  type ReadIndexResult,
  type ReadState,
  type RequestVote,
  type RequestVoteReply,
  type Role,
} from './types.js';
