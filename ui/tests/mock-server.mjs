#!/usr/bin/env node
// A tiny stand-in for `sunward serve`, implementing the contract of docs/architecture.md, for
// UI development (`npm run mock`, then `npm run dev`) and for running the e2e suite without the
// Rust build (`SUNWARD_E2E_MOCK=1 npm run e2e`). The real e2e target is `sunward serve`.
//
//   node tests/mock-server.mjs serve [--listen 127.0.0.1:7878] [--db IGNORED] [--demo]
//   env: SUNWARD_TOKEN (default "dev"), SUNWARD_UI_DIR (default ./dist)
//
// Memory only. Not a reference implementation: where it and the Rust server differ, Rust wins.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const listen = opt('--listen', '127.0.0.1:7878');
const demo = args.includes('--demo');
const token = process.env.SUNWARD_TOKEN ?? 'dev';
const here = fileURLToPath(new URL('.', import.meta.url));
const uiDir = resolve(process.env.SUNWARD_UI_DIR ?? join(here, '..', 'dist'));
const MIN = 60_000;

// ---- store --------------------------------------------------------------------------------
const mentions = []; // StoredMention, insertion order
const keys = new Set();
const rejects = [];
let nextId = 1;

const NEG = /\b(bad|broken|down|outage|angry|hate|worst|refund|slow|fail\w*|error|crash\w*|never|cancel\w*)\b/gi;
const POS = /\b(love|great|thanks?|awesome|fast|fixed|best|happy|amazing|perfect|helpful)\b/gi;

function enrich(m) {
  const neg = (m.text.match(NEG) ?? []).length;
  const pos = (m.text.match(POS) ?? []).length;
  const score = Math.max(-1, Math.min(1, (pos - neg) / 2));
  const label = score <= -0.25 ? 'negative' : score >= 0.25 ? 'positive' : 'neutral';
  return { ...m, id: nextId++, sentiment: score, label, influence: Math.min(100, Math.round(Math.log10((m.author?.followers ?? 10) + 1) * 14)) };
}

function parseTime(v) {
  if (typeof v === 'number') return v;
  const t = Date.parse(String(v));
  return Number.isFinite(t) ? t : NaN;
}

/** One NDJSON record -> stored mention, or a reject reason. */
function ingestRecord(rec, line) {
  const created = parseTime(rec.created_at);
  const now = Date.now();
  const fail = (reason, detail) => {
    rejects.push({ id: rejects.length + 1, source: String(rec.source ?? 'http'), line, reason, detail, at: now });
    return 'rejected';
  };
  if (typeof rec.text !== 'string' || !rec.text) return fail('missing_text', 'text is required');
  if (!Number.isFinite(created)) return fail('bad_time', `created_at: ${String(rec.created_at).slice(0, 60)}`);
  if (created > now + 10 * MIN) return fail('future_time', new Date(created).toISOString());
  const source = String(rec.source ?? 'http');
  const sourceId = String(rec.id ?? rec.source_id ?? `${now}-${Math.random()}`);
  const key = `${source}\u0000${sourceId}`;
  if (keys.has(key)) return 'duplicate';
  keys.add(key);
  const author = typeof rec.author === 'string' ? { handle: rec.author } : (rec.author ?? {});
  const m = enrich({
    source,
    source_id: sourceId,
    channel: String(rec.channel ?? source),
    created_at: created,
    text: rec.text,
    author,
    topics: Array.isArray(rec.topics) ? rec.topics.map(String) : [],
    lang: rec.lang,
  });
  mentions.push(m);
  return m;
}

function storeBatch(records) {
  const report = { read: 0, stored: 0, duplicates: 0, rejected: 0, reasons: {} };
  const stored = [];
  records.forEach((rec, i) => {
    report.read++;
    const r = ingestRecord(rec, i + 1);
    if (r === 'duplicate') report.duplicates++;
    else if (r === 'rejected') {
      report.rejected++;
      const reason = rejects.at(-1).reason;
      report.reasons[reason] = (report.reasons[reason] ?? 0) + 1;
    } else stored.push(r);
  });
  report.stored = stored.length;
  if (stored.length) {
    const latest = [...stored].sort((a, b) => b.created_at - a.created_at || b.id - a.id).slice(0, 20);
    publish({ type: 'mentions', count: stored.length, latest });
  }
  return report;
}

