// What readers see, checked in Debian's headless Chromium: axe-core on the comments
// section (or on an inbox page, its main landmark) in light and dark colour schemes,
// and the section at 360 px and 1280 px wide (no sideways scrolling, every form control
// on screen; printed, the comments without the form), with a screenshot of each
// written to SHOT_DIR. Prints a JSON report; exits non-zero when a page fails.
//
// usage: node quality.mjs SHOT_DIR PAGE_URL...
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const [shotDir, ...pages] = process.argv.slice(2);
mkdirSync(shotDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const report = { violations: [], layout: [], screenshots: [] };
try {
  for (const url of pages) {
    const name = new URL(url).pathname.replace(/\W+/g, '-').replace(/^-|-$/g, '') || 'home';
    for (const scheme of ['light', 'dark']) {
      for (const width of [360, 1280]) {
        // The inbox's pages allow no script: axe is let in all the same.
        const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, bypassCSP: true });
        const page = await context.newPage();
        await page.goto(url);
        const target = (await page.locator('#cairn-comments').count()) === 1 ? '#cairn-comments' : 'main.cairn';
        const section = page.locator(target);
        if ((await section.count()) !== 1) throw new Error(`${url}: no #cairn-comments section, nor an inbox page`);
        // Reply to the first comment, so the form is checked where cairn.js moves it too.
        const reply = page.locator('#cairn-comments a.cairn-reply').first();
        if ((await reply.count()) === 1) {
          await reply.click();
          if (!(await page.locator('.cairn-card #cairn-form').isVisible())) throw new Error(`${url}: the form did not move under the comment`);
        }

        await page.addScriptTag({ path: axePath });
        const result = await page.evaluate((target) => window.axe.run(target, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
        }), target);
        for (const v of result.violations) {
          report.violations.push({
            page: url, scheme, width, rule: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.html),
          });
        }

        const layout = await page.evaluate(() => {
          const problems = [];
          const root = document.documentElement;
          if (root.scrollWidth > window.innerWidth + 1) {
            problems.push(`the page scrolls sideways: ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
          }
          for (const el of document.querySelectorAll('.cairn input:not([type=hidden]), .cairn textarea, .cairn button, .cairn a.cairn-reply')) {
            const box = el.getBoundingClientRect();
            const hidden = el.closest('[hidden], .cairn-honeypot') || getComputedStyle(el).display === 'none';
            if (hidden || el.name === 'subject') continue;
            if (box.left < 0 || box.right > window.innerWidth + 1) {
              problems.push(`${el.outerHTML.slice(0, 60)} reaches past the window (${Math.round(box.left)}..${Math.round(box.right)})`);
            }
            if (box.height < 24 || box.width < 24) {
              problems.push(`${el.outerHTML.slice(0, 60)} is too small to tap (${Math.round(box.width)}x${Math.round(box.height)})`);
            }
          }
          // Each comment is laid out in the direction of its own text, whatever the page's.
          const strong = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]|[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
          for (const body of document.querySelectorAll('.cairn-body')) {
            const first = body.textContent.match(strong);
            if (!first) continue;
            const want = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/.test(first[0]) ? 'rtl' : 'ltr';
            const got = getComputedStyle(body).direction;
            if (got !== want) {
              problems.push(`the comment "${body.textContent.trim().slice(0, 30)}" is laid out ${got}, its text is ${want}`);
            }
          }
          return problems;
        });
        for (const problem of layout) report.layout.push({ page: url, scheme, width, problem });

        // Printed, a page keeps its comments and leaves out the form and Reply links; an
        // inbox page, whose form may hold the reader's text, prints whole.
        await page.emulateMedia({ media: 'print' });
        const printed = await page.evaluate((target) => {
          const shown = (el) => el && el.getClientRects().length > 0;
          const form = document.querySelector(`${target} form`);
          const comment = document.querySelector(`${target} .cairn-comment`);
          const reply = document.querySelector(`${target} a.cairn-reply`);
          const problems = [];
          const inbox = target === 'main.cairn';
          if (form && shown(form) !== inbox) problems.push(`printed, the form is ${inbox ? 'left out' : 'there'}`);
          if (!inbox && shown(reply)) problems.push('printed, a Reply link is there');
          if (comment && !shown(comment)) problems.push('printed, the comments are left out');
          return problems;
        }, target);
        for (const problem of printed) report.layout.push({ page: url, scheme, width, problem });
        await page.emulateMedia({ media: 'screen' });

        const file = `${shotDir}/${name}-${width}-${scheme}.png`;
        await section.screenshot({ path: file });
        report.screenshots.push(file);
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report, null, 1));
if (report.violations.length || report.layout.length) process.exit(1);
