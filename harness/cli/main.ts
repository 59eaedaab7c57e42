#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { InvalidConfigError } from '../../src/raft/errors.js';
import { DEFAULT_CORE_SIMULATION, runCoreSimulation, type CoreSimulationResult } from '../core-simulation.js';

const USAGE = `raft-harness — test Raft clusters in one process

Usage:
  raft-harness simulate [--seeds N | --seed-range A..B] [--nodes N] [--duration MS]
                        [--drop P] [--duplicate P] [--latency MIN..MAX]
  raft-harness replay --seed N [same options as simulate]
  raft-harness help

simulate  runs one randomized faulty run per seed (partitions, one-way cuts, crashes and
          restarts, drops, duplicates, reordering), checks Raft's safety properties after every
          event, then heals the network and checks the cluster converges. Defaults: 500 seeds,
          5 nodes, 10000 virtual ms, drop 0.05, duplicate 0.02, latency 1..30 ms.
replay    runs one seed again, exactly, and prints what it did.

Exit status: 0 when every seed held, 1 when any failed, 2 on bad arguments.`;

function fail(error: InvalidConfigError): never {
  process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) fail(new InvalidConfigError(`--${name}`, text, `an integer >= ${min}`));
  return n;
}

function probability(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const p = Number(text);
  if (!(p >= 0 && p < 1)) fail(new InvalidConfigError(`--${name}`, text, 'a number in [0, 1)'));
  return p;
}

function range(name: string, text: string | undefined, fallback: readonly [number, number]): [number, number] {
  if (text === undefined) return [...fallback];
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo > hi) fail(new InvalidConfigError(`--${name}`, text, 'A..B with integers 0 <= A <= B'));
  return [lo, hi];
}

function main(argv: string[]): number {
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
        drop: { type: 'string' },
        duplicate: { type: 'string' },
        latency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`raft-harness: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'help';
  if (values.help || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'simulate' && command !== 'replay') {
    process.stderr.write(`raft-harness: unknown command ${JSON.stringify(command)}; allowed: simulate, replay, help\n\n${USAGE}\n`);
    return 2;
  }
  const base = {
    nodes: int('nodes', values.nodes, DEFAULT_CORE_SIMULATION.nodes, 1),
    duration: int('duration', values.duration, DEFAULT_CORE_SIMULATION.duration, 1),
    drop: probability('drop', values.drop, DEFAULT_CORE_SIMULATION.drop),
    duplicate: probability('duplicate', values.duplicate, DEFAULT_CORE_SIMULATION.duplicate),
    latency: range('latency', values.latency, DEFAULT_CORE_SIMULATION.latency),
  };
  const flags = [
    values.nodes && `--nodes ${base.nodes}`,
    values.duration && `--duration ${base.duration}`,
    values.drop && `--drop ${base.drop}`,
    values.duplicate && `--duplicate ${base.duplicate}`,
    values.latency && `--latency ${values.latency}`,
  ].filter(Boolean).join(' ');

  let seeds: number[];
  if (command === 'replay') {
    if (values.seed === undefined) fail(new InvalidConfigError('--seed', undefined, 'an integer >= 0 (replay needs the seed to run)'));
    seeds = [int('seed', values.seed, 0, 0)];
  } else if (values['seed-range'] !== undefined) {
    const [a, b] = range('seed-range', values['seed-range'], [0, 0]);
    seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else {
    seeds = Array.from({ length: int('seeds', values.seeds, 500, 1) }, (_, i) => i + 1);
  }

  process.stdout.write(
    `raft-harness ${command}: ${seeds.length} seed(s), ${base.nodes} nodes, ${base.duration} virtual ms of faults ` +
      `(drop ${base.drop}, duplicate ${base.duplicate}, latency ${base.latency[0]}..${base.latency[1]} ms, partitions, crashes)\n` +
      `engine: pure Raft cores on an in-process network; safety checked after every event\n`,
  );
  const started = Date.now();
  const failures: CoreSimulationResult[] = [];
  let events = 0;
  for (const [i, seed] of seeds.entries()) {
    const r = runCoreSimulation({ seed, ...base });
    events += r.events;
    if (!r.ok) failures.push(r);
    if (command === 'replay') {
      process.stdout.write(
        r.ok
          ? `seed ${seed}: ok — ${r.events} events, ${r.leaders} leaderships, ${r.committed} entries committed everywhere\n`
          : `seed ${seed}: FAILED after ${r.events} events — ${r.failure}\n`,
      );
    } else if (process.stdout.isTTY) {
      process.stdout.write(`\r${i + 1}/${seeds.length} seeds, ${failures.length} failed`);
    }
  }
  if (command === 'simulate') {
    if (process.stdout.isTTY) process.stdout.write('\n');
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`${seeds.length - failures.length} passed, ${failures.length} failed (${events.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s)\n`);
    for (const f of failures) {
      if (f.ok) continue;
      process.stdout.write(`  seed ${f.seed}: ${f.failure}\n    replay: npx raft-harness replay --seed ${f.seed}${flags ? ` ${flags}` : ''}\n`);
    }
    process.stdout.write(failures.length === 0 ? 'Raft held up on every seed.\n' : 'Raft broke: see the failures above.\n');
  }
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
