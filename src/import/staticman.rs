//! Reads Staticman (and other Jekyll data-file) comments: one YAML, JSON or Markdown
//! (front matter) file per comment, in a folder per page, with field names that vary
//! by theme. The defaults cover the common themes; `--field NAME=KEY` names any other key.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::{names_a_page, Body, Item, Note, Source, Status};

/// What cairn needs from a file, and the keys tried for it, first match wins.
#[derive(Debug, Clone)]
pub struct Fields {
    map: BTreeMap<&'static str, Vec<String>>,
}

/// The fields a mapping can name, with their default keys.
const DEFAULTS: [(&str, &[&str]); 9] = [
    ("id", &["_id", "id"]),
    // `_parent` is the page in Staticman's own examples: used as the thread when it is
    // a URL or path, as the parent when it names another comment.
    ("thread", &["_parent"]),
    ("parent", &["replying_to_uid", "parent", "replyToId"]),
    // Made Mistakes and its descendants: the 1-based position of the parent comment in
    // the page's folder.
    ("parent_index", &["replying_to"]),
    ("author", &["name", "author"]),
    ("email", &["email"]),
    ("website", &["url", "website"]),
    ("body", &["message", "comment", "body", "content"]),
    ("date", &["date"]),
];

impl Default for Fields {
    fn default() -> Self {
        Fields {
            map: DEFAULTS
                .iter()
                .map(|(name, keys)| (*name, keys.iter().map(|k| k.to_string()).collect()))
                .collect(),
        }
    }
}

impl Fields {
    /// Applies `NAME=KEY` (e.g. `author=fullname`): the field is read from that key only.
    pub fn set(&mut self, mapping: &str) -> Result<()> {
        let Some((name, key)) = mapping.split_once('=') else {
            bail!("--field {mapping:?}: expected NAME=KEY, e.g. author=fullname");
        };
        let Some((name, _)) = DEFAULTS.iter().find(|(n, _)| *n == name.trim()) else {
            let names: Vec<&str> = DEFAULTS.iter().map(|(n, _)| *n).collect();
            bail!(
                "--field {mapping:?}: unknown field {name:?}; fields are {}",
                names.join(", ")
            );
        };
        self.map.insert(name, vec![key.trim().to_string()]);
        Ok(())
    }

    fn keys(&self, name: &str) -> &[String] {
        self.map.get(name).map_or(&[], Vec::as_slice)
    }

    fn is_mapped(&self, key: &str) -> bool {
        self.map.values().flatten().any(|k| k == key)
    }
}

/// How message bodies are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BodyFormat {
    /// HTML when a message starts with a block-level tag (`<p>`, `<blockquote>`, ...),
    /// else Markdown.
    #[default]
    Auto,
    Markdown,
    Html,
}

/// What a Staticman import found besides comments.
#[derive(Debug, Default)]
pub struct Report {
    /// Keys present in the files but not imported, with how many files had them.
    pub unused_keys: BTreeMap<String, usize>,
    /// E-mail fields that held a hash (md5, as Staticman writes), not an address.
    pub hashed_emails: usize,
}

