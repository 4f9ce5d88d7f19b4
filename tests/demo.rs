//! `cairn demo`, the README's first command, end to end: the page it serves takes a
//! comment through its plain form, `cairn moderate approve` publishes it, and the
//! reloaded page shows it.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};

use common::*;

fn field<'a>(text: &'a str, before: &str, until: char) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before} in {text}"))
        + before.len();
    let rest = &text[start..];
    &rest[..rest.find(until).unwrap_or(rest.len())]
}

#[test]
fn demo_takes_a_comment_from_form_to_page() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut intro = String::new();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        intro.push_str(&line);
        intro.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let page_url = field(&intro, "1. Open ", ' ').to_string();
    let config = field(&intro, "moderate list --config ", '\n')
        .trim()
        .to_string();
    let workspace = field(&intro, "workspace: ", '\n').to_string();
    let site = field(&page_url, "http://", '/').to_string();
    let path = format!("/{}", field(&page_url, &format!("http://{site}/"), ' '));

    let page = http(&site, "GET", &path, &[], b"").unwrap();
    assert_eq!(page.status, 200);
    let action = field(
        &page.body,
        "<form class=\"cairn-form\" id=\"cairn-form\" method=\"post\" action=\"",
        '"',
    )
    .to_string();
    let inbox = field(&action, "http://", '/').to_string();
    let answer = post_form(
        &inbox,
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
    let id = field(&answer.body, "id=\"c-", '"').to_string();

    let dir = tempfile::tempdir().unwrap();
    wait_for("the comment's branch", 30, || {
        stdout(&cairn(
            dir.path(),
            &["moderate", "list", "--config", &config],
        ))
        .contains(&id)
    });
    let out = cairn(
        dir.path(),
        &["moderate", "approve", &id, "--config", &config],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    wait_for("the re-rendered page", 30, || {
        http(&site, "GET", &path, &[], b"")
            .unwrap()
            .body
            .contains("Tried the demo.")
    });

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        !std::path::Path::new(&workspace).exists(),
        "the temporary workspace is removed"
    );
}
