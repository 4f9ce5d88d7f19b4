//! Forge webhooks (`POST /v1/webhooks/{github,gitea,gitlab}`): verified by the forge's
//! signature or token, refused when replayed, and acted on when a pull (merge) request
//! cairn opened is closed, merged or not: its branch is cleaned up.
//!
//! A delivery is a replay when its id was seen before (ids are kept on disk next to
//! the spool for [`REPLAY_WINDOW`]) or when the event it reports is older than that
//! window, so a captured request is useless once its id has been forgotten too.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::Inbox;
use crate::config::Backend as Kind;

/// How long delivery ids are remembered, and the oldest event accepted.
pub const REPLAY_WINDOW: chrono::Duration = chrono::Duration::hours(24);
/// Environment variable holding the webhook secret.
pub const SECRET_ENV: &str = "CAIRN_WEBHOOK_SECRET";
/// Largest webhook body read.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The webhook secret and the delivery ids seen recently.
pub struct Webhooks {
    secret: Option<Vec<u8>>,
    seen: Mutex<HashMap<String, DateTime<Utc>>>,
    file: PathBuf,
}

impl Webhooks {
    /// The secret from `CAIRN_WEBHOOK_SECRET` or `inbox.delivery.webhook_secret_file`
    /// (none: webhooks are off), and the ids seen, from `file`.
    pub fn open(config: &crate::config::Config, file: PathBuf) -> Result<Webhooks> {
        let file_secret = config
            .inbox
            .delivery
            .webhook_secret_file
            .as_ref()
            .map(|f| config.root.join(f));
        let secret = match (std::env::var(SECRET_ENV), file_secret) {
            (Ok(v), _) if !v.trim().is_empty() => Some(v.trim().as_bytes().to_vec()),
            (_, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read webhook secret {}", path.display()))?
                    .trim()
                    .as_bytes()
                    .to_vec(),
            ),
            _ => None,
        };
        let now = Utc::now();
        let seen = std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let (at, id) = line.split_once(' ')?;
                let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
                (now - at < REPLAY_WINDOW).then(|| (id.to_string(), at))
            })
            .collect();
        Ok(Webhooks {
            secret,
            seen: Mutex::new(seen),
            file,
        })
    }

    /// Remembers a delivery id; false when it was seen already.
    fn first_time(&self, id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let now = Utc::now();
        seen.retain(|_, at| now - *at < REPLAY_WINDOW);
        if seen.contains_key(id) {
            return false;
        }
        seen.insert(id.to_string(), now);
        // Rewritten when it has grown well past what is still remembered.
        let line = format!("{} {id}\n", now.to_rfc3339());
        let result = if std::fs::metadata(&self.file).map_or(0, |m| m.len()) > 64 * 1024 {
            let all: String = seen
                .iter()
                .map(|(id, at)| format!("{} {id}\n", at.to_rfc3339()))
                .collect();
            std::fs::write(&self.file, all)
        } else {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.file)
                .and_then(|mut f| f.write_all(line.as_bytes()))
        };
        if let Err(e) = result {
            tracing::warn!(
                "cannot record webhook delivery {id} in {}: {e}",
                self.file.display()
            );
        }
        true
    }

    /// Forgets a delivery id whose handling failed, so the forge's retry is taken.
    fn forget(&self, id: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// What a forge's webhook delivery says, once read.
struct Event {
    /// The delivery's id, for replay detection.
    delivery: String,
    /// The event's name, for reports.
    name: String,
    /// When what it reports happened.
    happened: Option<DateTime<Utc>>,
    /// A request from branch `.0` was closed; `.1`: merged.
    closed: Option<(String, bool)>,
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A hex HMAC-SHA256 of the body, compared in constant time.
fn hmac_ok(secret: &[u8], hex: &str, body: &[u8]) -> Result<(), String> {
    let given = crate::secret::from_hex(hex).ok_or("the signature is not hex")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| "bad webhook secret")?;
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| "signature does not match".to_string())
}

