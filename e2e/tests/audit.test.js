// Browser test of the audit log as an inspector reads it (issue 10 item 10): a topic
// renamed by the school's admin shows on /audit, filtered to topic changes, with the
// title before and after side by side; the filtered rows export to Excel. Screenshots
// at 1366 px and 360 px go to E2E_OUT for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, launch, login, schoolId, unique } from '../helpers.js';

const OUT = process.env.E2E_OUT ?? join(tmpdir(), 'jiaxiao-e2e-shots');

let browser;
before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('the audit log shows a renamed topic before and after, filtered and exported', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await login(page, 'school');
  const school = await schoolId(page);
  const title = unique('家庭阅读指导');
  const renamed = `${title}（修订）`;
  await page.goto(`${BASE}/ps/schools/${school}/curriculum`);
  await page.locator('#new-topic input[name=title]').fill(title);
  await Promise.all([
    page.waitForURL((u) => u.pathname.endsWith('/curriculum')),
    page.locator('#new-topic button[type=submit]').click(),
  ]);
  const item = page.locator('ol.topics > li', { hasText: title });
  await item.locator('summary').click();
  // The edit form is the one with a title field; move/retire are forms of their own.
  const edit = item.locator('form', { has: page.locator('input[name=title]') });
  await edit.locator('input[name=title]').fill(renamed);
  await Promise.all([
    page.waitForURL((u) => u.pathname.endsWith('/curriculum')),
    edit.locator('button[type=submit]').click(),
  ]);

  await page.goto(`${BASE}/audit`);
  await page.locator('#audit-filter select[name=entity]').selectOption('topic');
  await page.locator('#audit-filter select[name=action]').selectOption('update');
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('entity') === 'topic'),
    page.locator('#audit-filter button[type=submit]').click(),
  ]);
  const row = page.locator('#audit > tbody > tr', { hasText: renamed }).first();
  assert.equal((await row.locator('td.before').first().textContent()).trim(), title);
  assert.equal((await row.locator('td.after').first().textContent()).trim(), renamed);
  assert.match(await row.textContent(), /修改/);
  assert.match(await page.locator('#audit-total').textContent(), /共 \d+ 条记录/);
  await page.screenshot({ path: join(OUT, 'audit-1366.png'), fullPage: true });

  const href = await page.locator('#audit-export').getAttribute('href');
  assert.match(href, /entity=topic/);
  const r = await page.request.get(`${BASE}${href}`);
  assert.equal(r.status(), 200);
  assert.match(r.headers()['content-type'], /spreadsheetml/);
  assert.equal((await r.body()).subarray(0, 2).toString(), 'PK');

  await page.setViewportSize({ width: 360, height: 740 });
  await page.reload();
  await page.screenshot({ path: join(OUT, 'audit-360.png'), fullPage: true });
  await ctx.close();
});
