/**
 * The trace as a Mermaid sequence diagram: a participant per node and client, an arrow per
 * delivered message (drawn when it arrives), a crossed arrow per dropped one, notes for role and
 * term changes, crashes, restarts, pauses, partitions and client calls. Capped, so it renders.
 */
import {
  brief,
  clientAddress,
  clientName,
  describeInput,
  describeOutput,
  endpoints,
  genericFields,
  type TraceData,
} from './data.js';

export type MermaidOptions = {
  /** Diagram events (arrows and notes) at most; the rest is left out, as a note says. Default 150. */
  readonly maxEvents?: number;
  /** Also notes for votes, commits and applies (timers never). Default false. */
  readonly details?: boolean;
};

/**
 * Text safe in a Mermaid label: anything that could end the statement, open markup or a comment
 * becomes an entity code (`#60;`), which Mermaid renders as the character.
 */
export function mermaidText(text: string): string {
  let out = '';
  for (const ch of text) {
    if (/[A-Za-z0-9 _.,:(){}[\]=+\-/@→←✕↻…*'!?▶◀↛|]/u.test(ch)) out += ch;
    else if (/[\u0000-\u001f\u007f-\u009f]/.test(ch)) out += ' ';
    else out += `#${ch.codePointAt(0)!};`;
  }
  return out.trim() === '' ? '#160;' : out;
}

type Statement = { readonly time: number; readonly order: number; readonly text: string };

/** Mermaid source of a `sequenceDiagram` of the trace. */
export function toMermaid(data: TraceData, options: MermaidOptions = {}): string {
  const maxEvents = Math.max(1, options.maxEvents ?? 150);
  const { nodes, clients } = endpoints(data);
  const alias = new Map<string, string>();
  nodes.forEach((n, i) => alias.set(n, `N${i}`));
  clients.forEach((c, i) => alias.set(c, `C${i}`));
  const who = (id: unknown): string => alias.get(typeof id === 'string' ? id : '') ?? '';
  const allNodes = nodes.length > 1 ? `${who(nodes[0])},${who(nodes[nodes.length - 1])}` : who(nodes[0]);
  const at = (time: number): string => ` @${time}`;

  const statements: Statement[] = [];
  let order = 0;
  const add = (time: number, text: string): void => void statements.push({ time, order: order++, text });
  const note = (over: string, time: number, text: string): void => {
    if (over !== '') add(time, `Note over ${over}: ${mermaidText(text + at(time))}`);
  };

  const trace = data.trace;
  for (let i = 0; i < trace.length; ) {
    // One step: what one node recorded at one instant. Its role, term and vote changes make one note.
    const first = trace[i]!;
    let j = i + 1;
    while (first.node !== '*' && trace[j]?.node === first.node && trace[j]?.time === first.time) j++;
    const step = trace.slice(i, j);
    i = j;
    const changes: string[] = [];
    const roleChanged = step.some((s) => s.type === 'role');
    for (const e of step) {
      switch (e.type) {
        case 'deliver':
          if (who(e['from']) !== '' && who(e.node) !== '') add(e.time, `${who(e['from'])}->>${who(e.node)}: ${mermaidText(`${brief(e['message'], 40)}${at(e.time)}`)}`);
          break;
        case 'send':
          if (typeof e['lost'] === 'string' && who(e['to']) !== '' && who(e.node) !== '') {
            // Lost as it was sent (cut link, random drop, crashed receiver).
            add(e.time, `${who(e.node)}--x${who(e['to'])}: ${mermaidText(`✕ ${brief(e['message'], 40)} ${String(e['lost'])}${at(e.time)}`)}`);
          } else if (!Array.isArray(e['ids']) && typeof e['to'] === 'string' && clients.includes(e['to'])) {
            // Older traces do not record deliveries to clients: draw the reply (dotted) when sent.
            add(e.time, `${who(e.node)}-->>${who(e['to'])}: ${mermaidText(`${brief(e['message'], 40)}${at(e.time)}`)}`);
          }
          break;
        case 'drop':
          if (who(e['to']) !== '' && who(e.node) !== '') {
            add(e.time, `${who(e.node)}--x${who(e['to'])}: ${mermaidText(`✕ ${brief(e['message'], 40)} dropped${at(e.time)}`)}`);
          }
          break;
        case 'role':
          changes.push(`→ ${brief(e['to'], 20)} (term ${brief(e['term'])})`);
          break;
        case 'term':
          if (!roleChanged) changes.push(`term ${brief(e['to'])}`);
          break;
        case 'vote':
          if (options.details === true) changes.push(`vote ${brief(e['for'], 20)}`);
          break;
        case 'commit':
        case 'apply':
          if (options.details === true) changes.push(`${e.type} ${brief(e[e.type === 'commit' ? 'to' : 'index'])}`);
          break;
        case 'truncate':
          changes.push(`truncate from ${brief(e['from'])}`);
          break;
        case 'timer':
          break;
        case 'start':
          break; // the first start is the diagram's beginning; a later one is the restart's
        case 'restart':
          note(who(e.node), e.time, `↻ restart (incarnation ${brief(e['incarnation'])})`);
          break;
        case 'crash':
          note(who(e.node), e.time, '✕ CRASH');
          break;
        case 'partition':
        case 'heal': {
          const groups = e['groups'];
          const text = Array.isArray(groups)
            ? `partition ${groups.map((g) => (Array.isArray(g) ? g.map((x) => brief(x, 20)).join(' ') : brief(g))).join(' | ')}`
            : e.type === 'heal'
              ? 'heal: every link restored'
              : `partition ${genericFields(e, 60)}`;
          note(allNodes, e.time, text);
          break;
        }
        default:
          note(e.node === '*' ? allNodes : who(e.node), e.time, `${e.type} ${genericFields(e, 50)}`.trimEnd());
      }
    }
    if (changes.length > 0) note(who(first.node), first.time, changes.join(', '));
  }
  for (const op of data.history) {
    const c = who(clientAddress(op.client));
    add(op.call, `Note over ${c}: ${mermaidText(`▶ ${describeInput(op.input)}${at(op.call)}`)}`);
    if (op.return !== undefined) add(op.return, `Note over ${c}: ${mermaidText(`◀ ${describeOutput(op)}${at(op.return)}`)}`);
  }
  // Client notes by time among the trace's statements (stable: trace order within an instant).
  statements.sort((a, b) => a.time - b.time || a.order - b.order);

  const shown = statements.slice(0, maxEvents);
  const lines = ['sequenceDiagram'];
  lines.push(`  %% raft-harness trace, seed ${data.seed}, ${data.trace.length} entries; times are virtual ms`);
  for (const n of nodes) lines.push(`  participant ${who(n)} as ${mermaidText(n)}`);
  for (const c of clients) lines.push(`  participant ${who(c)} as ${mermaidText(clientName(c))}`);
  const over = [...nodes, ...clients];
  const span = over.length > 1 ? `${who(over[0])},${who(over[over.length - 1])}` : who(over[0]);
  const verdict = data.verdict === undefined ? '' : `, verdict ${data.verdict.result}`;
  const cap = statements.length > shown.length ? `, first ${shown.length} of ${statements.length} events shown` : '';
  if (span !== '') lines.push(`  Note over ${span}: ${mermaidText(`seed ${data.seed}${verdict}${cap}`)}`);
  for (const s of shown) lines.push(`  ${s.text}`);
  if (cap !== '' && span !== '') lines.push(`  Note over ${span}: ${mermaidText(`… ${statements.length - shown.length} more events not shown`)}`);
  return `${lines.join('\n')}\n`;
}

