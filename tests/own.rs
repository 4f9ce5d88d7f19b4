//! Authors' private links end to end: the real inbox gives the link on the
//! confirmation page and in the JSON answer; with it the author edits and withdraws a
//! pending comment (its branch or pull request changes) and asks for changes to a
//! published one (a `cairn/change-<id>` request the moderator merges), against a real
//! bare repository and against the local GitHub API; tampered and expired links are
//! refused.

mod common;

use std::path::{Path, PathBuf};

use common::fake_forge::{FakeForge, Flavor, TOKEN};
use common::*;

const SITE: &str = "https://blog.example.org";
const THREAD: &str = "/posts/a-quiet-post/";

fn config(dir: &Path, delivery: &str, extra: &str) -> PathBuf {
    let path = dir.join("inbox.toml");
    std::fs::write(
        &path,
        format!(
            r#"[site]
url = "{SITE}/"
[comments]
dir = "comments"
[inbox]
url = "http://127.0.0.1:9"
rate_per_hour = 0
{extra}
[inbox.delivery]
{delivery}
"#
        ),
    )
    .unwrap();
    path
}

/// The config of an inbox delivering to the local GitHub API in `mode`.
fn github_config(dir: &Path, fake: &FakeForge, mode: &str) -> PathBuf {
    std::fs::write(dir.join("token"), TOKEN).unwrap();
    let delivery = format!(
        "backend = \"github\"\nmode = \"{mode}\"\nrepo = \"owner/site\"\napi_url = \"{}\"\ntoken_file = \"token\"",
        fake.url
    );
    config(dir, &delivery, "")
}

fn moderate(dir: &Path, config: &Path, args: &[&str]) -> String {
    let mut all = vec!["moderate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", config.to_str().unwrap()]);
    let out = cairn(dir, &all);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Runs `cairn moderate` and checks that what it prints says each of `says`.
fn moderate_says(dir: &Path, config: &Path, args: &[&str], says: &[&str]) {
    let printed = moderate(dir, config, args);
    for part in says {
        assert!(
            printed.contains(part),
            "{args:?}: no {part:?} in\n{printed}"
        );
    }
}

fn get(inbox: &InboxProcess, path: &str) -> Answer {
    http(&inbox.addr, "GET", path, &[], b"").unwrap()
}

