import { benchBusyEvents, benchIdleEvents, benchPauseResume, benchStartToLeader } from './cluster.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchSweep } from './hosts.js';
import { benchRealtimeOps, benchRealtimePauseResume } from './realtime.js';
import { benchSimulate } from './simulate.js';
import { benchWakeFloor } from './wake-floor.js';
import { best, printTable } from './table.js';

/**
 * `npm run build && node dist/bench/cluster-run.js`: prints the whole-harness benchmark table
 * (real workers, deterministic mode). Event-rate rows are the best of three runs after a warm-up;
 * start-to-leader is the median over seeds; pause/resume are median and p99 over samples.
 * `--quick` runs every row once on small sizes (to check the table, not to measure).
 */
const quick = process.argv.includes('--quick');
/** The full size, or the quick one. */
const size = <T>(full: T, fast: T): T => (quick ? fast : full);
/** A quick run's figures are too small to judge against a target. */
const verdict = (met: boolean): string => (quick ? 'quick run: not judged' : met ? 'met' : 'MISSED');

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const fix = (x: number, d: number): string => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

const began = process.hrtime.bigint();
const rows: string[][] = [];

// Warm-up: one cluster through election and some traffic (module loading, JIT), not reported.
if (!quick) {
  await benchIdleEvents(2_000);
  await benchBusyEvents(2, 20);
}

for (const nodes of [3, 5] as const) {
  const r = await benchStartToLeader(nodes, size(10, 2));
  const target = nodes === 5 ? `; target: 5 nodes under 400 ms (${verdict(r.medianMs < 400)})` : '; no target for 3 nodes';
  rows.push([
    `start → leader, ${nodes} nodes (median of ${r.runs} seeds)`,
    `${fix(r.medianMs, 1)} ms`,
    `min ${fix(r.minMs, 1)} / max ${fix(r.maxMs, 1)} ms; start() ${fix(r.medianStartMs, 1)} ms + waitForLeader ${fix(r.medianElectionMs, 1)} ms ` +
      `(${int(r.medianVirtualMs)} virtual ms, ${int(r.medianEvents)} events)${target}`,
  ]);
}

const idle = await best(size(3, 1), () => benchIdleEvents(size(20_000, 2_000)), (x) => x.eventsPerSecond);
rows.push([
  'idle, 5 nodes, event rate',
  `${int(idle.eventsPerSecond)} events/s`,
  `${int(idle.events)} events in ${fix(idle.wallMs, 0)} wall ms, ${fix(idle.microsPerEvent, 1)} µs/event; target ≥ 10,000 events/s (${verdict(idle.eventsPerSecond >= 10_000)})`,
]);
rows.push([
  'idle, 5 nodes, virtual/wall',
  `${fix(idle.speedup, 1)}×`,
  `advance(${int(idle.virtualMs)}) took ${fix(idle.wallMs, 0)} wall ms; target ≥ 100× virtual/wall idle (${verdict(idle.speedup >= 100)})`,
]);

const steady = await best(size(3, 1), () => benchIdleEvents(size(20_000, 2_000), 1, size(60_000, 1_000)), (x) => x.speedup);
rows.push([
  'idle, 5 nodes, virtual/wall, steady state',
  `${fix(steady.speedup, 1)}×`,
  `advance(${int(steady.virtualMs)}) after ${size('60,000', '1,000')} virtual ms of warm-up: ${int(steady.eventsPerSecond)} events/s, ` +
    `${fix(steady.microsPerEvent, 1)} µs/event; target ≥ 100× (${verdict(steady.speedup >= 100)})`,
]);

const floor = await best(size(3, 1), () => benchWakeFloor(size(2_000, 100)), (x) => x.ceiling);
rows.push([
  'worker wake floor: idle heartbeat round, echo workers',
  `${fix(floor.ceiling, 0)}× ceiling`,
  `5 threads that only echo, driven like an idle round (9 round trips): ${fix(floor.microsPerRoundTrip, 1)} µs per round trip, ` +
    `${fix(floor.microsPerRound, 0)} µs per ${floor.heartbeatMs} ms heartbeat round; what the worker host could reach if it and the nodes cost nothing; no target`,
]);

const busy = await best(size(3, 1), () => benchBusyEvents(4, size(250, 20)), (x) => x.eventsPerSecond);
rows.push([
  `busy, 5 nodes, ${busy.clients} clients × ${busy.opsPerClient} credit(1), event rate`,
  `${int(busy.eventsPerSecond)} events/s`,
  `${int(busy.events)} events in ${fix(busy.wallMs, 0)} wall ms, ${fix(busy.microsPerEvent, 1)} µs/event; target ≥ 10,000 events/s (${verdict(busy.eventsPerSecond >= 10_000)})`,
]);
rows.push([
  `busy, 5 nodes, ${busy.clients} clients × ${busy.opsPerClient} credit(1), committed ops`,
  `${int(busy.opsPerSecond)} ops/s`,
  `${int(busy.committed)} ok in ${int(busy.virtualMs)} virtual ms (${int(busy.opsPerVirtualSecond)} ops per virtual s); ` +
    `virtual/wall ${fix(busy.speedup, 1)}×; ${fix(busy.events / Math.max(1, busy.committed), 1)} events/op; no target: for scale`,
]);