/// Reads every comment file under `dir`.
pub fn read(dir: &Path, fields: &Fields, body_format: BodyFormat) -> Result<(Source, Report)> {
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    let mut source = Source::default();
    let mut report = Report::default();
    // Reply positions (`replying_to`) count files in a folder in name order.
    let mut folders: HashMap<String, Vec<String>> = HashMap::new();
    let mut by_position: Vec<(usize, String)> = Vec::new();
    // `_parent` values that may name another comment rather than the page.
    let mut parent_candidates: Vec<(usize, String)> = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let relative = path.strip_prefix(dir).unwrap_or(path);
        let location = relative.display().to_string();
        let folder = relative
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let Some(kind) = FileKind::of(path) else {
            source.skipped.push(Note {
                location,
                message: "not a YAML, JSON or Markdown file".into(),
            });
            continue;
        };
        let (values, content) = match read_file(path, kind) {
            Ok(file) => file,
            Err(message) => {
                source.skipped.push(Note { location, message });
                continue;
            }
        };
        for key in values.keys() {
            if !fields.is_mapped(key) {
                *report.unused_keys.entry(key.clone()).or_default() += 1;
            }
        }
        let get = |name: &str| {
            fields
                .keys(name)
                .iter()
                .find_map(|k| values.get(k))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        // A site's pages are Markdown with front matter too, dates and all; Staticman
        // gives every comment an id.
        if content.is_some() && get("id").is_none() {
            source.skipped.push(Note {
                location,
                message: format!(
                    "no id (looked for {}): a page, not a comment",
                    fields.keys("id").join(", ")
                ),
            });
            continue;
        }
        let Some(raw_date) = get("date") else {
            source.skipped.push(Note {
                location,
                message: format!("no date (looked for {})", fields.keys("date").join(", ")),
            });
            continue;
        };
        let Some(date) = super::parse_date(&raw_date) else {
            source.skipped.push(Note {
                location,
                message: format!("date {raw_date:?} is neither ISO 8601 nor Unix time"),
            });
            continue;
        };
        let key = get("id").unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let (thread, parent_hint) = match get("thread") {
            Some(t) if names_a_page(&t) => (t, None),
            // A folder is a page below the site's base path, however the site is served.
            other => (format!("{folder}/"), other),
        };
        let email = get("email");
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            report.hashed_emails += 1;
        }
        // Staticman's `frontmatter` format keeps the text out of the fields, after them.
        let body = content
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .or_else(|| get("body"))
            .unwrap_or_default();
        let body = match body_format {
            BodyFormat::Html => Body::Html(body),
            BodyFormat::Markdown => Body::Markdown(body),
            BodyFormat::Auto if starts_with_block_tag(&body) => Body::Html(body),
            BodyFormat::Auto => Body::Markdown(body),
        };
        let index = source.items.len();
        let siblings = folders.entry(folder).or_default();
        siblings.push(key.clone());
        let parent = get("parent");
        if parent.is_none() {
            if let Some(position) = get("parent_index") {
                by_position.push((index, position));
            } else if let Some(hint) = parent_hint {
                parent_candidates.push((index, hint));
            }
        }
        source.items.push(Item {
            key,
            thread: Some(thread),
            parent,
            date,
            author: get("author"),
            email: email.filter(|e| e.contains('@')),
            website: get("website"),
            body,
            status: Status::Published,
            owner: false,
            location,
        });
    }
    if source.items.is_empty() {
        bail!("{}", no_comments(dir, &source.skipped));
    }
    resolve_positions(&mut source, &folders, by_position);
    let keys: std::collections::HashSet<String> =
        source.items.iter().map(|i| i.key.clone()).collect();
    for (index, hint) in parent_candidates {
        if keys.contains(&hint) {
            source.items[index].parent = Some(hint);
        }
    }
    Ok((source, report))
}

/// Why a directory without a single comment file is not what the import wants (most
/// likely the wrong one: the site's root, or `_data` instead of `_data/comments`),
/// with the first few files it skipped and why.
fn no_comments(dir: &Path, skipped: &[Note]) -> String {
    let mut message = format!(
        "{}: no comment files (YAML, JSON or Markdown files with a date): not a Staticman comments directory",
        dir.display()
    );
    if skipped.is_empty() {
        message.push_str("; it holds no files");
        return message;
    }
    message.push_str(&format!("; {} skipped, e.g.:", skipped.len()));
    for note in skipped.iter().take(3) {
        message.push_str(&format!("\n  {}: {}", note.location, note.message));
    }
    message
}

/// Turns `replying_to` positions into parent ids: the n-th file (1-based, name order)
/// of the same folder.
fn resolve_positions(
    source: &mut Source,
    folders: &HashMap<String, Vec<String>>,
    by_position: Vec<(usize, String)>,
) {
    for (index, position) in by_position {
        let item = &source.items[index];
        let folder = Path::new(&item.location)
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let parent = position
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| folders.get(&folder)?.get(n))
            .cloned();
        match parent {
            Some(parent) => source.items[index].parent = Some(parent),
            None => source.adjusted.push(Note {
                location: item.location.clone(),
                message: format!(
                    "replies to position {position:?}, which is not a comment in its folder; imported as a top-level comment"
                ),
            }),
        }
    }
}

