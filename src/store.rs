//! The comment store: loads every comment file under the comments directory in
//! parallel into threads, and writes new comment files.
//!
//! Loading never stops at a bad file. Each one is reported as a [`Problem`] with its
//! path and the reason (bad syntax, unknown field, id/file-name or thread/directory
//! mismatch, duplicate id, missing parent, ...) and the rest load. A reply whose parent
//! cannot be shown is still shown, at the top level of its thread, so nothing approved
//! disappears from a page.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use ulid::Ulid;

use crate::comment::{Comment, FileError, Format};
use crate::config::Form;
use crate::thread;
use crate::walk::Listing;

/// How serious a problem is: errors fail `cairn check`; warnings only with `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Something wrong with one comment file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub severity: Severity,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {level}: {}", self.message)
    }
}

/// One thread's comments, ordered by date then id.
#[derive(Debug, Default)]
pub struct Thread {
    pub comments: Vec<Comment>,
    /// For each comment, the index of the parent it is shown under; `None` for
    /// top-level comments and for replies whose parent cannot be shown.
    pub parents: Vec<Option<usize>>,
}

/// Every comment of a site, by thread, plus what was wrong with the files.
#[derive(Debug, Default)]
pub struct Store {
    pub threads: BTreeMap<String, Thread>,
    pub problems: Vec<Problem>,
    /// Comment files read (good and bad).
    pub files: usize,
}

impl Store {
    /// Loads the whole tree under `dir`. A missing directory is an empty store: a site
    /// without comments yet.
    pub fn load(dir: &Path, limits: &Form) -> Result<Store> {
        let mut store = Store::default();
        if !dir.exists() {
            return Ok(store);
        }
        // Dates past this are reported as being in the future.
        let future = chrono::Utc::now() + chrono::Duration::days(1);
        // A directory holds one thread's files; the task that lists it reads them.
        let loaded = crate::walk::tree(dir, true, &|listing: Listing<'_>| {
            Group::load(dir, &listing, limits, future)
        })?;
        store.files = loaded.iter().map(|g| g.files).sum();

        // Each directory's comments become its thread's list as they are; only a
        // duplicate id (rare) is taken out.
        let mut seen: HashSet<Ulid> = HashSet::with_capacity(store.files);
        let mut by_thread: BTreeMap<String, Vec<Comment>> = BTreeMap::new();
        for group in loaded {
            store.problems.extend(group.problems);
            let mut comments = group.comments;
            // Every id goes into `seen`, so no short-circuit here.
            let duplicated = comments
                .iter()
                .fold(false, |dup, c| !seen.insert(c.id) | dup);
            if duplicated {
                comments = drop_duplicates(dir, comments, &by_thread, &mut store.problems);
            }
            if let Some(thread) = comments.first().map(|c| c.thread.clone()) {
                by_thread.entry(thread).or_default().append(&mut comments);
            }
        }
        // Ordering and replies are per thread, so threads are settled in parallel;
        // a missing parent is looked up among all ids to say what is wrong.
        let settled: Vec<(String, Thread, Vec<Problem>)> = by_thread
            .into_par_iter()
            .map(|(name, comments)| {
                let (thread, problems) = settle(dir, comments, &seen);
                (name, thread, problems)
            })
            .collect();
        for (name, thread, problems) in settled {
            store.problems.extend(problems);
            store.threads.insert(name, thread);
        }
        store
            .problems
            .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        Ok(store)
    }

    /// Number of comments shown in a thread.
    pub fn count(&self, thread: &str) -> usize {
        self.threads.get(thread).map_or(0, |t| t.comments.len())
    }

    /// Number of comments loaded.
    pub fn len(&self) -> usize {
        self.threads.values().map(|t| t.comments.len()).sum()
    }

    /// Whether the site has no comments at all.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Whether any problem fails a run: errors always, warnings when `strict`.
    pub fn fails(&self, strict: bool) -> bool {
        self.problems
            .iter()
            .any(|p| strict || p.severity == Severity::Error)
    }
}

/// The comments of one directory and what was wrong with its files.
struct Group {
    comments: Vec<Comment>,
    problems: Vec<Problem>,
    /// Comment files read, good and bad.
    files: usize,
}

