//! The `gitea` backend's API (also Forgejo and Codeberg): branches, files and pull
//! requests through Gitea's REST API (`/api/v1`), with an access token.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::Method;
use serde_json::{json, Value};

use super::forge::{
    all_pages, changed_files, closed_pull, decoded_file, enc, enc_path, find_in_pages, from_repo,
    transient, Api, Changed, Closed, File, Http, Reply, Request,
};
use super::DeliveryError;
use crate::config::Config;

pub struct Gitea {
    http: Http,
    api: String,
    repo: String,
    headers: HeaderMap,
    committer: Value,
    labels: Vec<String>,
    /// Label ids by name, looked up once.
    label_ids: OnceLock<Vec<u64>>,
}

impl Gitea {
    pub fn new(config: &Config) -> Result<Gitea> {
        let delivery = &config.inbox.delivery;
        let repo = super::forge::repo(config, false)?;
        let api = delivery
            .api_url
            .clone()
            .context("inbox.delivery.api_url is not set: the Gitea or Forgejo API root, e.g. https://codeberg.org/api/v1")?;
        let token = super::forge::token(config, "Gitea")?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("token {token}"))
                .context("the Gitea token has characters a header cannot carry")?,
        );
        Ok(Gitea {
            http: Http::new(Duration::from_secs(delivery.timeout_secs.max(1))),
            api: api.trim_end_matches('/').to_string(),
            repo,
            headers,
            committer: json!({"name": delivery.committer_name, "email": delivery.committer_email}),
            labels: delivery.labels.clone(),
            label_ids: OnceLock::new(),
        })
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, DeliveryError> {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/repos/{}/{path}", self.api, self.repo)
        };
        self.http.call(method, &url, &self.headers, body)
    }

    fn all(&self, path: &str) -> Result<Vec<Value>, DeliveryError> {
        all_pages(path, |page| self.call(Method::GET, page, None))
    }

    /// `POST contents/{path}` creates a file; `PUT` with the `sha` of the version it
    /// replaces updates one.
    fn write_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        sha: Option<&str>,
        message: &str,
    ) -> Result<Reply, DeliveryError> {
        let mut body = json!({
            "content": STANDARD.encode(content),
            "message": message,
            "branch": branch,
            "author": self.committer,
            "committer": self.committer,
        });
        let method = match sha {
            Some(sha) => {
                body["sha"] = json!(sha);
                Method::PUT
            }
            None => Method::POST,
        };
        self.call(method, &format!("contents/{}", enc_path(path)), Some(&body))
    }

    fn request_of(pr: &Value) -> Request {
        Request {
            number: pr["number"].as_u64().unwrap_or_default(),
            head: pr["head"]["ref"].as_str().unwrap_or_default().to_string(),
            url: pr["html_url"].as_str().unwrap_or_default().to_string(),
        }
    }

    fn open_pulls(&self) -> Result<Vec<Value>, DeliveryError> {
        self.all("pulls?state=open&limit=50")
    }

    /// Gitea puts labels on by id: the ids of the configured names that exist.
    fn label_ids(&self) -> Result<Vec<u64>, DeliveryError> {
        if let Some(ids) = self.label_ids.get() {
            return Ok(ids.clone());
        }
        let all = self.all("labels?limit=50")?;
        let mut ids = Vec::new();
        for name in &self.labels {
            match all.iter().find(|l| l["name"].as_str() == Some(name)) {
                Some(l) => ids.extend(l["id"].as_u64()),
                None => tracing::warn!("label {name:?} does not exist in {}", self.repo),
            }
        }
        Ok(self.label_ids.get_or_init(|| ids).clone())
    }
}

impl Api for Gitea {
    fn branch(&self, branch: &str) -> Result<Option<String>, DeliveryError> {
        let reply = self.call(Method::GET, &format!("branches/{}", enc_path(branch)), None)?;
        match reply.status {
            200 => Ok(reply.body["commit"]["id"].as_str().map(str::to_string)),
            404 => Ok(None),
            _ => Err(transient(
                &format!("cannot look up branch {branch}"),
                &reply,
            )),
        }
    }

    fn create_branch(&self, branch: &str, from: &str) -> Result<(), DeliveryError> {
        let body = json!({"new_branch_name": branch, "old_ref_name": from});
        let reply = self.call(Method::POST, "branches", Some(&body))?;
        match reply.status {
            201 => Ok(()),
            409 if self.branch(branch)?.is_some() => Ok(()),
            _ => Err(transient(&format!("cannot create branch {branch}"), &reply)),
        }
    }

