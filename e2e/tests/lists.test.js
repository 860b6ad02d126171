// Browser test of the list component (issue 10 item 15) as the demo school's staff use
// it: the pupils list searched by a parent's phone, filtered by gender and paged, the
// trainees list filtered by class and sorted by a column, and each list's XLSX holding
// exactly the filtered rows. Screenshots at 1366 px and 360 px go to E2E_OUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BASE, DEMO_CLASS, DEMO_PARENT, DEMO_PARENT_PHONE, launch, login, phone, schoolId, xlsxText,
} from '../helpers.js';

const OUT = process.env.E2E_OUT ?? join(tmpdir(), 'jiaxiao-e2e-shots');

let browser;
before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** "共 123 条…" → 123. */
async function total(page) {
  const t = await page.locator('.list-total').textContent();
  const m = t.match(/共 (\d+) 条/);
  assert.ok(m, t);
  return Number(m[1]);
}

/** Submits the list's tool form and waits for the answer. */
async function apply(page) {
  await Promise.all([page.waitForNavigation(), page.locator('.list-tools button[type=submit]').click()]);
}

test('the pupils list: search by a parent\'s phone, filter, pages, export', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await login(page, 'school');
  await page.goto(`${BASE}/people?kind=pupils`);
  const all = await total(page);
  assert.ok(all > 50, `the demo school has more pupils than one page: ${all}`);
  assert.equal(await page.locator('#people tbody tr').count(), 50);

  // A parent's phone finds their child.
  await page.fill('.list-tools input[name=q]', DEMO_PARENT_PHONE);
  await apply(page);
  assert.equal(new URL(page.url()).searchParams.get('q'), DEMO_PARENT_PHONE);
  assert.match(await page.locator('#people tbody').textContent(), /王小明/);
  assert.ok(await total(page) >= 1);
  // Clearing brings the whole list back, the kind kept.
  await Promise.all([page.waitForNavigation(), page.locator('.list-tools a.clear').click()]);
  assert.equal(await total(page), all);
  assert.equal(new URL(page.url()).searchParams.get('kind'), 'pupils');

  // Girls only, 20 a page: page 2 is marked as the current one.
  await page.selectOption('.list-tools select[name=gender]', 'f');
  await page.selectOption('.list-tools select[name=size]', '20');
  await apply(page);
  const girls = await total(page);
  assert.ok(girls > 0 && girls < all, `${girls} of ${all}`);
  assert.equal(await page.locator('#people tbody tr').count(), Math.min(20, girls));
  if (girls > 20) {
    await Promise.all([page.waitForNavigation(), page.locator('.pager a', { hasText: /^2$/ }).click()]);
    assert.equal((await page.locator('.pager a[aria-current=page]').textContent()).trim(), '2');
    assert.equal(new URL(page.url()).searchParams.get('gender'), 'f');
  }
  for (const row of await page.locator('#people tbody td.gender').allTextContents()) {
    assert.equal(row.trim(), '女');
  }
  await page.screenshot({ path: join(OUT, 'list-pupils-1366.png'), fullPage: true });

  // The export carries the filter, not the page: every girl, and no boy.
  const href = await page.locator('.list-tools a.export').getAttribute('href');
  assert.match(href, /^\/people\.xlsx\?/);
  assert.match(href, /gender=f/);
  assert.doesNotMatch(href, /page=/);
  const r = await page.request.get(`${BASE}${href}`);
  assert.equal(r.status(), 200);
  assert.match(r.headers()['content-type'], /spreadsheetml/);
  const text = xlsxText(await r.body());
  assert.ok(text.includes('女'));
  assert.ok(!text.includes('>男<'), 'no boy in the girls\' export');
  await ctx.close();
});

test('the trainees list: class filter, sort by a column, export; on a phone too', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await login(page, 'school');
  const school = await schoolId(page);
  await page.goto(`${BASE}/ps/schools/${school}/trainees`);
  const all = await total(page);
  assert.ok(all > 0);

  // The demo class only: every row names it.
  const option = page.locator('.list-tools select[name=class] option', { hasText: DEMO_CLASS });
  const classId = await option.getAttribute('value');
  await page.selectOption('.list-tools select[name=class]', classId);
  await apply(page);
  const inClass = await total(page);
  assert.ok(inClass > 0 && inClass < all, `${inClass} of ${all}`);
  for (const c of await page.locator('#trainees tbody td.class').allTextContents()) {
    assert.ok(c.includes(DEMO_CLASS), c);
  }
  assert.match(await page.locator('#trainees tbody').textContent(), new RegExp(DEMO_PARENT));

  // Sort by hours, most first: the heading says so and the column runs downwards.
  await Promise.all([page.waitForNavigation(), page.locator('#trainees th a', { hasText: '学时' }).click()]);
  await Promise.all([page.waitForNavigation(), page.locator('#trainees th a', { hasText: '学时' }).click()]);
  assert.equal(await page.locator('#trainees th[aria-sort=descending]').count(), 1);
  const hours = (await page.locator('#trainees tbody td.hours').allTextContents()).map(Number);
  assert.deepEqual(hours, [...hours].sort((a, b) => b - a));
  assert.equal(new URL(page.url()).searchParams.get('class'), classId);
  await page.screenshot({ path: join(OUT, 'list-trainees-1366.png'), fullPage: true });

  // The export: the class's parents, with the demo parent among them.
  const href = await page.locator('.list-tools a.export').getAttribute('href');
  assert.match(href, new RegExp(`^/ps/schools/${school}/trainees\\.xlsx\\?`));
  const r = await page.request.get(`${BASE}${href}`);
  assert.equal(r.status(), 200);
  const text = xlsxText(await r.body());
  assert.ok(text.includes(DEMO_PARENT));
  await ctx.close();

  // On a phone the tools wrap and the page does not scroll sideways.
  const small = await phone(browser);
  const p = await small.newPage();
  await login(p, 'school');
  await p.goto(`${BASE}/ps/schools/${school}/trainees?class=${classId}`);
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page scrolls sideways by ${overflow}px`);
  await p.screenshot({ path: join(OUT, 'list-trainees-360.png'), fullPage: true });
  await p.goto(`${BASE}/people?kind=guardians`);
  await p.screenshot({ path: join(OUT, 'list-guardians-360.png'), fullPage: true });
  await small.close();
});
