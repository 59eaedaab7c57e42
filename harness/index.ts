/**
 * raft-harness: the package entry. The Raft library (core, runtime, bank app) and the harness
 * pieces that run it. Named exports only, listed explicitly.
 */
export * from '../src/raft/index.js';
export * from '../src/node/index.js';
export * from '../src/apps/bank/index.js';
export {
  Cluster,
  type ClusterOptions,
  type HistoryOperation,
  type NodeSnapshot,
  type NodeStatus,
  type StopReport,
  type TraceEntry,
  type TraceView,
} from './cluster.js';
export * from './trace/index.js';
export { MAX_TIMER_DELAY, TimerOverflowError } from './hosts/node-runtime.js';
export { BankClient, ClientOperation, type ClientOptions, type OperationOptions } from './client.js';
export {
  ClusterStoppedError,
  ClusterTimeoutError,
  ControlTimeoutError,
  NodeCrashedError,
  NodeFailureError,
  UnknownNodeError,
} from './errors.js';
export { when, type MessageFilter, type Trigger, type TriggerHit } from './triggers.js';
export { DEFAULT_NETWORK, type Counters, type InFlight, type Latency, type NetworkConfig, type TrafficCount } from './network/router.js';
export type { MessageMatch } from './network/filter.js';
export { expectCommitWithin, expectLeaderWithin, LivenessError } from './check/liveness.js';
export {
  checkLinearizable,
  InvalidHistoryError,
  InvalidModelError,
  partitionBy,
  type CheckOptions,
  type CheckResult,
  type Model,
  type Operation,
  type OperationReport,
  type Violation,
} from './check/linearizability.js';
export { models } from './check/models.js';
export { checkDeterminism, replayCommand, type DeterminismReport, type Scenario } from './replay.js';
export { BUILTIN_PROGRAMS, type BuiltinProgram, type NodeStopReport, type PendingTimer, type ProgramSpec } from './protocol.js';
export { CoreNetwork, type CoreNetworkOptions } from './core-network.js';
export {
  SAFETY_PROPERTIES,
  SafetyMonitor,
  SafetyViolationError,
  entryKey,
  type NodeView,
  type SafetyProperty,
} from './check/safety.js';
export {
  DEFAULT_CORE_SIMULATION,
  runCoreSimulation,
  type CoreSimulationOptions,
  type CoreSimulationResult,
} from './core-simulation.js';
export { TcpClients, describeStatuses, type StatusResult, type TcpClientsOptions } from './tcp-client.js';
export { freePorts } from './free-ports.js';
