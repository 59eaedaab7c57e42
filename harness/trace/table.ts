/**
 * The trace as a text table for a terminal: a time column, then one column group per node (its
 * role and term after the row, what it did, what changed). A row is one step of one node (the
 * entries it recorded at one instant), or a cluster-wide event or client call/return across the
 * whole width. Groups that do not fit the width go to further sections of the same rows.
 */
import {
  brief,
  describeInput,
  describeOutput,
  endpoints,
  genericFields,
  lastInstant,
  messageLegend,
  shortMessage,
  shortRole,
  clientName,
  type TraceData,
  type TraceEntry,
} from './data.js';

export type TableOptions = {
  /** Characters per line. Default 160. */
  readonly width?: number;
  /** Rows at most (then a line says how many were left out). Default all. */
  readonly maxRows?: number;
};

type NodeState = { role: string; term: string; crashed: boolean; paused: boolean };
type Cell = { op: string[]; changed: string[] };
type Row =
  | { readonly kind: 'step'; readonly time: number; readonly node: string; readonly cell: Cell; readonly state: ReadonlyMap<string, NodeState> }
  | { readonly kind: 'banner'; readonly time: number; readonly text: string; readonly state: ReadonlyMap<string, NodeState> };

const ROLE_W = 2;
const MIN_TEXT = 9;
const MAX_TEXT = 30;
const SEP = ' │ ';

/** Control characters would drive the terminal: show them as visible symbols instead. */
function safe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '⏎' : '�'));
}

function fit(text: string, width: number): string {
  const t = safe(text);
  return t.length > width ? `${t.slice(0, Math.max(0, width - 1))}…` : t.padEnd(width);
}

/** Splits a text too long for `width` into lines, after a comma or before a space where it can. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const head = rest.slice(0, width);
    const cut = Math.max(head.lastIndexOf(',') + 1, head.lastIndexOf(' '));
    const at = cut > width / 3 ? cut : width;
    lines.push(rest.slice(0, at).trimEnd());
    rest = ` ${rest.slice(at).trimStart()}`;
  }
  lines.push(rest);
  return lines;
}

/** Packs items into lines of at most `width`, joined by ', '; an item too long wraps. */
function pack(items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  for (const raw of items) {
    const item = safe(raw);
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 2 + item.length <= width) lines[last] = `${lines[last]!}, ${item}`;
    else lines.push(...wrap(item, width));
  }
  return lines;
}

/** What one node did in one step; `others` are the other nodes (a send to all of them is `→all`). */
function describeStep(entries: readonly TraceEntry[], state: NodeState, others: readonly string[]): Cell {
  const op: string[] = [];
  const changed: string[] = [];
  let applied: { first: number; last: number; kinds: Set<string> } | null = null;
  const flushApplied = (): void => {
    if (applied === null) return;
    const range = applied.first === applied.last ? `${applied.first}` : `${applied.first}..${applied.last}`;
    changed.push(`apply ${range} ${[...applied.kinds].join('/')}`.trimEnd());
    applied = null;
  };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type !== 'apply') flushApplied();
    switch (e.type) {
      case 'send': {
        // Consecutive sends of one message type: one item, every receiver.
        const to = [brief(e['to'], 20)];
        while (entries[i + 1]?.type === 'send' && entries[i + 1]!['message'] === e['message']) to.push(brief(entries[++i]!['to'], 20));
        const all = to.length > 1 && others.length === to.length && others.every((n) => to.includes(n));
        op.push(`→${all ? 'all' : to.map(clientName).join(',')} ${shortMessage(e['message'])}`);
        break;
      }
      case 'deliver':
        op.push(`←${clientName(brief(e['from'], 20))} ${shortMessage(e['message'])}`);
        break;
      case 'drop':
        op.push(`✕→${clientName(brief(e['to'], 20))} ${shortMessage(e['message'])}${e['id'] === undefined ? '' : ` #${brief(e['id'])}`}`);
        break;
      case 'timer':
        op.push('timer');
        break;
      case 'start':
      case 'restart':
        op.push(`${e.type} #${brief(e['incarnation'])}`);
        state.crashed = false;
        state.paused = false;
        if (e.type === 'start') state.role = 'F';
        break;
      case 'crash':
        op.push('CRASH');
        state.crashed = true;
        break;
      case 'pause':
        op.push('pause');
        state.paused = true;
        break;
      case 'resume':
        op.push('resume');
        state.paused = false;
        break;
      case 'stall':
        op.push(`stall until ${brief(e['until'])}`);
        break;
      case 'isolate':
        op.push('isolated');
        break;
      case 'connect':
        op.push('connected');
        break;
      case 'trigger':
        op.push(`trigger: ${brief(e['reason'], 60)}`);
        break;
      case 'role':
        changed.push(`role ${shortRole(e['from'])}→${shortRole(e['to'])}`);
        state.role = shortRole(e['to']);
        if (typeof e['term'] === 'number') state.term = String(e['term']);
        break;
      case 'term':
        changed.push(`term ${brief(e['from'])}→${brief(e['to'])}`);
        state.term = brief(e['to']);
        break;
      case 'vote':
        changed.push(`vote ${brief(e['for'], 20)}`);
        break;
      case 'commit':
        changed.push(`commit ${brief(e['from'])}→${brief(e['to'])}`);
        break;
      case 'truncate':
        changed.push(`truncate ≥${brief(e['from'])}`);
        break;
      case 'apply': {
        const index = typeof e['index'] === 'number' ? e['index'] : NaN;
        const entry = e['entry'] === 'command' ? 'cmd' : brief(e['entry'] ?? '', 12);
        const kind = `${entry}${e['duplicate'] === true ? ' dup' : ''}`;
        if (applied !== null && index === applied.last + 1) {
          applied.last = index;
          applied.kinds.add(kind);
        } else {
          flushApplied();
          applied = { first: index, last: index, kinds: new Set([kind]) };
        }
        break;
      }
      case 'malformed-message':
        op.push(`malformed: ${brief(e['error'], 60)}`);
        break;
      default:
        op.push(`${e.type} ${genericFields(e)}`.trimEnd());
    }
  }
  flushApplied();
  return { op, changed };
}

