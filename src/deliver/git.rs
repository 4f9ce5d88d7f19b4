//! The `git` backend: delivers to any remote git can push to (a local bare repository,
//! `file://`, ssh or https) through a bare mirror it keeps of the site repository.
//!
//! - `review`: branch `cairn/<id>` off the site branch, one commit adding the file.
//!   Approve merges it into the site branch and deletes it; reject deletes it.
//! - `batch`: one commit per comment on a rolling branch (`delivery.batch_branch`).
//!   Approve copies one comment onto the site branch; merging the branch approves all.
//! - `direct`: one commit per comment on the site branch; nothing to moderate.
//!
//! Every push is a fast-forward. When another replica pushed first the push is
//! rejected, and the work is redone on top of what it pushed: races are retried,
//! never lost, and never overwrite anything.
//!
//! A remote reached over the network goes through libgit2's transports. A repository
//! on this machine is read and written directly: objects are copied as one pack, and
//! each branch is swapped under its ref's lock.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use git2::{
    build::TreeUpdateBuilder, Binding, Commit, Cred, CredentialType, FetchOptions, FetchPrune,
    FileMode, Oid, PushOptions, RemoteCallbacks, Repository, Signature, Tree,
};
use ulid::Ulid;

use super::{
    comments_dir, file_path, message, unknown, Ask, Backend, DeliveryError, Pending, BRANCH_PREFIX,
    CHANGE_PREFIX,
};
use crate::comment::{Comment, Format};
use crate::config::{Config, Mode};

/// How often a lost push race is redone before the attempt counts as failed.
const PUSH_TRIES: u32 = 8;
/// A missed parent lookup fetches again at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(5);
/// Most commits of the site branch read to learn which comments it has taken in (see
/// [`Git::taken_since`]).
const SITE_HISTORY_READ: usize = 10_000;

pub struct Git {
    remote: String,
    branch: String,
    batch_branch: String,
    mode: Mode,
    /// The comments directory inside the repository, with `/` separators.
    comments_dir: String,
    committer: (String, String),
    mirror: PathBuf,
    /// Held while the mirror's refs are being changed (fetch, commit, push).
    lock: Mutex<Option<Instant>>,
}

impl Git {
    /// Opens (creating if needed) the mirror in `workdir/repo.git`.
    pub fn open(config: &Config, workdir: &Path) -> Result<Git> {
        let delivery = &config.inbox.delivery;
        let remote = remote(config)?;
        let comments_dir = comments_dir(config);
        let mirror = workdir.join("repo.git");
        open_mirror(&mirror, &remote)?;
        Ok(Git {
            remote,
            branch: delivery.branch.clone(),
            batch_branch: delivery.batch_branch.clone(),
            mode: delivery.mode,
            comments_dir,
            committer: (
                delivery.committer_name.clone(),
                delivery.committer_email.clone(),
            ),
            mirror,
            lock: Mutex::new(None),
        })
    }

    /// Passes `result` on. When it failed because the mirror lacks an object its
    /// references reach (a damaged copy), the mirror is removed and made anew first, so
    /// the next attempt copies the repository again instead of failing the same way
    /// for good: the mirror holds nothing the remote does not.
    fn renewed<T>(&self, result: Result<T>) -> Result<T> {
        let Err(e) = result else {
            return result;
        };
        if !lacks_object(&e) {
            return Err(e);
        }
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        *last = None;
        let renewed = std::fs::remove_dir_all(&self.mirror)
            .map_err(anyhow::Error::from)
            .and_then(|()| open_mirror(&self.mirror, &self.remote));
        let mirror = self.mirror.display();
        let said = match renewed {
            Ok(()) => format!(
                "the copy of the repository in {mirror} lacked objects: it was removed, and \
                 the next attempt copies the repository again"
            ),
            Err(r) => format!(
                "the copy of the repository in {mirror} lacks objects, and cannot be \
                 removed ({r:#}): remove it by hand"
            ),
        };
        tracing::warn!("{said}");
        Err(e.context(said))
    }

    fn repo(&self) -> Result<Repository> {
        Repository::open_bare(&self.mirror)
            .with_context(|| format!("cannot open {}", self.mirror.display()))
    }

    /// The path of a comment's file inside the repository.
    fn path_of(&self, comment: &Comment) -> String {
        self.path_in(&comment.thread, comment.id, "yml")
    }

    fn path_in(&self, thread: &str, id: Ulid, ext: &str) -> String {
        file_path(&self.comments_dir, thread, id, ext)
    }

    /// The path of comment `id`'s file in `tree`, in whichever format it is.
    fn file_in(&self, tree: &Tree<'_>, thread: &str, id: Ulid) -> Option<String> {
        crate::comment::EXTENSIONS
            .iter()
            .map(|ext| self.path_in(thread, id, ext))
            .find(|p| has_path(tree, p))
    }

    /// Brings the mirror's view of the site branch and cairn's branches up to date.
    fn fetch(&self, repo: &Repository, last: &mut Option<Instant>) -> Result<()> {
        self.fetch_only(repo, last, None)
    }

