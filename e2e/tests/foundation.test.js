// Browser tests of the foundation flows, against a server started on fresh demo data
// (see .ci/run). Debian's Chromium driven by playwright-core; nothing downloaded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.JIAXIAO_URL ?? 'http://127.0.0.1:8080';
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

async function login(page, who) {
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=who]', who);
  await page.fill('input[name=password]', 'jiaxiao-demo');
  await page.click('button[type=submit]');
}

// GBK bytes for a small roster with one bad phone, one missing name: built here from
// code points so the test needs no encoder package. Node has no GBK encoder, so the
// file is written as UTF-16 → GBK via a tiny table of the characters used.
function gbkRoster() {
  const table = {
    '学': [0xd1, 0xa7], '号': [0xba, 0xc5], '姓': [0xd0, 0xd5], '名': [0xc3, 0xfb], '年': [0xc4, 0xea], '级': [0xbc, 0xb6],
    '班': [0xb0, 0xe0], '家': [0xbc, 0xd2], '长': [0xb3, 0xa4], '联': [0xc1, 0xaa], '系': [0xcf, 0xb5], '电': [0xb5, 0xe7],
    '话': [0xbb, 0xb0], '张': [0xd5, 0xc5], '三': [0xc8, 0xfd], '李': [0xc0, 0xee], '四': [0xcb, 0xc4],
  };
  const text = '学号,姓名,年级,班级,家长姓名,联系电话\r\nE2E001,张三,3,2,张三家长,13911112222\r\nE2E002,李四,3,2,李四家长,029-8888\r\nE2E003,,3,2,,\r\n';
  const bytes = [];
  for (const ch of text) {
    if (table[ch]) bytes.push(...table[ch]);
    else bytes.push(ch.charCodeAt(0));
  }
  const dir = mkdtempSync(join(tmpdir(), 'jx-e2e-'));
  const path = join(dir, 'roster-gbk.csv');
  writeFileSync(path, Buffer.from(bytes));
  return path;
}

test('school admin browses the tree and imports a GBK roster with bad rows named', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await login(page, 'school');
  await page.waitForURL(/\/org/);
  const grades = await page.locator('#tree li a').allTextContents();
  assert.ok(grades.some((g) => g.includes('三年级')), `grades: ${grades}`);
  await page.click('#tree li a >> text=三年级');
  await page.waitForSelector('#tree li a');
  assert.ok((await page.locator('#tree li').count()) >= 1);

  await page.goto(`${BASE}/import`);
  await page.setInputFiles('input[type=file]', gbkRoster());
  await page.click('form[action="/import/preview"] button[type=submit]');
  await page.waitForSelector('#rows-ok');
  assert.match(await page.textContent('#rows-ok'), /1/);
  const rejected = await page.locator('#rejected-rows tbody tr').allTextContents();
  assert.equal(rejected.length, 2, rejected.join(' | '));
  assert.match(rejected[0], /^3/);
  assert.match(rejected[0], /不是11位手机号/);
  assert.match(rejected[1], /^4/);
  assert.match(rejected[1], /缺少姓名/);
  // What the import will do, checked against the school: one new pupil and a new parent
  // linked, no new class (三年级(2)班 exists in the demo school).
  assert.match(await page.textContent('#plan-summary'), /新建学生 1/);
  assert.equal(await page.locator('#plan-classes').count(), 0);
  assert.match(await page.textContent('#plan-links'), /张三家长/);
  await page.click('#commit');
  await page.waitForSelector('#job-result', { timeout: 30000 });
  assert.match(await page.textContent('#job-result'), /导入完成/);

  await page.goto(`${BASE}/people?q=E2E001`);
  assert.match(await page.textContent('#people'), /张三/);
  await ctx.close();
});

test('a parent logs in on a phone-sized screen and sees both children', async () => {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  await login(page, '13800000001');
  await page.waitForURL(/\/p$/);
  const kids = await page.locator('#children .child').allTextContents();
  assert.equal(kids.length, 2, kids.join(' | '));
  assert.ok(kids.some((k) => k.includes('三年级(2)班')));
  // Nothing wider than the screen.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `page is ${width}px wide`);
  // Staff pages are not for parents.
  const resp = await page.goto(`${BASE}/org`);
  assert.equal(resp.status(), 404);
  await ctx.close();
});

test('a wrong password and an unknown account get the same answer', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=who]', 'school');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  const a = await page.textContent('.alert');
  await page.fill('input[name=who]', 'nobody-here');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  const b = await page.textContent('.alert');
  assert.equal(a, b);
  await ctx.close();
});
