//! The optional external spam check (`[inbox.spam]`): each comment that passed every
//! other rule, and each change an author makes through their private link, is POSTed
//! as JSON to a URL the site owner runs (a local classifier, or a bridge to a hosted
//! service), which answers `{"spam": true|false, "reason": "…"}`. What is sent is what
//! will be committed, plus the page's URL, the reader's `User-Agent` and `Referer`:
//! never an e-mail or IP address (the avatar key stands for the e-mail).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use axum::http::{header, HeaderMap};
use serde::{Deserialize, Serialize};

use crate::comment::Comment;
use crate::config::{Config, SpamOnError};

/// Environment variable holding the bearer token sent to the checker.
pub const TOKEN_ENV: &str = "CAIRN_SPAM_TOKEN";

/// Longest answer read from the checker.
const MAX_ANSWER: usize = 64 * 1024;

/// What a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new comment.
    Comment,
    /// An author's new text for their comment.
    Edit,
}

/// The checker's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ham,
    /// Spam, with the checker's reason if it gave one (logged, not shown to readers).
    Spam(Option<String>),
}

/// The configured checker.
pub struct SpamCheck {
    url: String,
    token: Option<String>,
    pub on_error: SpamOnError,
    http: reqwest::Client,
}

#[derive(Serialize)]
struct Ask<'a> {
    event: &'static str,
    site: &'a str,
    page: String,
    thread: &'a str,
    id: String,
    parent: Option<String>,
    date: String,
    author: Option<&'a str>,
    website: Option<&'a str>,
    avatar: Option<&'a str>,
    body: &'a str,
    lang: &'a str,
    user_agent: Option<&'a str>,
    referrer: Option<&'a str>,
}

#[derive(Deserialize)]
struct Answer {
    spam: bool,
    #[serde(default)]
    reason: Option<String>,
}

impl SpamCheck {
    /// The checker `config` names, if any.
    pub fn new(config: &Config) -> Result<Option<SpamCheck>> {
        let spam = &config.inbox.spam;
        let Some(url) = &spam.url else {
            return Ok(None);
        };
        // The token is optional: without a file, only the variable can give one.
        let file = spam.token_file.as_ref().map(|f| config.root.join(f));
        let token = crate::deliver::forge::secret_from(
            TOKEN_ENV,
            file.as_deref(),
            "the spam checker's token",
        )
        .map(Some)
        .or_else(|e| if file.is_some() { Err(e) } else { Ok(None) })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(spam.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the spam check's HTTP client")?;
        Ok(Some(SpamCheck {
            url: url.clone(),
            token,
            on_error: spam.on_error,
            http,
        }))
    }

    /// Asks the checker about `comment`, posted (or changed) from a page in `lang` by a
    /// client that sent `headers`.
    pub async fn check(
        &self,
        config: &Config,
        comment: &Comment,
        event: Event,
        lang: &str,
        headers: &HeaderMap,
    ) -> Result<Verdict> {
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let ask = Ask {
            event: match event {
                Event::Comment => "comment",
                Event::Edit => "edit",
            },
            site: &config.site.url,
            page: config.public_url(&comment.thread),
            thread: &comment.thread,
            id: comment.id.to_string(),
            parent: comment.parent.map(|p| p.to_string()),
            date: comment
                .date
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            author: comment.author.as_deref(),
            website: comment.website.as_deref(),
            avatar: comment.avatar.as_deref(),
            body: &comment.body,
            lang: if lang.is_empty() {
                &config.site.language
            } else {
                lang
            },
            user_agent: header(header::USER_AGENT),
            referrer: header(header::REFERER),
        };
        let mut request = self.http.post(&self.url).json(&ask);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.context("no answer")?;
        let status = response.status();
        let bytes = response.bytes().await.context("the answer was cut off")?;
        if !status.is_success() {
            bail!("it answered {status}");
        }
        if bytes.len() > MAX_ANSWER {
            bail!("its answer is over {MAX_ANSWER} bytes");
        }
        let answer: Answer = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "its answer is not {{\"spam\": true|false}}: {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            )
        })?;
        Ok(if answer.spam {
            Verdict::Spam(answer.reason.filter(|r| !r.trim().is_empty()))
        } else {
            Verdict::Ham
        })
    }
}
