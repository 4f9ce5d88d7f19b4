//! The inbox end to end: the real `cairn inbox` binary on a port-0 listener delivering
//! to a real bare repository, `cairn moderate` approving, and `cairn render` showing
//! the comment in the page. Also: crash recovery and replicas sharing a remote.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;

const SITE: &str = "https://blog.example.org";
const THREAD: &str = "/posts/a-quiet-post/";

/// A site repository (the example site, pushed to a bare remote) and an inbox config
/// delivering to it.
struct Workspace {
    dir: tempfile::TempDir,
    remote: PathBuf,
}

impl Workspace {
    fn new(mode: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace {
            remote: example_remote(dir.path()),
            dir,
        };
        ws.write_config("inbox.toml", "spool", mode);
        ws
    }

    fn write_config(&self, name: &str, spool: &str, mode: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                r#"[site]
url = "{SITE}/"
[comments]
dir = "comments"
[form]
required = ["author", "body"]
[inbox]
url = "http://127.0.0.1:9"
spool = "{spool}"
rate_per_hour = 0
[inbox.delivery]
remote = "site.git"
mode = "{mode}"
"#
            ),
        )
        .unwrap();
        path
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("inbox.toml")
    }

    fn moderate(&self, args: &[&str]) -> std::process::Output {
        let config = self.config();
        let mut all = vec!["moderate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", config.to_str().unwrap()]);
        cairn(self.dir.path(), &all)
    }

    /// What the site's CI does: check out the site branch, build (here: the prebuilt
    /// pages), `cairn render`. Returns the rendered page of `THREAD`.
    fn build(&self) -> String {
        let checkout = tempfile::tempdir().unwrap();
        git(
            checkout.path(),
            &["clone", "-q", self.remote.to_str().unwrap(), "site"],
        );
        let site = checkout.path().join("site");
        let out = cairn(&site, &["render", "prebuilt", "--out", "public"]);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::read_to_string(
            site.join("public")
                .join(THREAD.trim_matches('/'))
                .join("index.html"),
        )
        .unwrap()
    }

    fn branches(&self) -> Vec<String> {
        git(
            &self.remote,
            &["for-each-ref", "--format=%(refname:short)", "refs/heads/"],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// Ids in the `cairn-id:` lines of a branch's commits, oldest first.
    fn delivered_ids(&self, branch: &str) -> Vec<String> {
        git(&self.remote, &["log", "--reverse", "--format=%B", branch])
            .lines()
            .filter_map(|l| l.strip_prefix("cairn-id: "))
            .map(str::to_string)
            .collect()
    }
}

fn comment_id(page: &str) -> String {
    let start = page.find("id=\"c-").expect("the page shows the comment") + 6;
    page[start..start + 26].to_string()
}

fn fields<'a>(author: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("thread", THREAD),
        ("parent", ""),
        ("author", author),
        ("email", "reader@example.net"),
        ("website", ""),
        ("body", body),
        ("subject", ""),
    ]
}

