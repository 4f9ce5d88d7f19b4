//! One inbox for two sites: each with its own repository, spool, origins, limits and
//! secret, under `/sites/<name>/`; posts without a site in the URL go to the site of
//! the page they come from; health and metrics per site.

mod common;

use std::path::Path;

use common::*;

/// A site repository in `dir/<name>` with its own bare remote, secret and config.
fn site(dir: &Path, name: &str, host: &str, limits: &str) -> std::path::PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(&root).unwrap();
    example_remote(&root);
    std::fs::write(
        root.join("secret"),
        format!("{name}-secret-0123456789abcdef"),
    )
    .unwrap();
    let config = root.join("cairn.toml");
    std::fs::write(
        &config,
        format!(
            r#"[site]
url = "https://{host}/"
[comments]
dir = "comments"
[inbox]
url = "https://comments.example.org/sites/{name}"
secret_file = "secret"
{limits}
[inbox.delivery]
remote = "site.git"
mode = "direct"
"#
        ),
    )
    .unwrap();
    config
}

fn files_on_main(remote: &Path) -> String {
    git(remote, &["ls-tree", "-r", "--name-only", "main"])
}

fn avatar_of(remote: &Path, id: &str) -> String {
    let file = format!("main:comments/posts/a-quiet-post/{id}.yml");
    let text = git(remote, &["show", &file]);
    text.lines()
        .find_map(|l| l.strip_prefix("avatar: "))
        .unwrap()
        .to_string()
}

