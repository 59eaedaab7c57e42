/**
 * The worker entry. Order matters (DESIGN §4): keep the real timers for the host itself, install
 * the fake clock with an explicit `toFake` list (never nextTick or queueMicrotask: faking those
 * hangs Node), re-sync the builtin ESM exports so `node:timers` and `node:timers/promises` see the
 * fakes, and only then import the host and, through it, the node program.
 */
import { syncBuiltinESMExports } from 'node:module';
import { workerData } from 'node:worker_threads';
import FakeTimers from '@sinonjs/fake-timers';
import type { HostInit } from '../protocol.js';

const realPerformanceNow = performance.now.bind(performance);
const real = {
  setImmediate: globalThis.setImmediate,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  now: () => realPerformanceNow(),
};

// Stacks in hang reports (where a timer was created) name the TypeScript sources, not dist/.
process.setSourceMapsEnabled(true);

const init = (workerData as { init: HostInit }).init;
const clock = FakeTimers.install({
  now: init.now,
  toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  // A node may legitimately fire many timers in one step (a long stall); 1000 is too few.
  loopLimit: 1_000_000,
});
syncBuiltinESMExports();

const { startHost } = await import('./host.js');
startHost(clock, real);
