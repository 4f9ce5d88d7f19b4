//! `cairn inbox`: the service that accepts new comments. A submission is parsed,
//! checked by the [`guard`], made durable in the [`spool`], answered, and later
//! delivered by the worker through a [`crate::deliver::Backend`]. Around that: forge
//! webhooks, notifications and one-click moderation [`links`], authors' private links
//! ([`own`]), the readers' addresses for reply mail ([`private`]) and several [`sites`]
//! in one process.
//!
//! Nothing here serves comments to readers: pages carry them already. If the inbox is
//! down, only posting waits. Client IP addresses are used in memory for rate limiting
//! and never written anywhere.

pub mod check;
pub mod guard;
pub mod http;
pub mod links;
pub mod metrics;
mod notify;
pub mod own;
pub mod private;
pub mod sites;
pub mod spam;
pub mod spool;
mod webhook;
pub(crate) mod worker;

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::comment::Comment;
use crate::config::Config;
use crate::deliver::Backend;
use crate::render::{Languages, Renderer};
use crate::secret::Secret;
use guard::{Reason, Rejection, Submission};
use metrics::Metrics;
use spool::Spool;

/// Seconds a reader turned away because too many comments wait for delivery is asked
/// to wait (`Retry-After`): about what delivering a batch of them takes.
const BUSY_RETRY_SECS: u64 = 60;

/// What reloading the config (SIGHUP) changes: the rules comments are checked by, the
/// pages the inbox answers with (and the strings of its mail to readers), and the spam
/// check.
pub struct Policy {
    /// The config as last (re)loaded. What a reload does not change is as the inbox
    /// started: see [`Inbox::reload`].
    pub config: Config,
    /// The site's renderer, and those of the languages its pages post in.
    languages: Languages,
    /// The external spam check, when `inbox.spam.url` names one.
    spam: Option<spam::SpamCheck>,
}

impl Policy {
    fn new(config: Config) -> Result<Policy> {
        Ok(Policy {
            languages: Languages::new(&config)?,
            spam: spam::SpamCheck::new(&config)?,
            config,
        })
    }

    /// The renderer of the site's language.
    fn renderer(&self) -> &Renderer {
        self.languages.site()
    }
}

/// The policy in force, shared by the handlers and the notifier's thread; a reload puts
/// a new one in.
#[derive(Clone)]
struct InForce(Arc<std::sync::RwLock<Arc<Policy>>>);

impl InForce {
    fn new(policy: Policy) -> InForce {
        InForce(Arc::new(std::sync::RwLock::new(Arc::new(policy))))
    }

    /// The policy now: it stays as it is for the caller, whatever a reload does.
    fn get(&self) -> Arc<Policy> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, policy: Policy) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(policy);
    }
}

/// Everything the handlers and the worker share.
pub struct Inbox {
    /// The config as the inbox started: for what a reload does not change (the
    /// `[inbox]` section but its spam check, `site.url`, `comments.dir`). The rest is
    /// read from [`Inbox::policy`].
    config: Config,
    policy: InForce,
    secret: Secret,
    pub spool: Spool,
    backend: Arc<dyn Backend>,
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    proxies: Vec<IpNet>,
    origins: Vec<String>,
    /// The inbox's own origin: its reply and error pages post their forms from there.
    own_origin: Option<String>,
    pub metrics: Metrics,
    webhooks: webhook::Webhooks,
    notifier: Option<notify::Notifier>,
    /// Readers' addresses for reply mail; only when `inbox.notify.replies` is on.
    pub private: Option<Arc<private::Private>>,
}

impl Inbox {
    /// An inbox for `config`, with its spool opened (and recovered) from disk.
    pub fn new(config: Config, secret: Secret, backend: Arc<dyn Backend>) -> Result<Arc<Inbox>> {
        // One site: its metrics are labelled with its host name.
        let host = config.site_host().unwrap_or_else(|| "site".into());
        let metrics = Metrics::for_site(Arc::new(metrics::Registered::default()), host);
        Inbox::with_metrics(config, secret, backend, metrics)
    }