    /// Like [`Git::fetch`], but of cairn's branches only those named, when `only` is
    /// given: a remote with thousands of pending branches need not list them all for
    /// every delivery.
    fn fetch_only(
        &self,
        repo: &Repository,
        last: &mut Option<Instant>,
        only: Option<&[String]>,
    ) -> Result<()> {
        if let Some(path) = self.local_path() {
            self.fetch_local(repo, path, only)
                .context(Unreachable(self.remote.clone()))?;
            *last = Some(Instant::now());
            tidy(repo);
            return Ok(());
        }
        let mut remote = repo.find_remote("origin")?;
        let seen = HostKeySeen::default();
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(self.over_ssh().then_some(&seen)));
        options.prune(FetchPrune::On);
        let mut refspecs = vec![format!(
            "+refs/heads/{0}:refs/remotes/origin/{0}",
            self.branch
        )];
        match only {
            None => refspecs.push(format!(
                "+refs/heads/{BRANCH_PREFIX}*:refs/remotes/origin/{BRANCH_PREFIX}*"
            )),
            Some(branches) => refspecs.extend(
                branches
                    .iter()
                    .map(|b| format!("+refs/heads/{b}:refs/remotes/origin/{b}")),
            ),
        }
        remote
            .fetch(&refspecs, Some(&mut options), None)
            .map_err(|e| self.network_error(e, Unreachable(self.remote.clone()), &seen))?;
        *last = Some(Instant::now());
        tidy(repo);
        Ok(())
    }

    /// The error of a fetch or push over the network, `failed` saying which; when the
    /// remote was not trusted (its ssh host key or TLS certificate), it says what to
    /// check and where.
    fn network_error(
        &self,
        e: git2::Error,
        failed: impl std::fmt::Display + Send + Sync + 'static,
        seen: &HostKeySeen,
    ) -> anyhow::Error {
        if e.code() != git2::ErrorCode::Certificate {
            return anyhow::Error::new(e).context(failed);
        }
        let hint = if e.class() == git2::ErrorClass::Ssh {
            untrusted_host_key(&self.remote, seen.0.borrow().as_deref())
        } else {
            "its TLS certificate is not trusted: cairn trusts the system's certificates, or \
             those in SSL_CERT_FILE / SSL_CERT_DIR"
                .to_string()
        };
        anyhow::Error::new(e).context(hint).context(failed)
    }

    /// Pushes branch updates; returns the branches the remote refused, with its reason.
    /// Every update is a compare-and-swap on the branch's old value: a server refuses a
    /// non-fast-forward atomically, a deletion that says where the branch must be is
    /// sent only while the server tells it is there (see [`Git::push_refspecs`]), and a
    /// remote on this machine is written directly (see [`Git::push_local`]).
    fn push(&self, repo: &Repository, updates: &[Update]) -> Result<Vec<(String, String)>> {
        let rejected = match self.local_path() {
            Some(path) => self.push_local(repo, path, updates)?,
            None => {
                // The branches found moved are left alone, and the rest pushed again.
                let mut moved = Vec::new();
                let mut left: Vec<&Update> = updates.iter().collect();
                loop {
                    match self.push_updates(repo, &left)? {
                        Pushed::Done(mut rejected) => {
                            rejected.append(&mut moved);
                            break rejected;
                        }
                        Pushed::Moved(branches) => {
                            left.retain(|u| !branches.contains(&u.branch));
                            moved.extend(branches.into_iter().map(|b| (b, MOVED.to_string())));
                        }
                    }
                }
            }
        };
        // The mirror's view of the remote follows what was pushed, even before a fetch.
        for update in updates {
            if rejected.iter().any(|(b, _)| *b == update.branch) {
                continue;
            }
            let tracking = format!("refs/remotes/origin/{}", update.branch);
            match update.new {
                Some(oid) => {
                    repo.reference(&tracking, oid, true, "cairn: pushed")?;
                }
                None => {
                    if let Ok(mut r) = repo.find_reference(&tracking) {
                        r.delete()?;
                    }
                }
            }
        }
        Ok(rejected)
    }

    /// The remote's path when it is a repository on this machine.
    fn local_path(&self) -> Option<&str> {
        if let Some(path) = self.remote.strip_prefix("file://") {
            Some(path)
        } else if is_path(&self.remote) {
            Some(&self.remote)
        } else {
            None
        }
    }

    /// Whether the remote is reached over ssh: `ssh://…`, or the short `[user@]host:path`.
    fn over_ssh(&self) -> bool {
        let remote = &self.remote;
        remote.starts_with("ssh://")
            || remote.starts_with("git+ssh://")
            || remote.starts_with("ssh+git://")
            || (!remote.contains("://") && self.local_path().is_none())
    }

    /// Pushes to a repository on this machine by writing to it: the objects it lacks go
    /// into its object store as one pack, then each branch is swapped under the ref's
    /// lock. libgit2's transport for a path would check and write a branch in two steps,
    /// and on every push list every ref and read the object each points to: a cost that
    /// grows with the branches waiting for review.
    fn push_local(
        &self,
        repo: &Repository,
        path: &str,
        updates: &[Update],
    ) -> Result<Vec<(String, String)>> {
        let target =
            Repository::open(path).with_context(|| format!("cannot open {}", self.remote))?;
        // What the remote is known to hold need not be sent: the branches' old tips, and
        // the mirror's view of its site and batch branches.
        let wants: Vec<Oid> = updates.iter().filter_map(|u| u.new).collect();
        let mut known: Vec<Oid> = updates.iter().filter_map(|u| u.old).collect();
        for branch in [&self.branch, &self.batch_branch] {
            if let Some(tip) = remote_commit(repo, branch)? {
                known.push(tip.id());
            }
        }
        copy_objects(repo, &target, &wants, &known)
            .with_context(|| format!("cannot push to {}", self.remote))?;
        let mut rejected = Vec::new();
        for update in updates {
            let branch = format!("refs/heads/{}", update.branch);
            // The expected old value is checked under the ref's lock; a zero id means
            // "must not exist yet" (plain create-if-missing is not atomic).
            let swapped = match update.new {
                Some(new) => target
                    .reference_matching(
                        &branch,
                        new,
                        true,
                        update.old.unwrap_or(Oid::ZERO_SHA1),
                        "cairn: push",
                    )
                    .map(drop),
                // Deleting checks, under the lock, that the branch is where it was found,
                // and where the update expects it (`old`), if it says.
                None => match target.find_reference(&branch) {
                    Ok(r) if update.old.is_some_and(|old| r.target() != Some(old)) => {
                        rejected.push((update.branch.clone(), MOVED.to_string()));
                        continue;
                    }
                    Ok(mut r) => r.delete(),
                    Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(()),
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = swapped {
                rejected.push((update.branch.clone(), e.message().to_string()));
            }
        }
        Ok(rejected)
    }

    /// Fetches from a repository on this machine, as [`Git::fetch_only`] with prune
    /// would: reads the branches, copies the objects the mirror lacks as one pack, and
    /// sets the mirror's tracking refs, removing those of branches gone from the remote.
    fn fetch_local(&self, repo: &Repository, path: &str, only: Option<&[String]>) -> Result<()> {
        let source = Repository::open(path)?;
        let tip = |branch: &str| match source.refname_to_id(&format!("refs/heads/{branch}")) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        let mut branches = vec![(self.branch.clone(), tip(&self.branch)?)];
        match only {
            Some(names) => {
                for name in names {
                    branches.push((name.clone(), tip(name)?));
                }
            }
            None => {
                let glob = format!("refs/heads/{BRANCH_PREFIX}*");
                for r in source.references_glob(&glob)? {
                    let r = r?;
                    if let (Ok(name), Some(oid)) = (r.name(), r.target()) {
                        let name = name.trim_start_matches("refs/heads/");
                        branches.push((name.to_string(), Some(oid)));
                    }
                }
                let glob = format!("refs/remotes/origin/{BRANCH_PREFIX}*");
                for r in repo.references_glob(&glob)? {
                    let r = r?;
                    let name = r.name().unwrap_or_default();
                    let name = name.trim_start_matches("refs/remotes/origin/");
                    if !branches.iter().any(|(b, _)| b == name) {
                        branches.push((name.to_string(), None));
                    }
                }
            }
        }
        let tracked = |branch: &str| {
            repo.refname_to_id(&format!("refs/remotes/origin/{branch}"))
                .ok()
        };
        // Each branch with its tip on the remote and the mirror's view of it.
        let branches: Vec<(String, Option<Oid>, Option<Oid>)> = branches
            .into_iter()
            .map(|(branch, oid)| {
                let now = tracked(&branch);
                (branch, oid, now)
            })
            .collect();
        let wants: Vec<Oid> = branches.iter().filter_map(|(_, oid, _)| *oid).collect();
        let known: Vec<Oid> = branches
            .iter()
            .filter_map(|(_, _, now)| *now)
            .chain(tracked(&self.batch_branch))
            .collect();
        copy_objects(&source, repo, &wants, &known)?;
        for (branch, oid, now) in branches {
            match oid {
                Some(oid) if now != Some(oid) => {
                    let tracking = format!("refs/remotes/origin/{branch}");
                    repo.reference(&tracking, oid, true, "cairn: fetch")?;
                }
                None if now.is_some() => {
                    let tracking = format!("refs/remotes/origin/{branch}");
                    repo.find_reference(&tracking)?.delete()?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Pushes branch updates over the network, unless a deletion's branch moved.
    ///
    /// A server refuses an update that does not fast-forward, but deletes a branch
    /// wherever it is. So before the upload, the value the server tells for each branch
    /// to delete is compared with where the update saw it (`old`), as `git push
    /// --force-with-lease` does, and the push is called off when one moved: an author's
    /// edit pushed since is never deleted with the branch. (The server itself checks
    /// that the values it told are unchanged when the commands arrive.) A branch
    /// already gone needs no deleting.
    fn push_updates(&self, repo: &Repository, updates: &[&Update]) -> Result<Pushed> {
        if updates.is_empty() {
            return Ok(Pushed::Done(Vec::new()));
        }
        let refspecs: Vec<String> = updates
            .iter()
            .map(|u| match u.new {
                Some(oid) => format!("{oid}:refs/heads/{}", u.branch),
                None => format!(":refs/heads/{}", u.branch),
            })
            .collect();
        let branch_of = |name: &str| name.trim_start_matches("refs/heads/").to_string();
        let mut remote = repo.find_remote("origin")?;
        let rejected = std::cell::RefCell::new(Vec::new());
        let moved = std::cell::RefCell::new(Vec::new());
        let seen = HostKeySeen::default();
        {
            let mut cb = callbacks(self.over_ssh().then_some(&seen));
            cb.push_update_reference(|name, status| {
                if let Some(status) = status {
                    rejected
                        .borrow_mut()
                        .push((branch_of(name), status.to_string()));
                }
                Ok(())
            });
            cb.push_negotiation(|sent| {
                for command in sent {
                    let branch = branch_of(&String::from_utf8_lossy(command.dst_refname_bytes()));
                    let expected = updates
                        .iter()
                        .find(|u| u.new.is_none() && u.branch == branch)
                        .and_then(|u| u.old);
                    let now = command.src();
                    if expected.is_some_and(|old| !now.is_zero() && now != old) {
                        moved.borrow_mut().push(branch);
                    }
                }
                match moved.borrow().is_empty() {
                    true => Ok(()),
                    false => Err(git2::Error::from_str(MOVED)),
                }
            });
            let mut options = PushOptions::new();
            options.remote_callbacks(cb);
            match remote.push(&refspecs, Some(&mut options)) {
                Ok(()) => {}
                Err(_) if !moved.borrow().is_empty() => return Ok(Pushed::Moved(moved.take())),
                Err(e) if e.code() == git2::ErrorCode::NotFastForward => {
                    return Ok(Pushed::Done(
                        updates
                            .iter()
                            .map(|u| (u.branch.clone(), e.message().to_string()))
                            .collect(),
                    ));
                }
                Err(e) => {
                    return Err(self.network_error(
                        e,
                        format!("cannot push to {}", self.remote),
                        &seen,
                    ))
                }
            }
        }
        Ok(Pushed::Done(rejected.into_inner()))
    }

    /// Moves `branch` on the remote from its current tip to what `make` builds on it
    /// (`make` gets the tip, `None` when the branch does not exist, and returns `None`
    /// when there is nothing to do). When another writer moved the branch first, the
    /// work is redone on top of theirs.
    fn advance(
        &self,
        repo: &Repository,
        last: &mut Option<Instant>,
        branch: &str,
        make: impl Fn(Option<&Commit<'_>>) -> Result<Option<Oid>>,
    ) -> Result<()> {
        for attempt in 0..PUSH_TRIES {
            if attempt > 0 {
                std::thread::sleep(backoff_jitter(attempt));
                let theirs: Vec<String> = (branch != self.branch)
                    .then(|| branch.to_string())
                    .into_iter()
                    .collect();
                self.fetch_only(repo, last, Some(&theirs))?;
            }
            let old = remote_commit(repo, branch)?;
            let Some(new) = make(old.as_ref())? else {
                return Ok(());
            };
            let update = Update {
                branch: branch.to_string(),
                new: Some(new),
                old: old.as_ref().map(Commit::id),
            };
            if self.push(repo, &[update])?.is_empty() {
                return Ok(());
            }
            tracing::info!(branch, "the remote branch moved; redoing on top of it");
        }
        bail!("{branch}: the remote kept moving; {PUSH_TRIES} pushes were refused")
    }

    fn site_tip<'r>(&self, repo: &'r Repository) -> Result<Commit<'r>> {
        remote_commit(repo, &self.branch)?
            .with_context(|| format!("the remote {} has no branch `{}`", self.remote, self.branch))
    }

    fn signature(&self) -> Result<Signature<'static>> {
        Ok(Signature::now(&self.committer.0, &self.committer.1)?)
    }

    /// A commit on `parent` that adds (or with `None`, removes) one file.
    fn commit_file(
        &self,
        repo: &Repository,
        parent: &Commit<'_>,
        path: &str,
        content: Option<&[u8]>,
        message: &str,
    ) -> Result<Oid> {
        let mut update = TreeUpdateBuilder::new();
        match content {
            Some(bytes) => update.upsert(path, repo.blob(bytes)?, FileMode::Blob),
            None => update.remove(path),
        };
        let tree = repo.find_tree(update.create_updated(repo, &parent.tree()?)?)?;
        let sig = self.signature()?;
        Ok(repo.commit(None, &sig, &sig, message, &tree, &[parent])?)
    }

    fn deliver_review(
        &self,
        repo: &Repository,
        comments: &[Comment],
    ) -> Result<Vec<Result<(), DeliveryError>>> {
        let site = self.site_tip(repo)?;
        let site_tree = site.tree()?;
        let mut results = vec![Ok(()); comments.len()];
        let mut pushes = Vec::new();
        let built = self.in_one_pack(|builder| {
            let site = builder.find_commit(site.id())?;
            for (i, c) in comments.iter().enumerate() {
                let path = self.path_of(c);
                let branch = format!("{BRANCH_PREFIX}{}", c.id);
                if has_path(&site_tree, &path) || remote_commit(repo, &branch)?.is_some() {
                    continue;
                }
                let yaml = c.to_yaml();
                let oid =
                    self.commit_file(builder, &site, &path, Some(yaml.as_bytes()), &message(c))?;
                pushes.push((i, branch, oid));
            }
            Ok(!pushes.is_empty())
        });
        if !built? {
            return Ok(results);
        }
        let updates: Vec<Update> = pushes
            .iter()
            .map(|(_, branch, oid)| Update {
                branch: branch.clone(),
                new: Some(*oid),
                old: None,
            })
            .collect();
        let rejected = self.push(repo, &updates)?;
        for (i, branch, _) in pushes {
            if let Some((_, why)) = rejected.iter().find(|(name, _)| *name == branch) {
                results[i] = Err(DeliveryError::Transient(format!(
                    "push of {branch} refused: {why}"
                )));
            }
        }
        Ok(results)
    }

    /// Appends comments to `target` (the batch branch, or the site branch in direct
    /// mode), redoing the work when another replica pushed first.
    fn deliver_onto(
        &self,
        repo: &Repository,
        comments: &[Comment],
        target: &str,
        last: &mut Option<Instant>,
    ) -> Result<()> {
        let site = self.site_tip(repo)?.id();
        self.advance(repo, last, target, |old| {
            let mut tip = None;
            self.in_one_pack(|builder| {
                // The site branch may have moved too (an approval): look at its tip now.
                let site = remote_commit(builder, &self.branch)?.map_or(site, |c| c.id());
                let site_commit = builder.find_commit(site)?;
                let site_tree = site_commit.tree()?;
                let base = match old {
                    Some(old) if target == self.batch_branch => {
                        self.batch_base(builder, old, &site_commit)?
                    }
                    Some(old) => old.id(),
                    None => site,
                };
                let mut head = builder.find_commit(base)?;
                for c in comments {
                    let path = self.path_of(c);
                    if has_path(&site_tree, &path) || has_path(&head.tree()?, &path) {
                        continue;
                    }
                    let yaml = c.to_yaml();
                    let oid = self.commit_file(
                        builder,
                        &head,
                        &path,
                        Some(yaml.as_bytes()),
                        &message(c),
                    )?;
                    head = builder.find_commit(oid)?;
                }
                tip = (head.id() != base).then_some(head.id());
                Ok(tip.is_some())
            })?;
            Ok(tip)
        })
    }

    /// Where the batch branch's next comments go: on its tip, unless the site branch
    /// took some of its comments otherwise than by merging it (a pull request squashed
    /// or rebased). Then the next ones go on a commit that joins the batch branch to the
    /// site branch, with the site's files and those of the batch's comments the site
    /// never had: the published ones are not offered for review again, nor brought back
    /// by the next merge once removed from the site (`cairn forget`). A batch branch
    /// merged into the site branch moves on to the site's tip. Both are fast-forwards.
    fn batch_base(&self, repo: &Repository, old: &Commit<'_>, site: &Commit<'_>) -> Result<Oid> {
        if old.id() == site.id() || repo.graph_descendant_of(site.id(), old.id())? {
            return Ok(site.id());
        }
        let Ok(fork) = repo.merge_base(old.id(), site.id()) else {
            return Ok(old.id());
        };
        // The files the batch branch adds, split by whether the site branch took them in.
        let taken = Git::taken_since(repo, site, fork)?;
        let added = added_files(repo, Some(&repo.find_commit(fork)?.tree()?), &old.tree()?)?;
        let (published, waiting): (Vec<_>, Vec<_>) = added
            .into_iter()
            .partition(|(path, _)| taken.contains(path));
        if published.is_empty() {
            return Ok(old.id());
        }
        let mut update = TreeUpdateBuilder::new();
        for (path, blob) in &waiting {
            update.upsert(path, *blob, FileMode::Blob);
        }
        let tree = repo.find_tree(update.create_updated(repo, &site.tree()?)?)?;
        let sig = self.signature()?;
        let message = format!(
            "Join {} to {}\n\n{} of its comments are on {} already.",
            self.batch_branch,
            self.branch,
            published.len(),
            self.branch
        );
        // libgit2 leaves out, without a word, parents looked up through another handle.
        let parents = [repo.find_commit(old.id())?, repo.find_commit(site.id())?];
        Ok(repo.commit(
            None,
            &sig,
            &sig,
            &message,
            &tree,
            &[&parents[0], &parents[1]],
        )?)
    }

    /// The files the site branch took in since `since` (one of its commits): those its
    /// commits after it added, by a merge, a squash or a rebase. A file taken in and
    /// erased later stays taken: a branch still holding it must not bring it back.
    /// At most [`SITE_HISTORY_READ`] commits are read.
    fn taken_since(repo: &Repository, site: &Commit<'_>, since: Oid) -> Result<HashSet<PathBuf>> {
        let mut walk = repo.revwalk()?;
        walk.push(site.id())?;
        walk.hide(since)?;
        let mut taken = HashSet::new();
        for oid in walk.take(SITE_HISTORY_READ) {
            let commit = repo.find_commit(oid?)?;
            let before = commit.parents().next().map(|p| p.tree()).transpose()?;
            let added = added_files(repo, before.as_ref(), &commit.tree()?)?;
            taken.extend(added.into_iter().map(|(path, _)| path));
        }
        Ok(taken)
    }

    /// Runs `build` on a handle of its own whose new objects are kept in memory, then
    /// stores them as one pack when `build` says it made any. Many commits at once
    /// would otherwise cost a loose file per object, more than the commits themselves.
    /// The pack holds just the objects the memory store took, which are those the
    /// repository lacked (writing an object it holds stores nothing): not what the new
    /// commits reach. libgit2's dump of the memory store adds each commit's whole tree,
    /// the whole site again; a pack of a walk from the new commits reads, for each of
    /// them, every directory of the site's comments.
    fn in_one_pack(&self, build: impl FnOnce(&Repository) -> Result<bool>) -> Result<bool> {
        let builder = self.repo()?;
        let odb = builder.odb()?;
        let kept_in_memory = odb.add_new_mempack_backend(1000)?;
        if !build(&builder)? {
            return Ok(false);
        }
        write_pack(&builder, &odb, |pack| {
            // SAFETY: both are live handles: the memory store, owned by `odb`, and the
            // pack being built; the call only reads the store's object ids.
            let rc = unsafe {
                git_mempack_write_thin_pack(kept_in_memory.raw().cast(), pack.raw().cast())
            };
            if rc < 0 {
                return Err(git2::Error::last_error(rc));
            }
            Ok(())
        })?;
        Ok(true)
    }

    /// The comment files a branch adds (and, with `changes`, edits or removes) against
    /// `base`, with their paths; a removed file is read from `base`.
    fn comment_on(
        &self,
        repo: &Repository,
        tip: &Commit<'_>,
        base: &Tree<'_>,
        id: Option<Ulid>,
        changes: bool,
    ) -> Result<Vec<(String, Comment, Ask)>> {
        let tree = tip.tree()?;
        let diff = repo.diff_tree_to_tree(Some(base), Some(&tree), None)?;
        let mut found = Vec::new();
        for delta in diff.deltas() {
            let (file, ask) = match delta.status() {
                git2::Delta::Added => (delta.new_file(), Ask::Publish),
                git2::Delta::Modified if changes => {
                    let was = repo.find_blob(delta.old_file().id())?;
                    let was = String::from_utf8_lossy(was.content());
                    let was = delta
                        .old_file()
                        .path()
                        .and_then(Format::of)
                        .and_then(|format| Comment::parse(&was, format).ok())
                        .map(|c| c.body)
                        .unwrap_or_default();
                    (delta.new_file(), Ask::Edit { was })
                }
                git2::Delta::Deleted if changes => (delta.old_file(), Ask::Withdraw),
                _ => continue,
            };
            let Some(path) = file.path() else {
                continue;
            };
            let Some(format) = Format::of(path) else {
                continue;
            };
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if id.is_some_and(|id| id.to_string() != stem) {
                continue;
            }
            let blob = repo.find_blob(file.id())?;
            let text = String::from_utf8_lossy(blob.content());
            let shown = path.to_string_lossy().into_owned();
            let comment = Comment::parse(&text, format).map_err(|e| anyhow!("{shown}: {e}"))?;
            found.push((shown, comment, ask));
        }
        Ok(found)
    }

    /// cairn's branches on the remote as the mirror last saw them (`cairn/<id>`,
    /// `cairn/change-<id>` and the batch branch), with the site branch and the files it
    /// took in since the oldest of them forked from it.
    fn branches<'r>(&self, repo: &'r Repository) -> Result<Branches<'r>> {
        let site = self.site_tip(repo)?;
        let mut list = Vec::new();
        for reference in repo.references_glob(&format!("refs/remotes/origin/{BRANCH_PREFIX}*"))? {
            let reference = reference?;
            let Ok(name) = reference.name() else { continue };
            let name = name.trim_start_matches("refs/remotes/origin/").to_string();
            let own = name.strip_prefix(BRANCH_PREFIX).unwrap_or_default();
            let (id, changes) = if let Ok(id) = own.parse::<Ulid>() {
                (Some(id), false)
            } else if let Some(Ok(id)) = own.strip_prefix(CHANGE_PREFIX).map(str::parse::<Ulid>) {
                (Some(id), true)
            } else if name == self.batch_branch {
                (None, false)
            } else {
                continue;
            };
            let tip = reference.peel_to_commit()?;
            let fork = repo.merge_base(tip.id(), site.id()).ok();
            list.push(Branch {
                name,
                tip,
                id,
                changes,
                fork,
            });
        }
        // A comment the site took in (a request squashed into it) and erased since is
        // not offered again.
        let forks: Vec<Oid> = list.iter().filter_map(|b| b.fork).collect();
        let taken = match forks.len() {
            0 => HashSet::new(),
            1 => Git::taken_since(repo, &site, forks[0])?,
            _ => Git::taken_since(repo, &site, repo.merge_base_many(&forks)?)?,
        };
        Ok(Branches { site, list, taken })
    }

    /// Every pending comment (its location is the branch it waits on) and its path in
    /// the repo. Besides new comments, authors' proposed changes to published ones
    /// (`cairn/change-<id>`).
    fn pending_in(&self, repo: &Repository) -> Result<Vec<(Pending, String)>> {
        let Branches { site, list, taken } = self.branches(repo)?;
        let site_tree = site.tree()?;
        let mut pending = Vec::new();
        for branch in list {
            let found =
                self.comment_on(repo, &branch.tip, &site_tree, branch.id, branch.changes)?;
            for (path, comment, ask) in found {
                if matches!(ask, Ask::Publish) && taken.contains(Path::new(&path)) {
                    continue;
                }
                pending.push((
                    Pending {
                        comment,
                        location: branch.name.clone(),
                        ask,
                    },
                    path,
                ));
            }
        }
        pending.sort_by_key(|(p, _)| p.comment.id);
        Ok(pending)
    }

    fn find_pending(&self, repo: &Repository, id: Ulid) -> Result<(Pending, String)> {
        self.pending_in(repo)?
            .into_iter()
            .find(|(p, _)| p.comment.id == id)
            .ok_or_else(|| unknown(id))
    }

    /// Moves the site branch to what `make` builds on its tip.
    fn update_site(
        &self,
        repo: &Repository,
        last: &mut Option<Instant>,
        make: impl Fn(&Commit<'_>) -> Result<Oid>,
    ) -> Result<()> {
        self.advance(repo, last, &self.branch, |tip| {
            let tip = tip.with_context(|| format!("the remote has no branch `{}`", self.branch))?;
            make(tip).map(Some)
        })
    }

    /// Removes one comment's file from the batch branch.
    fn drop_from_batch(
        &self,
        repo: &Repository,
        last: &mut Option<Instant>,
        path: &str,
        message: &str,
    ) -> Result<()> {
        self.advance(repo, last, &self.batch_branch, |tip| match tip {
            Some(tip) if has_path(&tip.tree()?, path) => {
                self.commit_file(repo, tip, path, None, message).map(Some)
            }
            _ => Ok(None),
        })
    }

    /// Deletes `branch` from the remote if it is still at `tip`: `false` when it moved
    /// (it is kept), an error when the remote refused.
    fn delete_branch(&self, repo: &Repository, branch: &str, tip: Oid) -> Result<bool> {
        let update = Update {
            branch: branch.to_string(),
            new: None,
            old: Some(tip),
        };
        match self.push(repo, &[update])?.first() {
            None => Ok(true),
            Some((_, why)) if why == MOVED => Ok(false),
            Some((_, why)) => bail!("cannot delete branch {branch}: {why}"),
        }
    }
}

/// cairn's branches on the remote, as [`Git::branches`] lists them.
struct Branches<'r> {
    /// The site branch's tip.
    site: Commit<'r>,
    list: Vec<Branch<'r>>,
    /// The files the site branch took in since the oldest branch forked from it.
    taken: HashSet<PathBuf>,
}

struct Branch<'r> {
    name: String,
    tip: Commit<'r>,
    /// The comment it is named by; `None` for the batch branch.
    id: Option<Ulid>,
    /// Whether it changes a published comment (`cairn/change-<id>`).
    changes: bool,
    /// Where it forked from the site branch; `None` when their histories never meet.
    fork: Option<Oid>,
}

