import { describe, expect, it } from 'vitest';
import { runCoreSimulation, DEFAULT_CORE_SIMULATION } from '../../harness/core-simulation.js';
import { CoreNetwork } from '../../harness/core-network.js';

describe('core simulation (what `raft-harness simulate` runs per seed)', () => {
  it('holds on 50 seeds with the default fault mix, and replays each seed exactly', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const first = runCoreSimulation({ seed, ...DEFAULT_CORE_SIMULATION });
      expect(first, `seed ${seed}`).toMatchObject({ ok: true });
      expect(runCoreSimulation({ seed, ...DEFAULT_CORE_SIMULATION })).toEqual(first);
    }
  });

  it('different seeds give different runs', () => {
    const a = runCoreSimulation({ seed: 1, ...DEFAULT_CORE_SIMULATION });
    const b = runCoreSimulation({ seed: 2, ...DEFAULT_CORE_SIMULATION });
    expect(a.events).not.toBe(b.events);
  });

  it('the network orders simultaneous events by fixed rules (timers first, then node id, then send order)', () => {
    const trace = (seed: number): string => {
      const net = new CoreNetwork({ nodes: ['n1', 'n2', 'n3'], seed, latency: [0, 0] });
      const out: string[] = [];
      for (let i = 0; i < 200; i++) {
        net.stepOne();
        out.push(`${net.now}:${net.views().map((v) => `${v.role[0]}${v.term}`).join('')}`);
      }
      return out.join(' ');
    };
    expect(trace(9)).toBe(trace(9));
    expect(trace(9)).not.toBe(trace(10));
  });
});
