//! A small MkDocs documentation site (tests/fixtures/mkdocs-site: in French, served
//! under /docs/, built into public_html/, the theme's main.html overridden with the
//! placeholders) set up with `cairn init`, built by the real MkDocs (from PyPI, see
//! .ci/test-deps), then rendered by `cairn render` with no arguments.

mod common;

use common::*;

const COMMENT: &str = "id: 01KB00000000000000000000AA
thread: /guide/install/
date: 2026-01-02T10:00:00Z
author: Léa
body: |
  Merci ! Après `pip install widget`, tout marche.
";

#[test]
fn mkdocs_build_then_render_after_cairn_init() {
    let Some(mkdocs) = test_dep("mkdocs-venv/bin/mkdocs") else {
        return;
    };
    let (site, _) = init_fixture(
        "mkdocs-site",
        &[],
        &[
        "MkDocs site: wrote cairn.toml (site URL https://example.org/docs/, built into public_html/)",
        "site language: fr (the MkDocs configuration's theme.locale \"fr\")",
        "{{ super() }}",
        "<span data-cairn-count=\"{{ page.abs_url }}\"></span>",
        "\n    mkdocs build\n    cairn render\n",
        "after each `mkdocs build`",
        "run: pip install mkdocs && mkdocs build\n",
        "site-dir: public_html\n",
        ],
    );
    let dir = site.path();
    write_comment(dir, "guide/install", "01KB00000000000000000000AA", COMMENT);
    write_hostile_reply(dir, "guide/install", "2026-01-02T11:00:00Z");

    let built = std::process::Command::new(&mkdocs)
        .args(["build", "--quiet"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "mkdocs: {}", stderr(&built));
    let public = dir.join("public_html");
    // MkDocs publishes only docs/: cairn's files stay out of the site.
    assert!(!public.join("comments").exists() && !public.join("cairn.toml").exists());

    render_twice(dir, &public, "2 comments rendered on 2 pages");

    let page = assert_rendered_page(
        &public,
        "/guide/install/",
        "2 commentaires",
        "pip install widget",
        "Merci !",
    );
    // The page's own count, and the home page's (no comments there yet).
    assert!(
        page.contains("data-cairn-count=\"/docs/guide/install/\">2 commentaires</span>"),
        "{page}"
    );
    let home = std::fs::read_to_string(public.join("index.html")).unwrap();
    assert!(home.contains("data-cairn-count=\"/docs/\">"), "{home}");
    assert!(comments_section(&home).contains("<form"), "{home}");
}
