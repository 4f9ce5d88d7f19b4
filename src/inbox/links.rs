//! One-click moderation links, for the moderator mails of the `git` backend: signed
//! with the inbox's secret, valid until they expire, and good once (a comment approved
//! or rejected is no longer pending). Opening a link shows a page with the comment as
//! it is then and one button; only the button's POST acts, so mail scanners that fetch
//! every link change nothing. The button carries a digest of the text it showed: if the
//! author changed the comment in between, the POST shows the new text instead of
//! approving what the moderator never saw.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use ulid::Ulid;

use sha2::{Digest, Sha256};

use super::Inbox;
use crate::deliver::{Ask, Pending};
use crate::render::escape_html;
use crate::secret::{from_hex, to_hex, Secret};

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Reject,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
        }
    }

    fn parse(name: &str) -> Option<Action> {
        match name {
            "approve" => Some(Action::Approve),
            "reject" => Some(Action::Reject),
            _ => None,
        }
    }
}

fn signed(id: Ulid, action: Action, expires: i64) -> String {
    format!("cairn moderation link\n{id}\n{}\n{expires}", action.name())
}

/// The link that does `action` to comment `id` until `expires`.
pub fn link(
    inbox_url: &str,
    secret: &Secret,
    id: Ulid,
    action: Action,
    expires: DateTime<Utc>,
) -> String {
    let expires = expires.timestamp();
    let sig = to_hex(&secret.mac(signed(id, action, expires).as_bytes()));
    format!(
        "{}/v1/moderate/{id}/{}?expires={expires}&sig={sig}",
        inbox_url.trim_end_matches('/'),
        action.name()
    )
}

/// Why a link does not work.
enum Refusal {
    NotALink,
    Tampered,
    Expired,
}

fn check(
    secret: &Secret,
    id: &str,
    action: &str,
    query: &HashMap<String, String>,
) -> Result<(Ulid, Action), Refusal> {
    let id: Ulid = id.parse().map_err(|_| Refusal::NotALink)?;
    let action = Action::parse(action).ok_or(Refusal::NotALink)?;
    let expires: i64 = query
        .get("expires")
        .and_then(|e| e.parse().ok())
        .ok_or(Refusal::Tampered)?;
    let sig = query.get("sig").ok_or(Refusal::Tampered)?;
    let given = from_hex(sig).ok_or(Refusal::Tampered)?;
    if !secret.verify(signed(id, action, expires).as_bytes(), &given) {
        return Err(Refusal::Tampered);
    }
    if Utc::now().timestamp() > expires {
        return Err(Refusal::Expired);
    }
    Ok((id, action))
}

/// A small page for the people these links are for.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{t}</title></head>\n<body><main><h1>{t}</h1>\n{body}</main></body></html>\n",
        t = escape_html(title)
    );
    (status, Html(html)).into_response()
}

fn refused(why: Refusal) -> Response {
    match why {
        Refusal::NotALink => page(
            StatusCode::NOT_FOUND,
            "Not found",
            "<p>There is no such link.</p>",
        ),
        Refusal::Tampered => page(
            StatusCode::FORBIDDEN,
            "Invalid link",
            "<p>This link is not one cairn signed. Use <code>cairn moderate</code>.</p>",
        ),
        Refusal::Expired => page(
            StatusCode::GONE,
            "Link expired",
            "<p>This link has expired. Use <code>cairn moderate</code>.</p>",
        ),
    }
}

/// `GET /v1/moderate/{id}/{action}`: the comment, and the button that does it.
pub async fn show(
    State(inbox): State<Arc<Inbox>>,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (id, action) = match check(&inbox.secret, &id, &action, &query) {
        Ok(ok) => ok,
        Err(why) => return refused(why),
    };
    match pending(&inbox, id).await {
        Ok(Some(pending)) => ask(&inbox, &query, id, action, &pending, StatusCode::OK, ""),
        Ok(None) => already_done(),
        Err(e) => not_done(id, &e),
    }
}

/// The comment `id` as it waits now, if it still does.
async fn pending(inbox: &Inbox, id: Ulid) -> anyhow::Result<Option<Pending>> {
    let backend = inbox.backend.clone();
    tokio::task::spawn_blocking(move || {
        Ok(backend.pending()?.into_iter().find(|p| p.comment.id == id))
    })
    .await?
}

