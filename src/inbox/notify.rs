//! Notifications, sent by their own thread so a slow or broken mail server never holds
//! up a reader:
//! - to the moderator, once a comment is delivered (or parked, when it cannot be): a
//!   mail over SMTP (lettre; STARTTLS, TLS from the start, or plain to a local relay)
//!   and/or a POST to a webhook, queued as a file in the spool (`notify/`) and retried
//!   with backoff; with the `git` backend the mail carries signed approve/reject links;
//! - to readers who ticked the form's box: a mail when their comment is published, and
//!   one when a reply to it is. Publication is looked for every `publish_check_secs`
//!   (and at once after a webhook or a one-click link), so a merge anywhere counts.
//!   Every such mail has a one-click unsubscribe link.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::links::{self, Action};
use super::private::Private;
use super::{InForce, Inbox};
use crate::comment::{Comment, Format};
use crate::config::{Backend as Kind, Config, WebhookFormat};
use crate::deliver::Backend;
use crate::render::i18n::Strings;
use crate::secret::Secret;

/// What a queued notice's change is for a comment that could not be delivered.
const PARKED: &str = "parked";
/// The same, when it was because the site's repository did not answer.
const PARKED_OUTAGE: &str = "parked-outage";

/// Attempts at one notice before it is given up (and kept, renamed `.failed`).
const MAX_ATTEMPTS: u32 = 10;
/// How often the queue is looked at when nothing wakes the thread.
const POLL: Duration = Duration::from_secs(5);

/// A queued notice: the comment, and which channels still have to hear about it.
#[derive(Debug, Serialize, Deserialize)]
struct Queued {
    comment: String,
    /// For an author's request to change a published comment: what they ask
    /// (`edit` or `withdraw`) and where the request waits; for a comment that could
    /// not be delivered, `parked` (or `parked-outage`) and why.
    #[serde(default)]
    change: Option<(String, String)>,
    mail_sent: bool,
    webhook_sent: bool,
    attempts: u32,
    not_before: DateTime<Utc>,
    last_error: Option<String>,
}

/// Everything needed to notify, shared with the sending thread.
struct Channels {
    /// The transport, the sender, and the moderators (maybe none: reply mail only).
    mailer: Option<(SmtpTransport, Mailbox, Vec<Mailbox>)>,
    private: Option<Arc<Private>>,
    webhook: Option<(String, WebhookFormat)>,
    http: reqwest::blocking::Client,
    /// The site and inbox URLs, the backend kind and mode: for links and texts.
    config: Config,
    /// The pages and strings in force: mail to readers is in the site's language.
    policy: InForce,
    secret: Secret,
    backend: Arc<dyn Backend>,
}

pub struct Notifier {
    dir: PathBuf,
    wake: Mutex<Sender<()>>,
    /// Whether the moderator hears about deliveries (by mail or webhook).
    moderator: bool,
    private: Option<Arc<Private>>,
}

impl Notifier {
    /// Starts the sending thread; `None` when no channel is configured.
    pub fn start(
        config: &Config,
        secret: &Secret,
        policy: &InForce,
        backend: Arc<dyn Backend>,
        private: Option<Arc<Private>>,
    ) -> Result<Option<Notifier>> {
        let notify = &config.inbox.notify;
        let mailer = if notify.email.is_empty() && !notify.replies {
            None
        } else {
            Some(mailer(config)?)
        };
        let webhook = webhook(config)?;
        let moderator = !notify.email.is_empty() || webhook.is_some();
        if !moderator && private.is_none() {
            return Ok(None);
        }
        let dir = config.spool_dir().join("notify");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let (config, secret, policy) = (config.clone(), secret.clone(), policy.clone());
        let thread_private = private.clone();
        let (wake, woken) = std::sync::mpsc::channel();
        let queue = dir.clone();
        std::thread::Builder::new()
            .name("cairn-notify".into())
            .spawn(move || {
                // Made here: a blocking client must not live on the async runtime.
                let http = match client() {
                    Ok(http) => http,
                    Err(e) => {
                        tracing::error!("cannot start an HTTP client for notifications: {e}");
                        return;
                    }
                };
                let channels = Channels {
                    mailer,
                    private: thread_private,
                    webhook,
                    http,
                    config,
                    policy,
                    secret,
                    backend,
                };
                run(&channels, &queue, &woken)
            })?;
        Ok(Some(Notifier {
            dir,
            wake: Mutex::new(wake),
            moderator,
            private,
        }))
    }

