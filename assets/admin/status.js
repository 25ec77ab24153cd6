// The ftpkit status page (docs/server.md#admin-page). Plain script, no build step, nothing loaded from
// elsewhere. Every value from the server is put into the page with textContent or an attribute, never as
// HTML: user names, file names and addresses are chosen by FTP clients.
// The credentials stay in sessionStorage and go in the Authorization header of each request (never a
// cookie, never a URL): another site cannot make this browser act with them.
'use strict';

const $ = id => document.getElementById(id);
let authorization = sessionStorage.getItem('ftpkit-admin-auth') || '';
let feedAbort;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, String(v));
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function message(text, ok) {
  const m = $('message');
  m.textContent = text;
  m.dataset.ok = String(ok);
}

/** The page's own confirmation dialog: resolves true for "Yes". */
function confirmAction(text) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  return new Promise(resolve => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function act(name, body, question) {
  if (!(await confirmAction(question))) return;
  try {
    const res = await fetch(`/api/actions/${name}`, {
      method: 'POST', headers: { Authorization: authorization, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const answer = await res.json();
    message(answer.message || answer.error || `HTTP ${res.status}`, res.ok);
  } catch (err) {
    message(`${name} failed: ${err.message}`, false);
  }
}

function renderTotals(doc) {
  const t = doc.totals;
  const items = [['sessions', t.sessions], ['transfers running', t.transfersRunning], ['transfers done', t.transfers],
    ['passive ports in use', t.passivePortsInUse], ['logins', t.logins], ['failed logins', t.failedLogins],
    ['bytes in', bytes(t.bytesIn)], ['bytes out', bytes(t.bytesOut)]];
  $('totals').replaceChildren(...items.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-total': k }, v)]));
  $('session-count').textContent = `(${t.sessions})`;
  const health = $('health');
  health.textContent = doc.health === 'ready' ? 'ready' : 'draining: the server is shutting down';
  health.dataset.health = doc.health;
}

function renderChart(history) {
  const chart = $('chart');
  const max = Math.max(1, ...history.flatMap(m => [m.bytesIn, m.bytesOut]));
  const slot = 600 / history.length;
  const bars = [];
  history.forEach((m, i) => {
    for (const [kind, value, dx] of [['in', m.bytesIn, 0.1], ['out', m.bytesOut, 0.5]]) {
      const h = Math.round((value / max) * 130);
      const rect = svg('rect', { class: kind, x: (i + dx) * slot, y: 140 - h, width: slot * 0.38, height: h, 'data-bytes': value });
      const title = svg('title', {});
      title.textContent = `${new Date(m.at).toLocaleTimeString()}: ${bytes(value)} ${kind}`;
      rect.append(title);
      bars.push(rect);
    }
  });
  chart.replaceChildren(...bars);
  chart.dataset.bytesIn = String(history.reduce((s, m) => s + m.bytesIn, 0));
  chart.dataset.bytesOut = String(history.reduce((s, m) => s + m.bytesOut, 0));
  $('chart-scale').textContent = `(top: ${bytes(max)})`;
}

function transferCell(t) {
  if (!t) return el('td', { class: 'transfer' });
  const done = t.offset + t.bytes;
  const cell = el('td', { class: 'transfer', 'data-bytes': t.bytes, 'data-direction': t.direction },
    el('div', { class: 'path' }, `${t.command} ${t.path}`),
    el('div', {}, `${t.direction}, ${bytes(t.bytes)} at ${bytes(t.rate)}/s (${t.dataMode})`));
  if (t.size) {
    const percent = Math.min(100, Math.round((done / t.size) * 1000) / 10);
    cell.dataset.percent = String(percent);
    const bar = el('div', { class: `bar ${t.direction}`, role: 'progressbar', 'aria-valuenow': percent, 'aria-valuemin': 0, 'aria-valuemax': 100 }, el('div'));
    bar.firstChild.style.width = `${percent}%`;
    cell.append(bar, el('div', { class: 'percent' }, `${percent}% of ${bytes(t.size)}`));
  }
  return cell;
}

function renderSessions(doc) {
  const rows = doc.sessions.map(s => {
    const state = s.transfer ? el('span', { class: 'busy' }, 'busy') : el('span', { class: 'idle' }, `idle ${duration(s.idleMs)}`);
    const button = el('button', { class: 'danger', type: 'button', 'data-action': 'disconnect' }, 'Disconnect');
    button.addEventListener('click', () => act('disconnect', { session: s.id },
      `Disconnect ${s.user ?? '(not logged in)'} from ${s.remoteAddress}? A running transfer is cut.`));
    const tls = `${s.tls.control}${s.tls.protocol ? ` (${s.tls.protocol})` : ''} / ${s.tls.prot === 'P' ? 'protected' : 'cleartext'}`;
    return el('tr', { 'data-session': s.id },
      el('td', { class: 'user' }, s.user ?? '(not logged in)'),
      el('td', { class: 'address' }, `${s.remoteAddress}:${s.remotePort}`),
      el('td', { title: s.startedAt }, new Date(s.startedAt).toLocaleTimeString()),
      el('td', { class: 'state' }, state),
      el('td', {}, tls),
      el('td', { class: 'command' }, s.lastCommand ?? ''),
      transferCell(s.transfer),
      el('td', {}, button));
  });
  if (!rows.length) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: 8 }, 'No sessions.')));
  $('sessions').tBodies[0].replaceChildren(...rows);
}

function renderBans(doc) {
  const rows = doc.bans.map(b => {
    const button = el('button', { type: 'button', 'data-action': 'unban' }, 'Unban');
    button.addEventListener('click', () => act('unban', { kind: b.kind, key: b.key }, `Lift the ban of ${b.kind} ${b.key}?`));
    return el('tr', { 'data-ban': b.key }, el('td', {}, b.kind), el('td', {}, b.key), el('td', {}, new Date(b.until).toLocaleString()),
      el('td', {}, duration(b.leftMs)), el('td', {}, button));
  });
  if (!rows.length) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: 5 }, 'No bans in force.')));
  $('bans').tBodies[0].replaceChildren(...rows);
}