    /// An inbox whose metrics go to a registry shared with other sites.
    pub fn with_metrics(
        config: Config,
        secret: Secret,
        backend: Arc<dyn Backend>,
        metrics: Metrics,
    ) -> Result<Arc<Inbox>> {
        if let Some(note) =
            crate::render::i18n::untranslated(&config.site.language, &config.strings)
        {
            tracing::warn!("{note}");
        }
        let policy = InForce::new(Policy::new(config.clone())?);
        let spool = Spool::open(&config.spool_dir())?.with_max_waiting(config.inbox.max_waiting);
        let webhooks = webhook::Webhooks::open(&config, config.spool_dir().join("webhooks.seen"))?;
        let private = if config.inbox.notify.replies {
            Some(Arc::new(private::Private::open(
                &config.spool_dir().join("private.db"),
            )?))
        } else {
            None
        };
        let notifier =
            notify::Notifier::start(&config, &secret, &policy, backend.clone(), private.clone())?;
        let limiter = std::num::NonZeroU32::new(config.inbox.rate_per_hour).map(|per_hour| {
            let burst = std::num::NonZeroU32::new(config.inbox.rate_burst).unwrap_or(per_hour);
            DefaultKeyedRateLimiter::keyed(Quota::per_hour(per_hour).allow_burst(burst))
        });
        Ok(Arc::new(Inbox {
            policy,
            proxies: config.trusted_proxies()?,
            origins: config.allowed_origins(),
            own_origin: crate::config::origin_of(&config.inbox.url).ok(),
            secret,
            spool,
            backend,
            limiter,
            metrics,
            webhooks,
            notifier,
            private,
            config,
        }))
    }

