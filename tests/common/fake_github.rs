//! A local stand-in for GitHub's REST API, speaking the subset cairn uses as GitHub's
//! API reference documents it: git refs, repository contents, pull requests (with
//! `Link` pagination), issue labels and GitHub App installation tokens; with its status
//! codes, JSON shapes, error bodies and rate-limit headers. It keeps a small in-memory
//! repository (commits as whole file maps), checks every request's headers, and can be
//! told to fail, lose answers, stall or rate-limit, to test what cairn does then.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

pub const OWNER: &str = "owner";
pub const REPO: &str = "site";
pub const TOKEN: &str = "github_pat_test";

#[derive(Debug, Clone)]
pub struct Commit {
    pub parents: Vec<usize>,
    pub files: BTreeMap<String, Vec<u8>>,
    pub message: String,
    pub committer: Value,
}

#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub open: bool,
    pub merged: bool,
    pub labels: BTreeSet<String>,
}

/// What to do to the next requests matching `method` and a path containing `path`.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status without doing anything.
    Fail(u16),
    /// Do the work, then wait this long and answer 502: the answer is lost, as when
    /// the network fails or the client is killed after the forge acted.
    Lose(Duration),
    /// Wait this long, then answer normally (longer than the client's timeout: a timeout).
    Stall(Duration),
    /// A secondary rate limit: 403 with `Retry-After` seconds.
    Secondary(u64),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Method,
    pub path: String,
    pub fault: Fault,
    pub times: usize,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub body: Value,
    /// What was wrong with the request's headers, if anything.
    pub header_problem: Option<String>,
}

pub struct App {
    pub app_id: u64,
    pub installation_id: u64,
    pub public_key_pem: Vec<u8>,
    /// Lifetime of the installation tokens it hands out.
    pub token_lifetime: Duration,
    pub issued: Vec<String>,
}

pub struct State {
    pub commits: Vec<Commit>,
    pub branches: BTreeMap<String, usize>,
    pub pulls: Vec<Pull>,
    pub seen: Vec<Seen>,
    pub rules: VecDeque<Rule>,
    /// Every request fails with 502 until then.
    pub outage_until: Option<Instant>,
    /// Primary rate limit: requests per window, and the window.
    pub limit: Option<(u32, Duration)>,
    pub used: u32,
    pub window_start: Instant,
    /// Most items on one page of a list (GitHub: `per_page`, at most 100).
    pub max_per_page: usize,
    pub app: Option<App>,
    /// Tokens that are no longer accepted.
    pub revoked: BTreeSet<String>,
    pub base_url: String,
}

