//! Importers: comments from Isso, Disqus, WordPress, Blogger, Staticman, utterances,
//! Gitalk, giscus, Remark42, Waline, Commento, Cusdis, Twikoo and Valine become format v1 files, with
//! threading and dates kept, e-mails turned into avatar keys, and ids derived from the source's ids
//! so that running an import again writes nothing new.
//!
//! Each source module only reads its format into [`Item`]s; [`plan`] applies cairn's
//! rules to them (which items to keep, thread mapping, ids, privacy) and [`apply`]
//! writes the files.

pub mod blogger;
pub mod commento;
pub mod cusdis;
pub mod disqus;
pub mod giscus;
pub mod html;
pub mod isso;
pub mod issues;
mod json;
pub mod remark42;
mod sqlite;
pub mod staticman;
pub mod twikoo;
pub mod waline;
pub mod wordpress;
mod xml;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use ulid::Ulid;

use crate::comment::{complete_website, is_no_website, Comment, Format};
use crate::secret::Secret;
use crate::store::{self, Store};
use crate::thread;

/// Body of a comment whose content was removed but whose replies are kept.
pub const DELETED_BODY: &str = "[deleted]";

/// Name of the file, in the comments directory, listing the ids `cairn forget` erased,
/// so that an import run later does not bring them back.
pub const FORGOTTEN_FILE: &str = ".forgotten";

/// A comment as its source describes it, before cairn's rules apply.
#[derive(Debug, Clone)]
pub struct Item {
    /// The comment's id in the source.
    pub key: String,
    /// The page: a URL, or a URL path from the server's root (with the site's base
    /// path in front, if the site has one), as the source gives it; or a path with no
    /// leading slash, below the site's base path (`slug/`); `None` when it has none.
    pub thread: Option<String>,
    /// The source id of the comment this one replies to.
    pub parent: Option<String>,
    pub date: DateTime<Utc>,
    pub author: Option<String>,
    /// Used only to derive the avatar key; never written.
    pub email: Option<String>,
    pub website: Option<String>,
    pub body: Body,
    pub status: Status,
    /// The source marks its author as one of the site's own people (an author of the
    /// blog, its administrator, a moderator): the import names their avatar keys for
    /// `comments.owners`.
    pub owner: bool,
    /// Where the item is in the source, for reports (`comment 12`, `a/b.yml`).
    pub location: String,
}

/// A body as the source stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Markdown(String),
    Html(String),
}

impl Body {
    /// The Markdown that format v1 stores.
    fn to_markdown(&self) -> String {
        match self {
            Body::Markdown(text) => text.replace("\r\n", "\n").trim().to_string(),
            Body::Html(html) => html::to_markdown(html),
        }
    }
}

/// Whether the source shows the comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Published,
    Pending,
    Deleted,
    Spam,
    /// Hidden because its author is blocked.
    Blocked,
}

/// Something in the source that will not become a comment file as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// What a source module read.
#[derive(Debug, Default)]
pub struct Source {
    pub items: Vec<Item>,
    /// Entries of the source that are not comments cairn can import, with the reason.
    pub skipped: Vec<Note>,
    /// Items read with a change worth knowing (e.g. a reply reference that points nowhere).
    pub adjusted: Vec<Note>,
    /// The pages the source takes no new comments on (closed, read-only), as it names them.
    pub closed: Vec<String>,
}

impl Source {
    /// Whether any item carries an e-mail address (an avatar key needs the secret).
    pub fn has_emails(&self) -> bool {
        self.items.iter().any(|i| i.email.is_some())
    }

    /// Adds a comment GitHub holds (utterances' and Gitalk's issue comments, giscus'
    /// discussion comments) as an item, or a note when its date is not one.
    fn push_github(&mut self, comment: GitHubComment<'_>) {
        let Some(date) = comment
            .date
            .as_str()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc))
        else {
            self.skipped.push(Note {
                location: comment.location,
                message: format!("its date {} is not a date", comment.date),
            });
            return;
        };
        // A deleted account's comments have no user (GitHub shows them as "ghost").
        self.items.push(Item {
            key: comment.key,
            thread: Some(comment.thread.to_string()),
            parent: comment.parent.map(str::to_string),
            date,
            author: comment.user["login"].as_str().map(str::to_string),
            email: None,
            website: comment.user[comment.profile].as_str().map(str::to_string),
            body: Body::Markdown(comment.body.as_str().unwrap_or_default().to_string()),
            status: comment.status,
            owner: false,
            location: comment.location,
        });
    }
}

