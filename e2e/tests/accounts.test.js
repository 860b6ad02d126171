// Browser test of accounts and roles (issue 10 items 8 and 9): the principal (`school`)
// gives a new head teacher an account at a class — the unit choice narrowed to classes
// once the role is chosen —, then on the account's page grants a second role, is refused
// the same role twice beside the unit, and revokes the second role after confirming.
// Screenshots at 1366 px and 360 px go to E2E_OUT (default: a folder under the system's
// temporary directory) for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, DEMO_CLASS, launch, login } from '../helpers.js';

const OUT = process.env.E2E_OUT ?? join(tmpdir(), 'jiaxiao-e2e-shots');

let browser;
before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

/** The kinds of the unit options a person can pick now (not hidden by the role). */
async function offeredKinds(select) {
  return select.locator('option').evaluateAll(
    (os) => [...new Set(os.filter((o) => !o.disabled).map((o) => o.dataset.kind))]);
}

/** Clicks `button` and waits for the page the form's answer redirects to (`url`, maybe
 * the page we are on: waiting for the URL alone would not wait at all). */
async function submitTo(page, url, button) {
  await Promise.all([
    page.waitForResponse((r) => r.url() === url && r.request().method() === 'GET'),
    button.click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
}

for (const width of [1366, 360]) {
  test(`a principal gives a head teacher an account at a class and a second role (${width} px)`, async () => {
    const ctx = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await ctx.newPage();
    await login(page, 'school');
    await page.goto(`${BASE}/accounts`);
    const form = page.locator('#new-account');
    const units = form.locator('select[name=unit_id]');
    // Every class of the school is offered, under its grade, grades in their order.
    const groups = await units.locator('optgroup').evaluateAll((gs) => gs.map((g) => g.label));
    assert.ok(groups.length >= 6, `grades offered: ${groups}`);
    assert.deepEqual(groups.slice(0, 3), ['一年级', '二年级', '三年级']);
    await form.locator('select[name=role]').selectOption('head_teacher');
    assert.deepEqual(await offeredKinds(units), ['class'], 'a head teacher is offered classes only');
    await form.locator('select[name=role]').selectOption('teacher');
    assert.deepEqual(await offeredKinds(units), ['school'], 'a teacher is offered the school');
    await form.locator('select[name=role]').selectOption('head_teacher');

    const username = `ht${Date.now().toString(36)}${width}`;
    await form.locator('input[name=username]').fill(username);
    await form.locator('input[name=display_name]').fill('钱老师');
    await form.locator('input[name=password]').fill('long-enough-pass');
    await units.selectOption({ label: DEMO_CLASS });
    await page.screenshot({ path: join(OUT, `accounts-new-${width}.png`), fullPage: true });
    await Promise.all([
      page.waitForURL(/\/accounts\/users\/\d+$/),
      form.locator('button[type=submit]').click(),
    ]);
    const userUrl = page.url();
    assert.equal((await page.locator('.flash').textContent()).trim(), '账号已创建');
    assert.equal((await page.locator('#username').textContent()).trim(), username);
    const grants = page.locator('#user-grants li');
    assert.equal(await grants.count(), 1);
    assert.match(await grants.first().textContent(), new RegExp(`班主任.*${DEMO_CLASS.replace(/[()]/g, '\\$&')}`));

    // A second role: teacher at the school.
    const grant = page.locator('#grant');
    await grant.locator('select[name=role]').selectOption('teacher');
    assert.deepEqual(await offeredKinds(grant.locator('select[name=unit_id]')), ['school']);
    await submitTo(page, userUrl, grant.locator('button[type=submit]'));
    assert.equal((await page.locator('.flash').textContent()).trim(), '已授予角色');
    assert.equal(await grants.count(), 2);
    await page.screenshot({ path: join(OUT, `accounts-user-${width}.png`), fullPage: true });

    // The same again: refused beside the unit, in words.
    await grant.locator('select[name=role]').selectOption('teacher');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/grants') && r.request().method() === 'POST'),
      grant.locator('button[type=submit]').click(),
    ]);
    assert.equal(answer.status(), 422);
    await page.waitForLoadState('domcontentloaded');
    const message = page.locator('#grant #err-unit_id');
    assert.ok(await message.isVisible(), 'the message shows beside the unit');
    assert.equal((await message.textContent()).trim(), '已是该单位的教师');
    await page.screenshot({ path: join(OUT, `accounts-duplicate-${width}.png`), fullPage: true });

    // Revoking the teacher role asks first.
    await page.goto(userUrl);
    const teacherRow = grants.filter({ hasText: '教师' });
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); d.accept(); });
    await submitTo(page, userUrl, teacherRow.locator('button[type=submit]'));
    assert.match(asked, /撤销/);
    assert.equal((await page.locator('.flash').textContent()).trim(), '已撤销');
    assert.equal(await grants.count(), 1);
    assert.match(await grants.first().textContent(), /班主任/);
    await page.screenshot({ path: join(OUT, `accounts-revoked-${width}.png`), fullPage: true });
    await ctx.close();
  });
}
