import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SafetyViolationError } from '../../harness/check/safety.js';
import { AppliedChecker } from '../../harness/check/applied.js';
import { useClusters } from './support/clusters.js';

const start = useClusters({ host: 'inline' });
const FIXTURES = new URL('../fixtures/timer-program.mjs', import.meta.url).href;
const program = (name: string) => ({ kind: 'module' as const, url: FIXTURES, name });

describe('the checks every cluster makes on every event', () => {
  it('two leaders in one term fail the run with SafetyViolationError (election safety), the trace saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raft-harness-traces-'));
    try {
      const cluster = await start({ nodes: 3, program: program('createTwoLeadersNode'), traceDir: dir });
      const error = (await cluster.advance(100).catch((e: unknown) => e)) as SafetyViolationError;
      expect(error).toMatchObject({ name: 'SafetyViolationError', property: 'election-safety', time: 10 });
      expect(error.message).toMatch(/trace saved: .*safety-seed1-election-safety-at10\.html \(viewer\)/);
      expect(readFileSync(error.tracePath!, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
      expect(readFileSync(error.tracePath!.replace(/html$/, 'json'), 'utf8')).toContain('"result":"violation"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an entry applied beyond the commit index fails the run', async () => {
    const cluster = await start({ nodes: 2, program: program('createDivergentApplyNode') });
    await expect(cluster.advance(100)).rejects.toThrow(/applied-within-commit at 10 ms on n1: n1 applied 1 beyond its commit index 0/);
  });

  it('different entries applied at one index are a state machine safety violation', () => {
    const checker = new AppliedChecker();
    checker.apply('n1', 1, 1, 5);
    expect(() => checker.apply('n2', 1, 2, 7)).toThrow(/state-machine-safety at 7 ms on n1, n2: index 1 applied with term 1 on n1 and with term 2 on n2/);
  });

  it('two logs holding different entries with the same index and term fail the run (log matching)', async () => {
    const cluster = await start({ nodes: 2, program: program('createConflictingLogNode') });
    await expect(cluster.advance(100)).rejects.toMatchObject({ name: 'SafetyViolationError', property: 'log-matching', nodes: ['n1', 'n2'], time: 10 });
  });

  it('checkSafety() runs every property now and throws the first violation of the run', async () => {
    const cluster = await start({ nodes: 3, program: program('createTwoLeadersNode') });
    await cluster.advance(100).catch(() => {});
    await expect(cluster.checkSafety()).rejects.toMatchObject({ name: 'SafetyViolationError', property: 'election-safety' });
    const healthy = await start({ nodes: 3, seed: 2 });
    await healthy.waitForLeader();
    await expect(healthy.checkSafety()).resolves.toBeUndefined();
  });

  it('an entry applied out of order fails the run (the applier check)', async () => {
    const cluster = await start({ nodes: 1, program: program('createOutOfOrderApplyNode') });
    await expect(cluster.advance(100)).rejects.toThrow(/n1 applied index 2 after 0 \(out of order\)/);
  });

  it('a healthy Raft cluster passes them through elections, crashes and restarts', async () => {
    const cluster = await start({ nodes: 5, seed: 31 });
    const leader = await cluster.waitForLeader();
    const client = cluster.client();
    for (let i = 0; i < 5; i++) await client.credit(1);
    await cluster.crash(leader);
    await client.credit(1);
    await cluster.restart(leader);
    await cluster.advance(1_000);
    expect((await cluster.inspect(leader)).app).toEqual({ balance: 6 });
  });
});
