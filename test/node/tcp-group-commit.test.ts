import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/node/tcp/group-commit.js';
import type { Storage } from '../../src/node/storage.js';
import { EMPTY_STATE } from '../../src/raft/types.js';

function fakeDisk(events: string[], failOnSync = false): Storage {
  return {
    load: () => EMPTY_STATE,
    setHardState: (h) => void events.push(`state ${h.term}`),
    append: (entries) => void events.push(`append ${entries[0]!.index}`),
    saveSnapshot: (snapshot) => void events.push(`snapshot ${snapshot.index}`),
    sync: () => {
      if (failOnSync) throw new Error('EIO');
      events.push('sync');
    },
    close: () => void events.push('close'),
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('merges the syncs of one turn into one, and holds every message until it is done, in order', async () => {
    const events: string[] = [];
    const g = new GroupCommit(fakeDisk(events), (m) => void events.push(`send ${m.to}`), () => {});
    g.send({ to: 'a' }); // nothing pending: goes at once
    for (let i = 1; i <= 3; i++) {
      g.storage.append([{ index: i, term: 1, type: 'noop' }]);
      g.storage.sync();
      g.send({ to: `after-${i}` });
    }
    expect(events).toEqual(['send a', 'append 1', 'append 2', 'append 3']);
    await turn();
    expect(events.slice(4)).toEqual(['sync', 'send after-1', 'send after-2', 'send after-3']);
    expect(g.stats()).toEqual({ requested: 3, syncs: 1 });
  });

  it('a failed sync drops what was held (it promised what is not on disk) and reports the failure', async () => {
    const events: string[] = [];
    const failures: unknown[] = [];
    const g = new GroupCommit(fakeDisk(events, true), (m) => void events.push(`send ${m.to}`), (e) => failures.push(e));
    g.storage.sync();
    g.send({ to: 'b' });
    await turn();
    expect(events).toEqual([]);
    expect(failures).toHaveLength(1);
  });

  it('close flushes first', () => {
    const events: string[] = [];
    const g = new GroupCommit(fakeDisk(events), (m) => void events.push(`send ${m.to}`), () => {});
    g.storage.sync();
    g.send({ to: 'c' });
    g.storage.close();
    expect(events).toEqual(['sync', 'send c', 'close']);
  });
});