#[derive(Clone)]
pub struct FakeGitHub {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// Starts the fake on a port-0 listener, with `main` holding `files`.
    pub fn start(files: &[(&str, &str)]) -> FakeGitHub {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let files = files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect();
        let state = Arc::new(Mutex::new(State {
            commits: vec![Commit {
                parents: vec![],
                files,
                message: "site".into(),
                committer: json!({}),
            }],
            branches: BTreeMap::from([("main".to_string(), 0)]),
            pulls: Vec::new(),
            seen: Vec::new(),
            rules: VecDeque::new(),
            outage_until: None,
            limit: None,
            used: 0,
            window_start: Instant::now(),
            max_per_page: 100,
            app: None,
            revoked: BTreeSet::new(),
            base_url: url.clone(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(shared);
                axum::serve(listener, app).await.unwrap();
            });
        });
        FakeGitHub { url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    pub fn add_rule(&self, method: Method, path: &str, fault: Fault, times: usize) {
        self.with(|s| {
            s.rules.push_back(Rule {
                method,
                path: path.into(),
                fault,
                times,
            })
        });
    }

    /// Files on `branch` (empty when there is no such branch).
    pub fn files(&self, branch: &str) -> BTreeMap<String, Vec<u8>> {
        self.with(|s| {
            s.branches
                .get(branch)
                .map(|&c| s.commits[c].files.clone())
                .unwrap_or_default()
        })
    }

    pub fn pulls(&self) -> Vec<Pull> {
        self.with(|s| s.pulls.clone())
    }

    pub fn branches(&self) -> Vec<String> {
        self.with(|s| s.branches.keys().cloned().collect())
    }

    /// Commits on `branch` that are not on `main`.
    pub fn commits_ahead(&self, branch: &str) -> usize {
        self.with(|s| {
            let (Some(&head), Some(&main)) = (s.branches.get(branch), s.branches.get("main"))
            else {
                return 0;
            };
            let on_main = ancestors(&s.commits, main);
            ancestors(&s.commits, head).difference(&on_main).count()
        })
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.with(|s| s.seen.clone())
    }
}

fn ancestors(commits: &[Commit], from: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from];
    while let Some(c) = todo.pop() {
        if seen.insert(c) {
            todo.extend(&commits[c].parents);
        }
    }
    seen
}

fn sha(commit: usize) -> String {
    format!("{:040x}", commit + 0xc0ffee)
}

fn commit_of(s: &State, sha_text: &str) -> Option<usize> {
    (0..s.commits.len()).find(|&c| sha(c) == sha_text)
}

fn blob_sha(content: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(content);
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

fn reply(status: u16, body: Value) -> (u16, Value, Vec<(String, String)>) {
    (status, body, Vec::new())
}

fn not_found() -> (u16, Value, Vec<(String, String)>) {
    reply(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
    )
}

fn unprocessable(message: &str) -> (u16, Value, Vec<(String, String)>) {
    reply(
        422,
        json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": "422"}),
    )
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: BTreeMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (fault, header_problem, limited, outage) = {
        let mut s = state.lock().unwrap();
        let fault = match s
            .rules
            .iter_mut()
            .find(|r| r.method == method && path.contains(&r.path) && r.times > 0)
        {
            Some(rule) => {
                rule.times -= 1;
                Some(rule.fault.clone())
            }
            None => None,
        };
        s.rules.retain(|r| r.times > 0);
        let problem = header_problem(&s, &headers, &path);
        let outage = s.outage_until.is_some_and(|t| Instant::now() < t);
        (fault, problem, primary_limit(&mut s), outage)
    };
    let record = |status: u16, state: &Arc<Mutex<State>>| {
        state.lock().unwrap().seen.push(Seen {
            at: Instant::now(),
            method: method.clone(),
            path: uri.to_string(),
            status,
            body: json_body.clone(),
            header_problem: header_problem.clone(),
        });
    };
    if outage {
        record(502, &state);
        return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response();
    }
    if let Some(problem) = &header_problem {
        record(401, &state);
        return json_response(
            401,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401", "cairn_test_problem": problem}),
            vec![],
        );
    }
    let (remaining, reset) = limited.1;
    let limit_headers = vec![
        ("x-ratelimit-limit".to_string(), "5000".to_string()),
        ("x-ratelimit-remaining".to_string(), remaining.to_string()),
        ("x-ratelimit-reset".to_string(), reset.to_string()),
        ("x-ratelimit-used".to_string(), "1".to_string()),
        ("x-ratelimit-resource".to_string(), "core".to_string()),
    ];
    if limited.0 {
        record(403, &state);
        return json_response(
            403,
            json!({"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", "status": "403"}),
            limit_headers,
        );
    }
    match fault {
        Some(Fault::Fail(status)) => {
            record(status, &state);
            return json_response(status, json!({"message": "Server Error"}), vec![]);
        }
        Some(Fault::Secondary(after)) => {
            record(403, &state);
            return json_response(
                403,
                json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits", "status": "403"}),
                vec![("retry-after".to_string(), after.to_string())],
            );
        }
        Some(Fault::Stall(wait)) => tokio::time::sleep(wait).await,
        _ => {}
    }
    let (status, body, mut extra) = {
        let mut s = state.lock().unwrap();
        route(&mut s, &method, &path, &query, &json_body)
    };
    if let Some(Fault::Lose(wait)) = fault {
        record(502, &state);
        tokio::time::sleep(wait).await;
        return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response();
    }
    record(status, &state);
    extra.extend(limit_headers);
    json_response(status, body, extra)
}

fn json_response(status: u16, body: Value, headers: Vec<(String, String)>) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json; charset=utf-8")],
        if status == 204 {
            String::new()
        } else {
            body.to_string()
        },
    )
        .into_response();
    for (k, v) in headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    response
}

