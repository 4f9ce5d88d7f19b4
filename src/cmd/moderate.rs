//! `cairn moderate`: lists, shows, approves and rejects pending comments from the
//! terminal, through the configured delivery backend. Comments still in (or parked
//! in) the local spool are listed too.

use std::process::ExitCode;

use std::os::unix::fs::DirBuilderExt;

use anyhow::{Context, Result};
use sha2::Digest;
use ulid::Ulid;

use super::ConfigArg;
use crate::comment::Comment;
use crate::deliver::{self, Ask, Backend, Pending};
use crate::inbox::spool::{self, State};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// List pending comments (and any the inbox has not delivered yet or gave up on).
    List(ListArgs),
    /// Show one comment in full. ID may be the start of an id, as long as one matches.
    Show { id: String },
    /// Publish pending comments (merge each one's branch or pull request into the site
    /// branch). Each ID may be the start of an id.
    Approve {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Discard pending comments (delete each one's branch, close its pull request). Each
    /// ID may be the start of an id.
    Reject {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Go through the pending comments one by one, oldest first: each is shown in full
    /// and waits for an answer, a (approve), r (reject), s (skip, also an empty line)
    /// or q (quit).
    Review(Filter),
}

/// Which pending comments a command takes.
#[derive(Debug, clap::Args)]
pub struct Filter {
    /// Only comments whose name, website or text holds TEXT, in any case.
    #[arg(long, value_name = "TEXT")]
    pub matching: Option<String>,
    /// Only comments on thread PATH, or on every thread starting with it when it ends
    /// in `*` (`/2019/*`).
    #[arg(long, value_name = "PATH")]
    pub thread: Option<String>,
}

impl Filter {
    fn is_set(&self) -> bool {
        self.thread.is_some() || self.matching.is_some()
    }

    /// Whether a comment is one the filter takes.
    fn wanted(&self) -> Result<impl Fn(&Comment) -> bool> {
        let thread = self
            .thread
            .as_deref()
            .map(|t| crate::config::thread_pattern(t).with_context(|| format!("--thread `{t}`")))
            .transpose()?;
        let matching = self.matching.as_deref().map(str::to_lowercase);
        Ok(move |c: &Comment| {
            thread
                .as_deref()
                .is_none_or(|t| crate::config::thread_matches(t, &c.thread))
                && matching.as_deref().is_none_or(|m| {
                    [c.author.as_deref(), c.website.as_deref(), Some(&c.body)]
                        .into_iter()
                        .flatten()
                        .any(|text| text.to_lowercase().contains(m))
                })
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: Filter,
    /// `text`: a line each; `json`: every field; `ids`: the ids of those that can be
    /// approved or rejected now, one a line, as in
    /// `cairn moderate reject $(cairn moderate list --matching casino --format ids)`.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
    Ids,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.config.load()?;
    let workdir = Workdir::new(&config)?;
    let backend = deliver::open(&config, workdir.path())?;
    match &args.action {
        Action::List(list_args) => list(backend.as_ref(), &config, list_args),
        Action::Show { id } => {
            // Read once: to know what a shortened id names, and to show it.
            let pending = backend.pending()?;
            let spooled = spool::load(&config.spool_dir())?;
            let known = pending.iter().map(|p| p.comment.id);
            let id = resolve(id, || Ok(known.chain(spooled.iter().map(|l| l.comment.id))))?;
            let found = pending.into_iter().find(|p| p.comment.id == id);
            let pending = match found {
                Some(p) => p,
                None => spooled
                    .into_iter()
                    .find(|l| l.comment.id == id)
                    .map(|l| Pending {
                        comment: l.comment,
                        location: format!("spool ({})", l.entry.state.name()),
                        ask: Ask::Publish,
                    })
                    .ok_or_else(|| deliver::unknown(id))?,
            };
            print!("{}", show(&pending, &config));
            Ok(ExitCode::SUCCESS)
        }
        Action::Approve { ids } => each(backend.as_ref(), &config, ids, approve),
        Action::Reject { ids } => each(backend.as_ref(), &config, ids, reject),
        Action::Review(filter) => review(backend.as_ref(), &config, filter),
    }
}

/// Where the git backend keeps its mirror of the site's repository for `cairn
/// moderate`: apart from any inbox's, so moderating never disturbs a running one, and
/// kept in the user's cache directory, so each run fetches only what changed since the
/// last (a site with years of images in its history is downloaded once, not every
/// time). Runs on one repository take turns; without a cache directory, a temporary
/// mirror serves one run.
enum Workdir {
    /// The mirror's directory, and the lock held on it for this run.
    Cached {
        dir: std::path::PathBuf,
        _lock: std::fs::File,
    },
    Temporary(tempfile::TempDir),
}

impl Workdir {
    fn new(config: &crate::config::Config) -> Result<Workdir> {
        if let Some(dir) = cached_clone(config)? {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let lock = dir.join("lock");
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock)
                .with_context(|| format!("cannot open {}", lock.display()))?;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
                .with_context(|| format!("cannot lock {}", lock.display()))?;
            return Ok(Workdir::Cached { dir, _lock: file });
        }
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        Ok(Workdir::Temporary(dir))
    }

    fn path(&self) -> &std::path::Path {
        match self {
            Workdir::Cached { dir, .. } => dir,
            Workdir::Temporary(dir) => dir.path(),
        }
    }
}

/// Where `cairn moderate` keeps its clone of the site repository (the git backend's,
/// in the user's cache), if it keeps one.
pub fn cached_clone(config: &crate::config::Config) -> Result<Option<std::path::PathBuf>> {
    if config.inbox.delivery.backend != crate::config::Backend::Git {
        return Ok(None);
    }
    let Some(cache) = cache_home() else {
        return Ok(None);
    };
    let remote = crate::deliver::git::remote(config)?;
    let key = sha2::Sha256::digest(remote.as_bytes());
    Ok(Some(
        cache
            .join("cairn/moderate")
            .join(crate::secret::to_hex(&key[..8])),
    ))
}

/// The user's cache directory: `XDG_CACHE_HOME`, else `~/.cache`.
fn cache_home() -> Option<std::path::PathBuf> {
    let absolute = |p: std::path::PathBuf| p.is_absolute().then_some(p);
    std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| std::path::PathBuf::from(home).join(".cache"))
                .and_then(absolute)
        })
}

/// Runs `act` on every comment `ids` name, in order. One that fails is reported and
/// the others are still done; the exit status says whether any failed.
fn each(
    backend: &dyn Backend,
    config: &crate::config::Config,
    ids: &[String],
    act: fn(&dyn Backend, &crate::config::Config, Ulid) -> Result<()>,
) -> Result<ExitCode> {
    // Read once, for every shortened id.
    let mut known: Option<Vec<Ulid>> = None;
    let mut failed = 0;
    for raw in ids {
        let done = resolve(raw, || {
            if known.is_none() {
                known = Some(known_ids(backend, config)?.collect());
            }
            Ok(known.clone().unwrap_or_default().into_iter())
        })
        .and_then(|id| act(backend, config, id));
        if let Err(e) = done {
            if ids.len() == 1 {
                return Err(e);
            }
            eprintln!("cairn: error: {e:#}");
            failed += 1;
        }
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} comments were not done (see above)",
            ids.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn approve(backend: &dyn Backend, config: &crate::config::Config, id: Ulid) -> Result<()> {
    approved(backend, config, id).map(drop)
}

/// Approves comment `id` and says so: the comment as it was published, or `None` when it
/// was on the site branch already.
fn approved(
    backend: &dyn Backend,
    config: &crate::config::Config,
    id: Ulid,
) -> Result<Option<Comment>> {
    let Pending {
        comment,
        location,
        ask,
    } = match backend.approve(id) {
        Ok(approved) => approved,
        Err(e) => match unpending(backend, config, id) {
            // Approving twice (or a comment delivered straight to the site branch) has
            // nothing left to do.
            Some(Unpending::Published(comment)) => {
                println!(
                    "{id} ({}) is already on {}: nothing to do",
                    summary(&comment),
                    config.inbox.delivery.branch
                );
                return Ok(None);
            }
            Some(Unpending::Undelivered(l)) => return Err(undelivered(&l, "approve")),
            None => return Err(e),
        },
    };
    let done = match ask {
        Ask::Publish => "is now on",
        Ask::Edit { .. } => "(its author's new text) is now on",
        Ask::Withdraw => "(its author's withdrawal) took it off",
    };
    println!(
        "approved {} ({}): {location} {done} {}",
        comment.id,
        summary(&comment),
        config.inbox.delivery.branch
    );
    Ok(Some(comment))
}

/// Approves the comment a review showed. Its author may have changed it while the
/// moderator read it (an approval takes the comment as it is then): if so, what was
/// published is shown too, with the way to take it down.
fn approve_shown(
    backend: &dyn Backend,
    config: &crate::config::Config,
    shown: &Pending,
) -> Result<()> {
    let id = shown.comment.id;
    if let Some(published) = approved(backend, config, id)? {
        if published.body != shown.comment.body {
            println!(
                "note: its author changed it while you read it; what is now on {} says:\n\n{}\n\
                 (`cairn forget --id {id}`, in a copy of the site's repository, takes it down)",
                config.inbox.delivery.branch,
                quoted(&published.body)
            );
        }
    }
    Ok(())
}

fn reject(backend: &dyn Backend, config: &crate::config::Config, id: Ulid) -> Result<()> {
    let Pending {
        comment, location, ..
    } = match backend.reject(id) {
        Ok(rejected) => rejected,
        Err(e) => match unpending(backend, config, id) {
            Some(Unpending::Published(comment)) => anyhow::bail!(
                "{id} ({}) is already published on {}; to take it down, run \
                 `cairn forget --id {id}`",
                summary(&comment),
                config.inbox.delivery.branch
            ),
            Some(Unpending::Undelivered(l)) => return Err(undelivered(&l, "reject")),
            None => return Err(e),
        },
    };
    println!(
        "rejected {} ({}): removed from {location}",
        comment.id,
        summary(&comment)
    );
    Ok(())
}

fn list(
    backend: &dyn Backend,
    config: &crate::config::Config,
    args: &ListArgs,
) -> Result<ExitCode> {
    let wanted = args.filter.wanted()?;
    // A repository that cannot be read does not hide what waits in the spool, which
    // is likely stuck for the same reason: that is listed, then the error reported.
    let (pending, unread) = match backend.pending() {
        Ok(pending) => (pending, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let waiting: Vec<spool::Listed> = spool::load(&config.spool_dir())?
        .into_iter()
        .filter(|l| l.entry.state != State::Delivered)
        .filter(|l| !pending.iter().any(|p| p.comment.id == l.comment.id))
        .filter(|l| wanted(&l.comment))
        .collect();
    let pending: Vec<Pending> = pending.into_iter().filter(|p| wanted(&p.comment)).collect();
    let done = |unread: Option<anyhow::Error>| match unread {
        None => Ok(ExitCode::SUCCESS),
        Some(e) => Err(e.context(
            "cannot read the comments pending in the repository (only the spool's are listed)",
        )),
    };
    match args.format {
        ListFormat::Ids => {
            for p in &pending {
                println!("{}", p.comment.id);
            }
            return done(unread);
        }
        ListFormat::Json => {
            let mut items: Vec<serde_json::Value> =
                pending.iter().map(|p| pending_json(p, config)).collect();
            items.extend(waiting.iter().map(|l| waiting_json(l, config)));
            println!("{}", serde_json::to_string_pretty(&items)?);
            return done(unread);
        }
        ListFormat::Text => {}
    }
    if unread.is_none() && pending.is_empty() && waiting.is_empty() {
        none_pending(config, &args.filter);
        return Ok(ExitCode::SUCCESS);
    }
    for p in &pending {
        println!(
            "{}  {}{}",
            line(&p.comment, config),
            p.location,
            asks(&p.ask)
        );
    }
    for l in &waiting {
        println!("{}  {}", line(&l.comment, config), spooled(l));
    }
    done(unread)
}

/// Where a comment not yet delivered stands in the spool, as `list` says it.
fn spooled(l: &spool::Listed) -> String {
    match (&l.entry.state, &l.entry.last_error) {
        (State::Failed, Some(why)) => format!(
            "FAILED, parked after {} attempts ({}): {why}",
            l.entry.attempts,
            if l.entry.outage {
                "tried again once the site's repository answers, or at a restart"
            } else {
                "restarting the inbox tries again"
            }
        ),
        (state, Some(why)) => format!(
            "{} in the spool (attempt {} failed: {why})",
            state.name(),
            l.entry.attempts
        ),
        (state, None) => format!("{} in the spool", state.name()),
    }
}

/// Says that no comment waits (that the filter takes).
fn none_pending(config: &crate::config::Config, filter: &Filter) {
    if filter.is_set() {
        println!("no pending comments match");
    } else if config.moderated() {
        println!("no pending comments");
    } else {
        println!(
            "no pending comments (inbox.delivery.mode is direct: comments go straight to {})",
            config.inbox.delivery.branch
        );
    }
}

/// `cairn moderate review`: shows each pending comment the filter takes and does what
/// the answer read from stdin says. The end of the input quits; a comment that could
/// not be approved or rejected is reported and the review goes on, and the exit status
/// says whether any could not.
fn review(
    backend: &dyn Backend,
    config: &crate::config::Config,
    filter: &Filter,
) -> Result<ExitCode> {
    use std::io::{BufRead, Write};
    let wanted = filter.wanted()?;
    let pending: Vec<Pending> = backend
        .pending()?
        .into_iter()
        .filter(|p| wanted(&p.comment))
        .collect();
    if pending.is_empty() {
        none_pending(config, filter);
        return Ok(ExitCode::SUCCESS);
    }
    enum Answer {
        Approve,
        Reject,
        Skip,
    }
    let mut answers = std::io::stdin().lock().lines();
    let (mut approved, mut rejected, mut failed) = (0, 0, 0);
    'comments: for (n, p) in pending.iter().enumerate() {
        println!("[{} of {}]", n + 1, pending.len());
        print!("{}", show(p, config));
        let answer = loop {
            print!("approve, reject, skip or quit? [a/r/s/q] ");
            std::io::stdout().flush()?;
            let Some(line) = answers.next().transpose()? else {
                println!();
                break 'comments;
            };
            match line.trim().to_lowercase().as_str() {
                "a" | "approve" => break Answer::Approve,
                "r" | "reject" => break Answer::Reject,
                "s" | "skip" | "" => break Answer::Skip,
                "q" | "quit" => break 'comments,
                other => println!("`{other}`: answer a, r, s or q"),
            }
        };
        let done = match answer {
            Answer::Approve => approve_shown(backend, config, p).map(|()| approved += 1),
            Answer::Reject => reject(backend, config, p.comment.id).map(|()| rejected += 1),
            Answer::Skip => Ok(()),
        };
        if let Err(e) = done {
            eprintln!("cairn: error: {e:#}");
            failed += 1;
        }
        println!();
    }
    println!(
        "approved {approved}, rejected {rejected}, left {} of {} pending",
        pending.len() - approved - rejected,
        pending.len()
    );
    if failed > 0 {
        anyhow::bail!("{failed} of the comments answered were not done (see above)");
    }
    Ok(ExitCode::SUCCESS)
}

/// A comment's fields, for `list --format json`.
fn comment_json(c: &Comment, config: &crate::config::Config) -> serde_json::Value {
    serde_json::json!({
        "id": c.id.to_string(),
        "thread": c.thread,
        "page": config.public_url(&c.thread),
        "parent": c.parent.map(|p| p.to_string()),
        "date": c.date_string(),
        "author": c.author,
        "website": c.website,
        "avatar": c.avatar,
        "owner": config.comments.is_owner(c.avatar.as_deref()),
        "body": c.body,
    })
}

/// A pending comment for `list --format json`: where it waits and what approving does.
fn pending_json(p: &Pending, config: &crate::config::Config) -> serde_json::Value {
    let mut item = comment_json(&p.comment, config);
    item["state"] = "pending".into();
    item["where"] = p.location.clone().into();
    item["asks"] = match &p.ask {
        Ask::Publish => "publish",
        Ask::Edit { .. } => "edit",
        Ask::Withdraw => "withdraw",
    }
    .into();
    if let Ask::Edit { was } = &p.ask {
        item["published_body"] = was.clone().into();
    }
    item
}

/// A comment still in the spool for `list --format json`: its state, attempts, the
/// last error, and whether that was the remote's (`outage`).
fn waiting_json(l: &spool::Listed, config: &crate::config::Config) -> serde_json::Value {
    let mut item = comment_json(&l.comment, config);
    item["state"] = l.entry.state.name().into();
    item["where"] = "spool".into();
    item["attempts"] = l.entry.attempts.into();
    item["last_error"] = l.entry.last_error.clone().into();
    item["outage"] = l.entry.outage.into();
    item
}

/// Why the comment `id` is not pending, as the local spool tells it.
enum Unpending {
    /// It is on the site branch.
    Published(Comment),
    /// It waits in the spool: the inbox has not delivered it yet.
    Undelivered(spool::Listed),
}

/// Why the comment `id` is not pending, found through the local spool, which keeps
/// the comments it has not delivered yet, and delivered ones (and their threads) for
/// `inbox.keep_delivered_hours`. `None` when that cannot be told.
fn unpending(backend: &dyn Backend, config: &crate::config::Config, id: Ulid) -> Option<Unpending> {
    let listed = spool::load(&config.spool_dir()).ok()?;
    let l = listed.into_iter().find(|l| l.comment.id == id)?;
    if l.entry.state != State::Delivered {
        return Some(Unpending::Undelivered(l));
    }
    backend
        .published(&l.comment.thread, id)
        .ok()
        .filter(|&on| on)
        .map(|_| Unpending::Published(l.comment))
}

/// The error for a comment that cannot be approved or rejected (`act`) yet, because it
/// waits in the spool.
fn undelivered(l: &spool::Listed, act: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{} ({}) is not in the site's repository yet: {}; {act} it once the inbox has \
         delivered it (`cairn moderate list` says where each comment is)",
        l.comment.id,
        summary(&l.comment),
        spooled(l)
    )
}

/// The ids of the comments pending and in the spool, as `list` prints them.
fn known_ids(
    backend: &dyn Backend,
    config: &crate::config::Config,
) -> Result<impl Iterator<Item = Ulid>> {
    let pending = backend.pending()?.into_iter().map(|p| p.comment.id);
    let spooled = spool::load(&config.spool_dir())?;
    Ok(pending.chain(spooled.into_iter().map(|l| l.comment.id)))
}

/// The comment `raw` names: a whole id, or the start of exactly one of the `known` ids
/// (read only for a shortened id), so a moderator need not type all 26 characters.
fn resolve<I: Iterator<Item = Ulid>>(raw: &str, known: impl FnOnce() -> Result<I>) -> Result<Ulid> {
    let start = raw.trim().to_ascii_uppercase();
    if let Ok(id) = start.parse::<Ulid>() {
        return Ok(id);
    }
    // Crockford's base 32, as ids are written.
    let crockford = |c: char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c));
    if start.is_empty() || start.len() > 26 || !start.chars().all(crockford) {
        anyhow::bail!(
            "`{raw}` is not a comment id (expected a ULID like 01JD3K8Z6Q9W2F4T7Y5M1N0ABC, \
             or its first characters)"
        );
    }
    let mut known: Vec<Ulid> = known()?.collect();
    known.sort_unstable();
    known.dedup();
    let matching: Vec<Ulid> = known
        .into_iter()
        .filter(|id| id.to_string().starts_with(&start))
        .collect();
    match matching[..] {
        [id] => Ok(id),
        [] => {
            anyhow::bail!("no pending comment id starts with {start} (see `cairn moderate list`)")
        }
        _ => {
            let ids: Vec<String> = matching.iter().map(Ulid::to_string).collect();
            anyhow::bail!(
                "{start} is the start of {} ids: {}; give more of the one you mean",
                ids.len(),
                ids.join(", ")
            )
        }
    }
}