/// Each item's source id, the source id of its parent and its status, in order.
#[cfg(test)]
fn threading(source: &Source) -> Vec<(&str, Option<&str>, Status)> {
    source
        .items
        .iter()
        .map(|i| (i.key.as_str(), i.parent.as_deref(), i.status))
        .collect()
}

/// What `read` makes of a file holding `text`.
#[cfg(test)]
fn read_written(text: &str, read: fn(&Path) -> Result<Source>) -> Result<Source> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("export.json");
    std::fs::write(&path, text)?;
    read(&path)
}

/// Checks an item made of a GitHub comment: on `page`, by `login` with their profile
/// as the website, with `body` as written, on 5 March 2024 at 10:20:30 UTC.
#[cfg(test)]
fn assert_github_item(item: &Item, page: &str, login: &str, body: &str) {
    assert_eq!(item.thread.as_deref(), Some(page));
    assert_eq!(item.author.as_deref(), Some(login));
    let profile = format!("https://github.com/{login}");
    assert_eq!(item.website.as_deref(), Some(profile.as_str()));
    assert_eq!(item.body, Body::Markdown(body.into()));
    assert_eq!(item.date.to_rfc3339(), "2024-03-05T10:20:30+00:00");
}

/// A comment as GitHub's API shows it: when it was written (RFC 3339), by whom (a
/// user whose `login` is the name and whose `profile` field the website) and what
/// (Markdown, as written); where it is, and whether it is shown.
struct GitHubComment<'a> {
    key: String,
    thread: &'a str,
    parent: Option<&'a str>,
    date: &'a serde_json::Value,
    user: &'a serde_json::Value,
    profile: &'a str,
    body: &'a serde_json::Value,
    status: Status,
    location: String,
}

/// The sources `cairn import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Isso,
    Disqus,
    Wordpress,
    Blogger,
    Staticman,
    Utterances,
    Gitalk,
    Giscus,
    Remark42,
    Waline,
    Commento,
    Cusdis,
    Twikoo,
    Valine,
}

impl Kind {
    /// Whether this source's names are HTML, as its pages showed them (`M&#229;rten`
    /// for Mårten): WordPress stores them escaped, and Disqus kept the escaped names of
    /// the blogs it imported, which Jekyll themes print as they are; Blogger's feeds
    /// carry names as its pages print them (`O&#39;Brien`); Remark42 escapes
    /// `<` and `>` in the names it stores. The names of Isso, Waline, Commento, Cusdis,
    /// Twikoo and Valine, and GitHub's logins, are text.
    fn names_are_html(self) -> bool {
        !matches!(
            self,
            Kind::Isso
                | Kind::Utterances
                | Kind::Gitalk
                | Kind::Giscus
                | Kind::Waline
                | Kind::Commento
                | Kind::Cusdis
                | Kind::Twikoo
                | Kind::Valine
        )
    }

    /// What the source's pages put before a comment's id in its anchor
    /// (`#comment-7`), where that is known and the same on every site.
    fn anchor_prefix(self) -> Option<&'static str> {
        match self {
            Kind::Wordpress | Kind::Disqus => Some("comment-"),
            Kind::Blogger => Some("c"),
            Kind::Isso => Some("isso-"),
            Kind::Remark42 => Some("remark42__comment-"),
            _ => None,
        }
    }

    /// Prefix of the `origin:` field of comments from this source.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Isso => "isso",
            Kind::Disqus => "disqus",
            Kind::Wordpress => "wordpress",
            Kind::Blogger => "blogger",
            Kind::Staticman => "staticman",
            Kind::Utterances => "utterances",
            Kind::Gitalk => "gitalk",
            Kind::Giscus => "giscus",
            Kind::Remark42 => "remark42",
            Kind::Waline => "waline",
            Kind::Commento => "commento",
            Kind::Cusdis => "cusdis",
            Kind::Twikoo => "twikoo",
            Kind::Valine => "valine",
        }
    }
}

