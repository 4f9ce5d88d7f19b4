//! Reads a WordPress export (WXR 1.0 to 1.2): each `<item>` is a post with its
//! `<link>`, its `<wp:comment_status>` (`closed` when it takes no new comments) and its
//! `<wp:comment>`s. Comment text is WordPress's own: HTML where the
//! commenter typed tags, blank lines for paragraphs. A comment whose
//! `<wp:comment_user_id>` is one of the channel's `<wp:author>`s is the site's own.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Result;

use super::html::wordpress_html;
use super::xml::{self, Element};
use super::{Body, Item, Note, Source, Status};

/// Reads every comment of the export at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let mut source = Source::default();
    let mut items_seen = 0usize;
    // The blog's authors (`<wp:author>`, WXR 1.1 on), and the comments written signed
    // in, by their user ids: those by an author are the site's own.
    let mut authors = HashSet::new();
    let mut signed_in = Vec::new();
    xml::for_each(path, 2, &["item", "author"], |item| {
        if item.name == "author" {
            authors.extend(item.text_at("author_id"));
            return Ok(());
        }
        items_seen += 1;
        let link = item.text_at("link");
        if item.text_at("comment_status").as_deref() == Some("closed") {
            source.closed.extend(link.clone());
        }
        for comment in item.children("comment") {
            let id = comment.text_at("comment_id").unwrap_or_default();
            let location = format!(
                "comment {id} on {}",
                link.as_deref().unwrap_or("an item without <link>")
            );
            match read_comment(comment, &id, link.clone(), &location) {
                Ok(item) => {
                    if let Some(user) = comment.text_at("comment_user_id").filter(|u| u != "0") {
                        signed_in.push((source.items.len(), user));
                    }
                    source.items.push(item)
                }
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
    for (at, user) in signed_in {
        source.items[at].owner = authors.contains(&user);
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
        .find_map(|text| super::parse_date(&text))
        .ok_or("the comment has no valid <wp:comment_date_gmt> or <wp:comment_date>")?;
    Ok(Item {
        key: id.to_string(),
        thread: link,
        parent: comment.text_at("comment_parent").filter(|p| p != "0"),
        date,
        author: comment.text_at("comment_author"),
        email: comment.text_at("comment_author_email"),
        website: comment.text_at("comment_author_url"),
        body: Body::Html(wordpress_html(
            &comment.text_at("comment_content").unwrap_or_default(),
        )),
        status,
        owner: false,
        location: location.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_keep_status_parent_and_date_and_pingbacks_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wxr.xml");
        let comment = |id: u32, approved: &str, kind: &str, parent: u32, gmt: &str| {
            format!(
                "<wp:comment><wp:comment_id>{id}</wp:comment_id>\
                 <wp:comment_author><![CDATA[A{id}]]></wp:comment_author>\
                 <wp:comment_date>2020-01-02 03:04:05</wp:comment_date>\
                 <wp:comment_date_gmt>{gmt}</wp:comment_date_gmt>\
                 <wp:comment_content><![CDATA[Line one\nline two\n\nSecond <em>para</em>]]></wp:comment_content>\
                 <wp:comment_approved>{approved}</wp:comment_approved>\
                 <wp:comment_type>{kind}</wp:comment_type>\
                 <wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
            )
        };
        std::fs::write(
            &path,
            format!(
                "<?xml version=\"1.0\"?><rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>\
                 <item><link>https://old.example/2020/hello/</link>{}{}{}{}{}</item></channel></rss>",
                comment(1, "1", "", 0, "2020-01-02 02:04:05"),
                comment(2, "0", "comment", 1, "0000-00-00 00:00:00"),
                comment(3, "spam", "", 0, "2020-01-02 02:04:05"),
                comment(4, "trash", "", 0, "2020-01-02 02:04:05"),
                comment(5, "1", "pingback", 0, "2020-01-02 02:04:05"),
            ),
        )
        .unwrap();
        let source = read(&path).unwrap();
        let got: Vec<(&str, Status, Option<&str>)> = source
            .items
            .iter()
            .map(|i| (i.key.as_str(), i.status, i.parent.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("1", Status::Published, None),
                ("2", Status::Pending, Some("1")),
                ("3", Status::Spam, None),
                ("4", Status::Deleted, None),
            ]
        );
        assert_eq!(
            source.items[0].date.to_rfc3339(),
            "2020-01-02T02:04:05+00:00"
        );
        // No GMT date recorded: the local date stands in.
        assert_eq!(
            source.items[1].date.to_rfc3339(),
            "2020-01-02T03:04:05+00:00"
        );
        assert_eq!(
            source.items[0].body,
            Body::Html("<p>Line one<br>line two</p>\n<p>Second <em>para</em></p>\n".into())
        );
        assert_eq!(
            source.skipped[0].to_string(),
            "comment 5 on https://old.example/2020/hello/: a pingback, not a comment"
        );
    }

    /// A blog set up before WordPress moved to UTF-8 exports in Latin-1, as its XML
    /// declaration says: names and text come over with their accents.
    #[test]
    fn comments_by_the_blogs_authors_are_the_sites_own() {
        let comment = |id: u32, user: u32| {
            format!(
                "<wp:comment><wp:comment_id>{id}</wp:comment_id>\
                 <wp:comment_author>A{id}</wp:comment_author>\
                 <wp:comment_date_gmt>2020-01-02 03:04:05</wp:comment_date_gmt>\
                 <wp:comment_content>Hi</wp:comment_content>\
                 <wp:comment_approved>1</wp:comment_approved>\
                 <wp:comment_user_id>{user}</wp:comment_user_id></wp:comment>"
            )
        };
        // An author (1), a subscriber who signed in (7), a visitor (0); and a podcast's
        // <itunes:author>, which is no user.
        let wxr = format!(
            "<?xml version=\"1.0\"?><rss xmlns:wp=\"http://wordpress.org/export/1.2/\" \
             xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"><channel>\
             <itunes:author>Me</itunes:author>\
             <wp:author><wp:author_id>1</wp:author_id><wp:author_login>me</wp:author_login>\
             </wp:author><item><link>https://old.example/hello/</link>{}{}{}</item>\
             </channel></rss>",
            comment(1, 1),
            comment(2, 7),
            comment(3, 0),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wxr.xml");
        std::fs::write(&path, wxr).unwrap();
        let source = read(&path).unwrap();
        let owners: Vec<(&str, bool)> = source
            .items
            .iter()
            .map(|i| (i.key.as_str(), i.owner))
            .collect();
        assert_eq!(owners, [("1", true), ("2", false), ("3", false)]);
    }

    #[test]
    fn a_latin1_export_keeps_its_accents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wxr.xml");
        let mut doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n".to_vec();
        doc.extend_from_slice(
            b"<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><item>\
              <link>https://old.example/caf\xe9/</link><wp:comment><wp:comment_id>1</wp:comment_id>\
              <wp:comment_author><![CDATA[Zo\xeb]]></wp:comment_author>\
              <wp:comment_date_gmt>2009-01-02 03:04:05</wp:comment_date_gmt>\
              <wp:comment_content><![CDATA[Tr\xe8s bien, \xa1ol\xe9!]]></wp:comment_content>\
              <wp:comment_approved>1</wp:comment_approved></wp:comment></item></channel></rss>",
        );
        std::fs::write(&path, doc).unwrap();
        let source = read(&path).unwrap();
        let item = &source.items[0];
        assert_eq!(item.author.as_deref(), Some("Zoë"));
        assert_eq!(item.thread.as_deref(), Some("https://old.example/café/"));
        assert_eq!(item.body, Body::Html("<p>Très bien, ¡olé!</p>\n".into()));
    }
}
