// The operator page: reads the admin API with the key typed in, kept in sessionStorage (this tab only), never in a URL.
// Every value is written as text (textContent), never as HTML: names, URLs and errors come from partners and receivers.
'use strict';

(() => {
  const storageKey = 'prospectEvents.adminKey';
  const refreshMs = 10_000;
  const svgNs = 'http://www.w3.org/2000/svg';
  const $ = id => document.getElementById(id);
  let timer = null;
  let loading = false;

  const number = n => n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
  const time = iso => iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace(/(Z|\+00:00)$/, ' UTC') : '–';
  const age = seconds => {
    if (seconds === null || seconds === undefined) return '–';
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} m`;
    return `${Math.floor(s / 86400)} d ${Math.floor(s % 86400 / 3600)} h`;
  };
  const label = name => name.replace(/^prospect_/, '').replace(/_/g, ' ');

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  /** Fills a table's body: one row per item, cells as text or nodes; a placeholder row when there are none. */
  function fill(tableId, items, cells, empty) {
    const body = $(tableId).tBodies[0];
    const rows = items.map(item => {
      const row = document.createElement('tr');
      for (const cell of cells(item, row)) {
        if (cell instanceof Node && cell.nodeName === 'TD') { row.append(cell); continue; }
        const wrapper = element('td');
        if (cell instanceof Node) wrapper.append(cell); else wrapper.textContent = cell ?? '';
        row.append(wrapper);
      }
      return row;
    });
    if (rows.length === 0) {
      const row = document.createElement('tr');
      const placeholder = element('td', empty, 'empty');
      placeholder.colSpan = $(tableId).tHead.rows[0].cells.length;
      row.append(placeholder);
      rows.push(row);
    }
    body.replaceChildren(...rows);
  }

  const td = (text, className) => element('td', text, className);

  /** A 40-hex prospect id, shortened; the whole id is its tooltip. */
  function prospectCell(id) {
    const cell = td(id.slice(0, 12) + '…', 'id');
    cell.title = id;
    return cell;
  }

  class RefusedKey extends Error {}

  async function api(path, method = 'GET') {
    const key = sessionStorage.getItem(storageKey);
    const response = await fetch(path, { method, headers: { 'API_KEY': key ?? '', 'Accept': 'application/json' }, cache: 'no-store', credentials: 'omit' });
    let body = null;
    try { body = await response.json(); } catch { /* not JSON: the status says enough */ }
    if (response.ok) return body;
    const detail = body && typeof body.detail === 'string' ? body.detail : response.statusText;
    if (response.status === 401 || response.status === 403)
      throw new RefusedKey(`The server refused this key (${response.status}): ${detail}. Enter an admin key.`);
    throw new Error(`${method} ${path.split('?')[0]} answered ${response.status}: ${detail}`);
  }

  function show(id, text) {
    $(id).textContent = text ?? '';
    $(id).hidden = !text;
  }

  function clearData() {
    $('data').hidden = true;
    for (const table of document.querySelectorAll('#data tbody')) table.replaceChildren();
    for (const value of document.querySelectorAll('#data .value')) value.textContent = '';
    $('events-chart').replaceChildren();
    $('chart-legend').replaceChildren();
  }

  async function load() {
    if (loading || !sessionStorage.getItem(storageKey)) return;
    loading = true;
    try {
      const [stats, perDay, ingests, webhooks, failed] = await Promise.all([
        api('/v1/admin/stats'), api('/v1/admin/stats/events_per_day?days=30'), api('/v1/admin/ingests?limit=10'),
        api('/v1/admin/webhooks/health'), api('/v1/admin/deliveries/failed?limit=20')]);
      // Shown before drawing: the chart takes the width the laid-out page gives it.
      $('intro').hidden = true;
      $('data').hidden = false;
      render(stats, perDay, ingests.ingests, webhooks.webhooks, failed.deliveries);
      show('error', '');
      $('forget').hidden = false;
    } catch (error) {
      if (error instanceof RefusedKey) forget();
      show('error', error.message);
    } finally {
      loading = false;
    }
  }

  function render(stats, perDay, ingests, webhooks, failed) {
    $('storage').textContent = `storage: ${stats.storage_provider}`;
    $('updated').textContent = new Date().toISOString().slice(11, 19) + ' UTC';
    $('partners').textContent = number(stats.partners);
    $('enrollments').textContent = number(stats.enrollments);
    $('monitored-prospects').textContent = number(stats.monitored_prospects);
    $('events').textContent = number(stats.events);
    $('pending-deliveries').textContent = number(stats.pending_deliveries);
    $('failed-deliveries-count').textContent = number(stats.failed_deliveries);
    $('failed-deliveries-count').classList.toggle('bad', stats.failed_deliveries > 0);
    chart(perDay);

    fill('webhooks', webhooks, w => {
      const status = element('span', w.status, `pill ${w.status}`);
      if (w.disabled_reason) status.title = w.disabled_reason;
      const statusCell = td();
      statusCell.append(status);
      if (w.disabled_reason) statusCell.append(' ', element('span', w.disabled_reason, 'muted'));
      const hook = td();
      hook.append(element('div', w.legacy ? `${w.name} (legacy v1)` : w.name), element('div', w.webhook_url, 'muted id'));
      return [td(w.partner_name), hook, statusCell, td(number(w.pending), 'num'), td(number(w.failed), w.failed > 0 ? 'num bad' : 'num'),
        td(age(w.oldest_pending_age_seconds), 'num'),
        td(`${number(w.last_hour.delivered)} / ${number(w.last_hour.failed)}`, w.last_hour.failed > 0 ? 'num bad' : 'num'),
        td(`${number(w.last_day.delivered)} / ${number(w.last_day.failed)}`, 'num'),
        td(w.last_day.p95_latency_ms === null ? '–' : `${number(w.last_day.p95_latency_ms)} ms`, 'num')];
    }, 'No webhooks registered.');

    fill('failed-deliveries', failed, (d, row) => {
      row.dataset.deliveryId = d.delivery_id;
      const replay = element('button', 'Replay', 'replay');
      replay.type = 'button';
      replay.addEventListener('click', () => retry(d.delivery_id, replay));
      const cell = td();
      cell.append(replay);
      return [td(time(d.failed_at)), td(d.partner_name), td(d.webhook_name ?? d.webhook_id), td(label(d.event_name)), prospectCell(d.prospect_id),
        td(number(d.attempts), 'num'), td(d.last_error ?? '–', 'wrap'), cell];
    }, 'No failed deliveries.');

    fill('ingests', ingests, i => [td(time(i.finished_at)), td(i.error ? `${i.source} (broke off)` : i.source), td(number(i.observations), 'num'),
      td(number(i.rejected), i.rejected > 0 ? 'num bad' : 'num'), td(number(i.stale), 'num'), td(number(i.events), 'num'),
      td(number(Math.round(i.lines_per_second)), 'num')], 'No ingests yet.');

    fill('latest-events', stats.recent_events, e => [td(time(e.detected_at)), td(label(e.event_name)), prospectCell(e.prospect_id), td(number(e.matches), 'num')],
      'No events yet.');
  }

  /** A stacked bar per day (a g.day each, with its date and total), drawn into the SVG at its laid-out width. */
  function chart(perDay) {
    const svg = $('events-chart');
    const width = Math.max(svg.clientWidth, 300), height = 220, left = 40, right = 8, top = 8, bottom = 24;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    $('chart-range').textContent = `${perDay.from} – ${perDay.to} (UTC)`;
    $('chart-legend').replaceChildren(...perDay.event_types.map(name => element('span', label(name), name)));
    const max = Math.max(1, ...perDay.per_day.map(d => d.total));
    const step = (width - left - right) / perDay.per_day.length;
    const scale = (height - top - bottom) / max;
    const nodes = [];
    const line = (x1, y1, x2, y2) => {
      const l = document.createElementNS(svgNs, 'line');
      for (const [k, v] of Object.entries({ x1, y1, x2, y2, class: 'axis' })) l.setAttribute(k, v);
      return l;
    };
    const text = (x, y, value, anchor) => {
      const t = document.createElementNS(svgNs, 'text');
      t.setAttribute('x', x); t.setAttribute('y', y); t.setAttribute('text-anchor', anchor);
      t.textContent = value;
      return t;
    };
    nodes.push(line(left, height - bottom, width - right, height - bottom), line(left, top, width - right, top));
    nodes.push(text(left - 6, top + 4, number(max), 'end'), text(left - 6, height - bottom + 4, '0', 'end'));
    perDay.per_day.forEach((day, i) => {
      const g = document.createElementNS(svgNs, 'g');
      g.setAttribute('class', 'day');
      g.dataset.date = day.date;
      g.dataset.total = day.total;
      const x = left + i * step;
      const hit = document.createElementNS(svgNs, 'rect');
      for (const [k, v] of Object.entries({ x, y: top, width: step, height: height - top - bottom, class: 'hit' })) hit.setAttribute(k, v);
      const title = document.createElementNS(svgNs, 'title');
      title.textContent = `${day.date}: ${day.total} events` + perDay.event_types.map(n => `\n${label(n)}: ${day.counts[n]}`).join('');
      g.append(title, hit);
      let y = height - bottom;
      for (const name of perDay.event_types) {
        const h = day.counts[name] * scale;
        if (h <= 0) continue;
        y -= h;
        const bar = document.createElementNS(svgNs, 'rect');
        for (const [k, v] of Object.entries({ x: x + step * 0.15, y, width: step * 0.7, height: h, class: `bar ${name}` })) bar.setAttribute(k, v);
        g.append(bar);
      }
      // Every fifth day is labelled, counted back from today so that today always is.
      if ((perDay.per_day.length - 1 - i) % 5 === 0) g.append(text(x + step / 2, height - 6, day.date.slice(5), 'middle'));
      nodes.push(g);
    });
    svg.replaceChildren(...nodes);
  }

  async function retry(deliveryId, button) {
    button.disabled = true;
    try {
      await api(`/v1/admin/deliveries/${encodeURIComponent(deliveryId)}/retry`, 'POST');
      show('notice', `Replayed ${deliveryId}: it is sent again now.`);
      await load();
    } catch (error) {
      if (error instanceof RefusedKey) forget();
      show('error', error.message);
      button.disabled = false;
    }
  }

  function start() {
    clearInterval(timer);
    timer = setInterval(load, refreshMs);
    return load();
  }

  function forget() {
    sessionStorage.removeItem(storageKey);
    clearInterval(timer);
    clearData();
    show('notice', '');
    $('intro').hidden = false;
    $('forget').hidden = true;
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('key-form').addEventListener('submit', event => {
      event.preventDefault();
      const key = $('key').value.trim();
      $('key').value = '';
      if (!key) return;
      sessionStorage.setItem(storageKey, key);
      show('error', '');
      start();
    });
    $('forget').addEventListener('click', () => { forget(); show('error', ''); });
    if (sessionStorage.getItem(storageKey)) start();
  });
})();
