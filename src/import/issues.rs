//! Reads the comments utterances and Gitalk (and Gitment, whose issues Gitalk took
//! over) keep in GitHub issues, from GitHub's REST API: each opens one issue of a
//! repository per page, with the page's address in its text, and the issue's comments
//! are the page's (Markdown, by GitHub users).
//!
//! Neither has replies, nor e-mail addresses: a comment's author is its GitHub user,
//! with their profile as the website.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use reqwest::Method;
use serde_json::Value;

use super::{is_web_address, names_a_page, GitHubComment, Kind, Note, Source, Status};
use crate::deliver::forge::{self, all_pages, Http};
use crate::deliver::github;

/// Where the issues are, which system opened them, and how to read them.
pub struct Repo<'a> {
    /// [`Kind::Utterances`] or [`Kind::Gitalk`].
    pub kind: Kind,
    /// The API's root URL.
    pub api: &'a str,
    /// `owner/name`.
    pub name: &'a str,
    /// A token; a public repository is read without one, at a lower rate limit.
    pub token: Option<&'a str>,
    /// Only issues with this label (utterances' `label` attribute, one of Gitalk's
    /// `labels`); Gitalk's issues have its default, `Gitalk`, unless told otherwise.
    pub label: Option<&'a str>,
}

/// Reads every comment of every issue utterances or Gitalk opened in the repository.
pub fn read(repo: &Repo<'_>) -> Result<Source> {
    let parts: Vec<&str> = repo.name.split('/').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        bail!(
            "{:?} is not a GitHub repository: name it as owner/name (the `repo` of {}' settings)",
            repo.name,
            system(repo.kind)
        );
    }
    let http = Http::new(Duration::from_secs(30));
    let headers = github::headers(repo.token);
    let root = format!("{}/repos/{}", repo.api.trim_end_matches('/'), repo.name);
    let get = |path: &str| http.call(Method::GET, &forge::url(&root, path), &headers, None);
    let label = repo
        .label
        .or((repo.kind == Kind::Gitalk).then_some("Gitalk"))
        .map(|l| format!("&labels={}", forge::enc(l)))
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
        all_pages(&format!("issues?state=all&per_page=100{label}"), get).map_err(unreadable)?;
    let comments = all_pages("issues/comments?per_page=100", get).map_err(unreadable)?;
    Ok(items(repo.kind, &issues, &comments))
}

/// The name of the system, as its users write it.
fn system(kind: Kind) -> &'static str {
    match kind {
        Kind::Gitalk => "Gitalk",
        _ => "utterances",
    }
}

/// The comments of the issues among `issues` that `kind` opened, as items; the others'
/// are reported.
fn items(kind: Kind, issues: &[Value], comments: &[Value]) -> Source {
    let mut source = Source::default();
    // Each issue's page, by its number; `None` for an issue the system did not open.
    let mut pages: HashMap<u64, Option<String>> = HashMap::new();
    for issue in issues {
        // The issues list has the repository's pull requests too.
        if issue.get("pull_request").is_some() {
            continue;
        }
        let Some(number) = issue["number"].as_u64() else {
            continue;
        };
        let body = issue["body"].as_str().unwrap_or_default();
        let page = match kind {
            Kind::Gitalk => gitalk_page(body, &issue["labels"]),
            _ => page_link(body),
        };
        if page.is_none() && issue["comments"].as_u64().unwrap_or(0) > 0 {
            source.skipped.push(Note {
                location: format!("issue #{number}"),
                message: format!(
                    "{:?} links no page, as the issues {} opens do: its comments are not imported",
                    issue["title"].as_str().unwrap_or_default(),
                    system(kind)
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
        source.push_github(GitHubComment {
            key: id.to_string(),
            thread: page,
            parent: None,
            date: &comment["created_at"],
            user: &comment["user"],
            profile: "html_url",
            body: &comment["body"],
            status: Status::Published,
            location: format!("issue #{} comment {id}", number.unwrap_or_default()),
        });
    }
    source
}

/// The page an issue Gitalk opened is for: the address it starts the issue's text with
/// (`https://blog.example.org/posts/a/ \n\n A first post.`; `Issue from …` in some of
/// its versions), else one of the issue's labels that is a path or an address (Gitalk
/// labels an issue with its page's `id`, often `location.pathname`).
fn gitalk_page(body: &str, labels: &Value) -> Option<String> {
    let first = body.lines().map(str::trim).find(|l| !l.is_empty());
    let in_body = first
        .and_then(|line| line.split_whitespace().last())
        .filter(|word| is_web_address(word));
    let in_labels = || {
        labels.as_array().into_iter().flatten().find_map(|l| {
            let name = l["name"].as_str().or_else(|| l.as_str())?;
            (names_a_page(name) && !name.contains(char::is_whitespace)).then_some(name)
        })
    };
    in_body.or_else(in_labels).map(str::to_string)
}

/// The page an issue utterances opened is for: the link it writes on a line of its own
/// at the end of the issue's text
/// (`[https://blog.example.org/posts/a/](https://blog.example.org/posts/a/)`), the last
/// such line.
fn page_link(body: &str) -> Option<String> {
    body.lines().rev().find_map(|line| {
        let (text, target) = line.trim().strip_prefix('[')?.split_once("](")?;
        let target = target.strip_suffix(')')?;
        (text == target && is_web_address(target)).then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::assert_github_item;
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
    fn the_page_is_the_address_gitalk_starts_its_issue_with_or_a_label() {
        let labels = json!([{"name": "Gitalk"}, {"name": "5d41402abc4b2a76b9719d911017c592"}]);
        assert_eq!(
            gitalk_page(
                "https://blog.example.org/posts/a/ \n\n A first post.",
                &labels
            )
            .as_deref(),
            Some("https://blog.example.org/posts/a/")
        );
        assert_eq!(
            gitalk_page("Issue from http://localhost:4000/posts/a/", &labels).as_deref(),
            Some("http://localhost:4000/posts/a/")
        );
        // A body of the site's own: the page's id among the labels.
        let by_path = json!([{"name": "Gitalk"}, {"name": "/2019/05/hello.html"}]);
        assert_eq!(
            gitalk_page("Comments on Hello", &by_path).as_deref(),
            Some("/2019/05/hello.html")
        );
        assert_eq!(gitalk_page("Comments on Hello", &labels), None);
        assert_eq!(gitalk_page("", &json!(null)), None);
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
        let source = items(Kind::Utterances, &issues, &comments);
        let keys: Vec<&str> = source.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["11", "14"]);
        assert_github_item(
            &source.items[0],
            "https://blog.example.org/posts/hello/",
            "ann",
            "Nice **post**.",
        );
        assert_eq!(source.items[1].author, None);
        assert_eq!(source.skipped.len(), 1, "{:?}", source.skipped);
        assert_eq!(source.skipped[0].location, "issue #2");
        assert!(source.skipped[0]
            .message
            .contains("\"The feed is broken\" links no page"));
    }
}
