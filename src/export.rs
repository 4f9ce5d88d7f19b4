//! The export document: every comment of a site, by thread, as one JSON value that
//! other tools (or another comment system) can read without knowing format v1 files.

use serde::Serialize;

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
}

impl<'a> Entry<'a> {
    fn of(comment: &'a Comment) -> Entry<'a> {
        Entry {
            id: comment.id.to_string(),
            parent: comment.parent.map(|p| p.to_string()),
            date: comment.date_string(),
            author: comment.author.as_deref(),
            website: comment.website.as_deref(),
            avatar: comment.avatar.as_deref(),
            origin: comment.origin.as_deref(),
            body: &comment.body,
        }
    }
}

/// Builds the document for every comment the store loaded. Comments are ordered by
/// date within a thread (oldest first), whatever order the site shows them in.
pub fn document<'a>(config: &'a Config, store: &'a Store) -> Document<'a> {
    let threads: Vec<Thread<'a>> = store
        .threads
        .iter()
        .map(|(path, thread)| {
            let mut comments: Vec<&Comment> = thread.comments.iter().collect();
            comments.sort_by_key(|c| (c.date, c.id));
            Thread {
                thread: path,
                url: config.public_url(path),
                comments: comments.into_iter().map(Entry::of).collect(),
            }
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
