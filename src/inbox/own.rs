//! Authors' private links: no account and no cookie, just a capability. The
//! confirmation after posting gives the reader `/v1/own/{id}?key=…` (the key an HMAC
//! of the id under the inbox's secret). With it they can edit or withdraw the comment:
//! while it is pending, its branch or pull request is changed or closed; once it is
//! published (and for `inbox.edit_hours` after posting), the change goes to the
//! moderator as a request on branch `cairn/change-<id>`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use chrono::Utc;
use ulid::Ulid;

use super::links::page;
use super::spool::State as Spooled;
use super::Inbox;
use crate::comment::Comment;
use crate::render::{escape_html, markdown};
use crate::secret::{to_hex, Secret};

/// Hex digits of the key: 128 bits.
const KEY_LEN: usize = 32;

fn key(secret: &Secret, id: Ulid) -> String {
    to_hex(&secret.mac(format!("cairn author link\n{id}").as_bytes())[..KEY_LEN / 2])
}

/// The author's private link to comment `id`.
pub fn link(inbox_url: &str, secret: &Secret, id: Ulid) -> String {
    format!(
        "{}/v1/own/{id}?key={}",
        inbox_url.trim_end_matches('/'),
        key(secret, id)
    )
}

/// Where a comment stands, for its author.
enum Standing {
    /// Waiting for moderation: changes go straight to its branch or pull request.
    Pending(Comment),
    /// Published within the window: changes are requests to the moderator.
    Published(Comment),
}

/// Checks the key and finds the comment; a page saying why not, otherwise.
async fn find(
    inbox: &Arc<Inbox>,
    id: &str,
    query: &HashMap<String, String>,
) -> Result<Standing, Response> {
    let id: Ulid = id.parse().map_err(|_| {
        page(
            StatusCode::NOT_FOUND,
            "Not found",
            "<p>There is no such link.</p>",
        )
    })?;
    let given = query.get("key").map(String::as_str).unwrap_or_default();
    let expected = key(&inbox.secret, id);
    // Compared as HMACs of both, so the time taken says nothing about the key.
    let same = inbox.secret.mac(given.as_bytes()) == inbox.secret.mac(expected.as_bytes());
    if !same {
        return Err(page(
            StatusCode::FORBIDDEN,
            "Invalid link",
            "<p>This link is not the one you were given: check that it was copied whole.</p>",
        ));
    }
    match inbox.spool.state_of(id) {
        Some(Spooled::Delivered) => {}
        Some(_) => {
            return Err(page(
                StatusCode::CONFLICT,
                "Not yet",
                "<p>Your comment is on its way to the moderator. Try again in a minute.</p>",
            ))
        }
        None => return Err(expired()),
    }
    let comment = inbox.spool.delivered_copy(id).ok_or_else(expired)?;
    let backend = inbox.backend.clone();
    let (thread, cid) = (comment.thread.clone(), comment.id);
    let status = tokio::task::spawn_blocking(move || -> anyhow::Result<(bool, bool)> {
        let published = backend.published(&thread, cid)?;
        let exists = published || backend.exists(&thread, cid)?;
        Ok((published, exists))
    })
    .await;
    match status {
        Ok(Ok((true, _))) => {
            let window = chrono::Duration::hours(
                i64::try_from(inbox.config.inbox.edit_hours).unwrap_or(i64::MAX / 3600),
            );
            if Utc::now() - comment.date > window {
                return Err(expired());
            }
            Ok(Standing::Published(comment))
        }
        Ok(Ok((false, true))) => Ok(Standing::Pending(comment)),
        Ok(Ok((false, false))) => Err(page(
            StatusCode::GONE,
            "Not there",
            "<p>This comment is neither waiting nor published: it was withdrawn or not accepted.</p>",
        )),
        Ok(Err(e)) => Err(unavailable(&format!("{e:#}"))),
        Err(e) => Err(unavailable(&e.to_string())),
    }
}

fn expired() -> Response {
    page(
        StatusCode::GONE,
        "Link expired",
        "<p>The time to change this comment has passed. Ask the site's owner.</p>",
    )
}

fn unavailable(why: &str) -> Response {
    tracing::warn!("author link: {why}");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again later",
        "<p>The comment cannot be looked up right now. Try again in a few minutes.</p>",
    )
}

