/**
 * The trace as shapes on a time axis, for the HTML viewer: lanes, role bands, message arrows
 * (each send paired with its delivery or drop), crash, pause, stall and partition periods, point
 * marks, and client operations. Everything points back at trace entries (and history operations)
 * by index, so the viewer can show any of them in full.
 */
import { clientAddress, clientName, describeInput, describeOutput, endpoints, lastInstant, type TraceData, type TraceEntry } from './data.js';

export type Lane = { readonly id: string; readonly label: string; readonly kind: 'cluster' | 'node' | 'client' };

/** A node in one role and term, from `start` until `end`; `entry` is the trace entry that began it. */
export type RoleBand = { readonly lane: number; readonly start: number; end: number; readonly role: string; readonly term: number; readonly entry: number | null };

export type PeriodKind = 'crashed' | 'paused' | 'stalled' | 'isolated' | 'partition';

/** A stretch of time something held: on some lanes (a partition: on the nodes it cut). */
export type Period = {
  readonly kind: PeriodKind;
  readonly lanes: readonly number[];
  readonly start: number;
  end: number;
  readonly label: string;
  readonly entry: number;
  endEntry: number | null;
};

/**
 * One message. `delivered` and `dropped` are recorded; `lost` went to a node that crashed (or was
 * down) before it arrived; `in-flight` was still on the wire when the trace ends; `unrecorded`
 * arrived somewhere the trace does not follow (a client), or came from somewhere it does not (a
 * client's request), so one end is drawn at the other end's instant.
 */
export type Arrow = {
  readonly type: string;
  readonly from: number;
  readonly to: number;
  readonly sentAt: number;
  endAt: number;
  readonly send: number | null;
  end: number | null;
  outcome: 'delivered' | 'dropped' | 'lost' | 'in-flight' | 'unrecorded';
};

/** A point event on a lane: its trace entry's type, at its time. */
export type Mark = { readonly lane: number; readonly time: number; readonly entry: number; readonly kind: string };

export type ClientOp = {
  readonly lane: number;
  /** Index in the history. */
  readonly op: number;
  readonly call: number;
  readonly return: number | null;
  readonly label: string;
  readonly result: string;
  readonly status: 'ok' | 'error' | 'pending';
};

export type TimelineModel = {
  readonly lanes: readonly Lane[];
  readonly end: number;
  readonly bands: readonly RoleBand[];
  readonly periods: readonly Period[];
  readonly arrows: readonly Arrow[];
  readonly marks: readonly Mark[];
  readonly ops: readonly ClientOp[];
  /** Message types in order of first appearance. */
  readonly messageTypes: readonly string[];
};

/** The types drawn as something other than a mark. */
const NOT_MARKS = new Set(['send', 'deliver', 'drop', 'role', 'term']);