/// The anchor an imported comment had on the source's pages (`comment-7` for
/// `wordpress:7`, `c5678` for `blogger:5678`), so that links made to it there
/// (`/2011/10/hello.html#comment-7`) still find it; `None` where the source had none
/// cairn knows of, or the id would not make a plain one.
pub fn former_anchor(origin: &str) -> Option<String> {
    use clap::ValueEnum;
    let (name, key) = origin.split_once(':')?;
    let kind = Kind::value_variants().iter().find(|k| k.name() == name)?;
    let prefix = kind.anchor_prefix()?;
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plain.then(|| format!("{prefix}{key}"))
}

/// Rewrites old thread paths to new ones (`--map OLD=NEW`, or a rules file).
///
/// A rule whose old path ends in `/` moves everything under it; any other rule must
/// match the whole path (so `/?p=4` does not also catch `/?p=42`). A `*` in the old
/// path stands for any part of a path, which a `*` in the new one repeats
/// (`/*.html=/*/` moves `/2011/10/a.html` to `/2011/10/a/`). An old path matches
/// as it is written and as a thread writes it (`/wiki/Talk:A/` is the thread
/// `/wiki/Talk%3AA/`, `/caf%C3%A9/` the thread `/café/`, `/con/` the thread `/%63on/`).
#[derive(Debug, Clone, Default)]
pub struct ThreadMap {
    /// The old path as given and as a thread writes it, then the new path.
    rules: Vec<([String; 2], String)>,
}

impl ThreadMap {
    /// Adds a rule written `OLD=NEW` (split at the last `=`, so an old path may hold
    /// a query such as `/?p=4`).
    pub fn add(&mut self, rule: &str) -> Result<()> {
        let Some((old, new)) = rule.rsplit_once('=') else {
            bail!("--map {rule:?}: expected OLD=NEW, e.g. /old/=/new/");
        };
        let (old, new) = (old.trim(), new.trim());
        if old.is_empty() || new.is_empty() {
            bail!("--map {rule:?}: both paths are needed, e.g. /old/=/new/");
        }
        let stars = |side: &str| side.matches('*').count();
        if stars(old) > 1 || stars(new) > 1 {
            bail!("--map {rule:?}: one `*` on a side at most, e.g. /*.html=/*/");
        }
        if stars(new) > stars(old) {
            bail!("--map {rule:?}: the new path's `*` repeats the old one's, which has none");
        }
        // The new side must be a thread (a trailing prefix is fine: it is joined to
        // the rest of the path and normalized again), whatever its `*` stands for.
        thread::normalize(&new.replace('*', "x"))
            .map_err(|e| anyhow::anyhow!("--map {rule:?}: {new}: {e}"))?;
        // As a thread writes it; an old path that is no thread (`/?p=4`) matches only as
        // it is written, and one without a final slash stays a whole path.
        // A thread keeps `*` encoded: a character no path holds stands in for it.
        const STAR: &str = "\u{E000}";
        let written = match thread::normalize(&old.replace('*', STAR)) {
            Ok(t) if !old.ends_with('/') => t.trim_end_matches('/').replace(STAR, "*"),
            Ok(t) => t.replace(STAR, "*"),
            Err(_) => old.to_string(),
        };
        self.rules
            .push(([old.to_string(), written], new.to_string()));
        // Longest old path first, so the most specific rule wins.
        self.rules.sort_by_key(|r| std::cmp::Reverse(r.0[0].len()));
        Ok(())
    }

