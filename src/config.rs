//! `cairn.toml`: the site's one configuration file, found by walking up from the
//! working directory. Every key has a default except the three URLs/paths a site must
//! state; unknown keys are errors that name the file, line and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// File name looked for when no `--config` is given.
pub const FILE_NAME: &str = "cairn.toml";

/// The whole configuration. Relative paths in it are relative to [`Config::root`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The site being commented on.
    pub site: Site,
    /// Where comment files live and how threads are shown.
    pub comments: Comments,
    /// The posting form and the limits the inbox and `cairn check` enforce.
    #[serde(default)]
    pub form: Form,
    /// Atom feeds of comments.
    #[serde(default)]
    pub feeds: Feeds,
    /// The inbox service that receives new comments.
    pub inbox: Inbox,
    /// Overrides for interface strings of the configured language, by key.
    #[serde(default)]
    pub strings: BTreeMap<String, String>,
    /// Directory holding `cairn.toml`; not read from the file.
    #[serde(skip)]
    pub root: PathBuf,
    /// The file this was read from (empty when it was not read from one).
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The site's public base URL, e.g. `https://blog.example.org/`.
    pub url: String,
    /// The site's name: the site-wide feed is titled with it (default: the URL's host),
    /// and it is taken off page titles that start or end with it ("Hello | My blog").
    #[serde(default)]
    pub title: Option<String>,
    /// Language of dates and interface strings: cairn has strings in en, de, fr, es, pt,
    /// it, nl, ja, ru, pl, zh, ar, uk, ko, he, id and tr; another takes them from
    /// `[strings]`.
    #[serde(default = "default_language")]
    pub language: String,
    /// Time zone of the dates pages show, by its IANA name (e.g. `Europe/Berlin`);
    /// default UTC. The machine-readable dates (`<time datetime>`, feeds) stay in UTC.
    #[serde(default)]
    pub timezone: TimeZone,
    /// Directory of template overrides; a file here replaces the built-in one of the same name.
    #[serde(default = "default_templates")]
    pub templates: PathBuf,
    /// Built site directory used when `cairn render` is given none (default: `public/`
    /// if it exists, else `_site/`).
    #[serde(default)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comments {
    /// Directory of comment files, one sub-directory per thread.
    pub dir: PathBuf,
    /// Order of top-level comments: `oldest` first or `newest` first. Replies are always oldest first.
    #[serde(default)]
    pub sort: Sort,
    /// Deepest nesting shown; deeper replies are shown at this depth with an "in reply to" link.
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// strftime-style date format (e.g. `%-d %B %Y`); default: the language's own.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Threads that take no new comments: their comments still show, without the form
    /// and the "Reply" links, and the inbox refuses posts to them. Each is a thread
    /// path (`/posts/old/`) or the start of one ending in `*` (`/2019/*`); `*` alone
    /// closes every thread.
    #[serde(default)]
    pub closed: Vec<String>,
    /// Avatar keys of the site's own people (`cairn avatar ADDRESS` prints one's): their
    /// comments are marked as the author's. Keys, never the addresses: this file is
    /// committed.
    #[serde(default)]
    pub owners: Vec<String>,
}

/// Whether `thread` is one of `closed` (entries of `comments.closed`, normalized).
pub fn is_closed(closed: &[String], thread: &str) -> bool {
    closed.iter().any(|entry| thread_matches(entry, thread))
}

/// A thread path, or the start of one ending in `*` (`/2019/*`; `*` alone is every
/// thread), in the form [`thread_matches`] compares: normalized, as every thread is (a
/// start is written as threads are, see [`crate::thread::escape`]).
pub fn thread_pattern(entry: &str) -> Result<String> {
    match entry.strip_suffix('*') {
        Some(start) => {
            if !(start.is_empty() || start.starts_with('/')) || start.contains('*') {
                bail!("a thread path starts with `/`, and only its end may be `*`");
            }
            let decoded = percent_encoding::percent_decode_str(start)
                .decode_utf8()
                .context("not valid percent-encoded UTF-8")?;
            Ok(format!("{}*", crate::thread::escape(&decoded)))
        }
        None => crate::thread::normalize(entry).map_err(Into::into),
    }
}

/// Whether a comment with this avatar key is by one of `owners` (`comments.owners`).
pub fn is_owner(owners: &[String], avatar: Option<&str>) -> bool {
    avatar.is_some_and(|key| owners.iter().any(|owner| owner == key))
}

/// Whether `thread` (a normalized thread path) is `pattern` (see [`thread_pattern`]).
pub fn thread_matches(pattern: &str, thread: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(start) => thread.starts_with(start),
        None => pattern == thread,
    }
}

impl Comments {
    /// Whether `thread` (a normalized thread path) takes no new comments.
    pub fn is_closed(&self, thread: &str) -> bool {
        is_closed(&self.closed, thread)
    }

    /// Whether a comment with this avatar key is by one of the site's own people.
    pub fn is_owner(&self, avatar: Option<&str>) -> bool {
        is_owner(&self.owners, avatar)
    }

