//! Reads a WordPress export (WXR 1.0 to 1.2): each `<item>` is a post with its
//! `<link>` and its `<wp:comment>`s. Comment text is WordPress's own: HTML where the
//! commenter typed tags, blank lines for paragraphs.

use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::html::wordpress_paragraphs;
use super::xml::{self, Element};
use super::{Body, Item, Note, Source, Status};

/// Reads every comment of the export at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let mut source = Source::default();
    let mut items_seen = 0usize;
    xml::for_each(path, 2, &["item"], |item| {
        items_seen += 1;
        let link = item.text_at("link");
        for comment in item.children("comment") {
            let id = comment.text_at("comment_id").unwrap_or_default();
            let location = format!(
                "comment {id} on {}",
                link.as_deref().unwrap_or("an item without <link>")
            );
            match read_comment(comment, &id, link.clone(), &location) {
                Ok(item) => source.items.push(item),
                Err(message) => source.skipped.push(Note { location, message }),
            }
        }
        Ok(())
    })?;
    if items_seen == 0 {
        anyhow::bail!(
            "{}: no <rss><channel><item> records: not a WordPress export",
            path.display()
        );
    }
    Ok(source)
}

fn read_comment(
    comment: &Element,
    id: &str,
    link: Option<String>,
    location: &str,
) -> Result<Item, String> {
    if id.is_empty() {
        return Err("the comment has no <wp:comment_id>".into());
    }
    match comment.text_at("comment_type").as_deref() {
        None | Some("comment") => {}
        Some(kind) => return Err(format!("a {kind}, not a comment")),
    }
    let status = match comment.text_at("comment_approved").as_deref() {
        Some("1") => Status::Published,
        Some("0") => Status::Pending,
        Some("spam") => Status::Spam,
        _ => Status::Deleted,
    };
    // The GMT date when WordPress recorded one ("0000-00-00 00:00:00" when it did not),
    // else the local date, read as UTC.
    let date = ["comment_date_gmt", "comment_date"]
        .iter()
        .filter_map(|field| comment.text_at(field))
        .find_map(|text| NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S").ok())
        .map(|naive| DateTime::<Utc>::from_naive_utc_and_offset(naive, Utc))
        .ok_or("the comment has no valid <wp:comment_date_gmt> or <wp:comment_date>")?;
    Ok(Item {
        key: id.to_string(),
        thread: link,
        parent: comment.text_at("comment_parent").filter(|p| p != "0"),
        date,
        author: comment.text_at("comment_author"),
        email: comment.text_at("comment_author_email"),
        website: comment.text_at("comment_author_url"),
        body: Body::Html(wordpress_paragraphs(
            &comment.text_at("comment_content").unwrap_or_default(),
        )),
        status,
        location: location.to_string(),
    })
}
