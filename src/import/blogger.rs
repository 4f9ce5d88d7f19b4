//! Reads a Blogger export, in either of Blogger's two formats: the `feed.atom` of Google
//! Takeout (Blogger's format since 2018: each entry's `<blogger:type>` and
//! `<blogger:status>`, a post's path in `<blogger:filename>`, a comment's post in
//! `<blogger:parent>` and the comment it answers in `<blogger:inReplyTo>`), and the
//! `blog-MM-DD-YYYY.xml` that "Back up content" wrote before (each entry's kind in a
//! `<category>`, a comment's post in `<thr:in-reply-to>`, the comment a reply answers
//! in its `related` link). Bodies are HTML.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::xml::{self, Element};
use super::{Body, Item, Note, Source, Status};

/// The scheme of the older format's `<category>` that names an entry's kind.
const KIND_SCHEME: &str = "http://schemas.google.com/g/2005#kind";
/// The address Blogger gives as every commenter's e-mail: it is no one's.
const NO_EMAIL: &str = "noreply@blogger.com";
/// The name Blogger shows for a comment left without one.
const NO_NAME: &str = "Anonymous";

/// A comment read, before its post's page is known.
struct Read {
    item: Item,
    /// The number of the post it is on.
    post: Option<String>,
    /// The post's address as the comment itself gives it (the older format).
    page: Option<String>,
}

/// Reads every comment of the export at `path`: a file, or a folder with one blog's
/// `feed.atom` in it (an unpacked Takeout).
pub fn read(path: &Path) -> Result<Source> {
    let path = &export_in(path)?;
    // Posts and pages by number, with their address (none for a draft).
    let mut pages: HashMap<String, Option<String>> = HashMap::new();
    let mut comments: Vec<Read> = Vec::new();
    let mut source = Source::default();
    xml::for_each(path, 1, &["entry"], |entry| {
        let number = entry.text_at("id").as_deref().and_then(number);
        match kind(&entry).as_deref() {
            Some("post" | "page") => {
                if let Some(number) = number {
                    pages.insert(number, address(&entry));
                }
            }
            Some("comment") => {
                let location = format!("comment {}", number.as_deref().unwrap_or("(no id)"));
                match comment(&entry, number, &location) {
                    Ok(read) => comments.push(read),
                    Err(message) => source.skipped.push(Note { location, message }),
                }
            }
            // The blog's settings and its template.
            _ => {}
        }
        Ok(())
    })?;
    if pages.is_empty() && comments.is_empty() && source.skipped.is_empty() {
        anyhow::bail!(
            "{}: no <feed><entry> posts or comments: not a Blogger export",
            path.display()
        );
    }
    for Read {
        mut item,
        post,
        page,
    } in comments
    {
        let known = post.as_ref().and_then(|p| pages.get(p));
        match known.cloned().flatten().or(page) {
            Some(page) => {
                item.thread = Some(page);
                source.items.push(item);
            }
            None => source.skipped.push(Note {
                location: item.location,
                message: match (post, known) {
                    (Some(post), Some(_)) => {
                        format!("its post {post} has no address in the export (a draft?)")
                    }
                    (Some(post), None) => format!("its post {post} is not in the export"),
                    (None, _) => "it names no post".into(),
                },
            }),
        }
    }
    Ok(source)
}

/// `post`, `page`, `comment`, `settings`, … as either format names it.
fn kind(entry: &Element) -> Option<String> {
    if let Some(kind) = entry.text_at("type") {
        return Some(kind.to_ascii_lowercase());
    }
    entry
        .children("category")
        .find(|c| c.attr("scheme") == Some(KIND_SCHEME))
        .and_then(|c| c.attr("term")?.rsplit_once('#'))
        .map(|(_, kind)| kind.to_ascii_lowercase())
}

/// A post's or page's address: its path, or (older format) its URL.
fn address(entry: &Element) -> Option<String> {
    entry.text_at("filename").or_else(|| {
        entry
            .children("link")
            .find(|l| l.attr("rel") == Some("alternate"))
            .and_then(|l| l.attr("href"))
            .map(str::to_string)
            .filter(|href| !href.is_empty())
    })
}

/// The number that ends a Blogger reference, whichever way it is written: an entry's
/// `tag:blogger.com,1999:blog-1.post-42`, a feed URL ending in `/comments/default/42`,
/// or `42` alone.
fn number(reference: &str) -> Option<String> {
    let tail = reference.trim().rsplit(['-', '/', '.']).next()?;
    (!tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit())).then(|| tail.to_string())
}

