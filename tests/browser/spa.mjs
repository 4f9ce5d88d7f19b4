// Reads a site whose own script renders its pages in the browser (VitePress, Docusaurus)
// in Debian's headless Chromium with JavaScript on, the way readers move through it: lands
// on a page without a comments section, follows links (which the site's script renders
// without loading the page), replies, goes back, and loads a post directly (which the
// site's script hydrates). Prints what the placeholders show at each step, and the
// errors the page logged, as JSON.
//
// usage: node spa.mjs SITE_URL PLAN
//   SITE_URL ends in /; PLAN is JSON: {"framework": "vue" or "react", "land": page to
//   land on, "home": [link name, URL pattern] of the page with counts, "post": [link
//   name, URL pattern] of the post, "direct": the post's path}
import { chromium } from 'playwright-core';

const [site, planned] = process.argv.slice(2);
const plan = JSON.parse(planned);
// Whether the site's script has taken the page over (hydrated it).
const hydrated = {
  vue: () => document.querySelector('#app')?.__vue_app__,
  react: () => {
    const root = document.getElementById('__docusaurus');
    return root && Object.keys(root).some((key) => key.startsWith('__reactContainer'));
  },
}[plan.framework];
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
// Loads a page and waits for the site's script to have taken it over.
const load = async (page, url) => {
  await page.goto(url);
  await page.waitForFunction(hydrated, null, { timeout: 10000 });
};
try {
  const page = await browser.newPage();
  // The errors the page logs, and the paths it asked for that are not there (each of
  // which Chromium also logs, without saying which).
  const seen = { errors: [], missing: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      seen.errors.push(message.text());
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) seen.missing.push(new URL(response.url()).pathname);
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  await load(page, site + plan.land);
  seen.recentLanded = await text(page, '[data-cairn-recent]');
  // Set on the first page: still there after a link means the page was not loaded again.
  await page.evaluate(() => { window.cairnTestLanded = true; });

  await page.getByRole('link', { name: plan.home[0], exact: true }).first().click();
  await page.waitForURL(new RegExp(plan.home[1]));
  await settle(page, counted);
  seen.counts = await text(page, '[data-cairn-count]');
  seen.recent = await text(page, '[data-cairn-recent]');

  await page.getByRole('link', { name: plan.post[0], exact: true }).first().click();
  await page.waitForURL(new RegExp(plan.post[1]));
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
  await page.waitForURL(new RegExp(plan.home[1]));
  await settle(page, counted);
  seen.countsAgain = await text(page, '[data-cairn-count]');

  await load(page, site + plan.direct);
  await settle(page, () => document.querySelector('#cairn-comments .cairn-comment'));
  seen.loaded = (await text(page, '#cairn-comments'))[0];
  seen.styled = await page.$eval('.cairn', (e) => getComputedStyle(e).getPropertyValue('--cairn-accent').trim() !== '');
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
