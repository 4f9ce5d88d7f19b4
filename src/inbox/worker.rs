//! The delivery worker: takes due comments from the spool, hands them to the backend,
//! and records each outcome. Failures are retried with exponential backoff and parked
//! after `inbox.max_attempts`; nothing is dropped. Comments parked because the remote
//! did not answer are queued again once it does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::spool::Failed;
use super::Inbox;
use crate::deliver::DeliveryError;

/// Longest wait between two attempts at one comment.
const MAX_BACKOFF_SECS: i64 = 3600;
/// Longest the worker sleeps without looking at the spool.
const IDLE: Duration = Duration::from_secs(60);
/// Most comments handed to the backend at once. Their commits are built in memory
/// before they are stored, each with a new copy of every directory on its comment's
/// path; in batch and direct mode, a chain of them. On a site of 24,000 comments in
/// 1,740 thread directories, delivering 1,000 in batch mode at once took 151 MiB
/// (`bench/deliver.sh`), and 100 at a time 62 MiB, in about the same time.
const MOST_AT_ONCE: usize = 100;
/// How often delivered items are pruned from the spool.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often the remote is asked whether it answers (and once at start): when it does,
/// comments parked because it did not are queued again, and review branches the site
/// branch took in otherwise than by `cairn moderate` are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Wait before attempt `n + 1` after `n` failures: 5 s, 10 s, 20 s, ... up to an hour.
pub fn backoff(failures: u32) -> chrono::Duration {
    let secs = 5i64.saturating_mul(1 << failures.saturating_sub(1).min(20));
    chrono::Duration::seconds(secs.min(MAX_BACKOFF_SECS))
}

pub async fn run(inbox: Arc<Inbox>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let keep = chrono::Duration::hours(
        i64::try_from(inbox.config.inbox.keep_delivered_hours).unwrap_or(i64::MAX / 3600),
    );
    let mut last_prune: Option<tokio::time::Instant> = None;
    let deliverer = match Deliverer::start(inbox.backend.clone(), SWEEP_EVERY) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("cannot start the delivery thread: {e:#}");
            return;
        }
    };
    loop {
        if *stop.borrow() {
            break;
        }
        if deliverer.answered.swap(false, Ordering::Relaxed) {
            let spool = inbox.clone();
            let _ = tokio::task::spawn_blocking(move || requeue_outages(&spool)).await;
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            inbox.spool.prune(keep);
            inbox.forget_idle_clients();
            last_prune = Some(tokio::time::Instant::now());
        }
        let due = inbox.spool.take_due(Utc::now(), MOST_AT_ONCE);
        if due.is_empty() {
            let wait = match inbox.spool.next_due() {
                Some(t) => (t - Utc::now()).to_std().unwrap_or(Duration::ZERO),
                None => IDLE,
            }
            .min(IDLE);
            tokio::select! {
                () = inbox.spool.ready() => {}
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let n = due.len();
        let results = deliverer.deliver(due.clone()).await.unwrap_or_else(|e| {
            vec![Err(DeliveryError::Transient(format!("delivery failed: {e}"))); n]
        });
        // Recording moves files in the spool: off the threads answering readers.
        let recorder = inbox.clone();
        let recorded = tokio::task::spawn_blocking(move || record(&recorder, &due, results)).await;
        if let Err(e) = recorded {
            tracing::error!("recording the outcome of a delivery failed: {e}");
        }
    }
}

/// Records the outcome of each delivery: in the spool, the metrics and the notifier.
fn record(inbox: &Inbox, due: &[crate::comment::Comment], results: Vec<Result<(), DeliveryError>>) {
    // A backend told to stop leaves the end of its batch untried.
    let untried = &due[results.len().min(due.len())..];
    if !untried.is_empty() {
        tracing::info!(
            "{} comment(s) not tried as the inbox stops: they are delivered once it runs again",
            untried.len()
        );
    }
    for comment in untried {
        inbox.spool.untried(comment.id);
    }
    let answered = results.iter().any(Result::is_ok);
    for (comment, result) in due.iter().zip(results) {
        match result {
            Ok(()) => {
                inbox.metrics.delivered();
                if let Err(e) = inbox.spool.delivered(comment.id) {
                    tracing::error!(id = %comment.id, "delivered, but the spool could not record it: {e:#}");
                }
                tracing::info!(id = %comment.id, "delivered");
                if let Some(notifier) = &inbox.notifier {
                    notifier.delivered(comment);
                }
            }
            Err(e) => {
                inbox.metrics.delivery_failed();
                let max = match e {
                    DeliveryError::Permanent(_) => 1,
                    DeliveryError::Transient(_) | DeliveryError::Unavailable(_) => {
                        inbox.config.inbox.max_attempts
                    }
                };
                let outage = matches!(e, DeliveryError::Unavailable(_));
                match inbox
                    .spool
                    .attempt_failed(comment.id, &e.to_string(), max, outage, backoff)
                {
                    Ok(Failed::Parked { news }) => {
                        inbox.metrics.parked();
                        tracing::error!(id = %comment.id, "delivery failed for good, parked: {e}");
                        if let Some(notifier) = inbox.notifier.as_ref().filter(|_| news) {
                            notifier.parked(comment, &e.to_string(), outage);
                        }
                    }
                    Ok(Failed::Retried) => {
                        tracing::warn!(id = %comment.id, "delivery failed, will retry: {e}")
                    }
                    Err(spool_error) => {
                        tracing::error!(id = %comment.id, "delivery failed ({e}) and the spool could not record it: {spool_error:#}")
                    }
                }
            }
        }
    }
    if answered {
        requeue_outages(inbox);
    }
}

/// The remote answers again: queues again the comments parked because it did not.
fn requeue_outages(inbox: &Inbox) {
    match inbox.spool.requeue_outages() {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            "{n} parked comment(s) queued again for delivery: the site's repository answers again"
        ),
        Err(e) => tracing::error!("cannot queue the parked comments again: {e:#}"),
    }
}