const pr = await benchPauseResume(size(200, 20));
rows.push([
  'deterministic: pause() all 5 nodes',
  `${fix(pr.pauseMedianUs, 1)} µs median`,
  `p99 ${fix(pr.pauseP99Us, 1)} µs over ${pr.samples} samples; target: median under 1 ms (${verdict(pr.pauseMedianUs < 1_000)})`,
]);
rows.push([
  'deterministic: resume() all 5 nodes',
  `${fix(pr.resumeMedianUs, 1)} µs median`,
  `p99 ${fix(pr.resumeP99Us, 1)} µs over ${pr.samples} samples; target: median under 1 ms (${verdict(pr.resumeMedianUs < 1_000)})`,
]);

const rpr = await benchRealtimePauseResume(size(200, 20));
rows.push([
  'realtime: pause() all 5 nodes',
  `${fix(rpr.pauseMedianUs, 1)} µs median`,
  `p99 ${fix(rpr.pauseP99Us, 1)} µs over ${rpr.samples} samples (a control call to each worker); target: median under 1 ms (${verdict(rpr.pauseMedianUs < 1_000)})`,
]);
rows.push([
  'realtime: resume() all 5 nodes',
  `${fix(rpr.resumeMedianUs, 1)} µs median`,
  `p99 ${fix(rpr.resumeP99Us, 1)} µs over ${rpr.samples} samples; target: median under 1 ms (${verdict(rpr.resumeMedianUs < 1_000)})`,
]);

for (const clients of size([64, 256, 1024], [256])) {
  const r = await benchRealtimeOps(clients, size(3_000, 300));
  rows.push([
    `realtime: bank ops, 3 nodes, ${clients} clients`,
    `${int(r.opsPerSecond)} ops/s`,
    `${int(r.ops)} credits committed and answered in ${fix(r.wallMs, 0)} wall ms; latency ${r.latency[0]}..${r.latency[1]} ms` +
      (clients >= 256 ? `; target ≥ 10,000 ops/s with many clients in flight (${verdict(r.opsPerSecond >= 10_000)})` : '; fewer clients than the target asks: for scale'),
  ]);
}

const workerSweep = await benchSweep('worker', size(10, 2));
const inlineSweep = await benchSweep('inline', size(100, 10));
for (const r of [workerSweep, inlineSweep]) {
  rows.push([
    `seed sweep, ${r.host} host, 5 nodes`,
    `${fix(r.perSecond, 1)} simulations/s`,
    `${r.seeds} seeds of an election + clients + crash/restart + partition scenario in ${fix(r.wallMs, 0)} wall ms (${int(r.events / r.seeds)} events each); target on the ratio below`,
  ]);
}
const ratio = inlineSweep.perSecond / workerSweep.perSecond;
if (!quick) {
  // The scenario suite as a user runs it (vitest, both cores), timed end to end.
  const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const t = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [vitest, 'run', 'test/scenarios'], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const counted = /(\d+) passed, (\d+) failed/.exec(run.stdout);
  rows.push([
    'scenario suite (MIT 3A–3D ports, membership, transfer, seed scenarios)',
    `${fix(seconds, 1)} s wall`,
    `npx vitest run test/scenarios: ${counted ? `${counted[1]} passed, ${counted[2]} failed` : `exit ${run.status}`}; the MIT tester takes about 3 minutes for 3A–3C alone; target under 20 s, stretch under 10 s (${verdict(seconds < 20)}${seconds < 10 ? ', stretch met' : ''})`,
  ]);
}
for (const host of ['inline', 'worker'] as const) {
  const r = await benchSimulate(host, size(host === 'inline' ? 200 : 20, 4), 2);
  const target = host === 'inline' ? `target ≥ 20 simulations/s (${verdict(r.perSecond >= 20)})` : 'no target: for scale beside the inline host';
  rows.push([
    `raft-harness simulate defaults, ${host} host, --jobs 2`,
    `${fix(r.perSecond, 1)} simulations/s`,
    `${r.seeds} seeds × 10 virtual s (5 nodes, 3 clients, every fault) in ${fix(r.wallMs / 1000, 1)} wall s, ${r.failed} failed; ${target}`,
  ]);
}
rows.push(['seed sweep, inline vs worker', `${fix(ratio, 1)}×`, `target ≥ 10× for the inline host (${verdict(ratio >= 10)})`]);

printTable(rows);
const total = Number(process.hrtime.bigint() - began) / 1e9;
console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}; runner took ${total.toFixed(1)} s`);
