import { describe, expect, it } from 'vitest';
import { SendQueue } from '../../src/node/tcp/send-queue.js';

const frame = (n: number, fill = 0): Buffer => Buffer.alloc(n, fill);

describe('SendQueue', () => {
  it('keeps frames in order and hands them out in batches bounded by bytes (at least one each)', () => {
    const q = new SendQueue({ maxMessages: 10, maxBytes: 1000 });
    for (let i = 0; i < 5; i++) expect(q.push(frame(100, i))).toBe(true);
    expect(q.takeBatch(250).map((b) => b[0])).toEqual([0, 1]);
    expect(q.takeBatch(50).map((b) => b[0])).toEqual([2]);
    expect(q.takeBatch(1e9).map((b) => b[0])).toEqual([3, 4]);
    expect(q.stats()).toEqual({ queued: 0, queuedBytes: 0, dropped: 0, droppedBytes: 0 });
  });

  it('drops (and counts) the newest frame when full by count or by bytes', () => {
    const byCount = new SendQueue({ maxMessages: 2, maxBytes: 1000 });
    expect([byCount.push(frame(1)), byCount.push(frame(1)), byCount.push(frame(1))]).toEqual([true, true, false]);
    expect(byCount.stats()).toEqual({ queued: 2, queuedBytes: 2, dropped: 1, droppedBytes: 1 });
    const byBytes = new SendQueue({ maxMessages: 100, maxBytes: 10 });
    expect([byBytes.push(frame(6)), byBytes.push(frame(6)), byBytes.push(frame(4))]).toEqual([true, false, true]);
    expect(byBytes.stats()).toEqual({ queued: 2, queuedBytes: 10, dropped: 1, droppedBytes: 6 });
  });

  it('stays bounded under a flood, and clear() counts what it discards', () => {
    const q = new SendQueue({ maxMessages: 100, maxBytes: 1 << 20 });
    for (let i = 0; i < 100_000; i++) q.push(frame(8));
    expect(q.length).toBe(100);
    expect(q.stats().dropped).toBe(99_900);
    q.clear();
    expect(q.stats()).toEqual({ queued: 0, queuedBytes: 0, dropped: 100_000, droppedBytes: 800_000 });
    // Reusable after a clear, with its array compacted as it drains.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(frame(1));
      while (q.length > 0) q.takeBatch(10);
    }
    expect(q.byteLength).toBe(0);
  });

  it('refuses limits below 1', () => {
    expect(() => new SendQueue({ maxMessages: 0, maxBytes: 1 })).toThrow(/invalid config: sendQueue.maxMessages = 0; allowed: an integer >= 1/);
    expect(() => new SendQueue({ maxMessages: 1, maxBytes: 1.5 })).toThrow(/sendQueue.maxBytes = 1.5/);
  });
});
