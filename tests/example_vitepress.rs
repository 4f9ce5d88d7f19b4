//! A VitePress site (tests/fixtures/vitepress-site), whose script renders every page after
//! the first in the browser: set up with `cairn init`, built by the
//! real VitePress (npm's vitepress, in tests/vitepress/), rendered by `cairn render`, and
//! read in a real headless Chromium with JavaScript on (playwright-core, in
//! tests/browser/), where cairn.js fills the placeholders VitePress renders empty.

mod common;

use std::process::Command;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /posts/moss.html
date: 2026-04-02T10:00:00Z
author: Ada
body: |
  Mine grows on the south side. `vitepress build` and then `cairn render`.
";

#[test]
fn a_vitepress_site_shows_its_comments_as_readers_move_through_it() {
    let Some(vitepress) = npm_packages("vitepress", "vitepress") else {
        return;
    };
    let Some(browser) = npm_packages("browser", "playwright-core") else {
        return;
    };
    if tool("chromium").is_none() {
        return;
    }
    let (site, _) = init_fixture(
        "vitepress-site",
        &[],
        &[
            "VitePress site: wrote cairn.toml",
            "built into docs/.vitepress/dist/",
            "site language: en (the VitePress configuration's lang \"en\")",
            "[\"script\", { src: \"/cairn.js\", defer: \"\" }],",
            "\n    npx vitepress build docs\n    cairn render\n",
            "run: npm install && npx vitepress build docs\n",
            "site-dir: docs/.vitepress/dist\n",
        ],
    );
    let dir = site.path();
    write_comment(
        dir,
        "posts/moss.html",
        "01KB00000000000000000000AA",
        COMMENT,
    );
    write_hostile_reply(dir, "posts/moss.html", "2026-04-02T11:00:00Z");
    std::os::unix::fs::symlink(vitepress.join("node_modules"), dir.join("node_modules")).unwrap();
    let built = Command::new("node")
        .arg(vitepress.join("node_modules/vitepress/bin/vitepress.js"))
        .args(["build", "docs"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "vitepress: {}", stderr(&built));
    let dist = dir.join("docs/.vitepress/dist");
    render_twice(dir, &dist, "2 comments rendered on 2 pages of 5 pages");
    assert_rendered_page(
        &dist,
        "/posts/moss.html",
        "2 comments",
        "vitepress build",
        "Mine grows on the south side.",
    );

    // Served as a host serves it, and read in a browser.
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .current_dir(dir)
        .args(["render", "--serve=127.0.0.1:0"]);
    let server = InboxProcess::spawn(command);
    let out = Command::new("node")
        .arg(browser.join("spa.mjs"))
        .arg(format!("http://{}/", server.addr))
        .arg(
            serde_json::json!({
                "framework": "vue",
                "land": "about.html",
                "home": ["Back home", "^http://[^/]+/$"],
                "post": ["Moss on the north side", "moss"],
                "direct": "posts/moss.html",
            })
            .to_string(),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let seen: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();

    // Followed links are rendered by VitePress's script: the page is not loaded again, and
    // its placeholders come back empty; cairn.js fills them from the page's HTML file.
    assert_eq!(seen["sameDocument"], true, "{seen}");
    assert_eq!(
        seen["counts"],
        serde_json::json!(["2 comments", "No comments"]),
        "{seen}"
    );
    let recent = seen["recent"][0].as_str().unwrap();
    assert!(
        recent.contains("Ada") && recent.contains("Moss on the north side"),
        "{seen}"
    );
    let section = seen["section"].as_str().unwrap();
    assert!(
        section.contains("2 comments")
            && section.contains("Mine grows on the south side.")
            && section.contains("Leave a comment"),
        "{seen}"
    );
    // The filled section's form is enhanced as a loaded page's is.
    assert_eq!(seen["replyIn"], "c-01KB00000000000000000000AA", "{seen}");
    assert!(
        seen["url"].as_str().unwrap().contains("/posts/moss"),
        "Reply stayed on the page: {seen}"
    );
    // Back on the index, rendered once more by VitePress: the counts again.
    assert_eq!(seen["countsAgain"], seen["counts"], "{seen}");
    // A post loaded directly keeps what cairn rendered through VitePress's hydration.
    let loaded = seen["loaded"].as_str().unwrap();
    assert!(loaded.contains("Mine grows on the south side."), "{seen}");
    assert_eq!(seen["styled"], true, "{seen}");
}
