//! The comment store: loads every comment file under the comments directory in
//! parallel into threads, and writes new comment files.
//!
//! Loading never stops at a bad file. Each one is reported as a [`Problem`] with its
//! path and the reason (bad syntax, unknown field, id/file-name or thread/directory
//! mismatch, duplicate id, missing parent, ...) and the rest load. A reply whose parent
//! cannot be shown is still shown, at the top level of its thread, so nothing approved
//! disappears from a page.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;
use ulid::Ulid;

use crate::comment::{Comment, FileError, Format};
use crate::config::Form;
use crate::thread;
use crate::walk::{Listing, Opened};

/// How serious a problem is: errors fail `cairn check`; warnings only with `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
        Ok(Store::read(&Index::scan(dir, limits)?))
    }

    /// Reads every thread of a listed tree, in parallel.
    pub fn read(index: &Index) -> Store {
        let read: Vec<(&str, Loaded)> = index
            .threads
            .par_iter()
            .enumerate()
            .map(|(at, (name, _))| (name.as_str(), index.read_at(at)))
            .collect();
        let mut store = Store {
            problems: index.problems.clone(),
            files: index.files,
            ..Store::default()
        };
        for (name, loaded) in read {
            store.problems.extend(loaded.problems);
            if !loaded.thread.comments.is_empty() {
                store.threads.insert(name.to_string(), loaded.thread);
            }
        }
        sort_problems(&mut store.problems);
        store
    }

    /// Number of comments shown in a thread.
    pub fn count(&self, thread: &str) -> usize {
        self.threads.get(thread).map_or(0, |t| t.comments.len())
    }

    /// Number of comments loaded.
    pub fn len(&self) -> usize {
        self.threads.values().map(|t| t.comments.len()).sum()
    }

    /// Every comment loaded, thread by thread.
    pub fn comments(&self) -> impl Iterator<Item = &Comment> {
        self.threads.values().flat_map(|t| &t.comments)
    }

    /// The comments whose avatar key is `key`.
    pub fn by_avatar<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Comment> {
        self.comments()
            .filter(move |c| c.avatar.as_deref() == Some(key))
    }

    /// Whether the site has no comments at all.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Whether any problem fails a run: errors always, warnings when `strict`.
    pub fn fails(&self, strict: bool) -> bool {
        fails(&self.problems, strict)
    }
}

/// Whether any of `problems` fails a run: errors always, warnings when `strict`.
pub fn fails(problems: &[Problem], strict: bool) -> bool {
    problems
        .iter()
        .any(|p| strict || p.severity == Severity::Error)
}

/// Problems in path order, then line order.
pub fn sort_problems(problems: &mut [Problem]) {
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
}

/// A comment tree listed but not read: each thread's directories and files, and the ids
/// the files are named by. A thread is read when asked for ([`Index::read_thread`]),
/// so a render reads each thread as it renders the page showing it and holds only the
/// threads it is at, not every comment of the site.
///
/// What loading decides across threads is decided from the listing, exactly as if
/// every file were read: a comment id that several files are named by belongs to the
/// first of them (in path order) that loads, and the others are duplicates; a reply
/// to a comment of another thread is told apart from a reply to no comment at all.
pub struct Index {
    root: PathBuf,
    /// The root, open: threads' directories are opened relative to it.
    root_dir: Option<Opened>,
    limits: Form,
    /// Dates past this are reported as being in the future.
    future: DateTime<Utc>,
    /// The directories with comment files, in path order.
    dirs: Vec<Dir>,
    /// Each thread, by name, with its directories (one, unless two directory names
    /// mean the same thread).
    threads: Vec<(String, Vec<usize>)>,
    /// Each id a file is named by, with the file (directory, file), sorted: an id's
    /// first file in path order comes first.
    ids: Vec<(Ulid, u32, u32)>,
    /// Ids several files are named by: the file that keeps it, if any loads.
    shared: HashMap<Ulid, Option<(usize, usize)>>,
    /// Files named by an id that an earlier file keeps: what to report for each.
    duplicates: HashMap<(usize, usize), Vec<Problem>>,
    /// Files in the tree that are not comment files.
    pub problems: Vec<Problem>,
    /// Comment files listed.
    pub files: usize,
}

