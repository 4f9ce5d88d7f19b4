//! Forge webhooks (`POST /v1/webhooks/github`): verified by their HMAC signature,
//! refused when replayed, and acted on when a pull request cairn opened is closed
//! (merged or not): its branch is cleaned up.
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
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::Inbox;

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

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, compared in constant time.
fn signature_ok(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> Result<(), &'static str> {
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .ok_or("missing X-Hub-Signature-256")?;
    let hex = header
        .strip_prefix("sha256=")
        .ok_or("X-Hub-Signature-256 is not sha256=…")?;
    let given = decode_hex(hex).ok_or("X-Hub-Signature-256 is not hex")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| "bad webhook secret")?;
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| "signature does not match")
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

pub async fn github(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> Response {
    let hooks = &inbox.webhooks;
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
    if let Err(why) = signature_ok(secret, &headers, &body) {
        inbox.metrics.webhook("bad_signature");
        tracing::warn!("webhook refused: {why}");
        return answer(StatusCode::UNAUTHORIZED, json!({"error": why}));
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (delivery, event) = (header("x-github-delivery"), header("x-github-event"));
    if delivery.is_empty() || event.is_empty() {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "missing X-GitHub-Delivery or X-GitHub-Event"}),
        );
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "body is not JSON"}),
        );
    };
    let happened = payload["pull_request"]["updated_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    if happened.is_some_and(|t| Utc::now() - t.with_timezone(&Utc) > REPLAY_WINDOW) {
        inbox.metrics.webhook("replayed");
        return answer(
            StatusCode::CONFLICT,
            json!({"error": "event too old: replayed?"}),
        );
    }
    if !hooks.first_time(&delivery) {
        inbox.metrics.webhook("replayed");
        return answer(
            StatusCode::CONFLICT,
            json!({"error": format!("delivery {delivery} was received already")}),
        );
    }
    let pr = &payload["pull_request"];
    let ours = event == "pull_request"
        && payload["action"] == "closed"
        && pr["head"]["repo"]["full_name"].as_str() == inbox.config.inbox.delivery.repo.as_deref()
        && pr["head"]["ref"]
            .as_str()
            .is_some_and(|r| r.starts_with(crate::deliver::BRANCH_PREFIX));
    if !ours {
        inbox.metrics.webhook("ignored");
        return answer(
            StatusCode::OK,
            json!({"ok": format!("{event}: nothing to do")}),
        );
    }
    let branch = pr["head"]["ref"].as_str().unwrap_or_default().to_string();
    let merged = pr["merged"].as_bool().unwrap_or(false);
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
            tracing::info!(branch, merged, "pull request closed; branch cleaned up");
            answer(
                StatusCode::OK,
                json!({"ok": format!("{branch} {}", if merged { "published" } else { "rejected" })}),
            )
        }
        Err(e) => {
            hooks.forget(&delivery);
            let why = format!("{e:#}");
            inbox.metrics.webhook("failed");
            tracing::warn!("webhook for {branch} failed: {why}");
            answer(StatusCode::SERVICE_UNAVAILABLE, json!({"error": why}))
        }
    }
}
