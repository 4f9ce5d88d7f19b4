//! Spool tests: durability on disk, state changes, recovery after a restart.

use chrono::TimeZone;

use super::*;

fn comment(n: u32, body: &str) -> Comment {
    let date =
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(n.into());
    Comment {
        id: Ulid::from_parts(
            u64::try_from(date.timestamp_millis()).unwrap(),
            u128::from(n),
        ),
        thread: "/posts/a/".into(),
        parent: None,
        date,
        author: Some("Ann".into()),
        website: None,
        avatar: Some("0123456789abcdef".into()),
        origin: None,
        body: body.into(),
    }
}

fn files(dir: &Path, sub: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(sub))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn accepted_items_are_files_that_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let c = comment(1, "Hello");
    spool.accept(&c).await.unwrap();
    spool.flush();
    assert_eq!(files(dir.path(), "queued"), [format!("{}.json", c.id)]);
    let text = std::fs::read_to_string(dir.path().join(format!("queued/{}.json", c.id))).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(stored["comment"], c.to_yaml());

    // A crash in the middle of a delivery: the item is taken, then the process dies.
    assert_eq!(spool.take_due(Utc::now(), 10), std::slice::from_ref(&c));
    assert_eq!(spool.depth()[&State::Delivering], 1);
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.depth()[&State::Queued], 1);
    assert_eq!(spool.take_due(Utc::now(), 10), std::slice::from_ref(&c));
    spool.delivered(c.id).unwrap();
    assert_eq!(files(dir.path(), "queued"), Vec::<String>::new());
    assert_eq!(files(dir.path(), "delivered"), [format!("{}.json", c.id)]);
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.depth()[&State::Delivered], 1);
    assert!(spool.take_due(Utc::now(), 10).is_empty());
    // Delivered items still count for duplicate detection.
    assert!(matches!(
        spool.accept(&comment(9, "  Hello ")).await,
        Err(AcceptError::Duplicate)
    ));
    assert_eq!(
        spool.thread_of(c.id),
        Some(("/posts/a/".to_string(), State::Delivered))
    );
}

#[tokio::test]
async fn one_spool_serves_one_inbox_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let err = format!("{:#}", Spool::open(dir.path()).err().unwrap());
    assert!(err.contains("in use by another cairn inbox"), "{err}");
    assert!(
        err.contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    // Dropped, it is free again, at once, with what was accepted in it.
    spool.accept(&comment(1, "Hello")).await.unwrap();
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.depth()[&State::Queued], 1);
}

#[tokio::test]
async fn a_journal_segment_that_cannot_be_made_does_not_stop_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    // Something in the way of the next segment, as a disk that was full left one
    // half-made: neither the spare nor a new file can take its place.
    let obstacle = dir.path().join("journal/0000000000000001.log");
    std::fs::create_dir_all(obstacle.join("in-the-way")).unwrap();
    let c = comment(1, "Hello");
    assert!(matches!(
        spool.accept(&c).await,
        Err(AcceptError::Unavailable(_))
    ));
    // The reader tries again: the comment is taken, not a duplicate of the failed one.
    spool.accept(&c).await.unwrap();
    spool.accept(&comment(2, "Again")).await.unwrap();
    spool.flush();
    assert_eq!(files(dir.path(), "queued").len(), 2);
    drop(spool);
    std::fs::remove_dir_all(&obstacle).unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.depth()[&State::Queued], 2);
}

#[tokio::test]
async fn an_item_whose_file_cannot_be_written_yet_is_written_once_it_can() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let c = comment(1, "Hello");
    // Something in the way of the item's own file, as a full disk would be.
    let obstacle = dir.path().join(format!("queued/{}.json", c.id));
    std::fs::create_dir_all(obstacle.join("in-the-way")).unwrap();
    spool.accept(&c).await.unwrap();
    spool.flush();
    assert!(spool.take_due(Utc::now(), 10).is_empty(), "not on disk yet");
    let logs = |dir: &Path| crate::testing::files_ending(&dir.join("journal"), "log");
    assert_eq!(logs(dir.path()), 1, "the journal keeps it meanwhile");
    // Once there is room, it is written without a restart, delivered, and the journal
    // lets its segment go.
    std::fs::remove_dir_all(&obstacle).unwrap();
    spool.flush();
    assert_eq!(spool.take_due(Utc::now(), 10), std::slice::from_ref(&c));
    assert_eq!(logs(dir.path()), 0);
}

