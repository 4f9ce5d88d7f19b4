//! The `gitlab` backend's API: branches, files and merge requests through GitLab's
//! REST API (`/api/v4`, gitlab.com or self-managed), with a project, group or personal
//! access token.

use std::time::Duration;

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::Method;
use serde_json::{json, Value};

use super::forge::{
    all_pages, decoded_file, enc, find_in_pages, transient, url, Api, Changed, Closed, File, Files,
    Http, Reply, Request,
};
use super::DeliveryError;
use crate::config::Config;

pub struct GitLab {
    http: Http,
    /// `{api}/projects/{owner%2Fname}`.
    project: String,
    headers: HeaderMap,
    author: (String, String),
}

impl GitLab {
    pub fn new(config: &Config) -> Result<GitLab> {
        let delivery = &config.inbox.delivery;
        let repo = super::forge::repo(config, true)?;
        let api = delivery
            .api_url
            .clone()
            .unwrap_or_else(|| "https://gitlab.com/api/v4".into());
        let token = super::forge::token(config, "GitLab")?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            "private-token",
            HeaderValue::from_str(&token)
                .context("the GitLab token has characters a header cannot carry")?,
        );
        Ok(GitLab {
            http: Http::new(Duration::from_secs(delivery.timeout_secs.max(1))),
            project: format!("{}/projects/{}", api.trim_end_matches('/'), enc(&repo)),
            headers,
            author: (
                delivery.committer_name.clone(),
                delivery.committer_email.clone(),
            ),
        })
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, DeliveryError> {
        let url = url(&self.project, path);
        self.http.call(method, &url, &self.headers, body)
    }

    fn all(&self, path: &str) -> Result<Vec<Value>, DeliveryError> {
        all_pages(path, |page| self.call(Method::GET, page, None))
    }

