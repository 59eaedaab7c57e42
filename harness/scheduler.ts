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
  let best: ScheduledEvent | null = null;
  let bestRank: [number, number, number, number] = [Infinity, 3, Infinity, Infinity];
  const consider = (event: ScheduledEvent, rank: [number, number, number, number]): void => {
    for (let i = 0; i < 4; i++) {
      if (rank[i]! < bestRank[i]!) {
        best = event;
        bestRank = rank;
        return;
      }
      if (rank[i]! > bestRank[i]!) return;
    }
  };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const n of nodes) {
    if (!n.runnable || n.nextTimer === null) continue;
    const at = Math.max(n.nextTimer, n.asleepUntil);
    consider({ kind: 'timer', at, node: n.id }, [at, 0, nodeOrder.get(n.id) ?? Infinity, 0]);
  }
  for (const t of mainTimers) consider({ kind: 'main', at: t.at, timer: t }, [t.at, 1, 0, t.id]);
  for (const f of inflight) {
    const n = byId.get(f.to);
    if (n !== undefined && !n.runnable) continue; // held until the node is resumed or restarted
    const at = n === undefined ? f.due : Math.max(f.due, n.asleepUntil);
    consider({ kind: 'message', at, flight: f }, [at, 2, nodeOrder.get(f.to) ?? -1, f.id]);
  }
  return best;
}