#[test]
fn a_spam_wave_is_found_and_rejected_in_one_command() {
    let ws = Workspace::new("review");
    let inbox = InboxProcess::start(&ws.config());
    let post = |thread: &str, author: &str, website: &str, body: &str| {
        post_accepted(
            &inbox.addr,
            &serde_json::json!({"thread": thread, "author": author, "website": website, "body": body}),
        )
    };
    let spam = [
        post(THREAD, "Lucky", "", "Win big at the Casino tonight"),
        post(
            "/posts/other/",
            "Lucky",
            "https://casino.example",
            "Nice post!",
        ),
        post(THREAD, "CASINO bonus", "", "Great read."),
    ];
    let ham = [
        post(THREAD, "Ann", "", "A real comment."),
        post("/posts/other/", "Bo", "", "Another one."),
    ];
    inbox.wait_delivered(30);

    let listed = |args: &[&str]| {
        let mut all = vec!["list"];
        all.extend_from_slice(args);
        let out = ws.moderate(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let mut ids: Vec<String> = listed(&["--matching", "casino", "--format", "ids"])
        .lines()
        .map(str::to_string)
        .collect();
    ids.sort();
    let mut expected = spam.to_vec();
    expected.sort();
    assert_eq!(ids, expected, "the name, website and text are searched");
    let on_thread = listed(&["--thread", THREAD, "--matching", "CASINO"]);
    assert_eq!(on_thread.lines().count(), 2, "{on_thread}");
    assert!(on_thread.contains(&spam[0]) && on_thread.contains(&spam[2]));
    let under = listed(&["--thread", "/posts/o*", "--format", "ids"]);
    assert_eq!(under.lines().count(), 2, "{under}");
    assert!(
        under.contains(&spam[1]) && under.contains(&ham[1]),
        "{under}"
    );
    let json: serde_json::Value = serde_json::from_str(&listed(&["--format", "json"])).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 5);
    let first = items.iter().find(|i| i["id"] == ham[0].as_str()).unwrap();
    assert_eq!(first["author"], "Ann");
    assert_eq!(first["body"], "A real comment.");
    assert_eq!(first["thread"], THREAD);
    assert_eq!(first["state"], "pending");
    assert_eq!(first["asks"], "publish");
    assert_eq!(first["where"], format!("cairn/{}", ham[0]));

    let mut reject = vec!["reject"];
    reject.extend(ids.iter().map(String::as_str));
    let rejected = ws.moderate(&reject);
    assert!(rejected.status.success(), "{}", stderr(&rejected));
    let mut left = ws.branches();
    left.sort();
    let mut kept: Vec<String> = ham.iter().map(|id| format!("cairn/{id}")).collect();
    kept.push("main".into());
    kept.sort();
    assert_eq!(left, kept);
    assert_eq!(
        listed(&["--matching", "casino"]),
        "no pending comments match\n"
    );

    let bad = ws.moderate(&["list", "--thread", "/a*/b*"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("--thread `/a*/b*`: a thread path starts with `/`"),
        "{}",
        stderr(&bad)
    );
}

/// `cairn moderate review` shows each pending comment and does what the moderator
/// answers; the filters of `list` choose which, and the end of the input stops it.
#[test]
fn a_review_goes_through_the_pending_comments_one_by_one() {
    let ws = Workspace::new("review");
    let inbox = InboxProcess::start(&ws.config());
    let post = |thread: &str, author: &str, body: &str| {
        post_accepted(
            &inbox.addr,
            &serde_json::json!({"thread": thread, "author": author, "body": body}),
        )
    };
    let ann = post(THREAD, "Ann", "A thoughtful comment.");
    let spam = post(THREAD, "Lucky", "Win big at the casino");
    let bo = post(THREAD, "Bo", "Not sure yet.");
    let other = post("/posts/other/", "Cy", "On another post.");
    inbox.wait_delivered(30);

    let config = ws.config();
    let review = |args: &[&str], input: &str| {
        let mut all = vec!["moderate", "review"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", config.to_str().unwrap()]);
        cairn_input(ws.dir.path(), &all, input)
    };
    // Approve, reject, an answer it does not take, then skip; the end of the input
    // stops the review before the last comment.
    let out = review(&["--thread", THREAD], "a\nR\nmaybe\n\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    for part in [
        "[1 of 3]\nid:      ".to_string(),
        format!("id:      {ann}\n"),
        "    A thoughtful comment.\n".to_string(),
        "approve, reject, skip or quit? [a/r/s/q] ".to_string(),
        format!("approved {ann} (Ann on {THREAD}): cairn/{ann} is now on main"),
        format!("rejected {spam} (Lucky on {THREAD}): removed from cairn/{spam}"),
        "`maybe`: answer a, r, s or q".to_string(),
        format!("[3 of 3]\nid:      {bo}\n"),
        "approved 1, rejected 1, left 1 of 3 pending".to_string(),
    ] {
        assert!(said.contains(&part), "{part:?} in\n{said}");
    }
    assert!(!said.contains(&other), "{said}");
    let mut left = ws.branches();
    left.sort();
    let mut expected = vec![
        format!("cairn/{bo}"),
        format!("cairn/{other}"),
        "main".into(),
    ];
    expected.sort();
    assert_eq!(left, expected);
    assert!(ws.build().contains("A thoughtful comment."));

    // Quitting leaves the rest; what is left comes first the next time.
    let out = review(&[], "q\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains(&format!("[1 of 2]\nid:      {bo}\n")),
        "{said}"
    );
    assert!(
        said.contains("approved 0, rejected 0, left 2 of 2 pending"),
        "{said}"
    );
    assert_eq!(ws.branches().len(), 3);

    let out = review(&["--matching", "nothing like it"], "");
    assert_eq!(stdout(&out), "no pending comments match\n");
}

/// A review shows a comment; its author changes it before the moderator answers. The
/// approval publishes the comment as it is then, and the review shows what that says.
#[test]
fn a_review_shows_what_was_published_when_the_author_changed_it_meanwhile() {
    use std::io::{Read, Write};
    let ws = Workspace::new("review");
    let inbox = InboxProcess::start(&ws.config());
    let id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "A harmless remark."}),
    );
    inbox.wait_delivered(30);

    let config = ws.config();
    let mut review = command(
        ws.dir.path(),
        &["moderate", "review", "--config", config.to_str().unwrap()],
        &[],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut shown = Vec::new();
    let mut stdout = review.stdout.take().unwrap();
    while !String::from_utf8_lossy(&shown).contains("[a/r/s/q] ") {
        let mut chunk = [0; 4096];
        let n = stdout.read(&mut chunk).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&shown));
        shown.extend_from_slice(&chunk[..n]);
    }
    assert!(String::from_utf8_lossy(&shown).contains("    A harmless remark.\n"));

    // The author's edit reaches the comment's branch, as the inbox commits it.
    author_edits(&ws.remote, &id, "A harmless remark.", "Buy pills now.");

    let mut stdin = review.stdin.take().unwrap();
    stdin.write_all(b"a\n").unwrap();
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(review.wait().unwrap().success(), "{rest}");
    assert!(
        rest.contains(&format!(
            "note: its author changed it while you read it; what is now on main says:\n\n    \
             Buy pills now.\n\n(`cairn forget --id {id}`"
        )),
        "{rest}"
    );
    assert!(ws.build().contains("Buy pills now."));
}

