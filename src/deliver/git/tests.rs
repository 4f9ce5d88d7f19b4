//! The git backend against real bare repositories: each mode, idempotent redelivery,
//! moderation, and replicas racing to push.

use chrono::TimeZone;

use super::*;

fn comment(n: u32, thread: &str) -> Comment {
    let date = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        + chrono::Duration::seconds(n.into());
    Comment {
        id: Ulid::from_parts(
            u64::try_from(date.timestamp_millis()).unwrap(),
            u128::from(n) + 1,
        ),
        thread: thread.into(),
        parent: None,
        date,
        author: Some(format!("Reader {n}")),
        website: None,
        avatar: None,
        origin: None,
        body: format!("Comment number {n}"),
    }
}

/// The ids of the comments `git` lists as pending.
fn pending_ids(git: &Git) -> Vec<Ulid> {
    git.pending()
        .unwrap()
        .iter()
        .map(|p| p.comment.id)
        .collect()
}

/// A site repository and the address the backend is given for it.
struct Site {
    dir: tempfile::TempDir,
    remote: PathBuf,
    url: String,
}

impl Site {
    /// A bare repository on this machine, given as a path.
    fn local() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let remote = test_remote(dir.path(), &[("cairn.toml", "# site\n")]);
        let url = remote.to_string_lossy().into_owned();
        Site { dir, remote, url }
    }

    /// The same repository served by git itself over `git://` on loopback: reached
    /// through libgit2's network transport and a real `git receive-pack`, as an ssh or
    /// https remote is.
    fn served() -> Site {
        Site::served_so(true)
    }

    /// Served so that it can be fetched from, and pushed to only when `writable`.
    fn served_so(writable: bool) -> Site {
        let mut site = Site::local();
        let port = serve(site.dir.path(), writable);
        site.url = format!("git://127.0.0.1:{port}/site.git");
        site
    }

    fn backend(&self, mode: Mode, name: &str) -> Git {
        let mut config = Config::default_for_test(self.dir.path());
        config.inbox.delivery.remote = Some(self.url.clone());
        config.inbox.delivery.mode = mode;
        Git::open(&config, &self.dir.path().join(name)).unwrap()
    }

    fn repo(&self) -> Repository {
        Repository::open_bare(&self.remote).unwrap()
    }

    fn branches(&self) -> Vec<String> {
        let repo = self.repo();
        let mut names: Vec<String> = repo
            .branches(Some(git2::BranchType::Local))
            .unwrap()
            .map(|b| b.unwrap().0.name().unwrap().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    /// The `cairn-id` lines of every commit on a branch, oldest first.
    fn delivered_ids(&self, branch: &str) -> Vec<String> {
        let repo = self.repo();
        let mut walk = repo.revwalk().unwrap();
        walk.push_ref(&format!("refs/heads/{branch}")).unwrap();
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .unwrap();
        walk.map(|oid| repo.find_commit(oid.unwrap()).unwrap())
            .filter_map(|c| {
                c.message()
                    .unwrap()
                    .lines()
                    .find_map(|l| l.strip_prefix("cairn-id: ").map(str::to_string))
            })
            .collect()
    }

    fn file(&self, branch: &str, path: &str) -> Option<String> {
        let repo = self.repo();
        let tip = repo
            .find_branch(branch, git2::BranchType::Local)
            .ok()?
            .get()
            .peel_to_commit()
            .ok()?;
        let entry = tip.tree().unwrap().get_path(Path::new(path)).ok()?;
        let blob = repo.find_blob(entry.id()).unwrap();
        let text = String::from_utf8(blob.content().to_vec()).unwrap();
        Some(text)
    }
}

/// Serves the repositories under `base` on a loopback port: one `git daemon --inetd`
/// per connection, pushes allowed when `writable`. Returns the port.
fn serve(base: &Path, writable: bool) -> u16 {
    use std::os::fd::OwnedFd;
    use std::process::{Command, Stdio};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = base.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let base = base.clone();
            std::thread::spawn(move || {
                let input = stream.try_clone().unwrap();
                let pushes = if writable {
                    "--enable=receive-pack"
                } else {
                    "--disable=receive-pack"
                };
                let _ = Command::new("git")
                    .args(["daemon", "--inetd", "--export-all", pushes])
                    .arg(format!("--base-path={}", base.display()))
                    .stdin(Stdio::from(OwnedFd::from(input)))
                    .stdout(Stdio::from(OwnedFd::from(stream)))
                    .stderr(Stdio::null())
                    .status();
            });
        }
    });
    port
}