    /// The rules, pages and spam check in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.get()
    }

    /// Reads the config file again. Its rules (`[form]`, `comments.closed`, ...), its
    /// pages (`[strings]`, `site.language`, the templates), `[inbox.spam]` and the
    /// site's own keys (`comments.owners`, which a forge's requests name) apply from
    /// the next request on; the rest of `[inbox]`, `site.url` and `comments.dir` stay
    /// as the inbox started, and the names of those that differ in the file are
    /// returned (they need a restart). A file with errors changes nothing.
    pub fn reload(&self) -> Result<Vec<&'static str>> {
        let reloaded = Config::from_file(&self.config.file).and_then(|read| {
            let (config, kept) = reloadable(&self.config, read);
            Ok((Policy::new(config)?, kept))
        });
        self.metrics
            .reload(if reloaded.is_ok() { "ok" } else { "error" });
        let (policy, kept) = reloaded?;
        self.backend.reconfigure(&policy.config);
        self.policy.set(policy);
        Ok(kept)
    }

    /// [`Inbox::reload`], and the outcome in the log; `false` when the file could not
    /// be read and the rules in force stay.
    pub fn reload_and_say(&self) -> bool {
        let file = self.config.file.display();
        match self.reload() {
            Ok(kept) if kept.is_empty() => tracing::info!("reloaded {file}"),
            Ok(kept) => tracing::warn!(
                "reloaded {file}, but what changed in {} takes a restart",
                kept.join(", ")
            ),
            Err(e) => {
                tracing::error!("cannot reload {file}, the rules in force stay: {e:#}");
                return false;
            }
        }
        true
    }

    /// Runs a submission through every check and, when it passes, into the spool.
    async fn accept(
        &self,
        sub: &Submission,
        client: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Result<Comment, (Rejection, Option<u64>)> {
        let policy = self.policy();
        let strings = &policy.languages.get_or_site(&sub.lang).strings;
        let plain = |reason| (Rejection::localized(strings, reason, None, &[]), None);
        let busy = || {
            let busy = Rejection::localized(strings, Reason::Busy, None, &[]);
            (busy, Some(BUSY_RETRY_SECS))
        };
        let comment = self.checked(&policy, sub, headers).map_err(|r| (r, None))?;
        // Nor is one turned away while the backlog is full: the reader is asked to try
        // again in a minute, and must be able to.
        if self.spool.is_full() {
            return Err(busy());
        }
        // A post the reader still has to fix is not counted: only one that would be
        // looked up, written and delivered uses up the client's allowance.
        if let (Some(limiter), Some(ip)) = (&self.limiter, client) {
            if let Err(not_until) = limiter.check_key(&http::client_key(ip)) {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                return Err((
                    Rejection::localized(strings, Reason::RateLimited, None, &[]),
                    Some(wait.as_secs().max(1)),
                ));
            }
        }
        if let Some(parent) = comment.parent {
            self.check_parent(&comment.thread, parent, strings)
                .await
                .map_err(|r| (r, None))?;
        }
        self.spam_checked(&policy, &comment, spam::Event::Comment, &sub.lang, headers)
            .await
            .map_err(|r| (r, None))?;
        match self.spool.accept(&comment).await {
            Ok(()) => {}
            Err(spool::AcceptError::Duplicate) => return Err(plain(Reason::Duplicate)),
            Err(spool::AcceptError::Full) => return Err(busy()),
            Err(spool::AcceptError::Unavailable(e)) => {
                tracing::error!("cannot spool comment {}: {e:#}", comment.id);
                return Err(plain(Reason::Unavailable));
            }
        }
        self.metrics.accepted();
        tracing::info!(id = %comment.id, thread = %comment.thread, "accepted");
        if sub.notify && !sub.email.trim().is_empty() {
            if let Some(private) = &self.private {
                let lang = policy.languages.other(&sub.lang).unwrap_or_default();
                if let Err(e) = private.subscribe(comment.id, &sub.email, lang) {
                    tracing::error!(id = %comment.id, "cannot record the mail subscription: {e:#}");
                }
            }
        }
        Ok(comment)
    }

    /// What a submission would become, if its origin and every field pass the rules:
    /// the checks that need no state.
    fn checked(
        &self,
        policy: &Policy,
        sub: &Submission,
        headers: &HeaderMap,
    ) -> Result<Comment, Rejection> {
        let strings = &policy.languages.get_or_site(&sub.lang).strings;
        if !self.origin_allowed(headers) {
            return Err(Rejection::localized(strings, Reason::Origin, None, &[]));
        }
        guard::validate(sub, &policy.config, strings, &self.secret, Utc::now())
    }

    /// Forgets clients whose allowance is full again, so the rate limiter's memory
    /// follows the clients of the last hour, not every address ever seen.
    fn forget_idle_clients(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// The external spam check's verdict on what is about to be accepted (nothing to
    /// check without one). A check that fails turns the comment away only under
    /// `on_error = "refuse"`.
    async fn spam_checked(
        &self,
        policy: &Policy,
        comment: &Comment,
        event: spam::Event,
        lang: &str,
        headers: &HeaderMap,
    ) -> Result<(), Rejection> {
        let Some(check) = &policy.spam else {
            return Ok(());
        };
        let strings = &policy.languages.get_or_site(lang).strings;
        match check
            .check(&policy.config, comment, event, lang, headers)
            .await
        {
            Ok(spam::Verdict::Ham) => {
                self.metrics.spam_check("ham");
                Ok(())
            }
            Ok(spam::Verdict::Spam(why)) => {
                self.metrics.spam_check("spam");
                tracing::info!(
                    id = %comment.id,
                    thread = %comment.thread,
                    why = why.as_deref().unwrap_or("-"),
                    "refused as spam"
                );
                Err(Rejection::localized(strings, Reason::Spam, None, &[]))
            }
            Err(e) => {
                self.metrics.spam_check("error");
                match check.on_error {
                    crate::config::SpamOnError::Accept => {
                        tracing::warn!(id = %comment.id, "spam check failed, taken unchecked: {e:#}");
                        Ok(())
                    }
                    crate::config::SpamOnError::Refuse => {
                        tracing::warn!(id = %comment.id, "spam check failed, turned away: {e:#}");
                        Err(Rejection::localized(
                            strings,
                            Reason::Unavailable,
                            None,
                            &[],
                        ))
                    }
                }
            }
        }
    }

    /// A reply's parent must exist in the same thread, pending or published: waiting
    /// in the spool, or (delivered) published or waiting for moderation, not rejected.
    async fn check_parent(
        &self,
        thread: &str,
        parent: ulid::Ulid,
        strings: &crate::render::i18n::Strings,
    ) -> Result<(), Rejection> {
        let missing = || Rejection::localized(strings, Reason::Parent, Some("parent"), &[]);
        match self.spool.thread_of(parent) {
            Some((found, _)) if found != thread => return Err(missing()),
            Some((_, spool::State::Queued | spool::State::Delivering)) => return Ok(()),
            _ => {}
        }
        let backend = self.backend.clone();
        let thread_owned = thread.to_string();
        match tokio::task::spawn_blocking(move || backend.exists(&thread_owned, parent)).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(missing()),
            Ok(Err(e)) => {
                tracing::warn!("cannot look up parent {parent}: {e:#}");
                Err(Rejection::localized(
                    strings,
                    Reason::Unavailable,
                    None,
                    &[],
                ))
            }
            Err(e) => {
                tracing::error!("parent lookup panicked: {e}");
                Err(Rejection::localized(
                    strings,
                    Reason::Unavailable,
                    None,
                    &[],
                ))
            }
        }
    }

    /// Forms must come from an allowed origin, or from the inbox's own pages (its reply
    /// and error pages); requests that carry neither `Origin` nor `Referer` are not from
    /// a browser page and pass (the rate limit still applies). A page whose referrer
    /// policy hides its origin (see [`Sender::Hidden`]) passes when it is on the inbox's
    /// own site.
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        match sender(headers) {
            Sender::Page(origin) => {
                self.origins.iter().any(|o| *o == origin)
                    || self.own_origin.as_deref() == Some(&*origin)
            }
            Sender::Hidden { same_site: true } | Sender::Unknown => true,
            Sender::Hidden { same_site: false } => {
                tracing::warn!(
                    "refused a form post with `Origin: null` from a page on another site than \
                     the inbox's: a page whose referrer policy is no-referrer or same-origin \
                     sends its form that way; serve the inbox on the site's domain, or give \
                     the pages with the form another referrer policy"
                );
                false
            }
        }
    }

    /// The client's address: the socket's peer, or, when that is a trusted proxy, the
    /// last address in `X-Forwarded-For` that is not one. IPv4-mapped IPv6 addresses
    /// (`::ffff:192.0.2.1`, as a dual-stack listener sees IPv4 peers) are taken as the
    /// IPv4 addresses they are; an address may carry a port (`192.0.2.1:5123`, as some
    /// proxies write it). An entry that is no address ends the walk, and the client is
    /// counted as the proxy: the entries left of it may be the client's own invention.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        let trusted = |ip: &IpAddr| self.proxies.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<Option<IpAddr>> = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .flat_map(|v| v.split(','))
            .map(|s| {
                let s = s.trim();
                s.parse::<IpAddr>()
                    .or_else(|_| s.parse::<SocketAddr>().map(|a| a.ip()))
                    .ok()
                    .map(|ip| ip.to_canonical())
            })
            .collect();
        for ip in forwarded.into_iter().rev() {
            match ip {
                Some(ip) if trusted(&ip) => {}
                Some(ip) => return Some(ip),
                None => break,
            }
        }
        Some(peer)
    }

    /// Where "back to the article" leads.
    fn back_url(&self, thread: Option<&str>, anchor: &str) -> String {
        match thread {
            Some(t) => format!("{}#{anchor}", self.config.public_url(t)),
            None => self.config.site.url.clone(),
        }
    }
}