fn post_to(inbox: &InboxProcess, path: &str, body: &str) -> Answer {
    http(
        &inbox.addr,
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .unwrap()
}

/// Posts `fields` as JSON, which the inbox must accept: the comment's id and its
/// author's private link.
fn post_own(inbox: &InboxProcess, fields: serde_json::Value) -> (String, String) {
    let answer = post_json(&inbox.addr, &fields).unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let answer: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let id = answer["id"].as_str().unwrap().to_string();
    (id, own_link(answer["manage_url"].as_str().unwrap()))
}

fn on_branch(remote: &Path, branch: &str, id: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .args([
            "show",
            &format!("{branch}:comments/posts/a-quiet-post/{id}.yml"),
        ])
        .current_dir(remote)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn authors_edit_and_withdraw_through_their_private_link_with_the_git_backend() {
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    let config = config(dir.path(), "remote = \"site.git\"\nmode = \"review\"", "");
    let inbox = InboxProcess::start(&config);

    let form = post_form(
        &inbox.addr,
        SITE,
        &[
            ("thread", THREAD),
            ("author", "Ada"),
            ("body", "First draft."),
        ],
    )
    .unwrap();
    assert_eq!(form.status, 200, "{}", form.body);
    let ada_link = own_link(&form.body);
    let ada = ada_link
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let json = post_json(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Bob", "body": "Oops, wrong post."}),
    )
    .unwrap();
    assert_eq!(json.status, 202, "{}", json.body);
    let answer: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    let bob_link = own_link(answer["manage_url"].as_str().unwrap());
    inbox.wait_delivered(30);

    // Tampered links are refused: another key, or this key for another comment.
    let (kept, last) = ada_link.split_at(ada_link.len() - 1);
    let tampered = format!("{kept}{}", if last == "0" { "1" } else { "0" });
    assert_eq!(get(&inbox, &tampered).status, 403);
    let bob_id = bob_link
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    assert_eq!(get(&inbox, &ada_link.replace(&ada, bob_id)).status, 403);

    let page = get(&inbox, &ada_link);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(">\nFirst draft.</textarea>"),
        "{}",
        page.body
    );

    // A preview shows the comment with the new text and saves nothing.
    let (path, query) = ada_link.split_once('?').unwrap();
    let preview = post_to(
        &inbox,
        &format!("{path}/edit?{query}"),
        "body=*Second*+draft.&preview=1",
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("<em>Second</em> draft.")
            && preview.body.contains(">\n*Second* draft.</textarea>")
            && preview.body.contains("Nothing is saved yet"),
        "{}",
        preview.body
    );
    let file = on_branch(&remote, &format!("cairn/{ada}"), &ada).unwrap();
    assert!(file.contains("First draft."), "{file}");

    // Pending: the edit lands on its branch.
    let edited = post_to(
        &inbox,
        &format!("{path}/edit?{query}"),
        "body=Second+draft.",
    );
    assert_eq!(edited.status, 200, "{}", edited.body);
    let file = on_branch(&remote, &format!("cairn/{ada}"), &ada).unwrap();
    assert!(file.contains("Second draft."), "{file}");
    assert!(moderate(dir.path(), &config, &["show", &ada]).contains("Second draft."));
    let empty = post_to(&inbox, &format!("{path}/edit?{query}"), "body=+");
    assert_eq!(empty.status, 400, "{}", empty.body);

    // Pending: withdrawing deletes the branch; the link then says so.
    let (bob_path, bob_query) = bob_link.split_once('?').unwrap();
    let gone = post_to(&inbox, &format!("{bob_path}/withdraw?{bob_query}"), "");
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(on_branch(&remote, &format!("cairn/{bob_id}"), bob_id).is_none());
    let again = post_to(&inbox, &format!("{bob_path}/withdraw?{bob_query}"), "");
    assert_eq!(again.status, 410, "{}", again.body);

    // Published: an edit becomes a change request the moderator approves.
    moderate(dir.path(), &config, &["approve", &ada]);
    let edited = post_to(&inbox, &format!("{path}/edit?{query}"), "body=Final+text.");
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert!(
        edited.body.contains("moderator will look"),
        "{}",
        edited.body
    );
    assert!(on_branch(&remote, "main", &ada)
        .unwrap()
        .contains("Second draft."));
    let change = format!("cairn/change-{ada}");
    assert!(on_branch(&remote, &change, &ada)
        .unwrap()
        .contains("Final text."));
    moderate_says(
        dir.path(),
        &config,
        &["list"],
        &[&format!("{change}  (new text for a published comment)")],
    );
    moderate_says(
        dir.path(),
        &config,
        &["show", &ada],
        &[
            "asks:    to replace the published text",
            "published:\n    Second draft.\n\nnew:\n    Final text.\n",
        ],
    );
    moderate(dir.path(), &config, &["approve", &ada]);
    let published = on_branch(&remote, "main", &ada).unwrap();
    assert!(published.contains("Final text."), "{published}");
    assert!(
        published.contains("author: Ada"),
        "only the text changed: {published}"
    );

    // Published: withdrawing asks for the file's removal.
    let gone = post_to(&inbox, &format!("{path}/withdraw?{query}"), "");
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(
        on_branch(&remote, &change, &ada).is_none(),
        "the change removes the file"
    );
    // The moderator is told it is a withdrawal, not a comment to publish.
    moderate_says(
        dir.path(),
        &config,
        &["list"],
        &[
            "\"Final text.\"",
            "(WITHDRAWAL: approving takes the published comment down)",
        ],
    );
    moderate_says(
        dir.path(),
        &config,
        &["show", &ada],
        &["asks:    to take the published comment down; approving removes it"],
    );
    moderate_says(
        dir.path(),
        &config,
        &["approve", &ada],
        &["(its author's withdrawal) took it off main"],
    );
    assert!(on_branch(&remote, "main", &ada).is_none());
}

/// Saves `text` (one word) through the private link `link`, and checks that the page
/// is titled `saved`; then that the link with another key is refused, saying `invalid`.
fn saved_then_tampered(inbox: &InboxProcess, link: &str, text: &str, saved: &str, invalid: &str) {
    let (path, query) = link.split_once('?').unwrap();
    let page = post_to(
        inbox,
        &format!("{path}/edit?{query}"),
        &format!("body={text}"),
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("<title>{saved}</title>")),
        "{}",
        page.body
    );
    let refused = get(inbox, &link.replace("key=", "key=0"));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains(invalid), "{}", refused.body);
}

