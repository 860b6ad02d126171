// Browser tests of check-in (签到), the hot path of a parents' evening: the projector's
// QR code and six-digit code, a parent's phone checking in from the QR link (and being
// told "already checked in" the second time), a parent typing the code, and a head
// teacher marking a parent from the class roster while the live board follows. Each test
// plans its own session starting now, so its check-in window is open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, DEMO_CLASS, DEMO_PARENT, DEMO_PARENT_PHONE,
  launch, phone, login, schoolId, createSession, checkinCode, unique,
} from '../helpers.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The school admin plans a session for the demo class starting now. */
async function plannedSession(prefix) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await login(page, 'school');
  const school = await schoolId(page);
  const title = unique(prefix);
  const sid = await createSession(page, school, { title });
  return { ctx, page, sid, title };
}

test('the projector shows a QR code and a six-digit code', async () => {
  const { ctx, page, sid, title } = await plannedSession('投屏 e2e');
  await page.click(`#checkin-links a[href="/sessions/${sid}/projector"]`);
  await page.waitForURL(/\/projector$/);
  assert.equal(await page.textContent('#projector h1'), title);
  const qr = page.locator('#qr svg');
  await qr.waitFor({ state: 'visible' });
  const box = await qr.boundingBox();
  assert.ok(box.width >= 200 && box.height >= 200, `QR code of ${box.width}×${box.height}`);
  assert.ok((await qr.locator('path, rect').count()) >= 1, 'the QR code has modules');
  assert.match((await page.textContent('#code')).trim(), /^\d{6}$/);
  // The screen keeps asking for the current code; the staff API answers the same shape.
  const code = await checkinCode(page, sid);
  assert.match(code, /^\d{6}$/);
  await ctx.close();
});

test('a parent checks in on a phone from the QR link; scanning again says already checked in', async () => {
  const { ctx, page, sid, title } = await plannedSession('扫码签到 e2e');

  // The phone is not logged in: the link goes by the login page and comes back.
  const pctx = await phone(browser);
  const p = await pctx.newPage();
  await page.goto(`${BASE}/sessions/${sid}/projector`);
  let code = (await page.textContent('#code')).trim();
  await p.goto(`${BASE}/p/checkin/${sid}?c=${code}`);
  await p.waitForURL(/\/login/);
  await p.fill('input[name=who]', DEMO_PARENT_PHONE);
  await p.fill('input[name=password]', 'jiaxiao-demo');
  await Promise.all([p.waitForURL(new RegExp(`/p/checkin/${sid}\\?c=\\d{6}$`)), p.click('button[type=submit]')]);
  assert.match(await p.textContent('.checkin'), new RegExp(title));

  // The code on the projector moves on every 30 s; read the current one, as a parent
  // who has just logged in would scan the screen again.
  await page.reload();
  code = (await page.textContent('#code')).trim();
  await p.goto(`${BASE}/p/checkin/${sid}?c=${code}`);
  await Promise.all([p.waitForURL(/ok=new/), p.tap('#tap')]);
  const first = (await p.textContent('#checkin-result')).trim();
  assert.match(first, /^签到成功 \d{2}:\d{2}$/);
  const at = first.match(/\d{2}:\d{2}/)[0];
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `page is ${width}px wide`);

  // Scanning again: no second check-in, the first one's time.
  await p.goto(`${BASE}/p/checkin/${sid}?c=${code}`);
  assert.equal((await p.textContent('#checkin-result')).trim(), `已签到 ${at}`);
  assert.equal(await p.locator('#tap').count(), 0);
  await pctx.close();

  // Staff see him on the live board, checked in by QR code.
  await page.goto(`${BASE}/sessions/${sid}/checkins`);
  const row = page.locator('#came-list tr', { hasText: DEMO_PARENT });
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /扫码/);
  assert.match(await row.textContent(), new RegExp(at));
  await ctx.close();
});

test('a parent opens the session on the phone and types the six-digit code', async () => {
  const { ctx, page, sid, title } = await plannedSession('签到码 e2e');
  const pctx = await phone(browser);
  const p = await pctx.newPage();
  await login(p, DEMO_PARENT_PHONE);
  await p.goto(`${BASE}/p/sessions/${sid}`);
  assert.equal(await p.textContent('h1'), title);
  await Promise.all([p.waitForURL(new RegExp(`/p/checkin/${sid}$`)), p.tap(`a.button[href="/p/checkin/${sid}"]`)]);
  await p.fill('.type-code input[name=code]', await checkinCode(page, sid));
  await Promise.all([p.waitForURL(/ok=new/), p.tap('.type-code button[type=submit]')]);
  const done = (await p.textContent('#checkin-result')).trim();
  assert.match(done, /^签到成功 \d{2}:\d{2}$/);
  // The session's page now shows the check-in instead of the button.
  await p.goto(`${BASE}/p/sessions/${sid}`);
  assert.equal(await p.locator(`a.button[href="/p/checkin/${sid}"]`).count(), 0);
  assert.match(await p.textContent('dl.facts'), new RegExp(done.match(/\d{2}:\d{2}/)[0]));
  await pctx.close();

  await page.goto(`${BASE}/sessions/${sid}/checkins`);
  assert.match(await page.locator('#came-list tr', { hasText: DEMO_PARENT }).textContent(), /签到码/);
  await ctx.close();
});

test('the head teacher marks a parent from the class roster and the live board shows them', async () => {
  const { ctx: sctx, sid } = await plannedSession('代签 e2e');
  await sctx.close();

  const ctx = await browser.newContext();
  const board = await ctx.newPage();
  await login(board, 'teacher');
  await board.goto(`${BASE}/sessions/${sid}/checkins`);
  assert.equal((await board.textContent('#came')).trim(), '0');

  // In a second tab: the class roster, everyone absent but one parent present.
  const mark = await ctx.newPage();
  await mark.goto(`${BASE}/sessions/${sid}/mark`);
  await Promise.all([mark.waitForURL(/class=\d+/), mark.click(`nav.tabs a:has-text("${DEMO_CLASS}")`)]);
  const rows = mark.locator('#mark-form tr:has(input[type=radio])');
  const n = await rows.count();
  assert.ok(n >= 2, `${n} parents on the roster`);
  const chosen = rows.filter({ hasNotText: DEMO_PARENT }).first();
  const name = (await chosen.locator('td').first().textContent()).trim();
  await mark.click('#mark-form [data-all=absent]');
  await chosen.locator('input[type=radio][value=present]').check();
  await Promise.all([mark.waitForURL(/saved=\d+/), mark.click('#mark-form button[type=submit]')]);
  assert.match(await mark.textContent('[role=status]'), new RegExp(String(n)));
  assert.ok(await chosen.locator('input[type=radio][value=present]').isChecked());

  // The board, left open, catches up by itself (htmx polling).
  await board.locator('#came-list tr', { hasText: name }).waitFor({ timeout: 30000 });
  assert.equal((await board.textContent('#came')).trim(), '1');
  assert.match(await board.locator('#came-list tr', { hasText: name }).textContent(), /教师代签/);
  assert.match(await board.locator('#missing tr', { hasText: DEMO_PARENT }).textContent(), /缺席/);
  await ctx.close();
});