impl Group {
    /// Loads the files of one directory under the comments dir `root`.
    fn load(
        root: &Path,
        listing: &Listing<'_>,
        limits: &Form,
        future: chrono::DateTime<chrono::Utc>,
    ) -> Group {
        let mut group = Group {
            comments: Vec::with_capacity(listing.files.len()),
            problems: Vec::new(),
            files: 0,
        };
        let mut files = Vec::with_capacity(listing.files.len());
        for name in &listing.files {
            match Format::of(Path::new(name)) {
                Some(format) => files.push((name, format)),
                None => group.problems.push(Problem {
                    path: listing.file_path(name),
                    line: None,
                    severity: Severity::Warning,
                    message: "not a comment file (expected .yml, .yaml, .toml or .json); ignored"
                        .into(),
                }),
            }
        }
        group.files = files.len();
        if files.is_empty() {
            return group;
        }
        // All files of a group share a directory, hence the thread they must name.
        let dir = listing.path.strip_prefix(root).unwrap_or(Path::new(""));
        let dir_thread = thread::of_page(dir).unwrap_or_default();
        // One buffer per thread, for every file it reads.
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 16 * 1024]);
        }
        BUF.with_borrow_mut(|buf| group.read(listing, files, buf, &dir_thread, limits, future));
        group
    }

    /// Reads the comment `files` of a listed directory into the group.
    fn read(
        &mut self,
        listing: &Listing<'_>,
        files: Vec<(&OsString, Format)>,
        buf: &mut Vec<u8>,
        dir_thread: &str,
        limits: &Form,
        future: chrono::DateTime<chrono::Utc>,
    ) {
        for (name, format) in files {
            match read_one(listing, name, buf, format, dir_thread) {
                Ok(comment) => {
                    let warnings = limit_warnings(&comment, limits, future);
                    self.problems
                        .extend(warnings.into_iter().map(|message| Problem {
                            path: listing.file_path(name),
                            line: None,
                            severity: Severity::Warning,
                            message,
                        }));
                    self.comments.push(comment);
                }
                Err(e) => self.problems.push(Problem {
                    path: listing.file_path(name),
                    line: e.line,
                    severity: Severity::Error,
                    message: e.message,
                }),
            }
        }
    }
}

