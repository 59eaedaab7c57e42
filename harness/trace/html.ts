/**
 * The trace as one self-contained HTML file: the data as JSON in a non-executable script block,
 * the viewer's CSS and JS inline, and nothing loaded from anywhere (a Content-Security-Policy
 * allows only the viewer's own script, by hash). The viewer builds its DOM with textContent.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TraceData } from './data.js';
import { toJsonValue } from './json.js';
import { buildModel } from './model.js';
import { VIEWER_SCRIPT } from './viewer-script.js';
import { VIEWER_STYLE } from './viewer-style.js';

export type HtmlOptions = {
  /** The page title; default `raft-harness trace (seed N)`. */
  readonly title?: string;
};

/**
 * JSON that can sit inside a `<script>` element: no `<`, `>` or `&` (so no `</script>` and no
 * `<!--`), and no U+2028/U+2029 (line terminators in older JS). All become \u escapes, which
 * JSON.parse reads back as the same characters.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? 'null';
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text for an HTML text node or a double-quoted attribute value. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A single HTML file showing the trace: lanes over virtual time, messages, faults, client operations and the verdict. */
export function toHtml(data: TraceData, options: HtmlOptions = {}): string {
  const payload = { data: toJsonValue(data), model: buildModel(data) };
  const title = options.title ?? `raft-harness trace (seed ${data.seed})`;
  const scriptHash = createHash('sha256').update(VIEWER_SCRIPT, 'utf8').digest('base64');
  const csp = `default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${VIEWER_STYLE}</style>
</head>
<body>
<header id="banner" class="verdict-none">
  <div id="verdict" role="status"></div>
  <div id="summary"></div>
</header>
<div id="toolbar">
  <div class="zoom">
    <button type="button" id="zoom-out" title="Zoom out (Ctrl + wheel)">−</button>
    <button type="button" id="zoom-in" title="Zoom in (Ctrl + wheel)">+</button>
    <button type="button" id="zoom-fit" title="Fit the whole trace">Fit</button>
    <span id="scale"></span>
    <span id="cursor"></span>
  </div>
  <div id="legend"></div>
</div>
<main>
  <section id="timeline">
    <div id="chart-area">
      <div id="labels"></div>
      <div id="scroller"><svg id="chart" role="img" aria-label="Trace timeline"></svg></div>
    </div>
    <h2>Client operations</h2>
    <table id="ops"><thead><tr><th>client</th><th>operation</th><th>call</th><th>return</th><th>took</th><th>result</th></tr></thead><tbody></tbody></table>
  </section>
  <aside id="details"><p class="hint">Click an event, an arrow, a role band or an operation to see everything recorded about it.</p></aside>
</main>
<noscript>This trace viewer needs JavaScript; the trace itself is in the JSON block of this file.</noscript>
<script type="application/json" id="trace-data">${jsonForScript(payload)}</script>
<script>${VIEWER_SCRIPT}</script>
</body>
</html>
`;
}

/** Writes `toHtml(data)` to `path`, creating its directory. Returns the path. */
export function saveHtml(data: TraceData, path: string, options: HtmlOptions = {}): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, toHtml(data, options));
  return path;
}