/// Runs each scenario against a remote given as a path and one served over the network.
macro_rules! on_both_remotes {
    ($($scenario:ident),* $(,)?) => {
        mod local {
            $(#[test] fn $scenario() { super::$scenario(super::Site::local()) })*
        }
        mod served {
            $(#[test] fn $scenario() { super::$scenario(super::Site::served()) })*
        }
    };
}

on_both_remotes!(
    review_mode_makes_a_branch_per_comment_and_redelivery_adds_nothing,
    approve_merges_and_deletes_the_branch_reject_deletes_it,
    batch_mode_collects_comments_on_one_branch,
    a_batch_taken_in_by_the_site_is_not_offered_again_nor_brought_back,
    a_review_branch_squashed_then_erased_is_not_offered_again,
    direct_mode_commits_to_the_site_branch,
    replicas_racing_to_push_lose_nothing,
    branches_the_site_took_in_by_hand_are_swept_and_pending_ones_stay,
    deleting_a_branch_that_moved_is_refused,
);

fn review_mode_makes_a_branch_per_comment_and_redelivery_adds_nothing(site: Site) {
    let git = site.backend(Mode::Review, "inbox");
    let comments = [comment(1, "/posts/a/"), comment(2, "/")];
    assert_eq!(git.deliver(&comments), [Ok(()), Ok(())]);
    let mut expected: Vec<String> = comments.iter().map(|c| format!("cairn/{}", c.id)).collect();
    expected.push("main".into());
    assert_eq!(site.branches(), expected);
    let path = format!("comments/posts/a/{}.yml", comments[0].id);
    assert_eq!(
        site.file(&format!("cairn/{}", comments[0].id), &path),
        Some(comments[0].to_yaml())
    );
    assert_eq!(site.file("main", &path), None);
    assert_eq!(
        site.file(
            &format!("cairn/{}", comments[1].id),
            &format!("comments/{}.yml", comments[1].id)
        ),
        Some(comments[1].to_yaml())
    );
    let before = site
        .repo()
        .refname_to_id(&format!("refs/heads/cairn/{}", comments[0].id))
        .unwrap();

    // After a crash, the worker delivers the same comments again: nothing changes.
    let again = site.backend(Mode::Review, "restarted");
    assert_eq!(again.deliver(&comments), [Ok(()), Ok(())]);
    assert_eq!(site.branches(), expected);
    let after = site
        .repo()
        .refname_to_id(&format!("refs/heads/cairn/{}", comments[0].id))
        .unwrap();
    assert_eq!(before, after);

    assert!(git.exists("/posts/a/", comments[0].id).unwrap());
    assert!(!git.exists("/posts/b/", comments[0].id).unwrap());
}

fn approve_merges_and_deletes_the_branch_reject_deletes_it(site: Site) {
    let git = site.backend(Mode::Review, "inbox");
    let (a, b, c) = (
        comment(1, "/posts/a/"),
        comment(2, "/posts/a/"),
        comment(3, "/posts/b/"),
    );
    assert!(git
        .deliver(&[a.clone(), b.clone(), c.clone()])
        .iter()
        .all(Result::is_ok));
    let moderator = site.backend(Mode::Review, "moderator");
    assert_eq!(pending_ids(&moderator), [a.id, b.id, c.id]);

    // The first approval fast-forwards; the second needs a merge commit.
    assert_eq!(moderator.approve(a.id).unwrap().comment, a);
    assert_eq!(moderator.approve(b.id).unwrap().comment, b);
    let rejected = moderator.reject(c.id).unwrap();
    assert_eq!(rejected.location, format!("cairn/{}", c.id));
    assert_eq!(site.branches(), ["main"]);
    for x in [&a, &b] {
        assert_eq!(
            site.file("main", &format!("comments/posts/a/{}.yml", x.id)),
            Some(x.to_yaml())
        );
    }
    assert_eq!(
        site.file("main", &format!("comments/posts/b/{}.yml", c.id)),
        None
    );
    assert!(moderator.pending().unwrap().is_empty());
    let err = moderator.approve(c.id).unwrap_err().to_string();
    assert!(
        err.contains(&format!("no pending comment with id {}", c.id)),
        "{err}"
    );

    // Approved comments still count as existing (for replies), rejected ones do not.
    assert!(git.exists("/posts/a/", b.id).unwrap());
    // Delivering an approved comment again (a retry after a crash) recreates nothing.
    assert_eq!(git.deliver(std::slice::from_ref(&a)), [Ok(())]);
    assert_eq!(site.branches(), ["main"]);
}

fn batch_mode_collects_comments_on_one_branch(site: Site) {
    let git = site.backend(Mode::Batch, "inbox");
    let comments: Vec<Comment> = (0..5).map(|n| comment(n, "/posts/a/")).collect();
    assert!(git.deliver(&comments[..3]).iter().all(Result::is_ok));
    assert!(git.deliver(&comments[2..]).iter().all(Result::is_ok));
    assert_eq!(site.branches(), ["cairn/pending", "main"]);
    let ids: Vec<String> = comments.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(site.delivered_ids("cairn/pending"), ids);

    let moderator = site.backend(Mode::Batch, "moderator");
    assert_eq!(moderator.pending().unwrap().len(), 5);
    moderator.approve(comments[1].id).unwrap();
    moderator.reject(comments[3].id).unwrap();
    let path = |c: &Comment| format!("comments/posts/a/{}.yml", c.id);
    assert!(site.file("main", &path(&comments[1])).is_some());
    assert!(site.file("cairn/pending", &path(&comments[1])).is_none());
    assert!(site.file("cairn/pending", &path(&comments[3])).is_none());
    assert_eq!(
        pending_ids(&moderator),
        [comments[0].id, comments[2].id, comments[4].id]
    );
}

impl Site {
    fn tip(&self, branch: &str) -> Oid {
        self.repo()
            .refname_to_id(&format!("refs/heads/{branch}"))
            .unwrap()
    }

    /// Commits on the site branch, as a moderator on the forge would: `take` files
    /// from the tip of branch `from`, `remove` others; `merge` makes it a merge commit
    /// of `from`, else it is a squash.
    fn commit_on_main(&self, from: &str, take: &[&str], remove: &[&str], merge: bool) {
        let repo = self.repo();
        let main = repo.find_commit(self.tip("main")).unwrap();
        let batch = repo.find_commit(self.tip(from)).unwrap();
        let mut update = TreeUpdateBuilder::new();
        for path in take {
            let blob = batch
                .tree()
                .unwrap()
                .get_path(Path::new(path))
                .unwrap()
                .id();
            update.upsert(*path, blob, FileMode::Blob);
        }
        for path in remove {
            update.remove(*path);
        }
        let tree = update.create_updated(&repo, &main.tree().unwrap()).unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let sig = Signature::now("Moderator", "mod@example.org").unwrap();
        let parents = if merge {
            vec![&main, &batch]
        } else {
            vec![&main]
        };
        repo.commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "on main",
            &tree,
            &parents,
        )
        .unwrap();
    }

    /// What merging the batch branch into the site branch would change, by path.
    fn merge_would_change(&self) -> Vec<String> {
        let repo = self.repo();
        let tree = |branch| repo.find_commit(self.tip(branch)).unwrap().tree().unwrap();
        let diff = repo
            .diff_tree_to_tree(Some(&tree("main")), Some(&tree("cairn/pending")), None)
            .unwrap();
        diff.deltas()
            .map(|d| {
                format!(
                    "{:?} {}",
                    d.status(),
                    d.new_file().path().unwrap().display()
                )
            })
            .collect()
    }
}

/// A batch pull request squashed (or rebased) into the site branch leaves the batch
/// branch behind with the same comments. The next delivery joins the two, so those
/// comments are not offered for review again, and one the site removed since (an
/// erasure) is not brought back by the next merge.
fn a_batch_taken_in_by_the_site_is_not_offered_again_nor_brought_back(site: Site) {
    let git = site.backend(Mode::Batch, "inbox");
    let comments: Vec<Comment> = (0..4).map(|n| comment(n, "/posts/a/")).collect();
    let path = |c: &Comment| format!("comments/posts/a/{}.yml", c.id);
    let paths: Vec<String> = comments.iter().map(path).collect();
    assert!(git.deliver(&comments[..2]).iter().all(Result::is_ok));
    site.commit_on_main("cairn/pending", &[&paths[0], &paths[1]], &[], false);
    site.commit_on_main("cairn/pending", &[], &[&paths[0]], false);
    assert!(
        git.pending().unwrap().is_empty(),
        "erased is not offered again"
    );
    let before = site.tip("cairn/pending");

    assert!(git.deliver(&comments[2..3]).iter().all(Result::is_ok));
    let repo = site.repo();
    let batch = site.tip("cairn/pending");
    assert!(
        repo.graph_descendant_of(batch, before).unwrap(),
        "a fast-forward"
    );
    assert!(repo.graph_descendant_of(batch, site.tip("main")).unwrap());
    assert!(
        site.file("cairn/pending", &paths[0]).is_none(),
        "erased stays erased"
    );
    assert_eq!(site.merge_would_change(), [format!("Added {}", paths[2])]);
    assert_eq!(pending_ids(&git), [comments[2].id]);

    // Merged the usual way, the batch branch moves on to the site's tip.
    site.commit_on_main("cairn/pending", &[&paths[2]], &[], true);
    assert!(git.deliver(&comments[3..]).iter().all(Result::is_ok));
    let batch = repo.find_commit(site.tip("cairn/pending")).unwrap();
    assert_eq!(batch.parent_ids().collect::<Vec<_>>(), [site.tip("main")]);
    assert_eq!(site.merge_would_change(), [format!("Added {}", paths[3])]);
}

/// A review branch squashed into the site branch stays behind; once its comment is
/// erased from the site, it is not offered for approval again.
fn a_review_branch_squashed_then_erased_is_not_offered_again(site: Site) {
    let git = site.backend(Mode::Review, "inbox");
    let comments: Vec<Comment> = (0..2).map(|n| comment(n, "/posts/a/")).collect();
    assert!(git.deliver(&comments).iter().all(Result::is_ok));
    let path = format!("comments/posts/a/{}.yml", comments[0].id);
    let branch = format!("cairn/{}", comments[0].id);
    site.commit_on_main(&branch, &[&path], &[], false);
    site.commit_on_main(&branch, &[], &[&path], false);
    assert_eq!(pending_ids(&git), [comments[1].id]);
    assert!(git.approve(comments[0].id).is_err());
    assert!(site.file("main", &path).is_none());
}

/// Review branches taken in without `cairn moderate` (merged by hand, squashed, then
/// perhaps erased or edited on the site) are deleted; pending ones, an edit still
/// waiting, and branches that are not cairn's requests stay.
fn branches_the_site_took_in_by_hand_are_swept_and_pending_ones_stay(site: Site) {
    let git = site.backend(Mode::Review, "inbox");
    let comments: Vec<Comment> = (0..6).map(|n| comment(n, "/posts/a/")).collect();
    assert!(git.deliver(&comments).iter().all(Result::is_ok));
    let path = |c: &Comment| format!("comments/posts/a/{}.yml", c.id);
    let branch = |c: &Comment| format!("cairn/{}", c.id);
    let [merged, squashed, merged_then_erased, squashed_then_erased, edited, waiting] =
        &comments[..]
    else {
        unreachable!()
    };
    site.commit_on_main(&branch(merged), &[&path(merged)], &[], true);
    site.commit_on_main(&branch(squashed), &[&path(squashed)], &[], false);
    for (c, merge) in [(merged_then_erased, true), (squashed_then_erased, false)] {
        site.commit_on_main(&branch(c), &[&path(c)], &[], merge);
        site.commit_on_main(&branch(c), &[], &[&path(c)], false);
    }
    site.commit_on_main(&branch(edited), &[&path(edited)], &[], true);
    // Authors ask for changes: one merged by hand, one still waiting.
    let mut changed = merged.clone();
    changed.body = "Changed, and merged by hand".into();
    git.propose(merged, Some(&changed)).unwrap();
    let change = format!("cairn/change-{}", merged.id);
    site.commit_on_main(&change, &[&path(merged)], &[], false);
    let mut asked = edited.clone();
    asked.body = "Changed, still waiting".into();
    git.propose(edited, Some(&asked)).unwrap();
    // Not a request of cairn's, though the site has all of it.
    site.repo()
        .reference("refs/heads/cairn/notes", site.tip("main"), false, "notes")
        .unwrap();

    let mut swept = git.sweep().unwrap();
    swept.sort();
    let mut expected: Vec<String> = [
        merged,
        squashed,
        merged_then_erased,
        squashed_then_erased,
        edited,
    ]
    .into_iter()
    .map(branch)
    .chain([change])
    .collect();
    expected.sort();
    assert_eq!(swept, expected);
    let mut left = vec![
        branch(waiting),
        format!("cairn/change-{}", edited.id),
        "cairn/notes".to_string(),
        "main".to_string(),
    ];
    left.sort();
    assert_eq!(site.branches(), left);
    let pending: Vec<(Ulid, Ask)> = git
        .pending()
        .unwrap()
        .into_iter()
        .map(|p| (p.comment.id, p.ask))
        .collect();
    assert_eq!(
        pending,
        [
            (
                edited.id,
                Ask::Edit {
                    was: edited.body.clone()
                }
            ),
            (waiting.id, Ask::Publish)
        ]
    );
    assert_eq!(site.file("main", &path(merged)), Some(changed.to_yaml()));
    assert!(git.sweep().unwrap().is_empty(), "nothing more to sweep");
}

fn direct_mode_commits_to_the_site_branch(site: Site) {
    let git = site.backend(Mode::Direct, "inbox");
    let comments: Vec<Comment> = (0..3).map(|n| comment(n, "/posts/a/")).collect();
    assert!(git.deliver(&comments).iter().all(Result::is_ok));
    assert!(git.deliver(&comments).iter().all(Result::is_ok));
    assert_eq!(site.branches(), ["main"]);
    let ids: Vec<String> = comments.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(site.delivered_ids("main"), ids);
    assert!(git.pending().unwrap().is_empty());
}

/// Regression: creating the batch branch was check-then-write in libgit2's transport
/// for a local path, so two replicas creating it at once could both "succeed" and one
/// comment was lost.
fn replicas_racing_to_push_lose_nothing(site: Site) {
    let replicas: Vec<Git> = (0..3)
        .map(|i| site.backend(Mode::Batch, &format!("replica{i}")))
        .collect();
    std::thread::scope(|scope| {
        for (i, git) in replicas.iter().enumerate() {
            scope.spawn(move || {
                for round in 0..5u32 {
                    let n = u32::try_from(i).unwrap() * 100 + round;
                    // A delivery that kept losing races is retried, as the worker does.
                    let delivered =
                        (0..5).any(|_| git.deliver(&[comment(n, "/posts/a/")]) == [Ok(())]);
                    assert!(delivered, "replica {i} round {round}");
                }
            });
        }
    });
    let mut delivered = site.delivered_ids("cairn/pending");
    assert_eq!(delivered.len(), 15, "{delivered:?}");
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), 15);
}

