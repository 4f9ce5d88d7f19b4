//! The spool: where accepted comments wait for delivery.
//!
//! Accepted means durable. A submission is appended to the journal and the journal
//! is fsync'd before the inbox answers 2xx; concurrent submissions share one fsync.
//! Each item is then written to its own file, for people and tools to read, and the
//! journal is emptied once those files are safely on disk (see `spool/journal.rs`).
//!
//! On disk, one directory per state, inspectable with `ls` and `cat`:
//!
//! ```text
//! spool/queued/<id>.json         accepted, waiting or being delivered (never rewritten)
//! spool/queued/<id>.state.json   attempts so far and the last error (safe to lose)
//! spool/delivered/<id>.json      delivered; pruned after `inbox.keep_delivered_hours`
//! spool/failed/<id>.json         parked after `inbox.max_attempts`, with
//! spool/failed/<id>.state.json   the reason
//! spool/journal/<n>.log          the last seconds of accepted items, one JSON line each
//! spool/lock                     held by the one inbox using the spool
//! ```
//!
//! Items hold the comment exactly as it will be committed (format v1 YAML): no e-mail
//! and no IP address ever reaches the spool.

mod journal;

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ulid::Ulid;

use crate::comment::{Comment, Format};

/// Where an item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Queued,
    Delivering,
    Delivered,
    Failed,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Queued,
        State::Delivering,
        State::Delivered,
        State::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Delivering => "delivering",
            State::Delivered => "delivered",
            State::Failed => "failed",
        }
    }

    /// The directory an item in this state lives in.
    fn dir(self) -> &'static str {
        match self {
            State::Queued | State::Delivering => "queued",
            State::Delivered => "delivered",
            State::Failed => "failed",
        }
    }
}

/// An accepted submission as stored: the comment file to commit, and when it came in.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    id: String,
    accepted: DateTime<Utc>,
    /// The comment file, format v1 YAML.
    comment: String,
}

/// Delivery bookkeeping, kept beside an item.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_attempt: Option<DateTime<Utc>>,
    /// Whether the last attempt failed for want of the remote, not for this comment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    outage: bool,
}

/// What became of an item after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Queued for another attempt, after the backoff.
    Retried,
    /// Parked. Not `news` when it was parked for want of the remote while others wait
    /// parked so since the remote last answered: whoever heard of the first knows.
    Parked { news: bool },
}

/// What the spool knows about one item, in memory.
#[derive(Debug, Clone)]
pub struct Entry {
    pub thread: String,
    pub state: State,
    pub accepted: DateTime<Utc>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt: Option<DateTime<Utc>>,
    /// Whether the last attempt failed for want of the remote (it did not answer, or
    /// the whole round failed), not for this comment: parked so, the item is queued
    /// again once the remote answers ([`Spool::requeue_outages`]).
    pub outage: bool,
    digest: [u8; 32],
    /// Whether the item's own file has been written (it may lag the journal).
    on_disk: bool,
}

/// Why the spool did not take a comment.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("the same comment is already in the spool")]
    Duplicate,
    #[error("as many comments as the spool takes are waiting for delivery")]
    Full,
    #[error(transparent)]
    Unavailable(anyhow::Error),
}

/// An item as `cairn moderate list` shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub comment: Comment,
    pub entry: Entry,
}

/// The spool of a running inbox.
pub struct Spool {
    dir: PathBuf,
    journal: journal::Writer,
    index: Arc<Mutex<Index>>,
    ready: Arc<tokio::sync::Notify>,
    /// Items waiting for delivery beyond which new ones are refused; 0 for no limit.
    max_waiting: usize,
    /// This process's hold on the spool, let go after the journal's threads are done.
    _lock: File,
}

/// What the spool holds, in memory, with the lookups the inbox makes on every request.
#[derive(Default)]
struct Index {
    items: HashMap<Ulid, Entry>,
    /// Queued and delivering items, oldest first: the worker's to-do list.
    waiting: BTreeSet<Ulid>,
    /// Queued items in their own file that may be delivered now, oldest first.
    ready: BTreeSet<Ulid>,
    /// Queued items in their own file that wait for a retry, by when it is due. So the
    /// worker finds what is due without looking at every item that waits: while a
    /// remote is down for a day and comments keep coming, the backlog that grows does
    /// not make each new comment cost more than the last.
    backoff: BTreeSet<(DateTime<Utc>, Ulid)>,
    /// Items that count for duplicate detection (all but failed ones), by digest.
    digests: HashMap<[u8; 32], Ulid>,
    /// Items parked for want of the remote ([`Entry::outage`]).
    outages: BTreeSet<Ulid>,
}

