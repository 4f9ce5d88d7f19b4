//! The forge backends (`github`, `gitea`, `gitlab`) against a local server that speaks
//! each forge's REST API (see `common/fake_forge.rs`): the real `cairn inbox` opening
//! pull (merge) requests and `cairn moderate` merging and closing them, in all three
//! modes; lost answers, a killed inbox, outages and rate limits, with nothing lost and
//! nothing duplicated; GitHub App authentication and GitHub webhooks.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::http::Method;
use cairn::comment::Comment;
use cairn::deliver::{Backend, DeliveryError};
use common::fake_forge::{FakeForge, Fault, Flavor, TOKEN};
use common::*;

const SITE: &str = "https://blog.example.org";
const THREAD: &str = "/posts/a-quiet-post/";
const PUBLISHED: &str = "01JA0000000000000000000000";

fn published_file() -> (String, String) {
    (
        format!("comments/posts/a-quiet-post/{PUBLISHED}.yml"),
        format!(
            "id: {PUBLISHED}\nthread: {THREAD}\ndate: 2024-10-01T12:00:00Z\nauthor: Grace\nbody: |\n  The first comment.\n"
        ),
    )
}

fn fake(flavor: Flavor) -> FakeForge {
    let (path, text) = published_file();
    FakeForge::start(flavor, &[("README.md", "# site\n"), (&path, &text)])
}

/// What differs between the forges, as the tests see it.
struct Forge {
    backend: &'static str,
    api: &'static str,
    /// Where a person sees pull request 1.
    first_request_url: &'static str,
    /// The requests a review delivery makes that create something.
    creating: &'static [(&'static str, &'static str)],
}

fn forge(flavor: Flavor) -> Forge {
    match flavor {
        Flavor::GitHub => Forge {
            backend: "github",
            api: "",
            first_request_url: "https://github.com/owner/site/pull/1",
            creating: &[
                ("POST", "/git/refs"),
                ("PUT", "/contents/"),
                ("POST", "/pulls"),
                ("POST", "/labels"),
            ],
        },
        Flavor::Gitea => Forge {
            backend: "gitea",
            api: "/api/v1",
            first_request_url: "/owner/site/pulls/1",
            creating: &[
                ("POST", "/branches"),
                ("POST", "/contents/"),
                ("POST", "/pulls"),
            ],
        },
        Flavor::GitLab => Forge {
            backend: "gitlab",
            api: "/api/v4",
            first_request_url: "/owner/site/-/merge_requests/1",
            creating: &[
                ("POST", "/repository/branches"),
                ("POST", "/repository/files/"),
                ("POST", "/merge_requests"),
            ],
        },
    }
}

/// A directory with a cairn.toml delivering to `fake`, and the token in a file.
fn workspace(fake: &FakeForge, mode: &str, extra: &str) -> tempfile::TempDir {
    let flavor = fake.with(|s| s.flavor);
    let forge = forge(flavor);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(
        dir.path().join("cairn.toml"),
        format!(
            r#"[site]
url = "{SITE}/"
[comments]
dir = "comments"
[inbox]
url = "http://127.0.0.1:9"
rate_per_hour = 0
[inbox.delivery]
backend = "{}"
mode = "{mode}"
repo = "owner/site"
api_url = "{}{}"
token_file = "token"
labels = ["comment", "needs review"]
timeout_secs = 2
{extra}"#,
            forge.backend, fake.url, forge.api
        ),
    )
    .unwrap();
    dir
}

fn backend(dir: &Path) -> std::sync::Arc<dyn Backend> {
    let config = cairn::config::Config::load(Some(&dir.join("cairn.toml")), dir).unwrap();
    cairn::deliver::open(&config, dir).unwrap()
}

fn comment(n: u128, body: &str) -> Comment {
    let text = format!(
        "id: {}\nthread: {THREAD}\ndate: 2024-11-0{}T10:00:00Z\nauthor: Reader {n}\nbody: {body:?}\n",
        ulid::Ulid::from(0x0190_0000_0000_0000_0000_0000_0000_0000u128 + n),
        n % 9 + 1
    );
    Comment::parse(&text, cairn::comment::Format::Yaml).unwrap()
}

fn moderate(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["moderate"];
    all.extend_from_slice(args);
    let config = dir.join("cairn.toml");
    all.extend_from_slice(&["--config", config.to_str().unwrap()]);
    cairn(dir, &all)
}

fn file_for(c: &Comment) -> String {
    format!("comments/posts/a-quiet-post/{}.yml", c.id)
}

/// Every request cairn sent carried the headers GitHub documents.
fn assert_headers_ok(fake: &FakeForge) {
    for seen in fake.seen() {
        assert_eq!(
            seen.header_problem, None,
            "{} {} had bad headers",
            seen.method, seen.path
        );
    }
}

