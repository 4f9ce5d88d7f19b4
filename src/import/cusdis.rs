//! Reads Cusdis' comments: from the SQLite database of a Cusdis one runs (`projects`,
//! `pages`, `comments`, read-only), or, where there is none to read (cusdis.com has no
//! export), through the API its widget reads, for each page of a built site that shows
//! a Cusdis thread.
//!
//! Cusdis keeps one site per project, its pages by the address the widget gave
//! (`data-page-url`, else only the `data-page-id` slug), and per comment the page, the
//! comment it answers (`parentId`), the nickname and e-mail typed, Markdown, whether it
//! is `approved`, and `deletedAt` once removed; a reply written in the dashboard has
//! the `moderatorId` of its writer, the site's owner. Prisma writes dates as Unix
//! milliseconds; SQL defaults as `YYYY-MM-DD HH:MM:SS` in UTC. Cusdis shows a body
//! through markdown-it without raw HTML, so raw HTML is kept as the text it showed.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use reqwest::header::HeaderMap;
use reqwest::Method;
use rusqlite::types::ValueRef;
use serde_json::Value;

use super::sqlite::{self, described};
use super::{Body, Item, Note, Source, Status};
use crate::deliver::forge::{self, Http};

/// A project of the database that has comments.
struct Project {
    id: String,
    title: String,
    deleted: bool,
    comments: i64,
}

impl std::fmt::Display for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let deleted = if self.deleted { ", deleted" } else { "" };
        let comments = crate::cmd::plural(self.comments as usize, "comment", "comments");
        write!(f, "{:?} (id {}{deleted}): {comments}", self.title, self.id)
    }
}