impl Index {
    fn insert(&mut self, id: Ulid, entry: Entry) {
        if matches!(entry.state, State::Queued | State::Delivering) {
            self.waiting.insert(id);
        }
        if entry.state != State::Failed {
            self.digests.insert(entry.digest, id);
        } else if entry.outage {
            self.outages.insert(id);
        }
        self.items.insert(id, entry);
        self.list(id);
    }

    /// Takes an item off the lists of deliverable items, before its entry changes.
    fn unlist(&mut self, id: Ulid) {
        if let Some(entry) = self.items.get(&id) {
            self.ready.remove(&id);
            if let Some(at) = entry.next_attempt {
                self.backoff.remove(&(at, id));
            }
        }
    }

    /// Puts an item on the list of deliverable items its entry says, after it changed.
    fn list(&mut self, id: Ulid) {
        let Some(entry) = self.items.get(&id) else {
            return;
        };
        if entry.state == State::Queued && entry.on_disk {
            match entry.next_attempt {
                Some(at) => self.backoff.insert((at, id)),
                None => self.ready.insert(id),
            };
        }
    }

    /// Changes an item's entry, keeping the lists of deliverable items in step.
    fn update(&mut self, id: Ulid, change: impl FnOnce(&mut Entry)) {
        self.unlist(id);
        if let Some(entry) = self.items.get_mut(&id) {
            change(entry);
        }
        self.list(id);
    }

    fn set_state(&mut self, id: Ulid, state: State) {
        self.update(id, |entry| entry.state = state);
        let Some(entry) = self.items.get(&id) else {
            return;
        };
        if matches!(state, State::Queued | State::Delivering) {
            self.waiting.insert(id);
        } else {
            self.waiting.remove(&id);
        }
        if state == State::Failed && self.digests.get(&entry.digest) == Some(&id) {
            self.digests.remove(&entry.digest);
        }
    }

    fn remove(&mut self, id: Ulid) {
        self.unlist(id);
        if let Some(entry) = self.items.remove(&id) {
            self.waiting.remove(&id);
            self.outages.remove(&id);
            if self.digests.get(&entry.digest) == Some(&id) {
                self.digests.remove(&entry.digest);
            }
        }
    }

    fn progress(&self, id: Ulid) -> Progress {
        self.items
            .get(&id)
            .map_or_else(Progress::default, |e| Progress {
                attempts: e.attempts,
                last_error: e.last_error.clone(),
                next_attempt: e.next_attempt,
                outage: e.outage,
            })
    }

    /// Moves an item's file to where its state says it belongs, once it is on disk:
    /// whoever comes second (the file writer or the state change) does the move.
    fn place(&self, dir: &Path, id: Ulid) -> Result<()> {
        let Some(entry) = self.items.get(&id) else {
            return Ok(());
        };
        if !entry.on_disk {
            return Ok(());
        }
        let from = item_path(dir, State::Queued, id);
        match entry.state {
            State::Queued | State::Delivering => {}
            State::Delivered => {
                if from.exists() {
                    std::fs::rename(&from, item_path(dir, State::Delivered, id))
                        .with_context(|| format!("cannot move {}", from.display()))?;
                    let _ = std::fs::remove_file(progress_path(&from));
                }
            }
            State::Failed => {
                let to = item_path(dir, State::Failed, id);
                write_atomic(&progress_path(&to), &self.progress(id), true)?;
                if from.exists() {
                    std::fs::rename(&from, &to)
                        .with_context(|| format!("cannot move {}", from.display()))?;
                    let _ = std::fs::remove_file(progress_path(&from));
                }
                sync_dir(to.parent().unwrap_or(dir))?;
            }
        }
        Ok(())
    }
}