#[test]
fn a_segment_the_disk_cannot_hold_leaves_nothing_behind() {
    // A file system of 1 MiB: the 8 MiB segment does not fit. Mounting needs
    // privileges a CI machine has and a container may not.
    struct Mounted(tempfile::TempDir);
    impl Drop for Mounted {
        fn drop(&mut self) {
            // Lazily: the spool's writer thread may still be closing its files.
            let _ = std::process::Command::new("umount")
                .arg("--lazy")
                .arg(self.0.path())
                .status();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here");
        return;
    }
    let dir = Mounted(dir);
    let dir = &dir.0;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let failed = runtime.block_on(spool.accept(&comment(1, "Hello")));
    assert!(matches!(failed, Err(AcceptError::Unavailable(_))));
    let journal: Vec<String> = std::fs::read_dir(dir.path().join("journal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".log"))
        .collect();
    assert!(journal.is_empty(), "{journal:?}");
}

#[tokio::test]
async fn concurrent_accepts_are_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    let spool = std::sync::Arc::new(Spool::open(dir.path()).unwrap());
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let spool = spool.clone();
            tokio::spawn(async move { spool.accept(&comment(n, &format!("text {n}"))).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    spool.flush();
    assert_eq!(files(dir.path(), "queued").len(), 200);
    assert_eq!(load(dir.path()).unwrap().len(), 200);
}

#[tokio::test]
async fn a_full_backlog_turns_comments_away_until_delivery_makes_room() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap().with_max_waiting(2);
    let (a, b, c) = (comment(1, "one"), comment(2, "two"), comment(3, "three"));
    spool.accept(&a).await.unwrap();
    spool.accept(&b).await.unwrap();
    assert!(matches!(spool.accept(&c).await, Err(AcceptError::Full)));
    spool.flush();
    assert_eq!(
        files(dir.path(), "queued").len(),
        2,
        "nothing of it is kept"
    );
    // Being delivered is still waiting; delivered or parked is not.
    assert_eq!(spool.take_due(Utc::now(), 1), std::slice::from_ref(&a));
    assert!(matches!(spool.accept(&c).await, Err(AcceptError::Full)));
    spool.delivered(a.id).unwrap();
    spool.accept(&c).await.unwrap();
    spool.take_due(Utc::now(), 10);
    assert_eq!(
        spool
            .attempt_failed(
                b.id,
                "remote down",
                1,
                false,
                |_| chrono::Duration::seconds(60)
            )
            .unwrap(),
        Failed::Parked { news: true }
    );
    spool.accept(&comment(4, "four")).await.unwrap();
    // The backlog on disk counts after a restart.
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap().with_max_waiting(2);
    assert!(matches!(
        spool.accept(&comment(5, "five")).await,
        Err(AcceptError::Full)
    ));
    // No limit at all with 0.
    let spool = spool.with_max_waiting(0);
    spool.accept(&comment(5, "five")).await.unwrap();
}

/// Retries and new comments are taken alike, oldest first, each when it is due, and
/// the worker hears when the next retry is due: before and after a restart.
#[tokio::test]
async fn retries_and_new_comments_are_taken_oldest_first_when_due() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let (a, b, c) = (comment(1, "one"), comment(2, "two"), comment(3, "three"));
    spool.accept(&a).await.unwrap();
    spool.accept(&b).await.unwrap();
    spool.flush();
    assert_eq!(spool.take_due(Utc::now(), 10), [a.clone(), b.clone()]);
    let seconds = chrono::Duration::seconds;
    spool
        .attempt_failed(a.id, "remote down", 5, false, |_| seconds(60))
        .unwrap();
    spool
        .attempt_failed(b.id, "remote down", 5, false, |_| seconds(30))
        .unwrap();
    spool.accept(&c).await.unwrap();
    spool.flush();
    let now = Utc::now();
    assert!(spool.next_due().unwrap() <= now, "c is due now");
    assert_eq!(spool.take_due(now, 10), std::slice::from_ref(&c));
    assert!(spool.take_due(now, 10).is_empty(), "a and b wait");
    let first_retry = spool.next_due().unwrap();
    assert!(first_retry > now + seconds(29) && first_retry <= now + seconds(31));
    spool.delivered(c.id).unwrap();

    // After a restart, from the bookkeeping on disk.
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap();
    assert!(spool.take_due(now, 10).is_empty(), "a and b still wait");
    assert_eq!(spool.next_due(), Some(first_retry));
    assert_eq!(
        spool.take_due(now + seconds(45), 10),
        std::slice::from_ref(&b),
        "b's retry is due, a's is not"
    );
    let later = now + seconds(61);
    assert_eq!(spool.take_due(later, 10), std::slice::from_ref(&a));
    spool
        .attempt_failed(a.id, "remote down", 5, false, |_| seconds(0))
        .unwrap();
    spool.delivered(b.id).unwrap();
    assert_eq!(spool.take_due(Utc::now(), 1), std::slice::from_ref(&a));
    assert_eq!(spool.next_due(), None);
}

/// An item taken but not tried (the inbox stopping mid-batch) is queued again as it
/// was: due at once, with no attempt counted.
#[tokio::test]
async fn an_untried_item_is_queued_again_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let (a, b) = (comment(1, "one"), comment(2, "two"));
    spool.accept(&a).await.unwrap();
    spool.accept(&b).await.unwrap();
    spool.flush();
    assert_eq!(spool.take_due(Utc::now(), 10), [a.clone(), b.clone()]);
    spool.delivered(a.id).unwrap();
    spool.untried(b.id);
    assert_eq!(spool.depth()[&State::Queued], 1);
    assert_eq!(spool.take_due(Utc::now(), 10), std::slice::from_ref(&b));
    drop(spool);
    let listed = load(dir.path()).unwrap();
    let b_listed = listed.iter().find(|l| l.comment.id == b.id).unwrap();
    assert_eq!(b_listed.entry.attempts, 0);
}

#[tokio::test]
async fn failures_back_off_then_park_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let c = comment(1, "Hello");
    spool.accept(&c).await.unwrap();
    let backoff = |_| chrono::Duration::seconds(60);
    spool.flush();
    spool.take_due(Utc::now(), 10);
    assert_eq!(
        spool
            .attempt_failed(c.id, "remote down", 3, false, backoff)
            .unwrap(),
        Failed::Retried
    );
    // Not due again before the backoff has passed.
    assert!(spool.take_due(Utc::now(), 10).is_empty());
    let later = Utc::now() + chrono::Duration::seconds(61);
    assert_eq!(spool.take_due(later, 10).len(), 1);
    assert_eq!(
        spool
            .attempt_failed(c.id, "remote down", 3, false, backoff)
            .unwrap(),
        Failed::Retried
    );
    assert_eq!(
        spool
            .take_due(later + chrono::Duration::seconds(61), 10)
            .len(),
        1
    );
    assert_eq!(
        spool
            .attempt_failed(c.id, "remote still down", 3, false, backoff)
            .unwrap(),
        Failed::Parked { news: true }
    );
    assert_eq!(
        files(dir.path(), "failed"),
        [format!("{}.json", c.id), format!("{}.state.json", c.id)]
    );
    drop(spool);
    let listed = load(dir.path()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].entry.state, State::Failed);
    assert_eq!(listed[0].entry.attempts, 3);
    assert_eq!(
        listed[0].entry.last_error.as_deref(),
        Some("remote still down")
    );
    // A restart, which follows fixing the cause, gives parked items a new round of
    // attempts, due at once.
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.depth()[&State::Failed], 0);
    assert!(files(dir.path(), "failed").is_empty());
    let listed = load(dir.path()).unwrap();
    assert_eq!(listed[0].entry.state, State::Queued);
    assert_eq!(listed[0].entry.attempts, 0);
    let due = spool.take_due(Utc::now(), 10);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, c.id);
    assert_eq!(
        spool
            .attempt_failed(c.id, "remote down again", 3, false, backoff)
            .unwrap(),
        Failed::Retried
    );
}

