//! Erasure (`cairn forget`): removes a person's comments from the site in one commit,
//! keeps the place of any comment others replied to as a `[deleted]` stub, records the
//! ids so no import brings them back, and says how to purge them from git history.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use git2::{Oid, Repository};
use ulid::Ulid;

use crate::comment::Comment;
use crate::import::{deleted_stub, read_forgotten, stubs_needed, DELETED_BODY, FORGOTTEN_FILE};
use crate::store::{self, Store};

/// Which comments to forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Id(Ulid),
    /// The exact author name, as stored.
    Author(String),
    Avatar(String),
}

impl Selector {
    fn matches(&self, comment: &Comment) -> bool {
        match self {
            Selector::Id(id) => comment.id == *id,
            Selector::Author(name) => comment.author.as_deref() == Some(name.as_str()),
            Selector::Avatar(key) => comment.avatar.as_deref() == Some(key.as_str()),
        }
    }
}

/// What forgetting changes, relative to the comments directory.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Files deleted.
    pub removed: Vec<PathBuf>,
    /// Files replaced by a stub because others replied to them, with the stub.
    pub stubbed: Vec<(PathBuf, Comment)>,
    /// The commit made, when the comments directory is in a git repository.
    pub commit: Option<Oid>,
    /// Commands that purge the removed text from the repository's history.
    pub purge: Vec<String>,
    /// Commands that then publish the purged history to the repository's remote, with
    /// the pending comments' `cairn/` branches (they branch off the old history); none
    /// when the repository has no remote.
    pub publish: Vec<String>,
    /// The repository's working directory, where `purge` runs.
    pub repo: Option<PathBuf>,
}

