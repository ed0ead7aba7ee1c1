// floe explorer: the page the gateway serves at `/`.
//
// Talks only to the gateway's own HTTP API (docs/GATEWAY.md): GET /v1/network (polled),
// GET /v1/recent, GET /v1/blobs/{id}/info, PUT /v1/blobs (NDJSON progress). Everything the
// API returns is treated as hostile: values are shown with textContent only, ids are
// validated before they go into a URL, and nothing is ever parsed as HTML.

const NETWORK_POLL_MS = 5000;
const RECENT_POLL_MS = 15000;
const BLOB_POLL_MS = 5000;
const REQUEST_TIMEOUT_MS = 8000;
const FROST_PER_WAL = 1000000000n;
const BLOB_ID_RE = /^(?:0x)?([0-9a-fA-F]{64})$/;
const PHASES = ['receive', 'encode', 'register', 'upload', 'certify', 'transfer'];
// Where each server phase puts the overall progress bar (the body transfer fills 0..40).
const PHASE_PROGRESS = { receive: 40, encode: 55, register: 65, upload: 75, certify: 90, transfer: 95 };

const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
};

/** Create an element with optional class and text (always textContent). */
function el(tag, opts = {}, ...children) {
  const node = document.createElement(tag);
  if (opts.className) node.className = opts.className;
  if (opts.text !== undefined && opts.text !== null) node.textContent = String(opts.text);
  if (opts.title) node.title = String(opts.title);
  if (opts.attrs) {
    for (const [k, v] of Object.entries(opts.attrs)) node.setAttribute(k, String(v));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// ---------------------------------------------------------------- formatting

/** Canonical `0x` + 64 lowercase hex digits, or null. */
export function normalizeBlobId(input) {
  if (typeof input !== 'string') return null;
  const m = BLOB_ID_RE.exec(input.trim());
  return m ? `0x${m[1].toLowerCase()}` : null;
}

function isSafeInt(v) {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function fmtInt(v) {
  return isSafeInt(v) ? v.toLocaleString('en-US') : '—';
}

function fmtBytes(v) {
  if (!isSafeInt(v)) return '—';
  if (v < 1024) return `${v} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = v / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i += 1;
  }
  return `${x.toFixed(x < 10 ? 2 : 1)} ${units[i]}`;
}

function parseFrost(s) {
  if (typeof s !== 'string' || !/^[0-9]{1,78}$/.test(s)) return null;
  return BigInt(s);
}

function groupDigits(big) {
  return big.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** FROST decimal string → "1,234.5 WAL" (or FROST when small). */
function fmtFrost(s) {
  const v = parseFrost(s);
  if (v === null) return typeof s === 'string' ? s.slice(0, 80) : '—';
  if (v < 1000000n) return `${groupDigits(v)} FROST`;
  const whole = v / FROST_PER_WAL;
  const frac = v % FROST_PER_WAL;
  const digits = whole === 0n ? 9 : 4;
  const fracStr = frac.toString().padStart(9, '0').slice(0, digits).replace(/0+$/, '');
  return `${groupDigits(whole)}${fracStr ? `.${fracStr}` : ''} WAL`;
}

function fmtDuration(totalSecs) {
  if (!Number.isFinite(totalSecs)) return '—';
  const s = Math.max(0, Math.floor(totalSecs));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${pad(h)}h ${pad(m)}m`;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(sec)}s`;
  return `${m}m ${pad(sec)}s`;
}

function shortHex(s, head = 8, tail = 6) {
  if (typeof s !== 'string') return '—';
  return s.length > head + tail + 1 ? `${s.slice(0, head)}…${s.slice(-tail)}` : s;
}

/** A hex string from the API shown monospace with a copy button; non-hex is shown as text. */
function hexValue(s, opts = {}) {
  if (typeof s !== 'string' || s === '') return el('span', { className: 'muted', text: opts.empty || '—' });
  const wrap = el('span', { className: 'hex' });
  const text = el('code', { className: 'hex-text', text: opts.short ? shortHex(s) : s, title: s });
  wrap.append(text);
  if (navigator.clipboard && window.isSecureContext) {
    const btn = el('button', {
      className: 'copy-btn',
      text: 'Copy',
      attrs: { type: 'button', 'aria-label': `Copy ${opts.label || 'value'}` },
    });
    btn.addEventListener('click', () => {
      navigator.clipboard.writeText(s).then(
        () => flashText(btn, 'Copied'),
        () => flashText(btn, 'Failed'),
      );
    });
    wrap.append(btn);
  }
  return wrap;
}

function flashText(btn, text) {
  const old = btn.textContent;
  btn.textContent = text;
  setTimeout(() => {
    btn.textContent = old;
  }, 1200);
}

function badge(text, kind) {
  return el('span', { className: `badge badge-${kind}`, text });
}

function stateKind(state) {
  switch (state) {
    case 'certified':
      return 'ok';
    case 'registered':
      return 'pending';
    case 'deleted':
    case 'expired':
      return 'muted';
    case 'invalid':
      return 'bad';
    default:
      return 'muted';
  }
}

// ---------------------------------------------------------------- HTTP

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** GET a JSON document from the gateway with a timeout; errors become ApiError. */
async function getJson(path, signal) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
  const onAbort = () => ctrl.abort();
  if (signal) signal.addEventListener('abort', onAbort, { once: true });
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'application/json' }, signal: ctrl.signal, cache: 'no-store' });
  } catch (e) {
    const aborted = ctrl.signal.aborted && !(signal && signal.aborted);
    throw new ApiError(0, aborted ? 'timeout' : 'network', aborted
      ? 'The gateway did not answer in time.'
      : 'Could not reach the gateway.', null);
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const retry = Number.parseInt(res.headers.get('Retry-After') || '', 10);
    const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    const code = body && typeof body.code === 'string' ? body.code : `http_${res.status}`;
    throw new ApiError(res.status, code, msg, Number.isFinite(retry) ? retry : null);
  }
  if (body === null || typeof body !== 'object') {
    throw new ApiError(res.status, 'bad_response', 'The gateway sent something that is not JSON.', null);
  }
  return body;
}

// ---------------------------------------------------------------- network panel

const net = {
  data: null,
  clockOffset: 0, // server seconds − local seconds, measured at the last poll
  timer: null,
  tick: null,
  fetchedAt: 0,
};

function showBanner(text) {
  $('banner-text').textContent = text;
  $('banner').hidden = false;
  document.body.classList.add('degraded');
}

function hideBanner() {
  $('banner').hidden = true;
  document.body.classList.remove('degraded');
}

function scheduleNetwork(ms) {
  clearTimeout(net.timer);
  net.timer = setTimeout(pollNetwork, ms);
}

async function pollNetwork() {
  clearTimeout(net.timer);
  try {
    const data = await getJson('/v1/network');
    net.data = data;
    net.fetchedAt = Date.now();
    if (isSafeInt(data.now)) net.clockOffset = data.now - Date.now() / 1000;
    hideBanner();
    renderNetwork(data);
    scheduleNetwork(NETWORK_POLL_MS);
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(0, 'internal', String(e), null);
    let text;
    if (err.status === 503) text = 'Chain unreachable, retrying…';
    else if (err.status === 0) text = 'Gateway unreachable, retrying…';
    else text = `Network status unavailable (${err.code}), retrying…`;
    showBanner(text);
    $('banner-text').title = err.message;
    $('network').classList.add('stale');
    if (net.fetchedAt) {
      $('network-updated').textContent = `Showing data from ${new Date(net.fetchedAt).toLocaleTimeString()}`;
    }
    const wait = err.retryAfter ? Math.min(30, Math.max(2, err.retryAfter)) * 1000 : NETWORK_POLL_MS;
    scheduleNetwork(wait);
  }
}

function renderNetwork(d) {
  $('network').classList.remove('stale');
  $('net-epoch').textContent = fmtInt(d.epoch);
  $('net-n').textContent = fmtInt(d.nShards);
  $('net-f').textContent = fmtInt(d.f);
  $('net-quorum').textContent = fmtInt(d.quorum);
  $('net-storage-price').textContent = `${fmtFrost(d.storagePricePerMibEpoch)} / MiB / epoch`;
  $('net-write-price').textContent = `${fmtFrost(d.writePricePerMib)} / MiB`;
  $('net-max-size').textContent = fmtBytes(d.maxBlobSize);
  $('net-chain').textContent = fmtInt(d.chainId);
  $('network-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;

  const committee = Array.isArray(d.committee) ? d.committee : [];
  const body = $('committee-body');
  clear(body);
  let healthy = 0;
  if (committee.length === 0) {
    body.append(el('tr', { className: 'placeholder-row' }, el('td', { text: 'No committee in this epoch.', attrs: { colspan: 6 } })));
  }
  for (const node of committee) {
    if (!node || typeof node !== 'object') continue;
    const h = node.health && typeof node.health === 'object' ? node.health : {};
    const ok = h.ok === true;
    if (ok) healthy += 1;
    const row = el('tr', { className: ok ? 'node-ok' : 'node-down' });
    row.dataset.health = ok ? 'ok' : 'down';
    const cell = (label, child, cls) => {
      const td = el('td', { className: cls, attrs: { 'data-label': label } });
      td.append(child);
      return td;
    };
    row.append(
      cell('Node', hexValue(typeof node.node === 'string' ? node.node : '', { short: true, label: 'node id' })),
      cell('Address', el('code', { className: 'addr', text: typeof node.address === 'string' ? node.address : '—' })),
      cell('Shards', document.createTextNode(fmtInt(node.shards)), 'num'),
      cell('Stake', el('span', { text: fmtFrost(node.stake), title: typeof node.stake === 'string' ? `${node.stake} FROST` : '' }), 'num'),
      cell('Commission', document.createTextNode(isSafeInt(node.commissionBps) ? `${(node.commissionBps / 100).toFixed(2)} %` : '—'), 'num'),
      cell('Health', healthCell(h, d.epoch)),
    );
    body.append(row);
  }
  const healthyText = `${healthy} / ${committee.length}`;
  const hEl = $('net-healthy');
  hEl.textContent = healthyText;
  hEl.className = healthy === committee.length ? 'good' : healthy === 0 ? 'bad' : 'warn';

  // Upload limits and auth come from the publisher block.
  const pub = d.publisher && typeof d.publisher === 'object' ? d.publisher : null;
  upload.maxBytes = pub && isSafeInt(pub.maxBodyBytes) ? pub.maxBodyBytes : isSafeInt(d.maxBlobSize) ? d.maxBlobSize : null;
  $('token-field').hidden = !(pub && pub.open === false);
  updateCostEstimate();
  tickCountdown();
}

function healthCell(h, epoch) {
  const wrap = el('span', { className: 'health' });
  if (h.ok === true) {
    wrap.append(el('span', { className: 'dot dot-ok', attrs: { 'aria-hidden': 'true' } }), el('span', { text: 'Healthy' }));
    const extra = [];
    if (isSafeInt(h.latencyMs)) extra.push(`${h.latencyMs} ms`);
    if (isSafeInt(h.epoch) && isSafeInt(epoch) && h.epoch !== epoch) extra.push(`at epoch ${h.epoch}`);
    if (extra.length) wrap.append(el('span', { className: 'muted small', text: ` · ${extra.join(' · ')}` }));
  } else {
    wrap.append(el('span', { className: 'dot dot-bad', attrs: { 'aria-hidden': 'true' } }), el('span', { className: 'health-bad', text: 'Unreachable' }));
    if (typeof h.error === 'string' && h.error) {
      wrap.append(el('span', { className: 'health-error small', text: h.error.slice(0, 200), title: h.error.slice(0, 1000) }));
    }
  }
  return wrap;
}

function tickCountdown() {
  const d = net.data;
  if (!d || !isSafeInt(d.nextEpochAt)) return;
  const nowServer = Date.now() / 1000 + net.clockOffset;
  const left = d.nextEpochAt - nowServer;
  const tl = $('net-timeleft');
  if (left <= 0) {
    tl.textContent = 'epoch change due';
  } else {
    tl.textContent = fmtDuration(left);
  }
  tl.dataset.secondsLeft = String(Math.max(0, Math.floor(left)));
  const dur = isSafeInt(d.epochDurationSecs) && d.epochDurationSecs > 0 ? d.epochDurationSecs : null;
  if (dur) {
    const elapsed = Math.min(dur, Math.max(0, dur - left));
    $('net-epoch-progress').value = Math.round((elapsed / dur) * 1000);
  }
  $('net-nextepoch').textContent = `Epoch ${fmtInt(isSafeInt(d.epoch) ? d.epoch + 1 : null)} starts ${new Date(d.nextEpochAt * 1000).toLocaleString()}`;
}

// ---------------------------------------------------------------- recent

const recent = { timer: null };

async function pollRecent() {
  clearTimeout(recent.timer);
  const status = $('recent-status');
  try {
    const data = await getJson('/v1/recent?limit=20');
    renderRecent(Array.isArray(data.blobs) ? data.blobs : []);
    status.textContent = '';
  } catch (e) {
    status.textContent = e instanceof ApiError ? `Could not load recent blobs: ${e.message}` : 'Could not load recent blobs.';
  }
  recent.timer = setTimeout(pollRecent, RECENT_POLL_MS);
}

function renderRecent(blobs) {
  const list = $('recent-list');
  clear(list);
  let shown = 0;
  for (const b of blobs) {
    if (!b || typeof b !== 'object') continue;
    const id = normalizeBlobId(b.blobId);
    if (!id) continue;
    shown += 1;
    const link = el('a', { className: 'recent-link', attrs: { href: `#/blob/${id}` } });
    link.append(
      el('code', { className: 'recent-id', text: shortHex(id, 10, 8), title: id }),
      el('span', { className: 'recent-meta' },
        el('span', { text: fmtBytes(b.size) }),
        el('span', { text: isSafeInt(b.epoch) ? `epoch ${b.epoch}` : '' }),
        b.certified === true ? badge('certified', 'ok') : badge('registered', 'pending'),
        b.deletable === true ? badge('deletable', 'muted') : null),
    );
    link.setAttribute('aria-label', `Blob ${id}, ${fmtBytes(b.size)}, ${b.certified === true ? 'certified' : 'not yet certified'}`);
    list.append(el('li', {}, link));
  }
  if (shown === 0) list.append(el('li', { className: 'muted empty', text: 'No blobs registered recently.' }));
}

// ---------------------------------------------------------------- blob view

const blob = { id: null, ctrl: null, timer: null };

function route(ev) {
  let hash = location.hash || '';
  try {
    hash = decodeURIComponent(hash);
  } catch {
    // a malformed escape: match the raw text, which then fails the id check
  }
  const m = /^#\/blob\/(.*)$/.exec(hash);
  clearTimeout(blob.timer);
  if (blob.ctrl) blob.ctrl.abort();
  if (!m) {
    blob.id = null;
    $('blob-view').hidden = true;
    document.title = 'floe explorer';
    return;
  }
  const view = $('blob-view');
  view.hidden = false;
  const id = normalizeBlobId(m[1]);
  clear($('blob-body'));
  if (!id) {
    blob.id = null;
    $('blob-title').textContent = 'Not a blob id';
    setBlobStatus('A blob id is 64 hexadecimal digits, optionally prefixed with 0x.', 'error');
    return;
  }
  blob.id = id;
  $('blob-title').textContent = 'Blob';
  document.title = `Blob ${shortHex(id)} · floe explorer`;
  setBlobStatus('Loading…', 'loading');
  // Scroll to the blob when the user navigated to it (not on the first load of the page).
  loadBlob(id, ev !== undefined);
}

function setBlobStatus(text, kind) {
  const s = $('blob-status');
  s.textContent = text;
  s.dataset.kind = kind || '';
  s.className = `status-line status-${kind || 'none'}`;
}

async function loadBlob(id, focus) {
  const ctrl = new AbortController();
  blob.ctrl = ctrl;
  try {
    const info = await getJson(`/v1/blobs/${id}/info`, ctrl.signal);
    if (blob.id !== id) return;
    renderBlob(id, info);
    setBlobStatus('', 'ok');
    if (info.state === 'registered') blob.timer = setTimeout(() => loadBlob(id, false), BLOB_POLL_MS);
  } catch (e) {
    if (blob.id !== id || ctrl.signal.aborted) return;
    clear($('blob-body'));
    const err = e instanceof ApiError ? e : new ApiError(0, 'internal', String(e), null);
    if (err.status === 404) {
      $('blob-title').textContent = 'Blob not found';
      setBlobStatus('No blob with this id was ever registered.', 'notfound');
      $('blob-body').append(el('p', { className: 'muted' }, el('span', { text: 'Id: ' }), el('code', { className: 'hex-text wrap', text: id })));
    } else if (err.status === 410) {
      $('blob-title').textContent = 'Blob gone';
      setBlobStatus(err.message, 'error');
    } else {
      setBlobStatus(`Could not load this blob: ${err.message}${err.status ? ` (${err.code})` : ''}`, 'error');
      const retry = el('button', { className: 'btn btn-small', text: 'Retry', attrs: { type: 'button' } });
      retry.addEventListener('click', () => {
        setBlobStatus('Loading…', 'loading');
        loadBlob(id, false);
      });
      $('blob-body').append(retry);
    }
  }
  if (focus) $('blob-view').scrollIntoView({ block: 'start' });
}

function kv(dl, label, value, opts = {}) {
  const div = el('div', { className: opts.wide ? 'kv kv-wide' : 'kv' });
  const dd = el('dd');
  if (opts.testid) dd.dataset.testid = opts.testid;
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value === undefined || value === null || value === '' ? '—' : String(value);
  div.append(el('dt', { text: label }), dd);
  dl.append(div);
}

function attributesTable(attrs) {
  if (!attrs || typeof attrs !== 'object' || Array.isArray(attrs)) return el('span', { className: 'muted', text: 'none' });
  const entries = Object.entries(attrs).filter(([, v]) => typeof v === 'string');
  if (entries.length === 0) return el('span', { className: 'muted', text: 'none' });
  const table = el('table', { className: 'table attrs' });
  const tbody = el('tbody');
  for (const [k, v] of entries.slice(0, 200)) {
    tbody.append(el('tr', {},
      el('th', { text: k.slice(0, 500), attrs: { scope: 'row' } }),
      el('td', { text: v.slice(0, 2000) })));
  }
  table.append(tbody);
  return table;
}

function renderBlob(id, info) {
  const body = $('blob-body');
  clear(body);
  const regs = Array.isArray(info.registrations) ? info.registrations.filter((r) => r && typeof r === 'object') : [];
  const state = typeof info.state === 'string' ? info.state : 'unknown';
  const primary = regs.find((r) => r.registrationId === info.primaryRegistrationId) || regs[0] || null;

  const head = el('div', { className: 'blob-head' });
  const stateBadge = badge(state, stateKind(state));
  stateBadge.id = 'blob-state';
  stateBadge.dataset.state = state;
  head.append(el('div', { className: 'blob-id-line' }, hexValue(id, { label: 'blob id' })), stateBadge);
  body.append(head);

  const actions = el('div', { className: 'blob-actions' });
  const href = `/v1/blobs/${id}`;
  const canRead = state === 'certified';
  const dl = el('a', {
    className: `btn btn-primary${canRead ? '' : ' disabled'}`,
    text: 'Download',
    attrs: { href, download: `floe-${id.slice(2, 14)}`, id: 'blob-download' },
  });
  const open = el('a', { className: 'btn', text: 'Open in new tab', attrs: { href, target: '_blank', rel: 'noopener noreferrer' } });
  if (!canRead) {
    dl.setAttribute('aria-disabled', 'true');
    actions.append(dl, el('span', { className: 'muted small', text: state === 'registered' ? 'Readable once certified.' : `This blob is ${state}.` }));
  } else {
    actions.append(dl, open);
  }
  body.append(actions);

  const owners = [...new Set(regs.map((r) => r.owner).filter((o) => typeof o === 'string'))];
  const ownersNode = el('span', { className: 'owners' });
  if (owners.length === 0) ownersNode.append(el('span', { className: 'muted', text: '—' }));
  for (const o of owners.slice(0, 50)) ownersNode.append(hexValue(o, { label: 'owner' }));

  const facts = el('dl', { className: 'kvs' });
  kv(facts, 'State', state, { testid: 'state' });
  kv(facts, 'Size', isSafeInt(info.size) ? `${fmtBytes(info.size)} (${fmtInt(info.size)} bytes)` : '—', { testid: 'size' });
  kv(facts, owners.length > 1 ? 'Owners' : 'Owner', ownersNode, { testid: 'owners' });
  kv(facts, 'Deletable', primary ? (primary.deletable === true ? 'yes' : 'no') : '—', { testid: 'deletable' });
  const endParts = [];
  if (isSafeInt(info.endEpoch)) endParts.push(`epoch ${info.endEpoch}`);
  if (isSafeInt(info.certifiedEndEpoch) && info.certifiedEndEpoch !== info.endEpoch) endParts.push(`certified until ${info.certifiedEndEpoch}`);
  if (isSafeInt(info.endEpoch) && isSafeInt(info.currentEpoch)) {
    const leftEpochs = info.endEpoch - info.currentEpoch;
    endParts.push(leftEpochs > 0 ? `${leftEpochs} epoch${leftEpochs === 1 ? '' : 's'} from now` : 'ended');
  }
  kv(facts, 'End epoch', endParts.join(' · '), { testid: 'end-epoch' });
  kv(facts, 'Current epoch', fmtInt(info.currentEpoch));
  kv(facts, 'Registrations', fmtInt(regs.length), { testid: 'registration-count' });
  kv(facts, 'Content type', info.attributes && typeof info.attributes['content-type'] === 'string' ? info.attributes['content-type'] : 'application/octet-stream');
  body.append(facts);

  body.append(el('h3', { className: 'sub-title', text: 'Attributes' }));
  const attrWrap = el('div', { className: 'attrs-wrap', attrs: { id: 'blob-attributes' } });
  attrWrap.append(attributesTable(info.attributes));
  body.append(attrWrap);

  body.append(el('h3', { className: 'sub-title', text: 'Registrations' }));
  const regList = el('ol', { className: 'regs', attrs: { id: 'blob-registrations' } });
  for (const r of regs) {
    const li = el('li', { className: 'reg' });
    const title = el('div', { className: 'reg-head' },
      el('span', { className: 'reg-id', text: `Registration #${isSafeInt(r.registrationId) ? r.registrationId : '?'}` }),
      badge(typeof r.state === 'string' ? r.state : 'unknown', stateKind(r.state)),
      r.registrationId === info.primaryRegistrationId ? badge('primary', 'info') : null,
      r.deletable === true ? badge('deletable', 'muted') : badge('permanent', 'muted'),
      r.shared === true ? badge('shared', 'muted') : null);
    const d = el('dl', { className: 'kvs kvs-compact' });
    kv(d, 'Owner', hexValue(r.owner, { label: 'owner' }));
    kv(d, 'Registered in epoch', fmtInt(r.registeredEpoch));
    kv(d, 'Certified in epoch', isSafeInt(r.certifiedEpoch) ? fmtInt(r.certifiedEpoch) : 'not certified');
    kv(d, 'End epoch', fmtInt(r.endEpoch));
    kv(d, 'Register transaction', hexValue(r.registerTx, { label: 'register transaction hash', empty: 'not found in searched blocks' }), { wide: true });
    kv(d, 'Certify transaction', hexValue(r.certifyTx, { label: 'certify transaction hash', empty: isSafeInt(r.certifiedEpoch) ? 'not found in searched blocks' : 'not certified' }), { wide: true });
    li.append(title, d);
    const rAttrs = r.attributes && typeof r.attributes === 'object' ? Object.keys(r.attributes).length : 0;
    if (rAttrs > 0 && regs.length > 1) {
      li.append(el('div', { className: 'small muted', text: 'Attributes of this registration:' }), attributesTable(r.attributes));
    }
    regList.append(li);
  }
  if (regs.length === 0) regList.append(el('li', { className: 'muted', text: 'No registrations.' }));
  body.append(regList);
}

// ---------------------------------------------------------------- lookup

function onLookup(ev) {
  ev.preventDefault();
  const input = $('lookup-input');
  const err = $('lookup-error');
  const id = normalizeBlobId(input.value);
  if (!id) {
    err.textContent = 'A blob id is 64 hexadecimal digits, optionally prefixed with 0x.';
    err.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  err.hidden = true;
  input.removeAttribute('aria-invalid');
  navigateToBlob(id);
}

function navigateToBlob(id) {
  const target = `#/blob/${id}`;
  if (location.hash === target) route(null);
  else location.hash = target;
}

// ---------------------------------------------------------------- upload

const upload = { file: null, xhr: null, maxBytes: null, busy: false };

function setFile(file) {
  upload.file = file || null;
  const summary = $('file-summary');
  if (!file) {
    summary.textContent = 'No file selected';
  } else {
    summary.textContent = `${file.name} · ${fmtBytes(file.size)}${file.type ? ` · ${file.type}` : ''}`;
  }
  $('dropzone').classList.toggle('has-file', !!file);
  hideUploadError();
  $('upload-status').textContent = '';
  updateCostEstimate();
  refreshUploadButton();
}

function refreshUploadButton() {
  $('upload-button').disabled = upload.busy || !upload.file;
}

function epochsValue() {
  const v = Number($('epochs-input').value);
  return Number.isInteger(v) && v >= 1 && v <= 1000 ? v : null;
}

function updateCostEstimate() {
  const out = $('upload-cost');
  const limit = upload.maxBytes !== null ? `Up to ${fmtBytes(upload.maxBytes)} per blob.` : '';
  if (upload.file && upload.maxBytes !== null && upload.file.size > upload.maxBytes) {
    out.textContent = `This file is larger than the gateway accepts (${fmtBytes(upload.maxBytes)}).`;
    out.className = 'small warn';
    return;
  }
  out.className = 'muted small';
  out.textContent = `${limit} The gateway's publisher pays the storage.`.trim();
}

function uploadErrorTitle(status, code) {
  switch (code || status) {
    case 'bad_request':
    case 400:
      return 'The gateway refused the request.';
    case 'unauthorized':
    case 401:
      return 'This gateway needs a valid access token to store blobs.';
    case 'forbidden':
    case 403:
      return 'The access token does not allow this upload.';
    case 'payload_too_large':
    case 413:
      return 'The file is too large for this gateway.';
    case 'quota_exceeded':
    case 429:
      return 'The upload quota of this token is used up.';
    case 'unavailable':
    case 503:
      return 'The network cannot take the upload right now.';
    default:
      return 'The upload failed.';
  }
}

function showUploadError(title, detail) {
  const box = $('upload-error');
  clear(box);
  box.append(el('strong', { text: title }));
  if (detail) box.append(el('span', { className: 'error-detail', text: detail }));
  box.hidden = false;
}

function hideUploadError() {
  const box = $('upload-error');
  clear(box);
  box.hidden = true;
}

function setPhase(phase, failed) {
  const steps = $('upload-steps');
  let li = steps.querySelector(`li[data-phase="${phase}"]`);
  if (!li && PHASES.includes(phase)) {
    li = el('li', { text: phase.charAt(0).toUpperCase() + phase.slice(1), attrs: { 'data-phase': phase } });
    steps.append(li);
  }
  if (!li) return;
  let reached = false;
  for (const item of steps.querySelectorAll('li')) {
    if (item === li) {
      reached = true;
      item.className = failed ? 'step-failed' : 'step-active';
      item.setAttribute('aria-current', 'step');
    } else {
      item.removeAttribute('aria-current');
      item.className = reached ? '' : 'step-done';
    }
  }
  if (!failed && PHASE_PROGRESS[phase] !== undefined) {
    $('upload-bar').value = Math.max($('upload-bar').value, PHASE_PROGRESS[phase]);
  }
  $('upload-progress').dataset.phase = phase;
}

function phaseLabel(line) {
  switch (line.phase) {
    case 'receive':
      return 'The gateway received the file';
    case 'encode':
      return 'Encoding into slivers';
    case 'register':
      return 'Registering the blob on chain';
    case 'upload':
      return 'Sending slivers to the storage nodes';
    case 'certify':
      return 'Collecting signatures and certifying on chain';
    case 'transfer':
      return 'Transferring the registration to its owner';
    default:
      return 'Working';
  }
}

/** Incremental NDJSON reader over a growing string (xhr.responseText). */
export class NdjsonReader {
  constructor(onLine) {
    this.offset = 0;
    this.onLine = onLine;
  }

  feed(text, final) {
    for (;;) {
      const nl = text.indexOf('\n', this.offset);
      if (nl < 0) break;
      this.line(text.slice(this.offset, nl));
      this.offset = nl + 1;
    }
    if (final && this.offset < text.length) {
      this.line(text.slice(this.offset));
      this.offset = text.length;
    }
  }

  line(raw) {
    const s = raw.trim();
    if (!s) return;
    let v;
    try {
      v = JSON.parse(s);
    } catch {
      this.onLine({ error: 'The gateway sent a progress line that is not JSON.', code: 'bad_response' });
      return;
    }
    this.onLine(v && typeof v === 'object' ? v : { error: 'Unexpected progress line.', code: 'bad_response' });
  }
}

function startUpload(ev) {
  ev.preventDefault();
  if (upload.busy) return;
  const file = upload.file;
  hideUploadError();
  if (!file) {
    showUploadError('Choose a file first.', 'Drop a file on the box or use the picker.');
    return;
  }
  const epochs = epochsValue();
  if (!epochs) {
    showUploadError('Epochs must be a whole number from 1 to 1000.', '');
    $('epochs-input').focus();
    return;
  }
  if (file.size === 0) {
    showUploadError('The file is empty.', 'floe stores blobs of at least one byte.');
    return;
  }
  if (upload.maxBytes !== null && file.size > upload.maxBytes) {
    showUploadError('The file is too large.', `This gateway accepts at most ${fmtBytes(upload.maxBytes)}; the file is ${fmtBytes(file.size)}.`);
    return;
  }
  const params = new URLSearchParams();
  params.set('epochs', String(epochs));
  params.set('deletable', $('deletable-input').checked ? 'true' : 'false');
  if (file.type) params.set('attributes', JSON.stringify({ 'content-type': file.type }));

  const xhr = new XMLHttpRequest();
  upload.xhr = xhr;
  upload.busy = true;
  refreshUploadButton();
  const bar = $('upload-bar');
  bar.value = 0;
  $('upload-progress').hidden = false;
  for (const li of $('upload-steps').querySelectorAll('li')) {
    li.className = '';
    li.removeAttribute('aria-current');
  }
  $('upload-progress').dataset.phase = 'sending';
  const status = $('upload-status');
  status.textContent = `Sending ${file.name}…`;

  let result = null;
  let failure = null;
  let lastPhase = null;
  const reader = new NdjsonReader((line) => {
    if (typeof line.phase === 'string') {
      lastPhase = line.phase;
      setPhase(line.phase, false);
      status.textContent = `${phaseLabel(line)}…`;
    } else if (line.result && typeof line.result === 'object') {
      result = line.result;
    } else if (line.newlyCreated || line.alreadyCertified) {
      result = line;
    } else if ('error' in line) {
      failure = {
        message: typeof line.error === 'string' ? line.error : 'The upload failed.',
        code: typeof line.code === 'string' ? line.code : null,
      };
    }
  });

  const finish = () => {
    upload.busy = false;
    upload.xhr = null;
    refreshUploadButton();
  };
  const fail = (title, detail) => {
    if (lastPhase) setPhase(lastPhase, true);
    status.textContent = '';
    showUploadError(title, detail);
    finish();
  };

  xhr.open('PUT', `/v1/blobs?${params.toString()}`);
  xhr.setRequestHeader('Accept', 'application/x-ndjson');
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  const token = $('token-input').value.trim();
  if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
  xhr.timeout = 0; // large blobs take long; the server bounds the request

  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable && e.total > 0) {
      bar.value = Math.round((e.loaded / e.total) * 40);
      status.textContent = `Sending ${file.name}… ${Math.floor((e.loaded / e.total) * 100)} %`;
    }
  };
  xhr.onprogress = () => {
    if (xhr.status === 200) reader.feed(xhr.responseText, false);
  };
  xhr.onerror = () => fail('Could not reach the gateway.', 'Check your connection and try again.');
  xhr.onabort = () => fail('Upload cancelled.', '');
  xhr.onload = () => {
    if (xhr.status !== 200) {
      let msg = `The gateway answered HTTP ${xhr.status}.`;
      let code = null;
      try {
        const body = JSON.parse(xhr.responseText);
        if (body && typeof body.error === 'string') msg = body.error;
        if (body && typeof body.code === 'string') code = body.code;
      } catch {
        // not JSON: keep the generic message
      }
      const retry = xhr.getResponseHeader('Retry-After');
      const hint = xhr.status === 503 && retry ? ` Retry in ${Number.parseInt(retry, 10) || retry} s.` : '';
      fail(uploadErrorTitle(xhr.status, code), `${msg}${code ? ` (${code})` : ''}${hint}`);
      return;
    }
    // NDJSON lines; a gateway that answered with one plain JSON document reads as one line.
    reader.feed(xhr.responseText, true);
    if (failure) {
      fail('The upload failed.', `${failure.message}${failure.code ? ` (${failure.code})` : ''}`);
      return;
    }
    const obj = result && (result.newlyCreated || result.alreadyCertified);
    const id = obj && obj.blobObject ? normalizeBlobId(obj.blobObject.blobId) : null;
    if (!id) {
      fail('The upload ended without a result.', 'The gateway closed the stream before saying which blob it stored.');
      return;
    }
    bar.value = 100;
    for (const li of $('upload-steps').querySelectorAll('li')) {
      li.className = 'step-done';
      li.removeAttribute('aria-current');
    }
    $('upload-progress').dataset.phase = 'done';
    const cost = result.newlyCreated && typeof result.newlyCreated.costFrost === 'string'
      ? ` for ${fmtFrost(result.newlyCreated.costFrost)}` : '';
    status.textContent = result.alreadyCertified ? 'Already stored and certified.' : `Stored and certified${cost}.`;
    finish();
    pollRecent();
    navigateToBlob(id);
  };
  xhr.send(file);
}

function setupDropzone() {
  const zone = $('dropzone');
  const input = $('file-input');
  input.addEventListener('change', () => setFile(input.files && input.files[0]));
  let depth = 0;
  zone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth += 1;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    const files = e.dataTransfer && e.dataTransfer.files;
    if (files && files.length > 0) {
      if (files.length > 1) $('upload-status').textContent = 'Only the first file is stored.';
      setFile(files[0]);
    }
  });
  // A file dropped elsewhere on the page must not navigate away from it.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
}

// ---------------------------------------------------------------- start

function start() {
  $('lookup-form').addEventListener('submit', onLookup);
  $('upload-form').addEventListener('submit', startUpload);
  $('epochs-input').addEventListener('input', updateCostEstimate);
  $('banner-retry').addEventListener('click', () => pollNetwork());
  $('recent-refresh').addEventListener('click', () => pollRecent());
  setupDropzone();
  window.addEventListener('hashchange', route);
  net.tick = setInterval(tickCountdown, 1000);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) pollNetwork();
  });
  route();
  pollNetwork();
  pollRecent();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
