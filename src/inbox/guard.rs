//! The guard: turns a submission into a comment, or says precisely why not. Every
//! rejection carries an HTTP status, a reason label (for metrics), the field it is
//! about and a message in the site's language.
//!
//! This is where the e-mail becomes the avatar key and is dropped: what leaves the
//! guard is the comment exactly as it will be committed.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ulid::Ulid;

use crate::comment::{complete_website, email_addresses, is_no_website, is_showable, Comment};
use crate::config::Config;
use crate::render::i18n::Strings;
use crate::secret::Secret;
use crate::thread;

/// What a reader sent, as typed. Missing fields are empty.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub thread: String,
    pub parent: String,
    pub author: String,
    pub email: String,
    pub website: String,
    pub body: String,
    /// The honeypot, [`crate::render::HONEYPOT_FIELD`] in the form: people leave it empty.
    pub honeypot: String,
    /// Whether the reader asked for mail when the comment is published and when someone
    /// replies (the form's `notify` box; `true` or `"on"` in JSON).
    pub notify: bool,
    /// The language of the page it was sent from, when not the site's (the form's
    /// hidden `lang`): the inbox answers in it.
    pub lang: String,
    /// Only show the comment as it would appear (the form's "Preview" button, or
    /// `true` in JSON): nothing is posted.
    pub preview: bool,
}

/// Where a field of a submission goes.
enum Slot<'a> {
    Text(&'a mut String),
    /// A box or a yes/no.
    Flag(&'a mut bool),
}

impl Submission {
    /// The field named `name`; `None` for names that are no field (they are ignored).
    fn slot(&mut self, name: &str) -> Option<Slot<'_>> {
        Some(match name {
            "thread" => Slot::Text(&mut self.thread),
            "parent" => Slot::Text(&mut self.parent),
            "author" => Slot::Text(&mut self.author),
            "email" => Slot::Text(&mut self.email),
            "website" => Slot::Text(&mut self.website),
            "body" => Slot::Text(&mut self.body),
            "lang" => Slot::Text(&mut self.lang),
            crate::render::HONEYPOT_FIELD => Slot::Text(&mut self.honeypot),
            "notify" => Slot::Flag(&mut self.notify),
            "preview" => Slot::Flag(&mut self.preview),
            _ => return None,
        })
    }

    /// Takes one field of a posted form by its name; other names are ignored.
    pub fn set_field(&mut self, name: &str, value: String) {
        match self.slot(name) {
            Some(Slot::Text(slot)) => *slot = value,
            Some(Slot::Flag(slot)) => *slot = is_yes(&value),
            None => {}
        }
    }

    /// A submission sent as a JSON object: its fields are strings, `null` (as good as
    /// left out), or for `notify` and `preview` also `true`/`false`; other names are
    /// ignored. What is wrong is said with the field it is about.
    pub fn from_json(bytes: &[u8]) -> Result<Submission, (Option<&'static str>, String)> {
        use serde_json::Value;
        let fields: serde_json::Map<String, Value> = match serde_json::from_slice(bytes) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => {
                return Err((
                    None,
                    "expected a JSON object of the comment's fields".into(),
                ))
            }
            Err(e) => return Err((None, format!("invalid JSON: {e}"))),
        };
        let mut sub = Submission::default();
        for (name, value) in fields {
            match (sub.slot(&name), value) {
                (None, _) | (Some(_), Value::Null) => {}
                (Some(Slot::Text(slot)), Value::String(text)) => *slot = text,
                (Some(Slot::Flag(slot)), Value::Bool(yes)) => *slot = yes,
                (Some(Slot::Flag(slot)), Value::String(text)) => *slot = is_yes(&text),
                (Some(slot), value) => {
                    let expected = match slot {
                        Slot::Text(_) => "a string",
                        Slot::Flag(_) => "true or false",
                    };
                    let field = FIELD_NAMES.iter().find(|f| **f == name).copied();
                    return Err((field, format!("{name}: expected {expected}, not {value}")));
                }
            }
        }
        Ok(sub)
    }
}

