//! Reads utterances' comments from GitHub's REST API: utterances keeps a page's comments
//! as the comments of one issue of a repository, which it opens with the page's address
//! in its text, and the issue's comments are the page's (Markdown, by GitHub users).
//!
//! utterances has no replies, and no e-mail addresses: a comment's author is its GitHub
//! user, with their profile as the website.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use super::{Body, Item, Note, Source, Status};
use crate::deliver::forge::{all_pages, Http};
use crate::deliver::github;

/// GitHub's API, unless `--api-url` names another (GitHub Enterprise).
pub const API: &str = "https://api.github.com";

/// Where utterances' issues are, and how to read them.
pub struct Repo<'a> {
    /// The API's root URL.
    pub api: &'a str,
    /// `owner/name`.
    pub name: &'a str,
    /// A token; a public repository is read without one, at a lower rate limit.
    pub token: Option<&'a str>,
    /// Only issues with this label (utterances' `label` attribute).
    pub label: Option<&'a str>,
}

/// Reads every comment of every issue utterances opened in the repository.
pub fn read(repo: &Repo<'_>) -> Result<Source> {
    let parts: Vec<&str> = repo.name.split('/').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        bail!(
            "{:?} is not a GitHub repository: name it as owner/name (the `repo` of utterances' script)",
            repo.name
        );
    }
    let http = Http::new(Duration::from_secs(30));
    let headers = github::headers(repo.token);
    let root = format!("{}/repos/{}", repo.api.trim_end_matches('/'), repo.name);
    let get = |url: &str| {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{root}{url}")
        };
        http.call(Method::GET, &url, &headers, None)
    };
    let label = repo
        .label
        .map(|l| format!("&labels={}", crate::deliver::forge::enc(l)))
        .unwrap_or_default();
    let unreadable = |e| {
        anyhow!(
            "cannot read the issues of {} from {}: {e}{}",
            repo.name,
            repo.api,
            if repo.token.is_none() {
                " (a private repository needs a token: set GITHUB_TOKEN)"
            } else {
                ""
            }
        )
    };
    let issues =
        all_pages(&format!("/issues?state=all&per_page=100{label}"), get).map_err(unreadable)?;
    let comments = all_pages("/issues/comments?per_page=100", get).map_err(unreadable)?;
    Ok(items(&issues, &comments))
}

/// The comments of utterances' issues among `issues`, as items; the others' are
/// reported.
fn items(issues: &[Value], comments: &[Value]) -> Source {
    let mut source = Source::default();
    // Each issue's page, by its number; `None` for an issue utterances did not open.
    let mut pages: HashMap<u64, Option<String>> = HashMap::new();
    for issue in issues {
        // The issues list has the repository's pull requests too.
        if issue.get("pull_request").is_some() {
            continue;
        }
        let Some(number) = issue["number"].as_u64() else {
            continue;
        };
        let page = issue["body"].as_str().and_then(page_link);
        if page.is_none() && issue["comments"].as_u64().unwrap_or(0) > 0 {
            source.skipped.push(Note {
                location: format!("issue #{number}"),
                message: format!(
                    "{:?} links no page, as the issues utterances opens do: its comments are not imported",
                    issue["title"].as_str().unwrap_or_default()
                ),
            });
        }
        pages.insert(number, page);
    }
    for comment in comments {
        let id = comment["id"].as_u64().unwrap_or_default();
        let number = comment["issue_url"]
            .as_str()
            .and_then(|u| u.rsplit('/').next())
            .and_then(|n| n.parse::<u64>().ok());
        // Comments on issues opened otherwise, or on pull requests, are not pages'.
        let Some(Some(page)) = number.and_then(|n| pages.get(&n)) else {
            continue;
        };
        let location = format!("issue #{} comment {id}", number.unwrap_or_default());
        let Some(date) = comment["created_at"]
            .as_str()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc))
        else {
            source.skipped.push(Note {
                location,
                message: format!("its date {} is not a date", comment["created_at"]),
            });
            continue;
        };
        // A deleted account's comments have no user (GitHub shows them as "ghost").
        let user = &comment["user"];
        source.items.push(Item {
            key: id.to_string(),
            thread: Some(page.clone()),
            parent: None,
            date,
            author: user["login"].as_str().map(str::to_string),
            email: None,
            website: user["html_url"].as_str().map(str::to_string),
            body: Body::Markdown(comment["body"].as_str().unwrap_or_default().to_string()),
            status: Status::Published,
            location,
        });
    }
    source
}

