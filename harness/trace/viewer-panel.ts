/**
 * The second half of the viewer script (see viewer-script.ts, whose scope it shares): the details
 * panel, the client operations table, selection, zooming, and the start-up.
 */
export const VIEWER_PANEL = String.raw`
// ------------------------------------------------------------------ details
var details = document.getElementById('details');
function laneName(id) { return id === '*' ? 'the whole cluster' : id; }
function section(title) { h('h4', '', details, title); }
function kv(rows) {
  var table = h('table', '', details);
  rows.forEach(function (r) { var tr = h('tr', '', table); h('th', '', tr, r[0]); h('td', '', tr, show(r[1])); });
}
function entryRows(e) {
  var rows = [['time', ms(e.time)], ['node', e.node], ['type', e.type]];
  Object.keys(e).sort().forEach(function (k) { if (k !== 'time' && k !== 'node' && k !== 'type') rows.push([k, e[k]]); });
  return rows;
}
function links(items) {
  var ul = h('ul', '', details);
  items.forEach(function (it) {
    var li = h('li', it[2] ? 'current' : '', ul, it[0]);
    li.addEventListener('click', function () { select(it[1]); });
  });
}
function title(text, sub) {
  details.textContent = '';
  h('h3', '', details, text);
  if (sub) h('div', 'sub', details, sub);
}
function sameInstant(time, current) {
  var items = [], more = 0;
  trace.forEach(function (e, i) {
    if (e.time !== time) return;
    if (items.length < 80) items.push([e.node + ' ' + e.type + ' ' + fieldsText(e), 'e:' + i, i === current]);
    else more++;
  });
  section('Everything at ' + ms(time));
  links(items);
  if (more) h('div', 'sub', details, '… and ' + more + ' more');
}
function lasted(from, to) { return ms(Math.round((to - from) * 1000) / 1000); }

function select(key) {
  selected = key;
  highlight(key);
  var kind = key.charAt(0), i = Number(key.slice(2));
  if (kind === 'e') {
    var e = trace[i];
    title(e.type, 'on ' + laneName(e.node) + ' at ' + ms(e.time) + ' · trace entry #' + i);
    kv(entryRows(e));
    if (arrowOfEntry[i] !== undefined) {
      var a0 = model.arrows[arrowOfEntry[i]];
      section('Message');
      links([[a0.type + ' ' + model.lanes[a0.from].label + ' → ' + model.lanes[a0.to].label + ' (' + a0.outcome + ')', 'a:' + arrowOfEntry[i], false]]);
    }
    sameInstant(e.time, i);
  } else if (kind === 'a') {
    var a = model.arrows[i];
    title(a.type, model.lanes[a.from].label + ' → ' + model.lanes[a.to].label + ' · ' + a.outcome);
    var ended = { delivered: 'delivered', dropped: 'dropped', lost: 'lost', 'in-flight': 'trace ends', unrecorded: 'arrived' }[a.outcome];
    kv([['outcome', a.outcome], ['sent', a.send === null ? 'not recorded' : ms(a.sentAt)], [ended, a.outcome === 'unrecorded' && a.end === null ? 'not recorded' : ms(a.endAt)],
      ['in transit', a.send === null || a.end === null ? 'unknown' : lasted(a.sentAt, a.endAt)]]);
    if (a.send !== null) { section('Send · entry #' + a.send); kv(entryRows(trace[a.send])); }
    if (a.end !== null && a.end !== a.send) { section(a.outcome + ' · entry #' + a.end); kv(entryRows(trace[a.end])); }
    h('p', 'hint', details, 'The trace has no message ids: a delivery is paired with the first unmatched send of its type on its link.');
    sameInstant(a.sentAt, a.send === null ? -1 : a.send);
  } else if (kind === 'b') {
    var b = model.bands[i], node = model.lanes[b.lane].label;
    title(b.role + ' · term ' + b.term, node + ' from ' + ms(b.start) + ' to ' + ms(b.end));
    kv([['node', node], ['role', b.role], ['term', b.term], ['from', ms(b.start)], ['until', ms(b.end) + (b.end === model.end ? ' (end of trace)' : '')], ['lasted', lasted(b.start, b.end)]]);
    if (b.entry !== null) { section('Began with · entry #' + b.entry); kv(entryRows(trace[b.entry])); }
    sameInstant(b.start, b.entry === null ? -1 : b.entry);
  } else if (kind === 'p') {
    var p = model.periods[i];
    title(p.label, ms(p.start) + ' – ' + ms(p.end));
    kv([['kind', p.kind], ['from', ms(p.start)], ['until', ms(p.end) + (p.endEntry === null && p.end === model.end ? ' (end of trace)' : '')], ['lasted', lasted(p.start, p.end)],
      ['lanes', p.lanes.map(function (l) { return model.lanes[l].label; }).join(', ')]]);
    section('Began with · entry #' + p.entry); kv(entryRows(trace[p.entry]));
    if (p.endEntry !== null) { section('Ended with · entry #' + p.endEntry); kv(entryRows(trace[p.endEntry])); }
  } else if (kind === 'o') {
    var o = model.ops[i], op = data.history[o.op];
    title(op.client + ': ' + o.label, o.status === 'pending' ? 'no reply: pending or timed out' : o.result);
    kv([['client', op.client], ['input', op.input], ['output', Object.prototype.hasOwnProperty.call(op, 'output') ? op.output : '(none)'], ['call', ms(op.call)],
      ['return', op.return === undefined ? 'never' : ms(op.return)], ['took', op.return === undefined ? '—' : lasted(op.call, op.return)], ['status', o.status]]);
  }
}

function highlight(key) {
  Array.prototype.forEach.call(document.querySelectorAll('.selected'), function (n) { n.classList.remove('selected'); });
  var found = svg.querySelector('[data-k="' + key + '"]');
  if (found) found.classList.add('selected');
  var row = document.querySelector('#ops tr[data-k="' + key + '"]');
  if (row) row.classList.add('selected');
}

svg.addEventListener('click', function (ev) {
  var target = ev.target instanceof Element ? ev.target.closest('[data-k]') : null;
  if (target) select(target.getAttribute('data-k'));
});

// ------------------------------------------------------------------ client operations
(function opsTable() {
  var body = document.querySelector('#ops tbody');
  if (model.ops.length === 0) { var td = h('td', 'empty', h('tr', '', body), 'No client operations.'); td.colSpan = 6; return; }
  model.ops.forEach(function (o, i) {
    var op = data.history[o.op], tr = h('tr', '', body);
    tr.setAttribute('data-k', 'o:' + i);
    h('td', '', tr, op.client); h('td', '', tr, o.label); h('td', '', tr, ms(op.call));
    h('td', '', tr, op.return === undefined ? '—' : ms(op.return));
    h('td', '', tr, op.return === undefined ? '—' : lasted(op.call, op.return));
    h('td', 'status-' + o.status, tr, o.result);
    tr.addEventListener('click', function () { select('o:' + i); });
  });
})();

// ------------------------------------------------------------------ zoom
var scroller = document.getElementById('scroller');
var fitted = true;
function fitScale() { return Math.max(100, scroller.clientWidth - 2 * PAD - 2) / Math.max(model.end, 1); }
function zoomTo(next, anchor) {
  var t = (scroller.scrollLeft + anchor - PAD) / scale;
  scale = Math.min(400, Math.max(Math.min(fitScale(), 0.001), next));
  fitted = false;
  render();
  scroller.scrollLeft = Math.max(0, t * scale + PAD - anchor);
}
document.getElementById('zoom-in').addEventListener('click', function () { zoomTo(scale * 1.6, scroller.clientWidth / 2); });
document.getElementById('zoom-out').addEventListener('click', function () { zoomTo(scale / 1.6, scroller.clientWidth / 2); });
document.getElementById('zoom-fit').addEventListener('click', function () { scale = fitScale(); fitted = true; render(); scroller.scrollLeft = 0; });
scroller.addEventListener('wheel', function (ev) {
  if (!ev.ctrlKey && !ev.metaKey) return;
  ev.preventDefault();
  zoomTo(scale * (ev.deltaY < 0 ? 1.25 : 0.8), ev.clientX - scroller.getBoundingClientRect().left);
}, { passive: false });
svg.addEventListener('mousemove', function (ev) {
  var t = (ev.clientX - svg.getBoundingClientRect().left - PAD) / scale;
  document.getElementById('cursor').textContent = t >= 0 && t <= model.end ? 't = ' + (Math.round(t * 10) / 10) + ' ms' : '';
});
window.addEventListener('resize', function () { if (fitted) { scale = fitScale(); render(); } });

drawLabels();
scale = fitScale();
render();
// For tests and the console: select('e:12' | 'a:3' | 'b:0' | 'p:1' | 'o:0'), zoom(px per ms), scrollTo(ms).
window.traceViewer = {
  select: select, model: model, data: data,
  zoom: function (s) { zoomTo(s, 0); },
  scrollTo: function (t) { scroller.scrollLeft = Math.max(0, X(t) - scroller.clientWidth / 4); }
};
})();
`;