/// `read` with what a reload cannot change taken from `running`, and the names of
/// those parts that differ (they need a restart).
fn reloadable(running: &Config, mut read: Config) -> (Config, Vec<&'static str>) {
    let mut kept = Vec::new();
    // `[inbox]` compared as it started but for the spam check, which takes the file's.
    let spam = std::mem::replace(&mut read.inbox.spam, running.inbox.spam.clone());
    if format!("{:?}", read.inbox) != format!("{:?}", running.inbox) {
        kept.push("[inbox]");
    }
    read.inbox.clone_from(&running.inbox);
    read.inbox.spam = spam;
    if read.site.url != running.site.url {
        kept.push("site.url");
        read.site.url.clone_from(&running.site.url);
    }
    if read.comments.dir != running.comments.dir {
        kept.push("comments.dir");
        read.comments.dir.clone_from(&running.comments.dir);
    }
    (read, kept)
}

/// Where a post says it comes from, as browsers tell it.
pub(crate) enum Sender<'a> {
    /// The origin of the page that sent it (its `Origin`, else its `Referer`'s).
    Page(Cow<'a, str>),
    /// A page that hides its origin: one whose referrer policy is `no-referrer` or
    /// `same-origin` sends a form to another origin with `Origin: null` and no
    /// `Referer` (Fetch, "append a request `Origin` header"). Its `Sec-Fetch-Site`
    /// still says whether it is on the inbox's site (`comments.example.org` for
    /// `blog.example.org`), which no other site's page can claim.
    Hidden { same_site: bool },
    /// No browser page: neither header.
    Unknown,
}

