//! A small Eleventy site (tests/fixtures/eleventy-site: sources in src/, built into
//! dist/, served under /blog/) set up with `cairn init`, built by the real Eleventy
//! (npm's @11ty/eleventy, in tests/eleventy/), then rendered by `cairn render` with no
//! arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /posts/hello/
date: 2026-01-02T10:00:00Z
author: Ann
body: |
  Nice post. `cargo build` worked first time.
";

const ABOUT: &str = "id: 01KB00000000000000000000CC
thread: /about.html
date: 2026-01-03T09:00:00Z
author: Kim
body: |
  A comment on a page with a file-style URL.
";

#[test]
fn eleventy_build_then_render_after_cairn_init() {
    let Some(eleventy) = npm_packages("eleventy", "@11ty/eleventy") else {
        return;
    };
    let (site, printed) = init_fixture(
        "eleventy-site",
        &["--url", "https://example.org/blog/"],
        &["Eleventy site: wrote cairn.toml (site URL https://example.org/blog/, built into dist/)"],
    );
    let dir = site.path();
    // The output directory is the one eleventy.config.mjs sets, in cairn.toml and in
    // the workflow.
    let config = std::fs::read_to_string(dir.join("cairn.toml")).unwrap();
    assert!(config.contains("\noutput = \"dist\" "), "{config}");
    assert!(
        printed.contains("site-dir: dist\n") && printed.contains("path: dist\n"),
        "{printed}"
    );
    // Built by the site's own build script.
    assert!(
        printed.contains("\n    npm run build\n    cairn render\n")
            && printed.contains("run: npm install && npm run build\n")
            && printed.contains(
                "`cairn render --serve` serves it and renders it again after each `npm run build`"
            ),
        "{printed}"
    );
    write_comment(dir, "posts/hello", "01KB00000000000000000000AA", COMMENT);
    write_hostile_reply(dir, "posts/hello", "2026-01-02T11:00:00Z");
    write_comment(dir, "about.html", "01KB00000000000000000000CC", ABOUT);

    let built = std::process::Command::new("node")
        .arg(eleventy.join("node_modules/@11ty/eleventy/cmd.cjs"))
        .arg("--quiet")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "eleventy: {}", stderr(&built));
    let dist = dir.join("dist");
    assert!(dist.join("posts/hello/index.html").is_file());

    render_twice(dir, &dist, "3 comments rendered on 2 pages");

    assert_rendered_page(
        &dist,
        "/posts/hello/",
        "2 comments",
        "cargo build",
        "Nice post.",
    );

    let about = std::fs::read_to_string(dist.join("about.html")).unwrap();
    assert!(about.contains("A comment on a page with a file-style URL."));
    assert!(
        dist.join("about.comments.xml").is_file(),
        "a file-style page's feed is named after it"
    );

    // Counts on the index, whose links carry Eleventy's path prefix.
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=\"/blog/posts/hello/\">2 comments</span>")
            && index.contains("data-cairn-count=\"/blog/about.html\">1 comment</span>"),
        "{index}"
    );
}