fn review_mode_opens_pull_requests_that_moderate_merges_and_closes(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    let inbox = InboxProcess::start(&dir.path().join("cairn.toml"));
    let origin = SITE;
    let form = post_form(
        &inbox.addr,
        origin,
        &[
            ("thread", THREAD),
            ("author", "Ada @octocat"),
            ("email", "ada@example.org"),
            ("body", "Hello *world*,\nsee #12 and @octocat."),
        ],
    )
    .unwrap();
    assert_eq!(form.status, 200, "{}", form.body);
    // A reply to the published comment: the parent is looked up on GitHub.
    let reply = post_json(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "parent": PUBLISHED, "author": "Bob", "body": "Agreed."}),
    )
    .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
    inbox.wait_delivered(30);
    // A reply to a comment still waiting in its pull request.
    let pulls = fake.pulls();
    let ada = pulls
        .iter()
        .find(|p| p.title.contains("Ada"))
        .expect("Ada's pull request");
    let ada_id = ada.head.trim_start_matches("cairn/").to_string();
    let nested = post_json(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "parent": ada_id, "author": "Cy", "body": "Nested."}),
    )
    .unwrap();
    assert_eq!(nested.status, 202, "{}", nested.body);
    let missing = post_json(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "parent": "01JZZZZZZZZZZZZZZZZZZZZZZZ", "author": "Di", "body": "Lost."}),
    )
    .unwrap();
    assert_eq!(missing.status, 400, "{}", missing.body);
    inbox.wait_delivered(30);

    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 3, "{pulls:#?}");
    for p in &pulls {
        assert!(p.open && p.head.starts_with("cairn/") && p.base == "main");
        assert_eq!(
            p.labels.iter().cloned().collect::<Vec<_>>(),
            ["comment", "needs review"]
        );
        assert_eq!(fake.commits_ahead(&p.head), 1, "one commit on {}", p.head);
        let id = p.head.trim_start_matches("cairn/");
        let files = fake.files(&p.head);
        let (path, text) = files
            .iter()
            .find(|(path, _)| path.ends_with(&format!("{id}.yml")))
            .expect("the comment's file");
        assert!(path.starts_with("comments/posts/a-quiet-post/"));
        let text = String::from_utf8(text.clone()).unwrap();
        assert!(!text.contains("ada@example.org"), "{text}");
        assert!(!text.contains("127.0.0.1"), "{text}");
    }
    // The title names author and page; the body shows the fields and the comment,
    // quoted, with mentions and issue references defused.
    assert_eq!(ada.title, format!("Comment by Ada @octocat on {THREAD}"));
    assert!(
        ada.body.contains("| Author | Ada \\@octocat |"),
        "{}",
        ada.body
    );
    assert!(
        ada.body
            .contains(&format!("| Page | [`{THREAD}`](<{SITE}{THREAD}>) |")),
        "{}",
        ada.body
    );
    assert!(
        ada.body
            .contains("> Hello *world*,\n> see #\u{2060}12 and @\u{2060}octocat.\n"),
        "{}",
        ada.body
    );
    assert!(!ada.body.contains("ada@example.org"));
    let bob = pulls.iter().find(|p| p.title.contains("Bob")).unwrap();
    assert!(
        bob.body.contains(&format!("| Reply to | [`{PUBLISHED}`]")),
        "{}",
        bob.body
    );
    let commit = fake.with(|s| s.commits.last().unwrap().committer.clone());
    assert_eq!(commit["name"], "cairn");
    assert_headers_ok(&fake);

    // cairn moderate sees the pull requests (and pages through the list).
    fake.with(|s| s.max_per_page = 2);
    let list = moderate(dir.path(), &["list"]);
    let text = stdout(&list);
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains(forge(flavor).first_request_url), "{text}");
    let show = moderate(dir.path(), &["show", &ada_id]);
    assert!(stdout(&show).contains("Hello *world*"), "{}", stdout(&show));

    let approve = moderate(dir.path(), &["approve", &ada_id]);
    assert!(approve.status.success(), "{}", stderr(&approve));
    let main = fake.files("main");
    assert!(main.contains_key(&format!("comments/posts/a-quiet-post/{ada_id}.yml")));
    assert!(!fake.branches().contains(&format!("cairn/{ada_id}")));
    let merged = fake
        .pulls()
        .into_iter()
        .find(|p| p.head == format!("cairn/{ada_id}"))
        .unwrap();
    assert!(merged.merged && !merged.open);

    let bob_id = bob.head.trim_start_matches("cairn/").to_string();
    let reject = moderate(dir.path(), &["reject", &bob_id]);
    assert!(reject.status.success(), "{}", stderr(&reject));
    let closed = fake
        .pulls()
        .into_iter()
        .find(|p| p.head == bob.head)
        .unwrap();
    assert!(!closed.open && !closed.merged);
    assert!(!fake.branches().contains(&bob.head));
    assert!(!fake.files("main").keys().any(|p| p.contains(&bob_id)));

    let again = moderate(dir.path(), &["approve", &bob_id]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("no pending comment"),
        "{}",
        stderr(&again)
    );

    // Closed on the forge, with no webhook to tell the inbox: its branch stays, but the
    // comment is pending no more, and so no parent (the spool still keeps it).
    let cy = pulls.iter().find(|p| p.title.contains("Cy")).unwrap();
    let cy_id = cy.head.trim_start_matches("cairn/").to_string();
    let pending_reply =
        serde_json::json!({"thread": THREAD, "parent": cy_id, "author": "Ed", "body": "Hm."});
    assert_eq!(post_json(&inbox.addr, &pending_reply).unwrap().status, 202);
    inbox.wait_delivered(30);
    fake.close(cy.number);
    assert!(fake.branches().contains(&cy.head));
    assert_no_parent(&inbox.addr, THREAD, &cy_id);
    assert_headers_ok(&fake);
}

fn batch_mode_collects_comments_in_one_pull_request(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "batch", "");
    let backend = backend(dir.path());
    let (a, b, c) = (comment(1, "one"), comment(2, "two"), comment(3, "three"));
    let results = backend.deliver(&[a.clone(), b.clone()]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let results = backend.deliver(std::slice::from_ref(&c));
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(pulls[0].head, "cairn/pending");
    assert_eq!(fake.commits_ahead("cairn/pending"), 3);
    let pending: Vec<_> = backend
        .pending()
        .unwrap()
        .into_iter()
        .map(|p| p.comment.id)
        .collect();
    assert_eq!(pending, [a.id, b.id, c.id]);

    backend.approve(a.id).unwrap();
    backend.reject(b.id).unwrap();
    let main = fake.files("main");
    assert!(main.contains_key(&file_for(&a)));
    assert!(!main.contains_key(&file_for(&b)));
    let batch = fake.files("cairn/pending");
    assert!(!batch.contains_key(&file_for(&a)) && !batch.contains_key(&file_for(&b)));
    assert!(batch.contains_key(&file_for(&c)));
    let pending: Vec<_> = backend
        .pending()
        .unwrap()
        .into_iter()
        .map(|p| p.comment.id)
        .collect();
    assert_eq!(pending, [c.id]);
    // Redelivering changes nothing: approved, rejected or waiting.
    backend.deliver(&[a.clone(), c.clone()]);
    assert_eq!(fake.pulls().len(), 1);
    assert_eq!(fake.files("cairn/pending").len(), batch.len());
    assert_headers_ok(&fake);
}