fn author(c: &Comment) -> &str {
    c.author.as_deref().unwrap_or("(anonymous)")
}

fn summary(c: &Comment) -> String {
    format!("{} on {}", author(c), c.thread)
}

/// One line of the list: id, date (in the site's time zone, as pages show it), author
/// (`*` after the name of a comment marked as the site's own), thread and the start of
/// the text.
fn line(c: &Comment, config: &crate::config::Config) -> String {
    let text: String = c.body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut excerpt: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        excerpt.push('…');
    }
    format!(
        "{}  {}  {:<16}  {:<24}  \"{excerpt}\"",
        c.id,
        c.date
            .with_timezone(&config.site.timezone.0)
            .format("%Y-%m-%d %H:%M %Z"),
        if config.comments.is_owner(c.avatar.as_deref()) {
            format!("{}*", author(c))
        } else {
            author(c).to_string()
        },
        c.thread
    )
}

/// What approving a change to a published comment does, for the end of its line.
fn asks(ask: &Ask) -> &'static str {
    match ask {
        Ask::Publish => "",
        Ask::Edit { .. } => "  (new text for a published comment)",
        Ask::Withdraw => "  (WITHDRAWAL: approving takes the published comment down)",
    }
}

/// A pending comment as text, for the terminal.
fn show(pending: &Pending, config: &crate::config::Config) -> String {
    let (c, location) = (&pending.comment, &pending.location);
    let mut out = format!("id:      {}\n", c.id);
    out += &format!("page:    {} ({})\n", c.thread, config.public_url(&c.thread));
    if let Some(parent) = c.parent {
        out += &format!("reply to {parent}\n");
    }
    out += &format!("author:  {}\n", author(c));
    if config.comments.is_owner(c.avatar.as_deref()) {
        out += "marked:  as the site's own (its avatar key is in comments.owners): approve \
                it only if one of you wrote it\n";
    }
    if let Some(site) = &c.website {
        out += &format!("website: {site}\n");
    }
    out += &format!("date:    {}\n", c.date_string());
    out += &format!("where:   {location}\n");
    match &pending.ask {
        Ask::Publish => out += &format!("\n{}", quoted(&c.body)),
        Ask::Edit { was } => {
            out += "asks:    to replace the published text; approving publishes the new one\n";
            out += &format!("\npublished:\n{}\nnew:\n{}", quoted(was), quoted(&c.body));
        }
        Ask::Withdraw => {
            out += "asks:    to take the published comment down; approving removes it\n";
            out += &format!("\n{}", quoted(&c.body));
        }
    }
    out
}

