//! Reads a Disqus XML export: `<thread>` records name the pages (by `<link>`), `<post>`
//! records are the comments (HTML `<message>`, `<createdAt>`, `<isDeleted>`,
//! `<isSpam>`, `<author>`, and `<thread>`/`<parent>` references by `dsq:id`).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::xml::{self, Element};
use super::{Body, Item, Note, Source, Status};

/// Reads every post of the export at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let mut links: HashMap<String, Option<String>> = HashMap::new();
    // Posts with the `dsq:id` of their thread, resolved once every thread is known.
    let mut posts: Vec<(Item, Option<String>)> = Vec::new();
    let mut source = Source::default();
    xml::for_each(path, 1, &["thread", "post"], |record| {
        let id = record.attr("id").unwrap_or_default().to_string();
        if record.name == "thread" {
            links.insert(id, record.text_at("link"));
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
                message: format!("its thread {} has no <link>", thread.unwrap_or_default()),
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
    let date = DateTime::parse_from_rfc3339(&created)
        .map_err(|e| format!("<createdAt> {created:?}: {e}"))?
        .with_timezone(&Utc);
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
