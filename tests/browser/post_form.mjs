// Previews and posts cairn's comment forms in Debian's headless Chromium with
// JavaScript turned off, the way a reader without scripts would (and checks that with scripts on, Reply
// moves the form instead), that a comment as long as the form allows is taken, and that
// a page that hides its origin from the inbox (referrer policy no-referrer) can post.
// Prints the ids of the first two accepted comments as JSON; exits non-zero
// with a message when the page does not behave.
//
// usage: node post_form.mjs PAGE_URL REPLY_PAGE_URL
import { chromium } from 'playwright-core';

const [pageUrl, replyPageUrl] = process.argv.slice(2);
const fail = (message) => {
  console.error(message);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  // What the browser refused to load or do under the inbox's pages' content security
  // policy shows up as a console error.
  const refused = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) refused.push(`${page.url()}: ${message.text()}`);
  });
  // Whether the page has the site's stylesheet (cairn.css sets the accent colour).
  const styled = () => page.$eval('main.cairn, .cairn', (e) => getComputedStyle(e).getPropertyValue('--cairn-accent').trim() !== '');
  const idOf = async () => (await page.getAttribute('.cairn-comment', 'id')).replace(/^c-/, '');
  const submit = (button) => Promise.all([page.waitForNavigation(), button.click()]);
  const post = () => page.getByRole('button', { name: 'Post comment' });

  // A new comment through the main form.
  await page.goto(pageUrl);
  await page.fill('#cairn-form-author', 'Browser Reader');
  await page.fill('#cairn-form-body', 'Posted by *Chromium* with JavaScript off.');
  // A site typed as people type it, without https://: the browser lets it through and
  // the inbox completes it.
  await page.fill('#cairn-form-website', 'browser.example');
  // "Preview" shows the comment as it will look above the form holding it, posting nothing.
  await submit(page.getByRole('button', { name: 'Preview' }));
  if (!(await page.textContent('h1')).includes('Preview of your comment')) fail(`no preview page: ${await page.textContent('h1')}`);
  if (!(await page.innerHTML('.cairn-draft .cairn-body')).includes('<em>Chromium</em>')) fail('the preview is not rendered');
  if ((await page.inputValue('#cairn-form-body')) !== 'Posted by *Chromium* with JavaScript off.') fail('the preview lost the text');
  if ((await page.inputValue('#cairn-form-author')) !== 'Browser Reader') fail('the preview lost the name');
  await submit(post());
  const title = await page.textContent('h1');
  if (!title.includes('awaits moderation')) fail(`no confirmation, got: ${title}`);
  if (!(await styled())) fail('the confirmation page lacks the site\'s stylesheet');
  if (!(await page.innerHTML('.cairn-body')).includes('<em>Chromium</em>')) fail('the preview is not rendered');
  const linked = await page.getAttribute('.cairn-comment .cairn-author a', 'href');
  if (linked !== 'https://browser.example') fail(`the name links to ${linked}`);
  const first = await idOf();
  await submit(page.getByRole('link', { name: 'Back to the article' }));
  if (!page.url().startsWith(pageUrl)) fail(`the back link leads to ${page.url()}`);

  // A reply: with scripts off, "Reply" under a comment opens the inbox's reply page.
  await page.goto(replyPageUrl);
  // Threaded with scripts off: replies are shown nested inside their parent comment.
  const nested = page.locator('.cairn-comment .cairn-replies .cairn-comment');
  if ((await nested.count()) < 2 || !(await nested.first().isVisible())) fail('replies are not shown nested');
  const comment = page.locator('.cairn-comment').first();
  const parent = (await comment.getAttribute('id')).replace(/^c-/, '');
  const author = (await comment.locator('.cairn-author').first().textContent()).trim();
  await submit(comment.locator('a.cairn-reply').first());
  if (!(await page.textContent('h1')).includes(`Reply to ${author}`)) fail(`no reply page to ${author} at ${page.url()}`);
  if (!(await styled())) fail('the reply page lacks the site\'s stylesheet');
  if ((await page.inputValue('#cairn-form input[name=parent]')) !== parent) fail('the reply page answers another comment');
  await page.fill('#cairn-form-author', 'Replying Reader');
  await page.fill('#cairn-form-body', 'A reply, no scripts needed.');
  await submit(post());
  if (!(await page.textContent('h1')).includes('awaits moderation')) fail('the reply was not accepted');
  const reply = await idOf();
  const back = await page.getByRole('link', { name: 'Back to the article' }).getAttribute('href');
  if (!back.endsWith(`#c-${parent}`)) fail(`the reply's back link is ${back}`);

  // With scripts on, "Reply" moves the page's own form under the comment instead, and
  // "Cancel reply" puts it back.
  const scripted = await (await browser.newContext()).newPage();
  await scripted.goto(replyPageUrl);
  const second = scripted.locator('.cairn-comment').nth(1);
  const secondId = (await second.getAttribute('id')).replace(/^c-/, '');
  await second.locator('a.cairn-reply').first().click();
  if (scripted.url() !== replyPageUrl) fail(`with scripts on, Reply left the page for ${scripted.url()}`);
  if ((await second.locator('> .cairn-card #cairn-form').count()) !== 1) fail('the form did not move under the comment');
  if ((await scripted.inputValue('#cairn-form input[name=parent]')) !== secondId) fail('the moved form answers another comment');
  await scripted.getByRole('button', { name: 'Cancel reply' }).click();
  if ((await scripted.locator('.cairn-card #cairn-form').count()) !== 0) fail('Cancel reply left the form under the comment');
  if ((await scripted.inputValue('#cairn-form input[name=parent]')) !== '') fail('Cancel reply kept the parent');

  // A post the inbox rejects (too many links) comes back with the reader's text.
  const typed = 'See https://a.example https://b.example https://c.example https://d.example — my long thoughts.';
  await page.goto(pageUrl);
  await page.fill('#cairn-form-author', 'Link Lover');
  await page.fill('#cairn-form-body', typed);
  const [response] = await submit(post());
  if (response.status() !== 400) fail(`expected 400, got ${response.status()}`);
  if (!(await page.textContent('h1')).includes('not posted')) fail('no error title');
  if ((await page.inputValue('#cairn-form-body')) !== typed) fail('the text was not given back');
  if ((await page.inputValue('#cairn-form-author')) !== 'Link Lover') fail('the name was not given back');
  const error = await page.textContent('#cairn-form-body-error');
  if (!error.includes('Too many links')) fail(`the field error says: ${error}`);

  // A comment as long as the form lets a reader type, with line breaks (which the
  // form counts once and the browser sends as CRLF), is taken.
  const max = Number(await page.getAttribute('#cairn-form-body', 'maxlength'));
  const line = 'All the way to the limit. '.repeat(4).slice(0, 79);
  const long = Array.from({ length: Math.floor(max / 80) + 1 }, () => line).join('\n').slice(0, max);
  await page.goto(pageUrl);
  await page.fill('#cairn-form-author', 'Long Writer');
  await page.fill('#cairn-form-body', long);
  if ((await page.inputValue('#cairn-form-body')).length !== max) fail('the long text does not fill the form');
  await submit(post());
  if (!(await page.textContent('h1')).includes('awaits moderation')) {
    fail(`a comment of maxlength characters with line breaks was not taken: ${await page.textContent('body')}`);
  }

  // A site that keeps its address to itself (`Referrer-Policy: no-referrer`, as
  // privacy-minded sites send it) has its form sent with `Origin: null`: it is taken.
  const hiding = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await hiding.route(pageUrl, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'referrer-policy': 'no-referrer' } });
  });
  await hiding.goto(pageUrl);
  await hiding.fill('#cairn-form-author', 'Private Reader');
  await hiding.fill('#cairn-form-body', 'Sent from a page that gives no referrer.');
  const [sent] = await Promise.all([
    hiding.waitForRequest((request) => request.method() === 'POST'),
    hiding.waitForNavigation(),
    hiding.getByRole('button', { name: 'Post comment' }).click(),
  ]);
  const origin = await sent.headerValue('origin');
  if (origin !== 'null') fail(`the page without a referrer sent its form with Origin ${origin}`);
  if (!(await hiding.textContent('h1')).includes('awaits moderation')) {
    fail(`a form from a page without a referrer was not taken: ${await hiding.textContent('body')}`);
  }

  if (refused.length > 0) fail(`the browser refused:\n${refused.join('\n')}`);
  console.log(JSON.stringify({ accepted: [first, reply] }));
} finally {
  await browser.close();
}
