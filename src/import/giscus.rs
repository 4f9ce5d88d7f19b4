//! Reads giscus' comments from GitHub Discussions through GitHub's GraphQL API: giscus
//! keeps a page's comments as the comments of one discussion, which it opens with the
//! page's address on a line of its own, and their replies (one level) as replies.
//!
//! Like utterances, giscus has no e-mail addresses: a comment's author is its GitHub
//! user, with their profile as the website.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use reqwest::Method;
use serde_json::{json, Value};

use super::{is_web_address, GitHubComment, Note, Source, Status};
use crate::deliver::forge::{Http, Reply, Told};
use crate::deliver::github;

/// Where giscus' discussions are, and how to read them.
pub struct Repo<'a> {
    /// The REST API's root URL (`https://api.github.com`, or GitHub Enterprise's
    /// `https://HOST/api/v3`); GraphQL is next to it.
    pub api: &'a str,
    /// `owner/name`.
    pub name: &'a str,
    /// GitHub's GraphQL API answers only with a token, even for a public repository.
    pub token: &'a str,
    /// Only discussions in this category (giscus' `data-category`).
    pub category: Option<&'a str>,
}

/// A comment or reply, and a page of replies, as one shape in every query.
const FRAGMENTS: &str = "
fragment Comment on DiscussionComment {
  id createdAt body deletedAt isMinimized minimizedReason
  author { login url }
}
fragment Replies on DiscussionCommentConnection {
  pageInfo { hasNextPage endCursor }
  nodes { ...Comment }
}";

/// A page of a discussion's comments, each with its first 50 replies.
const COMMENTS: &str = "
fragment Comments on DiscussionCommentConnection {
  pageInfo { hasNextPage endCursor }
  nodes { ...Comment replies(first: 50) { ...Replies } }
}";

/// A page of the repository's discussions, 50 at a time, each with its first 100
/// comments: 50 + 5,000 + 250,000 nodes, within GitHub's limit of 500,000 a query.
const DISCUSSIONS: &str = "
query($owner: String!, $name: String!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussions(first: 50, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number title body
        category { name }
        comments(first: 100) { ...Comments }
      }
    }
  }
}";

/// The page of a discussion's comments after a cursor.
const MORE_COMMENTS: &str = "
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussion(number: $number) {
      comments(first: 100, after: $after) { ...Comments }
    }
  }
}";

/// The page of a comment's replies after a cursor.
const MORE_REPLIES: &str = "
query($id: ID!, $after: String) {
  node(id: $id) {
    ... on DiscussionComment { replies(first: 100, after: $after) { ...Replies } }
  }
}";

/// The GraphQL endpoint next to a REST root: `https://api.github.com/graphql`, or
/// `https://HOST/api/graphql` for GitHub Enterprise's `https://HOST/api/v3`.
pub fn graphql_url(api: &str) -> String {
    let api = api.trim_end_matches('/');
    match api.strip_suffix("/v3") {
        Some(root) if root.ends_with("/api") => format!("{root}/graphql"),
        _ => format!("{api}/graphql"),
    }
}

