//! Authors' private links: no account and no cookie, just a capability. The
//! confirmation after posting gives the reader `/v1/own/{id}?key=…` (the key an HMAC
//! of the id under the inbox's secret). With it they can edit or withdraw the comment:
//! while it is pending, its branch or pull request is changed or closed; once it is
//! published (and for `inbox.edit_hours` after posting), the change goes to the
//! moderator as a request on branch `cairn/change-<id>`, or in direct mode (no
//! moderation) is committed to the site branch at once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use chrono::Utc;
use ulid::Ulid;

use super::guard::Reason;
use super::spool::State as Spooled;
use super::{notice, told, Inbox};
use crate::comment::Comment;
use crate::render::{Notice, NoticeAction, NoticeEdit};
use crate::secret::{to_hex, Secret};

/// Hex digits of the key: 128 bits.
const KEY_LEN: usize = 32;

fn key(secret: &Secret, id: Ulid) -> String {
    to_hex(&secret.mac(format!("cairn author link\n{id}").as_bytes())[..KEY_LEN / 2])
}

/// The author's private link to comment `id`, whose pages are in `lang` (one of
/// cairn's languages; none: the site's).
pub fn link(inbox_url: &str, secret: &Secret, id: Ulid, lang: Option<&str>) -> String {
    at(inbox_url, secret, id, "", lang)
}

/// The link to `action` (`""`, `/edit` or `/withdraw`) on comment `id`.
fn at(inbox_url: &str, secret: &Secret, id: Ulid, action: &str, lang: Option<&str>) -> String {
    let lang = lang.map(|l| format!("&lang={l}")).unwrap_or_default();
    format!(
        "{}/v1/own/{id}{action}?key={}{lang}",
        inbox_url.trim_end_matches('/'),
        key(secret, id)
    )
}

/// The language a link's pages are in: its `lang`, as [`link`] wrote it (the key
/// does not cover it: it only chooses the words), or the site's.
fn lang(query: &HashMap<String, String>) -> &str {
    query.get("lang").map_or("", String::as_str)
}

/// Where a comment stands, for its author.
enum Standing {
    /// Waiting for moderation: changes go straight to its branch or pull request.
    Pending(Comment),
    /// Published within the window: changes are requests to the moderator (made at
    /// once in direct mode).
    Published(Comment),
}

impl Standing {
    fn comment(&self) -> &Comment {
        match self {
            Standing::Pending(c) | Standing::Published(c) => c,
        }
    }
}

/// Checks the key and finds the comment; a page saying why not, otherwise.
async fn find(
    inbox: &Arc<Inbox>,
    id: &str,
    query: &HashMap<String, String>,
) -> Result<Standing, Response> {
    let lang = lang(query);
    let id: Ulid = id.parse().map_err(|_| {
        told(
            inbox,
            lang,
            StatusCode::NOT_FOUND,
            ("link_unknown_title", "link_unknown"),
            None,
        )
    })?;
    let given = query.get("key").map(String::as_str).unwrap_or_default();
    let expected = key(&inbox.secret, id);
    // Compared as HMACs of both, so the time taken says nothing about the key.
    let same = inbox.secret.mac(given.as_bytes()) == inbox.secret.mac(expected.as_bytes());
    if !same {
        return Err(told(
            inbox,
            lang,
            StatusCode::FORBIDDEN,
            ("link_invalid_title", "link_invalid"),
            None,
        ));
    }
    let expired = |thread: Option<&str>| {
        told(
            inbox,
            lang,
            StatusCode::GONE,
            ("own_expired_title", "own_expired"),
            thread,
        )
    };
    match inbox.spool.state_of(id) {
        Some(Spooled::Delivered) => {}
        Some(_) => {
            return Err(told(
                inbox,
                lang,
                StatusCode::CONFLICT,
                ("own_not_yet_title", "own_not_yet"),
                None,
            ))
        }
        None => return Err(expired(None)),
    }
    let comment = inbox
        .spool
        .delivered_copy(id)
        .ok_or_else(|| expired(None))?;
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
                return Err(expired(Some(&comment.thread)));
            }
            Ok(Standing::Published(comment))
        }
        Ok(Ok((false, true))) => Ok(Standing::Pending(comment)),
        Ok(Ok((false, false))) => Err(told(
            inbox,
            lang,
            StatusCode::GONE,
            ("own_gone_title", "own_gone"),
            Some(&comment.thread),
        )),
        Ok(Err(e)) => Err(unavailable(inbox, lang, &format!("{e:#}"))),
        Err(e) => Err(unavailable(inbox, lang, &e.to_string())),
    }
}

