import type { InFlight } from './network/router.js';

/** The next thing that can happen in the cluster, in the scheduler's fixed order. */
export type ScheduledEvent =
  | { readonly kind: 'timer'; readonly at: number; readonly node: string }
  | { readonly kind: 'main'; readonly at: number; readonly timer: MainTimer }
  | { readonly kind: 'message'; readonly at: number; readonly flight: InFlight };

/** A timer of the main thread's own (a client's retry or timeout), on virtual time. */
export type MainTimer = { readonly id: number; readonly at: number; readonly label: string; readonly fire: () => void };

/** What the scheduler needs to know about each node. */
export type SchedulableNode = {
  readonly id: string;
  /** Only running, unpaused nodes take events. */
  readonly runnable: boolean;
  /** Global virtual time of its earliest timer, or null. */
  readonly nextTimer: number | null;
  /** Global virtual time before which the node takes no event (a stall); 0 when awake. */
  readonly asleepUntil: number;
};

/**
 * Picks the next event, deterministically: earliest time first; at equal times node timers
 * (in node order), then the main thread's timers (in creation order), then messages (by
 * receiver in node order, then send order). A stalled node's events wait until it wakes, and a
 * paused node's wait until it is resumed.
 */
export function nextEvent(
  nodes: readonly SchedulableNode[],
  mainTimers: readonly MainTimer[],
  inflight: Iterable<InFlight>,
  nodeOrder: ReadonlyMap<string, number>,
): ScheduledEvent | null {
  // The best candidate so far, by rank (time, class, node order, sequence), compared in place:
  // this runs before every event, over every message in flight.
  let at = Infinity;
  let cls = 3;
  let order = Infinity;
  let seq = Infinity;
  let pick: { node: SchedulableNode } | { timer: MainTimer } | { flight: InFlight } | null = null;
  const better = (a: number, c: number, o: number, q: number): boolean =>
    a < at || (a === at && (c < cls || (c === cls && (o < order || (o === order && q < seq)))));
  const byId = new Map<string, SchedulableNode>();
  for (const n of nodes) {
    byId.set(n.id, n);
    if (!n.runnable || n.nextTimer === null) continue;
    const a = Math.max(n.nextTimer, n.asleepUntil);
    const o = nodeOrder.get(n.id) ?? Infinity;
    if (better(a, 0, o, 0)) [at, cls, order, seq, pick] = [a, 0, o, 0, { node: n }];
  }
  for (const t of mainTimers) {
    if (better(t.at, 1, 0, t.id)) [at, cls, order, seq, pick] = [t.at, 1, 0, t.id, { timer: t }];
  }
  for (const f of inflight) {
    const n = byId.get(f.to);
    if (n !== undefined && !n.runnable) continue; // held until the node is resumed or restarted
    const a = n === undefined ? f.due : Math.max(f.due, n.asleepUntil);
    const o = nodeOrder.get(f.to) ?? -1;
    if (better(a, 2, o, f.id)) [at, cls, order, seq, pick] = [a, 2, o, f.id, { flight: f }];
  }
  if (pick === null) return null;
  if ('node' in pick) return { kind: 'timer', at, node: pick.node.id };
  if ('timer' in pick) return { kind: 'main', at, timer: pick.timer };
  return { kind: 'message', at, flight: pick.flight };
}
