//! Live reload for `cairn render --serve` and `cairn demo`: the HTML pages they serve
//! load a small script that asks the server, by long polling, whether the site has been
//! rendered since the page was served, and reloads the page when it has. The script is added as pages are
//! served; the files on disk stay as `cairn render` wrote them.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

/// Where the script is served, and where it asks.
const SCRIPT_PATH: &str = "/__cairn/reload.js";
const ASK_PATH: &str = "/__cairn/reload";

/// How long one question waits for a render before it is answered "no change".
const LONGEST_WAIT: Duration = Duration::from_secs(25);

const SCRIPT: &str = include_str!("reload.js");

/// The renders so far, as a number that changes with each, and whether the server is
/// stopping (questions still waiting are answered at once, so stopping waits for none).
#[derive(Clone)]
pub struct Reload {
    generation: watch::Sender<u64>,
    stopping: watch::Sender<bool>,
}

#[derive(serde::Deserialize)]
struct Ask {
    since: u64,
}

impl Default for Reload {
    /// Its first number comes from the clock, so a page served by an earlier server
    /// (stopped and started again) reloads once this one answers.
    fn default() -> Reload {
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(1));
        Reload {
            generation: watch::Sender::new(start),
            stopping: watch::Sender::new(false),
        }
    }
}

impl Reload {
    /// The site was rendered again: every page showing tells its reader's browser.
    pub fn rendered(&self) {
        self.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// The server is stopping: questions still waiting are answered now.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// `router` with the script and the question answered, and the script added to the
    /// HTML pages it serves.
    pub fn around(&self, router: axum::Router) -> axum::Router {
        router
            .route(
                SCRIPT_PATH,
                axum::routing::get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                            (header::CACHE_CONTROL, "no-store"),
                        ],
                        SCRIPT,
                    )
                }),
            )
            .route(ASK_PATH, axum::routing::get(ask).with_state(self.clone()))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                add_script,
            ))
    }
}

/// Answers with the render number once it is not `since` any more, or after
/// [`LONGEST_WAIT`], or when the server stops: the script asks again or reloads.
async fn ask(State(reload): State<Reload>, Query(asked): Query<Ask>) -> Response {
    let mut generation = reload.generation.subscribe();
    let mut stopping = reload.stopping.subscribe();
    tokio::select! {
        _ = generation.wait_for(|&g| g != asked.since) => {}
        _ = stopping.wait_for(|&s| s) => {}
        () = tokio::time::sleep(LONGEST_WAIT) => {}
    }
    let now = *generation.borrow();
    (
        [
            (header::CONTENT_TYPE, "text/plain"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        now.to_string(),
    )
        .into_response()
}

/// Adds the script, with the render number the page is from, before the end of an
/// HTML page's body. The page is not to be cached: a copy kept by the browser would
/// carry an old number and reload again and again.
async fn add_script(
    State(reload): State<Reload>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // A HEAD answer has no body to add to: it says the length of the page as it is.
    let get = request.method() == axum::http::Method::GET;
    let response = next.run(request).await;
    let html = get
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if !html || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let page = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(page) => page,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read page: {e}"),
            )
                .into_response()
        }
    };
    let tag = format!(
        "<script src=\"{SCRIPT_PATH}\" data-generation=\"{}\"></script>",
        *reload.generation.borrow()
    );
    let at = body_end(&page);
    let mut with = Vec::with_capacity(page.len() + tag.len());
    with.extend_from_slice(&page[..at]);
    with.extend_from_slice(tag.as_bytes());
    with.extend_from_slice(&page[at..]);
    for name in [header::CONTENT_LENGTH, header::ETAG, header::LAST_MODIFIED] {
        parts.headers.remove(name);
    }
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(with))
}

/// Where the last `</body>` starts (in any case), else the end of the page.
fn body_end(page: &[u8]) -> usize {
    const END: &[u8] = b"</body";
    page.windows(END.len())
        .rposition(|w| w.eq_ignore_ascii_case(END))
        .unwrap_or(page.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_the_last_end_of_body() {
        assert_eq!(body_end(b"<p>a</p></BODY></html>"), 8);
        assert_eq!(body_end(b"<!-- </body> --><p>x</p></body>"), 24);
        assert_eq!(body_end(b"<p>no end"), 9);
    }
}
