//! The spool's journal: how a group of accepted items becomes durable with one fsync.
//!
//! The writer thread appends every waiting submission to the current segment
//! (`spool/journal/<n>.log`, one JSON line per item), syncs it once, and answers them
//! all. A second thread then writes each item's own file. When a segment is full, or
//! half a minute old, the writer seals it; once the item files of a sealed segment
//! are synced (one `syncfs`), the segment is deleted. After a crash, [`recover`] writes again
//! every item of the remaining segments whose own file is missing or torn.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ulid::Ulid;

use super::{item_bytes, item_path, read_item, sync_dir, write_file, State, Stored};

/// Longest an item stays only in the journal.
const SEAL_AFTER: Duration = Duration::from_secs(30);
/// Size of a segment. Segments are written full of zeros when created, so that
/// syncing an append flushes data only: no metadata, no wait for the file system's
/// own journal, which the item files keep busy.
const SEGMENT_BYTES: u64 = 8 << 20;
/// A zeroed segment made ready in the background, so starting a new one is a rename.
const SPARE: &str = "spare";
/// Most submissions answered by one fsync.
const MAX_GROUP: usize = 1024;
const DIR: &str = "journal";

enum Job {
    Append {
        id: Ulid,
        line: Vec<u8>,
        file: Vec<u8>,
        done: tokio::sync::oneshot::Sender<std::io::Result<()>>,
    },
    Flush(mpsc::Sender<()>),
    /// Answered when the writer comes to it: it is not stuck on an earlier write.
    Ping(tokio::sync::oneshot::Sender<()>),
}

enum Filing {
    /// The items of one group, durable in the journal, to be written to their own files.
    Items(Vec<(Ulid, Vec<u8>)>),
    Seal(PathBuf),
    Flush(mpsc::Sender<()>),
}

/// The handle the spool appends through. Dropping it waits until both threads are
/// done with the spool's files.
pub struct Writer {
    /// `None` once dropped: closing the queue ends the writer thread, whose end ends
    /// the filer's.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    filer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(filer) = self.filer.take() {
            let _ = filer.join();
        }
    }
}

impl Writer {
    /// Starts the writer and the filer threads. `on_disk` is told of each item whose
    /// own file has been written.
    pub fn start(dir: &Path, on_disk: impl Fn(Ulid) + Send + 'static) -> Result<Writer> {
        let journal = dir.join(DIR);
        std::fs::create_dir_all(&journal)
            .with_context(|| format!("cannot create {}", journal.display()))?;
        let (jobs, job_queue) = mpsc::channel();
        let (filings, filing_queue) = mpsc::channel();
        let first = next_sequence(&journal)?;
        std::thread::Builder::new()
            .name("cairn-spool".into())
            .spawn(move || write_loop(&journal, first, &job_queue, &filings))
            .context("cannot start the spool writer")?;
        let root = dir.to_path_buf();
        let filer = std::thread::Builder::new()
            .name("cairn-spool-files".into())
            .spawn(move || file_loop(&root, &filing_queue, &on_disk))
            .context("cannot start the spool filer")?;
        Ok(Writer {
            jobs: Mutex::new(Some(jobs)),
            filer: Some(filer),
        })
    }

    /// Appends one item; returns once it is durable.
    pub async fn append(&self, id: Ulid, stored: &Stored) -> Result<()> {
        let line = serde_json::to_vec(stored)?;
        let file = item_bytes(stored)?;
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(Job::Append {
            id,
            line,
            file,
            done,
        })?;
        wait.await.context("the spool writer has stopped")??;
        Ok(())
    }

    /// Completes when the writer comes to it, so it is not stuck on an earlier write
    /// (on a disk that hangs, say). An error when it has stopped.
    pub async fn answers(&self) -> Result<()> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(Job::Ping(done))?;
        wait.await.context("the spool writer has stopped")
    }

    /// Waits until every item appended so far has its own file and the journal holds
    /// nothing more.
    pub fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if self.send(Job::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    fn send(&self, job: Job) -> Result<()> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| anyhow::anyhow!("the spool writer has stopped"))
    }
}

/// The segment being appended to.
struct Segment {
    path: PathBuf,
    file: std::fs::File,
    /// Bytes of entries written; the rest, up to `capacity`, is zeros.
    bytes: u64,
    capacity: u64,
    opened: Instant,
}

impl Segment {
    /// A new, empty segment whose directory entry is durable before anything in it is
    /// acknowledged. One that could not be made whole (the disk full, say) is taken
    /// away again: it holds nothing acknowledged.
    fn create(journal: &Path, sequence: u64, capacity: u64) -> std::io::Result<Segment> {
        let path = journal.join(format!("{sequence:016}.log"));
        let spare = journal.join(SPARE);
        let renamed = capacity <= SEGMENT_BYTES && std::fs::rename(&spare, &path).is_ok();
        let made = if renamed {
            std::fs::OpenOptions::new().write(true).open(&path)
        } else {
            zeroed(&path, capacity)
        }
        .and_then(|file| {
            let capacity = file.metadata()?.len();
            std::fs::File::open(journal)?.sync_all()?;
            Ok((file, capacity))
        });
        match made {
            Ok((file, capacity)) => Ok(Segment {
                path,
                file,
                bytes: 0,
                capacity,
                opened: Instant::now(),
            }),
            Err(e) => {
                if renamed {
                    let _ = std::fs::remove_file(&path);
                }
                Err(e)
            }
        }
    }
}