/// The names [`Submission::slot`] knows, as `'static` names for a rejection's field.
const FIELD_NAMES: [&str; 10] = [
    "thread",
    "parent",
    "author",
    "email",
    "website",
    "body",
    "lang",
    crate::render::HONEYPOT_FIELD,
    "notify",
    "preview",
];

/// `on`, `1`, `true`, `yes`: what a checked box or a yes says.
pub fn is_yes(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "on" | "1" | "true" | "yes"
    )
}

impl Submission {
    /// The reader's text by form field name, to show back on an error page.
    pub fn values(&self) -> [(&'static str, &str); 4] {
        [
            ("author", &self.author),
            ("email", &self.email),
            ("website", &self.website),
            ("body", &self.body),
        ]
    }
}

/// Why a submission was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    TooLarge,
    /// The request's body did not arrive whole: cut off, or too slow.
    Incomplete,
    Malformed,
    ContentType,
    Origin,
    RateLimited,
    Honeypot,
    Required,
    TooLong,
    Email,
    /// The name or website holds an e-mail address, which the page would show to
    /// everyone.
    PublicEmail,
    Website,
    Links,
    Thread,
    /// The thread takes no new comments (`comments.closed`).
    Closed,
    /// The comment holds a word of `form.blocked`.
    Blocked,
    /// The external spam check (`inbox.spam`) took it for spam.
    Spam,
    Parent,
    Duplicate,
    /// Too many comments are waiting for delivery (`inbox.max_waiting`).
    Busy,
    Unavailable,
}

impl Reason {
    /// The label used in metrics and JSON errors.
    pub fn label(self) -> &'static str {
        match self {
            Reason::TooLarge => "too_large",
            Reason::Incomplete => "incomplete",
            Reason::Malformed => "malformed",
            Reason::ContentType => "content_type",
            Reason::Origin => "origin",
            Reason::RateLimited => "rate_limited",
            Reason::Honeypot => "honeypot",
            Reason::Required => "required",
            Reason::TooLong => "too_long",
            Reason::Email => "email",
            Reason::PublicEmail => "public_email",
            Reason::Website => "website",
            Reason::Links => "links",
            Reason::Thread => "thread",
            Reason::Closed => "closed",
            Reason::Blocked => "blocked",
            Reason::Spam => "spam",
            Reason::Parent => "parent",
            Reason::Duplicate => "duplicate",
            Reason::Busy => "busy",
            Reason::Unavailable => "unavailable",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Reason::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Reason::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Reason::Origin | Reason::Closed | Reason::Blocked | Reason::Spam => {
                StatusCode::FORBIDDEN
            }
            Reason::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Reason::Duplicate => StatusCode::CONFLICT,
            Reason::Busy | Reason::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A rejected submission: why, which field, and what to tell the reader.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub reason: Reason,
    pub field: Option<&'static str>,
    pub message: String,
}

impl Rejection {
    pub fn new(reason: Reason, field: Option<&'static str>, message: String) -> Rejection {
        Rejection {
            reason,
            field,
            message,
        }
    }