/// The text of the file `name` of a listed directory, read into `buf`: through the
/// directory's handle, with no size asked for first.
fn read_text<'b>(
    listing: &Listing<'_>,
    name: &OsString,
    buf: &'b mut Vec<u8>,
) -> std::io::Result<&'b str> {
    use std::io::Read;
    let mut file = listing.open(name)?;
    // Not read_to_end: for a file, it first asks for the size and position.
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    std::str::from_utf8(&buf[..len]).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Reads, parses and checks one file against where it sits in the tree.
fn read_one(
    listing: &Listing<'_>,
    name: &OsString,
    buf: &mut Vec<u8>,
    format: Format,
    dir_thread: &str,
) -> Result<Comment, FileError> {
    let text = read_text(listing, name, buf).map_err(|e| FileError {
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    let comment = Comment::parse(text, format)?;
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if stem != comment.id.array_to_str(&mut [0; ulid::ULID_LEN]) {
        return Err(FileError {
            line: Some(1),
            message: format!("id {} does not match the file name `{stem}`", comment.id),
        });
    }
    if dir_thread != comment.thread {
        return Err(FileError {
            line: None,
            message: format!(
                "thread {} does not match the directory the file is in (which holds thread {dir_thread})",
                comment.thread
            ),
        });
    }
    Ok(comment)
}

/// What a loaded comment has beyond the site's limits, or in the future.
fn limit_warnings(
    c: &Comment,
    limits: &Form,
    future: chrono::DateTime<chrono::Utc>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut warn = |message: String| out.push(message);
    let body = c.body.chars().count();
    if body > limits.max_body {
        warn(format!(
            "body has {body} characters, more than form.max_body ({})",
            limits.max_body
        ));
    }
    if let Some(author) = &c.author {
        let n = author.chars().count();
        if n > limits.max_author {
            warn(format!(
                "author has {n} characters, more than form.max_author ({})",
                limits.max_author
            ));
        }
    }
    if c.date > future {
        warn(format!("date {} is in the future", c.date_string()));
    }
    out
}

/// Orders a thread's comments and finds the parent each is shown under.
fn settle(
    dir: &Path,
    mut comments: Vec<Comment>,
    all_ids: &HashSet<Ulid>,
) -> (Thread, Vec<Problem>) {
    let mut problems = Vec::new();
    comments.sort_by_key(|c| (c.date, c.id));
    let index: HashMap<Ulid, usize> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut parents = Vec::with_capacity(comments.len());
    for c in &comments {
        let Some(parent) = c.parent else {
            parents.push(None);
            continue;
        };
        let shown = index.get(&parent).copied();
        if shown.is_none() {
            let message = if all_ids.contains(&parent) {
                format!("parent {parent} belongs to another thread; shown as a top-level comment")
            } else {
                format!("parent {parent} does not exist; shown as a top-level comment")
            };
            problems.push(Problem {
                path: existing_file(dir, c),
                line: None,
                severity: Severity::Error,
                message,
            });
        }
        parents.push(shown);
    }
    break_cycles(dir, &comments, &mut parents, &mut problems);
    (Thread { comments, parents }, problems)
}

/// Takes out comments whose id was already loaded, reporting each with both files.
fn drop_duplicates(
    dir: &Path,
    comments: Vec<Comment>,
    loaded: &BTreeMap<String, Vec<Comment>>,
    problems: &mut Vec<Problem>,
) -> Vec<Comment> {
    let mut kept: Vec<Comment> = Vec::with_capacity(comments.len());
    for c in comments {
        let earlier = loaded
            .values()
            .flatten()
            .chain(kept.iter())
            .find(|other| other.id == c.id)
            .map(|other| existing_file(dir, other));
        match earlier {
            Some(earlier) => problems.push(Problem {
                message: format!(
                    "duplicate id {} (also in {}); ignored",
                    c.id,
                    earlier.display()
                ),
                path: existing_file(dir, &c),
                line: Some(1),
                severity: Severity::Error,
            }),
            None => kept.push(c),
        }
    }
    kept
}

/// The file a loaded comment came from. Loaded files are named by id in their
/// thread's directory, so only the extension is unknown; it is looked up when needed
/// (a problem report, an erasure) rather than kept for a million comments.
pub fn file_of(dir: &Path, comment: &Comment) -> Option<PathBuf> {
    let base = dir.join(thread::dir(&comment.thread));
    crate::comment::EXTENSIONS
        .iter()
        .map(|ext| base.join(format!("{}.{ext}", comment.id)))
        .find(|p| p.is_file())
}

/// [`file_of`], or where the file would be written, for reports.
fn existing_file(dir: &Path, comment: &Comment) -> PathBuf {
    file_of(dir, comment).unwrap_or_else(|| {
        dir.join(thread::dir(&comment.thread))
            .join(format!("{}.yml", comment.id))
    })
}

/// A chain of replies that loops back on itself never reaches the top level; show its
/// members at the top level instead of losing them.
fn break_cycles(
    dir: &Path,
    comments: &[Comment],
    parents: &mut [Option<usize>],
    problems: &mut Vec<Problem>,
) {
    for start in 0..comments.len() {
        let mut at = start;
        let mut steps = 0;
        while let Some(p) = parents[at] {
            at = p;
            steps += 1;
            if steps > comments.len() {
                problems.push(Problem {
                    path: existing_file(dir, &comments[start]),
                    line: None,
                    severity: Severity::Error,
                    message: "replies form a cycle; shown as a top-level comment".into(),
                });
                parents[start] = None;
                break;
            }
        }
    }
}

/// Writes a new comment file into the comments directory and returns its path. Writing
/// the same comment again is a no-op; a different comment under the same id is an error.
pub fn write(comments_dir: &Path, comment: &Comment) -> Result<PathBuf> {
    let path = comments_dir
        .join(thread::dir(&comment.thread))
        .join(format!("{}.yml", comment.id));
    let dir = path.parent().unwrap_or(comments_dir);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let yaml = comment.to_yaml();
    if let Ok(existing) = std::fs::read_to_string(&path) {
        anyhow::ensure!(
            existing == yaml,
            "{} already exists with different content",
            path.display()
        );
        return Ok(path);
    }
    let tmp = dir.join(format!(".{}.tmp", comment.id));
    std::fs::write(&tmp, yaml.as_bytes())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn comment(id: &str, thread: &str, parent: Option<&str>, minute: u32) -> Comment {
        Comment {
            id: id.parse().unwrap(),
            thread: thread.into(),
            parent: parent.map(|p| p.parse().unwrap()),
            date: chrono::Utc
                .with_ymd_and_hms(2026, 1, 1, 0, minute, 0)
                .unwrap(),
            author: Some("Ann".into()),
            website: None,
            avatar: None,
            origin: None,
            body: "hello\n".into(),
        }
    }

    const A: &str = "01JD3K8Z6Q9W2F4T7Y5M1N0AAA";
    const B: &str = "01JD3K8Z6Q9W2F4T7Y5M1N0BBB";
    const C: &str = "01JD3K8Z6Q9W2F4T7Y5M1N0CCC";
    const D: &str = "01JD3K8Z6Q9W2F4T7Y5M1N0DDD";

    #[test]
    fn loads_threads_and_reports_each_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, &comment(A, "/posts/a/", None, 1)).unwrap();
        write(root, &comment(B, "/posts/a/", Some(A), 2)).unwrap();
        write(root, &comment(C, "/posts/a/", Some(D), 3)).unwrap();
        std::fs::write(root.join("posts/a/broken.yml"), "id: [\n").unwrap();
        let moved = comment(D, "/posts/b/", None, 4).to_yaml();
        std::fs::write(root.join(format!("posts/a/{D}.yml")), moved).unwrap();
        let renamed = comment(A, "/posts/a/", None, 5).to_yaml();
        std::fs::write(root.join("posts/a/01JD3K8Z6Q9W2F4T7Y5M1N0EEE.yml"), renamed).unwrap();
        std::fs::create_dir_all(root.join("posts/c")).unwrap();
        std::fs::write(
            root.join(format!("posts/c/{A}.json")),
            serde_json::json!({
                "id": A, "thread": "/posts/c/", "date": "2026-01-01T00:00:00Z", "body": "dup"
            })
            .to_string(),
        )
        .unwrap();
        std::fs::write(root.join("notes.txt"), "hi").unwrap();
        std::fs::write(root.join(".gitkeep"), "").unwrap();

        let store = Store::load(root, &Form::default()).unwrap();
        let thread = &store.threads["/posts/a/"];
        let ids: Vec<String> = thread.comments.iter().map(|c| c.id.to_string()).collect();
        assert_eq!(ids, [A, B, C]);
        assert_eq!(thread.parents, [None, Some(0), None]);
        assert_eq!(store.files, 7);
        let messages: Vec<String> = store.problems.iter().map(|p| p.to_string()).collect();
        let expect = [
            format!("{D}.yml: error: thread /posts/b/ does not match the directory"),
            "01JD3K8Z6Q9W2F4T7Y5M1N0EEE.yml:1: error: id 01JD3K8Z6Q9W2F4T7Y5M1N0AAA does not match the file name".to_string(),
            format!("{C}.yml: error: parent {D} does not exist; shown as a top-level comment"),
            "broken.yml:1: error: invalid YAML".to_string(),
            format!("posts/c/{A}.json:1: error: duplicate id {A}"),
            "notes.txt: warning: not a comment file".to_string(),
        ];
        for needle in &expect {
            assert!(
                messages.iter().any(|m| m.contains(needle.as_str())),
                "missing {needle:?} in {messages:#?}"
            );
        }
        assert_eq!(messages.len(), expect.len(), "{messages:#?}");
        assert!(store.fails(false));
    }

    #[test]
    fn reply_cycles_are_shown_top_level() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &comment(A, "/t/", Some(B), 1)).unwrap();
        write(dir.path(), &comment(B, "/t/", Some(A), 2)).unwrap();
        let store = Store::load(dir.path(), &Form::default()).unwrap();
        assert_eq!(store.count("/t/"), 2);
        let parents = &store.threads["/t/"].parents;
        assert!(parents.contains(&None), "{parents:?}");
        assert!(store.problems.iter().any(|p| p.message.contains("cycle")));
    }

    #[test]
    fn limits_are_warnings_that_fail_only_strict_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut long = comment(A, "/t/", None, 1);
        long.body = "x".repeat(20);
        write(dir.path(), &long).unwrap();
        let limits = Form {
            max_body: 10,
            ..Form::default()
        };
        let store = Store::load(dir.path(), &limits).unwrap();
        assert_eq!(store.problems.len(), 1);
        assert_eq!(store.problems[0].severity, Severity::Warning);
        assert!(!store.fails(false));
        assert!(store.fails(true));
    }

    #[test]
    fn writing_is_idempotent_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let c = comment(A, "/posts/a/", None, 1);
        let path = write(dir.path(), &c).unwrap();
        assert_eq!(path, dir.path().join(format!("posts/a/{A}.yml")));
        assert_eq!(write(dir.path(), &c).unwrap(), path);
        let mut changed = c.clone();
        changed.body = "edited\n".into();
        assert!(write(dir.path(), &changed).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), c.to_yaml());
    }

    #[test]
    fn missing_dir_is_an_empty_store() {
        let store = Store::load(Path::new("/nonexistent/cairn"), &Form::default()).unwrap();
        assert!(store.is_empty() && store.problems.is_empty());
    }
}