fn comment(entry: &Element, key: Option<String>, location: &str) -> Result<Read, String> {
    let key = key.ok_or("the comment has no <id> Blogger numbered")?;
    let removed = entry.children("extendedProperty").any(|p| {
        p.attr("name") == Some("blogger.contentRemoved") && p.attr("value") == Some("true")
    });
    let status = match entry.text_at("status") {
        _ if removed || entry.text_at("trashed").is_some() => Status::Deleted,
        None => Status::Published,
        Some(status) => match status.as_str() {
            "LIVE" => Status::Published,
            s if s.contains("SPAM") => Status::Spam,
            s if s.contains("TRASH") || s.contains("DELETED") => Status::Deleted,
            s => {
                return Err(format!(
                    "its status is {s}; only LIVE comments are imported"
                ))
            }
        },
    };
    let reply_to = entry.child("in-reply-to");
    let post = entry
        .text_at("parent")
        .or_else(|| reply_to.and_then(|r| r.attr("ref")).map(str::to_string));
    let parent = entry.text_at("inReplyTo").or_else(|| {
        entry
            .children("link")
            .find(|l| l.attr("rel") == Some("related"))
            .and_then(|l| l.attr("href"))
            .map(str::to_string)
    });
    let written = ["published", "created"]
        .iter()
        .find_map(|field| entry.text_at(field))
        .ok_or("the comment has no <published> date")?;
    let date = super::parse_date(&written)
        .ok_or_else(|| format!("<published> {written:?} is not a date"))?;
    Ok(Read {
        item: Item {
            key,
            thread: None,
            parent: parent.as_deref().and_then(number),
            date,
            author: entry.text_at("author/name").filter(|n| n != NO_NAME),
            email: entry
                .text_at("author/email")
                .filter(|e| !e.eq_ignore_ascii_case(NO_EMAIL)),
            website: entry.text_at("author/uri"),
            body: Body::Html(entry.text_at("content").unwrap_or_default()),
            status,
            owner: false,
            location: location.to_string(),
        },
        post: post.as_deref().and_then(number),
        page: reply_to
            .and_then(|r| r.attr("href"))
            .map(str::to_string)
            .filter(|href| !href.is_empty()),
    })
}