function describeClusterWide(e: TraceEntry): string {
  if (e.type === 'partition') {
    const groups = e['groups'];
    if (Array.isArray(groups)) return `══ partition ${groups.map((g) => `{${Array.isArray(g) ? g.map((x) => brief(x, 20)).join(',') : brief(g)}}`).join(' | ')}`;
    if (e['oneWay'] === true) return `══ one-way partition ${brief(e['from'])} ↛ ${brief(e['to'])}`;
  }
  if (e.type === 'heal') return '══ heal: every link restored';
  return `══ ${e.type} ${genericFields(e)}`.trimEnd();
}

/** Every row, in trace order, with each node's state after it. */
function buildRows(data: TraceData, nodes: readonly string[]): Row[] {
  const states = new Map<string, NodeState>(nodes.map((n) => [n, { role: '', term: '0', crashed: false, paused: false }]));
  const snapshot = (): ReadonlyMap<string, NodeState> => new Map([...states].map(([k, v]) => [k, { ...v }]));
  const calls = data.history
    .flatMap((op, i) => {
      const who = brief(op.client, 20);
      const items = [{ time: op.call, order: i * 2, text: `${who} ▶ ${describeInput(op.input)}` }];
      if (op.return !== undefined) {
        items.push({ time: op.return, order: i * 2 + 1, text: `${who} ◀ ${describeInput(op.input)} → ${describeOutput(op)} (${op.return - op.call} ms)` });
      }
      return items;
    })
    .sort((a, b) => a.time - b.time || a.order - b.order);
  const rows: Row[] = [];
  let c = 0;
  const trace = data.trace;
  for (let i = 0; i <= trace.length; i++) {
    const e = trace[i];
    while (c < calls.length && (e === undefined || calls[c]!.time < e.time)) {
      rows.push({ kind: 'banner', time: calls[c]!.time, text: calls[c]!.text, state: snapshot() });
      c += 1;
    }
    if (e === undefined) break;
    if (e.node === '*' || !states.has(e.node)) {
      rows.push({ kind: 'banner', time: e.time, text: e.node === '*' ? describeClusterWide(e) : `${e.node}: ${e.type} ${genericFields(e)}`, state: snapshot() });
      continue;
    }
    const step = [e];
    while (trace[i + 1] !== undefined && trace[i + 1]!.node === e.node && trace[i + 1]!.time === e.time) step.push(trace[++i]!);
    const cell = describeStep(step, states.get(e.node)!, nodes.filter((n) => n !== e.node));
    rows.push({ kind: 'step', time: e.time, node: e.node, cell, state: snapshot() });
  }
  return rows;
}

type Layout = { readonly nodes: readonly string[]; readonly op: number; readonly changed: number };

function stateText(s: NodeState | undefined): string {
  if (s === undefined) return '';
  if (s.crashed) return '✕';
  return `${s.role}${s.paused ? '‖' : ''}`;
}