#[test]
fn the_private_links_pages_speak_the_readers_language_and_keep_a_refused_text() {
    let dir = tempfile::tempdir().unwrap();
    example_remote(dir.path());
    let config = config(dir.path(), "remote = \"site.git\"\nmode = \"review\"", "");
    let text = std::fs::read_to_string(&config).unwrap();
    let german = text.replace(
        &format!("url = \"{SITE}/\"\n"),
        &format!("url = \"{SITE}/\"\nlanguage = \"de\"\n[form]\nmax_body = 40\n"),
    );
    assert_ne!(german, text);
    std::fs::write(&config, german).unwrap();
    let inbox = InboxProcess::start(&config);
    let (id, link) = post_own(
        &inbox,
        serde_json::json!({"thread": THREAD, "author": "Ada", "body": "Erster Entwurf."}),
    );
    inbox.wait_delivered(30);

    let page = get(&inbox, &link);
    assert_eq!(page.status, 200, "{}", page.body);
    for part in [
        "<html lang=\"de\" dir=\"ltr\">",
        &format!("<link rel=\"stylesheet\" href=\"{SITE}/cairn.css\">"),
        "<title>Ihr Kommentar</title>",
        "Er wartet auf Freigabe",
        &format!("<li class=\"cairn-comment\" id=\"c-{}\">", &id),
        ">\nErster Entwurf.</textarea>",
        ">Änderung speichern</button>",
        ">Kommentar zurückziehen</button>",
        &format!("<a href=\"{SITE}{THREAD}\">Zurück zum Artikel</a>"),
    ] {
        assert!(page.body.contains(part), "{part} in {}", page.body);
    }

    // A text over the limit is not saved, and comes back in the form with the reason.
    let (path, query) = link.split_once('?').unwrap();
    let long = "Ein viel zu langer zweiter Entwurf, den niemand kürzen will.";
    let refused = post_to(
        &inbox,
        &format!("{path}/edit?{query}"),
        &format!("body={}", long.replace(' ', "+")),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    for part in [
        "Ihre Änderung wurde nicht gespeichert",
        &format!(">\n{long}</textarea>"),
        "aria-invalid=\"true\"",
        "Das ist zu lang: höchstens 40 Zeichen.",
    ] {
        assert!(refused.body.contains(part), "{part} in {}", refused.body);
    }
    saved_then_tampered(&inbox, &link, "Kurz.", "Gespeichert", "Ungültiger Link");

    // A reader of the site's French pages gets a link whose pages are French, and the
    // pages it leads to keep the language; a language the link cannot have is the site's.
    let (_, link) = post_own(
        &inbox,
        serde_json::json!({"thread": THREAD, "author": "Zoé", "body": "Premier jet.", "lang": "fr-CA"}),
    );
    assert!(link.ends_with("&lang=fr"), "{link}");
    inbox.wait_delivered(30);
    let page = get(&inbox, &link);
    assert_eq!(page.status, 200, "{}", page.body);
    let (path, query) = link.split_once('?').unwrap();
    for part in [
        "<html lang=\"fr\" dir=\"ltr\">",
        "<title>Votre commentaire</title>",
        ">Enregistrer la modification</button>",
        &format!(
            "action=\"http://127.0.0.1:9{path}/edit?{}\"",
            query.replace('&', "&amp;")
        ),
        &format!(
            "action=\"http://127.0.0.1:9{path}/withdraw?{}\"",
            query.replace('&', "&amp;")
        ),
    ] {
        assert!(page.body.contains(part), "{part} in {}", page.body);
    }
    saved_then_tampered(&inbox, &link, "Court.", "Enregistré", "Lien non valide");
    let unknown = get(&inbox, &link.replace("lang=fr", "lang=xx%22"));
    assert_eq!(unknown.status, 200, "{}", unknown.body);
    assert!(
        unknown.body.contains("<title>Ihr Kommentar</title>"),
        "{}",
        unknown.body
    );
    assert!(!unknown.body.contains("lang=xx"), "{}", unknown.body);
}

#[test]
fn published_comments_cannot_be_changed_after_the_window() {
    let dir = tempfile::tempdir().unwrap();
    example_remote(dir.path());
    let config = config(
        dir.path(),
        "remote = \"site.git\"\nmode = \"review\"",
        "edit_hours = 0",
    );
    let inbox = InboxProcess::start(&config);
    let (id, link) = post_own(
        &inbox,
        serde_json::json!({"thread": THREAD, "author": "Cy", "body": "Too late to change."}),
    );
    inbox.wait_delivered(30);
    assert_eq!(get(&inbox, &link).status, 200, "pending: any time");
    moderate(dir.path(), &config, &["approve", &id]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let late = get(&inbox, &link);
    assert_eq!(late.status, 410, "{}", late.body);
    assert!(late.body.contains("has passed"), "{}", late.body);
}

#[test]
fn authors_change_their_pull_request_on_a_forge() {
    let fake = FakeForge::start(Flavor::GitHub, &[("README.md", "# site\n")]);
    let dir = tempfile::tempdir().unwrap();
    let config = github_config(dir.path(), &fake, "review");
    let inbox = InboxProcess::start(&config);
    let (id, link) = post_own(
        &inbox,
        serde_json::json!({"thread": THREAD, "author": "Di", "body": "Draft."}),
    );
    let (path, query) = link.split_once('?').unwrap();
    inbox.wait_delivered(30);
    let file = format!("comments/posts/a-quiet-post/{id}.yml");

    let edited = post_to(&inbox, &format!("{path}/edit?{query}"), "body=Better.");
    assert_eq!(edited.status, 200, "{}", edited.body);
    let head = format!("cairn/{id}");
    let text = String::from_utf8(fake.files(&head)[&file].clone()).unwrap();
    assert!(text.contains("Better."), "{text}");
    assert_eq!(fake.pulls().len(), 1, "the same pull request");

    moderate(dir.path(), &config, &["approve", &id]);
    let edited = post_to(&inbox, &format!("{path}/edit?{query}"), "body=Best.");
    assert_eq!(edited.status, 200, "{}", edited.body);
    let change = fake
        .pulls()
        .into_iter()
        .find(|p| p.head == format!("cairn/change-{id}"))
        .expect("a change request");
    assert!(
        change.open && change.title.contains("Edit of the comment by Di"),
        "{change:?}"
    );
    assert!(change.body.contains("> Best."), "{}", change.body);
    moderate_says(
        dir.path(),
        &config,
        &["list"],
        &["/pull/2  (new text for a published comment)"],
    );
    moderate_says(
        dir.path(),
        &config,
        &["show", &id],
        &["published:\n    Better.\n\nnew:\n    Best.\n"],
    );
    moderate(dir.path(), &config, &["approve", &id]);
    let text = String::from_utf8(fake.files("main")[&file].clone()).unwrap();
    assert!(text.contains("Best."), "{text}");

    let gone = post_to(&inbox, &format!("{path}/withdraw?{query}"), "");
    assert_eq!(gone.status, 200, "{}", gone.body);
    let removal = fake
        .pulls()
        .into_iter()
        .find(|p| p.open && p.head == format!("cairn/change-{id}"))
        .expect("a removal request");
    assert!(removal.title.contains("Withdrawal"), "{removal:?}");
    assert!(!fake.files(&removal.head).contains_key(&file));
    // The file is gone from the request, yet the moderator sees it, for what it is.
    moderate_says(
        dir.path(),
        &config,
        &["list"],
        &[
            "\"Best.\"",
            "(WITHDRAWAL: approving takes the published comment down)",
        ],
    );
    moderate(dir.path(), &config, &["approve", &id]);
    assert!(!fake.files("main").contains_key(&file));
}

/// Direct mode has no moderator: an author's edit or withdrawal of their published
/// comment is committed to the site branch at once, and the pages say so.
fn changes_apply_at_once_in_direct_mode(
    dir: &Path,
    config: &Path,
    on_main: impl Fn(&str) -> Option<String>,
    requests: impl Fn() -> usize,
) {
    let inbox = InboxProcess::start(config);
    let (id, link) = post_own(
        &inbox,
        serde_json::json!({"thread": THREAD, "author": "Eve", "body": "Posted."}),
    );
    let (path, query) = link.split_once('?').unwrap();
    inbox.wait_delivered(30);
    assert!(on_main(&id).unwrap().contains("Posted."));

    let page = get(&inbox, &link);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("a change or a withdrawal shows once the site is next built"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("moderat"), "{}", page.body);

    let edited = post_to(&inbox, &format!("{path}/edit?{query}"), "body=Corrected.");
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert!(
        edited.body.contains("it shows once the site is next built"),
        "{}",
        edited.body
    );
    let file = on_main(&id).unwrap();
    assert!(
        file.contains("Corrected.") && file.contains("author: Eve"),
        "{file}"
    );
    assert_eq!(requests(), 0, "nothing for a moderator");
    moderate_says(
        dir,
        config,
        &["list"],
        &["no pending comments (inbox.delivery.mode is direct: comments go straight to main)"],
    );

    let gone = post_to(&inbox, &format!("{path}/withdraw?{query}"), "");
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(gone.body.contains("taken down"), "{}", gone.body);
    assert!(on_main(&id).is_none(), "the file is off the site branch");
    assert_eq!(requests(), 0);
    assert_eq!(get(&inbox, &link).status, 410);
}

#[test]
fn in_direct_mode_authors_change_their_published_comment_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    let config = config(dir.path(), "remote = \"site.git\"\nmode = \"direct\"", "");
    let branches = || {
        let out = std::process::Command::new("git")
            .args(["branch", "--list", "cairn/*"])
            .current_dir(&remote)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    changes_apply_at_once_in_direct_mode(
        dir.path(),
        &config,
        |id| on_branch(&remote, "main", id),
        branches,
    );
}

#[test]
fn in_direct_mode_authors_change_their_published_comment_at_once_on_a_forge() {
    let fake = FakeForge::start(Flavor::GitHub, &[("README.md", "# site\n")]);
    let dir = tempfile::tempdir().unwrap();
    let config = github_config(dir.path(), &fake, "direct");
    changes_apply_at_once_in_direct_mode(
        dir.path(),
        &config,
        |id| {
            let file = format!("comments/posts/a-quiet-post/{id}.yml");
            fake.files("main")
                .get(&file)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        },
        || fake.pulls().len(),
    );
}

#[test]
fn the_spam_check_sees_an_authors_change_and_can_turn_it_away() {
    let (checker, asked) = receiver(|body| {
        let ask: serde_json::Value = serde_json::from_str(body).unwrap();
        let spam = ask["body"].as_str().unwrap().contains("casino");
        serde_json::json!({ "spam": spam }).to_string()
    });
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    std::fs::write(dir.path().join("spam-token"), "s3cret-token\n").unwrap();
    let config = config(
        dir.path(),
        "remote = \"site.git\"\nmode = \"direct\"",
        &format!("[inbox.spam]\nurl = \"{checker}\"\ntoken_file = \"spam-token\""),
    );
    let inbox = InboxProcess::start(&config);
    let (id, link) = post_own(
        &inbox,
        serde_json::json!({"thread": THREAD, "author": "Ada", "email": "ada@example.org", "body": "A fine first text."}),
    );
    inbox.wait_delivered(30);
    let (path, query) = link.split_once('?').unwrap();

    // In direct mode a change goes live with the next build: it is checked first.
    let refused = post_to(
        &inbox,
        &format!("{path}/edit?{query}"),
        "body=Now+visit+my+casino.",
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains(">\nNow visit my casino.</textarea>")
            && refused.body.contains("took your comment for spam"),
        "{}",
        refused.body
    );
    let published = on_branch(&remote, "main", &id).unwrap();
    assert!(published.contains("A fine first text."), "{published}");

    let saved = post_to(
        &inbox,
        &format!("{path}/edit?{query}"),
        "body=A+better+text.",
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(on_branch(&remote, "main", &id)
        .unwrap()
        .contains("A better text."));

    let asked = asked.lock().unwrap();
    let events: Vec<String> = asked
        .iter()
        .map(|(head, body)| {
            assert!(
                head.to_ascii_lowercase()
                    .contains("authorization: bearer s3cret-token"),
                "{head}"
            );
            assert!(!body.contains("ada@example.org"), "{body}");
            let ask: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(ask["id"], id.as_str());
            ask["event"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(events, ["comment", "edit", "edit"]);
}

#[test]
fn on_a_closed_thread_an_author_can_withdraw_but_not_change_their_comment() {
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    let config = config(dir.path(), "remote = \"site.git\"\nmode = \"direct\"", "");
    let inbox = InboxProcess::start(&config);
    let (id, link) = post_own(
        &inbox,
        serde_json::json!({"thread": THREAD, "author": "Ada", "body": "Before the close."}),
    );
    inbox.wait_delivered(30);

    // The owner closes the thread, and reloads the inbox.
    let text = std::fs::read_to_string(&config).unwrap();
    let closed = text.replace(
        "dir = \"comments\"\n",
        &format!("dir = \"comments\"\nclosed = [\"{THREAD}\"]\n"),
    );
    assert_ne!(closed, text);
    std::fs::write(&config, closed).unwrap();
    inbox.hangup();
    let mut page = get(&inbox, &link);
    wait_for("the reload", 30, || {
        page = get(&inbox, &link);
        page.body.contains("can no longer be changed")
    });
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<textarea"), "{}", page.body);
    assert!(page.body.contains("Withdraw the comment"), "{}", page.body);

    let (path, query) = link.split_once('?').unwrap();
    let edit = post_to(
        &inbox,
        &format!("{path}/edit?{query}"),
        "body=After+the+close.",
    );
    assert_eq!(edit.status, 403, "{}", edit.body);
    assert!(
        edit.body.contains(">\nAfter the close.</textarea>"),
        "the refused text is given back: {}",
        edit.body
    );
    assert!(on_branch(&remote, "main", &id)
        .unwrap()
        .contains("Before the close."));

    let gone = post_to(&inbox, &format!("{path}/withdraw?{query}"), "");
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(on_branch(&remote, "main", &id).is_none());
}