/// The batch branch outlives its pull request. Whatever the moderator does with the
/// request on the forge (squash it, close it, merge it), the next one offers only the
/// comments that arrived since, and a comment erased from the site in between does not
/// come back.
fn a_batch_settled_on_the_forge_is_not_offered_again(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "batch", "");
    let backend = backend(dir.path());
    let pending = || -> Vec<ulid::Ulid> {
        let list = backend.pending().unwrap();
        list.into_iter().map(|p| p.comment.id).collect()
    };
    let deliver = |c: &Comment| {
        let results = backend.deliver(std::slice::from_ref(c));
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    };
    let (a, b, c, d, e) = (
        comment(1, "one"),
        comment(2, "two"),
        comment(3, "three"),
        comment(4, "four"),
        comment(5, "five"),
    );
    deliver(&a);
    deliver(&b);
    assert_eq!(fake.pull_files(1), [file_for(&a), file_for(&b)]);

    // Squashed: the branch's commits never reach the site branch. Then one comment is
    // erased from the site.
    fake.squash(1);
    fake.remove("main", &file_for(&a));
    deliver(&c);
    assert_eq!(fake.pulls().len(), 2);
    assert_eq!(fake.pull_files(2), [file_for(&c)]);
    assert_eq!(pending(), [c.id]);

    // Closed unmerged: every comment in it is rejected. With webhooks on, the branch
    // is settled as soon as the forge tells.
    fake.close(2);
    backend.closed("cairn/pending").unwrap();
    assert!(!fake.files("cairn/pending").contains_key(&file_for(&c)));
    deliver(&d);
    assert_eq!(fake.pull_files(3), [file_for(&d)]);
    assert_eq!(pending(), [d.id]);

    // Merged with a merge commit: the site branch has the branch's history, and
    // nothing is taken off it.
    fake.merge(3);
    deliver(&e);
    assert_eq!(fake.pull_files(4), [file_for(&e)]);
    fake.merge(4);
    let main = fake.files("main");
    for (kept, comment) in [(false, &a), (true, &b), (false, &c), (true, &d), (true, &e)] {
        assert_eq!(
            main.contains_key(&file_for(comment)),
            kept,
            "{} on the site",
            comment.body
        );
    }
    assert_eq!(fake.pulls().len(), 4);
    assert!(pending().is_empty());
    assert_headers_ok(&fake);
}

fn direct_mode_commits_to_the_site_branch(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "direct", "");
    let backend = backend(dir.path());
    let a = comment(4, "straight in");
    assert!(backend.deliver(std::slice::from_ref(&a))[0].is_ok());
    assert!(backend.deliver(std::slice::from_ref(&a))[0].is_ok());
    assert!(fake.pulls().is_empty());
    let main = fake.files("main");
    let text = String::from_utf8(main[&file_for(&a)].clone()).unwrap();
    assert_eq!(text, a.to_yaml());
    assert_eq!(fake.with(|s| s.commits.len()), 2, "one commit, not two");
    assert!(backend.exists(THREAD, a.id).unwrap());
    assert!(backend.exists(THREAD, PUBLISHED.parse().unwrap()).unwrap());
    assert!(!backend.exists("/elsewhere/", a.id).unwrap());
}

/// Each step of a review delivery (branch, file, pull request, labels) done by GitHub
/// but its answer lost: the retry finds it done, and nothing is made twice.
fn lost_answers_are_retried_without_duplicates(flavor: Flavor) {
    let steps: Vec<(Method, &str)> = forge(flavor)
        .creating
        .iter()
        .map(|(m, p)| (Method::from_bytes(m.as_bytes()).unwrap(), *p))
        .collect();
    for (n, (method, path)) in steps.into_iter().enumerate() {
        let fake = fake(flavor);
        let dir = workspace(&fake, "review", "");
        let backend = backend(dir.path());
        fake.add_rule(method.clone(), path, Fault::Lose(Duration::ZERO), 1);
        let c = comment(10 + n as u128, "once");
        let result = backend.deliver(std::slice::from_ref(&c));
        assert!(result[0].is_ok(), "{method} {path}: {result:?}");
        // And once more, as after a crash before the spool recorded it.
        assert!(backend.deliver(std::slice::from_ref(&c))[0].is_ok());
        let lost = fake.seen().iter().filter(|s| s.status == 502).count();
        assert_eq!(lost, 1, "{method} {path}: the fault fired");
        let pulls = fake.pulls();
        assert_eq!(pulls.len(), 1, "{method} {path}: {pulls:#?}");
        assert_eq!(fake.commits_ahead(&pulls[0].head), 1, "{method} {path}");
        assert_eq!(pulls[0].labels.len(), 2);
    }
}

/// The inbox killed while GitHub is creating the pull request: after a restart it
/// delivers again, and there is still one pull request with one commit.
fn a_killed_inbox_redelivers_without_duplicates(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    fake.add_rule(
        Method::POST,
        "/pulls",
        Fault::Lose(Duration::from_secs(30)),
        1,
    );
    let config = dir.path().join("cairn.toml");
    let inbox = InboxProcess::start(&config);
    let answer = post_json(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Eve", "body": "Crash test."}),
    )
    .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    wait_for("the pull request to be created", 30, || {
        fake.pulls().len() == 1
    });
    let mut inbox = inbox;
    inbox.child.kill().unwrap();
    inbox.child.wait().unwrap();
    drop(inbox);
    let inbox = InboxProcess::start(&config);
    inbox.wait_delivered(60);
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(fake.commits_ahead(&pulls[0].head), 1);
    assert_eq!(pulls[0].labels.len(), 2);
}

