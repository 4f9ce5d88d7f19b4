// Opens a page served by `cairn render --serve` in Debian's headless Chromium, writes a
// new comment file while the page is open, and checks that the page reloads by itself
// and shows the comment. Prints what it saw as JSON.
//
// usage: node live_reload.mjs PAGE_URL COMMENT_FILE COMMENT_TEXT
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';

const [pageUrl, file, text] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  // Gone if the page is loaded again.
  await page.evaluate(() => { window.cairnOpenedOnce = true; });
  const before = await page.evaluate(() => document.body.innerText);
  const reloaded = page.waitForEvent('load', { timeout: 30000 });
  writeFileSync(file, text);
  await reloaded;
  console.log(JSON.stringify({
    before,
    after: await page.evaluate(() => document.body.innerText),
    sameDocument: await page.evaluate(() => window.cairnOpenedOnce === true),
  }));
} finally {
  await browser.close();
}