/// `GET /v1/own/{id}?key=…`: the comment, a form to edit it, a button to withdraw it.
pub async fn show(
    State(inbox): State<Arc<Inbox>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let standing = match find(&inbox, &id, &query).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let (comment, note) = match &standing {
        Standing::Pending(c) => (c, "It is waiting for moderation: changes apply at once."),
        Standing::Published(c) => (
            c,
            "It is published: a change or a withdrawal goes to the moderator first.",
        ),
    };
    let action = format!("/v1/own/{}", comment.id);
    let key = escape_html(query.get("key").map_or("", String::as_str));
    page(
        StatusCode::OK,
        "Your comment",
        &format!(
            "<p>On <a href=\"{page}\">{thread}</a>. {note}</p>\n<blockquote>{body}</blockquote>\n\
             <form method=\"post\" action=\"{action}/edit?key={key}\"><p><label for=\"body\">Your text</label><br>\
             <textarea id=\"body\" name=\"body\" rows=\"8\" cols=\"60\" required>{source}</textarea></p>\
             <p><button type=\"submit\">Save the change</button></p></form>\n\
             <form method=\"post\" action=\"{action}/withdraw?key={key}\"><p><button type=\"submit\">Withdraw the comment</button></p></form>\n",
            page = escape_html(&inbox.config.public_url(&comment.thread)),
            thread = escape_html(&comment.thread),
            body = markdown::to_html(&comment.body),
            source = escape_html(&comment.body),
        ),
    )
}

/// `POST /v1/own/{id}/edit?key=…` with the new `body`.
pub async fn edit(
    State(inbox): State<Arc<Inbox>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let standing = match find(&inbox, &id, &query).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let body = form
        .get("body")
        .map(|b| super::guard::body_text(b))
        .unwrap_or_default();
    if let Err(r) = super::guard::check_body(&body, &inbox.config, &inbox.renderer.strings) {
        return page(
            r.reason.status(),
            "Not changed",
            &format!(
                "<p>{}</p><p>Your text, to copy:</p><pre>{}</pre>",
                escape_html(&r.message),
                escape_html(&body)
            ),
        );
    }
    let (old, published) = match standing {
        Standing::Pending(c) => (c, false),
        Standing::Published(c) => (c, true),
    };
    let new = Comment {
        body,
        ..old.clone()
    };
    let backend = inbox.backend.clone();
    let changed = new.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        if published {
            backend.propose(&old, Some(&changed)).map(Some)
        } else {
            backend.revise(&changed).map(|()| None)
        }
    })
    .await;
    match outcome {
        Ok(Ok(request)) => {
            if let (Some(location), Some(notifier)) = (&request, &inbox.notifier) {
                notifier.change_asked(&new, "edit", location.clone());
            }
            if let Err(e) = inbox.spool.replace_delivered(&new) {
                tracing::warn!(id = %new.id, "cannot keep the edited copy: {e:#}");
            }
            tracing::info!(id = %new.id, published, "edited by its author");
            let text = match request {
                Some(_) => "Thank you: the moderator will look at your change.",
                None => "Saved: the moderator will see the new text.",
            };
            page(StatusCode::OK, "Changed", &format!("<p>{text}</p>"))
        }
        Ok(Err(e)) => unavailable(&format!("{e:#}")),
        Err(e) => unavailable(&e.to_string()),
    }
}

/// `POST /v1/own/{id}/withdraw?key=…`.
pub async fn withdraw(
    State(inbox): State<Arc<Inbox>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let standing = match find(&inbox, &id, &query).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let backend = inbox.backend.clone();
    let outcome = tokio::task::spawn_blocking(move || match standing {
        Standing::Pending(c) => backend.reject(c.id).map(|_| None),
        Standing::Published(c) => backend.propose(&c, None).map(|at| Some((c, at))),
    })
    .await;
    match outcome {
        Ok(Ok(asked)) => {
            let published = asked.is_some();
            if let (Some((c, location)), Some(notifier)) = (asked, &inbox.notifier) {
                notifier.change_asked(&c, "withdraw", location);
            }
            tracing::info!(id, published, "withdrawn by its author");
            let text = if published {
                "Thank you: the moderator will remove your comment."
            } else {
                "Withdrawn: your comment will not be published."
            };
            page(StatusCode::OK, "Withdrawn", &format!("<p>{text}</p>"))
        }
        Ok(Err(e)) => unavailable(&format!("{e:#}")),
        Err(e) => unavailable(&e.to_string()),
    }
}