/// GitHub answers 502 and times out for a while, then recovers: every accepted
/// comment ends up in exactly one pull request.
fn an_outage_delays_but_loses_and_duplicates_nothing(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    stall(&fake, ("GET", "/git/ref/"), Duration::from_secs(3), 2);
    let inbox = InboxProcess::start(&dir.path().join("cairn.toml"));
    // The outage starts as the comments come, however long the inbox took to start.
    fake.with(|s| s.outage_until = Some(Instant::now() + Duration::from_secs(4)));
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(post_accepted(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": format!("Reader {n}"), "body": format!("Comment {n}.")}),
        ));
    }
    inbox.wait_delivered(90);
    let pulls = fake.pulls();
    let mut heads: Vec<String> = pulls.iter().map(|p| p.head.clone()).collect();
    heads.sort();
    let mut expected: Vec<String> = ids.iter().map(|id| format!("cairn/{id}")).collect();
    expected.sort();
    assert_eq!(heads, expected);
    for p in &pulls {
        assert_eq!(fake.commits_ahead(&p.head), 1, "{}", p.head);
    }
    assert!(
        fake.seen().iter().any(|s| s.status == 502),
        "the outage happened"
    );
    assert!(inbox.log.lock().unwrap().contains("will retry"));
}

/// A comment parked while the forge answered nothing but server errors goes out by
/// itself once the forge answers again, here for the next comment: no restart.
fn a_comment_parked_while_the_forge_is_down_goes_out_once_it_answers(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    let config = dir.path().join("cairn.toml");
    park_after_one_attempt(&config);
    let inbox = InboxProcess::start(&config);
    fake.with(|s| s.outage_until = Some(Instant::now() + Duration::from_secs(600)));
    let parked = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "During."}),
    );
    wait_for("the comment to be parked", 60, || {
        inbox.spool()["failed"] == 1
    });
    fake.with(|s| s.outage_until = None);
    let next = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Bo", "body": "After."}),
    );
    inbox.wait_all_delivered(60);
    let mut heads: Vec<String> = fake.pulls().iter().map(|p| p.head.clone()).collect();
    heads.sort();
    let mut expected = [format!("cairn/{parked}"), format!("cairn/{next}")];
    expected.sort();
    assert_eq!(heads, expected);
    assert!(inbox.log.lock().unwrap().contains(
        "1 parked comment(s) queued again for delivery: the site's repository answers again"
    ));
}

/// While the forge answers nothing but server errors, a batch of comments costs the
/// retries of one call, not of every comment's calls: the rest wait for the next
/// attempt untried, and go out once each when the forge is back.
fn a_forge_that_does_not_answer_is_asked_once_per_batch(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    let backend = backend(dir.path());
    fake.with(|s| s.outage_until = Some(Instant::now() + Duration::from_secs(600)));
    let comments: Vec<Comment> = (0..5).map(|n| comment(40 + n, "Waits.")).collect();
    let results = backend.deliver(&comments);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(DeliveryError::Unavailable(_)))),
        "{results:?}"
    );
    assert!(
        matches!(&results[4], Err(DeliveryError::Unavailable(why)) if why.contains("not tried") && why.contains("HTTP 502")),
        "{results:?}"
    );
    let seen = fake.seen();
    assert!(seen.len() > 1, "the call was retried in place");
    assert!(
        seen.iter()
            .all(|s| s.status == 502 && (&s.method, &s.path) == (&seen[0].method, &seen[0].path)),
        "one call, the first comment's first: {:?}",
        seen.iter()
            .map(|s| (&s.method, &s.path))
            .collect::<Vec<_>>()
    );

    fake.with(|s| s.outage_until = None);
    let results = backend.deliver(&comments);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut heads: Vec<String> = fake.pulls().iter().map(|p| p.head.clone()).collect();
    heads.sort();
    let expected: Vec<String> = comments.iter().map(|c| format!("cairn/{}", c.id)).collect();
    assert_eq!(heads, expected);
}

/// Makes the forge take `wait` before it answers the next `times` requests of `call`
/// (method and path); longer than `timeout_secs` (2 s), each is a timeout.
fn stall(fake: &FakeForge, (method, path): (&str, &str), wait: Duration, times: usize) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    fake.add_rule(method, path, Fault::Stall(wait), times);
}

/// Stops `inbox` with SIGTERM, as systemd does: how it exited, and what it logged.
fn terminate(inbox: InboxProcess) -> (std::process::ExitStatus, String) {
    let log = inbox.log.clone();
    let status = inbox.stop();
    let log = log.lock().unwrap().clone();
    (status, log)
}

/// Stopping the inbox (SIGTERM) while a slow forge takes a batch: it finishes the
/// comment in hand and stops without going through the rest, which wait in the spool
/// and are delivered, once each, when it runs again.
fn stopping_mid_batch_leaves_the_rest_for_the_next_start(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    // Within the two seconds of `timeout_secs`, so each is one call.
    stall(
        &fake,
        forge(flavor).creating[0],
        Duration::from_millis(1500),
        2,
    );
    let config = dir.path().join("cairn.toml");
    let inbox = InboxProcess::start(&config);
    let post = |n: usize| {
        post_accepted(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": format!("Reader {n}"), "body": format!("Comment {n}.")}),
        )
    };
    let asked_about = |id: &str| {
        fake.seen()
            .iter()
            .any(|s| s.path.contains(id) || s.body.to_string().contains(id))
    };
    // One comment in the first batch; the other four wait for it, then go as one.
    let mut ids = vec![post(0)];
    wait_for("the first delivery", 30, || asked_about(&ids[0]));
    ids.extend((1..5).map(post));
    wait_for("the second batch", 30, || asked_about(&ids[1]));
    let (status, log) = terminate(inbox);
    assert!(status.success(), "{status}: {log}");
    assert!(
        log.contains("3 comment(s) not tried as the inbox stops"),
        "{log}"
    );
    assert_eq!(fake.pulls().len(), 2, "the comment in hand was finished");
    for id in &ids[2..] {
        assert!(!asked_about(id), "{id} was left alone");
    }

    let inbox = InboxProcess::start(&config);
    inbox.wait_delivered(60);
    let mut heads: Vec<String> = fake.pulls().iter().map(|p| p.head.clone()).collect();
    heads.sort();
    let mut expected: Vec<String> = ids.iter().map(|id| format!("cairn/{id}")).collect();
    expected.sort();
    assert_eq!(heads, expected);
    for p in fake.pulls() {
        assert_eq!(fake.commits_ahead(&p.head), 1, "{}", p.head);
    }
}

