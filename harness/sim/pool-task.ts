/** The tinypool task: one seed of the simulation, in a pool thread. */
import { runSimulation, type SimulationOptions, type SimulationResult } from './simulation.js';

export default function simulate(options: SimulationOptions): Promise<SimulationResult> {
  return runSimulation(options);
}