/// Reads every comment and reply of every discussion giscus opened in the repository.
pub fn read(repo: &Repo<'_>) -> Result<Source> {
    let Some((owner, name)) = repo
        .name
        .split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
    else {
        bail!(
            "{:?} is not a GitHub repository: name it as owner/name (giscus' `data-repo`)",
            repo.name
        );
    };
    let client = Client {
        http: Http::new(Duration::from_secs(60)),
        url: graphql_url(repo.api),
        headers: github::headers(Some(repo.token)),
        repo: repo.name,
    };
    let discussions_after = |after: Value| -> Result<Value> {
        let data = client.query(
            &format!("{DISCUSSIONS}{COMMENTS}{FRAGMENTS}"),
            json!({"owner": owner, "name": name, "after": after}),
        )?;
        Ok(data["repository"]["discussions"].clone())
    };
    let mut discussions = discussions_after(Value::Null)?;
    read_rest(&mut discussions, discussions_after)?;
    let Value::Array(mut discussions) = discussions["nodes"].take() else {
        bail!(
            "GitHub's answer for the discussions of {} has no list",
            repo.name
        );
    };
    // The comments of other categories' discussions are not read beyond their first page.
    for discussion in discussions
        .iter_mut()
        .filter(|d| in_category(d, repo.category))
    {
        let number = discussion["number"].as_u64().unwrap_or_default();
        let comments = &mut discussion["comments"];
        read_rest(comments, |after| {
            let data = client.query(
                &format!("{MORE_COMMENTS}{COMMENTS}{FRAGMENTS}"),
                json!({"owner": owner, "name": name, "number": number, "after": after}),
            )?;
            Ok(data["repository"]["discussion"]["comments"].clone())
        })?;
        for comment in comments["nodes"].as_array_mut().into_iter().flatten() {
            let id = comment["id"].clone();
            read_rest(&mut comment["replies"], |after| {
                let data = client.query(
                    &format!("{MORE_REPLIES}{FRAGMENTS}"),
                    json!({"id": id, "after": after}),
                )?;
                Ok(data["node"]["replies"].clone())
            })?;
        }
    }
    Ok(items(&discussions, repo.category))
}

/// GitHub's GraphQL API, for one repository.
struct Client<'a> {
    http: Http,
    url: String,
    headers: reqwest::header::HeaderMap,
    repo: &'a str,
}

impl Client<'_> {
    /// The `data` of a query's answer, or what GitHub said was wrong. A rate limit
    /// that lifts within a minute is waited out.
    fn query(&self, query: &str, variables: Value) -> Result<Value> {
        let body = json!({"query": query, "variables": variables});
        let mut attempt = 0;
        loop {
            let reply = self
                .http
                .call(Method::POST, &self.url, &self.headers, Some(&body))
                .map_err(|e| anyhow!("{e}"))
                .with_context(|| format!("cannot read the discussions of {}", self.repo))?;
            match limit_lifts_in(&reply) {
                Some(wait) if wait <= MAX_WAIT && attempt < 3 => {
                    attempt += 1;
                    tracing::info!("GitHub's rate limit: waiting {} s", wait.as_secs());
                    std::thread::sleep(wait);
                }
                Some(wait) => bail!(
                    "GitHub's rate limit for its GraphQL API is used up for another {} min: \
                     run the import again then (it reads everything again and writes what \
                     is new)",
                    wait.as_secs().div_ceil(60)
                ),
                None => return self.data(reply),
            }
        }
    }

    fn data(&self, reply: Reply) -> Result<Value> {
        if reply.status == 401 {
            bail!(
                "{} refused the token ({}): set GITHUB_TOKEN to a token that can read {}'s discussions",
                self.url,
                reply.message(),
                self.repo
            );
        }
        if reply.status != 200 {
            bail!(
                "cannot read the discussions of {} from {}: {}",
                self.repo,
                self.url,
                reply.message()
            );
        }
        let errors: Vec<&Value> = reply.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        if errors
            .iter()
            .any(|e| e["type"] == "NOT_FOUND" && e["path"] == json!(["repository"]))
        {
            bail!(
                "GitHub has no repository {}, or the token cannot read it",
                self.repo
            );
        }
        if !errors.is_empty() {
            let messages: Vec<&str> = errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect();
            bail!(
                "GitHub did not answer the query for the discussions of {}: {}",
                self.repo,
                messages.join("; ")
            );
        }
        Ok(reply.body["data"].clone())
    }
}

/// The longest an import waits in place for GitHub's rate limit to lift.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// When an answer says GraphQL's rate limit is used up (an error of type `RATE_LIMIT`,
/// formerly `RATE_LIMITED`, in a 200 or 403 answer), how long until it lifts: its
/// `Retry-After`, else its `X-RateLimit-Reset`, else a minute.
fn limit_lifts_in(reply: &Reply) -> Option<Duration> {
    let limited = reply.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| {
            matches!(e["type"].as_str(), Some("RATE_LIMIT" | "RATE_LIMITED"))
                || e["code"] == "graphql_rate_limit"
        });
    if !limited {
        return None;
    }
    let told = Told::read(&reply.headers);
    let wait = told.retry_after.or(told.reset).unwrap_or(MAX_WAIT);
    Some(wait.max(Duration::from_secs(1)))
}

