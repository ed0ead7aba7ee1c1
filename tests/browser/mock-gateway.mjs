// An in-memory stand-in for the floe gateway's HTTP API (docs/GATEWAY.md), for testing the
// explorer page without a chain or storage nodes. It serves the three web files from
// gateway/web under the same strict CSP as the real gateway, keeps blobs in a Map, streams
// NDJSON progress on PUT, and has a control route (`POST /__mock/control`) to simulate the
// chain being down, nodes failing, and uploads failing.
//
// Run alone: `node tests/browser/mock-gateway.mjs [--port N]` prints `mock gateway: URL`.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_WEB_DIR = path.resolve(HERE, '../../gateway/web');

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const WEB_FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/assets/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/assets/style.css': ['style.css', 'text/css; charset=utf-8'],
};

const PUBLISHER = '0x5eed000000000000000000000000000000000001';
const CONTROL_MAX_BYTES = 4096;

/** A hostile string: if the page ever parses API data as HTML, the test sees an <img>/<script>. */
export const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

function sha256Hex(buf) {
  return `0x${createHash('sha256').update(buf).digest('hex')}`;
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function sendError(res, status, code, error, headers = {}) {
  sendJson(res, status, { error, code }, headers);
}

const wait = (ms) => new Promise((resolve) => {
  setTimeout(resolve, ms);
});

/** Read a request body up to `limit` bytes; null if it is larger (the rest is discarded). */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (c) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parse `Range: bytes=…` (one range) against `len`: null = ignore, 'bad' = 416, else [a, b]. */
function parseRange(header, len) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let a;
  let b;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'bad';
    a = Math.max(0, len - n);
    b = len - 1;
  } else {
    a = Number(m[1]);
    b = m[2] === '' ? len - 1 : Math.min(Number(m[2]), len - 1);
    if (m[2] !== '' && Number(m[2]) < a) return null;
  }
  if (a >= len) return 'bad';
  return [a, b];
}

export function createMockState(opts = {}) {
  const epochDurationSecs = opts.epochDurationSecs ?? 3600;
  const genesis = Math.floor(Date.now() / 1000) - 7 * epochDurationSecs - 1234;
  const state = {
    chainDown: false,
    nodeDown: new Set(),
    failNextUpload: null, // null | 'json' | 'ndjson'
    phaseDelayMs: opts.phaseDelayMs ?? 40,
    maxBodyBytes: opts.maxBodyBytes ?? 8 * 1024 * 1024,
    epochDurationSecs,
    genesis,
    blobs: new Map(), // id → { bytes, size, registrations: [...] }
    nextRegistrationId: 1,
    block: 100,
    nodes: [
      { node: '0x' + '11'.repeat(32), address: '127.0.0.1:4001', shards: 25, stake: '12000000000000', commissionBps: 100 },
      { node: '0x' + '22'.repeat(32), address: '127.0.0.1:4002', shards: 25, stake: '9500000000000', commissionBps: 250 },
      { node: '0x' + '33'.repeat(32), address: '127.0.0.1:4003', shards: 25, stake: '7000000000000', commissionBps: 0 },
      { node: '0x' + '44'.repeat(32), address: '127.0.0.1:4004', shards: 25, stake: '1000000000', commissionBps: 1000 },
    ],
  };
  return state;
}

function currentEpoch(state) {
  const now = Math.floor(Date.now() / 1000);
  return Math.floor((now - state.genesis) / state.epochDurationSecs);
}

function fakeTx(...parts) {
  return sha256Hex(Buffer.from(parts.join(':')));
}

/** Store `bytes` as a blob (or add a registration to it); returns the put answer. */
function storeBlob(state, bytes, { epochs, deletable, attributes, owner }) {
  const id = sha256Hex(bytes);
  const epoch = currentEpoch(state);
  let entry = state.blobs.get(id);
  const existingCertified = entry && entry.registrations.find((r) => r.state === 'certified' && !r.deletable && !deletable);
  if (existingCertified && existingCertified.endEpoch >= epoch + epochs) {
    return {
      alreadyCertified: {
        blobObject: blobObject(id, entry, existingCertified),
        transactions: [],
      },
    };
  }
  if (!entry) {
    entry = { bytes, size: bytes.length, registrations: [] };
    state.blobs.set(id, entry);
  }
  const registrationId = state.nextRegistrationId++;
  state.block += 2;
  const reg = {
    registrationId,
    owner: owner || PUBLISHER,
    state: 'certified',
    deletable,
    shared: false,
    registeredEpoch: epoch,
    certifiedEpoch: epoch,
    endEpoch: epoch + epochs,
    attributes,
    registerTx: fakeTx('register', id, registrationId),
    certifyTx: fakeTx('certify', id, registrationId),
    blockNumber: state.block,
  };
  entry.registrations.unshift(reg);
  const transactions = [
    { action: 'register', hash: reg.registerTx },
    { action: 'setAttributes', hash: fakeTx('attrs', id, registrationId) },
    { action: 'certify', hash: reg.certifyTx },
  ];
  const mib = Math.max(1, Math.ceil((bytes.length * 5) / 1048576));
  return {
    newlyCreated: {
      blobObject: blobObject(id, entry, reg),
      costFrost: String(mib * (1000 * epochs + 100)),
      transactions,
    },
  };
}

