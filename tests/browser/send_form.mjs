// Posts the comment form of each given page in Debian's headless Chromium with
// JavaScript off, and says for each whether the browser sent it, and with which
// `Origin`. The pages are served from files under the site's public URL and the form's
// action answers from here: playwright fulfils every request, so nothing leaves the
// machine (and host names resolve to nothing).
//
// usage: node send_form.mjs SITE_DIR SITE_ORIGIN ACTION_URL PATH...
// prints: {"PATH": {"sent": true, "origin": "null"}, ...}
// With SEND_FORM_HEADERS set to {"PATH": {"Header": "value"}}, each page is sent with
// those headers, as its host would send them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [siteDir, siteOrigin, action, ...paths] = process.argv.slice(2);
const sentWith = JSON.parse(process.env.SEND_FORM_HEADERS || '{}');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND'],
});
const results = {};
try {
  const context = await browser.newContext({ javaScriptEnabled: false });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === action) {
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Sent</title><h1>Sent</h1>' });
      return;
    }
    if (!url.startsWith(`${siteOrigin}/`)) {
      await route.abort();
      return;
    }
    let file = decodeURIComponent(new URL(url).pathname);
    if (file.endsWith('/')) file += 'index.html';
    try {
      const body = await readFile(join(siteDir, file));
      const type = file.endsWith('.css') ? 'text/css' : file.endsWith('.js') ? 'text/javascript' : 'text/html';
      const headers = sentWith[new URL(url).pathname] || {};
      await route.fulfill({ status: 200, headers: { 'content-type': type, ...headers }, body });
    } catch {
      await route.fulfill({ status: 404, body: 'not found' });
    }
  });
  for (const path of paths) {
    const page = await context.newPage();
    // Chromium says on the console when a Content-Security-Policy stops a form.
    const stopped = new Promise((resolve) => {
      page.on('console', (message) => {
        if (message.text().includes('form-action')) resolve();
      });
    });
    await page.goto(`${siteOrigin}${path}`);
    await page.fill('#cairn-form-body', 'Does this form reach the inbox?');
    const request = page.waitForRequest((r) => r.url() === action, { timeout: 10000 });
    await page.getByRole('button', { name: 'Post comment' }).click({ noWaitAfter: true });
    results[path] = await Promise.race([
      request.then(async (r) => ({ sent: true, origin: await r.headerValue('origin') })),
      stopped.then(() => ({ sent: false, origin: null })),
    ]);
    await page.close();
  }
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
}