/// Stopping the inbox while the forge does not answer: the request in flight is not
/// tried again, so the stop waits for one request's timeout, not for its retries; the
/// comment stays queued with no attempt counted, and goes out once on the next start.
/// In review mode the forge stalls creating the comment's branch; in batch mode,
/// opening the request once the comment is on the batch branch.
fn a_stop_does_not_wait_out_a_forge_that_does_not_answer(flavor: Flavor) {
    for (mode, call) in [
        ("review", forge(flavor).creating[0]),
        ("batch", forge(flavor).creating[2]),
    ] {
        let fake = fake(flavor);
        let dir = workspace(&fake, mode, "");
        // Longer than `timeout_secs` (2 s), for every try: its four would take 11.75 s.
        stall(&fake, call, Duration::from_secs(4), 4);
        let config = dir.path().join("cairn.toml");
        let inbox = InboxProcess::start(&config);
        let id = post_accepted(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": "Reader", "body": "Still there?"}),
        );
        let stalled = || fake.with(|s| s.rules.iter().map(|r| r.times).sum::<usize>());
        wait_for("the first try", 30, || stalled() < 4);
        let asked = Instant::now();
        let (status, log) = terminate(inbox);
        let took = asked.elapsed();
        assert!(status.success(), "{mode}: {status}: {log}");
        assert!(
            took < Duration::from_secs(5),
            "{mode}: the stop took {took:?}: {log}"
        );
        assert_eq!(stalled(), 3, "{mode}: the call was not tried again: {log}");
        assert!(
            log.contains("1 comment(s) not tried as the inbox stops"),
            "{mode}: {log}"
        );
        assert!(
            !log.contains("delivery failed"),
            "{mode}: no attempt counted: {log}"
        );

        fake.with(|s| s.rules.clear());
        let inbox = InboxProcess::start(&config);
        inbox.wait_delivered(60);
        let pulls = fake.pulls();
        assert_eq!(pulls.len(), 1, "{mode}: {pulls:#?}");
        assert_eq!(fake.commits_ahead(&pulls[0].head), 1, "{mode}");
        let files = fake.files(&pulls[0].head);
        assert!(files.keys().any(|f| f.contains(&id)), "{mode}: {files:?}");
    }
}

/// The primary limit (`X-RateLimit-Remaining: 0` until `X-RateLimit-Reset`) and a
/// secondary limit (`Retry-After`) are waited out, not hammered.
fn rate_limits_are_waited_out(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    let backend = backend(dir.path());
    fake.with(|s| s.limit = Some((4, Duration::from_secs(2))));
    let c = comment(20, "limited");
    assert!(backend.deliver(std::slice::from_ref(&c))[0].is_ok());
    let seen = fake.seen();
    assert!(seen.len() > 4, "more requests than one window allows");
    let refused: Vec<usize> = (0..seen.len())
        .filter(|&i| seen[i].status == 403 || seen[i].status == 429)
        .collect();
    if flavor == Flavor::Gitea {
        // Gitea announces nothing before the limit: it answers 429 with Retry-After,
        // and the next request waits that long.
        assert!(!refused.is_empty(), "the limit hit");
        for &i in &refused {
            let gap = seen[i + 1].at.duration_since(seen[i].at);
            assert!(
                gap >= Duration::from_millis(900),
                "waited {gap:?} after a 429"
            );
        }
    } else {
        assert!(
            refused.is_empty(),
            "cairn waited for the reset instead of being refused: {seen:#?}"
        );
    }
    assert_eq!(fake.pulls().len(), 1);
    fake.with(|s| s.limit = None);
    if flavor != Flavor::GitHub {
        return;
    }

    fake.add_rule(Method::POST, "/pulls", Fault::Secondary(1), 1);
    let d = comment(21, "secondary");
    assert!(backend.deliver(std::slice::from_ref(&d))[0].is_ok());
    let seen = fake.seen();
    let refused = seen
        .iter()
        .position(|s| s.status == 403)
        .expect("the limit hit");
    let next = &seen[refused + 1];
    assert!(
        next.at.duration_since(seen[refused].at) >= Duration::from_secs(1),
        "the next request waited for Retry-After"
    );
    assert_eq!(fake.pulls().len(), 2);
}