/// A new file of `capacity` zero bytes, synced; on failure, none.
fn zeroed(path: &Path, capacity: u64) -> std::io::Result<std::fs::File> {
    let mut file = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(path)?;
    let zeros = vec![0u8; 64 << 10];
    let mut left = capacity;
    let filled = (|| {
        while left > 0 {
            let n = left.min(zeros.len() as u64);
            file.write_all(&zeros[..n as usize])?;
            left -= n;
        }
        file.sync_all()
    })();
    match filled {
        Ok(()) => Ok(file),
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(path);
            Err(e)
        }
    }
}

/// Makes the spare segment, unless it is there already.
fn prepare_spare(journal: &Path) {
    let spare = journal.join(SPARE);
    if spare.exists() {
        return;
    }
    let tmp = journal.join("spare.tmp");
    let _ = std::fs::remove_file(&tmp);
    if let Err(e) = zeroed(&tmp, SEGMENT_BYTES).and_then(|_| std::fs::rename(&tmp, &spare)) {
        tracing::warn!("cannot prepare a journal segment: {e}");
    }
}

fn write_loop(
    journal: &Path,
    first: u64,
    jobs: &mpsc::Receiver<Job>,
    filings: &mpsc::Sender<Filing>,
) {
    let mut sequence = first;
    let mut segment: Option<Segment> = None;
    let seal = |segment: &mut Option<Segment>| {
        if let Some(full) = segment.take_if(|s| s.bytes > 0) {
            let _ = filings.send(Filing::Seal(full.path));
        }
    };
    loop {
        let first = match jobs.recv_timeout(SEAL_AFTER) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                seal(&mut segment);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut group = Vec::new();
        let mut flush = None;
        let mut next = Some(first);
        while let Some(job) = next {
            match job {
                Job::Append {
                    id,
                    line,
                    file,
                    done,
                } => group.push((id, line, file, done)),
                Job::Flush(done) => {
                    flush = Some(done);
                    break;
                }
                Job::Ping(done) => {
                    let _ = done.send(());
                }
            }
            next = if group.len() < MAX_GROUP {
                jobs.try_recv().ok()
            } else {
                None
            };
        }
        if !group.is_empty() {
            let mut lines = Vec::with_capacity(group.iter().map(|g| g.1.len() + 1).sum());
            for (_, line, _, _) in &group {
                lines.extend_from_slice(line);
                lines.push(b'\n');
            }
            let needed = lines.len() as u64;
            if segment
                .as_ref()
                .is_some_and(|s| s.bytes + needed > s.capacity)
            {
                seal(&mut segment);
            }
            if segment.is_none() {
                // A number tried is not tried again, whatever is in the way of it.
                let made = Segment::create(journal, sequence, SEGMENT_BYTES.max(needed));
                sequence += 1;
                match made {
                    Ok(s) => segment = Some(s),
                    Err(e) => {
                        tracing::error!(
                            "cannot create a journal segment in {}: {e}",
                            journal.display()
                        );
                        for (_, _, _, done) in group {
                            let _ = done.send(Err(std::io::Error::new(e.kind(), e.to_string())));
                        }
                        continue;
                    }
                }
            }
            let s = segment.as_mut().expect("a segment is open");
            let written = std::os::unix::fs::FileExt::write_all_at(&s.file, &lines, s.bytes)
                .and_then(|()| s.file.sync_data());
            match written {
                Ok(()) => {
                    s.bytes += lines.len() as u64;
                    // Every answer first, then the filer is woken once for the group.
                    let mut items = Vec::with_capacity(group.len());
                    for (id, _, file, done) in group {
                        let _ = done.send(Ok(()));
                        items.push((id, file));
                    }
                    let _ = filings.send(Filing::Items(items));
                }
                Err(e) => {
                    tracing::error!("cannot write the journal {}: {e}", s.path.display());
                    for (_, _, _, done) in group {
                        let _ = done.send(Err(std::io::Error::new(e.kind(), e.to_string())));
                    }
                    // Start a fresh segment; this one may hold a torn line.
                    seal(&mut segment);
                }
            }
            if segment
                .as_ref()
                .is_some_and(|s| s.opened.elapsed() >= SEAL_AFTER)
            {
                seal(&mut segment);
            }
        }
        if let Some(done) = flush {
            seal(&mut segment);
            let _ = filings.send(Filing::Flush(done));
        }
    }
    seal(&mut segment);
}

/// How often the filer tries again to write the items it could not (a full disk).
const RETRY_EVERY: Duration = Duration::from_secs(5);

