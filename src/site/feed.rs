//! Atom feeds of comments (RFC 4287): one for the whole site, one per page with a
//! comments section. Every feed has the same fixed layout, so it is written straight
//! out: every value escaped for XML text and attributes, and each comment's HTML in a
//! CDATA section (as it is, bar a split `]]>`), and characters XML does not allow left
//! out of both: the feed is well-formed whatever a comment holds. There is no "now" in
//! it, so rendering twice gives the same bytes.

use crate::comment::{showable, Comment};
use crate::render::write_escaped;

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

/// A feed and its entries, newest first.
pub struct Feed<'a> {
    /// The language its titles are written in (`xml:lang`; feed readers take the
    /// direction of the text from it).
    pub lang: &'a str,
    pub title: String,
    /// The feed's own URL; also its id.
    pub self_url: String,
    /// The page (or site) the feed is about.
    pub alternate: String,
    /// The site's name: the author of a feed without entries, which Atom wants an
    /// author for (every entry names its own).
    pub site: &'a str,
    pub entries: Vec<Entry<'a>>,
}

pub struct Entry<'a> {
    pub comment: &'a Comment,
    pub author: std::borrow::Cow<'a, str>,
    pub title: String,
    /// Permalink of the comment; also its id.
    pub url: String,
    /// The sanitized HTML of the body.
    pub html: &'a str,
}

impl Feed<'_> {
    /// The feed as an Atom document.
    pub fn to_xml(&self) -> String {
        let size: usize = self
            .entries
            .iter()
            .map(|e| e.html.len() * 5 / 4 + 640)
            .sum();
        let mut x = String::with_capacity(size + 640);
        x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"");
        x.push_str(ATOM_NS);
        x.push_str("\" xml:lang=\"");
        escape(&mut x, self.lang);
        x.push_str("\">\n");
        text(&mut x, 1, "id", &self.self_url);
        text(&mut x, 1, "title", &self.title);
        link(&mut x, 1, "self", &self.self_url, "application/atom+xml");
        link(&mut x, 1, "alternate", &self.alternate, "text/html");
        let updated = self
            .entries
            .iter()
            .map(|e| e.comment.date)
            .max()
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
        text(&mut x, 1, "updated", &updated);
        if self.entries.is_empty() {
            x.push_str(" <author>\n");
            text(&mut x, 2, "name", self.site);
            x.push_str(" </author>\n");
        }
        text(&mut x, 1, "generator", "cairn");
        for e in &self.entries {
            x.push_str(" <entry>\n");
            text(&mut x, 2, "id", &e.url);
            text(&mut x, 2, "title", &e.title);
            link(&mut x, 2, "alternate", &e.url, "text/html");
            let date = e.comment.date_string();
            text(&mut x, 2, "published", &date);
            text(&mut x, 2, "updated", &date);
            x.push_str("  <author>\n");
            text(&mut x, 3, "name", &e.author);
            if let Some(site) = e
                .comment
                .website
                .as_deref()
                .filter(|s| crate::comment::is_web_link(s))
            {
                text(&mut x, 3, "uri", site);
            }
            x.push_str("  </author>\n  <content type=\"html\">");
            cdata(&mut x, e.html);
            x.push_str("</content>\n </entry>\n");
        }
        x.push_str("</feed>\n");
        x
    }
}

/// `<name>value</name>` on its own line, indented by `depth`.
pub(crate) fn text(x: &mut String, depth: usize, name: &str, value: &str) {
    x.extend(std::iter::repeat_n(' ', depth));
    x.push('<');
    x.push_str(name);
    x.push('>');
    escape(x, value);
    x.push_str("</");
    x.push_str(name);
    x.push_str(">\n");
}

fn link(x: &mut String, depth: usize, rel: &str, href: &str, kind: &str) {
    x.extend(std::iter::repeat_n(' ', depth));
    x.push_str("<link rel=\"");
    escape(x, rel);
    x.push_str("\" href=\"");
    escape(x, href);
    x.push_str("\" type=\"");
    escape(x, kind);
    x.push_str("\"/>\n");
}

/// Text as a CDATA section: markup stays as it is, only `]]>` needs splitting.
pub(crate) fn cdata(x: &mut String, value: &str) {
    let value = &*showable(value);
    x.push_str("<![CDATA[");
    let mut rest = value;
    while let Some(at) = memchr::memmem::find(rest.as_bytes(), b"]]>") {
        x.push_str(&rest[..at + 2]);
        x.push_str("]]><![CDATA[");
        rest = &rest[at + 2..];
    }
    x.push_str(rest);
    x.push_str("]]>");
}

/// XML escaping, for text and attribute values alike.
fn escape(x: &mut String, value: &str) {
    let _ = write_escaped(x, &showable(value), |bytes, at| {
        let entity = match bytes[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            _ => return None,
        };
        Some((entity, 1))
    });
}