function render(doc) {
  renderTotals(doc);
  renderChart(doc.history);
  renderSessions(doc);
  renderBans(doc);
}

function feedState(state, text) {
  const f = $('feed');
  f.dataset.state = state;
  f.textContent = text;
}

/** Server-sent events read with fetch (EventSource cannot send the Authorization header). */
async function follow() {
  feedAbort?.abort();
  const controller = new AbortController();
  feedAbort = controller;
  const res = await fetch('/api/events', { headers: { Authorization: authorization }, signal: controller.signal });
  if (res.status === 401) throw Object.assign(new Error('the token or password was refused'), { unauthorised: true });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  $('login').hidden = true;
  $('app').hidden = false;
  feedState('live', 'live');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n');
      if (data) render(JSON.parse(data));
    }
  }
  throw new Error('the server ended the feed');
}

async function connect() {
  for (;;) {
    try {
      await follow();
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err.unauthorised) {
        sessionStorage.removeItem('ftpkit-admin-auth');
        $('login').hidden = false;
        $('app').hidden = true;
        $('login-error').textContent = err.message;
        feedState('off', 'not connected');
        return;
      }
      feedState('error', `disconnected (${err.message}), retrying`);
      await new Promise(r => setTimeout(r, 2000));
    }
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('login').addEventListener('submit', ev => {
    ev.preventDefault();
    const token = $('token').value.trim();
    const user = $('user').value;
    authorization = token ? `Bearer ${token}` : user ? `Basic ${btoa(unescape(encodeURIComponent(`${user}:${$('password').value}`)))}` : '';
    sessionStorage.setItem('ftpkit-admin-auth', authorization);
    $('login-error').textContent = '';
    connect();
  });
  $('ban-form').addEventListener('submit', ev => {
    ev.preventDefault();
    const address = $('ban-address').value.trim();
    const minutes = Number($('ban-minutes').value || 60);
    act('ban', { address, minutes }, `Ban ${address} for ${minutes} minutes? Its open sessions are closed.`);
  });
  $('reload-button').addEventListener('click', () => act('reload', {}, 'Reload the configuration file now?'));
  // A listener without authentication (loopback only) needs no login; one with it answers 401 and the form stays.
  connect();
});
