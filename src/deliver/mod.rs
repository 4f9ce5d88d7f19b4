//! Delivery backends: what an accepted comment becomes (a branch, a commit on a
//! rolling branch, or a commit on the site branch; on a forge, with a pull request) and
//! how a moderator approves or rejects it. The inbox's worker and `cairn moderate` talk
//! to one [`Backend`]: [`git`] for any git remote, [`forge`] over [`github`], [`gitlab`]
//! or [`gitea`].
//!
//! Delivery is idempotent: everything a comment becomes is named by its id, so
//! delivering it again after a crash or a retry finds it there and adds nothing.

mod contents;
pub mod forge;
pub mod git;
pub mod gitea;
pub mod github;
pub mod gitlab;

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use ulid::Ulid;

use crate::comment::Comment;
use crate::config::{Backend as Kind, Config};

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later: the remote is unreachable, a push race was lost, ...
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: the comment must be looked at by a person.
    #[error("{0}")]
    Permanent(String),
    /// The remote itself is not answering (no connection, a timeout, server errors or
    /// a rate limit, after the retries in place): worth retrying later, like
    /// [`DeliveryError::Transient`], and no use trying the next comments now. The
    /// forge backends, which make calls of their own for each comment, stop a batch at
    /// the first; the git backend fetches once for a whole batch, and fails it whole
    /// when that fetch fails. A comment parked after such failures is queued again once
    /// the remote answers.
    #[error("{0}")]
    Unavailable(String),
}

/// A comment waiting for a moderator's decision.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The comment as approving it would leave it (as it is now, for a withdrawal).
    pub comment: Comment,
    /// Where it waits: a branch, a pull request.
    pub location: String,
    pub ask: Ask,
}

/// What approving a pending item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Publishes a new comment.
    Publish,
    /// Replaces a published comment's text with the one its author sent; `was` is the
    /// published text.
    Edit { was: String },
    /// Takes a published comment down, as its author asked.
    Withdraw,
}

/// One way of delivering comments and moderating them.
pub trait Backend: Send + Sync {
    /// Delivers comments, oldest first; one result per comment, in the same order.
    /// After [`Backend::stop`], the results may stop short: the comments past them
    /// were not tried.
    fn deliver(&self, comments: &[Comment]) -> Vec<Result<(), DeliveryError>>;
    /// The inbox is stopping: a backend that delivers comment by comment finishes the
    /// one in hand and leaves the rest of its batch untried, so stopping waits for one
    /// comment's calls, not a hundred's. (The git backend pushes a batch at once.)
    fn stop(&self) {}
    /// Whether comment `id` of `thread` is published or waiting for moderation.
    fn exists(&self, thread: &str, id: Ulid) -> Result<bool>;
    /// Whether comment `id` of `thread` is on the site branch now (looked up afresh).
    fn published(&self, thread: &str, id: Ulid) -> Result<bool>;
    /// Comments waiting for moderation, oldest first.
    fn pending(&self) -> Result<Vec<Pending>>;
    /// Publishes a pending comment.
    fn approve(&self, id: Ulid) -> Result<Pending>;
    /// Discards a pending comment.
    fn reject(&self, id: Ulid) -> Result<Pending>;
    /// Replaces a pending comment with a new version of it (same id): `None`. When
    /// the comment was published meanwhile (its request merged while the new version
    /// was on its way), the new version is asked for as a change, as [`Self::propose`]
    /// does, and where that waits is returned.
    fn revise(&self, comment: &Comment) -> Result<Option<String>>;
    /// Replaces a published comment with `new`, or removes it (`None`), as its author
    /// asked. With moderation (review and batch mode) this is a request to the
    /// moderator on branch `cairn/change-<id>`, and where it waits is returned; in
    /// direct mode the change is committed to the site branch at once (`None`).
    fn propose(&self, published: &Comment, new: Option<&Comment>) -> Result<Option<String>>;
    /// Where a delivered comment waits, for a person: a branch, a pull request's URL.
    fn location(&self, comment: &Comment) -> Result<String>;
    /// The inbox reloaded its config (SIGHUP): what of `config` a reload changes
    /// applies from the next delivery on. (A forge's requests name the site's own
    /// comments by `comments.owners`.)
    fn reconfigure(&self, config: &Config) {
        let _ = config;
    }
    /// A moderator merged or closed the request for `branch` on the forge: clean up
    /// what is left of it.
    fn closed(&self, branch: &str) -> Result<()> {
        let _ = branch;
        Ok(())
    }
    /// Deletes the requests the site branch already has everything of, taken in
    /// without `cairn moderate` (a `cairn/<id>` branch merged by hand, squashed or
    /// rebased); returns the branches deleted. The forge backends delete a request's
    /// branch when the forge tells them it was merged or closed ([`Backend::closed`]).
    fn sweep(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// The backend the config chooses. `workdir` is where it may keep state (the git
/// backend's mirror of the site repository).
pub fn open(config: &Config, workdir: &Path) -> Result<Arc<dyn Backend>> {
    match config.inbox.delivery.backend {
        Kind::Git => Ok(Arc::new(git::Git::open(config, workdir)?)),
        Kind::Github => Ok(Arc::new(forge::Forge::new(
            config,
            github::GitHub::new(config)?,
        )?)),
        Kind::Gitea => Ok(Arc::new(forge::Forge::new(
            config,
            gitea::Gitea::new(config)?,
        )?)),
        Kind::Gitlab => Ok(Arc::new(forge::Forge::new(
            config,
            gitlab::GitLab::new(config)?,
        )?)),
    }
}

/// Prefix of the branches cairn creates.
pub const BRANCH_PREFIX: &str = "cairn/";
/// After [`BRANCH_PREFIX`]: a branch that changes a published comment.
pub const CHANGE_PREFIX: &str = "change-";

/// The comments directory inside the repository, with `/` separators.
pub fn comments_dir(config: &Config) -> String {
    config
        .comments
        .dir
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The path inside the repository of comment `id` of `thread`, in a file ending `ext`.
pub fn file_path(comments_dir: &str, thread: &str, id: Ulid, ext: &str) -> String {
    [
        comments_dir,
        crate::thread::dir(thread),
        &format!("{id}.{ext}"),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join("/")
}

/// The commit message for a delivered comment; the id line lets anyone find it again.
pub fn message(c: &Comment) -> String {
    let author = c.author.as_deref().unwrap_or("anonymous");
    format!(
        "Comment by {author} on {}\n\ncairn-id: {}\n",
        c.thread, c.id
    )
}

/// "No pending comment" as every backend (and `cairn moderate`) says it.
pub fn unknown(id: Ulid) -> anyhow::Error {
    anyhow::anyhow!("no pending comment with id {id} (see `cairn moderate list`)")
}
