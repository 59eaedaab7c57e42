import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

function vitest(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', 'test/fixtures/vitest.fixture.config.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env, CI: 'true' },
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('a failing scenario', () => {
  it('prints its seed and a one-line replay command, saves its trace, and replays exactly', () => {
    rmSync(`${ROOT}/.raft-harness/traces`, { recursive: true, force: true });
    const first = vitest(['test/fixtures/failing.fixture.ts']);
    expect(first.status).toBe(1);
    expect(first.output).toContain('failed on cluster 1 (seed 7, virtual time 150 ms)');
    const command = /replay: (RAFT_HARNESS_SEED=\d+ npx vitest run \S+ -t ".*")/.exec(first.output)?.[1];
    expect(command).toBe(String.raw`RAFT_HARNESS_SEED=7 npx vitest run test/fixtures/failing.fixture.ts -t "a leader is elected within 150 virtual ms \(it is not, on purpose\)"`);
    const pattern = /-t "(.*)"$/.exec(command!)![1]!; // what the shell passes on (no shell-special characters here)
    const tracePath = /trace: {2}(\S+\.json)/.exec(first.output)?.[1];
    expect(tracePath && existsSync(`${ROOT}/${tracePath}`)).toBe(true);
    const saved = JSON.parse(readFileSync(`${ROOT}/${tracePath}`, 'utf8')) as { format: string; seed: number; trace: unknown[] };
    expect(saved).toMatchObject({ format: 'raft-harness-trace', seed: 7 });
    expect(saved.trace.length).toBeGreaterThan(0);
    const viewer = /viewer: (\S+\.html)/.exec(first.output)?.[1];
    expect(viewer && readFileSync(`${ROOT}/${viewer}`, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
    const table = /table: {2}(\S+\.txt)/.exec(first.output)?.[1];
    expect(table && readFileSync(`${ROOT}/${table}`, 'utf8')).toContain('seed 7');

    // The command, as printed: same seed, same failure at the same virtual time, same trace.
    const again = vitest(['test/fixtures/failing.fixture.ts', '-t', pattern], { RAFT_HARNESS_SEED: '7' });
    expect(again.output).toMatch(/1 failed/);
    expect(again.status).toBe(1);
    expect(again.output).toContain('failed on cluster 1 (seed 7, virtual time 150 ms)');
    expect(JSON.parse(readFileSync(`${ROOT}/${tracePath}`, 'utf8'))).toEqual(saved);

    // Another seed is another run.
    const other = vitest(['test/fixtures/failing.fixture.ts'], { RAFT_HARNESS_SEED: '8' });
    expect(other.output).toContain('seed 8');
  });
});
