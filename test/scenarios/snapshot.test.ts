/**
 * MIT 6.5840 Raft tester, part 3D (log compaction), on the harness. MIT's service snapshots every
 * `SnapShotInterval` = 10 applied commands; here the Raft bank server does, by its policy
 * (`snapshotEvery: 10`). MIT bounds the persisted Raft state (MAXLOGSIZE); here the bound is on
 * the entries kept after the snapshot.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster, ClusterOptions } from '../../harness/cluster.js';
import { useClusters } from '../harness/support/clusters.js';
import { liveSnapshots, Tester } from './support.js';

const SNAPSHOT_INTERVAL = 10;
/** Entries a node may keep past its snapshot: what arrives between two snapshots, and slack. */
const MAX_LOG_ENTRIES = 3 * SNAPSHOT_INTERVAL;
const start = useClusters({ host: 'inline', raft: { snapshotEvery: SNAPSHOT_INTERVAL } });
const SEEDS = [1, 2];

type Variant = { readonly disconnect: boolean; readonly reliable: boolean; readonly crash: boolean };

/** Every live node has committed and applied `index` (or more), and shows `balance`. */
async function waitAllAt(cluster: Cluster, balance: number): Promise<void> {
  await cluster.runUntil(
    async () => {
      const snaps = await liveSnapshots(cluster);
      return snaps.length === cluster.ids.length && snaps.every((s) => (s.app as { balance?: number } | null)?.balance === balance && s.lastApplied === s.commitIndex);
    },
    { timeout: 10_000 },
  );
}

async function checkLogsSmall(cluster: Cluster): Promise<void> {
  for (const s of await liveSnapshots(cluster)) {
    expect(s.log.length, `${s.id} keeps ${s.log.length} entries past its snapshot at ${s.snapshotIndex}`).toBeLessThanOrEqual(MAX_LOG_ENTRIES);
  }
}

/** MIT `snapcommon`: 30 rounds (10 here) of taking a follower away, writing past a snapshot, and bringing it back. */
async function snapCommon(seed: number, v: Variant): Promise<Cluster> {
  const options: ClusterOptions = v.reliable ? { nodes: 3, seed } : { nodes: 3, seed, network: { drop: 0.1, duplicate: 0.05, reorder: 0.1 } };
  const cluster = await start(options);
  const t = new Tester(cluster);
  const client = cluster.client();
  // One session per command in flight: a client keeps one write outstanding (its sequence order).
  const writers = Array.from({ length: SNAPSHOT_INTERVAL + 1 }, () => cluster.client());
  let balance = 0;
  const credit = async (amount: number): Promise<void> => {
    const r = await client.credit(amount, { timeout: 10_000 });
    expect(r.ok).toBe(true);
    balance += amount;
  };
  await credit(1);
  for (let round = 0; round < 10; round++) {
    const leader = await t.checkOneLeader();
    const victim = t.after(leader, 1);
    if (v.disconnect) {
      t.disconnect(victim);
      await credit(100 + round);
    }
    if (v.crash) {
      await cluster.crash(victim);
      await credit(100 + round);
    }
    // Enough to make the others snapshot past everything the victim has.
    const ops = writers.map((w, k) => w.credit(1_000 + k, { timeout: 10_000 }));
    for (const op of ops) expect((await op).ok).toBe(true);
    balance += ops.reduce((a, _, k) => a + 1_000 + k, 0);
    await credit(200 + round);
    await checkLogsSmall(cluster);
    if (v.disconnect) t.connect(victim);
    if (v.crash) await cluster.restart(victim);
    await credit(300 + round);
    await waitAllAt(cluster, balance);
  }
  await checkLogsSmall(cluster);
  return cluster;
}

const installs = (cluster: Cluster): number => cluster.trace().filter((e) => e.type === 'snapshot' && e['source'] === 'installed').length;

