//! Handler tests: every guard rule through the real router, for both content types,
//! against a real (bare, temporary) site repository.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;
use crate::deliver::git::test_remote;

const PUBLISHED: &str = "01JD3K2AAAAAAAAAAAAAAAAAAA";

struct Fixture {
    dir: tempfile::TempDir,
    inbox: Arc<Inbox>,
}

fn fixture(edit: impl FnOnce(&mut Config)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let published = format!(
        "id: {PUBLISHED}\nthread: /posts/a/\ndate: 2026-01-01T00:00:00Z\nauthor: Ann\nbody: Hi\n"
    );
    let remote = test_remote(
        dir.path(),
        &[(&format!("comments/posts/a/{PUBLISHED}.yml"), &published)],
    );
    let mut config = Config::default_for_test(dir.path());
    config.inbox.spool = "spool".into();
    config.inbox.delivery.remote = Some(remote.to_string_lossy().into_owned());
    edit(&mut config);
    let backend = crate::deliver::open(&config, &config.spool_dir()).unwrap();
    let secret = Secret::new(b"0123456789abcdef").unwrap();
    let inbox = Inbox::new(config, secret, backend).unwrap();
    Fixture { dir, inbox }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Fixture {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = router(self.inbox.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn post(
        &self,
        content_type: &str,
        body: String,
        headers: &[(&str, &str)],
        peer: &str,
    ) -> Answer {
        let mut request = Request::post("/v1/comments").header("content-type", content_type);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(Body::from(body)).unwrap();
        let peer = SocketAddr::new(peer.parse().unwrap(), 50000);
        request.extensions_mut().insert(ConnectInfo(peer));
        self.send(request).await
    }

    /// A JSON post of "comment number `n`" from `peer`, through a proxy that says
    /// `X-Forwarded-For: xff` when there is one.
    async fn numbered(&self, n: usize, peer: &str, xff: Option<&str>) -> Answer {
        let body = with("body", &format!("comment number {n}")).to_string();
        let headers: Vec<(&str, &str)> = xff.map(|v| ("x-forwarded-for", v)).into_iter().collect();
        self.post("application/json", body, &headers, peer).await
    }

    async fn json(&self, fields: serde_json::Value) -> Answer {
        self.post("application/json", fields.to_string(), &[], "192.0.2.1")
            .await
    }

    async fn form(&self, fields: &serde_json::Value, headers: &[(&str, &str)]) -> Answer {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields.as_object().unwrap() {
            form.append_pair(k, v.as_str().unwrap());
        }
        self.post(
            "application/x-www-form-urlencoded",
            form.finish(),
            headers,
            "192.0.2.1",
        )
        .await
    }

    /// The `/metrics` text, which must hold each of `lines`.
    async fn metrics_say(&self, lines: &[&str]) -> String {
        let text = self
            .send(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .body;
        for line in lines {
            assert!(text.contains(line), "no `{line}` in\n{text}");
        }
        text
    }

    fn spooled(&self) -> Vec<String> {
        self.inbox.spool.flush();
        let dir = self.dir.path().join("spool/queued");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        files.sort();
        files
    }
}

fn good() -> serde_json::Value {
    serde_json::json!({
        "thread": "/posts/a/",
        "author": "Ann",
        "email": "ann@example.org",
        "website": "https://ann.example",
        "body": "I *agree*.\n\n> quoted"
    })
}

fn with(key: &str, value: &str) -> serde_json::Value {
    let mut fields = good();
    fields[key] = value.into();
    fields
}

#[tokio::test]
async fn json_submission_is_spooled_before_the_202() {
    let f = fixture(|_| {});
    let answer = f.json(good()).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");
    let json = answer.json();
    assert_eq!(json["status"], "queued");
    let id = json["id"].as_str().unwrap();
    // Durable before the answer: the journal holds it already.
    let journal: String = std::fs::read_dir(f.dir.path().join("spool/journal"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(journal.contains(id), "not in the journal: {journal}");
    let spooled = f.spooled();
    assert_eq!(spooled.len(), 1);
    assert!(spooled[0].contains(id));
    assert!(spooled[0].contains("avatar: "), "{}", spooled[0]);
    // The e-mail and the client's address stay out of the spool.
    assert!(!spooled[0].contains("example.org"), "{}", spooled[0]);
    assert!(!spooled[0].contains("192.0.2.1"), "{}", spooled[0]);
}

#[tokio::test]
async fn an_inbox_behind_a_path_answers_with_the_path_and_without_it() {
    // On the site's own host, behind a proxy that may or may not take the path off.
    let f = fixture(|c| c.inbox.url = "https://blog.example.org/comments/".into());
    let post = |path: &str| {
        let mut request = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(
                with("body", &format!("posted to {path}")).to_string(),
            ))
            .unwrap();
        let peer = SocketAddr::new("192.0.2.1".parse().unwrap(), 50000);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    };
    for path in ["/comments/v1/comments", "/v1/comments"] {
        let answer = f.send(post(path)).await;
        assert_eq!(
            answer.status,
            StatusCode::ACCEPTED,
            "{path}: {}",
            answer.body
        );
    }
    assert_eq!(f.spooled().len(), 2);
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    assert_eq!(
        f.send(get("/comments/v1/health")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        f.send(get("/other/v1/health")).await.status,
        StatusCode::NOT_FOUND
    );
    // Its links carry the path.
    let reply = f
        .send(get(
            "/comments/v1/reply?thread=%2Fposts%2Fa%2F&parent=01JD3K2AAAAAAAAAAAAAAAAAAA",
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("action=\"https://blog.example.org/comments/v1/comments\""),
        "{}",
        reply.body
    );
    // A path that names one of the inbox's own routes is only a prefix.
    let f = fixture(|c| c.inbox.url = "https://blog.example.org/metrics".into());
    assert_eq!(f.send(get("/metrics")).await.status, StatusCode::OK);
    assert_eq!(
        f.send(post("/metrics/v1/comments")).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn form_submission_gets_the_comment_rendered_awaiting_moderation() {
    let f = fixture(|_| {});
    let answer = f
        .form(&good(), &[("origin", "https://blog.example.org")])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = &answer.body;
    assert!(page.contains("awaits moderation"), "{page}");
    assert!(page.contains("<em>agree</em>"), "{page}");
    assert!(page.contains("<blockquote>"), "{page}");
    assert!(
        page.contains("href=\"https://blog.example.org/posts/a/#cairn-comments\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"https://blog.example.org/cairn.css\""),
        "{page}"
    );
    assert!(
        !page.contains("cairn-reply"),
        "a preview has no reply form: {page}"
    );
    assert_eq!(f.spooled().len(), 1);
    // The page, showing what a reader wrote, runs no script, loads only the site's
    // stylesheet, posts only to the inbox and cannot be framed.
    let policy = answer.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "style-src https://blog.example.org 'unsafe-inline'",
        "form-action 'self' https://comments.example.org",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(policy.contains(directive), "{directive}: {policy}");
    }
    assert!(!policy.contains("script-src"), "{policy}");
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn a_preview_shows_the_comment_and_the_form_holding_it_and_posts_nothing() {
    let f = fixture(|c| {
        c.inbox.rate_per_hour = 1;
        c.inbox.rate_burst = 1;
    });
    let mut fields = good();
    fields["preview"] = "1".into();
    fields["parent"] = PUBLISHED.into();
    for _ in 0..3 {
        let answer = f
            .form(&fields, &[("origin", "https://blog.example.org")])
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let page = &answer.body;
        assert!(
            page.contains("<title>Preview of your comment</title>"),
            "{page}"
        );
        assert!(page.contains("It is not posted yet"), "{page}");
        // The comment as it will appear, with the name typed, and no reply link.
        assert!(
            page.contains("<em>agree</em>") && page.contains("<blockquote>"),
            "{page}"
        );
        assert!(page.contains(">Ann</a></bdi>"), "{page}");
        assert!(!page.contains("cairn-reply"), "{page}");
        // The form again, holding the text as typed, posting where the page's form does.
        assert!(
            page.contains(">\nI *agree*.\n\n&gt; quoted</textarea>"),
            "{page}"
        );
        assert!(page.contains("value=\"https://ann.example\""), "{page}");
        assert!(
            page.contains(&format!("name=\"parent\" value=\"{PUBLISHED}\"")),
            "{page}"
        );
        assert!(page.contains("action=\"https://comments.example.org/v1/comments\""));
    }
    let json = f.json(fields.clone()).await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.body);
    assert_eq!(json.json()["status"], "preview");
    assert_eq!(
        json.json()["html"],
        "<p>I <em>agree</em>.</p>\n<blockquote>\n<p>quoted</p>\n</blockquote>\n"
    );
    assert!(f.spooled().is_empty(), "a preview posts nothing");
    // A preview is checked like a post: what is wrong comes back with the text.
    fields["website"] = "javascript:alert(1)".into();
    let refused = f.form(&fields, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("I *agree*."), "{}", refused.body);
    // Previews used none of the client's allowance of one post.
    assert_eq!(f.json(good()).await.status, StatusCode::ACCEPTED);
    assert_eq!(f.spooled().len(), 1);
}

#[tokio::test]
async fn without_moderation_readers_are_told_their_comment_appears_with_the_next_build() {
    const REVIEWED: &str = "Comments are reviewed before they appear.";
    const NEXT_BUILD: &str = "Comments appear once the site is next built.";
    let origin = [("origin", "https://blog.example.org")];
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let reply = format!("/v1/reply?thread=%2Fposts%2Fa%2F&parent={PUBLISHED}");

    let moderated = fixture(|_| {});
    let page = moderated.send(get(&reply)).await.body;
    assert!(
        page.contains(REVIEWED) && !page.contains(NEXT_BUILD),
        "{page}"
    );

    let direct = fixture(|c| c.inbox.delivery.mode = crate::config::Mode::Direct);
    let accepted = direct.form(&good(), &origin).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let page = &accepted.body;
    assert!(
        page.contains("<title>Thank you! Your comment is posted</title>"),
        "{page}"
    );
    assert!(
        page.contains("It will appear on the page once the site is next built."),
        "{page}"
    );
    assert!(!page.contains("moderat"), "{page}");
    assert!(page.contains("<em>agree</em>"), "{page}");
    // The form, on the reply page and given back with an error, says so too.
    let page = direct.send(get(&reply)).await.body;
    assert!(
        page.contains(NEXT_BUILD) && !page.contains(REVIEWED),
        "{page}"
    );
    let mut empty = good();
    empty["body"] = "".into();
    let refused = direct.form(&empty, &origin).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains(NEXT_BUILD), "{}", refused.body);
}

/// A form as `multipart/form-data`, as a browser sends one with that `enctype` (CRLF
/// line ends, a quoted name per part).
fn multipart(fields: &serde_json::Value) -> (String, String) {
    let boundary = "----cairnFormBoundary7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in fields.as_object().unwrap() {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{}\r\n",
            value.as_str().unwrap().replace('\n', "\r\n")
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A script that posts a form's fields (`FormData`, or urlencoded) and asks for JSON
/// gets JSON, as if it had posted JSON; a browser's own form post asks for a page.
#[tokio::test]
async fn a_script_posting_form_fields_may_ask_for_json() {
    let f = fixture(|_| {});
    let wants_json = [
        ("origin", "https://blog.example.org"),
        ("accept", "application/json"),
    ];
    let (content_type, body) = multipart(&good());
    let answer = f.post(&content_type, body, &wants_json, "192.0.2.1").await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    assert_eq!(answer.json()["status"], "queued");
    assert_eq!(f.spooled().len(), 1);
    let refused = f.form(&with("website", "ftp://nope"), &wants_json).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.json()["field"], "website");

    let browser = [
        ("origin", "https://blog.example.org"),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7",
        ),
    ];
    let page = f.form(&with("body", "From a browser."), &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("awaits moderation"), "{}", page.body);
}

#[tokio::test]
async fn a_multipart_form_is_taken_as_a_form() {
    let f = fixture(|_| {});
    let origin = [("origin", "https://blog.example.org")];
    let (content_type, body) = multipart(&good());
    let answer = f.post(&content_type, body, &origin, "192.0.2.1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("awaits moderation"), "{}", answer.body);
    assert!(answer.body.contains("<em>agree</em>"), "{}", answer.body);
    let spooled = f.spooled();
    assert_eq!(spooled.len(), 1);
    assert!(spooled[0].contains("author: Ann"), "{}", spooled[0]);
    assert!(spooled[0].contains("> quoted"), "{}", spooled[0]);

    // Refused, the reader gets the form back with their text, as for any form.
    let (content_type, body) = multipart(&with("website", "ftp://nope"));
    let answer = f.post(&content_type, body, &origin, "192.0.2.2").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("your text is kept"), "{}", answer.body);
    assert!(answer.body.contains("I *agree*."), "{}", answer.body);

    // A body that does not follow its boundary is malformed, answered as a form.
    let answer = f
        .post(
            "multipart/form-data; boundary=xyz",
            "--xyz\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nunterminated".into(),
            &origin,
            "192.0.2.3",
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(f.spooled().len(), 1);
}

#[tokio::test]
async fn every_guard_rule_rejects_with_a_reason_for_both_content_types() {
    let long_body = "x".repeat(10_001);
    let links = "https://a.example https://b.example https://c.example https://d.example";
    let other_thread_reply = {
        let mut fields = with("thread", "/posts/b/");
        fields["parent"] = PUBLISHED.into();
        fields
    };
    let cases: Vec<(&str, serde_json::Value, StatusCode, &str, Option<&str>)> = vec![
        (
            "honeypot",
            with("subject", "cheap pills"),
            StatusCode::BAD_REQUEST,
            "honeypot",
            None,
        ),
        (
            "required body",
            with("body", " "),
            StatusCode::BAD_REQUEST,
            "required",
            Some("body"),
        ),
        (
            "author too long",
            with("author", &"a".repeat(101)),
            StatusCode::BAD_REQUEST,
            "too_long",
            Some("author"),
        ),
        (
            "body too long",
            with("body", &long_body),
            StatusCode::BAD_REQUEST,
            "too_long",
            Some("body"),
        ),
        (
            "bad e-mail",
            with("email", "ann at example"),
            StatusCode::BAD_REQUEST,
            "email",
            Some("email"),
        ),
        (
            "e-mail address as the name",
            with("author", "Ann <ann@example.org>"),
            StatusCode::BAD_REQUEST,
            "public_email",
            Some("author"),
        ),
        (
            "e-mail address in the website",
            with("website", "http://ann@example.org"),
            StatusCode::BAD_REQUEST,
            "public_email",
            Some("website"),
        ),
        (
            "bad website",
            with("website", "javascript:alert(1)"),
            StatusCode::BAD_REQUEST,
            "website",
            Some("website"),
        ),
        (
            "links",
            with("body", links),
            StatusCode::BAD_REQUEST,
            "links",
            Some("body"),
        ),
        (
            "thread escapes",
            with("thread", "/posts/../../etc/"),
            StatusCode::BAD_REQUEST,
            "thread",
            Some("thread"),
        ),
        (
            "thread elsewhere",
            with("thread", "https://evil.example/posts/a/"),
            StatusCode::BAD_REQUEST,
            "thread",
            Some("thread"),
        ),
        (
            "parent unknown",
            with("parent", "01JD3K2BBBBBBBBBBBBBBBBBBB"),
            StatusCode::BAD_REQUEST,
            "parent",
            Some("parent"),
        ),
        (
            "parent elsewhere",
            other_thread_reply,
            StatusCode::BAD_REQUEST,
            "parent",
            Some("parent"),
        ),
    ];
    for (name, fields, status, reason, field) in cases {
        let f = fixture(|_| {});
        let json = f.json(fields.clone()).await;
        assert_eq!(json.status, status, "{name} (JSON): {}", json.body);
        let body = json.json();
        assert_eq!(body["reason"], reason, "{name}");
        assert_eq!(body["field"].as_str(), field, "{name}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{name}"
        );

        let form = f
            .form(&fields, &[("origin", "https://blog.example.org")])
            .await;
        assert_eq!(form.status, status, "{name} (form)");
        let page = &form.body;
        assert!(
            page.contains("Your comment was not posted"),
            "{name}: {page}"
        );
        assert!(
            page.contains(body["error"].as_str().unwrap()),
            "{name}: {page}"
        );
        // What the reader typed comes back in the text box, escaped, so nothing is lost
        // (a browser drops one line break right after `<textarea>`).
        let typed = crate::render::escape_html(fields["body"].as_str().unwrap());
        if !typed.trim().is_empty() {
            assert!(
                page.contains(&format!(">\n{typed}</textarea>")),
                "{name}: the text is not shown back: {page}"
            );
        }
        let author = crate::render::escape_html(fields["author"].as_str().unwrap());
        assert!(
            page.contains(&format!("value=\"{author}\"")) || name == "author too long",
            "{name}: {page}"
        );
        if let Some(field) = field.filter(|f| crate::config::FORM_FIELDS.contains(f)) {
            assert!(
                page.contains(&format!("id=\"cairn-form-{field}-error\"")),
                "{name}: {page}"
            );
        }
        assert!(f.spooled().is_empty(), "{name} was spooled");
    }
}

#[tokio::test]
async fn replies_need_a_parent_that_is_published_or_pending() {
    let f = fixture(|_| {});
    let published = f.json(with("parent", PUBLISHED)).await;
    assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.body);
    let pending_id = published.json()["id"].as_str().unwrap().to_string();
    let mut reply = with("parent", &pending_id);
    reply["body"] = "A reply to a pending reply".into();
    let answer = f.json(reply).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
}

#[tokio::test]
async fn origins_are_checked_for_forms_and_json() {
    let f = fixture(|_| {});
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("referer", "https://evil.example/posts/a/")],
        &[("origin", "null")],
        // A page of another site that hides its origin, or a sandboxed frame.
        &[("origin", "null"), ("sec-fetch-site", "cross-site")],
        &[
            ("origin", "null"),
            ("referer", "https://blog.example.org/posts/a/"),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        let answer = f.form(&good(), headers).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(
            answer.body.contains("may only be sent from the site"),
            "{}",
            answer.body
        );
    }
    let answer = f
        .post(
            "application/json",
            good().to_string(),
            &[("origin", "https://evil.example")],
            "192.0.2.1",
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["reason"], "origin");
    assert!(answer.headers.get("access-control-allow-origin").is_none());

    let answer = f
        .form(&good(), &[("referer", "https://blog.example.org/posts/a/")])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    // A page of the site whose referrer policy is no-referrer or same-origin sends its
    // form without its origin; the browser still says it is on the inbox's site.
    for (fetch_site, body) in [
        ("same-site", "Sent from a page with no referrer."),
        ("same-origin", "Sent from a page on the inbox's own origin."),
    ] {
        let answer = f
            .form(
                &with("body", body),
                &[("origin", "null"), ("sec-fetch-site", fetch_site)],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{fetch_site}: {}",
            answer.body
        );
    }
    // The inbox's own reply and error pages post their forms from its origin.
    let answer = f
        .form(
            &with("body", "Sent from the reply page."),
            &[("origin", "https://comments.example.org")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/v1/comments")
        .header("origin", "https://blog.example.org")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .unwrap();
    let answer = f.send(preflight).await;
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        "https://blog.example.org"
    );
}

#[tokio::test]
async fn duplicates_are_refused() {
    let f = fixture(|_| {});
    assert_eq!(f.json(good()).await.status, StatusCode::ACCEPTED);
    let mut again = good();
    again["body"] = "I   *agree*.\n> quoted ".into();
    let answer = f.json(again).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.json()["reason"], "duplicate");
    // A form gets its text back with the reason.
    let page = f.form(&good(), &[]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("already submitted"), "{}", page.body);
    assert!(page.body.contains("I *agree*."), "{}", page.body);
    // The same words on another page are not a duplicate.
    assert_eq!(
        f.json(with("thread", "/posts/b/")).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn a_full_backlog_is_busy_for_both_content_types_and_gives_the_text_back() {
    let f = fixture(|c| c.inbox.max_waiting = 1);
    assert_eq!(f.json(good()).await.status, StatusCode::ACCEPTED);
    let answer = f.json(with("body", "A second thought")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json()["reason"], "busy");
    assert_eq!(answer.headers["retry-after"], "60");
    let page = f.form(&with("body", "A second thought"), &[]).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers["retry-after"], "60");
    assert!(page.body.contains("A second thought"), "{}", page.body);
    assert!(
        page.body.contains("waiting to be published"),
        "{}",
        page.body
    );
    assert_eq!(f.spooled().len(), 1);
    let text = f.metrics_say(&[]).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("cairn_inbox_rejected_total{")
                && l.contains("reason=\"busy\"")
                && l.ends_with(" 2")),
        "{text}"
    );
}

#[tokio::test]
async fn posts_turned_away_by_a_full_backlog_leave_the_readers_allowance() {
    let f = fixture(|c| {
        c.inbox.max_waiting = 1;
        c.inbox.rate_per_hour = 2;
        c.inbox.rate_burst = 2;
    });
    assert_eq!(
        f.numbered(1, "192.0.2.7", None).await.status,
        StatusCode::ACCEPTED
    );
    for n in 2..6 {
        let answer = f.numbered(n, "192.0.2.7", None).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert_eq!(answer.json()["reason"], "busy");
    }
    // Once the first is delivered there is room, and the reader's second post of the
    // hour goes in; the third is over the allowance.
    let spool = &f.inbox.spool;
    spool.flush();
    let taken = spool.take_due(Utc::now(), 10);
    assert_eq!(taken.len(), 1);
    spool.delivered(taken[0].id).unwrap();
    assert_eq!(
        f.numbered(6, "192.0.2.7", None).await.status,
        StatusCode::ACCEPTED
    );
    spool.flush();
    spool
        .delivered(spool.take_due(Utc::now(), 10)[0].id)
        .unwrap();
    assert_eq!(
        f.numbered(7, "192.0.2.7", None).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn malformed_requests_are_refused_with_reasons() {
    let f = fixture(|c| c.inbox.max_request = 1024);
    let answer = f.post("text/plain", "hello".into(), &[], "192.0.2.1").await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.json()["reason"], "content_type");
    let answer = f
        .post("application/json", "{\"body\": ".into(), &[], "192.0.2.1")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["reason"], "malformed");
    let answer = f.json(with("body", &"y".repeat(2000))).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json()["reason"], "too_large");
    let page = f.form(&with("body", &"y".repeat(2000)), &[]).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("too large"), "{}", page.body);
}

/// Scripts post JSON as their language writes it: `null` for a field left empty (a
/// comment that replies to nothing), `true` for a box; a field of another type is
/// refused by name.
#[tokio::test]
async fn json_fields_may_be_null_and_a_wrong_type_is_named() {
    let f = fixture(|_| {});
    let mut fields = good();
    fields["parent"] = serde_json::Value::Null;
    fields["website"] = serde_json::Value::Null;
    fields["lang"] = serde_json::Value::Null;
    fields["notify"] = false.into();
    fields["client_version"] = 3.into();
    let answer = f.json(fields).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let spooled = f.spooled();
    assert_eq!(spooled.len(), 1);
    assert!(!spooled[0].contains("website"), "{}", spooled[0]);

    for (field, value, says) in [
        (
            "thread",
            serde_json::json!(5),
            "thread: expected a string, not 5",
        ),
        (
            "body",
            serde_json::json!(["x"]),
            "body: expected a string, not [\"x\"]",
        ),
        (
            "notify",
            serde_json::json!(1),
            "notify: expected true or false, not 1",
        ),
    ] {
        let mut fields = with("body", "Typed wrong.");
        fields[field] = value;
        let answer = f.json(fields).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        let json = answer.json();
        assert_eq!(json["reason"], "malformed");
        assert_eq!(json["field"], field);
        assert_eq!(json["error"], says);
    }
    let answer = f
        .post("application/json", "[1, 2]".into(), &[], "192.0.2.1")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json()["error"],
        "expected a JSON object of the comment's fields"
    );
    assert!(answer.json()["field"].is_null());
    let preview = f
        .json(serde_json::json!({"thread": "/posts/a/", "body": "Look", "preview": "on"}))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(f.spooled().len(), 1, "a preview posts nothing");
}

/// Regression: a form's longest allowed comment, in a script that takes three bytes a
/// character, percent-encoded, is twelve bytes a character on the wire; the default
/// request limit must let it through so the limit that speaks is `form.max_body`.
#[tokio::test]
async fn the_longest_allowed_comment_fits_in_a_request() {
    let f = fixture(|_| {});
    let longest = "語".repeat(10_000);
    let answer = f.form(&with("body", &longest), &[]).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{}",
        &answer.body[..200.min(answer.body.len())]
    );
    let too_long = "語".repeat(10_001);
    let answer = f.form(&with("body", &too_long), &[]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains(&too_long), "the text is given back");
}