/// As a GitHub App: a signed JWT buys an installation token, which is renewed when it
/// is about to expire and when GitHub stops accepting it.
#[test]
fn a_github_app_authenticates_with_installation_tokens() {
    let fake = fake(Flavor::GitHub);
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let key = openssl::pkey::PKey::from_rsa(rsa).unwrap();
    let pem = key.private_key_to_pem_pkcs8().unwrap();
    fake.with(|s| {
        s.app = Some(common::fake_forge::App {
            app_id: 42,
            installation_id: 7,
            public_key_pem: key.public_key_to_pem().unwrap(),
            token_lifetime: Duration::from_secs(3600),
            issued: Vec::new(),
        })
    });
    let dir = workspace(
        &fake,
        "review",
        "app_id = 42\ninstallation_id = 7\napp_key_file = \"app.pem\"\n",
    );
    std::fs::write(dir.path().join("app.pem"), &pem).unwrap();
    let backend = backend(dir.path());
    assert!(backend.deliver(&[comment(30, "as an app")])[0].is_ok());
    let issued = || fake.with(|s| s.app.as_ref().unwrap().issued.clone());
    assert_eq!(issued(), ["ghs_1"], "one token for the whole delivery");
    assert_headers_ok(&fake);

    // GitHub revokes it: cairn gets another and carries on.
    fake.with(|s| s.revoked.insert("ghs_1".into()));
    assert!(backend.deliver(&[comment(31, "after revocation")])[0].is_ok());
    assert_eq!(issued(), ["ghs_1", "ghs_2"]);

    // Tokens about to expire are renewed before use.
    fake.with(|s| s.app.as_mut().unwrap().token_lifetime = Duration::from_secs(120));
    fake.with(|s| s.revoked.insert("ghs_2".into()));
    assert!(backend.deliver(&[comment(32, "short-lived")])[0].is_ok());
    assert!(
        issued().len() > 3,
        "each call renewed the short-lived token"
    );
    assert_eq!(fake.pulls().len(), 3);

    // A wrong key is refused by GitHub, and the attempt is worth retrying later.
    let other = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    std::fs::write(
        dir.path().join("app.pem"),
        other.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    let wrong = self::backend(dir.path());
    let result = wrong.deliver(&[comment(33, "wrong key")]);
    assert!(
        matches!(&result[0], Err(cairn::deliver::DeliveryError::Transient(why)) if why.contains("installation token")),
        "{result:?}"
    );
}

#[test]
fn while_the_forge_is_down_moderate_says_what_waits_in_the_spool() {
    let fake = fake(Flavor::GitHub);
    let dir = workspace(&fake, "review", "");
    fake.with(|s| s.outage_until = Some(Instant::now() + Duration::from_secs(600)));
    let inbox = InboxProcess::start(&dir.path().join("cairn.toml"));
    let id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "Waiting out the outage."}),
    );
    let mut list = moderate(dir.path(), &["list"]);
    wait_for("the comment in the spool", 60, || {
        list = moderate(dir.path(), &["list"]);
        stdout(&list).contains(&id)
    });
    assert!(!list.status.success());
    assert!(stdout(&list).contains("in the spool"), "{}", stdout(&list));
    assert!(
        stderr(&list).contains("cannot read the comments pending in the repository"),
        "{}",
        stderr(&list)
    );
    // It cannot be approved or rejected before it is delivered, and the moderator is
    // told so, not that there is no such comment.
    for act in ["approve", "reject"] {
        let out = moderate(dir.path(), &[act, &id]);
        assert!(!out.status.success());
        let said = stderr(&out);
        // Then where it stands in the spool, as `list` says it (queued, delivering).
        assert!(
            said.contains(&format!(
                "{id} (Ann on {THREAD}) is not in the site's repository yet: "
            )) && said.contains(&format!(
                "{act} it once the inbox has delivered it (`cairn moderate list` says where \
                     each comment is)"
            )),
            "{said}"
        );
    }

    fake.with(|s| s.outage_until = None);
    inbox.wait_delivered(90);
    let list = moderate(dir.path(), &["list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(
        stdout(&list).contains(&id) && stdout(&list).contains("/owner/site/pull/"),
        "{}",
        stdout(&list)
    );
}

#[test]
fn configuration_mistakes_are_explained() {
    let fake = fake(Flavor::GitHub);
    let dir = workspace(&fake, "review", "");
    let config = dir.path().join("cairn.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("repo = \"owner/site\"", "repo = \"site\""),
    )
    .unwrap();
    let out = moderate(dir.path(), &["list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("expected owner/name"),
        "{}",
        stderr(&out)
    );
    std::fs::write(&config, text.replace("token_file = \"token\"\n", "")).unwrap();
    let out = moderate(dir.path(), &["list"]);
    assert!(
        stderr(&out).contains("CAIRN_FORGE_TOKEN"),
        "{}",
        stderr(&out)
    );
}

const HOOK_SECRET: &str = "webhook-secret-for-tests";

/// A webhook delivery as `flavor` sends it, authenticated with `secret` (none: not at
/// all). `event` is the forge's name for a closed request's event, or any other.
fn send_hook(
    flavor: Flavor,
    addr: &str,
    closing: bool,
    delivery: &str,
    payload: &serde_json::Value,
    secret: Option<&str>,
) -> Answer {
    use hmac::Mac;
    let body = payload.to_string();
    let hex = |secret: &str| -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    let (path, event) = match flavor {
        Flavor::GitHub => {
            headers.push(("X-GitHub-Delivery", delivery.to_string()));
            headers.extend(secret.map(|s| ("X-Hub-Signature-256", format!("sha256={}", hex(s)))));
            (
                "github",
                (
                    "X-GitHub-Event",
                    if closing { "pull_request" } else { "ping" },
                ),
            )
        }
        Flavor::Gitea => {
            headers.push(("X-Gitea-Delivery", delivery.to_string()));
            headers.extend(secret.map(|s| ("X-Gitea-Signature", hex(s))));
            (
                "forgejo",
                (
                    "X-Gitea-Event",
                    if closing { "pull_request" } else { "push" },
                ),
            )
        }
        Flavor::GitLab => {
            headers.push(("X-Gitlab-Event-UUID", delivery.to_string()));
            headers.extend(secret.map(|s| ("X-Gitlab-Token", s.to_string())));
            (
                "gitlab",
                (
                    "X-Gitlab-Event",
                    if closing {
                        "Merge Request Hook"
                    } else {
                        "Push Hook"
                    },
                ),
            )
        }
    };
    headers.push((event.0, event.1.to_string()));
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http(
        addr,
        "POST",
        &format!("/v1/webhooks/{path}"),
        &headers,
        body.as_bytes(),
    )
    .unwrap()
}