fn unavailable(inbox: &Inbox, lang: &str, why: &str) -> Response {
    tracing::warn!("author link: {why}");
    told(
        inbox,
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        ("later_title", "later"),
        None,
    )
}

/// What the form on an author's page holds.
enum Draft {
    /// The comment's text as it stands.
    Current,
    /// A change the rules turned away, with what is wrong with it.
    Refused(String, String),
    /// A change the author asked to see first: the comment is shown with it.
    Preview(String),
}

/// The page of an author's link: the comment as it appears (or would with a previewed
/// change), where it stands, a form holding the text to change (with what was wrong
/// with the last change), and a button to withdraw it. On a thread in
/// `comments.closed` a comment can only be withdrawn: the form shows only to give back
/// a change that was refused.
fn own_page(
    inbox: &Inbox,
    lang: &str,
    status: StatusCode,
    title: &str,
    standing: &Standing,
    draft: Draft,
) -> Response {
    let (comment, stands) = match standing {
        Standing::Pending(c) => (c, "own_pending"),
        Standing::Published(c) if inbox.config.moderated() => (c, "own_published"),
        Standing::Published(c) => (c, "own_published_direct"),
    };
    let policy = inbox.policy();
    let closed = policy.config.comments.is_closed(&comment.thread);
    let stands = if closed { "own_closed" } else { stands };
    let (shown, note, source, error) = match draft {
        Draft::Current => (comment.clone(), stands, comment.body.clone(), None),
        Draft::Refused(source, error) => (comment.clone(), stands, source, Some(error)),
        Draft::Preview(source) => (
            Comment {
                body: source.clone(),
                ..comment.clone()
            },
            "own_preview_text",
            source,
            None,
        ),
    };
    let strings = &policy.languages.get_or_site(lang).strings;
    let other = policy.languages.other(lang);
    let link = |action| {
        at(
            &inbox.config.inbox.url,
            &inbox.secret,
            comment.id,
            action,
            other,
        )
    };
    let edit = (!closed || error.is_some()).then(|| NoticeEdit {
        action: link("/edit"),
        source,
        error,
    });
    notice(
        inbox,
        lang,
        status,
        &Notice {
            title: strings.get(title),
            text: Some(strings.get(note)),
            comment: Some(&shown),
            edit,
            actions: vec![NoticeAction {
                url: link("/withdraw"),
                label: strings.get("own_withdraw").to_string(),
            }],
            back: Some(inbox.config.public_url(&comment.thread)),
        },
    )
}

/// `GET /v1/own/{id}?key=…`: the comment, a form to edit it, a button to withdraw it.
pub async fn show(
    State(inbox): State<Arc<Inbox>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match find(&inbox, &id, &query).await {
        Ok(standing) => own_page(
            &inbox,
            lang(&query),
            StatusCode::OK,
            "own_title",
            &standing,
            Draft::Current,
        ),
        Err(page) => page,
    }
}

