//! What GitHub's and Gitea's REST APIs have in common (Forgejo and Codeberg run Gitea):
//! the contents API, through which a file on a branch is read, created, replaced and
//! removed, one commit each, and pull requests: their shape, their files, and whether
//! a closed one kept its history.

use reqwest::Method;
use serde_json::{json, Value};

use super::forge::{
    all_pages, decoded_file, enc, enc_path, find_in_pages, Changed, Closed, File, Files, Reply,
    Request,
};
use super::DeliveryError;

/// A forge that speaks the contents API: `contents/{path}` on the repository, the
/// content in base64 and the version a change replaces named by its `sha`.
pub trait Contents {
    /// The method that creates a file: `PUT` on GitHub (which also replaces one),
    /// `POST` on Gitea.
    const CREATE: Method;

    /// One call to the repository's API; `path` is relative to `repos/{owner}/{name}/`,
    /// or an absolute URL (a next page).
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, DeliveryError>;

    /// Whom the commits are by: `{"name": …, "email": …}`.
    fn committer(&self) -> &Value;

    /// Every page of a list.
    fn all(&self, path: &str) -> Result<Vec<Value>, DeliveryError> {
        all_pages(path, |page| self.call(Method::GET, page, None))
    }
}

impl<T: Contents> Files for T {
    fn file(&self, branch: &str, path: &str) -> Result<Option<File>, DeliveryError> {
        let reply = self.call(
            Method::GET,
            &format!("contents/{}?ref={}", enc_path(path), enc(branch)),
            None,
        )?;
        reply.lookup(
            |reply| decoded_file(reply, "sha", path, branch),
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
        let reply = write(self, T::CREATE, branch, path, content, None, message)?;
        // Without a sha neither forge overwrites a file: an existing one was made by an
        // earlier attempt.
        reply.settled(
            &[200, 201],
            &[409, 422],
            || Ok(self.file(branch, path)?.is_some()),
            || format!("cannot commit {path} to {branch}"),
        )
    }

    fn update_file(
        &self,
        branch: &str,
        path: &str,
        content: &[u8],
        sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError> {
        let reply = write(self, Method::PUT, branch, path, content, Some(sha), message)?;
        reply.expect(&[200, 201], || format!("cannot update {path} on {branch}"))
    }

    fn delete_file(
        &self,
        branch: &str,
        path: &str,
        sha: &str,
        message: &str,
    ) -> Result<(), DeliveryError> {
        let mut body = change(self, branch, message);
        body["sha"] = json!(sha);
        let reply = self.call(
            Method::DELETE,
            &format!("contents/{}", enc_path(path)),
            Some(&body),
        )?;
        reply.expect(&[200, 404], || {
            format!("cannot remove {path} from {branch}")
        })
    }
}

/// Creates (`sha` is `None`) or replaces a file.
fn write(
    api: &impl Contents,
    method: Method,
    branch: &str,
    path: &str,
    content: &[u8],
    sha: Option<&str>,
    message: &str,
) -> Result<Reply, DeliveryError> {
    use base64::Engine;
    let mut body = change(api, branch, message);
    body["content"] = json!(base64::engine::general_purpose::STANDARD.encode(content));
    if let Some(sha) = sha {
        body["sha"] = json!(sha);
    }
    api.call(method, &format!("contents/{}", enc_path(path)), Some(&body))
}

/// What every change to a file says: its commit's message, branch, author and committer.
fn change(api: &impl Contents, branch: &str, message: &str) -> Value {
    json!({
        "message": message,
        "branch": branch,
        "author": api.committer(),
        "committer": api.committer(),
    })
}

/// A pull request as both forges show one.
pub fn pull_request(pr: &Value) -> Request {
    Request {
        number: pr["number"].as_u64().unwrap_or_default(),
        head: pr["head"]["ref"].as_str().unwrap_or_default().to_string(),
        url: pr["html_url"].as_str().unwrap_or_default().to_string(),
    }
}

/// The pull request that was closed or merged last among those `pick` takes from the
/// list at `first` (which the forge sorts newest first); `commits` is where its API
/// shows a commit by sha.
pub fn last_closed(
    api: &impl Contents,
    first: &str,
    pick: impl Fn(&Value) -> bool,
    commits: &str,
) -> Result<Option<Closed>, DeliveryError> {
    let found = find_in_pages(
        first,
        |page| api.call(Method::GET, page, None),
        |pr| pick(&pr).then_some(pr),
    )?;
    found
        .map(|pr| {
            closed_pull(&pr, |sha| {
                api.call(Method::GET, &format!("{commits}/{sha}"), None)
            })
        })
        .transpose()
}

/// The files a pull request changes; `page` asks for the longest page the forge gives.
pub fn request_files(
    api: &impl Contents,
    request: &Request,
    page: &str,
) -> Result<Vec<Changed>, DeliveryError> {
    Ok(changed_files(
        &api.all(&format!("pulls/{}/files?{page}", request.number))?,
    ))
}

/// Whether a pull request, as GitHub and Gitea show one, is from a branch of `repo`
/// (`owner/name`), not of a fork.
pub fn from_repo(pr: &Value, repo: &str) -> bool {
    pr["head"]["repo"]["full_name"].as_str() == Some(repo)
}

/// The files of a request as GitHub and Gitea list them (`filename`, `status`).
fn changed_files(files: &[Value]) -> Vec<Changed> {
    files
        .iter()
        .filter_map(|f| {
            Some(Changed {
                path: f["filename"].as_str()?.to_string(),
                added: f["status"] == "added",
            })
        })
        .collect()
}

/// A closed pull request as GitHub and Gitea show one. It kept its history when it
/// was merged with its own commits: its merge commit is its head (a fast-forward) or
/// has its head as a parent (a merge commit), whereas a squash or a rebase makes new
/// commits. `commit` fetches one commit by sha (GitHub's `commits/{sha}`, Gitea's
/// `git/commits/{sha}`: both list `parents`).
fn closed_pull(
    pr: &Value,
    commit: impl FnOnce(&str) -> Result<Reply, DeliveryError>,
) -> Result<Closed, DeliveryError> {
    let closed = |kept_history| {
        Ok(Closed {
            request: pull_request(pr),
            kept_history,
        })
    };
    let (Some(merge), Some(head)) = (pr["merge_commit_sha"].as_str(), pr["head"]["sha"].as_str())
    else {
        return closed(false);
    };
    if pr["merged_at"].is_null() {
        return closed(false);
    }
    if merge == head {
        return closed(true);
    }
    let reply = commit(merge)?;
    reply.expect(&[200], || format!("cannot read commit {merge}"))?;
    closed(
        reply.body["parents"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["sha"].as_str() == Some(head)),
    )
}