/// The event a forge sends when request 1 (from `branch`) is merged or closed.
fn closed_event(
    flavor: Flavor,
    branch: &str,
    merged: bool,
    updated: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    if flavor == Flavor::GitLab {
        return serde_json::json!({
            "object_kind": "merge_request",
            "event_type": "merge_request",
            "project": {"path_with_namespace": "owner/site"},
            "object_attributes": {
                "iid": 1,
                "action": if merged { "merge" } else { "close" },
                "state": if merged { "merged" } else { "closed" },
                "source_branch": branch,
                "target_branch": "main",
                "updated_at": updated.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            }
        });
    }
    serde_json::json!({
        "action": "closed",
        "number": 1,
        "pull_request": {
            "number": 1,
            "state": "closed",
            "merged": merged,
            "updated_at": updated.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "head": {"ref": branch, "repo": {"full_name": "owner/site"}},
            "base": {"ref": "main", "repo": {"full_name": "owner/site"}}
        },
        "repository": {"full_name": "owner/site"}
    })
}

/// Webhooks: only correctly signed, fresh, first-time deliveries act; a merged or
/// closed pull request's branch is cleaned up.
fn webhooks_are_verified_and_clean_up_closed_pull_requests(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "webhook_secret_file = \"hook-secret\"\n");
    std::fs::write(dir.path().join("hook-secret"), HOOK_SECRET).unwrap();
    let config = dir.path().join("cairn.toml");
    let inbox = InboxProcess::start(&config);
    for n in 0..2 {
        let answer = post_json(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": format!("Hooked {n}"), "body": format!("Webhook test {n}.")}),
        )
        .unwrap();
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    inbox.wait_delivered(30);
    let heads: Vec<String> = fake.pulls().into_iter().map(|p| p.head).collect();
    assert_eq!(heads.len(), 2);
    let now = chrono::Utc::now();
    let merged = closed_event(flavor, &heads[0], true, now);

    let unsigned = send_hook(flavor, &inbox.addr, true, "d-1", &merged, None);
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);
    assert!(unsigned.body.contains("missing"), "{}", unsigned.body);
    let wrong = send_hook(
        flavor,
        &inbox.addr,
        true,
        "d-1",
        &merged,
        Some("not-the-secret"),
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(fake.branches().contains(&heads[0]), "nothing happened yet");

    let ok = send_hook(flavor, &inbox.addr, true, "d-1", &merged, Some(HOOK_SECRET));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        !fake.branches().contains(&heads[0]),
        "the merged branch is cleaned up"
    );

    let replay = send_hook(flavor, &inbox.addr, true, "d-1", &merged, Some(HOOK_SECRET));
    assert_eq!(replay.status, 409, "{}", replay.body);
    let stale = closed_event(flavor, &heads[1], false, now - chrono::Duration::days(2));
    let old = send_hook(flavor, &inbox.addr, true, "d-2", &stale, Some(HOOK_SECRET));
    assert_eq!(old.status, 409, "{}", old.body);
    assert!(fake.branches().contains(&heads[1]));

    let ping = send_hook(
        flavor,
        &inbox.addr,
        false,
        "d-3",
        &serde_json::json!({"zen": "Keep it simple."}),
        Some(HOOK_SECRET),
    );
    assert_eq!(ping.status, 200, "{}", ping.body);
    let metrics = http(&inbox.addr, "GET", "/metrics", &[], b"").unwrap().body;
    assert!(
        metrics
            .contains("cairn_inbox_webhooks_total{site=\"blog.example.org\",outcome=\"merged\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "cairn_inbox_webhooks_total{site=\"blog.example.org\",outcome=\"bad_signature\"} 2"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "cairn_inbox_webhooks_total{site=\"blog.example.org\",outcome=\"replayed\"} 2"
        ),
        "{metrics}"
    );

    // Delivery ids outlive a restart: the replay is still refused.
    let log = inbox.log.clone();
    let status = inbox.stop();
    assert!(status.success(), "a clean stop: {}", log.lock().unwrap());
    let inbox = InboxProcess::start(&config);
    let replay = send_hook(flavor, &inbox.addr, true, "d-1", &merged, Some(HOOK_SECRET));
    assert_eq!(replay.status, 409, "{}", replay.body);
    let closed = closed_event(flavor, &heads[1], false, chrono::Utc::now());
    let ok = send_hook(flavor, &inbox.addr, true, "d-4", &closed, Some(HOOK_SECRET));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        !fake.branches().contains(&heads[1]),
        "the closed branch is cleaned up"
    );

    // Not one of cairn's: left alone.
    let foreign = closed_event(flavor, "feature/x", true, chrono::Utc::now());
    let ignored = send_hook(
        flavor,
        &inbox.addr,
        true,
        "d-5",
        &foreign,
        Some(HOOK_SECRET),
    );
    assert_eq!(ignored.status, 200, "{}", ignored.body);
    assert!(ignored.body.contains("nothing to do"), "{}", ignored.body);
}

#[test]
fn webhooks_are_off_without_a_secret() {
    let flavor = Flavor::GitHub;
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    let inbox = InboxProcess::start(&dir.path().join("cairn.toml"));
    let event = closed_event(flavor, "cairn/x", true, chrono::Utc::now());
    let answer = send_hook(flavor, &inbox.addr, true, "d-1", &event, Some(HOOK_SECRET));
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert!(
        answer.body.contains("CAIRN_WEBHOOK_SECRET"),
        "{}",
        answer.body
    );
    // Only the configured forge's hooks are taken.
    let other = send_hook(
        Flavor::GitLab,
        &inbox.addr,
        true,
        "d-2",
        &event,
        Some(HOOK_SECRET),
    );
    assert_eq!(other.status, 404, "{}", other.body);
    assert!(
        other.body.contains("no webhooks for gitlab"),
        "{}",
        other.body
    );
}

