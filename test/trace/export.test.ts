import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TraceEntry } from '../../harness/cluster.js';
import { realTrace } from './support.js';
import {
  TraceFormatError,
  buildModel,
  fromJson,
  saveHtml,
  toHtml,
  toJson,
  toJsonValue,
  toMermaid,
  toTable,
  type TraceData,
} from '../../harness/trace/index.js';

const EVIL = '</script><script>alert(1)</script>';

/** A small trace by hand: an election, a partition with a drop, a crash, a client, an unknown type. */
const hand: TraceData = {
  seed: 7,
  ids: ['n1', 'n2', EVIL],
  trace: [
    { time: 0, node: 'n1', type: 'start', incarnation: 1 },
    { time: 0, node: 'n2', type: 'start', incarnation: 1 },
    { time: 0, node: EVIL, type: 'start', incarnation: 1 },
    { time: 10, node: 'n1', type: 'timer' },
    { time: 10, node: 'n1', type: 'send', to: 'n2', message: 'RequestVote' },
    { time: 10, node: 'n1', type: 'send', to: EVIL, message: 'RequestVote' },
    { time: 10, node: 'n1', type: 'term', from: 0, to: 1 },
    { time: 10, node: 'n1', type: 'role', from: 'follower', to: 'candidate', term: 1 },
    { time: 12, node: 'n2', type: 'deliver', from: 'n1', message: 'RequestVote' },
    { time: 12, node: 'n2', type: 'send', to: 'n1', message: 'RequestVoteReply' },
    { time: 12, node: '*', type: 'partition', groups: [['n1', 'n2'], [EVIL]] },
    { time: 12, node: 'n1', type: 'drop', to: EVIL, message: 'RequestVote', id: 2 },
    { time: 15, node: 'n1', type: 'deliver', from: 'n2', message: 'RequestVoteReply' },
    { time: 15, node: 'n1', type: 'role', from: 'candidate', to: 'leader', term: 1 },
    { time: 16, node: 'n1', type: 'send', to: 'n2', message: 'AppendEntries' },
    { time: 16, node: 'n1', type: 'send', to: EVIL, message: 'AppendEntries' },
    { time: 16, node: 'n1', type: 'drop', to: EVIL, message: 'AppendEntries' },
    { time: 18, node: 'n2', type: 'deliver', from: 'n1', message: 'AppendEntries' },
    { time: 20, node: EVIL, type: 'crash' },
    { time: 22, node: '*', type: 'heal' },
    { time: 25, node: 'n1', type: 'mystery', detail: { note: EVIL } },
    { time: 30, node: 'n1', type: 'deliver', from: 'client:c1', message: 'ClientRequest' },
    { time: 30, node: 'n1', type: 'send', to: 'client:c1', message: 'ClientReply' },
  ],
  history: [
    { client: 'c1', input: { op: 'credit', amount: EVIL }, call: 28, output: { ok: true, balance: 5 }, return: 31 },
    { client: 'c1', input: { op: 'debit', amount: 1, note: 'line\u2028break' }, call: 32 },
  ],
  verdict: { result: 'violation', detail: `not linearizable ${EVIL}` },
};


let real: TraceData;
beforeAll(async () => {
  real = await realTrace(() => ({ result: 'ok' }));
});

/** The JSON block of an HTML export. */
function embedded(html: string): { data: unknown; model: unknown } {
  const match = /<script type="application\/json" id="trace-data">([^<]*)<\/script>/.exec(html);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]!) as { data: unknown; model: unknown };
}