    /// Reads rules from a file: one per line, `OLD NEW` or `OLD=NEW`; blank lines and
    /// lines starting with `#` are ignored.
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read map file {}", path.display()))?;
        for (n, line) in crate::comment::without_bom(&text).lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let rule = match line.split_once(char::is_whitespace) {
                Some((old, new)) => format!("{old}={}", new.trim()),
                None => line.to_string(),
            };
            self.add(&rule)
                .with_context(|| format!("{}:{}", path.display(), n + 1))?;
        }
        Ok(())
    }

    /// The rules of `--map-file` (`file`), then those of `--map` (`rules`).
    pub fn from_args(rules: &[String], file: Option<&Path>) -> Result<ThreadMap> {
        let mut map = ThreadMap::default();
        if let Some(file) = file {
            map.add_file(file)?;
        }
        for rule in rules {
            map.add(rule)?;
        }
        Ok(map)
    }

    /// The path after the first matching rule (or unchanged).
    pub fn apply(&self, path: &str) -> String {
        for (olds, new) in &self.rules {
            for old in olds {
                if let Some((before, after)) = old.split_once('*') {
                    let part = path
                        .strip_prefix(before)
                        .and_then(|rest| rest.strip_suffix(after))
                        .filter(|part| !part.is_empty());
                    if let Some(part) = part {
                        return new.replacen('*', part, 1);
                    }
                } else if old.ends_with('/') {
                    if let Some(rest) = path.strip_prefix(old.as_str()) {
                        return format!("{}/{rest}", new.trim_end_matches('/'));
                    }
                } else if path == old || path.trim_end_matches('/') == old.trim_end_matches('/') {
                    return new.clone();
                }
            }
        }
        path.to_string()
    }
}

/// How a run treats the source.
#[derive(Debug, Default)]
pub struct Options {
    pub map: ThreadMap,
    /// Import comments still awaiting moderation in the source.
    pub include_pending: bool,
    /// Turns e-mails into avatar keys; without it e-mails are dropped.
    pub secret: Option<Secret>,
    /// The site's base path (`/` or e.g. `/blog/`), removed from the front of URLs.
    pub base_path: String,
    /// The site's limits on what a comment holds: a comment beyond them is imported
    /// as it is, with a note that `cairn check` will warn about it.
    pub limits: crate::config::Form,
}

/// One file an import writes.
#[derive(Debug, Clone)]
pub struct Planned {
    pub comment: Comment,
    /// Path relative to the comments directory.
    pub path: PathBuf,
    pub location: String,
}

/// What an import would do.
#[derive(Debug, Default)]
pub struct Plan {
    pub new: Vec<Planned>,
    /// Items imported by an earlier run (their `origin` is already in the tree).
    pub existing: usize,
    /// Items not imported, with the reason.
    pub skipped: Vec<Note>,
    /// Items imported with a change worth knowing (a stub, a dropped website, ...).
    pub adjusted: Vec<Note>,
    /// The threads, of those with comments in the source, that it took no new comments
    /// on, in path order: for `comments.closed`, which an import leaves to the owner.
    pub closed: Vec<String>,
    /// The avatar keys of the comments the source marks as by the site's own people
    /// (imported now or before), each once, in the order first met: for
    /// `comments.owners`, which an import leaves to the owner.
    pub owners: Vec<String>,
    /// Of those comments, how many have no avatar key (no e-mail address, or no
    /// secret), which nothing can mark.
    pub owners_without_key: usize,
}

/// What is in the comments directory already.
#[derive(Debug, Default)]
pub struct Existing {
    origins: HashSet<String>,
    forgotten: HashSet<Ulid>,
}

impl Existing {
    /// Reads the origins of the comments in the tree and the ids `cairn forget` erased.
    pub fn load(store: &Store, comments_dir: &Path) -> Result<Existing> {
        let origins = store
            .threads
            .values()
            .flat_map(|t| t.comments.iter())
            .filter_map(|c| c.origin.clone())
            .collect();
        Ok(Existing {
            origins,
            forgotten: read_forgotten(comments_dir)?,
        })
    }
}

/// The ids listed in the comments directory's forgotten file.
pub fn read_forgotten(comments_dir: &Path) -> Result<HashSet<Ulid>> {
    let path = comments_dir.join(FORGOTTEN_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.parse::<Ulid>()
                .with_context(|| format!("{}: {l:?} is not a comment id", path.display()))
        })
        .collect()
}

/// The export at `path` as a stream, gunzip'd if it is compressed: Disqus sends its
/// exports as `.xml.gz`, and Remark42's backups and Commento's exports are gzip'd too.
fn open(path: &Path) -> Result<Box<dyn std::io::BufRead>> {
    use std::io::BufRead;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut file = std::io::BufReader::new(file);
    let head = file
        .fill_buf()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let plain = Gunzip(flate2::bufread::MultiGzDecoder::new(file));
        return Ok(Box::new(std::io::BufReader::new(plain)));
    }
    if head.starts_with(b"PK\x03\x04") {
        // WordPress.com hands its export over zipped, one XML file or several.
        bail!(
            "{}: a zip archive, not an export: unzip it and import the file (or each of \
             the files) inside",
            path.display()
        );
    }
    Ok(Box::new(file))
}