type Batch = (
    Vec<crate::comment::Comment>,
    tokio::sync::oneshot::Sender<Vec<Result<(), DeliveryError>>>,
);

/// The thread that talks to the backend. It runs at a lower CPU priority than the
/// threads answering readers, so a large delivery never slows a submission down.
struct Deliverer {
    batches: std::sync::mpsc::Sender<Batch>,
    /// Set when the remote answered the periodic question (see [`Deliverer::start`]).
    answered: Arc<AtomicBool>,
    /// Dropped with the deliverer, which ends the sweeping thread.
    _sweeping: std::sync::mpsc::Sender<()>,
}

impl Deliverer {
    /// Starts the delivery thread, and the thread that asks the remote whether it
    /// answers, at start and then once every `every`, sweeping its branches when it does.
    fn start(
        backend: Arc<dyn crate::deliver::Backend>,
        every: Duration,
    ) -> anyhow::Result<Deliverer> {
        let (batches, queue) = std::sync::mpsc::channel::<Batch>();
        let (sweeping, stopped) = std::sync::mpsc::channel::<()>();
        let asked = backend.clone();
        let answered = Arc::new(AtomicBool::new(false));
        let answers = answered.clone();
        std::thread::Builder::new()
            .name("cairn-ask-remote".into())
            .spawn(move || {
                lower_priority();
                let mut answer = say_whether_it_answers(&*asked);
                loop {
                    if answer {
                        // For the comments parked while it did not.
                        answers.store(true, Ordering::Relaxed);
                        sweep(&*asked);
                    }
                    match stopped.recv_timeout(every) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                    answer = match asked.pending() {
                        Ok(_) => true,
                        Err(e) => {
                            tracing::debug!("the site's repository does not answer: {e:#}");
                            false
                        }
                    };
                }
            })?;
        std::thread::Builder::new()
            .name("cairn-deliver".into())
            .spawn(move || {
                lower_priority();
                while let Ok((comments, done)) = queue.recv() {
                    let _ = done.send(backend.deliver(&comments));
                }
            })?;
        Ok(Deliverer {
            batches,
            answered,
            _sweeping: sweeping,
        })
    }

    async fn deliver(
        &self,
        comments: Vec<crate::comment::Comment>,
    ) -> anyhow::Result<Vec<Result<(), DeliveryError>>> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.batches
            .send((comments, done))
            .map_err(|_| anyhow::anyhow!("the delivery thread has stopped"))?;
        Ok(wait.await?)
    }
}

