//! Reads a Remark42 backup: the file its server writes every day (`backup-SITE-DATE.gz`)
//! or on demand (`remark42 backup`, or the admin export), gzip'd or not. The first line
//! is the site's metadata (`version`, `users` with their blocks, `posts` with their
//! read-only flags), and each line after it one comment as JSON: `id`, `pid` (the
//! parent's id, empty for none), `text` (the HTML Remark42 shows), `user` (`name`, and
//! an `id`, a `picture` URL and a hash of the IP, none of them kept), `locator.url`
//! (the page), `time` (RFC 3339) and `delete`.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Body, Item, Note, Source, Status};

/// The backup versions Remark42 writes (0 before versions were written down).
const VERSIONS: [u64; 2] = [0, 1];

/// The first line of a backup.
#[derive(Deserialize)]
struct Meta {
    version: u64,
    #[serde(default)]
    users: Option<Vec<UserMeta>>,
    #[serde(default)]
    posts: Option<Vec<PostMeta>>,
}

#[derive(Deserialize)]
struct UserMeta {
    id: String,
    #[serde(default)]
    blocked: Blocked,
}

#[derive(Deserialize, Default)]
struct Blocked {
    #[serde(default)]
    status: bool,
    /// Until when; a block that has ended by the time of the import hides nothing.
    #[serde(default)]
    until: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct PostMeta {
    url: String,
    #[serde(default)]
    read_only: bool,
}

/// A comment line. Fields not read here (votes, score, pin, edit, title, the user's
/// picture and IP hash) are ignored.
#[derive(Deserialize)]
struct Comment {
    id: String,
    #[serde(default)]
    pid: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    user: User,
    locator: Locator,
    time: DateTime<Utc>,
    #[serde(default)]
    delete: bool,
}

#[derive(Deserialize, Default)]
struct User {
    #[serde(default)]
    name: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    block: bool,
}

#[derive(Deserialize)]
struct Locator {
    url: String,
}

/// Reads every comment of the backup at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let text = super::text_of(path)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    let Some((_, first)) = lines.next() else {
        bail!("{}: empty: not a Remark42 backup", path.display());
    };
    let meta: Meta = serde_json::from_str(first).map_err(|e| {
        anyhow::anyhow!(
            "{}:1: not a Remark42 backup (its first line is not the site's metadata: {e})",
            path.display()
        )
    })?;
    if meta.users.is_none() && meta.posts.is_none() {
        bail!(
            "{}:1: not a Remark42 backup (its first line has no `users` or `posts`)",
            path.display()
        );
    }
    if !VERSIONS.contains(&meta.version) {
        bail!(
            "{}:1: a Remark42 backup of version {}, which cairn does not know (it reads versions 0 and 1)",
            path.display(),
            meta.version
        );
    }
    let now = Utc::now();
    let blocked: HashSet<&str> = meta
        .users
        .iter()
        .flatten()
        .filter(|u| u.blocked.status && u.blocked.until.is_none_or(|until| until > now))
        .map(|u| u.id.as_str())
        .collect();

    let mut source = Source {
        closed: meta
            .posts
            .into_iter()
            .flatten()
            .filter(|p| p.read_only)
            .map(|p| p.url)
            .collect(),
        ..Source::default()
    };
    for (n, line) in lines {
        let location = format!("line {}", n + 1);
        let comment: Comment = match serde_json::from_str(line) {
            Ok(comment) => comment,
            Err(e) => {
                source.skipped.push(Note {
                    location,
                    message: format!("not a Remark42 comment: {e}"),
                });
                continue;
            }
        };
        let status = if comment.delete {
            Status::Deleted
        } else if comment.user.block || blocked.contains(comment.user.id.as_str()) {
            Status::Blocked
        } else {
            Status::Published
        };
        source.items.push(Item {
            location: format!("{location} (comment {})", comment.id),
            key: comment.id,
            thread: Some(comment.locator.url),
            parent: Some(comment.pid).filter(|p| !p.is_empty()),
            date: comment.time,
            author: Some(comment.user.name).filter(|n| !n.is_empty()),
            // Remark42 keeps no addresses in its backups, and no website.
            email: None,
            website: None,
            body: Body::Html(comment.text),
            status,
            owner: false,
        });
    }
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backup as Remark42 writes it: the metadata line, then a comment a line.
    const BACKUP: &str = concat!(
        r#"{"version":1,"users":[{"id":"github_ann","blocked":{"status":false,"until":"0001-01-01T00:00:00Z"},"verified":true},{"id":"google_spam","blocked":{"status":true,"until":"2125-01-01T00:00:00Z"},"verified":false},{"id":"email_was","blocked":{"status":true,"until":"2020-01-01T00:00:00Z"},"verified":false}],"posts":[{"url":"https://blog.example.org/posts/old/","read_only":true}]}"#,
        "\n",
        r#"{"id":"c1","pid":"","text":"<p>Great <strong>post</strong>, see <a href=\"https://ann.example\" rel=\"nofollow\">this</a></p>\n","orig":"Great **post**","user":{"name":"Ann &lt;3","id":"github_ann","picture":"https://remark42.example.org/api/v1/avatar/1.image","ip":"293ec5b0cf154855258824ec7fac5dc63d176915","admin":false},"locator":{"site":"blog","url":"https://blog.example.org/posts/hello/"},"score":2,"vote":0,"time":"2021-03-04T10:20:30.123456789+02:00","title":"Hello"}"#,
        "\n",
        r#"{"id":"c2","pid":"c1","text":"<p>Thanks!</p>","user":{"name":"Bob","id":"anonymous_bob","picture":"","admin":true},"locator":{"site":"blog","url":"https://blog.example.org/posts/hello/"},"score":0,"vote":0,"time":"2021-03-05T08:00:00Z"}"#,
        "\n",
        r#"{"id":"c3","pid":"","text":"","user":{"name":"deleted","id":"deleted","picture":""},"locator":{"site":"blog","url":"https://blog.example.org/posts/hello/"},"score":0,"vote":0,"time":"2021-03-06T08:00:00Z","delete":true}"#,
        "\n",
        r#"{"id":"c4","pid":"","text":"<p>buy now</p>","user":{"name":"Spammer","id":"google_spam","picture":""},"locator":{"site":"blog","url":"https://blog.example.org/posts/hello/"},"score":0,"vote":0,"time":"2021-03-07T08:00:00Z"}"#,
        "\n",
        r#"{"id":"c5","pid":"","text":"<p>I was blocked once.</p>","user":{"name":"Was","id":"email_was","picture":""},"locator":{"site":"blog","url":"https://blog.example.org/posts/old/"},"score":0,"vote":0,"time":"2019-01-01T00:00:00Z"}"#,
        "\n",
        "{\"id\":\"c6\",\"text\":\"cut sh\n",
    );

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(text: &str) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn a_backup_is_read_gzipped_or_plain_with_every_comment_accounted_for() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            write(dir.path(), "backup-blog-20240101.gz", &gzip(BACKUP)),
            write(dir.path(), "backup.json", BACKUP.as_bytes()),
        ] {
            let source = read(&path).unwrap();
            assert_eq!(
                crate::import::threading(&source),
                [
                    ("c1", None, Status::Published),
                    ("c2", Some("c1"), Status::Published),
                    ("c3", None, Status::Deleted),
                    ("c4", None, Status::Blocked),
                    ("c5", None, Status::Published),
                ]
            );
            let first = &source.items[0];
            assert_eq!(
                first.thread.as_deref(),
                Some("https://blog.example.org/posts/hello/")
            );
            assert_eq!(first.author.as_deref(), Some("Ann &lt;3"));
            assert_eq!(
                first.date.to_rfc3339(),
                "2021-03-04T08:20:30.123456789+00:00"
            );
            assert!(matches!(&first.body, Body::Html(h) if h.contains("<strong>post</strong>")));
            assert_eq!(
                (first.email.as_deref(), first.website.as_deref()),
                (None, None)
            );
            assert_eq!(first.location, "line 2 (comment c1)");
            assert_eq!(source.skipped.len(), 1, "{:?}", source.skipped);
            assert_eq!(source.skipped[0].location, "line 7");
            assert!(source.skipped[0]
                .message
                .starts_with("not a Remark42 comment"));
            assert_eq!(source.closed, ["https://blog.example.org/posts/old/"]);
        }
    }

    #[test]
    fn what_is_not_a_backup_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("empty.gz", gzip(""), "empty: not a Remark42 backup"),
            (
                "isso.json",
                b"[{\"id\": 1}]".to_vec(),
                "its first line is not the site's metadata",
            ),
            (
                "other.json",
                b"{\"version\": 1}\n".to_vec(),
                "has no `users` or `posts`",
            ),
            (
                "future.json",
                b"{\"version\": 2, \"users\": []}\n".to_vec(),
                "version 2",
            ),
            (
                "cut.gz",
                gzip(BACKUP)[..40].to_vec(),
                "not a whole gzip file",
            ),
            (
                "latin1.txt",
                b"{\"version\":1,\"users\":[]}\n\xe9".to_vec(),
                "not UTF-8 text",
            ),
        ];
        for (name, bytes, expected) in cases {
            let path = write(dir.path(), name, &bytes);
            let error = format!("{:#}", read(&path).unwrap_err());
            assert!(
                error.contains(name) && error.contains(expected),
                "{name}: {error}"
            );
        }
    }
}
