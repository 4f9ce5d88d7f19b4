//! Delivery through a forge's REST API: what review, batch and direct mode mean in
//! terms of branches, files and pull requests, for any forge that implements [`Api`].
//!
//! - `review`: branch `cairn/<id>` off the site branch, one commit adding the file,
//!   and a pull request whose body shows the comment. Approve merges it (and deletes
//!   the branch); reject closes it and deletes the branch.
//! - `batch`: each comment is a commit on the rolling branch, and one pull request
//!   from it stays open. Approving one comment copies it onto the site branch and
//!   removes it from the batch; merging the pull request approves them all.
//! - `direct`: one commit per comment on the site branch.
//!
//! Every step first looks whether an earlier attempt already did it, and every "already
//! exists" answer counts as done, so a retry after a lost answer or a crash adds nothing.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use serde_json::Value;
use ulid::Ulid;

use super::{
    comments_dir, file_path, message, unknown, Ask, Backend, DeliveryError, Pending, BRANCH_PREFIX,
    CHANGE_PREFIX,
};
use crate::comment::{Comment, Format};
use crate::config::{Config, Mode};

/// A file on a branch, with the forge's id for this version of it.
#[derive(Debug, Clone)]
pub struct File {
    pub content: Vec<u8>,
    pub sha: String,
}

/// A pull (or merge) request cairn opened.
#[derive(Debug, Clone)]
pub struct Request {
    pub number: u64,
    /// The branch it merges.
    pub head: String,
    /// Where a person sees it.
    pub url: String,
}

/// A request that was closed or merged.
#[derive(Debug, Clone)]
pub struct Closed {
    pub request: Request,
    /// It was merged with its own commits (a merge commit or a fast-forward), which
    /// are now in its base branch's history; squashed and rebased requests copied
    /// their changes instead, and a closed one changed nothing.
    pub kept_history: bool,
}

/// A file a request changes.
#[derive(Debug, Clone)]
pub struct Changed {
    pub path: String,
    /// The request adds it: the branch has it and the merge base does not.
    pub added: bool,
}

/// A forge's files on its branches: each change is one commit. Creating a file that
/// is there already succeeds, as does removing one that is gone.
pub trait Files {
    /// The file at `path` on `branch`; `None` when it is not there.
    fn file(&self, branch: &str, path: &str) -> Result<Option<File>, DeliveryError>;
    /// Commits a new file to `branch`.
    fn create_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<(), DeliveryError>;
    /// Commits a new version of a file on `branch`; `sha` names the version replaced.
    fn update_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError>;
    /// Commits the removal of a file from `branch`.
    fn delete_file(
        &self,
        branch: &str,
        path: &str,
        sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError>;
}

/// What cairn needs from a forge; each forge's REST API in its own module.
///
/// Calls that create something succeed when it already exists, and calls that
/// delete something succeed when it is already gone.
pub trait Api: Files + Send + Sync {
    /// Tip commit of `branch`; `None` when there is no such branch.
    fn branch(&self, branch: &str) -> Result<Option<String>, DeliveryError>;
    fn create_branch(&self, branch: &str, from: &str) -> Result<(), DeliveryError>;
    fn delete_branch(&self, branch: &str) -> Result<(), DeliveryError>;
    /// The open request merging `head` into `base`.
    fn find_request(&self, head: &str, base: &str) -> Result<Option<Request>, DeliveryError>;
    /// Opens a request (or returns the open one for `head`) and puts the labels on it.
    fn open_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<Request, DeliveryError>;
    /// Open requests into `base` from branches named `cairn/…`.
    fn requests(&self, base: &str) -> Result<Vec<Request>, DeliveryError>;
    /// The request from `head` into `base` that was closed or merged last: the newest
    /// one, as cairn opens one only when none is open.
    fn last_closed(&self, head: &str, base: &str) -> Result<Option<Closed>, DeliveryError>;
    /// The files a request adds, changes or removes (an author's withdrawal removes
    /// one); a closed request's as they were when it was closed.
    fn request_files(&self, request: &Request) -> Result<Vec<Changed>, DeliveryError>;
    fn merge(&self, request: &Request, title: &str) -> Result<(), DeliveryError>;
    fn close(&self, request: &Request) -> Result<(), DeliveryError>;
    /// The client its calls go through.
    fn http(&self) -> &Http;
}

/// The backend for every forge: the modes, on top of one forge's [`Api`].
pub struct Forge<A: Api> {
    api: A,
    mode: Mode,
    branch: String,
    batch_branch: String,
    comments_dir: String,
    labels: Vec<String>,
    site_url: String,
    /// `comments.owners` as last (re)loaded: a request for a comment they would mark
    /// says so.
    owners: std::sync::RwLock<Vec<String>>,
}

impl<A: Api> Forge<A> {
    pub fn new(config: &Config, api: A) -> Result<Forge<A>> {
        let delivery = &config.inbox.delivery;
        Ok(Forge {
            api,
            mode: delivery.mode,
            branch: delivery.branch.clone(),
            batch_branch: delivery.batch_branch.clone(),
            comments_dir: comments_dir(config),
            labels: delivery.labels.clone(),
            site_url: config.site.url.trim_end_matches('/').to_string(),
            owners: std::sync::RwLock::new(config.comments.owners.clone()),
        })
    }