/// Where the post with these headers [comes from](Sender).
pub(crate) fn sender(headers: &HeaderMap) -> Sender<'_> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match header(header::ORIGIN) {
        Some("null") => Sender::Hidden {
            same_site: matches!(
                header(HeaderName::from_static("sec-fetch-site")),
                Some("same-origin" | "same-site")
            ),
        },
        Some(origin) => Sender::Page(Cow::Borrowed(origin)),
        None => match header(header::REFERER) {
            Some(referer) => Sender::Page(Cow::Owned(
                crate::config::origin_of(referer).unwrap_or_default(),
            )),
            None => Sender::Unknown,
        },
    }
}

/// CORS for JSON posts from the allowed origins.
pub(crate) fn cors<'a>(origins: impl IntoIterator<Item = &'a String>) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .into_iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE])
}

/// The content security policy of the inbox's pages, which show what readers wrote:
/// they load only the site's stylesheet (and what it brings: images, fonts), run no
/// script, post only to the inbox, and no other page may frame them (no clickjacking
/// of their buttons).
fn page_policy(config: &Config) -> HeaderValue {
    let site = crate::config::origin_of(&config.site.url).unwrap_or_default();
    let inbox = crate::config::origin_of(&config.inbox.url).unwrap_or_default();
    let policy = format!(
        "default-src 'none'; style-src {site} 'unsafe-inline'; img-src {site} data:; \
         font-src {site}; form-action 'self' {inbox}; frame-ancestors 'none'; \
         base-uri 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// Gives pages (HTML answers) their policy, and tells browsers to take every answer
/// as the type it says it is.
async fn secure(State(policy): State<HeaderValue>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let page = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if page {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The inbox's HTTP interface, at the root and, when `inbox.url` has a path (the inbox
/// behind a path of another host), under that path too: a reverse proxy may pass
/// requests on with the path or without it.
pub fn router(inbox: Arc<Inbox>) -> Router {
    let path = crate::config::url_path(&inbox.config.inbox.url);
    let app = routes(inbox);
    match path.trim_end_matches('/') {
        "" => app,
        path => app.clone().nest(path, app),
    }
}

/// The inbox's routes.
pub(crate) fn routes(inbox: Arc<Inbox>) -> Router {
    let cors = cors(&inbox.origins);
    let policy = page_policy(&inbox.config);
    Router::new()
        .route("/v1/comments", post(post_comment))
        .route("/v1/reply", get(reply_page))
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics_text))
        .route("/v1/webhooks/{forge}", post(webhook::receive))
        .route("/v1/own/{id}", get(own::show))
        .route("/v1/own/{id}/edit", post(own::edit))
        .route("/v1/own/{id}/withdraw", post(own::withdraw))
        .route(
            "/v1/unsubscribe/{token}",
            get(notify::unsubscribe_page).post(notify::unsubscribe),
        )
        .route(
            "/v1/moderate/{id}/{action}",
            get(links::show).post(links::act),
        )
        .layer(cors)
        .layer(axum::middleware::map_response_with_state(policy, secure))
        .with_state(inbox)
}

/// Which comment a reply page answers: `GET /v1/reply?thread=…&parent=…&to=…`, with
/// `to` the name of its author (when it has one) and `lang=…` from pages in another
/// language than the site's.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReplyTo {
    thread: String,
    parent: String,
    to: String,
    lang: String,
}

/// The form for a reply to one comment, for readers without JavaScript (the page's
/// "Reply" links here). A thread that is not on the site, or a parent that is no
/// comment id, gets the form's error page.
async fn reply_page(
    State(inbox): State<Arc<Inbox>>,
    axum::extract::Query(to): axum::extract::Query<ReplyTo>,
) -> Response {
    let thread = guard::thread_of(&to.thread, &inbox.config);
    let parent = ulid::Ulid::from_string(to.parent.trim()).ok();
    let policy = inbox.policy();
    let renderer = policy.languages.get_or_site(&to.lang);
    if let Some(closed) = thread
        .as_deref()
        .filter(|t| policy.config.comments.is_closed(t))
    {
        let page = renderer.notice_page(&crate::render::Notice {
            title: renderer.strings.get("reply_title"),
            text: Some(renderer.strings.get("error_closed")),
            back: Some(inbox.back_url(Some(closed), "cairn-comments")),
            ..Default::default()
        });
        return match page {
            Ok(page) => (StatusCode::FORBIDDEN, Html(page)).into_response(),
            Err(e) => internal(&e),
        };
    }
    let page = match (&thread, parent) {
        (Some(thread), Some(parent)) => {
            let back = inbox.back_url(Some(thread), &format!("c-{parent}"));
            // Only a name as a comment may carry one is shown.
            let to = Some(to.to.trim()).filter(|name| {
                !guard::is_blank(name) && name.chars().count() <= policy.config.form.max_author
            });
            renderer
                .reply_page(thread, &parent.to_string(), to, &back)
                .map(|page| (StatusCode::OK, page))
        }
        _ => {
            let key = if thread.is_none() {
                "error_thread"
            } else {
                "error_parent"
            };
            let message = renderer.strings.get(key);
            renderer
                .form_page(
                    thread.as_deref().unwrap_or("/"),
                    "",
                    &[],
                    &[("form", message)],
                    &inbox.back_url(thread.as_deref(), "cairn-comments"),
                )
                .map(|page| (StatusCode::BAD_REQUEST, page))
        }
    };
    match page {
        Ok((status, page)) => (status, Html(page)).into_response(),
        Err(e) => internal(&e),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Form,
    Json,
}

/// How a submission's fields come: JSON, or a form urlencoded (as forms send them by
/// default) or as `multipart/form-data` (as a form with that `enctype`, or a script
/// posting `FormData`, sends them).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    UrlEncoded,
    Multipart,
}

impl Encoding {
    /// How the answer goes back: JSON to JSON, and to a script that asks for JSON and
    /// not for a page (`Accept: application/json`, as one posting `FormData` may); a
    /// page to a form.
    fn kind(self, headers: &HeaderMap) -> Kind {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let wants_json = accept.contains("application/json") && !accept.contains("text/html");
        match self {
            Encoding::Json => Kind::Json,
            Encoding::UrlEncoded | Encoding::Multipart if wants_json => Kind::Json,
            Encoding::UrlEncoded | Encoding::Multipart => Kind::Form,
        }
    }
}

async fn post_comment(State(inbox): State<Arc<Inbox>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = inbox.client(peer, &parts.headers);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let encoding = match media_type.as_str() {
        "application/x-www-form-urlencoded" => Encoding::UrlEncoded,
        "multipart/form-data" => Encoding::Multipart,
        "application/json" => Encoding::Json,
        _ => {
            let policy = inbox.policy();
            let r =
                Rejection::localized(&policy.renderer().strings, Reason::ContentType, None, &[]);
            return respond_rejected(&inbox, Kind::Json, &Submission::default(), r, None, started);
        }
    };
    let kind = encoding.kind(&parts.headers);
    let bytes = match axum::body::to_bytes(body, inbox.config.inbox.max_request).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let reason = if too_large(&e) {
                Reason::TooLarge
            } else {
                Reason::Incomplete
            };
            let policy = inbox.policy();
            let r = Rejection::localized(&policy.renderer().strings, reason, None, &[]);
            return respond_rejected(&inbox, kind, &Submission::default(), r, None, started);
        }
    };
    let sub = match parse(encoding, &content_type, bytes).await {
        Ok(sub) => sub,
        Err((field, detail)) => {
            let r = Rejection::new(Reason::Malformed, field, detail);
            return respond_rejected(&inbox, kind, &Submission::default(), r, None, started);
        }
    };
    if sub.preview {
        return preview(&inbox, kind, &sub, &parts.headers, started);
    }
    match inbox.accept(&sub, client, &parts.headers).await {
        Ok(comment) => {
            inbox.metrics.latency(started.elapsed().as_secs_f64());
            match kind {
                Kind::Json => (
                    StatusCode::ACCEPTED,
                    Json(serde_json::json!({
                        "id": comment.id.to_string(),
                        "status": "queued",
                        "manage_url": own::link(
                            &inbox.config.inbox.url,
                            &inbox.secret,
                            comment.id,
                            inbox.policy().languages.other(&sub.lang),
                        ),
                    })),
                )
                    .into_response(),
                Kind::Form => {
                    let anchor = match comment.parent {
                        Some(p) => format!("c-{p}"),
                        None => "cairn-comments".into(),
                    };
                    let back = inbox.back_url(Some(&comment.thread), &anchor);
                    let policy = inbox.policy();
                    let manage = own::link(
                        &inbox.config.inbox.url,
                        &inbox.secret,
                        comment.id,
                        policy.languages.other(&sub.lang),
                    );
                    let renderer = policy.languages.get_or_site(&sub.lang);
                    match renderer.confirmation_page(&comment, &back, &manage) {
                        Ok(page) => Html(page).into_response(),
                        Err(e) => internal(&e),
                    }
                }
            }
        }
        Err((rejection, retry_after)) => {
            respond_rejected(&inbox, kind, &sub, rejection, retry_after, started)
        }
    }
}

