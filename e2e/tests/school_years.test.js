// Browser test of the school-year selector (issue 10 item 11): the demo school's staff
// pick last year in the selector, see its ledger marked read-only, find last year's
// session in the sessions tab (the link keeps the year) and download last year's XLSX.
// Screenshots at 1366 px and 360 px go to E2E_OUT for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, launch, login, schoolId, xlsxText } from '../helpers.js';

const OUT = process.env.E2E_OUT ?? join(tmpdir(), 'jiaxiao-e2e-shots');

let browser;
before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** Last school year as `?year=` carries it ("2024-2025") and by name: years turn on 1 September (Beijing). */
function lastYear() {
  const t = new Date(Date.now() + 8 * 3600 * 1000);
  const start = t.getUTCMonth() >= 8 ? t.getUTCFullYear() : t.getUTCFullYear() - 1;
  const param = `${start - 1}-${start}`;
  return { param, name: `${param}学年` };
}

test('the year selector shows last year\'s ledger, read-only, and its XLSX', async () => {
  const { param, name } = lastYear();
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await login(page, 'school');
  const school = await schoolId(page);
  await page.goto(`${BASE}/ps/schools/${school}/ledger`);
  // The current year is chosen first; no banner for it.
  assert.equal(await page.locator('#year-banner').count(), 0);
  await page.locator('#year-select').selectOption(param);
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('year') === param && u.pathname.endsWith('/ledger')),
    page.locator('#year-pick button[type=submit]').click(),
  ]);
  assert.equal(await page.locator('#year-select').inputValue(), param);
  assert.match(await page.title(), new RegExp(name));
  assert.equal((await page.locator('#year-banner').textContent()).trim(), `正在查看 ${name}（只读）`);
  await page.screenshot({ path: join(OUT, 'school-years-ledger-1366.png'), fullPage: true });

  // The tabs keep the year: last year's session is in the sessions list.
  await Promise.all([
    page.waitForURL((u) => u.pathname.endsWith('/sessions') && u.searchParams.get('year') === param),
    page.locator('nav.tabs a', { hasText: '课次' }).click(),
  ]);
  const rows = page.locator('#sessions tbody tr');
  assert.ok(await rows.count() >= 1, 'last year has a session');
  const first = (await rows.first().locator('td').first().textContent()).trim();
  const [y0, y1] = param.split('-');
  assert.ok(first.startsWith(y0) || first.startsWith(y1), `dated last year: ${first}`);
  // A read-only year offers no new session.
  assert.equal(await page.locator(`a[href="/ps/schools/${school}/sessions/new"]`).count(), 0);
  await page.screenshot({ path: join(OUT, 'school-years-sessions-1366.png'), fullPage: true });

  await page.goto(`${BASE}/ps/schools/${school}/ledger?year=${param}`);
  const href = await page.locator('#ledger-xlsx').getAttribute('href');
  assert.equal(href, `/ps/schools/${school}/ledger.xlsx?year=${param}`);
  const r = await page.request.get(`${BASE}${href}`);
  assert.equal(r.status(), 200);
  assert.match(r.headers()['content-type'], /spreadsheetml/);
  const text = xlsxText(await r.body());
  assert.ok(text.includes(name), 'the workbook names last year');
  const now = await page.request.get(`${BASE}/ps/schools/${school}/ledger.xlsx`);
  assert.ok(!xlsxText(await now.body()).includes(name), 'this year\'s workbook does not');

  await page.setViewportSize({ width: 360, height: 740 });
  await page.reload();
  await page.screenshot({ path: join(OUT, 'school-years-ledger-360.png'), fullPage: true });
  await ctx.close();
});
