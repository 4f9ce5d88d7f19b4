// The headers Netlify's own engine sends with a page of each given site, from the
// site's _headers file.
//
// usage: node headers_for.mjs SITES_DIR SITE_ORIGIN PAGE_PATH NAME...
// prints: {"NAME": {"header": "value", ...}, ...}
import { join } from 'node:path';
import { HeadersHandler } from '@netlify/headers';

const [sitesDir, origin, pagePath, ...names] = process.argv.slice(2);
const logger = { error: (message) => { throw new Error(message); }, log: () => {}, warn: () => {} };
const sent = {};
for (const name of names) {
  const handler = new HeadersHandler({ projectDir: join(sitesDir, name), logger });
  sent[name] = await handler.apply(new Request(`${origin}${pagePath}`));
}
console.log(JSON.stringify(sent));