/// An inbox of `site` in `mode` that delivered one comment.
fn delivered_one(site: &Site, mode: Mode) -> (Git, Comment) {
    let git = site.backend(mode, "inbox");
    let c = comment(1, "/posts/a/");
    assert_eq!(git.deliver(std::slice::from_ref(&c)), [Ok(())]);
    (git, c)
}

/// Deleting a branch checks that it is still where the caller saw it: one moved since
/// (an author's edit, a replica's new commit) is left alone, and the others of the
/// same push are deleted.
fn deleting_a_branch_that_moved_is_refused(site: Site) {
    let git = site.backend(Mode::Review, "inbox");
    let comments = [comment(1, "/posts/a/"), comment(2, "/posts/a/")];
    assert_eq!(git.deliver(&comments), [Ok(()), Ok(())]);
    let [moved, kept] = comments.map(|c| format!("cairn/{}", c.id));
    let deletion = |branch: &str, old| Update {
        branch: branch.to_string(),
        new: None,
        old: Some(old),
    };
    let repo = git.repo().unwrap();
    let refused = git
        .push(
            &repo,
            &[
                deletion(&moved, site.tip("main")),
                deletion(&kept, site.tip(&kept)),
            ],
        )
        .unwrap();
    assert_eq!(refused, [(moved.clone(), "the branch moved".to_string())]);
    assert_eq!(site.branches(), [moved.clone(), "main".to_string()]);
    assert!(git
        .push(&repo, &[deletion(&moved, site.tip(&moved))])
        .unwrap()
        .is_empty());
    assert_eq!(site.branches(), ["main"]);
}