/// A directory of the comment tree.
struct Dir {
    path: PathBuf,
    /// The thread its files must name.
    thread: String,
    files: Vec<(OsString, Format)>,
}

/// One thread read from its files, and what was wrong with them.
pub struct Loaded {
    pub thread: Thread,
    pub problems: Vec<Problem>,
}

impl Index {
    /// Lists the tree under `root`. A missing directory is an empty tree, with a
    /// warning: a site without comments yet keeps an empty directory, and a misspelt
    /// one would otherwise take every comment off the site without a word.
    pub fn scan(root: &Path, limits: &Form) -> Result<Index> {
        let mut index = Index {
            root: root.to_path_buf(),
            root_dir: None,
            limits: limits.clone(),
            future: future(),
            dirs: Vec::new(),
            threads: Vec::new(),
            ids: Vec::new(),
            shared: HashMap::new(),
            duplicates: HashMap::new(),
            problems: Vec::new(),
            files: 0,
        };
        if !root.exists() {
            index.problems.push(Problem {
                path: root.to_path_buf(),
                line: None,
                severity: Severity::Warning,
                message: "the comments directory (comments.dir in cairn.toml) does not \
                          exist, so no page shows a comment; a site without comments yet \
                          keeps it in git with an empty .gitkeep file, as `cairn init` \
                          makes it"
                    .into(),
            });
            return Ok(index);
        }
        index.root_dir = Opened::new(root).ok();
        let listed = crate::walk::tree(root, true, &|listing: Listing<'_>| {
            let mut files = Vec::with_capacity(listing.files.len());
            let mut problems = Vec::new();
            let mut ids = Vec::with_capacity(listing.files.len());
            let path = listing.path.to_path_buf();
            // A link could lead anywhere, such as to a secret on the machine that
            // builds the site, whose text an error would print: none is followed.
            problems.extend(listing.links.iter().map(|name| Problem {
                path: path.join(name),
                line: None,
                severity: Severity::Error,
                message: "a symbolic link, which is not followed (comments are files in the tree itself); ignored".into(),
            }));
            for name in listing.files {
                let Some(format) = Format::of(Path::new(&name)) else {
                    problems.push(Problem {
                        path: path.join(&name),
                        line: None,
                        severity: Severity::Warning,
                        message:
                            "not a comment file (expected .yml, .yaml, .toml or .json); ignored"
                                .into(),
                    });
                    continue;
                };
                // Only a file named by its id in canonical form can load.
                let id = Path::new(&name)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| {
                        Ulid::from_string(s)
                            .ok()
                            .filter(|id| id.array_to_str(&mut [0; ulid::ULID_LEN]) == s)
                    });
                if let Some(id) = id {
                    ids.push((id, files.len() as u32));
                }
                files.push((name, format));
            }
            (path, files, problems, ids)
        })?;
        let mut threads: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (path, files, problems, ids) in listed {
            index.problems.extend(problems);
            if files.is_empty() {
                continue;
            }
            let d = index.dirs.len();
            index
                .ids
                .extend(ids.into_iter().map(|(id, f)| (id, d as u32, f)));
            let rel = path.strip_prefix(root).unwrap_or(Path::new(""));
            let thread = thread::of_dir(rel).unwrap_or_default();
            // Earlier versions wrote some characters of a thread decoded (`a:b`, `100%`).
            if !thread.is_empty() && Path::new(thread::dir(&thread)) != rel {
                index.problems.push(Problem {
                    path: path.clone(),
                    line: None,
                    severity: Severity::Warning,
                    message: format!(
                        "new comments on thread {thread} go to directory `{}`: move these \
                         files there (git mv) to keep its comments in one place",
                        thread::dir(&thread)
                    ),
                });
            }
            threads.entry(thread.clone()).or_default().push(d);
            index.files += files.len();
            index.dirs.push(Dir {
                path,
                thread,
                files,
            });
        }
        index.ids.par_sort_unstable();
        let several: Vec<(Ulid, Vec<(usize, usize)>)> = index
            .ids
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|files| files.len() > 1)
            .map(|files| {
                let found = files.iter().map(|&(_, d, f)| (d as usize, f as usize));
                (files[0].0, found.collect())
            })
            .collect();
        index.threads = threads.into_iter().collect();
        // An id several files are named by (rare): the first that loads keeps it.
        for (id, files) in several {
            let mut keeper: Option<(usize, usize)> = None;
            for (d, f) in files {
                let Ok(comment) = index.read_file(d, f) else {
                    continue;
                };
                let Some(kept) = keeper else {
                    keeper = Some((d, f));
                    continue;
                };
                let mut problems = index.warnings(d, f, &comment);
                problems.push(Problem {
                    path: index.file_path(d, f),
                    line: Some(1),
                    severity: Severity::Error,
                    message: format!(
                        "duplicate id {id} (also in {}); ignored",
                        index.file_path(kept.0, kept.1).display()
                    ),
                });
                index.duplicates.insert((d, f), problems);
            }
            index.shared.insert(id, keeper);
        }
        Ok(index)
    }

    /// How many threads the tree has.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// The name of the thread at `at`, in name order.
    pub fn thread_name(&self, at: usize) -> &str {
        &self.threads[at].0
    }

    /// Where a thread is in name order.
    pub fn position(&self, thread: &str) -> Option<usize> {
        self.threads
            .binary_search_by(|(name, _)| name.as_str().cmp(thread))
            .ok()
    }

    /// Reads one thread's files: its comments in order and what was wrong with them.
    /// A thread with no files is empty.
    pub fn read_thread(&self, thread: &str) -> Loaded {
        match self.position(thread) {
            Some(at) => self.read_at(at),
            None => Loaded {
                thread: Thread::default(),
                problems: Vec::new(),
            },
        }
    }

    /// Reads the thread at `at`, in name order.
    pub fn read_at(&self, at: usize) -> Loaded {
        let mut comments = Vec::new();
        let mut problems = Vec::new();
        for &d in &self.threads[at].1 {
            let dir = &self.dirs[d];
            let opened = self.open_dir(dir);
            let listing = match &opened {
                Ok(opened) => opened.listing(),
                Err(e) => {
                    problems.push(Problem {
                        path: dir.path.clone(),
                        line: None,
                        severity: Severity::Error,
                        message: format!("cannot read directory: {e}"),
                    });
                    continue;
                }
            };
            with_buffer(|buf| {
                for (f, (name, format)) in dir.files.iter().enumerate() {
                    if let Some(duplicate) = self.duplicates.get(&(d, f)) {
                        problems.extend(duplicate.iter().cloned());
                        continue;
                    }
                    match read_one(&listing, name, buf, *format, &dir.thread) {
                        Ok(comment) => {
                            problems.extend(self.warnings(d, f, &comment));
                            comments.push(comment);
                        }
                        Err(e) => problems.push(Problem {
                            path: listing.file_path(name),
                            line: e.line,
                            severity: Severity::Error,
                            message: e.message,
                        }),
                    }
                }
            });
        }
        let (thread, more) = settle(&self.root, comments, &|id| self.loads(id));
        problems.extend(more);
        Loaded { thread, problems }
    }

    /// Whether a comment with this id loads, in whichever thread.
    fn loads(&self, id: Ulid) -> bool {
        if let Some(keeper) = self.shared.get(&id) {
            return keeper.is_some();
        }
        let at = self.ids.partition_point(|&(other, _, _)| other < id);
        self.ids.get(at).is_some_and(|&(other, d, f)| {
            other == id && self.read_file(d as usize, f as usize).is_ok()
        })
    }

    /// Opens a directory of the tree, relative to the root when it is open.
    fn open_dir(&self, dir: &Dir) -> std::io::Result<Opened> {
        match (&self.root_dir, dir.path.strip_prefix(&self.root)) {
            (Some(root), Ok(rel)) => {
                let rel = if rel.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    rel
                };
                Opened::at(root.fd(), rel, &dir.path)
            }
            _ => Opened::new(&dir.path),
        }
    }

    /// Reads one file on its own: for the rare questions a thread cannot answer alone.
    fn read_file(&self, d: usize, f: usize) -> Result<Comment, FileError> {
        let dir = &self.dirs[d];
        let (name, format) = &dir.files[f];
        let opened = self.open_dir(dir).map_err(|e| FileError {
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        with_buffer(|buf| read_one(&opened.listing(), name, buf, *format, &dir.thread))
    }

    /// How many comment files a thread has: what a page showing it will hold.
    pub fn files_in(&self, thread: &str) -> usize {
        self.position(thread).map_or(0, |at| {
            self.threads[at]
                .1
                .iter()
                .map(|&d| self.dirs[d].files.len())
                .sum()
        })
    }

    fn file_path(&self, d: usize, f: usize) -> PathBuf {
        self.dirs[d].path.join(&self.dirs[d].files[f].0)
    }

    /// Warnings for a loaded comment beyond the site's limits, in the future, or with
    /// an e-mail address in its author's name.
    fn warnings(&self, d: usize, f: usize, comment: &Comment) -> Vec<Problem> {
        limit_warnings(comment, &self.limits, self.future)
            .into_iter()
            .chain(public_email_warning(comment))
            .map(|message| Problem {
                path: self.file_path(d, f),
                line: None,
                severity: Severity::Warning,
                message,
            })
            .collect()
    }
}

/// Runs `f` with this thread's read buffer: one for every file it reads.
fn with_buffer<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 16 * 1024]);
    }
    BUF.with_borrow_mut(f)
}