/// The page an issue utterances opened is for: the link it writes on a line of its own
/// at the end of the issue's text
/// (`[https://blog.example.org/posts/a/](https://blog.example.org/posts/a/)`), the last
/// such line.
fn page_link(body: &str) -> Option<String> {
    body.lines().rev().find_map(|line| {
        let (text, target) = line.trim().strip_prefix('[')?.split_once("](")?;
        let target = target.strip_suffix(')')?;
        (text == target && (target.starts_with("http://") || target.starts_with("https://")))
            .then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_page_is_the_link_utterances_ends_its_issue_with() {
        let body = "# Hello, world\n\nA first post.\n\n[https://blog.example.org/posts/hello/](https://blog.example.org/posts/hello/)";
        assert_eq!(
            page_link(body).as_deref(),
            Some("https://blog.example.org/posts/hello/")
        );
        // An empty description leaves two blank lines; a trailing newline is no matter.
        assert_eq!(
            page_link("# T\n\n\n\n[http://localhost:1313/a/](http://localhost:1313/a/)\n")
                .as_deref(),
            Some("http://localhost:1313/a/")
        );
        assert_eq!(
            page_link("The build fails on [main](https://x.example/ci)"),
            None
        );
        assert_eq!(page_link("[javascript:x](javascript:x)"), None);
        assert_eq!(page_link(""), None);
    }

    #[test]
    fn comments_of_utterances_issues_are_items_and_others_are_reported() {
        let issues = [
            json!({"number": 1, "title": "posts/hello/", "comments": 2,
                   "body": "# Hello\n\n\n\n[https://blog.example.org/posts/hello/](https://blog.example.org/posts/hello/)"}),
            json!({"number": 2, "title": "The feed is broken", "comments": 1, "body": "It 404s."}),
            json!({"number": 3, "title": "Fix typo", "comments": 1, "body": "", "pull_request": {"url": "x"}}),
        ];
        let comment = |id: u64, issue: u64, login: Option<&str>, body: &str| {
            json!({"id": id, "issue_url": format!("https://api.github.com/repos/o/r/issues/{issue}"),
                   "created_at": "2024-03-05T10:20:30Z", "body": body,
                   "user": login.map(|l| json!({"login": l, "html_url": format!("https://github.com/{l}")}))})
        };
        let comments = [
            comment(11, 1, Some("ann"), "Nice **post**."),
            comment(12, 2, Some("bob"), "Same here."),
            comment(13, 3, Some("cy"), "LGTM"),
            comment(14, 1, None, "From an account since deleted."),
        ];
        let source = items(&issues, &comments);
        let keys: Vec<&str> = source.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["11", "14"]);
        let ann = &source.items[0];
        assert_eq!(
            ann.thread.as_deref(),
            Some("https://blog.example.org/posts/hello/")
        );
        assert_eq!(ann.author.as_deref(), Some("ann"));
        assert_eq!(ann.website.as_deref(), Some("https://github.com/ann"));
        assert_eq!(ann.body, Body::Markdown("Nice **post**.".into()));
        assert_eq!(ann.date.to_rfc3339(), "2024-03-05T10:20:30+00:00");
        assert_eq!(source.items[1].author, None);
        assert_eq!(source.skipped.len(), 1, "{:?}", source.skipped);
        assert_eq!(source.skipped[0].location, "issue #2");
        assert!(source.skipped[0]
            .message
            .contains("\"The feed is broken\" links no page"));
    }
}