    /// A comment was delivered: queues the moderator's notice, and remembers it when a
    /// reader waits to hear of its publication. Sending happens on the thread.
    pub fn delivered(&self, comment: &Comment) {
        if let Some(private) = &self.private {
            let waited_for = [Some(comment.id), comment.parent]
                .into_iter()
                .flatten()
                .any(|id| private.subscriber(id).ok().flatten().is_some());
            if waited_for {
                if let Err(e) = private.watch(comment) {
                    tracing::error!(id = %comment.id, "cannot note the comment for reply mail: {e:#}");
                }
            }
        }
        if self.moderator {
            self.queue(comment, None);
        }
        self.look_now();
    }

    /// An author changed (`edit`) or removed (`withdraw`) a published comment, or asked
    /// to: the request waits at `location` (in direct mode, the change is on the site
    /// branch already). Tells the moderator.
    pub fn author_changed(&self, comment: &Comment, what: &str, location: String) {
        if self.moderator {
            self.queue(comment, Some((what.to_string(), location)));
            self.look_now();
        }
    }

    /// A comment could not be delivered, and is parked in the spool for `why` (an
    /// `outage`: the site's repository did not answer): tells the moderator, who may
    /// have a credential or an address to fix.
    pub fn parked(&self, comment: &Comment, why: &str, outage: bool) {
        if self.moderator {
            let what = if outage { PARKED_OUTAGE } else { PARKED };
            self.queue(comment, Some((what.to_string(), why.to_string())));
            self.look_now();
        }
    }

    /// Wakes the thread, to send what is queued and look for publications now.
    pub fn look_now(&self) {
        let _ = self.wake.lock().unwrap_or_else(|p| p.into_inner()).send(());
    }

    fn queue(&self, comment: &Comment, change: Option<(String, String)>) {
        let name = match &change {
            Some((what, _)) => format!("{}-{what}-{}.json", comment.id, Ulid::new()),
            None => format!("{}.json", comment.id),
        };
        let queued = Queued {
            comment: comment.to_yaml(),
            change,
            mail_sent: false,
            webhook_sent: false,
            attempts: 0,
            not_before: Utc::now(),
            last_error: None,
        };
        if let Err(e) = write(&self.dir.join(name), &queued) {
            tracing::error!(id = %comment.id, "cannot queue the notification: {e:#}");
        }
    }
}

