//! Atom feeds of comments (RFC 4287): one for the whole site, one per page with a
//! comments section. Written with quick-xml so every feed is well-formed, and with no
//! "now" in it, so rendering twice gives the same bytes.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::comment::Comment;

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

/// A feed and its entries, newest first.
pub struct Feed<'a> {
    pub title: String,
    /// The feed's own URL; also its id.
    pub self_url: String,
    /// The page (or site) the feed is about.
    pub alternate: String,
    pub entries: Vec<Entry<'a>>,
}

pub struct Entry<'a> {
    pub comment: &'a Comment,
    pub author: &'a str,
    pub title: String,
    /// Permalink of the comment; also its id.
    pub url: String,
    /// The sanitized HTML of the body.
    pub html: &'a str,
}

impl Feed<'_> {
    /// The feed as an Atom document.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
        // Writing into a Vec cannot fail.
        let _ = self.write(&mut w);
        String::from_utf8(w.into_inner()).unwrap_or_default()
    }

    fn write(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new("feed").with_attributes([("xmlns", ATOM_NS)]),
        ))?;
        text(w, "id", &self.self_url)?;
        text(w, "title", &self.title)?;
        link(w, "self", &self.self_url, Some("application/atom+xml"))?;
        link(w, "alternate", &self.alternate, Some("text/html"))?;
        let updated = self
            .entries
            .iter()
            .map(|e| e.comment.date)
            .max()
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
        text(w, "updated", &updated)?;
        text(w, "generator", "cairn")?;
        for e in &self.entries {
            w.write_event(Event::Start(BytesStart::new("entry")))?;
            text(w, "id", &e.url)?;
            text(w, "title", &e.title)?;
            link(w, "alternate", &e.url, Some("text/html"))?;
            let date = e.comment.date_string();
            text(w, "published", &date)?;
            text(w, "updated", &date)?;
            w.write_event(Event::Start(BytesStart::new("author")))?;
            text(w, "name", e.author)?;
            if let Some(site) = e
                .comment
                .website
                .as_deref()
                .filter(|s| crate::comment::check_website(s).is_ok())
            {
                text(w, "uri", site)?;
            }
            w.write_event(Event::End(BytesEnd::new("author")))?;
            w.write_event(Event::Start(
                BytesStart::new("content").with_attributes([("type", "html")]),
            ))?;
            w.write_event(Event::Text(BytesText::new(e.html)))?;
            w.write_event(Event::End(BytesEnd::new("content")))?;
            w.write_event(Event::End(BytesEnd::new("entry")))?;
        }
        w.write_event(Event::End(BytesEnd::new("feed")))?;
        w.get_mut().write_all(b"\n")
    }
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(value)))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn link(w: &mut Writer<Vec<u8>>, rel: &str, href: &str, kind: Option<&str>) -> std::io::Result<()> {
    let mut el = BytesStart::new("link").with_attributes([("rel", rel), ("href", href)]);
    if let Some(kind) = kind {
        el.push_attribute(("type", kind));
    }
    w.write_event(Event::Empty(el))
}