    /// A rejection whose message is the string `error_<label>` of the site's language.
    pub fn localized(
        strings: &Strings,
        reason: Reason,
        field: Option<&'static str>,
        vars: &[(&str, &str)],
    ) -> Rejection {
        let key = format!("error_{}", reason.label());
        Rejection::new(reason, field, strings.fill(&key, vars))
    }
}

/// Checks every field of a submission against the site's rules and builds the comment
/// that will be committed. Checks that need state (rate limit, parent, duplicates) are
/// the inbox's.
pub fn validate(
    sub: &Submission,
    config: &Config,
    strings: &Strings,
    secret: &Secret,
    now: DateTime<Utc>,
) -> Result<Comment, Rejection> {
    let reject = |reason, field, vars: &[(&str, &str)]| {
        Err(Rejection::localized(strings, reason, field, vars))
    };
    if !sub.honeypot.is_empty() {
        return reject(Reason::Honeypot, None, &[]);
    }
    let thread = match thread_of(&sub.thread, config) {
        Some(t) => t,
        None => return reject(Reason::Thread, Some("thread"), &[]),
    };
    if config.comments.is_closed(&thread) {
        return reject(Reason::Closed, Some("thread"), &[]);
    }
    let parent = match sub.parent.trim() {
        "" => None,
        p => match p.parse::<Ulid>() {
            Ok(id) if id.to_string() == p => Some(id),
            _ => return reject(Reason::Parent, Some("parent"), &[]),
        },
    };
    let form = &config.form;
    for (name, value) in sub.values() {
        if is_blank(value) && form.required.iter().any(|r| r == name) {
            return reject(Reason::Required, Some(name), &[]);
        }
    }
    // The body's length is checked as stored (in `check_body`), so line breaks count
    // once, as the form's `maxlength` counts them, not twice as browsers send them.
    for (name, value, max) in [
        ("author", &sub.author, form.max_author),
        ("email", &sub.email, 254),
        ("website", &sub.website, form.max_website),
    ] {
        if value.chars().count() > max {
            return reject(Reason::TooLong, Some(name), &[("max", &max.to_string())]);
        }
    }
    let email = sub.email.trim();
    if !email.is_empty() && !looks_like_email(email) {
        return reject(Reason::Email, Some("email"), &[]);
    }
    if sub.notify && config.inbox.notify.replies && email.is_empty() {
        // Mail was asked for: an address is needed to send it.
        return reject(Reason::Required, Some("email"), &[]);
    }
    let typed = sub.website.trim();
    if !email_addresses(typed).is_empty() {
        return reject(Reason::PublicEmail, Some("website"), &[]);
    }
    // `ann.example`, as people type their site, is `https://ann.example`.
    let website = match complete_website(typed, "https") {
        Some(website) => website,
        None if is_no_website(typed) => String::new(),
        None => return reject(Reason::Website, Some("website"), &[]),
    };
    let website = website.as_str();
    let body = body_text(&sub.body);
    check_body(&body, config, strings)?;
    let author = sub.author.trim();
    if author
        .chars()
        .any(|c| c.is_control() || !is_showable(c) || is_bidi_control(c))
    {
        return reject(Reason::Malformed, Some("author"), &[]);
    }
    if !email_addresses(author).is_empty() {
        return reject(Reason::PublicEmail, Some("author"), &[]);
    }
    for (name, value) in [("author", author), ("website", website)] {
        if form.blocked_in([value]).is_some() {
            return reject(Reason::Blocked, Some(name), &[]);
        }
    }
    // Anyone may type an owner's e-mail address: their comment is marked as the
    // author's only where a moderator sees it first, so in direct mode it keeps no
    // avatar key that `comments.owners` names.
    let avatar = (!email.is_empty())
        .then(|| secret.avatar_key(email))
        .filter(|key| {
            config.inbox.delivery.mode != crate::config::Mode::Direct
                || !config.comments.is_owner(Some(key))
        });
    // Whole seconds in the file, as people write dates; the id keeps the order.
    let date = chrono::SubsecRound::trunc_subsecs(now, 0);
    Ok(Comment {
        id: new_id(now),
        thread,
        parent,
        date,
        author: (!is_blank(author)).then(|| author.to_string()),
        website: (!website.is_empty()).then(|| website.to_string()),
        avatar,
        origin: None,
        body,
    })
}

/// A comment's text as it is stored: line endings as a browser sends them (CRLF) or
/// old Macs wrote them (CR) become LF, and characters that [cannot be
/// shown](is_showable), which no one sees and Markdown has no use for, are left out.
pub fn body_text(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\r' => Some('\n'),
            c => is_showable(c).then_some(c),
        })
        .collect()
}

/// Characters that reverse or re-embed the text after them (U+202A to U+202E, U+2066
/// to U+2069): in a name, they would make it show as another.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether a field shows nothing: only spaces, or [characters that take no
/// room](crate::comment::takes_no_room), which spam uses to get past "required".
pub(crate) fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || crate::comment::takes_no_room(c))
}

/// A new comment's id. Ids made by this process increase with every call, so comments
/// that arrive within the same millisecond keep their order too (a ULID's random part
/// would otherwise decide it).
fn new_id(now: DateTime<Utc>) -> Ulid {
    static IDS: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());
    let mut ids = IDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Overflow needs 2^80 ids in one millisecond.
    ids.generate_from_datetime(now.into())
        .unwrap_or_else(|_| Ulid::from_datetime(now.into()))
}

