import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// `npm test` builds first; the CLI under test is the compiled one users run.
const CLI = fileURLToPath(new URL('../../dist/harness/cli/main.js', import.meta.url));
const OUT = mkdtempSync(join(tmpdir(), 'raft-harness-cli-'));
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('raft-harness CLI', () => {
  it('is built', () => {
    expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
  });

  it('simulate sweeps seeds on a faulty cluster, checks everything, and says plainly that Raft held', () => {
    const r = run('simulate', '--seeds', '4', '--duration', '3000', '--out', OUT);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^raft-harness simulate: 4 seed\(s\) × 3000 virtual ms, 5 nodes, 3 clients, faults: partition, one-way/m);
    expect(r.stdout).toMatch(/seeds +4 \(4 held, 0 failed\)/);
    expect(r.stdout).toMatch(/violations +none/);
    expect(r.stdout).toMatch(/linearizability +ok 4, violation 0, unknown 0/);
    expect(r.stdout).toMatch(/simulations\/s +\d/);
    expect(r.stdout).toContain('4 passed, 0 failed — Raft held up on every seed.');
    expect(r.stderr).toMatch(/\[#+\] 4\/4 seeds, 0 failed/); // the progress bar
  });

  it('--advanced adds membership changes, leadership transfers and snapshots to the mix, and Raft holds', () => {
    const r = run('simulate', '--seeds', '3', '--duration', '4000', '--advanced', '--out', OUT);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/faults: partition, .*, reorder, membership, transfer, snapshot;/);
    expect(r.stdout).toMatch(/seeds +3 \(3 held, 0 failed\)/);
    const replay = run('replay', '--seed', '2', '--duration', '4000', '--advanced', '--host', 'inline', '--out', OUT);
    expect(replay.status).toBe(0);
    const trace = JSON.parse(readFileSync(join(OUT, 'seed-2.json'), 'utf8')) as { trace: Array<{ type: string }> };
    const types = new Set(trace.trace.map((e) => e.type));
    expect(types.has('snapshot') && types.has('membership')).toBe(true);
  });

  it('--json prints the summary and every result; --shard runs its share of the seeds', () => {
    const r = run('simulate', '--seed-range', '1..6', '--shard', '2/3', '--duration', '2000', '--json', '--jobs', '1');
    expect(r.status).toBe(0);
    const parsed = JSON.parse(r.stdout) as { results: Array<{ seed: number; ok: boolean; traceHash: string }>; summary: Record<string, string> };
    expect(parsed.results.map((x) => x.seed)).toEqual([2, 5]);
    expect(parsed.results.every((x) => x.ok && /^[0-9a-f]{64}$/.test(x.traceHash))).toBe(true);
    expect(parsed.summary['seeds']).toBe('2 (2 held, 0 failed)');
  });

  it('replay reproduces a seed exactly: the worker host gives the trace hash the inline host gave', () => {
    const sweep = JSON.parse(run('simulate', '--seeds', '2', '--duration', '3000', '--json', '--jobs', '1').stdout) as {
      results: Array<{ seed: number; traceHash: string }>;
    };
    const r = run('replay', '--seed', '2', '--duration', '3000', '--out', OUT);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seed 2 on the worker host: held/);
    expect(r.stdout).toContain(`trace hash ${sweep.results[1]!.traceHash}`);
    for (const ext of ['html', 'txt', 'json']) expect(existsSync(join(OUT, `seed-2.${ext}`))).toBe(true);
    expect(readFileSync(join(OUT, 'seed-2.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/i);
  });

  it.each([
    [['simulate', '--seeds', '0'], /--seeds = "0"; allowed: an integer >= 1/],
    [['simulate', '--faults', 'meteor'], /--faults = "meteor"; allowed: a comma list of partition, one-way/],
    [['simulate', '--host', 'cloud'], /--host = "cloud"; allowed: inline or worker/],
    [['simulate', '--shard', '4/3'], /--shard = "4\/3"; allowed: I\/N with 1 <= I <= N/],
    [['simulate', '--seed-range', '9..3'], /--seed-range = "9..3"; allowed: A..B/],
    [['simulate', '--program', 'nowhere'], /--program = "nowhere"; allowed: FILE:EXPORT/],
    [['replay'], /--seed = undefined; allowed: an integer >= 0/],
    [['frobnicate'], /unknown command "frobnicate"; allowed: simulate, replay, bench, help/],
    [['simulate', '--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with exit 2, a named reason and the usage', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage:');
  });
});

describe('raft-harness CLI on a broken Raft', () => {
  // test/fixtures/broken-raft.mjs: voters skip the §5.4.1 up-to-date check. Seeds 39 and 40 of the
  // default workload elect a leader that lacks committed entries.
  const BROKEN = `${fileURLToPath(new URL('../fixtures/broken-raft.mjs', import.meta.url))}:createBrokenVoteBankNode`;
  const out = join(OUT, 'broken');

  it('simulate finds the bug, exits 1, names the property, prints the replay command and writes the trace', () => {
    const r = run('simulate', '--seed-range', '38..40', '--program', BROKEN, '--out', out);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/seeds +3 \(1 held, 2 failed\)/);
    expect(r.stdout).toMatch(/violations +leader-completeness: 2/);
    expect(r.stdout).toMatch(/seed 40: raft-harness: safety violation: leader-completeness at \d+ ms on n\d, n\d: leader of term \d+ lacks entries/);
    expect(r.stdout).toContain(`replay: npx raft-harness replay --seed 40 --program ${BROKEN}`);
    expect(r.stdout).toContain('1 passed, 2 failed — Raft broke: see the seeds above.');
    for (const seed of [39, 40]) for (const ext of ['html', 'txt', 'json']) expect(existsSync(join(out, `seed-${seed}.${ext}`))).toBe(true);
    expect(existsSync(join(out, 'seed-38.html'))).toBe(false); // a seed that held writes nothing
  });

  it('replay of the failing seed on the worker host reproduces the inline trace hash and the violation', () => {
    const found = run('simulate', '--seed-range', '40..40', '--program', BROKEN, '--json', '--jobs', '1');
    expect(found.status).toBe(1);
    const result = (JSON.parse(found.stdout) as { results: Array<{ traceHash: string; violation: { property: string; message: string } }> }).results[0]!;
    expect(result.violation.property).toBe('leader-completeness');
    const r = run('replay', '--seed', '40', '--program', BROKEN, '--out', out);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/seed 40 on the worker host: FAILED/);
    expect(r.stdout).toContain(`trace hash ${result.traceHash}`);
    expect(r.stdout).toContain(result.violation.message);
  });

  it('the same seeds hold on the real Raft', () => {
    const r = run('simulate', '--seed-range', '38..40', '--out', out);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seeds +3 \(3 held, 0 failed\)/);
  });
});

describe('raft-harness bench', () => {
  it('prints the benchmark table, every figure beside its target', () => {
    const r = run('bench', '--quick');
    expect(r.status).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| benchmark'));
    const names = rows.map((l) => l.split('|')[1]!.trim());
    for (const name of [
      'core throughput, 5 nodes, batch 64',
      'linearizability check, kv, 10,000 ops, 5 clients',
      'start → leader, 5 nodes (median of 2 seeds)',
      'idle, 5 nodes, virtual/wall',
      'idle, 5 nodes, virtual/wall, steady state',
      'worker wake floor: idle heartbeat round, echo workers',
      'deterministic: pause() all 5 nodes',
      'realtime: bank ops, 3 nodes, 256 clients',
      'raft-harness simulate defaults, inline host, --jobs 2',
      'raft-harness simulate defaults, worker host, --jobs 2',
      'seed sweep, inline vs worker',
      'tcp: bank ops, 3 processes, 64 clients',
      'in-process realtime: bank ops, 3 nodes, 64 clients',
    ]) {
      expect(names).toContain(name);
    }
    for (const row of rows) expect(row, row).toMatch(/target/);
    expect(r.stdout).toMatch(/quick run: not judged/);
  });
});
