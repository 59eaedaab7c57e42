/**
 * The trace as JSON: a format name and version, then seed, ids, verdict, history and trace, with
 * keys in a stable order, so the same run gives the same bytes and the file loads back as it was.
 */
import type { HistoryOperation, TraceData, TraceEntry, Verdict } from './data.js';

export const TRACE_FORMAT = 'raft-harness-trace';
export const TRACE_FORMAT_VERSION = 1;

/** The object `toJson` writes. */
export type TraceFile = {
  readonly format: typeof TRACE_FORMAT;
  readonly version: number;
} & TraceData;

export type JsonOptions = {
  /** Indentation; default none for entries (one line each), see `toJson`. */
  readonly indent?: number;
};

/** Stable order for any value: entries lead with time, node, type; history with client, input, call, output, return; other objects sort their keys. */
function ordered(value: unknown, lead: readonly string[] = []): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => ordered(v));
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  const rest = keys.filter((k) => !lead.includes(k)).sort();
  const out: Record<string, unknown> = {};
  for (const k of [...lead.filter((k) => keys.includes(k)), ...rest]) out[k] = ordered(source[k]);
  return out;
}

const ENTRY_LEAD = ['time', 'node', 'type'] as const;
const OP_LEAD = ['client', 'input', 'call', 'output', 'return'] as const;

/** The stable-order copy `toJson` serializes. */
export function toJsonValue(data: TraceData): TraceFile {
  const file: Record<string, unknown> = {
    format: TRACE_FORMAT,
    version: TRACE_FORMAT_VERSION,
    seed: data.seed,
    ids: [...data.ids],
  };
  if (data.verdict !== undefined) file['verdict'] = ordered(data.verdict, ['result', 'detail']);
  file['history'] = data.history.map((op) => ordered(op, OP_LEAD));
  file['trace'] = data.trace.map((e) => ordered(e, ENTRY_LEAD));
  return file as TraceFile;
}

/**
 * JSON with a format version, enough to reload (`fromJson`) and replay (the seed). By default one
 * line per trace entry and history operation: diffable, and still small. `indent` pretty-prints.
 */
export function toJson(data: TraceData, options: JsonOptions = {}): string {
  const file = toJsonValue(data);
  if (options.indent !== undefined) return `${JSON.stringify(file, null, options.indent)}\n`;
  const head = { ...file } as Record<string, unknown>;
  delete head['history'];
  delete head['trace'];
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const list = (items: readonly unknown[]): string =>
    items.length === 0 ? '[]' : `[\n${items.map((i) => `    ${JSON.stringify(i)}`).join(',\n')}\n  ]`;
  lines.push(`  "history": ${list(file.history)}`, `  "trace": ${list(file.trace)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Loads what `toJson` wrote; also the older `{ seed, ids, trace }` files the vitest fixture saves
 * (no format, no history). Throws TraceFormatError on anything else.
 */
export function fromJson(text: string): TraceData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TraceFormatError(`not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(value)) throw new TraceFormatError('not a trace: expected an object');
  if (value['format'] !== undefined && value['format'] !== TRACE_FORMAT) {
    throw new TraceFormatError(`not a trace: format ${JSON.stringify(value['format'])}`);
  }
  const version = value['version'];
  if (version !== undefined && (typeof version !== 'number' || version > TRACE_FORMAT_VERSION)) {
    throw new TraceFormatError(`trace format version ${String(version)} is newer than this reader (${TRACE_FORMAT_VERSION})`);
  }
  const { seed, ids, trace, history, verdict } = value;
  if (typeof seed !== 'number') throw new TraceFormatError('not a trace: seed must be a number');
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new TraceFormatError('not a trace: ids must be strings');
  if (!Array.isArray(trace)) throw new TraceFormatError('not a trace: trace must be an array');
  for (const [i, e] of trace.entries()) {
    if (!isRecord(e) || typeof e['time'] !== 'number' || typeof e['node'] !== 'string' || typeof e['type'] !== 'string') {
      throw new TraceFormatError(`trace[${i}]: expected { time: number, node: string, type: string, ... }`);
    }
  }
  const ops = history === undefined ? [] : history;
  if (!Array.isArray(ops)) throw new TraceFormatError('not a trace: history must be an array');
  for (const [i, op] of ops.entries()) {
    if (!isRecord(op) || typeof op['client'] !== 'string' || typeof op['call'] !== 'number') {
      throw new TraceFormatError(`history[${i}]: expected { client: string, input, call: number, ... }`);
    }
  }
  const data: { -readonly [K in keyof TraceData]: TraceData[K] } = {
    trace: trace as TraceEntry[],
    history: ops as HistoryOperation[],
    ids: ids as string[],
    seed,
  };
  if (verdict !== undefined) {
    if (!isRecord(verdict) || !['ok', 'violation', 'unknown'].includes(verdict['result'] as string)) {
      throw new TraceFormatError('not a trace: verdict.result must be ok, violation or unknown');
    }
    const v: { result: Verdict['result']; detail?: string } = { result: verdict['result'] as Verdict['result'] };
    if (typeof verdict['detail'] === 'string') v.detail = verdict['detail'];
    data.verdict = v;
  }
  return data;
}