/// A gzip stream whose errors say the file is cut short or damaged.
struct Gunzip<R>(R);

impl<R: std::io::Read> std::io::Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("not a whole gzip file ({e})")))
    }
}

/// The text of the export at `path`, gunzip'd if it is compressed.
fn text_of(path: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let bom = text.len() - crate::comment::without_bom(&text).len();
    text.drain(..bom);
    Ok(text)
}

/// The id of an imported comment: a ULID whose time is the comment's date and whose
/// random part comes from a hash of its origin, so the same source comment always
/// gets the same id and ids still sort by date.
pub fn stable_id(date: DateTime<Utc>, origin: &str) -> Ulid {
    let millis = u64::try_from(date.timestamp_millis()).unwrap_or(0);
    let digest = Sha256::digest(origin.as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    Ulid::from_parts(millis, u128::from_be_bytes(random))
}

/// Decides what becomes of every item of a source.
pub fn plan(kind: Kind, source: Source, options: &Options, existing: &Existing) -> Plan {
    let mut plan = Plan {
        skipped: source.skipped,
        adjusted: source.adjusted,
        ..Plan::default()
    };
    let items = source.items;

    // Source ids, first occurrence wins.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut duplicate = vec![false; items.len()];
    for (i, item) in items.iter().enumerate() {
        if index.contains_key(item.key.as_str()) {
            duplicate[i] = true;
        } else {
            index.insert(&item.key, i);
        }
    }
    let bodies: Vec<String> = items.iter().map(|i| i.body.to_markdown()).collect();
    let origins: Vec<String> = items
        .iter()
        .map(|i| format!("{}:{}", kind.name(), i.key))
        .collect();
    let threads: Vec<Result<String, String>> = items
        .iter()
        .map(|i| thread_path(i.thread.as_deref(), options))
        .collect();
    let commented: HashSet<&str> = threads.iter().flatten().map(String::as_str).collect();
    plan.closed = source
        .closed
        .iter()
        .filter_map(|page| thread_path(Some(page), options).ok())
        .filter(|thread| commented.contains(thread.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    // Shown in the source, with something to show; the rest is dropped, except that a
    // dropped comment with kept replies stays as a stub so the replies keep their place.
    // A date no comment file can hold (year 52088 from a mangled timestamp) cannot be
    // written: such a comment is skipped, not left for its replies to point at.
    let dated: Vec<bool> = items
        .iter()
        .map(|i| crate::comment::YEARS.contains(&i.date.year()))
        .collect();
    let wanted: Vec<bool> = items
        .iter()
        .zip(&bodies)
        .enumerate()
        .map(|(i, (item, body))| {
            !duplicate[i]
                && dated[i]
                && !body.is_empty()
                && (item.status == Status::Published
                    || (item.status == Status::Pending && options.include_pending))
        })
        .collect();
    let parents: Vec<Option<usize>> = items
        .iter()
        .map(|i| i.parent.as_deref().and_then(|p| index.get(p)).copied())
        .map(|p| p.filter(|&p| dated[p]))
        .collect();
    let stub = stubs_needed(&parents, &wanted);
    let ids: Vec<Ulid> = items
        .iter()
        .zip(&origins)
        .map(|(item, origin)| stable_id(item.date, origin))
        .collect();
    let emitted = |i: usize| (wanted[i] || stub[i]) && threads[i].is_ok();
    let future = crate::store::future();

    for (i, item) in items.iter().enumerate() {
        let note = |message: String| Note {
            location: item.location.clone(),
            message,
        };
        if duplicate[i] {
            plan.skipped
                .push(note(format!("id {} appears twice in the source", item.key)));
            continue;
        }
        if !dated[i] {
            plan.skipped.push(note(format!(
                "its date {} is outside the years {} to {} a comment file can hold",
                item.date
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                crate::comment::YEARS.start(),
                crate::comment::YEARS.end()
            )));
            continue;
        }
        if !wanted[i] && !stub[i] {
            plan.skipped.push(note(match item.status {
                _ if bodies[i].is_empty() && item.status != Status::Deleted => {
                    "the comment is empty".into()
                }
                Status::Pending => {
                    "awaiting moderation in the source (--include-pending imports it)".into()
                }
                Status::Deleted => "deleted in the source".into(),
                Status::Spam => "marked as spam in the source".into(),
                Status::Blocked => "its author is blocked in the source".into(),
                Status::Published => unreachable!("published items with a body are wanted"),
            }));
            continue;
        }
        let thread = match &threads[i] {
            Ok(thread) => thread.clone(),
            Err(reason) => {
                plan.skipped.push(note(reason.clone()));
                continue;
            }
        };
        let name = item.author.as_deref().map(|name| {
            if kind.names_are_html() {
                // What a reference may stand for, a reader might not be able to see.
                let text = crate::render::unescape_html(name);
                Cow::Owned(crate::comment::showable(&text).into_owned())
            } else {
                Cow::Borrowed(name)
            }
        });
        let (author, address_in_name) = match name.as_deref() {
            Some(name) => name_without_addresses(name),
            None => (None, None),
        };
        let address_in_website = item
            .website
            .as_deref()
            .and_then(|w| Some(&w[crate::comment::email_addresses(w).first()?.clone()]));
        let email = item.email.as_deref().filter(|e| e.contains('@'));
        let avatar = match (
            &options.secret,
            email.or(address_in_name).or(address_in_website),
        ) {
            (Some(secret), Some(email)) => Some(secret.avatar_key(email)),
            _ => None,
        };
        let forgotten = existing.forgotten.contains(&ids[i]);
        if item.owner && wanted[i] && !forgotten {
            match &avatar {
                Some(key) if plan.owners.contains(key) => {}
                Some(key) => plan.owners.push(key.clone()),
                None => plan.owners_without_key += 1,
            }
        }
        if existing.origins.contains(&origins[i]) {
            plan.existing += 1;
            continue;
        }
        if forgotten {
            plan.skipped
                .push(note(format!("erased by `cairn forget` ({})", ids[i])));
            continue;
        }
        let parent = match item.parent.as_deref() {
            None => None,
            Some(key) => match index.get(key) {
                Some(&p) if emitted(p) && threads[p] == threads[i] && p != i => Some(ids[p]),
                Some(_) => {
                    plan.adjusted.push(note(format!(
                        "its parent {key} is not imported; imported as a top-level comment"
                    )));
                    None
                }
                None => {
                    plan.adjusted.push(note(format!(
                        "its parent {key} is not in the source; imported as a top-level comment"
                    )));
                    None
                }
            },
        };
        let mut comment = Comment {
            id: ids[i],
            thread,
            parent,
            date: item.date,
            author,
            website: None,
            avatar,
            origin: Some(origins[i].clone()),
            body: bodies[i].clone(),
        };
        if stub[i] {
            plan.adjusted.push(note(format!(
                "{}; kept as a \"{DELETED_BODY}\" stub because replies to it are imported",
                match item.status {
                    Status::Pending => "awaiting moderation in the source",
                    Status::Spam => "marked as spam in the source",
                    Status::Blocked => "its author is blocked in the source",
                    _ => "deleted in the source",
                }
            )));
            comment = deleted_stub(comment);
        } else {
            comment.website = if address_in_website.is_some() {
                plan.adjusted.push(note(
                    "its website held an e-mail address, which is never published: dropped".into(),
                ));
                None
            } else {
                website(item.website.as_deref(), &mut |m| {
                    plan.adjusted.push(note(m))
                })
            };
            if address_in_name.is_some() {
                plan.adjusted.push(note(match &comment.author {
                    Some(name) => format!(
                        "its author's name held an e-mail address, which is never \
                         published: imported as {name:?}"
                    ),
                    None => "its author's name was an e-mail address, which is never \
                             published: imported without a name"
                        .into(),
                }));
            }
        }
        // The file as written must read back: anything the reader would refuse is
        // reported here rather than left for `cairn check` to find.
        if let Err(e) = Comment::parse(&comment.to_yaml(), Format::Yaml) {
            plan.skipped
                .push(note(format!("cannot be stored: {}", e.message)));
            continue;
        }
        for warning in crate::store::limit_warnings(&comment, &options.limits, future) {
            plan.adjusted.push(note(format!(
                "imported as it is, but its {warning}: `cairn check` and `cairn render` \
                 warn about it, and fail with --strict (raise the limit in cairn.toml)"
            )));
        }
        plan.new.push(Planned {
            path: PathBuf::from(thread::dir(&comment.thread)).join(format!("{}.yml", comment.id)),
            comment,
            location: item.location.clone(),
        });
    }
    plan
}

/// A name as the source gives it, without the e-mail addresses written in it (with the
/// brackets they stood in), and the first of those addresses: a name is shown to
/// everyone, an address never is.
fn name_without_addresses(name: &str) -> (Option<String>, Option<&str>) {
    let found = crate::comment::email_addresses(name);
    if found.is_empty() {
        let name = name.trim();
        return ((!name.is_empty()).then(|| name.to_string()), None);
    }
    let mut rest = String::with_capacity(name.len());
    let mut last = 0;
    for r in &found {
        rest.push_str(&name[last..r.start]);
        last = r.end;
    }
    rest.push_str(&name[last..]);
    loop {
        let before = rest.len();
        for empty in ["<>", "()", "[]", "{}", "\"\"", "mailto:"] {
            rest = rest.replace(empty, "");
        }
        if rest.len() == before {
            break;
        }
    }
    let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut rest = rest.trim_matches([',', ';', ':', '-', ' ']);
    // `ann@example.org (Ann Lee)`, as RSS writes authors: the name is in the brackets,
    // whose end a source that cuts names short may have lost.
    for (open, close) in [('(', ')'), ('[', ']'), ('<', '>')] {
        if let Some(inner) = rest.strip_prefix(open) {
            let inner = inner.strip_suffix(close).unwrap_or(inner);
            if !inner.contains([open, close]) {
                rest = inner.trim();
            }
        }
    }
    (
        (!rest.is_empty()).then(|| rest.to_string()),
        found.first().map(|r| &name[r.clone()]),
    )
}

/// What is left of a comment that goes away but has replies: its place in the thread
/// (id, thread, parent, date, origin) and nothing its author wrote.
pub fn deleted_stub(comment: Comment) -> Comment {
    Comment {
        author: None,
        website: None,
        avatar: None,
        body: DELETED_BODY.into(),
        ..comment
    }
}

/// Which of the comments that go away must stay as stubs: those with a kept reply
/// somewhere below them. `parents[i]` is the index of comment `i`'s parent, `kept[i]`
/// whether it stays as it is.
pub(crate) fn stubs_needed(parents: &[Option<usize>], kept: &[bool]) -> Vec<bool> {
    let mut stub = vec![false; parents.len()];
    for start in (0..parents.len()).filter(|&i| kept[i]) {
        let mut at = start;
        // Bounded walk: a cycle of parents in broken data cannot loop forever.
        for _ in 0..parents.len() {
            let Some(parent) = parents[at] else { break };
            if parent == at || kept[parent] || stub[parent] {
                break;
            }
            stub[parent] = true;
            at = parent;
        }
    }
    stub
}

/// Whether a source value is a web address: an http(s) URL, in one word.
pub(crate) fn is_web_address(value: &str) -> bool {
    (value.starts_with("http://") || value.starts_with("https://"))
        && !value.contains(char::is_whitespace)
}

/// Whether a source value names a page: a site path or an http(s) URL.
pub(crate) fn names_a_page(value: &str) -> bool {
    value.starts_with('/') || value.starts_with("http://") || value.starts_with("https://")
}

/// The thread of an item: the path of its URL or its path, below the site's base
/// path, mapped by the rules, then normalized.
fn thread_path(raw: Option<&str>, options: &Options) -> Result<String, String> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Err("the source names no page for it".into());
    };
    let path = match url::Url::parse(raw) {
        Ok(url) if url.has_host() => {
            let mut path = url.path().to_string();
            if let Some(query) = url.query() {
                path.push('?');
                path.push_str(query);
            }
            if let Some(fragment) = url.fragment() {
                path.push('#');
                path.push_str(fragment);
            }
            thread::below_base(&options.base_path, &page_of_link(&path)).to_string()
        }
        _ => thread::below_base(&options.base_path, &page_of_link(raw)).to_string(),
    };
    let mapped = match thread::normalize(&path) {
        Ok(normalized) => options.map.apply(&normalized),
        Err(_) => options.map.apply(&path),
    };
    thread::normalize(&mapped).map_err(|e| {
        if mapped == path {
            format!("page {path:?}: {e} (map it to a page path with --map {path}=/new/path/)")
        } else {
            format!("page {path:?} mapped to {mapped:?}: {e}")
        }
    })
}

/// A page's path without what links pick up on the way and no page is told apart by:
/// the fragment (`#comments`) and tracking parameters (`?utm_source=…`, `fbclid`, …).
/// Other parameters stay (`/?p=4` names a WordPress post: a case for `--map`). A
/// hashbang (`/#!/posts/a/`, the address of a page a script showed, as sites of the
/// early 2010s had them) names the page: its route goes on the path (`/posts/a/`).
fn page_of_link(path: &str) -> String {
    let (path, fragment) = path.split_once('#').map_or((path, ""), |(p, f)| (p, f));
    let (page, query) = path
        .split_once('?')
        .map_or((path, None), |(p, q)| (p, Some(q)));
    let routed;
    let page = match fragment
        .strip_prefix('!')
        .map(|r| r.trim_start_matches('/'))
    {
        Some(route) if !route.is_empty() => {
            routed = format!("{}/{route}", page.trim_end_matches('/'));
            routed.as_str()
        }
        _ => page,
    };
    let Some(query) = query else {
        return page.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            !name.is_empty() && !is_tracking(&name.to_ascii_lowercase())
        })
        .collect();
    if kept.is_empty() {
        page.to_string()
    } else {
        format!("{page}?{}", kept.join("&"))
    }
}