/// The answer to a post that asks for a preview: the comment as it would appear, and
/// (to a form) the form again holding it, to change it or post it. Checked by the same
/// rules as a post, but it is not posted, so nothing is counted against the client's
/// allowance, looked up or spooled.
fn preview(
    inbox: &Inbox,
    kind: Kind,
    sub: &Submission,
    headers: &HeaderMap,
    started: Instant,
) -> Response {
    let policy = inbox.policy();
    let comment = match inbox.checked(&policy, sub, headers) {
        Ok(comment) => comment,
        Err(r) => return respond_rejected(inbox, kind, sub, r, None, started),
    };
    match kind {
        Kind::Json => Json(serde_json::json!({
            "status": "preview",
            "html": crate::render::markdown::to_html(&comment.body),
        }))
        .into_response(),
        Kind::Form => {
            let back = inbox.back_url(Some(&comment.thread), "cairn-comments");
            let renderer = policy.languages.get_or_site(&sub.lang);
            match renderer.preview_page(&comment, &form_values(sub), &back) {
                Ok(page) => Html(page).into_response(),
                Err(e) => internal(&e),
            }
        }
    }
}

/// What the reader typed, to fill the form again.
fn form_values(sub: &Submission) -> Vec<(&'static str, &str)> {
    let mut values = sub.values().to_vec();
    values.push(("notify", if sub.notify { "on" } else { "" }));
    values
}

