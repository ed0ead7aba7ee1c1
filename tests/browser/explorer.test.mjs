// Browser test of the floe explorer page, driven by playwright-core with the system Chromium.
//
//   GATEWAY_URL=http://127.0.0.1:PORT  test a running gateway (unset: start the in-memory mock)
//   OUT_DIR=target/browser-test        where screenshots go
//   FLOE_BROWSER_CHAIN_DOWN_URL=URL    a gateway whose chain is unreachable (checked against the
//                                      mock without it, by switching the mock's chain off)
//   CHROMIUM=/usr/bin/chromium         the browser binary
//
// One line per step; exits non-zero with the failing step's message. Every wait is on page
// state with a timeout, never a fixed sleep.

import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { HOSTILE, HOSTILE_BLOB_ID, startMockGateway } from './mock-gateway.mjs';

const OUT_DIR = path.resolve(process.env.OUT_DIR || 'target/browser-test');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHAIN_DOWN_URL = process.env.FLOE_BROWSER_CHAIN_DOWN_URL || null;
const STEP_TIMEOUT_MS = 20000;
const CERTIFY_TIMEOUT_MS = Number(process.env.FLOE_BROWSER_CERTIFY_TIMEOUT_MS || 180000);

let passed = 0;
let failed = 0;
const screenshots = [];

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
    throw e;
  }
  passed += 1;
  console.log(`ok   ${name} (${Date.now() - t0} ms)`);
}

function skip(name, why) {
  console.log(`skip ${name}: ${why}`);
}

async function shot(page, name, opts = {}) {
  const file = path.join(OUT_DIR, name);
  await page.screenshot({ path: file, fullPage: true, ...opts });
  screenshots.push(file);
  return file;
}