// ---- queries ------------------------------------------------------------------------------
function filtered(a) {
  return mentions.filter(
    (m) => (!a.topic || m.topics.includes(a.topic)) && (!a.channel || m.channel === a.channel),
  );
}

function window_(a) {
  const minutes = Math.max(1, Math.min(10080, Number(a.minutes ?? 60) | 0));
  const to = Math.floor(Date.now() / MIN) * MIN + MIN; // end of the current minute
  return { minutes, from: to - minutes * MIN, to };
}

function volume(a) {
  const { minutes, from, to } = window_(a);
  const series = Array.from({ length: minutes }, (_, i) => ({ t: from + i * MIN, total: 0, negative: 0, neutral: 0, positive: 0 }));
  const ch = new Map();
  const tp = new Map();
  for (const m of filtered(a)) {
    if (m.created_at < from || m.created_at >= to) continue;
    const p = series[Math.floor((m.created_at - from) / MIN)];
    p.total++;
    p[m.label]++;
    ch.set(m.channel, (ch.get(m.channel) ?? 0) + 1);
    for (const t of m.topics) tp.set(t, (tp.get(t) ?? 0) + 1);
  }
  // Same shape as the core's rollup::VolumeView: `name` rows and a `total` of the window.
  const sorted = (map) => [...map].sort((x, y) => y[1] - x[1]).map(([name, total]) => ({ name, total }));
  const total = { total: 0, negative: 0, neutral: 0, positive: 0 };
  for (const p of series) for (const k of Object.keys(total)) total[k] += p[k];
  return { from, to, total, series, by_channel: sorted(ch), by_topic: sorted(tp) };
}

function sentiment(a) {
  const v = volume(a);
  const sum = { negative: 0, neutral: 0, positive: 0 };
  for (const p of v.series) for (const k of Object.keys(sum)) sum[k] += p[k];
  const total = sum.negative + sum.neutral + sum.positive;
  const net = total ? ((sum.positive - sum.negative) / total) * 100 : 0;
  const shares = total ? { negative: sum.negative / total, neutral: sum.neutral / total, positive: sum.positive / total } : { negative: 0, neutral: 0, positive: 0 };
  const trend = v.series.map((p) => ({ t: p.t, total: p.total, net: p.total ? ((p.positive - p.negative) / p.total) * 100 : 0 }));
  return { total, net, shares, trend };
}

