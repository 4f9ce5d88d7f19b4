//! The `gitea` backend's API (also Forgejo and Codeberg): branches, files and pull
//! requests through Gitea's REST API (`/api/v1`), with an access token.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::Method;
use serde_json::{json, Value};

use super::contents::{from_repo, last_closed, pull_request, request_files, Contents};
use super::forge::{enc_path, transient, url, Api, Changed, Closed, Http, Reply, Request};
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

impl Contents for Gitea {
    const CREATE: Method = Method::POST;

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, DeliveryError> {
        let url = url(&format!("{}/repos/{}", self.api, self.repo), path);
        self.http.call(method, &url, &self.headers, body)
    }

    fn committer(&self) -> &Value {
        &self.committer
    }
}

impl Api for Gitea {
    fn http(&self) -> &Http {
        &self.http
    }

    fn branch(&self, branch: &str) -> Result<Option<String>, DeliveryError> {
        let reply = self.call(Method::GET, &format!("branches/{}", enc_path(branch)), None)?;
        reply.tip("/commit/id", branch)
    }

    fn create_branch(&self, branch: &str, from: &str) -> Result<(), DeliveryError> {
        let body = json!({"new_branch_name": branch, "old_ref_name": from});
        let reply = self.call(Method::POST, "branches", Some(&body))?;
        reply.settled(
            &[201],
            &[409],
            || Ok(self.branch(branch)?.is_some()),
            || format!("cannot create branch {branch}"),
        )
    }

    fn delete_branch(&self, branch: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::DELETE,
            &format!("branches/{}", enc_path(branch)),
            None,
        )?;
        reply.expect(&[204, 404], || format!("cannot delete branch {branch}"))
    }

    fn find_request(&self, head: &str, base: &str) -> Result<Option<Request>, DeliveryError> {
        Ok(self
            .open_pulls()?
            .iter()
            .filter(|pr| pr["base"]["ref"].as_str() == Some(base))
            .map(pull_request)
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
                reply.expect(&[200], || format!("cannot label {}", existing.url))?;
            }
            return Ok(existing);
        }
        let new = json!({"head": head, "base": base, "title": title, "body": body, "labels": ids});
        let reply = self.call(Method::POST, "pulls", Some(&new))?;
        match reply.status {
            201 => Ok(pull_request(&reply.body)),
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
            .map(pull_request)
            .filter(|r| r.head.starts_with(super::BRANCH_PREFIX))
            .collect())
    }

    fn last_closed(&self, head: &str, base: &str) -> Result<Option<Closed>, DeliveryError> {
        // Gitea filters pulls by neither head nor (before 1.23) base, and lists the
        // newest first: the first match is the one.
        last_closed(
            self,
            "pulls?state=closed&limit=50",
            |pr| {
                pr["head"]["ref"] == head && pr["base"]["ref"] == base && from_repo(pr, &self.repo)
            },
            "git/commits",
        )
    }

    fn request_files(&self, request: &Request) -> Result<Vec<Changed>, DeliveryError> {
        request_files(self, request, "limit=50")
    }

    fn merge(&self, request: &Request, title: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::POST,
            &format!("pulls/{}/merge", request.number),
            Some(&json!({"Do": "merge", "MergeTitleField": title})),
        )?;
        reply.merged(request)
    }

    fn close(&self, request: &Request) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::PATCH,
            &format!("pulls/{}", request.number),
            Some(&json!({"state": "closed"})),
        )?;
        reply.expect(&[200, 201], || format!("cannot close {}", request.url))
    }
}