/// The top-level scalar fields of a YAML or JSON file, as strings; of a Markdown file
/// (Staticman's `frontmatter` format), those of its front matter, and the text after it.
type FileFields = (BTreeMap<String, String>, Option<String>);

/// The formats Staticman writes a comment in, by the file's extension.
#[derive(Clone, Copy, PartialEq)]
enum FileKind {
    Yaml,
    Json,
    /// `format: frontmatter`: YAML front matter, then the text.
    Markdown,
}

impl FileKind {
    fn of(path: &Path) -> Option<FileKind> {
        match path.extension().and_then(|e| e.to_str())? {
            "yml" | "yaml" => Some(FileKind::Yaml),
            "json" => Some(FileKind::Json),
            "md" | "markdown" => Some(FileKind::Markdown),
            _ => None,
        }
    }
}

fn read_file(path: &Path, kind: FileKind) -> Result<FileFields, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let text = crate::comment::without_bom(&text);
    let (fields, content) = match kind {
        FileKind::Markdown => {
            let (front, content) = front_matter(text).ok_or(
                "no front matter: a Markdown comment file starts with its fields between \
                 two `---` lines",
            )?;
            (front, Some(content.to_string()))
        }
        _ => (text, None),
    };
    let value: serde_json::Value = if kind == FileKind::Json {
        serde_json::from_str(fields).map_err(|e| format!("invalid JSON: {e}"))?
    } else {
        crate::yaml::from_str(fields).map_err(|e| format!("invalid YAML: {e}"))?
    };
    let serde_json::Value::Object(map) = value else {
        return Err("not a mapping of fields".into());
    };
    let fields = map
        .into_iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((key, text))
        })
        .collect();
    Ok((fields, content))
}

/// The YAML between a `---` first line and the next line that is `---`, and the text
/// after it.
fn front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut at = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "---" {
            return Some((&rest[..at], &rest[at + line.len()..]));
        }
        at += line.len();
    }
    None
}

