// Browser test of editing a saved session (issue 10 item 13): as the school's admin, a
// session planned through the form is opened, its edit link leads to the same form
// filled with its values, the place and time are changed and saved, and the session's
// page says so and shows the new values; the sessions list names its audience (item 15).
// Screenshots of the edit form and the saved session at 1366 px and 360 px go to E2E_OUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, DEMO_CLASS, createSession, launch, login, schoolId, unique } from '../helpers.js';

const OUT = process.env.E2E_OUT ?? join(tmpdir(), 'jiaxiao-e2e-shots');

let browser;
before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

for (const width of [1366, 360]) {
  test(`editing a session changes its place and time (${width} px)`, async () => {
    const ctx = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await ctx.newPage();
    await login(page, 'school');
    const school = await schoolId(page);
    const title = unique('家庭教育讲座');
    const id = await createSession(page, school, { title });

    // The session's page links to its edit form, filled with what was saved.
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/sessions/${id}/edit`),
      page.locator('#edit-session').click(),
    ]);
    const form = page.locator('form#edit-session');
    assert.equal(await form.locator('input[name=title]').inputValue(), title);
    assert.equal(await form.locator('input[name=place]').inputValue(), '学校多功能厅');
    assert.ok(await form.locator('input[name=audience][value=units]').isChecked());
    const chosen = await form.locator('select[name=units] option:checked').allTextContents();
    assert.deepEqual(chosen.map((t) => t.trim()), [DEMO_CLASS]);

    await form.locator('input[name=place]').fill('三年级(2)班教室');
    await form.locator('input[name=time]').fill('18:45');
    await page.screenshot({ path: join(OUT, `session-edit-form-${width}.png`), fullPage: true });
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/sessions/${id}`),
      form.locator('button[type=submit]').click(),
    ]);
    assert.equal((await page.locator('.flash').textContent()).trim(), '课次已修改');
    const facts = await page.locator('dl.facts').textContent();
    assert.ok(facts.includes('三年级(2)班教室'), facts);
    assert.ok(facts.includes('18:45'), facts);
    assert.ok(!facts.includes('学校多功能厅'), facts);
    await page.screenshot({ path: join(OUT, `session-edit-saved-${width}.png`), fullPage: true });

    // The list names whom the session invites.
    await page.goto(`${BASE}/ps/schools/${school}/sessions`);
    const row = page.locator('#sessions tbody tr', { hasText: title });
    assert.equal((await row.locator('td.audience').textContent()).trim(), DEMO_CLASS);
    await page.screenshot({ path: join(OUT, `session-list-audience-${width}.png`), fullPage: true });
    await ctx.close();
  });
}
