//! The `github` backend's API: branches, files and pull requests through GitHub's REST
//! API (also GitHub Enterprise, with `api_url`), as a fine-grained token or as a GitHub
//! App installation whose token is renewed before it expires.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::Method;
use serde_json::{json, Value};

use super::contents::{from_repo, last_closed, pull_request, request_files, Contents};
use super::forge::{
    enc, enc_path, secret_from, transient, url, Api, Changed, Closed, Http, Reply, Request,
};
use super::DeliveryError;
use crate::config::Config;

/// The REST API version cairn speaks.
/// GitHub's API, unless a setting or `--api-url` names another (GitHub Enterprise).
pub const API: &str = "https://api.github.com";
const API_VERSION: &str = "2022-11-28";
/// An installation token is renewed when it has less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The headers of a request to GitHub's REST API: its media type and version, and the
/// bearer token, when there is one (public repositories can be read without).
pub fn headers(bearer: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    h.insert(
        "x-github-api-version",
        HeaderValue::from_static(API_VERSION),
    );
    if let Some(v) = bearer.and_then(|b| HeaderValue::from_str(&format!("Bearer {b}")).ok()) {
        h.insert(AUTHORIZATION, v);
    }
    h
}

pub struct GitHub {
    http: Http,
    api: String,
    /// `owner/name`.
    repo: String,
    owner: String,
    auth: Auth,
    committer: Value,
}

enum Auth {
    Token(String),
    App {
        app_id: u64,
        installation_id: u64,
        key: openssl::pkey::PKey<openssl::pkey::Private>,
        token: Mutex<Option<(String, Instant)>>,
    },
}

impl GitHub {
    pub fn new(config: &Config) -> Result<GitHub> {
        let delivery = &config.inbox.delivery;
        let repo = super::forge::repo(config, false)?;
        let owner = repo.split('/').next().unwrap_or_default();
        let auth = match (delivery.app_id, delivery.installation_id) {
            (Some(app_id), Some(installation_id)) => {
                let pem = secret_from(
                    "CAIRN_GITHUB_APP_KEY",
                    delivery
                        .app_key_file
                        .as_ref()
                        .map(|f| config.root.join(f))
                        .as_deref(),
                    "the GitHub App's private key",
                )?;
                let key = openssl::pkey::PKey::private_key_from_pem(pem.as_bytes())
                    .context("the GitHub App's private key is not a PEM RSA key")?;
                Auth::App {
                    app_id,
                    installation_id,
                    key,
                    token: Mutex::new(None),
                }
            }
            (None, None) => Auth::Token(super::forge::token(config, "GitHub")?),
            _ => bail!("inbox.delivery: a GitHub App needs both app_id and installation_id"),
        };
        Ok(GitHub {
            http: Http::new(Duration::from_secs(delivery.timeout_secs.max(1))),
            api: delivery
                .api_url
                .clone()
                .unwrap_or_else(|| API.into())
                .trim_end_matches('/')
                .to_string(),
            owner: owner.to_string(),
            repo,
            auth,
            committer: json!({"name": delivery.committer_name, "email": delivery.committer_email}),
        })
    }

    fn headers(&self, bearer: &str) -> HeaderMap {
        headers(Some(bearer))
    }

    fn token(&self) -> Result<String, DeliveryError> {
        match &self.auth {
            Auth::Token(t) => Ok(t.clone()),
            Auth::App {
                app_id,
                installation_id,
                key,
                token,
            } => {
                let mut cached = token.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((t, expires)) = cached.as_ref() {
                    if expires.saturating_duration_since(Instant::now()) > RENEW_BEFORE {
                        return Ok(t.clone());
                    }
                }
                let jwt = app_jwt(*app_id, key)?;
                let url = format!(
                    "{}/app/installations/{installation_id}/access_tokens",
                    self.api
                );
                let reply = self
                    .http
                    .call(Method::POST, &url, &self.headers(&jwt), None)?;
                if reply.status != 201 {
                    return Err(transient(
                        "cannot get a GitHub App installation token",
                        &reply,
                    ));
                }
                let t = reply.body["token"].as_str().unwrap_or_default().to_string();
                let expires = reply.body["expires_at"]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|at| (at.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64)
                    .unwrap_or(3600);
                *cached = Some((t.clone(), Instant::now() + Duration::from_secs(expires)));
                Ok(t)
            }
        }
    }
}

impl Contents for GitHub {
    const CREATE: Method = Method::PUT;

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, DeliveryError> {
        let url = url(&format!("{}/repos/{}", self.api, self.repo), path);
        let reply = self
            .http
            .call(method.clone(), &url, &self.headers(&self.token()?), body)?;
        if reply.status == 401 {
            if let Auth::App { token, .. } = &self.auth {
                // Revoked or expired early: get a new one and try once more.
                *token.lock().unwrap_or_else(|p| p.into_inner()) = None;
                return self
                    .http
                    .call(method, &url, &self.headers(&self.token()?), body);
            }
        }
        Ok(reply)
    }