/// Finds what matches `selectors` and, unless `dry_run`, forgets it.
pub fn forget(
    comments_dir: &Path,
    store: &Store,
    selectors: &[Selector],
    dry_run: bool,
) -> Result<Outcome> {
    if selectors.is_empty() {
        bail!("nothing selected: give --id, --author, --avatar or --email");
    }
    let comments: Vec<&Comment> = store.comments().collect();
    let index: HashMap<Ulid, usize> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let matched: Vec<bool> = comments
        .iter()
        .map(|c| selectors.iter().any(|s| s.matches(c)))
        .collect();
    let parents: Vec<Option<usize>> = comments
        .iter()
        .map(|c| c.parent.and_then(|p| index.get(&p).copied()))
        .collect();
    let kept: Vec<bool> = matched.iter().map(|m| !m).collect();
    let stub = stubs_needed(&parents, &kept);

    let mut outcome = Outcome::default();
    for (i, comment) in comments.iter().enumerate().filter(|(i, _)| matched[*i]) {
        let path = store::file_of(comments_dir, comment).with_context(|| {
            format!(
                "the file of comment {} is missing from {}",
                comment.id,
                comments_dir.display()
            )
        })?;
        let relative = path
            .strip_prefix(comments_dir)
            .unwrap_or(&path)
            .to_path_buf();
        if stub[i] {
            outcome
                .stubbed
                .push((relative, deleted_stub((*comment).clone())));
        } else {
            outcome.removed.push(relative);
        }
    }
    if dry_run || (outcome.removed.is_empty() && outcome.stubbed.is_empty()) {
        return Ok(outcome);
    }

    // The files: stubs are written as format v1 YAML next to where the comment was.
    for path in &outcome.removed {
        remove(&comments_dir.join(path))?;
    }
    let mut stubs = Vec::with_capacity(outcome.stubbed.len());
    for (path, stub) in &mut outcome.stubbed {
        let yaml_path = path.with_extension("yml");
        if *path != yaml_path {
            remove(&comments_dir.join(&*path))?;
            stubs.push(path.clone());
            *path = yaml_path;
        }
        write(&comments_dir.join(&*path), stub.to_yaml().as_bytes())?;
    }
    // Paths whose old versions the purge removes: deleted files and replaced non-YAML files.
    outcome.removed.extend(stubs);
    let mut forgotten: BTreeSet<Ulid> = read_forgotten(comments_dir)?.into_iter().collect();
    forgotten.extend(
        comments
            .iter()
            .zip(&matched)
            .filter(|(_, m)| **m)
            .map(|(c, _)| c.id),
    );
    let mut list = String::from(
        "# Comments erased with `cairn forget`; imports never bring these ids back.\n",
    );
    for id in &forgotten {
        list.push_str(&format!("{id}\n"));
    }
    write(&comments_dir.join(FORGOTTEN_FILE), list.as_bytes())?;

    if let Ok(repo) = Repository::discover(comments_dir) {
        commit(&repo, comments_dir, &mut outcome)?;
    }
    Ok(outcome)
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Commits exactly the forget's changes on top of HEAD (whatever else is staged or
/// modified stays as it was), updates the index to match, and prepares the purge.
fn commit(repo: &Repository, comments_dir: &Path, outcome: &mut Outcome) -> Result<()> {
    let mut written: Vec<PathBuf> = outcome.stubbed.iter().map(|(p, _)| p.clone()).collect();
    written.push(PathBuf::from(FORGOTTEN_FILE));
    let count = outcome.removed.len() + outcome.stubbed.len();
    let message = format!(
        "Forget {}\n\nErased with `cairn forget`: {} removed, {} replaced by a \"{DELETED_BODY}\" stub\nbecause others replied to them.\n",
        if count == 1 { "1 comment".to_string() } else { format!("{count} comments") },
        outcome.removed.len(),
        outcome.stubbed.len(),
    );
    let mut committed =
        store::commit_files(repo, comments_dir, &outcome.removed, &written, &message)?;
    // The stubs' blobs, not the list of forgotten ids.
    committed.written.pop();
    outcome.commit = Some(committed.oid);
    let remote = main_remote(repo);
    outcome.purge = purge_commands(&committed.removed, &committed.written, remote.as_deref());
    outcome.publish = remote.as_deref().map(publish_commands).unwrap_or_default();
    outcome.repo = Some(committed.workdir);
    Ok(())
}

/// The remote the site is published through: the current branch's upstream remote,
/// else `origin`, else the only one.
fn main_remote(repo: &Repository) -> Option<String> {
    let upstream = repo.head().ok().and_then(|head| {
        let branch = head.name().ok()?.to_string();
        let remote = repo.branch_upstream_remote(&branch).ok()?;
        remote.as_str().ok().map(str::to_string)
    });
    if upstream.is_some() {
        return upstream;
    }
    let remotes = repo.remotes().ok()?;
    let names: Vec<&str> = remotes.iter().flatten().flatten().collect();
    match names.as_slice() {
        [only] => Some(only.to_string()),
        _ => names.contains(&"origin").then(|| "origin".to_string()),
    }
}

/// Shell commands that rewrite every branch and tag so the removed files never existed
/// and the stubbed files always held their stub, then drop the old objects. With a
/// remote, they first fetch its branches, so the pending comments' `cairn/` branches,
/// which may hold the text in their history, are rewritten too.
fn purge_commands(
    removed: &[String],
    replaced: &[(String, Oid)],
    remote: Option<&str>,
) -> Vec<String> {
    let mut script = Vec::new();
    if !removed.is_empty() {
        let paths: Vec<String> = removed.iter().map(|p| sh_quote(p)).collect();
        script.push(format!(
            "git rm -q --cached --ignore-unmatch -- {}",
            paths.join(" ")
        ));
    }
    for (path, oid) in replaced {
        let quoted = sh_quote(path);
        script.push(format!(
            "if git cat-file -e :{quoted} 2>/dev/null; then git update-index --cacheinfo 100644,{oid},{quoted}; fi"
        ));
    }
    script.push("true".into());
    let fetch = remote.map(|remote| format!("git fetch --prune {}", sh_quote(remote)));
    fetch.into_iter().chain([
        format!(
            "FILTER_BRANCH_SQUELCH_WARNING=1 git filter-branch --force --prune-empty --index-filter {} -- --all",
            sh_quote(&script.join("; "))
        ),
        "git for-each-ref --format='delete %(refname)' refs/original | git update-ref --stdin".into(),
        "git reflog expire --expire=now --all && git gc --prune=now --quiet".into(),
    ]).collect()
}

/// Shell commands that publish the purged history to `remote`: every branch and tag,
/// and the pending comments' `cairn/` branches, rewritten from their remote-tracking
/// copies.
fn publish_commands(remote: &str) -> Vec<String> {
    let pending = sh_quote(&format!("refs/remotes/{remote}/cairn/*:refs/heads/cairn/*"));
    let remote = sh_quote(remote);
    vec![
        format!("git push --force --all {remote} && git push --force --tags {remote}"),
        format!("git push --force {remote} {pending}"),
    ]
}

/// Quotes a string for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Form;

    fn comment(id: &str, parent: Option<&str>, author: &str) -> Comment {
        Comment {
            author: Some(author.into()),
            website: Some("https://x.example".into()),
            avatar: Some("0123456789abcdef".into()),
            body: format!("Written by {author}"),
            ..crate::comment::sample(id, "/posts/a/", parent)
        }
    }

    const A: &str = crate::comment::SAMPLE_IDS[0];
    const B: &str = crate::comment::SAMPLE_IDS[1];
    const C: &str = crate::comment::SAMPLE_IDS[2];
    const D: &str = crate::comment::SAMPLE_IDS[3];

    #[test]
    fn matches_go_replied_to_ones_stay_as_stubs_and_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let comments = dir.path().join("comments");
        for c in [
            comment(A, None, "Ann"),
            comment(B, Some(A), "Bob"),
            comment(C, None, "Ann"),
            comment(D, Some(C), "Ann"),
        ] {
            crate::store::write(&comments, &c).unwrap();
        }
        let store = Store::load(&comments, &Form::default()).unwrap();
        let selectors = [Selector::Author("Ann".into())];
        let dry = forget(&comments, &store, &selectors, true).unwrap();
        assert_eq!((dry.removed.len(), dry.stubbed.len()), (2, 1));
        assert!(
            comments.join(format!("posts/a/{A}.yml")).is_file(),
            "a dry run changes nothing"
        );

        let done = forget(&comments, &store, &selectors, false).unwrap();
        assert_eq!(done.commit, None, "not a git repository: nothing committed");
        let after = Store::load(&comments, &Form::default()).unwrap();
        assert!(after.problems.is_empty(), "{:?}", after.problems);
        let left: Vec<(String, Option<String>, String)> = after.threads["/posts/a/"]
            .comments
            .iter()
            .map(|c| (c.id.to_string(), c.author.clone(), c.body.clone()))
            .collect();
        assert_eq!(
            left,
            [
                (A.to_string(), None, DELETED_BODY.to_string()),
                (B.to_string(), Some("Bob".into()), "Written by Bob".into()),
            ],
            "Ann's own thread of replies (C, D) goes whole; her comment Bob answered stays as a stub"
        );
        let stub = &after.threads["/posts/a/"].comments[0];
        assert_eq!((stub.website.as_ref(), stub.avatar.as_ref()), (None, None));
        let remembered = read_forgotten(&comments).unwrap();
        assert_eq!(remembered.len(), 3);
        assert!(
            forget(&comments, &after, &[], false).is_err(),
            "nothing selected"
        );
    }
}
