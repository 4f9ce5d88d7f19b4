//! A local stand-in for the REST APIs of GitHub, Gitea/Forgejo and GitLab, speaking
//! the subset cairn uses as each forge's API reference documents it: branches,
//! repository files, pull (merge) requests with their files, labels and pagination,
//! GitHub App installation tokens, GitHub's issues and (through its GraphQL API, in
//! [`super::fake_graphql`]) discussions; with each forge's status codes, JSON shapes, error
//! bodies, authentication headers and rate-limit headers. It keeps one small in-memory
//! repository (commits as whole file maps) behind all three, checks every request's
//! headers, and can be told to fail, lose answers, stall or rate-limit, to test what
//! cairn does then.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

/// Which forge's API the fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GitHub,
    Gitea,
    GitLab,
}

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
    /// Once closed or merged: the merge base and head it had then. A closed request's
    /// files and head no longer follow its branch, on every forge.
    pub frozen: Option<(usize, usize)>,
    /// The commit its merge made: a merge commit, or the squashed commit.
    pub merge_commit: Option<usize>,
    pub squashed: bool,
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
    /// Merge request N with a merge commit first, as a moderator on the forge's page
    /// might at that very moment, then do the work.
    MergeFirst(u64),
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
    pub flavor: Flavor,
    /// The repository's labels (Gitea refers to them by id).
    pub labels: Vec<String>,
    /// GitHub: the repository's issues (pull requests are listed with them), as its
    /// API shows them, and the comments on them.
    pub issues: Vec<Value>,
    pub issue_comments: Vec<Value>,
    /// GitHub: the repository's discussions, as its GraphQL API has them (with their
    /// comments, and the comments' replies, in place), served at `POST /graphql`.
    pub discussions: Vec<Value>,
    /// GitHub: a public repository, which anyone may read without a token.
    pub public: bool,
}

#[derive(Clone)]
pub struct FakeForge {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeForge {
    /// Starts the fake on a port-0 listener, with `main` holding `files`.
    pub fn start(flavor: Flavor, files: &[(&str, &str)]) -> FakeForge {
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
            flavor,
            labels: vec!["comment".into(), "needs review".into(), "spam".into()],
            issues: Vec::new(),
            issue_comments: Vec::new(),
            discussions: Vec::new(),
            public: false,
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
        FakeForge { url, state }
    }

    /// Opens an issue as `user` (GitHub), with `comments` on it: (user, body, created
    /// at); gives its number. Issues and pull requests share their numbers.
    pub fn add_issue(
        &self,
        user: &str,
        title: &str,
        body: &str,
        labels: &[&str],
        comments: &[(&str, &str, &str)],
    ) -> u64 {
        self.with(|s| {
            let number = (s.issues.len() + s.pulls.len() + 1) as u64;
            let api = format!("{}/repos/{OWNER}/{REPO}", s.base_url);
            s.issues.push(json!({
                "id": 1000 + number,
                "number": number,
                "url": format!("{api}/issues/{number}"),
                "html_url": format!("https://github.com/{OWNER}/{REPO}/issues/{number}"),
                "title": title,
                "body": body,
                "state": "open",
                "user": user_json(user),
                "labels": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
                "comments": comments.len(),
                "created_at": comments.first().map_or("2024-01-01T00:00:00Z", |c| c.2),
                "author_association": "NONE",
            }));
            for (login, text, at) in comments {
                let id = 5000 + s.issue_comments.len() as u64;
                s.issue_comments.push(json!({
                    "id": id,
                    "url": format!("{api}/issues/comments/{id}"),
                    "html_url": format!("https://github.com/{OWNER}/{REPO}/issues/{number}#issuecomment-{id}"),
                    "issue_url": format!("{api}/issues/{number}"),
                    "body": text,
                    "user": if login.is_empty() { Value::Null } else { user_json(login) },
                    "created_at": at,
                    "updated_at": at,
                    "author_association": "NONE",
                }));
            }
            number
        })
    }