    /// What a request for `c` says: see [`request_body`].
    fn request_body(&self, c: &Comment) -> String {
        let owners = self
            .owners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        request_body(c, &self.site_url, &owners)
    }

    fn path_of(&self, c: &Comment) -> String {
        file_path(&self.comments_dir, &c.thread, c.id, "yml")
    }

    /// The results of a round of `comments` that failed as a whole: `e` for each, or
    /// none when the stop cut it short, which leaves them all untried.
    fn failed_round(&self, e: DeliveryError, comments: usize) -> Vec<Result<(), DeliveryError>> {
        if self.api.http().stopping() {
            Vec::new()
        } else {
            vec![Err(e); comments]
        }
    }

    fn site_tip(&self) -> Result<String, DeliveryError> {
        self.api.branch(&self.branch)?.ok_or_else(|| {
            DeliveryError::Permanent(format!("the site branch {} does not exist", self.branch))
        })
    }

    fn on_site(&self, path: &str) -> Result<bool, DeliveryError> {
        Ok(self.api.file(&self.branch, path)?.is_some())
    }

    /// The path of comment `id`'s file on the site branch, in whichever format it is.
    fn site_file(&self, thread: &str, id: Ulid) -> Result<Option<String>, DeliveryError> {
        for ext in crate::comment::EXTENSIONS {
            let path = file_path(&self.comments_dir, thread, id, ext);
            if self.on_site(&path)? {
                return Ok(Some(path));
            }
        }
        Ok(None)
    }

    fn deliver_review(&self, c: &Comment) -> Result<(), DeliveryError> {
        let path = self.path_of(c);
        let branch = format!("{BRANCH_PREFIX}{}", c.id);
        if self.on_site(&path)? {
            return Ok(());
        }
        if self.api.branch(&branch)?.is_none() {
            let tip = self.site_tip()?;
            self.api.create_branch(&branch, &tip)?;
        }
        if self.api.file(&branch, &path)?.is_none() {
            self.api
                .create_file(&branch, &path, c.to_yaml().as_bytes(), &message(c))?;
        }
        let title = message(c).lines().next().unwrap_or_default().to_string();
        self.api.open_request(
            &branch,
            &self.branch,
            &title,
            &self.request_body(c),
            &self.labels,
        )?;
        Ok(())
    }

    fn deliver_batch(&self, c: &Comment) -> Result<(), DeliveryError> {
        let path = self.path_of(c);
        if self.on_site(&path)? {
            return Ok(());
        }
        if self.api.branch(&self.batch_branch)?.is_none() {
            let tip = self.site_tip()?;
            self.api.create_branch(&self.batch_branch, &tip)?;
        }
        if self.api.file(&self.batch_branch, &path)?.is_none() {
            self.api.create_file(
                &self.batch_branch,
                &path,
                c.to_yaml().as_bytes(),
                &message(c),
            )?;
        }
        Ok(())
    }

    /// Takes off the batch branch the comments its last request settled, before new
    /// ones are added for the next request. The branch outlives its request: when a
    /// moderator closes the request (rejecting every comment in it), or squashes or
    /// rebases it (so the branch's commits never reach the site branch, and a comment
    /// erased from the site since would come back with the next merge), the next
    /// request from the branch would offer all of them again. Each comment file the
    /// request added is taken off in a commit of its own, which no concurrent delivery
    /// can undo. A request merged with its history needs nothing: its commits are the
    /// site branch's, and taking its files off would take them off the site too.
    fn settle_batch(&self) -> Result<(), DeliveryError> {
        if self
            .api
            .find_request(&self.batch_branch, &self.branch)?
            .is_some()
            || self.api.branch(&self.batch_branch)?.is_none()
        {
            return Ok(());
        }
        let Some(closed) = self.api.last_closed(&self.batch_branch, &self.branch)? else {
            return Ok(());
        };
        if closed.kept_history {
            return Ok(());
        }
        for changed in self.api.request_files(&closed.request)? {
            if !changed.added || !changed.path.starts_with(&self.comments_dir) {
                continue;
            }
            if let Some(file) = self.api.file(&self.batch_branch, &changed.path)? {
                self.api.delete_file(
                    &self.batch_branch,
                    &changed.path,
                    &file.sha,
                    &format!("Settled in {}: {}", closed.request.url, changed.path),
                )?;
            }
        }
        Ok(())
    }