/// Reads the pages of a connection after the one read, adding their nodes to it;
/// `page_after` fetches the connection's page after a cursor.
fn read_rest(
    connection: &mut Value,
    mut page_after: impl FnMut(Value) -> Result<Value>,
) -> Result<()> {
    while let Some(cursor) = (connection["pageInfo"]["hasNextPage"] == true)
        .then(|| connection["pageInfo"]["endCursor"].clone())
        .filter(Value::is_string)
    {
        let mut page = page_after(cursor)?;
        if let (Some(nodes), Some(more)) = (
            connection["nodes"].as_array_mut(),
            page["nodes"].as_array_mut(),
        ) {
            nodes.append(more);
        }
        connection["pageInfo"] = page["pageInfo"].take();
    }
    Ok(())
}

/// The comments and replies of giscus' discussions among `discussions` (each with all
/// its comments and replies read), as items; discussions with comments that link no
/// page are reported.
fn items(discussions: &[Value], category: Option<&str>) -> Source {
    let mut source = Source::default();
    for discussion in discussions {
        if !in_category(discussion, category) {
            continue;
        }
        let number = discussion["number"].as_u64().unwrap_or_default();
        let comments = discussion["comments"]["nodes"].as_array();
        let Some(page) = discussion["body"].as_str().and_then(page_link) else {
            if comments.is_some_and(|c| !c.is_empty()) {
                source.skipped.push(Note {
                    location: format!("discussion #{number}"),
                    message: format!(
                        "{:?} links no page, as the discussions giscus opens do: its comments are not imported",
                        discussion["title"].as_str().unwrap_or_default()
                    ),
                });
            }
            continue;
        };
        for comment in comments.into_iter().flatten() {
            let id = comment["id"].as_str().unwrap_or_default();
            let location = format!("discussion #{number} comment {id}");
            item(&mut source, comment, &page, None, location);
            for reply in comment["replies"]["nodes"].as_array().into_iter().flatten() {
                let location = format!(
                    "discussion #{number} reply {}",
                    reply["id"].as_str().unwrap_or_default()
                );
                item(&mut source, reply, &page, Some(id), location);
            }
        }
    }
    source
}

/// Whether a discussion is in giscus' category (`--category`), when one is given.
fn in_category(discussion: &Value, category: Option<&str>) -> bool {
    category.is_none_or(|c| discussion["category"]["name"].as_str() == Some(c))
}

/// One comment or reply as an item (or a note, when it has no date).
fn item(source: &mut Source, comment: &Value, page: &str, parent: Option<&str>, location: String) {
    // GitHub keeps a deleted comment that has replies, without its text; a comment
    // hidden as spam or abuse is not shown by giscus (other reasons, such as outdated
    // or resolved, only fold it).
    let status = if !comment["deletedAt"].is_null() {
        Status::Deleted
    } else if comment["isMinimized"] == true
        && matches!(comment["minimizedReason"].as_str(), Some("spam" | "abuse"))
    {
        Status::Spam
    } else {
        Status::Published
    };
    source.push_github(GitHubComment {
        key: comment["id"].as_str().unwrap_or_default().to_string(),
        thread: page,
        parent,
        date: &comment["createdAt"],
        user: &comment["author"],
        profile: "url",
        body: &comment["body"],
        status,
        location,
    });
}

