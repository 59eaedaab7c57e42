/**
 * raft-harness: the package entry. The Raft library (core, runtime, bank app) and the harness
 * pieces that run it. Named exports only, listed explicitly.
 */
export * from '../src/raft/index.js';
export * from '../src/node/index.js';
export * from '../src/apps/bank/index.js';
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
