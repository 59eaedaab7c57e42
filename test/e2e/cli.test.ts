import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm test` builds first; the CLI under test is the compiled one users run.
const CLI = fileURLToPath(new URL('../../dist/harness/cli/main.js', import.meta.url));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('raft-harness CLI', () => {
  it('is built', () => {
    expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
  });

  it('simulate sweeps seeds and says plainly that Raft held', () => {
    const r = run('simulate', '--seeds', '20');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^20 passed, 0 failed/m);
    expect(r.stdout).toContain('Raft held up on every seed.');
  });

  it('replay runs one seed and reports it', () => {
    const r = run('replay', '--seed', '7', '--nodes', '3');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seed 7: ok — \d+ events/);
  });

  it('is deterministic: the same seed range prints the same event count', () => {
    const a = run('simulate', '--seed-range', '5..9');
    const b = run('simulate', '--seed-range', '5..9');
    const events = (s: string): string | undefined => /\(([\d,]+) events/.exec(s)?.[1];
    expect(events(a.stdout)).toBeDefined();
    expect(events(a.stdout)).toBe(events(b.stdout));
  });

  it.each([
    [['simulate', '--seeds', '0'], /--seeds = "0"; allowed: an integer >= 1/],
    [['simulate', '--drop', '1.5'], /--drop = "1.5"; allowed: a number in \[0, 1\)/],
    [['simulate', '--latency', '9..3'], /--latency = "9..3"; allowed: A..B/],
    [['replay'], /--seed = undefined; allowed: an integer >= 0/],
    [['frobnicate'], /unknown command "frobnicate"; allowed: simulate, replay, help/],
    [['simulate', '--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with exit 2 and a named reason', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage:');
  });
});