/// Reads the comments of one project of the database at `path`: the one named
/// `project` (its title or id), or the only one that has comments.
pub fn read(path: &Path, project: Option<&str>) -> Result<Source> {
    let db = sqlite::open(path, "a Cusdis", &["projects", "pages", "comments"])?;
    let projects: Vec<Project> = db
        .prepare(
            "SELECT pr.id, pr.title, pr.deleted_at IS NOT NULL, COUNT(c.id) FROM projects pr \
             JOIN pages p ON p.projectId = pr.id JOIN comments c ON c.pageId = p.id \
             GROUP BY pr.id ORDER BY pr.title, pr.id",
        )?
        .query_map([], |row| {
            Ok(Project {
                id: row.get(0)?,
                title: row.get(1)?,
                deleted: row.get(2)?,
                comments: row.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let listed = || {
        projects
            .iter()
            .map(|p| format!("\n  {p}"))
            .collect::<String>()
    };
    let chosen = match project {
        Some(wanted) => {
            let by_id: Vec<&Project> = projects.iter().filter(|p| p.id == wanted).collect();
            let by_title: Vec<&Project> = projects.iter().filter(|p| p.title == wanted).collect();
            match (by_id.as_slice(), by_title.as_slice()) {
                ([one], _) | ([], [one]) => Some(*one),
                ([], []) => bail!(
                    "{}: no project with comments is called or has the id {wanted:?}; those \
                     with comments:{}",
                    path.display(),
                    listed()
                ),
                _ => bail!(
                    "{}: more than one project is called {wanted:?}: name it by its id:{}",
                    path.display(),
                    listed()
                ),
            }
        }
        None => match projects.as_slice() {
            [] => None,
            [one] => Some(one),
            _ => bail!(
                "{}: Cusdis holds the comments of {} projects (one per site): choose this \
                 site's with --project TITLE (or --project ID){}",
                path.display(),
                projects.len(),
                listed()
            ),
        },
    };
    let mut source = Source::default();
    let Some(chosen) = chosen else {
        return Ok(source);
    };
    let mut statement = db.prepare(
        "SELECT c.id, p.url, p.slug, c.parentId, c.created_at, c.approved, c.deletedAt, \
         c.by_nickname, c.by_email, c.content, p.title, c.moderatorId IS NOT NULL \
         FROM comments c JOIN pages p ON p.id = c.pageId WHERE p.projectId = ?1 ORDER BY c.rowid",
    )?;
    let mut rows = statement.query([&chosen.id])?;
    // The pages known only by an id, each named once.
    let mut by_id = HashSet::new();
    while let Some(row) = rows.next()? {
        let key =
            sqlite::text(row, 0, "id", "a comment", &mut source.adjusted)?.unwrap_or_default();
        let location = format!("comment {key}");
        let mut text = |at: usize, column: &str| {
            sqlite::text(row, at, column, &location, &mut source.adjusted)
        };
        let url = text(1, "page URL")?.filter(|u| !u.trim().is_empty());
        let slug = text(2, "page id")?;
        let parent = text(3, "parent")?;
        let created = text(4, "creation date")?;
        let author = text(7, "nickname")?.filter(|a| !a.trim().is_empty());
        let email = text(8, "e-mail")?.filter(|e| !e.trim().is_empty());
        let content = text(9, "content")?.unwrap_or_default();
        let Some(date) = created.as_deref().and_then(super::parse_date) else {
            source.skipped.push(Note {
                location,
                message: format!(
                    "its creation date {} is not a date",
                    described(row.get_ref(4)?)
                ),
            });
            continue;
        };
        let status = if !matches!(row.get_ref(6)?, ValueRef::Null) {
            Status::Deleted
        } else if is_true(row.get_ref(5)?) {
            Status::Published
        } else {
            Status::Pending
        };
        // The page's address (`data-page-url`). A page the widget gave only an id
        // (`data-page-id`) is known by it: as a path when it is one
        // (`{{ .RelPermalink }}`), else as a folder named after it, which --map moves.
        let thread = match (url, slug) {
            (Some(url), _) => Some(url),
            (None, Some(slug)) if super::names_a_page(&slug) => Some(slug),
            (None, Some(slug)) if !slug.trim().is_empty() => {
                let folder = format!("{}/", slug.trim().trim_matches('/'));
                if by_id.insert(folder.clone()) {
                    let title = text(10, "page title")?
                        .filter(|t| !t.trim().is_empty())
                        .map(|t| format!(" ({t:?})"))
                        .unwrap_or_default();
                    source.adjusted.push(Note {
                        location: location.clone(),
                        message: format!(
                            "its page{title} has no address, only the id {slug:?}: its comments \
                             go under /{folder} (`--map /{folder}=/the/page/` puts them on it)"
                        ),
                    });
                }
                Some(folder)
            }
            (None, _) => None,
        };
        source.items.push(Item {
            key,
            thread,
            parent,
            date,
            author,
            email,
            website: None,
            body: Body::Markdown(html_as_typed(&content)),
            status,
            // A reply from the dashboard: by the project's owner.
            owner: row.get::<_, bool>(11)?,
            location,
        });
    }
    Ok(source)
}

/// A page of a built site that shows a Cusdis thread, as its `cusdis_thread` element
/// gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Embed {
    /// The Cusdis it loads from (`data-host`), without a trailing slash.
    host: String,
    /// The project (`data-app-id`).
    app: String,
    /// The page's id in Cusdis (`data-page-id`).
    page_id: String,
    /// The page: its `data-page-url`, else the path the file is served at.
    page: String,
}

/// How many comments Cusdis' API gives on one page of its list, top-level or replies.
const API_PAGE: u64 = 10;

/// Reads, through the API Cusdis' widget reads (cusdis.com's too, where no export
/// is), the approved comments of every page of the built site in `dir` that shows a
/// Cusdis thread. One project (site) at a time: `app` names its id when the pages
/// load several.
pub fn read_site(dir: &Path, app: Option<&str>) -> Result<Source> {
    let mut embeds = embeds_in(dir)?;
    let apps: std::collections::BTreeSet<&str> = embeds.iter().map(|e| e.app.as_str()).collect();
    let named = apps
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let chosen = match (app, apps.len()) {
        (Some(wanted), _) if apps.contains(wanted) => wanted.to_string(),
        (Some(wanted), _) => bail!(
            "{}: no page shows the comments of the Cusdis project {wanted:?}; its pages \
             show those of {named}",
            dir.display()
        ),
        (None, 0) => bail!(
            "{}: no page of this built site shows a Cusdis thread (an element with \
             id=\"cusdis_thread\" and its data-app-id and data-page-id): give the folder \
             the site is built into while it still uses Cusdis, or Cusdis' SQLite database",
            dir.display()
        ),
        // Every page shows the one project's.
        (None, 1) => embeds[0].app.clone(),
        (None, n) => bail!(
            "{}: its pages show the comments of {n} Cusdis projects: choose this site's \
             with --project APP_ID (the data-app-id of its pages): {named}",
            dir.display()
        ),
    };
    embeds.retain(|e| e.app == chosen);
    let http = Http::new(Duration::from_secs(30));
    let mut source = Source::default();
    for embed in &embeds {
        let mut page = 1;
        loop {
            let url = format!(
                "{}/api/open/comments?appId={}&pageId={}&page={page}",
                embed.host,
                forge::enc(&embed.app),
                forge::enc(&embed.page_id)
            );
            let reply = http
                .call(Method::GET, &url, &HeaderMap::new(), None)
                .and_then(|r| r.expect(&[200], || format!("GET {url}")).map(|()| r))
                .map_err(|e| {
                    anyhow!(
                        "cannot read the comments of {} from Cusdis: {e}",
                        embed.page
                    )
                })?;
            let list = &reply.body["data"];
            let Some(comments) = list["data"].as_array() else {
                bail!(
                    "{url} answered with no list of comments: is {} a Cusdis? ({})",
                    embed.host,
                    reply.body
                );
            };
            for comment in comments {
                add_from_api(&mut source, comment, None, &embed.page);
            }
            if page >= list["pageCount"].as_u64().unwrap_or(1) || comments.is_empty() {
                break;
            }
            page += 1;
        }
    }
    Ok(source)
}

/// Adds a comment of Cusdis' API, and its replies, with the id of the comment it
/// answers, on `page`.
fn add_from_api(source: &mut Source, comment: &Value, parent: Option<&str>, page: &str) {
    let key = match &comment["id"] {
        Value::String(id) => id.clone(),
        other => other.to_string(),
    };
    let location = format!("comment {key}");
    let created = comment["createdAt"].as_str().unwrap_or_default();
    match super::parse_date(created) {
        Some(date) => source.items.push(Item {
            key: key.clone(),
            thread: Some(page.to_string()),
            parent: parent.map(str::to_string),
            date,
            author: comment["by_nickname"]
                .as_str()
                .filter(|a| !a.trim().is_empty())
                .map(str::to_string),
            email: None,
            website: None,
            body: Body::Markdown(html_as_typed(
                comment["content"].as_str().unwrap_or_default(),
            )),
            status: Status::Published,
            owner: false,
            location: location.clone(),
        }),
        None => source.skipped.push(Note {
            location: location.clone(),
            message: format!("its creation date {created:?} is not a date"),
        }),
    }
    let replies = &comment["replies"];
    let listed = replies["data"].as_array().map_or(&[][..], Vec::as_slice);
    let count = replies["commentCount"].as_u64().unwrap_or(0);
    if count > listed.len() as u64 {
        source.skipped.push(Note {
            location,
            message: format!(
                "{} of its {count} replies: Cusdis' API shows at most {API_PAGE} of a \
                 comment's replies (its SQLite database has them all)",
                count - listed.len() as u64
            ),
        });
    }
    for reply in listed {
        add_from_api(source, reply, Some(&key), page);
    }
}

/// The pages of the built site in `dir` that show a Cusdis thread, in order.
fn embeds_in(dir: &Path) -> Result<Vec<Embed>> {
    let mut embeds = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file() || !(name.ends_with(".html") || name.ends_with(".htm")) {
            continue;
        }
        let bytes = std::fs::read(entry.path())?;
        if !bytes.windows(13).any(|w| w == b"cusdis_thread") {
            continue;
        }
        let relative = entry.path().strip_prefix(dir)?;
        let served = crate::thread::served_path(relative);
        let found = std::cell::RefCell::new(Vec::new());
        lol_html::rewrite_str(
            &String::from_utf8_lossy(&bytes),
            lol_html::RewriteStrSettings {
                element_content_handlers: vec![lol_html::element!("#cusdis_thread", |el| {
                    // As a browser reads it, with its character references decoded.
                    let attr = |name: &str| {
                        el.get_attribute(name)
                            .map(|v| crate::render::unescape_html(v.trim()))
                            .filter(|v| !v.is_empty())
                    };
                    if let (Some(app), Some(page_id)) = (attr("data-app-id"), attr("data-page-id"))
                    {
                        found.borrow_mut().push(Embed {
                            host: attr("data-host")
                                .unwrap_or_else(|| "https://cusdis.com".into())
                                .trim_end_matches('/')
                                .to_string(),
                            app,
                            page_id,
                            page: attr("data-page-url").unwrap_or_else(|| served.clone()),
                        });
                    }
                    Ok(())
                })],
                ..lol_html::RewriteStrSettings::new()
            },
        )
        .map_err(|e| anyhow!("{}: {e}", entry.path().display()))?;
        embeds.extend(found.into_inner());
    }
    // A page id shows the same comments wherever it is (a page and its AMP copy):
    // they are read once, for the first such page.
    embeds.sort();
    embeds.dedup_by(|b, a| (&a.host, &a.app, &a.page_id) == (&b.host, &b.app, &b.page_id));
    Ok(embeds)
}

/// Whether a Boolean column holds true: Prisma writes 1 or 0, SQL `true` or `false`.
fn is_true(value: ValueRef<'_>) -> bool {
    match value {
        ValueRef::Integer(n) => n != 0,
        ValueRef::Text(t) => matches!(t, b"1" | b"true" | b"TRUE"),
        _ => false,
    }
}

/// Markdown with its raw HTML escaped, so that it shows as typed, as Cusdis' renderer
/// (markdown-it, `html: false`) showed it.
fn html_as_typed(text: &str) -> String {
    use crate::render::markdown::{escape_punctuation, OPTIONS};
    use pulldown_cmark::{Event, Parser};
    if !text.contains('<') {
        return text.to_string();
    }
    let edits = Parser::new_ext(text, OPTIONS)
        .into_offset_iter()
        .filter(|(event, _)| matches!(event, Event::Html(_) | Event::InlineHtml(_)))
        .map(|(_, range)| (range.clone(), escape_punctuation(&text[range])))
        .collect();
    super::isso::edited(text, edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::markdown::to_html;
    use crate::testing::{cusdis_comment as comment, cusdis_database};

    fn database(dir: &Path, rows: &str) -> std::path::PathBuf {
        let path = dir.join("cusdis.db");
        cusdis_database(&path, rows);
        path
    }

    #[test]
    fn a_projects_comments_come_with_pages_replies_dates_and_states() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            "INSERT INTO pages (id, slug, url, title, projectId) VALUES \
                 ('g1', '5f1c0e', 'https://blog.example/posts/a/#comments', 'A', 'p-blog'), \
                 ('g2', '/posts/b/', NULL, 'B', 'p-blog'), \
                 ('g3', 'a1b2c3', NULL, 'Third', 'p-blog'), \
                 ('g4', '/guide/', 'https://docs.example/guide/', 'Guide', 'p-docs');\n"
                .to_string(),
            comment("'c1', 'g1', 1618301234567, 'Ann', 'Hi <b>there</b> & *all*', 1, NULL, NULL, NULL"),
            comment("'c2', 'g1', '2021-04-22 06:16:17', 'Me', 'Thanks', 1, 'c1', NULL, 'me@example.org'"),
            comment("'c3', 'g1', 1618301300000, 'Bob', 'waiting', 0, NULL, NULL, NULL"),
            comment("'c4', 'g1', 1618301400000, 'Cy', 'gone', 1, 'c1', 1618400000000, NULL"),
            comment("'c5', 'g1', 1618301500000, '', 'to Cy', 'true', 'c4', NULL, ''"),
            comment("'c6', 'g2', 1618301600000, 'Di', 'slug path', 1, NULL, NULL, NULL"),
            comment("'c7', 'g3', 1618301700000, 'Ed', 'slug id', 1, NULL, NULL, NULL"),
            comment("'c8', 'g1', 'yesterday', 'Fi', 'no date', 1, NULL, NULL, NULL"),
            comment("'d1', 'g4', 1618301800000, 'Gus', 'docs', 1, NULL, NULL, NULL"),
            // Written in the dashboard, by the owner.
            "UPDATE comments SET moderatorId = 'u1' WHERE id = 'c2';\n".to_string(),
        ]
        .concat();
        let path = database(dir.path(), &rows);

        // Two sites' comments: one must be chosen, and the message lists them.
        let err = format!("{:#}", read(&path, None).unwrap_err());
        assert!(
            err.contains("choose this site's with --project TITLE"),
            "{err}"
        );
        assert!(
            err.contains("\"Docs\" (id p-docs): 1 comment")
                && err.contains("\"My blog\" (id p-blog): 8 comments")
                && !err.contains("Empty"),
            "{err}"
        );
        let err = format!("{:#}", read(&path, Some("Blog")).unwrap_err());
        assert!(err.contains("no project with comments is called"), "{err}");

        let by_title = read(&path, Some("My blog")).unwrap();
        let by_id = read(&path, Some("p-blog")).unwrap();
        assert_eq!(
            format!("{:?}", by_title.items),
            format!("{:?}", by_id.items)
        );
        let items: Vec<_> = by_title
            .items
            .iter()
            .map(|i| {
                (
                    i.key.as_str(),
                    i.thread.as_deref(),
                    i.parent.as_deref(),
                    i.status,
                    i.author.as_deref(),
                    i.email.as_deref(),
                )
            })
            .collect();
        let a = Some("https://blog.example/posts/a/#comments");
        assert_eq!(
            items,
            [
                ("c1", a, None, Status::Published, Some("Ann"), None),
                (
                    "c2",
                    a,
                    Some("c1"),
                    Status::Published,
                    Some("Me"),
                    Some("me@example.org")
                ),
                ("c3", a, None, Status::Pending, Some("Bob"), None),
                ("c4", a, Some("c1"), Status::Deleted, Some("Cy"), None),
                ("c5", a, Some("c4"), Status::Published, None, None),
                (
                    "c6",
                    Some("/posts/b/"),
                    None,
                    Status::Published,
                    Some("Di"),
                    None
                ),
                // A page known only by an id that is not a path goes under a folder
                // named after it, with a note.
                (
                    "c7",
                    Some("a1b2c3/"),
                    None,
                    Status::Published,
                    Some("Ed"),
                    None
                ),
            ]
        );
        // The dashboard's reply is the site's own.
        let owners: Vec<&str> = by_title
            .items
            .iter()
            .filter(|i| i.owner)
            .map(|i| i.key.as_str())
            .collect();
        assert_eq!(owners, ["c2"]);
        let dates: Vec<String> = by_title
            .items
            .iter()
            .take(2)
            .map(|i| i.date.to_rfc3339())
            .collect();
        assert_eq!(
            dates,
            ["2021-04-13T08:07:14.567+00:00", "2021-04-22T06:16:17+00:00"]
        );
        assert_eq!(
            by_title.skipped,
            [Note {
                location: "comment c8".into(),
                message: "its creation date \"yesterday\" is not a date".into()
            }]
        );
        assert_eq!(
            by_title.adjusted,
            [Note {
                location: "comment c7".into(),
                message: "its page (\"Third\") has no address, only the id \"a1b2c3\": its \
                          comments go under /a1b2c3/ (`--map /a1b2c3/=/the/page/` puts them on it)"
                    .into()
            }]
        );
        // Raw HTML shows as typed, the rest is Markdown.
        assert_eq!(
            to_html(&by_title.items[0].body.to_markdown()),
            "<p>Hi &lt;b&gt;there&lt;/b&gt; &amp; <em>all</em></p>\n"
        );
    }

    #[test]
    fn a_database_of_one_site_needs_no_project_and_another_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rows =
            "INSERT INTO pages (id, slug, url, projectId) VALUES ('g1', 'x', '/a/', 'p-docs');\n"
                .to_string()
                + &comment("'c1', 'g1', 1618301234567, 'Ann', 'Hi', 1, NULL, NULL, NULL");
        let path = database(dir.path(), &rows);
        let source = read(&path, None).unwrap();
        assert_eq!(source.items.len(), 1);

        let other = dir.path().join("other.db");
        rusqlite::Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE comments (id TEXT)")
            .unwrap();
        let err = format!("{:#}", read(&other, None).unwrap_err());
        assert!(
            err.ends_with(
                "is not a Cusdis database (it has no `projects`, `pages` and `comments` tables)"
            ),
            "{err}"
        );
    }

    /// The attributes are read as a browser reads them (the widget sends what it reads).
    #[test]
    fn a_built_pages_thread_is_read_with_its_attributes_decoded() {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_files(
            dir.path(),
            &[
                (
                    "posts/don-t/index.html",
                    "<div id=\"cusdis_thread\" data-host=\"https://c.example/\" \
                     data-app-id=\"app\" data-page-id=\"Don&#39;t &amp; won&#x27;t\"></div>",
                ),
                ("notes.html", "<p>cusdis_thread, but no element</p>"),
            ],
        );
        assert_eq!(
            embeds_in(dir.path()).unwrap(),
            [Embed {
                host: "https://c.example".into(),
                app: "app".into(),
                page_id: "Don't & won't".into(),
                page: "/posts/don-t/".into(),
            }]
        );
    }

    #[test]
    fn raw_html_is_escaped_and_the_rest_kept_byte_for_byte() {
        for (typed, shown) in [
            (
                "<script>alert(1)</script>",
                "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n",
            ),
            (
                "a <i>b</i>\n\n<div>\nc\n</div>",
                "<p>a &lt;i&gt;b&lt;/i&gt;</p>\n<p>&lt;div&gt;<br>\nc<br>\n&lt;/div&gt;</p>\n",
            ),
        ] {
            assert_eq!(to_html(&html_as_typed(typed)), shown, "{typed}");
        }
        for same in [
            "`<b>` in code",
            "a < b, **bold** <https://x.example/>",
            "```\n<b>\n```",
        ] {
            assert_eq!(html_as_typed(same), same);
        }
    }
}
