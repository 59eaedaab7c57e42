/**
 * The trace viewer, as the source of one inline script (plain browser JS, no imports). It reads the
 * JSON block `#trace-data` ({ data, model }, see model.ts) and draws the timeline as SVG. Every
 * piece of trace data reaches the page through textContent or setAttribute, never as markup.
 * This part draws the header, legend and chart; viewer-panel.ts has the details panel, the
 * operations table and zooming, and closes the function.
 */
import { VIEWER_PANEL } from './viewer-panel.js';

export const VIEWER_SCRIPT = String.raw`(function () {
'use strict';
var payload = JSON.parse(document.getElementById('trace-data').textContent);
var data = payload.data, model = payload.model;
var svg = document.getElementById('chart');
var NS = svg.namespaceURI;
var AXIS = 30, PAD = 24, HEIGHT = { cluster: 30, node: 58, client: 44 };
var MESSAGE_COLORS = { PreVote: '#b8860b', PreVoteReply: '#dcb84a', RequestVote: '#d9480f', RequestVoteReply: '#f08c5a',
  AppendEntries: '#1c64c8', AppendEntriesReply: '#7aaee8', ClientRequest: '#8e44ad', ClientReply: '#c39bd3' };
var PALETTE = ['#0f9d8a', '#c2185b', '#5d4037', '#546e7a', '#7cb342', '#6a1b9a', '#00838f', '#ef6c00'];
var ROLE_COLORS = { follower: 'var(--follower)', precandidate: 'var(--precandidate)', candidate: 'var(--candidate)', leader: 'var(--leader)' };
var PERIODS = { crashed: ['#3a3f4b', 0.55, 'crashed'], paused: ['#3b7dd8', 0.22, 'paused'], stalled: ['#e0a100', 0.28, 'stalled'],
  isolated: ['#8e44ad', 0.2, 'isolated'], partition: ['#8e44ad', 0.16, 'partitioned'] };
var MARKS = { timer: ['tick', '#9aa3b2', 'timer fired'], vote: ['text:v', '#444', 'vote'], commit: ['tri', '#1f8a4c', 'commit'],
  apply: ['dot', '#14532d', 'apply'], truncate: ['text:T', '#c62828', 'truncate'], crash: ['cross', '#c62828', 'crash'],
  start: ['play', '#1f8a4c', 'start'], restart: ['play', '#1f8a4c', 'restart'], pause: ['text:‖', '#3b7dd8', 'pause / resume'],
  resume: ['text:‖', '#3b7dd8', ''], stall: ['text:z', '#b7791f', 'stall'], trigger: ['diamond', '#ef6c00', 'trigger'],
  isolate: ['diamond', '#8e44ad', 'isolate / connect'], connect: ['diamond', '#8e44ad', ''], partition: ['diamond', '#8e44ad', 'partition / heal'],
  heal: ['diamond', '#1f8a4c', ''] };
/** Lookups by names from the trace go through own(): a type named 'constructor' is just a name. */
function own(o, k) { return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined; }
var colors = Object.create(null);
model.messageTypes.forEach(function (t, i) { colors[t] = own(MESSAGE_COLORS, t) || PALETTE[i % PALETTE.length]; });
var hidden = Object.create(null);
var scale = 1, selected = null;
var laneTop = [], y = AXIS;
model.lanes.forEach(function (l, i) { laneTop[i] = y; y += HEIGHT[l.kind] || 44; });
var chartHeight = y + 6;
var arrowOfEntry = {};
model.arrows.forEach(function (a, i) { if (a.send !== null) arrowOfEntry[a.send] = i; if (a.end !== null) arrowOfEntry[a.end] = i; });
var trace = data.trace;

function el(name, attrs, parent, text) {
  var e = document.createElementNS(NS, name);
  for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function h(name, cls, parent, text) {
  var e = document.createElement(name);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function X(t) { return PAD + t * scale; }
function mid(lane) { return laneTop[lane] + (HEIGHT[model.lanes[lane].kind] || 44) / 2; }
// Arrows leave and reach a lane at the edge of its band (or client box), so labels stay readable.
function edge(lane, other) {
  var kind = model.lanes[lane].kind, top = laneTop[lane] + (kind === 'client' ? 10 : 14), bottom = top + (kind === 'client' ? 24 : 22);
  if (kind === 'cluster' || lane === other) return mid(lane);
  return other > lane ? bottom : top;
}
function show(v) {
  if (typeof v === 'string') return v;
  if (v === undefined) return 'undefined';
  return JSON.stringify(v, null, 1);
}
function ms(t) { return (Math.round(t * 1000) / 1000) + ' ms'; }
/** A label cut to what fits in px (about 6.6 px a character at 11px), or '' if almost nothing does. */
function fitText(text, px) {
  var n = Math.floor((px - 8) / 6.6);
  if (n < 3) return '';
  return text.length <= n ? text : text.slice(0, n - 1) + '…';
}
function fieldsText(e) {
  return Object.keys(e).filter(function (k) { return k !== 'time' && k !== 'node' && k !== 'type'; })
    .map(function (k) { var v = e[k]; return k + '=' + (typeof v === 'string' ? v : JSON.stringify(v)); }).join(' ');
}

// ------------------------------------------------------------------ header and legend
(function header() {
  var v = data.verdict;
  var banner = document.getElementById('banner'), verdict = document.getElementById('verdict');
  var result = v ? v.result : 'none';
  banner.className = 'verdict-' + (['ok', 'violation', 'unknown'].indexOf(result) >= 0 ? result : 'none');
  var words = { ok: '✓ Verdict: OK', violation: '✗ Verdict: VIOLATION', unknown: '? Verdict: unknown', none: 'No verdict' };
  verdict.textContent = own(words, result) || ('Verdict: ' + result);
  if (v && v.detail !== undefined) h('span', 'detail', verdict, v.detail);
  document.getElementById('summary').textContent = 'seed ' + data.seed + ' · nodes ' + data.ids.join(', ') + ' · ' +
    trace.length + ' trace entries · ' + data.history.length + ' client operations · 0–' + model.end + ' virtual ms';
  var legend = document.getElementById('legend');
  var roles = h('div', 'group', legend); h('span', 'title', roles, 'Roles');
  ['follower', 'precandidate', 'candidate', 'leader'].forEach(function (r) {
    var it = h('span', 'item', roles); var sw = h('span', 'swatch', it); sw.style.background = ROLE_COLORS[r]; h('span', '', it, r);
  });
  ['crashed', 'paused', 'stalled', 'partition'].forEach(function (p) {
    var it = h('span', 'item', roles); var sw = h('span', 'swatch', it); sw.style.background = PERIODS[p][0]; sw.style.opacity = String(Math.min(1, PERIODS[p][1] * 2)); h('span', '', it, PERIODS[p][2]);
  });
  if (model.messageTypes.length) {
    var msgs = h('div', 'group', legend); h('span', 'title', msgs, 'Messages');
    model.messageTypes.forEach(function (t) {
      var lab = h('label', '', msgs); var box = h('input', '', lab); box.type = 'checkbox'; box.checked = true;
      box.addEventListener('change', function () { hidden[t] = !box.checked; render(); });
      var line = h('span', 'line', lab); line.style.borderTopColor = colors[t]; h('span', '', lab, t);
    });
    var marks = h('div', 'group', legend); h('span', 'title', marks, 'Marks');
    [['✕', '#c62828', 'dropped / lost'], ['┅', '#6b7383', 'in flight']].forEach(function (m) {
      var it = h('span', 'item', marks); var s = h('span', 'sym', it, m[0]); s.style.color = m[1]; h('span', '', it, m[2]);
    });
  }
  var seen = Object.create(null);
  model.marks.forEach(function (m) { seen[m.kind] = true; });
  var markGroup = null;
  Object.keys(MARKS).forEach(function (k) {
    if (!seen[k] || !MARKS[k][2]) return;
    if (!markGroup) { markGroup = h('div', 'group', legend); h('span', 'title', markGroup, 'Events'); }
    var it = h('span', 'item', markGroup); var s = el('svg', { width: 14, height: 14 }, it); drawMark(s, MARKS[k], 7, 7); h('span', '', it, MARKS[k][2]);
  });
})();

// ------------------------------------------------------------------ the chart
function drawMark(parent, spec, x, cy) {
  var shape = spec[0], c = spec[1];
  if (shape === 'tick') return el('line', { x1: x, x2: x, y1: cy - 4, y2: cy + 4, stroke: c, 'stroke-width': 1.5 }, parent);
  if (shape === 'dot') return el('circle', { cx: x, cy: cy, r: 2.5, fill: c }, parent);
  if (shape === 'tri') return el('path', { d: 'M' + (x - 4) + ' ' + (cy + 3) + 'L' + (x + 4) + ' ' + (cy + 3) + 'L' + x + ' ' + (cy - 4) + 'Z', fill: c }, parent);
  if (shape === 'play') return el('path', { d: 'M' + (x - 3) + ' ' + (cy - 6) + 'L' + (x + 6) + ' ' + cy + 'L' + (x - 3) + ' ' + (cy + 6) + 'Z', fill: c }, parent);
  if (shape === 'diamond') return el('path', { d: 'M' + x + ' ' + (cy - 6) + 'L' + (x + 6) + ' ' + cy + 'L' + x + ' ' + (cy + 6) + 'L' + (x - 6) + ' ' + cy + 'Z', fill: c }, parent);
  if (shape === 'cross') return el('path', { d: 'M' + (x - 6) + ' ' + (cy - 6) + 'L' + (x + 6) + ' ' + (cy + 6) + 'M' + (x + 6) + ' ' + (cy - 6) + 'L' + (x - 6) + ' ' + (cy + 6), stroke: c, 'stroke-width': 3, 'stroke-linecap': 'round' }, parent);
  var g = el('g', {}, parent);
  el('circle', { cx: x, cy: cy, r: 6, fill: '#fff', stroke: c }, g);
  el('text', { x: x, y: cy + 3.5, 'text-anchor': 'middle', fill: c, class: 'glyph' }, g, shape.indexOf('text:') === 0 ? shape.slice(5) : '?');
  return g;
}

function drawLabels() {
  var labels = document.getElementById('labels');
  labels.textContent = '';
  var spacer = h('div', 'axis-spacer', labels, 'virtual ms'); spacer.style.height = AXIS + 'px';
  model.lanes.forEach(function (l, i) {
    var d = h('div', 'lane-label lane-' + l.kind, labels);
    d.style.height = (HEIGHT[l.kind] || 44) + 'px';
    d.setAttribute('data-lane', String(i));
    h('span', 'name', d, l.label).title = l.label;
    h('span', 'kind', d, l.kind === 'cluster' ? 'partitions, heals' : l.kind);
  });
}

function niceStep(minMs) {
  var p = Math.pow(10, Math.floor(Math.log10(Math.max(minMs, 1e-3))));
  var steps = [1, 2, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * p >= minMs) return steps[i] * p;
  return 10 * p;
}

function render() {
  var width = Math.ceil(X(model.end) + PAD);
  svg.textContent = '';
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(chartHeight));
  var defs = el('defs', {}, svg);
  model.messageTypes.forEach(function (t, i) {
    var m = el('marker', { id: 'head' + i, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0 0L10 5L0 10Z', fill: colors[t] }, m);
  });
  Object.keys(PERIODS).forEach(function (k) {
    var p = el('pattern', { id: 'hatch-' + k, width: 8, height: 8, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs);
    el('rect', { width: 8, height: 8, fill: PERIODS[k][0], 'fill-opacity': PERIODS[k][1] * 0.6 }, p);
    el('line', { x1: 0, y1: 0, x2: 0, y2: 8, stroke: PERIODS[k][0], 'stroke-width': 3, 'stroke-opacity': PERIODS[k][1] * 1.6 }, p);
  });
  // lanes and the time axis
  var grid = el('g', { class: 'grid' }, svg);
  model.lanes.forEach(function (l, i) {
    el('rect', { x: 0, y: laneTop[i], width: width, height: HEIGHT[l.kind] || 44, fill: i % 2 ? '#fbfcfd' : '#ffffff', class: 'lane', 'data-lane': i }, grid);
    el('line', { x1: 0, x2: width, y1: laneTop[i] + (HEIGHT[l.kind] || 44) - 0.5, y2: laneTop[i] + (HEIGHT[l.kind] || 44) - 0.5, stroke: '#eef0f3' }, grid);
  });
  var step = niceStep(80 / scale);
  for (var t = 0; t <= model.end + step / 2; t += step) {
    var tk = el('g', { class: 'tick' }, grid);
    el('line', { x1: X(t), x2: X(t), y1: AXIS - 6, y2: chartHeight, stroke: '#e8ebf0' }, tk);
    el('text', { x: X(t), y: AXIS - 10, 'text-anchor': 'middle' }, tk, String(Math.round(t * 1000) / 1000));
  }
  // periods: crashes, pauses, stalls, isolation, partitions
  model.periods.forEach(function (p, i) {
    var g = el('g', { class: 'period period-' + p.kind, 'data-k': 'p:' + i }, svg);
    el('title', {}, g, p.label + ' (' + p.start + '–' + p.end + ' ms)');
    var w = Math.max(2, X(p.end) - X(p.start));
    p.lanes.forEach(function (l) {
      el('rect', { x: X(p.start), y: laneTop[l] + 1, width: w, height: (HEIGHT[model.lanes[l].kind] || 44) - 2, fill: 'url(#hatch-' + p.kind + ')' }, g);
    });
    if (p.kind === 'partition' || p.kind === 'isolated') {
      el('rect', { x: X(p.start), y: laneTop[0] + 5, width: w, height: 20, rx: 3, fill: PERIODS[p.kind][0], 'fill-opacity': 0.2, stroke: PERIODS[p.kind][0], 'stroke-opacity': 0.5 }, g);
      var pl = fitText(p.label, w);
      if (pl) el('text', { x: X(p.start) + 5, y: laneTop[0] + 19 }, g, pl);
    }
  });
  // role bands with their terms
  model.bands.forEach(function (b, i) {
    var top = laneTop[b.lane] + 14, w = Math.max(1, X(b.end) - X(b.start));
    var g = el('g', { class: 'band role-' + String(b.role).replace(/[^a-z-]/gi, ''), 'data-k': 'b:' + i }, svg);
    el('title', {}, g, b.role + ', term ' + b.term + ' (' + b.start + '–' + b.end + ' ms)');
    el('rect', { x: X(b.start), y: top, width: w, height: 22, rx: 2, fill: own(ROLE_COLORS, b.role) || '#cccccc', stroke: 'rgba(0,0,0,.18)' }, g);
    var label = [b.role + ' · t' + b.term, b.role + ' t' + b.term, 't' + b.term].filter(function (l) { return fitText(l, w + 6) === l; })[0] || '';
    if (label) el('text', { x: X(b.start) + 4, y: top + 15 }, g, label);
  });
  // client operations
  model.ops.forEach(function (o, i) {
    var top = laneTop[o.lane] + 10, end = o.return === null ? model.end : o.return, w = Math.max(3, X(end) - X(o.call));
    var g = el('g', { class: 'op op-' + o.status, 'data-k': 'o:' + i }, svg);
    el('title', {}, g, o.label + ' → ' + o.result);
    var c = o.status === 'ok' ? '#1f8a4c' : o.status === 'error' ? '#b7791f' : '#8a93a3';
    el('rect', { x: X(o.call), y: top, width: w, height: 24, rx: 4, fill: c, 'fill-opacity': 0.18, stroke: c, 'stroke-dasharray': o.status === 'pending' ? '4 3' : 'none' }, g);
    var ol = fitText(o.label + ' → ' + o.result, w);
    if (ol) el('text', { x: X(o.call) + 5, y: top + 16 }, g, ol);
  });
  // messages
  var arrows = el('g', { class: 'arrows' }, svg);
  model.arrows.forEach(function (a, i) {
    if (hidden[a.type]) return;
    var x1 = X(a.sentAt), y1 = edge(a.from, a.to), x2 = X(a.endAt), y2 = edge(a.to, a.from), c = colors[a.type];
    var cut = a.outcome === 'dropped' || a.outcome === 'in-flight';
    if (cut) { y2 = y1 + (y2 - y1) * 0.5; if (a.outcome === 'in-flight') x2 = Math.max(x1 + 8, x2); else x2 = Math.max(x2, x1 + 4); }
    var g = el('g', { class: 'arrow outcome-' + a.outcome, 'data-k': 'a:' + i, 'data-type': a.type }, arrows);
    el('title', {}, g, a.type + ' ' + model.lanes[a.from].label + ' → ' + model.lanes[a.to].label + ' (' + a.outcome + ')');
    var attrs = { x1: x1, y1: y1, x2: x2, y2: y2, stroke: c, 'stroke-width': /Reply$/.test(a.type) ? 1.1 : 1.6 };
    if (a.outcome !== 'delivered') attrs['stroke-dasharray'] = a.outcome === 'unrecorded' ? '2 2' : '5 3';
    if (a.outcome === 'delivered' || a.outcome === 'unrecorded') attrs['marker-end'] = 'url(#head' + model.messageTypes.indexOf(a.type) + ')';
    el('line', attrs, g);
    if (a.outcome === 'dropped' || a.outcome === 'lost') drawMark(g, ['cross', '#c62828'], x2, y2).setAttribute('transform', 'translate(' + x2 + ' ' + y2 + ') scale(0.55) translate(' + (-x2) + ' ' + (-y2) + ')');
    el('line', { x1: x1, y1: y1, x2: x2, y2: y2, class: 'arrow-hit' }, g);
  });
  // point events
  var marks = el('g', { class: 'marks' }, svg);
  model.marks.forEach(function (m) {
    var spec = own(MARKS, m.kind) || ['text:?', '#c2185b', m.kind];
    var kind = model.lanes[m.lane].kind, top = laneTop[m.lane], hh = HEIGHT[kind] || 44;
    var cy = kind === 'cluster' ? top + hh / 2 : spec[0] === 'cross' || spec[0] === 'play' ? top + 25 : top + hh - 9;
    if (m.kind === 'timer') cy = top + hh - 7;
    var g = el('g', { class: 'mark kind-' + String(m.kind).replace(/[^a-z-]/gi, ''), 'data-k': 'e:' + m.entry }, marks);
    var e = trace[m.entry];
    el('title', {}, g, e.type + ' @' + e.time + ' ms ' + fieldsText(e));
    drawMark(g, spec, X(m.time), cy);
  });
  if (selected) highlight(selected);
  document.getElementById('scale').textContent = (scale >= 1 ? scale.toFixed(scale >= 10 ? 0 : 1) + ' px/ms' : (1 / scale).toFixed(1) + ' ms/px');
}
` + VIEWER_PANEL;