describe('toJson / fromJson', () => {
  it('round-trips a hand-made and a real trace', () => {
    expect(fromJson(toJson(hand))).toEqual(hand);
    expect(fromJson(toJson(real))).toEqual(real);
    expect(fromJson(toJson(real, { indent: 2 }))).toEqual(real);
  });

  it('has a format and version, and a stable key order', () => {
    const json = toJson(hand);
    const file = JSON.parse(json) as Record<string, unknown>;
    expect(Object.keys(file)).toEqual(['format', 'version', 'seed', 'ids', 'verdict', 'history', 'trace']);
    expect(file['format']).toBe('raft-harness-trace');
    expect(file['version']).toBe(1);
    const shuffled: TraceData = {
      ...hand,
      trace: hand.trace.map((e) => Object.fromEntries(Object.entries(e).reverse()) as TraceEntry),
      history: hand.history.map((op) => ({ ...Object.fromEntries(Object.entries(op).reverse()), client: op.client, call: op.call, input: op.input })),
    };
    expect(toJson(shuffled)).toBe(json);
    for (const line of json.split('\n').filter((l) => l.includes('"type"'))) expect(line).toMatch(/^ {4}\{"time":\d+,"node":/);
  });

  it('reads the fixture’s older { seed, ids, trace } files and rejects what is not a trace', () => {
    const old = fromJson(JSON.stringify({ seed: 4, ids: ['n1'], trace: [{ time: 0, node: 'n1', type: 'start' }] }));
    expect(old).toEqual({ seed: 4, ids: ['n1'], trace: [{ time: 0, node: 'n1', type: 'start' }], history: [] });
    expect(() => fromJson('nope')).toThrow(TraceFormatError);
    expect(() => fromJson('{"format":"other","seed":1,"ids":[],"trace":[]}')).toThrow(/format/);
    expect(() => fromJson('{"format":"raft-harness-trace","version":99,"seed":1,"ids":[],"trace":[]}')).toThrow(/newer/);
    expect(() => fromJson('{"seed":1,"ids":[],"trace":[{"time":"x"}]}')).toThrow(/trace\[0\]/);
  });
});

describe('toTable', () => {
  it('has a header with seed and nodes, a column group per node, and role and term changes', () => {
    const table = toTable(hand);
    const lines = table.split('\n');
    expect(lines[0]).toContain('seed 7');
    expect(lines[0]).toContain('nodes n1, n2, </script>');
    expect(lines[1]).toContain('verdict: violation');
    const header = lines.find((l) => l.trimStart().startsWith('time'))!;
    expect(header.split('│').map((s) => s.trim())).toEqual(['time', 'n1', 'n2', EVIL]);
    const row = (time: number): string => lines.find((l) => l.trimStart().startsWith(`${time} │`) && l.includes('term'))!;
    expect(row(10)).toMatch(/│ C +1 timer +term 0→1/);
    expect(table).toContain('role F→C');
    expect(table).toContain('role C→L');
    expect(table).toMatch(/│ L +1 ←n2 RVR/);
    expect(table).toContain('══ partition {n1,n2} | {</script>');
    expect(table).toContain('✕→</script>');
    expect(table).toContain('CRASH');
    expect(table).toContain('c1 ▶ credit </script>');
    expect(table).toContain('c1 ◀ credit');
    expect(table).toMatch(/│ L +1 mystery/);
    expect(table).toContain('detail=');
  });

  it('fits the width: cells wrap, and nodes that do not fit go to another section', () => {
    const wide = toTable(real, { width: 160 });
    for (const line of wide.split('\n').slice(5)) expect(line.length).toBeLessThanOrEqual(160);
    expect(wide).not.toContain('section 1');
    const header = wide.split('\n').find((l) => l.trimStart().startsWith('time'))!;
    expect(header.split('│').map((s) => s.trim())).toEqual(['time', 'n1', 'n2', 'n3', 'n4', 'n5']);
    expect(wide).toMatch(/│ L +\d+ /);
    const narrow = toTable(real, { width: 80 });
    expect(narrow).toContain('section 1 of 3');
    for (const line of narrow.split('\n').slice(5)) expect(line.length).toBeLessThanOrEqual(80);
    expect(toTable(real, { maxRows: 5 })).toMatch(/… \d+ more rows not shown \(first 5 of \d+\)/);
  });

  it('shows control characters as symbols, not as terminal escapes', () => {
    const table = toTable({ ...hand, ids: ['n1\u001b[31m'], trace: [{ time: 0, node: 'n1\u001b[31m', type: 'start', incarnation: 1 }] });
    expect(table).not.toContain('\u001b');
    expect(table).toContain('n1�[31m');
  });
});

describe('toMermaid', () => {
  it('is a sequenceDiagram with nodes and clients as participants, arrows and notes', () => {
    const m = toMermaid(hand);
    const lines = m.split('\n');
    expect(lines[0]).toBe('sequenceDiagram');
    expect(lines).toContain('  participant N0 as n1');
    expect(lines).toContain('  participant N1 as n2');
    expect(lines).toContain('  participant C0 as c1');
    expect(m).toContain('participant N2 as #60;/script#62;#60;script#62;alert(1)#60;/script#62;');
    expect(lines).toContain('  N0->>N1: RequestVote @12');
    expect(lines).toContain('  N0--xN2: ✕ RequestVote dropped @12');
    expect(lines).toContain('  Note over N0: → leader (term 1) @15');
    expect(lines).toContain('  Note over N2: ✕ CRASH @20');
    expect(lines).toContain('  C0->>N0: ClientRequest @30');
    expect(lines).toContain('  N0-->>C0: ClientReply @30');
    expect(m).toMatch(/Note over N0,N2: partition n1 n2 \| #60;/);
    expect(m).not.toMatch(/<|&|"/);
  });

  it('caps the number of events and says so', () => {
    const full = toMermaid(real, { maxEvents: 100_000 });
    const arrows = full.split('\n').filter((l) => /^ {2}\w+-(->>|->>|-x|>>)\w+: /.test(l) || /^ {2}\w+(->>|--x|-->>)\w+:/.test(l));
    expect(arrows.length).toBeGreaterThan(100);
    for (const id of real.ids) expect(full).toContain(`as ${id}\n`);
    const capped = toMermaid(real, { maxEvents: 40 });
    const body = capped.split('\n').filter((l) => /^ {2}(\w+(->>|--x|-->>)\w+:|Note over)/.test(l));
    expect(body.length).toBe(40 + 2); // plus the header and trailer notes
    expect(capped).toMatch(/first 40 of \d+ events shown/);
    expect(capped).toMatch(/… \d+ more events not shown/);
  });
});

describe('buildModel', () => {
  it('pairs sends with deliveries and drops, and follows roles, partitions and crashes', () => {
    const model = buildModel(hand);
    expect(model.lanes.map((l) => l.id)).toEqual(['*', 'n1', 'n2', EVIL, 'client:c1']);
    const summary = model.arrows.map((a) => [a.type, model.lanes[a.from]!.id, model.lanes[a.to]!.id, a.sentAt, a.endAt, a.outcome]);
    expect(summary).toEqual([
      ['RequestVote', 'n1', 'n2', 10, 12, 'delivered'],
      ['RequestVote', 'n1', EVIL, 10, 12, 'dropped'],
      ['RequestVoteReply', 'n2', 'n1', 12, 15, 'delivered'],
      ['AppendEntries', 'n1', 'n2', 16, 18, 'delivered'],
      ['AppendEntries', 'n1', EVIL, 16, 16, 'dropped'],
      ['ClientRequest', 'client:c1', 'n1', 30, 30, 'unrecorded'],
      ['ClientReply', 'n1', 'client:c1', 30, 30, 'unrecorded'],
    ]);
    const n1 = model.bands.filter((b) => b.lane === 1).map((b) => [b.role, b.term, b.start, b.end]);
    expect(n1).toEqual([
      ['follower', 0, 0, 10],
      ['candidate', 1, 10, 15],
      ['leader', 1, 15, 32],
    ]);
    expect(model.periods.map((p) => [p.kind, p.start, p.end, p.lanes])).toEqual([
      ['partition', 12, 22, [1, 2, 3]],
      ['crashed', 20, 32, [3]],
    ]);
    expect(model.ops.map((o) => [o.status, o.call, o.return])).toEqual([
      ['ok', 28, 31],
      ['pending', 32, null],
    ]);
  });

  it('pairs every delivery of a real trace with a send of the same message on the same link', () => {
    const model = buildModel(real);
    const delivered = model.arrows.filter((a) => a.outcome === 'delivered' && a.send !== null);
    expect(delivered.length).toBeGreaterThan(100);
    for (const a of delivered) {
      const send = real.trace[a.send!]!;
      const deliver = real.trace[a.end!]!;
      expect([send.type, send.node, send['to'], send['message']]).toEqual(['send', deliver['from'], deliver.node, deliver['message']]);
      expect(a.sentAt).toBeLessThanOrEqual(a.endAt);
    }
    expect(model.arrows.some((a) => a.outcome === 'dropped')).toBe(true);
    expect(model.bands.some((b) => b.role === 'leader')).toBe(true);
    expect(model.periods.some((p) => p.kind === 'crashed' && p.endEntry !== null)).toBe(true);
  });
});

describe('toHtml', () => {
  it('is self-contained: no URL, no markup built from data', () => {
    const html = toHtml(real);
    expect(html).toMatch(/^<!DOCTYPE html>/);
    // The one "http" is the CSP's <meta http-equiv>, which forbids loading anything.
    expect(html.match(/http/gi)).toEqual(['http']);
    expect(html).toContain('<meta http-equiv="Content-Security-Policy"');
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/\bsrc=|<link|@import|url\((?!#)/i);
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  it('embeds the data as escaped JSON and lets only its own script run', () => {
    const html = toHtml(hand);
    expect(html).not.toContain(EVIL);
    expect(html).not.toContain('alert(1)</script>');
    expect(html).not.toContain('\u2028');
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const payload = embedded(html);
    expect(payload.data).toEqual(toJsonValue(hand));
    expect(fromJson(JSON.stringify(payload.data))).toEqual(hand);
    expect(payload.model).toEqual(JSON.parse(JSON.stringify(buildModel(hand))));
    // The CSP names the viewer script by hash: an injected inline script would not run.
    const script = /<script>([\s\S]*)<\/script>\s*<\/body>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script).digest('base64');
    expect(html).toContain(`script-src 'sha256-${hash}'`);
    expect(html).toContain("default-src 'none'");
  });

  it('saveHtml writes the file, creating directories', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-html-'));
    try {
      const path = saveHtml(real, join(dir, 'a', 'b', 'trace.html'));
      expect(readFileSync(path, 'utf8')).toBe(toHtml(real));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an empty trace', () => {
  it('exports without failing', () => {
    const empty: TraceData = { seed: 1, ids: [], trace: [], history: [] };
    expect(fromJson(toJson(empty))).toEqual(empty);
    expect(toTable(empty)).toContain('seed 1');
    expect(toMermaid(empty).split('\n')[0]).toBe('sequenceDiagram');
    expect(embedded(toHtml(empty)).model).toMatchObject({ lanes: [{ id: '*' }], arrows: [], end: 0 });
  });
});