/// An author's edit that reaches a comment's branch while a moderator approves it (here
/// pushed by the remote's own hook the moment the approval reaches the site branch)
/// is not deleted with the branch: the approval merges it too, as it would an edit
/// made a moment before.
#[test]
fn an_edit_made_during_an_approval_is_published_not_lost() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::served();
    let (git, c) = delivered_one(&site, Mode::Review);
    let branch = format!("cairn/{}", c.id);
    let first = site.tip(&branch);
    let edited = Comment {
        body: "Comment number 1, put better".into(),
        ..c.clone()
    };
    site.backend(Mode::Review, "author")
        .revise(&edited)
        .unwrap();
    let edit = site.tip(&branch);
    assert_ne!(edit, first);
    let repo = site.repo();
    repo.reference(&format!("refs/heads/{branch}"), first, true, "test: back")
        .unwrap();
    let hook = site.remote.join("hooks/post-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nwhile read old new ref; do\n  [ \"$ref\" = refs/heads/main ] && \
             git update-ref refs/heads/{branch} {edit}\ndone\nexit 0\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let approved = git.approve(c.id).unwrap();
    assert_eq!(approved.comment, edited);
    let path = format!("comments/posts/a/{}.yml", c.id);
    assert_eq!(site.file("main", &path), Some(edited.to_yaml()));
    assert_eq!(site.branches(), ["main"]);
}

