/** The trace viewer's stylesheet, inlined into the HTML export. */
export const VIEWER_STYLE = `
:root {
  --bg: #f7f8fa; --panel: #ffffff; --ink: #1d2330; --muted: #6b7383; --line: #dde1e8;
  --follower: #dfe6ee; --precandidate: #f6d86b; --candidate: #f39a55; --leader: #3da35d;
  --ok: #1f8a4c; --violation: #c62828; --unknown: #b7791f; --none: #5c6575;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; min-width: 720px; }
#banner { display: flex; align-items: center; gap: 16px; padding: 10px 16px; color: #fff; background: var(--none); }
#banner.verdict-ok { background: var(--ok); }
#banner.verdict-violation { background: var(--violation); }
#banner.verdict-unknown { background: var(--unknown); }
#verdict { font-weight: 700; font-size: 15px; white-space: nowrap; }
#verdict .detail { font-weight: 400; margin-left: 8px; }
#summary { opacity: .92; overflow-wrap: anywhere; }
#toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px; padding: 8px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
.zoom { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
.zoom button { min-width: 30px; height: 26px; border: 1px solid var(--line); background: #fff; border-radius: 5px; cursor: pointer; font: inherit; }
.zoom button:hover { background: #eef1f5; }
#scale, #cursor { color: var(--muted); font-variant-numeric: tabular-nums; min-width: 90px; }
#legend { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
#legend .group { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; }
#legend .title { color: var(--muted); font-weight: 600; }
#legend label, #legend .item { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap; cursor: default; }
#legend label { cursor: pointer; }
#legend .swatch { width: 18px; height: 11px; border-radius: 2px; border: 1px solid rgba(0,0,0,.15); display: inline-block; }
#legend .line { width: 20px; height: 0; border-top: 3px solid; display: inline-block; }
#legend .sym { width: 14px; text-align: center; font-weight: 700; display: inline-block; }
main { display: flex; align-items: flex-start; gap: 0; }
#timeline { flex: 1 1 auto; min-width: 0; padding: 12px 0 24px 16px; }
#chart-area { display: flex; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
#labels { flex: 0 0 auto; width: 116px; border-right: 1px solid var(--line); background: #fbfcfd; }
#labels .lane-label { display: flex; flex-direction: column; justify-content: center; padding: 0 8px; border-bottom: 1px solid #eef0f3; overflow: hidden; }
#labels .lane-label .name { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#labels .lane-label .kind { color: var(--muted); font-size: 11px; }
#labels .axis-spacer { border-bottom: 1px solid var(--line); color: var(--muted); font-size: 11px; padding: 6px 8px; }
#scroller { flex: 1 1 auto; overflow-x: auto; overflow-y: hidden; }
#chart { display: block; }
#chart text { font-size: 11px; pointer-events: none; }
#chart text.glyph { font-size: 9px; font-weight: 700; }
#chart .tick text { fill: var(--muted); }
#chart .band text { font-weight: 600; }
#chart .band.role-leader text { fill: #fff; }
#chart [data-k] { cursor: pointer; }
#chart .arrow-hit { stroke: transparent; stroke-width: 9; fill: none; }
#chart .arrow.dimmed { opacity: .12; }
#chart .selected { filter: drop-shadow(0 0 2px #000); }
#chart .arrow.selected line, #chart .arrow.selected path { stroke-width: 3; }
h2 { font-size: 14px; margin: 18px 0 6px; }
#ops { display: block; width: fit-content; max-width: 100%; overflow-x: auto; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); }
#ops th, #ops td { max-width: 360px; }
#ops th, #ops td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eef0f3; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#ops th { color: var(--muted); font-weight: 600; background: #fbfcfd; }
#ops tbody tr { cursor: pointer; }
#ops tbody tr:hover { background: #f1f5fb; }
#ops tbody tr.selected { background: #e3ebf8; }
#ops .status-ok { color: var(--ok); }
#ops .status-error { color: var(--unknown); }
#ops .status-pending { color: var(--muted); font-style: italic; }
#ops .empty { color: var(--muted); font-style: italic; cursor: default; }
#details { flex: 0 0 360px; align-self: stretch; min-height: calc(100vh - 100px); padding: 12px 16px; margin: 12px 16px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; overflow-wrap: anywhere; }
#details h3 { margin: 0 0 2px; font-size: 15px; }
#details .sub { color: var(--muted); margin-bottom: 10px; }
#details h4 { margin: 14px 0 4px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
#details table { border-collapse: collapse; width: 100%; }
#details th { text-align: left; vertical-align: top; color: var(--muted); font-weight: 500; padding: 2px 8px 2px 0; white-space: nowrap; width: 1%; }
#details td { padding: 2px 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; }
#details .hint { color: var(--muted); }
#details ul { list-style: none; padding: 0; margin: 0; }
#details li { padding: 2px 4px; border-radius: 4px; cursor: pointer; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
#details li:hover { background: #eef3fb; }
#details li.current { background: #e3ebf8; font-weight: 600; }
`;