    /// The rolling request of batch mode, opened once comments wait on its branch.
    fn ensure_batch_request(&self) -> Result<(), DeliveryError> {
        if self
            .api
            .find_request(&self.batch_branch, &self.branch)?
            .is_some()
        {
            return Ok(());
        }
        let body = "Comments waiting for moderation, one commit each; the files changed show \
                    every comment.\n\nMerge this pull request to publish them all, or approve \
                    and reject them one by one with `cairn moderate`. cairn adds new comments \
                    here as they arrive.\n";
        self.api
            .open_request(
                &self.batch_branch,
                &self.branch,
                "Comments awaiting moderation",
                body,
                &self.labels,
            )
            .map(|_| ())
    }

    fn deliver_direct(&self, c: &Comment) -> Result<(), DeliveryError> {
        let path = self.path_of(c);
        if self.on_site(&path)? {
            return Ok(());
        }
        self.api
            .create_file(&self.branch, &path, c.to_yaml().as_bytes(), &message(c))
    }

    /// Comments in `request`, each with the path of its file.
    fn comments_in(&self, request: &Request) -> Result<Vec<(Comment, String, Ask)>> {
        let change = request
            .head
            .strip_prefix(BRANCH_PREFIX)
            .is_some_and(|own| own.starts_with(CHANGE_PREFIX));
        let read = |branch: &str, path: &str, format| -> Result<Option<Comment>> {
            let Some(file) = self.api.file(branch, path)? else {
                return Ok(None);
            };
            match Comment::parse(&String::from_utf8_lossy(&file.content), format) {
                Ok(c) => Ok(Some(c)),
                Err(e) => {
                    tracing::warn!("{path} on {branch}: {}", e.message);
                    Ok(None)
                }
            }
        };
        let mut found = Vec::new();
        for Changed { path, .. } in self.api.request_files(request)? {
            if !path.starts_with(&self.comments_dir) {
                continue;
            }
            let Some(format) = Format::of(std::path::Path::new(&path)) else {
                continue;
            };
            let proposed = read(&request.head, &path, format)?;
            let published = if change {
                read(&self.branch, &path, format)?
            } else {
                None
            };
            let (comment, ask) = match (proposed, published) {
                (Some(new), Some(was)) => (new, Ask::Edit { was: was.body }),
                (Some(new), None) => (new, Ask::Publish),
                (None, Some(was)) => (was, Ask::Withdraw),
                (None, None) => continue,
            };
            found.push((comment, path, ask));
        }
        Ok(found)
    }

    /// A pending comment: its own request in review mode, an author's proposed change,
    /// else a file in the batch.
    fn find_pending(&self, id: Ulid) -> Result<(Comment, String, Request, Ask)> {
        let mut candidates = Vec::new();
        for head in [
            format!("{BRANCH_PREFIX}{id}"),
            format!("{BRANCH_PREFIX}{CHANGE_PREFIX}{id}"),
        ] {
            if let Some(r) = self.api.find_request(&head, &self.branch)? {
                candidates.push(r);
            }
        }
        if let Some(r) = self.api.find_request(&self.batch_branch, &self.branch)? {
            candidates.push(r);
        }
        for request in candidates {
            if let Some((c, path, ask)) = self
                .comments_in(&request)?
                .into_iter()
                .find(|(c, _, _)| c.id == id)
            {
                return Ok((c, path, request, ask));
            }
        }
        Err(unknown(id))
    }
}

impl<A: Api> Backend for Forge<A> {
    fn deliver(&self, comments: &[Comment]) -> Vec<Result<(), DeliveryError>> {
        if self.mode == Mode::Batch {
            if let Err(e) = self.settle_batch() {
                return self.failed_round(e, comments.len());
            }
        }
        let mut results = Vec::with_capacity(comments.len());
        for c in comments {
            if self.api.http().stopping() {
                break;
            }
            let result = match self.mode {
                Mode::Review => self.deliver_review(c),
                Mode::Batch => self.deliver_batch(c),
                Mode::Direct => self.deliver_direct(c),
            };
            // Cut short by the stop (its calls are no longer repeated): left untried
            // like the rest, for the next start, with no attempt counted.
            if result.is_err() && self.api.http().stopping() {
                break;
            }
            // A forge that does not answer would take the same retries and timeouts
            // for each comment left: they wait for the next attempt without a call.
            if let Err(DeliveryError::Unavailable(why)) = &result {
                let untried = DeliveryError::Unavailable(format!(
                    "not tried: the forge did not answer for an earlier comment ({why})"
                ));
                results.push(result);
                results.resize(comments.len(), Err(untried));
                break;
            }
            results.push(result);
        }
        if self.mode == Mode::Batch && results.iter().any(Result::is_ok) {
            if let Err(e) = self.ensure_batch_request() {
                // The comments are on the branch but no one would see them: try again.
                return self.failed_round(e, comments.len());
            }
        }
        results
    }