/// `text`, indented as a quote.
fn quoted(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::Format;

    #[test]
    fn the_list_dates_comments_in_the_sites_time_zone() {
        let c = Comment::parse(
            "id: 01KB00000000000000000000AA\nthread: /a/\ndate: 2026-01-01T20:30:00Z\nauthor: Ann\nbody: Hi\n",
            Format::Yaml,
        )
        .unwrap();
        let mut config = crate::config::Config::default_for_test(std::path::Path::new("."));
        assert!(line(&c, &config).contains("  2026-01-01 20:30 UTC  Ann"));
        config.site.timezone = crate::config::TimeZone(chrono_tz::Asia::Tokyo);
        assert!(line(&c, &config).contains("  2026-01-02 05:30 JST  Ann"));
    }

    #[test]
    fn a_comment_marked_as_the_sites_own_says_so_to_the_moderator() {
        let mut c = Comment::parse(
            "id: 01KB00000000000000000000AA\nthread: /a/\ndate: 2026-01-01T20:30:00Z\nauthor: Ann\navatar: 0123456789abcdef\nbody: Hi\n",
            Format::Yaml,
        )
        .unwrap();
        let mut config = crate::config::Config::default_for_test(std::path::Path::new("."));
        let pending = |c: &Comment| Pending {
            comment: c.clone(),
            location: "branch cairn/01KB00000000000000000000AA".into(),
            ask: Ask::Publish,
        };
        assert!(line(&c, &config).contains("  Ann               /a/"));
        assert!(!show(&pending(&c), &config).contains("marked:"));
        assert_eq!(pending_json(&pending(&c), &config)["owner"], false);
        config.comments.owners = vec!["0123456789abcdef".into()];
        assert!(line(&c, &config).contains("  Ann*              /a/"));
        assert_eq!(pending_json(&pending(&c), &config)["owner"], true);
        assert!(show(&pending(&c), &config).contains(
            "author:  Ann\nmarked:  as the site's own (its avatar key is in \
             comments.owners): approve it only if one of you wrote it\n"
        ));
        c.avatar = None;
        assert!(!show(&pending(&c), &config).contains("marked:"));
    }
}