#[tokio::test]
async fn comments_parked_for_want_of_the_remote_are_queued_again_once_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let (outage, refused) = (comment(1, "Out of reach"), comment(2, "Refused"));
    spool.accept(&outage).await.unwrap();
    spool.accept(&refused).await.unwrap();
    spool.flush();
    assert_eq!(spool.take_due(Utc::now(), 10).len(), 2);
    let now = |_| chrono::Duration::zero();
    assert_eq!(
        spool
            .attempt_failed(outage.id, "cannot fetch", 1, true, now)
            .unwrap(),
        Failed::Parked { news: true }
    );
    assert_eq!(
        spool
            .attempt_failed(refused.id, "push refused", 1, false, now)
            .unwrap(),
        Failed::Parked { news: true }
    );
    assert_eq!(spool.depth()[&State::Failed], 2);
    // Told apart on disk too, for `cairn moderate list`.
    let listed = load(dir.path()).unwrap();
    let outage_of = |id| {
        listed
            .iter()
            .find(|l| l.comment.id == id)
            .unwrap()
            .entry
            .outage
    };
    assert!(outage_of(outage.id) && !outage_of(refused.id));

    assert_eq!(spool.requeue_outages().unwrap(), 1);
    assert_eq!(
        files(dir.path(), "failed"),
        [
            format!("{}.json", refused.id),
            format!("{}.state.json", refused.id)
        ]
    );
    assert_eq!(spool.depth()[&State::Queued], 1);
    assert_eq!(
        spool.take_due(Utc::now(), 10),
        std::slice::from_ref(&outage)
    );
    let listed = load(dir.path()).unwrap();
    let again = listed.iter().find(|l| l.comment.id == outage.id).unwrap();
    assert_eq!(
        (again.entry.state, again.entry.attempts, again.entry.outage),
        (State::Queued, 0, false)
    );
    // Waiting again, it counts for duplicate detection again.
    assert!(matches!(
        spool.accept(&comment(3, "Out of reach")).await,
        Err(AcceptError::Duplicate)
    ));
    assert_eq!(spool.requeue_outages().unwrap(), 0);
}