/// How long a spool held by someone else is waited for before giving up.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Takes the spool for this process, or says who has it: two inboxes on one spool
/// would write the same journal segments. The lock goes with the process, however it
/// ends, so a restart after a crash finds it free. A held lock is waited for a moment
/// first: a process that is stopping, or a child being started (which holds a copy of
/// the handle until it runs its program), lets go of it within milliseconds.
fn lock(dir: &Path) -> Result<File> {
    use rustix::fs::{flock, FlockOperation};
    use std::io::{Read, Seek};
    let path = dir.join("lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    let mut taken = flock(&file, FlockOperation::NonBlockingLockExclusive);
    while taken == Err(rustix::io::Errno::WOULDBLOCK) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        taken = flock(&file, FlockOperation::NonBlockingLockExclusive);
    }
    if let Err(e) = taken {
        if e != rustix::io::Errno::WOULDBLOCK {
            return Err(std::io::Error::from(e))
                .with_context(|| format!("cannot lock {}", path.display()));
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        anyhow::bail!(
            "the spool {} is in use by another cairn inbox (process {}): each inbox, \
             and each site of one, needs a spool of its own",
            dir.display(),
            holder.trim()
        );
    }
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(file)
}

impl Spool {
    /// Opens (creating if needed) the spool in `dir`: replays the journal of an
    /// unclean stop, then loads what is there. Items a crash left in `delivering`
    /// are queued again: delivery is idempotent. So are parked ones, each with a new
    /// round of attempts: a restart is what follows fixing what made them fail (a
    /// credential, the remote's address).
    pub fn open(dir: &Path) -> Result<Spool> {
        for state in [State::Queued, State::Delivered, State::Failed] {
            let sub = dir.join(state.dir());
            std::fs::create_dir_all(&sub)
                .with_context(|| format!("cannot create spool dir {}", sub.display()))?;
        }
        let lock = lock(dir)?;
        journal::recover(dir)
            .with_context(|| format!("cannot recover the spool {}", dir.display()))?;
        let requeued = requeue_parked(dir)?;
        if requeued > 0 {
            tracing::info!("{requeued} parked comment(s) queued again for delivery");
        }
        let mut index = Index::default();
        for listed in load(dir)? {
            index.insert(listed.comment.id, listed.entry);
        }
        let index = Arc::new(Mutex::new(index));
        let ready = Arc::new(tokio::sync::Notify::new());
        let on_disk = {
            let (index, dir, ready) = (index.clone(), dir.to_path_buf(), ready.clone());
            move |id: Ulid| {
                {
                    let mut index = index
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    index.update(id, |entry| entry.on_disk = true);
                    if let Err(e) = index.place(&dir, id) {
                        tracing::error!(%id, "cannot move a spool item: {e:#}");
                    }
                }
                // Only now: a worker woken earlier could find the item not ready yet
                // and go back to sleep with the wake-up spent.
                ready.notify_one();
            }
        };
        let journal = journal::Writer::start(dir, on_disk)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            journal,
            index,
            ready,
            max_waiting: 0,
            _lock: lock,
        })
    }

    /// Refuses new items while `max` are waiting for delivery (0: never).
    pub fn with_max_waiting(mut self, max: usize) -> Spool {
        self.max_waiting = max;
        self
    }

    /// Stores a newly accepted comment durably. When this returns `Ok`, the comment
    /// survives a crash or power loss. The same text already submitted to the same
    /// thread (and not failed or pruned) is refused, checked and claimed in one step so
    /// two identical posts racing each other cannot both get in; so is any comment
    /// while the most items allowed are waiting for delivery.
    pub async fn accept(&self, comment: &Comment) -> Result<(), AcceptError> {
        let accepted = Utc::now();
        let stored = Stored {
            id: comment.id.to_string(),
            accepted,
            comment: comment.to_yaml(),
        };
        let entry = Entry {
            thread: comment.thread.clone(),
            state: State::Queued,
            accepted,
            attempts: 0,
            last_error: None,
            next_attempt: None,
            outage: false,
            digest: digest(comment),
            on_disk: false,
        };
        // In the index first: the item's file may be written as soon as it is durable.
        {
            let mut index = self.lock();
            if index.digests.contains_key(&entry.digest) {
                return Err(AcceptError::Duplicate);
            }
            if self.full(&index) {
                return Err(AcceptError::Full);
            }
            index.insert(comment.id, entry);
        }
        let appended = self.journal.append(comment.id, &stored).await;
        if appended.is_err() {
            self.lock().remove(comment.id);
        }
        appended
            .with_context(|| format!("cannot write to the spool {}", self.dir.display()))
            .map_err(AcceptError::Unavailable)
    }

    /// Whether the most items allowed wait for delivery, so [`Spool::accept`] would
    /// refuse any comment now.
    pub fn is_full(&self) -> bool {
        self.full(&self.lock())
    }

    fn full(&self, index: &Index) -> bool {
        self.max_waiting > 0 && index.waiting.len() >= self.max_waiting
    }

    /// Completes when the spool's writer comes to it: it is not stuck on an earlier
    /// write (on a disk that hangs, say). An error when it has stopped.
    pub async fn answers(&self) -> Result<()> {
        self.journal.answers().await
    }

    /// Waits until every accepted item has its own file on disk and the journal is
    /// empty, e.g. before a clean shutdown.
    pub fn flush(&self) {
        self.journal.flush();
    }

    /// The thread and state of a comment the spool holds (waiting or recently
    /// delivered; not parked).
    pub fn thread_of(&self, id: Ulid) -> Option<(String, State)> {
        let index = self.lock();
        index
            .items
            .get(&id)
            .filter(|e| e.state != State::Failed)
            .map(|e| (e.thread.clone(), e.state))
    }

    /// Where an item is: `None` when the spool does not hold it (any more).
    pub fn state_of(&self, id: Ulid) -> Option<State> {
        self.lock().items.get(&id).map(|e| e.state)
    }

    /// The comment as delivered (or as its author last changed it), while the spool
    /// keeps delivered items.
    pub fn delivered_copy(&self, id: Ulid) -> Option<Comment> {
        let path = item_path(&self.dir, State::Delivered, id);
        let stored: Stored = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        Comment::parse(&stored.comment, Format::Yaml).ok()
    }

    /// Replaces the delivered copy of a comment after its author changed it.
    pub fn replace_delivered(&self, comment: &Comment) -> Result<()> {
        let path = item_path(&self.dir, State::Delivered, comment.id);
        let mut stored: Stored = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
        )?;
        stored.comment = comment.to_yaml();
        write_atomic(&path, &stored, true)
    }

    /// How many items are in each state.
    pub fn depth(&self) -> HashMap<State, usize> {
        let mut counts: HashMap<State, usize> = State::ALL.iter().map(|s| (*s, 0)).collect();
        for e in self.lock().items.values() {
            *counts.entry(e.state).or_default() += 1;
        }
        counts
    }

    /// Queued comments whose next attempt is due, oldest first, marked `delivering`.
    /// Only items already in their own file are taken (the rest follow in a moment),
    /// so comments are read back from disk rather than kept in memory. A file that
    /// cannot be read is parked as failed with the reason.
    pub fn take_due(&self, now: DateTime<Utc>, limit: usize) -> Vec<Comment> {
        let due: Vec<Ulid> = {
            let mut index = self.lock();
            // Retries whose time has come join the others, in order of age.
            while let Some(&(at, id)) = index.backoff.first() {
                if at > now {
                    break;
                }
                index.backoff.pop_first();
                index.ready.insert(id);
            }
            let due: Vec<Ulid> = index.ready.iter().take(limit).copied().collect();
            for id in &due {
                index.set_state(*id, State::Delivering);
            }
            due
        };
        let mut comments = Vec::with_capacity(due.len());
        for id in due {
            match read_item(&item_path(&self.dir, State::Queued, id)) {
                Ok((comment, _)) => comments.push(comment),
                Err(e) => {
                    tracing::error!(%id, "spool item unreadable: {e:#}");
                    let _ = self.attempt_failed(id, &format!("{e:#}"), 1, false, |_| {
                        chrono::Duration::zero()
                    });
                }
            }
        }
        comments
    }

    /// The earliest time a queued item that is ready becomes due, if any is waiting.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let index = self.lock();
        let ready = index.ready.first().and_then(|id| index.items.get(id));
        match ready {
            Some(e) => Some(e.next_attempt.unwrap_or(e.accepted)),
            None => index.backoff.first().map(|&(at, _)| at),
        }
    }

    /// Completes when an item becomes ready for delivery (its own file is written).
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Records a successful delivery.
    pub fn delivered(&self, id: Ulid) -> Result<()> {
        let mut index = self.lock();
        index.set_state(id, State::Delivered);
        index.place(&self.dir, id)
    }

    /// Puts an item taken for delivery but not tried back in the queue, as it was.
    pub fn untried(&self, id: Ulid) {
        self.lock().set_state(id, State::Queued);
    }

    /// Records a failed attempt, `outage` when it failed for want of the remote rather
    /// than for this comment. The item is retried after `backoff`, or parked as failed
    /// when it has had `max_attempts`.
    pub fn attempt_failed(
        &self,
        id: Ulid,
        error: &str,
        max_attempts: u32,
        outage: bool,
        backoff: impl Fn(u32) -> chrono::Duration,
    ) -> Result<Failed> {
        let mut index = self.lock();
        let Some(&Entry {
            attempts, on_disk, ..
        }) = index.items.get(&id)
        else {
            return Ok(Failed::Retried);
        };
        let attempts = attempts + 1;
        let parked = attempts >= max_attempts;
        index.update(id, |entry| {
            entry.attempts = attempts;
            entry.last_error = Some(error.to_string());
            entry.next_attempt = (!parked).then(|| Utc::now() + backoff(attempts));
            entry.outage = outage;
        });
        if parked {
            index.set_state(id, State::Failed);
            let news = !outage || index.outages.is_empty();
            if outage {
                index.outages.insert(id);
            }
            index.place(&self.dir, id)?;
            return Ok(Failed::Parked { news });
        }
        index.set_state(id, State::Queued);
        if on_disk {
            // Losing this file only resets the attempt count, so no fsync.
            let progress = index.progress(id);
            write_atomic(
                &progress_path(&item_path(&self.dir, State::Queued, id)),
                &progress,
                false,
            )?;
        }
        Ok(Failed::Retried)
    }

    /// Queues again, each with a new round of attempts, the parked items whose last
    /// attempt failed for want of the remote: called once the remote answers again, so
    /// an outage longer than the attempts last needs no restart. Returns how many.
    pub fn requeue_outages(&self) -> Result<usize> {
        let mut index = self.lock();
        if index.outages.is_empty() {
            return Ok(0);
        }
        let parked = std::mem::take(&mut index.outages);
        for (done, &id) in parked.iter().enumerate() {
            // An item not in its own file yet is placed by the state it has then.
            if index.items.get(&id).is_some_and(|e| e.on_disk) {
                if let Err(e) = unpark(&self.dir, id) {
                    index.outages.extend(parked.iter().skip(done));
                    return Err(e);
                }
            }
            index.update(id, |entry| {
                entry.attempts = 0;
                entry.last_error = None;
                entry.next_attempt = None;
                entry.outage = false;
            });
            index.set_state(id, State::Queued);
            if let Some(digest) = index.items.get(&id).map(|e| e.digest) {
                index.digests.entry(digest).or_insert(id);
            }
        }
        sync_queues(&self.dir)?;
        drop(index);
        self.ready.notify_one();
        Ok(parked.len())
    }

    /// Deletes delivered items older than `keep`.
    pub fn prune(&self, keep: chrono::Duration) {
        let cutoff = Utc::now() - keep;
        let mut index = self.lock();
        let old: Vec<Ulid> = index
            .items
            .iter()
            .filter(|(_, e)| e.state == State::Delivered && e.on_disk && e.accepted < cutoff)
            .map(|(id, _)| *id)
            .collect();
        for id in old {
            if std::fs::remove_file(item_path(&self.dir, State::Delivered, id)).is_ok() {
                index.remove(id);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Moves every parked item back to the queue with its attempts starting over; how many.
/// The new bookkeeping is written before the item moves, so a crash in between leaves
/// the item parked, for the next start.
fn requeue_parked(dir: &Path) -> Result<usize> {
    let failed = dir.join(State::Failed.dir());
    let mut moved = 0;
    for entry in
        std::fs::read_dir(&failed).with_context(|| format!("cannot list {}", failed.display()))?
    {
        let path = entry?.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<Ulid>().ok())
        else {
            continue;
        };
        unpark(dir, id)?;
        moved += 1;
    }
    if moved > 0 {
        sync_queues(dir)?;
    }
    Ok(moved)
}

/// Moves parked item `id` back to the queue on disk, with a new round of attempts: no
/// bookkeeping beside it (its moves are made durable by [`sync_queues`]).
fn unpark(dir: &Path, id: Ulid) -> Result<()> {
    let from = item_path(dir, State::Failed, id);
    let to = item_path(dir, State::Queued, id);
    let stale = progress_path(&to);
    match std::fs::remove_file(&stale) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot remove {}", stale.display()))
        }
        _ => {}
    }
    std::fs::rename(&from, &to).with_context(|| format!("cannot move {}", from.display()))?;
    let _ = std::fs::remove_file(progress_path(&from));
    Ok(())
}