/// Whether a query parameter only tracks where a visitor came from.
fn is_tracking(name: &str) -> bool {
    name.starts_with("utm_")
        || matches!(
            name,
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "yclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_gl"
                | "ref"
                | "ref_src"
        )
}

/// A commenter's website as format v1 accepts it: an http(s) URL. A bare host gets
/// `http://`; anything else is dropped with a note. (One with an e-mail address in it,
/// as sources hold `ann@example.org` or `mailto:` links in the URL field, never gets
/// here: every reader would see it.)
fn website(raw: Option<&str>, adjusted: &mut dyn FnMut(String)) -> Option<String> {
    let raw = raw.map(str::trim).filter(|w| !is_no_website(w))?;
    let completed = complete_website(raw, "http");
    if completed.is_none() {
        adjusted(format!("website {raw:?} is not an http(s) URL; dropped"));
    }
    completed
}

/// A date as sources write it: ISO 8601 / RFC 3339 (with or without offset, `T` or a
/// space), a plain date, or Unix time in seconds or milliseconds (Staticman themes
/// write each of them). No offset means UTC.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(number) = raw.parse::<f64>() {
        // Past ~1973 in milliseconds is beyond year 5000 in seconds: the unit is clear.
        let millis = if number.abs() >= 1e11 {
            number
        } else {
            number * 1000.0
        };
        return DateTime::from_timestamp_millis(millis.round() as i64);
    }
    if let Ok(date) = DateTime::parse_from_rfc3339(raw) {
        return Some(date.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(date) = DateTime::parse_from_str(raw, format) {
            return Some(date.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(naive.and_utc());
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|naive| naive.and_utc())
}

/// Writes the planned files. Returns how many were written and what could not be.
pub fn apply(plan: &Plan, comments_dir: &Path) -> (usize, Vec<Note>) {
    let mut written = 0;
    let mut failed = Vec::new();
    for planned in &plan.new {
        match store::write(comments_dir, &planned.comment) {
            Ok(_) => written += 1,
            Err(e) => failed.push(Note {
                location: planned.location.clone(),
                message: format!("{e:#}"),
            }),
        }
    }
    (written, failed)
}

#[cfg(test)]
mod tests;
