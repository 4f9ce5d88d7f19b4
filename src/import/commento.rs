//! Reads a Commento (or Commento++) export: the `.json.gz` file its dashboard mails a
//! link to (General, Export data), gzip'd or not:
//! `{"version": 1, "comments": [...], "commenters": [...]}`.
//!
//! A comment has a `commentHex`, the page's path (`url`), `parentHex` (`root` for none),
//! its `markdown`, `creationDate` (RFC 3339), `state` (`approved`, `unapproved`,
//! `flagged`) and a `commenterHex`, which names a commenter with `name`, `email` and
//! `link` (`undefined` for none), or is `anonymous`. Scores, votes and photos are not
//! read.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Body, Item, Note, Source, Status};

#[derive(Deserialize)]
struct Export {
    version: u64,
    comments: Vec<serde_json::Value>,
    #[serde(default)]
    commenters: Vec<Commenter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Comment {
    comment_hex: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    parent_hex: String,
    #[serde(default)]
    markdown: String,
    #[serde(default)]
    html: String,
    creation_date: DateTime<Utc>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    commenter_hex: String,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commenter {
    commenter_hex: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    link: String,
}

/// Reads every comment of the export at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let text = super::text_of(path)?;
    let export: Export = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a Commento export (one object with `version`, `comments` and `commenters`)",
            path.display()
        )
    })?;
    if export.version != 1 {
        bail!(
            "{}: a Commento export of version {}, which cairn does not know (it reads version 1)",
            path.display(),
            export.version
        );
    }
    let commenters: HashMap<&str, &Commenter> = export
        .commenters
        .iter()
        .map(|c| (c.commenter_hex.as_str(), c))
        .collect();
    let mut source = Source::default();
    for (n, value) in export.comments.into_iter().enumerate() {
        let comment: Comment = match serde_json::from_value(value) {
            Ok(comment) => comment,
            Err(e) => {
                source.skipped.push(Note {
                    location: format!("comment #{} of the export", n + 1),
                    message: format!("not a Commento comment: {e}"),
                });
                continue;
            }
        };
        let location = format!("comment {}", short(&comment.comment_hex));
        let status = match comment.state.as_deref() {
            _ if comment.deleted => Status::Deleted,
            None | Some("approved") => Status::Published,
            Some("unapproved") => Status::Pending,
            Some("flagged") => Status::Spam,
            Some(other) => {
                source.skipped.push(Note {
                    location,
                    message: format!("unknown Commento state {other:?}"),
                });
                continue;
            }
        };
        // Anonymous comments name no commenter; nor do those of a deleted account.
        let by = commenters.get(comment.commenter_hex.as_str());
        let field = |value: fn(&Commenter) -> &str| {
            by.map(|c| value(c).trim())
                .filter(|v| !v.is_empty() && *v != "undefined")
                .map(str::to_string)
        };
        source.items.push(Item {
            key: comment.comment_hex,
            thread: Some(comment.url).filter(|u| !u.is_empty()),
            parent: Some(comment.parent_hex).filter(|p| !p.is_empty() && p != "root"),
            date: comment.creation_date,
            author: field(|c| &c.name),
            email: field(|c| &c.email),
            website: field(|c| &c.link),
            body: if comment.markdown.trim().is_empty() && !comment.html.is_empty() {
                Body::Html(comment.html)
            } else {
                Body::Markdown(comment.markdown)
            },
            status,
            owner: false,
            location,
        });
    }
    Ok(source)
}

/// The start of a 64-digit hex id, enough to find it in the export.
fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comments_keep_their_commenters_parents_and_states() {
        let hex = |n: u8| format!("{n:02x}").repeat(32);
        let comment = |n: u8, parent: &str, commenter: &str, state: &str| {
            json!({"commentHex": hex(n), "domain": "blog.example.org", "url": "/blog/post/1",
                   "commenterHex": commenter, "markdown": format!("Comment {n}"), "html": "",
                   "parentHex": parent, "score": 1, "state": state,
                   "creationDate": "2021-03-17T12:09:47.722181Z", "direction": 0})
        };
        let mut deleted = comment(5, "root", "anonymous", "approved");
        deleted["deleted"] = json!(true);
        let export = json!({"version": 1,
        "comments": [
            comment(1, "root", &hex(0xa1), "approved"),
            comment(2, &hex(1), "anonymous", "approved"),
            comment(3, "root", &hex(0xa2), "unapproved"),
            comment(4, "root", &hex(0xa2), "flagged"),
            deleted,
            {"commentHex": hex(6), "creationDate": "never"},
            comment(7, "root", &hex(0xa1), "hidden"),
        ],
        "commenters": [
            {"commenterHex": hex(0xa1), "email": "ann@example.org", "name": "Ann",
             "link": "https://ann.example", "photo": "undefined", "provider": "commento",
             "joinDate": "2021-03-19T19:27:25.954285Z", "isModerator": false},
            {"commenterHex": hex(0xa2), "email": "bob@example.org", "name": "Bob",
             "link": "undefined", "photo": "https://example.org/bob.png", "provider": "google",
             "joinDate": "2021-03-19T19:27:25.954285Z", "isModerator": false}
        ]});
        let source = crate::import::read_written(&export.to_string(), read).unwrap();
        let (a, b, c, d, e) = (hex(1), hex(2), hex(3), hex(4), hex(5));
        assert_eq!(
            crate::import::threading(&source),
            [
                (a.as_str(), None, Status::Published),
                (b.as_str(), Some(a.as_str()), Status::Published),
                (c.as_str(), None, Status::Pending),
                (d.as_str(), None, Status::Spam),
                (e.as_str(), None, Status::Deleted),
            ]
        );
        let people: Vec<_> = source
            .items
            .iter()
            .map(|i| {
                (
                    i.author.as_deref(),
                    i.email.as_deref(),
                    i.website.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            people[..3],
            [
                (
                    Some("Ann"),
                    Some("ann@example.org"),
                    Some("https://ann.example")
                ),
                (None, None, None),
                (Some("Bob"), Some("bob@example.org"), None),
            ]
        );
        let first = &source.items[0];
        assert_eq!(first.thread.as_deref(), Some("/blog/post/1"));
        assert_eq!(first.body, Body::Markdown("Comment 1".into()));
        assert_eq!(first.date.to_rfc3339(), "2021-03-17T12:09:47.722181+00:00");
        assert_eq!(first.location, "comment 010101010101");
        let skipped: Vec<String> = source.skipped.iter().map(|n| n.to_string()).collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped[0].starts_with("comment #6 of the export: not a Commento comment"));
        assert_eq!(
            skipped[1],
            "comment 070707070707: unknown Commento state \"hidden\""
        );
    }

    #[test]
    fn what_is_not_a_commento_export_says_so() {
        for (doc, expected) in [
            (json!({"type": "waline"}), "not a Commento export"),
            (json!({"version": 2, "comments": []}), "version 2"),
        ] {
            let error = format!(
                "{:#}",
                crate::import::read_written(&doc.to_string(), read).unwrap_err()
            );
            assert!(error.contains(expected), "{error}");
        }
    }
}
