//! Moderator notifications end to end: the real inbox delivering to a real bare
//! repository mails a real SMTP server (aiosmtpd from PyPI, over STARTTLS and over TLS
//! from the start, with its own CA) and posts to a webhook; the mail's one-click
//! links approve and reject, and refuse when tampered with, expired or used twice; a
//! mail server that is down delays the mail, never the comment.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const SITE: &str = "https://blog.example.org";
const THREAD: &str = "/posts/a-quiet-post/";

/// aiosmtpd on `port`, storing what it receives in the maildir `dir/mail`.
fn smtp_server(dir: &Path, port: u16, tls: &str) -> Option<Stopped> {
    let aiosmtpd = test_dep("aiosmtpd-venv/bin/aiosmtpd")?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut cmd = std::process::Command::new(aiosmtpd);
    cmd.args(["-n", "-l", &format!("localhost:{port}")]);
    match tls {
        "starttls" => cmd.arg("--tlscert").arg(&cert).arg("--tlskey").arg(&key),
        _ => cmd
            .arg("--smtpscert")
            .arg(&cert)
            .arg("--smtpskey")
            .arg(&key),
    };
    cmd.args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(dir.join("mail"));
    let child = Stopped(cmd.spawn().expect("aiosmtpd starts"));
    wait_for("the SMTP server", 30, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Some(child)
}

/// The mails in the maildir, raw.
fn mails(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("mail/new")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect()
}

fn write_config(dir: &Path, inbox_port: u16, notify: &str) -> PathBuf {
    let path = dir.join("inbox.toml");
    std::fs::write(
        &path,
        format!(
            r#"[site]
url = "{SITE}/"
[comments]
dir = "comments"
[inbox]
url = "http://127.0.0.1:{inbox_port}"
rate_per_hour = 0
[inbox.delivery]
remote = "site.git"
mode = "review"
[inbox.notify]
email = ["Moderator <mod@example.org>"]
from = "cairn <cairn@example.org>"
smtp_ca_file = "cert.pem"
{notify}
"#
        ),
    )
    .unwrap();
    path
}

/// The config of an inbox delivering to `site.git`, with more keys for `[inbox]`,
/// `[inbox.delivery]` and `[inbox.notify]`.
fn webhook_config(dir: &Path, inbox: &str, delivery: &str, notify: &str) -> PathBuf {
    let path = dir.join("inbox.toml");
    std::fs::write(
        &path,
        format!(
            "[site]\nurl = \"{SITE}/\"\n[comments]\ndir = \"comments\"\n\
             [inbox]\nurl = \"http://127.0.0.1:9\"\nrate_per_hour = 0\n{inbox}\n\
             [inbox.delivery]\nremote = \"site.git\"\n{delivery}\n\
             [inbox.notify]\n{notify}\n"
        ),
    )
    .unwrap();
    path
}

/// The decoded text of a mail (quoted-printable soft breaks joined, `=XX` decoded).
fn mail_text(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

fn link_in(text: &str, action: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.contains("/v1/moderate/") && l.contains(&format!("/{action}?")))
        .unwrap_or_else(|| panic!("no {action} link in:\n{text}"));
    line.split_whitespace().last().unwrap().to_string()
}

/// The path and query of an inbox URL.
fn path_of(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap();
    rest[rest.find('/').unwrap()..].to_string()
}

#[test]
fn moderators_get_a_mail_and_a_webhook_with_working_one_click_links() {
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    localhost_certificate(dir.path());
    let smtp_port = free_port();
    let Some(_smtp) = smtp_server(dir.path(), smtp_port, "starttls") else {
        return;
    };
    let (hook, hooked) = receiver(|_| String::new());
    let inbox_port = free_port();
    let config = write_config(
        dir.path(),
        inbox_port,
        &format!("smtp_url = \"smtp://localhost:{smtp_port}\"\nwebhook = \"{hook}\""),
    );
    let inbox = InboxProcess::start_on(&config, &format!("127.0.0.1:{inbox_port}"));
    let form = post_form(
        &inbox.addr,
        SITE,
        &[
            ("thread", THREAD),
            ("author", "Ada"),
            ("email", "ada@example.org"),
            ("body", "Lovely post.\nSecond line."),
        ],
    )
    .unwrap();
    assert_eq!(form.status, 200, "{}", form.body);
    inbox.wait_delivered(30);
    wait_explained(
        "the moderator's mail",
        30,
        || !mails(dir.path()).is_empty(),
        || inbox.log.lock().unwrap().clone(),
    );
    let mail = mails(dir.path()).remove(0);
    assert!(
        mail.contains("Subject: New comment by Ada on /posts/a-quiet-post/"),
        "{mail}"
    );
    assert!(mail.contains("To: Moderator <mod@example.org>"), "{mail}");
    let text = mail_text(&mail);
    assert!(text.contains("> Lovely post.\n> Second line.\n"), "{text}");
    assert!(
        text.contains(&format!("Ada wrote on {SITE}{THREAD}")),
        "{text}"
    );
    assert!(text.contains("Waiting:  branch cairn/"), "{text}");
    assert!(
        !text.contains("ada@example.org"),
        "the reader's address is not passed on"
    );
    wait_for("the webhook", 30, || !hooked.lock().unwrap().is_empty());
    let event: serde_json::Value = serde_json::from_str(&hooked.lock().unwrap()[0].1).unwrap();
    assert_eq!(event["event"], "comment.delivered");
    assert_eq!(event["author"], "Ada");
    assert_eq!(event["thread"], THREAD);
    assert!(event["text"]
        .as_str()
        .unwrap()
        .starts_with("New comment by Ada"));
    let id = event["id"].as_str().unwrap().to_string();
    let approve = link_in(&text, "approve");
    let reject = link_in(&text, "reject");
    assert_eq!(event["approve_url"], approve.as_str());
    assert!(approve.starts_with(&format!(
        "http://127.0.0.1:{inbox_port}/v1/moderate/{id}/approve?"
    )));

    // Tampered: another signature, another id, another action.
    let tampered = approve.replace("sig=", "sig=00");
    for bad in [
        tampered.clone(),
        approve.replace(&id, "01JA0000000000000000000000"),
        approve.replace("/approve?", "/reject?"),
    ] {
        let answer = http(&inbox.addr, "POST", &path_of(&bad), &[], b"").unwrap();
        assert_eq!(answer.status, 403, "{bad}: {}", answer.body);
    }
    // Expired: signed by the same secret, but for a time past.
    let secret = cairn::secret::Secret::new(TEST_SECRET.as_bytes()).unwrap();
    let expired = cairn::inbox::links::link(
        &format!("http://127.0.0.1:{inbox_port}"),
        &secret,
        id.parse().unwrap(),
        cairn::inbox::links::Action::Approve,
        chrono::Utc::now() - chrono::Duration::minutes(1),
    );
    let answer = http(&inbox.addr, "POST", &path_of(&expired), &[], b"").unwrap();
    assert_eq!(answer.status, 410, "{}", answer.body);
    assert!(answer.body.contains("expired"));
    let branch = format!("refs/heads/cairn/{id}");
    assert!(
        !git(&remote, &["for-each-ref", &branch]).is_empty(),
        "still pending"
    );

    // Opening the link only shows a button (mail scanners fetch links).
    let page = http(&inbox.addr, "GET", &path_of(&approve), &[], b"").unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    // Its button posts to the link itself, under the inbox's public URL.
    let button = format!(
        "<form method=\"post\" action=\"{}\">",
        approve.replace('&', "&amp;")
    );
    assert!(page.body.contains(&button), "{button} in {}", page.body);
    assert!(
        !git(&remote, &["for-each-ref", &branch]).is_empty(),
        "a GET changes nothing"
    );

    let done = http(&inbox.addr, "POST", &path_of(&approve), &[], b"").unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Approved"), "{}", done.body);
    let files = git(&remote, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(files.contains(&format!("{id}.yml")), "{files}");
    assert!(
        git(&remote, &["for-each-ref", &branch]).is_empty(),
        "the branch is gone"
    );

    // Used: neither link works again.
    for used in [&approve, &reject] {
        let again = http(&inbox.addr, "POST", &path_of(used), &[], b"").unwrap();
        assert_eq!(again.status, 410, "{}", again.body);
        assert!(again.body.contains("no longer pending"), "{}", again.body);
    }

    // The author asks to change the published comment: the moderator hears of it,
    // and the mail's approve link publishes the change.
    let own = own_link(&form.body);
    let (own_path, key) = own.split_once('?').unwrap();
    let asked = http(
        &inbox.addr,
        "POST",
        &format!("{own_path}/edit?{key}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"body=Lovely+post%2C+corrected.",
    )
    .unwrap();
    assert_eq!(asked.status, 200, "{}", asked.body);
    wait_explained(
        "the mail about the change",
        30,
        || mails(dir.path()).len() == 2,
        || inbox.log.lock().unwrap().clone(),
    );
    let change = mails(dir.path())
        .into_iter()
        .map(|m| mail_text(&m))
        .find(|m| m.contains("Subject: Change asked by Ada"))
        .expect("the change mail");
    assert!(change.contains("> Lovely post, corrected."), "{change}");
    assert!(
        change.contains(&format!("Waiting:  branch cairn/change-{id}")),
        "{change}"
    );
    wait_for("the webhook about the change", 30, || {
        hooked.lock().unwrap().len() == 2
    });
    let event: serde_json::Value = serde_json::from_str(&hooked.lock().unwrap()[1].1).unwrap();
    assert_eq!(event["event"], "comment.edit_asked");
    assert_eq!(event["body"], "Lovely post, corrected.");
    let publish = link_in(&change, "approve");
    let done = http(&inbox.addr, "POST", &path_of(&publish), &[], b"").unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    let file = git(
        &remote,
        &[
            "show",
            &format!("main:comments/posts/a-quiet-post/{id}.yml"),
        ],
    );
    assert!(file.contains("Lovely post, corrected."), "{file}");
}

#[test]
fn in_direct_mode_the_notices_say_what_is_published_and_how_to_take_it_down() {
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    let (hook, hooked) = receiver(|_| String::new());
    let config = webhook_config(
        dir.path(),
        "",
        "mode = \"direct\"",
        &format!("webhook = \"{hook}\"\nwebhook_format = \"text\""),
    );
    let inbox = InboxProcess::start(&config);
    let form = post_form(
        &inbox.addr,
        SITE,
        &[("thread", THREAD), ("author", "Ada"), ("body", "Hello.")],
    )
    .unwrap();
    assert_eq!(form.status, 200, "{}", form.body);
    inbox.wait_delivered(30);
    wait_for("the notice", 30, || hooked.lock().unwrap().len() == 1);
    let text = hooked.lock().unwrap()[0].1.clone();
    let files = git(&remote, &["ls-tree", "-r", "--name-only", "main"]);
    let id = files
        .lines()
        .find(|f| f.starts_with("comments/posts/a-quiet-post/"))
        .and_then(|f| f.rsplit('/').next()?.strip_suffix(".yml"))
        .expect("the comment on main")
        .to_string();
    assert!(text.contains("Status:   published on main"), "{text}");
    assert!(
        text.contains(&format!(
            "To take it down, in the site's repository: cairn forget --id {id}"
        )),
        "{text}"
    );
    assert!(
        !text.contains("moderate approve"),
        "nothing to approve: {text}"
    );

    let own = own_link(&form.body);
    let (own_path, key) = own.split_once('?').unwrap();
    let form_post = |path: String, body: &[u8]| {
        let answer = http(
            &inbox.addr,
            "POST",
            &path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body,
        )
        .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
    };
    form_post(format!("{own_path}/edit?{key}"), b"body=Hello%2C+world.");
    wait_for("the edit's notice", 30, || {
        hooked.lock().unwrap().len() == 2
    });
    let text = hooked.lock().unwrap()[1].1.clone();
    assert!(
        text.contains(&format!(
            "Ada changed their published comment on {SITE}{THREAD} to:"
        )),
        "{text}"
    );
    assert!(text.contains("> Hello, world."), "{text}");
    form_post(format!("{own_path}/withdraw?{key}"), b"");
    wait_for("the withdrawal's notice", 30, || {
        hooked.lock().unwrap().len() == 3
    });
    let text = hooked.lock().unwrap()[2].1.clone();
    assert!(
        text.contains("Ada withdrew their published comment"),
        "{text}"
    );
    assert!(
        !text.contains("cairn forget") && !text.contains("Status:"),
        "already down: {text}"
    );
}

#[test]
fn a_mail_server_outage_delays_the_mail_not_the_comment() {
    let dir = tempfile::tempdir().unwrap();
    example_remote(dir.path());
    localhost_certificate(dir.path());
    let smtp_port = free_port();
    let inbox_port = free_port();
    let config = write_config(
        dir.path(),
        inbox_port,
        &format!("smtp_url = \"smtps://localhost:{smtp_port}\""),
    );
    let inbox = InboxProcess::start_on(&config, &format!("127.0.0.1:{inbox_port}"));
    // No mail server yet: the comment is accepted and delivered all the same.
    let answer = post_json(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Bo", "body": "While the mail is down."}),
    )
    .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    inbox.wait_delivered(30);
    wait_explained(
        "a failed mail attempt",
        30,
        || {
            inbox
                .log
                .lock()
                .unwrap()
                .contains("notification failed, will retry")
        },
        || inbox.log.lock().unwrap().clone(),
    );
    let queued = std::fs::read_dir(dir.path().join(".cairn/spool/notify"))
        .unwrap()
        .count();
    assert_eq!(queued, 1, "the notice waits in the spool");
    // The server comes up (TLS from the start this time): the retry gets through.
    let Some(_smtp) = smtp_server(dir.path(), smtp_port, "smtps") else {
        return;
    };
    wait_explained(
        "the mail after the retry",
        60,
        || !mails(dir.path()).is_empty(),
        || inbox.log.lock().unwrap().clone(),
    );
    let mail = mail_text(&mails(dir.path()).remove(0));
    assert!(mail.contains("> While the mail is down."), "{mail}");
    let queue = dir.path().join(".cairn/spool/notify");
    wait_for("sent notices to leave the queue", 10, || {
        std::fs::read_dir(&queue).unwrap().count() == 0
    });
}

fn mails_to(dir: &Path, address: &str) -> Vec<String> {
    mails(dir)
        .into_iter()
        .filter(|m| m.contains(&format!("To: {address}")))
        .map(|m| mail_text(&m))
        .collect()
}

fn approve(dir: &Path, config: &Path, id: &str) {
    let out = cairn(
        dir,
        &[
            "moderate",
            "approve",
            id,
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn post(inbox: &InboxProcess, fields: &[(&str, &str)]) -> String {
    let answer = post_form(&inbox.addr, SITE, fields).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let marker = "id=\"c-";
    let at = answer
        .body
        .find(marker)
        .expect("the confirmation shows the comment")
        + marker.len();
    answer.body[at..at + 26].to_string()
}

/// An inbox whose readers may ask for mail, delivering to the example site's repository,
/// and the SMTP server it sends through: `None` where there is no SMTP server to run.
fn inbox_for_readers(dir: &Path) -> Option<(Stopped, PathBuf, PathBuf, InboxProcess)> {
    let remote = example_remote(dir);
    localhost_certificate(dir);
    let smtp_port = free_port();
    let smtp = smtp_server(dir, smtp_port, "starttls")?;
    let inbox_port = free_port();
    let config = write_config(
        dir,
        inbox_port,
        &format!(
            "smtp_url = \"smtp://localhost:{smtp_port}\"\nreplies = true\npublish_check_secs = 1"
        ),
    );
    let inbox = InboxProcess::start_on(&config, &format!("127.0.0.1:{inbox_port}"));
    Some((smtp, remote, config, inbox))
}

/// Ada posts `body` asking for mail, her comment is approved, and the mail telling her
/// it is published arrives: her comment's id, and that mail.
fn ada_published(dir: &Path, inbox: &InboxProcess, config: &Path, body: &str) -> (String, String) {
    ada_published_from(dir, inbox, config, body, "")
}

/// [`ada_published`], from a page in `lang` (none: the site's language).
fn ada_published_from(
    dir: &Path,
    inbox: &InboxProcess,
    config: &Path,
    body: &str,
    lang: &str,
) -> (String, String) {
    let ada = post(
        inbox,
        &[
            ("thread", THREAD),
            ("author", "Ada"),
            ("email", "ada@example.org"),
            ("body", body),
            ("notify", "on"),
            ("lang", lang),
        ],
    );
    inbox.wait_delivered(30);
    approve(dir, config, &ada);
    wait_explained(
        "Ada's publication mail",
        30,
        || !mails_to(dir, "ada@example.org").is_empty(),
        || inbox.log.lock().unwrap().clone(),
    );
    (ada, mails_to(dir, "ada@example.org").remove(0))
}

/// Bob replies to Ada's comment `ada` with `body` from a page in the site's language,
/// asking for mail; his reply is approved, and the mail telling Ada of it arrives: his
/// comment's id, and Ada's mails.
fn bob_replied(
    dir: &Path,
    inbox: &InboxProcess,
    config: &Path,
    ada: &str,
    body: &str,
) -> (String, Vec<String>) {
    let bob = post(
        inbox,
        &[
            ("thread", THREAD),
            ("parent", ada),
            ("author", "Bob"),
            ("email", "bob@example.org"),
            ("body", body),
            ("notify", "on"),
        ],
    );
    inbox.wait_delivered(30);
    approve(dir, config, &bob);
    wait_explained(
        "the reply mail to Ada",
        30,
        || mails_to(dir, "ada@example.org").len() == 2,
        || inbox.log.lock().unwrap().clone(),
    );
    (bob, mails_to(dir, "ada@example.org"))
}

/// Readers who tick the box hear when their comment is published and when a reply
/// to it is; the mail's link stops it; `cairn inbox forget` erases an address; and no
/// address ever reaches the repository.
#[test]
fn readers_hear_of_publication_and_replies_until_they_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_smtp, remote, config, inbox)) = inbox_for_readers(dir.path()) else {
        return;
    };

    // The box needs an address; the form comes back with the box still ticked.
    let refused = post_form(
        &inbox.addr,
        SITE,
        &[
            ("thread", THREAD),
            ("author", "Ada"),
            ("body", "Hello"),
            ("notify", "on"),
        ],
    )
    .unwrap();
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("id=\"cairn-form-notify\" name=\"notify\" type=\"checkbox\" value=\"on\" aria-describedby=\"cairn-form-notify-hint\" checked"), "{}", refused.body);

    let (ada, live) = ada_published(dir.path(), &inbox, &config, "First!");
    let live = &live;
    assert!(
        live.contains("Subject: Your comment is published"),
        "{live}"
    );
    assert!(live.contains(&format!("{SITE}{THREAD}#c-{ada}")), "{live}");
    assert!(live.contains("> First!"), "{live}");
    let raw = mails(dir.path())
        .into_iter()
        .find(|m| m.contains("To: ada@example.org"))
        .unwrap();
    assert!(
        raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{raw}"
    );
    let stop = live
        .lines()
        .find_map(|l| l.strip_prefix("No more mail: "))
        .expect("an unsubscribe link")
        .to_string();
    assert!(
        raw.contains(&format!("List-Unsubscribe: <{stop}>")),
        "{raw}"
    );

    let (bob, mails) = bob_replied(dir.path(), &inbox, &config, &ada, "Welcome, Ada.");
    let reply = mails
        .into_iter()
        .find(|m| m.contains("Subject: Bob replied to your comment"))
        .expect("the reply mail");
    assert!(reply.contains("> Welcome, Ada."), "{reply}");
    assert!(reply.contains(&format!("#c-{bob}")), "{reply}");
    wait_for("Bob's publication mail", 30, || {
        !mails_to(dir.path(), "bob@example.org").is_empty()
    });

    // Ada stops it: opening the link shows a button, its POST erases her address.
    let page = http(&inbox.addr, "GET", &path_of(&stop), &[], b"").unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    let done = http(
        &inbox.addr,
        "POST",
        &path_of(&stop),
        &[],
        b"List-Unsubscribe=One-Click",
    )
    .unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    let again = http(&inbox.addr, "POST", &path_of(&stop), &[], b"").unwrap();
    assert_eq!(again.status, 404, "{}", again.body);

    let cy = post(
        &inbox,
        &[
            ("thread", THREAD),
            ("parent", &ada),
            ("author", "Cy"),
            ("email", "cy@example.org"),
            ("body", "Me too."),
            ("notify", "on"),
        ],
    );
    inbox.wait_delivered(30);
    approve(dir.path(), &config, &cy);
    wait_for("Cy's publication mail", 30, || {
        !mails_to(dir.path(), "cy@example.org").is_empty()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        mails_to(dir.path(), "ada@example.org").len(),
        2,
        "no mail after unsubscribing"
    );

    let forget = cairn(
        dir.path(),
        &[
            "inbox",
            "forget",
            "Bob@Example.org",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(forget.status.success(), "{}", stderr(&forget));
    assert!(
        stdout(&forget).contains("erased 1 subscription of bob@example.org"),
        "{}",
        stdout(&forget)
    );

    // No address in the repository's history, in the spool's files or (erased ones)
    // in the private store.
    let history = git(&remote, &["log", "--all", "-p"]);
    for address in ["ada@example.org", "bob@example.org", "cy@example.org"] {
        assert!(!history.contains(address), "{address} in the repository");
    }
    let private = std::fs::read(dir.path().join(".cairn/spool/private.db")).unwrap();
    let private = String::from_utf8_lossy(&private);
    assert!(!private.contains("ada@example.org") && !private.contains("bob@example.org"));
    assert!(private.contains("cy@example.org"), "Cy is still subscribed");
    for entry in walkdir::WalkDir::new(dir.path().join(".cairn/spool")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file()
            && !entry
                .path()
                .starts_with(dir.path().join(".cairn/spool/private.db"))
        {
            let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
            assert!(
                !text.contains("@example.org"),
                "{} holds an address",
                entry.path().display()
            );
        }
    }
}

/// A reader of a German site gets German mail, and the page its link opens is German
/// and styled like the site.
#[test]
fn readers_mail_and_its_pages_are_in_the_sites_language_as_last_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_smtp, _, config, inbox)) = inbox_for_readers(dir.path()) else {
        return;
    };
    // Started in English; the site turns German, and a reload (SIGHUP) makes it so.
    let text = std::fs::read_to_string(&config).unwrap();
    let german = text.replacen("[comments]", "language = \"de\"\n[comments]", 1);
    assert_ne!(german, text);
    std::fs::write(&config, german).unwrap();
    inbox.hangup();
    wait_explained(
        "the reload",
        30,
        || inbox.log.lock().unwrap().contains("reloaded"),
        || inbox.log.lock().unwrap().clone(),
    );
    let (ada, live) = ada_published(dir.path(), &inbox, &config, "Schön!");
    let live = &live;
    assert!(
        live.contains(&format!(
            "Ihr Kommentar auf {SITE}{THREAD} ist veröffentlicht:\n{SITE}{THREAD}#c-{ada}"
        )),
        "{live}"
    );
    assert!(live.contains("> Schön!"), "{live}");
    assert!(
        live.contains(&format!(
            "über Ihren Kommentar auf {SITE}/ benachrichtigt werden wollten."
        )),
        "{live}"
    );
    let stop = live
        .lines()
        .find_map(|l| l.strip_prefix("Keine E-Mails mehr: "))
        .expect("an unsubscribe link")
        .to_string();

    unsubscribed(
        &inbox,
        &stop,
        &[
            "<html lang=\"de\" dir=\"ltr\">",
            &format!("<link rel=\"stylesheet\" href=\"{SITE}/cairn.css\">"),
            "<title>Diese E-Mails abbestellen?</title>",
            &format!("<form method=\"post\" action=\"{stop}\">"),
            ">Keine E-Mails mehr zu meinen Kommentaren</button>",
        ],
        "Ihre Adresse ist gelöscht",
    );
}

/// Opens the unsubscribe link `stop`, whose page must hold each of `page`, and presses
/// its button: the page that says it is done holds `done`.
fn unsubscribed(inbox: &InboxProcess, stop: &str, page: &[&str], done: &str) {
    let shown = http(&inbox.addr, "GET", &path_of(stop), &[], b"").unwrap();
    assert_eq!(shown.status, 200, "{}", shown.body);
    for part in page {
        assert!(shown.body.contains(part), "{part} in {}", shown.body);
    }
    let pressed = http(&inbox.addr, "POST", &path_of(stop), &[], b"").unwrap();
    assert_eq!(pressed.status, 200, "{}", pressed.body);
    assert!(pressed.body.contains(done), "{}", pressed.body);
}

/// On a site in several languages, a reader who wrote on a page in another language
/// than the site's gets mail in that language, and its link's page is in it; a reader
/// who wrote on a page in the site's language gets mail in the site's.
#[test]
fn readers_mail_is_in_the_language_of_the_page_they_wrote_on() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_smtp, _, config, inbox)) = inbox_for_readers(dir.path()) else {
        return;
    };
    let (ada, live) = ada_published_from(dir.path(), &inbox, &config, "Super !", "fr-FR");
    assert!(
        live.contains(&format!(
            "Votre commentaire sur {SITE}{THREAD} est publié :\n{SITE}{THREAD}#c-{ada}"
        )),
        "{live}"
    );
    assert!(live.contains("> Super !"), "{live}");
    let stop = live
        .lines()
        .find_map(|l| l.strip_prefix("Ne plus recevoir d’e-mails : "))
        .expect("an unsubscribe link in French")
        .to_string();

    // Bob writes on the English page: his own mail is English, Ada's of his reply French.
    let (bob, mails) = bob_replied(dir.path(), &inbox, &config, &ada, "Thanks, Ada.");
    let reply = mails
        .into_iter()
        .find(|m| {
            m.contains(&format!(
                "Bob a répondu à votre commentaire sur {SITE}{THREAD} :"
            ))
        })
        .expect("the reply mail, in French");
    assert!(
        reply.contains(&format!("Lire et répondre : {SITE}{THREAD}#c-{bob}")),
        "{reply}"
    );
    wait_for("Bob's publication mail", 30, || {
        !mails_to(dir.path(), "bob@example.org").is_empty()
    });
    let bobs = mails_to(dir.path(), "bob@example.org").remove(0);
    assert!(
        bobs.contains("Subject: Your comment is published"),
        "{bobs}"
    );

    unsubscribed(
        &inbox,
        &stop,
        &[
            "<html lang=\"fr\" dir=\"ltr\">",
            "<title>Ne plus recevoir ces e-mails ?</title>",
            ">Ne plus recevoir d’e-mails sur mes commentaires</button>",
        ],
        "<title>C’est fait</title>",
    );
}

