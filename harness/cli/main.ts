#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidConfigError } from '../../src/raft/errors.js';
import type { ProgramSpec } from '../protocol.js';
import { ADVANCED_FAULTS, DEFAULT_SIMULATION, FAULTS, parseFaults, runSimulation, type SimulationOptions, type SimulationResult } from '../sim/simulation.js';
import { sweep } from '../sim/sweep.js';
import { isTcpCommand, runTcpCommand, TCP_USAGE_LINES, TCP_USAGE_TEXT } from './tcp-commands.js';
import { UsageError } from './usage-error.js';

const USAGE = `raft-harness — test Raft clusters in one process

Usage:
  raft-harness simulate [--seeds N | --seed-range A..B] [--nodes N] [--duration MS] [--clients N]
                        [--faults LIST] [--advanced] [--jobs N] [--host inline|worker] [--shard I/N]
                        [--out DIR] [--json] [--program FILE:EXPORT]
  raft-harness replay --seed N [same options as simulate]
  raft-harness bench [--quick]
${TCP_USAGE_LINES}
  raft-harness help

simulate  runs the bank workload on a cluster once per seed: clients keep operations in flight
          while faults are injected (${FAULTS.join(', ')}) for --duration virtual ms,
          then the network heals and every node restarts: the cluster must elect a leader and
          every operation must complete. Every event is checked for safety, and the client
          history for linearizability. Defaults: 100 seeds, 5 nodes, 10000 virtual ms, 3 clients,
          all faults, --jobs = cores, --host inline, --out .raft-harness/simulate.
          --advanced adds ${ADVANCED_FAULTS.join(', ')} to the mix: nodes added and removed
          (the leader too), leadership transfers, and log compaction with chunked snapshots.
          A failing seed prints its replay command and writes its trace (HTML viewer, table,
          JSON) to --out.
replay    runs one seed again (on the worker host unless --host says otherwise), prints its trace
          hash and writes its trace.
bench     prints the benchmark tables (the same code as npm run bench), each figure beside its
          target; --quick runs every row once on small sizes (checks the table, measures little).
${TCP_USAGE_TEXT}

Exit status: 0 when every seed held, 1 when any failed, 2 on bad arguments.`;

function bad(error: InvalidConfigError): never {
  throw new UsageError(error.message);
}

function int(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) bad(new InvalidConfigError(`--${name}`, text, `an integer >= ${min}`));
  return n;
}

function range(name: string, text: string): [number, number] {
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo > hi) bad(new InvalidConfigError(`--${name}`, text, 'A..B with integers 0 <= A <= B'));
  return [lo, hi];
}

function program(text: string | undefined): ProgramSpec | undefined {
  if (text === undefined) return undefined;
  const m = /^(.+):([A-Za-z_$][\w$]*)$/.exec(text);
  if (!m) bad(new InvalidConfigError('--program', text, 'FILE:EXPORT, a module file and the name of its node-program factory'));
  return { kind: 'module', url: pathToFileURL(resolve(m[1]!)).href, name: m[2]! };
}

type Parsed = {
  command: string;
  options: Omit<SimulationOptions, 'seed'> & { out: string };
  seeds: number[];
  jobs: number;
  json: boolean;
  quick: boolean;
  flags: string;
};

function parse(argv: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seeds: { type: 'string' },
        'seed-range': { type: 'string' },
        seed: { type: 'string' },
        nodes: { type: 'string' },
        duration: { type: 'string' },
        clients: { type: 'string' },
        faults: { type: 'string' },
        jobs: { type: 'string' },
        host: { type: 'string' },
        shard: { type: 'string' },
        out: { type: 'string' },
        program: { type: 'string' },
        json: { type: 'boolean' },
        advanced: { type: 'boolean' },
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`raft-harness: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  const command = values.help ? 'help' : (positionals[0] ?? 'help');
  if (!['simulate', 'replay', 'bench', 'help'].includes(command)) {
    throw new UsageError(`raft-harness: unknown command ${JSON.stringify(command)}; allowed: simulate, replay, bench, help, serve, client, cluster`);
  }
  const host = values.host ?? (command === 'replay' ? 'worker' : DEFAULT_SIMULATION.host);
  if (host !== 'inline' && host !== 'worker') bad(new InvalidConfigError('--host', host, 'inline or worker'));
  let faults: SimulationOptions['faults'] = DEFAULT_SIMULATION.faults;
  if (values.faults !== undefined) {
    try {
      faults = parseFaults(values.faults);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (values.advanced === true) faults = [...new Set([...faults, ...ADVANCED_FAULTS])];
  const prog = program(values.program);
  const options = {
    nodes: int('nodes', values.nodes, DEFAULT_SIMULATION.nodes, 1),
    duration: int('duration', values.duration, DEFAULT_SIMULATION.duration, 0),
    clients: int('clients', values.clients, DEFAULT_SIMULATION.clients, 0),
    faults,
    host: host as 'inline' | 'worker',
    out: values.out ?? '.raft-harness/simulate',
    ...(prog === undefined ? {} : { program: prog }),
  };
  let seeds: number[];
  if (command === 'replay') {
    if (values.seed === undefined) bad(new InvalidConfigError('--seed', undefined, 'an integer >= 0 (replay needs the seed to run)'));
    seeds = [int('seed', values.seed, 0, 0)];
  } else if (values['seed-range'] !== undefined) {
    const [a, b] = range('seed-range', values['seed-range']);
    seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else {
    seeds = Array.from({ length: int('seeds', values.seeds, 100, 1) }, (_, i) => i + 1);
  }
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    const i = Number(m?.[1]);
    const n = Number(m?.[2]);
    if (!m || n < 1 || i < 1 || i > n) bad(new InvalidConfigError('--shard', values.shard, 'I/N with 1 <= I <= N (this machine runs every N-th seed, starting at the I-th)'));
    seeds = seeds.filter((_, k) => k % n === i - 1);
  }
  const flags = [
    values.nodes && `--nodes ${options.nodes}`,
    values.duration && `--duration ${options.duration}`,
    values.clients && `--clients ${options.clients}`,
    values.faults && `--faults ${values.faults}`,
    values.advanced && '--advanced',
    values.program && `--program ${values.program}`,
  ]
    .filter(Boolean)
    .join(' ');
  return { command, options, seeds, jobs: int('jobs', values.jobs, availableParallelism(), 1), json: values.json === true, quick: values.quick === true, flags };
}

function replayLine(seed: number, flags: string): string {
  return `npx raft-harness replay --seed ${seed}${flags ? ` ${flags}` : ''}`;
}

function progress(done: number, total: number, failed: number, started: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} seeds, ${failed} failed, ${rate.toFixed(1)} sims/s`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else if (done === total || done % Math.max(1, Math.ceil(total / 10)) === 0) process.stderr.write(`${line}\n`);
}