    fn committer(&self) -> &Value {
        &self.committer
    }
}

impl Api for GitHub {
    fn http(&self) -> &Http {
        &self.http
    }

    fn branch(&self, branch: &str) -> Result<Option<String>, DeliveryError> {
        let reply = self.call(
            Method::GET,
            &format!("git/ref/heads/{}", enc_path(branch)),
            None,
        )?;
        reply.tip("/object/sha", branch)
    }

    fn create_branch(&self, branch: &str, from: &str) -> Result<(), DeliveryError> {
        let body = json!({"ref": format!("refs/heads/{branch}"), "sha": from});
        let reply = self.call(Method::POST, "git/refs", Some(&body))?;
        reply.settled(
            &[201],
            &[422],
            || Ok(self.branch(branch)?.is_some()),
            || format!("cannot create branch {branch}"),
        )
    }

    fn delete_branch(&self, branch: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::DELETE,
            &format!("git/refs/heads/{}", enc_path(branch)),
            None,
        )?;
        reply.expect(&[204, 404, 422], || {
            format!("cannot delete branch {branch}")
        })
    }

    fn find_request(&self, head: &str, base: &str) -> Result<Option<Request>, DeliveryError> {
        let list = self.all(&format!(
            "pulls?state=open&head={}&base={}&per_page=100",
            enc(&format!("{}:{head}", self.owner)),
            enc(base)
        ))?;
        Ok(list.iter().map(pull_request).find(|r| r.head == head))
    }

    fn open_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<Request, DeliveryError> {
        let request = match self.find_request(head, base)? {
            Some(r) => r,
            None => {
                let new = json!({"title": title, "head": head, "base": base, "body": body});
                let reply = self.call(Method::POST, "pulls", Some(&new))?;
                match reply.status {
                    201 => pull_request(&reply.body),
                    422 => self.find_request(head, base)?.ok_or_else(|| {
                        transient(&format!("cannot open a pull request for {head}"), &reply)
                    })?,
                    _ => {
                        return Err(transient(
                            &format!("cannot open a pull request for {head}"),
                            &reply,
                        ))
                    }
                }
            }
        };
        if !labels.is_empty() {
            let reply = self.call(
                Method::POST,
                &format!("issues/{}/labels", request.number),
                Some(&json!({ "labels": labels })),
            )?;
            reply.expect(&[200], || {
                format!("cannot label pull request #{}", request.number)
            })?;
        }
        Ok(request)
    }

    fn requests(&self, base: &str) -> Result<Vec<Request>, DeliveryError> {
        let list = self.all(&format!("pulls?state=open&base={}&per_page=100", enc(base)))?;
        Ok(list
            .iter()
            .filter(|pr| from_repo(pr, &self.repo))
            .map(pull_request)
            .filter(|r| r.head.starts_with(super::BRANCH_PREFIX))
            .collect())
    }

    fn last_closed(&self, head: &str, base: &str) -> Result<Option<Closed>, DeliveryError> {
        let first = format!(
            "pulls?state=closed&head={}&base={}&per_page=100",
            enc(&format!("{}:{head}", self.owner)),
            enc(base)
        );
        last_closed(
            self,
            &first,
            |pr| pr["head"]["ref"] == head && from_repo(pr, &self.repo),
            "commits",
        )
    }

    fn request_files(&self, request: &Request) -> Result<Vec<Changed>, DeliveryError> {
        request_files(self, request, "per_page=100")
    }

    fn merge(&self, request: &Request, title: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::PUT,
            &format!("pulls/{}/merge", request.number),
            Some(&json!({"commit_title": title, "merge_method": "merge"})),
        )?;
        reply.merged(request)
    }

    fn close(&self, request: &Request) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::PATCH,
            &format!("pulls/{}", request.number),
            Some(&json!({"state": "closed"})),
        )?;
        reply.expect(&[200], || format!("cannot close {}", request.url))
    }
}

/// A JSON Web Token that identifies the app for ten minutes (RS256), as GitHub asks:
/// issued a minute in the past against clock drift.
fn app_jwt(
    app_id: u64,
    key: &openssl::pkey::PKey<openssl::pkey::Private>,
) -> Result<String, DeliveryError> {
    let now = chrono::Utc::now().timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD
        .encode(json!({"iat": now - 60, "exp": now + 540, "iss": app_id.to_string()}).to_string());
    let signed = format!("{header}.{claims}");
    let sign = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key)?;
        signer.update(signed.as_bytes())?;
        signer.sign_to_vec()
    };
    let signature = sign()
        .map_err(|e| DeliveryError::Permanent(format!("cannot sign the GitHub App token: {e}")))?;
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