/// A digest of what a moderator is shown of a comment, to tell later whether it changed.
fn digest(pending: &Pending) -> String {
    let c = &pending.comment;
    let shown = format!(
        "{}\n{}\n{}",
        c.author.as_deref().unwrap_or_default(),
        c.website.as_deref().unwrap_or_default(),
        c.body
    );
    to_hex(&Sha256::digest(shown.as_bytes())[..16])
}

/// The page that shows the comment and asks for the button: `note` (HTML) first.
fn ask(
    inbox: &Inbox,
    query: &HashMap<String, String>,
    id: Ulid,
    action: Action,
    pending: &Pending,
    status: StatusCode,
    note: &str,
) -> Response {
    let verb = match action {
        Action::Approve => "Approve",
        Action::Reject => "Reject",
    };
    let target = escape_html(&format!(
        "{}/v1/moderate/{id}/{}?expires={}&sig={}",
        inbox.config.inbox.url.trim_end_matches('/'),
        action.name(),
        query.get("expires").map_or("", String::as_str),
        query.get("sig").map_or("", String::as_str),
    ));
    let c = &pending.comment;
    let asks = match pending.ask {
        Ask::Publish => "",
        Ask::Edit { .. } => "<p>Its author asks to replace the published text with this one.</p>\n",
        Ask::Withdraw => "<p>Its author asks to take the published comment down.</p>\n",
    };
    page(
        status,
        &format!("{verb} comment {id}?"),
        &format!(
            "{note}<p>By {} on <a href=\"{}\">{}</a>:</p>\n{asks}<blockquote><pre style=\"white-space: pre-wrap\">{}</pre></blockquote>\n\
             <form method=\"post\" action=\"{target}\"><input type=\"hidden\" name=\"seen\" value=\"{}\"><button type=\"submit\">{verb}</button></form>\n",
            escape_html(c.author.as_deref().unwrap_or("anonymous")),
            escape_html(&inbox.config.public_url(&c.thread)),
            escape_html(&c.thread),
            escape_html(&c.body),
            digest(pending),
        ),
    )
}

fn already_done() -> Response {
    page(
        StatusCode::GONE,
        "Already done",
        "<p>This comment is no longer pending: it was approved or rejected already.</p>",
    )
}

fn not_done(id: Ulid, e: &anyhow::Error) -> Response {
    tracing::warn!(%id, "moderation link failed: {e:#}");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Not done",
        &format!("<p>{}</p>", escape_html(&format!("{e:#}"))),
    )
}

/// `POST /v1/moderate/{id}/{action}`: approves or rejects through the backend; with
/// the `seen` digest of the page's button, only the comment as that page showed it.
pub async fn act(
    State(inbox): State<Arc<Inbox>>,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let (id, action) = match check(&inbox.secret, &id, &action, &query) {
        Ok(ok) => ok,
        Err(why) => return refused(why),
    };
    let seen = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "seen")
        .map(|(_, value)| value.into_owned());
    if let (Some(seen), Action::Approve) = (seen, action) {
        match pending(&inbox, id).await {
            Ok(Some(now)) if digest(&now) != seen => {
                return ask(
                    &inbox,
                    &query,
                    id,
                    action,
                    &now,
                    StatusCode::CONFLICT,
                    "<p><strong>Not approved: the comment changed since the page showed \
                     it.</strong> This is what it says now.</p>\n",
                )
            }
            Ok(Some(_)) => {}
            Ok(None) => return already_done(),
            Err(e) => return not_done(id, &e),
        }
    }
    let backend = inbox.backend.clone();
    let outcome = tokio::task::spawn_blocking(move || match action {
        Action::Approve => backend.approve(id),
        Action::Reject => backend.reject(id),
    })
    .await;
    match outcome {
        Ok(Ok(pending)) => {
            let done = match action {
                Action::Approve => "Approved",
                Action::Reject => "Rejected",
            };
            tracing::info!(%id, "{} with a moderation link", action.name());
            if let Some(notifier) = &inbox.notifier {
                notifier.look_now();
            }
            page(
                StatusCode::OK,
                done,
                &format!(
                    "<p>{done}: the comment by {} on <a href=\"{}\">{}</a>.</p>\n",
                    escape_html(pending.comment.author.as_deref().unwrap_or("anonymous")),
                    escape_html(&inbox.config.public_url(&pending.comment.thread)),
                    escape_html(&pending.comment.thread),
                ),
            )
        }
        Ok(Err(e)) if e.to_string().contains("no pending comment") => already_done(),
        Ok(Err(e)) => not_done(id, &e),
        Err(e) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Not done",
            &format!("<p>{}</p>", escape_html(&e.to_string())),
        ),
    }
}