    fn stop(&self) {
        self.api.http().stop();
    }

    fn exists(&self, thread: &str, id: Ulid) -> Result<bool> {
        if self.published(thread, id)? {
            return Ok(true);
        }
        // Pending: on a branch whose request is open. A request closed on the forge
        // leaves its branch behind when no webhook tells the inbox.
        let own = format!("{BRANCH_PREFIX}{id}");
        let mine = file_path(&self.comments_dir, thread, id, "yml");
        for branch in [own.as_str(), self.batch_branch.as_str()] {
            if self.api.file(branch, &mine)?.is_some()
                && self.api.find_request(branch, &self.branch)?.is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn published(&self, thread: &str, id: Ulid) -> Result<bool> {
        Ok(self.site_file(thread, id)?.is_some())
    }

    fn pending(&self) -> Result<Vec<Pending>> {
        let mut pending = Vec::new();
        for request in self.api.requests(&self.branch)? {
            for (comment, _, ask) in self.comments_in(&request)? {
                pending.push(Pending {
                    comment,
                    location: request.url.clone(),
                    ask,
                });
            }
        }
        pending.sort_by_key(|p| p.comment.id);
        Ok(pending)
    }

    fn approve(&self, id: Ulid) -> Result<Pending> {
        let (comment, path, request, ask) = self.find_pending(id)?;
        let title = format!(
            "Approve {}",
            message(&comment).lines().next().unwrap_or_default()
        );
        if request.head == self.batch_branch {
            let file = self
                .api
                .file(&self.batch_branch, &path)?
                .context("the comment left the batch branch meanwhile")?;
            if !self.on_site(&path)? {
                self.api
                    .create_file(&self.branch, &path, &file.content, &title)?;
            }
            self.api.delete_file(
                &self.batch_branch,
                &path,
                &file.sha,
                &format!("Approved on {}: {id}", self.branch),
            )?;
        } else {
            self.api.merge(&request, &title)?;
            self.api.delete_branch(&request.head)?;
        }
        Ok(Pending {
            comment,
            location: request.url,
            ask,
        })
    }

    fn location(&self, comment: &Comment) -> Result<String> {
        let head = match self.mode {
            Mode::Review => format!("{BRANCH_PREFIX}{}", comment.id),
            Mode::Batch => self.batch_branch.clone(),
            Mode::Direct => return Ok(format!("published on {}", self.branch)),
        };
        Ok(match self.api.find_request(&head, &self.branch)? {
            Some(r) => r.url,
            None => format!("branch {head}"),
        })
    }

    fn revise(&self, comment: &Comment) -> Result<Option<String>> {
        let (_, path, request, _) = self.find_pending(comment.id)?;
        if Format::of(std::path::Path::new(&path)) != Some(Format::Yaml) {
            bail!("{path} is not a YAML file: it cannot be edited here");
        }
        let file = self
            .api
            .file(&request.head, &path)?
            .with_context(|| format!("{path} left {} meanwhile", request.head))?;
        let msg = format!(
            "Edit {}",
            message(comment).lines().next().unwrap_or_default()
        );
        self.api.update_file(
            &request.head,
            &path,
            comment.to_yaml().as_bytes(),
            &file.sha,
            &msg,
        )?;
        // A moderator may have merged the request while the edit was on its way: the
        // merge took the comment as it was then, and the edit was left on a branch no
        // request shows any more (or went with it, if the forge deleted it). A request
        // still open now merges whatever its branch holds when it is merged.
        if self
            .api
            .find_request(&request.head, &self.branch)?
            .is_some()
        {
            return Ok(None);
        }
        let published = match self.api.file(&self.branch, &path)? {
            Some(file) => Comment::parse(&String::from_utf8_lossy(&file.content), Format::Yaml)
                .map_err(|e| anyhow::anyhow!("{path} on {}: {}", self.branch, e.message))?,
            None => bail!(
                "comment {} was turned down while it was being edited",
                comment.id
            ),
        };
        if published == *comment {
            return Ok(None);
        }
        tracing::info!(id = %comment.id, "published while it was edited: the edit is asked for as a change");
        self.propose(&published, Some(comment))
    }

    fn propose(&self, published: &Comment, new: Option<&Comment>) -> Result<Option<String>> {
        let head = format!("{BRANCH_PREFIX}{CHANGE_PREFIX}{}", published.id);
        let path = self
            .site_file(&published.thread, published.id)?
            .with_context(|| format!("comment {} is not on {}", published.id, self.branch))?;
        if new.is_some() && Format::of(std::path::Path::new(&path)) != Some(Format::Yaml) {
            bail!("{path} is not a YAML file: it cannot be edited here");
        }
        if self.mode == Mode::Direct {
            let message = format!(
                "{} {} (by its author)",
                if new.is_some() { "Edit" } else { "Withdraw" },
                message(published).lines().next().unwrap_or_default()
            );
            let file = self.api.file(&self.branch, &path)?.with_context(|| {
                format!("comment {} left {} meanwhile", published.id, self.branch)
            })?;
            match new {
                Some(c) => self.api.update_file(
                    &self.branch,
                    &path,
                    c.to_yaml().as_bytes(),
                    &file.sha,
                    &message,
                )?,
                None => self
                    .api
                    .delete_file(&self.branch, &path, &file.sha, &message)?,
            }
            return Ok(None);
        }
        if self.api.branch(&head)?.is_none() {
            let tip = self.site_tip()?;
            self.api.create_branch(&head, &tip)?;
        }
        let what = if new.is_some() { "Edit" } else { "Withdrawal" };
        let title = format!(
            "{what} of the comment by {} on {} (asked by its author)",
            published.author.as_deref().unwrap_or("anonymous"),
            published.thread
        );
        let current = self.api.file(&head, &path)?;
        match (new, current) {
            (Some(c), Some(file)) => {
                self.api
                    .update_file(&head, &path, c.to_yaml().as_bytes(), &file.sha, &title)?
            }
            (Some(c), None) => {
                self.api
                    .create_file(&head, &path, c.to_yaml().as_bytes(), &title)?
            }
            (None, Some(file)) => self.api.delete_file(&head, &path, &file.sha, &title)?,
            (None, None) => {}
        }
        let body = match new {
            Some(c) => format!(
                "The author asks to change their published comment to this:\n\n{}",
                self.request_body(c)
            ),
            None => format!(
                "The author asks to remove their published comment:\n\n{}",
                self.request_body(published)
            ),
        };
        let request = self
            .api
            .open_request(&head, &self.branch, &title, &body, &self.labels)?;
        Ok(Some(request.url))
    }

    fn reconfigure(&self, config: &Config) {
        *self
            .owners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = config.comments.owners.clone();
    }

    fn closed(&self, branch: &str) -> Result<()> {
        if branch == self.batch_branch {
            self.settle_batch()?;
        } else if branch.starts_with(BRANCH_PREFIX) {
            self.api.delete_branch(branch)?;
        }
        Ok(())
    }

    fn reject(&self, id: Ulid) -> Result<Pending> {
        let (comment, path, request, ask) = self.find_pending(id)?;
        if request.head == self.batch_branch {
            let file = self
                .api
                .file(&self.batch_branch, &path)?
                .context("the comment left the batch branch meanwhile")?;
            self.api.delete_file(
                &self.batch_branch,
                &path,
                &file.sha,
                &format!("Rejected: {id}"),
            )?;
        } else {
            self.api.close(&request)?;
            self.api.delete_branch(&request.head)?;
        }
        Ok(Pending {
            comment,
            location: request.url,
            ask,
        })
    }
}

/// The body of a comment's pull request: its fields and the comment itself, quoted, so
/// the moderator decides without leaving the page. Mentions and issue references in
/// what a reader wrote are defused, so a comment cannot ping people or link issues. A
/// comment the page would mark as by one of `owners` says so.
pub fn request_body(c: &Comment, site_url: &str, owners: &[String]) -> String {
    let mut out = String::from("| | |\n| --- | --- |\n");
    let mut row = |name: &str, value: String| out += &format!("| {name} | {value} |\n");
    row(
        "Author",
        escape_inline(c.author.as_deref().unwrap_or("anonymous")),
    );
    if crate::config::is_owner(owners, c.avatar.as_deref()) {
        row(
            "Marked",
            "as the site's own (its avatar key is in `comments.owners`): merge it only if \
             one of you wrote it"
                .into(),
        );
    }
    if let Some(site) = &c.website {
        row("Website", format!("`{}`", site.replace('`', "'")));
    }
    let page = format!("{site_url}{}", c.thread);
    row(
        "Page",
        format!("[`{}`](<{page}>)", c.thread.replace('`', "")),
    );
    if let Some(parent) = c.parent {
        row("Reply to", format!("[`{parent}`](<{page}#c-{parent}>)"));
    }
    row("Date", c.date_string());
    row("Id", format!("`{}`", c.id));
    out += "\n";
    for line in c.body.lines() {
        out += "> ";
        out += &defuse(line);
        out += "\n";
    }
    out += "\nMerge this pull request to publish the comment; close it to reject it.\n";
    out
}

/// Backslash-escapes Markdown punctuation, for one line of text in a table cell.
fn escape_inline(text: &str) -> String {
    crate::render::markdown::escape_punctuation(&text.replace(['\n', '\r'], " "))
}

/// Keeps `@name` and `#123` from becoming mentions and issue links.
fn defuse(line: &str) -> String {
    line.replace('@', "@\u{2060}").replace('#', "#\u{2060}")
}

/// Retries of one API request after a server error or a timeout.
const TRIES: u32 = 4;
/// The longest cairn waits in place for a rate limit to lift; longer limits fail the
/// attempt, and the worker's backoff retries it later.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The file in a contents answer: base64 `content` (line breaks allowed, as GitHub
/// sends it) and the version id in field `sha_field`.
pub fn decoded_file(
    reply: &Reply,
    sha_field: &str,
    path: &str,
    branch: &str,
) -> Result<File, DeliveryError> {
    use base64::Engine;
    let content = reply.body["content"]
        .as_str()
        .unwrap_or_default()
        .replace('\n', "");
    let content = base64::engine::general_purpose::STANDARD
        .decode(content)
        .map_err(|e| DeliveryError::Transient(format!("{path} on {branch}: bad base64 ({e})")))?;
    let sha = reply.body[sha_field]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(File { content, sha })
}

/// An API answer that was not a server error.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Nothing when the status is one of `ok`; else `what` failed, with the forge's
    /// message, a transient error.
    pub fn expect(&self, ok: &[u16], what: impl FnOnce() -> String) -> Result<(), DeliveryError> {
        if ok.contains(&self.status) {
            Ok(())
        } else {
            Err(transient(&what(), self))
        }
    }

    /// A lookup's answer: what `found` makes of it for a 200, nothing for a 404; any
    /// other status, `what` failed.
    pub fn lookup<T>(
        &self,
        found: impl FnOnce(&Reply) -> Result<T, DeliveryError>,
        what: impl FnOnce() -> String,
    ) -> Result<Option<T>, DeliveryError> {
        match self.status {
            200 => found(self).map(Some),
            404 => Ok(None),
            _ => Err(transient(&what(), self)),
        }
    }

    /// The answer to a call that makes a change the API refuses to make twice (create a
    /// branch or a file, remove a file): nothing when the status is one of `ok`, or one
    /// of `refused` while `done` finds the change made, by an earlier attempt whose
    /// answer was lost; else `what` failed, a transient error.
    pub fn settled(
        &self,
        ok: &[u16],
        refused: &[u16],
        done: impl FnOnce() -> Result<bool, DeliveryError>,
        what: impl FnOnce() -> String,
    ) -> Result<(), DeliveryError> {
        if ok.contains(&self.status) || (refused.contains(&self.status) && done()?) {
            Ok(())
        } else {
            Err(transient(&what(), self))
        }
    }

    /// A branch lookup's answer: the tip commit, found at `pointer` in the JSON, or
    /// nothing when there is no such branch.
    pub fn tip(&self, pointer: &str, branch: &str) -> Result<Option<String>, DeliveryError> {
        let tip = self.lookup(
            |reply| {
                Ok(reply
                    .body
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_string))
            },
            || format!("cannot look up branch {branch}"),
        )?;
        Ok(tip.flatten())
    }