#[test]
fn the_moderator_hears_of_a_comment_that_could_not_be_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    let (hook, hooked) = receiver(|_| String::new());
    let config = webhook_config(
        dir.path(),
        "max_attempts = 1",
        "",
        &format!("webhook = \"{hook}\""),
    );
    let inbox = InboxProcess::start(&config);
    let away = remote.with_extension("away");
    std::fs::rename(&remote, &away).unwrap();
    let id = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Ada", "body": "Lost in transit?"}),
    );
    wait_for("the notice", 30, || hooked.lock().unwrap().len() == 1);
    let event: serde_json::Value = serde_json::from_str(&hooked.lock().unwrap()[0].1).unwrap();
    assert_eq!(event["event"], "comment.parked");
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["body"], "Lost in transit?");
    assert!(
        event["text"]
            .as_str()
            .unwrap()
            .starts_with("Not delivered: comment by Ada on /posts/a-quiet-post/"),
        "{event}"
    );
    assert!(
        event["location"]
            .as_str()
            .unwrap()
            .starts_with("the inbox's spool (failed): "),
        "{event}"
    );
    assert!(
        event["approve_url"].is_null(),
        "nothing to approve: {event}"
    );
    // `cairn inbox check`, beside the running inbox, says it too.
    let out = cairn_with(
        dir.path(),
        &["inbox", "check", "--config", config.to_str().unwrap()],
        &[("CAIRN_SECRET", TEST_SECRET)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!(
            "\nspool       FAILED: {}: 1 comment(s) parked, not delivered: `cairn moderate \
             list` says why",
            dir.path().join(".cairn/spool").display()
        )),
        "{}",
        stdout(&out)
    );

    // The next comment parked for want of the repository is no news: no notice of its
    // own.
    let second = post_accepted(
        &inbox.addr,
        &serde_json::json!({"thread": THREAD, "author": "Bo", "body": "Me too?"}),
    );
    wait_for("the second comment parked", 30, || {
        inbox.spool()["failed"] == 2
    });

    // Fixed and restarted: both delivered, and the moderator hears of each as usual,
    // having heard of the outage once.
    std::fs::rename(&away, &remote).unwrap();
    assert!(inbox.stop().success());
    let inbox = InboxProcess::start(&config);
    inbox.wait_all_delivered(30);
    let notices = dir.path().join(".cairn/spool/notify");
    wait_for("every notice sent", 30, || {
        hooked.lock().unwrap().len() >= 3 && std::fs::read_dir(&notices).unwrap().next().is_none()
    });
    let events: Vec<(String, String)> = hooked
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            let event: serde_json::Value = serde_json::from_str(body).unwrap();
            (
                event["event"].as_str().unwrap().to_string(),
                event["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let delivered = |id: &str| ("comment.delivered".to_string(), id.to_string());
    assert_eq!(
        events,
        [
            ("comment.parked".to_string(), id.clone()),
            delivered(&id),
            delivered(&second)
        ]
    );
}

#[test]
fn inbox_check_says_what_answers_and_sends_a_test_notice_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    example_remote(dir.path());
    localhost_certificate(dir.path());
    let smtp_port = free_port();
    let Some(_smtp) = smtp_server(dir.path(), smtp_port, "starttls") else {
        return;
    };
    let (hook, hooked) = receiver(|_| String::new());
    let config = write_config(
        dir.path(),
        free_port(),
        &format!("smtp_url = \"smtp://localhost:{smtp_port}\"\nwebhook = \"{hook}\""),
    );
    let config = config.to_str().unwrap();
    let check = |args: &[&str]| {
        let out = cairn_with(
            dir.path(),
            &[&["inbox", "check", "--config", config], args].concat(),
            &[("CAIRN_SECRET", TEST_SECRET)],
        );
        (out.status.code(), stdout(&out))
    };

    // Asked only: every part answers, and nobody gets a notice.
    let (code, said) = check(&[]);
    assert_eq!(code, Some(0), "{said}");
    let spool = dir.path().join(".cairn/spool");
    let expected = [
        "secret      from CAIRN_SECRET".to_string(),
        format!(
            "spool       {}: not there yet; the inbox can make it",
            spool.display()
        ),
        "repository  site.git: answers; 0 pending review".to_string(),
        format!(
            "mail        smtp://localhost:{smtp_port}: connected; --send mails a test to \
             Moderator <mod@example.org>"
        ),
        format!("webhook     {hook}: not tried; --send posts a test notice"),
        "everything the inbox needs answers".to_string(),
    ];
    assert_eq!(said.lines().collect::<Vec<_>>(), expected, "{said}");
    assert!(mails(dir.path()).is_empty());
    assert!(hooked.lock().unwrap().is_empty());

    // With --send: a test mail to the moderators, a test notice to the webhook.
    let (code, said) = check(&["--send"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(&format!(
            "mail        smtp://localhost:{smtp_port}: a test mail went to Moderator <mod@example.org>\n"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("webhook     {hook}: took a test notice\n")),
        "{said}"
    );
    let mail = mails(dir.path()).remove(0);
    assert!(
        mail.contains("Subject: cairn: a test notice from the inbox at http://127.0.0.1:"),
        "{mail}"
    );
    assert!(
        mail_text(&mail).contains("sent by `cairn inbox check --send`"),
        "{mail}"
    );
    let (_, body) = hooked.lock().unwrap().remove(0);
    let notice: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(notice["event"], "test");
    assert_eq!(notice["site"], format!("{SITE}/"));
    assert!(notice["text"]
        .as_str()
        .unwrap()
        .starts_with("cairn: a test notice"));
}

#[test]
fn inbox_check_says_which_part_does_not_answer_and_why() {
    let dir = tempfile::tempdir().unwrap();
    localhost_certificate(dir.path());
    // No repository, no mail server, and a webhook where nothing listens.
    let (smtp_port, hook_port) = (free_port(), free_port());
    let config = write_config(
        dir.path(),
        free_port(),
        &format!(
            "smtp_url = \"smtp://localhost:{smtp_port}\"\n\
             webhook = \"http://127.0.0.1:{hook_port}/hook\""
        ),
    );
    let out = cairn_with(
        dir.path(),
        &[
            "inbox",
            "check",
            "--send",
            "--config",
            config.to_str().unwrap(),
        ],
        &[],
    );
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let failed: Vec<&str> = said.lines().filter(|l| l.contains(" FAILED: ")).collect();
    assert_eq!(failed.len(), 4, "{said}");
    assert!(
        failed[0].starts_with("secret      FAILED: no secret: set CAIRN_SECRET"),
        "{said}"
    );
    assert!(
        failed[1].starts_with("repository  FAILED: site.git does not answer: "),
        "{said}"
    );
    assert!(
        failed[2].starts_with(&format!(
            "mail        FAILED: smtp://localhost:{smtp_port}: no connection"
        )),
        "{said}"
    );
    assert!(
        failed[3].starts_with(&format!(
            "webhook     FAILED: http://127.0.0.1:{hook_port}/hook: the test notice was not taken"
        )),
        "{said}"
    );
    assert!(said.ends_with("4 parts failed\n"), "{said}");
}