/// Whether reading a body failed because it is longer than the limit (rather than cut
/// off, or too slow: see [`http::Timeouts`]).
fn too_large(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The submission in a body, or what is wrong with it (and with which field, if one).
async fn parse(
    encoding: Encoding,
    content_type: &str,
    bytes: Bytes,
) -> Result<Submission, (Option<&'static str>, String)> {
    match encoding {
        Encoding::Json => Submission::from_json(&bytes),
        Encoding::UrlEncoded => {
            let mut sub = Submission::default();
            for (name, value) in url::form_urlencoded::parse(&bytes) {
                sub.set_field(&name, value.into_owned());
            }
            Ok(sub)
        }
        Encoding::Multipart => parse_multipart(content_type, bytes)
            .await
            .map_err(|e| (None, e)),
    }
}

/// The fields of a `multipart/form-data` body, read by axum's multipart extractor.
async fn parse_multipart(content_type: &str, bytes: Bytes) -> Result<Submission, String> {
    let request = axum::http::Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(bytes))
        .map_err(|e| e.to_string())?;
    let mut form = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|e| format!("invalid multipart form: {}", e.body_text()))?;
    let invalid = |e: axum::extract::multipart::MultipartError| {
        format!("invalid multipart form: {}", e.body_text())
    };
    let mut sub = Submission::default();
    while let Some(field) = form.next_field().await.map_err(invalid)? {
        let name = field.name().unwrap_or_default().to_string();
        let value = field.text().await.map_err(invalid)?;
        sub.set_field(&name, value);
    }
    Ok(sub)
}