function blobObject(id, entry, reg) {
  return {
    blobId: id,
    registrationId: reg.registrationId,
    owner: reg.owner,
    size: entry.size,
    deletable: reg.deletable,
    endEpoch: reg.endEpoch,
    shared: reg.shared,
  };
}

function primaryRegistration(entry) {
  // The first registration (oldest) is the primary one; registrations are kept newest first.
  return entry.registrations[entry.registrations.length - 1];
}

function blobInfo(state, id, entry) {
  const epoch = currentEpoch(state);
  const primary = primaryRegistration(entry);
  const certified = entry.registrations.filter((r) => r.state === 'certified' && r.endEpoch > epoch);
  const endEpoch = Math.max(...entry.registrations.map((r) => r.endEpoch));
  const certifiedEndEpoch = certified.length ? Math.max(...certified.map((r) => r.endEpoch)) : null;
  let blobState = 'registered';
  if (certified.length) blobState = 'certified';
  else if (entry.registrations.every((r) => r.state === 'deleted')) blobState = 'deleted';
  else if (endEpoch <= epoch) blobState = 'expired';
  return {
    blobId: id,
    state: blobState,
    size: entry.size,
    currentEpoch: epoch,
    endEpoch,
    certifiedEndEpoch,
    primaryRegistrationId: primary.registrationId,
    attributes: primary.attributes,
    downloadUrl: `/v1/blobs/${id}`,
    registrations: entry.registrations.slice(0, 50).map((r) => ({
      registrationId: r.registrationId,
      owner: r.owner,
      state: r.state,
      deletable: r.deletable,
      shared: r.shared,
      registeredEpoch: r.registeredEpoch,
      certifiedEpoch: r.certifiedEpoch,
      endEpoch: r.endEpoch,
      attributes: r.attributes,
      registerTx: r.registerTx,
      certifyTx: r.certifyTx,
    })),
  };
}

function network(state) {
  const now = Math.floor(Date.now() / 1000);
  const epoch = currentEpoch(state);
  const epochStartedAt = state.genesis + epoch * state.epochDurationSecs;
  return {
    chainId: 31337,
    epoch,
    now,
    epochStartedAt,
    epochDurationSecs: state.epochDurationSecs,
    nextEpochAt: epochStartedAt + state.epochDurationSecs,
    nShards: 100,
    f: 33,
    quorum: 67,
    maxBlobSize: 149286452,
    storagePricePerMibEpoch: '1000',
    writePricePerMib: '100',
    committee: state.nodes.map((n, i) => ({
      ...n,
      health: state.nodeDown.has(i)
        ? { ok: false, latencyMs: null, epoch: null, error: `connect ${n.address}: connection refused ${HOSTILE}` }
        : { ok: true, latencyMs: 2 + i, epoch, error: null },
    })),
    publisher: { open: true, address: PUBLISHER, maxBodyBytes: state.maxBodyBytes },
  };
}

const BLOB_ROUTE = /^\/v1\/blobs\/([^/]+)(\/info)?$/;

function parseId(raw) {
  const m = /^(?:0x)?([0-9a-fA-F]{64})$/.exec(raw);
  return m ? `0x${m[1].toLowerCase()}` : null;
}

