//! The export documents: every comment of a site, by thread, as one JSON value that
//! other tools can read without knowing format v1 files, or as a WordPress export
//! (WXR), which WordPress and Disqus import.

use std::collections::HashMap;

use serde::Serialize;
use ulid::Ulid;

use crate::comment::Comment;
use crate::config::Config;
use crate::store::Store;

/// Identifies the document and its version for readers.
pub const FORMAT: &str = "cairn-export";
/// Version of the document's shape; bumped only when it changes incompatibly.
pub const VERSION: u32 = 1;

/// The whole export.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub format: &'static str,
    pub version: u32,
    /// The site's public base URL.
    pub site: &'a str,
    /// Number of comments in all threads.
    pub comments: usize,
    /// Threads in path order.
    pub threads: Vec<Thread<'a>>,
}

/// One page's comments, oldest first.
#[derive(Debug, Serialize)]
pub struct Thread<'a> {
    /// The thread path (the page's URL path under the site).
    pub thread: &'a str,
    /// The page's public URL.
    pub url: String,
    pub comments: Vec<Entry<'a>>,
}

/// One comment: the fields of format v1 (absent optional fields are `null`).
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    pub id: String,
    /// Id of the comment this one replies to.
    pub parent: Option<String>,
    /// RFC 3339, UTC.
    pub date: String,
    pub author: Option<&'a str>,
    pub website: Option<&'a str>,
    /// Avatar key (a keyed hash; never an e-mail).
    pub avatar: Option<&'a str>,
    /// Where an imported comment came from, e.g. `disqus:12345`.
    pub origin: Option<&'a str>,
    /// Markdown source.
    pub body: &'a str,
    /// Whether the page marks it as the site's own: its avatar key is one that
    /// `comments.owners` names.
    pub owner: bool,
}

impl<'a> Entry<'a> {
    fn of(comment: &'a Comment, config: &Config) -> Entry<'a> {
        Entry {
            id: comment.id.to_string(),
            parent: comment.parent.map(|p| p.to_string()),
            date: comment.date_string(),
            author: comment.author.as_deref(),
            website: comment.website.as_deref(),
            avatar: comment.avatar.as_deref(),
            origin: comment.origin.as_deref(),
            body: &comment.body,
            owner: config.comments.is_owner(comment.avatar.as_deref()),
        }
    }
}

/// Builds the document for every comment the store loaded. Comments are ordered by
/// date within a thread (oldest first), whatever order the site shows them in.
pub fn document<'a>(config: &'a Config, store: &'a Store) -> Document<'a> {
    let threads: Vec<Thread<'a>> = oldest_first(store)
        .map(|(path, comments)| Thread {
            thread: path,
            url: config.public_url(path),
            comments: comments.into_iter().map(|c| Entry::of(c, config)).collect(),
        })
        .collect();
    Document {
        format: FORMAT,
        version: VERSION,
        site: &config.site.url,
        comments: store.len(),
        threads,
    }
}

/// Each thread in path order, with its comments by date, oldest first.
fn oldest_first(store: &Store) -> impl Iterator<Item = (&str, Vec<&Comment>)> {
    store.threads.iter().map(|(path, thread)| {
        let mut comments: Vec<&Comment> = thread.comments.iter().collect();
        comments.sort_by_key(|c| (c.date, c.id));
        (path.as_str(), comments)
    })
}

/// The site's comments as a WordPress export (WXR, in the shape of Disqus's "custom
/// XML import format", every field present): an `<item>` per thread, linking its
/// page and `closed` to comments when `comments.closed` lists it, with a
/// `<wp:comment>` per comment, oldest first. Comments are numbered from 1 across the
/// site (WordPress's ids are numbers) and replies name their parent's number; the text
/// is the comment's sanitized HTML, as the page shows it. There is no e-mail or IP
/// address to give. The site's own people (`comments.owners`) with comments here are
/// the channel's `<wp:author>`s, numbered from 1 and named as on their newest comment
/// (`owner-1` when it has no name), and their comments name them in
/// `<wp:comment_user_id>`: WordPress's importer asks which of its users each one is,
/// and gives their comments to that user.
pub fn wxr(config: &Config, store: &Store) -> String {
    use crate::site::feed::{cdata, text};
    let mut numbers: HashMap<Ulid, usize> = HashMap::new();
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dsq=\"http://www.disqus.com/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:wp=\"http://wordpress.org/export/1.0/\">\n<channel>\n",
    );
    text(&mut x, 1, "title", &config.site.url);
    text(&mut x, 1, "link", &config.site.url);
    text(&mut x, 1, "wp:wxr_version", "1.0");
    text(&mut x, 1, "generator", "cairn");
    let owners = owners_newest(config, store);
    for (n, (_, newest)) in owners.iter().enumerate() {
        let login = format!("owner-{}", n + 1);
        let name = newest.author.as_deref().unwrap_or(&login);
        x.push_str(" <wp:author>\n");
        text(&mut x, 2, "wp:author_id", &(n + 1).to_string());
        text(&mut x, 2, "wp:author_login", &login);
        text(&mut x, 2, "wp:author_display_name", name);
        x.push_str(" </wp:author>\n");
    }
    let user_of = |c: &Comment| {
        c.avatar
            .as_deref()
            .and_then(|key| owners.iter().position(|(owner, _)| *owner == key))
            .map_or(0, |n| n + 1)
    };
    for (thread, comments) in oldest_first(store) {
        x.push_str(" <item>\n");
        text(&mut x, 2, "title", thread);
        text(&mut x, 2, "link", &config.public_url(thread));
        text(&mut x, 2, "dsq:thread_identifier", thread);
        // The thread's creation: its first comment.
        let opened = comments
            .first()
            .map(|c| wxr_date(c.date))
            .unwrap_or_default();
        text(&mut x, 2, "wp:post_date_gmt", &opened);
        text(&mut x, 2, "wp:post_type", "post");
        text(&mut x, 2, "wp:status", "publish");
        let status = if config.comments.is_closed(thread) {
            "closed"
        } else {
            "open"
        };
        text(&mut x, 2, "wp:comment_status", status);
        x.push_str("  <content:encoded></content:encoded>\n");
        // Numbered first: an imported reply may be dated before what it answers.
        for c in &comments {
            numbers.insert(c.id, numbers.len() + 1);
        }
        for c in comments {
            let number = numbers[&c.id];
            let parent = c.parent.and_then(|p| numbers.get(&p)).map_or(0, |n| *n);
            let date = wxr_date(c.date);
            x.push_str("  <wp:comment>\n");
            text(&mut x, 3, "wp:comment_id", &number.to_string());
            text(
                &mut x,
                3,
                "wp:comment_author",
                c.author.as_deref().unwrap_or_default(),
            );
            text(&mut x, 3, "wp:comment_author_email", "");
            let website = c.website.as_deref().unwrap_or_default();
            text(&mut x, 3, "wp:comment_author_url", website);
            text(&mut x, 3, "wp:comment_author_IP", "");
            text(&mut x, 3, "wp:comment_date", &date);
            text(&mut x, 3, "wp:comment_date_gmt", &date);
            x.push_str("   <wp:comment_content>");
            cdata(&mut x, &crate::render::markdown::to_html(&c.body));
            x.push_str("</wp:comment_content>\n");
            text(&mut x, 3, "wp:comment_approved", "1");
            text(&mut x, 3, "wp:comment_type", "comment");
            text(&mut x, 3, "wp:comment_parent", &parent.to_string());
            text(&mut x, 3, "wp:comment_user_id", &user_of(c).to_string());
            x.push_str("  </wp:comment>\n");
        }
        x.push_str(" </item>\n");
    }
    x.push_str("</channel>\n</rss>\n");
    x
}