fn file_loop(dir: &Path, filings: &mpsc::Receiver<Filing>, on_disk: &dyn Fn(Ulid)) {
    // Accepted items are durable in the journal already: writing their own files can
    // wait for the threads answering readers.
    crate::inbox::worker::lower_priority();
    // Items whose file could not be written yet, and the sealed segments kept for them.
    let mut unwritten: Vec<(Ulid, Vec<u8>)> = Vec::new();
    let mut kept: Vec<PathBuf> = Vec::new();
    let write = |id: Ulid, file: &[u8]| {
        let written = write_file(&item_path(dir, State::Queued, id), file, false);
        if written.is_ok() {
            on_disk(id);
        }
        written
    };
    prepare_spare(&dir.join(DIR));
    loop {
        let filing = match filings.recv_timeout(RETRY_EVERY) {
            Ok(filing) => Some(filing),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        if !unwritten.is_empty() {
            let before = unwritten.len();
            unwritten.retain(|(id, file)| write(*id, file).is_err());
            if unwritten.len() < before {
                tracing::info!(
                    "wrote {} spool items that could not be written before",
                    before - unwritten.len()
                );
            }
            if unwritten.is_empty() && sync_files(dir).is_ok() {
                for segment in kept.drain(..) {
                    remove_segment(&segment);
                }
            }
        }
        match filing {
            None => {}
            Some(Filing::Items(items)) => {
                for (id, file) in items {
                    if let Err(e) = write(id, &file) {
                        tracing::error!(
                            %id,
                            "cannot write the spool item (the journal keeps it; tried again every {}s): {e}",
                            RETRY_EVERY.as_secs()
                        );
                        unwritten.push((id, file));
                    }
                }
            }
            Some(Filing::Seal(segment)) => {
                // A segment goes only when every item in it is durable on its own.
                if unwritten.is_empty() && sync_files(dir).is_ok() {
                    remove_segment(&segment);
                } else {
                    tracing::error!(
                        "keeping {} for recovery: some items are not on disk",
                        segment.display()
                    );
                    kept.push(segment);
                }
                prepare_spare(&dir.join(DIR));
            }
            Some(Filing::Flush(done)) => {
                let _ = done.send(());
            }
        }
    }
}

fn remove_segment(segment: &Path) {
    if let Err(e) = std::fs::remove_file(segment) {
        tracing::warn!("cannot remove {}: {e}", segment.display());
    }
}

fn next_sequence(journal: &Path) -> Result<u64> {
    let mut last = 0;
    for entry in
        std::fs::read_dir(journal).with_context(|| format!("cannot list {}", journal.display()))?
    {
        let name = entry?.file_name();
        if let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            last = last.max(n);
        }
    }
    Ok(last + 1)
}

/// After an unclean stop: every item in the journal whose own file is missing or
/// unreadable is written again from it; then the journal is emptied. A torn last line
/// was never acknowledged and is skipped.
pub fn recover(dir: &Path) -> Result<()> {
    let journal = dir.join(DIR);
    let Ok(entries) = std::fs::read_dir(&journal) else {
        return Ok(());
    };
    let mut segments: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    if segments.is_empty() {
        return Ok(());
    }
    let mut restored = 0;
    for segment in &segments {
        let bytes =
            std::fs::read(segment).with_context(|| format!("cannot read {}", segment.display()))?;
        // Entries end at the first zero byte: the rest of the segment is unused.
        let used = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        for line in bytes[..used].split(|b| *b == b'\n') {
            let Ok(stored) = serde_json::from_slice::<Stored>(line) else {
                continue;
            };
            let Ok(id) = stored.id.parse::<Ulid>() else {
                continue;
            };
            let existing = [State::Queued, State::Delivered, State::Failed]
                .into_iter()
                .map(|s| item_path(dir, s, id))
                .find(|p| p.exists());
            if existing.as_ref().is_some_and(|p| read_item(p).is_ok()) {
                continue;
            }
            let target = existing.unwrap_or_else(|| item_path(dir, State::Queued, id));
            write_file(&target, &item_bytes(&stored)?, false)
                .with_context(|| format!("cannot write {}", target.display()))?;
            restored += 1;
        }
    }
    sync_files(dir)?;
    for segment in &segments {
        std::fs::remove_file(segment)
            .with_context(|| format!("cannot remove {}", segment.display()))?;
    }
    sync_dir(&journal)?;
    if restored > 0 {
        tracing::warn!("restored {restored} spool items from the journal after an unclean stop");
    }
    Ok(())
}

/// Makes everything written to the spool's file system durable, directories included.
fn sync_files(dir: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let root =
            std::fs::File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
        // SAFETY: `root` is an open descriptor for the duration of the call.
        if unsafe { libc::syncfs(root.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot sync {}", dir.display()));
        }
    }
    #[cfg(not(target_os = "linux"))]
    for state in [State::Queued, State::Delivered, State::Failed] {
        let sub = dir.join(state.dir());
        for entry in std::fs::read_dir(&sub)?.flatten() {
            if let Ok(file) = std::fs::File::open(entry.path()) {
                let _ = file.sync_all();
            }
        }
        sync_dir(&sub)?;
    }
    Ok(())
}