async function handle(state, webDir, req, res) {
  const url = new URL(req.url, 'http://mock');
  const p = url.pathname;

  if (p === '/__mock/control' && req.method === 'POST') {
    const body = await readBody(req, CONTROL_MAX_BYTES);
    let ctl;
    try {
      ctl = JSON.parse(body ? body.toString('utf8') : '');
    } catch {
      return sendError(res, 400, 'bad_request', 'control body must be JSON');
    }
    if ('chainDown' in ctl) state.chainDown = ctl.chainDown === true;
    if ('nodeDown' in ctl) state.nodeDown = new Set(Array.isArray(ctl.nodeDown) ? ctl.nodeDown : []);
    if ('failNextUpload' in ctl) state.failNextUpload = ctl.failNextUpload;
    return sendJson(res, 200, { chainDown: state.chainDown, nodeDown: [...state.nodeDown], failNextUpload: state.failNextUpload });
  }

  if ((req.method === 'GET' || req.method === 'HEAD') && WEB_FILES[p]) {
    const [file, type] = WEB_FILES[p];
    const bytes = await readFile(path.join(webDir, file));
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': bytes.length,
      'Content-Security-Policy': PAGE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    });
    return res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  if (p === '/v1/network' && req.method === 'GET') {
    if (state.chainDown) return sendError(res, 503, 'unavailable', 'the chain RPC did not answer; retry later', { 'Retry-After': '2' });
    return sendJson(res, 200, network(state));
  }

  if (p === '/v1/recent' && req.method === 'GET') {
    const raw = url.searchParams.get('limit') ?? '20';
    const limit = Number(raw);
    if (!/^\d+$/.test(raw) || limit < 1 || limit > 100) return sendError(res, 400, 'bad_request', 'limit must be 1..100');
    if (state.chainDown) return sendError(res, 503, 'unavailable', 'the chain RPC did not answer; retry later', { 'Retry-After': '2' });
    const all = [];
    for (const [id, entry] of state.blobs) {
      for (const r of entry.registrations) {
        all.push({
          blobId: id, registrationId: r.registrationId, owner: r.owner, size: entry.size, deletable: r.deletable,
          epoch: r.registeredEpoch, blockNumber: r.blockNumber, txHash: r.registerTx, certified: r.state === 'certified',
        });
      }
    }
    all.sort((a, b) => b.blockNumber - a.blockNumber);
    return sendJson(res, 200, { blobs: all.slice(0, limit) });
  }

  if (p === '/v1/blobs' && req.method === 'PUT') return handlePut(state, url, req, res);

  const m = BLOB_ROUTE.exec(p);
  if (m && (req.method === 'GET' || req.method === 'HEAD')) {
    const id = parseId(m[1]);
    if (!id) return sendError(res, 400, 'bad_request', 'a blob id is 64 hex digits, optionally 0x-prefixed');
    if (state.chainDown) return sendError(res, 503, 'unavailable', 'the chain RPC did not answer; retry later', { 'Retry-After': '2' });
    const entry = state.blobs.get(id);
    if (!entry) return sendError(res, 404, 'not_found', `no blob ${id} was ever registered`);
    if (m[2]) return sendJson(res, 200, blobInfo(state, id, entry));
    return sendBlob(state, id, entry, req, res);
  }

  return sendError(res, 404, 'not_found', `no route ${req.method} ${p}`);
}

function sendBlob(state, id, entry, req, res) {
  const info = blobInfo(state, id, entry);
  if (info.state !== 'certified') return sendError(res, 410, 'gone', `blob ${id} is ${info.state}`);
  const attrs = info.attributes || {};
  const headers = {
    'Content-Type': attrs['content-type'] || 'application/octet-stream',
    ETag: `"${id}"`,
    'Accept-Ranges': 'bytes',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': 'sandbox',
    'Cache-Control': 'public, max-age=3600, immutable',
    'X-Floe-Registration': String(info.primaryRegistrationId),
  };
  for (const h of ['content-disposition', 'content-encoding', 'content-language']) {
    if (typeof attrs[h] === 'string') headers[h] = attrs[h];
  }
  if (req.headers['if-none-match'] === `"${id}"`) {
    res.writeHead(304, headers);
    return res.end();
  }
  const range = parseRange(req.headers.range, entry.size);
  if (range === 'bad') return sendError(res, 416, 'range_not_satisfiable', 'range outside the blob', { 'Content-Range': `bytes */${entry.size}` });
  let body = entry.bytes;
  let status = 200;
  if (range) {
    body = entry.bytes.subarray(range[0], range[1] + 1);
    status = 206;
    headers['Content-Range'] = `bytes ${range[0]}-${range[1]}/${entry.size}`;
  }
  headers['Content-Length'] = body.length;
  res.writeHead(status, headers);
  return res.end(req.method === 'HEAD' ? undefined : body);
}

