//! Reads a Waline export: the `waline.json` its admin's Migration page downloads
//! (`{"type": "waline", "version": 1, "data": {"Comment": [...], "Users": [...]}}`).
//!
//! A comment has an `objectId` (a string, or a number from SQL storages), `url` (the
//! page's path), `pid` (the comment it answers; `rid` is its thread's first comment),
//! `comment` (the Markdown as typed), `insertedAt`, `status` (`approved`, `waiting`,
//! `spam`), `nick`, `mail` and `link`; for a signed-in commenter, `user_id` names a
//! row of `Users` whose `display_name`, `email` and `url` Waline shows instead (an
//! account whose `type` is `administrator` is the site's own). The IP
//! address, user agent, likes and stickiness are not read.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::json::{date, id, text};
use super::{Body, Item, Note, Source, Status};

/// Reads every comment of the export at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let text = super::text_of(path)?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    // The admin saves what the API answers without its envelope; the API itself
    // (`GET /api/db`) wraps it in `{"errno": 0, "data": ...}`.
    let doc = if doc["type"].is_null() && doc["data"]["type"] == "waline" {
        &doc["data"]
    } else {
        &doc
    };
    if doc["type"] != "waline" {
        bail!(
            "{}: not a Waline export (it has no \"type\": \"waline\"; export one from \
             Waline's admin: Migration, Export)",
            path.display()
        );
    }
    let Some(comments) = doc["data"]["Comment"].as_array() else {
        bail!("{}: a Waline export with no Comment table", path.display());
    };
    let users: HashMap<String, &Value> = doc["data"]["Users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| Some((id(&u["objectId"])?, u)))
        .collect();

    let mut source = Source::default();
    for (n, comment) in comments.iter().enumerate() {
        let key = id(&comment["objectId"]);
        let location = match &key {
            Some(key) => format!("comment {key}"),
            None => format!("comment #{} of the Comment table", n + 1),
        };
        match item(comment, key, &users, &location) {
            Ok(item) => source.items.push(item),
            Err(message) => source.skipped.push(Note { location, message }),
        }
    }
    Ok(source)
}

