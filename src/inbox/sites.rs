//! One inbox process for several sites, each with its own cairn.toml: its repository
//! and backend, origins, limits, spool and secret. Site `blog` answers under
//! `/sites/blog/` (its `inbox.url` ends there, so its forms and links point there); a
//! plain `POST /v1/comments` goes to the site the post comes from (its `Origin` or
//! `Referer`, else a full URL in its `thread` field). `/v1/health` and `/metrics`
//! cover every site, each sample labelled with the site's name.

use std::sync::Arc;

use anyhow::{bail, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::metrics::Registered;
use super::Inbox;
use crate::config::origin_of;

/// The sites one inbox serves, by name.
pub struct Sites {
    pub sites: Vec<(String, Arc<Inbox>)>,
    pub registered: Arc<Registered>,
}

/// Whether `name` can name a site in a URL: lower-case letters, digits and `-`.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        bail!("site name {name:?}: use lower-case letters, digits and '-'");
    }
    Ok(())
}

impl Sites {
    /// The site a post without a site in its URL is for.
    fn site_for(
        &self,
        headers: &axum::http::HeaderMap,
        thread: Option<&str>,
    ) -> Option<&Arc<Inbox>> {
        if let super::Sender::Page(origin) = super::sender(headers) {
            return self
                .sites
                .iter()
                .find(|(_, inbox)| inbox.origins.iter().any(|o| *o == origin))
                .map(|(_, inbox)| inbox);
        }
        let thread_origin = origin_of(thread?).ok()?;
        self.sites
            .iter()
            .find(|(_, inbox)| {
                origin_of(&inbox.config.site.url).ok().as_ref() == Some(&thread_origin)
            })
            .map(|(_, inbox)| inbox)
    }
}

pub fn router(sites: Arc<Sites>) -> Router {
    let cors = super::cors(
        sites
            .sites
            .iter()
            .flat_map(|(_, inbox)| inbox.origins.iter()),
    );
    let mut app = Router::new()
        .route("/v1/comments", post(dispatch).layer(cors))
        .route("/v1/reply", get(dispatch_reply))
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(sites.clone());
    for (name, inbox) in &sites.sites {
        app = app.nest(&format!("/sites/{name}"), super::routes(inbox.clone()));
    }
    app
}

/// `POST /v1/comments` without a site in the URL.
async fn dispatch(State(sites): State<Arc<Sites>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let limit = sites
        .sites
        .iter()
        .map(|(_, inbox)| inbox.config.inbox.max_request)
        .max()
        .unwrap_or(0);
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(serde_json::json!({"error": "the comment is too large"})),
        )
            .into_response();
    };
    let thread = thread_field(&bytes);
    let Some(inbox) = sites.site_for(&parts.headers, thread.as_deref()) else {
        let names: Vec<&str> = sites.sites.iter().map(|(n, _)| n.as_str()).collect();
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({
                "error": format!(
                    "this inbox serves several sites ({}): post from one of their pages, or to /sites/<name>/v1/comments",
                    names.join(", ")
                ),
                "reason": "site",
            })),
        )
            .into_response();
    };
    super::post_comment(
        State(inbox.clone()),
        Request::from_parts(parts, Body::from(bytes)),
    )
    .await
}

/// `GET /v1/reply` without a site in the URL: the site the reader comes from (its
/// `Referer`), or the one a full URL in `thread` belongs to.
async fn dispatch_reply(
    State(sites): State<Arc<Sites>>,
    headers: axum::http::HeaderMap,
    query: axum::extract::Query<super::ReplyTo>,
) -> Response {
    match sites.site_for(&headers, Some(query.thread.as_str())) {
        Some(inbox) => super::reply_page(State(inbox.clone()), query).await,
        None => (
            StatusCode::BAD_REQUEST,
            "this inbox serves several sites: follow the reply link from one of their pages\n",
        )
            .into_response(),
    }
}

/// The `thread` field of a form or JSON body, if it is there.
fn thread_field(bytes: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) {
        return json["thread"].as_str().map(str::to_string);
    }
    url::form_urlencoded::parse(bytes)
        .find(|(k, _)| k == "thread")
        .map(|(_, v)| v.into_owned())
}

async fn health(State(sites): State<Arc<Sites>>) -> Response {
    let all: serde_json::Map<String, serde_json::Value> = sites
        .sites
        .iter()
        .map(|(name, inbox)| {
            (
                name.clone(),
                serde_json::json!({ "spool": super::spool_counts(inbox) }),
            )
        })
        .collect();
    Json(serde_json::json!({ "status": "ok", "sites": all })).into_response()
}

async fn metrics(State(sites): State<Arc<Sites>>) -> Response {
    for (_, inbox) in &sites.sites {
        inbox.metrics.read_spool(&inbox.spool);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        sites.registered.encode(),
    )
        .into_response()
}