/// Makes the moves between the queue and the parked items durable.
fn sync_queues(dir: &Path) -> Result<()> {
    sync_dir(&dir.join(State::Failed.dir()))?;
    sync_dir(&dir.join(State::Queued.dir()))
}

fn item_path(dir: &Path, state: State, id: Ulid) -> PathBuf {
    dir.join(state.dir()).join(format!("{id}.json"))
}

/// Every item in a spool directory, oldest first, read without opening it for
/// writing (for `cairn moderate list`). A missing spool is an empty one.
pub fn load(dir: &Path) -> Result<Vec<Listed>> {
    let mut items = Vec::new();
    for state in [State::Queued, State::Failed, State::Delivered] {
        let sub = dir.join(state.dir());
        let Ok(read) = std::fs::read_dir(&sub) else {
            continue;
        };
        for entry in read {
            let path = entry
                .with_context(|| format!("cannot list {}", sub.display()))?
                .path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !name.ends_with(".json") || name.ends_with(".state.json") || name.starts_with('.') {
                continue;
            }
            match read_item(&path) {
                Ok((comment, accepted)) => {
                    let progress: Progress = std::fs::read(progress_path(&path))
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok())
                        .unwrap_or_default();
                    let entry = Entry {
                        thread: comment.thread.clone(),
                        state,
                        accepted,
                        attempts: progress.attempts,
                        last_error: progress.last_error,
                        next_attempt: progress.next_attempt,
                        outage: progress.outage,
                        digest: digest(&comment),
                        on_disk: true,
                    };
                    items.push(Listed { comment, entry });
                }
                // Never acknowledged (a 2xx follows only a complete, synced write) or
                // damaged on disk: keep it aside for a human, and say so.
                Err(e) => {
                    tracing::error!("unreadable spool item {}: {e:#}", path.display());
                    let aside = dir.join("corrupt");
                    let _ = std::fs::create_dir_all(&aside);
                    let _ = std::fs::rename(&path, aside.join(name));
                }
            }
        }
    }
    items.sort_by_key(|l| l.comment.id);
    Ok(items)
}