    /// Opens a discussion (GitHub) in `category`, with `comments` on it (made by
    /// [`discussion_comment`], replies in place); gives its number, which issues, pull
    /// requests and discussions share.
    pub fn add_discussion(
        &self,
        category: &str,
        title: &str,
        body: &str,
        comments: Vec<Value>,
    ) -> u64 {
        self.with(|s| {
            let number = (s.issues.len() + s.pulls.len() + s.discussions.len() + 1) as u64;
            let url = format!("https://github.com/{OWNER}/{REPO}/discussions/{number}");
            let mut next = 7000 + 1000 * number;
            let mut comments = comments;
            for comment in &mut comments {
                number_comment(comment, &url, &mut next);
            }
            s.discussions.push(json!({
                "__typename": "Discussion",
                "id": format!("D_kwDO{number}"),
                "number": number,
                "title": title,
                "body": body,
                "url": url,
                "createdAt": "2024-01-01T00:00:00Z",
                "category": {"__typename": "DiscussionCategory", "id": format!("DIC_{category}"), "name": category},
                "author": {"__typename": "User", "login": "giscus[bot]", "url": "https://github.com/apps/giscus"},
                "comments": comments,
            }));
            number
        })
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

    /// The files request `number` shows as changed.
    pub fn pull_files(&self, number: u64) -> Vec<String> {
        self.with(|s| {
            let i = s.pull(&number.to_string()).unwrap();
            s.pull_files(i).into_iter().map(|(name, _)| name).collect()
        })
    }

    /// Closes request `number` on the forge's page, without merging it.
    pub fn close(&self, number: u64) {
        self.with(|s| {
            let i = s.pull(&number.to_string()).unwrap();
            s.close_pull(i)
        })
    }

    /// Squash-merges request `number`, on the forge's page.
    pub fn squash(&self, number: u64) {
        self.with(|s| {
            let i = s.pull(&number.to_string()).unwrap();
            s.squash_pull(i)
        })
    }

    /// Merges request `number` with a merge commit, on the forge's page.
    pub fn merge(&self, number: u64) {
        self.with(|s| {
            let i = s.pull(&number.to_string()).unwrap();
            s.merge_pull(i, "Merge").unwrap();
        });
    }

    /// Commits the removal of `path` from `branch`, as a push would.
    pub fn remove(&self, branch: &str, path: &str) {
        self.with(|s| {
            s.commit_file(branch, path, None, "Remove", json!({}))
                .unwrap()
        });
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

fn reply(status: u16, body: Value) -> Answer {
    (status, body, Vec::new())
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
        let problem = header_problem(&s, &method, &headers, &path);
        let outage = s.outage_until.is_some_and(|t| Instant::now() < t);
        // A GraphQL query costs points by the connections it asks for; a REST request
        // costs one.
        let cost = if path == "/graphql" {
            super::fake_graphql::cost(&json_body)
        } else {
            1
        };
        (fault, problem, primary_limit(&mut s, cost), outage)
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
    // Without a token, GitHub does not tell a private repository from none at all;
    // its GraphQL API answers no one without a token.
    let anonymous = headers.get("authorization").is_none();
    if anonymous && path == "/graphql" {
        record(401, &state);
        return json_response(
            401,
            json!({"message": "This endpoint requires you to be authenticated.", "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"}),
            vec![],
        );
    }
    if header_problem.is_some() && anonymous && state.lock().unwrap().flavor == Flavor::GitHub {
        record(404, &state);
        return json_response(
            404,
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
            vec![],
        );
    }
    if let Some(problem) = &header_problem {
        record(401, &state);
        let message = match state.lock().unwrap().flavor {
            Flavor::GitHub => "Bad credentials",
            Flavor::Gitea => "token is required",
            Flavor::GitLab => "401 Unauthorized",
        };
        return json_response(
            401,
            json!({"message": message, "cairn_test_problem": problem}),
            vec![],
        );
    }
    let (remaining, reset) = limited.1;
    let flavor = state.lock().unwrap().flavor;
    let limit_headers = match flavor {
        Flavor::GitHub => vec![
            ("x-ratelimit-limit".to_string(), "5000".to_string()),
            ("x-ratelimit-remaining".to_string(), remaining.to_string()),
            ("x-ratelimit-reset".to_string(), reset.to_string()),
            ("x-ratelimit-used".to_string(), "1".to_string()),
            ("x-ratelimit-resource".to_string(), "core".to_string()),
        ],
        Flavor::GitLab => vec![
            ("ratelimit-limit".to_string(), "2000".to_string()),
            ("ratelimit-remaining".to_string(), remaining.to_string()),
            ("ratelimit-reset".to_string(), reset.to_string()),
        ],
        Flavor::Gitea => vec![],
    };
    if limited.0 {
        return match flavor {
            // GraphQL tells of its limit in an answer's errors.
            Flavor::GitHub if path == "/graphql" => {
                record(200, &state);
                json_response(
                    200,
                    json!({"errors": [{"type": "RATE_LIMIT", "code": "graphql_rate_limit", "message": "API rate limit already exceeded for user ID 1."}]}),
                    limit_headers,
                )
            }
            Flavor::GitHub => {
                record(403, &state);
                json_response(
                    403,
                    json!({"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", "status": "403"}),
                    limit_headers,
                )
            }
            // GitLab and Gitea answer 429 with Retry-After.
            _ => {
                record(429, &state);
                let after = (reset - chrono::Utc::now().timestamp()).max(1).to_string();
                let mut headers = limit_headers;
                headers.push(("retry-after".to_string(), after));
                json_response(429, json!({"message": "Retry later"}), headers)
            }
        };
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
        Some(Fault::MergeFirst(number)) => {
            let mut s = state.lock().unwrap();
            let i = s.pull(&number.to_string()).unwrap();
            s.merge_pull(i, "Merge").unwrap();
        }
        _ => {}
    }
    // Each segment decoded on its own: GitLab names a project `owner%2Fname` and a
    // file `dir%2Fname` in one segment.
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|seg| {
            percent_encoding::percent_decode_str(seg)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let (status, body, mut extra) = {
        let mut s = state.lock().unwrap();
        let route = match s.flavor {
            Flavor::GitHub => route_github,
            Flavor::Gitea => route_gitea,
            Flavor::GitLab => route_gitlab,
        };
        route(&mut s, &method, &segments, &path, &query, &json_body)
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

/// A comment on a discussion by `user` (none: a deleted account), written at `at`,
/// with its replies; [`FakeForge::add_discussion`] gives it its ids.
pub fn discussion_comment(user: Option<&str>, body: &str, at: &str, replies: Vec<Value>) -> Value {
    json!({
        "__typename": "DiscussionComment",
        "body": body,
        "createdAt": at,
        "deletedAt": null,
        "isMinimized": false,
        "minimizedReason": null,
        "upvoteCount": 0,
        "author": user.map(|l| json!({"__typename": "User", "login": l, "url": format!("https://github.com/{l}")})),
        "replies": replies,
    })
}

fn number_comment(comment: &mut Value, discussion_url: &str, next: &mut u64) {
    *next += 1;
    comment["id"] = json!(format!("DC_kwDO{next}"));
    comment["databaseId"] = json!(*next);
    comment["url"] = json!(format!("{discussion_url}#discussioncomment-{next}"));
    if let Some(replies) = comment["replies"].as_array_mut() {
        for reply in replies {
            number_comment(reply, discussion_url, next);
            reply["replies"] = json!([]);
        }
    }
}

/// A user as GitHub's API shows one in issues and comments.
fn user_json(login: &str) -> Value {
    json!({"login": login, "id": login.len(), "type": "User",
           "html_url": format!("https://github.com/{login}")})
}

/// GitHub refuses requests without a User-Agent, and cairn promises the documented
/// media type, API version and a bearer token (a public repository is read without
/// one).
fn header_problem(s: &State, method: &Method, headers: &HeaderMap, path: &str) -> Option<String> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    if get("user-agent").is_empty() {
        return Some("no User-Agent".into());
    }
    match s.flavor {
        Flavor::GitHub => {}
        // Gitea: `Authorization: token …`; GitLab: `PRIVATE-TOKEN: …`.
        Flavor::Gitea => {
            let token = get("authorization").strip_prefix("token ");
            return (token != Some(TOKEN))
                .then(|| format!("Authorization: {}", get("authorization")));
        }
        Flavor::GitLab => {
            return (get("private-token") != TOKEN)
                .then(|| format!("PRIVATE-TOKEN: {}", get("private-token")));
        }
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
        if s.public && method == Method::GET && get("authorization").is_empty() {
            return None;
        }
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

/// Counts a request costing `cost` against the primary limit: (refused?, (remaining,
/// reset epoch)). A request costing more than what remains is refused, and what
/// remains need not be nothing.
fn primary_limit(s: &mut State, cost: u32) -> (bool, (u32, i64)) {
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
    if s.used + cost > budget {
        return (true, (budget - s.used.min(budget), reset));
    }
    s.used += cost;
    (false, (budget - s.used, reset))
}

type Answer = (u16, Value, Vec<(String, String)>);

/// What went wrong in the repository model, for each forge to say in its own words.
#[derive(Debug)]
pub enum Refused {
    NotFound(&'static str),
    Exists,
    Conflict,
}

impl State {
    fn tip(&self, branch: &str) -> Result<usize, Refused> {
        self.branches
            .get(branch)
            .copied()
            .ok_or(Refused::NotFound("branch"))
    }

    fn new_branch(&mut self, name: &str, from: usize) -> Result<(), Refused> {
        if self.branches.contains_key(name) {
            return Err(Refused::Exists);
        }
        self.branches.insert(name.to_string(), from);
        Ok(())
    }

    fn file_on(&self, branch: &str, path: &str) -> Result<&Vec<u8>, Refused> {
        let tip = self.tip(branch)?;
        self.commits[tip]
            .files
            .get(path)
            .ok_or(Refused::NotFound("file"))
    }

    /// Commits a change of one file (`None`: its removal) on `branch`.
    fn commit_file(
        &mut self,
        branch: &str,
        path: &str,
        content: Option<Vec<u8>>,
        message: &str,
        committer: Value,
    ) -> Result<usize, Refused> {
        let tip = self.tip(branch)?;
        let mut files = self.commits[tip].files.clone();
        match content {
            Some(bytes) => files.insert(path.to_string(), bytes),
            None => files.remove(path),
        };
        self.commits.push(Commit {
            parents: vec![tip],
            files,
            message: message.into(),
            committer,
        });
        let c = self.commits.len() - 1;
        self.branches.insert(branch.to_string(), c);
        Ok(c)
    }

    fn open_pull(
        &mut self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
        labels: BTreeSet<String>,
    ) -> Result<Pull, Refused> {
        self.tip(head)?;
        self.tip(base)?;
        if self
            .pulls
            .iter()
            .any(|p| p.open && p.head == head && p.base == base)
        {
            return Err(Refused::Exists);
        }
        let pull = Pull {
            number: self.pulls.len() as u64 + 1,
            head: head.into(),
            base: base.into(),
            title: title.into(),
            body: body.into(),
            open: true,
            merged: false,
            labels,
            frozen: None,
            merge_commit: None,
            squashed: false,
        };
        self.pulls.push(pull.clone());
        Ok(pull)
    }

    fn pull(&self, n: &str) -> Result<usize, Refused> {
        let n: u64 = n.parse().map_err(|_| Refused::NotFound("pull"))?;
        self.pulls
            .iter()
            .position(|p| p.number == n)
            .ok_or(Refused::NotFound("pull"))
    }

    /// The merge base and head of an open request.
    fn live(&self, i: usize) -> Option<(usize, usize)> {
        let p = &self.pulls[i];
        let (head, base) = (self.tip(&p.head).ok()?, self.tip(&p.base).ok()?);
        Some((merge_base(&self.commits, base, head), head))
    }

    /// Closes a request without merging it.
    fn close_pull(&mut self, i: usize) {
        if self.pulls[i].open {
            self.pulls[i].frozen = self.live(i);
            self.pulls[i].open = false;
        }
    }

    /// Squash-merges a request as the forges' "squash and merge" button does: one
    /// new commit on the base with the request's changes, and the head branch left as
    /// it was.
    fn squash_pull(&mut self, i: usize) {
        let (since, head) = self.live(i).unwrap();
        let base = self.tip(&self.pulls[i].base).unwrap();
        let mut files = self.commits[base].files.clone();
        for (name, _) in self.pull_files(i) {
            match self.commits[head].files.get(&name) {
                Some(content) => files.insert(name, content.clone()),
                None => files.remove(&name),
            };
        }
        self.commits.push(Commit {
            parents: vec![base],
            files,
            message: self.pulls[i].title.clone(),
            committer: json!({}),
        });
        let c = self.commits.len() - 1;
        self.branches.insert(self.pulls[i].base.clone(), c);
        let p = &mut self.pulls[i];
        (p.open, p.merged, p.squashed) = (false, true, true);
        (p.frozen, p.merge_commit) = (Some((since, head)), Some(c));
    }

    /// Files a pull request changes: (name, added|modified|removed).
    fn pull_files(&self, i: usize) -> Vec<(String, &'static str)> {
        let Some((since, head)) = self.pulls[i].frozen.or_else(|| self.live(i)) else {
            return Vec::new();
        };
        let before = &self.commits[since].files;
        let after = &self.commits[head].files;
        let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        names
            .into_iter()
            .filter_map(|name| {
                let status = match (before.get(name), after.get(name)) {
                    (None, Some(_)) => "added",
                    (Some(_), None) => "removed",
                    (Some(a), Some(b)) if a != b => "modified",
                    _ => return None,
                };
                Some((name.clone(), status))
            })
            .collect()
    }

    /// A three-way merge of the pull request's head into its base, as a merge commit.
    fn merge_pull(&mut self, i: usize, title: &str) -> Result<usize, Refused> {
        let p = self.pulls[i].clone();
        if !p.open {
            return Err(Refused::Conflict);
        }
        let (head, base) = (self.tip(&p.head)?, self.tip(&p.base)?);
        let since = merge_base(&self.commits, base, head);
        let mut files = self.commits[base].files.clone();
        let names: BTreeSet<String> = self.commits[since]
            .files
            .keys()
            .chain(self.commits[head].files.keys())
            .cloned()
            .collect();
        for name in names {
            let (old, theirs, ours) = (
                self.commits[since].files.get(&name),
                self.commits[head].files.get(&name),
                self.commits[base].files.get(&name),
            );
            if theirs != old {
                if ours != old && ours != theirs {
                    return Err(Refused::Conflict);
                }
                match theirs {
                    Some(c) => files.insert(name, c.clone()),
                    None => files.remove(&name),
                };
            }
        }
        self.commits.push(Commit {
            parents: vec![base, head],
            files,
            message: title.into(),
            committer: json!({}),
        });
        let c = self.commits.len() - 1;
        self.branches.insert(p.base.clone(), c);
        self.pulls[i].frozen = Some((since, head));
        self.pulls[i].open = false;
        self.pulls[i].merged = true;
        self.pulls[i].merge_commit = Some(c);
        Ok(c)
    }

    /// Requests in a state, newest first (each forge's default order).
    fn open_pulls(&self, state: &str, head: Option<&str>, base: Option<&str>) -> Vec<Pull> {
        self.pulls
            .iter()
            .rev()
            .filter(|p| match state {
                "open" | "opened" => p.open,
                // GitLab tells merged requests from closed ones; GitHub and Gitea count
                // them as closed.
                "closed" if self.flavor == Flavor::GitLab => !p.open && !p.merged,
                "closed" => !p.open,
                "merged" => p.merged,
                _ => true,
            })
            .filter(|p| head.is_none_or(|h| h == p.head))
            .filter(|p| base.is_none_or(|b| b == p.base))
            .cloned()
            .collect()
    }
}

fn b64(content: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(content)
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.replace('\n', ""))
        .ok()
}

fn github_error(status: u16, message: &str) -> Answer {
    reply(
        status,
        json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()}),
    )
}

fn route_github(
    s: &mut State,
    method: &Method,
    segments: &[String],
    path: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Answer {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if segments == ["graphql"] {
        if method != Method::POST {
            return github_error(404, "Not Found");
        }
        let repository = json!({
            "__typename": "Repository",
            "id": "R_kgDOsite",
            "nameWithOwner": format!("{OWNER}/{REPO}"),
            "discussions": s.discussions.iter().rev().cloned().collect::<Vec<_>>(),
        });
        return reply(
            200,
            super::fake_graphql::answer(&repository, OWNER, REPO, body),
        );
    }
    if let ["app", "installations", id, "access_tokens"] = segments[..] {
        return access_token(s, method, id);
    }
    let ["repos", owner, repo, rest @ ..] = &segments[..] else {
        return github_error(404, "Not Found");
    };
    if *owner != OWNER || *repo != REPO {
        return github_error(404, "Not Found");
    }
    match (method.as_str(), rest) {
        ("GET", ["git", "ref", "heads", branch @ ..]) => {
            let branch = branch.join("/");
            match s.tip(&branch) {
                Ok(c) => reply(
                    200,
                    json!({"ref": format!("refs/heads/{branch}"), "node_id": "x", "url": "", "object": {"type": "commit", "sha": sha(c), "url": ""}}),
                ),
                Err(_) => github_error(404, "Not Found"),
            }
        }
        ("POST", ["git", "refs"]) => {
            let Some(name) = body["ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("refs/heads/"))
            else {
                return github_error(422, "Reference name is not valid");
            };
            let Some(c) = body["sha"].as_str().and_then(|h| commit_of(s, h)) else {
                return github_error(422, "Object does not exist");
            };
            match s.new_branch(name, c) {
                Ok(()) => reply(
                    201,
                    json!({"ref": format!("refs/heads/{name}"), "object": {"type": "commit", "sha": sha(c)}}),
                ),
                Err(_) => github_error(422, "Reference already exists"),
            }
        }
        ("DELETE", ["git", "refs", "heads", branch @ ..]) => {
            match s.branches.remove(&branch.join("/")) {
                Some(_) => reply(204, Value::Null),
                None => github_error(422, "Reference does not exist"),
            }
        }
        ("GET", ["contents", file @ ..]) => {
            let file = file.join("/");
            let branch = query.get("ref").cloned().unwrap_or_else(|| "main".into());
            match s.file_on(&branch, &file) {
                Ok(content) => {
                    // GitHub wraps the base64 at 60 characters.
                    let encoded = b64(content);
                    let wrapped: Vec<&str> = encoded
                        .as_bytes()
                        .chunks(60)
                        .map(|c| std::str::from_utf8(c).unwrap())
                        .collect();
                    reply(
                        200,
                        json!({"type": "file", "encoding": "base64", "size": content.len(), "name": file.rsplit('/').next(), "path": file, "content": wrapped.join("\n") + "\n", "sha": blob_sha(content)}),
                    )
                }
                Err(_) => github_error(404, "Not Found"),
            }
        }
        ("PUT", ["contents", file @ ..]) => {
            let file = file.join("/");
            let (Some(message), Some(content)) =
                (body["message"].as_str(), body["content"].as_str())
            else {
                return github_error(
                    422,
                    "Invalid request.\n\n\"message\", \"content\" weren't supplied.",
                );
            };
            let branch = body["branch"].as_str().unwrap_or("main").to_string();
            if s.tip(&branch).is_err() {
                return github_error(404, &format!("Branch {branch} not found"));
            }
            let Some(bytes) = unb64(content) else {
                return github_error(422, "content is not valid Base64");
            };
            let existing = s.file_on(&branch, &file).ok().map(|c| blob_sha(c));
            match (&existing, body["sha"].as_str()) {
                (Some(_), None) => {
                    return github_error(422, "Invalid request.\n\n\"sha\" wasn't supplied.")
                }
                (Some(old), Some(given)) if old != given => {
                    return github_error(409, &format!("{file} does not match {given}"))
                }
                _ => {}
            }
            let sha_new = blob_sha(&bytes);
            let c = s
                .commit_file(
                    &branch,
                    &file,
                    Some(bytes),
                    message,
                    body["committer"].clone(),
                )
                .unwrap();
            reply(
                if existing.is_some() { 200 } else { 201 },
                json!({"content": {"path": file, "sha": sha_new}, "commit": {"sha": sha(c), "message": message}}),
            )
        }
        ("DELETE", ["contents", file @ ..]) => {
            let file = file.join("/");
            let branch = body["branch"].as_str().unwrap_or("main").to_string();
            let Ok(existing) = s.file_on(&branch, &file).map(|c| blob_sha(c)) else {
                return github_error(404, "Not Found");
            };
            if body["sha"].as_str() != Some(existing.as_str()) {
                return github_error(409, "sha does not match");
            }
            let message = body["message"].as_str().unwrap_or_default().to_string();
            let c = s
                .commit_file(&branch, &file, None, &message, body["committer"].clone())
                .unwrap();
            reply(200, json!({"content": null, "commit": {"sha": sha(c)}}))
        }
        ("GET", ["commits", commit]) => commit_json(s, commit).map_or_else(
            || github_error(422, "No commit found for SHA"),
            |c| reply(200, c),
        ),
        ("GET", ["issues"]) => {
            let state = query.get("state").map_or("open", String::as_str);
            let wanted: Vec<&str> = query
                .get("labels")
                .map(|l| l.split(',').collect())
                .unwrap_or_default();
            let pulls: Vec<Value> = s
                .pulls
                .iter()
                .map(|p| {
                    json!({"number": p.number, "title": p.title, "body": p.body,
                           "state": if p.open { "open" } else { "closed" },
                           "labels": p.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
                           "comments": 0, "user": user_json("cairn"),
                           "pull_request": {"url": format!("{}/repos/{OWNER}/{REPO}/pulls/{}", s.base_url, p.number)}})
                })
                .collect();
            let mut list: Vec<Value> = s
                .issues
                .iter()
                .cloned()
                .chain(pulls)
                .filter(|i| state == "all" || i["state"] == state)
                .filter(|i| {
                    wanted.iter().all(|w| {
                        i["labels"]
                            .as_array()
                            .is_some_and(|ls| ls.iter().any(|l| l["name"] == *w))
                    })
                })
                .collect();
            // Newest first, GitHub's default order.
            list.sort_by_key(|i| std::cmp::Reverse(i["number"].as_u64()));
            paginate(s, path, query, "per_page", list)
        }
        ("GET", ["issues", "comments"]) => {
            let list = s.issue_comments.clone();
            paginate(s, path, query, "per_page", list)
        }
        ("GET", ["pulls"]) => {
            let head = query
                .get("head")
                .map(|h| h.trim_start_matches(&format!("{OWNER}:")).to_string());
            let list: Vec<Value> = s
                .open_pulls(
                    query.get("state").map(String::as_str).unwrap_or("open"),
                    head.as_deref(),
                    query.get("base").map(String::as_str),
                )
                .iter()
                .map(|p| pull_json(s, p))
                .collect();
            paginate(s, path, query, "per_page", list)
        }
        ("POST", ["pulls"]) => {
            let (Some(head), Some(base), Some(title)) = (
                body["head"].as_str(),
                body["base"].as_str(),
                body["title"].as_str(),
            ) else {
                return github_error(422, "Validation Failed");
            };
            let head = head.trim_start_matches(&format!("{OWNER}:")).to_string();
            let text = body["body"].as_str().unwrap_or_default();
            match s.open_pull(&head, base, title, text, BTreeSet::new()) {
                Ok(pull) => reply(201, pull_json(s, &pull)),
                Err(Refused::Exists) => reply(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {OWNER}:{head}.")}], "status": "422"}),
                ),
                Err(_) => reply(
                    422,
                    json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}], "status": "422"}),
                ),
            }
        }
        ("PATCH", ["pulls", n]) => {
            let Ok(i) = s.pull(n) else {
                return github_error(404, "Not Found");
            };
            if body["state"] == "closed" {
                s.close_pull(i);
            }
            let p = s.pulls[i].clone();
            reply(200, pull_json(s, &p))
        }
        ("GET", ["pulls", n, "files"]) => {
            let Ok(i) = s.pull(n) else {
                return github_error(404, "Not Found");
            };
            let list = s
                .pull_files(i)
                .into_iter()
                .map(|(name, status)| json!({"filename": name, "status": status}))
                .collect();
            paginate(s, path, query, "per_page", list)
        }
        ("PUT", ["pulls", n, "merge"]) => {
            let Ok(i) = s.pull(n) else {
                return github_error(404, "Not Found");
            };
            match s.merge_pull(i, body["commit_title"].as_str().unwrap_or("Merge")) {
                Ok(c) => reply(
                    200,
                    json!({"sha": sha(c), "merged": true, "message": "Pull Request successfully merged"}),
                ),
                Err(_) => github_error(405, "Pull Request is not mergeable"),
            }
        }
        ("POST", ["issues", n, "labels"]) => {
            let Ok(i) = s.pull(n) else {
                return github_error(404, "Not Found");
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
        _ => github_error(404, "Not Found"),
    }
}

fn gitea_error(status: u16, message: &str) -> Answer {
    reply(
        status,
        json!({"message": message, "url": "https://gitea.example/api/swagger"}),
    )
}

fn route_gitea(
    s: &mut State,
    method: &Method,
    segments: &[String],
    path: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Answer {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ["api", "v1", "repos", owner, repo, rest @ ..] = &segments[..] else {
        return gitea_error(404, "not found");
    };
    if *owner != OWNER || *repo != REPO {
        return gitea_error(404, "repository does not exist");
    }
    match (method.as_str(), rest) {
        ("GET", ["branches", branch @ ..]) => {
            let branch = branch.join("/");
            match s.tip(&branch) {
                Ok(c) => reply(
                    200,
                    json!({"name": branch, "commit": {"id": sha(c), "message": s.commits[c].message}, "protected": false}),
                ),
                Err(_) => gitea_error(404, "branch does not exist"),
            }
        }
        ("POST", ["branches"]) => {
            let Some(name) = body["new_branch_name"].as_str() else {
                return gitea_error(422, "[NewBranchName]: Required");
            };
            let from = body["old_ref_name"]
                .as_str()
                .or_else(|| body["old_branch_name"].as_str())
                .unwrap_or("main");
            let Some(c) = commit_of(s, from).or_else(|| s.tip(from).ok()) else {
                return gitea_error(404, "old branch does not exist");
            };
            match s.new_branch(name, c) {
                Ok(()) => reply(201, json!({"name": name, "commit": {"id": sha(c)}})),
                Err(_) => gitea_error(409, "The branch already exists."),
            }
        }
        ("DELETE", ["branches", branch @ ..]) => match s.branches.remove(&branch.join("/")) {
            Some(_) => reply(204, Value::Null),
            None => gitea_error(404, "branch does not exist"),
        },
        ("GET", ["contents", file @ ..]) => {
            let file = file.join("/");
            let branch = query.get("ref").cloned().unwrap_or_else(|| "main".into());
            match s.file_on(&branch, &file) {
                Ok(content) => reply(
                    200,
                    json!({"type": "file", "encoding": "base64", "size": content.len(), "name": file.rsplit('/').next(), "path": file, "content": b64(content), "sha": blob_sha(content)}),
                ),
                Err(_) => gitea_error(404, "object does not exist"),
            }
        }
        // POST creates a file, PUT updates one (whose `sha` it must be given).
        (verb @ ("POST" | "PUT"), ["contents", file @ ..]) => {
            let file = file.join("/");
            let branch = body["branch"].as_str().unwrap_or("main").to_string();
            let Some(bytes) = body["content"].as_str().and_then(unb64) else {
                return gitea_error(422, "[Content]: Required");
            };
            let update = verb == "PUT";
            match (s.file_on(&branch, &file), update) {
                (Err(Refused::NotFound("branch")), _) => {
                    return gitea_error(404, "branch does not exist")
                }
                (Ok(_), false) => {
                    return gitea_error(
                        422,
                        &format!("repository file already exists [path: {file}]"),
                    )
                }
                (Err(_), true) => {
                    return gitea_error(404, &format!("file does not exist [path: {file}]"))
                }
                (Ok(old), true) if body["sha"].as_str() != Some(blob_sha(old).as_str()) => {
                    return gitea_error(
                        422,
                        &format!(
                            "sha does not match [given: {}, expected: {}]",
                            body["sha"],
                            blob_sha(old)
                        ),
                    )
                }
                _ => {}
            }
            let message = body["message"].as_str().unwrap_or("Add file").to_string();
            let sha_new = blob_sha(&bytes);
            let c = s
                .commit_file(
                    &branch,
                    &file,
                    Some(bytes),
                    &message,
                    body["committer"].clone(),
                )
                .unwrap();
            reply(
                if update { 200 } else { 201 },
                json!({"content": {"path": file, "sha": sha_new}, "commit": {"sha": sha(c)}}),
            )
        }
        ("DELETE", ["contents", file @ ..]) => {
            let file = file.join("/");
            let branch = body["branch"].as_str().unwrap_or("main").to_string();
            let Ok(existing) = s.file_on(&branch, &file).map(|c| blob_sha(c)) else {
                return gitea_error(404, "object does not exist");
            };
            if body["sha"].as_str() != Some(existing.as_str()) {
                return gitea_error(400, "sha does not match");
            }
            let message = body["message"].as_str().unwrap_or_default().to_string();
            let c = s
                .commit_file(&branch, &file, None, &message, body["committer"].clone())
                .unwrap();
            reply(200, json!({"content": null, "commit": {"sha": sha(c)}}))
        }
        ("GET", ["labels"]) => {
            let list = s
                .labels
                .iter()
                .enumerate()
                .map(|(i, name)| json!({"id": i + 1, "name": name, "color": "ededed"}))
                .collect();
            paginate(s, path, query, "limit", list)
        }
        ("GET", ["git", "commits", commit]) => commit_json(s, commit).map_or_else(
            || gitea_error(404, "object does not exist"),
            |c| reply(200, c),
        ),
        ("GET", ["pulls"]) => {
            let list: Vec<Value> = s
                .open_pulls(
                    query.get("state").map(String::as_str).unwrap_or("open"),
                    None,
                    None,
                )
                .iter()
                .map(|p| gitea_pull(s, p))
                .collect();
            paginate(s, path, query, "limit", list)
        }
        ("POST", ["pulls"]) => {
            let (Some(head), Some(base), Some(title)) = (
                body["head"].as_str(),
                body["base"].as_str(),
                body["title"].as_str(),
            ) else {
                return gitea_error(422, "[Head Base Title]: Required");
            };
            let mut labels = BTreeSet::new();
            for id in body["labels"].as_array().into_iter().flatten() {
                match id.as_u64().and_then(|i| s.labels.get(i as usize - 1)) {
                    Some(name) => labels.insert(name.clone()),
                    None => return gitea_error(422, &format!("label {id} does not exist")),
                };
            }
            let text = body["body"].as_str().unwrap_or_default();
            match s.open_pull(head, base, title, text, labels) {
                Ok(pull) => reply(201, gitea_pull(s, &pull)),
                Err(Refused::Exists) => {
                    let p = s.open_pulls("open", Some(head), Some(base))[0].clone();
                    gitea_error(
                        409,
                        &format!("pull request already exists for these targets [id: {0}, issue_id: {0}, head_repo_id: 1, base_repo_id: 1, head_branch: {head}, base_branch: {base}]", p.number),
                    )
                }
                Err(_) => gitea_error(404, "branch does not exist"),
            }
        }
        ("PATCH", ["pulls", n]) => {
            let Ok(i) = s.pull(n) else {
                return gitea_error(404, "pull request does not exist");
            };
            if body["state"] == "closed" {
                s.close_pull(i);
            }
            let p = s.pulls[i].clone();
            reply(201, gitea_pull(s, &p))
        }
        ("GET", ["pulls", n, "files"]) => {
            let Ok(i) = s.pull(n) else {
                return gitea_error(404, "pull request does not exist");
            };
            let list = s
                .pull_files(i)
                .into_iter()
                .map(|(name, status)| {
                    let status = match status {
                        "removed" => "deleted",
                        "modified" => "changed",
                        other => other,
                    };
                    json!({"filename": name, "status": status})
                })
                .collect();
            paginate(s, path, query, "limit", list)
        }
        ("POST", ["pulls", n, "merge"]) => {
            let Ok(i) = s.pull(n) else {
                return gitea_error(404, "pull request does not exist");
            };
            if body["Do"] != "merge" {
                return gitea_error(422, "[Do]: Required");
            }
            let title = body["MergeTitleField"]
                .as_str()
                .unwrap_or("Merge")
                .to_string();
            match s.merge_pull(i, &title) {
                Ok(_) => reply(200, Value::Null),
                Err(_) => gitea_error(405, "Please try again later"),
            }
        }
        ("POST", ["issues", n, "labels"]) => {
            let Ok(i) = s.pull(n) else {
                return gitea_error(404, "issue does not exist");
            };
            for id in body["labels"].as_array().into_iter().flatten() {
                let Some(name) = id
                    .as_u64()
                    .and_then(|i| s.labels.get(i as usize - 1))
                    .cloned()
                else {
                    return gitea_error(422, &format!("label {id} does not exist"));
                };
                s.pulls[i].labels.insert(name);
            }
            let labels = s.pulls[i]
                .labels
                .iter()
                .map(|l| json!({"name": l}))
                .collect();
            reply(200, Value::Array(labels))
        }
        _ => gitea_error(404, "not found"),
    }
}

fn gitea_pull(s: &State, p: &Pull) -> Value {
    json!({
        "number": p.number,
        "state": if p.open { "open" } else { "closed" },
        "title": p.title,
        "body": p.body,
        "merged": p.merged,
        "merged_at": if p.merged { json!("2024-11-20T10:00:00Z") } else { Value::Null },
        "merge_commit_sha": p.merge_commit.map(sha),
        "html_url": format!("{}/{OWNER}/{REPO}/pulls/{}", s.base_url, p.number),
        "head": {"ref": p.head, "sha": head_sha(s, p), "label": p.head, "repo": {"full_name": format!("{OWNER}/{REPO}")}},
        "base": {"ref": p.base, "repo": {"full_name": format!("{OWNER}/{REPO}")}},
        "labels": p.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
    })
}

fn gitlab_error(status: u16, message: &str) -> Answer {
    reply(status, json!({"message": message}))
}

fn route_gitlab(
    s: &mut State,
    method: &Method,
    segments: &[String],
    path: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Answer {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ["api", "v4", "projects", project, rest @ ..] = &segments[..] else {
        return gitlab_error(404, "404 Not Found");
    };
    if *project != format!("{OWNER}/{REPO}") {
        return gitlab_error(404, "404 Project Not Found");
    }
    match (method.as_str(), rest) {
        ("GET", ["repository", "branches", branch]) => match s.tip(branch) {
            Ok(c) => reply(
                200,
                json!({"name": branch, "commit": {"id": sha(c), "message": s.commits[c].message}, "merged": false, "protected": false}),
            ),
            Err(_) => gitlab_error(404, "404 Branch Not Found"),
        },
        ("POST", ["repository", "branches"]) => {
            let (Some(name), Some(from)) = (query.get("branch"), query.get("ref")) else {
                return reply(400, json!({"error": "branch is missing, ref is missing"}));
            };
            let Some(c) = commit_of(s, from).or_else(|| s.tip(from).ok()) else {
                return gitlab_error(400, "Invalid reference name");
            };
            match s.new_branch(name, c) {
                Ok(()) => reply(201, json!({"name": name, "commit": {"id": sha(c)}})),
                Err(_) => gitlab_error(400, "Branch already exists"),
            }
        }
        ("DELETE", ["repository", "branches", branch]) => match s.branches.remove(*branch) {
            Some(_) => reply(204, Value::Null),
            None => gitlab_error(404, "404 Branch Not Found"),
        },
        ("GET", ["repository", "files", file]) => {
            let Some(branch) = query.get("ref") else {
                return reply(400, json!({"error": "ref is missing"}));
            };
            match s.file_on(branch, file) {
                Ok(content) => reply(
                    200,
                    json!({"file_name": file.rsplit('/').next(), "file_path": file, "size": content.len(), "encoding": "base64", "content": b64(content), "ref": branch, "blob_id": blob_sha(content), "last_commit_id": sha(s.tip(branch).unwrap())}),
                ),
                Err(_) => gitlab_error(404, "404 File Not Found"),
            }
        }
        // POST creates a file, PUT updates one.
        (verb @ ("POST" | "PUT"), ["repository", "files", file]) => {
            let (Some(branch), Some(message)) =
                (body["branch"].as_str(), body["commit_message"].as_str())
            else {
                return reply(
                    400,
                    json!({"error": "branch is missing, commit_message is missing"}),
                );
            };
            let bytes = match body["encoding"].as_str() {
                Some("base64") => body["content"].as_str().and_then(unb64),
                _ => body["content"].as_str().map(|t| t.as_bytes().to_vec()),
            };
            let Some(bytes) = bytes else {
                return reply(400, json!({"error": "content is missing"}));
            };
            let update = verb == "PUT";
            match (s.file_on(branch, file), update) {
                (Err(Refused::NotFound("branch")), _) => {
                    return gitlab_error(
                        400,
                        "You can only create or edit files when you are on a branch",
                    )
                }
                (Ok(_), false) => return gitlab_error(400, "A file with this name already exists"),
                (Err(_), true) => return gitlab_error(400, "A file with this name doesn't exist"),
                _ => {}
            }
            let committer = json!({"name": body["author_name"], "email": body["author_email"]});
            s.commit_file(branch, file, Some(bytes), message, committer)
                .unwrap();
            reply(
                if update { 200 } else { 201 },
                json!({"file_path": file, "branch": branch}),
            )
        }
        ("DELETE", ["repository", "files", file]) => {
            let (Some(branch), Some(message)) =
                (body["branch"].as_str(), body["commit_message"].as_str())
            else {
                return reply(
                    400,
                    json!({"error": "branch is missing, commit_message is missing"}),
                );
            };
            if s.file_on(branch, file).is_err() {
                return gitlab_error(400, "A file with this name doesn't exist");
            }
            let committer = json!({"name": body["author_name"], "email": body["author_email"]});
            s.commit_file(branch, file, None, message, committer)
                .unwrap();
            reply(204, Value::Null)
        }
        ("GET", ["merge_requests"]) => {
            let list: Vec<Value> = s
                .open_pulls(
                    query.get("state").map(String::as_str).unwrap_or("all"),
                    query.get("source_branch").map(String::as_str),
                    query.get("target_branch").map(String::as_str),
                )
                .iter()
                .map(|p| gitlab_mr(s, p))
                .collect();
            paginate(s, path, query, "per_page", list)
        }
        ("POST", ["merge_requests"]) => {
            let (Some(head), Some(base), Some(title)) = (
                body["source_branch"].as_str(),
                body["target_branch"].as_str(),
                body["title"].as_str(),
            ) else {
                return reply(400, json!({"error": "source_branch is missing"}));
            };
            let labels = body["labels"]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let text = body["description"].as_str().unwrap_or_default();
            match s.open_pull(head, base, title, text, labels) {
                Ok(pull) => reply(201, gitlab_mr(s, &pull)),
                Err(Refused::Exists) => {
                    let p = s.open_pulls("open", Some(head), Some(base))[0].clone();
                    reply(
                        409,
                        json!({"message": [format!("Another open merge request already exists for this source branch: !{}", p.number)]}),
                    )
                }
                Err(_) => reply(422, json!({"message": ["Source branch does not exist"]})),
            }
        }
        ("PUT", ["merge_requests", n]) => {
            let Ok(i) = s.pull(n) else {
                return gitlab_error(404, "404 Not found");
            };
            if body["state_event"] == "close" {
                s.close_pull(i);
            }
            for label in body["add_labels"].as_str().unwrap_or_default().split(',') {
                if !label.is_empty() {
                    s.pulls[i].labels.insert(label.to_string());
                }
            }
            let p = s.pulls[i].clone();
            reply(200, gitlab_mr(s, &p))
        }
        ("GET", ["merge_requests", n, "diffs"]) => {
            let Ok(i) = s.pull(n) else {
                return gitlab_error(404, "404 Not found");
            };
            let list = s
                .pull_files(i)
                .into_iter()
                .map(|(name, status)| {
                    json!({"old_path": name, "new_path": name, "new_file": status == "added", "deleted_file": status == "removed", "renamed_file": false, "diff": ""})
                })
                .collect();
            paginate(s, path, query, "per_page", list)
        }
        ("PUT", ["merge_requests", n, "merge"]) => {
            let Ok(i) = s.pull(n) else {
                return gitlab_error(404, "404 Not found");
            };
            let title = body["merge_commit_message"]
                .as_str()
                .unwrap_or("Merge")
                .to_string();
            match s.merge_pull(i, &title) {
                Ok(_) => {
                    let p = s.pulls[i].clone();
                    reply(200, gitlab_mr(s, &p))
                }
                Err(_) => gitlab_error(405, "405 Method Not Allowed"),
            }
        }
        _ => gitlab_error(404, "404 Not Found"),
    }
}

fn gitlab_mr(s: &State, p: &Pull) -> Value {
    json!({
        "id": 1000 + p.number,
        "iid": p.number,
        "project_id": 1,
        "title": p.title,
        "description": p.body,
        "state": if p.merged { "merged" } else if p.open { "opened" } else { "closed" },
        "source_branch": p.head,
        "target_branch": p.base,
        "sha": head_sha(s, p),
        "squash": p.squashed,
        "merge_commit_sha": if p.squashed { None } else { p.merge_commit.map(sha) },
        "squash_commit_sha": if p.squashed { p.merge_commit.map(sha) } else { None },
        "source_project_id": 1,
        "target_project_id": 1,
        "labels": p.labels.iter().collect::<Vec<_>>(),
        "web_url": format!("{}/{OWNER}/{REPO}/-/merge_requests/{}", s.base_url, p.number),
    })
}

fn access_token(s: &mut State, method: &Method, id: &str) -> Answer {
    let Some(app) = s.app.as_mut() else {
        return github_error(404, "Not Found");
    };
    if method != Method::POST || id != app.installation_id.to_string() {
        return github_error(404, "Not Found");
    }
    let token = format!("ghs_{}", app.issued.len() + 1);
    app.issued.push(token.clone());
    let expires = chrono::Utc::now() + app.token_lifetime;
    reply(
        201,
        json!({"token": token, "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "permissions": {"contents": "write", "pull_requests": "write"}, "repository_selection": "selected"}),
    )
}

/// The sha of a request's head: where its branch is while it is open, where it was when
/// it was closed.
fn head_sha(s: &State, p: &Pull) -> Value {
    match p.frozen {
        Some((_, head)) => json!(sha(head)),
        None => s.tip(&p.head).map_or(Value::Null, |c| json!(sha(c))),
    }
}

fn pull_json(s: &State, p: &Pull) -> Value {
    json!({
        "number": p.number,
        "state": if p.open { "open" } else { "closed" },
        "title": p.title,
        "body": p.body,
        "merged": p.merged,
        "merged_at": if p.merged { json!("2024-11-20T10:00:00Z") } else { Value::Null },
        "merge_commit_sha": p.merge_commit.map(sha),
        "html_url": format!("https://github.com/{OWNER}/{REPO}/pull/{}", p.number),
        "head": {"ref": p.head, "sha": head_sha(s, p), "label": format!("{OWNER}:{}", p.head), "repo": {"full_name": format!("{OWNER}/{REPO}")}},
        "base": {"ref": p.base, "repo": {"full_name": format!("{OWNER}/{REPO}")}},
        "labels": p.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "url": format!("{}/repos/{OWNER}/{REPO}/pulls/{}", s.base_url, p.number),
    })
}

/// A commit as GitHub's and Gitea's commit endpoints show it: its sha and its parents'.
fn commit_json(s: &State, sha_text: &str) -> Option<Value> {
    let c = commit_of(s, sha_text)?;
    let parents: Vec<Value> = s.commits[c]
        .parents
        .iter()
        .map(|&p| json!({"sha": sha(p)}))
        .collect();
    Some(json!({"sha": sha(c), "commit": {"message": s.commits[c].message}, "parents": parents}))
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

/// One page of a list, with the `Link` header to the next and last pages that all
/// three forges send, Gitea's `X-Total-Count` and GitLab's `X-Next-Page`/`X-Total`.
/// `size` is the page-size parameter: `per_page` (GitHub, GitLab) or `limit` (Gitea).
fn paginate(
    s: &State,
    path: &str,
    query: &BTreeMap<String, String>,
    size: &str,
    list: Vec<Value>,
) -> Answer {
    let total = list.len();
    let per_page = query
        .get(size)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(if s.flavor == Flavor::GitHub { 30 } else { 20 })
        .clamp(1, if s.flavor == Flavor::Gitea { 50 } else { 100 })
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
    match s.flavor {
        Flavor::GitHub => {}
        Flavor::Gitea => headers.push(("x-total-count".to_string(), total.to_string())),
        Flavor::GitLab => {
            headers.push(("x-total".to_string(), total.to_string()));
            headers.push(("x-page".to_string(), page.to_string()));
            let next = if page < last {
                (page + 1).to_string()
            } else {
                String::new()
            };
            headers.push(("x-next-page".to_string(), next));
        }
    }
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
