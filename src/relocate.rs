//! Moving threads (`cairn move`): when pages change their URLs, their comments follow,
//! rewritten under the new thread paths in one commit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use git2::{Oid, Repository};

use crate::comment::Comment;
use crate::import::ThreadMap;
use crate::store::{self, Store};
use crate::thread;

/// One comment to move.
#[derive(Debug)]
pub struct Move {
    /// Its file, relative to the comments directory.
    pub from: PathBuf,
    /// The thread it leaves.
    pub old_thread: String,
    /// The comment on its new thread.
    pub comment: Comment,
}

/// The comments whose threads `map` changes, in thread and date order.
pub fn plan(comments_dir: &Path, store: &Store, map: &ThreadMap) -> Result<Vec<Move>> {
    let mut moves = Vec::new();
    for (name, t) in &store.threads {
        let mapped = map.apply(name);
        if mapped == *name {
            continue;
        }
        let new = thread::normalize(&mapped)
            .map_err(|e| anyhow!("{name} would move to {mapped}, which is no thread: {e}"))?;
        if new == *name {
            continue;
        }
        for c in &t.comments {
            let file = store::file_of(comments_dir, c).with_context(|| {
                format!(
                    "the file of comment {} is missing from {}",
                    c.id,
                    comments_dir.display()
                )
            })?;
            moves.push(Move {
                from: file
                    .strip_prefix(comments_dir)
                    .unwrap_or(&file)
                    .to_path_buf(),
                old_thread: name.clone(),
                comment: Comment {
                    thread: new.clone(),
                    ..c.clone()
                },
            });
        }
    }
    Ok(moves)
}

/// How many comments each thread gives to each other, for reports.
pub fn summary(moves: &[Move]) -> BTreeMap<(&str, &str), usize> {
    let mut out = BTreeMap::new();
    for m in moves {
        *out.entry((m.old_thread.as_str(), m.comment.thread.as_str()))
            .or_insert(0) += 1;
    }
    out
}

/// Writes each moved comment as YAML under its new thread and removes its old file
/// (and the directories left empty), then commits that when the comments directory is
/// in a git repository: the commit, if one was made.
pub fn apply(comments_dir: &Path, moves: &[Move]) -> Result<Option<Oid>> {
    let mut removed = Vec::new();
    let mut written = Vec::new();
    for m in moves {
        let old = comments_dir.join(&m.from);
        let new = store::write(comments_dir, &m.comment)?;
        std::fs::remove_file(&old).with_context(|| format!("cannot remove {}", old.display()))?;
        remove_empty_parents(comments_dir, &old);
        removed.push(m.from.clone());
        written.push(new.strip_prefix(comments_dir).unwrap_or(&new).to_path_buf());
    }
    let Ok(repo) = Repository::discover(comments_dir) else {
        return Ok(None);
    };
    let pairs = summary(moves);
    let mut message = match pairs.len() {
        1 => {
            let ((from, to), _) = pairs.iter().next().unwrap_or((&("", ""), &0));
            format!("Move the comments of {from} to {to}\n\n")
        }
        n => format!("Move the comments of {n} threads\n\n"),
    };
    for ((from, to), n) in &pairs {
        message += &format!("{from} -> {to}: {n}\n");
    }
    let committed = store::commit_files(&repo, comments_dir, &removed, &written, &message)?;
    Ok(Some(committed.oid))
}

/// Removes the directories between `file` and the comments directory that are empty.
fn remove_empty_parents(comments_dir: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == comments_dir || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::sample as comment;
    use crate::config::Form;

    const A: &str = crate::comment::SAMPLE_IDS[0];
    const B: &str = crate::comment::SAMPLE_IDS[1];
    const C: &str = crate::comment::SAMPLE_IDS[2];
    const D: &str = crate::comment::SAMPLE_IDS[3];

    #[test]
    fn threads_move_whole_under_a_prefix_or_by_their_path_and_the_rest_stay() {
        let dir = tempfile::tempdir().unwrap();
        let comments = dir.path().join("comments");
        for c in [
            comment(A, "/2019/old-slug/", None),
            comment(B, "/2019/old-slug/", Some(A)),
            comment(C, "/blog/kept/", None),
            comment(D, "/notes/a", None),
        ] {
            store::write(&comments, &c).unwrap();
        }
        let mut map = ThreadMap::default();
        map.add("/2019/old-slug/=/2019/new-slug/").unwrap();
        map.add("/notes/=/journal/").unwrap();
        map.add("/blog/kept/=/blog/kept/").unwrap();
        let store = Store::load(&comments, &Form::default()).unwrap();
        let moves = plan(&comments, &store, &map).unwrap();
        assert_eq!(
            summary(&moves).into_iter().collect::<Vec<_>>(),
            [
                (("/2019/old-slug/", "/2019/new-slug/"), 2),
                (("/notes/a/", "/journal/a/"), 1)
            ]
        );
        assert_eq!(apply(&comments, &moves).unwrap(), None, "no repository");

        let store = Store::load(&comments, &Form::default()).unwrap();
        assert!(store.problems.is_empty(), "{:?}", store.problems);
        let threads: Vec<(&str, usize)> = store
            .threads
            .iter()
            .map(|(name, t)| (name.as_str(), t.comments.len()))
            .collect();
        assert_eq!(
            threads,
            [
                ("/2019/new-slug/", 2),
                ("/blog/kept/", 1),
                ("/journal/a/", 1)
            ]
        );
        let moved = &store.threads["/2019/new-slug/"].comments;
        assert_eq!(
            moved[1].parent,
            Some(A.parse().unwrap()),
            "replies stay replies"
        );
        assert!(!comments.join("2019/old-slug").exists());
        assert!(!comments.join("notes").exists(), "emptied directories go");
        assert!(comments.join("2019").is_dir());
    }

    /// A blog that kept Blogger's addresses moves every post to a folder at once.
    #[test]
    fn a_rule_with_a_star_moves_every_thread_it_matches() {
        let dir = tempfile::tempdir().unwrap();
        let comments = dir.path().join("comments");
        for c in [
            comment(A, "/2011/10/nach-suzhou.html", None),
            comment(B, "/p/about.html", None),
            comment(C, "/2012/kept/", None),
        ] {
            store::write(&comments, &c).unwrap();
        }
        let mut map = ThreadMap::default();
        map.add("/*.html=/*/").unwrap();
        let store = Store::load(&comments, &Form::default()).unwrap();
        let moves = plan(&comments, &store, &map).unwrap();
        assert_eq!(
            summary(&moves).into_iter().collect::<Vec<_>>(),
            [
                (("/2011/10/nach-suzhou.html", "/2011/10/nach-suzhou/"), 1),
                (("/p/about.html", "/p/about/"), 1)
            ]
        );
    }
}