/// A rejection as the client asked: JSON `{"error", "reason", "field"}`, or the form
/// again with the reader's text and the message next to the field.
fn respond_rejected(
    inbox: &Inbox,
    kind: Kind,
    sub: &Submission,
    rejection: Rejection,
    retry_after: Option<u64>,
    started: Instant,
) -> Response {
    let reason = rejection.reason;
    inbox.metrics.reject(reason.label());
    inbox.metrics.latency(started.elapsed().as_secs_f64());
    tracing::info!(reason = reason.label(), field = rejection.field, "rejected");
    let mut response = match kind {
        Kind::Json => (
            reason.status(),
            Json(serde_json::json!({
                "error": rejection.message,
                "reason": reason.label(),
                "field": rejection.field,
            })),
        )
            .into_response(),
        Kind::Form => {
            let thread = guard::thread_of(&sub.thread, &inbox.config);
            let shown_field = rejection
                .field
                .filter(|f| crate::config::FORM_FIELDS.contains(f));
            let policy = inbox.policy();
            let renderer = policy.languages.get_or_site(&sub.lang);
            let general = renderer.strings.get("error_form").to_string();
            let mut errors = vec![];
            match shown_field {
                Some(field) => {
                    errors.push(("form", general.as_str()));
                    errors.push((field, rejection.message.as_str()));
                }
                None => errors.push(("form", rejection.message.as_str())),
            }
            let page = renderer.form_page(
                thread.as_deref().unwrap_or("/"),
                sub.parent.trim(),
                &form_values(sub),
                &errors,
                &inbox.back_url(thread.as_deref(), "cairn-comments"),
            );
            match page {
                Ok(page) => (reason.status(), Html(page)).into_response(),
                Err(e) => return internal(&e),
            }
        }
    };
    if let Some(secs) = retry_after {
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// A page that tells a reader something (`notice.html`), in the site's style and the
/// language of `lang` (or the site's).
fn notice(
    inbox: &Inbox,
    lang: &str,
    status: StatusCode,
    notice: &crate::render::Notice<'_>,
) -> Response {
    match inbox
        .policy()
        .languages
        .get_or_site(lang)
        .notice_page(notice)
    {
        Ok(page) => (status, Html(page)).into_response(),
        Err(e) => internal(&e),
    }
}

/// A notice of one paragraph, both it and the title strings (by key) in the language
/// of `lang` (or the site's), with a link back to the page of `thread` if there is one.
fn told(
    inbox: &Inbox,
    lang: &str,
    status: StatusCode,
    (title, text): (&str, &str),
    thread: Option<&str>,
) -> Response {
    let policy = inbox.policy();
    let strings = &policy.languages.get_or_site(lang).strings;
    notice(
        inbox,
        lang,
        status,
        &crate::render::Notice {
            title: strings.get(title),
            text: Some(strings.get(text)),
            back: thread.map(|t| inbox.config.public_url(t)),
            ..Default::default()
        },
    )
}

fn internal(e: &anyhow::Error) -> Response {
    tracing::error!("{e:#}");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}

/// The spool's items by state, for the health endpoints.
fn spool_counts(inbox: &Inbox) -> serde_json::Map<String, serde_json::Value> {
    let depth = inbox.spool.depth();
    spool::State::ALL
        .iter()
        .map(|s| {
            (
                s.name().to_string(),
                depth.get(s).copied().unwrap_or(0).into(),
            )
        })
        .collect()
}

async fn health(State(inbox): State<Arc<Inbox>>) -> Response {
    Json(serde_json::json!({ "status": "ok", "spool": spool_counts(&inbox) })).into_response()
}

async fn metrics_text(State(inbox): State<Arc<Inbox>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        inbox.metrics.encode(&inbox.spool),
    )
        .into_response()
}

/// Serves on `listener` and runs the delivery worker until `shutdown` completes; then
/// stops taking connections, finishes the requests in flight and the delivery of the
/// comment in hand (the rest of a forge's batch stays queued), and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    inbox: Arc<Inbox>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = router(inbox.clone());
    serve_all(listener, vec![inbox], app, shutdown).await
}

/// [`serve`] for several sites' inboxes behind one router: a delivery worker each.
pub async fn serve_all(
    listener: tokio::net::TcpListener,
    inboxes: Vec<Arc<Inbox>>,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = inboxes
        .iter()
        .map(|inbox| tokio::spawn(worker::run(inbox.clone(), stopped.clone())))
        .collect();
    // A proxy trusted by any of the sites carries many clients' connections.
    let proxies = inboxes
        .iter()
        .flat_map(|inbox| inbox.proxies.iter().copied())
        .collect();
    let limits = http::Limits::new(http::raise_open_files_limit(), proxies);
    http::serve(listener, app, http::Timeouts::default(), limits, shutdown).await;
    let _ = stop.send(true);
    for inbox in &inboxes {
        inbox.backend.stop();
    }
    for worker in workers {
        worker.await.context("a delivery worker failed")?;
    }
    // Leave every item in its own file and the journal empty.
    for inbox in inboxes {
        tokio::task::spawn_blocking(move || inbox.spool.flush()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
