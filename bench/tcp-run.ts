import { benchRealtimeOps } from './realtime.js';
import { best, printTable } from './table.js';
import { benchTcpOps } from './tcp.js';

/**
 * `npm run build && node dist/bench/tcp-run.js`: committed bank operations per second on a local
 * cluster of 3 `raft-harness serve` processes (TCP on loopback, fsynced file storage), beside the
 * same workload on the in-process realtime cluster (worker threads, memory storage). Each row is
 * the best of three runs. `--quick` runs each row once, briefly (checks the table, measures little).
 */
const quick = process.argv.includes('--quick');
const runs = quick ? 1 : 3;
const duration = quick ? 500 : 3_000;
const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const fix = (x: number, d: number): string => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

const rows: string[][] = [];
const sizes = quick ? [64] : [64, 256];
for (const clients of sizes) {
  const r = await best(runs, () => benchTcpOps(clients, 4, duration), (x) => x.opsPerSecond);
  rows.push([
    `tcp: bank ops, 3 processes, ${clients} clients`,
    `${int(r.opsPerSecond)} ops/s`,
    `${int(r.ops)} credit(1) committed in ${fix(r.wallMs, 0)} ms over ${r.connections} connections per node; ` +
      `latency p50 ${fix(r.p50Ms, 1)} ms, p99 ${fix(r.p99Ms, 1)} ms; leader fsyncs per op ${fix(r.syncsPerOp, 2)}; no target: beside the in-process row`,
  ]);
}
for (const clients of sizes) {
  const r = await best(runs, () => benchRealtimeOps(clients, duration), (x) => x.opsPerSecond);
  rows.push([
    `in-process realtime: bank ops, 3 nodes, ${clients} clients`,
    `${int(r.opsPerSecond)} ops/s`,
    `${int(r.ops)} credit(1) committed in ${fix(r.wallMs, 0)} ms; worker threads, memory storage, latency [${r.latency.join(', ')}] ms; no target here (the realtime target is in the cluster table)`,
  ]);
}
printTable(rows);
if (quick) console.log('\nquick run: figures are not measurements');