/// Each key of `comments.owners` that a comment carries, in that order, with the
/// newest comment that carries it.
fn owners_newest<'a>(config: &'a Config, store: &'a Store) -> Vec<(&'a str, &'a Comment)> {
    config
        .comments
        .owners
        .iter()
        .filter_map(|key| {
            let newest = store.by_avatar(key).max_by_key(|c| (c.date, c.id))?;
            Some((key.as_str(), newest))
        })
        .collect()
}

/// A date as WXR writes it: `YYYY-MM-DD HH:MM:SS`, here always UTC.
fn wxr_date(date: chrono::DateTime<chrono::Utc>) -> String {
    date.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_owners_with_comments_are_the_exports_authors_in_the_order_owners_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let comment = |id: &str, day: u32, who: &str| {
            let path = format!("comments/a/{id}.yml");
            let text =
                format!("id: {id}\nthread: /a/\ndate: 2026-01-0{day}T00:00:00Z\n{who}body: Hi\n");
            (path, text)
        };
        let files = [
            comment(
                "01JD3K8Z6Q9W2F4T7Y5M1N0AAA",
                1,
                "author: Ann\navatar: 1111111111111111\n",
            ),
            comment(
                "01JD3K8Z6Q9W2F4T7Y5M1N0AAB",
                2,
                "author: Ann Lee\navatar: 1111111111111111\n",
            ),
            comment(
                "01JD3K8Z6Q9W2F4T7Y5M1N0AAC",
                3,
                "avatar: 2222222222222222\n",
            ),
            comment("01JD3K8Z6Q9W2F4T7Y5M1N0AAD", 4, "author: Cy\n"),
        ];
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        crate::testing::write_files(dir.path(), &files);
        let mut config = Config::default_for_test(dir.path());
        config.comments.owners = vec![
            "3333333333333333".into(),
            "2222222222222222".into(),
            "1111111111111111".into(),
        ];
        let store = Store::load(&config.comments_dir(), &config.form).unwrap();
        let x = wxr(&config, &store);
        let authors: Vec<&str> = x
            .split("<wp:author>")
            .skip(1)
            .map(|a| &a[..a.find("</wp:author>").unwrap()])
            .collect();
        // The key no comment carries is no author; the nameless one is named by its
        // login; the other by the name on its newest comment.
        assert_eq!(authors.len(), 2, "{x}");
        assert!(authors[0].contains("<wp:author_login>owner-1</wp:author_login>"));
        assert!(authors[0].contains("<wp:author_display_name>owner-1</wp:author_display_name>"));
        assert!(authors[1].contains("<wp:author_id>2</wp:author_id>"));
        assert!(authors[1].contains("<wp:author_display_name>Ann Lee</wp:author_display_name>"));
        let users: Vec<&str> = x
            .split("<wp:comment_user_id>")
            .skip(1)
            .map(|u| &u[..u.find('<').unwrap()])
            .collect();
        assert_eq!(users, ["2", "2", "1", "0"]);
    }
}