/// The text of the file `name` of a listed directory, read into `buf`: through the
/// directory's handle, with no size asked for first (the buffer is kept from file to
/// file).
fn read_text<'b>(
    listing: &Listing<'_>,
    name: &OsString,
    buf: &'b mut Vec<u8>,
) -> std::io::Result<&'b str> {
    let len = crate::walk::read_to_end(&mut listing.open(name)?, buf)?;
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

/// Dates past this are in the future: a day from now, for clocks that differ.
pub fn future() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::days(1)
}

/// What a comment has beyond the site's limits, or past [`future`]: what loading it
/// reports as warnings.
pub fn limit_warnings(
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

/// The warning for a comment whose author's name or website holds an e-mail address,
/// which pages and feeds would show to everyone. The inbox turns such comments away
/// and importers take the address out; a file written by hand may still have one.
fn public_email_warning(c: &Comment) -> Option<String> {
    let holds = |field: &Option<String>| {
        field
            .as_deref()
            .is_some_and(|v| !crate::comment::email_addresses(v).is_empty())
    };
    if holds(&c.author) {
        Some("author holds an e-mail address, which the page would show to everyone: take it out of the name".into())
    } else if holds(&c.website) {
        Some(
            "website holds an e-mail address, which the page would show to everyone: take it out"
                .into(),
        )
    } else {
        None
    }
}

/// Orders a thread's comments and finds the parent each is shown under.
fn settle(
    dir: &Path,
    mut comments: Vec<Comment>,
    loads: &dyn Fn(Ulid) -> bool,
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
            let message = if loads(parent) {
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

/// A chain of replies that loops back on itself never reaches the top level: the
/// loop's oldest comment is shown at the top level instead, with its replies under it,
/// and nothing is lost. Each comment is walked
/// over once, however long the chains (a conversation of thousands of replies).
fn break_cycles(
    dir: &Path,
    comments: &[Comment],
    parents: &mut [Option<usize>],
    problems: &mut Vec<Problem>,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Seen {
        Not,
        /// On the chain being walked.
        OnChain,
        /// Known to reach the top level.
        Reaches,
    }
    let mut seen = vec![Seen::Not; comments.len()];
    let mut chain = Vec::new();
    for start in 0..comments.len() {
        let mut at = start;
        while seen[at] == Seen::Not {
            seen[at] = Seen::OnChain;
            chain.push(at);
            let Some(p) = parents[at] else { break };
            if seen[p] == Seen::OnChain {
                // The loop is the chain from `p` on; comments are in date order.
                let from = chain.iter().rposition(|&c| c == p).unwrap_or(0);
                let oldest = chain[from..].iter().copied().min().unwrap_or(p);
                problems.push(Problem {
                    path: existing_file(dir, &comments[oldest]),
                    line: None,
                    severity: Severity::Error,
                    message: "replies form a cycle; shown as a top-level comment".into(),
                });
                parents[oldest] = None;
                break;
            }
            at = p;
        }
        for c in chain.drain(..) {
            seen[c] = Seen::Reaches;
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

/// A commit of changes made in a comments directory, by [`commit_files`].
pub struct Committed {
    pub oid: git2::Oid,
    /// The repository's work tree.
    pub workdir: PathBuf,
    /// The removed files' paths in the repository.
    pub removed: Vec<String>,
    /// The written files' paths in the repository, with their contents' blobs.
    pub written: Vec<(String, git2::Oid)>,
}

/// Commits exactly the removal of `removed` and the files `written` as they are now
/// (paths relative to the comments directory) on top of HEAD, with `message`, and
/// updates the index to match: whatever else is staged or modified stays as it was.
pub fn commit_files(
    repo: &git2::Repository,
    comments_dir: &Path,
    removed: &[PathBuf],
    written: &[PathBuf],
    message: &str,
) -> Result<Committed> {
    let workdir = repo
        .workdir()
        .context("the comments directory is in a bare repository")?
        .canonicalize()?;
    let dir = comments_dir.canonicalize()?;
    let in_repo = |relative: &Path| -> Result<String> {
        let path = dir.join(relative);
        let inside = path
            .strip_prefix(&workdir)
            .context("the comments directory is outside the repository's work tree")?;
        Ok(inside.to_string_lossy().replace('\\', "/"))
    };
    let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let base = match &head {
        Some(commit) => commit.tree()?,
        None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
    };
    let mut update = git2::build::TreeUpdateBuilder::new();
    let mut index = repo.index()?;
    let mut committed = Committed {
        oid: git2::Oid::ZERO_SHA1,
        workdir: workdir.clone(),
        removed: Vec::new(),
        written: Vec::new(),
    };
    for path in removed {
        let path = in_repo(path)?;
        update.remove(&path);
        index.remove_path(Path::new(&path)).ok();
        committed.removed.push(path);
    }
    for path in written {
        let path = in_repo(path)?;
        let oid = repo.blob_path(&workdir.join(&path))?;
        update.upsert(&path, oid, git2::FileMode::Blob);
        index.add_path(Path::new(&path))?;
        committed.written.push((path, oid));
    }
    let tree = repo.find_tree(update.create_updated(repo, &base)?)?;
    let signature = repo
        .signature()
        .or_else(|_| git2::Signature::now("cairn", "cairn@localhost"))?;
    let parents: Vec<&git2::Commit> = head.iter().collect();
    committed.oid = repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        message,
        &tree,
        &parents,
    )?;
    index.write()?;
    Ok(committed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn comment(id: &str, thread: &str, parent: Option<&str>, minute: u32) -> Comment {
        Comment {
            date: chrono::Utc
                .with_ymd_and_hms(2026, 1, 1, 0, minute, 0)
                .unwrap(),
            body: "hello\n".into(),
            ..crate::comment::sample(id, thread, parent)
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
            "broken.yml:2: error: invalid YAML: did not find expected node content".to_string(),
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
    fn an_id_belongs_to_the_first_file_named_by_it_that_loads() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // posts/a has a broken file named by A; posts/b and posts/c have good ones.
        std::fs::create_dir_all(root.join("posts/a")).unwrap();
        std::fs::write(root.join(format!("posts/a/{A}.yml")), "id: [\n").unwrap();
        write(root, &comment(A, "/posts/b/", None, 1)).unwrap();
        write(root, &comment(A, "/posts/c/", None, 2)).unwrap();
        // Same id twice in one directory: the later file (by name) is the duplicate.
        write(root, &comment(B, "/posts/c/", None, 3)).unwrap();
        let json = serde_json::json!({
            "id": B, "thread": "/posts/c/", "date": "2026-01-01T00:00:00Z", "body": "twin"
        });
        std::fs::write(root.join(format!("posts/c/{B}.json")), json.to_string()).unwrap();
        // Replies to a comment whose only file is broken, and to one elsewhere.
        std::fs::create_dir_all(root.join("posts/d")).unwrap();
        std::fs::write(root.join(format!("posts/d/{C}.yml")), "id: [\n").unwrap();
        write(root, &comment(D, "/posts/e/", Some(C), 4)).unwrap();
        write(
            root,
            &comment("01JD3K8Z6Q9W2F4T7Y5M1N0EEE", "/posts/e/", Some(A), 5),
        )
        .unwrap();

        let store = Store::load(root, &Form::default()).unwrap();
        assert_eq!(
            store.count("/posts/b/"),
            1,
            "the first good file keeps the id"
        );
        assert_eq!(store.count("/posts/c/"), 1, "{:#?}", store.problems);
        let messages: Vec<String> = store.problems.iter().map(|p| p.to_string()).collect();
        let root_shown = root.display().to_string();
        for needle in [
            format!("posts/a/{A}.yml:2: error: invalid YAML: did not find expected node content"),
            format!("posts/c/{A}.yml:1: error: duplicate id {A} (also in {root_shown}/posts/b/{A}.yml); ignored"),
            format!("posts/c/{B}.yml:1: error: duplicate id {B} (also in {root_shown}/posts/c/{B}.json); ignored"),
            format!("posts/e/{D}.yml: error: parent {C} does not exist; shown as a top-level comment"),
            format!("parent {A} belongs to another thread; shown as a top-level comment"),
        ] {
            assert!(
                messages.iter().any(|m| m.contains(needle.as_str())),
                "missing {needle:?} in {messages:#?}"
            );
        }
        assert_eq!(messages.len(), 6, "{messages:#?}");

        // Reading one thread on its own reports what reading them all does for it.
        let index = Index::scan(root, &Form::default()).unwrap();
        let c = index.read_thread("/posts/c/");
        assert_eq!(c.thread.comments.len(), 1);
        assert_eq!(c.problems.len(), 2, "{:#?}", c.problems);
        assert!(index.read_thread("/nowhere/").thread.comments.is_empty());
    }

    #[test]
    fn an_email_address_in_a_name_or_website_written_by_hand_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let mut leaky = comment(A, "/t/", None, 1);
        leaky.author = Some("Ann <ann@example.org>".into());
        write(dir.path(), &leaky).unwrap();
        write(dir.path(), &comment(B, "/t/", None, 2)).unwrap();
        let mut linked = comment(C, "/t/", None, 3);
        linked.website = Some("https://example.org/contact?to=bob@example.org".into());
        write(dir.path(), &linked).unwrap();
        let store = Store::load(dir.path(), &Form::default()).unwrap();
        assert_eq!(store.count("/t/"), 3);
        let messages: Vec<String> = store.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(
            messages[0].ends_with(&format!(
                "t/{A}.yml: warning: author holds an e-mail address, which the page would \
                 show to everyone: take it out of the name"
            )),
            "{messages:#?}"
        );
        assert!(
            messages[1].ends_with(&format!(
                "t/{C}.yml: warning: website holds an e-mail address, which the page would \
                 show to everyone: take it out"
            )),
            "{messages:#?}"
        );
        assert!(!store.fails(false) && store.fails(true));
        // An address before the host is no website at all: the file is refused.
        linked.website = Some("https://bob@example.org".into());
        std::fs::write(dir.path().join(format!("t/{C}.yml")), linked.to_yaml()).unwrap();
        let store = Store::load(dir.path(), &Form::default()).unwrap();
        assert_eq!(store.count("/t/"), 2);
        assert!(store.problems.iter().any(|p| p.severity == Severity::Error
            && p.message
                .contains("website: a website cannot hold a user name or password")));
    }

    #[test]
    fn reply_cycles_are_shown_top_level() {
        let dir = tempfile::tempdir().unwrap();
        // A and B reply to each other; C and D reply into the loop, E to nothing in it.
        write(dir.path(), &comment(A, "/t/", Some(B), 1)).unwrap();
        write(dir.path(), &comment(B, "/t/", Some(A), 2)).unwrap();
        write(dir.path(), &comment(C, "/t/", Some(B), 3)).unwrap();
        write(dir.path(), &comment(D, "/t/", Some(C), 0)).unwrap();
        let e = "01JD3K8Z6Q9W2F4T7Y5M1N0EEE";
        write(dir.path(), &comment(e, "/t/", None, 4)).unwrap();
        let store = Store::load(dir.path(), &Form::default()).unwrap();
        assert_eq!(store.count("/t/"), 5);
        let t = &store.threads["/t/"];
        let parent = |id: &str| {
            let i = t
                .comments
                .iter()
                .position(|c| c.id.to_string() == id)
                .unwrap();
            t.parents[i].map(|p| t.comments[p].id.to_string())
        };
        // Only the loop is cut, at its oldest comment: the rest stay threaded.
        assert_eq!(parent(A), None);
        assert_eq!(parent(B).as_deref(), Some(A));
        assert_eq!(parent(C).as_deref(), Some(B));
        assert_eq!(parent(D).as_deref(), Some(C));
        assert_eq!(parent(e), None);
        let cycles: Vec<_> = store
            .problems
            .iter()
            .filter(|p| p.message.contains("cycle"))
            .collect();
        assert_eq!(cycles.len(), 1, "{cycles:#?}");
        assert!(
            cycles[0].path.ends_with(format!("t/{A}.yml")),
            "{cycles:#?}"
        );
    }

    #[test]
    fn a_long_chain_of_replies_stays_threaded() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = (0..3000u128)
            .map(|n| Ulid::from(0x0191_0000_0000_0000_0000_0000_0000_0000 + n).to_string())
            .collect();
        for (n, id) in ids.iter().enumerate() {
            let parent = n.checked_sub(1).map(|p| ids[p].as_str());
            write(dir.path(), &comment(id, "/t/", parent, 0)).unwrap();
        }
        let store = Store::load(dir.path(), &Form::default()).unwrap();
        assert!(store.problems.is_empty(), "{:#?}", store.problems);
        let t = &store.threads["/t/"];
        assert_eq!(t.parents[0], None);
        assert!(t.parents[1..]
            .iter()
            .enumerate()
            .all(|(i, &p)| p == Some(i)));
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
    fn a_directory_named_as_earlier_versions_wrote_it_loads_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        // A thread written decoded, as before `:` was kept encoded for Windows.
        let legacy = dir.path().join("wiki/Category:Rust");
        std::fs::create_dir_all(&legacy).unwrap();
        let old = comment(A, "/wiki/Category:Rust/", None, 1);
        std::fs::write(legacy.join(format!("{A}.yml")), old.to_yaml()).unwrap();
        let new = comment(B, "/wiki/Category%3ARust/", None, 2);
        let written = write(dir.path(), &new).unwrap();
        assert_eq!(
            written,
            dir.path().join(format!("wiki/Category%3ARust/{B}.yml"))
        );

        let store = Store::load(dir.path(), &Form::default()).unwrap();
        let threads: Vec<_> = store.threads.keys().collect();
        assert_eq!(threads, ["/wiki/Category%3ARust/"]);
        assert_eq!(store.count("/wiki/Category%3ARust/"), 2);
        let [problem] = &store.problems[..] else {
            panic!("{:?}", store.problems)
        };
        assert_eq!(
            (&problem.path, problem.severity),
            (&legacy, Severity::Warning)
        );
        assert!(problem
            .message
            .contains("go to directory `wiki/Category%3ARust`"));
    }

    #[test]
    fn a_missing_dir_is_an_empty_store_with_a_warning() {
        let store = Store::load(Path::new("/nonexistent/cairn"), &Form::default()).unwrap();
        assert!(store.is_empty());
        let [problem] = &store.problems[..] else {
            panic!("{:?}", store.problems)
        };
        assert_eq!(problem.path, Path::new("/nonexistent/cairn"));
        assert_eq!(problem.severity, Severity::Warning);
        assert!(problem
            .message
            .contains("does not exist, so no page shows a comment"));
        assert!(!store.fails(false) && store.fails(true));
    }
}