/// The rules a comment's text must meet, on posting and on its author's later edits:
/// not empty, not too long, not too many links, none of `form.blocked`.
pub fn check_body(body: &str, config: &Config, strings: &Strings) -> Result<(), Rejection> {
    let form = &config.form;
    let reject = |reason, vars: &[(&str, &str)]| {
        Err(Rejection::localized(strings, reason, Some("body"), vars))
    };
    if is_blank(body) {
        return reject(Reason::Required, &[]);
    }
    if body.chars().count() > form.max_body {
        return reject(Reason::TooLong, &[("max", &form.max_body.to_string())]);
    }
    // As the page will show it.
    let html = crate::render::markdown::to_html(body);
    if count_links(body, &html) > form.max_links {
        return reject(Reason::Links, &[("max", &form.max_links.to_string())]);
    }
    // The words as typed, and as a reader sees them (`cas**ino**`, `c&#97;sino`).
    let seen = crate::render::markdown::visible_text(&html);
    if form.blocked_in([body, &seen]).is_some() {
        return reject(Reason::Blocked, &[]);
    }
    Ok(())
}

/// The thread a submission is for, read as render reads placeholders
/// ([`thread::of_link`]): a path with or without the site's base path, or a full URL
/// under `site.url`, without its query or fragment (a script may send `location.href`).
pub fn thread_of(raw: &str, config: &Config) -> Option<String> {
    thread::of_link(raw, &config.site.url, &config.base_path()).ok()
}

