//! A VitePress site (tests/fixtures/vitepress-site), whose script renders every page after
//! the first in the browser: set up with `cairn init`, built by the
//! real VitePress (npm's vitepress, in tests/vitepress/), rendered by `cairn render`, and
//! read in a real headless Chromium with JavaScript on (playwright-core, in
//! tests/browser/), where cairn.js fills the placeholders VitePress renders empty. Its
//! French locale gets its comments in French.

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
            "site title: \"Field notes\" (the VitePress configuration's title)",
            "[\"script\", { src: \"/cairn.js\", defer: \"\" }],",
            "\n    npx vitepress build docs\n    cairn render\n",
            "run: npm install && npx vitepress build docs\n",
            "site-dir: docs/.vitepress/dist\n",
            // Its French pages, from the configuration's locales.
            "The site is in several languages (en, fr)",
            "<div id=\"cairn-comments\" data-cairn-lang=\"fr\"></div>",
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
    write_french_comment(dir, "fr/posts/mousse.html");
    std::os::unix::fs::symlink(vitepress.join("node_modules"), dir.join("node_modules")).unwrap();
    let built = Command::new("node")
        .arg(vitepress.join("node_modules/vitepress/bin/vitepress.js"))
        .args(["build", "docs"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "vitepress: {}", stderr(&built));
    let dist = dir.join("docs/.vitepress/dist");
    render_twice(dir, &dist, "3 comments rendered on 3 pages of 7 pages");
    assert_rendered_page(
        &dist,
        "/posts/moss.html",
        "2 comments",
        "vitepress build",
        "Mine grows on the south side.",
    );

    // A page of the French locale: its comments, form and count in French.
    assert_in_french(&dist, "fr/posts/mousse.html", "fr/index.html");

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
    // Named by the page's title, without the site's ("Moss on the north side | Field
    // notes" in the head), which init took from the configuration.
    let recent = seen["recent"][0].as_str().unwrap();
    assert!(
        recent.contains("Ada on Moss on the north side April 2, 2026"),
        "{seen}"
    );
}