/// An author's edit that reaches a pending comment's branch just after a moderator
/// merged its request (on the forge's page, or with `cairn moderate approve`) would stay
/// on a branch nobody looks at: it is asked for as a change of the published comment
/// instead, which the moderator then approves like any other.
fn an_edit_that_meets_a_merge_is_asked_for_as_a_change(flavor: Flavor) {
    let fake = fake(flavor);
    let dir = workspace(&fake, "review", "");
    let backend = backend(dir.path());
    let (first, other) = (comment(1, "First version."), comment(2, "Draft."));
    let results = backend.deliver(&[first.clone(), other.clone()]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let head = format!("cairn/{}", first.id);
    let number = fake.pulls().iter().find(|p| p.head == head).unwrap().number;
    let update = match flavor {
        Flavor::GitLab => "/repository/files/",
        _ => "/contents/",
    };
    let body_on = |branch: &str, c: &Comment| {
        let files = fake.files(branch);
        let text = String::from_utf8(files[&file_for(c)].clone()).unwrap();
        Comment::parse(&text, cairn::comment::Format::Yaml)
            .unwrap()
            .body
    };

    // No merge in the way: the edit lands on the comment's own branch.
    let draft = Comment {
        body: "Final draft.".into(),
        ..other.clone()
    };
    assert_eq!(backend.revise(&draft).unwrap(), None);
    assert_eq!(
        body_on(&format!("cairn/{}", other.id), &other),
        "Final draft."
    );

    fake.add_rule(Method::PUT, update, Fault::MergeFirst(number), 1);
    let edited = Comment {
        body: "Second version.".into(),
        ..first.clone()
    };
    let asked = backend.revise(&edited).unwrap();
    assert_eq!(body_on("main", &first), "First version.");
    let change = fake
        .pulls()
        .into_iter()
        .find(|p| p.open && p.head == format!("cairn/change-{}", first.id))
        .expect("the edit waits in a change request");
    assert!(
        asked
            .as_deref()
            .is_some_and(|at| at.ends_with(&change.number.to_string())),
        "{asked:?} for {change:?}"
    );
    assert_eq!(body_on(&change.head, &first), "Second version.");

    let approve = moderate(dir.path(), &["approve", &first.id.to_string()]);
    assert!(approve.status.success(), "{}", stderr(&approve));
    assert_eq!(body_on("main", &first), "Second version.");
    assert_headers_ok(&fake);
}

/// Runs each test that holds for every forge once per forge.
macro_rules! every_forge {
    ($($test:ident),* $(,)?) => {
        mod github {
            $(#[test] fn $test() { super::$test(super::Flavor::GitHub) })*
        }
        mod gitea {
            $(#[test] fn $test() { super::$test(super::Flavor::Gitea) })*
        }
        mod gitlab {
            $(#[test] fn $test() { super::$test(super::Flavor::GitLab) })*
        }
    };
}

every_forge!(
    review_mode_opens_pull_requests_that_moderate_merges_and_closes,
    batch_mode_collects_comments_in_one_pull_request,
    a_batch_settled_on_the_forge_is_not_offered_again,
    direct_mode_commits_to_the_site_branch,
    lost_answers_are_retried_without_duplicates,
    a_killed_inbox_redelivers_without_duplicates,
    an_outage_delays_but_loses_and_duplicates_nothing,
    a_comment_parked_while_the_forge_is_down_goes_out_once_it_answers,
    a_forge_that_does_not_answer_is_asked_once_per_batch,
    stopping_mid_batch_leaves_the_rest_for_the_next_start,
    a_stop_does_not_wait_out_a_forge_that_does_not_answer,
    rate_limits_are_waited_out,
    webhooks_are_verified_and_clean_up_closed_pull_requests,
    an_edit_that_meets_a_merge_is_asked_for_as_a_change,
);

#[test]
fn inbox_check_asks_the_forge_with_the_inboxs_token() {
    let fake = fake(Flavor::GitHub);
    let dir = workspace(&fake, "review", "");
    let config = dir.path().join("cairn.toml");
    let check = || {
        let out = cairn_with(
            dir.path(),
            &["inbox", "check", "--config", config.to_str().unwrap()],
            &[("CAIRN_SECRET", TEST_SECRET)],
        );
        (out.status.code(), stdout(&out))
    };
    let (code, said) = check();
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("\nrepository  owner/site: answers; 0 pending review\n"),
        "{said}"
    );
    std::fs::write(dir.path().join("token"), "not-the-token\n").unwrap();
    let (code, said) = check();
    assert_eq!(code, Some(1), "{said}");
    let line = said.lines().find(|l| l.starts_with("repository")).unwrap();
    assert!(
        line.starts_with("repository  FAILED: owner/site does not answer: ")
            && line.ends_with("HTTP 401: Bad credentials"),
        "{said}"
    );
}

#[test]
fn a_reload_that_names_the_sites_own_key_marks_the_next_request() {
    let fake = fake(Flavor::GitHub);
    let dir = workspace(&fake, "review", "");
    let config = dir.path().join("cairn.toml");
    let inbox = InboxProcess::start(&config);
    let post = |body: &str| {
        let answer = post_json(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": "Blogger", "email": "me@blog.example.org", "body": body}),
        )
        .unwrap();
        assert_eq!(answer.status, 202, "{}", answer.body);
        inbox.wait_delivered(30);
        let pulls = fake.pulls();
        pulls.into_iter().find(|p| p.body.contains(body)).unwrap()
    };
    let marked = "| Marked | as the site's own";
    let before = post("Before the reload.");
    assert!(!before.body.contains(marked), "{}", before.body);

    let secret = cairn::secret::Secret::new(TEST_SECRET.as_bytes()).unwrap();
    let key = secret.avatar_key("me@blog.example.org");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "[comments]\n",
            &format!("[comments]\nowners = [\"{key}\"]\n"),
        ),
    )
    .unwrap();
    inbox.hangup();
    wait_for("the reload", 30, || {
        inbox.log.lock().unwrap().contains("reloaded")
    });
    let after = post("After the reload.");
    assert!(after.body.contains(marked), "{}", after.body);
}
