//! One-click moderation links, for the moderator mails of the `git` backend: signed
//! with the inbox's secret, valid until they expire, and good once (a comment approved
//! or rejected is no longer pending). Opening a link shows a page with one button; only
//! the button's POST acts, so mail scanners that fetch every link change nothing.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use ulid::Ulid;

use super::Inbox;
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

/// `GET /v1/moderate/{id}/{action}`: the button that does it.
pub async fn show(
    State(inbox): State<Arc<Inbox>>,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (id, action) = match check(&inbox.secret, &id, &action, &query) {
        Ok(ok) => ok,
        Err(why) => return refused(why),
    };
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
    page(
        StatusCode::OK,
        &format!("{verb} comment {id}?"),
        &format!(
            "<form method=\"post\" action=\"{target}\"><button type=\"submit\">{verb}</button></form>\n"
        ),
    )
}

/// `POST /v1/moderate/{id}/{action}`: approves or rejects through the backend.
pub async fn act(
    State(inbox): State<Arc<Inbox>>,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (id, action) = match check(&inbox.secret, &id, &action, &query) {
        Ok(ok) => ok,
        Err(why) => return refused(why),
    };
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
        Ok(Err(e)) if e.to_string().contains("no pending comment") => page(
            StatusCode::GONE,
            "Already done",
            "<p>This comment is no longer pending: it was approved or rejected already.</p>",
        ),
        Ok(Err(e)) => {
            tracing::warn!(%id, "moderation link failed: {e:#}");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not done",
                &format!("<p>{}</p>", escape_html(&format!("{e:#}"))),
            )
        }
        Err(e) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Not done",
            &format!("<p>{}</p>", escape_html(&e.to_string())),
        ),
    }
}
