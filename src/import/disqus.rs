//! Reads a Disqus XML export: `<thread>` records name the pages (by `<link>`, else by an
//! identifier that is a path or URL), `<post>`
//! records are the comments (HTML `<message>`, `<createdAt>`, `<isDeleted>`,
//! `<isSpam>`, `<author>`, and `<thread>`/`<parent>` references by `dsq:id`). A thread's
//! `<isClosed>` says it takes no new comments.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;

use super::xml::{self, Element};
use super::{names_a_page, Body, Item, Note, Source, Status};

/// Reads every post of the export at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let mut links: HashMap<String, Option<String>> = HashMap::new();
    // Posts with the `dsq:id` of their thread, resolved once every thread is known.
    let mut posts: Vec<(Item, Option<String>)> = Vec::new();
    let mut source = Source::default();
    xml::for_each(path, 1, &["thread", "post"], |record| {
        let id = record.attr("id").unwrap_or_default().to_string();
        if record.name == "thread" {
            // The page's URL; threads exported without one may still carry the page
            // path or URL as their identifier.
            let identifier = record.text_at("id").filter(|i| names_a_page(i));
            let page = record.text_at("link").or(identifier);
            if record.text_at("isClosed").as_deref() == Some("true") {
                source.closed.extend(page.clone());
            }
            links.insert(id, page);
            return Ok(());
        }
        let location = format!("post {id}");
        match post(&record, &id, &location) {
            Ok(item) => posts.push((item, record.child("thread").and_then(dsq_id))),
            Err(message) => source.skipped.push(Note { location, message }),
        }
        Ok(())
    })?;
    if posts.is_empty() && links.is_empty() {
        anyhow::bail!(
            "{}: no <thread> or <post> records: not a Disqus export",
            path.display()
        );
    }
    for (mut item, thread) in posts {
        match thread.as_ref().and_then(|t| links.get(t)) {
            Some(Some(link)) => {
                item.thread = Some(link.clone());
                source.items.push(item);
            }
            Some(None) => source.skipped.push(Note {
                location: item.location,
                message: format!(
                    "its thread {} has no <link> (nor a path as its <id>)",
                    thread.unwrap_or_default()
                ),
            }),
            None => source.skipped.push(Note {
                location: item.location,
                message: format!(
                    "its thread {} is not in the export",
                    thread.unwrap_or_else(|| "(none)".into())
                ),
            }),
        }
    }
    Ok(source)
}

fn post(record: &Element, id: &str, location: &str) -> Result<Item, String> {
    if id.is_empty() {
        return Err("the post has no dsq:id".into());
    }
    let created = record
        .text_at("createdAt")
        .ok_or("the post has no <createdAt>")?;
    // Exports write UTC with a `Z`; Disqus's own example of the format leaves it out.
    let date = super::parse_date(&created)
        .ok_or_else(|| format!("<createdAt> {created:?} is not a date"))?;
    let flag = |name: &str| record.text_at(name).as_deref() == Some("true");
    let status = if flag("isSpam") {
        Status::Spam
    } else if flag("isDeleted") {
        Status::Deleted
    } else {
        Status::Published
    };
    Ok(Item {
        key: id.to_string(),
        thread: None,
        parent: record.child("parent").and_then(dsq_id),
        date,
        author: record
            .text_at("author/name")
            .or_else(|| record.text_at("author/username")),
        email: record.text_at("author/email"),
        website: None,
        body: Body::Html(record.text_at("message").unwrap_or_default()),
        status,
        owner: false,
        location: location.to_string(),
    })
}

/// The `dsq:id` a `<thread>` or `<parent>` reference points to.
fn dsq_id(reference: &Element) -> Option<String> {
    reference
        .attr("id")
        .map(str::to_string)
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_get_their_threads_parents_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.xml");
        std::fs::write(
            &path,
            r#"<?xml version="1.0"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><id>/posts/by-identifier/</id><link></link><isClosed>true</isClosed></thread>
  <thread dsq:id="2"><id>no-path</id><isClosed>false</isClosed></thread>
  <post dsq:id="10"><message><![CDATA[<p>Top &amp; <b>bold</b></p>]]></message>
    <createdAt>2015-03-04T05:06:07Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><name>Ann</name><email>ann@example.org</email></author><thread dsq:id="1"/></post>
  <post dsq:id="11"><message>spam</message><createdAt>2015-03-04T05:06:08Z</createdAt>
    <isSpam>true</isSpam><author><username>bot</username></author>
    <thread dsq:id="1"/><parent dsq:id="10"/></post>
  <post dsq:id="12"><message>gone</message><createdAt>2015-03-04T05:06:09Z</createdAt>
    <isDeleted>true</isDeleted><thread dsq:id="1"/></post>
  <post dsq:id="13"><message>lost</message><createdAt>2015-03-04T05:06:10Z</createdAt>
    <thread dsq:id="2"/></post>
  <post dsq:id="14"><message>undated</message><thread dsq:id="1"/></post>
  <post dsq:id="15"><message>no zone</message><createdAt>2015-03-04T05:06:11</createdAt>
    <thread dsq:id="1"/></post>
  <post dsq:id="16"><message>bad date</message><createdAt>March 4</createdAt>
    <thread dsq:id="1"/></post>
</disqus>"#,
        )
        .unwrap();
        let source = read(&path).unwrap();
        let keys: Vec<(&str, Status)> = source
            .items
            .iter()
            .map(|i| (i.key.as_str(), i.status))
            .collect();
        assert_eq!(
            keys,
            [
                ("10", Status::Published),
                ("11", Status::Spam),
                ("12", Status::Deleted),
                ("15", Status::Published),
            ]
        );
        assert_eq!(
            source.items[3].date.to_rfc3339(),
            "2015-03-04T05:06:11+00:00",
            "a date without a zone is UTC"
        );
        let top = &source.items[0];
        assert_eq!(top.thread.as_deref(), Some("/posts/by-identifier/"));
        assert_eq!(top.body, Body::Html("<p>Top &amp; <b>bold</b></p>".into()));
        assert_eq!(
            (top.author.as_deref(), top.email.as_deref()),
            (Some("Ann"), Some("ann@example.org"))
        );
        assert_eq!(source.items[1].parent.as_deref(), Some("10"));
        assert_eq!(source.items[1].author.as_deref(), Some("bot"));
        assert_eq!(source.closed, ["/posts/by-identifier/"]);
        let skipped: Vec<String> = source.skipped.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            skipped,
            [
                "post 14: the post has no <createdAt>",
                "post 16: <createdAt> \"March 4\" is not a date",
                "post 13: its thread 2 has no <link> (nor a path as its <id>)"
            ]
        );
    }
}