describe('3D: log compaction (MIT)', () => {
  it.each(SEEDS)('snapshots basic: logs stay small while the cluster writes (seed %i)', async (seed) => {
    const cluster = await snapCommon(seed, { disconnect: false, reliable: true, crash: false });
    // ~140 entries with a snapshot every 10 applied: every node compacted again and again.
    for (const id of cluster.ids) {
      const taken = cluster.trace().filter((e) => e.type === 'snapshot' && e['source'] === 'taken' && e.node === id);
      expect(taken.length, id).toBeGreaterThanOrEqual(5);
    }
  });

  // MIT's four install variants: a follower cut off (or crashed) past a snapshot gets InstallSnapshot.
  const INSTALLS = [
    ['disconnect', { disconnect: true, reliable: true, crash: false }],
    ['disconnect + unreliable', { disconnect: true, reliable: false, crash: false }],
    ['crash', { disconnect: false, reliable: true, crash: true }],
    ['crash + unreliable', { disconnect: false, reliable: false, crash: true }],
  ] as const;
  it.each(INSTALLS.flatMap(([name, variant]) => SEEDS.map((seed) => [name, seed, variant] as const)))(
    'install snapshots (%s) (seed %i)',
    async (_name, seed, variant) => {
      const cluster = await snapCommon(seed, variant);
      expect(installs(cluster)).toBeGreaterThan(0);
    },
  );

  it('the size policy: a node snapshots once its log holds more than snapshotLogBytes', async () => {
    const cluster = await start({ nodes: 3, seed: 1, raft: { snapshotEvery: 0, snapshotLogBytes: 2_000 } });
    const client = cluster.client();
    for (let k = 1; k <= 60; k++) expect((await client.credit(k)).ok).toBe(true);
    await waitAllAt(cluster, (60 * 61) / 2);
    for (const s of await liveSnapshots(cluster)) {
      expect(s.snapshotIndex, s.id).toBeGreaterThan(0);
      // About 80 bytes an entry: never much more than 2 000 bytes' worth kept past the snapshot.
      expect(s.log.length, s.id).toBeLessThanOrEqual(30);
    }
  });

  it.each(SEEDS)('crash and restart all servers: the commit index never goes backwards (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const writers = Array.from({ length: SNAPSHOT_INTERVAL + 1 }, () => cluster.client());
    let before = 0;
    for (let round = 0; round < 5; round++) {
      const ops = writers.map((w, k) => w.credit(k + 1, { timeout: 10_000 }));
      for (const op of ops) expect((await op).ok).toBe(true);
      const leader = await cluster.waitForLeader();
      const index = (await cluster.inspect(leader)).commitIndex;
      expect(index).toBeGreaterThanOrEqual(before);
      before = index;
      for (const id of cluster.ids) await cluster.crash(id);
      for (const id of cluster.ids) await cluster.restart(id);
      await cluster.waitForLeader({ timeout: 5_000 });
      for (const s of await liveSnapshots(cluster)) expect(s.snapshotIndex, `${s.id} lost its snapshot`).toBeGreaterThan(0);
    }
  });

  it.each(SEEDS)('snapshot initialization after crash: state machine and sessions come back from the snapshot (seed %i)', async (seed) => {
    const cluster = await start({ nodes: 3, seed });
    const client = cluster.client();
    for (let k = 1; k <= SNAPSHOT_INTERVAL + 1; k++) expect((await client.credit(k)).ok).toBe(true);
    const balance = ((SNAPSHOT_INTERVAL + 1) * (SNAPSHOT_INTERVAL + 2)) / 2;
    for (let twice = 0; twice < 2; twice++) {
      for (const id of cluster.ids) await cluster.crash(id);
      for (const id of cluster.ids) await cluster.restart(id);
      await cluster.waitForLeader();
      // Right after the restart, before any new entry: applied state = snapshot + replayed log.
      for (const s of await liveSnapshots(cluster)) {
        expect(s.snapshotIndex).toBeGreaterThan(0);
        expect(s.lastApplied).toBeGreaterThanOrEqual(s.snapshotIndex);
      }
      expect(await client.balance()).toEqual({ ok: true, balance });
    }
    // The sessions survived in the snapshot: a new write applies once, an old seq is not re-applied.
    expect(await client.credit(1)).toEqual({ ok: true, balance: balance + 1 });
    await waitAllAt(cluster, balance + 1);
  });
});
