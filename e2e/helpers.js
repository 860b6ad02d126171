// Shared by the parent-school and check-in browser tests: the browser, logging in, the
// demo school's id, planning a session that starts now, and small generated files.
// Not a test file itself (node --test picks up tests/*.test.js only).
import { deflateSync, inflateRawSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const BASE = process.env.JIAXIAO_URL ?? 'http://127.0.0.1:8080';

/** The class of the demo: the head teacher `teacher` and 王小明 (王建国's son) are in it. */
export const DEMO_CLASS = '三年级(2)班';
export const DEMO_PARENT = '王建国';
export const DEMO_PARENT_PHONE = '13800000001';

export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A phone-sized context (a mid-range Android phone's CSS viewport). */
export function phone(browser) {
  return browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
}

/** Logs in through the form and waits until the server has sent us on. */
export async function login(page, who) {
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=who]', who);
  await page.fill('input[name=password]', 'jiaxiao-demo');
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.click('button[type=submit]'),
  ]);
}

/** The demo school's id, as its staff find it: /ps sends them to /ps/schools/{id}. */
export async function schoolId(page) {
  await page.goto(`${BASE}/ps`);
  const m = new URL(page.url()).pathname.match(/^\/ps\/schools\/(\d+)$/);
  if (!m) throw new Error(`/ps led to ${page.url()}`);
  return Number(m[1]);
}

/** Today's date and the current minute in Beijing, as the session form wants them. */
export function beijingNow() {
  const t = new Date(Date.now() + 8 * 3600 * 1000).toISOString();
  return { date: t.slice(0, 10), time: t.slice(11, 16) };
}

/** A title no other run or test uses. */
export function unique(prefix) {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/**
 * Plans a session through the form at /ps/schools/{id}/sessions/new, starting now (so
 * its check-in window is open), for one class (default the demo class) or the whole
 * school. Returns the new session's id.
 */
export async function createSession(page, school, { title, unit = DEMO_CLASS, instructor = '孙芳' } = {}) {
  const { date, time } = beijingNow();
  await page.goto(`${BASE}/ps/schools/${school}/sessions/new`);
  const f = page.locator('#new-session');
  await f.locator('input[name=title]').fill(title);
  await f.locator('select[name=form]').selectOption('lecture');
  await f.locator('input[name=date]').fill(date);
  await f.locator('input[name=time]').fill(time);
  await f.locator('input[name=duration_minutes]').fill('60');
  await f.locator('input[name=place]').fill('学校多功能厅');
  await f.locator('input[name=instructor_name]').fill(instructor);
  if (unit) {
    await f.locator('input[name=audience][value=units]').check();
    // The class's option ends with its name (today the list shows it as
    // "三年级三年级(2)班": the grade's name put before a class name that has it already).
    const units = f.locator('select[name=units]');
    const value = await units.locator('option').evaluateAll(
      (os, name) => os.find((o) => o.textContent.trim().endsWith(name))?.value, unit);
    if (!value) throw new Error(`no audience option for ${unit}`);
    await units.selectOption(value);
  } else {
    await f.locator('input[name=audience][value=school]').check();
  }
  await Promise.all([
    page.waitForURL(/\/sessions\/\d+$/),
    f.locator('button[type=submit]').click(),
  ]);
  return Number(new URL(page.url()).pathname.split('/').pop());
}

/** The session's current six-digit code, fetched by staff as the projector does. */
export async function checkinCode(staffPage, session) {
  const r = await staffPage.request.get(`${BASE}/api/v1/sessions/${session}/checkin-code`);
  if (r.status() !== 200) throw new Error(`checkin-code: ${r.status()} ${await r.text()}`);
  const body = await r.json();
  if (!/^\d{6}$/.test(body.code)) throw new Error(`checkin-code: ${JSON.stringify(body)}`);
  return body.code;
}

/** Bytes of `url` fetched with the page's cookies, with the response. */
export async function fetchBytes(page, url) {
  const r = await page.request.get(new URL(url, BASE).href);
  return { status: r.status(), type: r.headers()['content-type'] ?? '', body: await r.body() };
}

// ---- a small valid PNG, made here (no files in the repository, nothing downloaded) ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * A w×h RGB PNG: a red ring on white (looks enough like a seal or a photographed sheet
 * for a test). Real compressed image data, so image decoders (typst's too) accept it.
 */
export function png(w = 96, h = 96) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  const cx = w / 2, cy = h / 2, r = Math.min(w, h) * 0.42;
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x - cx, y - cy);
      const red = Math.abs(d - r) < Math.max(2, w / 24);
      const o = row + 1 + x * 3;
      raw[o] = red ? 0xd0 : 0xff;
      raw[o + 1] = red ? 0x10 : 0xff;
      raw[o + 2] = red ? 0x10 : 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The text of every XML part of an XLSX (a zip), read through its central directory. */
export function xlsxText(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  assert.ok(eocd >= 0, 'a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  let text = '';
  for (let i = 0; i < count; i += 1) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString();
    const data = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(data, data + size);
    if (name.endsWith('.xml')) text += (method === 8 ? inflateRawSync(raw) : raw).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
  }
  return text;
}