// ---- charts (the real ones come from plotters) -------------------------------------------
const esc = (s) => String(s).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function chart(a) {
  const width = Math.max(200, Math.min(4000, Number(a.width ?? 1200)));
  const height = Math.max(120, Math.min(3000, Number(a.height ?? 400)));
  const name = a.name ?? 'volume';
  let values;
  let times;
  let minY = 0;
  let maxY;
  if (name === 'sentiment') {
    const minutes = window_(a).minutes;
    const bucket = minutes > 180 ? 15 : 1; // smooth long windows
    const s = sentiment(a).trend;
    values = [];
    times = [];
    for (let i = 0; i < s.length; i += bucket) {
      const part = s.slice(i, i + bucket);
      const tot = part.reduce((x, p) => x + p.total, 0);
      values.push(tot ? part.reduce((x, p) => x + p.net * p.total, 0) / tot : 0);
      times.push(part[0].t);
    }
    minY = -100;
    maxY = 100;
  } else {
    const v = volume(a).series;
    values = v.map((p) => p.total);
    times = v.map((p) => p.t);
    maxY = Math.max(5, ...values) * 1.15;
  }
  const fs = Math.max(18, Math.round(height / 14));
  const L = fs * 3.2, R = fs, T = fs * 0.8, B = fs * 1.9;
  const w = width - L - R, h = height - T - B;
  const x = (i) => L + (values.length <= 1 ? 0 : (i / (values.length - 1)) * w);
  const y = (val) => T + h - ((val - minY) / (maxY - minY)) * h;
  const pts = values.map((val, i) => `${x(i).toFixed(1)},${y(val).toFixed(1)}`).join(' ');
  const color = name === 'sentiment' ? '#ffb020' : '#38c8ff';
  const grid = [];
  for (let k = 0; k <= 4; k++) {
    const val = minY + ((maxY - minY) * k) / 4;
    grid.push(`<line x1="${L}" x2="${L + w}" y1="${y(val)}" y2="${y(val)}" stroke="#1f2c3d" stroke-width="1"/>`);
    grid.push(`<text x="${L - fs * 0.4}" y="${y(val) + fs * 0.35}" text-anchor="end">${Math.round(val)}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const i = Math.round(((values.length - 1) * k) / 4);
    const d = new Date(times[i] ?? Date.now());
    const label = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    grid.push(`<text x="${x(i)}" y="${T + h + fs * 1.3}" text-anchor="middle">${esc(label)}</text>`);
  }
  const area = name === 'sentiment' ? '' : `<polygon points="${L},${T + h} ${pts} ${L + w},${T + h}" fill="${color}" fill-opacity="0.22"/>`;
  const zero = name === 'sentiment' ? `<line x1="${L}" x2="${L + w}" y1="${y(0)}" y2="${y(0)}" stroke="#9fb0c4" stroke-width="2"/>` : '';
  return {
    svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${fs}" fill="#9fb0c4">${grid.join('')}${zero}${area}<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="${Math.max(3, fs / 6)}" stroke-linejoin="round"/></svg>`,
  };
}

const profile = {
  name: 'mock',
  screens: [
    { index: 0, title: 'Volume', views: ['volume'], rotate_seconds: 0 },
    { index: 1, title: 'Mood', views: ['sentiment', 'stream'], rotate_seconds: 20 },
    { index: 2, title: 'Stream', views: ['stream'], rotate_seconds: 0 },
  ],
};

// Like the core's ViewArgs (serde deny_unknown_fields): an unknown argument is an error.
const KNOWN_ARGS = new Set(['minutes', 'topic', 'channel', 'limit', 'name', 'width', 'height', 'tz_offset_minutes']);

function dispatch(cmd, a) {
  for (const k of Object.keys(a)) {
    if (!KNOWN_ARGS.has(k)) throw Object.assign(new Error(`bad arguments: unknown field \`${k}\``), { status: 400 });
  }
  switch (cmd) {
    case 'health':
      return { ok: true, version: '0.0.0-mock', demo, mentions: mentions.length, now: Date.now() };
    case 'volume':
      return volume(a);
    case 'sentiment':
      return sentiment(a);
    case 'stream': {
      const limit = Math.max(1, Math.min(500, Number(a.limit ?? 50)));
      const list = filtered(a).sort((x, y) => y.created_at - x.created_at || y.id - x.id).slice(0, limit);
      return { mentions: list };
    }
    case 'chart':
      return chart(a);
    case 'wall_profile':
      return profile;
    case 'rejects': {
      const limit = Math.max(1, Math.min(500, Number(a.limit ?? 50)));
      return { total: rejects.length, rejects: rejects.slice(-limit).reverse() };
    }
    default: {
      const e = new Error(`unknown command \`${cmd}\``);
      e.status = 404;
      throw e;
    }
  }
}

// ---- events -------------------------------------------------------------------------------
const clients = new Set();
function publish(ev) {
  const frame = `event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;
  for (const res of clients) res.write(frame);
}
setInterval(() => publish({ type: 'heartbeat', now: Date.now() }), 5000).unref();

// ---- HTTP ---------------------------------------------------------------------------------
function authorized(req, url) {
  const h = req.headers.authorization ?? '';
  if (h === `Bearer ${token}`) return true;
  return url.pathname === '/api/v1/events' && url.searchParams.get('access_token') === token;
}

function json(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(data);
}

async function body(req, limit = 16 << 20) {
  const chunks = [];
  let n = 0;
  for await (const c of req) {
    n += c.length;
    if (n > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json' };

async function serveFile(res, pathname) {
  const rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  let file = resolve(uiDir, rel || 'index.html');
  if (!file.startsWith(uiDir + sep) && file !== uiDir) return json(res, 403, { error: 'forbidden' });
  try {
    if (!(await stat(file)).isFile()) throw new Error('dir');
  } catch {
    file = join(uiDir, 'index.html');
  }
  try {
    const data = await readFile(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(data);
  } catch {
    json(res, 404, { error: `UI not built: no ${file}` });
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (!url.pathname.startsWith('/api/')) return await serveFile(res, url.pathname);
    if (!authorized(req, url)) return json(res, 401, { error: 'missing or wrong access token' });
    if (url.pathname === '/api/v1/health' && req.method === 'GET') return json(res, 200, dispatch('health', {}));
    const rpc = url.pathname.match(/^\/api\/v1\/rpc\/([a-z_]+)$/);
    if (rpc && req.method === 'POST') {
      const text = await body(req);
      let a = {};
      try {
        a = text.trim() ? JSON.parse(text) : {};
      } catch {
        return json(res, 400, { error: 'bad arguments: body is not JSON' });
      }
      return json(res, 200, dispatch(rpc[1], a ?? {}));
    }
    if (url.pathname === '/api/v1/mentions' && req.method === 'POST') {
      const lines = (await body(req)).split('\n').filter((l) => l.trim());
      const records = lines.map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return { __bad: l };
        }
      });
      return json(res, 200, storeBatch(records.map((r) => (r.__bad ? { text: '', source: 'http' } : r))));
    }
    if (url.pathname === '/api/v1/events' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': sunward mock\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  } catch (e) {
    json(res, e.status ?? 500, { error: e.message });
  }
});

// ---- demo data ----------------------------------------------------------------------------
const CHANNELS = ['x', 'x', 'x', 'mastodon', 'reddit', 'bluesky', 'rss'];
const TOPICS = ['billing', 'outage', 'delivery', 'app', 'support'];
const HANDLES = ['mara_k', 'devon.t', 'quietfox', 'linh_ops', 'bigcitybrad', 'oksana', 'tomasz', 'priya', 'Jo_Ann', 'kwame'];
const TEXTS = [
  'The app is down again and checkout keeps failing, this is the worst week',
  'Thanks for fixing my order so fast, your support team is great',
  'Anyone else seeing slow loading on the dashboard this morning?',
  'Love the new delivery tracking, super helpful',
  'Still waiting on a refund after 3 weeks. Not happy.',
  'Is there an outage? Getting error 502 on every page',
  'Switched plans today, the process was easy',
  'My package says delivered but it is not here',
  'Honestly the best customer service I have had in years',
  'Why does the billing page log me out every time',
];
const pick = (arr) => arr[Math.floor(Math.random() * arr.length)];
let demoSeq = 0;
function demoRecord(t) {
  const topic = pick(TOPICS);
  return { source: 'demo', id: `d${demoSeq++}`, created_at: t, channel: pick(CHANNELS), author: { handle: pick(HANDLES), followers: Math.floor(Math.random() * 50000) }, topics: [topic], text: pick(TEXTS) };
}
if (demo) {
  const now = Date.now();
  const back = [];
  for (let t = now - 24 * 60 * MIN; t < now; t += MIN) {
    const hour = new Date(t).getHours();
    const rate = 3 + 9 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI)) + Math.random() * 3;
    for (let k = 0; k < Math.round(rate); k++) back.push(demoRecord(t + Math.random() * MIN));
  }
  storeBatch(back);
  setInterval(() => storeBatch(Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => demoRecord(Date.now()))), 1500).unref();
}

const [host, port] = listen.includes(':') ? [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))] : ['127.0.0.1', Number(listen)];
server.listen(port, host, () => {
  console.log(`sunward mock listening on http://${host}:${server.address().port} (ui: ${uiDir}, demo: ${demo})`);
});
const shutdown = () => {
  for (const res of clients) res.end();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