impl Branch<'_> {
    /// Whether the site branch has everything this review branch brings: it was merged
    /// (its tip is in the site's history), or squashed or rebased, so that each file it
    /// changed since its fork is on the site as on the branch, or was taken in by the
    /// site and erased or edited since. Deleting such a branch loses nothing.
    fn left_behind(
        &self,
        repo: &Repository,
        site: &Tree<'_>,
        taken: &HashSet<PathBuf>,
    ) -> Result<bool> {
        let Some(fork) = self.fork else {
            return Ok(false);
        };
        let base = repo.find_commit(fork)?.tree()?;
        let diff = repo.diff_tree_to_tree(Some(&base), Some(&self.tip.tree()?), None)?;
        for delta in diff.deltas() {
            let Some(path) = delta.new_file().path().or_else(|| delta.old_file().path()) else {
                return Ok(false);
            };
            let on_site = site.get_path(path).ok().map(|entry| entry.id());
            let on_branch = (delta.status() != git2::Delta::Deleted).then(|| delta.new_file().id());
            let taken_in = delta.status() == git2::Delta::Added && taken.contains(path);
            if on_site != on_branch && !taken_in {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Why a branch was not changed: it is no longer where the update saw it.
const MOVED: &str = "the branch moved";

/// How many times approving or rejecting a comment follows its branch when an
/// author's edits keep moving it.
const MERGES: usize = 5;

/// What a push over the network came to.
enum Pushed {
    /// It was made: the branches the remote refused, with its reason.
    Done(Vec<(String, String)>),
    /// It was called off: these branches to delete are no longer where their updates
    /// saw them.
    Moved(Vec<String>),
}

/// One branch to change on the remote: to `new` (or deleted), if it is still at `old`
/// (`None`: if it does not exist yet; for a deletion, wherever it is).
struct Update {
    branch: String,
    new: Option<Oid>,
    old: Option<Oid>,
}

/// The backend's work on the mirror. [`Backend`] for [`Git`] calls each, and renews a
/// mirror found damaged ([`Git::renewed`]).
impl Git {
    fn deliver_on_mirror(&self, comments: &[Comment]) -> Result<Vec<Result<(), DeliveryError>>> {
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.repo().and_then(|repo| {
            let branches: Vec<String> = match self.mode {
                Mode::Review => comments
                    .iter()
                    .map(|c| format!("{BRANCH_PREFIX}{}", c.id))
                    .collect(),
                Mode::Batch => vec![self.batch_branch.clone()],
                Mode::Direct => Vec::new(),
            };
            self.fetch_only(&repo, &mut last, Some(&branches))?;
            match self.mode {
                Mode::Review => self.deliver_review(&repo, comments),
                Mode::Batch => self
                    .deliver_onto(&repo, comments, &self.batch_branch, &mut last)
                    .map(|()| vec![Ok(()); comments.len()]),
                Mode::Direct => self
                    .deliver_onto(&repo, comments, &self.branch, &mut last)
                    .map(|()| vec![Ok(()); comments.len()]),
            }
        })
    }

    fn exists_on_mirror(&self, thread: &str, id: Ulid) -> Result<bool> {
        let repo = self.repo()?;
        let own = format!("{BRANCH_PREFIX}{id}");
        let on = |repo: &Repository, branches: &[&str]| -> Result<bool> {
            for branch in branches {
                if let Some(tip) = remote_commit(repo, branch)? {
                    if self.file_in(&tip.tree()?, thread, id).is_some() {
                        return Ok(true);
                    }
                }
            }
            Ok(false)
        };
        let all = [
            self.branch.as_str(),
            self.batch_branch.as_str(),
            own.as_str(),
        ];
        if on(&repo, &all[..1])? {
            return Ok(true);
        }
        // Pending as the mirror saw it last, or published, rejected or taken off the
        // batch since: look again, at most every few seconds. While the remote cannot
        // be reached, the mirror's view stands.
        let pending = on(&repo, &all[1..])?;
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < REFETCH_AFTER) {
            return Ok(pending);
        }
        let branches = [self.batch_branch.clone(), own.clone()];
        match self.fetch_only(&repo, &mut last, Some(&branches)) {
            Ok(()) => on(&repo, &all),
            Err(e) if pending => {
                tracing::warn!("cannot look again for comment {id}, taken as pending: {e:#}");
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    fn published_on_mirror(&self, thread: &str, id: Ulid) -> Result<bool> {
        let repo = self.repo()?;
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.fetch_only(&repo, &mut last, Some(&[]))?;
        let Some(site) = remote_commit(&repo, &self.branch)? else {
            return Ok(false);
        };
        let tree = site.tree()?;
        Ok(self.file_in(&tree, thread, id).is_some())
    }

    fn pending_on_mirror(&self) -> Result<Vec<Pending>> {
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let repo = self.repo()?;
        self.fetch(&repo, &mut last)?;
        Ok(self
            .pending_in(&repo)?
            .into_iter()
            .map(|(pending, _)| pending)
            .collect())
    }

    fn approve_on_mirror(&self, id: Ulid) -> Result<Pending> {
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let repo = self.repo()?;
        self.fetch(&repo, &mut last)?;
        let (mut pending, path) = self.find_pending(&repo, id)?;
        let location = pending.location.clone();
        let title = format!(
            "Approve {}",
            message(&pending.comment).lines().next().unwrap_or_default()
        );
        if location == self.batch_branch {
            let batch =
                remote_commit(&repo, &self.batch_branch)?.context("the batch branch vanished")?;
            let entry = batch.tree()?.get_path(Path::new(&path))?;
            let blob = repo.find_blob(entry.id())?;
            let bytes = blob.content().to_vec();
            self.update_site(&repo, &mut last, |site| {
                self.commit_file(&repo, site, &path, Some(&bytes), &title)
            })?;
            self.drop_from_batch(
                &repo,
                &mut last,
                &path,
                &format!("{title} (now on {})", self.branch),
            )?;
        } else {
            // An author's edit may reach the branch while it is merged: the branch is
            // then kept (see [`Git::delete_branch`]) and merged again, as approving a
            // pending comment publishes it as it stands, like an edit made a moment
            // before.
            for _ in 0..MERGES {
                let branch_tip = remote_commit(&repo, &location)?.context("the branch vanished")?;
                self.update_site(&repo, &mut last, |site| {
                    if repo.graph_descendant_of(branch_tip.id(), site.id())? {
                        return Ok(branch_tip.id());
                    }
                    let mut index = repo.merge_commits(site, &branch_tip, None)?;
                    if index.has_conflicts() {
                        bail!("{location} conflicts with {}", self.branch);
                    }
                    let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
                    let sig = self.signature()?;
                    let msg = format!("{title}\n\nMerge branch '{location}'");
                    Ok(repo.commit(None, &sig, &sig, &msg, &tree, &[site, &branch_tip])?)
                })?;
                if self.delete_branch(&repo, &location, branch_tip.id())? {
                    return Ok(pending);
                }
                self.fetch_only(&repo, &mut last, Some(std::slice::from_ref(&location)))?;
                // The comment as the edit left it (a withdrawal leaves no file).
                let moved = remote_commit(&repo, &location)?.context("the branch vanished")?;
                if let (Ok(entry), Some(format)) = (
                    moved.tree()?.get_path(Path::new(&path)),
                    Format::of(Path::new(&path)),
                ) {
                    let text = repo.find_blob(entry.id())?;
                    let text = String::from_utf8_lossy(text.content());
                    pending.comment =
                        Comment::parse(&text, format).map_err(|e| anyhow!("{path}: {e}"))?;
                }
            }
            bail!("{location} kept changing while it was merged: approve it again");
        }
        Ok(pending)
    }

    fn revise_on_mirror(&self, comment: &Comment) -> Result<()> {
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let repo = self.repo()?;
        self.fetch(&repo, &mut last)?;
        let (
            Pending {
                location: branch, ..
            },
            path,
        ) = self.find_pending(&repo, comment.id)?;
        if Format::of(Path::new(&path)) != Some(Format::Yaml) {
            bail!("{path} is not a YAML file: it cannot be edited here");
        }
        let yaml = comment.to_yaml();
        let msg = format!(
            "Edit {}",
            message(comment).lines().next().unwrap_or_default()
        );
        self.advance(&repo, &mut last, &branch, |tip| {
            let tip = tip.with_context(|| format!("the branch {branch} vanished"))?;
            self.commit_file(&repo, tip, &path, Some(yaml.as_bytes()), &msg)
                .map(Some)
        })
    }

    fn propose_on_mirror(
        &self,
        published: &Comment,
        new: Option<&Comment>,
    ) -> Result<Option<String>> {
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let repo = self.repo()?;
        let branch = format!("{BRANCH_PREFIX}{CHANGE_PREFIX}{}", published.id);
        let direct = self.mode == Mode::Direct;
        let fetched = if direct { vec![] } else { vec![branch.clone()] };
        self.fetch_only(&repo, &mut last, Some(&fetched))?;
        let site_tree = self.site_tip(&repo)?.tree()?;
        let path = self
            .file_in(&site_tree, &published.thread, published.id)
            .with_context(|| format!("comment {} is not on {}", published.id, self.branch))?;
        if new.is_some() && Format::of(Path::new(&path)) != Some(Format::Yaml) {
            bail!("{path} is not a YAML file: it cannot be edited here");
        }
        let yaml = new.map(Comment::to_yaml);
        let what = if new.is_some() { "Edit" } else { "Withdraw" };
        let msg = format!(
            "{what} {} ({} its author)",
            message(published).lines().next().unwrap_or_default(),
            if direct { "by" } else { "asked by" }
        );
        let content = yaml.as_deref().map(str::as_bytes);
        if direct {
            self.update_site(&repo, &mut last, |tip| {
                if !has_path(&tip.tree()?, &path) {
                    bail!("comment {} left {} meanwhile", published.id, self.branch);
                }
                self.commit_file(&repo, tip, &path, content, &msg)
            })?;
            return Ok(None);
        }
        self.advance(&repo, &mut last, &branch, |tip| {
            let base = match tip {
                Some(tip) => tip.clone(),
                None => self.site_tip(&repo)?,
            };
            self.commit_file(&repo, &base, &path, content, &msg)
                .map(Some)
        })?;
        Ok(Some(format!("branch {branch}")))
    }

    fn reject_on_mirror(&self, id: Ulid) -> Result<Pending> {
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let repo = self.repo()?;
        self.fetch(&repo, &mut last)?;
        let (pending, path) = self.find_pending(&repo, id)?;
        if pending.location == self.batch_branch {
            let msg = format!(
                "Reject {}",
                message(&pending.comment).lines().next().unwrap_or_default()
            );
            self.drop_from_batch(&repo, &mut last, &path, &msg)?;
        } else {
            // Rejecting discards the comment whatever an author's edit made of it
            // meanwhile: a branch that moved is deleted where it went.
            let location = &pending.location;
            for _ in 0..MERGES {
                let Some(tip) = remote_commit(&repo, location)? else {
                    return Ok(pending);
                };
                if self.delete_branch(&repo, location, tip.id())? {
                    return Ok(pending);
                }
                self.fetch_only(&repo, &mut last, Some(std::slice::from_ref(location)))?;
            }
            bail!("{location} kept changing while it was deleted: reject it again");
        }
        Ok(pending)
    }

    fn sweep_on_mirror(&self) -> Result<Vec<String>> {
        let mut last = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let repo = self.repo()?;
        self.fetch(&repo, &mut last)?;
        let Branches { site, list, taken } = self.branches(&repo)?;
        let site_tree = site.tree()?;
        let mut deletions = Vec::new();
        for branch in list {
            if branch.id.is_some() && branch.left_behind(&repo, &site_tree, &taken)? {
                deletions.push(Update {
                    branch: branch.name,
                    new: None,
                    old: Some(branch.tip.id()),
                });
            }
        }
        let refused = self.push(&repo, &deletions)?;
        Ok(deletions
            .into_iter()
            .map(|u| u.branch)
            .filter(|b| !refused.iter().any(|(r, _)| r == b))
            .collect())
    }
}

/// What an error that kept cairn from reading the remote at all (a fetch) is
/// wrapped in: a delivery round that fails so is the remote's outage.
#[derive(Debug)]
struct Unreachable(String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot fetch from {}", self.0)
    }
}

impl Backend for Git {
    fn deliver(&self, comments: &[Comment]) -> Vec<Result<(), DeliveryError>> {
        let outcome = self.deliver_on_mirror(comments);
        // What the work freed (the handle's caches among it) goes back to the system.
        release_freed_memory();
        // A round fails as a whole. When the remote could not be read at all, that is
        // its outage, which ends when it can be read again (see `Backend::pending`);
        // anything else (a push refused as a whole: a read-only credential, say) waits
        // for a person, and is not retried whenever the remote answers.
        self.renewed(outcome).unwrap_or_else(|e| {
            let why = format!("{e:#}");
            let error = if e.downcast_ref::<Unreachable>().is_some() {
                DeliveryError::Unavailable(why)
            } else {
                DeliveryError::Transient(why)
            };
            vec![Err(error); comments.len()]
        })
    }

    fn exists(&self, thread: &str, id: Ulid) -> Result<bool> {
        self.renewed(self.exists_on_mirror(thread, id))
    }

    fn published(&self, thread: &str, id: Ulid) -> Result<bool> {
        self.renewed(self.published_on_mirror(thread, id))
    }

    fn pending(&self) -> Result<Vec<Pending>> {
        self.renewed(self.pending_on_mirror())
    }

    fn location(&self, comment: &Comment) -> Result<String> {
        Ok(match self.mode {
            Mode::Review => format!("branch {BRANCH_PREFIX}{}", comment.id),
            Mode::Batch => format!("branch {}", self.batch_branch),
            Mode::Direct => format!("published on {}", self.branch),
        })
    }

    fn approve(&self, id: Ulid) -> Result<Pending> {
        self.renewed(self.approve_on_mirror(id))
    }

    fn revise(&self, comment: &Comment) -> Result<Option<String>> {
        // The edit is pushed only onto the branch as it is, and an approval deletes the
        // branch only where it merged it: an edit is merged, or refused with an error.
        self.renewed(self.revise_on_mirror(comment)).map(|()| None)
    }

    fn propose(&self, published: &Comment, new: Option<&Comment>) -> Result<Option<String>> {
        self.renewed(self.propose_on_mirror(published, new))
    }

    fn reject(&self, id: Ulid) -> Result<Pending> {
        self.renewed(self.reject_on_mirror(id))
    }

    fn sweep(&self) -> Result<Vec<String>> {
        self.renewed(self.sweep_on_mirror())
    }
}

extern "C" {
    /// Puts each object of a libgit2 memory store, by itself, into a pack being built
    /// (libgit2 1.8 and later, in the library git2 links; git2 has no wrapper for it).
    fn git_mempack_write_thin_pack(
        backend: *mut std::ffi::c_void,
        builder: *mut std::ffi::c_void,
    ) -> std::ffi::c_int;
}

/// Most small packs a mirror keeps before they are packed into one: each delivery, and
/// each fetch that brings something, adds one, and reading objects slows down as packs
/// pile up.
const MOST_PACKS: usize = 50;

/// Packs holding more objects than this are not merged with others (see
/// [`consolidate`]): about 3,000 comments' worth in review mode (six objects each).
const MOST_OBJECTS_MERGED: u32 = 20_000;

/// Most references a mirror keeps as files of their own before they are packed into
/// `packed-refs`, as `git pack-refs` does: each delivery in review mode adds one, and
/// every pack libgit2 writes lists every reference, a file read each when loose (with
/// thousands of branches waiting for review, most of a delivery's time).
const MOST_LOOSE_REFS: usize = 100;

/// [`consolidate`]s a mirror after a fetch, and [`pack_refs`] it. Packing is only for
/// speed: when it fails, the mirror works as it is, and the next fetch tries again.
/// Then the memory the fetch and the packing freed goes back to the system.
fn tidy(repo: &Repository) {
    if let Err(e) = consolidate(repo, MOST_PACKS, MOST_OBJECTS_MERGED) {
        tracing::warn!("{e:#}");
    }
    if let Err(e) = pack_refs(repo, MOST_LOOSE_REFS) {
        tracing::warn!(
            "cannot pack the references of {}: {e:#}",
            repo.path().display()
        );
    }
    release_freed_memory();
}

/// Hands the C library's free memory back to the system once it holds more than
/// `KEPT_FREE`. libgit2 allocates with its malloc, whose arenas (one per thread; a
/// pack's deltas are found on every core) keep what is freed for later: a long-running
/// inbox would otherwise hold, for good, the peak of its first fetch of a large site
/// (43 MB of 72 in a site of 24,000 comments). Below that, handing back is left out:
/// pages handed back are faulted in again by the next delivery.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallinfo2 only reads the allocator's counters, and malloc_trim only
    // returns free pages of its own heaps.
    unsafe {
        if libc::mallinfo2().fordblks > KEPT_FREE {
            libc::malloc_trim(0);
        }
    }
}

/// The free memory the C library may keep for later allocations.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const KEPT_FREE: usize = 8 << 20;

/// Once `repo` holds more than `most` loose references: moves them all into its
/// `packed-refs` file. Each is removed only if it still points where it was packed,
/// under its lock, so a reference updated meanwhile keeps its new value.
fn pack_refs(repo: &Repository, most: usize) -> Result<()> {
    let loose = walkdir::WalkDir::new(repo.path().join("refs"))
        .into_iter()
        .filter(|entry| entry.as_ref().is_ok_and(|e| e.file_type().is_file()))
        .take(most + 1)
        .count();
    if loose > most {
        repo.refdb_compress()?;
    }
    Ok(())
}

/// Once `repo` holds more than `most` packs of at most `largest` objects each: packs
/// their objects into one, and removes them. Larger packs (the site's history, as the
/// first fetch brought it, or an earlier merge that grew that large) stay as they are,
/// so the memory a merge takes stays bounded however large the site grows, and the
/// site's history is not packed again for each 50 deliveries. Packs git keeps (with a
/// `.keep` file) stay too.
fn consolidate(repo: &Repository, most: usize, largest: u32) -> Result<()> {
    // Only the counts are read here, as after every fetch; the ids only for a merge.
    let mut small = Vec::new();
    for entry in std::fs::read_dir(repo.path().join("objects/pack"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "pack") || path.with_extension("keep").exists() {
            continue;
        }
        match object_count(&path.with_extension("idx")) {
            Ok(count) if count <= largest => small.push(path),
            Ok(_) => {}
            // Being written, or not an index cairn reads: left as it is.
            Err(e) => tracing::debug!("{}: {e}", path.display()),
        }
    }
    if small.len() <= most {
        return Ok(());
    }
    let mut ids = Vec::new();
    for path in &small {
        let idx = path.with_extension("idx");
        ids.extend(object_ids(&idx).with_context(|| format!("cannot read {}", idx.display()))?);
    }
    write_pack(repo, &repo.odb()?, |pack| {
        for &id in &ids {
            pack.insert_object(id, None)?;
        }
        Ok(())
    })
    .with_context(|| format!("cannot pack the objects of {}", repo.path().display()))?;
    // As git does: the index goes first.
    for pack in &small {
        for ext in ["idx", "pack", "rev"] {
            match std::fs::remove_file(pack.with_extension(ext)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove {}", pack.display()))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The header and fan-out table of a version 2 pack index, before the objects' ids.
const IDX_HEAD: usize = 8 + 256 * 4;

/// Opens the pack index `idx` (git's version 2 format: a header, then a fan-out table
/// whose last entry counts the objects, then their ids) and reads how many objects its
/// pack holds, leaving the file at the first id.
fn open_index(idx: &Path) -> std::io::Result<(std::fs::File, u32)> {
    use std::io::Read;
    let mut file = std::fs::File::open(idx)?;
    let mut head = [0u8; IDX_HEAD];
    file.read_exact(&mut head)?;
    if head[..8] != *b"\xfftOc\0\0\0\x02" {
        return Err(std::io::Error::other("not a version 2 pack index"));
    }
    let count = u32::from_be_bytes([
        head[IDX_HEAD - 4],
        head[IDX_HEAD - 3],
        head[IDX_HEAD - 2],
        head[IDX_HEAD - 1],
    ]);
    Ok((file, count))
}

/// How many objects the pack of index `idx` holds.
fn object_count(idx: &Path) -> std::io::Result<u32> {
    open_index(idx).map(|(_, count)| count)
}

/// The ids of the objects in the pack of index `idx`.
fn object_ids(idx: &Path) -> std::io::Result<Vec<Oid>> {
    use std::io::Read;
    let (mut file, count) = open_index(idx)?;
    let mut ids = vec![0u8; count as usize * 20];
    file.read_exact(&mut ids)?;
    ids.chunks_exact(20)
        .map(|id| Oid::from_bytes(id).map_err(std::io::Error::other))
        .collect()
}

/// The site's repository as `inbox.delivery.remote` names it: a URL, or the full path
/// of a repository on this machine (the setting is relative to cairn.toml).
pub fn remote(config: &Config) -> Result<String> {
    let remote = config
        .inbox
        .delivery
        .remote
        .clone()
        .context("inbox.delivery.remote is not set: name the site's git repository")?;
    if !is_path(&remote) {
        return Ok(remote);
    }
    let path = config.root.join(&remote);
    Ok(path
        .canonicalize()
        .with_context(|| format!("inbox.delivery.remote: no repository at {}", path.display()))?
        .to_string_lossy()
        .into_owned())
}

/// Opens the mirror at `path`, creating it if it is not there, with `remote` as its
/// origin.
fn open_mirror(path: &Path, remote: &str) -> Result<()> {
    let repo = match Repository::open_bare(path) {
        Ok(repo) => repo,
        Err(_) => Repository::init_bare(path)
            .with_context(|| format!("cannot create {}", path.display()))?,
    };
    match repo.find_remote("origin") {
        Ok(_) => repo.remote_set_url("origin", remote)?,
        Err(_) => {
            repo.remote("origin", remote)?;
        }
    }
    Ok(())
}

/// Whether `e` says that an object the mirror's references reach is not in it.
fn lacks_object(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<git2::Error>().is_some_and(|g| {
            g.class() == git2::ErrorClass::Odb && g.code() == git2::ErrorCode::NotFound
        })
    })
}

/// Process-wide libgit2 settings for a long-running service: small object caches and
/// pack windows, so memory stays flat however large the site repository grows, and
/// network timeouts, so a hung remote fails a delivery (to be retried) instead of
/// stalling the worker. Call once, before any other git operation in the process.
///
/// Objects read are not hashed again to check their ids, as git does not: libgit2 does
/// by default, and on a site with thousands of pages, where a new comment's commit
/// reads the directory listing them all, that was a quarter of a delivery's time.
/// Damage on disk still shows: each object's compressed data carries a checksum.
pub fn tune_for_service() {
    git2::opts::strict_hash_verification(false);
    // SAFETY: called at start-up, before any other thread uses libgit2.
    let outcome = unsafe {
        git2::opts::set_cache_max_size(4 << 20)
            .and_then(|()| git2::opts::set_mwindow_size(1 << 20))
            .and_then(|()| git2::opts::set_mwindow_mapped_limit(16 << 20))
            .and_then(|()| git2::opts::set_server_connect_timeout_in_milliseconds(10_000))
            .and_then(|()| git2::opts::set_server_timeout_in_milliseconds(60_000))
    };
    if let Err(e) = outcome {
        tracing::warn!("cannot tune libgit2: {e}");
    }
}

fn remote_commit<'r>(repo: &'r Repository, branch: &str) -> Result<Option<Commit<'r>>> {
    match repo.find_reference(&format!("refs/remotes/origin/{branch}")) {
        Ok(r) => Ok(Some(r.peel_to_commit()?)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes into `to`, as one pack, the objects that reaching the commits `wants` needs
/// and `to` lacks. Commits in `known` that both repositories hold are left out, with all
/// they reach (a repository holds everything its commits reach).
fn copy_objects(from: &Repository, to: &Repository, wants: &[Oid], known: &[Oid]) -> Result<()> {
    let (have, give) = (to.odb()?, from.odb()?);
    // A miss would make libgit2 list the pack directory again, for every id; one left
    // unseen only means an object sent twice or a commit not hidden, both harmless.
    let holds = |odb: &git2::Odb<'_>, oid| odb.exists_ext(oid, git2::OdbLookupFlags::NO_REFRESH);
    let mut walk = from.revwalk()?;
    // Parents before children: see insert_commits.
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    let mut wanted = false;
    for &oid in wants {
        if !holds(&have, oid) {
            walk.push(oid)?;
            wanted = true;
        }
    }
    if !wanted {
        return Ok(());
    }
    for &oid in known {
        if holds(&have, oid) && holds(&give, oid) {
            walk.hide(oid)?;
        }
    }
    write_pack(from, &have, |pack| insert_commits(from, &mut walk, pack))
}

/// Puts into `pack` the commits `walk` gives and what each brings: the files and
/// directories its tree has and none of its parents has at the same path. A commit's
/// parents are in the walk too, or behind the commits it hides, which the receiving
/// repository holds with all they reach; so nothing the walk's commits reach is
/// missing. The walk gives parents before children, so a directory put in already
/// comes with all it holds: a merge whose tree is the one of the branch it merges (a
/// `--no-ff` merge while the site branch stood still) finds it complete, not made of
/// what it takes from that very branch. libgit2's own walk insertion reads every
/// directory of every commit's tree, each time: with thousands of commits on a site of
/// thousands of pages, most of a delivery's time.
fn insert_commits(
    repo: &Repository,
    walk: &mut git2::Revwalk<'_>,
    pack: &mut git2::PackBuilder<'_>,
) -> Result<(), git2::Error> {
    let mut sent = HashSet::new();
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        pack.insert_object(commit.id(), None)?;
        let parents = commit
            .parents()
            .map(|parent| parent.tree())
            .collect::<Result<Vec<_>, _>>()?;
        insert_tree(repo, pack, &commit.tree()?, &parents, "", &mut sent)?;
    }
    Ok(())
}

/// Puts `tree` into `pack` (at `path`, by which libgit2 pairs objects for deltas) with
/// what it holds that `before` (the same directory in the parents) does not; `sent`
/// are the objects put in already, with all they hold.
fn insert_tree(
    repo: &Repository,
    pack: &mut git2::PackBuilder<'_>,
    tree: &Tree<'_>,
    before: &[Tree<'_>],
    path: &str,
    sent: &mut HashSet<Oid>,
) -> Result<(), git2::Error> {
    if !sent.insert(tree.id()) {
        return Ok(());
    }
    pack.insert_object(tree.id(), Some(path))?;
    for entry in tree {
        let id = entry.id();
        // The same entry in each parent's directory, if it has one.
        let was = || {
            before
                .iter()
                .filter_map(|t| t.get_name_bytes(entry.name_bytes()))
        };
        if sent.contains(&id) || was().any(|e| e.id() == id) {
            continue;
        }
        let name = String::from_utf8_lossy(entry.name_bytes());
        let path = if path.is_empty() {
            name.into_owned()
        } else {
            format!("{path}/{name}")
        };
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                let before = was()
                    .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
                    .map(|e| repo.find_tree(e.id()))
                    .collect::<Result<Vec<_>, _>>()?;
                insert_tree(repo, pack, &repo.find_tree(id)?, &before, &path, sent)?;
            }
            Some(git2::ObjectType::Blob) => {
                sent.insert(id);
                pack.insert_object(id, Some(&path))?;
            }
            // A submodule's commit: an object of another repository.
            _ => {}
        }
    }
    Ok(())
}

/// Writes into `to` one pack of the objects of `from` that `insert` puts into the pack
/// builder, streamed as it is made: a whole history's pack is never held in memory.
fn write_pack(
    from: &Repository,
    to: &git2::Odb<'_>,
    insert: impl FnOnce(&mut git2::PackBuilder<'_>) -> Result<(), git2::Error>,
) -> Result<()> {
    let mut pack = from.packbuilder()?;
    // Finding deltas is most of the work on a large history: on every core.
    pack.set_threads(0);
    insert(&mut pack)?;
    // The pack comes an object at a time, and libgit2's indexer unmaps and maps the
    // pack again for each write it takes: it takes them in larger pieces.
    let mut writer = std::io::BufWriter::with_capacity(PACK_WRITES, to.packwriter()?);
    let mut failed = None;
    pack.foreach(|chunk| match writer.write_all(chunk) {
        Ok(()) => true,
        Err(e) => {
            failed = Some(e);
            false
        }
    })
    .map_err(|e| match failed.take() {
        Some(io) => anyhow::Error::new(io).context("cannot write the objects"),
        None => e.into(),
    })?;
    writer
        .into_inner()
        .map_err(|e| anyhow::Error::new(e.into_error()).context("cannot write the objects"))?
        .commit()?;
    Ok(())
}

/// The size of the pieces a pack is written in.
const PACK_WRITES: usize = 256 << 10;

/// The files `to` has and `from` has not, with their blobs.
fn added_files(
    repo: &Repository,
    from: Option<&Tree<'_>>,
    to: &Tree<'_>,
) -> Result<Vec<(PathBuf, Oid)>> {
    let diff = repo.diff_tree_to_tree(from, Some(to), None)?;
    Ok(diff
        .deltas()
        .filter(|delta| delta.status() == git2::Delta::Added)
        .filter_map(|delta| {
            let file = delta.new_file();
            Some((file.path()?.to_path_buf(), file.id()))
        })
        .collect())
}

fn has_path(tree: &Tree<'_>, path: &str) -> bool {
    tree.get_path(Path::new(path)).is_ok()
}

/// A short, growing, slightly random wait between push retries, so racing replicas
/// do not collide again in lockstep.
fn backoff_jitter(attempt: u32) -> Duration {
    let jitter = u64::from(Ulid::new().random() as u16 % 50);
    Duration::from_millis(u64::from(attempt) * 40 + jitter)
}

/// The key an ssh remote showed (type and SHA256 fingerprint, as OpenSSH prints them),
/// for the error when it is not trusted.
#[derive(Default)]
struct HostKeySeen(std::cell::RefCell<Option<String>>);

/// What to do about an ssh remote whose host key libgit2 did not trust: it trusts only
/// the keys in `~/.ssh/known_hosts` of the user cairn runs as.
fn untrusted_host_key(remote: &str, key: Option<&str>) -> String {
    let (host, port) = ssh_host(remote);
    let known_hosts = match std::env::var_os("HOME") {
        Some(home) => format!("{}/.ssh/known_hosts", Path::new(&home).display()),
        None => "~/.ssh/known_hosts".into(),
    };
    let keyscan = match port {
        Some(port) => format!("ssh-keyscan -p {port} {host}"),
        None => format!("ssh-keyscan {host}"),
    };
    let shown = key.map(|k| format!(" ({k})")).unwrap_or_default();
    format!(
        "the ssh host key of {host}{shown} is not in {known_hosts}, or differs from the one \
         there: check it against the fingerprints the host publishes, then add it for the \
         user cairn runs as: `{keyscan} >> {known_hosts}`"
    )
}

/// Whether a remote is a path on this machine rather than a URL or the short ssh form
/// `[user@]host:path`, by git's own rule: a path has no `scheme://`, and no colon
/// before its first slash (so `/srv/me@site.git` and `./a:b` are paths, and
/// `git.example.org:site.git` is ssh).
fn is_path(remote: &str) -> bool {
    !remote.contains("://")
        && remote
            .find(':')
            .is_none_or(|colon| remote[..colon].contains('/'))
}

/// The host and port of an ssh remote: `ssh://[user@]host[:port]/path` or the short
/// `[user@]host:path`.
fn ssh_host(remote: &str) -> (String, Option<u16>) {
    if let Ok(url) = url::Url::parse(remote) {
        if let Some(host) = url.host_str() {
            return (host.trim_matches(['[', ']']).to_string(), url.port());
        }
    }
    let host = remote.split_once(':').map_or(remote, |(host, _)| host);
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    (host.to_string(), None)
}

/// Credentials from the environment: a token or password for https, a key file or
/// the ssh agent for ssh. Each kind is offered once: when the remote asks again, it
/// refused it, and the error says which credential it refused. The remote's identity is
/// checked by libgit2 (an ssh host key against the user's `~/.ssh/known_hosts`, a TLS
/// certificate against the system's); for an ssh remote, `seen` keeps the host key
/// shown, for the error when it is not trusted.
fn callbacks(seen: Option<&HostKeySeen>) -> RemoteCallbacks<'_> {
    use base64::Engine;
    let mut cb = RemoteCallbacks::new();
    // Only for ssh: with a certificate callback, libgit2 no longer marks an untrusted TLS
    // certificate's error as one.
    if let Some(seen) = seen {
        cb.certificate_check(|cert, _host| {
            if let Some(key) = cert.as_hostkey() {
                if let (Some(kind), Some(hash)) = (key.hostkey_type(), key.hash_sha256()) {
                    let hash = base64::engine::general_purpose::STANDARD_NO_PAD.encode(hash);
                    *seen.0.borrow_mut() = Some(format!("{} SHA256:{hash}", kind.short_name()));
                }
            }
            Ok(git2::CertificateCheckStatus::CertificatePassthrough)
        });
    }
    let mut tried = CredentialType::empty();
    cb.credentials(move |_url, user_from_url, allowed| {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let refused =
            |what: String| Err(git2::Error::from_str(&format!("the remote refused {what}")));
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let Some(password) = env("CAIRN_GIT_PASSWORD") {
                let user = env("CAIRN_GIT_USERNAME")
                    .or_else(|| user_from_url.map(str::to_string))
                    .unwrap_or_else(|| "x-access-token".into());
                if tried.contains(CredentialType::USER_PASS_PLAINTEXT) {
                    return refused(format!(
                        "user {user} with the password or token in CAIRN_GIT_PASSWORD"
                    ));
                }
                tried |= CredentialType::USER_PASS_PLAINTEXT;
                return Cred::userpass_plaintext(&user, &password);
            }
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            let user = user_from_url.unwrap_or("git");
            let key = env("CAIRN_GIT_SSH_KEY");
            if tried.contains(CredentialType::SSH_KEY) {
                return refused(match key {
                    Some(key) => format!("user {user} with the ssh key {key} (CAIRN_GIT_SSH_KEY)"),
                    None => format!(
                        "user {user} with the ssh agent's keys, if an agent runs: set \
                         CAIRN_GIT_SSH_KEY to a key the remote takes"
                    ),
                });
            }
            tried |= CredentialType::SSH_KEY;
            return match key {
                Some(key) => Cred::ssh_key(
                    user,
                    None,
                    Path::new(&key),
                    env("CAIRN_GIT_SSH_PASSPHRASE").as_deref(),
                ),
                None => Cred::ssh_key_from_agent(user),
            };
        }
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user_from_url.unwrap_or("git"));
        }
        Err(git2::Error::from_str(
            "no usable credentials: set CAIRN_GIT_PASSWORD (https) or CAIRN_GIT_SSH_KEY (ssh)",
        ))
    });
    cb
}

/// A bare repository holding `files` in one commit on `main`, for tests.
#[cfg(test)]
pub(crate) fn test_remote(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("site.git");
    let repo = Repository::init_bare(&path).unwrap();
    let mut update = TreeUpdateBuilder::new();
    for (name, text) in files {
        update.upsert(*name, repo.blob(text.as_bytes()).unwrap(), FileMode::Blob);
    }
    let empty = repo
        .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
        .unwrap();
    let tree = repo
        .find_tree(update.create_updated(&repo, &empty).unwrap())
        .unwrap();
    let sig = Signature::now("test", "test@localhost").unwrap();
    repo.commit(Some("refs/heads/main"), &sig, &sig, "site", &tree, &[])
        .unwrap();
    path
}

#[cfg(test)]
mod tests;