/// GitHub refuses requests without a User-Agent, and cairn promises the documented
/// media type, API version and a bearer token.
fn header_problem(s: &State, headers: &HeaderMap, path: &str) -> Option<String> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    if get("user-agent").is_empty() {
        return Some("no User-Agent".into());
    }
    if get("accept") != "application/vnd.github+json" {
        return Some(format!("Accept: {}", get("accept")));
    }
    if get("x-github-api-version") != "2022-11-28" {
        return Some(format!(
            "X-GitHub-Api-Version: {}",
            get("x-github-api-version")
        ));
    }
    let Some(bearer) = get("authorization").strip_prefix("Bearer ") else {
        return Some(format!("Authorization: {}", get("authorization")));
    };
    if s.revoked.contains(bearer) {
        return Some("revoked token".into());
    }
    match &s.app {
        None => (bearer != TOKEN).then(|| format!("unknown token {bearer}")),
        Some(app) if path.starts_with("/app/") => verify_jwt(app, bearer).err(),
        Some(app) => (!app.issued.iter().any(|t| t == bearer))
            .then(|| format!("not an installation token: {bearer}")),
    }
}

/// Checks an app's JWT as GitHub does: RS256 signed by the app's key, issued by the
/// app id, at most ten minutes long, not expired.
fn verify_jwt(app: &App, jwt: &str) -> Result<(), String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("a JWT has three parts".into());
    };
    let header: Value = serde_json::from_slice(&b64.decode(header).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let key = openssl::pkey::PKey::public_key_from_pem(&app.public_key_pem).unwrap();
    let mut verifier =
        openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
    verifier
        .update(format!("{}.{}", parts[0], parts[1]).as_bytes())
        .unwrap();
    let signature = b64.decode(signature).map_err(|e| e.to_string())?;
    if !verifier.verify(&signature).unwrap_or(false) {
        return Err("bad JWT signature".into());
    }
    let claims: Value = serde_json::from_slice(&b64.decode(claims).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    let iss = app.app_id.to_string();
    if claims["iss"].as_str() != Some(iss.as_str()) {
        return Err(format!("iss {}", claims["iss"]));
    }
    if exp - iat > 600 || exp <= now || iat > now + 60 {
        return Err(format!("iat {iat} exp {exp} now {now}"));
    }
    Ok(())
}

/// Counts the request against the primary limit: (refused?, (remaining, reset epoch)).
fn primary_limit(s: &mut State) -> (bool, (u32, i64)) {
    let Some((budget, window)) = s.limit else {
        return (false, (4999, chrono::Utc::now().timestamp() + 3600));
    };
    if s.window_start.elapsed() >= window {
        s.window_start = Instant::now();
        s.used = 0;
    }
    let left = window.saturating_sub(s.window_start.elapsed());
    // The epoch second by which the window has surely ended.
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let reset = (now + left.as_secs_f64()).ceil() as i64;
    if s.used >= budget {
        return (true, (0, reset));
    }
    s.used += 1;
    (false, (budget - s.used, reset))
}

fn route(
    s: &mut State,
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
) -> (u16, Value, Vec<(String, String)>) {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .to_string();
    let segments: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    if let ["app", "installations", id, "access_tokens"] = segments[..] {
        return access_token(s, method, id);
    }
    let ["repos", owner, repo, rest @ ..] = &segments[..] else {
        return not_found();
    };
    if *owner != OWNER || *repo != REPO {
        return not_found();
    }
    match (method.as_str(), rest) {
        ("GET", ["git", "ref", "heads", branch @ ..]) => {
            let branch = branch.join("/");
            match s.branches.get(&branch) {
                Some(&c) => reply(
                    200,
                    json!({"ref": format!("refs/heads/{branch}"), "node_id": "x", "url": "", "object": {"type": "commit", "sha": sha(c), "url": ""}}),
                ),
                None => not_found(),
            }
        }
        ("POST", ["git", "refs"]) => {
            let Some(name) = body["ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("refs/heads/"))
            else {
                return unprocessable("Reference name is not valid");
            };
            let Some(c) = body["sha"].as_str().and_then(|h| commit_of(s, h)) else {
                return unprocessable("Object does not exist");
            };
            if s.branches.contains_key(name) {
                return unprocessable("Reference already exists");
            }
            s.branches.insert(name.to_string(), c);
            reply(
                201,
                json!({"ref": format!("refs/heads/{name}"), "object": {"type": "commit", "sha": sha(c)}}),
            )
        }
        ("DELETE", ["git", "refs", "heads", branch @ ..]) => {
            match s.branches.remove(&branch.join("/")) {
                Some(_) => reply(204, Value::Null),
                None => unprocessable("Reference does not exist"),
            }
        }
        ("GET", ["contents", file @ ..]) => {
            let file = file.join("/");
            let branch = query.get("ref").cloned().unwrap_or_else(|| "main".into());
            let Some(&c) = s.branches.get(&branch) else {
                return not_found();
            };
            match s.commits[c].files.get(&file) {
                Some(content) => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(content);
                    // GitHub wraps the base64 at 60 characters.
                    let wrapped: Vec<String> = b64
                        .as_bytes()
                        .chunks(60)
                        .map(|c| String::from_utf8_lossy(c).to_string())
                        .collect();
                    reply(
                        200,
                        json!({"type": "file", "encoding": "base64", "size": content.len(), "name": file.rsplit('/').next(), "path": file, "content": wrapped.join("\n") + "\n", "sha": blob_sha(content)}),
                    )
                }
                None => not_found(),
            }
        }
        ("PUT", ["contents", file @ ..]) => {
            let file = file.join("/");
            let (Some(message), Some(content)) =
                (body["message"].as_str(), body["content"].as_str())
            else {
                return unprocessable(
                    "Invalid request.\n\n\"message\", \"content\" weren't supplied.",
                );
            };
            let branch = body["branch"].as_str().unwrap_or("main").to_string();
            let Some(&tip) = s.branches.get(&branch) else {
                return reply(
                    404,
                    json!({"message": format!("Branch {branch} not found"), "status": "404"}),
                );
            };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(content) else {
                return unprocessable("content is not valid Base64");
            };
            let existing = s.commits[tip].files.get(&file).map(|c| blob_sha(c));
            match (&existing, body["sha"].as_str()) {
                (Some(_), None) => {
                    return unprocessable("Invalid request.\n\n\"sha\" wasn't supplied.")
                }
                (Some(old), Some(given)) if old != given => {
                    return reply(
                        409,
                        json!({"message": format!("{file} does not match {given}"), "status": "409"}),
                    )
                }
                _ => {}
            }
            let mut files = s.commits[tip].files.clone();
            files.insert(file.clone(), bytes.clone());
            s.commits.push(Commit {
                parents: vec![tip],
                files,
                message: message.into(),
                committer: body["committer"].clone(),
            });
            let c = s.commits.len() - 1;
            s.branches.insert(branch, c);
            reply(
                if existing.is_some() { 200 } else { 201 },
                json!({"content": {"path": file, "sha": blob_sha(&bytes)}, "commit": {"sha": sha(c), "message": message}}),
            )
        }
        ("DELETE", ["contents", file @ ..]) => {
            let file = file.join("/");
            let branch = body["branch"].as_str().unwrap_or("main").to_string();
            let Some(&tip) = s.branches.get(&branch) else {
                return not_found();
            };
            let Some(existing) = s.commits[tip].files.get(&file).map(|c| blob_sha(c)) else {
                return not_found();
            };
            if body["sha"].as_str() != Some(existing.as_str()) {
                return reply(
                    409,
                    json!({"message": "sha does not match", "status": "409"}),
                );
            }
            let mut files = s.commits[tip].files.clone();
            files.remove(&file);
            s.commits.push(Commit {
                parents: vec![tip],
                files,
                message: body["message"].as_str().unwrap_or_default().into(),
                committer: body["committer"].clone(),
            });
            let c = s.commits.len() - 1;
            s.branches.insert(branch, c);
            reply(200, json!({"content": null, "commit": {"sha": sha(c)}}))
        }
        ("GET", ["pulls"]) => {
            let state = query.get("state").map(String::as_str).unwrap_or("open");
            let list: Vec<Value> = s
                .pulls
                .iter()
                .filter(|p| match state {
                    "open" => p.open,
                    "closed" => !p.open,
                    _ => true,
                })
                .filter(|p| {
                    query
                        .get("head")
                        .is_none_or(|h| *h == format!("{OWNER}:{}", p.head))
                })
                .filter(|p| query.get("base").is_none_or(|b| *b == p.base))
                .map(|p| pull_json(s, p))
                .collect();
            paginate(s, path, query, list)
        }
        ("POST", ["pulls"]) => {
            let (Some(head), Some(base), Some(title)) = (
                body["head"].as_str(),
                body["base"].as_str(),
                body["title"].as_str(),
            ) else {
                return unprocessable("Validation Failed");
            };
            let head = head.trim_start_matches(&format!("{OWNER}:")).to_string();
            if !s.branches.contains_key(&head) || !s.branches.contains_key(base) {
                return reply(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}], "status": "422"}),
                );
            }
            if s.pulls
                .iter()
                .any(|p| p.open && p.head == head && p.base == base)
            {
                return reply(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {OWNER}:{head}.")}], "status": "422"}),
                );
            }
            let pull = Pull {
                number: s.pulls.len() as u64 + 1,
                head,
                base: base.into(),
                title: title.into(),
                body: body["body"].as_str().unwrap_or_default().into(),
                open: true,
                merged: false,
                labels: BTreeSet::new(),
            };
            let json = pull_json(s, &pull);
            s.pulls.push(pull);
            reply(201, json)
        }
        ("PATCH", ["pulls", n]) => {
            let Some(i) = pull_index(s, n) else {
                return not_found();
            };
            if body["state"] == "closed" {
                s.pulls[i].open = false;
            }
            let p = s.pulls[i].clone();
            reply(200, pull_json(s, &p))
        }
        ("GET", ["pulls", n, "files"]) => {
            let Some(i) = pull_index(s, n) else {
                return not_found();
            };
            let p = s.pulls[i].clone();
            let (Some(&head), Some(&base)) = (s.branches.get(&p.head), s.branches.get(&p.base))
            else {
                return paginate(s, path, query, vec![]);
            };
            let since = merge_base(&s.commits, base, head);
            let before = &s.commits[since].files;
            let after = &s.commits[head].files;
            let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
            let list: Vec<Value> = names
                .into_iter()
                .filter_map(|name| {
                    let status = match (before.get(name), after.get(name)) {
                        (None, Some(_)) => "added",
                        (Some(_), None) => "removed",
                        (Some(a), Some(b)) if a != b => "modified",
                        _ => return None,
                    };
                    Some(json!({"filename": name, "status": status, "sha": after.get(name).map(|c| blob_sha(c))}))
                })
                .collect();
            paginate(s, path, query, list)
        }
        ("PUT", ["pulls", n, "merge"]) => {
            let Some(i) = pull_index(s, n) else {
                return not_found();
            };
            let p = s.pulls[i].clone();
            if !p.open {
                return reply(
                    405,
                    json!({"message": "Pull Request is not mergeable", "status": "405"}),
                );
            }
            let (Some(&head), Some(&base)) = (s.branches.get(&p.head), s.branches.get(&p.base))
            else {
                return reply(
                    405,
                    json!({"message": "Pull Request is not mergeable", "status": "405"}),
                );
            };
            let since = merge_base(&s.commits, base, head);
            let mut files = s.commits[base].files.clone();
            let names: BTreeSet<String> = s.commits[since]
                .files
                .keys()
                .chain(s.commits[head].files.keys())
                .cloned()
                .collect();
            for name in names {
                let (old, theirs, ours) = (
                    s.commits[since].files.get(&name),
                    s.commits[head].files.get(&name),
                    s.commits[base].files.get(&name),
                );
                if theirs != old {
                    if ours != old && ours != theirs {
                        return reply(
                            405,
                            json!({"message": "Pull Request is not mergeable", "status": "405"}),
                        );
                    }
                    match theirs {
                        Some(c) => files.insert(name, c.clone()),
                        None => files.remove(&name),
                    };
                }
            }
            s.commits.push(Commit {
                parents: vec![base, head],
                files,
                message: body["commit_title"].as_str().unwrap_or("Merge").into(),
                committer: json!({}),
            });
            let c = s.commits.len() - 1;
            s.branches.insert(p.base.clone(), c);
            s.pulls[i].open = false;
            s.pulls[i].merged = true;
            reply(
                200,
                json!({"sha": sha(c), "merged": true, "message": "Pull Request successfully merged"}),
            )
        }
        ("POST", ["issues", n, "labels"]) => {
            let Some(i) = pull_index(s, n) else {
                return not_found();
            };
            for label in body["labels"].as_array().into_iter().flatten() {
                if let Some(l) = label.as_str() {
                    s.pulls[i].labels.insert(l.to_string());
                }
            }
            let labels: Vec<Value> = s.pulls[i]
                .labels
                .iter()
                .map(|l| json!({"name": l, "color": "ededed"}))
                .collect();
            reply(200, Value::Array(labels))
        }
        _ => not_found(),
    }
}

