import { benchCoreThroughput, benchHeartbeatStep } from './core.js';
import { best, printTable } from './table.js';

/**
 * `npm run bench`: prints the benchmark table. Figures swing on shared machines; each row is the
 * best of three runs after a warm-up, and BENCHMARKS.md records a run with this command.
 */
benchCoreThroughput(3, 64, 20_000); // warm-up (JIT)
const rows: string[][] = [];
for (const nodes of [3, 5]) {
  for (const batch of [64, 256]) {
    const r = await best(3, () => benchCoreThroughput(nodes, batch), (x) => x.entriesPerSecond);
    rows.push([
      `core throughput, ${nodes} nodes, batch ${batch}`,
      `${Math.round(r.entriesPerSecond).toLocaleString('en-US')} entries/s`,
      `${r.microsPerStep.toFixed(2)} µs/step (${r.steps.toLocaleString('en-US')} steps for ${r.entries.toLocaleString('en-US')} entries)`,
    ]);
  }
}
for (const nodes of [3, 5]) {
  const r = await best(3, () => benchCoreThroughput(nodes, 64, 50_000, 1), (x) => x.entriesPerSecond);
  rows.push([
    `core throughput, ${nodes} nodes, one proposal at a time`,
    `${Math.round(r.entriesPerSecond).toLocaleString('en-US')} entries/s`,
    `${r.microsPerStep.toFixed(2)} µs/step (each entry replicated before the next is proposed)`,
  ]);
}
const hb = Math.min(benchHeartbeatStep(), benchHeartbeatStep(), benchHeartbeatStep());
rows.push(['step: heartbeat at a follower', `${hb.toFixed(3)} µs/step`, 'empty AppendEntries + Ready']);

printTable(rows);
console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}`);