fn item(
    comment: &Value,
    key: Option<String>,
    users: &HashMap<String, &Value>,
    location: &str,
) -> Result<Item, String> {
    let key = key.ok_or("it has no objectId")?;
    let date = date(&comment["insertedAt"])
        .or_else(|| date(&comment["createdAt"]))
        .ok_or_else(|| format!("its insertedAt {} is not a date", comment["insertedAt"]))?;
    let status = match comment["status"].as_str() {
        None | Some("approved") => Status::Published,
        Some("waiting") => Status::Pending,
        Some("spam") => Status::Spam,
        Some(other) => return Err(format!("unknown Waline status {other:?}")),
    };
    // A signed-in commenter's name, address and site are those of their account.
    let user = id(&comment["user_id"]).and_then(|u| users.get(&u).copied());
    let field = |own: &str, account: &str| {
        user.and_then(|u| text(&u[account]))
            .or_else(|| text(&comment[own]))
    };
    Ok(Item {
        key,
        thread: text(&comment["url"]),
        parent: id(&comment["pid"]),
        date,
        author: field("nick", "display_name"),
        email: field("mail", "email"),
        website: field("link", "url"),
        body: Body::Markdown(text(&comment["comment"]).unwrap_or_default()),
        status,
        // Waline marks its administrators' comments as the blogger's.
        owner: user.is_some_and(|u| u["type"] == "administrator"),
        location: location.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_json(doc: &Value) -> Result<Source> {
        crate::import::read_written(&serde_json::to_string_pretty(doc).unwrap(), read)
    }

    #[test]
    fn comments_take_their_accounts_names_and_every_storages_ids_and_dates() {
        let doc = json!({"type": "waline", "version": 1, "time": 1709634030000u64,
        "tables": ["Comment", "Counter", "Users"],
        "data": {
            "Comment": [
                {"objectId": "a1", "url": "/posts/hello/", "comment": "Hi **there**",
                 "insertedAt": "2024-03-05T10:20:30.000Z", "status": "approved",
                 "nick": "Ann", "mail": "ann@example.org", "link": "ann.example",
                 "ip": "203.0.113.9", "ua": "Mozilla/5.0", "like": 3},
                {"objectId": 7, "url": "/posts/hello/", "comment": "Thanks", "pid": "a1",
                 "rid": "a1", "insertedAt": "2024-03-05 11:00:00", "status": "waiting",
                 "nick": "old name", "user_id": 1},
                {"objectId": "s", "url": "/posts/hello/", "comment": "spam",
                 "insertedAt": {"__type": "Date", "iso": "2024-03-06T00:00:00.000Z"},
                 "status": "spam", "pid": null, "user_id": 0},
                {"objectId": "m", "url": "/about/", "comment": "ms",
                 "insertedAt": 1709634030000u64, "user_id": "u2"},
                {"objectId": "x", "url": "/about/", "comment": "?", "insertedAt": "yesterday"},
                {"url": "/about/", "comment": "no id", "insertedAt": "2024-03-05T10:20:30Z"},
                {"objectId": "q", "url": "/about/", "comment": "?",
                 "insertedAt": "2024-03-05T10:20:30Z", "status": "hidden"}
            ],
            "Counter": [],
            "Users": [{"objectId": 1, "display_name": "Bob", "email": "bob@example.org",
                       "url": "https://bob.example", "type": "guest"},
                      {"objectId": "u2", "display_name": "Me", "email": "me@example.org",
                       "type": "administrator"}]
        }});
        for doc in [doc.clone(), json!({"errno": 0, "errmsg": "", "data": doc})] {
            let source = read_json(&doc).unwrap();
            assert_eq!(
                crate::import::threading(&source),
                [
                    ("a1", None, Status::Published),
                    ("7", Some("a1"), Status::Pending),
                    ("s", None, Status::Spam),
                    ("m", None, Status::Published),
                ]
            );
            let [ann, bob, _, ms] = &source.items[..] else {
                panic!("{:?}", source.items)
            };
            assert_eq!(ann.body, Body::Markdown("Hi **there**".into()));
            assert_eq!(
                (
                    ann.author.as_deref(),
                    ann.email.as_deref(),
                    ann.website.as_deref()
                ),
                (Some("Ann"), Some("ann@example.org"), Some("ann.example"))
            );
            assert_eq!(ann.thread.as_deref(), Some("/posts/hello/"));
            assert_eq!(
                (
                    bob.author.as_deref(),
                    bob.email.as_deref(),
                    bob.website.as_deref()
                ),
                (
                    Some("Bob"),
                    Some("bob@example.org"),
                    Some("https://bob.example")
                )
            );
            assert_eq!(bob.date.to_rfc3339(), "2024-03-05T11:00:00+00:00");
            assert_eq!(ms.date.to_rfc3339(), "2024-03-05T10:20:30+00:00");
            // The administrator's comment is the site's own; a guest's is not.
            assert_eq!(
                (ms.author.as_deref(), ms.owner, bob.owner, ann.owner),
                (Some("Me"), true, false, false)
            );
            let skipped: Vec<String> = source.skipped.iter().map(|n| n.to_string()).collect();
            assert_eq!(
                skipped,
                [
                    "comment x: its insertedAt \"yesterday\" is not a date",
                    "comment #6 of the Comment table: it has no objectId",
                    "comment q: unknown Waline status \"hidden\"",
                ]
            );
        }
    }

    #[test]
    fn what_is_not_a_waline_export_says_so() {
        for (doc, expected) in [
            (json!([{"id": 1}]), "not a Waline export"),
            (json!({"type": "twikoo"}), "not a Waline export"),
            (
                json!({"type": "waline", "data": {}}),
                "with no Comment table",
            ),
        ] {
            let error = format!("{:#}", read_json(&doc).unwrap_err());
            assert!(error.contains(expected), "{error}");
        }
    }
}
