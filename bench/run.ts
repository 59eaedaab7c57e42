import { benchCoreThroughput, benchHeartbeatStep } from './core.js';
import { benchLinearizability } from './linearizability.js';
import { best, printTable } from './table.js';

/**
 * `npm run bench`: prints the benchmark table. Figures swing on shared machines; each row is the
 * best of three runs after a warm-up, and BENCHMARKS.md records a run with this command.
 */
const quick = process.argv.includes('--quick'); // every row once on small sizes: checks the table
const runs = quick ? 1 : 3;
if (!quick) benchCoreThroughput(3, 64, 20_000); // warm-up (JIT)
const rows: string[][] = [];
for (const nodes of [3, 5]) {
  for (const batch of [64, 256]) {
    const r = await best(runs, () => benchCoreThroughput(nodes, batch, quick ? 10_000 : undefined), (x) => x.entriesPerSecond);
    rows.push([
      `core throughput, ${nodes} nodes, batch ${batch}`,
      `${Math.round(r.entriesPerSecond).toLocaleString('en-US')} entries/s`,
      `${r.microsPerStep.toFixed(2)} µs/step (${r.steps.toLocaleString('en-US')} steps for ${r.entries.toLocaleString('en-US')} entries); ` +
        `target ≥ 200,000 entries/s with batching (${quick ? 'quick run: not judged' : r.entriesPerSecond >= 200_000 ? 'met' : 'MISSED'})`,
    ]);
  }
}
for (const nodes of [3, 5]) {
  const r = await best(runs, () => benchCoreThroughput(nodes, 64, quick ? 2_000 : 50_000, 1), (x) => x.entriesPerSecond);
  rows.push([
    `core throughput, ${nodes} nodes, one proposal at a time`,
    `${Math.round(r.entriesPerSecond).toLocaleString('en-US')} entries/s`,
    `${r.microsPerStep.toFixed(2)} µs/step (each entry replicated before the next is proposed); no target: for scale`,
  ]);
}
const hb = Math.min(benchHeartbeatStep(), benchHeartbeatStep(), benchHeartbeatStep());
rows.push(['step: heartbeat at a follower', `${hb.toFixed(3)} µs/step`, 'empty AppendEntries + Ready; no target: the cost of one step']);

for (const ops of [1_000, 10_000]) {
  const r = await best(runs, () => benchLinearizability(ops), (x) => -x.ms);
  rows.push([
    `linearizability check, kv, ${ops.toLocaleString('en-US')} ops, 5 clients`,
    `${r.ms.toFixed(1)} ms`,
    `no target: for scale; result ${r.result}; heap +${(r.heapDeltaBytes / 1e6).toFixed(1)} MB; ${r.cachedStates.toLocaleString('en-US')} cached states, ${r.partitions} partitions`,
  ]);
}
printTable(rows);
console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}`);
