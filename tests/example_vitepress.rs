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
    let seen = read_spa(
        dir,
        &browser,
        serde_json::json!({
            "framework": "vue",
            "land": "about.html",
            "home": ["Back home", "^http://[^/]+/$"],
            "post": ["Moss on the north side", "moss"],
            "direct": "posts/moss.html",
        }),
    );

    // The counts and the list of the newest comments, filled on a page VitePress rendered.
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
}