/// Commits `from` → `to` in comment `id`'s file on its branch of `remote`, as the
/// inbox does when its author edits it.
fn author_edits(remote: &std::path::Path, id: &str, from: &str, to: &str) {
    let checkout = tempfile::tempdir().unwrap();
    let branch = format!("cairn/{id}");
    let args = [
        "clone",
        "-q",
        "-b",
        &branch,
        remote.to_str().unwrap(),
        "edit",
    ];
    git(checkout.path(), &args);
    let clone = checkout.path().join("edit");
    let file = walkdir::WalkDir::new(clone.join("comments"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.to_string_lossy().ends_with(&format!("{id}.yml")))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(&file, text.replace(from, to)).unwrap();
    git(&clone, &["commit", "-qam", "Edit"]);
    git(&clone, &["push", "-q", "origin", "HEAD"]);
}

/// A moderator's one-click link shows the comment as it is when opened; if its author
/// changes it before the button is pressed, the button shows the new text instead of
/// approving what the moderator did not see.
#[test]
fn a_moderation_link_approves_only_the_text_it_showed() {
    let ws = Workspace::new("review");
    let inbox = InboxProcess::start(&ws.config());
    let id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "A <harmless> remark."}),
    );
    inbox.wait_delivered(30);
    let secret = cairn::secret::Secret::new(TEST_SECRET.as_bytes()).unwrap();
    let link = cairn::inbox::links::link(
        "http://127.0.0.1:9",
        &secret,
        id.parse().unwrap(),
        cairn::inbox::links::Action::Approve,
        chrono::Utc::now() + chrono::Duration::hours(1),
    );
    let path = link.trim_start_matches("http://127.0.0.1:9");
    let seen = |page: &str| {
        let marker = "name=\"seen\" value=\"";
        let at = page.find(marker).expect("the button's digest") + marker.len();
        page[at..at + 32].to_string()
    };
    let form = [("Content-Type", "application/x-www-form-urlencoded")];

    let page = http(&inbox.addr, "GET", path, &[], b"").unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("A &lt;harmless&gt; remark."),
        "{}",
        page.body
    );
    let shown = seen(&page.body);

    author_edits(&ws.remote, &id, "A <harmless> remark.", "Buy pills now.");
    let refused = http(
        &inbox.addr,
        "POST",
        path,
        &form,
        format!("seen={shown}").as_bytes(),
    )
    .unwrap();
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("the comment changed"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Buy pills now."), "{}", refused.body);
    assert!(
        ws.branches().contains(&format!("cairn/{id}")),
        "not approved"
    );

    // The moderator saw the new text; its button approves it.
    let now = seen(&refused.body);
    assert_ne!(now, shown);
    let done = http(
        &inbox.addr,
        "POST",
        path,
        &form,
        format!("seen={now}").as_bytes(),
    )
    .unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Approved"), "{}", done.body);
    assert!(ws.build().contains("Buy pills now."));
    let again = http(&inbox.addr, "GET", path, &[], b"").unwrap();
    assert_eq!(again.status, 410, "{}", again.body);
}