/// Whether `email` has the form of an e-mail address: a local part, `@`, a domain.
pub fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// Links in a comment body: every `http://` or `https://`, in any case, written out or
/// linked; and every other link the page will show, such as `[pills](//spam.example)`
/// (which a browser takes to another site as well), or a relative one.
/// `html` is the body [as the page shows it](crate::render::markdown::to_html).
fn count_links(body: &str, html: &str) -> usize {
    let lower = body.to_ascii_lowercase();
    let written = lower.matches("http://").count() + lower.matches("https://").count();
    let other = html
        .match_indices("<a href=\"")
        .filter(|&(at, found)| {
            let href = &html.as_bytes()[at + found.len()..];
            let starts = |scheme: &[u8]| {
                href.get(..scheme.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(scheme))
            };
            !starts(b"http://") && !starts(b"https://")
        })
        .count();
    written + other
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HONEYPOT_FIELD;

    fn setup() -> (Config, Strings, Secret) {
        let config = Config::default_for_test(std::path::Path::new("."));
        let strings = Strings::new("en", &Default::default()).unwrap();
        (config, strings, Secret::new(b"0123456789abcdef").unwrap())
    }

    fn ok() -> Submission {
        Submission {
            thread: "/posts/a/".into(),
            body: "Nice post.".into(),
            ..Submission::default()
        }
    }

    fn check(sub: &Submission) -> Result<Comment, Rejection> {
        let (config, strings, secret) = setup();
        validate(sub, &config, &strings, &secret, Utc::now())
    }

    #[test]
    fn ids_follow_the_order_of_arrival_within_a_millisecond() {
        let (config, strings, secret) = setup();
        let now = Utc::now();
        let ids: Vec<Ulid> = (0..50)
            .map(|_| validate(&ok(), &config, &strings, &secret, now).unwrap().id)
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }

    #[test]
    fn an_email_address_typed_as_the_name_is_turned_away_before_it_is_published() {
        let (config, strings, secret) = setup();
        for author in ["ann@example.org", "Ann <ann@example.org>"] {
            let sub = Submission {
                author: author.into(),
                ..ok()
            };
            let err = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap_err();
            assert_eq!(
                (err.reason, err.field),
                (Reason::PublicEmail, Some("author"))
            );
            assert_eq!(err.reason.status(), StatusCode::BAD_REQUEST);
            assert!(err.message.contains("shown to everyone"), "{}", err.message);
        }
        // The website is shown too: as a link, and in the feeds.
        for website in [
            "http://ann@example.org",
            "https://ann.example/?to=ann@example.org",
        ] {
            let sub = Submission {
                website: website.into(),
                ..ok()
            };
            let err = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap_err();
            assert_eq!(
                (err.reason, err.field),
                (Reason::PublicEmail, Some("website"))
            );
        }
        // A user name (and password) before the host is no part of a website.
        for website in ["https://ann:secret@ann.example/", "https://ann@localhost/"] {
            let sub = Submission {
                website: website.into(),
                ..ok()
            };
            let err = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap_err();
            assert_eq!(err.field, Some("website"), "{website}");
        }
        for website in ["https://medium.com/@ann", "https://ann.example/@ann/posts"] {
            let sub = Submission {
                website: website.into(),
                ..ok()
            };
            let comment = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap();
            assert_eq!(comment.website.as_deref(), Some(website));
        }
        // A site typed as people type it gets https://; what is no address is refused.
        for (typed, kept) in [
            (" ann.example ", Some("https://ann.example")),
            (
                "www.ann.example/blog/",
                Some("https://www.ann.example/blog/"),
            ),
            ("ann.example:8080", Some("https://ann.example:8080")),
            ("//ann.example/", Some("https://ann.example/")),
            ("HTTP://ann.example", Some("HTTP://ann.example")),
            ("ann", None),
            ("my site", None),
            ("ftp://ann.example", None),
            ("javascript:alert(1)", None),
            ("javascript:1//a.example", None),
        ] {
            let sub = Submission {
                website: typed.into(),
                ..ok()
            };
            match validate(&sub, &config, &strings, &secret, Utc::now()) {
                Ok(comment) => assert_eq!(comment.website.as_deref(), kept, "{typed}"),
                Err(err) => {
                    assert_eq!(kept, None, "{typed}: {}", err.message);
                    assert_eq!((err.reason, err.field), (Reason::Website, Some("website")));
                }
            }
        }
        // Only a scheme, as a field some themes fill in with `http://`, is no website.
        for typed in ["http://", " HTTPS:// ", "https:"] {
            let sub = Submission {
                website: typed.into(),
                ..ok()
            };
            let comment = validate(&sub, &config, &strings, &secret, Utc::now())
                .unwrap_or_else(|e| panic!("{typed}: {}", e.message));
            assert_eq!(comment.website, None, "{typed}");
        }
        // In the e-mail field, the same address becomes the avatar key, never stored.
        let sub = Submission {
            author: "Ann".into(),
            email: "ann@example.org".into(),
            ..ok()
        };
        let comment = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap();
        assert!(!comment.to_yaml().contains("ann@example.org"));
        assert!(comment.avatar.is_some());
    }

    #[test]
    fn an_owners_address_keeps_its_key_only_where_a_moderator_sees_the_comment_first() {
        let (mut config, strings, secret) = setup();
        let sub = Submission {
            author: "Blogger".into(),
            email: "me@blog.example.org".into(),
            ..ok()
        };
        let key = secret.avatar_key("me@blog.example.org");
        config.comments.owners = vec![key.clone()];
        let avatar = |config: &Config| {
            validate(&sub, config, &strings, &secret, Utc::now())
                .unwrap()
                .avatar
        };
        // Reviewed (and in a batch): the moderator sees it marked before anyone else.
        for mode in [crate::config::Mode::Review, crate::config::Mode::Batch] {
            config.inbox.delivery.mode = mode;
            assert_eq!(avatar(&config).as_deref(), Some(key.as_str()));
        }
        // Published unseen: anyone who knows the address would post as the owner.
        config.inbox.delivery.mode = crate::config::Mode::Direct;
        assert_eq!(avatar(&config), None);
        // Everyone else keeps their key.
        config.comments.owners = vec!["0123456789abcdef".into()];
        assert_eq!(avatar(&config).as_deref(), Some(key.as_str()));
    }

    #[test]
    fn a_blocked_word_anywhere_turns_a_comment_away() {
        let (mut config, strings, secret) = setup();
        config.form.blocked = vec!["casino".into()];
        for (sub, field) in [
            (
                Submission {
                    body: "Visit my Casino!".into(),
                    ..ok()
                },
                "body",
            ),
            (
                Submission {
                    author: "casino king".into(),
                    ..ok()
                },
                "author",
            ),
            (
                Submission {
                    website: "https://casino.example".into(),
                    ..ok()
                },
                "website",
            ),
        ] {
            let err = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap_err();
            assert_eq!(
                (err.reason, err.field),
                (Reason::Blocked, Some(field)),
                "{sub:?}"
            );
            assert_eq!(err.reason.status(), StatusCode::FORBIDDEN);
            assert!(err.message.contains("does not take"), "{}", err.message);
        }
        assert!(validate(&ok(), &config, &strings, &secret, Utc::now()).is_ok());
        // An author's later edit of the text meets the same rule.
        let edit = check_body("Now with CASINO links", &config, &strings).unwrap_err();
        assert_eq!((edit.reason, edit.field), (Reason::Blocked, Some("body")));
        // The words are found as a reader sees them, however they are written.
        for body in [
            "Best ca\u{200b}sino",
            "Best cas**ino** in town",
            "Best c&#97;sino",
            "Best <b>ca</b><i>sino</i>",
            "Best `cas`ino",
        ] {
            let err = check_body(body, &config, &strings).unwrap_err();
            assert_eq!(err.reason, Reason::Blocked, "{body:?}");
        }
        for body in ["A casual sin, once", "Ca\n\nsino"] {
            assert!(check_body(body, &config, &strings).is_ok(), "{body:?}");
        }
    }

    #[test]
    fn a_closed_thread_takes_no_comments() {
        let (mut config, strings, secret) = setup();
        config.comments.closed = vec!["/posts/a/".into()];
        let err = validate(&ok(), &config, &strings, &secret, Utc::now()).unwrap_err();
        assert_eq!((err.reason, err.field), (Reason::Closed, Some("thread")));
        assert_eq!(err.reason.status(), StatusCode::FORBIDDEN);
        assert_eq!(err.message, "Comments on this page are closed.");
        let other = Submission {
            thread: "/posts/b/".into(),
            ..ok()
        };
        assert!(validate(&other, &config, &strings, &secret, Utc::now()).is_ok());
    }

    #[test]
    fn a_good_submission_becomes_a_comment_without_the_email() {
        let sub = Submission {
            author: " Ann ".into(),
            email: "Ann@Example.org".into(),
            website: "https://ann.example".into(),
            body: "Line one\r\nline two".into(),
            ..ok()
        };
        let c = check(&sub).unwrap();
        assert_eq!(c.author.as_deref(), Some("Ann"));
        assert_eq!(c.body, "Line one\nline two");
        let key = c.avatar.clone().unwrap();
        assert_eq!(key.len(), 16);
        let yaml = c.to_yaml();
        assert!(!yaml.to_lowercase().contains("example.org"), "{yaml}");
    }

    #[test]
    fn each_rule_names_its_reason_and_field() {
        let long = "x".repeat(10_001);
        let cases: Vec<(Submission, Reason, Option<&str>)> = vec![
            (
                Submission {
                    honeypot: "buy".into(),
                    ..ok()
                },
                Reason::Honeypot,
                None,
            ),
            (
                Submission {
                    thread: "".into(),
                    ..ok()
                },
                Reason::Thread,
                Some("thread"),
            ),
            (
                Submission {
                    thread: "/a/../b/".into(),
                    ..ok()
                },
                Reason::Thread,
                Some("thread"),
            ),
            (
                Submission {
                    thread: "https://evil.example/posts/a/".into(),
                    ..ok()
                },
                Reason::Thread,
                Some("thread"),
            ),
            (
                // A directory no file system can create would break every checkout.
                Submission {
                    thread: format!("/posts/{}/", "a".repeat(300)),
                    ..ok()
                },
                Reason::Thread,
                Some("thread"),
            ),
            (
                Submission {
                    parent: "nope".into(),
                    ..ok()
                },
                Reason::Parent,
                Some("parent"),
            ),
            (
                Submission {
                    body: "  ".into(),
                    ..ok()
                },
                Reason::Required,
                Some("body"),
            ),
            (
                Submission { body: long, ..ok() },
                Reason::TooLong,
                Some("body"),
            ),
            (
                Submission {
                    author: "a".repeat(101),
                    ..ok()
                },
                Reason::TooLong,
                Some("author"),
            ),
            (
                Submission {
                    email: "not-an-address".into(),
                    ..ok()
                },
                Reason::Email,
                Some("email"),
            ),
            (
                Submission {
                    website: "javascript:alert(1)".into(),
                    ..ok()
                },
                Reason::Website,
                Some("website"),
            ),
            (
                Submission {
                    body: "https://a.example http://b.example HTTPS://c.example https://d.example"
                        .into(),
                    ..ok()
                },
                Reason::Links,
                Some("body"),
            ),
            // Links a browser takes to other sites although they do not say http(s).
            (
                Submission {
                    body: "[a](//a.example) [b](/\\b.example) <a href=\"//c.example\">c</a> [d](https://d.example)"
                        .into(),
                    ..ok()
                },
                Reason::Links,
                Some("body"),
            ),
        ];
        for (sub, reason, field) in cases {
            let err = check(&sub).expect_err(&format!("{sub:?} was accepted"));
            assert_eq!((err.reason, err.field), (reason, field), "{sub:?}");
            assert!(
                !err.message.is_empty() && !err.message.starts_with("error_"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn bodies_are_stored_without_characters_no_one_can_see() {
        let sub = Submission {
            body: "a\u{0}b\tc\r\nd\re\u{7}\u{1b}[31m\u{85}f\u{ffff}g\u{fdd0}h\u{10fffe}".into(),
            ..ok()
        };
        assert_eq!(check(&sub).unwrap().body, "ab\tc\nd\ne[31mfgh");
        let sub = Submission {
            body: "\u{0}\u{8}".into(),
            ..ok()
        };
        let err = check(&sub).unwrap_err();
        assert_eq!((err.reason, err.field), (Reason::Required, Some("body")));
    }

    #[test]
    fn a_body_as_long_as_the_form_allows_is_taken_with_its_line_breaks() {
        // The form's maxlength counts a line break once; browsers send it as CRLF.
        let (config, ..) = setup();
        let line = "x".repeat(99);
        let typed = vec![line.as_str(); config.form.max_body / 100].join("\n") + "\n";
        assert_eq!(typed.chars().count(), config.form.max_body);
        let sub = Submission {
            body: typed.replace('\n', "\r\n"),
            ..ok()
        };
        assert_eq!(check(&sub).unwrap().body, typed);
        let sub = Submission {
            body: format!("{typed}x").replace('\n', "\r\n"),
            ..ok()
        };
        assert_eq!(check(&sub).unwrap_err().reason, Reason::TooLong);
    }

    #[test]
    fn links_are_counted_once_however_they_are_written() {
        let count_links = |body: &str| count_links(body, &crate::render::markdown::to_html(body));
        assert_eq!(count_links("no links, just text"), 0);
        // A linked URL counts once; so do one written out, a relative link and a mail link.
        assert_eq!(
            count_links(
                "[docs](https://a.example/x), https://b.example, [home](/), <me@c.example>"
            ),
            4
        );
        assert_eq!(
            count_links("[a](//a.example) and <a href=\"HTTP://b.example\">b</a>"),
            2
        );
        // A link the sanitizer drops is no link.
        assert_eq!(count_links("[x](javascript:alert(1))"), 0);
    }

    #[test]
    fn names_that_would_show_as_another_are_refused() {
        for author in [
            "Ann\u{7}",
            "Ann\u{ffff}",
            "\u{202e}nnA",
            "Ann\u{2066}x\u{2069}",
        ] {
            let sub = Submission {
                author: author.into(),
                ..ok()
            };
            let err = check(&sub).unwrap_err();
            assert_eq!(
                (err.reason, err.field),
                (Reason::Malformed, Some("author")),
                "{author:?}"
            );
        }
        // Right-to-left names need no control characters, and are taken.
        let sub = Submission {
            author: "\u{5d3}\u{5e0}\u{5d4} Dana".into(),
            ..ok()
        };
        assert_eq!(
            check(&sub).unwrap().author.as_deref(),
            Some("\u{5d3}\u{5e0}\u{5d4} Dana")
        );
    }

    #[test]
    fn the_honeypot_is_the_forms_hidden_field() {
        let json = serde_json::json!({ HONEYPOT_FIELD: "x" }).to_string();
        let sub = Submission::from_json(json.as_bytes()).unwrap();
        assert_eq!(sub.honeypot, "x");
        let mut sub = Submission::default();
        sub.set_field(HONEYPOT_FIELD, "y".into());
        assert_eq!(sub.honeypot, "y");
    }

    #[test]
    fn every_field_name_is_a_field() {
        let mut sub = Submission::default();
        for name in FIELD_NAMES {
            assert!(sub.slot(name).is_some(), "{name}");
        }
        assert!(sub.slot("client_version").is_none());
    }

    #[test]
    fn required_fields_follow_the_config() {
        let (mut config, strings, secret) = setup();
        config.form.required = vec!["author".into(), "body".into()];
        let err = validate(&ok(), &config, &strings, &secret, Utc::now()).unwrap_err();
        assert_eq!((err.reason, err.field), (Reason::Required, Some("author")));
        assert_eq!(err.message, "Please fill in this field.");
        // Characters that show nothing do not fill a field in.
        let sub = Submission {
            author: "\u{3164}\u{200b}".into(),
            ..ok()
        };
        let err = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap_err();
        assert_eq!((err.reason, err.field), (Reason::Required, Some("author")));
        config.form.required = vec!["body".into()];
        let sub = Submission {
            body: " \u{200b}\u{feff}\n\u{2060} ".into(),
            ..ok()
        };
        let err = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap_err();
        assert_eq!((err.reason, err.field), (Reason::Required, Some("body")));
        // An optional name of nothing but such characters is no name.
        let sub = Submission {
            author: "\u{200b}".into(),
            ..ok()
        };
        let comment = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap();
        assert_eq!(comment.author, None);
        // Text around them stays as it was typed.
        let sub = Submission {
            body: "a\u{200b}b".into(),
            ..ok()
        };
        let comment = validate(&sub, &config, &strings, &secret, Utc::now()).unwrap();
        assert_eq!(comment.body, "a\u{200b}b");
    }

    #[test]
    fn threads_may_be_given_as_urls_of_the_site() {
        let sub = Submission {
            thread: "https://blog.example.org/posts/a".into(),
            ..ok()
        };
        assert_eq!(check(&sub).unwrap().thread, "/posts/a/");
        let sub = Submission {
            thread: "https://blog.example.org.evil.example/posts/a".into(),
            ..ok()
        };
        assert_eq!(check(&sub).unwrap_err().reason, Reason::Thread);
    }

    #[test]
    fn threads_lose_the_sites_base_path_as_render_takes_it_off() {
        let (mut config, ..) = setup();
        config.site.url = "https://example.org/blog/".into();
        for (raw, want) in [
            ("/blog/posts/a/", "/posts/a/"),
            ("/posts/a/", "/posts/a/"),
            ("https://example.org/blog/posts/a/", "/posts/a/"),
            ("/blog", "/"),
            ("/blogger/x/", "/blogger/x/"),
        ] {
            assert_eq!(thread_of(raw, &config).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(thread_of("https://example.org/other/", &config), None);
    }

    #[test]
    fn a_pages_query_and_fragment_are_not_part_of_its_thread() {
        let (config, ..) = setup();
        for raw in [
            "https://blog.example.org/posts/a/#cairn-comments",
            "https://blog.example.org/posts/a/?utm_source=feed",
            "https://blog.example.org/posts/a?x=1#c-01JD3K2AAAAAAAAAAAAAAAAAAA",
            "/posts/a/#cairn-comments",
        ] {
            assert_eq!(
                thread_of(raw, &config).as_deref(),
                Some("/posts/a/"),
                "{raw}"
            );
        }
        assert_eq!(
            thread_of("https://blog.example.org?x=1", &config).as_deref(),
            Some("/")
        );
        assert_eq!(thread_of("?x=1", &config), None);
        assert_eq!(
            thread_of(
                "https://blog.example.org.evil.example/?https://blog.example.org/",
                &config
            ),
            None
        );
    }
}