/// `POST /v1/own/{id}/edit?key=…` with the new `body`. A text the rules turn away
/// (or the spam check, if there is one, takes for spam) comes back in the form, with
/// what is wrong with it. With `preview` set, the page shows the comment with the new
/// text, to change further or save, and nothing is saved or sent to the spam check.
pub async fn edit(
    State(inbox): State<Arc<Inbox>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
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
    let lang = lang(&query);
    let policy = inbox.policy();
    let strings = &policy.languages.get_or_site(lang).strings;
    let refused = |r: super::guard::Rejection, body| {
        own_page(
            &inbox,
            lang,
            r.reason.status(),
            "own_not_saved_title",
            &standing,
            Draft::Refused(body, r.message),
        )
    };
    if policy.config.comments.is_closed(&standing.comment().thread) {
        let closed = super::guard::Rejection::localized(strings, Reason::Closed, None, &[]);
        return refused(closed, body);
    }
    if let Err(r) = super::guard::check_body(&body, &policy.config, strings) {
        return refused(r, body);
    }
    if form.get("preview").is_some_and(|v| super::guard::is_yes(v)) {
        return own_page(
            &inbox,
            lang,
            StatusCode::OK,
            "preview_title",
            &standing,
            Draft::Preview(body),
        );
    }
    let (old, published) = match &standing {
        Standing::Pending(c) => (c.clone(), false),
        Standing::Published(c) => (c.clone(), true),
    };
    let new = Comment {
        body,
        ..old.clone()
    };
    if let Err(r) = inbox
        .spam_checked(&policy, &new, super::spam::Event::Edit, lang, &headers)
        .await
    {
        return refused(r, new.body);
    }
    let backend = inbox.backend.clone();
    let changed = new.clone();
    // `None`: a pending comment revised; otherwise, for a published one (or one
    // published while its new version was on its way), whether the change is only
    // asked of the moderator, and where it stands.
    let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        if published {
            let asked = backend.propose(&old, Some(&changed))?;
            Ok(Some(stands(backend.as_ref(), asked, &changed)?))
        } else {
            let asked = backend.revise(&changed)?;
            Ok(asked.map(|location| (true, location)))
        }
    })
    .await;
    match outcome {
        Ok(Ok(change)) => {
            if let (Some((_, location)), Some(notifier)) = (&change, &inbox.notifier) {
                notifier.author_changed(&new, "edit", location.clone());
            }
            if let Err(e) = inbox.spool.replace_delivered(&new) {
                tracing::warn!(id = %new.id, "cannot keep the edited copy: {e:#}");
            }
            tracing::info!(id = %new.id, published, "edited by its author");
            let said = match change {
                Some((true, _)) => ("own_title", "own_change_asked"),
                Some((false, _)) => ("own_saved_title", "own_changed"),
                None => ("own_saved_title", "own_saved"),
            };
            told(&inbox, lang, StatusCode::OK, said, Some(&new.thread))
        }
        Ok(Err(e)) => unavailable(&inbox, lang, &format!("{e:#}")),
        Err(e) => unavailable(&inbox, lang, &e.to_string()),
    }
}

/// After [`crate::deliver::Backend::propose`]: whether the change was only asked for
/// (the request's location), or made at once (direct mode: where the comment is).
fn stands(
    backend: &dyn crate::deliver::Backend,
    asked: Option<String>,
    comment: &Comment,
) -> anyhow::Result<(bool, String)> {
    match asked {
        Some(location) => Ok((true, location)),
        None => Ok((false, backend.location(comment)?)),
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
    let lang = lang(&query);
    let backend = inbox.backend.clone();
    let thread = standing.comment().thread.clone();
    // `None`: a pending comment withdrawn; otherwise the published comment, whether
    // its removal is only asked for, and where that stands.
    let outcome = tokio::task::spawn_blocking(move || match standing {
        Standing::Pending(c) => backend.reject(c.id).map(|_| None),
        Standing::Published(c) => {
            let asked = backend.propose(&c, None)?;
            let (asked, location) = stands(backend.as_ref(), asked, &c)?;
            Ok(Some((c, asked, location)))
        }
    })
    .await;
    match outcome {
        Ok(Ok(change)) => {
            let published = change.is_some();
            let asked = change.as_ref().is_some_and(|(_, asked, _)| *asked);
            if let (Some((c, _, location)), Some(notifier)) = (change, &inbox.notifier) {
                notifier.author_changed(&c, "withdraw", location);
            }
            tracing::info!(id, published, "withdrawn by its author");
            let said = match (published, asked) {
                (true, true) => ("own_title", "own_removal_asked"),
                (true, false) => ("own_withdrawn_title", "own_removed"),
                (false, _) => ("own_withdrawn_title", "own_withdrawn"),
            };
            told(&inbox, lang, StatusCode::OK, said, Some(&thread))
        }
        Ok(Err(e)) => unavailable(&inbox, lang, &format!("{e:#}")),
        Err(e) => unavailable(&inbox, lang, &e.to_string()),
    }
}