    /// A merge's answer. A refused merge (a conflict, a protected branch, a check that
    /// failed) is for a person to look at: it is not retried.
    pub fn merged(&self, request: &Request) -> Result<(), DeliveryError> {
        match self.status {
            200 => Ok(()),
            _ => Err(DeliveryError::Permanent(format!(
                "cannot merge {}: {}",
                request.url,
                self.message()
            ))),
        }
    }

    /// The error message the forge gave, for reports.
    pub fn message(&self) -> String {
        let text = self.body["message"]
            .as_str()
            .or_else(|| self.body["error"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| self.body.to_string());
        format!("HTTP {}: {text}", self.status)
    }
}

/// The forge's HTTP API: JSON in and out, retries for server errors and timeouts,
/// and waits for rate limits (`Retry-After`, `X-RateLimit-Remaining`/`-Reset`,
/// `RateLimit-Remaining`/`-Reset`) instead of hammering. Once [stopped](Http::stop),
/// it neither retries nor waits: a request is sent once, so a stop waits for at most
/// one request's timeout, however the forge fares.
pub struct Http {
    client: std::sync::OnceLock<Client>,
    timeout: Duration,
    /// No request goes out before this instant (a rate limit is in force).
    blocked_until: std::sync::Mutex<Option<Instant>>,
    retry_base: Duration,
    stopping: std::sync::atomic::AtomicBool,
}

impl Http {
    pub fn new(timeout: Duration) -> Http {
        Http {
            client: std::sync::OnceLock::new(),
            timeout,
            blocked_until: std::sync::Mutex::new(None),
            retry_base: Duration::from_millis(250),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The inbox stops: from now on, no request is repeated and no limit waited out.
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits before try `attempt + 2`, unless the inbox stops.
    fn back_off(&self, attempt: u32) {
        if !self.stopping() {
            std::thread::sleep(self.retry_base * 2u32.pow(attempt));
        }
    }

    fn client(&self) -> Result<&Client, DeliveryError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let client = Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliveryError::Permanent(format!("cannot start an HTTP client: {e}")))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// Sends one request with the headers `auth` gives, retrying what is worth it.
    pub fn call(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<&Value>,
    ) -> Result<Reply, DeliveryError> {
        let mut last = String::new();
        for attempt in 0..TRIES {
            if attempt > 0 && self.stopping() {
                last.push_str(" (not tried again: the inbox stops)");
                break;
            }
            self.wait_for_limit()?;
            let mut request = self
                .client()?
                .request(method.clone(), url)
                .headers(headers.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = match request.send() {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{method} {url}: {}", error_chain(&e));
                    self.back_off(attempt);
                    continue;
                }
            };
            let status = response.status().as_u16();
            let limit = rate_limit(&response, status);
            let headers = response.headers().clone();
            let text = response.text().unwrap_or_default();
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if let Some(until) = limit.block_until {
                self.block(until);
            }
            if limit.limited {
                last = format!("{method} {url}: rate limited (HTTP {status})");
                continue;
            }
            if status >= 500 {
                last = format!("{method} {url}: HTTP {status}");
                self.back_off(attempt);
                continue;
            }
            return Ok(Reply {
                status,
                headers,
                body,
            });
        }
        Err(DeliveryError::Unavailable(last))
    }

    fn block(&self, until: Instant) {
        let mut blocked = self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        if blocked.is_none_or(|b| b < until) {
            *blocked = Some(until);
        }
    }

    fn wait_for_limit(&self) -> Result<(), DeliveryError> {
        let until = *self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        let Some(until) = until else { return Ok(()) };
        let wait = until.saturating_duration_since(Instant::now());
        if wait > MAX_WAIT || (!wait.is_zero() && self.stopping()) {
            return Err(DeliveryError::Unavailable(format!(
                "rate limited by the forge for another {} s",
                wait.as_secs()
            )));
        }
        if !wait.is_zero() {
            tracing::info!("rate limited by the forge: waiting {} ms", wait.as_millis());
            std::thread::sleep(wait);
        }
        Ok(())
    }
}

struct Limit {
    /// The request was refused for the rate limit and is worth repeating.
    limited: bool,
    /// When the next request may go out.
    block_until: Option<Instant>,
}

/// What an answer's rate-limit headers say, as GitHub, GitLab and Gitea send them.
pub struct Told {
    /// `Retry-After`.
    pub retry_after: Option<Duration>,
    /// Requests (or points) left: `X-RateLimit-Remaining` / `RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// How long until the limit resets: `X-RateLimit-Reset` / `RateLimit-Reset`.
    pub reset: Option<Duration>,
}

impl Told {
    pub fn read(headers: &HeaderMap) -> Told {
        let header = |names: &[&str]| {
            names.iter().find_map(|n| {
                headers
                    .get(*n)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
        };
        Told {
            retry_after: header(&["retry-after"]).map(Duration::from_secs),
            remaining: header(&["x-ratelimit-remaining", "ratelimit-remaining"]),
            reset: header(&["x-ratelimit-reset", "ratelimit-reset"]).map(|epoch| {
                let now = chrono::Utc::now().timestamp().max(0) as u64;
                Duration::from_secs(epoch.saturating_sub(now))
            }),
        }
    }
}

/// Whether an answer was refused for a rate limit, and until when to wait.
fn rate_limit(response: &Response, status: u16) -> Limit {
    let Told {
        retry_after,
        remaining,
        reset,
    } = Told::read(response.headers());
    let exhausted = remaining == Some(0);
    let limited = status == 429 || (status == 403 && (exhausted || retry_after.is_some()));
    let wait = match (retry_after, exhausted, limited) {
        (Some(after), _, _) => Some(after),
        (None, true, _) => Some(reset.unwrap_or(Duration::from_secs(60))),
        // A secondary limit without headers: GitHub asks for at least a minute.
        (None, false, true) => Some(Duration::from_secs(60)),
        (None, false, false) => None,
    };
    Limit {
        limited,
        block_until: wait.map(|w| Instant::now() + w),
    }
}

/// An error with its causes, e.g. "error sending request: operation timed out".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text += &format!(": {s}");
        source = s.source();
    }
    text
}

/// The forge token: `CAIRN_FORGE_TOKEN`, else the file `inbox.delivery.token_file`.
pub fn token(config: &Config, forge: &str) -> Result<String> {
    secret_from(
        "CAIRN_FORGE_TOKEN",
        config
            .inbox
            .delivery
            .token_file
            .as_ref()
            .map(|f| config.root.join(f))
            .as_deref(),
        &format!("the {forge} token"),
    )
}

/// `inbox.delivery.repo`, checked to be `owner/name` (GitLab: `group/sub/name` too).
pub fn repo(config: &Config, nested: bool) -> Result<String> {
    let repo = config
        .inbox
        .delivery
        .repo
        .clone()
        .context("inbox.delivery.repo is not set: name the site's repository as owner/name")?;
    let parts: Vec<&str> = repo.split('/').collect();
    let shape_ok =
        parts.iter().all(|p| !p.is_empty()) && (parts.len() == 2 || (nested && parts.len() > 2));
    if !shape_ok {
        bail!("inbox.delivery.repo = {repo:?}: expected owner/name");
    }
    Ok(repo)
}

/// A secret from an environment variable, else from the file the config names.
pub fn secret_from(var: &str, file: Option<&std::path::Path>, what: &str) -> Result<String> {
    if let Ok(v) = std::env::var(var) {
        if !v.trim().is_empty() {
            return Ok(v.trim().to_string());
        }
    }
    let Some(file) = file else {
        bail!("{what}: set {var} or name a file holding it in the config");
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{what}: cannot read {}", file.display()))?;
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(anyhow!("{what}: {} is empty", file.display()));
    }
    Ok(text)
}

/// Every page of a list: `get` fetches one page (a path or the absolute URL of a
/// `Link: <…>; rel="next"` header, which GitHub, Gitea and GitLab all send).
pub fn all_pages(
    first: &str,
    get: impl FnMut(&str) -> Result<Reply, DeliveryError>,
) -> Result<Vec<Value>, DeliveryError> {
    let mut items = Vec::new();
    find_in_pages(first, get, |item| {
        items.push(item);
        None::<()>
    })?;
    Ok(items)
}

/// The first item of a list that `pick` takes, fetching pages only until then.
pub fn find_in_pages<T>(
    first: &str,
    mut get: impl FnMut(&str) -> Result<Reply, DeliveryError>,
    mut pick: impl FnMut(Value) -> Option<T>,
) -> Result<Option<T>, DeliveryError> {
    let mut next = Some(first.to_string());
    while let Some(page) = next.take() {
        let reply = get(&page)?;
        reply.expect(&[200], || format!("cannot list {first}"))?;
        next = reply
            .headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        if let Value::Array(list) = reply.body {
            if let Some(found) = list.into_iter().find_map(&mut pick) {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

pub fn transient(what: &str, reply: &Reply) -> DeliveryError {
    DeliveryError::Transient(format!("{what}: {}", reply.message()))
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// What stays as it is in a URL component: letters, digits and `-._~`.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The URL of an API call: `path` below `root`, or `path` itself when it is a URL
/// already (a next page, from a `Link` header).
pub fn url(root: &str, path: &str) -> String {
    if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{root}/{path}")
    }
}

/// Percent-encodes a query value or one path segment.
pub fn enc(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, UNRESERVED).to_string()
}

/// Percent-encodes each segment of a path, keeping the slashes.
pub fn enc_path(path: &str) -> String {
    path.split('/').map(enc).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let link = r#"<https://api.github.com/repos/o/r/pulls?page=3>; rel="last", <https://api.github.com/repos/o/r/pulls?page=2>; rel="next""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repos/o/r/pulls?page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn a_request_for_a_comment_marked_as_the_sites_own_says_so() {
        let c = Comment::parse(
            "id: 01KB00000000000000000000AA\nthread: /a/\ndate: 2026-01-01T00:00:00Z\n\
             author: Ann\navatar: 0123456789abcdef\nbody: Hi @bob\n",
            crate::comment::Format::Yaml,
        )
        .unwrap();
        let site = "https://blog.example.org";
        let plain = request_body(&c, site, &["fedcba9876543210".into()]);
        assert!(plain.starts_with("| | |\n| --- | --- |\n| Author | Ann |\n| Page |"));
        assert!(!plain.contains("Marked"));
        let marked = request_body(&c, site, &["0123456789abcdef".into()]);
        assert!(marked.starts_with(
            "| | |\n| --- | --- |\n| Author | Ann |\n| Marked | as the site's own (its avatar \
             key is in `comments.owners`): merge it only if one of you wrote it |\n| Page |"
        ));
    }

    #[test]
    fn paths_keep_slashes_and_encode_the_rest() {
        assert_eq!(
            enc_path("comments/posts/a b/01J.yml"),
            "comments/posts/a%20b/01J.yml"
        );
    }
}