/// Checks a delivery's authenticity the way each forge signs it:
/// - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
/// - Gitea/Forgejo: `X-Gitea-Signature` (or `X-Forgejo-Signature`): the same HMAC, bare hex;
/// - GitLab: `X-Gitlab-Token`: the secret itself.
fn verify(kind: Kind, secret: &[u8], headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    match kind {
        Kind::Github => {
            let sig = header(headers, "x-hub-signature-256");
            if sig.is_empty() {
                return Err("missing X-Hub-Signature-256".into());
            }
            let hex = sig
                .strip_prefix("sha256=")
                .ok_or("X-Hub-Signature-256 is not sha256=…")?;
            hmac_ok(secret, hex, body)
        }
        Kind::Gitea => {
            let sig = [
                header(headers, "x-forgejo-signature"),
                header(headers, "x-gitea-signature"),
            ]
            .into_iter()
            .find(|s| !s.is_empty())
            .ok_or("missing X-Gitea-Signature")?;
            hmac_ok(secret, &sig, body)
        }
        Kind::Gitlab => {
            let token = header(headers, "x-gitlab-token");
            if token.is_empty() {
                return Err("missing X-Gitlab-Token".into());
            }
            // Compared as HMACs of both, so the time taken says nothing about the secret.
            let digest = |bytes: &[u8]| {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
                mac.update(bytes);
                mac.finalize().into_bytes()
            };
            let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
            mac.update(token.as_bytes());
            mac.verify_slice(&digest(secret))
                .map_err(|_| "X-Gitlab-Token does not match".to_string())
        }
        Kind::Git => Err("the git backend takes no webhooks".into()),
    }
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        // GitLab also writes "2024-11-22 10:00:00 UTC".
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S UTC")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// Reads a delivery: its id, its time and, for a closed request from one of cairn's
/// branches in the delivery's repository, the branch.
fn read(
    kind: Kind,
    headers: &HeaderMap,
    payload: &Value,
    delivery_config: &crate::config::Delivery,
) -> Result<Event, String> {
    let repo = delivery_config.repo.as_deref();
    let (delivery, name) = match kind {
        Kind::Github => (
            header(headers, "x-github-delivery"),
            header(headers, "x-github-event"),
        ),
        Kind::Gitea => (
            header(headers, "x-gitea-delivery"),
            header(headers, "x-gitea-event"),
        ),
        Kind::Gitlab => {
            let id = [
                header(headers, "x-gitlab-event-uuid"),
                header(headers, "idempotency-key"),
            ]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default();
            (id, header(headers, "x-gitlab-event"))
        }
        Kind::Git => (String::new(), String::new()),
    };
    if delivery.is_empty() || name.is_empty() {
        return Err("missing the delivery id or event name headers".into());
    }
    let ours = |branch: &str, project: &Value| {
        (branch.starts_with(crate::deliver::BRANCH_PREFIX)
            || branch == delivery_config.batch_branch)
            && project.as_str() == repo
    };
    let (happened, closed) = match kind {
        Kind::Gitlab => {
            let mr = &payload["object_attributes"];
            let branch = mr["source_branch"].as_str().unwrap_or_default();
            let action = mr["action"].as_str().unwrap_or_default();
            let closed = (payload["object_kind"] == "merge_request"
                && (action == "merge" || action == "close")
                && ours(branch, &payload["project"]["path_with_namespace"]))
            .then(|| (branch.to_string(), action == "merge"));
            (time(&mr["updated_at"]), closed)
        }
        _ => {
            let pr = &payload["pull_request"];
            let branch = pr["head"]["ref"].as_str().unwrap_or_default();
            let closed = (name == "pull_request"
                && payload["action"] == "closed"
                && ours(branch, &pr["head"]["repo"]["full_name"]))
            .then(|| (branch.to_string(), pr["merged"].as_bool().unwrap_or(false)));
            (time(&pr["updated_at"]), closed)
        }
    };
    Ok(Event {
        delivery,
        name,
        happened,
        closed,
    })
}

/// `POST /v1/webhooks/{forge}`: the forge must be the configured backend.
pub async fn receive(
    State(inbox): State<Arc<Inbox>>,
    Path(forge): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let hooks = &inbox.webhooks;
    let kind = inbox.config.inbox.delivery.backend;
    let configured = match kind {
        Kind::Git => "git",
        Kind::Github => "github",
        Kind::Gitea => "gitea",
        Kind::Gitlab => "gitlab",
    };
    let forge = if forge == "forgejo" {
        "gitea".to_string()
    } else {
        forge
    };
    if kind == Kind::Git || forge != configured {
        return answer(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no webhooks for {forge}: this inbox delivers with the {configured} backend")}),
        );
    }
    let Some(secret) = &hooks.secret else {
        return answer(
            StatusCode::NOT_FOUND,
            json!({"error": format!("webhooks are off: set {SECRET_ENV} or inbox.delivery.webhook_secret_file")}),
        );
    };
    if body.len() > MAX_BODY {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "body too large"}),
        );
    }
    if let Err(why) = verify(kind, secret, &headers, &body) {
        inbox.metrics.webhook("bad_signature");
        tracing::warn!("webhook refused: {why}");
        return answer(StatusCode::UNAUTHORIZED, json!({"error": why}));
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "body is not JSON"}),
        );
    };
    let event = match read(kind, &headers, &payload, &inbox.config.inbox.delivery) {
        Ok(e) => e,
        Err(why) => return answer(StatusCode::BAD_REQUEST, json!({"error": why})),
    };
    if event
        .happened
        .is_some_and(|t| Utc::now() - t > REPLAY_WINDOW)
    {
        inbox.metrics.webhook("replayed");
        return answer(
            StatusCode::CONFLICT,
            json!({"error": "event too old: replayed?"}),
        );
    }
    if !hooks.first_time(&event.delivery) {
        inbox.metrics.webhook("replayed");
        return answer(
            StatusCode::CONFLICT,
            json!({"error": format!("delivery {} was received already", event.delivery)}),
        );
    }
    let Some((branch, merged)) = event.closed else {
        inbox.metrics.webhook("ignored");
        return answer(
            StatusCode::OK,
            json!({"ok": format!("{}: nothing to do", event.name)}),
        );
    };
    let backend = inbox.backend.clone();
    let closing = branch.clone();
    let outcome = match tokio::task::spawn_blocking(move || backend.closed(&closing)).await {
        Ok(result) => result,
        Err(e) => Err(anyhow::anyhow!("the cleanup stopped: {e}")),
    };
    match outcome {
        Ok(()) => {
            inbox
                .metrics
                .webhook(if merged { "merged" } else { "closed" });
            tracing::info!(branch, merged, "request closed; branch cleaned up");
            if let Some(notifier) = &inbox.notifier {
                notifier.look_now();
            }
            answer(
                StatusCode::OK,
                json!({"ok": format!("{branch} {}", if merged { "published" } else { "rejected" })}),
            )
        }
        Err(e) => {
            hooks.forget(&event.delivery);
            let why = format!("{e:#}");
            inbox.metrics.webhook("failed");
            tracing::warn!("webhook for {branch} failed: {why}");
            answer(StatusCode::SERVICE_UNAVAILABLE, json!({"error": why}))
        }
    }
}
