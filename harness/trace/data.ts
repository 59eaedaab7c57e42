/**
 * What the trace exports read: a cluster's trace and client history, its ids and seed, and the
 * checker's verdict if there is one. Plus the small pieces of wording every export shares.
 */
import type { HistoryOperation, TraceEntry } from '../cluster.js';

export type { HistoryOperation, TraceEntry };

/** The linearizability checker's verdict on the history. */
export type Verdict = {
  readonly result: 'ok' | 'violation' | 'unknown';
  readonly detail?: string;
};

/** Everything an export needs; `cluster.trace()`, `cluster.history()`, `cluster.ids`, `cluster.seed`. */
export type TraceData = {
  readonly trace: readonly TraceEntry[];
  readonly history: readonly HistoryOperation[];
  readonly ids: readonly string[];
  readonly seed: number;
  readonly verdict?: Verdict;
};

/** The fields of an entry besides time, node and type, in key order. */
export function fieldsOf(entry: TraceEntry): Array<[string, unknown]> {
  return Object.keys(entry)
    .filter((k) => k !== 'time' && k !== 'node' && k !== 'type')
    .sort()
    .map((k) => [k, entry[k]]);
}

/** A value in a few characters: strings as they are, everything else as compact JSON. */
export function brief(value: unknown, max = 60): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  else {
    try {
      text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/** `k=v k=v` of an entry's own fields, for types no export knows. */
export function genericFields(entry: TraceEntry, max = 80): string {
  return brief(
    fieldsOf(entry)
      .map(([k, v]) => `${k}=${brief(v, 40)}`)
      .join(' '),
    max,
  );
}

const SHORT_MESSAGES: Readonly<Record<string, string>> = {
  PreVote: 'PV',
  PreVoteReply: 'PVR',
  RequestVote: 'RV',
  RequestVoteReply: 'RVR',
  AppendEntries: 'AE',
  AppendEntriesReply: 'AER',
  InstallSnapshot: 'IS',
  InstallSnapshotReply: 'ISR',
  ClientRequest: 'CReq',
  ClientReply: 'CRep',
};

/** The table's abbreviation of a message type (unknown types stay as they are). */
export function shortMessage(type: unknown): string {
  const t = typeof type === 'string' ? type : brief(type, 20);
  return SHORT_MESSAGES[t] ?? t;
}

/** The abbreviations used, for a legend. */
export function messageLegend(types: Iterable<string>): string {
  const used = [...new Set(types)].filter((t) => SHORT_MESSAGES[t] !== undefined).sort();
  return used.map((t) => `${SHORT_MESSAGES[t]!} ${t}`).join(', ');
}

const SHORT_ROLES: Readonly<Record<string, string>> = { follower: 'F', precandidate: 'P', candidate: 'C', leader: 'L' };

export function shortRole(role: unknown): string {
  return typeof role === 'string' ? (SHORT_ROLES[role] ?? role) : '?';
}

/** Clients send from `client:<id>`; the history names them `<id>`. */
export function clientAddress(client: string): string {
  return client.startsWith('client:') ? client : `client:${client}`;
}

export function clientName(address: string): string {
  return address.startsWith('client:') ? address.slice('client:'.length) : address;
}

/** An operation's input as a short phrase: `credit 5` for the bank's `{ op, amount }`. */
export function describeInput(input: unknown): string {
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const { op, ...rest } = input as Record<string, unknown>;
    if (typeof op === 'string') {
      const values = Object.values(rest);
      return values.length === 0 ? op : `${op} ${values.map((v) => brief(v, 30)).join(' ')}`;
    }
  }
  return brief(input, 60);
}

/** An operation's output as a short phrase, or `pending`. */
export function describeOutput(op: HistoryOperation): string {
  return op.return === undefined && op.output === undefined ? 'pending' : brief(op.output, 60);
}

/** The node and client addresses that occur, nodes first (the cluster's ids, then any other). */
export function endpoints(data: TraceData): { nodes: string[]; clients: string[] } {
  const nodes = [...data.ids];
  const clients: string[] = [];
  const add = (id: unknown): void => {
    if (typeof id !== 'string' || id === '*' || nodes.includes(id) || clients.includes(id)) return;
    if (id.startsWith('client:')) clients.push(id);
    else nodes.push(id);
  };
  for (const op of data.history) add(clientAddress(op.client));
  for (const e of data.trace) {
    add(e.node);
    if (e.type === 'send' || e.type === 'drop') add(e['to']);
    if (e.type === 'deliver') add(e['from']);
  }
  return { nodes, clients };
}

/** The last virtual instant the data mentions. */
export function lastInstant(data: TraceData): number {
  let end = 0;
  for (const e of data.trace) {
    end = Math.max(end, e.time);
    if (e.type === 'stall' && typeof e['until'] === 'number') end = Math.max(end, e['until']);
  }
  for (const op of data.history) end = Math.max(end, op.call, op.return ?? 0);
  return end;
}