    fn delete_branch(&self, branch: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::DELETE,
            &format!("branches/{}", enc_path(branch)),
            None,
        )?;
        match reply.status {
            204 | 404 => Ok(()),
            _ => Err(transient(&format!("cannot delete branch {branch}"), &reply)),
        }
    }

    fn file(&self, branch: &str, path: &str) -> Result<Option<File>, DeliveryError> {
        let reply = self.call(
            Method::GET,
            &format!("contents/{}?ref={}", enc_path(path), enc(branch)),
            None,
        )?;
        match reply.status {
            200 => decoded_file(&reply, "sha", path, branch).map(Some),
            404 => Ok(None),
            _ => Err(transient(
                &format!("cannot read {path} on {branch}"),
                &reply,
            )),
        }
    }

    fn create_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<(), DeliveryError> {
        let reply = self.write_file(branch, path, content, None, message)?;
        match reply.status {
            201 => Ok(()),
            422 if self.file(branch, path)?.is_some() => Ok(()),
            _ => Err(transient(
                &format!("cannot commit {path} to {branch}"),
                &reply,
            )),
        }
    }

    fn update_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError> {
        let reply = self.write_file(branch, path, content, Some(sha), message)?;
        match reply.status {
            200 | 201 => Ok(()),
            _ => Err(transient(
                &format!("cannot update {path} on {branch}"),
                &reply,
            )),
        }
    }

    fn delete_file(
        &self,
        branch: &str,
        path: &str,
        sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError> {
        let body = json!({
            "sha": sha,
            "message": message,
            "branch": branch,
            "author": self.committer,
            "committer": self.committer,
        });
        let reply = self.call(
            Method::DELETE,
            &format!("contents/{}", enc_path(path)),
            Some(&body),
        )?;
        match reply.status {
            200 | 404 => Ok(()),
            _ => Err(transient(
                &format!("cannot remove {path} from {branch}"),
                &reply,
            )),
        }
    }

    fn find_request(&self, head: &str, base: &str) -> Result<Option<Request>, DeliveryError> {
        Ok(self
            .open_pulls()?
            .iter()
            .filter(|pr| pr["base"]["ref"].as_str() == Some(base))
            .map(Self::request_of)
            .find(|r| r.head == head))
    }

    fn open_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<Request, DeliveryError> {
        let ids = if labels.is_empty() {
            Vec::new()
        } else {
            self.label_ids()?
        };
        if let Some(existing) = self.find_request(head, base)? {
            // Opened by an attempt whose answer was lost: make sure the labels are on.
            if !ids.is_empty() {
                let reply = self.call(
                    Method::POST,
                    &format!("issues/{}/labels", existing.number),
                    Some(&json!({ "labels": ids })),
                )?;
                if reply.status != 200 {
                    return Err(transient(&format!("cannot label {}", existing.url), &reply));
                }
            }
            return Ok(existing);
        }
        let new = json!({"head": head, "base": base, "title": title, "body": body, "labels": ids});
        let reply = self.call(Method::POST, "pulls", Some(&new))?;
        match reply.status {
            201 => Ok(Self::request_of(&reply.body)),
            409 | 422 => self.find_request(head, base)?.ok_or_else(|| {
                transient(&format!("cannot open a pull request for {head}"), &reply)
            }),
            _ => Err(transient(
                &format!("cannot open a pull request for {head}"),
                &reply,
            )),
        }
    }

    fn requests(&self, base: &str) -> Result<Vec<Request>, DeliveryError> {
        Ok(self
            .open_pulls()?
            .iter()
            .filter(|pr| pr["base"]["ref"].as_str() == Some(base))
            .filter(|pr| from_repo(pr, &self.repo))
            .map(Self::request_of)
            .filter(|r| r.head.starts_with(super::BRANCH_PREFIX))
            .collect())
    }

    fn last_closed(&self, head: &str, base: &str) -> Result<Option<Closed>, DeliveryError> {
        // Gitea filters pulls by neither head nor (before 1.23) base, and lists the
        // newest first: the first match is the one.
        let found = find_in_pages(
            "pulls?state=closed&limit=50",
            |page| self.call(Method::GET, page, None),
            |pr| {
                (pr["head"]["ref"] == head
                    && pr["base"]["ref"] == base
                    && from_repo(&pr, &self.repo))
                .then_some(pr)
            },
        )?;
        found
            .map(|pr| {
                closed_pull(&pr, Self::request_of(&pr), |sha| {
                    self.call(Method::GET, &format!("git/commits/{sha}"), None)
                })
            })
            .transpose()
    }

    fn request_files(&self, request: &Request) -> Result<Vec<Changed>, DeliveryError> {
        let files = self.all(&format!("pulls/{}/files?limit=50", request.number))?;
        Ok(changed_files(&files))
    }

    fn merge(&self, request: &Request, title: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::POST,
            &format!("pulls/{}/merge", request.number),
            Some(&json!({"Do": "merge", "MergeTitleField": title})),
        )?;
        match reply.status {
            200 => Ok(()),
            _ => Err(DeliveryError::Permanent(format!(
                "cannot merge {}: {}",
                request.url,
                reply.message()
            ))),
        }
    }

    fn close(&self, request: &Request) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::PATCH,
            &format!("pulls/{}", request.number),
            Some(&json!({"state": "closed"})),
        )?;
        match reply.status {
            200 | 201 => Ok(()),
            _ => Err(transient(&format!("cannot close {}", request.url), &reply)),
        }
    }
}