/// The batch branch rolls on: merged, it stays.
#[test]
fn the_batch_branch_is_not_swept() {
    let site = Site::local();
    let (git, c) = delivered_one(&site, Mode::Batch);
    let path = format!("comments/posts/a/{}.yml", c.id);
    site.commit_on_main("cairn/pending", &[&path], &[], true);
    assert!(git.sweep().unwrap().is_empty());
    assert_eq!(site.branches(), ["cairn/pending", "main"]);
}

/// A mirror that lacks an object its branches reach (a damaged copy) is made anew: the
/// attempt that finds it fails and says so, and the next copies the repository again.
#[test]
fn a_damaged_mirror_is_copied_again() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let site = Site::local();
    let (git, c) = delivered_one(&site, Mode::Review);
    let file = site
        .repo()
        .find_commit(site.tip(&format!("cairn/{}", c.id)))
        .unwrap()
        .tree()
        .unwrap()
        .get_path(Path::new(&format!("comments/posts/a/{}.yml", c.id)))
        .unwrap()
        .id()
        .to_string();
    // The mirror's objects packed again, all but the comment's file.
    let mirror = site.dir.path().join("inbox/repo.git");
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new("git")
            .args(args)
            .current_dir(&mirror)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let objects = run(&["rev-list", "--objects", "--all"], "");
    let kept: String = objects
        .lines()
        .filter(|l| !l.starts_with(&file))
        .map(|l| format!("{}\n", &l[..40]))
        .collect();
    let packs = mirror.join("objects/pack");
    let old: Vec<PathBuf> = std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    run(&["pack-objects", "-q", "objects/pack/pack"], &kept);
    for path in old {
        std::fs::remove_file(path).unwrap();
    }

    let err = format!("{:#}", git.pending().unwrap_err());
    assert!(
        err.contains("lacked objects: it was removed, and the next attempt copies"),
        "{err}"
    );
    assert_eq!(pending_ids(&git), [c.id]);
    let next = comment(2, "/posts/a/");
    assert_eq!(git.deliver(std::slice::from_ref(&next)), [Ok(())]);
    assert_eq!(pending_ids(&git), [c.id, next.id]);
}