    fn request_of(mr: &Value) -> Request {
        Request {
            number: mr["iid"].as_u64().unwrap_or_default(),
            head: mr["source_branch"].as_str().unwrap_or_default().to_string(),
            url: mr["web_url"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// `POST repository/files/{path}` creates a file, `PUT` replaces it.
    fn write_file(
        &self,
        method: Method,
        branch: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<Reply, DeliveryError> {
        let mut body = self.commit_fields(branch, message);
        body.insert("encoding".into(), json!("base64"));
        body.insert("content".into(), json!(STANDARD.encode(content)));
        self.call(
            method,
            &format!("repository/files/{}", enc(path)),
            Some(&Value::Object(body)),
        )
    }

    fn commit_fields(&self, branch: &str, message: &str) -> serde_json::Map<String, Value> {
        let mut fields = serde_json::Map::new();
        fields.insert("branch".into(), json!(branch));
        fields.insert("commit_message".into(), json!(message));
        fields.insert("author_name".into(), json!(self.author.0));
        fields.insert("author_email".into(), json!(self.author.1));
        fields
    }
}

impl Files for GitLab {
    fn file(&self, branch: &str, path: &str) -> Result<Option<File>, DeliveryError> {
        let reply = self.call(
            Method::GET,
            &format!("repository/files/{}?ref={}", enc(path), enc(branch)),
            None,
        )?;
        reply.lookup(
            |reply| decoded_file(reply, "blob_id", path, branch),
            || format!("cannot read {path} on {branch}"),
        )
    }

    fn create_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<(), DeliveryError> {
        let reply = self.write_file(Method::POST, branch, path, content, message)?;
        reply.settled(
            &[201],
            &[400],
            || Ok(self.file(branch, path)?.is_some()),
            || format!("cannot commit {path} to {branch}"),
        )
    }

    fn update_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        _sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError> {
        let reply = self.write_file(Method::PUT, branch, path, content, message)?;
        reply.expect(&[200], || format!("cannot update {path} on {branch}"))
    }

    fn delete_file(
        &self,
        branch: &str,
        path: &str,
        _sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError> {
        let body = Value::Object(self.commit_fields(branch, message));
        let reply = self.call(
            Method::DELETE,
            &format!("repository/files/{}", enc(path)),
            Some(&body),
        )?;
        reply.settled(
            &[204],
            &[400, 404],
            || Ok(self.file(branch, path)?.is_none()),
            || format!("cannot remove {path} from {branch}"),
        )
    }
}

impl Api for GitLab {
    fn http(&self) -> &Http {
        &self.http
    }

    fn branch(&self, branch: &str) -> Result<Option<String>, DeliveryError> {
        let reply = self.call(
            Method::GET,
            &format!("repository/branches/{}", enc(branch)),
            None,
        )?;
        reply.tip("/commit/id", branch)
    }

    fn create_branch(&self, branch: &str, from: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::POST,
            &format!(
                "repository/branches?branch={}&ref={}",
                enc(branch),
                enc(from)
            ),
            None,
        )?;
        reply.settled(
            &[201],
            &[400],
            || Ok(self.branch(branch)?.is_some()),
            || format!("cannot create branch {branch}"),
        )
    }

    fn delete_branch(&self, branch: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::DELETE,
            &format!("repository/branches/{}", enc(branch)),
            None,
        )?;
        reply.expect(&[204, 404], || format!("cannot delete branch {branch}"))
    }

    fn find_request(&self, head: &str, base: &str) -> Result<Option<Request>, DeliveryError> {
        let list = self.all(&format!(
            "merge_requests?state=opened&source_branch={}&target_branch={}&per_page=100",
            enc(head),
            enc(base)
        ))?;
        Ok(list.iter().map(Self::request_of).find(|r| r.head == head))
    }

    fn open_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<Request, DeliveryError> {
        let labels = labels.join(",");
        if let Some(existing) = self.find_request(head, base)? {
            // Opened by an attempt whose answer was lost: make sure the labels are on.
            if !labels.is_empty() {
                let reply = self.call(
                    Method::PUT,
                    &format!("merge_requests/{}", existing.number),
                    Some(&json!({ "add_labels": labels })),
                )?;
                reply.expect(&[200], || format!("cannot label {}", existing.url))?;
            }
            return Ok(existing);
        }
        let new = json!({
            "source_branch": head,
            "target_branch": base,
            "title": title,
            "description": body,
            "labels": labels,
        });
        let reply = self.call(Method::POST, "merge_requests", Some(&new))?;
        match reply.status {
            201 => Ok(Self::request_of(&reply.body)),
            409 => self.find_request(head, base)?.ok_or_else(|| {
                transient(&format!("cannot open a merge request for {head}"), &reply)
            }),
            _ => Err(transient(
                &format!("cannot open a merge request for {head}"),
                &reply,
            )),
        }
    }

    fn requests(&self, base: &str) -> Result<Vec<Request>, DeliveryError> {
        let list = self.all(&format!(
            "merge_requests?state=opened&target_branch={}&per_page=100",
            enc(base)
        ))?;
        Ok(list
            .iter()
            .filter(|mr| mr["source_project_id"] == mr["target_project_id"])
            .map(Self::request_of)
            .filter(|r| r.head.starts_with(super::BRANCH_PREFIX))
            .collect())
    }

    fn last_closed(&self, head: &str, base: &str) -> Result<Option<Closed>, DeliveryError> {
        // Newest first; GitLab tells merged requests (state "merged") from closed ones.
        let first = format!(
            "merge_requests?state=all&source_branch={}&target_branch={}&per_page=100",
            enc(head),
            enc(base)
        );
        find_in_pages(
            &first,
            |page| self.call(Method::GET, page, None),
            |mr| {
                let state = mr["state"].as_str()?;
                if !matches!(state, "closed" | "merged")
                    || mr["source_branch"] != head
                    || mr["source_project_id"] != mr["target_project_id"]
                {
                    return None;
                }
                // A squash makes a new commit; GitLab's other merge methods (a merge
                // commit, a fast-forward, either after rebasing the branch itself)
                // leave the branch's commits in the target's history.
                let squashed = mr["squash"] == true || mr["squash_commit_sha"].is_string();
                Some(Closed {
                    request: Self::request_of(&mr),
                    kept_history: state == "merged" && !squashed,
                })
            },
        )
    }

    fn request_files(&self, request: &Request) -> Result<Vec<Changed>, DeliveryError> {
        let diffs = self.all(&format!(
            "merge_requests/{}/diffs?per_page=100",
            request.number
        ))?;
        Ok(diffs
            .iter()
            .filter_map(|d| {
                Some(Changed {
                    path: d["new_path"].as_str()?.to_string(),
                    added: d["new_file"] == true,
                })
            })
            .collect())
    }

    fn merge(&self, request: &Request, title: &str) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::PUT,
            &format!("merge_requests/{}/merge", request.number),
            Some(&json!({ "merge_commit_message": title })),
        )?;
        reply.merged(request)
    }

    fn close(&self, request: &Request) -> Result<(), DeliveryError> {
        let reply = self.call(
            Method::PUT,
            &format!("merge_requests/{}", request.number),
            Some(&json!({ "state_event": "close" })),
        )?;
        reply.expect(&[200], || format!("cannot close {}", request.url))
    }
}