function summary(results: readonly SimulationResult[], wallMs: number): Array<[string, string]> {
  const failed = results.filter((r) => !r.ok);
  const byProperty = new Map<string, number>();
  for (const r of failed) {
    const key = r.violation?.property ?? 'linearizability';
    byProperty.set(key, (byProperty.get(key) ?? 0) + 1);
  }
  const lin = (k: SimulationResult['linearizability']): number => results.filter((r) => r.linearizability === k).length;
  const sum = (f: (r: SimulationResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  return [
    ['seeds', `${results.length} (${results.length - failed.length} held, ${failed.length} failed)`],
    ['violations', byProperty.size === 0 ? 'none' : [...byProperty].map(([k, v]) => `${k}: ${v}`).join(', ')],
    ['linearizability', `ok ${lin('ok')}, violation ${lin('violation')}, unknown ${lin('unknown')}, not checked ${lin('not-checked')}`],
    ['elections', String(sum((r) => r.elections))],
    ['client operations', String(sum((r) => r.operations))],
    ['virtual time', `${(sum((r) => r.virtualMs) / 1000).toFixed(1)} s`],
    ['wall time', `${(wallMs / 1000).toFixed(1)} s`],
    ['simulations/s', (results.length / Math.max(0.001, wallMs / 1000)).toFixed(1)],
  ];
}

async function main(argv: string[]): Promise<number> {
  if (isTcpCommand(argv[0])) return runTcpCommand(argv[0], argv.slice(1), USAGE);
  const { command, options, seeds, jobs, json, quick, flags } = parse(argv);
  if (command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'bench') {
    for (const script of ['../../bench/run.js', '../../bench/cluster-run.js', '../../bench/tcp-run.js']) {
      const r = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
      if (r.status !== 0) return r.status ?? 1;
    }
    return 0;
  }
  if (command === 'replay') {
    const seed = seeds[0]!;
    const r = await runSimulation({ ...options, seed, writeTrace: true });
    const files = r.files;
    if (json) process.stdout.write(`${JSON.stringify({ ...r, files }, null, 2)}\n`);
    else {
      process.stdout.write(
        `raft-harness replay: seed ${seed} on the ${options.host} host: ${r.ok ? 'held' : 'FAILED'}\n` +
          `  trace hash ${r.traceHash} (${r.events} events, ${r.virtualMs} virtual ms, ${r.elections} elections, ${r.operations} client operations, linearizability ${r.linearizability})\n` +
          (r.violation ? `  ${r.violation.message.split('\n')[0]}\n` : '') +
          `  trace: ${files.join(', ')}\n`,
      );
    }
    return r.ok ? 0 : 1;
  }
  if (!json) {
    process.stdout.write(
      `raft-harness simulate: ${seeds.length} seed(s) × ${options.duration} virtual ms, ${options.nodes} nodes, ${options.clients} clients, ` +
        `faults: ${options.faults.join(', ') || 'none'}; ${options.host} host, ${jobs} job(s)\n`,
    );
  }
  const started = Date.now();
  let failed = 0;
  const results = await sweep({
    ...options,
    seeds,
    jobs,
    onResult: (r, done) => {
      if (!r.ok) failed += 1;
      if (!json) progress(done, seeds.length, failed, started);
    },
  });
  const wallMs = Date.now() - started;
  const rows = summary(results, wallMs);
  const failures = results.filter((r) => !r.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify({ summary: Object.fromEntries(rows), results }, null, 2)}\n`);
  } else {
    if (process.stderr.isTTY) process.stderr.write('\n');
    const w = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n\n`);
    for (const r of failures) {
      process.stdout.write(
        `  seed ${r.seed}: ${r.violation ? r.violation.message.split('\n')[0] : `client history ${r.linearizability}`}\n` +
          `    replay: ${replayLine(r.seed, flags)}\n` +
          (r.files.length > 0 ? `    trace:  ${r.files.join(', ')}\n` : ''),
      );
    }
    process.stdout.write(
      failures.length === 0
        ? `${results.length} passed, 0 failed — Raft held up on every seed.\n`
        : `${results.length - failures.length} passed, ${failures.length} failed — Raft broke: see the seeds above.\n`,
    );
  }
  return failures.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