#[test]
fn an_unreachable_remote_fails_the_whole_round_as_unavailable() {
    let site = Site::local();
    let git = site.backend(Mode::Review, "inbox");
    std::fs::rename(&site.remote, site.dir.path().join("moved.git")).unwrap();
    let results = git.deliver(&[comment(1, "/posts/a/"), comment(2, "/posts/b/")]);
    assert_eq!(results.len(), 2);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(DeliveryError::Unavailable(m)) if m.contains("cannot fetch"))),
        "{results:?}"
    );
}

#[test]
fn a_remote_that_is_read_but_not_written_fails_a_round_for_a_person_to_look_at() {
    let site = Site::served_so(false);
    let git = site.backend(Mode::Review, "inbox");
    let results = git.deliver(&[comment(1, "/posts/a/")]);
    assert!(
        matches!(&results[0], Err(DeliveryError::Transient(m)) if m.contains("cannot push to")),
        "{results:?}"
    );
    // Not an outage: it answers the inbox's question, which would queue the comment
    // again every time.
    assert!(git.pending().unwrap().is_empty());
}

#[test]
fn the_host_of_an_ssh_remote_is_read_from_either_form() {
    for (remote, host, port) in [
        ("ssh://git@github.com/owner/site.git", "github.com", None),
        (
            "ssh://deploy@git.example.org:2222/srv/site.git",
            "git.example.org",
            Some(2222),
        ),
        ("ssh://[::1]:2200/site.git", "::1", Some(2200)),
        ("git@github.com:owner/site.git", "github.com", None),
        ("git.example.org:site.git", "git.example.org", None),
    ] {
        assert_eq!(ssh_host(remote), (host.to_string(), port), "{remote}");
    }
}

#[test]
fn a_path_with_an_at_sign_is_a_repository_relative_to_cairn_toml() {
    let mut site = Site::local();
    let renamed = site.dir.path().join("me@site.git");
    std::fs::rename(&site.remote, &renamed).unwrap();
    site.remote = renamed;
    site.url = "me@site.git".into();
    let git = site.backend(Mode::Review, "inbox");
    let c = comment(1, "/posts/a/");
    assert_eq!(git.deliver(std::slice::from_ref(&c)), [Ok(())]);
    assert_eq!(site.branches(), [format!("cairn/{}", c.id), "main".into()]);
}

#[test]
fn remotes_are_paths_or_urls_as_git_reads_them() {
    for path in [
        "site.git",
        "../site.git",
        "/srv/git/me@site.git",
        "./a:b.git",
        "/x/y:z",
    ] {
        assert!(is_path(path), "{path}");
    }
    for url in [
        "git@github.com:owner/site.git",
        "git.example.org:site.git",
        "[::1]:site.git",
        "ssh://git@github.com/owner/site.git",
        "https://github.com/owner/site.git",
        "file:///srv/git/site.git",
    ] {
        assert!(!is_path(url), "{url}");
    }
}

#[test]
fn many_small_packs_are_packed_into_one_and_large_ones_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let files = [("a", "a\n"), ("b", "b\n"), ("c", "c\n")];
    let remote = Repository::open(test_remote(dir.path(), &files)).unwrap();
    let mirror = Repository::init_bare(dir.path().join("mirror.git")).unwrap();
    let base = remote.refname_to_id("refs/heads/main").unwrap();
    // The site's history: its commit, its root and three files.
    copy_objects(&remote, &mirror, &[base], &[]).unwrap();
    let sig = git2::Signature::now("t", "t@localhost").unwrap();
    let mut tips = vec![base];
    // Three fetches, each bringing a commit, its root and a file: three packs more.
    for n in 0..3 {
        let parent = remote.find_commit(*tips.last().unwrap()).unwrap();
        let mut update = TreeUpdateBuilder::new();
        let blob = remote.blob(format!("text {n}").as_bytes()).unwrap();
        update.upsert(format!("f{n}"), blob, FileMode::Blob);
        let tree = update
            .create_updated(&remote, &parent.tree().unwrap())
            .unwrap();
        let tree = remote.find_tree(tree).unwrap();
        let tip = remote
            .commit(Some("refs/heads/main"), &sig, &sig, "c", &tree, &[&parent])
            .unwrap();
        // A new handle sees the packs written since: the commits before are not sent.
        let mirror = Repository::open_bare(mirror.path()).unwrap();
        copy_objects(&remote, &mirror, &[tip], &tips).unwrap();
        mirror
            .reference("refs/remotes/origin/main", tip, true, "t")
            .unwrap();
        tips.push(tip);
    }
    let indexes = || pack_indexes(mirror.path());
    let sizes = || -> Vec<usize> { indexes().iter().map(|idx| objects_in(idx)).collect() };
    assert_eq!(indexes().len(), 4);
    consolidate(&mirror, 4, u32::MAX).unwrap();
    assert_eq!(indexes().len(), 4, "at the limit, left alone");
    // Three packs of three objects are more than two: they become one; the pack of
    // five stays as it was.
    let history = indexes()
        .into_iter()
        .find(|idx| objects_in(idx) == 5)
        .unwrap();
    consolidate(&mirror, 2, 4).unwrap();
    let mut now = sizes();
    now.sort();
    assert_eq!(now, [5, 9]);
    assert!(history.exists());
    // Every commit, tree and file the reference reaches is still there.
    let mirror = Repository::open_bare(mirror.path()).unwrap();
    assert_whole(&mirror, tips[3]);
    // With no pack too large, all become one.
    consolidate(&mirror, 1, u32::MAX).unwrap();
    assert_eq!(sizes(), [14]);
    assert_whole(&mirror, tips[3]);
}

