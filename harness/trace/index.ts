/**
 * Trace exports: JSON to keep and reload, a terminal table, a Mermaid sequence diagram, and a
 * self-contained HTML viewer. All pure functions of `TraceData`, except `saveHtml`, which writes.
 */
export type { TraceData, Verdict } from './data.js';
export { TRACE_FORMAT, TRACE_FORMAT_VERSION, TraceFormatError, fromJson, toJson, toJsonValue, type JsonOptions, type TraceFile } from './json.js';
export { toTable, type TableOptions } from './table.js';
export { mermaidText, toMermaid, type MermaidOptions } from './mermaid.js';
export { jsonForScript, saveHtml, toHtml, type HtmlOptions } from './html.js';
export { buildModel, type Arrow, type ClientOp, type Lane, type Mark, type Period, type PeriodKind, type RoleBand, type TimelineModel } from './model.js';