fn access_token(s: &mut State, method: &Method, id: &str) -> (u16, Value, Vec<(String, String)>) {
    let Some(app) = s.app.as_mut() else {
        return not_found();
    };
    if method != Method::POST || id != app.installation_id.to_string() {
        return not_found();
    }
    let token = format!("ghs_{}", app.issued.len() + 1);
    app.issued.push(token.clone());
    let expires = chrono::Utc::now() + app.token_lifetime;
    reply(
        201,
        json!({"token": token, "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "permissions": {"contents": "write", "pull_requests": "write"}, "repository_selection": "selected"}),
    )
}

fn pull_index(s: &State, n: &str) -> Option<usize> {
    let n: u64 = n.parse().ok()?;
    s.pulls.iter().position(|p| p.number == n)
}

fn pull_json(s: &State, p: &Pull) -> Value {
    json!({
        "number": p.number,
        "state": if p.open { "open" } else { "closed" },
        "title": p.title,
        "body": p.body,
        "merged": p.merged,
        "html_url": format!("https://github.com/{OWNER}/{REPO}/pull/{}", p.number),
        "head": {"ref": p.head, "label": format!("{OWNER}:{}", p.head), "repo": {"full_name": format!("{OWNER}/{REPO}")}},
        "base": {"ref": p.base, "repo": {"full_name": format!("{OWNER}/{REPO}")}},
        "labels": p.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "url": format!("{}/repos/{OWNER}/{REPO}/pulls/{}", s.base_url, p.number),
    })
}

fn merge_base(commits: &[Commit], a: usize, b: usize) -> usize {
    let of_a = ancestors(commits, a);
    // The newest common ancestor: commits are numbered in the order they were made.
    ancestors(commits, b)
        .intersection(&of_a)
        .max()
        .copied()
        .unwrap_or(0)
}

/// One page of a list, with GitHub's `Link` header to the next and last pages.
fn paginate(
    s: &State,
    path: &str,
    query: &BTreeMap<String, String>,
    list: Vec<Value>,
) -> (u16, Value, Vec<(String, String)>) {
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100)
        .min(s.max_per_page);
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = list.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = list
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut headers = Vec::new();
    let link_to = |n: usize| {
        let mut q = query.clone();
        q.insert("page".into(), n.to_string());
        let qs: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q.iter())
            .finish();
        format!("{}{path}?{qs}", s.base_url)
    };
    if page < last {
        headers.push((
            "link".to_string(),
            format!(
                "<{}>; rel=\"next\", <{}>; rel=\"last\"",
                link_to(page + 1),
                link_to(last)
            ),
        ));
    }
    (200, Value::Array(items), headers)
}