#[test]
fn many_loose_references_are_packed_and_all_still_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let remote = Repository::open(test_remote(dir.path(), &[("a", "first")])).unwrap();
    let tip = remote.refname_to_id("refs/heads/main").unwrap();
    let loose = || {
        walkdir::WalkDir::new(remote.path().join("refs"))
            .into_iter()
            .filter(|e| e.as_ref().unwrap().file_type().is_file())
            .count()
    };
    for n in 0..5 {
        remote
            .reference(&format!("refs/heads/cairn/{n}"), tip, false, "t")
            .unwrap();
    }
    assert_eq!(loose(), 6);
    pack_refs(&remote, 6).unwrap();
    assert_eq!(loose(), 6, "at the limit, left alone");
    pack_refs(&remote, 5).unwrap();
    assert_eq!(loose(), 0);
    let remote = Repository::open_bare(remote.path()).unwrap();
    for n in 0..5 {
        assert_eq!(
            remote
                .refname_to_id(&format!("refs/heads/cairn/{n}"))
                .unwrap(),
            tip
        );
    }
    // A packed reference is updated and deleted as a loose one is.
    let other = remote
        .commit(
            None,
            &git2::Signature::now("t", "t@localhost").unwrap(),
            &git2::Signature::now("t", "t@localhost").unwrap(),
            "c",
            &remote.find_commit(tip).unwrap().tree().unwrap(),
            &[&remote.find_commit(tip).unwrap()],
        )
        .unwrap();
    remote
        .reference_matching("refs/heads/cairn/0", other, true, tip, "t")
        .unwrap();
    remote
        .find_reference("refs/heads/cairn/1")
        .unwrap()
        .delete()
        .unwrap();
    let remote = Repository::open_bare(remote.path()).unwrap();
    assert_eq!(remote.refname_to_id("refs/heads/cairn/0").unwrap(), other);
    assert!(remote.find_reference("refs/heads/cairn/1").is_err());
    assert_eq!(
        remote
            .references_glob("refs/heads/cairn/*")
            .unwrap()
            .count(),
        4
    );
}

#[test]
fn a_delivery_stores_the_new_comment_and_its_trees_not_the_site_again() {
    let dir = tempfile::tempdir().unwrap();
    let pages: Vec<(String, String)> = (0..200)
        .map(|n| (format!("content/p{n}.md"), format!("page {n}\n")))
        .collect();
    let files: Vec<(&str, &str)> = pages
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let remote = test_remote(dir.path(), &files);
    let mut config = Config::default_for_test(dir.path());
    config.inbox.delivery.remote = Some(remote.to_string_lossy().into_owned());
    config.inbox.delivery.mode = Mode::Review;
    let git = Git::open(&config, &dir.path().join("inbox")).unwrap();
    let mirror = dir.path().join("inbox/repo.git");
    let indexes = || pack_indexes(&mirror);
    // The first delivery fetches the site (its 200 files) into the mirror.
    assert_eq!(git.deliver(&[comment(1, "/posts/a/")]), [Ok(())]);
    let before = indexes();
    assert_eq!(git.deliver(&[comment(2, "/posts/a/")]), [Ok(())]);
    let objects: usize = indexes()
        .difference(&before)
        .map(|idx| objects_in(idx))
        .sum();
    // One commit, the comment's file, and the trees on its path: the root, comments/,
    // comments/posts/ and comments/posts/a/.
    assert_eq!(objects, 6);
}

