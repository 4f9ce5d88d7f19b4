//! A Docusaurus site (tests/fixtures/docusaurus-site), whose pages React renders, in the
//! browser after the first: set up with `cairn init`, which prints the theme component
//! the fixture holds (for its two locales, English and French), built by the real
//! Docusaurus (npm's, in tests/docusaurus/), rendered by `cairn render`, and read in a
//! real headless Chromium with JavaScript on (playwright-core, in tests/browser/): React
//! keeps what cairn wrote when it hydrates a page, and cairn.js fills the placeholders of
//! the pages React renders itself. The French pages get their comments in French.

mod common;

use std::process::Command;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /moss/
date: 2026-04-02T10:00:00Z
author: Ada
body: |
  Mine grows on the south side. `docusaurus build` and then `cairn render`.
";

#[test]
fn a_docusaurus_site_keeps_its_comments_through_react() {
    let Some(docusaurus) = npm_packages("docusaurus", "@docusaurus/core") else {
        return;
    };
    let Some(browser) = npm_packages("browser", "playwright-core") else {
        return;
    };
    if tool("chromium").is_none() {
        return;
    }
    let (site, printed) = init_fixture(
        "docusaurus-site",
        &[],
        &[
            "Docusaurus site: wrote cairn.toml (site URL https://notes.example.org/, built into build/)",
            "site language: en (the Docusaurus configuration's i18n.defaultLocale \"en\")",
            "site title: \"Field notes\" (the Docusaurus configuration's title)",
            "    stylesheets: ['/cairn.css'],\n    scripts: [{src: '/cairn.js', defer: true}],\n",
            "<div data-cairn-recent=\"5\" dangerouslySetInnerHTML={{__html: ''}} />",
            "\n    npm run build\n    cairn render\n",
            "run: npm install && npm run build\n",
            "site-dir: build\n",
        ],
    );
    let dir = site.path();
    // The fixture's theme component is the one init prints for a site in several
    // languages, line for line.
    assert!(
        printed.contains("The site is in several languages (en, fr)"),
        "{printed}"
    );
    let component =
        std::fs::read_to_string(dir.join("src/theme/BlogPostItem/Footer/index.js")).unwrap();
    let indented: String = component
        .lines()
        .map(|line| match line {
            "" => "\n".to_string(),
            line => format!("    {line}\n"),
        })
        .collect();
    assert!(printed.contains(&indented), "{component} in {printed}");

    write_comment(dir, "moss", "01KB00000000000000000000AA", COMMENT);
    write_hostile_reply(dir, "moss", "2026-04-02T11:00:00Z");
    write_french_comment(dir, "fr/moss");
    std::os::unix::fs::symlink(docusaurus.join("node_modules"), dir.join("node_modules")).unwrap();
    let built = Command::new("node")
        .arg(docusaurus.join("node_modules/@docusaurus/core/bin/docusaurus.mjs"))
        .arg("build")
        .current_dir(dir)
        // No update check (a request to npm's registry).
        .env("NO_UPDATE_NOTIFIER", "1")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "docusaurus: {}{}",
        stdout(&built),
        stderr(&built)
    );
    let output = dir.join("build");
    render_twice(dir, &output, "3 comments rendered on 4 pages");
    assert_rendered_page(
        &output,
        "/moss/",
        "2 comments",
        "docusaurus build",
        "Mine grows on the south side.",
    );
    // The blog's list counts each post's comments by the link React makes to it.
    let list = std::fs::read_to_string(output.join("index.html")).unwrap();
    assert!(
        list.contains("data-cairn-count=\"/moss\"") && list.contains("2 comments"),
        "{list}"
    );
    // The French locale's pages: the post's comments, form and the list's count in French.
    assert_in_french(&output, "fr/moss/index.html", "fr/index.html");

    // Served as a host serves it, and read in a browser.
    let seen = read_spa(
        dir,
        &browser,
        serde_json::json!({
            "framework": "react",
            "land": "docs/about",
            "home": ["the blog", "^http://[^/]+/$"],
            "post": ["Moss on the north side", "moss"],
            "direct": "moss",
        }),
    );

    // React hydrated every page it was given without a mismatch: it kept cairn's
    // content, and did not render the page again.
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
    // Nor is anything missing but the icon Chromium asks every site for.
    assert!(
        seen["missing"]
            .as_array()
            .unwrap()
            .iter()
            .all(|path| path == "/favicon.ico"),
        "{seen}"
    );
    // Named by the post's title, without the site's ("Moss on the north side | Field
    // notes" in the head), which init took from the configuration.
    let landed = seen["recentLanded"][0].as_str().unwrap();
    assert!(
        landed.contains("Ada on Moss on the north side April 2, 2026"),
        "{seen}"
    );
    // The swizzled footer's counts, filled on the list page React rendered.
    assert_eq!(
        seen["counts"],
        serde_json::json!(["No comments", "2 comments"]),
        "{seen}"
    );
}