fn write(path: &Path, queued: &Queued) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(queued)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The SMTP transport, sender and recipients from `[inbox.notify]`.
fn mailer(config: &Config) -> Result<(SmtpTransport, Mailbox, Vec<Mailbox>)> {
    let notify = &config.inbox.notify;
    let raw = notify.smtp_url.as_deref().context(
        "inbox.notify.email needs inbox.notify.smtp_url (e.g. smtp://mail.example.org:587)",
    )?;
    let url = url::Url::parse(raw).with_context(|| format!("inbox.notify.smtp_url = {raw:?}"))?;
    let host = url
        .host_str()
        .with_context(|| format!("inbox.notify.smtp_url = {raw:?} names no host"))?
        .to_string();
    let plain = url.query_pairs().any(|(k, v)| k == "tls" && v == "none");
    let tls = || -> Result<TlsParameters> {
        let mut params = TlsParameters::builder(host.clone());
        if let Some(ca) = &notify.smtp_ca_file {
            let path = config.root.join(ca);
            let pem =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            params = params.add_root_certificate(
                Certificate::from_pem(&pem)
                    .with_context(|| format!("{} is not a PEM certificate", path.display()))?,
            );
        }
        Ok(params.build()?)
    };
    let (security, default_port) = match (url.scheme(), plain) {
        ("smtps", _) => (Tls::Wrapper(tls()?), 465),
        ("smtp", true) => (Tls::None, 25),
        ("smtp", false) => (Tls::Required(tls()?), 587),
        (other, _) => bail!("inbox.notify.smtp_url: unknown scheme {other}: (use smtp or smtps)"),
    };
    let mut builder = SmtpTransport::builder_dangerous(&host)
        .port(url.port().unwrap_or(default_port))
        .tls(security)
        .timeout(Some(Duration::from_secs(30)));
    if !url.username().is_empty() {
        let password = crate::deliver::forge::secret_from(
            "CAIRN_SMTP_PASSWORD",
            notify
                .smtp_password_file
                .as_ref()
                .map(|f| config.root.join(f))
                .as_deref(),
            "the SMTP password",
        )?;
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        builder = builder.credentials(Credentials::new(user, password));
    }
    let from: Mailbox = notify
        .from
        .as_deref()
        .context("inbox.notify.email needs inbox.notify.from (e.g. \"cairn <cairn@example.org>\")")?
        .parse()
        .context("inbox.notify.from is not an address")?;
    let to = notify
        .email
        .iter()
        .map(|a| {
            a.parse::<Mailbox>()
                .with_context(|| format!("inbox.notify.email: {a:?} is not an address"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((builder.build(), from, to))
}

/// The client notices are posted with.
fn client() -> reqwest::Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// For `cairn inbox check`: whether the mail server takes the inbox's connection, with
/// its TLS and login; with `send`, a test mail to the moderators as well. `None` when
/// the inbox sends no mail.
pub fn check_mail(config: &Config, send: bool) -> Option<Result<String>> {
    let notify = &config.inbox.notify;
    if notify.email.is_empty() && !notify.replies {
        return None;
    }
    Some((|| {
        let (mailer, from, to) = mailer(config)?;
        let server = without_password(notify.smtp_url.as_deref().unwrap_or_default());
        let answered = mailer
            .test_connection()
            .with_context(|| format!("{server}: no connection"))?;
        if !answered {
            bail!("{server}: the connection did not answer");
        }
        let to_text = to
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if to.is_empty() {
            return Ok(format!(
                "{server}: connected (the moderators get no mail: inbox.notify.email is empty)"
            ));
        }
        if !send {
            return Ok(format!(
                "{server}: connected; --send mails a test to {to_text}"
            ));
        }
        let (subject, text) = test_notice(config);
        mail(&mailer, &from, &to, subject, text)
            .with_context(|| format!("{server}: the test mail was not taken"))?;
        Ok(format!("{server}: a test mail went to {to_text}"))
    })())
}

/// For `cairn inbox check`: with `send`, posts a test notice to the webhook and says
/// whether it took it. `None` when no webhook is set.
pub fn check_webhook(config: &Config, send: bool) -> Option<Result<String>> {
    let (url, format) = match webhook(config) {
        Ok(Some(hook)) => hook,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    let shown = without_password(&url);
    if !send {
        return Some(Ok(format!(
            "{shown}: not tried; --send posts a test notice"
        )));
    }
    Some((|| {
        let (subject, text) = test_notice(config);
        let fields = serde_json::json!({"event": "test", "site": config.site.url.as_str()});
        post(&client()?, (&url, format), &subject, &subject, text, fields)
            .with_context(|| format!("{shown}: the test notice was not taken"))?;
        Ok(format!("{shown}: took a test notice"))
    })())
}

/// The subject and text of `cairn inbox check --send`'s test notice.
fn test_notice(config: &Config) -> (String, String) {
    let inbox = config.inbox.url.as_str();
    (
        format!("cairn: a test notice from the inbox at {inbox}"),
        format!(
            "This is a test, sent by `cairn inbox check --send`. The inbox at {inbox} \
             tells you here about each comment on {} it delivers for moderation.\n",
            config.site.url
        ),
    )
}

/// `url` for a person to read: without a password, should it hold one.
pub(super) fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// The webhook's URL and format from `[inbox.notify]`, when one is set.
fn webhook(config: &Config) -> Result<Option<(String, WebhookFormat)>> {
    let notify = &config.inbox.notify;
    let Some(url) = &notify.webhook else {
        return Ok(None);
    };
    let parsed = url::Url::parse(url)
        .with_context(|| format!("inbox.notify.webhook = {url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("inbox.notify.webhook = {url:?}: expected an http(s) URL");
    }
    Ok(Some((url.clone(), notify.webhook_format)))
}

/// Wait after `n` failed attempts: 10 s, 20 s, 40 s, ... up to an hour.
fn backoff(n: u32) -> chrono::Duration {
    chrono::Duration::seconds((10i64 << n.saturating_sub(1).min(10)).min(3600))
}

fn run(channels: &Channels, dir: &Path, woken: &Receiver<()>) {
    let every = Duration::from_secs(channels.config.inbox.notify.publish_check_secs.max(1));
    let mut last_look: Option<std::time::Instant> = None;
    loop {
        let prodded = match woken.recv_timeout(POLL.min(every)) {
            Ok(()) => true,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => false,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if let Some(private) = &channels.private {
            if prodded || last_look.is_none_or(|t| t.elapsed() >= every) {
                last_look = Some(std::time::Instant::now());
                if let Err(e) = announce(channels, private) {
                    tracing::warn!("cannot look for published comments: {e:#}");
                }
            }
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut due: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        due.sort();
        for path in due {
            if let Err(e) = attempt(channels, &path) {
                tracing::error!("notification {}: {e:#}", path.display());
            }
        }
    }
}

/// Sends one queued notice on the channels still owed it, and records the outcome.
fn attempt(channels: &Channels, path: &Path) -> Result<()> {
    let mut queued: Queued = serde_json::from_slice(&std::fs::read(path)?)?;
    if queued.not_before > Utc::now() {
        return Ok(());
    }
    let comment =
        Comment::parse(&queued.comment, Format::Yaml).map_err(|e| anyhow::anyhow!(e.message))?;
    let location = match &queued.change {
        Some((what, why)) if what == PARKED || what == PARKED_OUTAGE => {
            format!("the inbox's spool (failed): {why}")
        }
        Some((_, location)) => location.clone(),
        None => channels
            .backend
            .location(&comment)
            .unwrap_or_else(|e| format!("(cannot say where: {e:#})")),
    };
    let mut notice = Notice::new(channels, &comment, location);
    notice.change = queued.change.as_ref().map(|(what, _)| what.clone());
    if notice.parked() {
        notice.links = None;
    }
    let mut errors = Vec::new();
    if let Some((mailer, from, to)) = channels.mailer.as_ref().filter(|m| !m.2.is_empty()) {
        if !queued.mail_sent {
            match send_mail(mailer, from, to, &notice) {
                Ok(()) => queued.mail_sent = true,
                Err(e) => errors.push(format!("mail: {e:#}")),
            }
        }
    }
    if let Some((url, format)) = &channels.webhook {
        if !queued.webhook_sent {
            match post_webhook(&channels.http, url, *format, &notice) {
                Ok(()) => queued.webhook_sent = true,
                Err(e) => errors.push(format!("webhook: {e:#}")),
            }
        }
    }
    if errors.is_empty() {
        std::fs::remove_file(path)?;
        tracing::info!(id = %comment.id, "moderator notified");
        return Ok(());
    }
    queued.attempts += 1;
    queued.last_error = Some(errors.join("; "));
    queued.not_before = Utc::now() + backoff(queued.attempts);
    write(path, &queued)?;
    if queued.attempts >= MAX_ATTEMPTS {
        std::fs::rename(path, path.with_extension("failed"))?;
        bail!(
            "gave up after {MAX_ATTEMPTS} attempts: {}",
            queued.last_error.unwrap_or_default()
        );
    }
    tracing::warn!(id = %comment.id, "notification failed, will retry: {}", errors.join("; "));
    Ok(())
}

/// What a moderator is told about one comment.
struct Notice<'a> {
    comment: &'a Comment,
    page: String,
    location: String,
    /// Approve and reject links (git backend, review or batch mode).
    links: Option<(String, String)>,
    expires: DateTime<Utc>,
    /// What the author asks for a published comment (`edit`, `withdraw`), if anything.
    change: Option<String>,
    /// Whether comments wait for a moderator (not in direct mode, where they and their
    /// authors' changes are published at once).
    moderated: bool,
}

impl<'a> Notice<'a> {
    fn new(channels: &Channels, comment: &'a Comment, location: String) -> Notice<'a> {
        let config = &channels.config;
        let expires = Utc::now()
            + chrono::Duration::hours(i64::try_from(config.inbox.notify.link_hours).unwrap_or(168));
        let moderated = config.moderated();
        let links = (config.inbox.delivery.backend == Kind::Git && moderated).then(|| {
            let url = config.inbox.url.as_str();
            (
                links::link(url, &channels.secret, comment.id, Action::Approve, expires),
                links::link(url, &channels.secret, comment.id, Action::Reject, expires),
            )
        });
        Notice {
            comment,
            page: config.public_url(&comment.thread),
            location,
            links,
            expires,
            change: None,
            moderated,
        }
    }

    fn author(&self) -> &str {
        self.comment.author.as_deref().unwrap_or("anonymous")
    }

    /// What happened, as told: the subject's start, the webhook's `event`, and the
    /// text's first line after the author's name (up to the page).
    fn what(&self) -> (&'static str, &'static str, &'static str) {
        match (self.change.as_deref(), self.moderated) {
            (None, _) => ("New comment", "comment.delivered", "wrote on"),
            (Some(PARKED | PARKED_OUTAGE), _) => (
                "Not delivered: comment",
                "comment.parked",
                "wrote a comment that could not be delivered, on",
            ),
            (Some("withdraw"), true) => (
                "Removal asked",
                "comment.withdrawal_asked",
                "asks to remove their published comment on",
            ),
            (Some(_), true) => (
                "Change asked",
                "comment.edit_asked",
                "asks to change their published comment on",
            ),
            (Some("withdraw"), false) => (
                "Withdrawn",
                "comment.withdrawn",
                "withdrew their published comment on",
            ),
            (Some(_), false) => (
                "Edited",
                "comment.edited",
                "changed their published comment on",
            ),
        }
    }

    fn subject(&self) -> String {
        let (what, _, _) = self.what();
        format!("{what} by {} on {}", self.author(), self.comment.thread)
    }

    /// The webhook's `event`.
    fn event(&self) -> &'static str {
        self.what().1
    }

    /// Whether this tells of a comment that could not be delivered.
    fn parked(&self) -> bool {
        matches!(self.change.as_deref(), Some(PARKED | PARKED_OUTAGE))
    }

    /// The plain-text message: who, where, the comment quoted, and what to do.
    fn text(&self) -> String {
        let c = self.comment;
        let withdrawn = self.change.as_deref() == Some("withdraw");
        let to = if self.change.as_deref() == Some("edit") {
            " to"
        } else {
            ""
        };
        let mut out = format!("{} {} {}{to}:\n\n", self.author(), self.what().2, self.page);
        for line in c.body.lines() {
            out += "> ";
            out += line;
            out += "\n";
        }
        out += "\n";
        if let Some(site) = &c.website {
            out += &format!("Website:  {site}\n");
        }
        if let Some(parent) = c.parent {
            out += &format!("Reply to: {}#c-{parent}\n", self.page);
        }
        out += &format!("Date:     {}\nId:       {}\n", c.date_string(), c.id);
        if self.parked() {
            out += &format!("Parked:   {}\n", self.location);
            out += if self.change.as_deref() == Some(PARKED_OUTAGE) {
                "\nThe site's repository did not answer: the comment goes out by itself \
                 once it does. Comments parked for the same reason until then are not told \
                 of one by one; `cairn moderate list` shows them all.\n"
            } else {
                "\nOnce the cause is fixed (a credential, the repository's address), \
                 restarting the inbox delivers it. `cairn moderate list` shows it \
                 meanwhile.\n"
            };
            return out;
        }
        match (self.moderated, withdrawn) {
            (true, _) => out += &format!("Waiting:  {}\n", self.location),
            (false, false) => out += &format!("Status:   {}\n", self.location),
            (false, true) => {}
        }
        if let Some((approve, reject)) = &self.links {
            out += &format!(
                "\nApprove: {approve}\nReject:  {reject}\n(These links work until {}.)\n",
                self.expires.format("%Y-%m-%d %H:%M UTC")
            );
        }
        if self.moderated {
            out += &format!(
                "\nOr from a terminal: cairn moderate approve {id} / cairn moderate reject {id}\n",
                id = c.id
            );
        } else if !withdrawn {
            out += &format!(
                "\nTo take it down, in the site's repository: cairn forget --id {}\n",
                c.id
            );
        }
        out
    }
}

fn send_mail(
    mailer: &SmtpTransport,
    from: &Mailbox,
    to: &[Mailbox],
    notice: &Notice<'_>,
) -> Result<()> {
    mail(mailer, from, to, notice.subject(), notice.text())
}

/// Sends one plain-text mail.
fn mail(
    mailer: &SmtpTransport,
    from: &Mailbox,
    to: &[Mailbox],
    subject: String,
    text: String,
) -> Result<()> {
    let mut message = Message::builder()
        .from(from.clone())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for address in to {
        message = message.to(address.clone());
    }
    mailer.send(&message.body(text)?)?;
    Ok(())
}

fn post_webhook(
    http: &reqwest::blocking::Client,
    url: &str,
    format: WebhookFormat,
    notice: &Notice<'_>,
) -> Result<()> {
    let c = notice.comment;
    let fields = serde_json::json!({
        "event": notice.event(),
        "id": c.id.to_string(),
        "thread": c.thread,
        "page": notice.page,
        "parent": c.parent.map(|p| p.to_string()),
        "author": c.author,
        "website": c.website,
        "date": c.date_string(),
        "body": c.body,
        "location": notice.location,
        "approve_url": notice.links.as_ref().map(|l| l.0.clone()),
        "reject_url": notice.links.as_ref().map(|l| l.1.clone()),
    });
    let subject = notice.subject();
    let line = format!("{subject}: {}", notice.page);
    post(http, (url, format), &subject, &line, notice.text(), fields)
}

/// POSTs a notice to the webhook: in the `json` format, `fields` with `text` and
/// `content` set to `line` (what chat hooks show); in the `text` format, `text` with
/// `subject` as its title.
fn post(
    http: &reqwest::blocking::Client,
    (url, format): (&str, WebhookFormat),
    subject: &str,
    line: &str,
    text: String,
    mut fields: serde_json::Value,
) -> Result<()> {
    let request = match format {
        WebhookFormat::Text => http.post(url).header("Title", subject).body(text),
        WebhookFormat::Json => {
            fields["text"] = line.into();
            fields["content"] = line.into();
            http.post(url).json(&fields)
        }
    };
    let response = request.send()?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    Ok(())
}

/// Tells readers about comments of theirs that were published, and about published
/// replies to them, each in the language of the page they wrote on; forgets comments
/// that were rejected.
fn announce(channels: &Channels, private: &Private) -> Result<()> {
    let Some((mailer, from, _)) = &channels.mailer else {
        return Ok(());
    };
    let config = &channels.config;
    for watched in private.watched()? {
        let c = &watched.comment;
        if !channels.backend.published(&c.thread, c.id)? {
            if !channels.backend.exists(&c.thread, c.id)? {
                tracing::info!(id = %c.id, "rejected: no publication mail");
                private.unwatch(c.id)?;
            }
            continue;
        }
        let link = format!("{}#c-{}", config.public_url(&c.thread), c.id);
        let policy = channels.policy.get();
        let strings_of =
            |sub: &super::private::Subscriber| &policy.languages.get_or_site(&sub.lang).strings;
        let page = config.public_url(&c.thread);
        let own = private.subscriber(c.id)?;
        let mut author_told = watched.author_told;
        if !author_told {
            if let Some(sub) = &own {
                let strings = strings_of(sub);
                let text = format!(
                    "{}\n{link}\n\n{}\n",
                    strings.fill("mail_published", &[("page", &page)]),
                    quote(&c.body)
                );
                let subject = strings.get("mail_published_subject");
                send_to_reader(mailer, from, channels, strings, sub, subject, &text)?;
            }
            author_told = true;
        }
        let mut parent_told = watched.parent_told;
        if !parent_told {
            let theirs = match c.parent {
                Some(parent) => private.subscriber(parent)?,
                None => None,
            };
            match theirs {
                Some(sub) if own.as_ref().is_none_or(|o| o.email != sub.email) => {
                    let strings = strings_of(&sub);
                    let author = c.author.as_deref().unwrap_or(strings.get("anonymous"));
                    let text = format!(
                        "{}\n\n{}\n\n{} {link}\n",
                        strings.fill("mail_reply", &[("author", author), ("page", &page)]),
                        quote(&c.body),
                        strings.get("mail_reply_read"),
                    );
                    let subject = strings.fill("mail_reply_subject", &[("author", author)]);
                    send_to_reader(mailer, from, channels, strings, &sub, &subject, &text)?;
                }
                _ => {}
            }
            parent_told = true;
        }
        private.told(c.id, author_told, parent_told)?;
        private.unwatch(c.id)?;
        tracing::info!(id = %c.id, "published: readers told");
    }
    Ok(())
}

fn quote(body: &str) -> String {
    body.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A mail to a reader, with the one-click unsubscribe link in the text and in the
/// `List-Unsubscribe` headers mail programs show as a button (RFC 8058).
fn send_to_reader(
    mailer: &SmtpTransport,
    from: &Mailbox,
    channels: &Channels,
    strings: &Strings,
    to: &super::private::Subscriber,
    subject: &str,
    text: &str,
) -> Result<()> {
    use lettre::message::header::{HeaderName, HeaderValue};
    let config = &channels.config;
    let stop = unsubscribe_url(config, &to.token);
    let body = format!(
        "{text}\n--\n{}\n{} {stop}\n",
        strings.fill("mail_why", &[("site", &config.site.url)]),
        strings.get("mail_stop"),
    );
    let message = Message::builder()
        .from(from.clone())
        .to(to.email.parse().context("a subscriber's address")?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{stop}>"),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_string(),
        ))
        .body(body)?;
    mailer.send(&message)?;
    Ok(())
}

/// The link in every mail to a reader that stops all mail to their address.
fn unsubscribe_url(config: &Config, token: &str) -> String {
    format!(
        "{}/v1/unsubscribe/{token}",
        config.inbox.url.trim_end_matches('/')
    )
}

/// `GET /v1/unsubscribe/{token}`: the button that stops the mail.
pub async fn unsubscribe_page(
    axum::extract::State(inbox): axum::extract::State<Arc<Inbox>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::http::StatusCode;
    let Some(sub) = inbox
        .private
        .as_ref()
        .and_then(|p| p.of_token(&token).ok().flatten())
    else {
        return nothing_to_stop(&inbox);
    };
    let policy = inbox.policy();
    let strings = &policy.languages.get_or_site(&sub.lang).strings;
    super::notice(
        &inbox,
        &sub.lang,
        StatusCode::OK,
        &crate::render::Notice {
            title: strings.get("unsubscribe_title"),
            actions: vec![crate::render::NoticeAction {
                url: unsubscribe_url(&inbox.config, &token),
                label: strings.get("unsubscribe_button").to_string(),
            }],
            ..Default::default()
        },
    )
}

fn nothing_to_stop(inbox: &Inbox) -> axum::response::Response {
    super::told(
        inbox,
        "",
        axum::http::StatusCode::NOT_FOUND,
        ("unsubscribe_none_title", "unsubscribe_none"),
        None,
    )
}

/// `POST /v1/unsubscribe/{token}` (also RFC 8058's one-click POST): forgets the
/// address behind the token, with every subscription it has.
pub async fn unsubscribe(
    axum::extract::State(inbox): axum::extract::State<Arc<Inbox>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::http::StatusCode;
    let Some(private) = &inbox.private else {
        return nothing_to_stop(&inbox);
    };
    let erased = private.of_token(&token).and_then(|sub| {
        sub.map(|sub| Ok((private.forget(&sub.email)?, sub.lang)))
            .transpose()
    });
    match erased {
        Ok(Some((n, lang))) => {
            tracing::info!(subscriptions = n, "a reader unsubscribed");
            super::told(
                &inbox,
                &lang,
                StatusCode::OK,
                ("unsubscribe_done_title", "unsubscribe_done"),
                None,
            )
        }
        Ok(None) => nothing_to_stop(&inbox),
        Err(e) => {
            tracing::warn!("cannot unsubscribe: {e:#}");
            super::told(
                &inbox,
                "",
                StatusCode::SERVICE_UNAVAILABLE,
                ("later_title", "later"),
                None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parked comment's notice says what delivers it: for an outage, the
    /// repository's return (and that the next ones parked so get no notice); for the
    /// rest, a restart once the cause is fixed.
    #[test]
    fn a_parked_notice_says_what_delivers_the_comment() {
        let comment = Comment::parse(
            "id: 01JD3K2AAAAAAAAAAAAAAAAAAA\nthread: /a/\ndate: 2026-01-01T00:00:00Z\n\
             author: Ada\nbody: Lost?\n",
            Format::Yaml,
        )
        .unwrap();
        let notice = |change: &str| Notice {
            comment: &comment,
            page: "https://blog.example.org/a/".into(),
            location: "the inbox's spool (failed): cannot fetch".into(),
            links: None,
            expires: Utc::now(),
            change: Some(change.into()),
            moderated: true,
        };
        for change in [PARKED, PARKED_OUTAGE] {
            let notice = notice(change);
            assert!(notice.parked());
            assert_eq!(notice.event(), "comment.parked");
            let text = notice.text();
            assert!(text.starts_with("Ada wrote a comment that could not be delivered, on https://blog.example.org/a/:\n\n> Lost?\n"), "{text}");
            assert!(
                text.contains("\nParked:   the inbox's spool (failed): cannot fetch\n"),
                "{text}"
            );
            assert!(!text.contains("Approve"), "{text}");
        }
        let outage = notice(PARKED_OUTAGE).text();
        assert!(
            outage.ends_with(
                "\nThe site's repository did not answer: the comment goes out by itself once it \
             does. Comments parked for the same reason until then are not told of one by \
             one; `cairn moderate list` shows them all.\n"
            ),
            "{outage}"
        );
        let other = notice(PARKED).text();
        assert!(
            other.ends_with(
                "\nOnce the cause is fixed (a credential, the repository's address), restarting \
             the inbox delivers it. `cairn moderate list` shows it meanwhile.\n"
            ),
            "{other}"
        );
    }
}