/// The export `path` names: itself, or the one `feed.atom` in the folder it names.
/// Takeout's Blogger folder has one in each blog's folder, so a Takeout of several
/// blogs needs the blog named.
fn export_in(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name() == "feed.atom")
        .map(walkdir::DirEntry::into_path)
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "{}: a folder with no feed.atom in it (Google Takeout's Blogger export has one \
             in each blog's folder)",
            path.display()
        ),
        _ => {
            let listed: String = found
                .iter()
                .map(|f| format!("\n  {}", f.display()))
                .collect();
            bail!(
                "{}: holds the feed.atom of {} blogs; name this site's:{listed}",
                path.display(),
                found.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Source {
        super::super::read_written(text, read).unwrap()
    }

    /// Each item's source id, parent, status and page, in order.
    fn threaded(source: &Source) -> Vec<(&str, Option<&str>, Status, Option<&str>)> {
        source
            .items
            .iter()
            .map(|i| {
                let page = i.thread.as_deref();
                (i.key.as_str(), i.parent.as_deref(), i.status, page)
            })
            .collect()
    }

    fn notes(source: &Source) -> Vec<String> {
        source.skipped.iter().map(Note::to_string).collect()
    }

    /// Google Takeout's `feed.atom`: entries typed by `<blogger:type>`, comments
    /// pointing at their post and at the comment they answer by id, comments before
    /// their posts as often as after.
    #[test]
    fn a_takeout_feed_gives_each_comment_its_posts_path_and_its_parent() {
        let comment = |id: u32, post: &str, reply_to: &str, status: &str, more: &str| {
            format!(
                "<entry><id>tag:blogger.com,1999:blog-408.post-{id}</id>\
                 <blogger:parent>tag:blogger.com,1999:blog-408.post-{post}</blogger:parent>\
                 <blogger:inReplyTo>{reply_to}</blogger:inReplyTo>\
                 <blogger:type>COMMENT</blogger:type><blogger:status>{status}</blogger:status>\
                 <author><name>Ann &amp; Co</name><uri>https://www.blogger.com/profile/7</uri>\
                 <blogger:type>BLOGGER</blogger:type></author>\
                 <content type='html'>Nice!&lt;br /&gt;Really.</content>\
                 <blogger:created>2011-10-09T10:00:00.123Z</blogger:created>\
                 <published>2011-10-09T10:00:00.123Z</published>\
                 <updated>2011-10-09T10:00:00.123Z</updated>{more}</entry>"
            )
        };
        let feed = format!(
            "<?xml version='1.0' encoding='utf-8'?>\
             <feed xmlns='http://www.w3.org/2005/Atom' xmlns:blogger='http://schemas.google.com/blogger/2018'>\
             <id>tag:blogger.com,1999:blog-408</id><title>A blog</title>{}\
             <entry><id>tag:blogger.com,1999:blog-408.post-11</id><blogger:type>POST</blogger:type>\
             <blogger:status>LIVE</blogger:status><title>Suzhou</title>\
             <blogger:filename>/2011/10/nach-suzhou.html</blogger:filename></entry>\
             <entry><id>tag:blogger.com,1999:blog-408.post-12</id><blogger:type>POST</blogger:type>\
             <blogger:status>DRAFT</blogger:status><title>Not yet</title></entry>\
             <entry><id>tag:blogger.com,1999:blog-408.page-13</id><blogger:type>PAGE</blogger:type>\
             <blogger:status>LIVE</blogger:status><blogger:filename>/p/about.html</blogger:filename></entry>\
             {}{}{}{}{}{}{}</feed>",
            comment(21, "11", "", "LIVE", "<blogger:trashed/>"),
            comment(22, "11", "tag:blogger.com,1999:blog-408.post-21", "LIVE", ""),
            comment(23, "11", "", "SPAM_COMMENT", ""),
            comment(24, "11", "22", "LIVE", "<blogger:trashed>2012-01-01T00:00:00Z</blogger:trashed>"),
            comment(25, "12", "", "LIVE", ""),
            comment(26, "99", "", "LIVE", ""),
            comment(27, "13", "", "LIVE", ""),
            comment(28, "11", "", "IN_REVIEW", ""),
        );
        let source = read_text(&feed);
        let page = Some("/2011/10/nach-suzhou.html");
        assert_eq!(
            threaded(&source),
            [
                ("21", None, Status::Published, page),
                ("22", Some("21"), Status::Published, page),
                ("23", None, Status::Spam, page),
                ("24", Some("22"), Status::Deleted, page),
                ("27", None, Status::Published, Some("/p/about.html")),
            ]
        );
        let ann = &source.items[0];
        assert_eq!(ann.author.as_deref(), Some("Ann & Co"));
        assert_eq!(
            ann.website.as_deref(),
            Some("https://www.blogger.com/profile/7")
        );
        assert_eq!(ann.email, None);
        assert_eq!(ann.date.to_rfc3339(), "2011-10-09T10:00:00.123+00:00");
        assert_eq!(ann.body, Body::Html("Nice!<br />Really.".into()));
        assert_eq!(
            notes(&source),
            [
                "comment 28: its status is IN_REVIEW; only LIVE comments are imported",
                "comment 25: its post 12 has no address in the export (a draft?)",
                "comment 26: its post 99 is not in the export",
            ]
        );
    }

    /// The `blog-MM-DD-YYYY.xml` Blogger's "Back up content" wrote before Takeout: kinds
    /// as categories, a comment's post in `<thr:in-reply-to>`, the comment a reply
    /// answers in its `related` link, and every commenter's e-mail Blogger's own.
    #[test]
    fn an_older_backup_threads_replies_by_their_related_link() {
        let kind = |k: &str| {
            format!(
                "<category scheme='http://schemas.google.com/g/2005#kind' \
                 term='http://schemas.google.com/blogger/2008/kind#{k}'/>"
            )
        };
        let comment = |id: u32, name: &str, more: &str| {
            format!(
                "<entry><id>tag:blogger.com,1999:blog-77.post-{id}</id>\
                 <published>2009-05-02T09:27:00.000-07:00</published>{}\
                 <title type='text'>Hi</title><content type='html'>Comment {id}</content>\
                 <link rel='alternate' type='text/html' href='http://ann.blogspot.com/2009/05/hello.html?showComment=1241281620000#c{id}' title=''/>\
                 <author><name>{name}</name><email>noreply@blogger.com</email></author>\
                 <thr:in-reply-to href='http://ann.blogspot.com/2009/05/hello.html' \
                 ref='tag:blogger.com,1999:blog-77.post-100' \
                 source='http://www.blogger.com/feeds/77/posts/default/100' type='text/html'/>\
                 <gd:extendedProperty name='blogger.itemClass' value='pid-1'/>{more}</entry>",
                kind("comment")
            )
        };
        let feed = format!(
            "<?xml version='1.0' encoding='UTF-8'?>\
             <feed xmlns='http://www.w3.org/2005/Atom' xmlns:gd='http://schemas.google.com/g/2005' \
             xmlns:thr='http://purl.org/syndication/thread/1.0'>\
             <id>tag:blogger.com,1999:blog-77</id>\
             <entry><id>tag:blogger.com,1999:blog-77.settings.BLOG_NAME</id>{}\
             <content type='text'>Ann's blog</content></entry>\
             <entry><id>tag:blogger.com,1999:blog-77.post-100</id>{}\
             <link rel='replies' type='text/html' href='http://ann.blogspot.com/2009/05/hello.html#comment-form'/>\
             <link rel='alternate' type='text/html' href='http://ann.blogspot.com/2009/05/hello.html'/></entry>\
             {}{}{}</feed>",
            kind("settings"),
            kind("post"),
            comment(200, "Bob", ""),
            comment(
                201,
                "Anonymous",
                "<link rel='related' type='application/atom+xml' \
                 href='http://www.blogger.com/feeds/77/100/comments/default/200'/>"
            ),
            comment(
                202,
                "Cy",
                "<gd:extendedProperty name='blogger.contentRemoved' value='true'/>"
            ),
        );
        let source = read_text(&feed);
        let page = Some("http://ann.blogspot.com/2009/05/hello.html");
        assert_eq!(
            threaded(&source),
            [
                ("200", None, Status::Published, page),
                ("201", Some("200"), Status::Published, page),
                ("202", None, Status::Deleted, page),
            ]
        );
        let (bob, anonymous) = (&source.items[0], &source.items[1]);
        assert_eq!(bob.author.as_deref(), Some("Bob"));
        // Blogger's address for everyone is no one's: no shared avatar for all.
        assert_eq!(bob.email, None);
        assert_eq!(anonymous.author, None);
        assert_eq!(bob.date.to_rfc3339(), "2009-05-02T16:27:00+00:00");
        assert!(source.skipped.is_empty(), "{:?}", source.skipped);
    }

    #[test]
    fn references_are_read_by_their_final_number() {
        for (reference, expected) in [
            ("tag:blogger.com,1999:blog-1.post-42", Some("42")),
            (
                "https://www.blogger.com/feeds/1/2/comments/default/42",
                Some("42"),
            ),
            (" 42 ", Some("42")),
            ("tag:blogger.com,1999:blog-1.settings.BLOG_NAME", None),
            ("", None),
        ] {
            assert_eq!(number(reference).as_deref(), expected, "{reference}");
        }
    }

    /// An unpacked Takeout: the folder of one blog's `feed.atom` reads as the file.
    #[test]
    fn a_takeout_folder_reads_as_its_blogs_feed() {
        let dir = tempfile::tempdir().unwrap();
        let feed = "<feed xmlns='http://www.w3.org/2005/Atom' \
                    xmlns:blogger='http://schemas.google.com/blogger/2018'>\
                    <entry><id>tag:blogger.com,1999:blog-1.post-7</id>\
                    <blogger:type>POST</blogger:type><blogger:status>LIVE</blogger:status>\
                    <blogger:filename>/2011/10/a.html</blogger:filename></entry>\
                    <entry><id>tag:blogger.com,1999:blog-1.post-8</id>\
                    <blogger:parent>tag:blogger.com,1999:blog-1.post-7</blogger:parent>\
                    <blogger:type>COMMENT</blogger:type><blogger:status>LIVE</blogger:status>\
                    <content type='html'>Hi</content>\
                    <published>2011-10-09T10:00:00Z</published></entry></feed>";
        let blog = dir.path().join("Takeout/Blogger/Blogs/Ann's travels");
        crate::testing::write_files(&blog, &[("feed.atom", feed), ("settings.csv", "")]);
        let source = read(dir.path()).unwrap();
        assert_eq!(
            threaded(&source),
            [("8", None, Status::Published, Some("/2011/10/a.html"))]
        );

        crate::testing::write_files(
            &dir.path().join("Takeout/Blogger/Blogs/Notes"),
            &[("feed.atom", feed)],
        );
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("holds the feed.atom of 2 blogs; name this site's:"),
            "{err}"
        );
        assert!(
            err.contains("Blogs/Ann's travels/feed.atom") && err.contains("Blogs/Notes/feed.atom"),
            "{err}"
        );
        let empty = tempfile::tempdir().unwrap();
        let err = read(empty.path()).unwrap_err().to_string();
        assert!(err.ends_with("a folder with no feed.atom in it (Google Takeout's Blogger export has one in each blog's folder)"), "{err}");
    }

    #[test]
    fn a_feed_of_something_else_is_not_taken_for_an_export() {
        let err = super::super::read_written(
            "<feed xmlns='http://www.w3.org/2005/Atom'><title>x</title></feed>",
            read,
        )
        .unwrap_err();
        assert!(err.to_string().ends_with("not a Blogger export"), "{err}");
    }
}