fn read_item(path: &Path) -> Result<(Comment, DateTime<Utc>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let stored: Stored = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a spool item", path.display()))?;
    let comment = Comment::parse(&stored.comment, Format::Yaml)
        .map_err(|e| anyhow::anyhow!("{}: comment {e}", path.display()))?;
    Ok((comment, stored.accepted))
}

fn progress_path(item: &Path) -> PathBuf {
    item.with_extension("state.json")
}

/// What makes two submissions the same: the thread and the text, ignoring whitespace.
fn digest(comment: &Comment) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(comment.thread.as_bytes());
    hasher.update([0]);
    for word in comment.body.split_whitespace() {
        hasher.update(word.as_bytes());
        hasher.update([b' ']);
    }
    hasher.finalize().into()
}

/// How an item file looks on disk: pretty JSON, for people reading the spool.
fn item_bytes(stored: &Stored) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(stored)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes a file by way of a temporary one, so no reader ever sees half of it;
/// `durable` syncs the data before the rename.
fn write_file(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    if durable {
        file.sync_data()?;
    }
    std::fs::rename(&tmp, path)
}

/// Writes a value as pretty JSON by way of [`write_file`].
fn write_atomic(path: &Path, value: &impl Serialize, durable: bool) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_file(path, &bytes, durable).with_context(|| format!("cannot write {}", path.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

#[cfg(test)]
mod tests;