/// The pack indexes of the repository at `git_dir`.
fn pack_indexes(git_dir: &Path) -> std::collections::BTreeSet<PathBuf> {
    std::fs::read_dir(git_dir.join("objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .collect()
}

/// How many objects the pack of index `idx` holds.
fn objects_in(idx: &Path) -> usize {
    object_count(idx).unwrap() as usize
}

/// Asserts that `repo` holds every commit, directory and file that `tip` reaches.
fn assert_whole(repo: &Repository, tip: Oid) {
    fn held(repo: &Repository, id: Oid) {
        let tree = repo
            .find_tree(id)
            .unwrap_or_else(|e| panic!("tree {id}: {e}"));
        for entry in &tree {
            match entry.kind() {
                Some(git2::ObjectType::Tree) => held(repo, entry.id()),
                Some(git2::ObjectType::Blob) => {
                    let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                    repo.find_blob(entry.id())
                        .unwrap_or_else(|e| panic!("file {name}: {e}"));
                }
                _ => {}
            }
        }
    }
    let mut walk = repo.revwalk().unwrap();
    walk.push(tip).unwrap();
    for oid in walk {
        let commit = repo.find_commit(oid.unwrap()).unwrap();
        held(repo, commit.tree_id());
    }
}

#[test]
fn copying_commits_sends_what_they_change_and_leaves_the_copy_whole() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("a", "a\n"),
        ("d/e/f", "f\n"),
        ("d/g", "g\n"),
        ("k/l", "l\n"),
    ];
    let remote = Repository::open(test_remote(dir.path(), &files)).unwrap();
    let base = remote.refname_to_id("refs/heads/main").unwrap();
    let target = Repository::init_bare(dir.path().join("target.git")).unwrap();
    // Nothing known: the whole history goes.
    copy_objects(&remote, &target, &[base], &[]).unwrap();
    assert_whole(&target, base);

    let sig = git2::Signature::now("t", "t@localhost").unwrap();
    let commit = |parents: &[Oid], changes: &[(&str, Option<(&str, FileMode)>)]| {
        let parents: Vec<Commit<'_>> = parents
            .iter()
            .map(|p| remote.find_commit(*p).unwrap())
            .collect();
        let mut update = TreeUpdateBuilder::new();
        for (path, change) in changes {
            match change {
                Some((text, FileMode::Commit)) => update.upsert(
                    *path,
                    Oid::hash_object(git2::ObjectType::Commit, text.as_bytes()).unwrap(),
                    FileMode::Commit,
                ),
                Some((text, mode)) => {
                    update.upsert(*path, remote.blob(text.as_bytes()).unwrap(), *mode)
                }
                None => update.remove(*path),
            };
        }
        let tree = update
            .create_updated(&remote, &parents[0].tree().unwrap())
            .unwrap();
        let tree = remote.find_tree(tree).unwrap();
        let parents: Vec<&Commit<'_>> = parents.iter().collect();
        remote
            .commit(None, &sig, &sig, "c", &tree, &parents)
            .unwrap()
    };
    // One side changes a deep file, removes one, adds a directory and a submodule; the
    // other adds a file deep down; a merge joins them.
    let one = commit(
        &[base],
        &[
            ("d/e/f", Some(("f, changed\n", FileMode::Blob))),
            ("d/g", None),
            ("x/y", Some(("y\n", FileMode::Blob))),
            ("theme", Some(("a theme's commit", FileMode::Commit))),
        ],
    );
    let other = commit(&[base], &[("d/e/h", Some(("h\n", FileMode::Blob)))]);
    let merge = commit(&[one, other], &[("d/e/h", Some(("h\n", FileMode::Blob)))]);
    let before = pack_indexes(target.path());
    copy_objects(&remote, &target, &[merge], &[base]).unwrap();
    assert_whole(&target, merge);
    let new: Vec<_> = pack_indexes(target.path())
        .difference(&before)
        .cloned()
        .collect();
    assert_eq!(new.len(), 1);
    let objects = objects_in(&new[0]);
    // The three commits. The first side: its root, d, d/e, f's new text, x and y. The
    // other side: root, d, d/e and h. The merge: root, d and d/e, each of them new;
    // what is in them is its parents'. Not the submodule's commit (another
    // repository's), nor a, k or k/l, which the target holds.
    assert_eq!(objects, 3 + 6 + 4 + 3);

    // A merge made with `--no-ff` while the site branch stood still (by hand, or a
    // forge's merge button) has the very tree of the branch it merges. With both new
    // to the target, the copy is whole all the same.
    let side = commit(&[merge], &[("n/o/p", Some(("p\n", FileMode::Blob)))]);
    let no_ff = commit(&[merge, side], &[("n/o/p", Some(("p\n", FileMode::Blob)))]);
    let tree = |c| remote.find_commit(c).unwrap().tree_id();
    assert_eq!(tree(no_ff), tree(side));
    copy_objects(&remote, &target, &[no_ff], &[merge]).unwrap();
    assert_whole(&target, no_ff);
}
