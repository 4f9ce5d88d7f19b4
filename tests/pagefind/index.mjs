// Indexes a built site (argv[2]) with Pagefind's Node API, as `npx pagefind --site DIR`
// does, and prints what the index holds of each page as JSON: [{url, title, content}].
// A page's fragment is gzip'd JSON behind a signature.
import * as pagefind from "pagefind";
import { gunzipSync } from "node:zlib";

const { index, errors } = await pagefind.createIndex({});
if (errors.length) throw new Error(errors.join("\n"));
const added = await index.addDirectory({ path: process.argv[2] });
if (added.errors.length) throw new Error(added.errors.join("\n"));
const { files } = await index.getFiles();
const pages = files
  .filter((file) => file.path.startsWith("fragment/"))
  .map((file) => {
    const text = gunzipSync(Buffer.from(file.content)).toString("utf8");
    const fragment = JSON.parse(text.slice(text.indexOf("{")));
    return { url: fragment.url, title: fragment.meta.title, content: fragment.content };
  })
  .sort((a, b) => a.url.localeCompare(b.url));
console.log(JSON.stringify(pages));
await pagefind.close();