async function main() {
  await mkdir(OUT_DIR, { recursive: true });
  let mock = null;
  let base = process.env.GATEWAY_URL ? process.env.GATEWAY_URL.replace(/\/+$/, '') : null;
  if (!base) {
    mock = await startMockGateway({});
    base = mock.url;
    console.log(`info mock gateway at ${base}`);
  } else {
    console.log(`info gateway at ${base}`);
  }

  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'floe-browser-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
      timeout: 60000,
    });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    await run(context, base, mock);
  } catch (e) {
    if (context) {
      const pages = context.pages();
      if (pages.length) {
        const f = await shot(pages[0], 'failure.png').catch(() => null);
        if (f) console.log(`info failure screenshot: ${f}`);
      }
    }
    console.error(`\nbrowser test failed: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    if (mock) await mock.close();
    for (const s of screenshots) console.log(`info screenshot: ${s}`);
    console.log(`browser: ${passed} passed, ${failed} failed`);
  }
}

async function run(context, base, mock) {
  const page = context.pages()[0] || (await context.newPage());
  const pageErrors = [];
  const cspViolations = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (msg) => {
    const t = msg.text();
    if (/Content Security Policy/i.test(t)) cspViolations.push(t);
  });
  page.on('dialog', (d) => {
    pageErrors.push(`unexpected dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });

  const api = async (p) => {
    const r = await fetch(`${base}${p}`);
    assert(r.ok, `GET ${p} answered ${r.status}`);
    return r.json();
  };

  await step('page loads with network data', async () => {
    const resp = await page.goto(`${base}/`, { waitUntil: 'load' });
    assert(resp && resp.ok(), `GET / answered ${resp && resp.status()}`);
    await page.waitForFunction(() => /^\d/.test(document.getElementById('net-epoch').textContent));
    assert(await page.locator('#banner').isHidden(), 'the chain-down banner shows while the chain is up');
  });

  await step('network panel: epoch, parameters, committee rows', async () => {
    const netJson = await api('/v1/network');
    const epochText = (await page.textContent('#net-epoch')).replace(/,/g, '');
    // The epoch may tick over between the two reads only at an epoch boundary.
    assert(Number(epochText) === netJson.epoch || Number(epochText) === netJson.epoch - 1,
      `page shows epoch ${epochText}, API says ${netJson.epoch}`);
    assert((await page.textContent('#net-n')).replace(/,/g, '') === String(netJson.nShards), 'n differs from the API');
    assert((await page.textContent('#net-f')).replace(/,/g, '') === String(netJson.f), 'f differs from the API');
    assert((await page.textContent('#net-quorum')).replace(/,/g, '') === String(netJson.quorum), 'quorum differs from the API');
    const rows = page.locator('#committee-body tr[data-health]');
    assert(await rows.count() === netJson.committee.length,
      `committee has ${await rows.count()} rows, API has ${netJson.committee.length} nodes`);
    const first = netJson.committee[0];
    const firstRow = await rows.first().textContent();
    assert(firstRow.includes(first.address), `first committee row lacks the address ${first.address}`);
    assert(firstRow.includes(String(first.shards)), 'first committee row lacks the shard count');
    const healthy = netJson.committee.filter((n) => n.health && n.health.ok).length;
    assert((await page.textContent('#net-healthy')).trim() === `${healthy} / ${netJson.committee.length}`,
      'healthy count differs from the API');
  });

  await step('epoch countdown is live', async () => {
    const before = await page.getAttribute('#net-timeleft', 'data-seconds-left');
    assert(before !== null && /^\d+$/.test(before), `no countdown value (${before})`);
    assert(/\d+m \d\ds|\d+h \d\dm|\d+d/.test(await page.textContent('#net-timeleft')), 'countdown is not a duration');
    await page.waitForFunction((b) => document.getElementById('net-timeleft').dataset.secondsLeft !== b, before,
      { timeout: 5000 });
  });

  if (mock) {
    await step('an unhealthy node is marked (mock)', async () => {
      await mock.control({ nodeDown: [1] });
      await page.waitForSelector('#committee-body tr[data-health="down"]', { timeout: STEP_TIMEOUT_MS });
      const down = page.locator('#committee-body tr[data-health="down"]');
      assert(await down.count() === 1, `expected 1 unhealthy row, saw ${await down.count()}`);
      const text = await down.textContent();
      assert(text.includes('Unreachable'), 'the unhealthy row does not say Unreachable');
      assert(text.includes(HOSTILE), 'the hostile health error is not shown literally as text');
      assert(await page.locator('#committee img, #committee script').count() === 0, 'a health error became HTML');
      assert((await page.textContent('#net-healthy')).trim() === '3 / 4', 'healthy count is not 3 / 4');
      await mock.control({ nodeDown: [] });
      await page.waitForFunction(() => !document.querySelector('#committee-body tr[data-health="down"]'),
        null, { timeout: STEP_TIMEOUT_MS });
    });
  } else {
    skip('an unhealthy node is marked', 'only against the mock');
  }

  await shot(page, 'desktop-home.png');

  const content = randomBytes(300 * 1024 + 17);
  const mime = 'application/x-floe-test';
  let blobId = null;
  await step('upload a random file through the page', async () => {
    await page.setInputFiles('#file-input', { name: 'random.bin', mimeType: mime, buffer: content });
    assert((await page.textContent('#file-summary')).includes('random.bin'), 'the chosen file is not shown');
    await page.fill('#epochs-input', '3');
    await page.check('#deletable-input');
    // Record every phase the progress view goes through (attribute changes, in order).
    await page.evaluate(() => {
      const target = document.getElementById('upload-progress');
      window.__phases = [];
      new MutationObserver((records) => {
        for (const r of records) window.__phases.push(r.oldValue);
        window.__phases.push(target.dataset.phase);
      }).observe(target, { attributes: true, attributeFilter: ['data-phase'], attributeOldValue: true });
    });
    await page.click('#upload-button');
    await page.waitForFunction(() => /^#\/blob\/0x[0-9a-f]{64}$/.test(location.hash), null, { timeout: CERTIFY_TIMEOUT_MS });
    blobId = (await page.evaluate(() => location.hash)).slice('#/blob/'.length);
    await page.waitForSelector('#blob-state[data-state="certified"]', { timeout: CERTIFY_TIMEOUT_MS });
    const phases = await page.evaluate(() => window.__phases.filter((p, i, a) => p && p !== a[i - 1]));
    let at = -1;
    for (const want of ['receive', 'encode', 'upload', 'certify', 'done']) {
      const i = phases.indexOf(want, at + 1);
      assert(i > at, `progress skipped the ${want} phase (saw ${phases.join(' → ')})`);
      at = i;
    }
    assert(await page.getAttribute('#upload-bar', 'value') === '100', 'progress bar did not reach 100');
    console.log(`info stored ${blobId}; phases ${phases.join(' → ')}`);
  });

  await step('blob page shows state, size, owner, deletable, epochs, attributes, transactions', async () => {
    const info = await api(`/v1/blobs/${blobId}/info`);
    const text = (sel) => page.textContent(sel);
    assert((await text('[data-testid="state"]')).trim() === 'certified', 'state is not certified');
    assert((await text('[data-testid="size"]')).includes(`${content.length.toLocaleString('en-US')} bytes`), 'size is wrong');
    assert((await text('[data-testid="deletable"]')).trim() === 'yes', 'deletable is not yes');
    assert((await text('[data-testid="owners"]')).includes(info.registrations[0].owner), 'owner is missing');
    assert((await text('[data-testid="end-epoch"]')).includes(`epoch ${info.endEpoch}`), 'end epoch is missing');
    assert((await text('[data-testid="registration-count"]')).trim() === String(info.registrations.length), 'registration count differs');
    assert((await text('#blob-attributes')).includes(mime), 'the content-type attribute is missing');
    const regText = await text('#blob-registrations');
    const tx = info.registrations[0].registerTx;
    if (tx) assert(regText.includes(tx), 'the register transaction hash is missing');
    const ctx = info.registrations[0].certifyTx;
    if (ctx) assert(regText.includes(ctx), 'the certify transaction hash is missing');
  });
  await shot(page, 'desktop-blob.png');

  await step('download through the page link returns the exact bytes', async () => {
    const href = await page.getAttribute('#blob-download', 'href');
    assert(href === `/v1/blobs/${blobId}`, `download link is ${href}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#blob-download')]);
    const file = await download.path();
    const got = await readFile(file);
    assert(got.length === content.length, `downloaded ${got.length} bytes, uploaded ${content.length}`);
    assert(got.equals(content), 'downloaded bytes differ from the uploaded ones');
  });

  await step('recent blobs list the upload and link to it', async () => {
    await page.click('#recent-refresh');
    const link = page.locator(`#recent-list a[href="#/blob/${blobId}"]`).first();
    await link.waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.click('a.back-link');
    await page.waitForSelector('#blob-view', { state: 'hidden' });
    await link.click();
    await page.waitForSelector('#blob-state[data-state="certified"]');
    assert((await page.evaluate(() => location.hash)) === `#/blob/${blobId}`, 'recent link went elsewhere');
  });

  await step('looking up an unknown id says not found', async () => {
    const unknown = `0x${randomBytes(32).toString('hex')}`;
    await page.fill('#lookup-input', unknown.toUpperCase().replace('0X', '0x'));
    await page.press('#lookup-input', 'Enter');
    await page.waitForFunction(() => document.getElementById('blob-title').textContent === 'Blob not found');
    assert((await page.evaluate(() => location.hash)) === `#/blob/${unknown}`, 'the hash is not the normalised id');
    assert(/not found|never registered/i.test(await page.textContent('#blob-view')), 'no not-found message');
    assert((await page.textContent('#blob-body')).includes(unknown), 'the looked-up id is not shown');
  });

  await step('a malformed id is refused with a message', async () => {
    await page.fill('#lookup-input', '0x1234zz');
    await page.press('#lookup-input', 'Enter');
    await page.waitForSelector('#lookup-error', { state: 'visible' });
    assert((await page.textContent('#lookup-error')).includes('64 hexadecimal digits'), 'unclear id error');
    assert(await page.getAttribute('#lookup-input', 'aria-invalid') === 'true', 'input not marked invalid');
  });

  await step('a linkable blob URL opens the blob page directly', async () => {
    await page.goto(`${base}/#/blob/${blobId.slice(2)}`);
    await page.waitForSelector('#blob-state[data-state="certified"]');
  });

  if (mock) {
    await step('hostile attributes are shown as text, never as HTML (mock)', async () => {
      await page.goto(`${base}/#/blob/${HOSTILE_BLOB_ID}`);
      await page.waitForSelector('#blob-state[data-state="certified"]');
      const attrs = await page.textContent('#blob-attributes');
      assert(attrs.includes(HOSTILE) && attrs.includes(`value ${HOSTILE}`), 'hostile attributes not shown literally');
      assert(await page.locator('main img, main script').count() === 0, 'an attribute became an element');
      assert(await page.evaluate(() => window.__pwned === undefined), 'hostile markup ran');
    });

    await step('dropping a file on the drop zone selects it', async () => {
      await page.goto(`${base}/`);
      const dt = await page.evaluateHandle(() => {
        const t = new DataTransfer();
        t.items.add(new File([new Uint8Array(4096).fill(7)], 'dropped.bin', { type: 'application/x-floe-test' }));
        return t;
      });
      await page.dispatchEvent('#dropzone', 'dragenter', { dataTransfer: dt });
      assert(await page.locator('#dropzone.dragging').count() === 1, 'the drop zone does not highlight on drag');
      await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: dt });
      assert((await page.textContent('#file-summary')).includes('dropped.bin'), 'the dropped file is not selected');
      assert(await page.locator('#dropzone.dragging').count() === 0, 'the drop zone stays highlighted');
      assert(await page.isEnabled('#upload-button'), 'the upload button is not enabled after a drop');
    });

    await step('an upload failing mid-stream shows the NDJSON error (mock)', async () => {
      await mock.control({ failNextUpload: 'ndjson' });
      await page.click('#upload-button');
      await page.waitForSelector('#upload-error', { state: 'visible' });
      const err = await page.textContent('#upload-error');
      assert(err.includes('metadata mismatch') && err.includes('(unavailable)'), `unclear error: ${err}`);
      assert(await page.locator('#upload-steps li.step-failed').count() === 1, 'the failed phase is not marked');
      assert((await page.evaluate(() => location.hash)) === '', 'navigated away on a failed upload');
    });
    await shot(page, 'desktop-upload-error.png');

    await step('an upload refused with JSON 503 shows error, code and retry hint (mock)', async () => {
      await mock.control({ failNextUpload: 'json' });
      await page.setInputFiles('#file-input', { name: 'fails-again.bin', mimeType: mime, buffer: randomBytes(2048) });
      await page.click('#upload-button');
      await page.waitForFunction(() => /too few storage nodes/.test(document.getElementById('upload-error').textContent));
      const err = await page.textContent('#upload-error');
      assert(err.includes('(unavailable)') && err.includes('Retry in 5 s'), `unclear error: ${err}`);
    });
  } else {
    skip('hostile attributes / upload errors', 'only against the mock');
  }

  await step('phone width (375 px): no horizontal overflow', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${base}/`);
    await page.waitForSelector('#committee-body tr[data-health]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(overflow <= 375, `the home page is ${overflow} px wide at 375 px`);
    await shot(page, 'phone-home.png');
    await page.goto(`${base}/#/blob/${blobId}`);
    await page.waitForSelector('#blob-state[data-state="certified"]');
    const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(overflow2 <= 375, `the blob page is ${overflow2} px wide at 375 px`);
    await shot(page, 'phone-blob.png');
    await shot(page, 'phone-blob-top.png', { fullPage: false });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  if (mock || CHAIN_DOWN_URL) {
    await step('chain down: banner "chain unreachable, retrying"', async () => {
      if (mock) {
        await page.goto(`${base}/`);
        await page.waitForSelector('#committee-body tr[data-health]');
        await mock.control({ chainDown: true });
      } else {
        await page.goto(`${CHAIN_DOWN_URL.replace(/\/+$/, '')}/`);
      }
      await page.waitForSelector('#banner', { state: 'visible', timeout: STEP_TIMEOUT_MS });
      const text = await page.textContent('#banner-text');
      assert(/chain unreachable, retrying/i.test(text), `banner says "${text}"`);
      await shot(page, 'desktop-chain-down.png', { fullPage: false });
      if (mock) {
        await mock.control({ chainDown: false });
        await page.click('#banner-retry');
        await page.waitForSelector('#banner', { state: 'hidden' });
      }
    });
  } else {
    skip('chain down banner', 'set FLOE_BROWSER_CHAIN_DOWN_URL to check it against a real gateway');
  }

  await step('no script errors and no CSP violations', async () => {
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
    assert(cspViolations.length === 0, `CSP violations: ${cspViolations.join(' | ')}`);
  });
}

await main();
