// Browser test of a refused form (issue 10 item 14) and the success message after a
// write (item 15): a member of staff with a phone that is no mobile number comes back
// with what was typed and the message beside the phone; fixed, it is saved and the page
// says so. Screenshots of the refused form at 1366 px and 360 px go to E2E_OUT (default:
// a folder under the system's temporary directory) for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, launch, login, unique } from '../helpers.js';

const OUT = process.env.E2E_OUT ?? join(tmpdir(), 'jiaxiao-e2e-shots');

let browser;
before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

for (const width of [1366, 360]) {
  test(`a refused form keeps its input and says why beside the field, then saves (${width} px)`, async () => {
    const ctx = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await ctx.newPage();
    await login(page, 'school');
    await page.goto(`${BASE}/people?kind=staff`);
    const name = unique('李老师');
    await page.locator('#add-staff summary').click();
    const form = page.locator('#add-staff form');
    await form.locator('input[name=name]').fill(name);
    await form.locator('input[name=position]').fill('班主任');
    await form.locator('input[name=phone]').fill('12345');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/people/staff')),
      form.locator('button[type=submit]').click(),
    ]);
    assert.equal(answer.status(), 422);
    await page.waitForLoadState('domcontentloaded');
    // The form's own page, open, with what was typed and the reason beside the phone.
    const again = page.locator('#add-staff form');
    assert.equal(await again.locator('input[name=name]').inputValue(), name);
    assert.equal(await again.locator('input[name=phone]').inputValue(), '12345');
    const message = again.locator('#err-phone');
    assert.ok(await message.isVisible(), 'the message shows beside the phone');
    assert.match(await message.textContent(), /手机/);
    await page.screenshot({ path: join(OUT, `form-refused-${width}.png`), fullPage: true });

    // Fixed and sent again: saved, and the page it lands on says so once.
    await again.locator('input[name=phone]').fill('13912345678');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/people'),
      again.locator('button[type=submit]').click(),
    ]);
    const flash = page.locator('.flash');
    assert.equal((await flash.textContent()).trim(), '已添加');
    assert.ok((await page.content()).includes(name), 'the new member of staff is listed');
    await page.screenshot({ path: join(OUT, `form-saved-${width}.png`), fullPage: true });
    await page.reload();
    assert.equal(await page.locator('.flash').count(), 0, 'shown once');
    await ctx.close();
  });
}