/// The page a discussion giscus opened is for: the address it writes on a line of its
/// own after the title and the page's description (`https://blog.example.org/posts/a/`),
/// the last such line (a hash of the page's term may follow, as an HTML comment).
fn page_link(body: &str) -> Option<String> {
    body.lines()
        .rev()
        .map(str::trim)
        .find(|line| is_web_address(line))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::assert_github_item;

    #[test]
    fn the_page_is_the_address_giscus_writes_under_the_title() {
        let body = "# posts/hello\n\nA first post.\n\nhttps://blog.example.org/posts/hello/\n\n<!-- sha1: 6c6e0b5e4b1f1fd9c2c6ea1e0e8c5b57f2a51a70 -->";
        assert_eq!(
            page_link(body).as_deref(),
            Some("https://blog.example.org/posts/hello/")
        );
        // Without a description, and without strict mode's hash.
        assert_eq!(
            page_link("# posts/a\n\n\n\nhttp://localhost:1313/posts/a/?ref=x").as_deref(),
            Some("http://localhost:1313/posts/a/?ref=x")
        );
        // The last address wins over one in the description.
        assert_eq!(
            page_link("# t\n\nSee\nhttps://other.example/\n\nhttps://blog.example.org/t/")
                .as_deref(),
            Some("https://blog.example.org/t/")
        );
        assert_eq!(
            page_link("How do I change the theme? https://x.example/"),
            None
        );
        assert_eq!(page_link("javascript:alert(1)"), None);
    }

    #[test]
    fn graphql_sits_next_to_the_rest_api() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://git.example.com/api/v3/"),
            "https://git.example.com/api/graphql"
        );
        assert_eq!(
            graphql_url("http://127.0.0.1:9000"),
            "http://127.0.0.1:9000/graphql"
        );
    }

    #[test]
    fn comments_and_replies_of_giscus_discussions_are_items() {
        let comment = |id: &str, login: Option<&str>, replies: Vec<Value>| {
            json!({"id": id, "createdAt": "2024-03-05T10:20:30Z", "body": format!("text of {id}"),
                   "deletedAt": null, "isMinimized": false, "minimizedReason": null,
                   "author": login.map(|l| json!({"login": l, "url": format!("https://github.com/{l}")})),
                   "replies": {"nodes": replies}})
        };
        let mut spam = comment("DC_spam", Some("bot"), vec![]);
        spam["isMinimized"] = json!(true);
        spam["minimizedReason"] = json!("spam");
        let mut outdated = comment("DC_old", Some("cy"), vec![]);
        outdated["isMinimized"] = json!(true);
        outdated["minimizedReason"] = json!("outdated");
        let mut deleted = comment("DC_gone", Some("dee"), vec![comment("DC_r2", None, vec![])]);
        deleted["deletedAt"] = json!("2024-04-01T00:00:00Z");
        let discussions = [
            json!({"number": 1, "title": "posts/hello", "category": {"name": "Comments"},
                   "body": "# posts/hello\n\n\n\nhttps://blog.example.org/posts/hello/",
                   "comments": {"nodes": [
                       comment("DC_a", Some("ann"), vec![comment("DC_r1", Some("bob"), vec![])]),
                       spam, outdated, deleted]}}),
            json!({"number": 2, "title": "Ideas", "category": {"name": "Ideas"}, "body": "What next?",
                   "comments": {"nodes": [comment("DC_x", Some("eve"), vec![])]}}),
            json!({"number": 3, "title": "posts/other", "category": {"name": "Announcements"},
                   "body": "# posts/other\n\n\n\nhttps://blog.example.org/posts/other/",
                   "comments": {"nodes": [comment("DC_y", Some("fay"), vec![])]}}),
        ];
        let source = items(&discussions, None);
        assert_eq!(
            crate::import::threading(&source),
            [
                ("DC_a", None, Status::Published),
                ("DC_r1", Some("DC_a"), Status::Published),
                ("DC_spam", None, Status::Spam),
                ("DC_old", None, Status::Published),
                ("DC_gone", None, Status::Deleted),
                ("DC_r2", Some("DC_gone"), Status::Published),
                ("DC_y", None, Status::Published),
            ]
        );
        assert_github_item(
            &source.items[0],
            "https://blog.example.org/posts/hello/",
            "ann",
            "text of DC_a",
        );
        assert_eq!(source.items[5].author, None);
        assert_eq!(source.skipped.len(), 1, "{:?}", source.skipped);
        assert_eq!(source.skipped[0].location, "discussion #2");
        assert!(source.skipped[0]
            .message
            .contains("\"Ideas\" links no page"));

        // With giscus' category, the others' discussions are not looked at.
        let source = items(&discussions, Some("Comments"));
        assert_eq!(source.items.len(), 6);
        assert!(source.skipped.is_empty());
    }
}