    /// `closed`'s entries in the form [`Comments::is_closed`] compares.
    fn normalize_closed(&mut self) -> Result<()> {
        for entry in &mut self.closed {
            *entry =
                thread_pattern(entry).with_context(|| format!("comments.closed: `{entry}`"))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Oldest,
    Newest,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Form {
    /// Fields a reader must fill in, among `author`, `email`, `website`, `body`.
    pub required: Vec<String>,
    /// Longest comment body accepted, in characters.
    pub max_body: usize,
    /// Longest name accepted, in characters.
    pub max_author: usize,
    /// Longest website URL accepted, in characters.
    pub max_website: usize,
    /// Words, names or addresses the inbox refuses a comment for: one whose name,
    /// website or text holds any of them (in any case, also inside a longer word) is
    /// turned away, for the reader to change.
    pub blocked: Vec<String>,
    /// Most links (`http://`, `https://`) the inbox accepts in one comment.
    pub max_links: usize,
}

impl Form {
    /// The first of `blocked` that one of `texts` holds, in any case, and with
    /// [characters that take no room](crate::comment::takes_no_room) left out (`ca​sino`
    /// with a zero width space in it is `casino`).
    pub fn blocked_in<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> Option<&str> {
        if self.blocked.is_empty() {
            return None;
        }
        let texts: Vec<String> = texts.into_iter().map(comparable).collect();
        self.blocked
            .iter()
            .find(|word| texts.iter().any(|t| t.contains(word.as_str())))
            .map(String::as_str)
    }

    /// `blocked` as [`Form::blocked_in`] compares it: trimmed, in lower case and without
    /// characters that take no room.
    fn normalize_blocked(&mut self) -> Result<()> {
        for word in &mut self.blocked {
            *word = comparable(word.trim());
            if word.is_empty() {
                bail!("form.blocked: an entry is empty, which every comment would hold");
            }
        }
        Ok(())
    }
}

/// Text as [`Form::blocked_in`] compares it.
fn comparable(text: &str) -> String {
    text.chars()
        .filter(|&c| !crate::comment::takes_no_room(c))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Default for Form {
    fn default() -> Self {
        Form {
            required: vec!["body".into()],
            max_body: 10_000,
            max_author: 100,
            max_website: 300,
            max_links: 3,
            blocked: Vec::new(),
        }
    }
}

/// The form fields a site may require.
pub const FORM_FIELDS: [&str; 4] = ["author", "email", "website", "body"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Feeds {
    /// Whether to write Atom feeds of comments.
    pub enabled: bool,
    /// File name of each feed: at the site root for all comments, in each page's directory for its thread.
    pub file: String,
    /// Most entries in each feed, newest first; also the most a `data-cairn-recent` list
    /// shows.
    pub entries: usize,
}

impl Default for Feeds {
    fn default() -> Self {
        Feeds {
            enabled: true,
            file: "comments.xml".into(),
            entries: 50,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbox {
    /// Public URL of the inbox; the form posts to `{url}/v1/comments`.
    pub url: String,
    /// Address `cairn inbox` listens on (`--listen` overrides).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Spool directory: accepted comments wait here until delivered. Relative to
    /// cairn.toml; keep it out of the site's published output.
    #[serde(default = "default_spool")]
    pub spool: PathBuf,
    /// File holding the avatar key secret, when `CAIRN_SECRET` is not set.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Origins allowed to post (CORS for JSON, Origin/Referer check for forms);
    /// default: the origin of `site.url`.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Reverse proxies (IPs or CIDR ranges) whose `X-Forwarded-For` is believed; the
    /// client is otherwise the socket's peer.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Comments one client may post per hour; 0 turns rate limiting off.
    #[serde(default = "default_rate_per_hour")]
    pub rate_per_hour: u32,
    /// Posts a client may make in a quick burst before the hourly rate applies.
    #[serde(default = "default_rate_burst")]
    pub rate_burst: u32,
    /// Largest request body accepted, in bytes; at least enough for every form field
    /// at its longest (12 bytes a character, percent-encoded UTF-8).
    #[serde(default = "default_max_request")]
    pub max_request: usize,
    /// Failed delivery attempts after which a comment is parked as failed.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Comments waiting for delivery (queued or being delivered) beyond which new ones
    /// are turned away with 503 and `Retry-After` until delivery catches up, so a flood
    /// cannot fill the disk or the moderation queue; 0 for no limit.
    #[serde(default = "default_max_waiting")]
    pub max_waiting: usize,
    /// Hours a delivered comment stays in the spool for inspection (and for its
    /// author's private link to work).
    #[serde(default = "default_keep_delivered_hours")]
    pub keep_delivered_hours: u64,
    /// Hours after posting during which an author may still change or withdraw a
    /// published comment (as a request to the moderator); pending ones any time.
    #[serde(default = "default_edit_hours")]
    pub edit_hours: u64,
    /// Where accepted comments are delivered.
    #[serde(default)]
    pub delivery: Delivery,
    /// Who hears about new comments, and how.
    #[serde(default)]
    pub notify: Notify,
    /// An external spam check each comment goes through before it is accepted.
    #[serde(default)]
    pub spam: Spam,
}

/// The optional external spam check: a URL of the site owner's (a local classifier, or
/// a bridge to a hosted service) that each comment which passed every other rule is
/// POSTed to, as JSON without e-mail or IP address, and that answers whether it is spam.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Spam {
    /// The checker's http(s) URL; no check without one.
    pub url: Option<String>,
    /// Milliseconds the inbox waits for the answer.
    pub timeout_ms: u64,
    /// What a check that fails (no answer in time, an error status, an answer that is
    /// no verdict) means: `accept` (the comment goes on to moderation unchecked) or
    /// `refuse` (503: the reader is asked to try again, with the text given back).
    pub on_error: SpamOnError,
    /// File holding a bearer token for the checker, when `CAIRN_SPAM_TOKEN` is not set
    /// (neither: no `Authorization` header).
    pub token_file: Option<PathBuf>,
}

impl Default for Spam {
    fn default() -> Self {
        Spam {
            url: None,
            timeout_ms: 3000,
            on_error: SpamOnError::Accept,
            token_file: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpamOnError {
    #[default]
    Accept,
    Refuse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Notify {
    /// Moderators mailed about each new comment once it is delivered.
    pub email: Vec<String>,
    /// Sender of those mails, e.g. `cairn <cairn@example.org>`.
    pub from: Option<String>,
    /// SMTP server: `smtp://host:587` (STARTTLS), `smtps://host:465` (TLS from the
    /// start), `smtp://host:25?tls=none` (plain: local relays only); a user name goes
    /// before the host (`smtp://me@host`), its password in `CAIRN_SMTP_PASSWORD`.
    pub smtp_url: Option<String>,
    /// File holding the SMTP password, when `CAIRN_SMTP_PASSWORD` is not set.
    pub smtp_password_file: Option<PathBuf>,
    /// PEM certificate of a private CA that signed the SMTP server's certificate.
    pub smtp_ca_file: Option<PathBuf>,
    /// URL that gets a POST about each new comment (Slack, Mattermost, Discord,
    /// Matrix hookshot, ntfy, ...).
    pub webhook: Option<String>,
    /// `json` (an object with `text` and `content` lines and every field) or `text`
    /// (the message as plain text, for ntfy-style URLs).
    pub webhook_format: WebhookFormat,
    /// Hours the one-click approve and reject links in mails stay valid (git backend).
    pub link_hours: u64,
    /// Offer readers a box on the form to get mail when their comment is published
    /// and when someone replies to it (needs `smtp_url` and `from`).
    pub replies: bool,
    /// Seconds between looks at whether comments readers wait for were published.
    pub publish_check_secs: u64,
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            email: Vec::new(),
            from: None,
            smtp_url: None,
            smtp_password_file: None,
            smtp_ca_file: None,
            webhook: None,
            webhook_format: WebhookFormat::Json,
            link_hours: 168,
            replies: false,
            publish_check_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    #[default]
    Json,
    Text,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    /// Delivery backend: `git` (any remote git can push to), or pull requests through a
    /// forge's REST API: `github`, `gitlab`, `gitea` (also `forgejo`).
    pub backend: Backend,
    /// `review`: a branch per comment; `batch`: one rolling branch; `direct`: straight
    /// onto the site branch (no moderation).
    pub mode: Mode,
    /// The site repository: a path (relative to cairn.toml), a `file://`, `ssh://` or
    /// `https://` URL, or the short ssh form `[user@]host:path`.
    /// Credentials come from `CAIRN_GIT_USERNAME`/`CAIRN_GIT_PASSWORD` or
    /// `CAIRN_GIT_SSH_KEY` (else the ssh agent).
    pub remote: Option<String>,
    /// The branch the site is built from.
    pub branch: String,
    /// The rolling branch of `batch` mode.
    pub batch_branch: String,
    /// Name on cairn's commits.
    pub committer_name: String,
    /// E-mail on cairn's commits (the bot's, never a reader's).
    pub committer_email: String,
    /// The repository on the forge, `owner/name` (forge backends).
    pub repo: Option<String>,
    /// The forge's API root: default `https://api.github.com` or
    /// `https://gitlab.com/api/v4`; for Gitea/Forgejo, e.g. `https://codeberg.org/api/v1`.
    pub api_url: Option<String>,
    /// Labels put on each pull request cairn opens.
    pub labels: Vec<String>,
    /// File holding the forge token, when `CAIRN_FORGE_TOKEN` is not set.
    pub token_file: Option<PathBuf>,
    /// GitHub App id, to act as an app installation instead of with a token.
    pub app_id: Option<u64>,
    /// GitHub App installation id (with `app_id`).
    pub installation_id: Option<u64>,
    /// The GitHub App's private key (PEM), when `CAIRN_GITHUB_APP_KEY` is not set.
    pub app_key_file: Option<PathBuf>,
    /// Seconds one API request may take before it counts as failed and is retried.
    pub timeout_secs: u64,
    /// File holding the secret forge webhooks are signed with, when
    /// `CAIRN_WEBHOOK_SECRET` is not set; without either, webhooks are off.
    pub webhook_secret_file: Option<PathBuf>,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            backend: Backend::Git,
            mode: Mode::Review,
            remote: None,
            branch: "main".into(),
            batch_branch: "cairn/pending".into(),
            committer_name: "cairn".into(),
            committer_email: "cairn@localhost".into(),
            repo: None,
            api_url: None,
            labels: vec!["comment".into()],
            token_file: None,
            app_id: None,
            installation_id: None,
            app_key_file: None,
            timeout_secs: 30,
            webhook_secret_file: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Git,
    Github,
    #[serde(alias = "forgejo")]
    Gitea,
    Gitlab,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Review,
    Batch,
    Direct,
}

impl Inbox {
    fn new(url: &str) -> Inbox {
        Inbox {
            url: url.into(),
            listen: default_listen(),
            spool: default_spool(),
            secret_file: None,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            rate_per_hour: default_rate_per_hour(),
            rate_burst: default_rate_burst(),
            max_request: default_max_request(),
            max_attempts: default_max_attempts(),
            max_waiting: default_max_waiting(),
            keep_delivered_hours: default_keep_delivered_hours(),
            edit_hours: default_edit_hours(),
            delivery: Delivery::default(),
            notify: Notify::default(),
            spam: Spam::default(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_spool() -> PathBuf {
    ".cairn/spool".into()
}
fn default_rate_per_hour() -> u32 {
    20
}
fn default_rate_burst() -> u32 {
    5
}
fn default_max_request() -> usize {
    256 * 1024
}

/// Bytes a form post of `chars` characters may take on the wire: up to four bytes a
/// character in UTF-8, each percent-encoded as three.
fn form_bytes(chars: usize) -> usize {
    chars.saturating_mul(12)
}
fn default_max_attempts() -> u32 {
    10
}
fn default_max_waiting() -> usize {
    10_000
}
fn default_edit_hours() -> u64 {
    24
}
fn default_keep_delivered_hours() -> u64 {
    7 * 24
}
/// A time zone of the IANA database, as `site.timezone` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    /// The zone `name` names, exactly as the IANA database spells it (`Europe/Berlin`,
    /// `UTC`); otherwise an error that gives the right spelling when only the case was
    /// wrong.
    pub fn named(name: &str) -> Result<TimeZone, String> {
        if let Ok(zone) = name.parse() {
            return Ok(TimeZone(zone));
        }
        let hint = match chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(name))
        {
            Some(zone) => format!("did you mean `{}`?", zone.name()),
            None => "give an IANA name, such as `Europe/Berlin`, `America/New_York` or `UTC`"
                .to_string(),
        };
        Err(format!("`{name}` is not a time zone: {hint}"))
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TimeZone, D::Error> {
        TimeZone::named(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

fn default_language() -> String {
    "en".into()
}
fn default_templates() -> PathBuf {
    "cairn/templates".into()
}
fn default_max_depth() -> usize {
    4
}

impl Config {
    /// Loads the config named on the command line, or finds `cairn.toml` by walking up
    /// from `start`.
    pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Config> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => find(start)?,
        };
        Config::from_file(&path)
    }

    /// Reads, parses and validates one config file.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let mut config: Config =
            toml::from_str(&text).map_err(|e| config_error(path, &text, &e))?;
        let root = path.parent().unwrap_or(Path::new("."));
        config.root = if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root.to_path_buf()
        };
        config.file = path.to_path_buf();
        config
            .validate()
            .and_then(|()| config.comments.normalize_closed())
            .and_then(|()| config.form.normalize_blocked())
            .with_context(|| format!("invalid config {}", path.display()))?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        // Both are base URLs that paths are added to, and every page shows them.
        for (key, value) in [("site.url", &self.site.url), ("inbox.url", &self.inbox.url)] {
            let url = url::Url::parse(value).with_context(|| {
                format!("{key} `{value}` is not a full URL, such as https://blog.example.org/")
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                bail!("{key} must be an http(s) URL, got `{value}`");
            }
            if url.query().is_some() || url.fragment().is_some() {
                bail!("{key} `{value}` has a query or fragment: give the base URL alone, such as https://blog.example.org/");
            }
            if !url.username().is_empty() || url.password().is_some() {
                bail!("{key} `{value}` holds a user name or password, which every page would show");
            }
        }
        // A page served over https posts its form to a plain http inbox only after the
        // browser warns that it is not secure, without the page's origin (which the
        // inbox refuses), and with the reader's address readable on the way. An inbox on
        // the machine itself (a test, a demo) is exempt.
        let inbox = url::Url::parse(&self.inbox.url)?;
        let loopback = match inbox.host() {
            Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if self.site.url.starts_with("https:") && inbox.scheme() == "http" && !loopback {
            bail!(
                "inbox.url `{}` is plain http while site.url is https: browsers would warn \
                 readers that the comment form is not secure, send it without the page's \
                 origin (which the inbox refuses) and the reader's e-mail address readable \
                 on the way; give the inbox an https URL",
                self.inbox.url
            );
        }
        // The inbox answers under its URL's path as well as at the root.
        let path = url_path(&self.inbox.url);
        if !path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
            || path.contains("//")
        {
            bail!("inbox.url `{}`: give its path in letters, digits and `-._~/`, such as https://blog.example.org/comments", self.inbox.url);
        }
        if !crate::render::i18n::is_language_code(&self.site.language) {
            let hint = crate::render::i18n::known(&self.site.language)
                .map(|code| format!(": for `{}`, that is `{code}`", self.site.language))
                .unwrap_or_default();
            bail!(
                "site.language `{}`: give a language code, two or three lowercase letters such \
                 as `en` or `sv` (cairn has strings in {}; for another, give them in \
                 [strings]){hint}",
                self.site.language,
                crate::render::i18n::LANGUAGES.join(", ")
            );
        }
        for key in &self.comments.owners {
            if key.contains('@') {
                bail!(
                    "comments.owners: `{key}` is an e-mail address, and cairn.toml is committed: \
                     give its avatar key instead, which `cairn avatar {key}` prints"
                );
            }
            if !crate::comment::is_avatar_key(key) {
                bail!(
                    "comments.owners: `{key}` is not an avatar key (letters and digits, as \
                     `avatar:` in a comment file; `cairn avatar ADDRESS` prints one's)"
                );
            }
        }
        for field in &self.form.required {
            if !FORM_FIELDS.contains(&field.as_str()) {
                bail!(
                    "form.required: unknown field `{field}` (expected some of {})",
                    FORM_FIELDS.join(", ")
                );
            }
        }
        if self.comments.max_depth == 0 {
            bail!("comments.max_depth must be at least 1");
        }
        if self.form.max_body == 0 {
            bail!("form.max_body must be at least 1: no comment would fit (to take no more comments, list threads in comments.closed)");
        }
        if self.feeds.enabled && self.feeds.entries == 0 {
            bail!(
                "feeds.entries must be at least 1 (to write no feeds, set feeds.enabled = false)"
            );
        }
        if self.feeds.file.is_empty() || self.feeds.file.contains(['/', '\\']) {
            bail!(
                "feeds.file must be a plain file name, got `{}`",
                self.feeds.file
            );
        }
        crate::render::i18n::Strings::check_overrides(&self.strings)?;
        for origin in &self.inbox.allowed_origins {
            origin_of(origin).with_context(|| format!("inbox.allowed_origins: `{origin}`"))?;
        }
        self.trusted_proxies()?;
        self.inbox
            .listen
            .parse::<std::net::SocketAddr>()
            .with_context(|| {
                format!(
                    "inbox.listen `{}` is not an address like 127.0.0.1:8080",
                    self.inbox.listen
                )
            })?;
        // Every field at its longest, plus room for the names and the hidden fields.
        let fields = self.form.max_body + self.form.max_author + self.form.max_website + 254;
        let needed = form_bytes(fields) + 1024;
        if self.inbox.max_request < needed {
            bail!(
                "inbox.max_request ({}) is too small for form.max_body ({}): a post of that many characters can take {needed} bytes",
                self.inbox.max_request,
                self.form.max_body
            );
        }
        if let Some(url) = &self.inbox.spam.url {
            let parsed = url::Url::parse(url)
                .with_context(|| format!("inbox.spam.url `{url}` is not a URL"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                bail!("inbox.spam.url `{url}`: expected an http(s) URL");
            }
        }
        if self.inbox.spam.timeout_ms == 0 {
            bail!("inbox.spam.timeout_ms must be at least 1");
        }
        if self.inbox.max_attempts == 0 {
            bail!("inbox.max_attempts must be at least 1");
        }
        Ok(())
    }

    /// The comments directory as a path usable from the working directory.
    pub fn comments_dir(&self) -> PathBuf {
        self.root.join(&self.comments.dir)
    }

    /// The template override directory as a path usable from the working directory.
    pub fn templates_dir(&self) -> PathBuf {
        self.root.join(&self.site.templates)
    }

    /// The URL path the site is served under (`/` or e.g. `/blog/`), always with slashes
    /// at both ends.
    pub fn base_path(&self) -> String {
        let path = url_path(&self.site.url);
        format!("/{}/", path.trim_matches('/')).replace("//", "/")
    }

    /// The site's name: `site.title`, else the host of its URL.
    pub fn site_name(&self) -> String {
        self.site
            .title
            .clone()
            .or_else(|| self.site_host())
            .unwrap_or_else(|| self.site.url.clone())
    }

    /// The host name of `site.url`.
    pub fn site_host(&self) -> Option<String> {
        url::Url::parse(&self.site.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
    }

    /// The public URL of a site-relative path such as a thread (`/posts/a/`).
    pub fn public_url(&self, site_path: &str) -> String {
        format!("{}{}", self.site.url.trim_end_matches('/'), site_path)
    }

    /// Whether a moderator sees comments before they are published: not in `direct`
    /// mode, where they go onto the site branch and appear with the next build.
    pub fn moderated(&self) -> bool {
        self.inbox.delivery.mode != Mode::Direct
    }

    /// Where the posting form sends comments.
    pub fn post_url(&self) -> String {
        format!("{}/v1/comments", self.inbox.url.trim_end_matches('/'))
    }

    /// Where a reader without JavaScript replies to a comment: the inbox's reply page.
    pub fn reply_url(&self) -> String {
        format!("{}/v1/reply", self.inbox.url.trim_end_matches('/'))
    }

    /// The spool directory as a path usable from the working directory.
    pub fn spool_dir(&self) -> PathBuf {
        self.root.join(&self.inbox.spool)
    }

    /// Origins allowed to post: the configured ones, or the site's own.
    pub fn allowed_origins(&self) -> Vec<String> {
        if self.inbox.allowed_origins.is_empty() {
            origin_of(&self.site.url).into_iter().collect()
        } else {
            self.inbox
                .allowed_origins
                .iter()
                .filter_map(|o| origin_of(o).ok())
                .collect()
        }
    }

    /// Whether the inbox is surely on another site than the pages, as browsers tell
    /// sites apart (by scheme and registrable domain): another scheme, or hosts that
    /// share no parent domain of two labels or more. Hosts that do share one may still
    /// be two sites, as `a.github.io` and `b.github.io` are, which only the Public
    /// Suffix List tells; they count as one here.
    pub fn inbox_on_another_site(&self) -> bool {
        let (Ok(site), Ok(inbox)) = (
            url::Url::parse(&self.site.url),
            url::Url::parse(&self.inbox.url),
        ) else {
            return false;
        };
        let labels = |url: &url::Url| -> Vec<String> {
            let host = url.host_str().unwrap_or_default();
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            host.rsplit('.').map(str::to_string).collect()
        };
        let (site_host, inbox_host) = (labels(&site), labels(&inbox));
        if site.scheme() != inbox.scheme() {
            return true;
        }
        if site_host == inbox_host {
            return false;
        }
        let ip = |url: &url::Url| !matches!(url.host(), Some(url::Host::Domain(_)));
        let shared = site_host
            .iter()
            .zip(&inbox_host)
            .take_while(|(a, b)| a == b)
            .count();
        ip(&site) || ip(&inbox) || shared < 2
    }

    /// The proxies whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>> {
        self.inbox
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .with_context(|| {
                        format!("inbox.trusted_proxies: `{p}` is not an IP address or CIDR range")
                    })
            })
            .collect()
    }

    /// A config for tests, rooted at `root`.
    pub fn default_for_test(root: &Path) -> Config {
        Config {
            site: Site {
                url: "https://blog.example.org".into(),
                title: None,
                language: default_language(),
                timezone: TimeZone::default(),
                templates: default_templates(),
                output: None,
            },
            comments: Comments {
                dir: "comments".into(),
                sort: Sort::Oldest,
                max_depth: default_max_depth(),
                date_format: None,
                closed: Vec::new(),
                owners: Vec::new(),
            },
            form: Form::default(),
            feeds: Feeds::default(),
            inbox: Inbox::new("https://comments.example.org"),
            strings: BTreeMap::new(),
            root: root.to_path_buf(),
            file: PathBuf::new(),
        }
    }
}

/// The origin (`scheme://host[:port]`) of a URL, as browsers send it in `Origin`.
pub fn origin_of(url: &str) -> Result<String> {
    let parsed = url::Url::parse(url).context("not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        bail!("not an http(s) URL");
    }
    Ok(parsed.origin().ascii_serialization())
}

/// The path of a URL (`/` for one without, or for what is not a URL).
pub fn url_path(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| "/".into())
}

/// Walks up from `start` to the first directory holding `cairn.toml`.
pub fn find(start: &Path) -> Result<PathBuf> {
    let start = start
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", start.display()))?;
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no {FILE_NAME} found in {} or any parent directory (use --config FILE, or `cairn init`)",
        start.display()
    )
}

fn config_error(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    match line {
        Some(line) => anyhow::anyhow!("{}:{line}: {}", path.display(), e.message()),
        None => anyhow::anyhow!("{}: {}", path.display(), e.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[site]
url = "https://blog.example.org"
[comments]
dir = "comments"
[inbox]
url = "https://comments.example.org"
"#;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_file(&write(dir.path(), MINIMAL)).unwrap();
        assert_eq!(config.site.language, "en");
        assert_eq!(config.comments.sort, Sort::Oldest);
        assert_eq!(config.form.required, ["body"]);
        assert!(config.feeds.enabled);
        assert_eq!(
            config.post_url(),
            "https://comments.example.org/v1/comments"
        );
        assert_eq!(config.base_path(), "/");
        assert_eq!(config.comments_dir(), dir.path().join("comments"));
    }

    #[test]
    fn an_inbox_on_another_site_is_told_apart() {
        let mut config = Config::default_for_test(Path::new("/site"));
        for (site, inbox, another) in [
            (
                "https://blog.example.org",
                "https://comments.example.org",
                false,
            ),
            (
                "https://example.org/blog/",
                "https://example.org/comments/",
                false,
            ),
            (
                "https://example.org",
                "https://comments.Example.org.",
                false,
            ),
            (
                "https://blog.example.co.uk",
                "https://inbox.example.co.uk",
                false,
            ),
            // Two labels in common may be a public suffix: told apart only by the list.
            ("https://alice.github.io", "https://inbox.github.io", false),
            ("https://blog.example.org", "https://cairn.fly.dev", true),
            ("https://example.org", "https://example.net", true),
            (
                "https://blog.example.org",
                "http://comments.example.org",
                true,
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:9000", false),
            ("http://127.0.0.1:8080", "http://127.0.0.2:9000", true),
            ("http://localhost:1313", "http://127.0.0.1:8080", true),
        ] {
            config.site.url = site.into();
            config.inbox.url = inbox.into();
            assert_eq!(config.inbox_on_another_site(), another, "{site} {inbox}");
        }
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = MINIMAL.replace(
            "dir = \"comments\"",
            "dir = \"comments\"\nsrot = \"newest\"",
        );
        let path = write(dir.path(), &text);
        let err = format!("{:#}", Config::from_file(&path).unwrap_err());
        assert!(err.contains(&format!("{}:6:", path.display())), "{err}");
        assert!(err.contains("unknown field `srot`"), "{err}");
    }

    #[test]
    fn invalid_values_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        for (from, to, needle) in [
            (
                "https://blog.example.org",
                "blog",
                "site.url `blog` is not a full URL, such as https://blog.example.org/",
            ),
            (
                "[comments]",
                "[comments]\nsort = \"random\"",
                "unknown variant `random`",
            ),
            (
                "https://comments.example.org",
                "http://comments.example.org",
                "inbox.url `http://comments.example.org` is plain http while site.url is https",
            ),
            ("[site]", "[site]\nlanguage = \"en-GB\"", "site.language `en-GB`: give a language code"),
            (
                "[comments]",
                "[comments]\nowners = [\"me@blog.example.org\"]",
                "comments.owners: `me@blog.example.org` is an e-mail address, and cairn.toml is \
                 committed: give its avatar key instead, which `cairn avatar me@blog.example.org` prints",
            ),
            (
                "[comments]",
                "[comments]\nowners = [\"9f2c 4e1a\"]",
                "comments.owners: `9f2c 4e1a` is not an avatar key",
            ),
            (
                "[site]",
                "[site]\nlanguage = \"zh-TW\"",
                "[strings]): for `zh-TW`, that is `zh-Hant`",
            ),
            (
                "https://comments.example.org",
                "https://blog.example.org/kommentar%C3%A9",
                "give its path in letters, digits and `-._~/`",
            ),
            (
                "[site]",
                "[site]\ntimezone = \"Europe/Berln\"",
                "`Europe/Berln` is not a time zone: give an IANA name, such as `Europe/Berlin`",
            ),
            (
                "[site]",
                "[site]\ntimezone = \"europe/berlin\"",
                "`europe/berlin` is not a time zone: did you mean `Europe/Berlin`?",
            ),
            (
                "https://blog.example.org",
                "ftp://blog.example.org",
                "site.url must be an http(s) URL, got `ftp://blog.example.org`",
            ),
            (
                "https://comments.example.org",
                "https://comments.example.org/?key=1",
                "inbox.url `https://comments.example.org/?key=1` has a query or fragment",
            ),
            (
                "https://blog.example.org",
                "https://blog.example.org/#top",
                "site.url `https://blog.example.org/#top` has a query or fragment",
            ),
            (
                "https://comments.example.org",
                "https://moderator:hunter2@comments.example.org",
                "inbox.url `https://moderator:hunter2@comments.example.org` holds a user name or password",
            ),
            (
                "[inbox]",
                "[form]\nrequired = [\"phone\"]\n[inbox]",
                "unknown field `phone`",
            ),
            ("[inbox]", "[strings]\nnope = \"x\"\n[inbox]", "nope"),
            (
                "[inbox]",
                "[inbox]\nmax_request = 65536",
                "inbox.max_request (65536) is too small for form.max_body (10000)",
            ),
        ] {
            let path = write(dir.path(), &MINIMAL.replacen(from, to, 1));
            let err = format!("{:#}", Config::from_file(&path).unwrap_err());
            assert!(err.contains(needle), "{to}: {err}");
        }
    }

    #[test]
    fn a_time_zone_is_read_by_its_iana_name_and_a_wrong_one_is_shown_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), MINIMAL);
        assert_eq!(
            Config::from_file(&path).unwrap().site.timezone.0,
            chrono_tz::UTC
        );
        let text = MINIMAL.replacen("[site]", "[site]\ntimezone = \"Asia/Tokyo\"", 1);
        let path = write(dir.path(), &text);
        let zone = Config::from_file(&path).unwrap().site.timezone.0;
        assert_eq!(zone, chrono_tz::Asia::Tokyo);
        let text = MINIMAL.replacen("[site]", "[site]\ntimezone = \"CEST\"", 1);
        let path = write(dir.path(), &text);
        let err = format!("{:#}", Config::from_file(&path).unwrap_err());
        assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    }

    #[test]
    fn found_by_walking_up() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), MINIMAL);
        let deep = dir.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let config = Config::load(None, &deep).unwrap();
        assert_eq!(
            config.root.canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
        let empty = tempfile::tempdir().unwrap();
        let err = Config::load(None, empty.path()).unwrap_err().to_string();
        assert!(err.contains("no cairn.toml found"), "{err}");
    }

    #[test]
    fn closed_threads_are_paths_or_their_starts() {
        let dir = tempfile::tempdir().unwrap();
        let text = MINIMAL.replace(
            "dir = \"comments\"",
            "dir = \"comments\"\nclosed = [\"posts/old\", \"/2019/*\", \"/caf%C3%A9/*\", \"/wiki/Talk:*\"]",
        );
        let config = Config::from_file(&write(dir.path(), &text)).unwrap();
        assert_eq!(
            config.comments.closed,
            ["/posts/old/", "/2019/*", "/café/*", "/wiki/Talk%3A*"]
        );
        for (thread, closed) in [
            ("/posts/old/", true),
            ("/posts/old-2/", false),
            ("/2019/a/", true),
            ("/2019/", true),
            ("/2020/a/", false),
            ("/café/menu/", true),
            ("/wiki/Talk%3ARust/", true),
            ("/wiki/Rust/", false),
            ("/", false),
        ] {
            assert_eq!(config.comments.is_closed(thread), closed, "{thread}");
        }
        let all = MINIMAL.replace("dir = \"comments\"", "dir = \"comments\"\nclosed = [\"*\"]");
        let config = Config::from_file(&write(dir.path(), &all)).unwrap();
        assert!(config.comments.is_closed("/") && config.comments.is_closed("/a/"));
        for bad in ["a*", "/a/*/b*", "/a/../b/", "/%FF/*"] {
            let text = MINIMAL.replace(
                "dir = \"comments\"",
                &format!("dir = \"comments\"\nclosed = [\"{bad}\"]"),
            );
            let err = format!(
                "{:#}",
                Config::from_file(&write(dir.path(), &text)).unwrap_err()
            );
            assert!(err.contains(&format!("comments.closed: `{bad}`")), "{err}");
        }
    }

    #[test]
    fn limits_that_would_take_no_comment_or_write_empty_feeds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let load = |extra: &str| {
            let text = format!("{MINIMAL}{extra}\n");
            Config::from_file(&write(dir.path(), &text)).map_err(|e| format!("{e:#}"))
        };
        let err = load("[form]\nmax_body = 0").unwrap_err();
        assert!(err.contains("form.max_body must be at least 1"), "{err}");
        let err = load("[feeds]\nentries = 0").unwrap_err();
        assert!(err.contains("feeds.entries must be at least 1"), "{err}");
        load("[feeds]\nenabled = false\nentries = 0").unwrap();
        load("[form]\nmax_body = 1").unwrap();
    }

    #[test]
    fn the_spam_check_needs_an_http_url_and_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let load = |spam: &str| {
            let text = format!("{MINIMAL}[inbox.spam]\n{spam}\n");
            Config::from_file(&write(dir.path(), &text)).map_err(|e| format!("{e:#}"))
        };
        let config = load("url = \"http://127.0.0.1:8181/check\"\non_error = \"refuse\"").unwrap();
        assert_eq!(config.inbox.spam.timeout_ms, 3000);
        assert_eq!(config.inbox.spam.on_error, SpamOnError::Refuse);
        for (bad, says) in [
            (
                "url = \"ftp://x.example/\"",
                "inbox.spam.url `ftp://x.example/`",
            ),
            ("url = \"check\"", "inbox.spam.url `check` is not a URL"),
            ("timeout_ms = 0", "inbox.spam.timeout_ms must be at least 1"),
            ("on_error = \"drop\"", "unknown variant `drop`"),
            ("key = \"x\"", "unknown field `key`"),
        ] {
            let err = load(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn blocked_words_match_in_any_case_inside_any_field() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{MINIMAL}[form]\nblocked = [\" Casino \", \"spam.example\"]\n");
        let config = Config::from_file(&write(dir.path(), &text)).unwrap();
        let form = &config.form;
        assert_eq!(form.blocked, ["casino", "spam.example"]);
        assert_eq!(
            form.blocked_in(["Ann", "Best CASINOS here"]),
            Some("casino")
        );
        assert_eq!(
            form.blocked_in(["", "https://www.SPAM.example/x"]),
            Some("spam.example")
        );
        assert_eq!(form.blocked_in(["Ann", "A fine post."]), None);
        assert_eq!(
            form.blocked_in(["Ca\u{200b}si\u{ad}no King"]),
            Some("casino")
        );
        let empty = format!("{MINIMAL}[form]\nblocked = [\" \"]\n");
        let err = format!(
            "{:#}",
            Config::from_file(&write(dir.path(), &empty)).unwrap_err()
        );
        assert!(err.contains("form.blocked: an entry is empty"), "{err}");
    }

    #[test]
    fn base_path_follows_site_url() {
        let mut config = Config::default_for_test(Path::new("."));
        config.site.url = "https://example.org/blog".into();
        assert_eq!(config.base_path(), "/blog/");
        assert_eq!(
            config.public_url("/posts/a/"),
            "https://example.org/blog/posts/a/"
        );
    }
}
