// Reads a site whose own script renders its pages in the browser (VitePress) in Debian's
// headless Chromium with JavaScript on, the way readers move through it: lands on a page
// without placeholders, follows links (which the site's script renders without loading
// the page), replies, goes back, and loads a post directly (which the site's script
// hydrates). Prints what the placeholders show at each step as JSON.
//
// usage: node spa.mjs SITE_URL (ending in /)
import { chromium } from 'playwright-core';

const [site] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const text = (page, selector) => page.$$eval(selector, (els) => els.map((e) => e.textContent.replace(/\s+/g, ' ').trim()));
// Waits until `ready` holds in the page, or a few seconds have passed.
const settle = (page, ready) => page.waitForFunction(ready, null, { timeout: 5000 }).catch(() => {});
// Whether the index's counts are there, and all filled.
const counted = () => {
  const counts = [...document.querySelectorAll('[data-cairn-count]')];
  return counts.length > 0 && counts.every((e) => e.textContent.trim());
};
// Loads a page and waits for VitePress's script to have taken it over (hydrated it).
const load = async (page, url) => {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#app')?.__vue_app__, null, { timeout: 10000 });
};
try {
  const page = await browser.newPage();
  const seen = {};
  await load(page, `${site}about.html`);
  // Set on the first page: still there after a link means the page was not loaded again.
  await page.evaluate(() => { window.cairnTestLanded = true; });

  await page.getByRole('link', { name: 'Back home' }).click();
  await page.waitForURL(site);
  await settle(page, counted);
  seen.counts = await text(page, '[data-cairn-count]');
  seen.recent = await text(page, '[data-cairn-recent]');

  await page.getByRole('link', { name: 'Moss on the north side', exact: true }).click();
  await page.waitForURL(/moss/);
  await settle(page, () => document.querySelector('#cairn-comments .cairn-comment'));
  seen.section = (await text(page, '#cairn-comments'))[0];
  seen.sameDocument = await page.evaluate(() => window.cairnTestLanded === true);

  // "Reply" moves the form under the comment answered, as on any other page.
  const reply = page.locator('a.cairn-reply').first();
  if (await reply.count()) {
    await reply.click();
    seen.replyIn = await page.evaluate(() => {
      const form = document.getElementById('cairn-form');
      const comment = form.closest('.cairn-comment');
      return comment && form.elements.parent.value === comment.id.replace(/^c-/, '') ? comment.id : null;
    });
    seen.url = page.url();
  }

  await page.goBack();
  await page.waitForURL(site);
  await settle(page, counted);
  seen.countsAgain = await text(page, '[data-cairn-count]');

  await load(page, `${site}posts/moss.html`);
  await settle(page, () => document.querySelector('#cairn-comments .cairn-comment'));
  seen.loaded = (await text(page, '#cairn-comments'))[0];
  seen.styled = await page.$eval('.cairn', (e) => getComputedStyle(e).getPropertyValue('--cairn-accent').trim() !== '');
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
