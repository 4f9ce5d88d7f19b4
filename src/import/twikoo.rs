//! Reads a Twikoo export (its admin's "export comments": a JSON array of its `comment`
//! collection), and the LeanCloud export of Valine's `Comment` class, whose shape
//! Twikoo took over: a JSON array, an object with `results`, or one JSON object a line.
//!
//! A comment has an id (Twikoo's `_id`, a string or MongoDB's `{"$oid": ...}`;
//! Valine's `objectId`), the page's path (`url`; else its address, `href`), `pid` (the
//! comment it answers), the HTML shown (`comment`), `nick`, `mail` and `link`, its date
//! (`created`, Unix milliseconds; Valine's `createdAt`) and `isSpam`, which Twikoo sets
//! on spam and on comments waiting for review alike. The IP address, user agent, the
//! md5 of the address and likes are not read.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::Value;

use super::json::{date, id, text};
use super::{Body, Item, Note, Source, Status};

/// Reads every comment of the export at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let text = super::text_of(path)?;
    let comments: Vec<Value> = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(all)) => all,
        Ok(Value::Object(mut doc)) => match doc.remove("results") {
            Some(Value::Array(all)) => all,
            _ => bail!(
                "{}: not a Twikoo or Valine export (an object without `results`)",
                path.display()
            ),
        },
        Ok(_) => bail!("{}: not a Twikoo or Valine export", path.display()),
        // LeanCloud's other export: one object a line.
        Err(_) => {
            let mut all = Vec::new();
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                match serde_json::from_str::<Value>(line) {
                    Ok(value) if value.is_object() => all.push(value),
                    _ => bail!(
                        "{}:{}: not a Twikoo or Valine export (neither JSON nor one JSON \
                         object a line)",
                        path.display(),
                        n + 1
                    ),
                }
            }
            all
        }
    };
    let mut source = Source::default();
    for (n, comment) in comments.iter().enumerate() {
        let key = id(&comment["_id"]).or_else(|| id(&comment["objectId"]));
        let location = match &key {
            Some(key) => format!("comment {key}"),
            None => format!("comment #{} of the export", n + 1),
        };
        match item(comment, key, &location) {
            Ok(item) => source.items.push(item),
            Err(message) => source.skipped.push(Note { location, message }),
        }
    }
    Ok(source)
}

fn item(comment: &Value, key: Option<String>, location: &str) -> Result<Item, String> {
    let key = key.ok_or("it has no _id (nor objectId)")?;
    let date = date(&comment["created"])
        .or_else(|| date(&comment["createdAt"]))
        .ok_or_else(|| format!("its date {} is not one", comment["created"]))?;
    let status = if comment["isSpam"] == true {
        Status::Pending
    } else {
        Status::Published
    };
    Ok(Item {
        key,
        thread: text(&comment["url"]).or_else(|| text(&comment["href"])),
        parent: id(&comment["pid"]),
        date,
        author: text(&comment["nick"]),
        email: text(&comment["mail"]),
        website: text(&comment["link"]),
        body: Body::Html(text(&comment["comment"]).unwrap_or_default()),
        status,
        // Twikoo's `master`: posted with the blogger's address (its BLOGGER_EMAIL).
        owner: comment["master"] == true,
        location: location.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_text(text: &str) -> Result<Source> {
        crate::import::read_written(text, read)
    }

    #[test]
    fn twikoo_and_valine_exports_come_with_their_ids_dates_and_threads() {
        let twikoo = json!([
            {"_id": "a1", "nick": "Ann", "mail": "ann@example.org", "mailMd5": "x",
             "link": "https://ann.example", "ua": "Mozilla/5.0", "ip": "203.0.113.9",
             "master": false, "url": "/posts/hello/", "href": "https://blog.example.org/posts/hello/",
             "comment": "<p>Hi <strong>there</strong></p>\n", "isSpam": false,
             "created": 1709634030000u64, "updated": 1709634030000u64, "like": []},
            {"_id": {"$oid": "65e6f2"}, "nick": "Bob", "url": "/posts/hello/", "pid": "a1",
             "rid": "a1", "comment": "<p>Thanks</p>", "created": 1709634090000u64,
             "mail": "bob@blog.example.org", "master": true},
            {"_id": "s", "nick": "Spam?", "url": "/posts/hello/", "comment": "<p>x</p>",
             "isSpam": true, "created": 1709634090000u64, "pid": null},
            {"_id": "d", "url": "/posts/hello/", "comment": "<p>?</p>", "created": "yesterday"},
            {"nick": "No id", "url": "/posts/hello/", "created": 1709634090000u64},
        ]);
        let source = read_text(&twikoo.to_string()).unwrap();
        assert_eq!(
            crate::import::threading(&source),
            [
                ("a1", None, Status::Published),
                ("65e6f2", Some("a1"), Status::Published),
                ("s", None, Status::Pending),
            ]
        );
        let ann = &source.items[0];
        assert_eq!(
            ann.body,
            Body::Html("<p>Hi <strong>there</strong></p>".into())
        );
        // The blogger's reply (`master`, from its address) is the site's own.
        let owners: Vec<bool> = source.items.iter().map(|i| i.owner).collect();
        assert_eq!(owners, [false, true, false]);
        assert_eq!(
            (
                ann.author.as_deref(),
                ann.email.as_deref(),
                ann.website.as_deref()
            ),
            (
                Some("Ann"),
                Some("ann@example.org"),
                Some("https://ann.example")
            )
        );
        assert_eq!(ann.thread.as_deref(), Some("/posts/hello/"));
        assert_eq!(ann.date.to_rfc3339(), "2024-03-05T10:20:30+00:00");
        let skipped: Vec<String> = source.skipped.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            skipped,
            [
                "comment d: its date \"yesterday\" is not one",
                "comment #5 of the export: it has no _id (nor objectId)"
            ]
        );

        // Valine, as LeanCloud exports it: in `results`, or one object a line.
        let valine = [
            json!({"objectId": "v1", "nick": "Cy", "url": "/about/", "comment": "<p>Hello</p>",
                   "createdAt": "2019-05-01T08:00:00.000Z", "updatedAt": "2019-05-01T08:00:00.000Z"}),
            json!({"objectId": "v2", "nick": "Di", "url": "/about/", "pid": "v1", "rid": "v1",
                   "comment": "<p>Hi</p>", "createdAt": {"__type": "Date", "iso": "2019-05-02T08:00:00.000Z"}}),
        ];
        let lines = format!("{}\n{}\n", valine[0], valine[1]);
        for text in [json!({"results": valine}).to_string(), lines] {
            let source = read_text(&text).unwrap();
            assert_eq!(
                crate::import::threading(&source),
                [
                    ("v1", None, Status::Published),
                    ("v2", Some("v1"), Status::Published)
                ]
            );
            assert_eq!(
                source.items[1].date.to_rfc3339(),
                "2019-05-02T08:00:00+00:00"
            );
        }
    }

    #[test]
    fn what_is_not_an_export_says_so() {
        for (text, expected) in [
            ("{\"type\": \"waline\"}", "an object without `results`"),
            ("42", "not a Twikoo or Valine export"),
            (
                "{\"a\": 1}\nnot json\n",
                ":2: not a Twikoo or Valine export",
            ),
        ] {
            let error = format!("{:#}", read_text(text).unwrap_err());
            assert!(error.contains(expected), "{error}");
        }
    }
}