async function handlePut(state, url, req, res) {
  const q = url.searchParams;
  const epochsRaw = q.get('epochs') ?? '1';
  const epochs = Number(epochsRaw);
  if (!/^\d+$/.test(epochsRaw) || epochs < 1 || epochs > 1000) {
    return sendError(res, 400, 'bad_request', `epochs must be a whole number 1..1000, got "${epochsRaw.slice(0, 40)}"`);
  }
  const delRaw = q.get('deletable') ?? 'false';
  if (delRaw !== 'true' && delRaw !== 'false') return sendError(res, 400, 'bad_request', 'deletable must be true or false');
  let attributes = {};
  if (q.has('attributes')) {
    try {
      attributes = JSON.parse(q.get('attributes'));
    } catch {
      return sendError(res, 400, 'bad_request', 'attributes must be a JSON object of strings');
    }
    if (!attributes || typeof attributes !== 'object' || Array.isArray(attributes)
      || Object.values(attributes).some((v) => typeof v !== 'string')) {
      return sendError(res, 400, 'bad_request', 'attributes must be a JSON object of strings');
    }
  }
  const owner = q.get('owner');
  if (owner !== null && !/^0x[0-9a-fA-F]{40}$/.test(owner)) return sendError(res, 400, 'bad_request', 'owner must be a 0x-prefixed 20-byte address');
  const body = await readBody(req, state.maxBodyBytes);
  if (body === null) return sendError(res, 413, 'payload_too_large', `the body is over this gateway's limit of ${state.maxBodyBytes} bytes`);
  if (body.length === 0) return sendError(res, 400, 'bad_request', 'the body is empty; a blob has at least one byte');
  if (state.chainDown) return sendError(res, 503, 'unavailable', 'the chain RPC did not answer; retry later', { 'Retry-After': '2' });

  const fail = state.failNextUpload;
  state.failNextUpload = null;
  if (fail === 'json') {
    return sendError(res, 503, 'unavailable', 'too few storage nodes answered (1 of 4); retry later', { 'Retry-After': '5' });
  }

  const opts = { epochs, deletable: delRaw === 'true', attributes, owner };
  const ndjson = (req.headers.accept || '').includes('application/x-ndjson');
  if (!ndjson) return sendJson(res, 200, storeBlob(state, body, opts));

  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
  const line = async (obj) => {
    res.write(`${JSON.stringify(obj)}\n`);
    await wait(state.phaseDelayMs);
  };
  await line({ phase: 'receive', bytes: body.length });
  await line({ phase: 'encode', shards: 100 });
  await line({ phase: 'register' });
  if (fail === 'ndjson') {
    res.end(`${JSON.stringify({ error: 'storage node 127.0.0.1:4002 rejected sliver 7: metadata mismatch; retry the upload', code: 'unavailable' })}\n`);
    return undefined;
  }
  for (let i = 0; i < state.nodes.length; i++) await line({ phase: 'upload', node: i + 1, of: state.nodes.length });
  await line({ phase: 'certify' });
  if (owner) await line({ phase: 'transfer', owner });
  // The last line goes out without a trailing newline: the page must still read it.
  res.end(JSON.stringify({ result: storeBlob(state, body, opts) }));
  return undefined;
}

/** Seed blobs whose attributes are hostile, to check the page never renders them as HTML. */
function seed(state) {
  storeBlob(state, Buffer.from('hello from the floe mock gateway\n'), {
    epochs: 5, deletable: false, attributes: { 'content-type': 'text/plain' }, owner: null,
  });
  storeBlob(state, Buffer.from('hostile attributes'), {
    epochs: 3,
    deletable: true,
    attributes: { 'content-type': HOSTILE, [HOSTILE]: `value ${HOSTILE}` },
    owner: null,
  });
}

export const HOSTILE_BLOB_ID = sha256Hex(Buffer.from('hostile attributes'));

export async function startMockGateway(opts = {}) {
  const state = createMockState(opts);
  if (opts.seed !== false) seed(state);
  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  const server = http.createServer((req, res) => {
    handle(state, webDir, req, res).catch((e) => {
      if (!res.headersSent) sendError(res, 503, 'unavailable', `mock failure: ${e.message}`, { 'Retry-After': '1' });
      else res.destroy();
    });
  });
  server.requestTimeout = 30000;
  server.headersTimeout = 10000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const addr = server.address();
  const url = `http://${addr.address}:${addr.port}`;
  return {
    url,
    state,
    async control(ctl) {
      const r = await fetch(`${url}/__mock/control`, { method: 'POST', body: JSON.stringify(ctl) });
      if (!r.ok) throw new Error(`mock control answered ${r.status}`);
      return r.json();
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
  const gw = await startMockGateway({ port });
  console.log(`mock gateway: ${gw.url}`);
}
