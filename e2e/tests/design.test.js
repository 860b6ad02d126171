// Browser test of the staff pages' design pass (issue 10 item 21): as the demo school's
// admin and as the county officer, the main pages at 1366×800 and 360×740 mark their
// section in the navigation bar, carry bread crumbs and never scroll the page sideways
// on a phone. Screenshots go to SHOTS_DIR when it is set, for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, launch, login, schoolId } from '../helpers.js';

const SHOTS = process.env.SHOTS_DIR ?? '';
const SIZES = [{ width: 1366, height: 800 }, { width: 360, height: 740 }];

let browser;
before(async () => {
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** Visits each [name, path, section href] at both sizes and checks the page's chrome. */
async function visit(who, pages) {
  for (const size of SIZES) {
    const ctx = await browser.newContext({ viewport: size });
    const page = await ctx.newPage();
    await login(page, who);
    for (const [name, path, section] of await pages(page)) {
      const resp = await page.goto(`${BASE}${path}`);
      assert.equal(resp.status(), 200, `${who} ${path}`);
      const current = await page.locator('#mainnav a[aria-current="page"]').evaluateAll(
        (as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(current, [section], `${who} ${path}: the marked section`);
      assert.ok(await page.locator('nav#crumbs li').count() >= 1, `${who} ${path}: bread crumbs`);
      assert.equal(await page.locator('nav#crumbs [aria-current="page"]').count(), 1,
        `${who} ${path}: one crumb is this page`);
      if (size.width === 360) {
        const [sw, iw] = await page.evaluate(
          () => [document.documentElement.scrollWidth, window.innerWidth]);
        assert.ok(sw <= iw + 1, `${who} ${path} at 360 px: page ${sw} px wide`);
      }
      if (SHOTS) {
        await page.screenshot({ path: join(SHOTS, `${who}-${name}-${size.width}.png`), fullPage: true });
      }
    }
    await ctx.close();
  }
}

test('the school admin\'s main pages: section marked, crumbs, no sideways scroll at 360 px', async () => {
  await visit('school', async (page) => {
    const school = await schoolId(page);
    return [
      ['home', `/ps/schools/${school}`, '/ps'],
      ['sessions', `/ps/schools/${school}/sessions`, '/ps'],
      ['trainees', `/ps/schools/${school}/trainees`, '/ps'],
      ['ledger', `/ps/schools/${school}/ledger`, '/ps'],
      ['org', '/org', '/org'],
      ['people', '/people', '/people'],
      ['accounts', '/accounts', '/accounts'],
      ['audit', '/audit', '/audit'],
    ];
  });
});

test('the county officer: the overview, its unit in the switcher, and the staff pages', async () => {
  await visit('county', async (page) => {
    await page.goto(`${BASE}/ps`);
    const m = new URL(page.url()).pathname.match(/^\/ps\/units\/(\d+)$/);
    assert.ok(m, `/ps led the county officer to ${page.url()}`);
    // The switcher names the county and marks it as the page on view.
    const mine = page.locator(`#unit-switcher a[href="/ps/units/${m[1]}"]`);
    assert.equal(await mine.count(), 1);
    assert.equal(await mine.getAttribute('aria-current'), 'page');
    return [
      ['overview', `/ps/units/${m[1]}`, '/ps'],
      ['org', '/org', '/org'],
      ['people', '/people', '/people'],
      ['accounts', '/accounts', '/accounts'],
      ['audit', '/audit', '/audit'],
    ];
  });
});
