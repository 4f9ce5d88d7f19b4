//! `cairn demo`, the README's first command, end to end: the page it serves takes a
//! comment through its plain form, `cairn moderate approve` publishes it, the page is
//! told to reload, and then shows it.

mod common;

use common::*;

fn between<'a>(text: &'a str, before: &str, until: char) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before} in {text}"))
        + before.len();
    let rest = &text[start..];
    &rest[..rest.find(until).unwrap_or(rest.len())]
}

#[test]
fn demo_takes_a_comment_from_form_to_page() {
    let demo = DemoProcess::start();
    let (site, path) = demo.page();
    let page = http(&site, "GET", &path, &[], b"").unwrap();
    assert_eq!(page.status, 200);
    let action = between(
        &page.body,
        "id=\"cairn-form\" method=\"post\" action=\"",
        '"',
    );
    let inbox = between(action, "http://", '/');
    let answer = post_form(
        inbox,
        &format!("http://{site}"),
        &[
            ("thread", "/posts/a-quiet-post/"),
            ("parent", ""),
            ("author", "Demo Reader"),
            ("email", ""),
            ("website", ""),
            ("body", "Tried the demo."),
            ("subject", ""),
        ],
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = between(&answer.body, "id=\"c-", '"').to_string();

    let dir = tempfile::tempdir().unwrap();
    let moderate = |action: &str, id: &str| {
        let mut args = vec!["moderate", action];
        if !id.is_empty() {
            args.push(id);
        }
        args.extend(["--config", demo.config.as_str()]);
        cairn(dir.path(), &args)
    };
    // On its branch: `list` names the comments still in the spool too, which cannot be
    // approved yet; `--format ids`, only those that can.
    demo.wait_for("the comment's branch", 30, || {
        let listed = cairn(
            dir.path(),
            &[
                "moderate",
                "list",
                "--format",
                "ids",
                "--config",
                &demo.config,
            ],
        );
        stdout(&listed).lines().any(|l| l == id)
    });
    // The page open in the reader's browser asks whether the site was rendered since
    // it was served; the answer comes once the approved comment is on the site.
    let served_at = between(&page.body, "data-generation=\"", '"').to_string();
    assert!(page
        .body
        .contains("<script src=\"/__cairn/reload.js\" data-generation=\""));
    let asking = {
        let (site, since) = (site.clone(), served_at.clone());
        std::thread::spawn(move || {
            http(
                &site,
                "GET",
                &format!("/__cairn/reload?since={since}"),
                &[],
                b"",
            )
            .unwrap()
        })
    };
    let out = moderate("approve", &id);
    assert!(out.status.success(), "{}", stderr(&out));
    demo.wait_for("the re-rendered page", 30, || {
        http(&site, "GET", &path, &[], b"")
            .unwrap()
            .body
            .contains("Tried the demo.")
    });
    let answer = asking.join().unwrap();
    assert_eq!(answer.status, 200);
    assert_ne!(
        answer.body.trim(),
        served_at,
        "the open page is told to reload"
    );

    let pid = demo.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let mut demo = demo;
    assert!(demo.child.wait().unwrap().success());
    assert!(
        !std::path::Path::new(&demo.workspace).exists(),
        "the temporary workspace is removed"
    );
}
