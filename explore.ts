import { chromium, type Page } from 'playwright-core';
import { startPlayground } from './scripts/playground.js';
const pg = await startPlayground({ botPort: 3983, playgroundPort: 56172, workDir: '/tmp/pg-y', env: process.env });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const card = (page: Page, text: string) => page.locator('.ac-adaptiveCard').filter({ hasText: text }).last();
let n = 0;
const shot = (p: Page, name: string) => p.screenshot({ path: `test/artifacts/dbg-${++n}-${name}.png`, fullPage: true });
try {
  const alex = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await alex.goto(pg.clients[0]!.url + '/');
  await alex.getByText('Personal Chat', { exact: true }).first().click();
  await shot(alex, 'open');
  const megan = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await megan.goto(pg.clients[1]!.url + '/');
  await megan.getByText('Personal Chat', { exact: true }).first().click();
  await alex.locator('[data-lexical-editor="true"]').click();
  await alex.keyboard.type('request access demo-db');
  await alex.keyboard.press('Enter');
  await card(alex, 'Send request').waitFor({ timeout: 10000 });
  await shot(alex, 'form');
  await card(alex, 'Send request').getByRole('button', { name: 'Send request' }).click();
  await alex.waitForTimeout(2000);
  await shot(alex, 'errors');
  console.log('after send', (await card(alex, 'Send request').textContent())?.slice(0, 600));
  const form = card(alex, 'Send request');
  await form.getByRole('combobox', { name: /approvers/i }).click();
  await alex.waitForTimeout(500);
  await shot(alex, 'combo-open');
  console.log('roles', await alex.getByRole('checkbox').count(), await alex.getByRole('menuitemcheckbox').count(), await alex.getByRole('option').count());
  await alex.getByText('meganb@example.com', { exact: true }).click();
  await alex.keyboard.press('Escape');
  await form.getByPlaceholder('Why do you need access?').fill('Investigate incident INC-42');
  await form.getByRole('button', { name: '2 minutes' }).click();
  await alex.waitForTimeout(2000);
  await shot(alex, 'filled');
  console.log('after 2min', (await card(alex, 'Send request').textContent())?.slice(0, 900));
  await card(alex, 'Send request').getByRole('button', { name: 'Send request' }).click();
  await alex.waitForTimeout(2000);
  await shot(alex, 'sent');
  await megan.waitForTimeout(1000);
  await shot(megan, 'megan');
  console.log('megan cards', await megan.locator('.ac-adaptiveCard').allTextContents());
} catch (e) { console.error('FAILED', e); }
finally {
  await browser.close();
  await pg.stop();
}