/// Whether a message is HTML: it opens with a block-level element, as Disqus-converted
/// and WordPress-converted data does. Markdown with an inline tag does not.
fn starts_with_block_tag(body: &str) -> bool {
    let lower = body
        .trim_start()
        .get(..12)
        .unwrap_or(body.trim_start())
        .to_ascii_lowercase();
    [
        "<p>",
        "<p ",
        "<div",
        "<blockquote",
        "<ul",
        "<ol",
        "<pre",
        "<h1",
        "<h2",
        "<h3",
        "<h4",
        "<table",
        "<br",
    ]
    .iter()
    .any(|tag| lower.starts_with(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_parents_come_from_the_common_theme_fields() {
        let dir = tempfile::tempdir().unwrap();
        let post = dir.path().join("my-post");
        std::fs::create_dir_all(&post).unwrap();
        let write = |name: &str, text: &str| std::fs::write(post.join(name), text).unwrap();
        write("entry1.yml", "_id: a1\nname: Ann\nemail: 0cc175b9c0f1b6a831c399e269772661\nmessage: '<p>Hi <em>all</em></p>'\ndate: 1601507235\n");
        write("entry2.yml", "_id: b2\nname: Bob\nmessage: Markdown *here*\ndate: '2020-10-01T00:00:00Z'\nreplying_to: '1'\n");
        write(
            "entry3.yml",
            "_id: c3\n_parent: a1\nmessage: by _parent\ndate: 1601507300000\nhp: ''\n",
        );
        write(
            "entry4.json",
            r#"{"id": "d4", "parent": "b2", "message": "json", "date": "2020-10-02", "url": "https://d.example"}"#,
        );
        write(
            "entry5.yml",
            "_id: e5\n_parent: 'https://site.example/blog/page.html'\nmessage: x\n",
        );
        write("notes.txt", "not a comment");
        let (source, report) = read(dir.path(), &Fields::default(), BodyFormat::Auto).unwrap();
        let got: Vec<(&str, Option<&str>, Option<&str>)> = source
            .items
            .iter()
            .map(|i| (i.key.as_str(), i.parent.as_deref(), i.thread.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("a1", None, Some("my-post/")),
                ("b2", Some("a1"), Some("my-post/")),
                ("c3", Some("a1"), Some("my-post/")),
                ("d4", Some("b2"), Some("my-post/")),
            ]
        );
        assert_eq!(
            source.items[0].body,
            Body::Html("<p>Hi <em>all</em></p>".into())
        );
        assert_eq!(
            source.items[1].body,
            Body::Markdown("Markdown *here*".into())
        );
        assert_eq!(source.items[0].email, None, "an md5 hash is not an address");
        assert_eq!(report.hashed_emails, 1);
        assert_eq!(report.unused_keys.get("hp"), Some(&1));
        assert_eq!(
            source.items[3].website.as_deref(),
            Some("https://d.example")
        );
        let skipped: Vec<String> = source.skipped.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            skipped,
            [
                "my-post/entry5.yml: no date (looked for date)",
                "my-post/notes.txt: not a YAML, JSON or Markdown file"
            ]
        );

        let mut fields = Fields::default();
        fields.set("author=nick").unwrap();
        assert!(fields
            .set("colour=x")
            .unwrap_err()
            .to_string()
            .contains("unknown field"));
        let (source, _) = read(dir.path(), &fields, BodyFormat::Markdown).unwrap();
        assert_eq!(source.items[0].author, None, "name is no longer read");
        assert_eq!(
            source.items[0].body,
            Body::Markdown("<p>Hi <em>all</em></p>".into())
        );
    }

    /// Staticman's `format: frontmatter` writes a Markdown file: the fields as YAML
    /// between `---` lines, then the field its `frontmatterContent` transform names.
    #[test]
    fn frontmatter_files_give_their_fields_and_their_text_as_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let post = dir.path().join("hello");
        std::fs::create_dir_all(&post).unwrap();
        let write = |name: &str, text: &str| std::fs::write(post.join(name), text).unwrap();
        write(
            "1.md",
            "---\n_id: a1\nname: Ann\ndate: '2021-03-04T05:06:07.000Z'\n---\nFirst *line*\n\n---\n\nafter a rule\n",
        );
        write(
            "2.md",
            "---\r\n_id: b2\r\nname: Bob\r\nreplying_to_uid: a1\r\ndate: 1614834367\r\n---\r\n<p>Thanks</p>\r\n",
        );
        // The text may also be one of the fields, as in the other formats.
        write(
            "3.md",
            "---\n_id: c3\ndate: 1614834368\nmessage: in the fields\n---\n",
        );
        write("4.md", "# Notes\n\nNo front matter here.\n");
        write("5.md", "---\n_id: e5\ndate: 1614834369\n");
        write(
            "6.md",
            "---\ntitle: A post\ndate: 2021-03-04\nlayout: post\n---\nThe post's text.\n",
        );
        let (source, _) = read(dir.path(), &Fields::default(), BodyFormat::Auto).unwrap();
        let got: Vec<(&str, Option<&str>, Option<&str>, &Body)> = source
            .items
            .iter()
            .map(|i| {
                (
                    i.key.as_str(),
                    i.author.as_deref(),
                    i.parent.as_deref(),
                    &i.body,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "a1",
                    Some("Ann"),
                    None,
                    &Body::Markdown("First *line*\n\n---\n\nafter a rule".into())
                ),
                (
                    "b2",
                    Some("Bob"),
                    Some("a1"),
                    &Body::Html("<p>Thanks</p>".into())
                ),
                ("c3", None, None, &Body::Markdown("in the fields".into())),
            ]
        );
        assert_eq!(
            source.items[0].date.to_rfc3339(),
            "2021-03-04T05:06:07+00:00"
        );
        let skipped: Vec<String> = source.skipped.iter().map(|n| n.to_string()).collect();
        let no_front = "no front matter: a Markdown comment file starts with its fields \
                        between two `---` lines";
        assert_eq!(
            skipped,
            [
                format!("hello/4.md: {no_front}"),
                format!("hello/5.md: {no_front}"),
                "hello/6.md: no id (looked for _id, id): a page, not a comment".into(),
            ]
        );
    }
}