#[test]
fn comments_parked_while_the_repository_is_away_go_out_once_it_is_back() {
    let ws = Workspace::new("review");
    let config = ws.config();
    park_after_one_attempt(&config);
    let inbox = InboxProcess::start(&config);
    // The repository moves away while the inbox runs, and comes back after it gave up.
    let away = ws.remote.with_extension("away");
    std::fs::rename(&ws.remote, &away).unwrap();
    let id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "Stuck."}),
    );
    wait_for("the comment to be parked", 30, || {
        inbox.spool()["failed"] == 1
    });
    // Back (`cairn moderate` reads it too), unknown to the inbox until it next tries.
    std::fs::rename(&away, &ws.remote).unwrap();

    let list = stdout(&ws.moderate(&["list"]));
    assert!(
        list.contains(&id)
            && list.contains(
                "FAILED, parked after 1 attempts (tried again once the site's repository \
                 answers, or at a restart): cannot fetch from "
            ),
        "{list}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&ws.moderate(&["list", "--format", "json"]))).unwrap();
    let item = &json[0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(
        (
            &item["state"],
            &item["where"],
            &item["attempts"],
            &item["outage"]
        ),
        (&"failed".into(), &"spool".into(), &1.into(), &true.into())
    );
    assert!(!item["last_error"].as_str().unwrap().is_empty(), "{item}");
    assert_eq!(
        stdout(&ws.moderate(&["list", "--format", "ids"])),
        "",
        "a parked comment cannot be approved or rejected yet"
    );
    // Asked to, `moderate` says why, as `list` does, rather than that it knows no
    // such comment.
    let approve = ws.moderate(&["approve", &id]);
    assert!(!approve.status.success());
    assert!(
        stderr(&approve).contains(&format!(
            "{id} (Ann on {THREAD}) is not in the site's repository yet: FAILED, parked after 1 \
             attempts (tried again once the site's repository answers, or at a restart): \
             cannot fetch from "
        )) && stderr(&approve).contains(
            "; approve it once the inbox has delivered it (`cairn moderate list` says where \
             each comment is)"
        ),
        "{}",
        stderr(&approve)
    );

    // The next comment goes through: the parked one follows, with no restart.
    let next = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Bo", "body": "Made it."}),
    );
    inbox.wait_all_delivered(30);
    let branches = ws.branches();
    assert!(
        branches.contains(&format!("cairn/{id}")) && branches.contains(&format!("cairn/{next}")),
        "{branches:?}"
    );
    assert!(inbox.log.lock().unwrap().contains(
        "1 parked comment(s) queued again for delivery: the site's repository answers again"
    ));
    let mut ids = [id, next];
    ids.sort();
    assert_eq!(
        stdout(&ws.moderate(&["list", "--format", "ids"])),
        format!("{}\n{}\n", ids[0], ids[1])
    );
}

#[test]
fn sighup_reloads_the_rules_without_a_restart() {
    let ws = Workspace::new("review");
    let config = ws.config();
    let inbox = InboxProcess::start(&config);
    let casino = |n: usize| {
        post_json(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": "Lucky", "body": format!("Casino night {n}")}),
        )
        .unwrap()
        .status
    };
    assert_eq!(casino(0), 202);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[form]\n", "[form]\nblocked = [\"casino\"]\n"),
    )
    .unwrap();
    inbox.hangup();
    let mut n = 0;
    wait_for("the reloaded rules", 30, || {
        n += 1;
        casino(n) == 403
    });
    wait_for("the reload's report", 30, || {
        inbox.log.lock().unwrap().contains("reloaded")
    });

    // A mistake in the file is reported, and the rules in force stay.
    std::fs::write(
        &config,
        text.replace("[form]\n", "[form]\nblocked = \"casino\"\n"),
    )
    .unwrap();
    inbox.hangup();
    wait_for("the reload's error", 30, || {
        inbox.log.lock().unwrap().contains("cannot reload")
    });
    assert_eq!(casino(1000), 403);
    assert_eq!(
        post_json(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "Still here."}),
        )
        .unwrap()
        .status,
        202
    );
}

#[test]
fn moderate_keeps_its_mirror_between_runs_and_fetches_only_what_changed() {
    let ws = Workspace::new("review");
    let cache = tempfile::tempdir().unwrap();
    let moderate = |args: &[&str]| {
        let config = ws.config();
        let mut all = vec!["moderate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", config.to_str().unwrap()]);
        let env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap())];
        let out = cairn_with(ws.dir.path(), &all, &env);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    // The packs in the one mirror there is.
    let packs = || {
        let mirrors: Vec<_> = std::fs::read_dir(cache.path().join("cairn/moderate"))
            .unwrap()
            .collect();
        assert_eq!(mirrors.len(), 1, "one mirror for one repository");
        testing::files_ending(
            &mirrors[0]
                .as_ref()
                .unwrap()
                .path()
                .join("repo.git/objects/pack"),
            "pack",
        )
    };
    let inbox = InboxProcess::start(&ws.config());
    let post = |body: &str| {
        let id = post_accepted(
            &inbox.addr,
            &serde_json::json!({"thread": THREAD, "author": "Ann", "body": body}),
        );
        inbox.wait_delivered(10);
        id
    };
    let first = post("The first.");
    assert!(moderate(&["list"]).contains(&first));
    let copied = packs();
    assert!(copied >= 1);
    // Nothing changed: nothing is copied again.
    assert!(moderate(&["list"]).contains(&first));
    assert_eq!(packs(), copied);
    // A new comment: only what it brings.
    let second = post("The second.");
    let listed = moderate(&["list"]);
    assert!(
        listed.contains(&first) && listed.contains(&second),
        "{listed}"
    );
    assert_eq!(packs(), copied + 1);
    // What the mirror knew from before is acted on as it is now.
    moderate(&["approve", &first]);
    let listed = moderate(&["list"]);
    assert!(
        !listed.contains(&first) && listed.contains(&second),
        "{listed}"
    );
    assert!(ws.build().contains(&format!("id=\"c-{first}\"")));
}

