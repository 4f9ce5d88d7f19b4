//! A small Hexo blog (tests/fixtures/hexo-site: German, dated in Berlin, served under
//! /blog/, built into www/) set up with `cairn init`, built by the real Hexo (npm's
//! hexo, in tests/hexo/), then rendered by `cairn render` with no arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /2026/01/hello/
date: 2026-01-02T23:30:00Z
author: Anja
body: |
  Schöner Beitrag. `hexo generate` lief sofort.
";

const LATER: &str = "id: 01KB00000000000000000000CC
thread: /2026/01/hello/
date: 2026-01-03T08:00:00Z
author: Kim
body: Noch einer.
";

#[test]
fn hexo_build_then_render_after_cairn_init() {
    let Some(hexo) = npm_packages("hexo", "hexo") else {
        return;
    };
    // Hexo keeps its configuration in _config.yml, as Jekyll does: it is told apart.
    let (site, printed) = init_fixture(
        "hexo-site",
        &[],
        &[
            "Hexo site: wrote cairn.toml (site URL https://example.org/blog, built into www/)",
            "site language: de (the Hexo configuration's language \"de\")",
            "time zone of dates: Europe/Berlin (the Hexo configuration's timezone)",
            "<span data-cairn-count=\"<%- url_for(post.path) %>\"></span>",
            "\n    npm run build\n    cairn render\n",
            "run: npm install && npm run build\n",
            "site-dir: www\n",
            "path: www\n",
        ],
    );
    let dir = site.path();
    assert!(!printed.contains("Jekyll"), "{printed}");
    write_comment(dir, "2026/01/hello", "01KB00000000000000000000AA", COMMENT);
    write_hostile_reply(dir, "2026/01/hello", "2026-01-03T07:00:00Z");

    // The site's build script runs `hexo generate`; Hexo loads its plugins from the
    // site's node_modules.
    std::os::unix::fs::symlink(hexo.join("node_modules"), dir.join("node_modules")).unwrap();
    let generate = || {
        let built = std::process::Command::new("node")
            .arg(hexo.join("node_modules/hexo/bin/hexo"))
            .arg("generate")
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(built.status.success(), "hexo: {}", stderr(&built));
    };
    generate();
    let www = dir.join("www");
    assert!(www.join("2026/01/hello/index.html").is_file());
    // Hexo publishes only source/: cairn's files stay out of the site.
    assert!(!www.join("comments").exists() && !www.join("cairn.toml").exists());

    render_twice(dir, &www, "2 comments rendered on 2 pages of 3 pages");

    let page = assert_rendered_page(
        &www,
        "/2026/01/hello/",
        "2 Kommentare",
        "hexo generate",
        "Schöner Beitrag.",
    );
    // 23:30 UTC on the 2nd is the 3rd in Berlin.
    assert!(
        page.contains("<time datetime=\"2026-01-02T23:30:00Z\">3. Januar 2026</time>"),
        "{page}"
    );

    // Counts on the index, whose links carry Hexo's root.
    let index = std::fs::read_to_string(www.join("index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=\"/blog/2026/01/hello/\">2 Kommentare</span>")
            && index.contains("data-cairn-count=\"/blog/2026/01/second/\">Keine Kommentare</span>"),
        "{index}"
    );

    let before = snapshot_tree(&www);

    // A new comment, and Hexo builds again: it writes only the pages whose sources
    // changed, so the pages keep what cairn rendered into them, and cairn renders them
    // anew over it.
    write_comment(dir, "2026/01/hello", "01KB00000000000000000000CC", LATER);
    generate();
    assert_eq!(snapshot_tree(&www), before, "Hexo rewrote no page");
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(www.join("2026/01/hello/index.html")).unwrap();
    assert_eq!(page.matches("id=\"cairn-comments\"").count(), 1, "{page}");
    assert_eq!(page.matches("Schöner Beitrag.").count(), 1, "{page}");
    assert!(
        page.contains("3 Kommentare") && page.contains("Noch einer."),
        "{page}"
    );
    let index = std::fs::read_to_string(www.join("index.html")).unwrap();
    assert!(
        index.contains("data-cairn-count=\"/blog/2026/01/hello/\">3 Kommentare</span>"),
        "{index}"
    );
}