export function buildModel(data: TraceData): TimelineModel {
  const { nodes, clients } = endpoints(data);
  const lanes: Lane[] = [
    { id: '*', label: 'network', kind: 'cluster' },
    ...nodes.map((id): Lane => ({ id, label: id, kind: 'node' })),
    ...clients.map((id): Lane => ({ id, label: clientName(id), kind: 'client' })),
  ];
  const laneOf = new Map(lanes.map((l, i) => [l.id, i]));
  const lane = (id: unknown): number | undefined => (typeof id === 'string' ? laneOf.get(id) : undefined);
  const end = lastInstant(data);
  const nodeLanes = nodes.map((n) => laneOf.get(n)!);

  const bands: RoleBand[] = [];
  const open = new Map<number, RoleBand>();
  const terms = new Map<number, number>();
  const setBand = (l: number, time: number, role: string | null, term: number, entry: number | null): void => {
    const current = open.get(l);
    if (current !== undefined && current.role === role && current.term === term) return;
    if (current !== undefined) current.end = time;
    open.delete(l);
    if (current !== undefined && current.start === time) bands.splice(bands.indexOf(current), 1); // replaced within one step
    if (role === null) return;
    const band: RoleBand = { lane: l, start: time, end, role, term, entry };
    bands.push(band);
    open.set(l, band);
  };

  const periods: Period[] = [];
  /** Ends the periods still going on at `time` that `which` picks. */
  const closePeriods = (time: number, entry: number, which: (p: Period) => boolean): void => {
    for (const p of periods) {
      if (p.endEntry === null && p.end >= time && which(p)) {
        p.end = time;
        p.endEntry = entry;
      }
    }
  };

  const arrows: Arrow[] = [];
  const pending = new Map<string, Arrow[]>();
  /** Arrows still on the wire, by message id (traces that record ids). */
  const byId = new Map<number, Arrow>();
  const key = (from: unknown, to: unknown, type: unknown): string => JSON.stringify([from, to, type]);
  const crashed = new Set<number>();
  const marks: Mark[] = [];
  const messageTypes: string[] = [];
  const seeType = (t: string): void => {
    if (!messageTypes.includes(t)) messageTypes.push(t);
  };

  data.trace.forEach((e: TraceEntry, i: number) => {
    const l = lane(e.node);
    if (l === undefined) return;
    if (!NOT_MARKS.has(e.type)) marks.push({ lane: l, time: e.time, entry: i, kind: e.type });
    switch (e.type) {
      case 'start':
        crashed.delete(l);
        closePeriods(e.time, i, (p) => p.kind === 'crashed' && p.lanes.includes(l));
        setBand(l, e.time, 'follower', terms.get(l) ?? 0, i);
        break;
      case 'role':
        if (typeof e['term'] === 'number') terms.set(l, e['term']);
        setBand(l, e.time, String(e['to']), terms.get(l) ?? 0, i);
        break;
      case 'term':
        if (typeof e['to'] === 'number') terms.set(l, e['to']);
        setBand(l, e.time, open.get(l)?.role ?? 'follower', terms.get(l) ?? 0, i);
        break;
      case 'crash':
        crashed.add(l);
        setBand(l, e.time, null, 0, i);
        closePeriods(e.time, i, (p) => (p.kind === 'paused' || p.kind === 'stalled') && p.lanes.includes(l));
        periods.push({ kind: 'crashed', lanes: [l], start: e.time, end, label: `${e.node} crashed`, entry: i, endEntry: null });
        // What was on its way to the node is gone with it.
        for (const [k, list] of pending) {
          for (const a of list) if (a.to === l) lost(a, e.time, i);
          pending.set(k, list.filter((a) => a.to !== l));
        }
        for (const [id, a] of byId) {
          if (a.to !== l) continue;
          lost(a, e.time, i);
          byId.delete(id);
        }
        break;
      case 'pause':
        periods.push({ kind: 'paused', lanes: [l], start: e.time, end, label: `${e.node} paused`, entry: i, endEntry: null });
        break;
      case 'resume':
        closePeriods(e.time, i, (p) => p.kind === 'paused' && p.lanes.includes(l));
        break;
      case 'stall': {
        const until = typeof e['until'] === 'number' ? e['until'] : e.time;
        closePeriods(e.time, i, (p) => p.kind === 'stalled' && p.lanes.includes(l));
        periods.push({ kind: 'stalled', lanes: [l], start: e.time, end: until, label: `${e.node} stalled until ${until}`, entry: i, endEntry: null });
        break;
      }
      case 'isolate':
        periods.push({ kind: 'isolated', lanes: [l], start: e.time, end, label: `${e.node} isolated`, entry: i, endEntry: null });
        break;
      case 'connect':
        closePeriods(e.time, i, (p) => p.kind === 'isolated' && p.lanes.includes(l));
        break;
      case 'partition': {
        const groups = e['groups'];
        const cut = new Set<number>();
        const names = (list: unknown): string[] => (Array.isArray(list) ? list.map(String) : [String(list)]);
        let label: string;
        if (Array.isArray(groups)) {
          for (const g of groups) for (const n of names(g)) if (lane(n) !== undefined) cut.add(lane(n)!);
          label = `partition ${groups.map((g) => `{${names(g).join(', ')}}`).join(' | ')}`;
        } else {
          for (const n of [...names(e['from']), ...names(e['to'])]) if (lane(n) !== undefined) cut.add(lane(n)!);
          label = `one-way partition {${names(e['from']).join(', ')}} ↛ {${names(e['to']).join(', ')}}`;
        }
        periods.push({ kind: 'partition', lanes: cut.size > 0 ? [...cut].sort((a, b) => a - b) : nodeLanes, start: e.time, end, label, entry: i, endEntry: null });
        break;
      }
      case 'heal':
        closePeriods(e.time, i, (p) => p.kind === 'partition' || p.kind === 'isolated');
        break;
      case 'send': {
        const to = lane(e['to']);
        const type = String(e['message']);
        if (to === undefined) break;
        seeType(type);
        const ids = e['ids'];
        if (Array.isArray(ids)) {
          // Traces with message ids: one arrow per copy on the wire, paired by id; none means lost.
          if (ids.length === 0) {
            arrows.push({ type, from: l, to, sentAt: e.time, endAt: e.time, send: i, end: i, outcome: 'dropped' });
          }
          for (const id of ids) {
            const arrow: Arrow = { type, from: l, to, sentAt: e.time, endAt: end, send: i, end: null, outcome: 'in-flight' };
            arrows.push(arrow);
            byId.set(Number(id), arrow);
          }
          break;
        }
        const arrow: Arrow = { type, from: l, to, sentAt: e.time, endAt: end, send: i, end: null, outcome: 'in-flight' };
        arrows.push(arrow);
        if (crashed.has(to)) lost(arrow, e.time, i);
        else {
          const k = key(e.node, e['to'], type);
          pending.set(k, [...(pending.get(k) ?? []), arrow]);
        }
        break;
      }
      case 'deliver':
      case 'drop': {
        const known = typeof e['id'] === 'number' ? byId.get(e['id']) : undefined;
        if (known !== undefined) {
          known.endAt = e.time;
          known.end = i;
          known.outcome = e.type === 'deliver' ? 'delivered' : 'dropped';
          byId.delete(e['id'] as number);
          break;
        }
        const from = e.type === 'deliver' ? lane(e['from']) : l;
        const to = e.type === 'deliver' ? l : lane(e['to']);
        const type = String(e['message']);
        if (from === undefined || to === undefined) break;
        seeType(type);
        const k = key(e.type === 'deliver' ? e['from'] : e.node, e.type === 'deliver' ? e.node : e['to'], type);
        const list = pending.get(k) ?? [];
        // A drop without an id is the router's, recorded right after its send: the latest one.
        const latest = e.type === 'drop' && e['id'] === undefined && list.length > 0 && list[list.length - 1]!.sentAt === e.time;
        const arrow = latest ? list.pop() : list.shift();
        const outcome = e.type === 'deliver' ? 'delivered' : 'dropped';
        if (arrow === undefined) {
          arrows.push({ type, from, to, sentAt: e.time, endAt: e.time, send: null, end: i, outcome: e.type === 'deliver' ? 'unrecorded' : 'dropped' });
        } else {
          arrow.endAt = e.time;
          arrow.end = i;
          arrow.outcome = outcome;
        }
        break;
      }
      default:
        break;
    }
  });
  // Replies to clients: their delivery is not traced.
  for (const a of arrows) {
    if (a.outcome === 'in-flight' && lanes[a.to]!.kind === 'client') {
      a.outcome = 'unrecorded';
      a.endAt = a.sentAt;
    }
  }

  const ops: ClientOp[] = data.history.map((op, i) => {
    const output = op.output as { ok?: unknown } | undefined;
    const status = op.return === undefined ? 'pending' : output !== null && typeof output === 'object' && output.ok === false ? 'error' : 'ok';
    return {
      lane: laneOf.get(clientAddress(op.client))!,
      op: i,
      call: op.call,
      return: op.return ?? null,
      label: describeInput(op.input),
      result: describeOutput(op),
      status,
    };
  });

  return { lanes, end, bands, periods, arrows, marks, ops, messageTypes };
}

function lost(arrow: Arrow, time: number, entry: number): void {
  arrow.outcome = 'lost';
  arrow.endAt = time;
  arrow.end = entry;
}