#[test]
fn form_post_becomes_a_branch_then_approval_publishes_it() {
    let ws = Workspace::new("review");
    let inbox = InboxProcess::start(&ws.config());
    let answer = post_form(
        &inbox.addr,
        SITE,
        &fields("Ann", "First! Use `cargo test`."),
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("awaits moderation"));
    let id = comment_id(&answer.body);
    // Regression: a lone comment waited for the worker's idle timeout (a minute)
    // when its file was written just after the worker had looked.
    inbox.wait_delivered(10);
    let branch = format!("cairn/{id}");
    assert!(ws.branches().contains(&branch), "{:?}", ws.branches());
    assert!(!ws.build().contains(&id), "published before approval");

    let list = ws.moderate(&["list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let listed = stdout(&list);
    assert!(
        listed.contains(&id) && listed.contains("Ann") && listed.contains(THREAD),
        "{listed}"
    );
    assert!(listed.contains("First! Use `cargo test`."), "{listed}");
    let show = stdout(&ws.moderate(&["show", &id]));
    assert!(
        show.contains("First! Use `cargo test`.") && show.contains(&format!("{SITE}{THREAD}")),
        "{show}"
    );

    let approve = ws.moderate(&["approve", &id]);
    assert!(approve.status.success(), "{}", stderr(&approve));
    assert_eq!(ws.branches(), ["main"]);
    let page = ws.build();
    assert!(
        page.contains(&format!("id=\"c-{id}\"")),
        "approved comment missing from the page"
    );
    assert!(page.contains("<code>cargo test</code>"));
    // Approving it again has nothing to do; rejecting it now says how to take it down.
    let again = ws.moderate(&["approve", &id]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("is already on main"),
        "{}",
        stdout(&again)
    );
    let late = ws.moderate(&["reject", &id]);
    assert!(!late.status.success());
    assert!(
        stderr(&late).contains(&format!(
            "already published on main; to take it down, run `cairn forget --id {id}`"
        )),
        "{}",
        stderr(&late)
    );

    // A JSON reply to it, approved the same way, nests under it.
    let reply_id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "parent": id, "author": "Bo", "body": "Agreed."}),
    );
    inbox.wait_delivered(30);
    // The start of an id will do, when one id starts so (ids begin with their time, and
    // both comments are in the spool): too little names both, which the error lists.
    let both = ws.moderate(&["approve", "01"]);
    assert!(!both.status.success());
    assert!(
        stderr(&both).contains("01 is the start of 2 ids")
            && stderr(&both).contains(&id)
            && stderr(&both).contains(&reply_id),
        "{}",
        stderr(&both)
    );
    let approved = ws.moderate(&["approve", &reply_id[..12].to_lowercase()]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    assert!(
        stdout(&approved).contains(&format!("approved {reply_id} (Bo on {THREAD})")),
        "{}",
        stdout(&approved)
    );
    let page = ws.build();
    let parent_at = page.find(&format!("id=\"c-{id}\"")).unwrap();
    let reply_at = page.find(&format!("id=\"c-{reply_id}\"")).unwrap();
    let nested = &page[parent_at..reply_at];
    assert!(
        nested.contains("<ol class=\"cairn-replies\">"),
        "the reply is not nested"
    );

    // Several at once: each is done, and one that cannot be does not stop the others.
    let posted: Vec<String> = ["One.", "Two.", "Three."]
        .iter()
        .map(|body| {
            post_accepted(
                &inbox.addr,
                &serde_json::json!({"thread": THREAD, "author": "Cy", "body": body}),
            )
        })
        .collect();
    inbox.wait_delivered(30);
    let two = ws.moderate(&["approve", &posted[0], &posted[1]]);
    assert!(two.status.success(), "{}", stderr(&two));
    assert_eq!(
        stdout(&two).matches("approved ").count(),
        2,
        "{}",
        stdout(&two)
    );
    let mixed = ws.moderate(&["reject", "01JD3K2BBBBBBBBBBBBBBBBBBB", &posted[2]]);
    assert!(!mixed.status.success());
    assert!(
        stdout(&mixed).contains(&format!("rejected {}", posted[2])),
        "{}",
        stdout(&mixed)
    );
    assert!(
        stderr(&mixed).contains("no pending comment with id 01JD3K2BBBBBBBBBBBBBBBBBBB")
            && stderr(&mixed).contains("1 of 2 comments were not done"),
        "{}",
        stderr(&mixed)
    );
    let page = ws.build();
    assert!(page.contains(&format!("id=\"c-{}\"", posted[0])));
    assert!(page.contains(&format!("id=\"c-{}\"", posted[1])));
    assert!(!page.contains(&format!("id=\"c-{}\"", posted[2])));
    assert_eq!(ws.branches(), ["main"]);
    // A rejected comment is nobody's parent, though the spool still keeps it (and the
    // inbox's mirror its branch, until it looks again: at most every 5 seconds).
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert_no_parent(&inbox.addr, THREAD, &posted[2]);

    // Unknown ids get a clear error.
    for (args, says) in [
        (
            ["approve", "01JD3K2BBBBBBBBBBBBBBBBBBB"],
            "no pending comment with id 01JD3K2BBBBBBBBBBBBBBBBBBB",
        ),
        (["reject", "not-an-id"], "is not a comment id"),
        (["show", "ZZZZ"], "no pending comment id starts with ZZZZ"),
    ] {
        let out = ws.moderate(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }

    // Privacy: neither the e-mail nor the client's address reached the repository or
    // the spool.
    let history = git(&ws.remote, &["log", "-p", "--all"]);
    let mut spooled = String::new();
    for entry in walkdir::WalkDir::new(ws.dir.path().join("spool"))
        .into_iter()
        .map(Result::unwrap)
    {
        let in_mirror = entry
            .path()
            .components()
            .any(|c| c.as_os_str() == "repo.git");
        if entry.file_type().is_file() && !in_mirror {
            spooled.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    assert!(
        spooled.contains(&id),
        "the delivered item is kept in the spool"
    );
    for text in [&history, &spooled] {
        assert!(!text.contains("reader@example.net") && !text.contains("example.net"));
        assert!(!text.contains("127.0.0.1"));
    }
    assert!(
        history.contains("avatar: "),
        "the avatar key stands in for the e-mail"
    );
    assert!(inbox.stop().success());
}

#[test]
fn direct_mode_publishes_and_batch_mode_collects() {
    let ws = Workspace::new("direct");
    let inbox = InboxProcess::start(&ws.config());
    let answer = post_form(&inbox.addr, SITE, &fields("Cy", "Straight to the page.")).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = comment_id(&answer.body);
    inbox.wait_delivered(30);
    assert_eq!(ws.branches(), ["main"]);
    assert!(ws.build().contains(&format!("id=\"c-{id}\"")));
    drop(inbox);

    let ws = Workspace::new("batch");
    let inbox = InboxProcess::start(&ws.config());
    let mut ids = Vec::new();
    for n in 0..3 {
        let body = format!("Batched comment {n}");
        let answer = post_form(&inbox.addr, SITE, &fields("Di", &body)).unwrap();
        assert_eq!(answer.status, 200);
        ids.push(comment_id(&answer.body));
    }
    inbox.wait_delivered(30);
    assert_eq!(ws.branches(), ["cairn/pending", "main"]);
    let mut delivered = ws.delivered_ids("cairn/pending");
    delivered.sort();
    assert_eq!(delivered, ids);
    // Approve one from the terminal, then merge the rest the way a moderator merges a
    // pull request.
    assert!(ws.moderate(&["approve", &ids[0]]).status.success());
    let page = ws.build();
    assert!(page.contains(&ids[0]) && !page.contains(&ids[1]));
    let clone = tempfile::tempdir().unwrap();
    git(
        clone.path(),
        &["clone", "-q", ws.remote.to_str().unwrap(), "site"],
    );
    let site = clone.path().join("site");
    git(&site, &["merge", "-q", "--no-edit", "origin/cairn/pending"]);
    git(&site, &["push", "-q", "origin", "main"]);
    let page = ws.build();
    for id in &ids {
        assert!(
            page.contains(&format!("id=\"c-{id}\"")),
            "{id} missing after the merge"
        );
    }
}

/// Posts `n` distinct comments from `threads` threads; returns the ids that got a 2xx.
fn flood(addr: &str, tag: &str, n: usize, threads: usize) -> Vec<String> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    for i in (t..n).step_by(threads) {
                        let json = serde_json::json!({
                            "thread": THREAD, "author": "Load", "body": format!("{tag} comment {i}")
                        });
                        if let Ok(answer) = post_json(addr, &json) {
                            if answer.status == 202 {
                                let v: serde_json::Value =
                                    serde_json::from_str(&answer.body).unwrap();
                                acked.push(v["id"].as_str().unwrap().to_string());
                            }
                        }
                    }
                    acked
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

fn assert_exactly_once(acked: &[String], delivered: &[String]) {
    let unique: BTreeSet<&String> = delivered.iter().collect();
    assert_eq!(
        unique.len(),
        delivered.len(),
        "a comment was delivered twice"
    );
    for id in acked {
        assert!(
            unique.contains(id),
            "{id} got a 2xx but was never delivered"
        );
    }
}

#[test]
fn kill_9_mid_flood_loses_and_duplicates_nothing() {
    let ws = Workspace::new("batch");
    let inbox = InboxProcess::start(&ws.config());
    let addr = inbox.addr.clone();
    let pid = inbox.child.id();
    let acked = std::thread::scope(|scope| {
        let flood = scope.spawn(|| flood(&addr, "crash", 400, 8));
        // Kill once some comments are in and some delivery is under way.
        wait_for("some deliveries", 60, || {
            inbox.log.lock().unwrap().matches("delivered").count() >= 20
        });
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        flood.join().unwrap()
    });
    drop(inbox);
    assert!(
        acked.len() >= 20,
        "only {} acknowledged before the kill",
        acked.len()
    );

    let restarted = InboxProcess::start(&ws.config());
    restarted.wait_delivered(60);
    let delivered = ws.delivered_ids("cairn/pending");
    assert_exactly_once(&acked, &delivered);
    eprintln!(
        "{} acknowledged before kill -9, {} delivered after restart",
        acked.len(),
        delivered.len()
    );
}

#[test]
fn two_inboxes_delivering_to_one_remote_lose_nothing() {
    let ws = Workspace::new("batch");
    let second = ws.write_config("second.toml", "spool-2", "batch");
    let a = InboxProcess::start(&ws.config());
    let b = InboxProcess::start(&second);
    let (acked_a, acked_b) = std::thread::scope(|scope| {
        let fa = scope.spawn(|| flood(&a.addr, "replica-a", 120, 4));
        let fb = scope.spawn(|| flood(&b.addr, "replica-b", 120, 4));
        (fa.join().unwrap(), fb.join().unwrap())
    });
    assert_eq!(acked_a.len() + acked_b.len(), 240);
    a.wait_delivered(60);
    b.wait_delivered(60);
    let delivered = ws.delivered_ids("cairn/pending");
    let acked: Vec<String> = acked_a.into_iter().chain(acked_b).collect();
    assert_exactly_once(&acked, &delivered);
    assert_eq!(delivered.len(), 240);
}

#[test]
fn sigterm_finishes_what_is_in_flight() {
    let ws = Workspace::new("review");
    let inbox = InboxProcess::start(&ws.config());
    let acked = flood(&inbox.addr, "shutdown", 30, 3);
    assert!(inbox.stop().success());
    // Whatever was not delivered before the stop is still queued, and goes out on
    // the next start.
    let restarted = InboxProcess::start(&ws.config());
    restarted.wait_delivered(60);
    let branches: BTreeSet<String> = ws.branches().into_iter().collect();
    for id in &acked {
        assert!(branches.contains(&format!("cairn/{id}")), "{id} lost");
    }
}

#[test]
fn idle_connections_from_one_address_leave_the_inbox_to_everyone_else() {
    let ws = Workspace::new("review");
    let config = ws.config();
    let config = config.to_string_lossy();
    // A service manager's usual soft limit, or lower: the inbox raises it to the hard one.
    let inbox = InboxProcess::start_after(
        "ulimit -Sn 256",
        &["--listen", "127.0.0.1:0", "--config", &config],
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", inbox.child.id())).unwrap();
    let open_files: Vec<&str> = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .collect();
    let (soft, hard) = (open_files[3], open_files[4]);
    if hard != "unlimited" && hard.parse::<u64>().unwrap() <= (1 << 20) {
        assert_eq!(soft, hard, "{limits}");
    }
    assert_ne!(soft, "256", "{limits}");

    // One address opens connections and sends nothing, past what a client may hold.
    let addr: std::net::SocketAddr = inbox.addr.parse().unwrap();
    let opened: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    // The refused ones get their answer as the inbox reaches them; the others have
    // nothing to read.
    for stream in &opened {
        stream.set_nonblocking(true).unwrap();
    }
    let mut idle = opened;
    let mut refused = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while refused < 300 - 128 && std::time::Instant::now() < deadline {
        idle.retain(|stream| {
            let mut answer = [0; 512];
            match std::io::Read::read(&mut &*stream, &mut answer) {
                Ok(n) => {
                    let answer = String::from_utf8_lossy(&answer[..n]);
                    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
                    refused += 1;
                    false
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
                Err(e) => panic!("{e}"),
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(refused, 300 - 128);
    // The first ones stay open, waiting for a request.
    std::thread::sleep(std::time::Duration::from_millis(200));
    for stream in &idle {
        let mut answer = [0; 512];
        let read = std::io::Read::read(&mut &*stream, &mut answer);
        assert!(
            read.is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "a connection within the client's limit was answered or closed"
        );
    }
    assert_eq!(idle.len(), 128, "connections held for one address");
    // A reader elsewhere posts at once.
    let json = serde_json::json!({"thread": THREAD, "author": "Ann", "body": "Still open."});
    let answer = http_on(
        connect_from("127.0.0.2", &inbox.addr),
        &inbox.addr,
        "POST",
        "/v1/comments",
        &[("Content-Type", "application/json")],
        json.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let id = serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        inbox
            .log
            .lock()
            .unwrap()
            .contains("a client holds 128 connections"),
        "{}",
        inbox.log.lock().unwrap()
    );
    // Once they close, the address gets its connections back.
    drop(idle);
    wait_for("the address's connections to be given back", 10, || {
        http(&inbox.addr, "GET", "/v1/health", &[], b"").is_ok_and(|a| a.status == 200)
    });
    inbox.wait_delivered(60);
    assert!(ws.branches().contains(&format!("cairn/{id}")));
}

#[test]
fn a_second_inbox_on_the_same_spool_refuses_to_start() {
    let ws = Workspace::new("review");
    let first = InboxProcess::start(&ws.config());
    let mut second = Stopped(
        std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["inbox", "--listen", "127.0.0.1:0", "--config"])
            .arg(ws.config())
            .env("CAIRN_SECRET", TEST_SECRET)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut status = None;
    wait_explained(
        "the second inbox to stop",
        30,
        || {
            status = second.0.try_wait().unwrap();
            status.is_some()
        },
        || "it is still running: it took the spool".into(),
    );
    assert!(!status.unwrap().success());
    let mut said = String::new();
    std::io::Read::read_to_string(&mut second.0.stderr.take().unwrap(), &mut said).unwrap();
    assert!(
        said.contains(&format!(
            "is in use by another cairn inbox (process {})",
            first.child.id()
        )),
        "{said}"
    );
    // The first one goes on taking comments; once it is gone, the spool is free.
    assert_eq!(flood(&first.addr, "first", 3, 1).len(), 3);
    assert!(first.stop().success());
    let restarted = InboxProcess::start(&ws.config());
    restarted.wait_delivered(60);
}

#[test]
fn a_remote_that_does_not_answer_is_told_at_start_and_delivered_to_once_it_does() {
    let ws = Workspace::new("review");
    let later = ws.dir.path().join("later.git");
    let config = ws.config();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "remote = \"site.git\"",
        &format!("remote = \"file://{}\"", later.display()),
    );
    std::fs::write(&config, text).unwrap();

    let inbox = InboxProcess::start(&config);
    let said = |what: &str| inbox.log.lock().unwrap().contains(what);
    wait_for("the warning", 30, || {
        said("the site's repository does not answer yet")
    });
    // Comments are taken all the same, and go out once the repository is there.
    let acked = flood(&inbox.addr, "early", 1, 1);
    assert_eq!(acked.len(), 1);
    git(
        ws.dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            ws.remote.to_str().unwrap(),
            "later.git",
        ],
    );
    inbox.wait_delivered(60);
    assert!(inbox.stop().success());
    let branches = git(&later, &["for-each-ref", "--format=%(refname:short)"]);
    assert!(
        branches.contains(&format!("cairn/{}", acked[0])),
        "{branches}"
    );

    let restarted = InboxProcess::start(&config);
    let said = |what: &str| restarted.log.lock().unwrap().contains(what);
    wait_for("the pending count", 30, || {
        said("the site's repository answers: 1 pending review")
    });
}

#[test]
fn a_reply_to_a_pending_comment_is_taken_while_the_remote_is_away() {
    let ws = Workspace::new("review");
    let inbox = InboxProcess::start(&ws.config());
    let parent = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ann", "body": "Pending."}),
    );
    inbox.wait_delivered(30);
    // The remote goes away past the time the inbox's mirror may answer for it: the
    // mirror still has the parent's branch, and vouches for it.
    let away = ws.dir.path().join("away.git");
    std::fs::rename(&ws.remote, &away).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(6));
    let reply = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "parent": parent, "author": "Bo", "body": "Still here."}),
    );
    std::fs::rename(&away, &ws.remote).unwrap();
    inbox.wait_delivered(60);
    assert!(ws.branches().contains(&format!("cairn/{reply}")));
    assert!(inbox.stop().success());
}

/// A moderator who merges a comment's branch by hand (`git merge`, `git push`) leaves
/// it behind; the inbox deletes it (at start, then every hour) and leaves the comments
/// still waiting alone.
#[test]
fn branches_merged_by_hand_are_deleted_by_the_inbox() {
    let ws = Workspace::new("review");
    let config = ws.config();
    let inbox = InboxProcess::start(&config);
    let acked = flood(&inbox.addr, "by hand", 2, 1);
    assert_eq!(acked.len(), 2);
    inbox.wait_delivered(60);
    assert!(inbox.stop().success());

    git(
        ws.dir.path(),
        &["clone", "-q", ws.remote.to_str().unwrap(), "work"],
    );
    let work = ws.dir.path().join("work");
    let merged = format!("cairn/{}", acked[0]);
    git(
        &work,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge by hand",
            &format!("origin/{merged}"),
        ],
    );
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    assert_eq!(
        ws.branches(),
        [merged.clone(), format!("cairn/{}", acked[1]), "main".into()]
    );

    let restarted = InboxProcess::start(&config);
    wait_explained(
        "the sweep",
        30,
        || ws.branches() == [format!("cairn/{}", acked[1]), "main".into()],
        || {
            format!(
                "{:?}; the inbox said:\n{}",
                ws.branches(),
                restarted.log.lock().unwrap()
            )
        },
    );
    let log = restarted.log.lock().unwrap().clone();
    assert!(
        log.contains(&format!(
            "deleted 1 branch(es) the site branch has taken in: {merged}"
        )),
        "{log}"
    );
    drop(log);
    let listed = ws.moderate(&["list", "--format", "ids"]);
    assert_eq!(stdout(&listed).trim(), acked[1], "{}", stderr(&listed));
}