function renderSection(rows: readonly Row[], layout: Layout, timeW: number, termW: number, width: number): string[] {
  const groupW = ROLE_W + 1 + termW + 1 + layout.op + 1 + layout.changed;
  const out: string[] = [];
  const line = (time: string, groups: readonly string[]): string => `${time.padStart(timeW)}${SEP}${groups.join(SEP)}`.trimEnd();
  out.push(line('time', layout.nodes.map((n) => fit(n, groupW))));
  out.push(line('', layout.nodes.map(() => fit(`${'R'.padEnd(ROLE_W)} ${'t'.padStart(termW)} ${'op'.padEnd(layout.op)} changed`, groupW))));
  out.push(`${'─'.repeat(timeW + 1)}┼${layout.nodes.map(() => '─'.repeat(groupW + 2)).join('┼')}`);
  for (const row of rows) {
    if (row.kind === 'banner') {
      out.push(`${String(row.time).padStart(timeW)}${SEP}${fit(row.text, Math.max(10, width - timeW - SEP.length))}`.trimEnd());
      continue;
    }
    if (!layout.nodes.includes(row.node)) continue;
    const cells = layout.nodes.map((n) => (n === row.node ? { op: pack(row.cell.op, layout.op), changed: pack(row.cell.changed, layout.changed) } : { op: [], changed: [] }));
    const height = Math.max(1, ...cells.map((c) => Math.max(c.op.length, c.changed.length)));
    for (let k = 0; k < height; k++) {
      const groups = layout.nodes.map((n, j) => {
        const s = row.state.get(n);
        const term = s === undefined || s.crashed || s.role === '' ? '' : s.term;
        const head = k === 0 ? `${fit(stateText(s), ROLE_W)} ${term.padStart(termW)}` : ' '.repeat(ROLE_W + 1 + termW);
        return `${head} ${fit(cells[j]!.op[k] ?? '', layout.op)} ${fit(cells[j]!.changed[k] ?? '', layout.changed)}`;
      });
      out.push(line(k === 0 ? String(row.time) : '', groups));
    }
  }
  return out;
}

/**
 * A terminal table of the trace: a header (seed, nodes, verdict, legend), then one row per node
 * step, cluster-wide event, and client call or return. Cells wrap onto further lines; nodes that do
 * not fit `width` continue in another section.
 */
export function toTable(data: TraceData, options: TableOptions = {}): string {
  const width = Math.max(60, options.width ?? 160);
  const { nodes, clients } = endpoints(data);
  const end = lastInstant(data);
  const timeW = Math.max(5, String(end).length);
  let maxTerm = 0;
  for (const e of data.trace) if ((e.type === 'term' || e.type === 'role') && typeof e['to'] === 'number') maxTerm = Math.max(maxTerm, e['to']);
  const termW = Math.max(3, String(maxTerm).length);
  const fixed = ROLE_W + 1 + termW + 2 + SEP.length;
  const perSection = Math.max(1, Math.floor((width - timeW - 1) / (fixed + 2 * MIN_TEXT)));
  const sections: string[][] = [];
  for (let i = 0; i < nodes.length; i += perSection) sections.push(nodes.slice(i, i + perSection));
  if (sections.length === 0) sections.push([]);

  const verdict = data.verdict === undefined ? 'none' : `${data.verdict.result}${data.verdict.detail === undefined ? '' : ` (${data.verdict.detail})`}`;
  const types = data.trace.filter((e) => e.type === 'send' || e.type === 'deliver' || e.type === 'drop').map((e) => String(e['message']));
  const out = [
    safe(`raft-harness trace · seed ${data.seed} · nodes ${data.ids.join(', ')} · ${data.trace.length} entries · ${data.history.length} client operation${data.history.length === 1 ? '' : 's'} · 0–${end} virtual ms`),
    safe(`verdict: ${verdict}`),
    `roles: F follower, P precandidate, C candidate, L leader, ✕ crashed, ‖ paused · → sent, ← delivered, ✕→ dropped`,
  ];
  const legend = messageLegend(types);
  if (legend !== '') out.push(`messages: ${legend}`);
  if (clients.length > 0) out.push(safe(`clients: ${clients.map(clientName).join(', ')} (▶ call, ◀ return)`));

  let rows = buildRows(data, nodes);
  const total = rows.length;
  if (options.maxRows !== undefined && rows.length > options.maxRows) rows = rows.slice(0, Math.max(0, options.maxRows));
  for (const [i, section] of sections.entries()) {
    const both = Math.min(2 * MAX_TEXT, Math.max(2 * MIN_TEXT, Math.floor((width - timeW - 1) / Math.max(1, section.length) - fixed)));
    out.push('');
    if (sections.length > 1) out.push(safe(`── nodes ${section.join(', ')} (section ${i + 1} of ${sections.length}) ──`));
    out.push(...renderSection(rows, { nodes: section, op: Math.ceil(both / 2), changed: Math.floor(both / 2) }, timeW, termW, width));
  }
  if (rows.length < total) out.push('', `… ${total - rows.length} more rows not shown (first ${rows.length} of ${total})`);
  return `${out.join('\n')}\n`;
}
