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
        let mut response = request.send().await.context("no answer")?;
        let status = response.status();
        if !status.is_success() {
            bail!("it answered {status}");
        }
        // Read as it comes, up to the limit: a checker gone wrong cannot fill the
        // inbox's memory, nor keep the reader waiting on an endless answer.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.context("the answer was cut off")? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                bail!("its answer is over {MAX_ANSWER} bytes");
            }
            bytes.extend_from_slice(&chunk);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A checker that answers 200 with a body that never ends (chunked, written until
    /// the client hangs up).
    async fn endless_checker() -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/check", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0; 4096];
            let _ = stream.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
            let mut sent = stream.write_all(head.as_bytes()).await;
            while sent.is_ok() {
                sent = stream.write_all(chunk.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_fails_the_check_as_soon_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default_for_test(dir.path());
        config.inbox.spam.url = Some(endless_checker().await);
        // Longer than the test may take: only the limit can end the check.
        config.inbox.spam.timeout_ms = 600_000;
        let check = SpamCheck::new(&config).unwrap().unwrap();
        let comment = Comment::parse(
            "id: 01JD3K8Z6Q9W2F4T7Y5M1N0AAA\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: Hi\n",
            crate::comment::Format::Yaml,
        )
        .unwrap();
        let headers = HeaderMap::new();
        let asked = check.check(&config, &comment, Event::Comment, "", &headers);
        let failed = tokio::time::timeout(Duration::from_secs(60), asked)
            .await
            .expect("the check ends at the limit, not with the answer")
            .unwrap_err();
        assert_eq!(format!("{failed:#}"), "its answer is over 65536 bytes");
    }
}