#[tokio::test]
async fn posts_refused_for_the_reader_to_fix_do_not_use_up_the_allowance() {
    let f = fixture(|c| {
        c.inbox.rate_per_hour = 2;
        c.inbox.rate_burst = 2;
    });
    let post = |body: &str| {
        let body = with("body", body).to_string();
        let f = &f;
        async move {
            f.post("application/json", body, &[], "192.0.2.1")
                .await
                .status
        }
    };
    for _ in 0..3 {
        assert_eq!(post("  ").await, StatusCode::BAD_REQUEST, "an empty body");
    }
    assert_eq!(post("first").await, StatusCode::ACCEPTED);
    assert_eq!(post("second").await, StatusCode::ACCEPTED);
    assert_eq!(post("third").await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn clients_are_rate_limited_by_address() {
    let f = fixture(|c| {
        c.inbox.rate_per_hour = 2;
        c.inbox.rate_burst = 2;
        c.inbox.trusted_proxies = vec!["10.0.0.0/8".into()];
    });
    assert_eq!(
        f.numbered(1, "192.0.2.1", None).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(2, "192.0.2.1", None).await.status,
        StatusCode::ACCEPTED
    );
    let limited = f.numbered(3, "192.0.2.1", None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let page = f.form(&with("body", "comment number 3"), &[]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("comment number 3") && page.body.contains("Too many comments"));
    assert_eq!(limited.json()["reason"], "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // A forged X-Forwarded-For from an untrusted peer changes nothing.
    assert_eq!(
        f.numbered(4, "192.0.2.1", Some("198.51.100.7"))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Behind a trusted proxy, each forwarded client has its own allowance.
    assert_eq!(
        f.numbered(5, "10.0.0.2", Some("198.51.100.7")).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(6, "10.0.0.2", Some("198.51.100.8, 10.0.0.3"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // Clients still limited are remembered when idle ones are forgotten.
    f.inbox.forget_idle_clients();
    assert_eq!(
        f.numbered(10, "192.0.2.1", None).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // IPv6 clients share one allowance per /64.
    assert_eq!(
        f.numbered(7, "2001:db8::1", None).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(8, "2001:db8::2", None).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(9, "2001:db8::3", None).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn ipv4_clients_of_a_dual_stack_listener_are_told_apart() {
    // A listener on [::] sees IPv4 peers as IPv4-mapped IPv6 addresses.
    let f = fixture(|c| {
        c.inbox.rate_per_hour = 1;
        c.inbox.rate_burst = 1;
        c.inbox.trusted_proxies = vec!["127.0.0.1".into()];
    });
    assert_eq!(
        f.numbered(1, "::ffff:192.0.2.1", None).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(2, "::ffff:192.0.2.2", None).await.status,
        StatusCode::ACCEPTED,
        "another IPv4 client has an allowance of its own"
    );
    assert_eq!(
        f.numbered(3, "192.0.2.1", None).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the same client, however its address came"
    );
    // The proxy is trusted however its address comes, and so are forwarded addresses.
    assert_eq!(
        f.numbered(4, "::ffff:127.0.0.1", Some("198.51.100.7"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(5, "::ffff:127.0.0.1", Some("::ffff:198.51.100.7"))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        f.numbered(6, "::ffff:127.0.0.1", Some("198.51.100.8"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // Some proxies write the client's port too.
    assert_eq!(
        f.numbered(7, "127.0.0.1", Some("198.51.100.9:50123"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(8, "127.0.0.1", Some("198.51.100.9:50124"))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        f.numbered(9, "127.0.0.1", Some("[2001:db8::1]:50123"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // An entry the proxy wrote that is no address: the client is not whatever it
    // claimed left of it, but counted as the proxy.
    assert_eq!(
        f.numbered(10, "127.0.0.1", Some("203.0.113.1, unknown"))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        f.numbered(11, "127.0.0.1", Some("203.0.113.2, unknown"))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn health_and_metrics_report_the_spool_and_the_reasons() {
    let f = fixture(|_| {});
    f.json(good()).await;
    f.json(with("subject", "spam")).await;
    let health = f
        .send(Request::get("/v1/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["spool"]["queued"], 1);
    f.metrics_say(&[
        "cairn_inbox_accepted_total{site=\"blog.example.org\"} 1",
        "cairn_inbox_rejected_total{site=\"blog.example.org\",reason=\"honeypot\"} 1",
        "cairn_inbox_spool_items{site=\"blog.example.org\",state=\"queued\"} 1",
        "cairn_inbox_post_latency_seconds_count{site=\"blog.example.org\"} 2",
    ])
    .await;
}

#[tokio::test]
async fn pages_speak_the_sites_language() {
    let f = fixture(|c| c.site.language = "de".into());
    let answer = f.form(&with("body", ""), &[]).await;
    assert!(
        answer.body.contains("Bitte füllen Sie dieses Feld aus."),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("<html lang=\"de\" dir=\"ltr\">"),
        "{}",
        answer.body
    );
}

/// A page in another language than the site's (`data-cairn-lang`) sends `lang` with its
/// form and reply links: the inbox answers its reader in that language, and keeps it on
/// the form it shows again. Without it, or for a language cairn lacks, the site's.
#[tokio::test]
async fn readers_of_a_page_in_another_language_are_answered_in_it() {
    let f = fixture(|_| {});
    let german = |mut fields: serde_json::Value| {
        fields["lang"] = "de".into();
        fields
    };
    let refused = f.form(&german(with("body", "")), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    for expected in [
        "<html lang=\"de\" dir=\"ltr\">",
        "Bitte füllen Sie dieses Feld aus.",
        "<input type=\"hidden\" name=\"lang\" value=\"de\">",
        "value=\"Ann\"",
    ] {
        assert!(
            refused.body.contains(expected),
            "{expected}: {}",
            refused.body
        );
    }
    let json = f.json(german(with("body", ""))).await;
    assert_eq!(json.json()["error"], "Bitte füllen Sie dieses Feld aus.");
    let missing_parent = f
        .form(&german(with("parent", "01JD3K2BBBBBBBBBBBBBBBBBBB")), &[])
        .await;
    assert!(
        missing_parent
            .body
            .contains("Der Kommentar, auf den Sie antworten, existiert nicht."),
        "{}",
        missing_parent.body
    );

    let accepted = f.form(&german(good()), &[]).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert!(
        accepted.body.contains("<html lang=\"de\" dir=\"ltr\">")
            && accepted
                .body
                .contains("Danke! Ihr Kommentar wartet auf Freigabe"),
        "{}",
        accepted.body
    );

    let get = |uri: String| Request::get(uri).body(Body::empty()).unwrap();
    let reply = f
        .send(get(format!(
            "/v1/reply?lang=de&thread=%2Fposts%2Fa%2F&parent={PUBLISHED}"
        )))
        .await;
    assert!(
        reply
            .body
            .contains("<title>Auf einen Kommentar antworten</title>")
            && reply
                .body
                .contains("<input type=\"hidden\" name=\"lang\" value=\"de\">"),
        "{}",
        reply.body
    );

    // Chinese in Traditional characters, as a Taiwanese page's form asks for it.
    let mut traditional = with("body", "");
    traditional["lang"] = "zh-Hant".into();
    let traditional = f.form(&traditional, &[]).await;
    assert!(
        traditional
            .body
            .contains("<html lang=\"zh-Hant\" dir=\"ltr\">")
            && traditional.body.contains("請填寫此欄。"),
        "{}",
        traditional.body
    );

    let unknown = f.form(&with("body", ""), &[]).await;
    assert!(
        unknown.body.contains("<html lang=\"en\" dir=\"ltr\">")
            && !unknown.body.contains("name=\"lang\"")
    );
    let mut swedish = with("body", "");
    swedish["lang"] = "sv".into();
    let swedish = f.form(&swedish, &[]).await;
    assert!(
        swedish.body.contains("<html lang=\"en\" dir=\"ltr\">"),
        "{}",
        swedish.body
    );

    // A page in Arabic gets its reader's text back on a page written right to left.
    let mut arabic = with("body", "نص التعليق");
    arabic["lang"] = "ar".into();
    arabic["website"] = "ftp://example.org".into();
    let arabic = f.form(&arabic, &[]).await;
    assert_eq!(arabic.status, StatusCode::BAD_REQUEST);
    for expected in [
        "<html lang=\"ar\" dir=\"rtl\">",
        "أدخل عنوان ويب يبدأ بـ http:// أو https://.",
        "نص التعليق",
    ] {
        assert!(
            arabic.body.contains(expected),
            "{expected}: {}",
            arabic.body
        );
    }
}

#[tokio::test]
async fn a_closed_thread_refuses_posts_and_replies_and_gives_the_text_back() {
    let f = fixture(|c| c.comments.closed = vec!["/posts/a/".into()]);
    let answer = f.json(good()).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["reason"], "closed");
    assert_eq!(answer.json()["field"], "thread");
    let page = f.form(&with("body", "Too late, alas"), &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Too late, alas"), "{}", page.body);
    assert!(
        page.body.contains("Comments on this page are closed."),
        "{}",
        page.body
    );
    let reply = f
        .send(
            Request::get(format!(
                "/v1/reply?thread=%2Fposts%2Fa%2F&parent={PUBLISHED}"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        reply.body.contains("Comments on this page are closed."),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("<form"), "{}", reply.body);
    assert!(f.spooled().is_empty());
    // Other threads take comments as before.
    assert_eq!(
        f.json(with("thread", "/posts/b/")).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn a_blocked_word_is_refused_with_the_text_given_back() {
    let f = fixture(|c| c.form.blocked = vec!["casino".into()]);
    // The text starts with a blank line, which the text box keeps too.
    let page = f.form(&with("body", "\nBest CASINO in town"), &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains(">\n\nBest CASINO in town</textarea>"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("does not take comments with some of the words"));
    let answer = f.json(with("website", "https://casino.example")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["reason"], "blocked");
    assert!(f.spooled().is_empty());
    assert_eq!(f.json(good()).await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn the_reply_page_is_the_form_for_an_answer_to_one_comment() {
    let f = fixture(|_| {});
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let page = f
        .send(get(&format!(
            "/v1/reply?thread=%2Fposts%2Fa%2F&parent={PUBLISHED}"
        )))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<title>Reply to a comment</title>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(
        "<input type=\"hidden\" name=\"parent\" value=\"{PUBLISHED}\">"
    )));
    assert!(page
        .body
        .contains("<input type=\"hidden\" name=\"thread\" value=\"/posts/a/\">"));
    assert!(page
        .body
        .contains("action=\"https://comments.example.org/v1/comments\""));
    assert!(page.body.contains(&format!(
        "href=\"https://blog.example.org/posts/a/#c-{PUBLISHED}\""
    )));
    assert!(page.body.contains("noindex"));

    // The page's link names whom the reader answers; a name no comment could carry
    // (blank, or longer than the form takes) is not shown.
    let named = f
        .send(get(&format!(
            "/v1/reply?thread=%2Fposts%2Fa%2F&parent={PUBLISHED}&to=%3Cb%3EAnn%3C%2Fb%3E"
        )))
        .await;
    assert!(
        named
            .body
            .contains("<title>Reply to &lt;b&gt;Ann&lt;&#x2f;b&gt;</title>")
            || named
                .body
                .contains("<title>Reply to &lt;b&gt;Ann&lt;/b&gt;</title>"),
        "{}",
        named.body
    );
    for to in ["%E2%80%8B", &"x".repeat(101)] {
        let unnamed = f
            .send(get(&format!(
                "/v1/reply?thread=%2Fposts%2Fa%2F&parent={PUBLISHED}&to={to}"
            )))
            .await;
        assert!(
            unnamed.body.contains("<title>Reply to a comment</title>"),
            "{to}"
        );
    }

    // A full URL of the site names its page too; what is not the site's is refused,
    // and so is a parent that is no comment id. Nothing typed is reflected as markup.
    let full = f
        .send(get(&format!(
            "/v1/reply?thread=https%3A%2F%2Fblog.example.org%2Fposts%2Fa%2F&parent={PUBLISHED}"
        )))
        .await;
    assert_eq!(full.status, StatusCode::OK);
    for (query, message) in [
        (
            format!("thread=https%3A%2F%2Fevil.example%2F&parent={PUBLISHED}"),
            "This page does not take comments.",
        ),
        (
            "thread=%2Fposts%2Fa%2F&parent=%3Cscript%3E".to_string(),
            "The comment you are replying to does not exist.",
        ),
        ("".to_string(), "This page does not take comments."),
    ] {
        let refused = f.send(get(&format!("/v1/reply?{query}"))).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(refused.body.contains(message), "{query}: {}", refused.body);
        assert!(!refused.body.contains("<script>"));
    }
}

/// The inbox's own server on a port-0 listener, with these timeouts: its address, the
/// sender that begins its shutdown, and its task.
async fn serving(
    f: &Fixture,
    timeouts: http::Timeouts,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(f.inbox.clone());
    let limits = http::Limits::new(1024, Vec::new());
    let server = tokio::spawn(http::serve(listener, app, timeouts, limits, async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// A connection to `addr` that has sent `bytes`.
async fn sent(addr: SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// What the server sends on `stream` until it closes it, or `None` if it is still open
/// after `wait`.
async fn answer_within(stream: &mut tokio::net::TcpStream, wait: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    tokio::time::timeout(wait, stream.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn clients_that_stall_are_cut_off_by_deadlines() {
    let f = fixture(|_| {});
    let short = http::Timeouts {
        head: Duration::from_millis(300),
        body: Duration::from_millis(300),
        shutdown: Duration::from_secs(10),
    };
    let (addr, stop, server) = serving(&f, short).await;

    // Half a head: the connection is closed, with nothing to say.
    let mut head = sent(addr, b"POST /v1/comments HTTP/1.1\r\nHost: x\r\n").await;
    // A body that stops short of its length, as a client does that drips it.
    let mut body = sent(
        addr,
        b"POST /v1/comments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"thread\": ",
    )
    .await;
    let closed = answer_within(&mut head, Duration::from_secs(5)).await;
    assert!(
        closed.is_some_and(|a| !a.contains("200 OK")),
        "a half-sent head holds its connection"
    );
    let answer = answer_within(&mut body, Duration::from_secs(5))
        .await
        .expect("a stalled body holds its connection");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"reason\":\"incomplete\""), "{answer}");
    assert!(f.spooled().is_empty());

    // Those did not hold up a whole post behind them.
    let post = serde_json::to_string(&good()).unwrap();
    let mut whole = sent(
        addr,
        format!(
            "POST /v1/comments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 Origin: https://blog.example.org\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{post}",
            post.len()
        )
        .as_bytes(),
    )
    .await;
    let answer = answer_within(&mut whole, Duration::from_secs(5)).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 202")),
        "{answer:?}"
    );
    f.metrics_say(&["reason=\"incomplete\""]).await;
    stop.send(()).unwrap();
    server.await.unwrap();
}

/// A connection to `addr` from the loopback address `from`, which has sent nothing.
async fn connected_from(from: &str, addr: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(addr).await.unwrap()
}

/// A whole request for the health of the inbox, on a connection that then closes.
const HEALTH: &[u8] = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn idle_connections_cannot_take_every_file_descriptor() {
    let f = fixture(|c| c.inbox.trusted_proxies = vec!["127.0.0.9".into()]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = http::Limits {
        connections: 6,
        per_client: 3,
        exempt: vec!["127.0.0.9/32".parse().unwrap()],
    };
    let patient = http::Timeouts {
        head: Duration::from_secs(60),
        ..http::Timeouts::default()
    };
    let server = tokio::spawn(http::serve(
        listener,
        router(f.inbox.clone()),
        patient,
        limits,
        async {
            let _ = stopped.await;
        },
    ));
    let ask = |mut stream: tokio::net::TcpStream| async move {
        use tokio::io::AsyncWriteExt;
        stream.write_all(HEALTH).await.unwrap();
        answer_within(&mut stream, Duration::from_secs(5)).await
    };

    // One client holds as many idle connections as it may; one more is refused at once.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(connected_from("127.0.0.2", addr).await);
    }
    let refused = ask(connected_from("127.0.0.2", addr).await).await;
    let refused = refused.expect("a connection over the client's limit is closed");
    assert!(
        refused.starts_with("HTTP/1.1 503") && refused.contains("Too many connections"),
        "{refused}"
    );
    // Another client is served.
    let answer = ask(connected_from("127.0.0.3", addr).await).await;
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")));
    // A trusted proxy, which carries many clients, has no such limit.
    for _ in 0..3 {
        idle.push(connected_from("127.0.0.9", addr).await);
    }
    // Now six connections are open, the most the server holds: a new one waits in the
    // listen queue, and is served once one of the others ends.
    let waiting = tokio::spawn(ask(connected_from("127.0.0.4", addr).await));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a seventh connection was served");
    drop(idle.pop());
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting connection was not served when another ended")
        .unwrap();
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")));
    // The client's own connections count again once they end.
    drop(idle.remove(0));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer = ask(connected_from("127.0.0.2", addr).await).await;
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")));

    stop.send(()).unwrap();
    drop(idle);
    server.await.unwrap();
}

#[test]
fn connections_leave_files_for_the_spool_and_delivery() {
    assert_eq!(http::Limits::new(1024, Vec::new()).connections, 1024 - 256);
    assert_eq!(http::Limits::new(256, Vec::new()).connections, 128);
    assert_eq!(http::Limits::new(1 << 20, Vec::new()).connections, 16_384);
}

#[tokio::test]
async fn a_shutdown_waits_a_bounded_time_for_requests_in_flight() {
    let f = fixture(|_| {});
    let patient = http::Timeouts {
        head: Duration::from_secs(60),
        body: Duration::from_secs(60),
        shutdown: Duration::from_millis(500),
    };
    let (addr, stop, server) = serving(&f, patient).await;
    // An idle connection, a half-sent head and a stalled body.
    let _idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _head = sent(addr, b"GET /v1/health HTTP/1.1\r\n").await;
    let _body = sent(
        addr,
        b"POST /v1/comments HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let began = std::time::Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the shutdown waits for stalled clients for ever")
        .unwrap();
    assert!(
        began.elapsed() >= Duration::from_millis(400),
        "{:?}",
        began.elapsed()
    );
    // Nothing listens any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// A spam checker on a port-0 listener, as `inbox.spam.url` names one: it takes a body
/// with "viagra" for spam, answers 500 to "boom", no verdict to "nonsense", and only
/// after two seconds to "slow". It keeps every request it got, raw.
async fn spam_checker() -> (String, Arc<std::sync::Mutex<Vec<(HeaderMap, String)>>>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/check",
        post(move |headers: HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push((headers, body.clone()));
                let ask: serde_json::Value = serde_json::from_str(&body).unwrap();
                let text = ask["body"].as_str().unwrap_or_default();
                if text.contains("boom") {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
                }
                if text.contains("nonsense") {
                    return Json(serde_json::json!({"verdict": "fine"})).into_response();
                }
                if text.contains("slow") {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                let spam = text.contains("viagra");
                Json(serde_json::json!({"spam": spam, "reason": "pills"})).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/check", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn an_external_spam_check_turns_spam_away_and_never_sees_an_email_or_address() {
    let (url, seen) = spam_checker().await;
    let f = fixture(|c| c.inbox.spam.url = Some(url));
    let ok = f
        .post(
            "application/json",
            good().to_string(),
            &[("user-agent", "Reader/1.0")],
            "192.0.2.1",
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let raw = &seen[0].1;
        let ask: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(ask["event"], "comment");
        assert_eq!(ask["id"], ok.json()["id"]);
        assert_eq!(ask["page"], "https://blog.example.org/posts/a/");
        assert_eq!(ask["author"], "Ann");
        assert_eq!(ask["body"], "I *agree*.\n\n> quoted");
        assert_eq!(ask["user_agent"], "Reader/1.0");
        assert_eq!(ask["avatar"].as_str().unwrap().len(), 16);
        for private in ["ann@example.org", "192.0.2.1", "email", "ip"] {
            assert!(!raw.contains(private), "{private} sent: {raw}");
        }
    }

    let spam = with("body", "Cheap viagra here");
    let answer = f.json(spam.clone()).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert_eq!(answer.json()["reason"], "spam");
    let page = f.form(&spam, &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Cheap viagra here"), "{}", page.body);
    assert!(
        page.body.contains("took your comment for spam"),
        "{}",
        page.body
    );
    assert_eq!(f.spooled().len(), 1, "only the first comment is spooled");

    // A preview posts nothing, so it is not sent to the checker.
    let mut preview = spam.clone();
    preview["preview"] = true.into();
    assert_eq!(f.json(preview).await.status, StatusCode::OK);
    assert_eq!(seen.lock().unwrap().len(), 3);

    f.metrics_say(&[
        "cairn_inbox_spam_checks_total{site=\"blog.example.org\",outcome=\"ham\"} 1",
        "cairn_inbox_spam_checks_total{site=\"blog.example.org\",outcome=\"spam\"} 2",
        "cairn_inbox_rejected_total{site=\"blog.example.org\",reason=\"spam\"} 2",
    ])
    .await;
}

#[tokio::test]
async fn a_failed_spam_check_takes_the_comment_or_turns_it_away_as_configured() {
    let (url, seen) = spam_checker().await;
    let taking = fixture(|c| {
        c.inbox.spam.url = Some(url.clone());
        c.inbox.spam.timeout_ms = 300;
    });
    assert_eq!(
        taking.json(with("body", "boom")).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        taking.json(with("body", "slow")).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(taking.spooled().len(), 2);

    let refusing = fixture(|c| {
        c.inbox.spam.url = Some(url.clone());
        c.inbox.spam.on_error = crate::config::SpamOnError::Refuse;
        c.inbox.spam.timeout_ms = 300;
    });
    let answer = refusing.json(with("body", "boom")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json()["reason"], "unavailable");
    let page = refusing.form(&with("body", "boom, long text"), &[]).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("boom, long text"), "{}", page.body);
    // No answer in time, and an answer that is no verdict, are failed checks too.
    for text in ["slow", "nonsense"] {
        let answer = refusing.json(with("body", text)).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    }
    assert!(refusing.spooled().is_empty());
    assert_eq!(seen.lock().unwrap().len(), 6);
    assert_eq!(
        refusing.json(good()).await.status,
        StatusCode::ACCEPTED,
        "the checker's verdict still counts"
    );

    // So is a checker that is not there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("http://{}/check", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = fixture(|c| {
        c.inbox.spam.url = Some(nowhere);
        c.inbox.spam.on_error = crate::config::SpamOnError::Refuse;
    });
    assert_eq!(
        unreachable.json(good()).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_reload_changes_the_rules_and_says_what_takes_a_restart() {
    let file_for = |c: &Config, extra: &str| {
        format!(
            "[site]\nurl = \"{}\"\n[comments]\ndir = \"comments\"\n{extra}\n[inbox]\nurl = \"{}\"\nspool = \"spool\"\n[inbox.delivery]\nremote = {:?}\n",
            c.site.url,
            c.inbox.url,
            c.inbox.delivery.remote.as_deref().unwrap()
        )
    };
    let running = std::sync::Mutex::new(None);
    let f = fixture(|c| {
        c.file = c.root.join("cairn.toml");
        *running.lock().unwrap() = Some(c.clone());
    });
    let running = running.into_inner().unwrap().unwrap();
    let write = |extra: &str| std::fs::write(&running.file, file_for(&running, extra)).unwrap();
    let casino = with("body", "Try the casino");
    assert_eq!(f.json(casino.clone()).await.status, StatusCode::ACCEPTED);

    write("closed = [\"/posts/b/\"]\n[form]\nblocked = [\"casino\"]\n[strings]\nerror_blocked = \"No gambling here.\"");
    assert_eq!(f.inbox.reload().unwrap(), Vec::<&str>::new());
    let refused = f.json(casino.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"], "No gambling here.");
    let closed = f.json(with("thread", "/posts/b/")).await;
    assert_eq!(closed.json()["reason"], "closed");

    // What needs a restart is kept as it was, and named.
    let moved = file_for(&running, "[form]\nblocked = [\"casino\"]")
        .replace(
            "url = \"https://blog.example.org\"",
            "url = \"https://new.example.org\"",
        )
        .replace("spool = \"spool\"", "spool = \"elsewhere\"");
    std::fs::write(&running.file, moved).unwrap();
    assert_eq!(f.inbox.reload().unwrap(), ["[inbox]", "site.url"]);
    assert_eq!(f.json(casino.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(f.json(good()).await.status, StatusCode::ACCEPTED);

    // A file with a mistake changes nothing.
    write("[form]\nblockd = [\"casino\"]");
    let err = format!("{:#}", f.inbox.reload().unwrap_err());
    assert!(
        err.contains("blockd") && err.contains("cairn.toml"),
        "{err}"
    );
    assert_eq!(f.json(casino).await.status, StatusCode::FORBIDDEN);
    // Monitoring sees a reload that did not take.
    f.metrics_say(&[
        "cairn_inbox_config_reloads_total{site=\"blog.example.org\",outcome=\"ok\"} 2",
        "cairn_inbox_config_reloads_total{site=\"blog.example.org\",outcome=\"error\"} 1",
    ])
    .await;
}