/// Asks the site's repository what is pending review, once at start (beside the
/// deliveries, which do not wait for it), so a wrong remote or credential shows in the
/// log before the first comment waits on it. Returns whether it answered.
fn say_whether_it_answers(backend: &dyn crate::deliver::Backend) -> bool {
    match backend.pending() {
        Ok(pending) => {
            tracing::info!(
                "the site's repository answers: {} pending review",
                pending.len()
            );
            true
        }
        Err(e) => {
            tracing::warn!(
                "the site's repository does not answer yet: {e:#}; comments are spooled \
                 and delivered once it does"
            );
            false
        }
    }
}

/// Deletes the review branches the site branch already has everything of (merged by
/// hand, squashed or rebased), as `cairn moderate approve` would have.
fn sweep(backend: &dyn crate::deliver::Backend) {
    match backend.sweep() {
        Ok(deleted) if deleted.is_empty() => {}
        Ok(deleted) => tracing::info!(
            "deleted {} branch(es) the site branch has taken in: {}",
            deleted.len(),
            deleted.join(", ")
        ),
        Err(e) => tracing::warn!("cannot delete the branches the site branch took in: {e:#}"),
    }
}

/// Puts the calling thread in the idle scheduling class (`SCHED_IDLE`), where the system
/// allows it, else at nice 10: for the threads doing work no reader waits for. An idle
/// thread runs when a CPU has nothing else to do and gives way as soon as a thread
/// answering a reader wakes, so delivering never delays an answer (at 4 and 64
/// connections, 10% and 30% more submissions per second than at nice 10, which still
/// took its share of a busy CPU). Under a flood that keeps every CPU busy, delivery
/// waits for the flood to end; the submissions wait in the spool, as they would for a
/// slow remote.
///
/// The system call is made directly: musl's `sched_setscheduler` does nothing (POSIX
/// means the process, Linux sets the thread), so a static build would run at nice 10.
pub(crate) fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread (pid 0 is the calling thread);
    // the kernel reads the one `int` of its `sched_param` from the zeroed value.
    unsafe {
        let param: libc::sched_param = std::mem::zeroed();
        let set = libc::syscall(
            libc::SYS_sched_setscheduler,
            0,
            libc::SCHED_IDLE,
            &param as *const libc::sched_param,
        );
        if set != 0 {
            libc::setpriority(libc::PRIO_PROCESS, 0, 10);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's scheduling policy, as the kernel has it.
    #[cfg(target_os = "linux")]
    fn policy() -> libc::c_int {
        // SAFETY: reads the calling thread's scheduling policy (a small number, or -1).
        unsafe { libc::syscall(libc::SYS_sched_getscheduler, 0) as libc::c_int }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn background_threads_run_in_the_idle_class() {
        let (lowered, untouched) = std::thread::spawn(|| {
            let before = policy();
            lower_priority();
            (policy(), before)
        })
        .join()
        .unwrap();
        assert_eq!(lowered, libc::SCHED_IDLE);
        assert_eq!(untouched, libc::SCHED_OTHER);
        // Only the thread that asked: this one still answers readers.
        assert_eq!(policy(), libc::SCHED_OTHER);
    }

    #[test]
    fn the_remote_is_asked_again_until_it_answers() {
        let dir = tempfile::tempdir().unwrap();
        let remote = crate::deliver::git::test_remote(dir.path(), &[("cairn.toml", "# site\n")]);
        let mut config = crate::config::Config::default_for_test(dir.path());
        config.inbox.delivery.remote = Some(remote.to_string_lossy().into_owned());
        let backend = crate::deliver::open(&config, &dir.path().join("spool")).unwrap();
        let away = dir.path().join("away.git");
        std::fs::rename(&remote, &away).unwrap();
        let deliverer = Deliverer::start(backend, Duration::from_millis(50)).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        assert!(!deliverer.answered.load(Ordering::Relaxed));
        std::fs::rename(&away, &remote).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !deliverer.answered.load(Ordering::Relaxed) {
            assert!(std::time::Instant::now() < deadline, "never said to answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let secs: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(&secs[..5], &[5, 10, 20, 40, 80]);
        assert_eq!(*secs.last().unwrap(), 3600);
    }
}