#[test]
fn one_inbox_serves_two_sites_each_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let blog = site(
        dir.path(),
        "blog",
        "blog.example.org",
        "rate_per_hour = 1\nrate_burst = 1",
    );
    let docs = site(dir.path(), "docs", "docs.example.org", "rate_per_hour = 0");
    let (blog_remote, docs_remote) = (
        dir.path().join("blog/site.git"),
        dir.path().join("docs/site.git"),
    );
    let inbox = InboxProcess::start_with(&[
        "--listen",
        "127.0.0.1:0",
        "--site",
        &format!("blog={}", blog.display()),
        "--site",
        &format!("docs={}", docs.display()),
    ]);
    let fields = |author: &'static str| {
        vec![
            ("thread", "/posts/a-quiet-post/"),
            ("author", author),
            ("email", "same@example.org"),
            ("body", author),
        ]
    };

    // By name in the URL; the form answer links to the site's own inbox URL.
    let answer = http(
        &inbox.addr,
        "POST",
        "/sites/blog/v1/comments",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://blog.example.org"),
        ],
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields("Ann"))
            .finish()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("https://comments.example.org/sites/blog/v1/own/"),
        "{}",
        answer.body
    );

    // By the page it comes from, at the shared URL.
    let docs_post = post_form(&inbox.addr, "https://docs.example.org", &fields("Bob")).unwrap();
    assert_eq!(docs_post.status, 200, "{}", docs_post.body);
    let unknown = post_form(&inbox.addr, "https://elsewhere.example.net", &fields("Eve")).unwrap();
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(
        unknown.body.contains("several sites (blog, docs)"),
        "{}",
        unknown.body
    );
    // By a full URL in the thread, for clients that send no Origin.
    let by_thread = post_json(
        &inbox.addr,
        &serde_json::json!({"thread": "https://docs.example.org/posts/a-quiet-post/", "author": "Cy", "body": "Via the API."}),
    )
    .unwrap();
    assert_eq!(by_thread.status, 202, "{}", by_thread.body);
    // And for a page that hides its origin (referrer policy no-referrer): `Origin: null`
    // names no site.
    let hidden = http(
        &inbox.addr,
        "POST",
        "/v1/comments",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "null"),
            ("Sec-Fetch-Site", "same-site"),
        ],
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("thread", "https://docs.example.org/posts/a-quiet-post/"),
                ("author", "Di"),
                ("body", "From a page without a referrer."),
            ])
            .finish()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(hidden.status, 200, "{}", hidden.body);

    // A reply page at the shared URL is the site's the reader comes from.
    let reply = |referer: &str| {
        http(
            &inbox.addr,
            "GET",
            "/v1/reply?thread=%2Fposts%2Fa-quiet-post%2F&parent=01JD3K2AAAAAAAAAAAAAAAAAAA",
            &[("Referer", referer)],
            b"",
        )
        .unwrap()
    };
    let docs_reply = reply("https://docs.example.org/posts/a-quiet-post/");
    assert_eq!(docs_reply.status, 200, "{}", docs_reply.body);
    assert!(
        docs_reply
            .body
            .contains("action=\"https://comments.example.org/sites/docs/v1/comments\""),
        "{}",
        docs_reply.body
    );
    assert_eq!(reply("https://elsewhere.example.net/").status, 400);

    // Each site keeps its own origins and limits.
    let wrong_origin = http(
        &inbox.addr,
        "POST",
        "/sites/blog/v1/comments",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "https://docs.example.org"),
        ],
        br#"{"thread": "/posts/a-quiet-post/", "body": "Cross-site."}"#,
    )
    .unwrap();
    assert_eq!(wrong_origin.status, 403, "{}", wrong_origin.body);
    let limited = post_form(
        &inbox.addr,
        "https://blog.example.org",
        &fields("Ann again"),
    )
    .unwrap();
    assert_eq!(
        limited.status, 429,
        "blog allows one post an hour: {}",
        limited.body
    );
    let docs_again = post_form(
        &inbox.addr,
        "https://docs.example.org",
        &fields("Bob again"),
    )
    .unwrap();
    assert_eq!(
        docs_again.status, 200,
        "docs has no limit: {}",
        docs_again.body
    );

    wait_for("both sites' deliveries", 30, || {
        let health = http(&inbox.addr, "GET", "/v1/health", &[], b"").unwrap();
        let health: serde_json::Value = serde_json::from_str(&health.body).unwrap();
        ["blog", "docs"].iter().all(|s| {
            let spool = &health["sites"][s]["spool"];
            spool["queued"] == 0 && spool["delivering"] == 0
        })
    });
    let blog_files = files_on_main(&blog_remote);
    let docs_files = files_on_main(&docs_remote);
    let blog_ids: Vec<&str> = blog_files
        .lines()
        .filter_map(|l| l.strip_prefix("comments/posts/a-quiet-post/"))
        .filter_map(|l| l.strip_suffix(".yml"))
        .collect();
    let docs_ids: Vec<&str> = docs_files
        .lines()
        .filter_map(|l| l.strip_prefix("comments/posts/a-quiet-post/"))
        .filter_map(|l| l.strip_suffix(".yml"))
        .collect();
    let ann = answer_id(&answer.body);
    let bob = answer_id(&docs_post.body);
    let di = answer_id(&hidden.body);
    assert!(blog_ids.contains(&ann.as_str()) && !docs_ids.contains(&ann.as_str()));
    assert!(docs_ids.contains(&bob.as_str()) && !blog_ids.contains(&bob.as_str()));
    assert!(docs_ids.contains(&di.as_str()) && !blog_ids.contains(&di.as_str()));
    // Own secrets: the same address gets a different avatar key on each site.
    assert_ne!(avatar_of(&blog_remote, &ann), avatar_of(&docs_remote, &bob));
    // The author's page, under the site's own inbox URL, posts changes there too.
    let own = answer.body[answer.body.find("/sites/blog/v1/own/").unwrap()..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let page = http(&inbox.addr, "GET", &own, &[], b"").unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let (path, key) = own.split_once('?').unwrap();
    let edit = format!("action=\"https://comments.example.org{path}/edit?{key}\"");
    assert!(page.body.contains(&edit), "{edit} in {}", page.body);

    let metrics = http(&inbox.addr, "GET", "/metrics", &[], b"").unwrap().body;
    for line in [
        "cairn_inbox_accepted_total{site=\"blog\"} 1",
        "cairn_inbox_accepted_total{site=\"docs\"} 4",
        "cairn_inbox_rejected_total{site=\"blog\",reason=\"rate_limited\"} 1",
        "cairn_inbox_rejected_total{site=\"blog\",reason=\"origin\"} 1",
        "cairn_inbox_deliveries_total{site=\"docs\"} 4",
    ] {
        assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
    }
    assert_eq!(
        metrics
            .matches("# TYPE cairn_inbox_accepted counter")
            .count(),
        1
    );
    let one = http(&inbox.addr, "GET", "/sites/docs/v1/health", &[], b"").unwrap();
    assert_eq!(one.status, 200, "{}", one.body);
}