/// One outage, one piece of news: the first comment parked for want of the remote is,
/// the next ones parked so before it answers are not; a comment's own failure always
/// is; and once the remote has answered, a new outage is news again.
#[tokio::test]
async fn only_the_first_comment_parked_in_an_outage_is_news() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let comments: Vec<Comment> = (1..=5)
        .map(|n| comment(n, &format!("Comment {n}")))
        .collect();
    for c in &comments {
        spool.accept(c).await.unwrap();
    }
    spool.flush();
    assert_eq!(spool.take_due(Utc::now(), 10).len(), 5);
    let now = |_| chrono::Duration::zero();
    let park = |c: &Comment, outage| {
        spool
            .attempt_failed(c.id, "failed", 1, outage, now)
            .unwrap()
    };
    assert_eq!(park(&comments[0], true), Failed::Parked { news: true });
    assert_eq!(park(&comments[1], true), Failed::Parked { news: false });
    assert_eq!(park(&comments[2], false), Failed::Parked { news: true });
    assert_eq!(spool.requeue_outages().unwrap(), 2);
    assert_eq!(park(&comments[3], true), Failed::Parked { news: true });
    // A restart queues every parked comment again: the next outage is news too.
    drop(spool);
    let spool = Spool::open(dir.path()).unwrap();
    spool.take_due(Utc::now(), 10);
    assert_eq!(
        spool
            .attempt_failed(comments[4].id, "failed", 1, true, now)
            .unwrap(),
        Failed::Parked { news: true }
    );
}

#[tokio::test]
async fn a_damaged_item_is_set_aside_and_reported_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    spool.accept(&comment(1, "Hello")).await.unwrap();
    spool.flush();
    drop(spool);
    std::fs::write(
        dir.path().join("queued/01JD3K2AAAAAAAAAAAAAAAAAAA.json"),
        "{ torn",
    )
    .unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.depth()[&State::Queued], 1);
    assert_eq!(
        files(dir.path(), "corrupt"),
        ["01JD3K2AAAAAAAAAAAAAAAAAAA.json"]
    );
}

#[tokio::test]
async fn old_delivered_items_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let c = comment(1, "Hello");
    spool.accept(&c).await.unwrap();
    // Taken only once its own file is written.
    spool.flush();
    assert_eq!(spool.take_due(Utc::now(), 10).len(), 1);
    spool.delivered(c.id).unwrap();
    spool.prune(chrono::Duration::hours(1));
    assert_eq!(files(dir.path(), "delivered").len(), 1);
    spool.prune(chrono::Duration::seconds(-1));
    assert!(files(dir.path(), "delivered").is_empty());
    assert_eq!(spool.thread_of(c.id), None);
}

#[tokio::test]
async fn acknowledged_items_are_restored_from_the_journal_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("journal")).unwrap();
    let (a, b) = (comment(1, "First"), comment(2, "Second"));
    let line = |c: &Comment| {
        serde_json::to_string(&Stored {
            id: c.id.to_string(),
            accepted: Utc::now(),
            comment: c.to_yaml(),
        })
        .unwrap()
    };
    // The process died after syncing the journal, before writing the item files; the
    // second item's file was torn, and a third line was only half written.
    let journal = format!("{}\n{}\n{{\"id\": \"01JD", line(&a), line(&b));
    std::fs::write(dir.path().join("journal/0000000000000001.log"), journal).unwrap();
    std::fs::create_dir_all(dir.path().join("queued")).unwrap();
    std::fs::write(dir.path().join(format!("queued/{}.json", b.id)), "{ torn").unwrap();

    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.depth()[&State::Queued], 2);
    assert_eq!(spool.take_due(Utc::now(), 10), [a, b]);
    let segments: Vec<String> = files(dir.path(), "journal")
        .into_iter()
        .filter(|f| f.ends_with(".log"))
        .collect();
    assert!(segments.is_empty(), "the journal is emptied: {segments:?}");
    assert!(!dir.path().join("corrupt").exists());
}

/// Regression: the wake-up came before the item was marked ready, so a worker could
/// find nothing, go back to sleep with the wake-up spent, and leave a lone comment
/// waiting out its idle timer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_ready_fires_the_item_can_be_taken() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    for n in 0..50 {
        spool
            .accept(&comment(n, &format!("text {n}")))
            .await
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), spool.ready())
            .await
            .expect("the item became ready");
        let taken = spool.take_due(Utc::now(), 10);
        assert_eq!(taken.len(), 1, "round {n}");
        spool.delivered(taken[0].id).unwrap();
    }
}