/// The comment id on a confirmation page.
fn answer_id(page: &str) -> String {
    let marker = "id=\"c-";
    let at = page.find(marker).expect("the comment on the page") + marker.len();
    page[at..at + 26].to_string()
}

#[test]
fn sites_must_not_share_a_spool_or_go_without_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let blog = site(dir.path(), "blog", "blog.example.org", "");
    let out = cairn(
        dir.path(),
        &[
            "inbox",
            "--site",
            &format!("a={}", blog.display()),
            "--site",
            &format!("b={}", blog.display()),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("share the spool"), "{}", stderr(&out));
    let text = std::fs::read_to_string(&blog).unwrap();
    std::fs::write(&blog, text.replace("secret_file = \"secret\"\n", "")).unwrap();
    let out = cairn(
        dir.path(),
        &["inbox", "--site", &format!("blog={}", blog.display())],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CAIRN_SECRET_BLOG"),
        "{}",
        stderr(&out)
    );
    let out = cairn(
        dir.path(),
        &["inbox", "--site", &format!("Blog!={}", blog.display())],
    );
    assert!(
        stderr(&out).contains("lower-case letters"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn inbox_check_asks_each_sites_parts_with_that_sites_secret() {
    let dir = tempfile::tempdir().unwrap();
    let blog = site(dir.path(), "blog", "blog.example.org", "");
    let docs = site(dir.path(), "docs", "docs.example.org", "");
    let check = |env: &[(&str, &str)]| {
        let out = cairn_with(
            dir.path(),
            &[
                "inbox",
                "check",
                "--site",
                &format!("blog={}", blog.display()),
                "--site",
                &format!("docs={}", docs.display()),
            ],
            env,
        );
        (out.status.code(), stdout(&out))
    };
    // Each site's secret from its file, or from its own variable; the shared
    // CAIRN_SECRET is never one of them.
    let (code, said) = check(&[
        ("CAIRN_SECRET_DOCS", "docs-secret-from-the-environment"),
        ("CAIRN_SECRET", TEST_SECRET),
    ]);
    assert_eq!(code, Some(0), "{said}");
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(
        lines[0],
        format!("site blog ({})", blog.display()),
        "{said}"
    );
    assert_eq!(
        lines[1],
        format!(
            "secret      from {}",
            dir.path().join("blog/secret").display()
        )
    );
    assert_eq!(lines[3], "repository  site.git: answers; 0 pending review");
    assert_eq!(
        lines[4],
        format!("site docs ({})", docs.display()),
        "{said}"
    );
    assert_eq!(lines[5], "secret      from CAIRN_SECRET_DOCS");
    assert_eq!(lines.last(), Some(&"everything the inbox needs answers"));

    std::fs::remove_file(dir.path().join("blog/secret")).unwrap();
    let (code, said) = check(&[("CAIRN_SECRET", TEST_SECRET)]);
    assert_eq!(code, Some(1), "{said}");
    let missing = dir.path().join("blog/secret");
    assert!(
        said.contains(&format!(
            "\nsecret      FAILED: cannot read secret file {}: ",
            missing.display()
        )),
        "{said}"
    );
    assert!(said.ends_with("\n1 part failed\n"), "{said}");
}
